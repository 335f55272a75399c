//! The evaluation indicators of docs/reference/indicators.md for every FY of a dataset: per municipality and
//! for the union, by sex and age band, with numerators and denominators, directly
//! age-standardised values, the change from the previous FY, life expectancy and the
//! average period of independence at 75 with 95 % CIs, and small-count suppression.
//!
//! `claim_lines` computes the per-person measures on claim lines (one pass over each claim
//! file for all FYs), `cells` aggregates them and the small tables into base cells with polars;
//! everything after (rollups, values, standardisation, change, suppression) is plain Rust
//! over a few thousand rows.

pub(crate) mod cells;
mod claim_lines;
pub use cells::Timings;
pub mod disease_costs;
pub(crate) mod store;

pub use store::{
    DISEASE_COSTS_FILE, FUNNELS_FILE, IndicatorTables, LIFE_FILE, ROWS_FILE, read as read_tables,
    write as write_tables,
};

use std::collections::{BTreeMap, HashMap};

use itertools::Itertools;
use ittai_model::FiscalYear;
use ittai_model::indicators::{
    AgeGroup, Area, Direction, FunnelStep, IndicatorId, IndicatorRow, Kind, LifeLine, SexGroup,
    Suppression,
};
use ittai_model::time::AgeBand;
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
    /// A municipality or the union.
    pub municipality_code: Area,
    /// All, male or female.
    pub sex: SexGroup,
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
    /// 疾病分類別医療費 by FY × area × disease group, suppression flags set.
    pub disease_costs: Vec<ittai_model::icd10::DiseaseCostRow>,
    /// Person ids listed by each rule, by FY (the targets of programme evaluation).
    pub lists: crate::programmes::Lists,
    /// The time of each part (seconds, summed over the FYs; see [`cells::Timings`]).
    pub timings: Vec<(String, f64)>,
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
                    sex: t.sex,
                    age_band: x.age_band,
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
    compute_reusing(src, fys, spec, None, None, progress)
}

/// As [`compute`], reusing `done`, a run already made with the same rules for one FY with
/// its FY end as reference date (`ittai run` passes its own result so the rules are not
/// applied twice). A run with another reference date must not be passed. That FY is done
/// first and `done` (its feature table is the largest object of a run) is dropped before
/// the other FYs, so that only one feature table is alive at a time. `prepared`, when
/// given, holds the passes over the claim files of the same rules for some FYs (their FY
/// ends as reference dates; `ittai run` prepares every FY with its own, so that the claim
/// files are read once for the rules of all FYs): the FYs it holds and that are not
/// `done` are run from it, the others are prepared together here.
///
/// # Errors
/// Polars errors.
pub fn compute_reusing<'a>(
    src: &'a Sources,
    fys: &[FiscalYear],
    spec: &RunSpec<'a>,
    done: Option<RunResult>,
    prepared: Option<crate::Runs<'a>>,
    progress: &mut dyn FnMut(FiscalYear),
) -> PolarsResult<IndicatorSet> {
    let mut all_cells: Vec<(i32, Cell)> = Vec::new();
    let mut all_life: Vec<(i32, LifeInput)> = Vec::new();
    let mut runs = Vec::new();
    let mut disease_costs = Vec::new();
    let mut lists = crate::programmes::Lists::new();
    let mut timings = cells::Timings::default();
    let frame_of = |fy: FiscalYear| Frame {
        fy,
        reference: fy.end(),
    };
    let mut done = done.filter(|r| fys.iter().any(|&fy| r.frame == frame_of(fy)));
    // Each FY once (`--fy 2023,2023` asks for FY2023).
    let mut order: Vec<FiscalYear> = fys.iter().copied().unique().collect();
    if let Some(r) = &done {
        order.sort_by_key(|&fy| (frame_of(fy) != r.frame, fy.0));
    }
    // Long-term inpatient stays (checkup denominators) span FYs: found once.
    let stays = timings.time("long_stays", || claim_lines::long_stays(src))?;
    // The populations and claim-line measures of every FY, one pass over each claim file.
    let populations = cells::fy_populations(src, &order, &mut timings)?;
    // The rules of the FYs neither run nor prepared: the claim files read once for all
    // of them.
    let mut prepared: Vec<crate::Runs<'a>> = prepared.into_iter().collect();
    let missing: Vec<Frame> = order
        .iter()
        .map(|&fy| frame_of(fy))
        .filter(|f| done.as_ref().is_none_or(|r| r.frame != *f))
        .filter(|f| prepared.iter().all(|p| !p.frames().contains(f)))
        .collect();
    if !missing.is_empty() {
        prepared.push(timings.time("run", || crate::Runs::prepare(src, spec, &missing))?);
    }
    for (fy, population) in order.into_iter().zip(populations) {
        progress(fy);
        let run = match done.take() {
            Some(r) if r.frame == frame_of(fy) => r,
            other => {
                done = other;
                let (runs, i) = prepared
                    .iter_mut()
                    .find_map(|p| {
                        let i = p.frames().iter().position(|f| *f == frame_of(fy))?;
                        Some((p, i))
                    })
                    .expect("every FY not done is prepared");
                timings.time("run", || runs.run(i))?
            }
        };
        let (cells, life, costs) = cells::fy_cells(
            src,
            fy,
            &run,
            (&population.0, &population.1),
            &stays,
            &mut timings,
        )?;
        drop(population); // freed before the next FY's rules run
        all_cells.extend(cells.into_iter().map(|c| (fy.0, c)));
        all_life.extend(life.into_iter().map(|l| (fy.0, l)));
        disease_costs.extend(costs);
        lists.insert(fy.0, crate::programmes::listed_by_rule(&run)?);
        runs.push((fy.0, run.results));
    }
    runs.sort_by_key(|(fy, _)| *fy);
    // Polars returns groups in no fixed order; sorting makes the floating-point sums of
    // the rollups (person-years) add in the same order on every run, so reruns give
    // byte-identical tables. The order is that of the strings on disk (indicator id, band
    // label) and the sex code, as it was when cells held strings.
    all_cells.sort_by(|(fa, a), (fb, b)| {
        (
            fa,
            a.indicator.as_str(),
            &a.rule_id,
            &a.municipality_code,
            a.sex.code(),
            a.age_band.label(),
        )
            .cmp(&(
                fb,
                b.indicator.as_str(),
                &b.rule_id,
                &b.municipality_code,
                b.sex.code(),
                b.age_band.label(),
            ))
    });
    let (rows, life_tables) = finish(&all_cells, &all_life);
    disease_costs.sort_by(|a, b| {
        (a.fy, &a.municipality_code, a.disease_group).cmp(&(
            b.fy,
            &b.municipality_code,
            b.disease_group,
        ))
    });
    disease_costs::suppress(&mut disease_costs);
    Ok(IndicatorSet {
        rows,
        life_tables,
        runs,
        disease_costs,
        lists,
        timings: timings.0,
    })
}

