//! Base cells of the indicators for one fiscal year: numerator, denominator and persons
//! by municipality × sex × age band, computed with polars from the canonical tables, the
//! per-person measures on claim lines (`claim_lines.rs`) and the rule run of that year.
//!
//! Conventions (docs/INDICATORS.md): a person is attributed to the municipality of their
//! last coverage spell overlapping the FY (for the checkup rates: the spell covering April
//! 1), to their sex, and to the age band of their age at the end of the FY. Exposure
//! (被保険者の観察人年) is the insured time inside the FY in years of 365.25 days.

use std::collections::{BTreeMap, HashMap};

use ittai_model::icd10::DiseaseCostRow;
use ittai_model::indicators::{Area, IndicatorId, parse_age_band};
use ittai_model::time::{AgeBand, add_months};
use ittai_model::{CareLevel, ClaimKind, LossReason, Sex, is_facility_service_type};
use ittai_model::{FiscalYear, first_of_month};
use polars::prelude::*;

use super::claim_lines::FyLines;
use crate::RunResult;
use crate::features::{age_band_expr, age_expr, date_lit};
use crate::source::Sources;

/// One base cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Indicator.
    pub indicator: IndicatorId,
    /// Rule id for ハイリスク者割合.
    pub rule_id: Option<String>,
    /// 6-digit municipality code.
    pub municipality_code: String,
    /// Sex.
    pub sex: Sex,
    /// Age band.
    pub age_band: AgeBand,
    /// Numerator.
    pub numerator: f64,
    /// Denominator.
    pub denominator: f64,
    /// Persons behind the cell.
    pub persons: u64,
}

/// Life-table inputs of one municipality × sex × age band.
#[derive(Debug, Clone, PartialEq)]
pub struct LifeInput {
    /// The municipality (the union once rolled up).
    pub municipality_code: Area,
    /// Sex.
    pub sex: Sex,
    /// Age band (the bands of [`life_bands`] only).
    pub age_band: AgeBand,
    /// Deaths in the FY at ages in the band.
    pub deaths: f64,
    /// Person-years lived in the band during the FY.
    pub person_years: f64,
    /// Insured on the reference date in the band (prevalence sample).
    pub sample: f64,
    /// Of them certified 要介護2–5.
    pub dependent: f64,
}

const DAYS_PER_YEAR: f64 = 365.25;

/// `c` (a str column) is one of `codes`: a polars `is_in` on the literal list; null for a
/// null value.
fn str_in(c: Expr, codes: &[&str]) -> Expr {
    c.is_in(lit(Series::new("".into(), codes)).implode(false), false)
}

/// A care-level code column (str) holds a level where `pred` holds (e.g.
/// [`CareLevel::is_certified`]); false for null or an unknown code.
fn care_level_where(c: Expr, pred: fn(CareLevel) -> bool) -> Expr {
    let codes: Vec<&str> = CareLevel::ALL
        .into_iter()
        .filter(|l| pred(*l))
        .map(CareLevel::code)
        .collect();
    str_in(c, &codes).fill_null(lit(false))
}

/// The service types of a facility resident (施設入所者, 51–55): every two-character
/// service type code (digits and capital letters) that
/// [`is_facility_service_type`] accepts, in code order.
fn facility_service_types() -> Vec<String> {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    CHARS
        .iter()
        .flat_map(|a| {
            CHARS
                .iter()
                .map(move |b| format!("{}{}", *a as char, *b as char))
        })
        .filter(|c| is_facility_service_type(c))
        .collect()
}

/// A care service type column (str) holds a facility type ([`facility_service_types`]);
/// null for null.
fn facility_service_type(c: Expr) -> Expr {
    let types = facility_service_types();
    let codes: Vec<&str> = types.iter().map(String::as_str).collect();
    str_in(c, &codes)
}

/// The codes of the claim kinds where `pred` holds, in code order (for [`in_u8`]).
fn claim_kinds(pred: impl Fn(ClaimKind) -> bool) -> Vec<u8> {
    ClaimKind::ALL
        .into_iter()
        .filter(|k| pred(*k))
        .map(ClaimKind::code)
        .collect()
}

fn days(d: Expr) -> Expr {
    d.cast(DataType::Int32)
}

/// Age in full years on a per-row date column.
fn age_at_col(birth: Expr, at: Expr) -> Expr {
    let md = |d: Expr| {
        d.clone().dt().month().cast(DataType::Int32) * lit(100) + d.dt().day().cast(DataType::Int32)
    };
    at.clone().dt().year().cast(DataType::Int32)
        - birth.clone().dt().year().cast(DataType::Int32)
        - when(md(birth).gt(md(at))).then(lit(1)).otherwise(lit(0))
}

