//! Names back on this machine (`ittai run --register`, docs/reference/privacy.md): a
//! synthetic union with its synthetic register, a run for one municipality, and where the
//! register's names end up — in OUT/named/ for exactly the listed persons of that
//! municipality, and nowhere else: not in the dataset, not in any other output, not on the
//! terminal.
//!
//! Names are searched as bytes. Every synthetic 氏名 and カナ has an ideographic space
//! (U+3000) between family and given name, so each file is scanned for that character and
//! the text around it looked up among the register's names. CSV, JSON and text files are
//! searched as they are; an xlsx workbook is a zip archive, so the XML of its members is
//! searched; Parquet files are searched raw (their pages are compressed, and no name is
//! expected in them to begin with).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::support::ittai;

/// One row of the synthetic register, with its person id under the sample key.
struct RegisterRow {
    id: String,
    name: String,
    kana: String,
    municipality: String,
}

/// The rows of a UTF-8 CSV (with or without BOM) with a header, as header → cell.
fn csv_rows(p: &Path) -> Vec<HashMap<String, String>> {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The register's rows, each with the id `ittai ingest` would give it under `key`.
fn register_rows(p: &Path, key: &ittai_ingest::IdKey) -> Vec<RegisterRow> {
    csv_rows(p)
        .into_iter()
        .map(|r| RegisterRow {
            id: key
                .person_id(&r["保険者番号"], "", &r["被保険者番号"])
                .to_string(),
            name: r["氏名"].clone(),
            kana: r["カナ"].clone(),
            municipality: r["市町村コード"].clone(),
        })
        .collect()
}

/// Every file under `dir`, at any depth (hidden ones too), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The bytes of a file to search: its own, and for an xlsx workbook those of every member
/// of the archive, inflated.
fn searchable(p: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(p).unwrap();
    if p.extension().is_some_and(|x| x == "xlsx") {
        let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for i in 0..z.len() {
            let mut m = z.by_index(i).unwrap();
            bytes.push(b'\n');
            m.read_to_end(&mut bytes).unwrap();
        }
    }
    bytes
}

/// The names of `names` (each with one U+3000 inside, at most `side` bytes on either side
/// of it) that occur in `bytes`.
fn names_in(bytes: &[u8], names: &HashSet<String>, side: usize) -> BTreeMap<String, usize> {
    const SPACE: &[u8] = "\u{3000}".as_bytes();
    let mut found = BTreeMap::new();
    for i in 0..bytes.len().saturating_sub(SPACE.len() - 1) {
        if &bytes[i..i + SPACE.len()] != SPACE {
            continue;
        }
        for before in 1..=side.min(i) {
            for after in 1..=side {
                let end = i + SPACE.len() + after;
                if end > bytes.len() {
                    break;
                }
                // Not inside a longer name: サイトウ　ミヨコ holds イトウ　ミヨコ, another
                // person. The bytes on either side must not belong to a multi-byte (kana or
                // kanji) character; ASCII delimiters and binary length prefixes are fine.
                let start = i - before;
                let edge = |b: u8| b < 0x80;
                let bounded = (start == 0 || edge(bytes[start - 1]))
                    && (end == bytes.len() || edge(bytes[end]));
                if bounded
                    && let Ok(s) = std::str::from_utf8(&bytes[start..end])
                    && names.contains(s)
                {
                    *found.entry(s.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    found
}

/// The sheet names of a workbook and the XML of each sheet.
fn sheets(p: &Path) -> Vec<(String, String)> {
    crate::headers::workbook(p).0
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn register_names_show_only_in_the_named_lists_of_the_municipality() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("union");
    let o = ittai()
        .args(["synth", "--persons", "3000", "--seed", "3", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "synth: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let register_dir = data.join("register");
    let register = register_dir.join("台帳.csv");
    let key_file = register_dir.join("sample.key");
    #[cfg(unix)]
    {
        assert_eq!(mode(&register_dir), 0o700);
        assert_eq!(mode(&register), 0o600);
        assert_eq!(mode(&key_file), 0o600);
    }
    let key = ittai_ingest::IdKey::from_file(&key_file).unwrap();
    let rows = register_rows(&register, &key);
    assert_eq!(rows.len(), 3000, "one register row per person");

    // The municipality with the most persons (the prefectural capital), and the others.
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *sizes.entry(r.municipality.as_str()).or_default() += 1;
    }
    assert!(sizes.len() > 1, "{sizes:?}");
    let muni = sizes
        .iter()
        .max_by_key(|(code, n)| (**n, std::cmp::Reverse(**code)))
        .map(|(code, _)| code.to_string())
        .unwrap();
    let mine: HashMap<&str, &RegisterRow> = rows
        .iter()
        .filter(|r| r.municipality == muni)
        .map(|r| (r.id.as_str(), r))
        .collect();
    let all_names: HashSet<String> = rows
        .iter()
        .flat_map(|r| [r.name.clone(), r.kana.clone()])
        .collect();
    let mine_names: HashSet<&str> = mine
        .values()
        .flat_map(|r| [r.name.as_str(), r.kana.as_str()])
        .collect();
    // Names of other municipalities' persons that no person of `muni` has.
    let foreign: HashSet<String> = rows
        .iter()
        .filter(|r| r.municipality != muni)
        .flat_map(|r| [r.name.clone(), r.kana.clone()])
        .filter(|n| !mine_names.contains(n.as_str()))
        .collect();
    assert!(!foreign.is_empty());
    let side = all_names
        .iter()
        .flat_map(|n| {
            let (a, b) = n
                .split_once('\u{3000}')
                .unwrap_or_else(|| panic!("{n:?} has no ideographic space"));
            [a.len(), b.len()]
        })
        .max()
        .unwrap();

    let out = data.join("out");
    let o = ittai()
        .args(["run", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .arg("--register")
        .arg(&register)
        .arg("--id-key-file")
        .arg(&key_file)
        .args(["--municipality", &muni])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "run: {stderr}");
    assert!(stderr.contains("named lists (個人情報)"), "{stderr}");
    let terminal = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
    assert!(
        names_in(&terminal, &all_names, side).is_empty(),
        "names on the terminal"
    );

    // Each named list holds exactly the listed persons of `muni`, in the list's order, with
    // the register's names; the pseudonymous lists are whole.
    let named = out.join("named");
    let lists: Vec<PathBuf> = files(&out.join("targets"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    assert_eq!(lists.len(), 10);
    let id = "被保険者ID（仮名）";
    let mut persons_named = HashSet::new();
    for list in &lists {
        let file = list.file_name().unwrap();
        let listed = csv_rows(list);
        for r in &listed {
            assert!(
                r.contains_key("市町村名"),
                "{}: no 市町村名",
                list.display()
            );
        }
        let want: Vec<&str> = listed
            .iter()
            .map(|r| r[id].as_str())
            .filter(|p| mine.contains_key(p))
            .collect();
        let named_rows = csv_rows(&named.join(file));
        let got: Vec<&str> = named_rows.iter().map(|r| r[id].as_str()).collect();
        assert_eq!(got, want, "{}", named.join(file).display());
        for r in &named_rows {
            let reg = mine[r[id].as_str()];
            assert_eq!(r["氏名"], reg.name);
            assert_eq!(r["カナ"], reg.kana);
            assert!(!r["住所"].is_empty() && r["電話"].starts_with("0000-00-"));
            assert!(r.contains_key("市町村名"));
            persons_named.insert(r[id].clone());
        }
    }
    assert!(
        !persons_named.is_empty(),
        "no listed person of {muni} named"
    );

    // The workbook: one sheet per rule, each marked 個人情報, with an autofilter; the
    // pseudonymous workbook has autofilters too.
    let book = sheets(&named.join("targets.xlsx"));
    assert_eq!(book.len(), 10);
    for (name, xml) in &book {
        assert!(name.starts_with("個人情報 R"), "{name}");
        assert!(xml.contains("<autoFilter ref=\"A1"), "{name}");
    }
    for (name, xml) in sheets(&out.join("targets.xlsx")) {
        assert!(xml.contains("<autoFilter ref=\"A1"), "targets.xlsx {name}");
    }

    // Owner-only: the folder and every file in it.
    #[cfg(unix)]
    {
        assert_eq!(mode(&named), 0o700);
        for f in files(&named) {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }

    // The manifest knows which register was used and what it matched, not who.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let r = &m["register"];
    assert_eq!(
        r["sha256"].as_str(),
        Some(ittai_dataset::sha256_file(&register).unwrap().as_str())
    );
    assert_eq!(r["municipality"].as_str(), Some(muni.as_str()));
    assert_eq!(r["rows"], 3000);
    assert_eq!(r["persons"], mine.len() as u64);
    assert_eq!(r["rows_other_municipality"], (3000 - mine.len()) as u64);
    assert_eq!(r["persons_named"], persons_named.len() as u64);

    // Where the names are: in OUT/named/ (of `muni` only), and nowhere else — not in the
    // dataset, not in any other output. The register itself is left out of the search.
    let mut found_in_named = 0;
    for f in files(&data) {
        if f.starts_with(&register_dir) {
            continue;
        }
        let found = names_in(&searchable(&f), &all_names, side);
        if f.starts_with(&named) {
            let theirs: Vec<&String> = found.keys().filter(|n| foreign.contains(*n)).collect();
            assert!(
                theirs.is_empty(),
                "{}: names of persons of another municipality: {theirs:?}",
                f.display()
            );
            found_in_named += usize::from(!found.is_empty());
        } else {
            assert!(
                found.is_empty(),
                "{}: register names outside OUT/named/: {:?}",
                f.display(),
                found.keys().take(5).collect::<Vec<_>>()
            );
        }
    }
    // The search does find names where they are: in the CSV lists and the workbook's XML.
    assert!(
        names_in(&searchable(&named.join("targets.xlsx")), &all_names, side)
            .keys()
            .any(|n| mine_names.contains(n.as_str())),
        "the search finds no name in named/targets.xlsx"
    );
    assert!(
        found_in_named >= 2,
        "{found_in_named} named files with names"
    );
}

/// The workbench (`ittai serve --register … --id-key-file … --municipality M`): the target
/// list shows 氏名 for exactly the listed persons of municipality M, and no register name for
/// a listed person of another municipality; nothing the server writes (dataset, output
/// folder) holds a name.
#[test]
fn workbench_shows_the_names_of_its_municipality_only() {
    use std::ffi::OsStr;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("union");
    let out = dir.path().join("out");
    let o = ittai()
        .args(["synth", "--persons", "3000", "--seed", "3", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "synth: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let register_dir = data.join("register");
    let register = register_dir.join("台帳.csv");
    let key_file = register_dir.join("sample.key");
    let key = ittai_ingest::IdKey::from_file(&key_file).unwrap();
    let rows = register_rows(&register, &key);
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *sizes.entry(r.municipality.as_str()).or_default() += 1;
    }
    let muni = sizes
        .iter()
        .max_by_key(|(code, n)| (**n, std::cmp::Reverse(**code)))
        .map(|(code, _)| code.to_string())
        .unwrap();
    let by_id: HashMap<&str, &RegisterRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let all_names: HashSet<String> = rows
        .iter()
        .flat_map(|r| [r.name.clone(), r.kana.clone()])
        .collect();

    let (server, url) = crate::serve::start_with(
        &data,
        &out,
        dir.path(),
        &[
            OsStr::new("--register"),
            register.as_os_str(),
            OsStr::new("--id-key-file"),
            key_file.as_os_str(),
            OsStr::new("--municipality"),
            OsStr::new(&muni),
        ],
    );
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (status, html) = crate::serve::http(
        port,
        &format!(
            "GET /rules/R03/list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 200, "{}", &html[..html.len().min(500)]);
    // Each listed person's table row, by its data-person attribute.
    let (mut named, mut others) = (0, 0);
    for part in html.split("data-person=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        let row = &part[..part.find("</tr>").unwrap_or(part.len())];
        let r = by_id
            .get(id)
            .unwrap_or_else(|| panic!("listed person not in the register"));
        if r.municipality == muni {
            assert!(
                row.contains(&r.name),
                "a listed person of {muni} shows no name"
            );
            named += 1;
        } else {
            let shown: Vec<&String> = all_names
                .iter()
                .filter(|n| row.contains(n.as_str()))
                .collect();
            assert!(
                shown.is_empty(),
                "a person of another municipality shows a name"
            );
            others += 1;
        }
    }
    assert!(named > 0 && others > 0, "named {named}, others {others}");
    drop(server);

    // Nothing written by the server holds a name (the register itself is left out).
    let side = all_names
        .iter()
        .flat_map(|n| {
            let (a, b) = n.split_once('\u{3000}').unwrap();
            [a.len(), b.len()]
        })
        .max()
        .unwrap();
    for f in files(&data).into_iter().chain(files(&out)) {
        if f.starts_with(&register_dir) {
            continue;
        }
        let found = names_in(&searchable(&f), &all_names, side);
        assert!(found.is_empty(), "{}: {} name(s)", f.display(), found.len());
    }
}