/// The identity of a row, owned: indicator, rule_id, fy, area, sex, age band.
type Key = (IndicatorId, Option<String>, i32, Area, SexGroup, AgeGroup);

/// The identity of a row as the strings written to disk (indicator, rule_id, fy,
/// municipality_code, sex, age_band), whose order is the order rows are built in before
/// [`sort_rows`]: it decides which of equal cells secondary suppression picks and the
/// order of the life tables, so it stays the order of the strings.
type TextKey = (
    &'static str,
    Option<String>,
    i32,
    String,
    &'static str,
    &'static str,
);

fn text_key(k: &Key) -> TextKey {
    (
        k.0.as_str(),
        k.1.clone(),
        k.2,
        k.3.as_str().to_string(),
        k.4.as_str(),
        k.5.as_str(),
    )
}

/// The owned [`Key`] of a row, with its FY replaced by `fy`.
fn key_at(r: &IndicatorRow, fy: i32) -> Key {
    (
        r.indicator,
        r.rule_id.clone(),
        fy,
        r.municipality_code.clone(),
        r.sex,
        r.age_band,
    )
}

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
    let mut sums: BTreeMap<TextKey, (Key, f64, f64, u64)> = BTreeMap::new();
    for (fy, c) in cells {
        let areas = [Area::Municipality(c.municipality_code.clone()), Area::Union];
        for m in &areas {
            for s in [SexGroup::Sex(c.sex), SexGroup::All] {
                for b in [AgeGroup::Band(c.age_band), AgeGroup::All] {
                    let key: Key = (c.indicator, c.rule_id.clone(), *fy, m.clone(), s, b);
                    let e = sums
                        .entry(text_key(&key))
                        .or_insert_with(|| (key, 0.0, 0.0, 0));
                    e.1 += c.numerator;
                    e.2 += c.denominator;
                    e.3 += c.persons;
                }
            }
        }
    }
    let value_of = |id: IndicatorId, num: f64, den: f64| -> Option<f64> {
        if den <= 0.0 {
            return None;
        }
        match id.def().kind {
            Kind::Percent => Some(100.0 * num / den),
            Kind::YenPerInsured => Some(num / den),
            Kind::Years => None,
        }
    };
    sums.into_values()
        .map(
            |((id, rule, fy, m, s, b), num, den, persons)| IndicatorRow {
                indicator: id,
                rule_id: rule,
                fy,
                municipality_code: m,
                sex: s,
                age_band: b,
                numerator: num,
                denominator: den,
                persons,
                value: value_of(id, num, den),
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
    let life_bands = cells::life_bands();
    for ((fy, m, s), bands) in life_groups(life) {
        let inputs: Vec<LifeInput> = life_bands
            .iter()
            .filter_map(|b| bands.get(&b.band).cloned())
            .collect();
        let intervals: Vec<AgeInterval> = life_bands
            .iter()
            .map(|b| {
                let x = bands.get(&b.band);
                AgeInterval {
                    width: b.width(),
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
                IndicatorId::LifeExpectancy75,
                table.as_ref().ok().map(|t| t.life_expectancy),
            ),
            (
                IndicatorId::Independence75,
                table.as_ref().ok().map(|t| t.independence),
            ),
        ] {
            rows.push(IndicatorRow {
                indicator: id,
                rule_id: None,
                fy,
                municipality_code: m.clone(),
                sex: s,
                age_band: AgeGroup::All,
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
/// to the union and each sex also to all; in the order of (FY, `municipality_code`, `sex`)
/// as written on disk.
fn life_groups(
    life: &[(i32, LifeInput)],
) -> Vec<((i32, Area, SexGroup), BTreeMap<AgeBand, LifeInput>)> {
    type Group = ((i32, Area, SexGroup), BTreeMap<AgeBand, LifeInput>);
    let mut groups: BTreeMap<(i32, String, &'static str), Group> = BTreeMap::new();
    for (fy, l) in life {
        for m in [&l.municipality_code, &Area::Union] {
            for s in [SexGroup::Sex(l.sex), SexGroup::All] {
                let e = groups
                    .entry((*fy, m.as_str().to_string(), s.as_str()))
                    .or_insert_with(|| ((*fy, m.clone(), s), BTreeMap::new()))
                    .1
                    .entry(l.age_band)
                    .or_insert_with(|| LifeInput {
                        municipality_code: m.clone(),
                        sex: l.sex,
                        age_band: l.age_band,
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
    groups.into_values().collect()
}

/// Direct age standardisation: the union's age structure (denominators) of the same
/// indicator, FY and sex as the standard. Sets `age_standardised` (same unit as `value`)
/// on the all-ages rows of the indicators defined as age-standardised.
fn age_standardise(rows: &mut [IndicatorRow]) {
    let index: HashMap<Key, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (key_at(r, r.fy), i))
        .collect();
    for i in 0..rows.len() {
        let r = &rows[i];
        if r.age_band != AgeGroup::All || !r.indicator.def().age_standardised {
            continue;
        }
        let (mut num, mut wsum) = (0.0, 0.0);
        for b in AgeBand::ALL {
            let key = |m: &Area| -> Key {
                (
                    r.indicator,
                    r.rule_id.clone(),
                    r.fy,
                    m.clone(),
                    r.sex,
                    AgeGroup::Band(b),
                )
            };
            let (Some(&si), Some(&mi)) = (
                index.get(&key(&Area::Union)),
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
/// from the row's own counts by the indicator's [`Suppression`], "small" meaning
/// 1 ≤ x < [`MIN_COUNT`] — deaths (years): no value or a numerator (deaths) below
/// [`MIN_COUNT`]; persons (yen per insured, `generic_share`): small `persons`; counts: a
/// small numerator, denominator or complement (denominator − numerator, the persons of
/// the denominator not in the numerator: 20 / 27 would reveal 7 by subtraction). Zero is
/// not small (as for the numerator): 12 / 12 is published, its complement 0 is.
pub(crate) fn primary_suppression(rows: &mut [IndicatorRow]) {
    for r in rows {
        r.suppressed = match r.indicator.def().suppression {
            Suppression::Deaths => r.value.is_none() || r.numerator < MIN_COUNT,
            Suppression::Persons => small(r.persons as f64),
            Suppression::Counts => {
                small(r.numerator) || small(r.denominator) || small(r.denominator - r.numerator)
            }
        };
    }
}

/// A count that is not published: 1 ≤ x < [`MIN_COUNT`] (zero is published).
pub fn small(x: f64) -> bool {
    (1.0..MIN_COUNT).contains(&x)
}

/// Change from the previous FY: sets `previous_value` (the same row's value one FY
/// earlier), `change` (value − previous, in the value's unit) and `direction` (`up` or
/// `down` when the change exceeds 0.5 for yen per insured or 0.05 otherwise, else
/// `same`); rows without a previous value keep none.
fn change_from_previous(rows: &mut [IndicatorRow]) {
    let prev: HashMap<Key, Option<f64>> = rows
        .iter()
        .map(|r| (key_at(r, r.fy + 1), r.value))
        .collect();
    for r in rows {
        if let Some(Some(p)) = prev.get(&key_at(r, r.fy)) {
            r.previous_value = Some(*p);
            if let Some(v) = r.value {
                let d = v - p;
                let eps = match r.indicator.def().kind {
                    Kind::YenPerInsured => 0.5,
                    Kind::Percent | Kind::Years => 0.05,
                };
                r.change = Some(d);
                r.direction = Some(Direction::of_change(d, eps));
            }
        }
    }
}

/// The published order: indicator (as listed in
/// [`INDICATORS`](ittai_model::indicators::INDICATORS), the order of [`IndicatorId`]), rule,
/// FY, union first then municipalities by code ([`Area`]'s order), sex (all, male, female)
/// and age band (all, then youngest first), the orders of [`SexGroup`] and [`AgeGroup`].
fn sort_rows(rows: &mut [IndicatorRow]) {
    rows.sort_by(|a, b| {
        (
            a.indicator,
            &a.rule_id,
            a.fy,
            &a.municipality_code,
            a.sex,
            a.age_band,
        )
            .cmp(&(
                b.indicator,
                &b.rule_id,
                b.fy,
                &b.municipality_code,
                b.sex,
                b.age_band,
            ))
    });
}

/// Secondary suppression: each set of cells adds up to its total (total = Σ parts, for
/// numerator, denominator and complement alike); an equation with exactly one hidden
/// member — one hidden part under a shown total, or a hidden total over shown parts —
/// gives that member back by subtraction or addition. For every such equation the shown
/// part with the smallest denominator is hidden too (then two members are hidden). Sets:
/// municipalities of the union; male and female of all; age bands of all ages. Repeated
/// until nothing changes (each pass sees the hiding of the previous one, so a part hidden
/// for one equation is counted in the others it belongs to).
fn secondary_suppression(rows: &mut [IndicatorRow]) {
    type GroupKey = (
        IndicatorId,
        Option<String>,
        i32,
        Option<Area>,
        Option<SexGroup>,
        Option<AgeGroup>,
    );
    for _ in 0..10 {
        let mut changed = false;
        // The set a row belongs to along one dimension (0 municipality, 1 sex, 2 age band):
        // its key with that dimension blanked, for rows that are not that dimension's total.
        let set_of = |r: &IndicatorRow, dim: usize| -> Option<GroupKey> {
            let total = [
                r.municipality_code.is_union(),
                r.sex == SexGroup::All,
                r.age_band == AgeGroup::All,
            ][dim];
            (!total).then(|| {
                (
                    r.indicator,
                    r.rule_id.clone(),
                    r.fy,
                    (dim != 0).then(|| r.municipality_code.clone()),
                    (dim != 1).then_some(r.sex),
                    (dim != 2).then_some(r.age_band),
                )
            })
        };
        let index: HashMap<Key, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (key_at(r, r.fy), i))
            .collect();
        for dim in 0..3 {
            let mut sets: HashMap<GroupKey, Vec<usize>> = HashMap::new();
            for (i, r) in rows.iter().enumerate() {
                if r.indicator.def().kind == Kind::Years {
                    continue;
                }
                if let Some(k) = set_of(r, dim) {
                    sets.entry(k).or_default().push(i);
                }
            }
            for (k, members) in &sets {
                let total: Key = (
                    k.0,
                    k.1.clone(),
                    k.2,
                    k.3.clone().unwrap_or(Area::Union),
                    k.4.unwrap_or(SexGroup::All),
                    k.5.unwrap_or(AgeGroup::All),
                );
                let total_hidden = index.get(&total).is_some_and(|&t| rows[t].suppressed);
                let hidden = members.iter().filter(|&&i| rows[i].suppressed).count()
                    + usize::from(total_hidden);
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
    let o = |f: &dyn Fn(&IndicatorRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new(
            "indicator".into(),
            rows.iter()
                .map(|r| r.indicator.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "rule_id".into(),
            rows.iter().map(|r| r.rule_id.clone()).collect::<Vec<_>>(),
        ),
        Column::new("fy".into(), rows.iter().map(|r| r.fy).collect::<Vec<_>>()),
        Column::new(
            "municipality_code".into(),
            rows.iter()
                .map(|r| r.municipality_code.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "sex".into(),
            rows.iter().map(|r| r.sex.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "age_band".into(),
            rows.iter().map(|r| r.age_band.as_str()).collect::<Vec<_>>(),
        ),
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
            rows.iter()
                .map(|r| r.direction.map(Direction::as_str))
                .collect::<Vec<_>>(),
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