/// Collects a frame with columns municipality_code, sex, age_band, num, den, persons into
/// cells of `indicator` (rows with a null key, a sex code outside 1–2 or an unknown age
/// band label are left out).
fn to_cells(
    df: &DataFrame,
    indicator: IndicatorId,
    rule_id: Option<&str>,
) -> PolarsResult<Vec<Cell>> {
    let m = df.column("municipality_code")?.str()?;
    let s = df.column("sex")?.cast(&DataType::UInt8)?;
    let s = s.u8()?;
    let b = df.column("age_band")?.str()?;
    let num = df.column("num")?.cast(&DataType::Float64)?;
    let den = df.column("den")?.cast(&DataType::Float64)?;
    let per = df.column("persons")?.cast(&DataType::UInt64)?;
    let (num, den, per) = (num.f64()?, den.f64()?, per.u64()?);
    Ok((0..df.height())
        .filter_map(|i| {
            Some(Cell {
                indicator,
                rule_id: rule_id.map(str::to_string),
                municipality_code: m.get(i)?.to_string(),
                sex: Sex::from_code(s.get(i)?)?,
                age_band: parse_age_band(b.get(i)?)?,
                numerator: num.get(i).unwrap_or(0.0),
                denominator: den.get(i).unwrap_or(0.0),
                persons: per.get(i).unwrap_or(0),
            })
        })
        .collect())
}

/// Denominators summed as insured days (integers, so the sum does not depend on the order
/// of a parallel aggregation and reruns give identical figures) turned into person-years.
fn per_year(mut cells: Vec<Cell>) -> Vec<Cell> {
    for c in &mut cells {
        c.denominator /= DAYS_PER_YEAR;
    }
    cells
}

/// Sums num, den and counts persons by municipality × sex × band.
fn aggregate(lf: LazyFrame) -> LazyFrame {
    aggregate_counting(lf, len())
}

/// As [`aggregate`], but `persons` counts only the persons with a positive `num`: for
/// the cost indicators, where the published figure is built from the people who had
/// claims, and a cell is suppressed when fewer than 10 of them did (a cost per insured
/// of a municipality with 300 insured and 3 patients would otherwise describe 3 people).
fn aggregate_spenders(lf: LazyFrame) -> LazyFrame {
    aggregate_counting(lf, col("num").gt(lit(0.0)).cast(DataType::UInt32).sum())
}

/// Sums `num` and `den` by municipality × sex × age band; `persons` is `count`.
fn aggregate_counting(lf: LazyFrame, count: Expr) -> LazyFrame {
    lf.group_by([col("municipality_code"), col("sex"), col("age_band")])
        .agg([
            col("num").cast(DataType::Float64).sum().alias("num"),
            col("den").cast(DataType::Float64).sum().alias("den"),
            count.alias("persons"),
        ])
}

/// The insurance spells (rows of `persons`) that overlap the FY, with column `e` (date):
/// the spell's end, 9999-12-31 for a spell still open.
fn spells_in_fy(src: &Sources, fy: FiscalYear) -> PolarsResult<LazyFrame> {
    let (a, b) = (fy.start(), fy.end() + chrono::Duration::days(1));
    let far = date_lit(chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("far"));
    Ok(src
        .persons()?
        .with_columns([col("coverage_end").fill_null(far).alias("e")])
        .filter(
            col("coverage_start")
                .lt(date_lit(b))
                .and(col("e").gt(date_lit(a))),
        ))
}

/// Per-person attributes for the FY: sex, birth date, municipality of the last spell
/// overlapping the FY, age band at the FY end, exposure in years.
fn attributes(src: &Sources, fy: FiscalYear) -> PolarsResult<LazyFrame> {
    let (a, b) = (fy.start(), fy.end() + chrono::Duration::days(1));
    Ok(spells_in_fy(src, fy)?
        .with_columns([
            (days(col("e")).clip_max(lit(crate::features::days_lit_value(b)))
                - days(col("coverage_start")).clip_min(lit(crate::features::days_lit_value(a))))
            .alias("exposure_days"),
        ])
        .sort(["person_id", "coverage_start"], Default::default())
        .group_by_stable([col("person_id")])
        .agg([
            col("sex").first(),
            col("birth_date").first(),
            col("municipality_code").last(),
            col("exposure_days").sum(),
        ])
        .with_columns([
            age_band_expr(age_expr(col("birth_date"), fy.end())).alias("age_band"),
            (col("exposure_days").cast(DataType::Float64) / lit(DAYS_PER_YEAR)).alias("exposure"),
        ]))
}

