//! The analytics engine of ittai, and the only crate that uses polars.
//!
//! Data flow: [`Job::open`] (rules loaded, dataset validated, [`Sources`]: canonical
//! Parquet as lazy frames, codes resolved from the masters) → [`build_features`] (the
//! person × FY feature table, one aggregation per source table) → rule flags and
//! attrition ([`run`] gives a [`RunResult`]) → [`target_list`] and [`combined`] → [`to_table`]
//! (tables for CSV/xlsx with Japanese labels). Rules are data ([`rules`]: the TOML
//! format, its Japanese text); the common indicators are in [`indicators`]; the
//! calibration profile of a dataset is [`profile`]. The rule semantics are described for
//! people in `docs/reference/rules.md` and `docs/RULES.md`.
//!
//! # Example
//!
//! Apply R03 (多剤) with a threshold of 20 to the bundled sample data for FY2024:
//!
//! ```no_run
//! use ittai_engine::{Frame, Job, JobOptions, rules::LoadOptions};
//! use ittai_model::FiscalYear;
//!
//! let mut rules = LoadOptions { only: vec!["R03".into()], ..LoadOptions::default() };
//! rules.set.entry("R03".into()).or_default().insert("threshold".into(), "20".into());
//! let opts = JobOptions {
//!     data: "sample_data".into(),
//!     out: "out".into(),
//!     rules,
//!     revalidate: false,
//!     as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
//!     masters: Default::default(),
//! };
//! let job = Job::open(&opts, &mut |_stage, _table, _rows| {})?;
//! let fy = FiscalYear(2024);
//! let result = ittai_engine::run(&job.sources, &job.spec(Frame { fy, reference: fy.end() }))?;
//! println!("{} of {} insured listed", result.results[0].listed, result.population);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claim_rows;
mod display;
mod evaluate;
mod features;
pub mod indicators;
mod job;
mod lifetable;
mod lines;
pub mod person;
mod profile;
pub mod programmes;
pub mod rules;
mod source;
pub mod sql;
pub mod workbench;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use ittai_model::classes::{DiseaseClass, DrugClass};
use polars::prelude::*;

pub use display::{default_headers, to_table, write_parquet, write_table_parquet};
pub use evaluate::{AttritionStep, RuleResult, combined, evidence_headers, steps, target_list};
pub use features::{Feature, Frame, build as build_features, collect as wanted_features};
pub use job::{Job, JobError, JobOptions};
pub use profile::{ProfileRow, profile};
pub use source::Sources;

/// Everything a run needs besides the data.
#[derive(Debug, Clone, Copy)]
pub struct RunSpec<'a> {
    /// Extraction FY and reference date.
    pub frame: Frame,
    /// Rules to apply.
    pub rules: &'a [rules::Rule],
    /// Drug classes in force.
    pub drug_classes: &'a BTreeMap<String, DrugClass>,
    /// Disease classes in force.
    pub disease_classes: &'a BTreeMap<String, DiseaseClass>,
}

/// The result of applying the rules for one FY.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The FY and reference date the rules were applied for.
    pub frame: Frame,
    /// Feature table with `flag_<id>` and `n_rules` (one row per insured person).
    pub table: DataFrame,
    /// Per-rule results in rule order.
    pub results: Vec<RuleResult>,
    /// Persons insured on the reference date.
    pub population: u64,
    /// Stage timings in seconds: features, rules, evidence, then each feature group.
    pub timings: Vec<(String, f64)>,
}

impl RunResult {
    /// Person ids listed by rule `id`, sorted.
    ///
    /// # Errors
    /// Polars errors; an unknown rule id gives an empty list.
    pub fn listed(&self, id: &str) -> PolarsResult<Vec<String>> {
        let flag = format!("flag_{id}");
        if self.table.column(&flag).is_err() {
            return Ok(Vec::new());
        }
        let df = self
            .table
            .clone()
            .lazy()
            .filter(col(flag.as_str()))
            .select([col("person_id")])
            .sort(["person_id"], Default::default())
            .collect()?;
        Ok(df
            .column("person_id")?
            .str()?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect())
    }

