//! Every table `ittai run` writes has one header per column: the run on the sample data
//! with every format, and each CSV (target lists, `targets_all.csv`, attrition, rejects,
//! indicators) and each sheet of each xlsx checked.
//!
//! The xlsx files are read with the `zip` crate (calamine is not in Cargo.lock): row 1 of
//! each `xl/worksheets/sheetN.xml`, its strings looked up in `xl/sharedStrings.xml`, by
//! plain string scanning of the XML rust_xlsxwriter writes.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::support::{ittai, root};

/// Files under `dir` (at any depth) whose name ends with `.ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The header row of a UTF-8 CSV (with or without BOM).
fn csv_header(p: &Path) -> Vec<String> {
    let bytes = std::fs::read(p).unwrap();
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .next()
        .unwrap_or_else(|| panic!("{}: empty", p.display()))
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

/// The headers that occur more than once.
fn duplicates(headers: &[String]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for h in headers {
        *seen.entry(h.as_str()).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(h, n)| format!("{h} ×{n}"))
        .collect()
}

pub(crate) fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of every `<t>` element in `s`, concatenated (a shared string may be split
/// into rich-text runs).
pub(crate) fn t_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("<t") {
        let after = &rest[i + 2..];
        // `<t>` or `<t xml:space="preserve">`; not another element starting with t.
        if !(after.starts_with('>') || after.starts_with(' ')) {
            rest = after;
            continue;
        }
        let gt = after.find('>').expect("end of <t>");
        let body = &after[gt + 1..];
        if after[..gt].ends_with('/') {
            rest = body;
            continue;
        }
        let end = body.find("</t>").expect("</t>");
        out.push_str(&xml_unescape(&body[..end]));
        rest = &body[end + 4..];
    }
    out
}

/// The shared strings of a workbook, in index order.
pub(crate) fn shared_strings(xml: &str) -> Vec<String> {
    xml.split("<si>")
        .skip(1)
        .map(|chunk| t_text(&chunk[..chunk.find("</si>").expect("</si>")]))
        .collect()
}

/// The cells of row 1 of a worksheet, in column order.
fn row1(xml: &str, shared: &[String]) -> Vec<String> {
    let start = xml.find("<row r=\"1\"").expect("a row 1");
    let row = &xml[start..];
    let row = &row[..row.find("</row>").expect("</row>")];
    let mut cells = Vec::new();
    for c in row.split("<c ").skip(1) {
        let gt = c.find('>').expect("end of <c>");
        let attrs = &c[..gt];
        if attrs.ends_with('/') {
            cells.push(String::new());
            continue;
        }
        let body = &c[gt + 1..c.find("</c>").expect("</c>")];
        let v = body
            .find("<v>")
            .map(|i| &body[i + 3..i + body[i..].find("</v>").expect("</v>")]);
        let text = if attrs.contains("t=\"s\"") {
            shared[v.expect("<v>").parse::<usize>().unwrap()].clone()
        } else if attrs.contains("t=\"inlineStr\"") {
            t_text(body)
        } else {
            xml_unescape(v.unwrap_or(""))
        };
        cells.push(text);
    }
    cells
}

/// A workbook read once: each sheet's name and XML, in order, and the shared strings.
pub(crate) fn workbook(p: &Path) -> (Vec<(String, String)>, Vec<String>) {
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap())
        .unwrap_or_else(|e| panic!("{}: not an xlsx: {e}", p.display()));
    let mut read = |name: &str| -> Option<String> {
        let mut f = z.by_name(name).ok()?;
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        Some(s)
    };
    let book = read("xl/workbook.xml").expect("xl/workbook.xml");
    let names: Vec<String> = book
        .split("<sheet ")
        .skip(1)
        .map(|s| {
            let a = s.find("name=\"").expect("sheet name") + 6;
            xml_unescape(&s[a..a + s[a..].find('"').unwrap()])
        })
        .collect();
    let shared = read("xl/sharedStrings.xml")
        .map(|x| shared_strings(&x))
        .unwrap_or_default();
    let sheets = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let xml = read(&format!("xl/worksheets/sheet{}.xml", i + 1))
                .unwrap_or_else(|| panic!("{}: no sheet{}.xml", p.display(), i + 1));
            (name, xml)
        })
        .collect();
    (sheets, shared)
}

/// The sheet names of a workbook and the header row of each sheet.
fn xlsx_headers(p: &Path) -> Vec<(String, Vec<String>)> {
    let (sheets, shared) = workbook(p);
    sheets
        .into_iter()
        .map(|(name, xml)| (name, row1(&xml, &shared)))
        .collect()
}

#[test]
fn every_csv_and_sheet_written_has_unique_headers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = ittai()
        .args(["run", "--format", "csv,xlsx,parquet", "--out"])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let csvs = files(&out, "csv");
    let xlsxs = files(&out, "xlsx");
    for f in [
        "targets_all.csv",
        "attrition.csv",
        "targets/R06_poor_control.csv",
        "targets/R07_treatment_interrupted.csv",
        "indicators/indicators.csv",
        "targets.xlsx",
        "indicators/indicators.xlsx",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    let lists = csvs
        .iter()
        .filter(|p| p.parent() == Some(out.join("targets").as_path()))
        .count();
    assert_eq!(lists, 10, "one list per rule: {csvs:?}");

    let mut problems = Vec::new();
    for p in &csvs {
        let h = csv_header(p);
        let d = duplicates(&h);
        if !d.is_empty() {
            problems.push(format!("{}: {d:?}", p.display()));
        }
    }
    let mut sheets = 0;
    for p in &xlsxs {
        for (name, h) in xlsx_headers(p) {
            sheets += 1;
            assert!(!h.is_empty(), "{} sheet {name}: no header row", p.display());
            let d = duplicates(&h);
            if !d.is_empty() {
                problems.push(format!("{} sheet {name}: {d:?}", p.display()));
            }
        }
    }
    // targets.xlsx: 集計, ten rules, 減少表; indicators.xlsx: 指標, 生命表, 減少表,
    // 疾病分類別医療費; evaluation.xlsx: 個別事業評価 (the sample has support records).
    assert_eq!(sheets, 12 + 4 + 1, "{xlsxs:?}");
    assert!(
        problems.is_empty(),
        "duplicate headers:\n{}",
        problems.join("\n")
    );

    // R06, R07 and R08 show the same last prescription of a class: one column each in
    // the combined table, and the same header in the lists and the workbook.
    let all = csv_header(&out.join("targets_all.csv"));
    for h in [
        "最終処方月（糖尿病用薬）",
        "最終処方薬（糖尿病用薬）",
        "最終処方月（降圧薬）",
        "最終処方薬（降圧薬）",
    ] {
        assert_eq!(all.iter().filter(|x| *x == h).count(), 1, "{h} in {all:?}");
    }
    let r06 = csv_header(&out.join("targets/R06_poor_control.csv"));
    assert!(
        r06.iter().any(|x| x == "最終処方月（糖尿病用薬）"),
        "{r06:?}"
    );
    let book = xlsx_headers(&out.join("targets.xlsx"));
    let (_, r06_sheet) = book
        .iter()
        .find(|(n, _)| n.starts_with("R06"))
        .expect("an R06 sheet");
    assert_eq!(r06_sheet, &r06, "the R06 sheet has the R06 list's headers");
}