/// The time spent in each part of the indicators (seconds), summed over the FYs, in the
/// order the parts first ran: `run` (the rules applied again for an FY), `attributes`,
/// `claim_lines.claims`, `claim_lines.diagnoses`, `claim_lines.drugs` (the passes over
/// the claim files), `disease_costs`, `checkups`, `run_cells`, `deaths`, `costs`, `drugs`,
/// `life`.
#[derive(Debug, Clone, Default)]
pub struct Timings(pub Vec<(String, f64)>);

impl Timings {
    /// Runs `f`, adding its time to `part`.
    pub fn time<T>(&mut self, part: &str, f: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let out = f();
        self.add(part, t.elapsed().as_secs_f64());
        out
    }

    /// Adds `seconds` to `part`.
    pub fn add(&mut self, part: &str, seconds: f64) {
        match self.0.iter_mut().find(|(k, _)| k == part) {
            Some((_, v)) => *v += seconds,
            None => self.0.push((part.to_string(), seconds)),
        }
    }
}

/// The population of each of `fys` (its [`attributes`]) and its measures on claim lines,
/// by one pass over each claim file for all of them
/// ([`super::claim_lines::lines_by_fy`]), in the order given; the time of each part is
/// added to `timings`.
///
/// # Errors
/// Polars errors.
pub(crate) fn fy_populations(
    src: &Sources,
    fys: &[FiscalYear],
    timings: &mut Timings,
) -> PolarsResult<Vec<(DataFrame, FyLines)>> {
    let attrs = fys
        .iter()
        .map(|&fy| {
            timings.time("attributes", || {
                crate::collect_streaming(attributes(src, fy)?)
            })
        })
        .collect::<PolarsResult<Vec<DataFrame>>>()?;
    let codes: Vec<Vec<u8>> = cost_kinds().iter().map(|(_, k)| k.clone()).collect();
    let with: Vec<(FiscalYear, &DataFrame)> = fys.iter().copied().zip(&attrs).collect();
    let lines = super::claim_lines::lines_by_fy(src, &with, &codes, timings)?;
    Ok(attrs.into_iter().zip(lines).collect())
}

/// All base cells and life-table inputs of `fy`, using `run` (the rules applied for the
/// FY with the FY end as reference date), the FY's population `attrs` and its claim-line
/// measures `lines` ([`fy_populations`]), and `stays` (the runs of long-term inpatient
/// stay, [`super::claim_lines::long_stays`]); the time of each part is added to `timings`.
///
/// # Errors
/// Polars errors.
pub(crate) fn fy_cells(
    src: &Sources,
    fy: FiscalYear,
    run: &RunResult,
    (attrs, lines): (&DataFrame, &FyLines),
    stays: &DataFrame,
    timings: &mut Timings,
) -> PolarsResult<(Vec<Cell>, Vec<LifeInput>, Vec<DiseaseCostRow>)> {
    let mut cells = Vec::new();
    let kinds = cost_kinds();

    // 疾病分類別医療費 (its own rows: groups are not indicators).
    let disease_costs = timings.time("disease_costs", || {
        super::disease_costs::fy_rows(fy, attrs, &lines.disease)
    })?;

    // 健診受診率 and 歯科健診受診率: unified denominator.
    cells.extend(timings.time("checkups", || checkup_cells(src, fy, attrs, stays))?);

    // ハイリスク者割合 and 要介護認定率 on the reference-date population of the run.
    cells.extend(timings.time("run_cells", || run_cells(run))?);

    // Deaths (per person-year of exposure), costs per insured person-year.
    let deaths = deaths_in_fy(src, fy)?;
    cells.extend(timings.time("deaths", || death_cells(attrs, &deaths))?);
    cells.extend(timings.time("costs", || cost_cells(src, fy, attrs, &kinds, &lines.spend))?);

    // Drugs: 多剤, 重複, 後発医薬品.
    cells.extend(timings.time("drugs", || drug_cells(attrs, lines))?);

    // Life-table inputs.
    let life = timings.time("life", || life_inputs(src, fy, attrs, deaths, &run.table))?;
    Ok((cells, life, disease_costs))
}

