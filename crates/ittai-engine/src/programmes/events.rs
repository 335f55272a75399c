//! What happened around each target's index date, read from the canonical tables: claim
//! aggregates per target and window (polars, joined on the target's index month), and the
//! dated records of the target persons (checkups, questionnaires, certifications) for the
//! previous / next comparisons (plain Rust).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use ittai_model::classes::{DiseaseClass, DrugClass};
use polars::prelude::*;

use super::targets::{People, Target};
use crate::Sources;
use crate::features::date_lit;
use crate::person::{dates, floats};

/// Month number (year × 12 + month − 1) of a date.
pub(crate) fn month_no(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

fn month_no_expr(c: &str) -> Expr {
    col(c).dt().year().cast(DataType::Int32) * lit(12) + col(c).dt().month().cast(DataType::Int32)
        - lit(1)
}

/// Claim-based values of one target (indexed like the targets), relative to its index
/// month M. Windows: pre M−3…M−1, post M+1…M+3, 6 months M+1…M+6, 12 months M+1…M+12.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClaimValues {
    /// Distinct institutions of 医科入院外 / 歯科 claims, pre and post.
    pub institutions: [f64; 2],
    /// 診療実日数 of 医科入院外 / 歯科 claims, pre and post.
    pub visit_days: [f64; 2],
    /// Largest monthly count of distinct oral YJ-7 ingredients, pre and post.
    pub max_drugs: [f64; 2],
    /// A 歯科 claim within 6 months.
    pub dental_6m: bool,
    /// A 医科 (入院, 入院外, DPC) claim within 6 months.
    pub medical_visit_6m: bool,
    /// Any medical claim within 12 months.
    pub claim_12m: bool,
    /// Any care claim within 12 months.
    pub care_12m: bool,
    /// A diabetes or hypertension drug within 6 months.
    pub class_drug_6m: bool,
    /// A month within 6 months with a diagnosis and a drug of the same class.
    pub confirmed_6m: bool,
    /// A non-suspected J69.0 in a service month before M.
    pub j69_before: bool,
    /// A non-suspected J69.0 within 12 months.
    pub j69_12m: bool,
}

/// Dated records of one person, sorted by date.
#[derive(Debug, Clone, Default)]
pub(crate) struct PersonRecords {
    /// (exam date, weight kg, BMI, HbA1c %, SBP mmHg, DBP mmHg).
    pub checkups: Vec<(NaiveDate, [Option<f64>; 5])>,
    /// (answer date, Q1, Q4, Q5, Q7, Q8).
    pub questionnaires: Vec<(NaiveDate, [Option<u8>; 5])>,
    /// (decision date, care level code, valid from, valid to).
    pub certifications: Vec<(NaiveDate, String, NaiveDate, NaiveDate)>,
}

/// The targets' (tid, person_id, index month number) as a lazy frame.
fn target_frame(targets: &[Target], people: &People) -> PolarsResult<LazyFrame> {
    let mut tid = Vec::new();
    let mut pid = Vec::new();
    let mut m0 = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        if let Some(d) = t.index {
            tid.push(i as u32);
            pid.push(people.ids[t.person as usize].as_str());
            m0.push(month_no(d));
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new("tid".into(), tid),
        Column::new("person_id".into(), pid),
        Column::new("m0".into(), m0),
    ])?
    .lazy())
}

fn off_in(a: i32, b: i32) -> Expr {
    col("off").gt_eq(lit(a)).and(col("off").lt_eq(lit(b)))
}

fn first_of_month_no(n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(n.div_euclid(12), n.rem_euclid(12) as u32 + 1, 1).expect("month")
}

fn u32s(df: &DataFrame, c: &str) -> PolarsResult<Vec<u32>> {
    Ok(df
        .column(c)?
        .cast(&DataType::UInt32)?
        .u32()?
        .into_no_null_iter()
        .collect())
}

fn f64s(df: &DataFrame, c: &str) -> PolarsResult<Vec<f64>> {
    Ok(df
        .column(c)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(0.0))
        .collect())
}

