//! What each page does, on a blocking thread: read the state, run the engine, hand the
//! results to the templates. Error pages and the terminal never show a value of the data
//! (a person id, a name): only what went wrong in general terms.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ittai_dataset::Cells;
use ittai_engine::rules::{Rule, RuleError};
use ittai_engine::{RunResult, default_headers, evidence_headers, target_list, to_table};
use ittai_model::support::Programme;
use ittai_model::{ClaimKind, FiscalYear, Route};
use ittai_report::CsvEncoding;

use super::app::{REPORT_CSP, enc, page, query};
use super::listing::{self, FILTERS, MIN_RULES, NONE_VALUE, PAGE_ROWS};
use super::pages::{self, Card, FieldKind, FilterView, Nav, ParamField, RuleView, Step};
use super::records::{self, SupportForm};
use super::rulefile;
use super::state::{Loaded, State};
use crate::{cmd_evaluate, cmd_indicators, cmd_report, cmd_run, ui};

type Pairs = [(String, String)];

/// A page for a failure, without any value of the request.
pub fn failure(message: &str) -> Response {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error(&Nav::at(Step::Other), "問題が起きました", message),
    )
}

/// Writes an error on the terminal: the message of the engine, shortened (it names files
/// and columns, not values of the data).
fn log_error(e: &anyhow::Error) {
    let text: String = format!("{e:#}").chars().take(400).collect();
    eprintln!("ittai serve: error: {text}");
}

/// Logs an engine error and shows a general page.
fn engine_failure(e: &anyhow::Error) -> Response {
    log_error(e);
    failure(
        "計算の途中で問題が起きました。ittai serve を起動した画面に出た内容を確かめてください。",
    )
}

/// 404.
pub fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        pages::error(
            &Nav::at(Step::Other),
            "ページが見つかりません",
            "アドレスを確かめるか、ホームから選び直してください。",
        ),
    )
}

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (status, Json(v)).into_response()
}

/// The last value of `key` in a query or form.
fn get<'a>(q: &'a Pairs, key: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The FY asked for (`fy=`), when the data cover it, else the default FY.
fn fy_of(loaded: &Loaded, q: &Pairs) -> i32 {
    loaded.fy_or_default(get(q, "fy").and_then(|v| v.trim().parse().ok()))
}

/// ホーム.
pub fn home(st: &State) -> Response {
    let loaded = st.loaded();
    let defaults = match st.defaults(loaded.default_fy) {
        Ok(d) => d,
        Err(e) => return engine_failure(&e),
    };
    let report = &loaded.job.prepared.report;
    let v = pages::HomeView {
        data: st.cfg.data.display().to_string(),
        sample: st.cfg.sample,
        fys: loaded.fys.clone(),
        default_fy: loaded.default_fy,
        population: defaults.population,
        tables: report
            .tables
            .iter()
            .map(|t| pages::TableRow {
                name: t.table.clone(),
                rows: t.rows_clean,
                from: t.date_min,
                to: t.date_max,
                problems: t.rows_rejected + t.values_nulled,
            })
            .collect(),
        problems: report.violations(),
        validation: loaded.job.prepared.validation,
        rules: loaded.job.rules.len(),
        rules_dir: st.cfg.rules.as_ref().map(|d| d.display().to_string()),
        register: st.cfg.register.as_ref().map(|d| d.display().to_string()),
        out: st.cfg.out.display().to_string(),
    };
    page(StatusCode::OK, pages::home(&Nav::at(Step::Home), &v))
}

