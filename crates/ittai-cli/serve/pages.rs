//! The pages, as maud templates: a calm layout in Japanese with the steps of the national
//! tool (① 抽出目的 → ② 抽出条件 → ③ 対象者一覧), large click targets, no inline script or
//! style (the Content-Security-Policy allows neither) and the same footer everywhere: the
//! data never leave this computer.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use ittai_dataset::{Table, thousands};
use ittai_engine::AttritionStep;
use ittai_engine::person::PersonHistory;
use ittai_model::support::{Approach, Programme, RULE_IDS, Referral, Staff};
use ittai_model::{CareLevel, ClaimKind, LossReason, Sex, UrineTest, questionnaire};
use maud::{DOCTYPE, Markup, html};

use super::app::enc;
use super::charts::{self, Line};
use super::listing;
use super::records::SupportForm;
use super::rulefile::Saved;

/// Where a page is in the flow (the top bar marks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// ホーム.
    Home,
    /// ① 抽出目的.
    Purpose,
    /// ② 抽出条件.
    Conditions,
    /// ③ 対象者一覧.
    List,
    /// 個人の経年.
    Person,
    /// 指標.
    Indicators,
    /// Anything else (errors, problems).
    Other,
}

/// The top bar of a page: the current step and, once a rule is chosen, the query that
/// carries its FY and parameters to ② and ③.
#[derive(Debug, Clone)]
pub struct Nav {
    /// The current step.
    pub step: Step,
    /// The rule being worked on.
    pub rule: Option<String>,
    /// `fy=…&param=…` for the links of ② and ③.
    pub carry: String,
}

impl Nav {
    /// A top bar without a rule.
    pub fn at(step: Step) -> Nav {
        Nav {
            step,
            rule: None,
            carry: String::new(),
        }
    }
}

/// An integer with thousands separators.
fn n(v: u64) -> String {
    thousands(v as i64)
}

/// The whole page around `body`.
pub fn layout(nav: &Nav, title: &str, body: Markup) -> Markup {
    let q = if nav.carry.is_empty() {
        String::new()
    } else {
        format!("?{}", nav.carry)
    };
    let conditions = nav.rule.as_ref().map(|r| format!("/rules/{}{q}", enc(r)));
    let list = nav
        .rule
        .as_ref()
        .map(|r| format!("/rules/{}/list{q}", enc(r)));
    let here = |s: Step| (nav.step == s).then_some("page");
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " ｜ ittai" }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                header class="topbar" {
                    nav class="bar" aria-label="手順" {
                        a class="home" href="/" aria-current=[here(Step::Home)] { "ホーム" }
                        ol class="steps" {
                            li { a href="/purpose" aria-current=[here(Step::Purpose)] { "① 抽出目的" } }
                            li {
                                @if let Some(h) = &conditions {
                                    a href=(h) aria-current=[here(Step::Conditions)] { "② 抽出条件" }
                                } @else {
                                    span class="off" { "② 抽出条件" }
                                }
                            }
                            li {
                                @if let Some(h) = &list {
                                    a href=(h) aria-current=[here(Step::List)] { "③ 対象者一覧" }
                                } @else {
                                    span class="off" { "③ 対象者一覧" }
                                }
                            }
                        }
                        a class="ind" href="/indicators" aria-current=[here(Step::Indicators)] { "指標" }
                    }
                }
                main { (body) }
                footer {
                    p class="privacy" { "データはこのコンピューターの外に送信されません" }
                    p class="version" { "ittai " (env!("CARGO_PKG_VERSION")) " ／ 終了するには、ittai serve を起動した画面で Ctrl+C を押します。" }
                }
                script src="/static/app.js" {}
            }
        }
    }
}

/// An error page (no value of the request or of the data in it).
pub fn error(nav: &Nav, title: &str, message: &str) -> Markup {
    layout(
        nav,
        title,
        html! {
            h1 { (title) }
            p class="error" { (message) }
            p { a class="button" href="/" { "ホームに戻る" } }
        },
    )
}

/// Japanese name of a table of the dataset.
pub fn table_ja(name: &str) -> &str {
    match name {
        "persons" => "被保険者（資格）",
        "checkups" => "健診",
        "dental_checkups" => "歯科健診",
        "questionnaires" => "質問票",
        "medical_claims" => "医療レセプト",
        "claim_diagnoses" => "傷病名",
        "claim_drugs" => "処方（医薬品）",
        "care_claims" => "介護レセプト",
        "certifications" => "要介護認定",
        "interventions" => "支援記録",
        other => other,
    }
}

/// One table of the dataset on the home page.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// File stem.
    pub name: String,
    /// Rows kept.
    pub rows: u64,
    /// Earliest date.
    pub from: Option<NaiveDate>,
    /// Latest date.
    pub to: Option<NaiveDate>,
    /// Rows left out or values emptied by validation.
    pub problems: u64,
}

/// What the home page shows.
#[derive(Debug, Clone)]
pub struct HomeView {
    /// Dataset folder.
    pub data: String,
    /// The sample data is in use.
    pub sample: bool,
    /// Fiscal years with claims.
    pub fys: Vec<i32>,
    /// Default extraction FY.
    pub default_fy: i32,
    /// Insured on the reference date of the default FY.
    pub population: u64,
    /// Tables.
    pub tables: Vec<TableRow>,
    /// Problems found by validation.
    pub problems: u64,
    /// "full" or "stamp".
    pub validation: &'static str,
    /// Number of rules and where they come from.
    pub rules: usize,
    /// The rule folder, when not the built-in rules.
    pub rules_dir: Option<String>,
    /// The register file, when given.
    pub register: Option<String>,
    /// Output folder.
    pub out: String,
}

