//! The evaluation indicators of docs/reference/indicators.md for every FY of a dataset: per municipality and
//! for the union, by sex and age band, with numerators and denominators, directly
//! age-standardised values, the change from the previous FY, life expectancy and the
//! average period of independence at 75 with 95 % CIs, and small-count suppression.
//!
//! [`cells`] computes base cells with polars; everything after (rollups, values,
//! standardisation, change, suppression) is plain Rust over a few thousand rows.

pub mod cells;
pub mod store;

use std::collections::{BTreeMap, HashMap};

use ittai_model::FiscalYear;
use ittai_model::indicators::{
    AGE_BANDS, ALL, FunnelStep, INDICATORS, IndicatorRow, Kind, LifeLine, UNION, def,
};
use polars::prelude::*;

use self::cells::{Cell, LifeInput};
use crate::lifetable::{AgeInterval, LifeTable, life_table};
use crate::{Frame, RunResult, RunSpec, Sources};

/// Published counts below this are suppressed (NDB open-data practice, docs/reference/indicators.md).
pub const MIN_COUNT: f64 = 10.0;

/// A life table of one FY × area × sex, for the report.
#[derive(Debug, Clone)]
pub struct AreaLifeTable {
    /// Fiscal year.
    pub fy: i32,
    /// Municipality code or [`UNION`].
    pub municipality_code: String,
    /// `all`, `male`, `female`.
    pub sex: String,
    /// Inputs by band (75-79 … 95+).
    pub inputs: Vec<LifeInput>,
    /// The table, or why it could not be computed.
    pub table: Result<LifeTable, String>,
}

/// Everything `ittai indicators` produces.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    /// The tidy rows (exact).
    pub rows: Vec<IndicatorRow>,
    /// Life tables by FY × area × sex.
    pub life_tables: Vec<AreaLifeTable>,
    /// The rule results of each FY (attrition funnels for the report).
    pub runs: Vec<(i32, Vec<crate::RuleResult>)>,
}

impl IndicatorSet {
    /// The life tables as flat lines (one per FY × area × sex × band).
    pub fn life_lines(&self) -> Vec<LifeLine> {
        let mut out = Vec::new();
        for t in &self.life_tables {
            for (i, x) in t.inputs.iter().enumerate() {
                let r = t.table.as_ref().ok().and_then(|tb| tb.rows.get(i).copied());
                out.push(LifeLine {
                    fy: t.fy,
                    municipality_code: t.municipality_code.clone(),
                    sex: t.sex.clone(),
                    age_band: x.age_band.clone(),
                    deaths: x.deaths,
                    person_years: x.person_years,
                    sample: x.sample,
                    dependent: x.dependent,
                    m: r.map(|r| r.m),
                    q: r.map(|r| r.q),
                    l: r.map(|r| r.l),
                    big_l: r.map(|r| r.big_l),
                    prevalence: r.map(|r| r.prevalence),
                    e: r.map(|r| r.e),
                    h: r.map(|r| r.h),
                });
            }
        }
        out
    }

    /// The attrition funnels of every FY (union level).
    pub fn funnels(&self) -> Vec<FunnelStep> {
        let mut out = Vec::new();
        for (fy, results) in &self.runs {
            for r in results {
                for s in &r.attrition {
                    out.push(FunnelStep {
                        fy: *fy,
                        rule_id: r.rule.id.clone(),
                        rule_name_ja: r.rule.name_ja.clone(),
                        step: s.step as u32,
                        condition_ja: s.condition_ja.clone(),
                        persons: s.persons,
                        insufficient_coverage: s.insufficient_coverage,
                        lookback_fys: r.rule.condition.lookback_fys(),
                    });
                }
            }
        }
        out
    }
}

fn sex_key(s: u8) -> &'static str {
    match s {
        1 => "male",
        2 => "female",
        _ => ALL,
    }
}