/// The Japanese name of a kind of validation problem (its snake_case name otherwise).
fn kind_ja(name: &'static str) -> &'static str {
    match name {
        "missing_column" => "必要な列がない",
        "wrong_type" => "列の型が違う",
        "unreadable" => "ファイルを読めない",
        "ambiguous_table" => "同じ表のファイルが2つある",
        "bad_record" => "列の数が見出しと違う行",
        "not_parseable" => "値を読み取れない",
        "null_required" => "必須の値が空",
        "bad_code" => "コードが正しくない",
        "out_of_range" => "値がありえない範囲",
        "implausible_date" => "日付がありえない",
        "not_month_start" => "年月が月の1日でない",
        "bad_interval" => "終了日が開始日より前",
        "duplicate_claim_id" => "レセプトIDの重複",
        "unknown_claim" => "レセプトにない明細",
        "claim_mismatch" => "明細とレセプトの不一致",
        "unknown_person" => "被保険者にいない人",
        "overlapping_coverage" => "資格期間の重なり",
        "inconsistent_person" => "性別・生年月日の不一致",
        "duplicate_contact" => "同じ支援の重複",
        other => other,
    }
}

/// データの問題: counts by table and kind.
pub fn problems(st: &State) -> Response {
    let loaded = st.loaded();
    let prepared = &loaded.job.prepared;
    let mut rows: Vec<pages::ProblemRow> = Vec::new();
    for t in &prepared.report.tables {
        if t.file_error.is_some() {
            rows.push((t.table.clone(), "ファイルを読めなかった", 1));
        }
        for (kind, count) in &t.violations {
            rows.push((t.table.clone(), kind_ja(kind.name()), *count));
        }
    }
    let rejects = prepared.rejects.display().to_string();
    page(
        StatusCode::OK,
        pages::problems(&Nav::at(Step::Other), &rows, &rejects),
    )
}

/// The groups of the purpose page, as the national tool groups the rules.
const GROUPS: [(Programme, &str); 6] = [
    (Programme::Undernutrition, "低栄養"),
    (Programme::Oral, "口腔"),
    (Programme::Medication, "服薬（多剤・睡眠薬）"),
    (Programme::PhysicalFrailty, "身体的フレイル"),
    (Programme::DiseasePrevention, "重症化予防"),
    (Programme::HealthUnknown, "健康状態不明者"),
];

/// ① 抽出目的.
pub fn purpose(st: &State, q: &Pairs) -> Response {
    let loaded = st.loaded();
    let fy = fy_of(&loaded, q);
    let d = match st.defaults(fy) {
        Ok(d) => d,
        Err(e) => return engine_failure(&e),
    };
    let card = |r: &Rule| Card {
        id: r.id.clone(),
        name: r.name_ja.clone(),
        purpose: r.purpose_ja.clone(),
        count: d.count(&r.id),
    };
    let rules = &loaded.job.rules;
    let mut groups: Vec<(String, Vec<Card>)> = Vec::new();
    for (p, title) in GROUPS {
        let cards: Vec<Card> = rules
            .iter()
            .filter(|r| p.rules().contains(&r.id.as_str()))
            .map(card)
            .collect();
        if !cards.is_empty() {
            groups.push((title.to_string(), cards));
        }
    }
    let others: Vec<Card> = rules
        .iter()
        .filter(|r| Programme::for_rule(&r.id).is_none())
        .map(card)
        .collect();
    if !others.is_empty() {
        groups.push(("その他の抽出条件".to_string(), others));
    }
    page(
        StatusCode::OK,
        pages::purpose(
            &Nav::at(Step::Purpose),
            &loaded.fys,
            fy,
            d.population,
            &groups,
            &st.csrf,
        ),
    )
}

/// A parameter value as text, as `--set RULE.NAME=VALUE` takes it (lists comma-joined).
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => ittai_dataset::format_float(*f),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// The input kind of a parameter, from its default value (and its name for the two
/// parameters with a fixed set of words).
fn kind_of(name: &str, v: &toml::Value) -> FieldKind {
    let words = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    match v {
        toml::Value::Integer(_) => FieldKind::Integer,
        toml::Value::Float(_) => FieldKind::Float,
        toml::Value::Boolean(_) => FieldKind::Bool,
        toml::Value::Array(items) => {
            let names: Vec<&str> = items.iter().filter_map(|x| x.as_str()).collect();
            if names.is_empty() {
                FieldKind::Text
            } else if names.iter().all(|n| ClaimKind::from_name(n).is_some()) {
                FieldKind::Multi(
                    ClaimKind::ALL
                        .iter()
                        .map(|k| (k.label_en().to_string(), k.label_ja().to_string()))
                        .collect(),
                )
            } else if names.iter().all(|n| Route::from_name(n).is_some()) {
                FieldKind::Multi(
                    Route::ALL
                        .iter()
                        .map(|r| (r.label_en().to_string(), r.label_ja().to_string()))
                        .collect(),
                )
            } else {
                FieldKind::Text
            }
        }
        toml::Value::String(_) if name == "unit" => FieldKind::Choice(words(&[
            ("yj7", "成分（YJコード上7桁）"),
            ("yj", "製品規格（YJコード12桁）"),
            ("drug_code", "レセ電コード"),
        ])),
        toml::Value::String(_) if name == "connective" => FieldKind::Choice(words(&[
            ("and", "すべて満たす（かつ）"),
            ("or", "いずれかを満たす（または）"),
        ])),
        _ => FieldKind::Text,
    }
}

/// A default value for people: labels instead of codes.
fn default_ja(kind: &FieldKind, text: &str) -> String {
    let label = |options: &[(String, String)], v: &str| {
        options
            .iter()
            .find(|(code, _)| code == v)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| v.to_string())
    };
    match kind {
        FieldKind::Bool => (if text == "true" {
            "はい"
        } else {
            "いいえ"
        })
        .to_string(),
        FieldKind::Choice(o) => label(o, text),
        FieldKind::Multi(o) => text
            .split(',')
            .map(|x| label(o, x.trim()))
            .collect::<Vec<_>>()
            .join("・"),
        _ => text.to_string(),
    }
}

