//! 疾病分類別医療費 (medical cost by disease group, docs/reference/indicators.md, context
//! indicators): each claim's points × 10 yen go to the ICD-10 chapter of its 主傷病 (main
//! diagnosis), else of its first non-suspected diagnosis with an ICD-10 code (file order),
//! else to "unclassified"; 調剤 claims, which carry no diagnosis, form their own group.
//! Per FY × municipality and the union, with persons, yen per insured person-year (the
//! denominator of `medical_cost`) and the share of the area's medical cost.

use std::collections::BTreeMap;

use ittai_model::ClaimKind;
use ittai_model::icd10::{Chapter, DiseaseCostRow, DiseaseGroup};
use ittai_model::indicators::Area;
use ittai_model::time::{FiscalYear, first_of_month};
use polars::prelude::*;

use crate::Sources;
use crate::features::{date_lit, is_code};

/// Code of "no chapter" in the category table (categories outside every chapter).
const NO_CHAPTER: u64 = 31;

/// Every 3-character category (A00 … Z99) with the index of its chapter (0 = I … 21 =
/// XXII; [`NO_CHAPTER`] for categories outside every chapter).
fn category_table() -> PolarsResult<DataFrame> {
    let mut cats = Vec::with_capacity(26 * 100);
    let mut idx = Vec::with_capacity(26 * 100);
    let chapters: Vec<Chapter> = Chapter::all().collect();
    for l in b'A'..=b'Z' {
        for n in 0..100 {
            let c = format!("{}{n:02}", l as char);
            let i = Chapter::of(&c)
                .and_then(|ch| chapters.iter().position(|x| *x == ch))
                .map_or(NO_CHAPTER, |i| i as u64);
            cats.push(c);
            idx.push(i);
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("cat".into(), cats),
        Column::new("chapter_idx".into(), idx),
    ])
}

/// Chapter index → the group's code (`unclassified` for [`NO_CHAPTER`]).
fn group_codes() -> PolarsResult<DataFrame> {
    let mut idx: Vec<u64> = Vec::new();
    let mut code: Vec<&str> = Vec::new();
    for (i, c) in Chapter::all().enumerate() {
        idx.push(i as u64);
        code.push(DiseaseGroup::Chapter(c).code());
    }
    idx.push(NO_CHAPTER);
    code.push(DiseaseGroup::Unclassified.code());
    DataFrame::new_infer_height(vec![
        Column::new("chapter_idx".into(), idx),
        Column::new("disease_group".into(), code),
    ])
}