fn bools(df: &DataFrame, c: &str) -> PolarsResult<Vec<bool>> {
    Ok(df
        .column(c)?
        .cast(&DataType::Boolean)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// The claim-based values of every target with an index date.
///
/// Memory stays bounded at scale: each source table is first reduced, for the target
/// persons only (a semi-join) and the months the windows can reach, to one row per
/// person × service month (and institution, for the distinct count) with the streaming
/// engine; only those small frames are joined with the targets (a person can be a target
/// of several programmes and FYs).
///
/// # Errors
/// Polars errors.
pub(crate) fn claim_values(
    src: &Sources,
    targets: &[Target],
    people: &People,
    drug_classes: &std::collections::BTreeMap<String, DrugClass>,
    disease_classes: &std::collections::BTreeMap<String, DiseaseClass>,
) -> PolarsResult<Vec<ClaimValues>> {
    let mut out = vec![ClaimValues::default(); targets.len()];
    let months: Vec<i32> = targets
        .iter()
        .filter_map(|t| t.index)
        .map(month_no)
        .collect();
    let (Some(&lo), Some(&hi)) = (months.iter().min(), months.iter().max()) else {
        return Ok(out);
    };
    let (from, to) = (first_of_month_no(lo - 3), first_of_month_no(hi + 12));
    let tf = target_frame(targets, people)?;
    let persons = tf
        .clone()
        .select([col("person_id")])
        .unique(None, UniqueKeepStrategy::Any);
    let target_persons = persons.clone().collect()?;
    let pop = crate::lines::Population::new(&target_persons)?;
    let day = crate::lines::day;
    let only_targets = |lf: LazyFrame| {
        lf.join(
            persons.clone(),
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        )
    };
    // A reduced per-person frame joined with the targets: `off` = month − index month.
    let join = |df: DataFrame| {
        df.lazy()
            .join(
                tf.clone(),
                [col("person_id")],
                [col("person_id")],
                JoinArgs::new(JoinType::Inner),
            )
            .with_columns([(month_no_expr("service_month") - col("m0")).alias("off")])
    };
    let in_range = |c: &str| col(c).gt_eq(date_lit(from)).and(col(c).lt_eq(date_lit(to)));

    // Medical claims: per person × month (dental, 医科, any, outpatient days) and the
    // outpatient institutions per person × month.
    let (per_month, institutions) =
        super::claim_months::medical_months(src, &pop, day(from), day(to))?;
    let m = join(per_month)
        .filter(off_in(-3, 12).and(col("off").neq(lit(0))))
        .group_by([col("tid")])
        .agg([
            col("out_days")
                .filter(off_in(-3, -1))
                .sum()
                .alias("days_pre"),
            col("out_days")
                .filter(off_in(1, 3))
                .sum()
                .alias("days_post"),
            col("dental").and(off_in(1, 6)).any(true).alias("dental_6m"),
            col("medical")
                .and(off_in(1, 6))
                .any(true)
                .alias("medical_6m"),
            off_in(1, 12).any(true).alias("claim_12m"),
        ])
        .collect()?;
    {
        let tid = u32s(&m, "tid")?;
        let (dp, dq) = (f64s(&m, "days_pre")?, f64s(&m, "days_post")?);
        let (dental, med, any) = (
            bools(&m, "dental_6m")?,
            bools(&m, "medical_6m")?,
            bools(&m, "claim_12m")?,
        );
        for (k, &t) in tid.iter().enumerate() {
            let v = &mut out[t as usize];
            v.visit_days = [dp[k], dq[k]];
            v.dental_6m = dental[k];
            v.medical_visit_6m = med[k];
            v.claim_12m = any[k];
        }
    }
    let inst = join(institutions)
        .filter(off_in(-3, 3).and(col("off").neq(lit(0))))
        .group_by([col("tid")])
        .agg([
            col("institution_code")
                .filter(col("off").lt(lit(0)))
                .n_unique()
                .alias("inst_pre"),
            col("institution_code")
                .filter(col("off").gt(lit(0)))
                .n_unique()
                .alias("inst_post"),
        ])
        .collect()?;
    {
        let tid = u32s(&inst, "tid")?;
        let (ip, iq) = (f64s(&inst, "inst_pre")?, f64s(&inst, "inst_post")?);
        for (k, &t) in tid.iter().enumerate() {
            out[t as usize].institutions = [ip[k], iq[k]];
        }
    }

    // Drugs: per person × month, the distinct oral YJ-7 count and the class flags.
    let enabled = std::collections::BTreeMap::new();
    let dm_drug = drug_classes
        .get("diabetes")
        .map(|c| c.prefixes(&enabled))
        .unwrap_or_default();
    let ht_drug = drug_classes
        .get("hypertension")
        .map(|c| c.prefixes(&enabled))
        .unwrap_or_default();
    let drugs =
        super::claim_months::drug_months(src, &pop, day(from), day(to), &dm_drug, &ht_drug)?;
    let drug_rows = join(drugs).filter(off_in(-3, 6).and(col("off").neq(lit(0))));
    let counts = drug_rows
        .clone()
        .group_by([col("tid")])
        .agg([
            col("k").filter(off_in(-3, -1)).max().alias("pre"),
            col("k").filter(off_in(1, 3)).max().alias("post"),
        ])
        .collect()?;
    {
        let tid = u32s(&counts, "tid")?;
        let (pre, post) = (f64s(&counts, "pre")?, f64s(&counts, "post")?);
        for (k, &t) in tid.iter().enumerate() {
            out[t as usize].max_drugs = [pre[k], post[k]];
        }
    }
    let drug_months = drug_rows
        .filter(off_in(1, 6).and(col("dm").or(col("ht"))))
        .select([col("tid"), col("off"), col("dm"), col("ht")]);

    // Diagnoses: per person × month, J69.0 and the class diagnoses (non-suspected).
    let dm_dx = disease_classes
        .get("diabetes")
        .map(|c| c.icd10.clone())
        .unwrap_or_default();
    let ht_dx = disease_classes
        .get("hypertension")
        .map(|c| c.icd10.clone())
        .unwrap_or_default();
    let dx = super::claim_months::diagnosis_months(src, &pop, day(to), &dm_dx, &ht_dx)?;
    let dx = join(dx);
    let j69 = dx
        .clone()
        .filter(col("j69"))
        .group_by([col("tid")])
        .agg([
            col("off").lt(lit(0)).any(true).alias("before"),
            off_in(1, 12).any(true).alias("after"),
        ])
        .collect()?;
    {
        let tid = u32s(&j69, "tid")?;
        let (b, a) = (bools(&j69, "before")?, bools(&j69, "after")?);
        for (k, &t) in tid.iter().enumerate() {
            out[t as usize].j69_before = b[k];
            out[t as usize].j69_12m = a[k];
        }
    }
    let dx_months = dx
        .filter(off_in(1, 6).and(col("dxdm").or(col("dxht"))))
        .select([col("tid"), col("off"), col("dxdm"), col("dxht")]);
    let confirmed = drug_months
        .join(
            dx_months,
            [col("tid"), col("off")],
            [col("tid"), col("off")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([(col("dm").and(col("dxdm").fill_null(lit(false))))
            .or(col("ht").and(col("dxht").fill_null(lit(false))))
            .alias("both")])
        .group_by([col("tid")])
        .agg([col("both").any(true).alias("confirmed")])
        .collect()?;
    {
        let tid = u32s(&confirmed, "tid")?;
        let c = bools(&confirmed, "confirmed")?;
        for (k, &t) in tid.iter().enumerate() {
            out[t as usize].confirmed_6m = c[k];
            out[t as usize].class_drug_6m = true;
        }
    }

    // Care claims within 12 months.
    let care = crate::collect_streaming(
        only_targets(
            src.care_claims()?
                .select([col("person_id"), col("service_month")])
                .filter(in_range("service_month")),
        )
        .unique(None, UniqueKeepStrategy::Any),
    )?;
    let care = join(care)
        .filter(off_in(1, 12))
        .select([col("tid")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()?;
    for t in u32s(&care, "tid")? {
        out[t as usize].care_12m = true;
    }
    Ok(out)
}

/// Checkups, questionnaires and certifications of the target persons.
///
/// # Errors
/// Polars errors.
pub(crate) fn person_records(
    src: &Sources,
    people: &People,
    persons: &[u32],
) -> PolarsResult<HashMap<u32, PersonRecords>> {
    let ids: Vec<&str> = persons
        .iter()
        .map(|&p| people.ids[p as usize].as_str())
        .collect();
    let keep = DataFrame::new_infer_height(vec![Column::new("person_id".into(), ids)])?.lazy();
    let semi = |lf: LazyFrame| {
        lf.join(
            keep.clone(),
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        )
    };
    let mut out: HashMap<u32, PersonRecords> = HashMap::new();
    let bmi = coalesce(&[
        col("bmi"),
        (col("weight_kg") / (col("height_cm") / lit(100.0)).pow(2))
            .round(1, RoundMode::HalfAwayFromZero),
    ]);
    let ck = semi(src.checkups()?)
        .select([
            col("person_id"),
            col("exam_date"),
            col("weight_kg"),
            bmi.alias("bmi"),
            col("hba1c"),
            col("sbp"),
            col("dbp"),
        ])
        .sort(["person_id", "exam_date"], Default::default())
        .collect()?;
    {
        let pid = ck.column("person_id")?.str()?.clone();
        let d = dates(&ck, "exam_date")?;
        let v: Vec<Vec<Option<f64>>> = ["weight_kg", "bmi", "hba1c", "sbp", "dbp"]
            .iter()
            .map(|c| floats(&ck, c))
            .collect::<PolarsResult<_>>()?;
        for (i, id) in pid.iter().enumerate() {
            let Some(&p) = id.and_then(|id| people.index.get(id)) else {
                continue;
            };
            out.entry(p)
                .or_default()
                .checkups
                .push((d[i], [v[0][i], v[1][i], v[2][i], v[3][i], v[4][i]]));
        }
    }
    let q = semi(src.questionnaires()?)
        .select([
            col("person_id"),
            col("answer_date"),
            col("q01"),
            col("q04"),
            col("q05"),
            col("q07"),
            col("q08"),
        ])
        .sort(["person_id", "answer_date"], Default::default())
        .collect()?;
    {
        let pid = q.column("person_id")?.str()?.clone();
        let d = dates(&q, "answer_date")?;
        let items: Vec<Vec<Option<u8>>> = ["q01", "q04", "q05", "q07", "q08"]
            .iter()
            .map(|c| -> PolarsResult<Vec<Option<u8>>> {
                Ok(q.column(c)?.cast(&DataType::UInt8)?.u8()?.iter().collect())
            })
            .collect::<PolarsResult<_>>()?;
        for (i, id) in pid.iter().enumerate() {
            let Some(&p) = id.and_then(|id| people.index.get(id)) else {
                continue;
            };
            out.entry(p).or_default().questionnaires.push((
                d[i],
                [
                    items[0][i],
                    items[1][i],
                    items[2][i],
                    items[3][i],
                    items[4][i],
                ],
            ));
        }
    }
    let c = semi(src.certifications()?)
        .select([
            col("person_id"),
            col("decision_date"),
            col("care_level_code"),
            col("valid_from"),
            col("valid_to"),
        ])
        .sort(["person_id", "decision_date"], Default::default())
        .collect()?;
    {
        let pid = c.column("person_id")?.str()?.clone();
        let level = c.column("care_level_code")?.str()?.clone();
        let (dd, vf, vt) = (
            dates(&c, "decision_date")?,
            dates(&c, "valid_from")?,
            dates(&c, "valid_to")?,
        );
        for (i, id) in pid.iter().enumerate() {
            let Some(&p) = id.and_then(|id| people.index.get(id)) else {
                continue;
            };
            out.entry(p).or_default().certifications.push((
                dd[i],
                level.get(i).unwrap_or_default().to_string(),
                vf[i],
                vt[i],
            ));
        }
    }
    Ok(out)
}
