//! The workbench session (`ittai serve`): the person × FY feature table of one FY built once
//! for every rule of the job, then one rule re-evaluated on it as a nurse edits its
//! parameters. A threshold or an answer code only changes the rule's expression, so a change
//! costs one pass over the cached table; a parameter that needs another feature (another
//! window, a drug-class option such as エチゾラム) builds that feature once and keeps it.

use std::collections::BTreeSet;
use std::time::Instant;

use polars::prelude::*;

use crate::evaluate;
use crate::features::{self, Feature};
use crate::rules::Rule;
use crate::rules::text::TextContext;
use crate::{Frame, RuleResult, RunResult, RunSpec, Sources, collect_streaming};

/// The cached feature table of one FY.
#[derive(Debug, Clone)]
pub struct Session {
    frame: Frame,
    features: BTreeSet<Feature>,
    /// One row per insured person on the reference date; feature columns only (no flags).
    table: DataFrame,
    /// Seconds the last feature build took.
    build_seconds: f64,
}

fn wanted(rules: &[Rule]) -> BTreeSet<Feature> {
    let mut out = BTreeSet::new();
    for r in rules {
        features::collect(&r.condition, &mut out);
    }
    out
}

fn build(
    src: &Sources,
    spec: &RunSpec<'_>,
    wanted: &BTreeSet<Feature>,
) -> PolarsResult<(DataFrame, f64)> {
    let t = Instant::now();
    let (lf, _) = features::build(
        src,
        &spec.frame,
        wanted,
        spec.drug_classes,
        spec.disease_classes,
    )?;
    let table = collect_streaming(lf)?;
    Ok((table, t.elapsed().as_secs_f64()))
}

impl Session {
    /// Builds the feature table of `spec.frame` for every rule of `spec`.
    ///
    /// # Errors
    /// Polars errors.
    pub fn open(src: &Sources, spec: &RunSpec<'_>) -> PolarsResult<Session> {
        let features = wanted(spec.rules);
        let (table, build_seconds) = build(src, spec, &features)?;
        Ok(Session {
            frame: spec.frame,
            features,
            table,
            build_seconds,
        })
    }

    /// The FY and reference date of the session.
    pub fn frame(&self) -> Frame {
        self.frame
    }

    /// Persons insured on the reference date (the rows of the feature table).
    pub fn population(&self) -> u64 {
        self.table.height() as u64
    }

    /// Seconds the last feature build took (the first open, or a rebuild for a new feature).
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// Makes sure the features `rule` needs are in the table (building the table again with
    /// the missing ones added when needed).
    fn ensure(
        &mut self,
        src: &Sources,
        spec: &RunSpec<'_>,
        rule: &Rule,
    ) -> PolarsResult<BTreeSet<Feature>> {
        let need = wanted(std::slice::from_ref(rule));
        if !need.is_subset(&self.features) {
            let all: BTreeSet<Feature> = self.features.union(&need).cloned().collect();
            let (table, secs) = build(
                src,
                &RunSpec {
                    frame: self.frame,
                    ..*spec
                },
                &all,
            )?;
            self.table = table;
            self.features = all;
            self.build_seconds = secs;
        }
        Ok(need)
    }

    fn evaluate(
        &self,
        spec: &RunSpec<'_>,
        rule: &Rule,
    ) -> PolarsResult<(DataFrame, Vec<RuleResult>)> {
        let ctx = TextContext {
            drug_classes: spec.drug_classes,
            disease_classes: spec.disease_classes,
            coverage_guard: true,
        };
        evaluate::evaluate(self.table.clone(), std::slice::from_ref(rule), &ctx)
    }

    /// The result of `rule` (listed count and attrition) without the list's evidence names:
    /// what the conditions page shows as the nurse edits.
    ///
    /// # Errors
    /// Polars errors.
    pub fn count(
        &mut self,
        src: &Sources,
        spec: &RunSpec<'_>,
        rule: &Rule,
    ) -> PolarsResult<RuleResult> {
        self.ensure(src, spec, rule)?;
        let (_, mut results) = self.evaluate(spec, rule)?;
        Ok(results.remove(0))
    }

    /// `rule` applied on the cached features, as [`crate::run`] would give it for this FY with
    /// only this rule: the table with `flag_<id>` and `n_rules` and the evidence names, and
    /// the rule's result.
    ///
    /// # Errors
    /// Polars errors.
    pub fn apply(
        &mut self,
        src: &Sources,
        spec: &RunSpec<'_>,
        rule: &Rule,
    ) -> PolarsResult<RunResult> {
        let t = Instant::now();
        let need = self.ensure(src, spec, rule)?;
        let population = self.population();
        let (table, results) = self.evaluate(spec, rule)?;
        let table = features::add_name_evidence(src, table, &need)?;
        Ok(RunResult {
            frame: self.frame,
            table,
            results,
            population,
            timings: vec![("rules".into(), t.elapsed().as_secs_f64())],
        })
    }
}