/// The rows of FY `fy` (union first, then municipalities), unsuppressed. `attrs` are the
/// FY's person attributes of the indicators (`person_id`, `municipality_code`,
/// `exposure_days`).
///
/// # Errors
/// Polars errors.
pub(crate) fn fy_rows(
    src: &Sources,
    fy: FiscalYear,
    attrs: &DataFrame,
) -> PolarsResult<Vec<DiseaseCostRow>> {
    let (m0, m1) = (fy.start(), first_of_month(fy.end()));
    let claims = src
        .medical_claims()?
        .filter(
            col("service_month")
                .gt_eq(date_lit(m0))
                .and(col("service_month").lt_eq(date_lit(m1))),
        )
        .select([
            col("claim_id"),
            col("person_id"),
            col("claim_kind"),
            (col("points").cast(DataType::Float64) * lit(10.0)).alias("yen"),
        ]);
    // The column is always there: a dataset written before it was added is validated into a
    // staged copy that has it (null), never read in place.
    let cols_dx = ["claim_id", "service_month", "suspected", "main_diagnosis"];
    let main = col("main_diagnosis").fill_null(lit(false));
    // One chapter per claim: the main diagnosis first, then file order. Encoded as one
    // number per diagnosis line, rank · 2^58 + line · 32 + chapter, whose minimum per claim
    // is the line chosen — an aggregation the streaming engine does in bounded memory
    // (no sort of the FY's diagnoses).
    let chosen = crate::collect_streaming(
        src.diagnoses(&cols_dx)?
            .with_row_index("_r", None)
            .filter(
                col("service_month")
                    .gt_eq(date_lit(m0))
                    .and(col("service_month").lt_eq(date_lit(m1)))
                    .and(col("suspected").not())
                    .and(col("icd").is_not_null()),
            )
            .with_columns([col("icd").str().slice(lit(0), lit(3)).alias("cat")])
            .inner_join(category_table()?.lazy(), col("cat"), col("cat"))
            .with_columns([(when(main).then(lit(0u64)).otherwise(lit(1u64 << 58))
                + col("_r").cast(DataType::UInt64) * lit(32u64)
                + col("chapter_idx"))
            .alias("key")])
            .group_by([col("claim_id")])
            .agg([col("key").min()]),
    )?
    .lazy()
    .select([
        col("claim_id"),
        (col("key") % lit(32u64)).alias("chapter_idx"),
    ])
    .left_join(
        group_codes()?.lazy(),
        col("chapter_idx"),
        col("chapter_idx"),
    );
    let area = attrs
        .clone()
        .lazy()
        .select([col("person_id"), col("municipality_code")]);
    let grouped = claims
        .left_join(chosen, col("claim_id"), col("claim_id"))
        .inner_join(area, col("person_id"), col("person_id"))
        .with_columns([when(is_code(col("claim_kind"), ClaimKind::Pharmacy))
            .then(lit(DiseaseGroup::Dispensing.code()))
            .otherwise(col("disease_group").fill_null(lit(DiseaseGroup::Unclassified.code())))
            .alias("disease_group")])
        .group_by([col("municipality_code"), col("disease_group")])
        .agg([
            len().cast(DataType::UInt64).alias("claims"),
            col("person_id")
                .n_unique()
                .cast(DataType::UInt64)
                .alias("persons"),
            col("yen").sum().alias("yen"),
        ]);
    let grouped = crate::collect_streaming(grouped)?;
    let exposure = attrs
        .clone()
        .lazy()
        .group_by([col("municipality_code")])
        .agg([(col("exposure_days").cast(DataType::Float64).sum() / lit(365.25)).alias("py")])
        .collect()?;
    let mut py: BTreeMap<Area, f64> = BTreeMap::new();
    {
        let m = exposure.column("municipality_code")?.str()?.clone();
        let v = exposure.column("py")?.f64()?.clone();
        for i in 0..exposure.height() {
            let x = v.get(i).unwrap_or(0.0);
            *py.entry(Area::Union).or_default() += x;
            *py.entry(Area::Municipality(m.get(i).unwrap_or_default().to_string()))
                .or_default() += x;
        }
    }
    let mut cells: BTreeMap<(Area, DiseaseGroup), (u64, u64, f64)> = BTreeMap::new();
    let m = grouped.column("municipality_code")?.str()?.clone();
    let g = grouped.column("disease_group")?.str()?.clone();
    let claims_n = grouped.column("claims")?.u64()?.clone();
    let persons = grouped.column("persons")?.u64()?.clone();
    let yen = grouped.column("yen")?.f64()?.clone();
    for i in 0..grouped.height() {
        let Some(group) = g.get(i).and_then(DiseaseGroup::parse) else {
            continue;
        };
        let muni = Area::Municipality(m.get(i).unwrap_or_default().to_string());
        for a in [Area::Union, muni] {
            let e = cells.entry((a, group)).or_default();
            e.0 += claims_n.get(i).unwrap_or(0);
            e.1 += persons.get(i).unwrap_or(0);
            e.2 += yen.get(i).unwrap_or(0.0);
        }
    }
    let mut totals: BTreeMap<Area, f64> = BTreeMap::new();
    for ((a, _), (_, _, y)) in &cells {
        *totals.entry(a.clone()).or_default() += y;
    }
    Ok(cells
        .into_iter()
        .map(|((a, group), (claims, persons, yen))| DiseaseCostRow {
            fy: fy.0,
            yen_per_insured: py.get(&a).filter(|p| **p > 0.0).map(|p| yen / p),
            share: totals
                .get(&a)
                .filter(|t| **t > 0.0)
                .map(|t| 100.0 * yen / t),
            municipality_code: a,
            disease_group: group,
            claims,
            persons,
            yen,
            suppressed: false,
        })
        .collect())
}