/// Cells of `checkup_rate` and `dental_checkup_rate` (健診受診率, 歯科健診受診率; %): per
/// person of [`checkup_denominator`], `num` 1 when they had a (dental) checkup with
/// `exam_date` in the FY, `den` 1 (docs/INDICATORS.md, indicator table).
fn checkup_cells(
    src: &Sources,
    fy: FiscalYear,
    attrs: &DataFrame,
    stays: &DataFrame,
) -> PolarsResult<Vec<Cell>> {
    let mut cells = Vec::new();
    let (start, end) = (fy.start(), fy.end());
    let denominator = checkup_denominator(src, fy, attrs, stays)?;
    for (indicator, table) in [
        (IndicatorId::CheckupRate, src.checkups()?),
        (IndicatorId::DentalCheckupRate, src.dental_checkups()?),
    ] {
        let took = table
            .filter(
                col("exam_date")
                    .gt_eq(date_lit(start))
                    .and(col("exam_date").lt_eq(date_lit(end))),
            )
            .select([col("person_id")])
            .unique(None, UniqueKeepStrategy::Any)
            .with_columns([lit(1i32).alias("num")]);
        let df = crate::collect_streaming(aggregate(
            denominator
                .clone()
                .left_join(took, col("person_id"), col("person_id"))
                .with_columns([col("num").fill_null(lit(0)), lit(1i32).alias("den")]),
        ))?;
        cells.extend(to_cells(&df, indicator, None)?);
    }
    Ok(cells)
}

/// The unified denominator of the checkup rates (docs/INDICATORS.md, indicator table):
/// persons insured on April 1 (municipality of the spell covering that day), minus
/// long-term inpatients ([`long_stay_persons`]) and facility residents (care claims of
/// service type 51–55 in the FY's service months). Columns `person_id`,
/// `municipality_code` (str), `sex` (u8), `age_band` (str, age at the FY end).
fn checkup_denominator(
    src: &Sources,
    fy: FiscalYear,
    attrs: &DataFrame,
    stays: &DataFrame,
) -> PolarsResult<LazyFrame> {
    let start = fy.start();
    let (m0, m1) = (start, first_of_month(fy.end()));
    let in_fy_months = |c: &str| col(c).gt_eq(date_lit(m0)).and(col(c).lt_eq(date_lit(m1)));
    let s = date_lit(start);
    let insured_start = src
        .persons()?
        .filter(
            col("coverage_start")
                .lt_eq(s.clone())
                .and(col("coverage_end").is_null().or(col("coverage_end").gt(s))),
        )
        .sort(["person_id", "coverage_start"], Default::default())
        .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
        .select([col("person_id"), col("municipality_code")]);
    let long_stay = long_stay_persons(stays, fy);
    let facility = src
        .care_claims()?
        .filter(in_fy_months("service_month").and(facility_service_type(col("service_type_code"))))
        .select([col("person_id")])
        .unique(None, UniqueKeepStrategy::Any);
    let anti = |l: LazyFrame, r: LazyFrame| {
        l.join(
            r,
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Anti),
        )
    };
    Ok(anti(anti(insured_start, long_stay), facility).join(
        attrs
            .clone()
            .lazy()
            .select([col("person_id"), col("sex"), col("age_band")]),
        [col("person_id")],
        [col("person_id")],
        JoinArgs::new(JoinType::Inner),
    ))
}

/// Long-term inpatients (docs/INDICATORS.md, `checkup_rate`): persons with 医科入院 or DPC
/// claims (kinds 1, 5) in ≥ 6 consecutive service months, the run overlapping the FY;
/// `stays` are the runs of [`super::claim_lines::long_stays`]. Column `person_id` (unique).
fn long_stay_persons(stays: &DataFrame, fy: FiscalYear) -> LazyFrame {
    let (mn0, mn1) = (fy.0 as i64 * 12 + 4, (fy.0 as i64 + 1) * 12 + 3);
    stays
        .clone()
        .lazy()
        .filter(
            col("last")
                .gt_eq(lit(mn0))
                .and(col("first").lt_eq(lit(mn1))),
        )
        .select([col("person_id")])
        .unique(None, UniqueKeepStrategy::Any)
}

/// Cells on the reference-date population of the run (`run.table`): `high_risk_rate`
/// (ハイリスク者割合, %) per rule, in the run's rule order (`num` the rule's flag), then
/// `certification_rate` (要介護認定率, %; `num` a certified care level 11–25 on the
/// reference date); `den` 1 per person.
fn run_cells(run: &RunResult) -> PolarsResult<Vec<Cell>> {
    let mut cells = Vec::new();
    let pop = run.table.clone().lazy();
    for r in &run.results {
        let flag = crate::evaluate::flag_column(&r.rule);
        let df = aggregate(pop.clone().with_columns([
            col(flag.as_str()).cast(DataType::Int32).alias("num"),
            lit(1i32).alias("den"),
        ]))
        .collect()?;
        cells.extend(to_cells(&df, IndicatorId::HighRiskRate, Some(&r.rule.id))?);
    }
    let certified = care_level_where(col("care_level"), CareLevel::is_certified);
    let df = aggregate(pop.clone().with_columns([
        certified.cast(DataType::Int32).alias("num"),
        lit(1i32).alias("den"),
    ]))
    .collect()?;
    cells.extend(to_cells(&df, IndicatorId::CertificationRate, None)?);
    Ok(cells)
}

