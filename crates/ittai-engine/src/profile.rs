//! Calibration profile of a dataset: each calibration quantity of docs/reference/calibration.md beside its
//! target and tolerance, for one FY (reference date = FY end).
//!
//! Tolerances are the project's (docs/CALIBRATION.md): wide enough for sampling noise
//! at 100,000 persons and for the approximate nature of the published figures.

use std::collections::BTreeMap;

use ittai_dataset::reference;
use ittai_model::questionnaire::{NO, YES};
use ittai_model::{AgeBand, CareLevel, FiscalYear, LossReason, Sex};
use polars::prelude::*;

use crate::features::{Frame, between_dates as between, date_lit, in_u8, is_code, is_code_in};
use crate::source::Sources;

/// One calibration quantity.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProfileRow {
    /// Group (demography, care, checkups, questionnaire, labs, claims, rules).
    pub group: &'static str,
    /// What is measured, in words.
    pub quantity: String,
    /// Measured value.
    pub value: f64,
    /// Lower bound of the accepted range.
    pub lo: f64,
    /// Upper bound of the accepted range.
    pub hi: f64,
    /// The published target as written in docs/reference/calibration.md.
    pub target: String,
    /// Unit (%, yen, mmHg …).
    pub unit: &'static str,
}

impl ProfileRow {
    /// True when the value lies in [lo, hi].
    pub fn ok(&self) -> bool {
        self.value >= self.lo && self.value <= self.hi
    }
}

fn scalar_f64(df: &DataFrame, name: &str) -> f64 {
    df.column(name)
        .ok()
        .and_then(|c| c.cast(&DataType::Float64).ok())
        .and_then(|c| c.f64().ok().and_then(|x| x.get(0)))
        .unwrap_or(f64::NAN)
}

fn row(
    group: &'static str,
    quantity: impl Into<String>,
    value: f64,
    lo: f64,
    hi: f64,
    target: impl Into<String>,
    unit: &'static str,
) -> ProfileRow {
    ProfileRow {
        group,
        quantity: quantity.into(),
        value,
        lo,
        hi,
        target: target.into(),
        unit,
    }
}

/// Computes the profile of `fy`. `rule_rates` are the listed shares (per insured, %) of
/// the rules by id, computed by the caller with the engine's default rules.
///
/// # Errors
/// Polars errors.
pub fn profile(
    src: &Sources,
    fy: FiscalYear,
    rule_rates: &BTreeMap<String, f64>,
) -> PolarsResult<Vec<ProfileRow>> {
    let reference = fy.end();
    let frame = Frame { fy, reference };
    let mut out = Vec::new();
    let pop = crate::features::population(src, &frame)?.collect()?;
    age_sex(&pop, &mut out)?;
    certification(&pop, &mut out)?;
    checkups_and_deaths(src, fy, &mut out)?;
    questionnaire(src, fy, &pop, &mut out)?;
    labs(src, fy, &mut out)?;
    medical_claims(src, fy, &pop, &mut out)?;
    rule_rows(rule_rates, &mut out);
    Ok(out)
}

