//! Programme evaluation (個別事業の評価, docs/reference/evaluation.md): from the support
//! records (`interventions`) and the lists of the previous FY to targets, contacts and
//! supported persons per programme × FY × municipality, and the outcomes of the supported
//! beside the targets not supported (standardised by sex × age band, 95 % CI of the
//! difference).
//!
//! Data flow: lists of FY t − 1 ([`evaluate`] runs the rules, or [`evaluate_with_lists`]
//! takes them from a run that has them) → `targets` (targets, contacts, index dates) →
//! `events` (claim aggregates around each index month with polars; checkups,
//! questionnaires and certifications of the target persons) → `outcomes` (per-person
//! values) → `summary` (rows, comparison, suppression) → [`write_rows`] /
//! [`read_rows`] (`evaluation.parquet`).

mod claim_months;
mod events;
mod outcomes;
mod summary;
mod targets;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use ittai_dataset::atomic::Visibility;
use ittai_model::evaluation::{EvaluationRow, Group, Measure, Period};
use ittai_model::indicators::Area;
use ittai_model::support::{Programme, Referral};
use ittai_model::time::FiscalYear;
use polars::prelude::*;

pub use summary::{Comparison, compare};
pub use targets::Lists;

use self::targets::{People, Record, Spell, Target};
use crate::features::date_lit;
use crate::{Frame, RunSpec, Sources};

/// The file of the exact evaluation rows (owner-only).
pub const ROWS_FILE: &str = "evaluation.parquet";

/// What [`evaluate`] produces.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Rows in output order (FY, programme, area, measure, group, period); exact values,
    /// with `suppressed` set for the published tables.
    pub rows: Vec<EvaluationRow>,
    /// Stage timings in seconds (lists, targets, claims, records, summary).
    pub timings: Vec<(String, f64)>,
}

/// Whether the dataset in `src` has support records.
pub fn has_interventions(src: &Sources) -> bool {
    src.dir().join("interventions.parquet").is_file()
}

/// The FYs that can be evaluated: FY t with a support record, whose previous FY has medical
/// claims (to draw the lists).
///
/// # Errors
/// Polars errors.
pub fn evaluation_years(src: &Sources) -> PolarsResult<Vec<FiscalYear>> {
    if !has_interventions(src) {
        return Ok(Vec::new());
    }
    let claim_fys: BTreeSet<i32> = crate::indicators::fiscal_years(src)?
        .into_iter()
        .map(|f| f.0)
        .collect();
    let dates = src
        .scan("interventions")?
        .select([col("contact_date")])
        .collect()?;
    let fys: BTreeSet<i32> = dates
        .column("contact_date")?
        .cast(&DataType::Int32)?
        .i32()?
        .into_no_null_iter()
        .map(|d| FiscalYear::of(ittai_dataset::days_to_date(d)).0)
        .filter(|t| claim_fys.contains(&(t - 1)))
        .collect();
    Ok(fys.into_iter().map(FiscalYear).collect())
}

/// The lists of FY t − 1 for every FY t of `fys`: the rules of `spec` applied with the last
/// day of FY t − 1 as reference date.
///
/// # Errors
/// Polars errors.
pub fn lists_for(src: &Sources, spec: &RunSpec<'_>, fys: &[FiscalYear]) -> PolarsResult<Lists> {
    let mut lists = Lists::new();
    let frames: Vec<Frame> = fys
        .iter()
        .map(|t| {
            let fy = FiscalYear(t.0 - 1);
            Frame {
                fy,
                reference: fy.end(),
            }
        })
        .collect();
    if frames.is_empty() {
        return Ok(lists);
    }
    // The claim files read once for every FY's rules.
    let mut runs = crate::Runs::prepare(src, spec, &frames)?;
    for (i, frame) in frames.iter().enumerate() {
        let run = runs.run(i)?;
        lists.insert(frame.fy.0, listed_by_rule(&run)?);
    }
    Ok(lists)
}

