//! The committee report (`ittai report`): one self-contained HTML file — inline CSS and
//! SVG charts, no script, no network — with the union summary, every indicator by
//! municipality against the union, by age band and sex, the trend over fiscal years, the
//! rules' attrition funnels, the life-table summary and a Japanese explanation of each
//! definition and its source.
//!
//! After them come programme evaluation (個別事業の評価: each programme's targets →
//! contacted → supported by municipality, its outcomes for supported vs not-supported
//! targets with the observational caveat, and the union's counts of municipalities) and
//! medical cost by disease group (疾病分類別医療費), each replaced by a one-line note when
//! its rows are empty.
//!
//! Only published figures appear: a suppressed indicator cell (see
//! [`IndicatorRow::suppressed`]) shows ※ and draws no bar; funnel steps and life-table
//! counts of 1–9 persons show 「10未満」; evaluation and disease-cost cells hidden by
//! [`crate::evaluation_hidden`] / [`crate::disease_cost_hidden`] show 秘匿.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_model::evaluation::{
    EvalUnit, EvaluationRow, Group, Measure, OBSERVATIONAL_CAVEAT_JA, Period,
};
use ittai_model::icd10::DiseaseCostRow;
use ittai_model::indicators::{
    AgeGroup, Area, CHECKUP_DENOMINATOR_JA, FunnelStep, INDICATORS, IndicatorDef, IndicatorId,
    IndicatorRow, Kind, LifeLine, SexGroup, Unit,
};
use ittai_model::support::Programme;
use ittai_model::time::AgeBand;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::charts::{self, Bar, Series};
use crate::evaluation::{counts_municipalities, disease_cost_hidden, evaluation_hidden};
use ittai_dataset::thousands;

/// Counts below this are not published (docs/reference/indicators.md).
pub const MIN_PUBLISHED: f64 = 10.0;

/// Everything the report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// Title, e.g. 「鳥取県後期高齢者医療広域連合 共通評価指標レポート」.
    pub title: &'a str,
    /// One line under the title: data source, FYs, when and with what it was made.
    pub subtitle: &'a str,
    /// The tidy indicator rows (exact; the report publishes only unsuppressed ones).
    pub rows: &'a [IndicatorRow],
    /// Life-table lines.
    pub life: &'a [LifeLine],
    /// Attrition funnels.
    pub funnels: &'a [FunnelStep],
    /// Municipality code → name.
    pub names: &'a BTreeMap<String, String>,
    /// Programme evaluation rows (exact, with the engine's `suppressed`; the report blanks
    /// what [`crate::evaluation_hidden`] hides). Empty: the section 「個別事業の評価」 is a
    /// note that there are no support records.
    pub evaluation: &'a [EvaluationRow],
    /// 疾病分類別医療費 rows (exact, with `suppressed`; blanked by
    /// [`crate::disease_cost_hidden`]). Empty: the section 「疾病分類別医療費」 is a note.
    pub disease_costs: &'a [DiseaseCostRow],
}

/// The note of the evaluation section when there are no evaluation rows.
pub const NO_INTERVENTIONS_JA: &str =
    "支援記録（interventions）がないため、個別事業の評価は表示していません。";

/// The note of the disease-cost section when there are no disease-cost rows.
pub const NO_DISEASE_COSTS_JA: &str = "疾病分類別医療費の集計がないため、表示していません。";

/// A rendering failure (a chart could not be drawn).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// plotters failed.
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    /// Writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Nothing to report.
    #[error("the indicator table is empty")]
    Empty,
}

type Key<'a> = ittai_model::indicators::RowKey<'a>;

/// The union, for lookups.
const UNION: &Area = &Area::Union;

struct View<'a> {
    input: ReportInput<'a>,
    index: HashMap<Key<'a>, &'a IndicatorRow>,
    fys: Vec<i32>,
    latest: i32,
    municipalities: Vec<&'a Area>,
    rule_names: BTreeMap<&'a str, &'a str>,
    lookback: BTreeMap<&'a str, u32>,
}

impl<'a> View<'a> {
    fn new(input: ReportInput<'a>) -> Result<Self, ReportError> {
        let index = input.rows.iter().map(|r| (r.key(), r)).collect();
        let fys: Vec<i32> = input
            .rows
            .iter()
            .map(|r| r.fy)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let latest = *fys.last().ok_or(ReportError::Empty)?;
        let municipalities = input
            .rows
            .iter()
            .map(|r| &r.municipality_code)
            .filter(|m| !m.is_union())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let rule_names = input
            .funnels
            .iter()
            .map(|f| (f.rule_id.as_str(), f.rule_name_ja.as_str()))
            .collect();
        let lookback = input
            .funnels
            .iter()
            .map(|f| (f.rule_id.as_str(), f.lookback_fys))
            .collect();
        Ok(View {
            input,
            index,
            fys,
            latest,
            municipalities,
            rule_names,
            lookback,
        })
    }

    fn get(
        &self,
        s: &Subject<'a>,
        fy: i32,
        m: &Area,
        sex: SexGroup,
        band: AgeGroup,
    ) -> Option<&'a IndicatorRow> {
        self.index
            .get(&(s.def.id, s.rule, fy, m, sex, band))
            .copied()
    }

    fn name(&self, m: &Area) -> String {
        match m {
            Area::Union => "広域連合全体".into(),
            Area::Municipality(code) => self
                .input
                .names
                .get(code)
                .cloned()
                .unwrap_or_else(|| code.clone()),
        }
    }

    /// The indicators present, per-rule ones expanded.
    fn subjects(&self) -> Vec<Subject<'a>> {
        let mut out = Vec::new();
        for d in INDICATORS.iter() {
            let rules: BTreeSet<Option<&str>> = self
                .input
                .rows
                .iter()
                .filter(|r| r.indicator == d.id)
                .map(|r| r.rule_id.as_deref())
                .collect();
            for rule in rules {
                let title = match rule {
                    Some(id) => format!(
                        "{}：{} {}",
                        d.name_ja,
                        id,
                        self.rule_names.get(id).copied().unwrap_or("")
                    ),
                    None => d.name_ja.to_string(),
                };
                let anchor = match rule {
                    Some(id) => format!("{}-{id}", d.id.as_str()),
                    None => d.id.as_str().to_string(),
                };
                out.push(Subject {
                    def: d,
                    rule,
                    title,
                    anchor,
                });
            }
        }
        out
    }
}

struct Subject<'a> {
    def: &'static IndicatorDef,
    rule: Option<&'a str>,
    title: String,
    anchor: String,
}

/// The published value of a row (None when suppressed).
fn published(r: Option<&IndicatorRow>) -> Option<&IndicatorRow> {
    r.filter(|r| !r.suppressed)
}

/// Formats a value in its unit: `12.34%`, `123,456円`, `13.81年`.
pub fn format_value(unit: Unit, v: Option<f64>) -> String {
    match (unit, v) {
        (_, None) => "—".into(),
        (Unit::Yen, Some(v)) => format!("{}{}", thousands(v.round() as i64), unit.as_str()),
        (Unit::Percent | Unit::Years, Some(v)) => format!("{v:.2}{}", unit.as_str()),
    }
}

/// `75-79` → 「75〜79歳」, `95+` → 「95歳以上」, `<75` → 「75歳未満」 (the report's own
/// labels, with 〜).
pub fn band_label(b: AgeBand) -> String {
    match b {
        AgeBand::Under75 => format!("{}歳未満", AgeBand::A75to79.lower()),
        AgeBand::A95plus => format!("{}歳以上", b.lower()),
        _ => format!("{}〜{}歳", b.lower(), b.lower() + 4),
    }
}

fn count(v: f64) -> String {
    if (1.0..MIN_PUBLISHED).contains(&v) {
        "10未満".into()
    } else if v.fract() == 0.0 {
        thousands(v as i64)
    } else {
        format!("{v:.1}")
    }
}

fn change_text(def: &IndicatorDef, r: &IndicatorRow, prev_hidden: bool) -> String {
    if prev_hidden {
        return "—".into();
    }
    match (r.change, r.direction) {
        (Some(c), Some(d)) => {
            let arrow = d.arrow();
            let digits = match def.unit {
                Unit::Yen => {
                    let v = c.round() as i64;
                    format!("{}{}", if v >= 0 { "+" } else { "-" }, thousands(v.abs()))
                }
                Unit::Percent | Unit::Years => format!("{c:+.2}"),
            };
            format!("{arrow} {digits}")
        }
        _ => "—".into(),
    }
}