/// Deaths in the FY: persons whose coverage was lost by death (`loss_reason` 1) with
/// `coverage_end` after the FY start and up to the day after the FY end. Columns
/// `person_id`, `coverage_end` (date).
fn deaths_in_fy(src: &Sources, fy: FiscalYear) -> PolarsResult<LazyFrame> {
    let (start, end) = (fy.start(), fy.end());
    Ok(src
        .persons()?
        .filter(
            col("loss_reason")
                .eq(lit(LossReason::Death.code()))
                .and(col("coverage_end").gt(date_lit(start)))
                .and(col("coverage_end").lt_eq(date_lit(end + chrono::Duration::days(1)))),
        )
        .select([col("person_id"), col("coverage_end")])
        .unique(None, UniqueKeepStrategy::Any))
}

/// Cells of `deaths` (deaths per person-year of exposure): `num` 1 for a person of
/// `deaths` ([`deaths_in_fy`]), `den` the insured days in the FY turned into person-years
/// (365.25 days; see the module docs).
fn death_cells(attrs: &DataFrame, deaths: &LazyFrame) -> PolarsResult<Vec<Cell>> {
    let a = attrs.clone().lazy();
    let df = aggregate(
        a.clone()
            .join(
                deaths
                    .clone()
                    .select([col("person_id"), lit(1i32).alias("num")]),
                [col("person_id")],
                [col("person_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                col("num").fill_null(lit(0)),
                col("exposure_days").alias("den"),
            ]),
    )
    .collect()?;
    Ok(per_year(to_cells(&df, IndicatorId::Deaths, None)?))
}

/// The cost indicators of medical claims and the claim kind codes each sums.
fn cost_kinds() -> [(IndicatorId, Vec<u8>); 5] {
    [
        (IndicatorId::MedicalCost, claim_kinds(|_| true)),
        (
            IndicatorId::MedicalCostInpatient,
            claim_kinds(ClaimKind::is_inpatient),
        ),
        (
            IndicatorId::MedicalCostOutpatient,
            claim_kinds(|k| k == ClaimKind::Outpatient),
        ),
        (
            IndicatorId::MedicalCostDental,
            claim_kinds(|k| k == ClaimKind::Dental),
        ),
        (
            IndicatorId::MedicalCostPharmacy,
            claim_kinds(|k| k == ClaimKind::Pharmacy),
        ),
    ]
}

/// Cells of the costs per insured person-year (yen; points or units × 10 over the FY's
/// service months; `den` person-years of exposure): the indicators of [`cost_kinds`]
/// (`medical_cost` all claim kinds, `medical_cost_inpatient` kinds 1, 5, `_outpatient` 2,
/// `_dental` 3, `_pharmacy` 4) from `spend` (yen per person of `attrs`, one vector per
/// indicator), then `care_cost` (care claims).
fn cost_cells(
    src: &Sources,
    fy: FiscalYear,
    attrs: &DataFrame,
    kinds: &[(IndicatorId, Vec<u8>)],
    spend: &[Vec<f64>],
) -> PolarsResult<Vec<Cell>> {
    let mut cells = Vec::new();
    let (m0, m1) = (fy.start(), first_of_month(fy.end()));
    let in_fy_months = |c: &str| col(c).gt_eq(date_lit(m0)).and(col(c).lt_eq(date_lit(m1)));
    let a = attrs.clone().lazy();
    let mut with_spend = attrs.clone();
    for ((id, _), v) in kinds.iter().zip(spend) {
        with_spend.with_column(Column::new(id.as_str().into(), v))?;
    }
    let with_spend = with_spend.lazy();
    for (id, _) in kinds {
        let df = aggregate_spenders(with_spend.clone().with_columns([
            col(id.as_str()).alias("num"),
            col("exposure_days").alias("den"),
        ]))
        .collect()?;
        cells.extend(per_year(to_cells(&df, *id, None)?));
    }
    let care = crate::collect_streaming(
        src.care_claims()?
            .filter(in_fy_months("service_month"))
            .group_by([col("person_id")])
            .agg([(col("units").cast(DataType::Float64).sum() * lit(10.0)).alias("num")]),
    )?;
    let df = aggregate_spenders(
        a.clone()
            .left_join(care.lazy(), col("person_id"), col("person_id"))
            .with_columns([
                col("num").fill_null(lit(0.0)),
                col("exposure_days").alias("den"),
            ]),
    )
    .collect()?;
    cells.extend(per_year(to_cells(&df, IndicatorId::CareCost, None)?));
    Ok(cells)
}

/// Cells of the drug indicators (docs/INDICATORS.md, indicator table), in this order:
/// `polypharmacy_rate` (多剤投薬患者割合) and `duplicate_rate` (重複投薬患者割合) (%, over
/// the persons with an oral prescription in the FY: `num` 1 when the person's monthly
/// count of distinct oral ingredients reaches 15 in some month, the count of rule R03;
/// resp. when one ingredient came from two or more institutions in a month on outpatient
/// prescriptions, as KDB counts 重複投薬), then `generic_share` (後発医薬品使用割合（数量）,
/// %: per person with a categorised drug line, `num` the quantity × days of generics and
/// `den` that of all categorised lines). The per-person measures are those of
/// [`super::claim_lines`].
fn drug_cells(attrs: &DataFrame, lines: &FyLines) -> PolarsResult<Vec<Cell>> {
    let mut cells = Vec::new();
    let oral = BooleanChunked::from_slice("oral".into(), &lines.oral);
    let takers = attrs.filter(&oral)?;
    let pick = |v: Vec<i32>| -> PolarsResult<Column> {
        Ok(Int32Chunked::from_vec("num".into(), v)
            .into_series()
            .filter(&oral)?
            .into_column())
    };
    let poly: Vec<i32> = lines
        .most_oral_drugs
        .iter()
        .map(|&k| i32::from(k >= 15))
        .collect();
    let dup: Vec<i32> = lines.duplicate.iter().map(|&d| i32::from(d)).collect();
    for (id, num) in [
        (IndicatorId::PolypharmacyRate, poly),
        (IndicatorId::DuplicateRate, dup),
    ] {
        let mut df = takers.clone();
        df.with_column(pick(num)?)?;
        let df = aggregate(df.lazy().with_columns([lit(1i32).alias("den")])).collect()?;
        cells.extend(to_cells(&df, id, None)?);
    }
    // 後発医薬品使用割合 (quantity × days), persons with a categorised line only.
    let has = BooleanChunked::from_iter_values(
        "generic".into(),
        lines.generic.iter().map(Option::is_some),
    );
    let (num, den): (Vec<f64>, Vec<f64>) = lines.generic.iter().flatten().copied().unzip();
    let mut df = attrs.filter(&has)?;
    df.with_column(Column::new("num".into(), num))?;
    df.with_column(Column::new("den".into(), den))?;
    let df = aggregate(df.lazy()).collect()?;
    cells.extend(to_cells(&df, IndicatorId::GenericShare, None)?);
    Ok(cells)
}

/// The first age of the life tables (expectancies at 75).
pub const LIFE_TABLE_START: i32 = 75;

/// An age band of the life tables, with its ages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifeBand {
    /// The band.
    pub band: AgeBand,
    /// First age of the band.
    pub lower: i32,
    /// First age of the next band; `None` for the last, open-ended band (95+).
    pub upper: Option<i32>,
}