/// Person ids listed by each rule of a run.
///
/// # Errors
/// Polars errors.
pub fn listed_by_rule(run: &crate::RunResult) -> PolarsResult<BTreeMap<String, HashSet<String>>> {
    let mut out = BTreeMap::new();
    for r in &run.results {
        out.insert(
            r.rule.id.clone(),
            run.listed(&r.rule.id)?.into_iter().collect(),
        );
    }
    Ok(out)
}

/// Evaluates every FY of `fys` (FY t = the FY of the support), drawing the lists of FY t − 1
/// with the rules of `spec` (its frame is not used). `Ok(None)` when the dataset has no
/// `interventions` table.
///
/// # Errors
/// Polars errors.
pub fn evaluate(
    src: &Sources,
    spec: &RunSpec<'_>,
    fys: &[FiscalYear],
) -> PolarsResult<Option<Evaluation>> {
    if !has_interventions(src) {
        return Ok(None);
    }
    let t0 = std::time::Instant::now();
    let lists = lists_for(src, spec, fys)?;
    let secs = t0.elapsed().as_secs_f64();
    let mut e = evaluate_with_lists(src, spec, fys, &lists)?;
    if let Some(e) = e.as_mut() {
        e.timings.insert(0, ("lists".into(), secs));
    }
    Ok(e)
}

fn load_records(src: &Sources, people: &mut People) -> PolarsResult<Vec<Record>> {
    let df = src
        .scan("interventions")?
        .select([
            col("person_id"),
            col("programme"),
            col("rule_id"),
            col("contact_date").cast(DataType::Int32),
            col("reached"),
            col("needs_referral"),
            col("referred_to"),
        ])
        .collect()?;
    let pid = df.column("person_id")?.str()?.clone();
    let prog = df.column("programme")?.str()?.clone();
    let rule = df.column("rule_id")?.str()?.clone();
    let date = df.column("contact_date")?.i32()?.clone();
    let reached = df.column("reached")?.bool()?.clone();
    let needs = df.column("needs_referral")?.bool()?.clone();
    let referred = df.column("referred_to")?.str()?.clone();
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let (Some(id), Some(p), Some(d)) = (
            pid.get(i),
            prog.get(i).and_then(Programme::parse),
            date.get(i),
        ) else {
            continue; // the validator rejects such rows
        };
        out.push(Record {
            person: people.intern(id),
            programme: p,
            rule_id: rule.get(i).map(str::to_string),
            date: ittai_dataset::days_to_date(d),
            reached: reached.get(i).unwrap_or(false),
            needs_referral: needs.get(i).unwrap_or(false),
            referred_to: referred.get(i).and_then(Referral::parse),
        });
    }
    Ok(out)
}

