//! Rules as filters over the feature table: flags, attrition and target lists.
//!
//! A rule's steps are the conjuncts of its top-level `all` (or the whole condition when it
//! is not a conjunction). Attrition (docs/reference/rules.md#target-list): insured on the reference date → after each
//! step → listed, with `insufficient_coverage` = persons who pass the previous steps and
//! would pass this one but for the coverage guard (docs/reference/time.md).

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::features::Feature;
use crate::rules::file::{Node, Op, Rule};
use crate::rules::text::{TextContext, describe};

fn compare(c: Expr, op: Op, value: &[f64]) -> Expr {
    let c = c.cast(DataType::Float64);
    let v = value.first().copied().unwrap_or(f64::NAN);
    let e = match op {
        Op::Lt => c.lt(lit(v)),
        Op::Le => c.lt_eq(lit(v)),
        Op::Gt => c.gt(lit(v)),
        Op::Ge => c.gt_eq(lit(v)),
        Op::Eq => c.eq(lit(v)),
        Op::Ne => c.neq(lit(v)),
        Op::In => value.iter().fold(lit(false), |acc, x| {
            acc.or(c.clone().eq(lit(*x)).fill_null(lit(false)))
        }),
    };
    e.fill_null(lit(false))
}

/// The expression of a node. `strict` applies the coverage guard to absence conditions
/// (when `guard` is on); the relaxed form ignores coverage.
pub fn node_expr(node: &Node, guard: bool, strict: bool) -> Expr {
    match node {
        Node::All(v) => v
            .iter()
            .fold(lit(true), |acc, n| acc.and(node_expr(n, guard, strict))),
        Node::Any(v) => v
            .iter()
            .fold(lit(false), |acc, n| acc.or(node_expr(n, guard, strict))),
        Node::Not(inner) => {
            let e = node_expr(inner, guard, strict).not();
            match inner.as_ref() {
                Node::Exists { window, .. } if guard && strict => {
                    e.and(col(Feature::Covered(*window).column().as_str()).fill_null(lit(false)))
                }
                _ => e,
            }
        }
        Node::Checkup { field, op, value } => compare(col(field.as_str()), *op, value),
        Node::Questionnaire { item, op, value } => {
            compare(col(format!("q{item:02}").as_str()), *op, value)
        }
        Node::Age { op, value } => compare(col("age"), *op, value),
        Node::Exists { event, window } => {
            col(Feature::Exists(event.clone(), *window).column().as_str()).fill_null(lit(false))
        }
        Node::MonthlyDrugs {
            routes,
            unit,
            window,
            op,
            value,
        } => {
            let c = Feature::MonthlyDrugs {
                routes: routes.clone(),
                unit: *unit,
                window: *window,
            }
            .column();
            compare(col(c.as_str()).fill_null(lit(0)), *op, &[*value])
        }
    }
}

/// The attrition steps of a rule: the conjuncts of a top-level `all` (nested `all`s
/// flattened), or the whole condition.
pub fn steps(node: &Node) -> Vec<&Node> {
    match node {
        Node::All(v) => v.iter().flat_map(steps).collect(),
        other => vec![other],
    }
}

