//! The published outputs of the indicators (CSV, HTML report) and the report itself.

use std::path::Path;

use ittai_model::indicators::{AgeGroup, Area, SexGroup};

use crate::support::{Dataset, checkup, d, ittai, root};

fn ok(o: std::process::Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Reads a published CSV (UTF-8 with BOM) into header → value maps.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// docs/reference/indicators.md suppression, end to end. Three municipalities of 鳥取県, women aged 80, insured
/// all of FY2024; those with no checkup, claim or certification are 健康状態不明者 (R10):
/// - 鳥取市 (312011): 7 listed + 20 with a checkup = 27 insured → 7 / 27 is a count under
///   10: no count or rate is published and the row is flagged ※;
/// - 米子市 (312029): 15 + 20 = 35;
/// - 倉吉市 (312037): 12 + 20 = 32 → blanked too (secondary suppression: the smallest other
///   municipality, else 鳥取市's 7 = union 34 − 15 − 12);
/// - the union: 7 + 15 + 12 = 34 listed / 94 insured = 36.17 %, published in full.
#[test]
fn seven_listed_persons_are_not_published_and_the_union_is_right() {
    let mut ds = Dataset::default();
    for (muni, unknown) in [("312011", 7), ("312029", 15), ("312037", 12)] {
        for i in 0..unknown + 20 {
            let id = format!("{muni}-{i}");
            ds.elder(&id);
            ds.persons.last_mut().unwrap().municipality_code = muni.into();
            if i >= unknown {
                ds.checkups.push(checkup(&id, d(2024, 7, 1)));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ds.write(&data);
    let out = dir.path().join("out");
    ok(ittai()
        .args(["indicators", "--fy", "2024", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap());
    ok(ittai()
        .args(["report", "--out"])
        .arg(&out)
        .output()
        .unwrap());

    let rows = csv_rows(&out.join("indicators/indicators.csv"));
    let r10 = |code: &str| {
        rows.iter()
            .find(|r| {
                r["ルールID"] == "R10"
                    && r["市町村コード"] == code
                    && r["性別"] == "計"
                    && r["年齢階級"] == "全年齢"
            })
            .unwrap_or_else(|| panic!("{code}"))
    };
    for code in ["312011", "312037"] {
        let r = r10(code);
        assert_eq!(
            (
                r["分子"].as_str(),
                r["分母"].as_str(),
                r["値"].as_str(),
                r["秘匿"].as_str()
            ),
            ("", "", "", "※"),
            "{code}"
        );
    }
    let b = r10("312029");
    assert_eq!(
        (
            b["分子"].as_str(),
            b["分母"].as_str(),
            b["値"].as_str(),
            b["秘匿"].as_str()
        ),
        ("15.0", "35.0", "42.86", "")
    );
    let u = r10("union");
    assert_eq!(
        (
            u["分子"].as_str(),
            u["分母"].as_str(),
            u["値"].as_str(),
            u["秘匿"].as_str()
        ),
        ("34.0", "94.0", "36.17", "")
    );
    // Every row of the published CSV, parsed: a suppressed row (秘匿 ※) has its numbers
    // blank, and no published numerator or denominator is a count of 1–9 (so 鳥取市's 7
    // appears nowhere).
    let mut published = 0;
    for r in &rows {
        if r["秘匿"] == "※" {
            assert!(
                r["分子"].is_empty() && r["分母"].is_empty() && r["値"].is_empty(),
                "a suppressed row with numbers: {r:?}"
            );
            continue;
        }
        published += 1;
        for c in ["分子", "分母"] {
            if let Ok(v) = r[c].parse::<f64>() {
                assert!(
                    !(v.fract() == 0.0 && (1.0..=9.0).contains(&v)),
                    "a published count of 1–9 in {c}: {r:?}"
                );
            }
        }
    }
    assert!(published > 100, "only {published} published rows");

    // The HTML report, parsed: every table cell of every published table.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let tables = html_tables(&html);
    assert!(!tables.is_empty(), "no table in report.html");

    // 1. No cell where a count of persons is expected holds a count of 1–9.
    let checked = assert_no_small_counts(&tables);
    assert!(checked >= 40, "only {checked} count cells found");

    // 2. Every suppressed all-sex, all-age row of the latest FY shows ※ in place of its
    //    numbers, in its indicator's table and (for the union) in the summary; every
    //    published row shows numbers that agree with the exact table.
    let exact = ittai_engine::indicators::read_tables(&out.join("indicators")).unwrap();
    let names = |a: &Area| match a {
        Area::Union => "広域連合全体",
        Area::Municipality(c) => match c.as_str() {
            "312011" => "鳥取市",
            "312029" => "米子市",
            "312037" => "倉吉市",
            other => panic!("unexpected municipality {other}"),
        },
    };
    let mut suppressed = 0;
    for r in exact
        .rows
        .iter()
        .filter(|r| r.fy == 2024 && r.sex == SexGroup::All && r.age_band == AgeGroup::All)
    {
        let anchor = match &r.rule_id {
            Some(id) => format!("{}-{id}", r.indicator.as_str()),
            None => r.indicator.as_str().to_string(),
        };
        let table = tables
            .iter()
            .find(|t| t.section == anchor)
            .unwrap_or_else(|| panic!("no table in section {anchor}"));
        let name = names(&r.municipality_code);
        let row = table
            .row(|cells| cells[0].text == name)
            .unwrap_or_else(|| panic!("{anchor}: no row for {name}"));
        let mut places = vec![("indicator table", row)];
        if r.municipality_code == Area::Union {
            let summary = tables.iter().find(|t| t.section == "summary").unwrap();
            let href = format!("href=\"#{anchor}\"");
            let srow = summary
                .row(|cells| cells[0].raw.contains(&href))
                .unwrap_or_else(|| panic!("summary: no row for {anchor}"));
            places.push(("summary", srow));
        }
        for (which, cells) in places {
            let rest = &cells[1..];
            if r.suppressed {
                assert!(
                    rest.len() == 1 && rest[0].sup && rest[0].text.starts_with('※'),
                    "{anchor} {name} ({which}): a suppressed row shows only ※, got {rest:?}"
                );
            } else {
                assert!(
                    rest.iter().all(|c| !c.sup && !c.text.contains('※')),
                    "{anchor} {name} ({which}): a published row is not marked ※: {rest:?}"
                );
            }
        }
        if r.suppressed {
            suppressed += 1;
        } else {
            // Published numbers agree with the exact table (num_den rounds yen above
            // 10,000 to whole yen and fractions to one decimal).
            for (column, exact) in [("分子", r.numerator), ("分母", r.denominator)] {
                let i = table
                    .header
                    .iter()
                    .position(|h| h == column)
                    .unwrap_or_else(|| panic!("{anchor}: no column {column}"));
                let shown: f64 = row[i]
                    .text
                    .replace(',', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{anchor} {name} {column}: {:?}", row[i].text));
                assert!(
                    (shown - exact).abs() <= 0.5,
                    "{anchor} {name} {column}: shows {shown}, exact {exact}"
                );
            }
        }
    }
    assert!(
        suppressed >= 2,
        "鳥取市 and 倉吉市 are suppressed at least for R10; {suppressed} suppressed rows seen"
    );

    // 3. The R10 table in detail: 鳥取市 and 倉吉市 hidden, 米子市 15 / 35 = 42.86 %, the
    //    union 34 / 94 = 36.17 %; 7 / 27 (25.93 %) appears in no cell of the report.
    let r10 = tables
        .iter()
        .find(|t| t.section == "high_risk_rate-R10")
        .expect("R10 table");
    let cell = |name: &str, header: &str| -> String {
        let i = r10
            .header
            .iter()
            .position(|h| h == header)
            .unwrap_or_else(|| panic!("R10 table has no column {header}: {:?}", r10.header));
        r10.row(|c| c[0].text == name).expect(name)[i].text.clone()
    };
    for name in ["鳥取市", "倉吉市"] {
        let row = r10.row(|c| c[0].text == name).expect(name);
        assert!(row.len() == 2 && row[1].sup, "{name}: {row:?}");
    }
    assert_eq!(
        (
            cell("米子市", "分子"),
            cell("米子市", "分母"),
            cell("米子市", "値")
        ),
        ("15".to_string(), "35".to_string(), "42.86%".to_string())
    );
    assert_eq!(
        (
            cell("広域連合全体", "分子"),
            cell("広域連合全体", "分母"),
            cell("広域連合全体", "値")
        ),
        ("34".to_string(), "94".to_string(), "36.17%".to_string())
    );
    for t in &tables {
        for row in &t.rows {
            for c in row.cells.iter() {
                assert!(
                    !c.text.contains("25.93"),
                    "{}: 7 / 27 must not be published: {c:?}",
                    t.section
                );
            }
        }
    }
}

/// A table cell of the report: its text (tags stripped, entities decoded), its inner HTML,
/// whether it is a suppression cell (`class="sup"`) and its colspan.
#[derive(Debug)]
struct Cell {
    text: String,
    raw: String,
    sup: bool,
    colspan: usize,
}

#[derive(Debug)]
struct HtmlRow {
    cells: Vec<Cell>,
}

/// One `<table>` of the report: the `id` of the `<section>` it is in, the header row (the
/// texts of the first row's cells) and the other rows.
#[derive(Debug)]
struct HtmlTable {
    section: String,
    header: Vec<String>,
    rows: Vec<HtmlRow>,
}

impl HtmlTable {
    /// The cells of the first data row that `pick` accepts.
    fn row(&self, pick: impl Fn(&[Cell]) -> bool) -> Option<&[Cell]> {
        self.rows
            .iter()
            .map(|r| r.cells.as_slice())
            .find(|c| !c.is_empty() && pick(c))
    }
}

fn html_text(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

fn html_attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let pat = format!(" {name}=\"");
    let i = tag.find(&pat)? + pat.len();
    let j = i + tag[i..].find('"')?;
    Some(&tag[i..j])
}

/// Position of the next `<td` or `<th` opening tag in `s`.
fn next_cell(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("<t") {
        let at = from + i;
        let tail = &s.as_bytes()[at..];
        if tail.len() > 3 && (tail[2] == b'd' || tail[2] == b'h') && matches!(tail[3], b' ' | b'>')
        {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Every table of the report (the report's tables are not nested).
fn html_tables(html: &str) -> Vec<HtmlTable> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find("<table") {
        let start = from + i;
        let end = start + html[start..].find("</table>").expect("</table>");
        let section = html[..start]
            .rfind("<section id=\"")
            .map(|s| {
                let s = s + "<section id=\"".len();
                html[s..s + html[s..].find('"').unwrap()].to_string()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        for tr in html[start..end].split("<tr").skip(1) {
            let mut rest = &tr[tr.find('>').expect("<tr …>") + 1..];
            let mut cells = Vec::new();
            while let Some(k) = next_cell(rest) {
                let after = &rest[k..];
                let tag_end = after.find('>').unwrap();
                let tag = &after[..tag_end];
                let close = if tag.starts_with("<td") {
                    "</td>"
                } else {
                    "</th>"
                };
                let content_end = after.find(close).expect(close);
                let raw = &after[tag_end + 1..content_end];
                cells.push(Cell {
                    text: html_text(raw),
                    raw: raw.to_string(),
                    sup: html_attr(tag, "class").is_some_and(|c| c.split(' ').any(|x| x == "sup")),
                    colspan: html_attr(tag, "colspan").map_or(1, |n| n.parse().unwrap()),
                });
                rest = &after[content_end + close.len()..];
            }
            rows.push(HtmlRow { cells });
        }
        assert!(!rows.is_empty(), "an empty table in section {section}");
        let header = rows.remove(0).cells.into_iter().map(|c| c.text).collect();
        out.push(HtmlTable {
            section,
            header,
            rows,
        });
        from = end;
    }
    out
}

/// Columns whose cells are counts of persons (or deaths): 分子 / 分母 of the indicator and
/// summary tables, 該当者数 / 資格期間不足で除外 of the funnels, 死亡数 of the life tables.
const COUNT_COLUMNS: &[&str] = &["分子", "分母", "該当者数", "資格期間不足で除外", "死亡数"];

/// docs/reference/indicators.md#suppression: no published count is 1–9. Checks every cell of
/// a count column (a suppressed row, one ※ cell spanning the columns, has none); returns
/// how many cells were checked.
fn assert_no_small_counts(tables: &[HtmlTable]) -> usize {
    let mut checked = 0;
    let mut small = Vec::new();
    for t in tables {
        for row in &t.rows {
            if row.cells.iter().any(|c| c.colspan > 1) {
                assert!(
                    row.cells.iter().any(|c| c.sup && c.text.starts_with('※')),
                    "{}: a spanning cell that is not a ※ cell: {:?}",
                    t.section,
                    row.cells
                );
                continue;
            }
            assert_eq!(
                row.cells.len(),
                t.header.len(),
                "{}: a row that does not line up with {:?}: {:?}",
                t.section,
                t.header,
                row.cells
            );
            for (h, c) in t.header.iter().zip(&row.cells) {
                if !COUNT_COLUMNS.contains(&h.as_str()) {
                    continue;
                }
                checked += 1;
                let n = c.text.replace(',', "").parse::<f64>().ok();
                if n.is_some_and(|n| n.fract() == 0.0 && (1.0..=9.0).contains(&n)) {
                    small.push(format!(
                        "{} / {} / {h}: {}",
                        t.section, row.cells[0].text, c.text
                    ));
                }
            }
        }
    }
    assert!(
        small.is_empty(),
        "published counts of 1–9:\n{}",
        small.join("\n")
    );
    checked
}

/// `ittai report` on the sample data: computes the indicators first (none in --out yet),
/// writes report.html and report.xlsx, and the HTML has every section and chart: 25
/// indicator sections (15 indicators + ハイリスク者割合 × 10 rules) × (municipalities +
/// trend) = 50, plus age × sex for the 23 that are not life expectancies = 73, plus 10
/// funnels and 1 life-table trend = 84 SVG charts. When Chromium is installed, the
/// headless check (scripts/check_report.sh) must pass too; with ITTAI_REQUIRE_CHROMIUM=1
/// (set by .ci/run) a missing Chromium is a failure, not a skip.
#[test]
fn report_on_sample_data_has_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(ittai()
        .args(["report", "--out"])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(out.join("report.xlsx").exists());
    // The programme evaluation (the sample has support records): per programme one funnel
    // chart and one figure per outcome — new certification plus the programme's own
    // measures (低栄養 4, 口腔 4, 服薬 3, 身体的フレイル 1, 重症化予防 3, 健康状態不明者 1) —
    // each either a chart or the note that it is hidden; then one 疾病分類別医療費 chart.
    let mut evaluation_charts = 0;
    for (p, figures) in [
        ("undernutrition", 5),
        ("oral", 5),
        ("medication", 4),
        ("physical_frailty", 2),
        ("disease_prevention", 4),
        ("health_unknown", 2),
    ] {
        let start = html
            .find(&format!("id=\"evaluation-{p}\""))
            .unwrap_or_else(|| panic!("no section for {p}"));
        let rest = &html[start + 1..];
        let end = ["id=\"evaluation-", "id=\"disease_costs\""]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
            .unwrap();
        let block = &rest[..end];
        let charts = block.matches("<svg").count();
        let hidden = block.matches("秘匿のため図は表示していません").count();
        assert_eq!(
            charts + hidden,
            1 + figures,
            "{p}: {charts} charts, {hidden} hidden"
        );
        evaluation_charts += charts;
    }
    assert_eq!(html.matches("<svg").count(), 84 + evaluation_charts + 1);
    for id in [
        "summary",
        "checkup_rate",
        "high_risk_rate-R01",
        "high_risk_rate-R10",
        "life_expectancy_75",
        "independence_75",
        "funnels",
        "life",
        "evaluation",
        "disease_costs",
        "notes",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // Self-contained: nothing is fetched from elsewhere (the SVG namespace URI is a name).
    for pat in ["href=\"http", "url(", "<link", "src=", "<script"] {
        assert!(!html.contains(pat), "{pat}");
    }
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .any(|b| {
            std::process::Command::new("sh")
                .args(["-c", &format!("command -v {b}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if chromium {
        let o = std::process::Command::new("bash")
            .arg(root().join("scripts/check_report.sh"))
            .arg(out.join("report.html"))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    } else {
        // .ci/run installs Chromium and sets ITTAI_REQUIRE_CHROMIUM=1, so CI cannot pass
        // without the headless check; locally the test skips it with a message.
        let required =
            std::env::var("ITTAI_REQUIRE_CHROMIUM").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "ITTAI_REQUIRE_CHROMIUM is set but chromium is not installed: apt-get install chromium fonts-noto-cjk (docs/REPORT_CHECK.md)"
        );
        eprintln!(
            "report_on_sample_data_has_every_chart: chromium not installed; headless check skipped (see docs/REPORT_CHECK.md; ITTAI_REQUIRE_CHROMIUM=1 makes this a failure)"
        );
    }
}