/// Computes the indicators for `fys` (each with its FY end as reference date).
/// `progress(fy)` is called before each FY.
///
/// # Errors
/// Polars errors.
pub fn compute(
    src: &Sources,
    fys: &[FiscalYear],
    spec: &RunSpec<'_>,
    progress: &mut dyn FnMut(FiscalYear),
) -> PolarsResult<IndicatorSet> {
    compute_reusing(src, fys, spec, None, progress)
}

/// As [`compute`], reusing `done`, a run already made with the same rules for one FY with
/// its FY end as reference date (`ittai run` passes its own result so the rules are not
/// applied twice). A run with another reference date must not be passed. That FY is done
/// first and `done` (its feature table is the largest object of a run) is dropped before
/// the other FYs, so that only one feature table is alive at a time.
///
/// # Errors
/// Polars errors.
pub fn compute_reusing(
    src: &Sources,
    fys: &[FiscalYear],
    spec: &RunSpec<'_>,
    done: Option<RunResult>,
    progress: &mut dyn FnMut(FiscalYear),
) -> PolarsResult<IndicatorSet> {
    let mut all_cells: Vec<(i32, Cell)> = Vec::new();
    let mut all_life: Vec<(i32, LifeInput)> = Vec::new();
    let mut runs = Vec::new();
    let frame_of = |fy: FiscalYear| Frame {
        fy,
        reference: fy.end(),
    };
    let mut done = done.filter(|r| fys.iter().any(|&fy| r.frame == frame_of(fy)));
    let mut order: Vec<FiscalYear> = fys.to_vec();
    if let Some(r) = &done {
        order.sort_by_key(|&fy| (frame_of(fy) != r.frame, fy.0));
    }
    for fy in order {
        progress(fy);
        let run = match done.take() {
            Some(r) if r.frame == frame_of(fy) => r,
            other => {
                done = other;
                crate::run(
                    src,
                    &RunSpec {
                        frame: frame_of(fy),
                        ..*spec
                    },
                )?
            }
        };
        let (cells, life) = cells::fy_cells(src, fy, &run)?;
        all_cells.extend(cells.into_iter().map(|c| (fy.0, c)));
        all_life.extend(life.into_iter().map(|l| (fy.0, l)));
        runs.push((fy.0, run.results));
    }
    runs.sort_by_key(|(fy, _)| *fy);
    // Polars returns groups in no fixed order; sorting makes the floating-point sums of
    // the rollups (person-years) add in the same order on every run, so reruns give
    // byte-identical tables.
    all_cells.sort_by(|(fa, a), (fb, b)| {
        (
            fa,
            a.indicator,
            &a.rule_id,
            &a.municipality_code,
            a.sex,
            &a.age_band,
        )
            .cmp(&(
                fb,
                b.indicator,
                &b.rule_id,
                &b.municipality_code,
                b.sex,
                &b.age_band,
            ))
    });
    let (rows, life_tables) = finish(&all_cells, &all_life);
    Ok(IndicatorSet {
        rows,
        life_tables,
        runs,
    })
}

