//! The committee report (`ittai report`): one self-contained HTML file — inline CSS and
//! SVG charts, no script, no network — with the union summary, every indicator by
//! municipality against the union, by age band and sex, the trend over fiscal years, the
//! rules' attrition funnels, the life-table summary and a Japanese explanation of each
//! definition and its source.
//!
//! Only published figures appear: a suppressed indicator cell (see
//! [`IndicatorRow::suppressed`]) shows ※ and draws no bar; funnel steps and life-table
//! counts of 1–9 persons show 「10未満」.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_model::indicators::{
    AgeGroup, Area, CHECKUP_DENOMINATOR_JA, FunnelStep, INDICATORS, IndicatorDef, IndicatorId,
    IndicatorRow, Kind, LifeLine, SexGroup, Unit,
};
use ittai_model::time::AgeBand;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::charts::{self, Bar, Series};
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
}

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
                            li { a href="#notes" { "用語と計算方法" } }
                        }
                    }
                    (summary_section(&v, &subjects))
                    @for s in &sections { (s) }
                    (funnels)
                    (life)
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
        })
        .unwrap();
        assert!(html.contains("小町") && html.contains("大市"));
        assert!(html.contains("24.68%"), "union 1234 / 5000");
        assert!(!html.contains("2.10%"), "7 / 333 must not be published");
        assert!(!html.contains(">333<") && !html.contains(">7<"));
        assert!(html.contains("1,234"));
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