impl LifeBand {
    /// Width in years (5), infinite for the open band.
    pub fn width(self) -> f64 {
        self.upper
            .map_or(f64::INFINITY, |u| f64::from(u - self.lower))
    }
}

/// The age bands of the life tables in order: the [`AgeBand`]s from
/// [`LIFE_TABLE_START`] (75-79 … 95+), each ending where the next starts, the last open.
pub fn life_bands() -> Vec<LifeBand> {
    let bands: Vec<AgeBand> = AgeBand::ALL
        .into_iter()
        .filter(|b| b.lower() >= LIFE_TABLE_START)
        .collect();
    bands
        .iter()
        .enumerate()
        .map(|(i, b)| LifeBand {
            band: *b,
            lower: b.lower(),
            upper: bands.get(i + 1).map(|n| n.lower()),
        })
        .collect()
}

/// Age used as the end of the open band when splitting exposure at birthdays.
const OPEN_BAND_END: i32 = 200;

/// The day `years` years after day number `birth` (days since 1970-01-01): the same month
/// and day, or the month's last day when it has no such day (29 February in a common year),
/// by [`add_months`], the rule polars' `offset_by("<n>y")` also follows.
fn birthday(birth: i32, years: i32) -> i32 {
    ittai_dataset::date_to_days(add_months(ittai_dataset::days_to_date(birth), 12 * years))
}