type Key = (&'static str, Option<String>, i32, String, String, String);

/// From base cells to the published table: rollups, values, life tables, standardisation,
/// change and suppression. Pure arithmetic (tested on hand-made cells).
pub fn finish(
    cells: &[(i32, Cell)],
    life: &[(i32, LifeInput)],
) -> (Vec<IndicatorRow>, Vec<AreaLifeTable>) {
    let mut rows = rollup_rows(cells);
    let life_tables = life_table_rows(life, &mut rows);
    age_standardise(&mut rows);
    primary_suppression(&mut rows);
    secondary_suppression(&mut rows);
    change_from_previous(&mut rows);
    sort_rows(&mut rows);
    (rows, life_tables)
}

/// Rollups over municipality (→ union), sex (→ all) and age band (→ all): one row per
/// indicator × rule × FY × area × sex × band (in key order) with the summed `numerator`,
/// `denominator` and `persons`, and `value` (percent: 100 · num / den; yen per insured:
/// num / den; none for a zero denominator or other kinds, per the indicator's [`Kind`]).
fn rollup_rows(cells: &[(i32, Cell)]) -> Vec<IndicatorRow> {
    let mut sums: BTreeMap<Key, (f64, f64, u64)> = BTreeMap::new();
    for (fy, c) in cells {
        for m in [c.municipality_code.as_str(), UNION] {
            for s in [sex_key(c.sex), ALL] {
                for b in [c.age_band.as_str(), ALL] {
                    let e = sums
                        .entry((
                            c.indicator,
                            c.rule_id.clone(),
                            *fy,
                            m.to_string(),
                            s.to_string(),
                            b.to_string(),
                        ))
                        .or_default();
                    e.0 += c.numerator;
                    e.1 += c.denominator;
                    e.2 += c.persons;
                }
            }
        }
    }
    let value_of = |id: &str, num: f64, den: f64| -> Option<f64> {
        if den <= 0.0 {
            return None;
        }
        match def(id).map(|d| d.kind) {
            Some(Kind::Percent) => Some(100.0 * num / den),
            Some(Kind::YenPerInsured) => Some(num / den),
            _ => None,
        }
    };
    sums.iter()
        .map(
            |((id, rule, fy, m, s, b), (num, den, persons))| IndicatorRow {
                indicator: id.to_string(),
                rule_id: rule.clone(),
                fy: *fy,
                municipality_code: m.clone(),
                sex: s.clone(),
                age_band: b.clone(),
                numerator: *num,
                denominator: *den,
                persons: *persons,
                value: value_of(id, *num, *den),
                age_standardised: None,
                ci_lower: None,
                ci_upper: None,
                previous_value: None,
                change: None,
                direction: None,
                suppressed: false,
            },
        )
        .collect()
}

/// Life tables by FY × area × sex (life inputs rolled up to the union and to both sexes;
/// see [`crate::lifetable`]): appends to `rows` the `life_expectancy_75` and
/// `independence_75` rows (years, with 95 % CI; `numerator` deaths, `denominator`
/// person-years, `persons` the sample) and returns the tables.
fn life_table_rows(life: &[(i32, LifeInput)], rows: &mut Vec<IndicatorRow>) -> Vec<AreaLifeTable> {
    let mut life_tables = Vec::new();
    for ((fy, m, s), bands) in life_groups(life) {
        let inputs: Vec<LifeInput> = cells::life_bands()
            .filter_map(|b| bands.get(b).cloned())
            .collect();
        let intervals: Vec<AgeInterval> = cells::life_bands()
            .map(|b| {
                let x = bands.get(b);
                AgeInterval {
                    width: if b == "95+" { f64::INFINITY } else { 5.0 },
                    deaths: x.map(|x| x.deaths).unwrap_or(0.0),
                    person_years: x.map(|x| x.person_years).unwrap_or(0.0),
                    sample: x.map(|x| x.sample).unwrap_or(0.0),
                    dependent: x.map(|x| x.dependent).unwrap_or(0.0),
                }
            })
            .collect();
        let table = life_table(&intervals).map_err(|e| e.to_string());
        let deaths: f64 = intervals.iter().map(|i| i.deaths).sum();
        let py: f64 = intervals.iter().map(|i| i.person_years).sum();
        let sample: f64 = intervals.iter().map(|i| i.sample).sum();
        for (id, est) in [
            (
                "life_expectancy_75",
                table.as_ref().ok().map(|t| t.life_expectancy),
            ),
            (
                "independence_75",
                table.as_ref().ok().map(|t| t.independence),
            ),
        ] {
            rows.push(IndicatorRow {
                indicator: id.to_string(),
                rule_id: None,
                fy,
                municipality_code: m.clone(),
                sex: s.clone(),
                age_band: ALL.to_string(),
                numerator: deaths,
                denominator: py,
                persons: sample as u64,
                value: est.map(|e| e.value),
                age_standardised: None,
                ci_lower: est.map(|e| e.lower),
                ci_upper: est.map(|e| e.upper),
                previous_value: None,
                change: None,
                direction: None,
                suppressed: false,
            });
        }
        life_tables.push(AreaLifeTable {
            fy,
            municipality_code: m,
            sex: s,
            inputs,
            table,
        });
    }
    life_tables
}

/// The life inputs summed by (FY, area, sex) and band, with each municipality also added
/// to the union and each sex also to `all`.
fn life_groups(
    life: &[(i32, LifeInput)],
) -> BTreeMap<(i32, String, String), BTreeMap<String, LifeInput>> {
    let mut groups: BTreeMap<(i32, String, String), BTreeMap<String, LifeInput>> = BTreeMap::new();
    for (fy, l) in life {
        for m in [l.municipality_code.as_str(), UNION] {
            for s in [sex_key(l.sex), ALL] {
                let e = groups
                    .entry((*fy, m.to_string(), s.to_string()))
                    .or_default()
                    .entry(l.age_band.clone())
                    .or_insert_with(|| LifeInput {
                        municipality_code: m.to_string(),
                        sex: l.sex,
                        age_band: l.age_band.clone(),
                        deaths: 0.0,
                        person_years: 0.0,
                        sample: 0.0,
                        dependent: 0.0,
                    });
                e.deaths += l.deaths;
                e.person_years += l.person_years;
                e.sample += l.sample;
                e.dependent += l.dependent;
            }
        }
    }
    groups
}

/// Direct age standardisation: the union's age structure (denominators) of the same
/// indicator, FY and sex as the standard. Sets `age_standardised` (same unit as `value`)
/// on the all-ages rows of the indicators defined as age-standardised.
fn age_standardise(rows: &mut [IndicatorRow]) {
    let index: HashMap<(String, Option<String>, i32, String, String, String), usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                (
                    r.indicator.clone(),
                    r.rule_id.clone(),
                    r.fy,
                    r.municipality_code.clone(),
                    r.sex.clone(),
                    r.age_band.clone(),
                ),
                i,
            )
        })
        .collect();
    let bands = AGE_BANDS;
    for i in 0..rows.len() {
        let r = &rows[i];
        if r.age_band != ALL || !def(&r.indicator).is_some_and(|d| d.age_standardised) {
            continue;
        }
        let (mut num, mut wsum) = (0.0, 0.0);
        for b in bands {
            let key = |m: &str| {
                (
                    r.indicator.clone(),
                    r.rule_id.clone(),
                    r.fy,
                    m.to_string(),
                    r.sex.clone(),
                    b.to_string(),
                )
            };
            let (Some(&si), Some(&mi)) = (
                index.get(&key(UNION)),
                index.get(&key(&r.municipality_code)),
            ) else {
                continue;
            };
            let (w, rate) = (rows[si].denominator, rows[mi].value);
            if let (true, Some(rate)) = (w > 0.0, rate) {
                num += w * rate;
                wsum += w;
            }
        }
        rows[i].age_standardised = (wsum > 0.0).then(|| num / wsum);
    }
}