/// Age × sex against the 2020 census (国勢調査2020; share of all 75+ in each band and
/// sex): one `demography` row, the largest gap over the sex × 5-year-band cells of the
/// population (rule population at the FY end, aged 75+), in percentage points (pp).
fn age_sex(pop: &DataFrame, out: &mut Vec<ProfileRow>) -> PolarsResult<()> {
    let census = reference::census(2020);
    let c75: f64 = census
        .iter()
        .filter(|c| c.age_from >= 75)
        .map(|c| c.count as f64)
        .sum();
    let mut max_dev: f64 = 0.0;
    let mut worst = String::new();
    // The age bands of 75 and over, the open band ending at 200.
    let bands: Vec<(i32, i32, &str)> = AgeBand::ALL
        .into_iter()
        .filter(|b| b.lower() >= 75)
        .map(|b| (b.lower(), b.upper().unwrap_or(200), b.label()))
        .collect();
    let p75 = pop
        .clone()
        .lazy()
        .filter(col("age").gt_eq(lit(75)))
        .collect()?;
    let n75 = p75.height() as f64;
    for sex in Sex::ALL {
        for &(lo, hi, band) in &bands {
            let want: f64 = census
                .iter()
                .filter(|c| c.sex == sex && c.age_from as i32 >= lo && c.age_from as i32 <= hi)
                .map(|c| c.count as f64)
                .sum::<f64>()
                / c75;
            let got = p75
                .clone()
                .lazy()
                .filter(
                    is_code(col("sex"), sex)
                        .and(col("age").gt_eq(lit(lo)))
                        .and(col("age").lt_eq(lit(hi))),
                )
                .collect()?
                .height() as f64
                / n75.max(1.0);
            let dev = (got - want).abs() * 100.0;
            if dev > max_dev {
                max_dev = dev;
                worst = format!("{} {band}", sex.label_ja());
            }
        }
    }
    out.push(row(
        "demography",
        format!("age × sex vs 国勢調査2020, largest gap ({worst})"),
        max_dev,
        0.0,
        5.0,
        "≤ 5 pp per cell",
        "pp",
    ));
    Ok(())
}

/// Certification by age band and level mix (on the reference date, from the population's
/// `care_level`): `care` rows with the certified share (要介護認定率, %) of four age bands,
/// then the share (%) of each level among the certified. Targets and tolerances: see the
/// module docs.
fn certification(pop: &DataFrame, out: &mut Vec<ProfileRow>) -> PolarsResult<()> {
    let certified = CareLevel::ALL.into_iter().filter(|l| l.is_certified());
    let is_cert = is_code_in(col("care_level"), certified);
    for (lo, hi, target, tol) in [
        (75, 79, 12.0, 3.0),
        (80, 84, 26.0, 4.0),
        (85, 89, 48.0, 5.0),
        (90, 200, 72.0, 5.0),
    ] {
        let df = pop
            .clone()
            .lazy()
            .filter(col("age").gt_eq(lit(lo)).and(col("age").lt_eq(lit(hi))))
            .select([is_cert.clone().cast(DataType::Float64).mean().alias("r")])
            .collect()?;
        let label = if hi == 200 {
            format!("{lo}+")
        } else {
            format!("{lo}–{hi}")
        };
        out.push(row(
            "care",
            format!("要介護認定率 {label}"),
            100.0 * scalar_f64(&df, "r"),
            target - tol,
            target + tol,
            format!("≈ {target} %"),
            "%",
        ));
    }
    let certs = pop.clone().lazy().filter(is_cert).collect()?;
    let nc = certs.height() as f64;
    // Target share (%) of each certified level (CareLevel::CERTIFIED order).
    let targets = [14.0, 14.0, 21.0, 17.0, 13.0, 12.0, 9.0];
    for (level, target) in CareLevel::CERTIFIED.into_iter().zip(targets) {
        let k = certs
            .clone()
            .lazy()
            .filter(is_code(col("care_level"), level))
            .collect()?
            .height() as f64;
        out.push(row(
            "care",
            format!("level mix: {}", level.label_ja()),
            100.0 * k / nc.max(1.0),
            target - 4.0,
            target + 4.0,
            format!("≈ {target} %"),
            "%",
        ));
    }
    Ok(())
}