/// Person-years of exposure in each band of [`life_bands`] during the FY, by
/// municipality × sex: the insured time of each spell inside the FY, split at the
/// birthdays that start each band. Columns `municipality_code` (str), `sex` and one per
/// band label (f64, days; turned into years of 365.25 days by [`life_inputs`]).
///
/// The birthdays are computed once per distinct birth date in Rust (some ten thousand
/// dates), not per spell with polars' date offsets, which took most of the life-table
/// time (docs/PERFORMANCE.md).
fn band_exposure(src: &Sources, fy: FiscalYear) -> PolarsResult<DataFrame> {
    let (a, b) = (fy.start(), fy.end() + chrono::Duration::days(1));
    let (ad, bd) = (
        crate::features::days_lit_value(a),
        crate::features::days_lit_value(b),
    );
    let mut spells = spells_in_fy(src, fy)?
        .select([
            col("municipality_code"),
            col("sex"),
            col("birth_date"),
            col("coverage_start"),
            col("e"),
        ])
        .collect()?;
    // The birthdays at each band's bounds, as day numbers (i32 columns `birthday_<age>`).
    let bands = life_bands();
    let mut ages: Vec<i32> = bands
        .iter()
        .flat_map(|b| [b.lower, b.upper.unwrap_or(OPEN_BAND_END)])
        .collect();
    ages.sort_unstable();
    ages.dedup();
    let births = spells.column("birth_date")?.cast(&DataType::Int32)?;
    let mut memo: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut at: Vec<Vec<Option<i32>>> = vec![Vec::with_capacity(spells.height()); ages.len()];
    for birth in births.i32()?.iter() {
        let days = birth.map(|b| {
            &*memo
                .entry(b)
                .or_insert_with(|| ages.iter().map(|&y| birthday(b, y)).collect())
        });
        for (k, col) in at.iter_mut().enumerate() {
            col.push(days.map(|d| d[k]));
        }
    }
    let name = |age: i32| format!("birthday_{age}");
    for (age, days) in ages.iter().zip(at) {
        spells.with_column(Column::new(name(*age).into(), days))?;
    }
    // Exposure split at the birthdays that start each band.
    let mut exp_cols = Vec::new();
    for LifeBand { band, lower, upper } in bands {
        let from = col(name(lower));
        let to = col(name(upper.unwrap_or(OPEN_BAND_END)));
        let s = days(col("coverage_start")).clip_min(lit(ad));
        let e = days(col("e")).clip_max(lit(bd));
        let lo_d = when(s.clone().gt(from.clone())).then(s).otherwise(from);
        let hi_d = when(e.clone().lt(to.clone())).then(e).otherwise(to);
        exp_cols.push(
            when(hi_d.clone().gt(lo_d.clone()))
                .then((hi_d - lo_d).cast(DataType::Float64))
                .otherwise(lit(0.0))
                .sum()
                .alias(band.label()),
        );
    }
    spells
        .lazy()
        .group_by([col("municipality_code"), col("sex")])
        .agg(exp_cols)
        .collect()
}