/// The parameter values of a request (name → text), for the parameters of `default`.
/// A form sent from the page has `_form=1`: then an unticked box means false (or an empty
/// list); a link without `_form` leaves out what it does not change.
fn submitted(default: &Rule, q: &Pairs) -> BTreeMap<String, String> {
    let form = q.iter().any(|(k, _)| k == "_form");
    let mut out = BTreeMap::new();
    for (name, p) in &default.params {
        let vals: Vec<&str> = q
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        let text = match &p.value {
            toml::Value::Boolean(_) => match vals.last() {
                Some(v) => Some((*v).to_string()),
                None if form => Some("false".to_string()),
                None => None,
            },
            toml::Value::Array(_) => (form || !vals.is_empty()).then(|| vals.join(",")),
            _ => vals.last().map(|v| (*v).to_string()),
        };
        if let Some(t) = text {
            out.insert(name.clone(), t);
        }
    }
    out
}

/// The parameters of `rule` that differ from `default` (name, text).
fn changed(default: &Rule, rule: &Rule) -> Vec<(String, String)> {
    rule.params
        .iter()
        .filter(|(k, p)| default.params.get(*k).is_none_or(|d| d.value != p.value))
        .map(|(k, p)| (k.clone(), value_text(&p.value)))
        .collect()
}

/// `fy=…&name=value…`.
fn carry_query(fy: i32, pairs: &[(String, String)]) -> String {
    let mut all = vec![("fy".to_string(), fy.to_string())];
    all.extend(pairs.iter().cloned());
    query(&all)
}