/// Features a rule uses, in the order they first appear (for evidence columns).
pub fn features_in_order(node: &Node) -> Vec<Feature> {
    fn walk(n: &Node, out: &mut Vec<Feature>) {
        let mut set = BTreeSet::new();
        match n {
            Node::All(v) | Node::Any(v) => {
                for c in v {
                    walk(c, out);
                }
                return;
            }
            Node::Not(inner) => {
                walk(inner, out);
                return;
            }
            other => crate::features::collect(other, &mut set),
        }
        for f in set {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    let mut out = Vec::new();
    walk(node, &mut out);
    out
}

/// The evidence columns (name_en, Japanese header) of a condition: those of each feature
/// in the order the features first appear, each column once.
pub fn evidence_in_order(node: &Node) -> Vec<(String, String)> {
    let mut evidence: Vec<(String, String)> = Vec::new();
    for f in features_in_order(node) {
        for e in f.evidence() {
            if !evidence.iter().any(|x| x.0 == e.0) {
                evidence.push(e);
            }
        }
    }
    evidence
}

/// One row of an attrition table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AttritionStep {
    /// 0 for the population, then 1, 2, …
    pub step: usize,
    /// The condition in Japanese (the population row says 基準日の被保険者).
    pub condition_ja: String,
    /// Persons remaining after this step.
    pub persons: u64,
    /// Persons who would remain but for the coverage guard.
    pub insufficient_coverage: u64,
}

/// A rule's result.
#[derive(Debug, Clone)]
pub struct RuleResult {
    /// The rule as applied.
    pub rule: Rule,
    /// The whole condition in Japanese.
    pub text_ja: String,
    /// Attrition (population first).
    pub attrition: Vec<AttritionStep>,
    /// Persons listed.
    pub listed: u64,
    /// Evidence columns (name_en, header_ja) of this rule.
    pub evidence: Vec<(String, String)>,
}

/// Name of the flag column of a rule (`flag_R01`).
pub fn flag_column(rule: &Rule) -> String {
    format!("flag_{}", rule.id)
}

/// Evaluates every rule on the feature table; returns the table with one boolean
/// `flag_<id>` column per rule and `n_rules` (u32), and each rule's attrition.
///
/// # Errors
/// Polars errors.
pub fn evaluate(
    features: DataFrame,
    rules: &[Rule],
    ctx: &TextContext<'_>,
) -> PolarsResult<(DataFrame, Vec<RuleResult>)> {
    let population = features.height() as u64;
    let mut lf = features.lazy();
    let mut results = Vec::new();
    let mut count_exprs: Vec<Expr> = Vec::new();
    let mut labels: Vec<(usize, usize, String)> = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        let rctx = TextContext {
            coverage_guard: rule.coverage_guard,
            ..*ctx
        };
        let mut pass = lit(true);
        let st = steps(&rule.condition);
        for (si, s) in st.iter().enumerate() {
            let strict = node_expr(s, rule.coverage_guard, true);
            let relaxed = node_expr(s, rule.coverage_guard, false);
            let insufficient = pass.clone().and(relaxed).and(strict.clone().not());
            pass = pass.and(strict);
            count_exprs.push(
                pass.clone()
                    .cast(DataType::UInt32)
                    .sum()
                    .alias(format!("p_{ri}_{si}")),
            );
            count_exprs.push(
                insufficient
                    .cast(DataType::UInt32)
                    .sum()
                    .alias(format!("i_{ri}_{si}")),
            );
            labels.push((ri, si, describe(s, &rctx)));
        }
        lf = lf.with_column(pass.alias(flag_column(rule).as_str()));
        results.push(RuleResult {
            rule: rule.clone(),
            text_ja: describe(&rule.condition, &rctx),
            attrition: Vec::new(),
            listed: 0,
            evidence: evidence_in_order(&rule.condition),
        });
    }
    let flags: Vec<Expr> = rules
        .iter()
        .map(|r| col(flag_column(r).as_str()).cast(DataType::UInt32))
        .collect();
    if flags.is_empty() {
        lf = lf.with_column(lit(0u32).alias("n_rules"));
    } else {
        lf = lf.with_column(
            polars::lazy::dsl::sum_horizontal(flags, true)?
                .cast(DataType::UInt32)
                .alias("n_rules"),
        );
    }
    let df = lf.collect()?;
    let counts = if count_exprs.is_empty() {
        DataFrame::empty()
    } else {
        df.clone().lazy().select(count_exprs).collect()?
    };
    let get = |name: &str| -> u64 {
        counts
            .column(name)
            .ok()
            .and_then(|c| c.u32().ok().and_then(|x| x.get(0)))
            .unwrap_or(0) as u64
    };
    for (ri, r) in results.iter_mut().enumerate() {
        r.attrition.push(AttritionStep {
            step: 0,
            condition_ja: "基準日の被保険者".to_string(),
            persons: population,
            insufficient_coverage: 0,
        });
        for (li, si, text) in labels.iter().filter(|l| l.0 == ri) {
            r.attrition.push(AttritionStep {
                step: si + 1,
                condition_ja: text.clone(),
                persons: get(&format!("p_{li}_{si}")),
                insufficient_coverage: get(&format!("i_{li}_{si}")),
            });
        }
        r.listed = r.attrition.last().map(|s| s.persons).unwrap_or(0);
    }
    Ok((df, results))
}