/// Checkup participation and deaths, denominators insured on April 1 (the FY start): a
/// `checkups` row (健診受診率, %: insured on 4/1 with a checkup in the FY, no exclusions)
/// and a `demography` row (deaths in the FY per insured on 4/1, %). Targets: see the
/// module docs.
fn checkups_and_deaths(
    src: &Sources,
    fy: FiscalYear,
    out: &mut Vec<ProfileRow>,
) -> PolarsResult<()> {
    let start = fy.start();
    let s = date_lit(start);
    let insured_start = src
        .persons()?
        .filter(
            col("coverage_start").lt_eq(s.clone()).and(
                col("coverage_end")
                    .is_null()
                    .or(col("coverage_end").gt(s.clone())),
            ),
        )
        .select([col("person_id")])
        .unique(None, UniqueKeepStrategy::Any);
    let n_start = insured_start.clone().collect()?.height() as f64;
    let takers = src
        .checkups()?
        .filter(between(col("exam_date"), start, fy.end()))
        .select([col("person_id")])
        .unique(None, UniqueKeepStrategy::Any);
    let k = insured_start
        .clone()
        .join(
            takers,
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()?
        .height() as f64;
    out.push(row(
        "checkups",
        "健診受診率 (insured on 4/1 with a checkup in the FY; no exclusions)",
        100.0 * k / n_start.max(1.0),
        24.0,
        30.0,
        "≈ 27 %",
        "%",
    ));
    let deaths = src
        .persons()?
        .filter(
            is_code(col("loss_reason"), LossReason::Death)
                .and(col("coverage_end").gt(s))
                .and(col("coverage_end").lt_eq(date_lit(fy.end() + chrono::Duration::days(1)))),
        )
        .collect()?
        .height() as f64;
    out.push(row(
        "demography",
        "deaths per insured on 4/1",
        100.0 * deaths / n_start.max(1.0),
        5.5,
        7.5,
        "≈ 6–7 % (est.)",
        "%",
    ));
    Ok(())
}

/// Questionnaire (latest of the FY among the insured on the reference date, `pop`):
/// `questionnaire` rows with the share (%) of seven answers (Q1 4–5, Q4–Q8 「はい」, Q13
/// 「いいえ」). Targets and tolerances: see the module docs.
fn questionnaire(
    src: &Sources,
    fy: FiscalYear,
    pop: &DataFrame,
    out: &mut Vec<ProfileRow>,
) -> PolarsResult<()> {
    let (a, b) = (fy.start(), fy.end());
    let qn = src
        .questionnaires()?
        .filter(between(col("answer_date"), a, b))
        .sort(["person_id", "answer_date"], Default::default())
        .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
        .join(
            pop.clone().lazy().select([col("person_id")]),
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        );
    let share = |e: Expr| e.fill_null(lit(false)).cast(DataType::Float64).mean();
    let q = qn
        .select([
            share(col("q04").eq(lit(YES))).alias("q04"),
            share(col("q05").eq(lit(YES))).alias("q05"),
            share(in_u8(col("q01"), [4, 5])).alias("q01"),
            share(col("q06").eq(lit(YES))).alias("q06"),
            share(col("q07").eq(lit(YES))).alias("q07"),
            share(col("q08").eq(lit(YES))).alias("q08"),
            share(col("q13").eq(lit(NO))).alias("q13"),
        ])
        .collect()?;
    for (c, label, target, tol) in [
        ("q04", "Q4 固いものが食べにくい「はい」", 28.0, 4.0),
        ("q05", "Q5 むせる「はい」", 21.0, 4.0),
        ("q01", "Q1 健康状態 4–5", 12.0, 3.0),
        ("q06", "Q6 体重減少「はい」", 11.0, 3.0),
        ("q07", "Q7 歩く速度が遅くなった「はい」", 55.0, 5.0),
        ("q08", "Q8 転倒「はい」", 19.0, 4.0),
        ("q13", "Q13 週1回以上の外出「いいえ」", 8.0, 3.0),
    ] {
        out.push(row(
            "questionnaire",
            label,
            100.0 * scalar_f64(&q, c),
            target - tol,
            target + tol,
            format!("≈ {target} %"),
            "%",
        ));
    }
    Ok(())
}

/// Lab values (latest checkup of the FY, all persons with one): `labs` rows with the mean
/// and SD of BMI (kg/m²), SBP (mmHg), HbA1c (%) and eGFR (mL/min/1.73m²). Targets and
/// tolerances: see the module docs.
fn labs(src: &Sources, fy: FiscalYear, out: &mut Vec<ProfileRow>) -> PolarsResult<()> {
    let (a, b) = (fy.start(), fy.end());
    let ck = src
        .checkups()?
        .filter(between(col("exam_date"), a, b))
        .sort(["person_id", "exam_date"], Default::default())
        .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
        .select([
            col("bmi").mean().alias("bmi_m"),
            col("bmi").std(1).alias("bmi_s"),
            col("sbp").mean().alias("sbp_m"),
            col("sbp").std(1).alias("sbp_s"),
            col("hba1c").mean().alias("hba1c_m"),
            col("hba1c").std(1).alias("hba1c_s"),
            col("egfr").mean().alias("egfr_m"),
            col("egfr").std(1).alias("egfr_s"),
        ])
        .collect()?;
    for (c, label, unit, mean, sd, tm, ts) in [
        ("bmi", "BMI", "kg/m²", 22.5, 3.3, 0.5, 0.4),
        ("sbp", "SBP", "mmHg", 136.0, 17.0, 3.0, 2.0),
        ("hba1c", "HbA1c", "%", 5.9, 0.7, 0.15, 0.15),
        ("egfr", "eGFR", "mL/min/1.73m²", 60.0, 15.0, 3.0, 2.0),
    ] {
        out.push(row(
            "labs",
            format!("{label} mean"),
            scalar_f64(&ck, &format!("{c}_m")),
            mean - tm,
            mean + tm,
            format!("≈ {mean}"),
            unit,
        ));
        out.push(row(
            "labs",
            format!("{label} SD"),
            scalar_f64(&ck, &format!("{c}_s")),
            sd - ts,
            sd + ts,
            format!("≈ {sd}"),
            unit,
        ));
    }
    Ok(())
}

/// Claims: share with a medical claim, cost per insured (service months from April to
/// the reference month; denominator: the population `pop`): `claims` rows with the share
/// (%) of the insured with a medical claim and the medical cost per insured (yen, points
/// × 10). Targets: see the module docs.
fn medical_claims(
    src: &Sources,
    fy: FiscalYear,
    pop: &DataFrame,
    out: &mut Vec<ProfileRow>,
) -> PolarsResult<()> {
    let n = pop.height() as f64;
    let (m0, m1) = (fy.start(), ittai_model::first_of_month(fy.end()));
    let claims = src
        .medical_claims()?
        .filter(between(col("service_month"), m0, m1));
    let with_claim = pop
        .clone()
        .lazy()
        .select([col("person_id")])
        .join(
            claims
                .clone()
                .select([col("person_id")])
                .unique(None, UniqueKeepStrategy::Any),
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()?
        .height() as f64;
    out.push(row(
        "claims",
        "insured with a medical claim in the FY",
        100.0 * with_claim / n.max(1.0),
        92.0,
        98.0,
        "≈ 95 %",
        "%",
    ));
    let cost = claims
        .select([(col("points").cast(DataType::Float64).sum() * lit(10.0)).alias("yen")])
        .collect()?;
    let per = scalar_f64(&cost, "yen") / n.max(1.0);
    out.push(row(
        "claims",
        "medical cost per insured (points × 10 yen)",
        per,
        855_000.0,
        1_045_000.0,
        "≈ 950,000 yen",
        "yen",
    ));
    Ok(())
}

/// Rule rates (per insured on the reference date): `rules` rows with the listed share
/// (ハイリスク者割合, %) of R02–R06 from `rule_rates` (NaN when absent). Targets: see the
/// module docs.
fn rule_rows(rule_rates: &BTreeMap<String, f64>, out: &mut Vec<ProfileRow>) {
    for (id, label, lo, hi, target) in [
        ("R02", "R02 口腔", 1.9, 4.8, "1.9–4.8 %"),
        ("R03", "R03 多剤", 3.5, 5.5, "≈ 4.5 %"),
        ("R04", "R04 睡眠薬", 0.6, 1.4, "≈ 1.0 %"),
        ("R05", "R05 身体的フレイル", 2.4, 5.8, "2.4–5.8 %"),
        ("R06", "R06 コントロール不良", 0.25, 0.65, "≈ 0.45 %"),
    ] {
        out.push(row(
            "rules",
            format!("ハイリスク者割合 {label}"),
            rule_rates.get(id).copied().unwrap_or(f64::NAN),
            lo,
            hi,
            target,
            "%",
        ));
    }
}