/// A word for a shell command, quoted when needed.
fn shell(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The same extraction as an `ittai run` command.
fn cli(st: &State, id: &str, fy: i32, changed: &[(String, String)]) -> String {
    let mut parts = vec!["ittai run".to_string()];
    if !st.cfg.sample {
        parts.push(format!(
            "--data {}",
            shell(&st.cfg.data.display().to_string())
        ));
    }
    if let Some(d) = &st.cfg.rules {
        parts.push(format!("--rules {}", shell(&d.display().to_string())));
    }
    parts.push(format!("--fy {fy} --only {}", shell(id)));
    for (k, v) in changed {
        parts.push(format!("--set {}", shell(&format!("{id}.{k}={v}"))));
    }
    parts.join(" ")
}

/// Why a rule could not be applied.
enum Problem {
    /// No rule with that id.
    NotFound,
    /// A parameter value is wrong: the parameter (when known) and the message.
    Param(Option<String>, String),
    /// The engine failed.
    Engine(anyhow::Error),
}

/// A rule applied with the parameters of a request.
struct Evaluated {
    rule: Rule,
    changed: Vec<(String, String)>,
    result: RunResult,
}

fn param_problem(e: RuleError) -> Problem {
    let param = e.key.strip_prefix("params.").map(str::to_string);
    Problem::Param(param, format!("この値は使えません（{}）", e.message))
}

/// Rule `id` with the submitted parameters, applied in FY `fy`.
fn evaluate(
    st: &State,
    loaded: &Loaded,
    id: &str,
    fy: i32,
    submitted: &BTreeMap<String, String>,
) -> Result<Evaluated, Problem> {
    let default = loaded.rule(id).ok_or(Problem::NotFound)?;
    let rule = st.rule_with(loaded, id, submitted).map_err(param_problem)?;
    let changed = changed(default, &rule);
    let result = st.apply(fy, &rule).map_err(Problem::Engine)?;
    Ok(Evaluated {
        rule,
        changed,
        result,
    })
}

/// The fields of the rule form: each parameter with its current text (`values`), its
/// default, and the error when it is the parameter at fault.
fn fields(
    default: &Rule,
    values: &BTreeMap<String, String>,
    error: Option<(&str, &str)>,
) -> Vec<ParamField> {
    default
        .params
        .iter()
        .map(|(name, p)| {
            let kind = kind_of(name, &p.value);
            let default_text = value_text(&p.value);
            let value = values
                .get(name)
                .cloned()
                .unwrap_or_else(|| default_text.clone());
            let default_ja = default_ja(&kind, &default_text);
            let kind = match kind {
                FieldKind::Choice(mut o) if !o.iter().any(|(c, _)| *c == value) => {
                    o.push((value.clone(), value.clone()));
                    FieldKind::Choice(o)
                }
                k => k,
            };
            ParamField {
                name: name.clone(),
                label: p.label_ja.clone(),
                unit: p.unit.clone(),
                kind,
                value,
                default: default_text,
                default_ja,
                error: error
                    .filter(|(param, _)| param == name)
                    .map(|(_, m)| m.to_string()),
            }
        })
        .collect()
}

/// ② 抽出条件.
pub fn rule_page(st: &State, id: &str, q: &Pairs) -> Response {
    rule_view(st, id, q, None, StatusCode::OK)
}

/// The conditions page for the parameters of `q`, with `note` (an error of a form sent
/// from it) above the form.
fn rule_view(
    st: &State,
    id: &str,
    q: &Pairs,
    note: Option<String>,
    status: StatusCode,
) -> Response {
    let loaded = st.loaded();
    let Some(default) = loaded.rule(id) else {
        return not_found();
    };
    let fy = fy_of(&loaded, q);
    let sub = submitted(default, q);
    let mut v = RuleView {
        id: default.id.clone(),
        name: default.name_ja.clone(),
        purpose: default.purpose_ja.clone(),
        citation: default.citation.clone(),
        origin: default.origin.clone(),
        coverage_guard: default.coverage_guard,
        fy,
        fys: loaded.fys.clone(),
        fields: Vec::new(),
        text_ja: None,
        funnel: Vec::new(),
        listed: None,
        population: None,
        error: None,
        carry: String::new(),
        changed: Vec::new(),
        cli: String::new(),
        csrf: st.csrf.clone(),
    };
    match evaluate(st, &loaded, id, fy, &sub) {
        Ok(ev) => {
            let values: BTreeMap<String, String> = ev
                .rule
                .params
                .iter()
                .map(|(k, p)| (k.clone(), value_text(&p.value)))
                .collect();
            v.fields = fields(default, &values, None);
            if let Some(r) = ev.result.results.first() {
                v.text_ja = Some(r.text_ja.clone());
                v.funnel = r.attrition.clone();
                v.listed = Some(r.listed);
            }
            v.population = Some(ev.result.population);
            v.carry = carry_query(fy, &ev.changed);
            v.cli = cli(st, id, fy, &ev.changed);
            v.changed = ev.changed;
        }
        Err(Problem::Param(param, message)) => {
            v.fields = fields(
                default,
                &sub,
                param.as_deref().map(|p| (p, message.as_str())),
            );
            if param.is_none() {
                v.error = Some(message);
            } else {
                v.error = Some("値を直してください。".to_string());
            }
            let pairs: Vec<(String, String)> = sub.into_iter().collect();
            v.carry = carry_query(fy, &pairs);
            v.changed = pairs;
        }
        Err(Problem::Engine(e)) => return engine_failure(&e),
        Err(Problem::NotFound) => return not_found(),
    }
    if note.is_some() {
        v.error = note;
    }
    let nav = Nav {
        step: Step::Conditions,
        rule: Some(id.to_string()),
        carry: v.carry.clone(),
    };
    page(status, pages::rule(&nav, &v))
}

/// `/rules/{id}/count`: the count and the funnel for the parameters of `q`, as JSON.
pub fn rule_count(st: &State, id: &str, q: &Pairs) -> Response {
    let loaded = st.loaded();
    let Some(default) = loaded.rule(id) else {
        return json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "この抽出条件はありません。", "param": null, "listed": null }),
        );
    };
    let fy = fy_of(&loaded, q);
    let sub = submitted(default, q);
    match evaluate(st, &loaded, id, fy, &sub) {
        Ok(ev) => {
            let r = ev.result.results.first();
            let carry = carry_query(fy, &ev.changed);
            json(
                StatusCode::OK,
                serde_json::json!({
                    "rule": id,
                    "fy": fy,
                    "listed": r.map(|r| r.listed),
                    "population": ev.result.population,
                    "funnel": r.map(|r| r.attrition.clone()).unwrap_or_default(),
                    "text_ja": r.map(|r| r.text_ja.clone()),
                    "changed": ev.changed.clone(),
                    "carry": carry.clone(),
                    "list_url": format!("/rules/{}/list?{carry}", enc(id)),
                    "cli": cli(st, id, fy, &ev.changed),
                }),
            )
        }
        Err(Problem::Param(param, message)) => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({ "error": message, "param": param, "listed": null }),
        ),
        Err(Problem::Engine(e)) => {
            log_error(&e);
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": "計算の途中で問題が起きました。", "param": null, "listed": null }),
            )
        }
        Err(Problem::NotFound) => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({ "error": "この抽出条件はありません。", "param": null, "listed": null }),
        ),
    }
}

/// A filter value for people.
fn option_label(column: &str, value: &str, st: &State) -> String {
    if value == NONE_VALUE {
        return if column == "care_level" {
            "認定なし".to_string()
        } else {
            "（空欄）".to_string()
        };
    }
    match (column, st.muni.get(value)) {
        ("municipality_code", Some(name)) => format!("{value} {name}"),
        _ => value.to_string(),
    }
}