/// ホーム: the dataset at a glance.
pub fn home(nav: &Nav, v: &HomeView) -> Markup {
    let fy_span = match (v.fys.first(), v.fys.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}〜{b}年度"),
        (Some(a), _) => format!("{a}年度"),
        _ => "—".into(),
    };
    layout(
        nav,
        "ホーム",
        html! {
            h1 { "保健事業と介護予防の一体的実施 — 対象者の抽出" }
            p class="lead" {
                "① 抽出目的を選び、② 抽出条件を確かめて、③ 対象者一覧を出します。一覧から一人ずつ経年の状況を見て、支援の記録を残せます。"
            }
            p { a class="button primary big" href="/purpose" { "① 抽出目的を選ぶ" } }
            h2 { "データ" }
            @if v.sample {
                p class="note" { "ittai に付属のサンプルデータ（合成データ）の写しを使っています。実際のデータは ittai serve --data フォルダ で指定します。" }
            }
            dl class="facts" {
                dt { "データのフォルダ" } dd { code { (v.data) } }
                dt { "年度" } dd { (fy_span) "（抽出の既定は " (v.default_fy) "年度）" }
                dt { "基準日の被保険者" } dd { span id="population" data-population=(v.population) { (n(v.population)) } " 人（" (v.default_fy + 1) "年3月31日）" }
                dt { "データの検証" }
                dd {
                    @if v.problems == 0 {
                        "問題はありません。"
                    } @else {
                        (n(v.problems)) " 件の問題があり、該当する行は除いて使っています。 "
                        a href="/problems" { "問題の内訳（件数）" }
                    }
                    @if v.validation == "stamp" { "（以前の検証結果を使用）" }
                }
                dt { "抽出条件" }
                dd {
                    (v.rules) " ルール（"
                    @if let Some(d) = &v.rules_dir { code { (d) } } @else { "ittai 標準" }
                    "）"
                }
                dt { "出力のフォルダ" } dd { code { (v.out) } }
                dt { "氏名の表示" }
                dd {
                    @if let Some(r) = &v.register { "台帳 " code { (r) } " を指定しました。" } @else { "なし（一覧は仮名化した ID で表示します）" }
                }
            }
            h2 { "表ごとの期間" }
            table class="data" {
                thead { tr { th { "表" } th { "件数" } th { "最初" } th { "最後" } th { "除外・修正" } } }
                tbody {
                    @for t in &v.tables {
                        tr {
                            td class="l" { (table_ja(&t.name)) }
                            td { (n(t.rows)) }
                            td { @if let Some(d) = t.from { (d) } @else { "—" } }
                            td { @if let Some(d) = t.to { (d) } @else { "—" } }
                            td { (n(t.problems)) }
                        }
                    }
                }
            }
        },
    )
}

/// One line of the problems page: table, kind (in Japanese), count.
pub type ProblemRow = (String, &'static str, u64);

/// The validation problems by table and kind — counts only, never a value.
pub fn problems(nav: &Nav, rows: &[ProblemRow], rejects: &str) -> Markup {
    layout(
        nav,
        "データの問題",
        html! {
            h1 { "データの問題（件数）" }
            p { "データの検証で見つかった問題の件数です。該当する行は除いて（または値を空にして）使っています。行ごとの内容は、このコンピューターの " code { (rejects) } " にあります。" }
            @if rows.is_empty() {
                p { "問題はありません。" }
            } @else {
                table class="data" id="problems" {
                    thead { tr { th { "表" } th { "問題の種類" } th { "件数" } } }
                    tbody {
                        @for (t, kind, count) in rows {
                            tr { td class="l" { (table_ja(t)) } td class="l" { (kind) } td { (n(*count)) } }
                        }
                    }
                }
            }
            p { a class="button" href="/" { "ホームに戻る" } }
        },
    )
}

/// A rule on the purpose page.
#[derive(Debug, Clone)]
pub struct Card {
    /// Rule id.
    pub id: String,
    /// 名称.
    pub name: String,
    /// 目的.
    pub purpose: String,
    /// Persons listed at the default parameters.
    pub count: Option<usize>,
}

/// A FY selector (GET form) that keeps the other query pairs as hidden fields.
fn fy_form(action: &str, fys: &[i32], fy: i32, keep: &[(String, String)], csrf: &str) -> Markup {
    html! {
        form class="fy" method="get" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            @for (k, v) in keep { input type="hidden" name=(k) value=(v); }
            label { "年度 "
                select name="fy" data-autosubmit="1" {
                    @for y in fys { option value=(y) selected[*y == fy] { (y) "年度" } }
                }
            }
            " "
            button type="submit" class="button small" { "表示" }
        }
    }
}

