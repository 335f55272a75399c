//! 疾病分類別医療費 (medical cost by disease group, docs/reference/indicators.md, context
//! indicators): each claim's points × 10 yen go to the ICD-10 chapter of its 主傷病 (main
//! diagnosis), else of its first non-suspected diagnosis with an ICD-10 code (file order),
//! else to "unclassified"; 調剤 claims, which carry no diagnosis, form their own group.
//! Per FY × municipality and the union, with persons, yen per insured person-year (the
//! denominator of `medical_cost`) and the share of the area's medical cost.

use std::collections::{BTreeMap, HashMap};

use ittai_model::icd10::{DiseaseCostRow, DiseaseGroup};
use ittai_model::indicators::Area;
use ittai_model::time::FiscalYear;
use polars::prelude::*;

/// The rows of FY `fy` (union first, then municipalities), unsuppressed. `attrs` are the
/// FY's person attributes of the indicators (`person_id`, `municipality_code`,
/// `exposure_days`); `per_person` holds, per row of `attrs` and disease group, the claims
/// and their yen (computed from the claim lines, `claim_lines.rs`).
///
/// # Errors
/// Polars errors.
pub(crate) fn fy_rows(
    fy: FiscalYear,
    attrs: &DataFrame,
    per_person: &[(u32, DiseaseGroup, u64, f64)],
) -> PolarsResult<Vec<DiseaseCostRow>> {
    let area = attrs.column("municipality_code")?.str()?.clone();
    // Claims, persons and yen by municipality and group (yen are whole numbers, so the
    // sums do not depend on their order).
    let mut by_area: HashMap<(&str, DiseaseGroup), (u64, u64, f64)> = HashMap::new();
    for &(pid, group, claims, yen) in per_person {
        let e = by_area
            .entry((area.get(pid as usize).unwrap_or_default(), group))
            .or_default();
        e.0 += claims;
        e.1 += 1;
        e.2 += yen;
    }
    let mut cells: BTreeMap<(Area, DiseaseGroup), (u64, u64, f64)> = BTreeMap::new();
    for ((m, group), (claims, persons, yen)) in by_area {
        for a in [Area::Union, Area::Municipality(m.to_string())] {
            let e = cells.entry((a, group)).or_default();
            e.0 += claims;
            e.1 += persons;
            e.2 += yen;
        }
    }
    let exposure = attrs
        .clone()
        .lazy()
        .group_by([col("municipality_code")])
        .agg([(col("exposure_days").cast(DataType::Float64).sum() / lit(365.25)).alias("py")])
        .collect()?;
    // Person-years by municipality, then the union as their sum in municipality order
    // (polars returns groups in no fixed order; a fixed order of the floating-point sum
    // makes reruns identical).
    let mut py: BTreeMap<Area, f64> = BTreeMap::new();
    {
        let m = exposure.column("municipality_code")?.str()?.clone();
        let v = exposure.column("py")?.f64()?.clone();
        for i in 0..exposure.height() {
            *py.entry(Area::Municipality(m.get(i).unwrap_or_default().to_string()))
                .or_default() += v.get(i).unwrap_or(0.0);
        }
        let union = py.values().sum();
        py.insert(Area::Union, union);
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