/// ③ 対象者一覧.
pub fn rule_list(st: &State, id: &str, q: &Pairs) -> Response {
    let loaded = st.loaded();
    let Some(default) = loaded.rule(id) else {
        return not_found();
    };
    let fy = fy_of(&loaded, q);
    let sub = submitted(default, q);
    let ev = match evaluate(st, &loaded, id, fy, &sub) {
        Ok(ev) => ev,
        Err(Problem::Param(..)) => {
            return rule_view(st, id, q, None, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(Problem::Engine(e)) => return engine_failure(&e),
        Err(Problem::NotFound) => return not_found(),
    };
    let defaults = match st.defaults(fy) {
        Ok(d) => d,
        Err(e) => return engine_failure(&e),
    };
    let Some(r) = ev.result.results.first() else {
        return failure("この抽出条件の結果がありません。");
    };
    let mut headers = default_headers();
    headers.extend(evidence_headers(&ev.result.results));
    let mut table =
        match target_list(&ev.result.table, r).and_then(|df| to_table(&df, &headers, true)) {
            Ok(t) => t,
            Err(e) => return engine_failure(&e.into()),
        };
    // 該当ルール数: this rule, and the other rules (default parameters) that list the person.
    let pid = listing::col(&table, "person_id");
    if let (Some(pc), Some(nc)) = (pid, listing::col(&table, "n_rules")) {
        let counts: Vec<Option<i64>> = (0..table.rows())
            .map(|i| {
                let person = table.columns[pc].cells.text(i);
                let others = loaded
                    .job
                    .rules
                    .iter()
                    .filter(|x| x.id != id && defaults.lists(&x.id, &person))
                    .count();
                Some(1 + others as i64)
            })
            .collect();
        table.columns[nc].cells = Cells::Int(counts);
    }
    let mut equal: Vec<(usize, String)> = Vec::new();
    let mut filters: Vec<FilterView> = Vec::new();
    let mut filter_pairs: Vec<(String, String)> = Vec::new();
    for (qname, column, label) in FILTERS {
        let Some(c) = listing::col(&table, column) else {
            continue;
        };
        let selected = get(q, qname).unwrap_or("").to_string();
        let options = listing::distinct(&table, c)
            .into_iter()
            .map(|value| {
                let label = option_label(column, &value, st);
                (value, label)
            })
            .collect();
        if !selected.is_empty() {
            equal.push((c, selected.clone()));
            filter_pairs.push((qname.to_string(), selected.clone()));
        }
        filters.push(FilterView {
            name: qname,
            label,
            options,
            selected,
        });
    }
    let nc = listing::col(&table, "n_rules");
    let max_rules = nc
        .and_then(|c| match &table.columns[c].cells {
            Cells::Int(v) => v.iter().flatten().copied().max(),
            _ => None,
        })
        .unwrap_or(1);
    let min_rules = get(q, MIN_RULES).and_then(|v| v.trim().parse::<i64>().ok());
    if let Some(k) = min_rules {
        filter_pairs.push((MIN_RULES.to_string(), k.to_string()));
    }
    let passing = listing::filtered(&table, &equal, nc.zip(min_rules));
    let mut pass = vec![false; table.rows()];
    for &i in &passing {
        pass[i] = true;
    }
    let sort = get(q, "sort").and_then(|s| {
        listing::col(&table, s).map(|c| (c, s.to_string(), get(q, "order") == Some("desc")))
    });
    let keys: Vec<(usize, bool)> = match &sort {
        Some((c, _, desc)) => vec![(*c, *desc)],
        None => [("n_rules", true), ("age", true), ("person_id", false)]
            .iter()
            .filter_map(|(name, desc)| listing::col(&table, name).map(|c| (c, *desc)))
            .collect(),
    };
    let rows: Vec<usize> = listing::order(&table, &keys)
        .into_iter()
        .filter(|&i| pass[i])
        .collect();
    let page_no = get(q, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = rows.len();
    let start = (page_no - 1).saturating_mul(PAGE_ROWS).min(total);
    let end = (start + PAGE_ROWS).min(total);
    let shown = listing::take(&table, &rows[start..end]);
    let carry = carry_query(fy, &ev.changed);
    let base = if filter_pairs.is_empty() {
        carry.clone()
    } else {
        format!("{carry}&{}", query(&filter_pairs))
    };
    let sort_q = match &sort {
        Some((_, name, desc)) => format!(
            "&sort={}&order={}",
            enc(name),
            if *desc { "desc" } else { "asc" }
        ),
        None => String::new(),
    };
    let page_link = |p: usize| format!("/rules/{}/list?{base}{sort_q}&page={p}", enc(id));
    let ids: Vec<String> = shown
        .columns
        .iter()
        .find(|c| c.name == "person_id")
        .map(|c| (0..shown.rows()).map(|i| c.cells.text(i)).collect())
        .unwrap_or_default();
    let names = st.names_for(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    let v = pages::ListView {
        id,
        name: &ev.rule.name_ja,
        fy,
        listed: table.rows(),
        filtered: total,
        from: if total == 0 { 0 } else { start + 1 },
        to: end,
        table: &shown,
        names: &names,
        muni: &st.muni,
        filters,
        min_rules: (min_rules, max_rules),
        carry: carry.clone(),
        base: base.clone(),
        sort: sort.as_ref().map(|(_, name, desc)| (name.clone(), *desc)),
        prev: (page_no > 1 && start > 0).then(|| page_link(page_no - 1)),
        next: (end < total).then(|| page_link(page_no + 1)),
        csrf: &st.csrf,
    };
    let nav = Nav {
        step: Step::List,
        rule: Some(id.to_string()),
        carry,
    };
    page(StatusCode::OK, pages::list(&nav, &v))
}

/// Content type of an xlsx workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A name for a folder of one download: 16 random bytes in hex.
fn download_dir_name() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `/rules/{id}/download?format=xlsx|csv|sjis`: the list as `ittai run --only ID` writes
/// it (`targets/ID_key.csv` or `targets.xlsx`), written into a folder of its own under
/// `OUT/serve-downloads/` and sent back; the folder is removed afterwards.
pub fn rule_download(st: &State, id: &str, q: &Pairs) -> Response {
    let loaded = st.loaded();
    let Some(default) = loaded.rule(id) else {
        return not_found();
    };
    let (format, encoding_name) = match get(q, "format").unwrap_or("xlsx") {
        "csv" => ("csv", "utf8"),
        "sjis" => ("csv", "sjis"),
        "xlsx" => ("xlsx", "utf8"),
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::error(
                    &Nav::at(Step::List),
                    "ダウンロードできません",
                    "形式は xlsx, csv, sjis のどれかです。",
                ),
            );
        }
    };
    let fy = fy_of(&loaded, q);
    let sub = submitted(default, q);
    let ev = match evaluate(st, &loaded, id, fy, &sub) {
        Ok(ev) => ev,
        Err(Problem::Param(..)) => {
            return rule_view(st, id, q, None, StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(Problem::Engine(e)) => return engine_failure(&e),
        Err(Problem::NotFound) => return not_found(),
    };
    let dir = st.cfg.out.join("serve-downloads").join(download_dir_name());
    let stem = format!("{}_{}", ev.rule.id, ev.rule.key);
    let file = || -> anyhow::Result<(Vec<u8>, String)> {
        let formats = cmd_run::Formats::parse(&[format.to_string()])?;
        let encoding = ui::csv_encoding(encoding_name)?;
        cmd_run::write_lists(&dir, formats, encoding, &ev.result, st.register.as_ref())?;
        // With a register the download is the named list (個人情報, as `ittai run
        // --register` writes it to OUT/named/); else the pseudonymised one.
        let folder = if st.register.is_some() {
            "named"
        } else {
            "targets"
        };
        let (path, name) = if format == "xlsx" {
            let p = if st.register.is_some() {
                dir.join("named").join("targets.xlsx")
            } else {
                dir.join("targets.xlsx")
            };
            (p, "targets.xlsx".to_string())
        } else {
            let name = format!("{stem}.csv");
            (dir.join(folder).join(&name), name)
        };
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok((bytes, name))
    };
    let made = file();
    let _ = std::fs::remove_dir_all(dir);
    let (bytes, name) = match made {
        Ok(x) => x,
        Err(e) => return engine_failure(&e),
    };
    let content_type = match encoding_name {
        _ if format == "xlsx" => XLSX,
        "sjis" => "text/csv; charset=Shift_JIS",
        _ => "text/csv; charset=utf-8",
    };
    let mut res = Body::from(bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

/// 「この条件を保存」: `OUT/rules/ID.toml`, and the other rules beside it.
pub fn rule_save(st: &State, id: &str, form: &Pairs) -> Response {
    let loaded = st.loaded();
    let Some(default) = loaded.rule(id) else {
        return not_found();
    };
    let fy = fy_of(&loaded, form);
    let sub = submitted(default, form);
    let rule = match st.rule_with(&loaded, id, &sub) {
        Ok(r) => r,
        Err(e) => {
            let message = match param_problem(e) {
                Problem::Param(_, m) => m,
                _ => "値を直してください。".to_string(),
            };
            return rule_view(
                st,
                id,
                form,
                Some(format!("保存できませんでした。{message}")),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let dir = st.cfg.out.join("rules");
    let saved = {
        let _writing = st.writing();
        rulefile::save(
            &dir,
            &rule,
            default,
            &loaded.job.rules,
            &loaded.job.drug_classes,
            &loaded.job.disease_classes,
        )
    };
    let changed = changed(default, &rule);
    match saved {
        Ok(s) => {
            let nav = Nav {
                step: Step::Conditions,
                rule: Some(id.to_string()),
                carry: carry_query(fy, &changed),
            };
            page(
                StatusCode::OK,
                pages::saved(&nav, id, &rule.name_ja, &s, &changed),
            )
        }
        Err(e) => rule_view(
            st,
            id,
            form,
            Some(format!("保存できませんでした（{e:#}）。")),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

/// 個人の経年, with the support form blank or as posted (with its problems).
pub fn person_page(
    st: &State,
    id: &str,
    posted: Option<(SupportForm, Vec<(&'static str, String)>)>,
) -> Response {
    let loaded = st.loaded();
    let history = match ittai_engine::person::history(&loaded.job.sources, id) {
        Ok(h) => h,
        Err(e) => return engine_failure(&e.into()),
    };
    if history.spells.is_empty() {
        return page(
            StatusCode::NOT_FOUND,
            pages::error(
                &Nav::at(Step::Person),
                "見つかりません",
                "この ID の被保険者はデータにいません。",
            ),
        );
    }
    let mut met_fys: Vec<(i32, Vec<bool>)> = Vec::new();
    for &fy in &loaded.fys {
        let d = match st.defaults(fy) {
            Ok(d) => d,
            Err(e) => return engine_failure(&e),
        };
        met_fys.push((
            fy,
            loaded
                .job
                .rules
                .iter()
                .map(|r| d.lists(&r.id, id))
                .collect(),
        ));
    }
    let first_rule = met_fys
        .iter()
        .rev()
        .find_map(|(_, flags)| flags.iter().position(|f| *f))
        .map(|i| loaded.job.rules[i].id.as_str());
    let today = chrono::Local::now().date_naive();
    let (form, errors, status) = match posted {
        Some((f, e)) => (f, e, StatusCode::UNPROCESSABLE_ENTITY),
        None => (
            SupportForm::blank(today, first_rule),
            Vec::new(),
            StatusCode::OK,
        ),
    };
    let names = st.names_for(&[id]);
    let v = pages::PersonView {
        id,
        history: &history,
        names: names.get(id),
        met: pages::Met {
            rules: loaded
                .job
                .rules
                .iter()
                .map(|r| (r.id.clone(), r.name_ja.clone()))
                .collect(),
            fys: met_fys,
        },
        form,
        errors,
        today,
        muni: &st.muni,
        sample: st.cfg.sample,
        csrf: &st.csrf,
    };
    page(status, pages::person(&Nav::at(Step::Person), &v))
}

/// 支援を記録する: checks the form, appends the row to the dataset, opens the dataset
/// again, and goes back to the person page (303).
pub fn person_support(st: &State, id: &str, form: &Pairs) -> Response {
    let loaded = st.loaded();
    let history = match ittai_engine::person::history(&loaded.job.sources, id) {
        Ok(h) => h,
        Err(e) => return engine_failure(&e.into()),
    };
    if history.spells.is_empty() {
        return not_found();
    }
    let f = SupportForm::from_pairs(form);
    let today = chrono::Local::now().date_naive();
    let row = match f.to_row(id, today, &history.support) {
        Ok(r) => r,
        Err(errors) => return person_page(st, id, Some((f, errors))),
    };
    drop(loaded);
    let appended = {
        let _writing = st.writing();
        records::append(&st.cfg.data, &row)
    };
    if let Err(e) = appended {
        return engine_failure(&e.context("the support record was not saved"));
    }
    if let Err(e) = st.reload() {
        log_error(&e.context("reopening the dataset"));
        return failure(
            "記録は保存しましたが、データを読み直せませんでした。ittai serve を終了して起動し直してください。",
        );
    }
    Redirect::to(&format!("/person/{}#support-records", enc(id))).into_response()
}

/// Renders the committee report from `OUT/indicators/` (and `OUT/evaluation/`) and keeps it.
fn render_report(st: &State) -> anyhow::Result<Arc<String>> {
    let dir = st.cfg.out.join("indicators");
    let tables = ittai_engine::indicators::read_tables(&dir)?;
    let title = cmd_report::default_title(&tables);
    let subtitle = format!(
        "作成 {} ／ ittai {} ／ 入力 {}",
        chrono::Local::now().format("%Y-%m-%d"),
        env!("CARGO_PKG_VERSION"),
        dir.display()
    );
    let evaluation = ittai_engine::programmes::read_rows(&st.cfg.out.join("evaluation"))?;
    let input = ittai_report::ReportInput {
        title: &title,
        subtitle: &subtitle,
        rows: &tables.rows,
        life: &tables.life,
        funnels: &tables.funnels,
        names: &st.muni,
        evaluation: &evaluation,
        disease_costs: &tables.disease_costs,
    };
    let html = ittai_report::render(input)?;
    st.set_report(Some(html)).context("keeping the report")
}

/// 指標.
pub fn indicators(st: &State) -> Response {
    let dir = st.cfg.out.join("indicators");
    if st.report().is_none()
        && dir.join(ittai_engine::indicators::ROWS_FILE).is_file()
        && let Err(e) = render_report(st)
    {
        return engine_failure(&e);
    }
    page(
        StatusCode::OK,
        pages::indicators(
            &Nav::at(Step::Indicators),
            st.report().is_some(),
            &dir.display().to_string(),
            &st.csrf,
        ),
    )
}

/// 「指標を計算する」: the indicators (and the programme evaluation, with support records)
/// for every FY, written to `OUT/indicators/` (and `OUT/evaluation/`) as `ittai run` does.
pub fn indicators_compute(st: &State) -> Response {
    let loaded = st.loaded();
    let fys: Vec<FiscalYear> = loaded.fys.iter().map(|y| FiscalYear(*y)).collect();
    let out = &st.cfg.out;
    let run = || -> anyhow::Result<()> {
        let set = cmd_indicators::compute_with_progress(&loaded.job, &fys, None, None)?;
        let evaluation = if ittai_engine::programmes::has_interventions(&loaded.job.sources) {
            cmd_evaluate::compute(&loaded.job, &[], Some(&set.lists))?
        } else {
            None
        };
        let _writing = st.writing();
        cmd_indicators::write(&set, &out.join("indicators"), CsvEncoding::Utf8Bom)?;
        if let Some(e) = evaluation {
            cmd_evaluate::write(&e.rows, &out.join("evaluation"), CsvEncoding::Utf8Bom)?;
        }
        Ok(())
    };
    if let Err(e) = run() {
        return engine_failure(&e);
    }
    st.set_report(None);
    Redirect::to("/indicators").into_response()
}

/// `/indicators/report.html`: the committee report, with a policy that allows its inline
/// styles (it has no script).
pub fn indicators_report(st: &State) -> Response {
    let report = match st.report() {
        Some(r) => Some(r),
        None if st
            .cfg
            .out
            .join("indicators")
            .join(ittai_engine::indicators::ROWS_FILE)
            .is_file() =>
        {
            match render_report(st) {
                Ok(r) => Some(r),
                Err(e) => return engine_failure(&e),
            }
        }
        None => None,
    };
    match report {
        Some(html) => {
            let mut res = Html(html.as_str().to_string()).into_response();
            res.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(REPORT_CSP),
            );
            res
        }
        None => Redirect::to("/indicators").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> Rule {
        let drugs = ittai_model::classes::default_drug_classes();
        let diseases = ittai_model::classes::default_disease_classes();
        ittai_engine::rules::load_rules(&Default::default(), &drugs, &diseases)
            .unwrap()
            .into_iter()
            .find(|r| r.id == id)
            .unwrap()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_form_sends_unticked_boxes_as_false_and_a_link_leaves_them_out() {
        let r04 = rule("R04");
        let link = submitted(&r04, &pairs(&[("fy", "2024")]));
        assert!(link.is_empty());
        let form = submitted(&r04, &pairs(&[("_form", "1"), ("window", "FY")]));
        assert_eq!(
            form.get("include_etizolam").map(String::as_str),
            Some("false")
        );
        let r06 = rule("R06");
        let kinds = submitted(
            &r06,
            &pairs(&[
                ("_form", "1"),
                ("claim_kinds", "outpatient"),
                ("claim_kinds", "pharmacy"),
            ]),
        );
        assert_eq!(
            kinds.get("claim_kinds").map(String::as_str),
            Some("outpatient,pharmacy")
        );
    }

    #[test]
    fn parameters_get_inputs_and_defaults_for_people() {
        let r03 = rule("R03");
        let f = fields(&r03, &BTreeMap::new(), Some(("threshold", "x")));
        let threshold = f.iter().find(|x| x.name == "threshold").unwrap();
        assert!(matches!(threshold.kind, FieldKind::Integer));
        assert_eq!(
            (threshold.default.as_str(), threshold.error.as_deref()),
            ("15", Some("x"))
        );
        let routes = f.iter().find(|x| x.name == "routes").unwrap();
        assert!(matches!(routes.kind, FieldKind::Multi(_)));
        assert_eq!(routes.default_ja, "内服");
        assert_eq!(shell("R03.threshold=20"), "R03.threshold=20");
        assert_eq!(shell("a b"), "'a b'");
    }
}