/// Primary suppression (NDB open-data practice, see [`MIN_COUNT`]): sets `suppressed`
/// from the row's own counts, "small" meaning 1 ≤ x < [`MIN_COUNT`] — years: no value or
/// a numerator (deaths) below [`MIN_COUNT`]; yen per insured and `generic_share`: small
/// `persons`; otherwise a small numerator or denominator.
fn primary_suppression(rows: &mut [IndicatorRow]) {
    for r in rows {
        let small = |x: f64| (1.0..MIN_COUNT).contains(&x);
        r.suppressed = match def(&r.indicator).map(|d| d.kind) {
            Some(Kind::Years) => r.value.is_none() || r.numerator < MIN_COUNT,
            Some(Kind::YenPerInsured) => small(r.persons as f64),
            _ if r.indicator == "generic_share" => small(r.persons as f64),
            _ => small(r.numerator) || small(r.denominator),
        };
    }
}

/// Change from the previous FY: sets `previous_value` (the same row's value one FY
/// earlier), `change` (value − previous, in the value's unit) and `direction` (`up` or
/// `down` when the change exceeds 0.5 for yen per insured or 0.05 otherwise, else
/// `same`); rows without a previous value keep none.
fn change_from_previous(rows: &mut [IndicatorRow]) {
    let prev: HashMap<(String, Option<String>, i32, String, String, String), Option<f64>> = rows
        .iter()
        .map(|r| {
            (
                (
                    r.indicator.clone(),
                    r.rule_id.clone(),
                    r.fy + 1,
                    r.municipality_code.clone(),
                    r.sex.clone(),
                    r.age_band.clone(),
                ),
                r.value,
            )
        })
        .collect();
    for r in rows {
        let key = (
            r.indicator.clone(),
            r.rule_id.clone(),
            r.fy,
            r.municipality_code.clone(),
            r.sex.clone(),
            r.age_band.clone(),
        );
        if let Some(Some(p)) = prev.get(&key) {
            r.previous_value = Some(*p);
            if let Some(v) = r.value {
                let d = v - p;
                let eps = match def(&r.indicator).map(|d| d.kind) {
                    Some(Kind::YenPerInsured) => 0.5,
                    _ => 0.05,
                };
                r.change = Some(d);
                r.direction = Some(
                    if d > eps {
                        "up"
                    } else if d < -eps {
                        "down"
                    } else {
                        "same"
                    }
                    .to_string(),
                );
            }
        }
    }
}

