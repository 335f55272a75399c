//! The published indicator table: Japanese headers, municipality names, and small counts
//! blanked (docs/reference/indicators.md: counts under 10 and the rates built on them are suppressed, with a
//! flag).

use std::collections::{BTreeMap, HashMap};

use ittai_model::indicators::{
    AgeGroup, Area, Direction, FunnelStep, IndicatorId, IndicatorRow, LifeLine, SexGroup,
};

use ittai_dataset::{Cells, Table};

/// Marker in the 秘匿 column of a suppressed cell.
pub const SUPPRESSED: &str = "※";

/// Japanese label of a direction ([`Direction::label_ja`]).
pub fn direction_ja(d: Option<Direction>) -> Option<String> {
    d.map(|d| d.label_ja().to_string())
}

/// The 年齢階級 cell of the published table: 全年齢, or the band's label (`75-79` …).
pub fn age_group_label(b: AgeGroup) -> &'static str {
    match b {
        AgeGroup::All => "全年齢",
        AgeGroup::Band(b) => b.label(),
    }
}

/// Builds the published table. `names` maps municipality codes to names (the union is
/// labelled 広域連合全体). A suppressed row keeps its keys and the flag; its numbers are
/// blank. The change is blank when either year is suppressed.
pub fn published(rows: &[IndicatorRow], names: &BTreeMap<String, String>) -> Table {
    let suppressed: HashMap<ittai_model::indicators::RowKey<'_>, bool> =
        rows.iter().map(|r| (r.key(), r.suppressed)).collect();
    let prev_hidden = |r: &IndicatorRow| {
        *suppressed
            .get(&(
                r.indicator,
                r.rule_id.as_deref(),
                r.fy - 1,
                &r.municipality_code,
                r.sex,
                r.age_band,
            ))
            .unwrap_or(&false)
    };
    let show = |r: &IndicatorRow, v: Option<f64>| if r.suppressed { None } else { v };
    let round = |v: Option<f64>, d: i32| v.map(|x| (x * 10f64.powi(d)).round() / 10f64.powi(d));
    let digits = |r: &IndicatorRow| r.indicator.def().unit.decimals();
    let mut t = Table::default();
    t.add(
        "fy",
        Cells::Int(rows.iter().map(|r| Some(r.fy as i64)).collect()),
    );
    t.add(
        "indicator",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.indicator.def().name_ja.to_string()))
                .collect(),
        ),
    );
    t.add(
        "rule_id",
        Cells::Text(rows.iter().map(|r| r.rule_id.clone()).collect()),
    );
    t.add(
        "municipality_code",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.municipality_code.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "municipality",
        Cells::Text(
            rows.iter()
                .map(|r| Some(area_name(&r.municipality_code, names)))
                .collect(),
        ),
    );
    t.add(
        "sex",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.sex.label_ja().to_string()))
                .collect(),
        ),
    );
    t.add(
        "age_band",
        Cells::Text(
            rows.iter()
                .map(|r| Some(age_group_label(r.age_band).to_string()))
                .collect(),
        ),
    );
    t.add(
        "numerator",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, Some(r.numerator)), 2))
                .collect(),
        ),
    );
    t.add(
        "denominator",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, Some(r.denominator)), 2))
                .collect(),
        ),
    );
    t.add(
        "value",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, r.value), digits(r)))
                .collect(),
        ),
    );
    t.add(
        "unit",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.indicator.def().unit.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "age_standardised",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, r.age_standardised), digits(r)))
                .collect(),
        ),
    );
    t.add(
        "ci_lower",
        Cells::Float(rows.iter().map(|r| round(show(r, r.ci_lower), 2)).collect()),
    );
    t.add(
        "ci_upper",
        Cells::Float(rows.iter().map(|r| round(show(r, r.ci_upper), 2)).collect()),
    );
    let both = |r: &IndicatorRow| !r.suppressed && !prev_hidden(r);
    t.add(
        "previous_value",
        Cells::Float(
            rows.iter()
                .map(|r| {
                    if both(r) {
                        round(r.previous_value, digits(r))
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    );
    t.add(
        "change",
        Cells::Float(
            rows.iter()
                .map(|r| {
                    if both(r) {
                        round(r.change, digits(r))
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    );
    t.add(
        "direction",
        Cells::Text(
            rows.iter()
                .map(|r| {
                    if both(r) {
                        direction_ja(r.direction)
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    );
    t.add(
        "suppressed",
        Cells::Text(
            rows.iter()
                .map(|r| r.suppressed.then(|| SUPPRESSED.to_string()))
                .collect(),
        ),
    );
    t
}

fn small(x: f64) -> bool {
    (1.0..MIN_COUNT).contains(&x)
}

/// Counts below this are not published.
const MIN_COUNT: f64 = 10.0;

/// The life tables as a published table: one row per FY × area × sex × band; counts of 1–9
/// (deaths, persons) are blank. Columns: fy, municipality_code, municipality, sex,
/// age_band, deaths, person_years, m, q, l, big_l, prevalence, e, h.
pub fn life_table(lines: &[LifeLine], names: &BTreeMap<String, String>) -> Table {
    let mut t = Table::default();
    let count = |x: f64| if small(x) { None } else { Some(x) };
    let r = |x: Option<f64>, d: i32| x.map(|x| (x * 10f64.powi(d)).round() / 10f64.powi(d));
    t.add(
        "fy",
        Cells::Int(lines.iter().map(|l| Some(l.fy as i64)).collect()),
    );
    t.add(
        "municipality_code",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(l.municipality_code.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "municipality",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(area_name(&l.municipality_code, names)))
                .collect(),
        ),
    );
    t.add(
        "sex",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(l.sex.label_ja().to_string()))
                .collect(),
        ),
    );
    t.add(
        "age_band",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(l.age_band.label().to_string()))
                .collect(),
        ),
    );
    t.add(
        "deaths",
        Cells::Float(lines.iter().map(|l| count(l.deaths)).collect()),
    );
    t.add(
        "person_years",
        Cells::Float(lines.iter().map(|l| r(Some(l.person_years), 1)).collect()),
    );
    t.add(
        "sample",
        Cells::Float(lines.iter().map(|l| count(l.sample)).collect()),
    );
    t.add(
        "dependent",
        Cells::Float(lines.iter().map(|l| count(l.dependent)).collect()),
    );
    t.add("m", Cells::Float(lines.iter().map(|l| r(l.m, 5)).collect()));
    t.add("q", Cells::Float(lines.iter().map(|l| r(l.q, 5)).collect()));
    t.add("l", Cells::Float(lines.iter().map(|l| r(l.l, 0)).collect()));
    t.add(
        "big_l",
        Cells::Float(lines.iter().map(|l| r(l.big_l, 0)).collect()),
    );
    t.add(
        "prevalence",
        Cells::Float(lines.iter().map(|l| r(l.prevalence, 4)).collect()),
    );
    t.add("e", Cells::Float(lines.iter().map(|l| r(l.e, 2)).collect()));
    t.add("h", Cells::Float(lines.iter().map(|l| r(l.h, 2)).collect()));
    t
}

/// The attrition funnels as a published table (counts of 1–9 blank). Columns: fy,
/// rule_id, rule_name_ja, step, condition_ja, persons, insufficient_coverage, lookback_fys.
pub fn funnel_table(steps: &[FunnelStep]) -> Table {
    let count = |x: u64| {
        if small(x as f64) {
            None
        } else {
            Some(x as i64)
        }
    };
    let mut t = Table::default();
    t.add(
        "fy",
        Cells::Int(steps.iter().map(|s| Some(s.fy as i64)).collect()),
    );
    t.add(
        "rule_id",
        Cells::Text(steps.iter().map(|s| Some(s.rule_id.clone())).collect()),
    );
    t.add(
        "rule_name_ja",
        Cells::Text(steps.iter().map(|s| Some(s.rule_name_ja.clone())).collect()),
    );
    t.add(
        "step",
        Cells::Int(steps.iter().map(|s| Some(s.step as i64)).collect()),
    );
    t.add(
        "condition_ja",
        Cells::Text(steps.iter().map(|s| Some(s.condition_ja.clone())).collect()),
    );
    t.add(
        "persons",
        Cells::Int(steps.iter().map(|s| count(s.persons)).collect()),
    );
    t.add(
        "insufficient_coverage",
        Cells::Int(
            steps
                .iter()
                .map(|s| count(s.insufficient_coverage))
                .collect(),
        ),
    );
    t
}

/// One row per area (union first) and one column per indicator (ハイリスク者割合 per
/// rule): the published all-sex, all-age values of fiscal year `fy` — age-standardised
/// where the indicator has one, else crude; suppressed cells blank.
pub fn comparison_table(rows: &[IndicatorRow], fy: i32, names: &BTreeMap<String, String>) -> Table {
    let union = Area::Union;
    let mut areas: Vec<&Area> = rows
        .iter()
        .map(|r| &r.municipality_code)
        .filter(|m| !m.is_union())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    areas.insert(0, &union);
    let all_all = |r: &IndicatorRow| r.sex == SexGroup::All && r.age_band == AgeGroup::All;
    let mut cols: Vec<(IndicatorId, Option<String>)> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.fy == fy && r.municipality_code.is_union() && all_all(r))
    {
        let k = (r.indicator, r.rule_id.clone());
        if !cols.contains(&k) {
            cols.push(k);
        }
    }
    let index: HashMap<(IndicatorId, Option<&str>, &Area), &IndicatorRow> = rows
        .iter()
        .filter(|r| r.fy == fy && all_all(r))
        .map(|r| ((r.indicator, r.rule_id.as_deref(), &r.municipality_code), r))
        .collect();
    let mut t = Table::default();
    t.add(
        "municipality_code",
        Cells::Text(areas.iter().map(|m| Some(m.as_str().to_string())).collect()),
    );
    t.add(
        "municipality",
        Cells::Text(areas.iter().map(|m| Some(area_name(m, names))).collect()),
    );
    for (id, rule) in &cols {
        let d = id.def();
        let std = d.age_standardised;
        let name = format!(
            "{}_{}",
            id.as_str(),
            rule.as_deref().unwrap_or(if std { "std" } else { "value" })
        );
        let header = format!(
            "{}{}{}（{}）",
            d.name_ja,
            rule.as_ref().map(|x| format!(" {x}")).unwrap_or_default(),
            if std { " 年齢調整" } else { "" },
            d.unit.as_str()
        );
        let digits = d.unit.decimals();
        let cells = areas
            .iter()
            .map(|m| {
                index
                    .get(&(*id, rule.as_deref(), *m))
                    .filter(|r| !r.suppressed)
                    .and_then(|r| {
                        if std {
                            r.age_standardised.or(r.value)
                        } else {
                            r.value
                        }
                    })
                    .map(|x| (x * 10f64.powi(digits)).round() / 10f64.powi(digits))
            })
            .collect();
        t.push(&name, &header, Cells::Float(cells));
    }
    t
}

fn area_name(m: &Area, names: &BTreeMap<String, String>) -> String {
    match m {
        Area::Union => "広域連合全体".to_string(),
        Area::Municipality(code) => names.get(code).cloned().unwrap_or_default(),
    }
}