/// Deaths of the FY by municipality × sex × age band (age on the day before coverage
/// ended), the persons' attributes taken from the spell that ended with the death.
/// Columns `municipality_code` (str), `sex`, `age_band` (str), `deaths` (count).
fn deaths_by_band(src: &Sources, deaths: LazyFrame) -> PolarsResult<DataFrame> {
    deaths
        .join(
            src.persons()?.select([
                col("person_id"),
                col("sex"),
                col("birth_date"),
                col("municipality_code"),
                col("coverage_end"),
            ]),
            [col("person_id"), col("coverage_end")],
            [col("person_id"), col("coverage_end")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_columns([age_band_expr(age_at_col(
            col("birth_date"),
            col("coverage_end").dt().offset_by(lit("-1d")),
        ))
        .alias("age_band")])
        .group_by([col("municipality_code"), col("sex"), col("age_band")])
        .agg([len().alias("deaths")])
        .collect()
}

/// The prevalence sample of the life tables: the reference-date population by
/// municipality × sex × age band. Columns `municipality_code` (str), `sex`, `age_band`
/// (str), `sample` (persons) and `dependent` (u32, persons certified 要介護2–5 on the
/// reference date).
fn prevalence_sample(population: &DataFrame) -> PolarsResult<DataFrame> {
    // The flag is computed per person before grouping (its `is_in` is then evaluated
    // outside an aggregation).
    let dependent = care_level_where(col("care_level"), CareLevel::is_care2_plus);
    population
        .clone()
        .lazy()
        .select([
            col("municipality_code"),
            col("sex"),
            col("age_band"),
            dependent.cast(DataType::UInt32).alias("is_dependent"),
        ])
        .group_by([col("municipality_code"), col("sex"), col("age_band")])
        .agg([
            len().alias("sample"),
            col("is_dependent").sum().alias("dependent"),
        ])
        .collect()
}

/// Life-table inputs of the 75+ bands by municipality × sex: person-years from
/// [`band_exposure`], deaths from [`deaths_by_band`] (`deaths`: [`deaths_in_fy`]), and
/// the prevalence sample and 要介護2–5 count from [`prevalence_sample`] (`population`:
/// the run's reference-date population); in key order (municipality, sex, band).
fn life_inputs(
    src: &Sources,
    fy: FiscalYear,
    attrs: &DataFrame,
    deaths: LazyFrame,
    population: &DataFrame,
) -> PolarsResult<Vec<LifeInput>> {
    let exposure = band_exposure(src, fy)?;
    let death_bands = deaths_by_band(src, deaths)?;
    let prevalence = prevalence_sample(population)?;
    let _ = attrs;
    let bands = life_bands();
    let life_band =
        |label: &str| parse_age_band(label).filter(|b| bands.iter().any(|x| x.band == *b));
    let mut map: BTreeMap<(String, Sex, AgeBand), LifeInput> = BTreeMap::new();
    let sex_of = |df: &DataFrame| -> PolarsResult<Vec<Option<Sex>>> {
        Ok(df
            .column("sex")?
            .cast(&DataType::UInt8)?
            .u8()?
            .iter()
            .map(|s| s.and_then(Sex::from_code))
            .collect())
    };
    {
        let m = exposure.column("municipality_code")?.str()?;
        let s = sex_of(&exposure)?;
        for b in &bands {
            let v = exposure.column(b.band.label())?.f64()?;
            for i in 0..exposure.height() {
                if let (Some(m), Some(s)) = (m.get(i), s[i]) {
                    entry(&mut map, m, s, b.band).person_years +=
                        v.get(i).unwrap_or(0.0) / DAYS_PER_YEAR;
                }
            }
        }
    }
    {
        let m = death_bands.column("municipality_code")?.str()?;
        let s = sex_of(&death_bands)?;
        let bnd = death_bands.column("age_band")?.str()?;
        let d = death_bands.column("deaths")?.cast(&DataType::Float64)?;
        let d = d.f64()?;
        for i in 0..death_bands.height() {
            if let (Some(m), Some(s), Some(b)) = (m.get(i), s[i], bnd.get(i).and_then(life_band)) {
                entry(&mut map, m, s, b).deaths += d.get(i).unwrap_or(0.0);
            }
        }
    }
    {
        let m = prevalence.column("municipality_code")?.str()?;
        let s = sex_of(&prevalence)?;
        let bnd = prevalence.column("age_band")?.str()?;
        let n = prevalence.column("sample")?.cast(&DataType::Float64)?;
        let dep = prevalence.column("dependent")?.cast(&DataType::Float64)?;
        let (n, dep) = (n.f64()?, dep.f64()?);
        for i in 0..prevalence.height() {
            if let (Some(m), Some(s), Some(b)) = (m.get(i), s[i], bnd.get(i).and_then(life_band)) {
                let e = entry(&mut map, m, s, b);
                e.sample += n.get(i).unwrap_or(0.0);
                e.dependent += dep.get(i).unwrap_or(0.0);
            }
        }
    }
    Ok(map.into_values().collect())
}

fn entry<'a>(
    map: &'a mut BTreeMap<(String, Sex, AgeBand), LifeInput>,
    m: &str,
    s: Sex,
    band: AgeBand,
) -> &'a mut LifeInput {
    map.entry((m.to_string(), s, band))
        .or_insert_with(|| LifeInput {
            municipality_code: Area::Municipality(m.to_string()),
            sex: s,
            age_band: band,
            deaths: 0.0,
            person_years: 0.0,
            sample: 0.0,
            dependent: 0.0,
        })
}

#[cfg(test)]
mod birthday_tests {
    use super::birthday;
    use chrono::NaiveDate;
    use ittai_dataset::{date_to_days, days_to_date};

    fn day(y: i32, m: u32, d: u32) -> i32 {
        date_to_days(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    /// A 75th birthday falls on the same month and day 75 years on.
    #[test]
    fn same_month_and_day() {
        assert_eq!(birthday(day(1949, 4, 1), 75), day(2024, 4, 1));
        assert_eq!(birthday(day(1949, 3, 31), 75), day(2024, 3, 31));
        assert_eq!(birthday(day(1960, 1, 1), 0), day(1960, 1, 1));
    }

    /// Born on 29 February: the birthday in a common year is 28 February (the month's last
    /// day), and 29 February again in a leap year.
    #[test]
    fn leap_day_births() {
        let b = day(1948, 2, 29);
        assert_eq!(birthday(b, 75), day(2023, 2, 28));
        assert_eq!(birthday(b, 76), day(2024, 2, 29));
        assert_eq!(
            days_to_date(birthday(b, 77)),
            NaiveDate::from_ymd_opt(2025, 2, 28).unwrap()
        );
    }

    /// Day numbers before 1970 are negative and still count whole years.
    #[test]
    fn before_the_epoch() {
        assert!(day(1930, 6, 15) < 0);
        assert_eq!(birthday(day(1930, 6, 15), 95), day(2025, 6, 15));
    }
}