const CSS: &str = r#"
body{font-family:"Noto Sans CJK JP","Noto Sans JP","Hiragino Sans","Yu Gothic",Meiryo,sans-serif;margin:0;color:#222;line-height:1.6}
header{background:#0b3d63;color:#fff;padding:1.2em 2em}header h1{margin:0;font-size:1.6em}header p{margin:.3em 0 0;opacity:.9}
main{max-width:1100px;margin:0 auto;padding:1em 2em}
nav ol{columns:2;font-size:.92em}
section{border-top:1px solid #ccc;padding-top:.5em;margin-top:1.5em}
h2{color:#0b3d63}h3{color:#0b3d63;margin-bottom:.2em}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
th,td{border:1px solid #bbb;padding:.2em .5em;text-align:right}th{background:#eef3f8;text-align:center}
td.l{text-align:left}tr.union td{font-weight:bold;background:#fff7ef}
.def{background:#f6f8fa;border-left:4px solid #0b3d63;padding:.4em .8em;font-size:.92em}
.src{color:#555;font-size:.85em}
figure{margin:.6em 0}figcaption{font-size:.9em;color:#333;font-weight:bold}
.cards{display:flex;flex-wrap:wrap;gap:.8em}.card{border:1px solid #ccd;border-radius:6px;padding:.5em 1em;min-width:12em}
.card b{display:block;font-size:1.4em;color:#0b3d63}
.sup{color:#888}
.caveat{background:#fff8e1;border:1px solid #e0a800;border-left:6px solid #e0a800;padding:.4em .9em;margin:.6em 0}
h4{margin:.8em 0 .2em}
@media print{header{background:none;color:#000}section{page-break-before:always}figure{page-break-inside:avoid}}
"#;

fn svg(s: String) -> Markup {
    PreEscaped(s)
}

/// Renders the report as one HTML string.
///
/// # Errors
/// [`ReportError::Empty`] when there are no rows; chart failures.
pub fn render(input: ReportInput<'_>) -> Result<String, ReportError> {
    let v = View::new(input)?;
    let subjects = v.subjects();
    let mut sections = Vec::new();
    for s in &subjects {
        sections.push(indicator_section(&v, s)?);
    }
    let funnels = funnel_section(&v)?;
    let life = life_section(&v)?;
    let evaluation = evaluation_section(&v)?;
    let disease_costs = disease_cost_section(&v)?;
    let fy_range = format!("{}〜{}年度", v.fys[0], v.latest);
    let page = html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (input.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (input.title) }
                    p { (input.subtitle) " ／ 対象年度 " (fy_range) }
                }
                main {
                    p {
                        "このレポートは集計値のみを含み、個人が特定される情報は含みません。10未満の人数とそれに基づく率は「※」と表示して数値を出していません（他の数値からの逆算を防ぐため、必要に応じて他の1区分も秘匿しています）。"
                    }
                    nav {
                        h2 { "目次" }
                        ol {
                            li { a href="#summary" { "概要（" (v.latest) "年度、広域連合全体）" } }
                            @for s in &subjects { li { a href={ "#" (s.anchor) } { (s.title) } } }
                            li { a href="#funnels" { "抽出ルールの減少表" } }
                            li { a href="#life" { "生命表（平均余命・平均自立期間）" } }
                            li { a href="#evaluation" { "個別事業の評価" } }
                            li { a href="#disease_costs" { "疾病分類別医療費" } }
                            li { a href="#notes" { "用語と計算方法" } }
                        }
                    }
                    (summary_section(&v, &subjects))
                    @for s in &sections { (s) }
                    (funnels)
                    (life)
                    (evaluation)
                    (disease_costs)
                    (notes_section())
                }
            }
        }
    };
    Ok(page.into_string())
}

/// Renders and writes the report atomically (readable by others: aggregates only).
///
/// # Errors
/// As [`render`], and I/O errors naming the file.
pub fn write_html(input: ReportInput<'_>, path: &Path) -> Result<(), ReportError> {
    let text = render(input)?;
    write_atomic(path, text.as_bytes(), Visibility::Shared).map_err(|e| ReportError::Io {
        path: path.display().to_string(),
        source: e,
    })
}

fn summary_section(v: &View<'_>, subjects: &[Subject<'_>]) -> Markup {
    let fy = v.latest;
    let (all, ages) = (SexGroup::All, AgeGroup::All);
    let card = |id: IndicatorId| -> Option<(String, String)> {
        let s = subjects.iter().find(|s| s.def.id == id)?;
        let r = published(v.get(s, fy, UNION, all, ages))?;
        Some((s.def.name_ja.to_string(), format_value(s.def.unit, r.value)))
    };
    let insured = subjects
        .iter()
        .find(|s| s.def.id == IndicatorId::CertificationRate)
        .and_then(|s| published(v.get(s, fy, UNION, all, ages)))
        .map(|r| count(r.denominator));
    html! {
        section id="summary" {
            h2 { "概要（" (fy) "年度、広域連合全体）" }
            div.cards {
                @if let Some(n) = insured { div.card { "被保険者数（年度末）" b { (n) "人" } } }
                @for id in [IndicatorId::CheckupRate, IndicatorId::DentalCheckupRate, IndicatorId::CertificationRate, IndicatorId::LifeExpectancy75, IndicatorId::Independence75, IndicatorId::MedicalCost] {
                    @if let Some((name, val)) = card(id) { div.card { (name) b { (val) } } }
                }
            }
            table {
                tr { th { "指標" } th { "値" } th { "分子" } th { "分母" } th { "前年度" } th { "前年度差" } th { "95%信頼区間" } }
                @for s in subjects {
                    @let r = published(v.get(s, fy, UNION, all, ages));
                    @let p = published(v.get(s, fy - 1, UNION, all, ages));
                    tr {
                        td.l { a href={ "#" (s.anchor) } { (s.title) } }
                        @match r {
                            Some(r) => {
                                td { (format_value(s.def.unit, r.value)) }
                                td { (num_den(s.def, r.numerator)) }
                                td { (num_den(s.def, r.denominator)) }
                                td { (p.map(|p| format_value(s.def.unit, p.value)).unwrap_or_else(|| "—".into())) }
                                td { (change_text(s.def, r, p.is_none())) }
                                td { (ci_text(r)) }
                            }
                            None => { td.sup colspan="6" { "※ 秘匿または算出不能" } }
                        }
                    }
                }
            }
        }
    }
}

fn num_den(def: &IndicatorDef, x: f64) -> String {
    match def.kind {
        Kind::YenPerInsured if x > 10_000.0 => thousands(x.round() as i64).to_string(),
        _ if x.fract() != 0.0 => {
            let tenths = (x * 10.0).round() as i64;
            format!("{}.{}", thousands(tenths / 10), (tenths % 10).abs())
        }
        _ => count(x),
    }
}

fn ci_text(r: &IndicatorRow) -> String {
    match (r.ci_lower, r.ci_upper) {
        (Some(a), Some(b)) => format!("{a:.2}〜{b:.2}"),
        _ => String::new(),
    }
}

fn indicator_section(v: &View<'_>, s: &Subject<'_>) -> Result<Markup, ReportError> {
    let fy = v.latest;
    let d = s.def;
    let (all, ages) = (SexGroup::All, AgeGroup::All);
    let union = published(v.get(s, fy, UNION, all, ages));
    // Municipalities against the union (age-standardised where published).
    let standardised = d.age_standardised;
    let pick = |r: &IndicatorRow| {
        if standardised {
            r.age_standardised.or(r.value)
        } else {
            r.value
        }
    };
    let mut rows: Vec<(String, Option<&IndicatorRow>)> = v
        .municipalities
        .iter()
        .map(|m| (v.name(m), published(v.get(s, fy, m, all, ages))))
        .collect();
    rows.sort_by(|a, b| match (a.1.and_then(pick), b.1.and_then(pick)) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    });
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(name, r)| {
            let value = r.and_then(pick);
            let note = match (r, value) {
                (Some(r), Some(x)) if d.kind == Kind::Years => {
                    format!("{} （{}）", format_value(d.unit, Some(x)), ci_text(r))
                }
                (Some(_), Some(x)) => format_value(d.unit, Some(x)),
                _ => "※".into(),
            };
            Bar {
                label: name.clone(),
                value,
                note,
                highlight: false,
            }
        })
        .collect();
    let reference_label = union
        .and_then(|u| u.value)
        .map(|x| format!("広域連合 {}", format_value(d.unit, Some(x))));
    let by_muni = charts::hbar(
        &bars,
        d.unit.as_str(),
        union.and_then(|u| u.value).zip(reference_label.as_deref()),
        140,
    )?;
    let which = if standardised {
        "年齢調整値（直接法、広域連合の当該年度の人口を基準）"
    } else {
        "値と95%信頼区間"
    };

    // Age band × sex (union).
    let bands: Vec<AgeBand> = AgeBand::ALL
        .into_iter()
        .filter(|b| {
            SexGroup::SEXES
                .iter()
                .any(|x| v.get(s, fy, UNION, *x, AgeGroup::Band(*b)).is_some())
        })
        .collect();
    let by_age = if d.kind == Kind::Years || bands.is_empty() {
        None
    } else {
        let series: Vec<Series> = SexGroup::SEXES
            .iter()
            .map(|x| Series {
                name: x.label_ja().to_string(),
                values: bands
                    .iter()
                    .map(|b| {
                        published(v.get(s, fy, UNION, *x, AgeGroup::Band(*b))).and_then(|r| r.value)
                    })
                    .collect(),
                ci: Vec::new(),
            })
            .collect();
        Some(charts::grouped(
            &bands.iter().map(|b| band_label(*b)).collect::<Vec<_>>(),
            &series,
            d.unit.as_str(),
        )?)
    };

    // Trend over FYs (union, all / male / female).
    let trend = if v.fys.len() > 1 {
        let series: Vec<Series> = SexGroup::PUBLISHED
            .iter()
            .map(|x| {
                let rs: Vec<Option<&IndicatorRow>> = v
                    .fys
                    .iter()
                    .map(|y| published(v.get(s, *y, UNION, *x, ages)))
                    .collect();
                Series {
                    name: x.label_ja().to_string(),
                    values: rs.iter().map(|r| r.and_then(|r| r.value)).collect(),
                    ci: rs
                        .iter()
                        .map(|r| r.and_then(|r| r.ci_lower.zip(r.ci_upper)))
                        .collect(),
                }
            })
            .collect();
        Some(charts::lines(
            &v.fys.iter().map(|y| format!("{y}年度")).collect::<Vec<_>>(),
            &series,
            d.unit.as_str(),
            d.kind != Kind::Years,
        )?)
    } else {
        None
    };

    let table_rows: Vec<(String, bool, Option<&IndicatorRow>, bool)> = std::iter::once(UNION)
        .chain(v.municipalities.iter().copied())
        .map(|m| {
            let r = v.get(s, fy, m, all, ages);
            let prev_hidden = v.get(s, fy - 1, m, all, ages).is_none_or(|p| p.suppressed);
            (v.name(m), m.is_union(), published(r), prev_hidden)
        })
        .collect();
    Ok(html! {
        section id=(s.anchor) {
            h2 { (s.title) }
            div.def {
                p { (d.explanation_ja) }
                @if matches!(d.id, IndicatorId::CheckupRate | IndicatorId::DentalCheckupRate) { p { (CHECKUP_DENOMINATOR_JA) } }
                @if let Some(years) = s.rule.and_then(|id| v.lookback.get(id).copied()).filter(|y| *y > 0) {
                    p { "注意：このルールは過去" (years) "年度分の記録を参照します。データの最初の" (years) "年度分は過去の記録が不足するため、年度推移の比較には使えません。" }
                }
                p.src { "出典：" (d.source) }
            }
            @if let Some(u) = union {
                p { (fy) "年度の広域連合全体の値は " b { (format_value(d.unit, u.value)) } @if d.kind == Kind::Years { "（95%信頼区間 " (ci_text(u)) "）" } " です。" }
            }
            figure {
                figcaption { "市町村別（" (fy) "年度、" (which) "）。赤線は広域連合全体。※は秘匿または算出不能。" }
                (svg(by_muni))
            }
            @if let Some(c) = by_age {
                figure { figcaption { "年齢階級・性別（" (fy) "年度、広域連合全体、粗率）" } (svg(c)) }
            }
            @if let Some(c) = trend {
                figure { figcaption { "年度推移（広域連合全体）" @if d.kind == Kind::Years { "。縦線は95%信頼区間" } } (svg(c)) }
            }
            details {
                summary { "市町村別の数値表（" (fy) "年度）" }
                table {
                    tr {
                        th { "市町村" } th { "分子" } th { "分母" } th { "値" }
                        @if standardised { th { "年齢調整値" } }
                        @if d.kind == Kind::Years { th { "95%信頼区間" } }
                        th { "前年度差" }
                    }
                    @for (name, is_union, r, prev_hidden) in &table_rows {
                        tr class=[is_union.then_some("union")] {
                            td.l { (name) }
                            @match r {
                                Some(r) => {
                                    td { (num_den(d, r.numerator)) } td { (num_den(d, r.denominator)) } td { (format_value(d.unit, r.value)) }
                                    @if standardised { td { (format_value(d.unit, r.age_standardised)) } }
                                    @if d.kind == Kind::Years { td { (ci_text(r)) } }
                                    td { (change_text(d, r, *prev_hidden)) }
                                }
                                None => {
                                    td.sup colspan=(if standardised || d.kind == Kind::Years { 5 } else { 4 }) { "※" }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn funnel_section(v: &View<'_>) -> Result<Markup, ReportError> {
    let fy = v.latest;
    let mut by_rule: BTreeMap<&str, Vec<&FunnelStep>> = BTreeMap::new();
    for f in v.input.funnels.iter().filter(|f| f.fy == fy) {
        by_rule.entry(f.rule_id.as_str()).or_default().push(f);
    }
    let mut parts = Vec::new();
    for (id, mut steps) in by_rule {
        steps.sort_by_key(|s| s.step);
        // Blanked as in the published funnel table (small steps and small drops).
        let owned: Vec<FunnelStep> = steps.iter().map(|s| (*s).clone()).collect();
        let shown = crate::indicators::published_funnel(&owned);
        let persons_text = |x: Option<u64>| match x {
            Some(n) => count(n as f64),
            None => "秘匿".to_string(),
        };
        let bars: Vec<Bar> = steps
            .iter()
            .zip(&shown)
            .map(|(s, x)| Bar {
                label: format!("段階{}", s.step),
                value: x.map(|n| n as f64),
                note: format!("{}人", persons_text(*x)),
                highlight: s.step as usize + 1 == steps.len(),
            })
            .collect();
        let chart = charts::hbar(&bars, "人", None, 70)?;
        let name = steps.first().map(|s| s.rule_name_ja.as_str()).unwrap_or("");
        parts.push(html! {
            h3 id={ "funnel-" (id) } { (id) " " (name) }
            figure { (svg(chart)) }
            table {
                tr { th { "段階" } th { "条件" } th { "該当者数" } th { "資格期間不足で除外" } }
                @for (s, x) in steps.iter().zip(&shown) {
                    tr { td { (s.step) } td.l { (s.condition_ja) } td { (persons_text(*x)) } td { (count(s.insufficient_coverage as f64)) } }
                }
            }
        });
    }
    Ok(html! {
        section id="funnels" {
            h2 { "抽出ルールの減少表（" (fy) "年度、広域連合全体）" }
            p.def { "基準日（年度末）の被保険者から、各ルールの条件を順に当てはめたときに残る人数です。最終段階の人数が対象者数（ハイリスク者割合の分子）です。「資格期間不足」は、判定に必要な期間に資格がなかったため除外した人数です。" }
            @for p in &parts { (p) }
        }
    })
}

fn life_section(v: &View<'_>) -> Result<Markup, ReportError> {
    let (le, he) = (
        IndicatorId::LifeExpectancy75.def(),
        IndicatorId::Independence75.def(),
    );
    let get = |id: IndicatorId, fy: i32, sex: SexGroup| {
        v.index
            .get(&(id, None, fy, UNION, sex, AgeGroup::All))
            .copied()
            .filter(|r| !r.suppressed)
    };
    let rows: Vec<(i32, SexGroup)> = v
        .fys
        .iter()
        .flat_map(|fy| SexGroup::PUBLISHED.map(|s| (*fy, s)))
        .collect();
    let chart_series: Vec<Series> = SexGroup::SEXES
        .iter()
        .flat_map(|sex| {
            [
                (IndicatorId::LifeExpectancy75, "平均余命"),
                (IndicatorId::Independence75, "平均自立期間"),
            ]
            .map(|(id, label)| {
                let rs: Vec<Option<&IndicatorRow>> =
                    v.fys.iter().map(|y| get(id, *y, *sex)).collect();
                Series {
                    name: format!("{}（{}）", label, sex.label_ja()),
                    values: rs.iter().map(|r| r.and_then(|r| r.value)).collect(),
                    ci: rs
                        .iter()
                        .map(|r| r.and_then(|r| r.ci_lower.zip(r.ci_upper)))
                        .collect(),
                }
            })
        })
        .collect();
    let chart = charts::lines(
        &v.fys.iter().map(|y| format!("{y}年度")).collect::<Vec<_>>(),
        &chart_series,
        "年",
        false,
    )?;
    // Blanked as in the published life table (crate::indicators::published_life).
    let shown = crate::indicators::published_life(v.input.life);
    let latest: Vec<(&LifeLine, crate::indicators::PublishedLife)> = v
        .input
        .life
        .iter()
        .zip(shown)
        .filter(|(l, _)| l.fy == v.latest && l.municipality_code.is_union())
        .collect();
    let f2 = |x: Option<f64>| x.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into());
    let f4 = |x: Option<f64>| x.map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into());
    let f0 = |x: Option<f64>| {
        x.map(|x| thousands(x.round() as i64))
            .unwrap_or_else(|| "—".into())
    };
    Ok(html! {
        section id="life" {
            h2 { "生命表（75歳の平均余命・平均自立期間、広域連合全体）" }
            div.def {
                p { b { (le.name_ja) } "：" (le.explanation_ja) }
                p { b { (he.name_ja) } "：" (he.explanation_ja) } p.src { "出典：" (he.source) }
            }
            figure { figcaption { "年度推移（縦線は95%信頼区間）" } (svg(chart)) }
            table {
                tr { th { "年度" } th { "性別" } th { "平均余命（年）" } th { "95%信頼区間" } th { "平均自立期間（年）" } th { "95%信頼区間" } th { "要介護2以上の期間（年）" } }
                @for (fy, sex) in &rows {
                    @let e = get(IndicatorId::LifeExpectancy75, *fy, *sex);
                    @let h = get(IndicatorId::Independence75, *fy, *sex);
                    tr {
                        td { (fy) } td { (sex.label_ja()) }
                        td { (f2(e.and_then(|r| r.value))) } td { (e.map(ci_text).unwrap_or_default()) }
                        td { (f2(h.and_then(|r| r.value))) } td { (h.map(ci_text).unwrap_or_default()) }
                        td { (f2(e.and_then(|r| r.value).zip(h.and_then(|r| r.value)).map(|(a, b)| a - b))) }
                    }
                }
            }
            @for sex in SexGroup::PUBLISHED {
                @let lines: Vec<&(&LifeLine, crate::indicators::PublishedLife)> = latest.iter().filter(|(l, _)| l.sex == sex).collect();
                @if !lines.is_empty() {
                    h3 { (v.latest) "年度 簡易生命表（" (sex.label_ja()) "）" }
                    table {
                        tr { th { "年齢階級" } th { "死亡数" } th { "観察人年" } th { "死亡率 m" } th { "死亡確率 q" } th { "生存数 l" } th { "定常人口 L" } th { "要介護2以上の割合" } th { "平均余命 e" } th { "平均自立期間 h" } }
                        @for (line, l) in &lines {
                            tr {
                                td { (band_label(line.age_band)) } td { (l.deaths.map(count).unwrap_or_else(|| "—".into())) } td { (f0(l.person_years)) }
                                td { (f4(l.m)) } td { (f4(l.q)) } td { (f0(l.l)) } td { (f0(l.big_l)) } td { (f4(l.prevalence)) } td { (f2(l.e)) } td { (f2(l.h)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// Key of an evaluation row: FY, programme, area, measure, group, period.
type EvalKey<'a> = (i32, Option<Programme>, &'a Area, Measure, Group, Period);

/// The evaluation rows with what the report may show of each ([`evaluation_hidden`]).
struct EvalView<'a> {
    rows: &'a [EvaluationRow],
    hidden: Vec<bool>,
    index: HashMap<EvalKey<'a>, usize>,
}

/// One evaluation cell as published: no such row, a hidden row, or a shown row.
#[derive(Clone, Copy)]
enum Shown<'a> {
    Absent,
    Hidden,
    Row(&'a EvaluationRow),
}

impl<'a> Shown<'a> {
    fn row(self) -> Option<&'a EvaluationRow> {
        match self {
            Shown::Row(r) => Some(r),
            _ => None,
        }
    }
    fn is_absent(self) -> bool {
        matches!(self, Shown::Absent)
    }
}

impl<'a> EvalView<'a> {
    fn new(rows: &'a [EvaluationRow]) -> Self {
        let hidden = evaluation_hidden(rows);
        let index = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    (
                        r.fy,
                        r.programme,
                        &r.municipality_code,
                        r.measure,
                        r.group,
                        r.period,
                    ),
                    i,
                )
            })
            .collect();
        EvalView {
            rows,
            hidden,
            index,
        }
    }

    fn get(
        &self,
        fy: i32,
        programme: Option<Programme>,
        m: &Area,
        measure: Measure,
        group: Group,
        period: Period,
    ) -> Shown<'a> {
        let rows: &'a [EvaluationRow] = self.rows;
        match self.index.get(&(fy, programme, m, measure, group, period)) {
            None => Shown::Absent,
            Some(&i) if self.hidden[i] => Shown::Hidden,
            Some(&i) => Shown::Row(&rows[i]),
        }
    }
}

/// Whole number with thousands separators.
fn whole(x: f64) -> String {
    thousands(x.round() as i64)
}

/// The persons of an output row (numerator; the value of a `Persons` row without one).
fn persons(r: &EvaluationRow) -> Option<f64> {
    r.numerator.or(if r.measure.unit() == EvalUnit::Persons {
        r.value
    } else {
        None
    })
}

/// A share of an output row, one decimal: `40.0%`.
fn share(r: &EvaluationRow) -> Option<String> {
    r.value.map(|v| format!("{v:.1}%"))
}

/// An evaluation value in its unit: `33.3%`, `+2.1ポイント` (change of a share), `1.85`
/// (mean), `+0.20` (change of a mean), `120人`; — when missing.
fn eval_value(m: Measure, period: Period, x: Option<f64>) -> String {
    let Some(x) = x else {
        return "—".into();
    };
    match (m.unit(), period) {
        (EvalUnit::Percent, Period::Change) => format!("{x:+.1}ポイント"),
        (EvalUnit::Percent, _) => format!("{x:.1}%"),
        (EvalUnit::Mean, Period::Change) => format!("{x:+.2}"),
        (EvalUnit::Mean, _) => format!("{x:.2}"),
        (EvalUnit::Persons, _) => format!("{}人", whole(x)),
    }
}

/// The y axis of an outcome chart.
fn axis_unit(m: Measure) -> &'static str {
    match m.unit() {
        EvalUnit::Percent => "%",
        EvalUnit::Mean => "1人当たり平均",
        EvalUnit::Persons => "人",
    }
}

/// 「差 +3.2ポイント（95%CI 1.0～5.4）」 for a shown difference row; 「※ 秘匿」 for a hidden
/// one; — when there is none (no comparison group).
fn difference_text(m: Measure, x: Shown<'_>) -> String {
    match x {
        Shown::Absent => "—".into(),
        Shown::Hidden => "※ 秘匿".into(),
        Shown::Row(r) => {
            let Some(d) = r.value else {
                return "—".into();
            };
            let (unit, digits): (&str, usize) = match m.unit() {
                EvalUnit::Percent => ("ポイント", 1),
                _ => ("", 2),
            };
            let ci = match (r.ci_low, r.ci_high) {
                (Some(a), Some(b)) => format!("（95%CI {a:.digits$}～{b:.digits$}）"),
                _ => String::new(),
            };
            format!("差 {d:+.digits$}{unit}{ci}")
        }
    }
}

/// A table cell of an evaluation row: `f` of a shown row (— when `None`), 秘匿 (class
/// `sup`) for a hidden row, — when there is no row.
fn eval_cell(x: Shown<'_>, f: impl Fn(&EvaluationRow) -> Option<String>) -> Markup {
    match x {
        Shown::Absent => html! { td { "—" } },
        Shown::Hidden => html! { td.sup { "秘匿" } },
        Shown::Row(r) => html! { td { (f(r).unwrap_or_else(|| "—".into())) } },
    }
}

/// The steps of a programme's funnel: measure and legend.
const FUNNEL: [(Measure, &str); 3] = [
    (Measure::Targets, "対象者"),
    (Measure::Contacted, "接触"),
    (Measure::Supported, "支援"),
];

/// 個別事業の評価 for the latest FY with evaluation rows: the caveat, the union's counts of
/// municipalities, then one block per programme present.
fn evaluation_section(v: &View<'_>) -> Result<Markup, ReportError> {
    let rows = v.input.evaluation;
    let Some(fy) = rows.iter().map(|r| r.fy).max() else {
        return Ok(html! {
            section id="evaluation" {
                h2 { "個別事業の評価" }
                p.def { (NO_INTERVENTIONS_JA) }
            }
        });
    };
    let e = EvalView::new(rows);
    let programmes: Vec<Programme> = Programme::ALL
        .iter()
        .copied()
        .filter(|p| {
            rows.iter()
                .any(|r| r.fy == fy && r.programme == Some(*p) && !counts_municipalities(r.measure))
        })
        .collect();
    let mut blocks = Vec::new();
    for p in &programmes {
        blocks.push(programme_block(v, &e, fy, *p)?);
    }
    Ok(html! {
        section id="evaluation" {
            h2 { "個別事業の評価（" (fy) "年度）" }
            div.caveat { p { b { "比較の読み方：" } (OBSERVATIONAL_CAVEAT_JA) } }
            div.def {
                p { "対象者は、前年度のデータで各事業の抽出ルールに該当し、" (fy) "年度の4月1日に被保険者である人です。接触は" (fy) "年度に抽出リストに基づく支援記録がある対象者、支援は支援できた記録がある対象者で、割合の分母は対象者数です。" }
                p { "支援の後の状況は、支援ありの人と支援なしの人（比較群）を比べています。支援なしの値は支援ありの人の性・年齢構成にそろえた値（直接法）で、差は「支援あり－支援なし」です。95%信頼区間が0をまたぐときは、差があるとはいえません。前後を比べる指標は、同じ人の支援前と支援後の変化（後－前）どうしを比べています。" }
                p.src { "出典：厚生労働省「高齢者保健事業の実施計画（データヘルス計画）」資料（2023年2月21日）「個別事業（一体的実施）の評価指標例」。期間・比較の方法は ittai の docs/reference/evaluation.md。" }
            }
            (municipality_counts(&e, fy))
            @if blocks.is_empty() { p { (fy) "年度には、事業別の評価の行がありません。" } }
            @for b in &blocks { (b) }
        }
    })
}

/// The union's counts of municipalities (事業を実施した市町村 per programme, 歯科健診, 質問票を
/// 用いた支援) as a small table; nothing when there are none.
fn municipality_counts(e: &EvalView<'_>, fy: i32) -> Markup {
    let (all, none) = (Group::All, Period::None);
    let mut items: Vec<(String, Shown<'_>)> = Vec::new();
    for p in Programme::ALL {
        let m = Measure::MunicipalitiesRunning;
        let x = e.get(fy, Some(*p), UNION, m, all, none);
        if !x.is_absent() {
            items.push((format!("{}（{}）", m.label_ja(), p.label_ja()), x));
        }
    }
    for m in [
        Measure::MunicipalitiesDentalCheckups,
        Measure::MunicipalitiesQuestionnaireSupport,
    ] {
        let x = e.get(fy, None, UNION, m, all, none);
        if !x.is_absent() {
            items.push((m.label_ja().to_string(), x));
        }
    }
    if items.is_empty() {
        return html! {};
    }
    html! {
        h3 { "市町村の実施状況（" (fy) "年度、広域連合）" }
        table {
            tr { th { "項目" } th { "実施した市町村数" } th { "市町村数" } th { "割合" } }
            @for (label, x) in &items {
                tr {
                    td.l { (label) }
                    (eval_cell(*x, |r| r.numerator.map(whole)))
                    (eval_cell(*x, |r| r.denominator.map(whole)))
                    (eval_cell(*x, share))
                }
            }
        }
    }
}

/// One programme: (a) targets → contacted → supported by municipality (chart and table)
/// with the union's other outputs, (b) each outcome at the union level, supported vs
/// not supported (standardised), with the difference and its 95 % CI.
fn programme_block(
    v: &View<'_>,
    e: &EvalView<'_>,
    fy: i32,
    p: Programme,
) -> Result<Markup, ReportError> {
    let prog = Some(p);
    let (all, none) = (Group::All, Period::None);
    let areas: Vec<&Area> = e
        .rows
        .iter()
        .filter(|r| {
            r.fy == fy && r.programme == prog && FUNNEL.iter().any(|(m, _)| *m == r.measure)
        })
        .map(|r| &r.municipality_code)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The chart compares municipalities; the union alone when there are none.
    let chart_areas: Vec<&Area> = if areas.iter().any(|m| !m.is_union()) {
        areas.iter().copied().filter(|m| !m.is_union()).collect()
    } else {
        areas.clone()
    };
    let funnel_chart = if chart_areas.is_empty() {
        None
    } else {
        let cells: Vec<Vec<Shown<'_>>> = FUNNEL
            .iter()
            .map(|(m, _)| {
                chart_areas
                    .iter()
                    .map(|a| e.get(fy, prog, a, *m, all, none))
                    .collect()
            })
            .collect();
        let series: Vec<Series> = FUNNEL
            .iter()
            .zip(&cells)
            .map(|((_, name), xs)| Series {
                name: name.to_string(),
                values: xs.iter().map(|x| x.row().and_then(persons)).collect(),
                ci: Vec::new(),
            })
            .collect();
        let notes: Vec<Vec<String>> = cells
            .iter()
            .map(|xs| {
                xs.iter()
                    .map(|x| match x {
                        Shown::Absent => String::new(),
                        Shown::Hidden => "※".to_string(),
                        Shown::Row(r) => persons(r)
                            .map(|n| format!("{}人", whole(n)))
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .collect();
        let labels: Vec<String> = chart_areas.iter().map(|a| v.name(a)).collect();
        Some(charts::hgrouped(&labels, &series, &notes, "人", 140)?)
    };
    let others: Vec<(Measure, Shown<'_>)> = [
        Measure::OutsideLists,
        Measure::Referred,
        Measure::NeedsReferral,
    ]
    .into_iter()
    .map(|m| (m, e.get(fy, prog, UNION, m, all, none)))
    .filter(|(_, x)| !x.is_absent())
    .collect();

    // Outcomes: the measures with supported / not-supported / difference rows at the union,
    // each from the latest FY (up to `fy`) whose windows the data cover (persons counted
    // among the supported): a 12-month outcome of the last FY is not yet observable.
    let outcomes: Vec<(Measure, i32)> = e
        .rows
        .iter()
        .filter(|r| {
            r.fy <= fy
                && r.programme == prog
                && r.municipality_code.is_union()
                && r.group != Group::All
        })
        .map(|r| r.measure)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|m| {
            let compared = if m.paired() {
                Period::Change
            } else {
                Period::Post
            };
            let latest = e
                .rows
                .iter()
                .filter(|r| {
                    r.fy <= fy
                        && r.programme == prog
                        && r.municipality_code.is_union()
                        && r.measure == m
                        && r.group == Group::Supported
                        && r.period == compared
                        && r.denominator.unwrap_or(0.0) > 0.0
                })
                .map(|r| r.fy)
                .max()
                .unwrap_or(fy);
            (m, latest)
        })
        .collect();
    let mut figures = Vec::new();
    for &(m, fy) in &outcomes {
        let periods: &[Period] = if m.paired() {
            &[Period::Pre, Period::Post]
        } else {
            &[Period::Post]
        };
        let compared = if m.paired() {
            Period::Change
        } else {
            Period::Post
        };
        let get = |g: Group| {
            periods
                .iter()
                .map(|x| e.get(fy, prog, UNION, m, g, *x))
                .collect::<Vec<_>>()
        };
        let (supported, not_supported) = (get(Group::Supported), get(Group::NotSupported));
        let series = vec![
            Series {
                name: "支援あり".into(),
                values: supported
                    .iter()
                    .map(|x| x.row().and_then(|r| r.value))
                    .collect(),
                ci: Vec::new(),
            },
            Series {
                name: "支援なし（性・年齢調整）".into(),
                values: not_supported
                    .iter()
                    .map(|x| x.row().and_then(|r| r.standardised))
                    .collect(),
                ci: Vec::new(),
            },
        ];
        let chart = if series.iter().any(|s| s.values.iter().any(Option::is_some)) {
            let categories: Vec<String> =
                periods.iter().map(|x| x.label_ja().to_string()).collect();
            Some(charts::grouped(&categories, &series, axis_unit(m))?)
        } else {
            None
        };
        let difference = e.get(fy, prog, UNION, m, Group::Difference, compared);
        let which = if m.paired() {
            "支援前後の変化（後－前）の差"
        } else {
            "支援後の差"
        };
        figures.push(html! {
            figure {
                figcaption { (m.label_ja()) "（" (fy) "年度、広域連合全体）" }
                @if let Some(c) = chart { (svg(c)) } @else { p.sup { "※ 秘匿のため図は表示していません。" } }
                p { (which) "（支援あり－支援なし）： " b { (difference_text(m, difference)) } }
            }
        });
    }
    let outcome_rows: Vec<(Measure, i32, Period)> = outcomes
        .iter()
        .flat_map(|&(m, y)| {
            [Period::Pre, Period::Post, Period::Change]
                .into_iter()
                .map(move |x| (m, y, x))
        })
        .filter(|(m, y, x)| {
            [Group::Supported, Group::NotSupported, Group::Difference]
                .into_iter()
                .any(|g| !e.get(*y, prog, UNION, *m, g, *x).is_absent())
        })
        .collect();

    Ok(html! {
        div id={ "evaluation-" (p.code()) } {
            h3 { (p.label_ja()) "（" (p.rules().join("・")) "）" }
            h4 { "対象者・接触・支援（" (fy) "年度、市町村別）" }
            @if let Some(c) = funnel_chart {
                figure { figcaption { "対象者 → 接触 → 支援の人数。※は秘匿（10人未満など）。" } (svg(c)) }
            }
            @if !areas.is_empty() {
                table {
                    tr { th { "市町村" } th { "対象者数" } th { "接触者数" } th { "接触割合" } th { "支援実施者数" } th { "支援割合" } }
                    @for a in &areas {
                        @let targets = e.get(fy, prog, a, Measure::Targets, all, none);
                        @let contacted = e.get(fy, prog, a, Measure::Contacted, all, none);
                        @let supported = e.get(fy, prog, a, Measure::Supported, all, none);
                        tr class=[a.is_union().then_some("union")] {
                            td.l { (v.name(a)) }
                            (eval_cell(targets, |r| persons(r).map(whole)))
                            (eval_cell(contacted, |r| persons(r).map(whole)))
                            (eval_cell(contacted, share))
                            (eval_cell(supported, |r| persons(r).map(whole)))
                            (eval_cell(supported, share))
                        }
                    }
                }
            }
            @if !others.is_empty() {
                table {
                    tr { th { "その他の実績（広域連合全体）" } th { "人数" } th { "分母（人）" } th { "割合" } }
                    @for (m, x) in &others {
                        tr {
                            td.l { (m.label_ja()) }
                            (eval_cell(*x, |r| persons(r).map(whole)))
                            (eval_cell(*x, |r| r.denominator.map(whole)))
                            (eval_cell(*x, |r| if r.measure.unit() == EvalUnit::Percent { share(r) } else { None }))
                        }
                    }
                }
            }
            h4 { "支援の後の状況（支援あり・支援なしの比較、広域連合全体）" }
            @if outcomes.is_empty() {
                p { "支援できた対象者がいないなどのため、比較は表示していません。" }
            } @else {
                @for f in &figures { (f) }
                table {
                    tr { th { "指標" } th { "年度" } th { "期間" } th { "支援あり（人）" } th { "支援あり" } th { "支援なし（人）" } th { "支援なし（粗）" } th { "支援なし（性・年齢調整）" } th { "差（95%CI）" } }
                    @for (m, y, x) in &outcome_rows {
                        @let s = e.get(*y, prog, UNION, *m, Group::Supported, *x);
                        @let n = e.get(*y, prog, UNION, *m, Group::NotSupported, *x);
                        @let d = e.get(*y, prog, UNION, *m, Group::Difference, *x);
                        tr {
                            td.l { (m.label_ja()) }
                            td { (y) }
                            td.l { (x.label_ja()) }
                            (eval_cell(s, |r| r.denominator.map(whole)))
                            (eval_cell(s, |r| Some(eval_value(*m, *x, r.value))))
                            (eval_cell(n, |r| r.denominator.map(whole)))
                            (eval_cell(n, |r| Some(eval_value(*m, *x, r.value))))
                            (eval_cell(n, |r| Some(eval_value(*m, *x, r.standardised))))
                            (eval_cell(d, |_| Some(difference_text(*m, d))))
                        }
                    }
                }
            }
        }
    })
}

/// `s` cut to `n` characters with … when longer (chart labels).
fn short_label(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// 疾病分類別医療費 of the latest FY, union: yen per insured by disease group (chart,
/// descending) and the table.
fn disease_cost_section(v: &View<'_>) -> Result<Markup, ReportError> {
    let rows = v.input.disease_costs;
    let Some(fy) = rows.iter().map(|r| r.fy).max() else {
        return Ok(html! {
            section id="disease_costs" {
                h2 { "疾病分類別医療費" }
                p.def { (NO_DISEASE_COSTS_JA) }
            }
        });
    };
    let hidden = disease_cost_hidden(rows);
    let mut union: Vec<(&DiseaseCostRow, bool)> = rows
        .iter()
        .zip(hidden.iter().copied())
        .filter(|(r, _)| r.fy == fy && r.municipality_code.is_union())
        .collect();
    let shown = |x: &(&DiseaseCostRow, bool)| if x.1 { None } else { x.0.yen_per_insured };
    union.sort_by(|a, b| match (shown(a), shown(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.disease_group.cmp(&b.0.disease_group),
    });
    let bars: Vec<Bar> = union
        .iter()
        .map(|x| Bar {
            label: short_label(&x.0.disease_group.label_ja(), 16),
            value: shown(x),
            note: match shown(x) {
                Some(y) => format!("{}円", whole(y)),
                None if x.1 => "※".into(),
                None => "—".into(),
            },
            highlight: false,
        })
        .collect();
    let chart = if bars.is_empty() {
        None
    } else {
        Some(charts::hbar(&bars, "円（1人当たり）", None, 290)?)
    };
    let yen = |x: Option<f64>| x.map(whole).unwrap_or_else(|| "—".into());
    Ok(html! {
        section id="disease_costs" {
            h2 { "疾病分類別医療費（" (fy) "年度、広域連合全体）" }
            p.def { "各レセプトの点数×10円を、主傷病（なければ最初の確定傷病名）のICD-10大分類（章）に割り当てて合計しました。1人当たり医療費は被保険者の観察人年で割った額、構成比は医療費全体に占める割合です。傷病名のない調剤レセプトは「調剤（傷病名なし）」として別に示します。人数が1〜9の分類は秘匿（※）しています。" }
            @if let Some(c) = chart {
                figure { figcaption { "被保険者1人当たり医療費（円、ICD-10大分類別、多い順）。※は秘匿。" } (svg(c)) }
            }
            @if !union.is_empty() {
                table {
                    tr { th { "疾病分類" } th { "件数" } th { "人数" } th { "医療費（円）" } th { "1人当たり医療費（円）" } th { "構成比（%）" } }
                    @for (r, h) in &union {
                        tr {
                            td.l { (r.disease_group.label_ja()) }
                            @if *h {
                                @for _ in 0..5 { td.sup { "秘匿" } }
                            } @else {
                                td { (thousands(r.claims as i64)) }
                                td { (thousands(r.persons as i64)) }
                                td { (whole(r.yen)) }
                                td { (yen(r.yen_per_insured)) }
                                td { (r.share.map(|x| format!("{x:.1}")).unwrap_or_else(|| "—".into())) }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn notes_section() -> Markup {
    html! {
        section id="notes" {
            h2 { "用語と計算方法" }
            dl {
                dt { "統一的な分母（健診・歯科健診受診率）" } dd { (CHECKUP_DENOMINATOR_JA) }
                dt { "年齢調整値" } dd { "直接法。当該年度・同じ性別の広域連合全体の年齢階級別人口（各指標の分母）を基準人口とし、市町村の年齢階級別の率を重み付けして平均した値。年齢構成の違う市町村どうしを比べるときに使います。広域連合全体の年齢調整値は粗率と一致します。" }
                dt { "前年度差と増減" } dd { "当該年度の値から前年度の値を引いた差。率は±0.05ポイント、年は±0.05年、円は±0.5円以内を「横ばい（→）」としています。どちらかの年度が秘匿の場合は表示しません。" }
                dt { "秘匿（※）" } dd { "人数が1〜9の区分と、それに基づく率・金額は公表しません（NDBオープンデータの公表基準に準拠）。さらに、秘匿した区分が合計からの差し引きで分からないよう、同じ合計を構成する区分のうち最も小さいものも秘匿します（二次秘匿）。広域連合全体の値は常に全員で計算しています。" }
                dt { "平均余命・平均自立期間" } dd { "5歳階級（75〜79歳 … 95歳以上）の簡易生命表をChiang法で作り、Sullivan法で要介護2以上の期間を除きます。死亡数が10未満の地域や、95歳以上の死亡がない地域では算出しません。小さな市町村では信頼区間が広くなるため、比較には信頼区間を併せて見てください。" }
                dt { "医療費・介護給付費（1人当たり）" } dd { "レセプトの点数・単位数を10円として合計し、被保険者の観察人年（資格期間の合計日数÷365.25）で割った額です。" }
                dt { "個別事業の評価（対象者・接触・支援）" } dd { "対象者は、前年度のデータで各事業の抽出ルールに該当し、当該年度の4月1日に被保険者である人です。接触は当該年度に抽出リストに基づく支援記録がある対象者、支援は支援できた記録がある対象者で、割合の分母は対象者数です。" }
                dt { "支援あり・支援なしの比較" } dd { "支援なし（比較群）の値は、支援ありの人の性・年齢構成にそろえた値（直接法）です。差は「支援あり－支援なし」で、95%信頼区間が0をまたぐときは差があるとはいえません。前後を比べる指標は、同じ人の支援前と支援後の変化（後－前）どうしを比べています。観察による比較であり、支援の効果を証明するものではありません。" }
                dt { "疾病分類別医療費" } dd { "各レセプトの点数×10円を、主傷病（なければ最初の確定傷病名）のICD-10大分類に割り当てて合計し、被保険者の観察人年で割った額です。傷病名のない調剤レセプトは「調剤（傷病名なし）」として別に示します。" }
            }
            p.src { "定義の詳細は ittai の docs/INDICATORS.md、抽出条件は docs/RULES.md と `ittai rules` を参照してください。" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: IndicatorId, m: Area, num: f64, den: f64, suppressed: bool) -> IndicatorRow {
        IndicatorRow {
            indicator: id,
            rule_id: None,
            fy: 2024,
            municipality_code: m,
            sex: SexGroup::All,
            age_band: AgeGroup::All,
            numerator: num,
            denominator: den,
            persons: num as u64,
            value: Some(100.0 * num / den),
            age_standardised: None,
            ci_lower: None,
            ci_upper: None,
            previous_value: None,
            change: None,
            direction: None,
            suppressed,
        }
    }

    fn muni(code: &str) -> Area {
        Area::Municipality(code.into())
    }

    /// A suppressed municipality's count and rate appear nowhere in the HTML; the union's do.
    #[test]
    fn suppressed_cells_are_not_published() {
        let rows = vec![
            row(IndicatorId::CheckupRate, Area::Union, 1234.0, 5000.0, false),
            row(IndicatorId::CheckupRate, muni("310000"), 7.0, 333.0, true),
            row(
                IndicatorId::CheckupRate,
                muni("320000"),
                1227.0,
                4667.0,
                false,
            ),
        ];
        let names = BTreeMap::from([
            ("310000".to_string(), "小町".to_string()),
            ("320000".to_string(), "大市".to_string()),
        ]);
        let html = render(ReportInput {
            title: "テスト",
            subtitle: "",
            rows: &rows,
            life: &[],
            funnels: &[],
            names: &names,
            evaluation: &[],
            disease_costs: &[],
        })
        .unwrap();
        assert!(html.contains(NO_INTERVENTIONS_JA) && html.contains(NO_DISEASE_COSTS_JA));
        assert!(html.contains("小町") && html.contains("大市"));
        assert!(html.contains("24.68%"), "union 1234 / 5000");
        assert!(!html.contains("2.10%"), "7 / 333 must not be published");
        assert!(!html.contains(">333<") && !html.contains(">7<"));
        assert!(html.contains("1,234"));
    }

    /// The tables of `<section id="{id}">`: each a header (cell texts) and rows of cells
    /// (text with tags stripped, whether the cell is a 秘匿 cell of class `sup`).
    fn section_tables(html: &str, id: &str) -> Vec<(Vec<String>, Vec<Vec<(String, bool)>>)> {
        let start = html
            .find(&format!("<section id=\"{id}\""))
            .unwrap_or_else(|| panic!("no section {id}"));
        let end = start + html[start..].find("</section>").expect("</section>");
        let strip = |s: &str| {
            let mut out = String::new();
            let mut tag = false;
            for c in s.chars() {
                match c {
                    '<' => tag = true,
                    '>' => tag = false,
                    c if !tag => out.push(c),
                    _ => {}
                }
            }
            out.trim().to_string()
        };
        let mut out = Vec::new();
        for t in html[start..end].split("<table").skip(1) {
            let t = &t[..t.find("</table>").expect("</table>")];
            let mut rows: Vec<Vec<(String, bool)>> = t
                .split("<tr")
                .skip(1)
                .map(|tr| {
                    // "<td …>x</td>" and "<th …>x</th>" split at "<t": "d …>x</td>".
                    tr.split("<t")
                        .skip(1)
                        .filter(|c| c.starts_with('d') || c.starts_with('h'))
                        .map(|c| {
                            let open = &c[..c.find('>').expect(">")];
                            (strip(&c[open.len() + 1..]), open.contains("sup"))
                        })
                        .collect()
                })
                .collect();
            assert!(!rows.is_empty(), "an empty table in {id}");
            let header = rows.remove(0).into_iter().map(|c| c.0).collect();
            out.push((header, rows));
        }
        out
    }

    /// The columns of the new sections that hold counts of persons or claims.
    const EVALUATION_COUNT_COLUMNS: &[&str] = &[
        "対象者数",
        "接触者数",
        "支援実施者数",
        "人数",
        "分母（人）",
        "支援あり（人）",
        "支援なし（人）",
        "件数",
    ];

    /// Every count cell of the tables of section `id` is not 1–9; returns how many were
    /// checked and how many 秘匿 cells were seen.
    fn assert_no_small_counts(html: &str, id: &str) -> (usize, usize) {
        let (mut checked, mut hidden) = (0, 0);
        for (header, rows) in section_tables(html, id) {
            for row in &rows {
                assert_eq!(row.len(), header.len(), "{id}: {header:?} / {row:?}");
                for (h, (text, sup)) in header.iter().zip(row) {
                    if *sup {
                        assert_eq!(text, "秘匿", "{id} {h}");
                        hidden += 1;
                    }
                    if !EVALUATION_COUNT_COLUMNS.contains(&h.as_str()) {
                        continue;
                    }
                    checked += 1;
                    if let Ok(n) = text.replace(',', "").trim_end_matches('人').parse::<f64>() {
                        assert!(
                            !(n.fract() == 0.0 && (1.0..=9.0).contains(&n)),
                            "{id}: a published count of 1–9 under {h}: {row:?}"
                        );
                    }
                }
            }
        }
        (checked, hidden)
    }

    /// The report with evaluation and disease-cost rows: section titles, the caveat, the
    /// difference with its CI; a municipality with 7 contacted persons that the engine
    /// left unsuppressed shows 秘匿 (and so does the other municipality, which the union
    /// would otherwise give away), and no table cell of the two sections holds a count of
    /// 1–9.
    #[test]
    fn evaluation_and_disease_costs_publish_no_small_counts() {
        use crate::evaluation::tests::erow;
        use ittai_model::icd10::DiseaseGroup;

        let indicators = vec![row(
            IndicatorId::CheckupRate,
            Area::Union,
            1234.0,
            5000.0,
            false,
        )];
        let (u, a, b) = (Area::Union, muni("312011"), muni("312029"));
        let (all, none) = (Group::All, Period::None);
        let (sup, ns, diff) = (Group::Supported, Group::NotSupported, Group::Difference);
        let out = |m: &Area, measure, num: f64, den: Option<f64>| {
            erow(m.clone(), measure, all, none, Some(num), den)
        };
        // Outcomes at the union: 45 supported, 105 (DentalClaim) or 100 (Q04) not supported.
        let at_union = |measure: Measure, group: Group, period: Period, num: Option<f64>| {
            let den = match (measure, group) {
                (_, Group::Supported | Group::Difference) => 45.0,
                (Measure::DentalClaim, _) => 105.0,
                _ => 100.0,
            };
            erow(Area::Union, measure, group, period, num, Some(den))
        };
        let mut rows = vec![
            out(&u, Measure::Targets, 150.0, None),
            out(&a, Measure::Targets, 120.0, None),
            out(&b, Measure::Targets, 30.0, None),
            out(&u, Measure::Contacted, 60.0, Some(150.0)),
            out(&a, Measure::Contacted, 53.0, Some(120.0)),
            // 7 persons, not flagged by the engine: the report hides it anyway.
            out(&b, Measure::Contacted, 7.0, Some(30.0)),
            out(&u, Measure::Supported, 45.0, Some(150.0)),
            out(&a, Measure::Supported, 40.0, Some(120.0)),
            out(&b, Measure::Supported, 5.0, Some(30.0)),
            out(&u, Measure::Referred, 12.0, Some(45.0)),
            out(&u, Measure::MunicipalitiesRunning, 2.0, Some(2.0)),
            at_union(Measure::DentalClaim, sup, Period::Post, Some(30.0)),
            at_union(Measure::DentalClaim, ns, Period::Post, Some(42.0)),
            at_union(Measure::DentalClaim, diff, Period::Post, None),
            at_union(Measure::Q04Yes, sup, Period::Pre, Some(20.0)),
            at_union(Measure::Q04Yes, sup, Period::Post, Some(15.0)),
            at_union(Measure::Q04Yes, sup, Period::Change, Some(-5.0)),
            at_union(Measure::Q04Yes, ns, Period::Pre, Some(40.0)),
            at_union(Measure::Q04Yes, ns, Period::Post, Some(38.0)),
            at_union(Measure::Q04Yes, ns, Period::Change, Some(-2.0)),
            at_union(Measure::Q04Yes, diff, Period::Change, None),
        ];
        // The engine's secondary suppression of the supported rows (5 and, to protect it, 40).
        rows[7].suppressed = true;
        rows[8].suppressed = true;
        let mut dental = out(&u, Measure::MunicipalitiesDentalCheckups, 2.0, Some(2.0));
        dental.programme = None;
        rows.push(dental);
        for r in rows.iter_mut().filter(|r| r.group == ns) {
            r.standardised = r.value.map(|v| v + 1.0);
        }
        rows[13].value = Some(25.5);
        rows[13].ci_low = Some(8.1);
        rows[13].ci_high = Some(42.9);
        rows[20].value = Some(-9.6);
        rows[20].ci_low = Some(-20.1);
        rows[20].ci_high = Some(0.9);

        let (circulatory, respiratory) = (
            DiseaseGroup::parse("IX").unwrap(),
            DiseaseGroup::parse("X").unwrap(),
        );
        let cost = |g, persons: u64, per: f64| DiseaseCostRow {
            fy: 2024,
            municipality_code: Area::Union,
            disease_group: g,
            claims: persons * 3,
            persons,
            yen: per * 5000.0,
            yen_per_insured: Some(per),
            share: Some(per / 1000.0),
            suppressed: false,
        };
        let costs = vec![
            cost(respiratory, 6, 9_000.0),
            cost(circulatory, 1200, 20_000.0),
            cost(DiseaseGroup::Dispensing, 900, 15_000.0),
        ];
        let names = BTreeMap::from([
            ("312011".to_string(), "鳥取市".to_string()),
            ("312029".to_string(), "米子市".to_string()),
        ]);
        let html = render(ReportInput {
            title: "テスト",
            subtitle: "",
            rows: &indicators,
            life: &[],
            funnels: &[],
            names: &names,
            evaluation: &rows,
            disease_costs: &costs,
        })
        .unwrap();
        for text in [
            "個別事業の評価",
            "疾病分類別医療費",
            OBSERVATIONAL_CAVEAT_JA,
            "差 +25.5ポイント（95%CI 8.1～42.9）",
            "差 -9.6ポイント（95%CI -20.1～0.9）",
            "IX 循環器系の疾患",
            "事業を実施した市町村（口腔）",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(!html.contains(NO_INTERVENTIONS_JA) && !html.contains(NO_DISEASE_COSTS_JA));

        let (checked, hidden) = assert_no_small_counts(&html, "evaluation");
        // Count cells by hand: the funnel table 3 areas × (対象者数, 接触者数, 支援実施者数)
        // = 9; the other outputs of the union: 紹介 (referred) × (人数, 分母（人）) = 2; the
        // outcomes: DentalClaim post and Q04 pre / post / change = 4 rows × (支援あり（人）,
        // 支援なし（人）) = 8. 19 in all.
        assert_eq!(checked, 19, "count cells in the evaluation tables");
        assert!(
            hidden >= 6,
            "米子市 and 鳥取市: contacted and supported hidden"
        );
        let funnel = &section_tables(&html, "evaluation")
            .into_iter()
            .find(|(h, _)| h.first().is_some_and(|x| x == "市町村"))
            .expect("the funnel table");
        let line = |name: &str| {
            funnel
                .1
                .iter()
                .find(|r| r[0].0 == name)
                .unwrap_or_else(|| panic!("{name}"))
                .clone()
        };
        let texts = |name: &str| line(name).into_iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(
            texts("米子市"),
            ["米子市", "30", "秘匿", "秘匿", "秘匿", "秘匿"]
        );
        assert_eq!(
            texts("鳥取市"),
            ["鳥取市", "120", "秘匿", "秘匿", "秘匿", "秘匿"]
        );
        assert_eq!(
            texts("広域連合全体"),
            ["広域連合全体", "150", "60", "40.0%", "45", "30.0%"]
        );

        let (checked, hidden) = assert_no_small_counts(&html, "disease_costs");
        assert_eq!((checked, hidden), (6, 5), "X (6 persons) hidden");
        let tables = section_tables(&html, "disease_costs");
        let order: Vec<&str> = tables[0].1.iter().map(|r| r[0].0.as_str()).collect();
        assert_eq!(
            order,
            [
                "IX 循環器系の疾患",
                "調剤（傷病名なし）",
                "X 呼吸器系の疾患"
            ],
            "descending yen per insured, hidden last"
        );
    }

    #[test]
    fn values_are_formatted_in_their_unit() {
        assert_eq!(format_value(Unit::Yen, Some(1234567.4)), "1,234,567円");
        assert_eq!(format_value(Unit::Percent, Some(3.456)), "3.46%");
        assert_eq!(format_value(Unit::Years, None), "—");
        assert_eq!(count(7.0), "10未満");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(12345.0), "12,345");
        let pct = IndicatorId::CheckupRate.def();
        assert_eq!(num_den(pct, 3911.96), "3,912.0");
        assert_eq!(num_den(pct, 3911.04), "3,911.0");
        assert_eq!(band_label(AgeBand::A95plus), "95歳以上");
        assert_eq!(band_label(AgeBand::A75to79), "75〜79歳");
        assert_eq!(band_label(AgeBand::Under75), "75歳未満");
    }
}