/// ① 抽出目的: the rules grouped as the national tool groups them.
pub fn purpose(
    nav: &Nav,
    fys: &[i32],
    fy: i32,
    population: u64,
    groups: &[(String, Vec<Card>)],
    csrf: &str,
) -> Markup {
    layout(
        nav,
        "① 抽出目的",
        html! {
            h1 { "① 抽出目的を選ぶ" }
            p class="lead" { "支援したい人の状態を選んでください。人数は " (fy) "年度（基準日 " (fy + 1) "年3月31日）の被保険者 " (n(population)) " 人のうち、標準の条件で該当する人数です。" }
            (fy_form("/purpose", fys, fy, &[], csrf))
            @for (title, cards) in groups {
                section class="group" {
                    h2 { (title) }
                    div class="cards" {
                        @for c in cards {
                            a class="card" href={ "/rules/" (enc(&c.id)) "?fy=" (fy) } data-rule=(c.id) {
                                span class="rid" { (c.id) }
                                strong class="name" { (c.name) }
                                span class="purpose" { (c.purpose) }
                                span class="count" {
                                    @if let Some(k) = c.count { b { (n(k as u64)) } " 人" } @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The kind of input of a parameter.
#[derive(Debug, Clone)]
pub enum FieldKind {
    /// A whole number.
    Integer,
    /// A number.
    Float,
    /// Yes / no (a checkbox).
    Bool,
    /// One of (value, label).
    Choice(Vec<(String, String)>),
    /// Any of (value, label) (checkboxes; the value is the comma-joined list).
    Multi(Vec<(String, String)>),
    /// Free text (periods such as `FY-1..FY`).
    Text,
}

/// One parameter of the rule form.
#[derive(Debug, Clone)]
pub struct ParamField {
    /// Parameter name (the form field name).
    pub name: String,
    /// What it means.
    pub label: String,
    /// Unit.
    pub unit: Option<String>,
    /// Input kind.
    pub kind: FieldKind,
    /// Current value as text.
    pub value: String,
    /// Default value as text.
    pub default: String,
    /// Default value for people (labels instead of codes).
    pub default_ja: String,
    /// What is wrong with the value.
    pub error: Option<String>,
}

/// What the conditions page shows.
#[derive(Debug, Clone)]
pub struct RuleView {
    /// Rule id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Purpose.
    pub purpose: String,
    /// Source.
    pub citation: String,
    /// Rule file.
    pub origin: String,
    /// Coverage guard on.
    pub coverage_guard: bool,
    /// FY.
    pub fy: i32,
    /// FYs of the data.
    pub fys: Vec<i32>,
    /// The parameter fields.
    pub fields: Vec<ParamField>,
    /// The whole condition in Japanese, as applied.
    pub text_ja: Option<String>,
    /// Attrition: population, then each condition.
    pub funnel: Vec<AttritionStep>,
    /// Persons listed.
    pub listed: Option<u64>,
    /// Insured on the reference date.
    pub population: Option<u64>,
    /// A problem with the values (shown above the form).
    pub error: Option<String>,
    /// Query of the current FY and changed parameters (`fy=…&threshold=…`).
    pub carry: String,
    /// The changed parameters (name, text), for the save form.
    pub changed: Vec<(String, String)>,
    /// The same extraction as a command.
    pub cli: String,
    /// The CSRF token.
    pub csrf: String,
}

/// The funnel table body rows (also rebuilt by app.js from the count endpoint).
fn funnel_rows(funnel: &[AttritionStep]) -> Markup {
    let top = funnel.first().map(|s| s.persons).unwrap_or(0).max(1);
    html! {
        @for s in funnel {
            tr {
                td { (s.step) }
                td class="l" { (s.condition_ja) }
                td data-persons=(s.persons) { (n(s.persons)) }
                td { meter min="0" max=(top) value=(s.persons) {} }
                td { @if s.insufficient_coverage > 0 { (n(s.insufficient_coverage)) } @else { "0" } }
            }
        }
    }
}

/// ② 抽出条件: the rule in plain Japanese, its parameters and the live count.
pub fn rule(nav: &Nav, v: &RuleView) -> Markup {
    let action = format!("/rules/{}", enc(&v.id));
    let list_url = format!("/rules/{}/list?{}", enc(&v.id), v.carry);
    let reset = format!("/rules/{}?fy={}", enc(&v.id), v.fy);
    layout(
        nav,
        &format!("② {} {}", v.id, v.name),
        html! {
            h1 { "② 抽出条件 — " span class="rid" { (v.id) } " " (v.name) }
            p class="lead" { (v.purpose) }
            section class="conditions" {
                h2 { "抽出条件（適用される条件）" }
                p id="rule-text" { (v.text_ja.as_deref().unwrap_or("—")) }
                p class="note" {
                    "対象は基準日（" (v.fy + 1) "年3月31日）に被保険者である人です。"
                    @if v.coverage_guard {
                        "「…がない」という条件は、その期間を通じて被保険者である人にだけ当てはめます（資格期間が足りない人は減少表に別に数えます）。"
                    }
                }
            }
            div class="counter" {
                p {
                    "対象者 "
                    strong id="count" data-count=(v.listed.map(|x| x.to_string()).unwrap_or_default()) {
                        @if let Some(k) = v.listed { (n(k)) } @else { "—" }
                    }
                    " 人 ／ 基準日の被保険者 "
                    span id="population" data-population=(v.population.map(|x| x.to_string()).unwrap_or_default()) {
                        @if let Some(p) = v.population { (n(p)) } @else { "—" }
                    }
                    " 人"
                }
                p id="rule-error" class="error" role="alert" hidden[v.error.is_none()] { (v.error.as_deref().unwrap_or("")) }
            }
            form id="params-form" class="params" method="get" action=(action) data-rule=(v.id) data-count-url={ (action) "/count" } {
                input type="hidden" name="csrf" value=(v.csrf);
                input type="hidden" name="_form" value="1";
                div class="field" {
                    label for="fy" { "年度" }
                    select id="fy" name="fy" {
                        @for y in &v.fys { option value=(y) selected[*y == v.fy] { (y) "年度" } }
                    }
                }
                @for f in &v.fields { (field(f)) }
                div class="actions" {
                    button type="submit" class="button" id="recount" { "この値で数え直す" }
                    " "
                    a class="button" id="reset" href=(reset) { "既定値に戻す" }
                }
            }
            section id="funnel-section" {
                h2 { "減少表（条件ごとの人数）" }
                table class="data" id="funnel" {
                    thead { tr { th { "段階" } th { "条件" } th { "該当者数" } th { "割合" } th { "資格期間不足で除外" } } }
                    tbody { (funnel_rows(&v.funnel)) }
                }
            }
            div class="next" {
                a class="button primary big" id="to-list" href=(list_url) { "この条件で一覧を表示" }
                form id="save-form" method="post" action={ (action) "/save" } {
                    input type="hidden" name="csrf" value=(v.csrf);
                    input type="hidden" name="fy" value=(v.fy) class="param-copy";
                    @for (k, val) in &v.changed {
                        input type="hidden" name=(k) value=(val) class="param-copy";
                    }
                    button type="submit" class="button big" id="save" { "この条件を保存" }
                }
            }
            section class="cli" {
                h2 { "同じ抽出をコマンドで" }
                pre id="cli" { (v.cli) }
            }
            p class="src" { "出典: " (v.citation) }
            p class="src" { "定義ファイル: " (v.origin) }
        },
    )
}

/// One parameter input with its label, unit, default and error.
fn field(f: &ParamField) -> Markup {
    let id = format!("p-{}", f.name);
    let err_id = format!("err-{}", f.name);
    let selected: Vec<&str> = f.value.split(',').map(str::trim).collect();
    html! {
        div class="field" data-param=(f.name) {
            @match &f.kind {
                FieldKind::Bool => {
                    label class="check" {
                        input type="checkbox" id=(id) name=(f.name) value="true" data-default=(f.default) checked[f.value == "true"];
                        " " (f.label)
                    }
                }
                FieldKind::Multi(options) => {
                    fieldset {
                        legend { (f.label) }
                        @for (value, label) in options {
                            label class="check" {
                                input type="checkbox" name=(f.name) value=(value) checked[selected.contains(&value.as_str())];
                                " " (label)
                            }
                        }
                    }
                }
                FieldKind::Choice(options) => {
                    label for=(id) { (f.label) }
                    select id=(id) name=(f.name) data-default=(f.default) {
                        @for (value, label) in options { option value=(value) selected[*value == f.value] { (label) } }
                    }
                }
                FieldKind::Integer => {
                    label for=(id) { (f.label) }
                    input type="number" id=(id) name=(f.name) value=(f.value) step="1" data-default=(f.default) inputmode="numeric";
                }
                FieldKind::Float => {
                    label for=(id) { (f.label) }
                    input type="number" id=(id) name=(f.name) value=(f.value) step="any" data-default=(f.default) inputmode="decimal";
                }
                FieldKind::Text => {
                    label for=(id) { (f.label) }
                    input type="text" id=(id) name=(f.name) value=(f.value) data-default=(f.default);
                }
            }
            @if let Some(u) = &f.unit { span class="unit" { (u) } }
            span class="default" { "既定値: " (f.default_ja) }
            span class="error" id=(err_id) role="alert" hidden[f.error.is_none()] { (f.error.as_deref().unwrap_or("")) }
        }
    }
}

/// After 「この条件を保存」.
pub fn saved(nav: &Nav, id: &str, name: &str, s: &Saved, changed: &[(String, String)]) -> Markup {
    let dir = s.dir.display().to_string();
    layout(
        nav,
        "条件を保存しました",
        html! {
            h1 { "条件を保存しました" }
            p { span class="rid" { (id) } " " (name) " の条件を " code id="saved-file" { (s.file.display()) } " に保存しました。" }
            @if changed.is_empty() {
                p { "既定値から変えたところはありません。" }
            } @else {
                ul { @for (k, v) in changed { li { code { (k) " = " (v) } } } }
            }
            @if !s.copied.is_empty() {
                p { "このフォルダで全部のルールがそろうように、他の " (s.copied.len()) " ルールの定義ファイル（元の条件のまま）も置きました。" }
            }
            @if !s.others.is_empty() {
                p class="error" {
                    "このフォルダには ittai serve が書いたもの以外の定義ファイルもあります（これらも読み込まれます）: "
                    @for p in &s.others { code { (p.display()) } " " }
                }
            }
            h2 { "来年度も同じ条件で使うには" }
            pre id="saved-cli" { "ittai run --rules " (dir) "\nittai serve --rules " (dir) }
            p { a class="button" href={ "/rules/" (enc(id)) } { "抽出条件に戻る" } }
        },
    )
}

/// One filter of the list page.
#[derive(Debug, Clone)]
pub struct FilterView {
    /// Query name.
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// (value, label) options.
    pub options: Vec<(String, String)>,
    /// The chosen value (empty for all).
    pub selected: String,
}

/// What the list page shows.
#[derive(Debug)]
pub struct ListView<'a> {
    /// Rule id.
    pub id: &'a str,
    /// Rule name.
    pub name: &'a str,
    /// FY.
    pub fy: i32,
    /// Persons the rule lists.
    pub listed: usize,
    /// Persons passing the filters.
    pub filtered: usize,
    /// First row shown (1-based; 0 when none).
    pub from: usize,
    /// Last row shown.
    pub to: usize,
    /// The rows of this page (labels in Japanese).
    pub table: &'a Table,
    /// Names of the persons from the register (empty without one).
    pub names: &'a HashMap<String, [String; 4]>,
    /// Municipality code → name.
    pub muni: &'a BTreeMap<String, String>,
    /// Filters.
    pub filters: Vec<FilterView>,
    /// The 該当ルール数 filter (at least), and the highest number.
    pub min_rules: (Option<i64>, i64),
    /// Query of FY and parameters (without filters).
    pub carry: String,
    /// Query of FY, parameters and filters (without sort and page).
    pub base: String,
    /// Current sort column and direction.
    pub sort: Option<(String, bool)>,
    /// Links to the previous and next pages.
    pub prev: Option<String>,
    /// See `prev`.
    pub next: Option<String>,
    /// The CSRF token.
    pub csrf: &'a str,
}

/// Columns of the list that the page does not show (the page title says them).
const HIDDEN_COLUMNS: [&str; 2] = ["rule_id", "rule_name_ja"];

/// ③ 対象者一覧.
pub fn list(nav: &Nav, v: &ListView<'_>) -> Markup {
    let t = v.table;
    let shown: Vec<usize> = (0..t.columns.len())
        .filter(|&c| !HIDDEN_COLUMNS.contains(&t.columns[c].name.as_str()))
        .collect();
    let pid = listing::col(t, "person_id");
    let name_headers = ["氏名", "カナ", "住所", "電話"];
    let with_names = !v.names.is_empty();
    let complete = v.prev.is_none() && v.next.is_none();
    let dl = |format: &str| format!("/rules/{}/download?format={format}&{}", enc(v.id), v.carry);
    let sort_link = |name: &str| {
        let desc = match &v.sort {
            Some((c, d)) if c == name => !*d,
            _ => false,
        };
        format!(
            "/rules/{}/list?{}&sort={}&order={}",
            enc(v.id),
            v.base,
            enc(name),
            if desc { "desc" } else { "asc" }
        )
    };
    layout(
        nav,
        &format!("③ {} {} 対象者一覧", v.id, v.name),
        html! {
            h1 { "③ 対象者一覧 — " span class="rid" { (v.id) } " " (v.name) " （" (v.fy) "年度）" }
            p class="lead" {
                "該当 " strong id="listed" data-count=(v.listed) { (n(v.listed as u64)) } " 人"
                @if v.filtered != v.listed { "、絞り込み後 " strong id="filtered" data-count=(v.filtered) { (n(v.filtered as u64)) } " 人" }
                @if v.filtered > 0 { "（" (v.from) "〜" (v.to) " 人目を表示）" }
            }
            div class="downloads" {
                "ダウンロード（ittai run と同じファイル・絞り込み前の全員）: "
                a class="button" id="dl-xlsx" href=(dl("xlsx")) { "Excel（xlsx）" }
                " "
                a class="button" id="dl-csv" href=(dl("csv")) { "CSV（UTF-8）" }
                " "
                a class="button" id="dl-sjis" href=(dl("sjis")) { "CSV（Shift_JIS）" }
            }
            form id="filter-form" class="filters" method="get" action={ "/rules/" (enc(v.id)) "/list" } {
                input type="hidden" name="csrf" value=(v.csrf);
                @for (k, val) in super::app::parse_pairs(v.carry.as_bytes()) {
                    input type="hidden" name=(k) value=(val);
                }
                @for f in &v.filters {
                    label {
                        (f.label) " "
                        select name=(f.name) {
                            option value="" selected[f.selected.is_empty()] { "すべて" }
                            @for (value, label) in &f.options { option value=(value) selected[*value == f.selected] { (label) } }
                        }
                    }
                }
                label {
                    "該当ルール数 "
                    select name=(listing::MIN_RULES) {
                        option value="" selected[v.min_rules.0.is_none()] { "すべて" }
                        @for k in 2..=v.min_rules.1.max(2) {
                            option value=(k) selected[v.min_rules.0 == Some(k)] { (k) " 以上" }
                        }
                    }
                }
                button type="submit" class="button" { "絞り込む" }
                " "
                a class="button" href={ "/rules/" (enc(v.id)) "/list?" (v.carry) } { "条件を外す" }
            }
            p class="note" { "該当ルール数は、この条件と、他のルール（標準の条件）のうち当てはまる数です。見出しを押すと並べ替えます。" }
            div class="tablewrap" {
                table class="data list" id="list" data-complete=(if complete { "true" } else { "false" }) {
                    thead {
                        tr {
                            @for &c in &shown {
                                @let col = &t.columns[c];
                                th data-col=(col.name) data-type=(if listing::numeric(col) { "num" } else { "text" }) {
                                    a class="sort" href=(sort_link(&col.name)) { (col.header_ja) }
                                }
                                @if with_names && Some(c) == pid {
                                    @for h in name_headers { th data-type="text" { (h) } }
                                }
                            }
                        }
                    }
                    tbody {
                        @for i in 0..t.rows() {
                            @let person = pid.map(|c| t.columns[c].cells.text(i)).unwrap_or_default();
                            tr data-person=(person) {
                                @for &c in &shown {
                                    @let col = &t.columns[c];
                                    @let text = col.cells.text(i);
                                    @if Some(c) == pid {
                                        td class="l" { a href={ "/person/" (enc(&person)) } { (text) } }
                                        @if with_names {
                                            @let name = v.names.get(&person);
                                            @for k in 0..4 { td class="l" { (name.map(|x| x[k].as_str()).unwrap_or("")) } }
                                        }
                                    } @else if col.name == "municipality_code" {
                                        td class="l" { (text) " " (v.muni.get(&text).map(String::as_str).unwrap_or("")) }
                                    } @else if listing::numeric(col) {
                                        td { (text) }
                                    } @else {
                                        td class="l" { (text) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p class="pager" {
                @if let Some(p) = &v.prev { a class="button" href=(p) { "← 前の1,000人" } " " }
                @if let Some(x) = &v.next { a class="button" href=(x) { "次の1,000人 →" } }
            }
        },
    )
}

/// The rules met by a person per FY (● when listed at the default parameters).
#[derive(Debug, Clone)]
pub struct Met {
    /// (rule id, rule name) in column order.
    pub rules: Vec<(String, String)>,
    /// Per FY: one flag per rule.
    pub fys: Vec<(i32, Vec<bool>)>,
}

/// What the person page shows.
pub struct PersonView<'a> {
    /// Person id (pseudonymised).
    pub id: &'a str,
    /// The person's data over the years.
    pub history: &'a PersonHistory,
    /// 氏名, カナ, 住所, 電話 from the register, when loaded.
    pub names: Option<&'a [String; 4]>,
    /// Rules met per FY.
    pub met: Met,
    /// The support form (blank or as posted).
    pub form: SupportForm,
    /// Problems of a posted form, by field.
    pub errors: Vec<(&'static str, String)>,
    /// Today (the latest allowed support date).
    pub today: NaiveDate,
    /// Municipality code → name.
    pub muni: &'a BTreeMap<String, String>,
    /// The sample data is in use (records are added to it).
    pub sample: bool,
    /// The CSRF token.
    pub csrf: &'a str,
}

fn yes_no(b: bool) -> &'static str {
    if b { "はい" } else { "いいえ" }
}

fn opt_f(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "—".into())
}

/// 個人の経年: one screen with everything about one person.
pub fn person(nav: &Nav, v: &PersonView<'_>) -> Markup {
    let h = v.history;
    let series = |f: &dyn Fn(usize) -> Option<f64>| -> Vec<(NaiveDate, f64)> {
        (0..h.checkups.len())
            .filter_map(|i| f(i).map(|x| (h.checkups[i].exam_date, x)))
            .collect()
    };
    let bmi = charts::lines(
        "BMI",
        "kg/m²",
        &[Line {
            label: "BMI",
            points: series(&|i| h.checkups[i].bmi),
        }],
    );
    let weight = charts::lines(
        "体重",
        "kg",
        &[Line {
            label: "体重",
            points: series(&|i| h.checkups[i].weight_kg),
        }],
    );
    let bp = charts::lines(
        "血圧",
        "mmHg",
        &[
            Line {
                label: "収縮期",
                points: series(&|i| h.checkups[i].sbp),
            },
            Line {
                label: "拡張期",
                points: series(&|i| h.checkups[i].dbp),
            },
        ],
    );
    let hba1c = charts::lines(
        "HbA1c",
        "%",
        &[Line {
            label: "HbA1c",
            points: series(&|i| h.checkups[i].hba1c),
        }],
    );
    let egfr = charts::lines(
        "eGFR",
        "mL/min/1.73m²",
        &[Line {
            label: "eGFR",
            points: series(&|i| h.checkups[i].egfr),
        }],
    );
    let max_drugs = h
        .drug_months
        .iter()
        .map(|m| m.distinct_oral_yj7)
        .max()
        .unwrap_or(0);
    let drug_bars: Vec<(NaiveDate, f64, String)> = h
        .drug_months
        .iter()
        .map(|m| {
            let names = m.products.join("、");
            (
                m.month,
                f64::from(m.distinct_oral_yj7),
                format!(
                    "{}: {} 剤 {names}",
                    m.month.format("%Y-%m"),
                    m.distinct_oral_yj7
                ),
            )
        })
        .collect();
    let drugs = charts::month_bars("内服薬の種類数（月ごと）", "剤", &drug_bars);
    let mut claim_months: Vec<NaiveDate> = h.claim_months.iter().map(|c| c.month).collect();
    claim_months.sort_unstable();
    claim_months.dedup();
    claim_months.reverse();
    let kinds: Vec<ClaimKind> = ClaimKind::ALL
        .into_iter()
        .filter(|k| h.claim_months.iter().any(|c| c.kind == *k))
        .collect();
    let mut questionnaires = h.questionnaires.clone();
    questionnaires.sort_by_key(|q| q.0);
    let mut support = h.support.clone();
    support.sort_by_key(|r| std::cmp::Reverse(r.contact_date));
    let latest = h.spells.iter().max_by_key(|s| s.coverage_start);
    let err = |name: &str| v.errors.iter().find(|e| e.0 == name).map(|e| e.1.clone());
    layout(
        nav,
        "個人の経年",
        html! {
            h1 { "個人の経年 — " code id="person-id" { (v.id) } }
            @if let Some(names) = v.names {
                p class="names" { strong { (names[0]) } " （" (names[1]) "） " (names[2]) " ／ " (names[3]) }
            }
            @if let Some(s) = latest {
                dl class="facts" {
                    dt { "性別" } dd { (Sex::from_code(s.sex).map(|x| x.label_ja()).unwrap_or("—")) }
                    dt { "生年月日" } dd { (s.birth_date) "（" (ittai_model::age_at(s.birth_date, v.today)) " 歳）" }
                    dt { "市町村" } dd { (s.municipality_code) " " (v.muni.get(&s.municipality_code).map(String::as_str).unwrap_or("")) }
                }
            }
            section id="rules-met" {
                h2 { "該当した抽出条件（年度ごと・標準の条件）" }
                table class="data" {
                    thead { tr { th { "年度" } @for (id, name) in &v.met.rules { th title=(name) { (id) } } } }
                    tbody {
                        @for (fy, flags) in &v.met.fys {
                            tr { th { (fy) } @for f in flags { td class="c" { @if *f { "●" } } } }
                        }
                    }
                }
            }
            section id="checkups" {
                h2 { "健診の経年" }
                @if h.checkups.is_empty() {
                    p { "健診の記録はありません。" }
                } @else {
                    div class="charts" {
                        @for c in [&bmi, &weight, &bp, &hba1c, &egfr].into_iter().flatten() { (c) }
                    }
                    table class="data" {
                        thead { tr { th { "健診日" } th { "BMI" } th { "体重" } th { "収縮期" } th { "拡張期" } th { "HbA1c" } th { "eGFR" } th { "尿蛋白" } } }
                        tbody {
                            @for c in &h.checkups {
                                tr {
                                    td { (c.exam_date) }
                                    td { (opt_f(c.bmi, 1)) }
                                    td { (opt_f(c.weight_kg, 1)) }
                                    td { (opt_f(c.sbp, 0)) }
                                    td { (opt_f(c.dbp, 0)) }
                                    td { (opt_f(c.hba1c, 1)) }
                                    td { (opt_f(c.egfr, 1)) }
                                    td class="c" { (c.urine_protein.and_then(UrineTest::from_code).map(|u| u.symbol()).unwrap_or("—")) }
                                }
                            }
                        }
                    }
                }
            }
            section id="questionnaire" {
                h2 { "後期高齢者の質問票" }
                @if questionnaires.is_empty() {
                    p { "質問票の回答はありません。" }
                } @else {
                    div class="tablewrap" {
                        table class="data" {
                            thead { tr { th { "質問" } @for q in &questionnaires { th { (q.0) } } } }
                            tbody {
                                @for item in &questionnaire::ITEMS {
                                    tr {
                                        td class="l" { (item.number) ". " (item.text_ja) span class="domain" { "（" (item.domain_ja) "）" } }
                                        @for q in &questionnaires {
                                            td class="c" {
                                                (q.1[usize::from(item.number) - 1].map(|c| item.answer_label(c).map(str::to_string).unwrap_or_else(|| c.to_string())).unwrap_or_else(|| "—".into()))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section id="drugs" {
                h2 { "処方（内服薬）" }
                p { "1か月の内服薬の種類数（成分）の最大: " strong id="max-drugs" data-value=(max_drugs) { (max_drugs) } " 剤" }
                @if let Some(c) = &drugs { (c) p class="note" { "棒にマウスを重ねると、その月の薬の名前が出ます。" } } @else { p { "処方の記録はありません。" } }
            }
            section id="claims" {
                h2 { "受診（レセプトの件数・点数、月ごと）" }
                @if claim_months.is_empty() {
                    p { "レセプトはありません。" }
                } @else {
                    details {
                        summary { (claim_months.len()) " か月分を表示" }
                        table class="data" {
                            thead { tr { th { "診療年月" } @for k in &kinds { th { (k.label_ja()) } } } }
                            tbody {
                                @for m in &claim_months {
                                    tr {
                                        td { (m.format("%Y-%m")) }
                                        @for k in &kinds {
                                            td {
                                                @if let Some(c) = h.claim_months.iter().find(|c| c.month == *m && c.kind == *k) {
                                                    (c.claims) " 件（" (thousands(c.points)) " 点）"
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section id="care" {
                h2 { "要介護認定と介護サービス" }
                @if h.certifications.is_empty() {
                    p { "要介護認定の記録はありません。" }
                } @else {
                    table class="data" {
                        thead { tr { th { "認定日" } th { "要介護度" } th { "有効期間" } } }
                        tbody {
                            @for (decided, code, from, to) in &h.certifications {
                                tr {
                                    td { (decided) }
                                    td class="l" { (CareLevel::from_code(code).map(|l| l.label_ja()).unwrap_or(code.as_str())) }
                                    td { (from) " 〜 " (to) }
                                }
                            }
                        }
                    }
                }
                @if !h.care_months.is_empty() {
                    details {
                        summary { "介護サービスの利用（" (h.care_months.len()) " 件）" }
                        table class="data" {
                            thead { tr { th { "サービス提供年月" } th { "サービス" } th { "単位数" } } }
                            tbody {
                                @for (month, service, units) in &h.care_months {
                                    tr {
                                        td { (month.format("%Y-%m")) }
                                        td class="l" { (ittai_model::care_service_type_label(service).unwrap_or(service.as_str())) }
                                        td { (thousands(*units)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section id="coverage" {
                h2 { "資格" }
                table class="data" {
                    thead { tr { th { "資格取得日" } th { "資格喪失日" } th { "喪失事由" } th { "市町村" } } }
                    tbody {
                        @for s in &h.spells {
                            tr {
                                td { (s.coverage_start) }
                                td { @if let Some(e) = s.coverage_end { (e) } @else { "（継続中）" } }
                                td class="l" { (s.loss_reason.and_then(LossReason::from_code).map(|r| r.label_ja()).unwrap_or("")) }
                                td class="l" { (s.municipality_code) " " (v.muni.get(&s.municipality_code).map(String::as_str).unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            section id="support" {
                h2 { "支援の記録" }
                table class="data" id="support-records" {
                    thead { tr { th { "支援日" } th { "事業" } th { "抽出条件" } th { "支援方法" } th { "支援できた" } th { "支援が必要と把握" } th { "つなぎ先" } th { "従事者" } } }
                    tbody {
                        @if support.is_empty() {
                            tr { td colspan="8" class="l" { "まだ記録はありません。" } }
                        }
                        @for r in &support {
                            tr data-date=(r.contact_date) {
                                td { (r.contact_date) }
                                td class="l" { (Programme::parse(&r.programme).map(|p| p.label_ja()).unwrap_or(r.programme.as_str())) }
                                td class="l" { (r.rule_id.as_deref().unwrap_or("")) }
                                td class="l" { (Approach::parse(&r.approach).map(|a| a.label_ja()).unwrap_or(r.approach.as_str())) }
                                td class="c" { (yes_no(r.reached)) }
                                td class="c" { (r.needs_referral.map(yes_no).unwrap_or("")) }
                                td class="l" { (r.referred_to.as_deref().map(|x| Referral::parse(x).map(|p| p.label_ja()).unwrap_or(x)).unwrap_or("")) }
                                td class="l" { (r.staff.as_deref().map(|x| Staff::parse(x).map(|p| p.label_ja()).unwrap_or(x)).unwrap_or("")) }
                            }
                        }
                    }
                }
                h3 { "支援を記録する" }
                @if v.sample {
                    p class="note" { "サンプルデータの写し（出力フォルダの sample_data）を使っています。記録はその写しに追加されます。" }
                }
                @if !v.errors.is_empty() {
                    p class="error" role="alert" id="support-error" { "記録できませんでした。赤字のところを直してください。" }
                }
                form id="support-form" class="support" method="post" action={ "/person/" (enc(v.id)) "/support" } {
                    input type="hidden" name="csrf" value=(v.csrf);
                    div class="field" {
                        label for="programme" { "事業" }
                        select id="programme" name="programme" required {
                            option value="" selected[v.form.programme.is_empty()] { "選んでください" }
                            @for p in Programme::ALL { option value=(p.code()) selected[v.form.programme == p.code()] { (p.label_ja()) } }
                        }
                        (field_error(err("programme")))
                    }
                    div class="field" {
                        label for="rule_id" { "抽出条件（どの一覧から）" }
                        select id="rule_id" name="rule_id" {
                            option value="" selected[v.form.rule_id.is_empty()] { "（なし・不明）" }
                            @for (id, name) in RULE_IDS { option value=(id) selected[v.form.rule_id == *id] { (id) " " (name) } }
                        }
                        (field_error(err("rule_id")))
                    }
                    div class="field" {
                        label for="approach" { "支援方法" }
                        select id="approach" name="approach" required {
                            option value="" selected[v.form.approach.is_empty()] { "選んでください" }
                            @for a in Approach::ALL { option value=(a.code()) selected[v.form.approach == a.code()] { (a.label_ja()) } }
                        }
                        (field_error(err("approach")))
                    }
                    div class="field" {
                        label for="contact_date" { "支援日" }
                        input type="date" id="contact_date" name="contact_date" value=(v.form.contact_date) max=(v.today) required;
                        (field_error(err("contact_date")))
                    }
                    div class="field" {
                        label class="check" { input type="checkbox" name="reached" value="true" checked[v.form.reached]; " 支援できた（健康状態不明者では「状況を把握できた」）" }
                    }
                    div class="field" {
                        label class="check" { input type="checkbox" name="needs_referral" value="true" checked[v.form.needs_referral]; " 医療・介護等の支援が必要と把握した" }
                    }
                    div class="field" {
                        label for="referred_to" { "つなぎ先" }
                        select id="referred_to" name="referred_to" {
                            option value="" selected[v.form.referred_to.is_empty()] { "（空欄）" }
                            @for r in Referral::ALL { option value=(r.code()) selected[v.form.referred_to == r.code()] { (r.label_ja()) } }
                        }
                        (field_error(err("referred_to")))
                    }
                    div class="field" {
                        label for="staff" { "従事者" }
                        select id="staff" name="staff" {
                            option value="" selected[v.form.staff.is_empty()] { "（空欄）" }
                            @for s in Staff::ALL { option value=(s.code()) selected[v.form.staff == s.code()] { (s.label_ja()) } }
                        }
                        (field_error(err("staff")))
                    }
                    p class="note" { "記録メモなどの自由記述は保存しません（個人情報を増やさないため）。" }
                    button type="submit" class="button primary big" id="support-submit" { "記録する" }
                }
            }
        },
    )
}

fn field_error(e: Option<String>) -> Markup {
    html! {
        @if let Some(e) = e { span class="error" role="alert" { (e) } }
    }
}

/// 指標: the committee report of the loaded data, or how to compute it.
pub fn indicators(nav: &Nav, report: bool, dir: &str, csrf: &str) -> Markup {
    layout(
        nav,
        "指標",
        html! {
            h1 { "共通評価指標" }
            @if report {
                p { "健診受診率、ハイリスク者割合、要介護認定率、平均自立期間、医療費などを、市町村別・性別・年齢階級別・年度別にまとめたレポートです（集計値のみ。10未満の人数は ※ で表示）。" }
                p { a class="button primary big" id="open-report" href="/indicators/report.html" { "レポートを開く" } }
                p class="note" { "もとの集計表: " code { (dir) } }
            } @else {
                p { "まだ指標を計算していません。全部の年度について計算するので、データの大きさによっては数分かかります。" }
                form method="post" action="/indicators/compute" id="compute-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" class="button primary big" { "指標を計算する" }
                }
                p class="note" { "計算した結果は " code { (dir) } " に書き出します（ittai run と同じ）。" }
            }
        },
    )
}