    /// The result of rule `id`.
    pub fn rule(&self, id: &str) -> Option<&RuleResult> {
        self.results.iter().find(|r| r.rule.id == id)
    }
}

/// Builds the feature table and evaluates the rules.
///
/// # Errors
/// Polars errors (I/O, schema).
pub fn run(src: &Sources, spec: &RunSpec<'_>) -> PolarsResult<RunResult> {
    Runs::prepare(src, spec, &[spec.frame])?.run(0)
}

/// The rules of one rule set for several frames (the indicators need every FY), each
/// claim file read once for all of them: [`Runs::prepare`] does the passes over the claim
/// files, [`Runs::run`] then builds one frame's feature table and applies the rules, so
/// that only one feature table need be alive at a time. `run(src, spec)` is
/// `Runs::prepare(src, spec, &[spec.frame])?.run(0)`.
pub struct Runs<'a> {
    src: &'a Sources,
    spec: RunSpec<'a>,
    wanted: BTreeSet<Feature>,
    lines: features::Lines,
    /// Seconds of the passes over the claim files (given to the first frame run).
    pass_s: f64,
}

impl<'a> Runs<'a> {
    /// The passes over the claim files for the rules of `spec` (its frame is not used) in
    /// each of `frames`.
    ///
    /// # Errors
    /// Polars errors (I/O, schema).
    pub fn prepare(src: &'a Sources, spec: &RunSpec<'a>, frames: &[Frame]) -> PolarsResult<Self> {
        let mut wanted = BTreeSet::new();
        for r in spec.rules {
            features::collect(&r.condition, &mut wanted);
        }
        let t0 = Instant::now();
        let lines = features::Lines::compute(
            src,
            frames,
            &wanted,
            (spec.drug_classes, spec.disease_classes),
        )?;
        Ok(Self {
            src,
            spec: *spec,
            wanted,
            lines,
            pass_s: t0.elapsed().as_secs_f64(),
        })
    }

    /// The frames, in the order given to [`Runs::prepare`].
    pub fn frames(&self) -> &[Frame] {
        self.lines.frames()
    }

    /// The result of frame `i` of [`Runs::frames`]. Its `features` time includes the
    /// passes over the claim files when it is the first frame run.
    ///
    /// # Errors
    /// Polars errors (I/O, schema); a frame out of range or run before.
    pub fn run(&mut self, i: usize) -> PolarsResult<RunResult> {
        let frame = *self
            .frames()
            .get(i)
            .ok_or_else(|| polars_err!(ComputeError: "no frame {i}"))?;
        let spec = RunSpec { frame, ..self.spec };
        let t0 = Instant::now();
        let (lf, feature_timings) = self.lines.build(self.src, i, &self.wanted)?;
        let table = collect_streaming(lf)?;
        let t_features = t0.elapsed().as_secs_f64() + std::mem::take(&mut self.pass_s);
        let ctx = rules::text::TextContext {
            drug_classes: spec.drug_classes,
            disease_classes: spec.disease_classes,
            coverage_guard: true,
        };
        let t1 = Instant::now();
        let population = table.height() as u64;
        let (table, results) = evaluate::evaluate(table, spec.rules, &ctx)?;
        let t_rules = t1.elapsed().as_secs_f64();
        let t2 = Instant::now();
        let table = features::add_name_evidence(self.src, table, &self.wanted)?;
        let t_evidence = t2.elapsed().as_secs_f64();
        let mut timings = vec![
            ("features".to_string(), t_features),
            ("rules".to_string(), t_rules),
            ("evidence".to_string(), t_evidence),
        ];
        timings.extend(feature_timings);
        Ok(RunResult {
            frame,
            table,
            results,
            population,
            timings,
        })
    }
}

/// Collects a lazy frame with polars' streaming engine, which processes the scans in
/// batches and keeps memory bounded on large datasets.
///
/// # Errors
/// Polars errors.
pub fn collect_streaming(lf: LazyFrame) -> PolarsResult<DataFrame> {
    // A single (non-sink) query always yields one frame.
    Ok(lf.collect_with_engine(Engine::Streaming)?.unwrap_single())
}