/// Suppression (docs/reference/indicators.md): a group of 1–9 persons is hidden; within an
/// area (the groups add up to the published medical cost) and across the municipalities of
/// the union (they add up to the union), a set with exactly one hidden member hides its
/// smallest other member too, until stable.
pub fn suppress(rows: &mut [DiseaseCostRow]) {
    for r in rows.iter_mut() {
        r.suppressed = (1..=9).contains(&r.persons);
    }
    loop {
        let mut changed = false;
        let mut sets: BTreeMap<(i32, u8, String), Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            // Within an area: every group of the area.
            sets.entry((r.fy, 0, r.municipality_code.as_str().to_string()))
                .or_default()
                .push(i);
            // Across municipalities: one group, every municipality (the union is the total).
            if !r.municipality_code.is_union() {
                sets.entry((r.fy, 1, r.disease_group.code().to_string()))
                    .or_default()
                    .push(i);
            }
        }
        for ((fy, kind, key), idx) in &sets {
            let total_shown = match kind {
                0 => true,
                _ => rows.iter().any(|r| {
                    r.fy == *fy
                        && r.municipality_code.is_union()
                        && r.disease_group.code() == key
                        && !r.suppressed
                }),
            };
            let hidden = idx.iter().filter(|&&i| rows[i].suppressed).count();
            if total_shown
                && hidden == 1
                && let Some(&i) = idx
                    .iter()
                    .filter(|&&i| !rows[i].suppressed)
                    .min_by_key(|&&i| (rows[i].persons, rows[i].claims))
            {
                rows[i].suppressed = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// The rows as a DataFrame (`disease_costs.parquet`): `fy` (i32), `municipality_code`,
/// `disease_group` (str), `claims`, `persons` (u64), `yen`, `yen_per_insured`, `share`
/// (f64), `suppressed` (bool).
///
/// # Errors
/// Polars errors.
pub fn to_dataframe(rows: &[DiseaseCostRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("fy".into(), rows.iter().map(|r| r.fy).collect::<Vec<_>>()),
        Column::new(
            "municipality_code".into(),
            rows.iter()
                .map(|r| r.municipality_code.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "disease_group".into(),
            rows.iter()
                .map(|r| r.disease_group.code())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "claims".into(),
            rows.iter().map(|r| r.claims).collect::<Vec<_>>(),
        ),
        Column::new(
            "persons".into(),
            rows.iter().map(|r| r.persons).collect::<Vec<_>>(),
        ),
        Column::new("yen".into(), rows.iter().map(|r| r.yen).collect::<Vec<_>>()),
        Column::new(
            "yen_per_insured".into(),
            rows.iter().map(|r| r.yen_per_insured).collect::<Vec<_>>(),
        ),
        Column::new(
            "share".into(),
            rows.iter().map(|r| r.share).collect::<Vec<_>>(),
        ),
        Column::new(
            "suppressed".into(),
            rows.iter().map(|r| r.suppressed).collect::<Vec<_>>(),
        ),
    ])
}

/// Rows from a DataFrame written by [`to_dataframe`].
///
/// # Errors
/// Polars errors or an unknown disease group.
pub fn from_dataframe(df: &DataFrame) -> PolarsResult<Vec<DiseaseCostRow>> {
    let fy = df.column("fy")?.i32()?.clone();
    let m = df.column("municipality_code")?.str()?.clone();
    let g = df.column("disease_group")?.str()?.clone();
    let c = df.column("claims")?.u64()?.clone();
    let p = df.column("persons")?.u64()?.clone();
    let y = df.column("yen")?.f64()?.clone();
    let ypi = df.column("yen_per_insured")?.f64()?.clone();
    let s = df.column("share")?.f64()?.clone();
    let sup = df.column("suppressed")?.bool()?.clone();
    (0..df.height())
        .map(|i| {
            Ok(DiseaseCostRow {
                fy: fy.get(i).unwrap_or_default(),
                municipality_code: Area::parse(m.get(i).unwrap_or_default()),
                disease_group: g.get(i).and_then(DiseaseGroup::parse).ok_or_else(
                    || polars_err!(ComputeError: "unknown disease group {:?}", g.get(i)),
                )?,
                claims: c.get(i).unwrap_or(0),
                persons: p.get(i).unwrap_or(0),
                yen: y.get(i).unwrap_or(0.0),
                yen_per_insured: ypi.get(i),
                share: s.get(i),
                suppressed: sup.get(i).unwrap_or(false),
            })
        })
        .collect()
}