/// Base columns of every target list (docs/reference/rules.md#target-list); their
/// Japanese headers are in [`ittai_model::labels::COLUMNS`].
pub const BASE_COLUMNS: [&str; 9] = [
    "person_id",
    "municipality_code",
    "sex",
    "birth_date",
    "age",
    "age_band",
    "care_level",
    "n_rules",
    "insurer_number",
];

/// The target list of one rule: listed persons with base and evidence columns, ordered by
/// number of rules met (desc), age (desc), person_id.
///
/// # Errors
/// Polars errors.
pub fn target_list(table: &DataFrame, result: &RuleResult) -> PolarsResult<DataFrame> {
    let mut sel: Vec<Expr> = vec![
        lit(result.rule.id.as_str()).alias("rule_id"),
        lit(result.rule.name_ja.as_str()).alias("rule_name_ja"),
    ];
    sel.extend(BASE_COLUMNS.iter().take(8).map(|c| col(*c)));
    sel.extend(result.evidence.iter().map(|(c, _)| col(c.as_str())));
    table
        .clone()
        .lazy()
        .filter(col(flag_column(&result.rule).as_str()))
        .select(sel)
        .sort(
            ["n_rules", "age", "person_id"],
            SortMultipleOptions::default().with_order_descending_multi([true, true, false]),
        )
        .collect()
}

/// The combined person × rule table: one row per (person, rule met), with the base
/// columns and the union of evidence columns (null where the row's rule does not use
/// them). Same order as [`target_list`], then rule id.
///
/// # Errors
/// Polars errors.
pub fn combined(table: &DataFrame, results: &[RuleResult]) -> PolarsResult<DataFrame> {
    let mut all_evidence: Vec<(String, String)> = Vec::new();
    for r in results {
        for e in &r.evidence {
            if !all_evidence.iter().any(|x| x.0 == e.0) {
                all_evidence.push(e.clone());
            }
        }
    }
    let schema = table.schema();
    let mut parts = Vec::new();
    for r in results {
        let mut sel: Vec<Expr> = vec![
            lit(r.rule.id.as_str()).alias("rule_id"),
            lit(r.rule.name_ja.as_str()).alias("rule_name_ja"),
        ];
        sel.extend(BASE_COLUMNS.iter().take(8).map(|c| col(*c)));
        for (c, _) in &all_evidence {
            if r.evidence.iter().any(|x| &x.0 == c) {
                sel.push(col(c.as_str()));
            } else {
                let dt = schema.get(c.as_str()).cloned().unwrap_or(DataType::String);
                sel.push(lit(NULL).cast(dt).alias(c.as_str()));
            }
        }
        parts.push(
            table
                .clone()
                .lazy()
                .filter(col(flag_column(&r.rule).as_str()))
                .select(sel),
        );
    }
    if parts.is_empty() {
        return Ok(DataFrame::empty());
    }
    concat(parts, UnionArgs::default())?
        .sort(
            ["n_rules", "age", "person_id", "rule_id"],
            SortMultipleOptions::default().with_order_descending_multi([true, true, false, false]),
        )
        .collect()
}

/// All evidence columns of a set of results, as a header map (name_en → header_ja).
pub fn evidence_headers(results: &[RuleResult]) -> BTreeMap<String, String> {
    results
        .iter()
        .flat_map(|r| r.evidence.iter().cloned())
        .collect()
}
