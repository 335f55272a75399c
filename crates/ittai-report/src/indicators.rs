//! The published indicator table: Japanese headers, municipality names, and small counts
//! blanked (SPEC §7: counts under 10 and the rates built on them are suppressed, with a
//! flag).

use std::collections::{BTreeMap, HashMap};

use ittai_model::indicators::{IndicatorRow, UNION, def, sex_label_ja};

use crate::table::{Cells, Table};

/// Marker in the 秘匿 column of a suppressed cell.
pub const SUPPRESSED: &str = "※";

/// Japanese label of a direction.
pub fn direction_ja(d: Option<&str>) -> Option<String> {
    d.map(|d| match d {
        "up" => "↑ 上昇",
        "down" => "↓ 低下",
        _ => "→ 横ばい",
    })
    .map(str::to_string)
}

/// Builds the published table. `names` maps municipality codes to names (the union is
/// labelled 広域連合全体). A suppressed row keeps its keys and the flag; its numbers are
/// blank. The change is blank when either year is suppressed.
pub fn published(rows: &[IndicatorRow], names: &BTreeMap<String, String>) -> Table {
    let suppressed: HashMap<(&str, Option<&str>, i32, &str, &str, &str), bool> = rows
        .iter()
        .map(|r| ((r.indicator.as_str(), r.rule_id.as_deref(), r.fy, r.municipality_code.as_str(), r.sex.as_str(), r.age_band.as_str()), r.suppressed))
        .collect();
    let prev_hidden = |r: &IndicatorRow| {
        *suppressed
            .get(&(r.indicator.as_str(), r.rule_id.as_deref(), r.fy - 1, r.municipality_code.as_str(), r.sex.as_str(), r.age_band.as_str()))
            .unwrap_or(&false)
    };
    let show = |r: &IndicatorRow, v: Option<f64>| if r.suppressed { None } else { v };
    let round = |v: Option<f64>, d: i32| v.map(|x| (x * 10f64.powi(d)).round() / 10f64.powi(d));
    let digits = |r: &IndicatorRow| if def(&r.indicator).is_some_and(|d| d.unit == "円") { 0 } else { 2 };
    let mut t = Table::default();
    t.push("fy", "年度", Cells::Int(rows.iter().map(|r| Some(r.fy as i64)).collect()));
    t.push("indicator", "指標", Cells::Text(rows.iter().map(|r| Some(def(&r.indicator).map(|d| d.name_ja.to_string()).unwrap_or_else(|| r.indicator.clone()))).collect()));
    t.push("rule_id", "ルールID", Cells::Text(rows.iter().map(|r| r.rule_id.clone()).collect()));
    t.push("municipality_code", "市町村コード", Cells::Text(rows.iter().map(|r| Some(r.municipality_code.clone())).collect()));
    t.push(
        "municipality",
        "市町村名",
        Cells::Text(
            rows.iter()
                .map(|r| Some(if r.municipality_code == UNION { "広域連合全体".to_string() } else { names.get(&r.municipality_code).cloned().unwrap_or_default() }))
                .collect(),
        ),
    );
    t.push("sex", "性別", Cells::Text(rows.iter().map(|r| Some(sex_label_ja(&r.sex).to_string())).collect()));
    t.push("age_band", "年齢階級", Cells::Text(rows.iter().map(|r| Some(if r.age_band == "all" { "全年齢".to_string() } else { r.age_band.clone() })).collect()));
    t.push("numerator", "分子", Cells::Float(rows.iter().map(|r| round(show(r, Some(r.numerator)), 2)).collect()));
    t.push("denominator", "分母", Cells::Float(rows.iter().map(|r| round(show(r, Some(r.denominator)), 2)).collect()));
    t.push("value", "値", Cells::Float(rows.iter().map(|r| round(show(r, r.value), digits(r))).collect()));
    t.push("unit", "単位", Cells::Text(rows.iter().map(|r| def(&r.indicator).map(|d| d.unit.to_string())).collect()));
    t.push("age_standardised", "年齢調整値", Cells::Float(rows.iter().map(|r| round(show(r, r.age_standardised), digits(r))).collect()));
    t.push("ci_lower", "95%信頼区間（下限）", Cells::Float(rows.iter().map(|r| round(show(r, r.ci_lower), 2)).collect()));
    t.push("ci_upper", "95%信頼区間（上限）", Cells::Float(rows.iter().map(|r| round(show(r, r.ci_upper), 2)).collect()));
    let both = |r: &IndicatorRow| !r.suppressed && !prev_hidden(r);
    t.push("previous_value", "前年度値", Cells::Float(rows.iter().map(|r| if both(r) { round(r.previous_value, digits(r)) } else { None }).collect()));
    t.push("change", "前年度差", Cells::Float(rows.iter().map(|r| if both(r) { round(r.change, digits(r)) } else { None }).collect()));
    t.push("direction", "増減", Cells::Text(rows.iter().map(|r| if both(r) { direction_ja(r.direction.as_deref()) } else { None }).collect()));
    t.push("suppressed", "秘匿", Cells::Text(rows.iter().map(|r| r.suppressed.then(|| SUPPRESSED.to_string())).collect()));
    t
}