/// The published order: indicator (as listed in [`INDICATORS`]), rule, FY, union first
/// then municipalities by code, sex (all, male, female), age band (all, then youngest
/// first).
fn sort_rows(rows: &mut [IndicatorRow]) {
    let bands = AGE_BANDS;
    let order: HashMap<&str, usize> = INDICATORS
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id, i))
        .collect();
    let band_order = |b: &str| {
        if b == ALL {
            0
        } else {
            1 + bands.iter().position(|x| *x == b).unwrap_or(9)
        }
    };
    let sex_order = |s: &str| match s {
        "male" => 1,
        "female" => 2,
        _ => 0,
    };
    rows.sort_by(|a, b| {
        (
            order.get(a.indicator.as_str()),
            &a.rule_id,
            a.fy,
            a.municipality_code != UNION,
            &a.municipality_code,
            sex_order(&a.sex),
            band_order(&a.age_band),
        )
            .cmp(&(
                order.get(b.indicator.as_str()),
                &b.rule_id,
                b.fy,
                b.municipality_code != UNION,
                &b.municipality_code,
                sex_order(&b.sex),
                band_order(&b.age_band),
            ))
    });
}

/// Secondary suppression: where one cell of a set that adds up to a published total is
/// suppressed, the smallest other cell of the set is suppressed too, so that the hidden
/// count cannot be recovered by subtraction. Sets: municipalities of the union; male and
/// female of all; age bands of all ages. Repeated until nothing changes.
fn secondary_suppression(rows: &mut [IndicatorRow]) {
    type GroupKey = (String, Option<String>, i32, String, String, String);
    for _ in 0..10 {
        let mut changed = false;
        // The set a row belongs to along one dimension (0 municipality, 1 sex, 2 age band):
        // its key with that dimension blanked, for rows that are not that dimension's total.
        let set_of = |r: &IndicatorRow, dim: usize| -> Option<GroupKey> {
            let parts = [&r.municipality_code, &r.sex, &r.age_band];
            let total = [UNION, ALL, ALL][dim];
            (parts[dim] != total).then(|| {
                let part = |k: usize| {
                    if k == dim {
                        String::new()
                    } else {
                        parts[k].clone()
                    }
                };
                (
                    r.indicator.clone(),
                    r.rule_id.clone(),
                    r.fy,
                    part(0),
                    part(1),
                    part(2),
                )
            })
        };
        for dim in 0..3 {
            let mut sets: HashMap<GroupKey, Vec<usize>> = HashMap::new();
            for (i, r) in rows.iter().enumerate() {
                if def(&r.indicator).is_some_and(|d| d.kind == Kind::Years) {
                    continue;
                }
                if let Some(k) = set_of(r, dim) {
                    sets.entry(k).or_default().push(i);
                }
            }
            for members in sets.values() {
                let hidden = members.iter().filter(|&&i| rows[i].suppressed).count();
                if hidden != 1 {
                    continue;
                }
                let other = members
                    .iter()
                    .filter(|&&i| !rows[i].suppressed && rows[i].denominator > 0.0)
                    .min_by(|&&a, &&b| rows[a].denominator.total_cmp(&rows[b].denominator));
                if let Some(&i) = other {
                    rows[i].suppressed = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// The rows as a polars DataFrame with the tidy columns (exact values).
///
/// # Errors
/// Polars errors.
pub fn to_dataframe(rows: &[IndicatorRow]) -> PolarsResult<DataFrame> {
    let s = |f: &dyn Fn(&IndicatorRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let o = |f: &dyn Fn(&IndicatorRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new("indicator".into(), s(&|r| r.indicator.clone())),
        Column::new(
            "rule_id".into(),
            rows.iter().map(|r| r.rule_id.clone()).collect::<Vec<_>>(),
        ),
        Column::new("fy".into(), rows.iter().map(|r| r.fy).collect::<Vec<_>>()),
        Column::new(
            "municipality_code".into(),
            s(&|r| r.municipality_code.clone()),
        ),
        Column::new("sex".into(), s(&|r| r.sex.clone())),
        Column::new("age_band".into(), s(&|r| r.age_band.clone())),
        Column::new(
            "numerator".into(),
            rows.iter().map(|r| r.numerator).collect::<Vec<_>>(),
        ),
        Column::new(
            "denominator".into(),
            rows.iter().map(|r| r.denominator).collect::<Vec<_>>(),
        ),
        Column::new(
            "persons".into(),
            rows.iter().map(|r| r.persons).collect::<Vec<_>>(),
        ),
        Column::new("value".into(), o(&|r| r.value)),
        Column::new("age_standardised".into(), o(&|r| r.age_standardised)),
        Column::new("ci_lower".into(), o(&|r| r.ci_lower)),
        Column::new("ci_upper".into(), o(&|r| r.ci_upper)),
        Column::new("previous_value".into(), o(&|r| r.previous_value)),
        Column::new("change".into(), o(&|r| r.change)),
        Column::new(
            "direction".into(),
            rows.iter().map(|r| r.direction.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "suppressed".into(),
            rows.iter().map(|r| r.suppressed).collect::<Vec<_>>(),
        ),
    ])
}

/// The fiscal years with medical claims in a dataset, oldest first.
///
/// # Errors
/// Polars errors.
pub fn fiscal_years(src: &Sources) -> PolarsResult<Vec<FiscalYear>> {
    let df = src
        .medical_claims()?
        .select([
            col("service_month").min().alias("a"),
            col("service_month").max().alias("b"),
        ])
        .collect()?;
    let a = df.column("a")?.date()?.as_date_iter().next().flatten();
    let b = df.column("b")?.date()?.as_date_iter().next().flatten();
    Ok(match (a, b) {
        (Some(a), Some(b)) => (FiscalYear::of(a).0..=FiscalYear::of(b).0)
            .map(FiscalYear)
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests;
