//! The published outputs of the indicators (CSV, HTML report) and the report itself.

use std::path::Path;

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
    // No published row anywhere carries 鳥取市's 7 as a count.
    assert!(!rows.iter().any(|r| r["市町村コード"] == "312011"
        && r["ルールID"] == "R10"
        && (r["分子"] == "7.0" || r["値"] == "25.93")));

    // The HTML report: the R10 section names 鳥取市 with ※ and never shows 7 / 27.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let start = html.find("id=\"high_risk_rate-R10\"").unwrap();
    let end = html[start..]
        .find("<section")
        .map(|e| start + e)
        .unwrap_or(html.len());
    let section = &html[start..end];
    assert!(section.contains("鳥取市") && section.contains("※"));
    assert!(!section.contains("25.93"), "7 / 27 must not be published");
    assert!(section.contains("36.17%"), "the union value is published");
    assert!(section.contains("42.86%"), "米子市 is published");
}

/// `ittai report` on the sample data: computes the indicators first (none in --out yet),
/// writes report.html and report.xlsx, and the HTML has every section and chart: 25
/// indicator sections (15 indicators + ハイリスク者割合 × 10 rules) × (municipalities +
/// trend) = 50, plus age × sex for the 23 that are not life expectancies = 73, plus 10
/// funnels and 1 life-table trend = 84 SVG charts. When Chromium is installed, the
/// headless check (scripts/check_report.sh) must pass too.
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
    assert_eq!(html.matches("<svg").count(), 84);
    for id in [
        "summary",
        "checkup_rate",
        "high_risk_rate-R01",
        "high_risk_rate-R10",
        "life_expectancy_75",
        "independence_75",
        "funnels",
        "life",
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
        eprintln!(
            "report_on_sample_data_has_every_chart: chromium not installed; headless check skipped (see docs/REPORT_CHECK.md)"
        );
    }
}