fn load_spells(src: &Sources, people: &mut People) -> PolarsResult<()> {
    let ids: Vec<&str> = people.ids.iter().map(String::as_str).collect();
    let keep = DataFrame::new_infer_height(vec![Column::new("person_id".into(), ids)])?.lazy();
    let df = src
        .persons()?
        .join(
            keep,
            [col("person_id")],
            [col("person_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .select([
            col("person_id"),
            col("sex"),
            col("birth_date").cast(DataType::Int32),
            col("municipality_code"),
            col("coverage_start").cast(DataType::Int32),
            col("coverage_end").cast(DataType::Int32),
        ])
        .sort(["person_id", "coverage_start"], Default::default())
        .collect()?;
    let pid = df.column("person_id")?.str()?.clone();
    let sex = df.column("sex")?.cast(&DataType::UInt8)?.u8()?.clone();
    let birth = df.column("birth_date")?.i32()?.clone();
    let muni = df.column("municipality_code")?.str()?.clone();
    let start = df.column("coverage_start")?.i32()?.clone();
    let end = df.column("coverage_end")?.i32()?.clone();
    for i in 0..df.height() {
        let (Some(id), Some(b), Some(s)) = (pid.get(i), birth.get(i), start.get(i)) else {
            continue;
        };
        let Some(&p) = people.index.get(id) else {
            continue;
        };
        people.spells[p as usize].push(Spell {
            start: ittai_dataset::days_to_date(s),
            end: end.get(i).map(ittai_dataset::days_to_date),
            municipality: muni.get(i).unwrap_or_default().to_string(),
            sex: sex.get(i).unwrap_or(0),
            birth: ittai_dataset::days_to_date(b),
        });
    }
    Ok(())
}

/// The last day of the month of the latest medical claim.
fn data_end(src: &Sources) -> PolarsResult<Option<NaiveDate>> {
    let df = src
        .medical_claims()?
        .select([col("service_month").max().cast(DataType::Int32)])
        .collect()?;
    Ok(df.column("service_month")?.i32()?.get(0).map(|d| {
        let m = ittai_dataset::days_to_date(d);
        ittai_model::time::add_months(m, 1)
            .pred_opt()
            .expect("day before")
    }))
}

/// Municipalities with insured persons on April 1 of each FY, and those with a dental
/// checkup of their persons (the municipality of the spell covering the exam date).
fn municipality_sets(
    src: &Sources,
    fys: &[FiscalYear],
) -> PolarsResult<(
    BTreeMap<i32, BTreeSet<String>>,
    BTreeMap<i32, BTreeSet<String>>,
)> {
    let mut munis = BTreeMap::new();
    let mut dental = BTreeMap::new();
    let strings = |df: &DataFrame| -> PolarsResult<BTreeSet<String>> {
        Ok(df
            .column("municipality_code")?
            .str()?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect())
    };
    for t in fys {
        let a = date_lit(t.start());
        let df = src
            .persons()?
            .filter(
                col("coverage_start")
                    .lt_eq(a.clone())
                    .and(col("coverage_end").is_null().or(col("coverage_end").gt(a))),
            )
            .select([col("municipality_code")])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        munis.insert(t.0, strings(&df)?);
        let df = src
            .dental_checkups()?
            .filter(
                col("exam_date")
                    .gt_eq(date_lit(t.start()))
                    .and(col("exam_date").lt_eq(date_lit(t.end()))),
            )
            .select([col("person_id"), col("exam_date")])
            .join(
                src.persons()?.select([
                    col("person_id"),
                    col("municipality_code"),
                    col("coverage_start"),
                    col("coverage_end"),
                ]),
                [col("person_id")],
                [col("person_id")],
                JoinArgs::new(JoinType::Inner),
            )
            .filter(
                col("coverage_start").lt_eq(col("exam_date")).and(
                    col("coverage_end")
                        .is_null()
                        .or(col("coverage_end").gt(col("exam_date"))),
                ),
            )
            .select([col("municipality_code")])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        dental.insert(t.0, strings(&df)?);
    }
    Ok((munis, dental))
}

/// As [`evaluate`], with the lists of FY t − 1 given (`lists[t − 1][rule] = person ids`;
/// `ittai run` passes those of its indicator runs so the rules are not applied twice).
///
/// # Errors
/// Polars errors.
pub fn evaluate_with_lists(
    src: &Sources,
    spec: &RunSpec<'_>,
    fys: &[FiscalYear],
    lists: &Lists,
) -> PolarsResult<Option<Evaluation>> {
    if !has_interventions(src) {
        return Ok(None);
    }
    let mut timings = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &str, timings: &mut Vec<(String, f64)>| {
        timings.push((name.to_string(), clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    let mut people = People::default();
    let records = load_records(src, &mut people)?;
    intern_listed(&mut people, lists, fys);
    load_spells(src, &mut people)?;
    let Some(data_end) = data_end(src)? else {
        return Ok(Some(Evaluation {
            rows: Vec::new(),
            timings,
        }));
    };
    let mut outside = BTreeMap::new();
    let mut all: Vec<Target> = Vec::new();
    let wanted: BTreeSet<i32> = fys.iter().map(|f| f.0).collect();
    for t in fys {
        all.extend(targets::targets_of_fy(
            *t,
            lists,
            &people,
            &records,
            &mut outside,
        ));
    }
    let mut running: BTreeMap<i32, BTreeSet<(Programme, String)>> = BTreeMap::new();
    for r in &records {
        let fy = FiscalYear::of(r.date);
        if !wanted.contains(&fy.0) {
            continue;
        }
        if let Some(s) = people
            .spell_on(r.person, r.date)
            .or_else(|| people.spell_on(r.person, fy.start()))
        {
            running
                .entry(fy.0)
                .or_default()
                .insert((r.programme, s.municipality.clone()));
        }
    }
    lap("targets", &mut timings);
    let claims = events::claim_values(src, &all, &people, spec.drug_classes, spec.disease_classes)?;
    lap("claims", &mut timings);
    let persons: Vec<u32> = all
        .iter()
        .filter(|t| t.index.is_some())
        .map(|t| t.person)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let recs = events::person_records(src, &people, &persons)?;
    lap("records", &mut timings);
    let ctx = outcomes::Ctx {
        people: &people,
        data_end,
    };
    let values: Vec<Vec<outcomes::Value>> = all
        .iter()
        .zip(&claims)
        .map(|(t, c)| outcomes::values(&ctx, t, c, recs.get(&t.person)))
        .collect();
    let mut rows = summary::all_rows(&all, &values, &outside);
    let (munis, dental) = municipality_sets(src, fys)?;
    rows.extend(summary::municipality_rows(&munis, &running, &dental));
    summary::suppress(&mut rows);
    sort_rows(&mut rows);
    lap("summary", &mut timings);
    Ok(Some(Evaluation { rows, timings }))
}

/// Interns the persons listed for the FYs before `fys` (`lists[t − 1]`), in the order of
/// their ids. The lists are hash sets, whose order changes from one run to the next; the
/// order of the persons is the order of the targets and so of the evaluation's
/// floating-point sums, which must not change between runs.
fn intern_listed(people: &mut People, lists: &Lists, fys: &[FiscalYear]) {
    for t in fys {
        if let Some(by_rule) = lists.get(&(t.0 - 1)) {
            let ids: BTreeSet<&String> = by_rule.values().flatten().collect();
            for id in ids {
                people.intern(id);
            }
        }
    }
}

fn sort_rows(rows: &mut [EvaluationRow]) {
    rows.sort_by(|a, b| {
        let k = |r: &EvaluationRow| {
            (
                r.fy,
                r.programme.map(|p| p as u8).unwrap_or(u8::MAX),
                r.municipality_code.clone(),
                r.measure,
                r.group,
                r.period,
            )
        };
        k(a).cmp(&k(b))
    });
}

/// The rows as a DataFrame (the columns of `evaluation.parquet`): `fy` (i32), `programme`
/// (str, null for union counts of no programme), `municipality_code` (str, `union`),
/// `measure`, `group`, `period` (str codes), `numerator`, `denominator`, `value`,
/// `standardised`, `ci_low`, `ci_high` (f64), `unit` (str), `suppressed` (bool).
///
/// # Errors
/// Polars errors.
pub fn to_dataframe(rows: &[EvaluationRow]) -> PolarsResult<DataFrame> {
    let f = |g: &dyn Fn(&EvaluationRow) -> Option<f64>| rows.iter().map(g).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new("fy".into(), rows.iter().map(|r| r.fy).collect::<Vec<_>>()),
        Column::new(
            "programme".into(),
            rows.iter()
                .map(|r| r.programme.map(|p| p.code()))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "municipality_code".into(),
            rows.iter()
                .map(|r| r.municipality_code.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "measure".into(),
            rows.iter().map(|r| r.measure.code()).collect::<Vec<_>>(),
        ),
        Column::new(
            "group".into(),
            rows.iter().map(|r| r.group.code()).collect::<Vec<_>>(),
        ),
        Column::new(
            "period".into(),
            rows.iter().map(|r| r.period.code()).collect::<Vec<_>>(),
        ),
        Column::new("numerator".into(), f(&|r| r.numerator)),
        Column::new("denominator".into(), f(&|r| r.denominator)),
        Column::new("value".into(), f(&|r| r.value)),
        Column::new("standardised".into(), f(&|r| r.standardised)),
        Column::new("ci_low".into(), f(&|r| r.ci_low)),
        Column::new("ci_high".into(), f(&|r| r.ci_high)),
        Column::new(
            "unit".into(),
            rows.iter()
                .map(|r| r.measure.unit().code())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "suppressed".into(),
            rows.iter().map(|r| r.suppressed).collect::<Vec<_>>(),
        ),
    ])
}

/// Writes `evaluation.parquet` into `dir` (owner-only, atomically); returns its path.
///
/// # Errors
/// Polars or I/O errors.
pub fn write_rows(rows: &[EvaluationRow], dir: &Path) -> PolarsResult<std::path::PathBuf> {
    let p = dir.join(ROWS_FILE);
    crate::write_parquet(&mut to_dataframe(rows)?, &p, Visibility::Private)?;
    Ok(p)
}

/// Reads `evaluation.parquet` from `dir`; an empty list when the file does not exist.
///
/// # Errors
/// Polars errors, or a value that is not a known code.
pub fn read_rows(dir: &Path) -> PolarsResult<Vec<EvaluationRow>> {
    let p = dir.join(ROWS_FILE);
    if !p.is_file() {
        return Ok(Vec::new());
    }
    let df = LazyFrame::scan_parquet(
        PlRefPath::new(p.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )?
    .collect()?;
    let s = |c: &str| -> PolarsResult<StringChunked> { Ok(df.column(c)?.str()?.clone()) };
    let f = |c: &str| -> PolarsResult<Float64Chunked> { Ok(df.column(c)?.f64()?.clone()) };
    let fy = df.column("fy")?.i32()?.clone();
    let (prog, area, measure, group, period) = (
        s("programme")?,
        s("municipality_code")?,
        s("measure")?,
        s("group")?,
        s("period")?,
    );
    let (num, den, val, std, lo, hi) = (
        f("numerator")?,
        f("denominator")?,
        f("value")?,
        f("standardised")?,
        f("ci_low")?,
        f("ci_high")?,
    );
    let sup = df.column("suppressed")?.bool()?.clone();
    let bad = |what: &str, v: Option<&str>| polars_err!(ComputeError: "{}: unknown {what} {:?}", p.display(), v);
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        out.push(EvaluationRow {
            fy: fy.get(i).unwrap_or_default(),
            programme: match prog.get(i) {
                None => None,
                Some(x) => Some(Programme::parse(x).ok_or_else(|| bad("programme", Some(x)))?),
            },
            municipality_code: Area::parse(area.get(i).unwrap_or_default()),
            measure: measure
                .get(i)
                .and_then(Measure::parse)
                .ok_or_else(|| bad("measure", measure.get(i)))?,
            group: group
                .get(i)
                .and_then(Group::parse)
                .ok_or_else(|| bad("group", group.get(i)))?,
            period: period
                .get(i)
                .and_then(Period::parse)
                .ok_or_else(|| bad("period", period.get(i)))?,
            numerator: num.get(i),
            denominator: den.get(i),
            value: val.get(i),
            standardised: std.get(i),
            ci_low: lo.get(i),
            ci_high: hi.get(i),
            suppressed: sup.get(i).unwrap_or(false),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_persons_are_interned_in_id_order() {
        // Two hash sets of the same ids iterate in different orders; the persons must not.
        let ids: Vec<String> = (0..200).map(|i| format!("p{i:04}")).collect();
        let mut first: Lists = BTreeMap::new();
        let mut second: Lists = BTreeMap::new();
        let (a, b) = ids.split_at(120);
        first
            .entry(2023)
            .or_default()
            .insert("R01".into(), a.iter().cloned().collect());
        first
            .entry(2023)
            .or_default()
            .insert("R03".into(), b.iter().cloned().collect());
        second
            .entry(2023)
            .or_default()
            .insert("R03".into(), ids.iter().rev().cloned().collect());
        for lists in [&first, &second] {
            let mut people = People::default();
            people.intern("p9999"); // a support record's person comes first
            intern_listed(&mut people, lists, &[FiscalYear(2024)]);
            let mut want = vec!["p9999".to_string()];
            want.extend(ids.iter().cloned());
            assert_eq!(people.ids, want);
        }
    }
}
