//! `ittai ingest` on the real ORCA sample receipts (hand counts from the files), the round
//! trip synth → standard formats → ingest → canonical, XSD validity of the generated XML,
//! and bad input.
//!
//! Hand counts: `grep -c '^RE,' FILE`, `grep -c '^SY,' FILE`, `grep -c '^IY,' FILE`,
//! `awk -F, '$1=="SY" && $5=="8002"' FILE | wc -l` on tests/fixtures/uke_orca (ORCA's public sample
//! receipts, see reference/SOURCES.md; 2018-11 … 2019-01, 和暦 layout, UTF-8, LF).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use ittai_dataset::masters::{DiseaseMaster, DrugMaster, Resolver};
use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, MedicalClaim, Person,
    Questionnaire, read_rows,
};
use ittai_ingest::IdKey;
use ittai_ingest::{IngestOptions, IngestSummary};
use ittai_model::{ClaimKind, PersonId, QuestionnaireSetting};

use crate::support::{ittai, root};

fn key() -> IdKey {
    IdKey::from_bytes(b"0123456789abcdef0123456789abcdef").unwrap()
}

fn orca(name: &str) -> PathBuf {
    root().join("tests/fixtures/uke_orca").join(name)
}

fn ingest(opts: IngestOptions, resolver: &Resolver) -> IngestSummary {
    ittai_ingest::run(&opts, &key(), resolver, &mut ()).expect("ingest")
}

fn rows<R: ittai_dataset::Row>(dir: &Path) -> Vec<R> {
    let (r, skipped) = read_rows::<R>(dir).unwrap();
    assert_eq!(skipped, 0, "{}", R::SPEC.name);
    r
}

/// Issues other than the expected kinds.
fn unexpected(s: &IngestSummary, allowed: &[&str]) -> Vec<String> {
    s.sources
        .values()
        .flat_map(|src| src.issues.iter())
        .filter(|(k, _)| !allowed.iter().any(|a| k.starts_with(a)))
        .map(|(k, n)| format!("{k}: {n}"))
        .collect()
}

// ------------------------------------------------------------------ no raw identifiers

/// The 氏名 (RE field 5) and 被保険者番号 (HO field 4) of every receipt in the ORCA
/// fixture, read from the files: the positions are those of `start_receipt` and
/// `insurer_record` in crates/ittai-ingest/src/uke/read.rs (1-based fields).
fn orca_identifiers() -> Vec<String> {
    let dir = root().join("tests/fixtures/uke_orca");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), HAND_COUNTS.len(), "{files:?}");
    let (mut names, mut numbers) = (BTreeSet::new(), BTreeSet::new());
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        for line in text.lines() {
            let f: Vec<&str> = line.split(',').collect();
            let field = |pos: usize| f.get(pos - 1).map_or("", |x| x.trim()).to_string();
            match f[0] {
                "RE" => names.insert(field(5)),
                "HO" => numbers.insert(field(4)),
                _ => false,
            };
        }
    }
    names.remove("");
    numbers.remove("");
    // kokuho_201811.csv lines 18–19: RE,3,1116,43011,仮予約,… and HO,  061234,１０−２３,１１３４,…
    assert!(names.contains("仮予約"), "{names:?}");
    assert!(numbers.contains("１１３４"), "{numbers:?}");
    assert!(
        names.len() > 50 && numbers.len() > 10,
        "{names:?} {numbers:?}"
    );
    names.into_iter().chain(numbers).collect()
}

/// [`assert_no_raw_identifiers`] with every name and number of the ORCA fixture.
fn assert_no_orca_identifiers(dir: &Path) {
    let raw = orca_identifiers();
    assert_no_raw_identifiers(dir, &raw.iter().map(String::as_str).collect::<Vec<_>>());
}

/// `s` with full-width ASCII (U+FF01–FF5E) and the ideographic space made ASCII.
fn narrow(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap(),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

/// `s` with printable ASCII made full-width.
fn widen(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            ' ' => '\u{3000}',
            c => c,
        })
        .collect()
}

/// The forms a raw value could be written in: as read, in ASCII, in full width, and for a
/// number also without its leading zeros (both widths).
fn raw_forms(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    let ascii = narrow(raw);
    let mut v = vec![raw.to_string(), ascii.clone(), widen(&ascii)];
    if !ascii.is_empty() && ascii.bytes().all(|b| b.is_ascii_digit()) {
        let t = ascii.trim_start_matches('0');
        let t = if t.is_empty() { "0" } else { t };
        v.push(t.to_string());
        v.push(widen(t));
    }
    v.retain(|x| !x.is_empty());
    v.sort();
    v.dedup();
    v
}

/// The first form of `forms` that `text` shows. A form with a character outside ASCII
/// (kanji, kana, full-width digits: nothing ittai writes itself) counts anywhere in the
/// text. An ASCII form of 4 or more characters counts where it is not part of a longer
/// run of letters and digits (`1134` in `x-1134`, not in a hex digest). A shorter ASCII
/// form (`7`, `07`, `10`) cannot be told from a line number, a field number or a count,
/// so it counts only as a whole cell of a dataset table (`cell`), where no column holds
/// such a short value.
fn shown<'a>(text: &str, forms: &'a BTreeSet<String>, cell: bool) -> Option<&'a str> {
    let alnum_at = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    forms
        .iter()
        .find(|f| {
            if !f.is_ascii() {
                text.contains(f.as_str())
            } else if f.len() >= 4 {
                text.match_indices(f.as_str()).any(|(i, _)| {
                    !alnum_at(text[..i].chars().next_back())
                        && !alnum_at(text[i + f.len()..].chars().next())
                })
            } else {
                cell && text.trim() == f.as_str()
            }
        })
        .map(String::as_str)
}

/// The values of a string column, or `None` for another type.
fn string_cells(a: &dyn arrow_array::Array) -> Option<Vec<Option<&str>>> {
    use arrow_array::{LargeStringArray, StringArray, StringViewArray};
    let any = arrow_array::Array::as_any(a);
    if let Some(s) = any.downcast_ref::<StringArray>() {
        return Some(s.iter().collect());
    }
    if let Some(s) = any.downcast_ref::<LargeStringArray>() {
        return Some(s.iter().collect());
    }
    if let Some(s) = any.downcast_ref::<StringViewArray>() {
        return Some(s.iter().collect());
    }
    None
}

fn json_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                json_strings(x, out);
            }
        }
        _ => {}
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Asserts that nothing `ittai ingest` wrote to `dir` shows one of the `raw` values (in
/// any of its [`raw_forms`]): every table decoded (the Parquet pages are compressed, so
/// their bytes say nothing) and every string cell checked; every cell of the CSV files
/// (rejects); every string and key of the JSON files (summary); any other file as text.
/// Every required table of the dataset must be there, and the optional one not.
fn assert_no_raw_identifiers(dir: &Path, raw: &[&str]) {
    use arrow_array::Array as _;
    assert!(!raw.is_empty(), "no raw values to look for");
    let forms: BTreeSet<String> = raw.iter().flat_map(|r| raw_forms(r)).collect();
    assert!(!forms.is_empty());
    let mut files = Vec::new();
    files_under(dir, &mut files);
    files.sort();
    let mut tables = BTreeSet::new();
    let mut string_cells_seen = 0usize;
    for p in &files {
        let rel = p.strip_prefix(dir).unwrap().display().to_string();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if let Some(table) = name.strip_suffix(".parquet") {
            assert!(
                ittai_dataset::table_spec(table).is_some(),
                "{rel}: not a table of the dataset, cannot be checked"
            );
            tables.insert(table.to_string());
            for b in crate::support::read_batches(p.parent().unwrap(), table) {
                let schema = b.schema();
                for (ci, col) in b.columns().iter().enumerate() {
                    let column = schema.field(ci).name();
                    let Some(cells) = string_cells(col.as_ref()) else {
                        let dt = col.data_type();
                        assert!(
                            dt.is_numeric()
                                || dt.is_temporal()
                                || col.as_any().is::<arrow_array::BooleanArray>()
                                || col.null_count() == col.len(),
                            "{rel}: column {column} is {dt:?}, which this check does not read"
                        );
                        continue;
                    };
                    for (row, v) in cells.into_iter().enumerate() {
                        let Some(v) = v else { continue };
                        string_cells_seen += 1;
                        if let Some(f) = shown(v, &forms, true) {
                            panic!("{rel}: column {column}, row {row} shows raw {f:?}: {v:?}");
                        }
                    }
                }
            }
        } else if name.ends_with(".csv") {
            let text = std::fs::read_to_string(p).unwrap();
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            for (i, r) in rdr.records().enumerate() {
                for v in &r.unwrap() {
                    if let Some(f) = shown(v, &forms, false) {
                        panic!("{rel}: record {} shows raw {f:?}: {v:?}", i + 1);
                    }
                }
            }
        } else if name.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            let mut strings = Vec::new();
            json_strings(&v, &mut strings);
            for s in &strings {
                if let Some(f) = shown(s, &forms, false) {
                    panic!("{rel} shows raw {f:?}: {s:?}");
                }
            }
        } else {
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("{rel}: not text ({e}), cannot be checked"));
            if let Some(f) = shown(&text, &forms, false) {
                panic!("{rel} shows raw {f:?}");
            }
        }
    }
    for t in ittai_dataset::TABLES.iter() {
        // Ingest writes the required tables only (it produces no support records).
        assert_eq!(
            tables.contains(t.name),
            t.required,
            "{}: written {}, required {}",
            t.name,
            tables.contains(t.name),
            t.required
        );
    }
    assert!(string_cells_seen > 0, "no string cell was checked");
}

/// (file, receipts, diagnoses (SY + dental HS), drugs (IY), suspected (SY 8002), claim kind).
const HAND_COUNTS: &[(&str, u64, u64, u64, usize, u8)] = &[
    ("01.csv", 7, 7, 5, 7, 2),
    ("02.csv", 10, 11, 9, 11, 2),
    ("03.csv", 7, 8, 6, 8, 2),
    ("04.csv", 10, 11, 0, 11, 2),
    ("05.csv", 7, 8, 0, 8, 2),
    ("kokuho_201811.csv", 7, 1, 6, 1, 2),
    ("kokuho_201812.csv", 4, 1, 0, 0, 2),
    ("kokuho_201901.csv", 9, 6, 13, 5, 2),
    ("shaho_201811.csv", 27, 12, 42, 9, 2),
    ("shaho_201812.csv", 20, 5, 25, 3, 2),
    ("shaho_201901.csv", 26, 10, 45, 9, 2),
    // 歯科: 4 HS records (5220063, 8843836 ×2, 8833899), none suspected.
    ("shika_shaho.csv", 3, 4, 0, 0, 3),
];

fn check_orca_file(file: &Path, name: &str, resolver: &Resolver) {
    let &(_, re, dx, iy, suspected, kind) = HAND_COUNTS.iter().find(|h| h.0 == name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = ingest(
        IngestOptions {
            uke: vec![file.to_path_buf()],
            out: dir.path().into(),
            ..Default::default()
        },
        resolver,
    );
    assert!(
        unexpected(&s, &[]).is_empty(),
        "{name}: {:?}",
        unexpected(&s, &[])
    );
    assert_eq!(s.receipts.files, 1, "{name}");
    assert_eq!(
        s.receipts.receipts_by_kind,
        BTreeMap::from([(kind, re)]),
        "{name}"
    );
    assert_eq!(s.receipts.diagnosis_lines, dx, "{name}");
    assert_eq!(s.receipts.drug_lines, iy, "{name}");
    assert_eq!(
        s.receipts.drug_lines_unresolved + s.receipts.diagnosis_lines_unresolved,
        0,
        "{name}"
    );
    let d: Vec<ClaimDiagnosis> = rows(dir.path());
    assert_eq!(
        d.iter().filter(|d| d.suspected).count(),
        suspected,
        "{name}"
    );
    assert_eq!(rows::<MedicalClaim>(dir.path()).len() as u64, re);
    assert_eq!(rows::<ClaimDrug>(dir.path()).len() as u64, iy);
    assert_no_orca_identifiers(dir.path());
}

#[test]
fn every_orca_sample_is_read_with_its_hand_counts_and_no_rejects() {
    let resolver = Resolver::vendored();
    for &(name, ..) in HAND_COUNTS {
        check_orca_file(&orca(name), name, &resolver);
    }
}

#[test]
fn every_orca_sample_re_encoded_to_shift_jis_crlf_reads_the_same() {
    let resolver = Resolver::vendored();
    let dir = tempfile::tempdir().unwrap();
    for &(name, ..) in HAND_COUNTS {
        let text = std::fs::read_to_string(orca(name))
            .unwrap()
            .replace('\n', "\r\n");
        let (sjis, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
        assert!(!bad, "{name} is representable in Shift_JIS");
        let p = dir.path().join(name);
        std::fs::write(&p, &sjis).unwrap();
        check_orca_file(&p, name, &resolver);
    }
}

#[test]
fn late_elderly_receipt_keeps_its_insurer_and_pseudonymised_number() {
    // kokuho_201901.csv line 58: HO,39131032,,０７,1,354 — 後期 receipt 1318, RE no. 7.
    let dir = tempfile::tempdir().unwrap();
    let s = ingest(
        IngestOptions {
            uke: vec![orca("kokuho_201901.csv")],
            out: dir.path().into(),
            ..Default::default()
        },
        &Resolver::vendored(),
    );
    assert_eq!(s.persons.source, "derived_from_receipts_and_checkups");
    assert!(
        s.persons.note.contains("coverage UNKNOWN"),
        "{}",
        s.persons.note
    );
    let persons: Vec<Person> = rows(dir.path());
    let late: Vec<&Person> = persons
        .iter()
        .filter(|p| p.insurer_number == "39131032")
        .collect();
    assert_eq!(late.len(), 1);
    // The full-width ０７ is normalised before hashing, and no raw number is stored.
    assert_eq!(late[0].person_id, key().person_id("39131032", "", "07"));
    // 39 + 13 (東京都) + 103 (港区) → municipality 13103 with its check digit: 131032.
    assert_eq!(late[0].municipality_code, "131032");
    assert_eq!(late[0].coverage_end, None);
    let claims: Vec<MedicalClaim> = rows(dir.path());
    let c = claims
        .iter()
        .find(|c| c.person_id == late[0].person_id)
        .unwrap();
    assert_eq!(
        (c.claim_kind, c.points, c.days),
        (ClaimKind::Outpatient.code(), Some(354), Some(1))
    );
    assert_eq!(
        c.service_month,
        chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap()
    );
    // No raw number or name in any decoded table, rejects file or summary (the Parquet
    // pages are compressed: their bytes cannot be searched).
    let raw = orca_identifiers();
    assert!(
        raw.iter().any(|x| x == "０７"),
        "this receipt's number is looked for"
    );
    assert_no_raw_identifiers(
        dir.path(),
        &raw.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn codes_resolve_and_the_ones_retired_since_2019_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let s = ingest(
        IngestOptions {
            uke: vec![root().join("tests/fixtures/uke_orca")],
            out: dir.path().into(),
            ..Default::default()
        },
        &Resolver::vendored(),
    );
    // 33 distinct IY codes: 29 in the current master, these 4 only in the 2019 snapshot
    // (フルマゼニル静注液, ジフラール軟膏, ポステリザンＦ坐薬, アンフラベート軟膏).
    let retired: BTreeSet<String> = ["620008230", "620009002", "660407129", "660453004"]
        .map(String::from)
        .into();
    assert_eq!(s.receipts.drug_codes_legacy, retired);
    assert!(s.receipts.drug_codes_unresolved.is_empty());
    // 24 SY codes: 定型痛風 2749010 only in the 2019 snapshot.
    assert_eq!(
        s.receipts.disease_codes_legacy,
        BTreeSet::from(["2749010".to_string()])
    );
    assert!(s.receipts.disease_codes_unresolved.is_empty());
    // 01/03/05 and 02/04 are versions of the same two batches: their receipts are
    // duplicates when read together (7 + 10 + 7 = 24), and only those.
    assert_eq!(s.receipts.duplicate_receipts, 24);
    assert!(
        unexpected(&s, &["duplicate_receipt"]).is_empty(),
        "{:?}",
        unexpected(&s, &["duplicate_receipt"])
    );
    assert_eq!(s.receipts.receipts_by_kind.values().sum::<u64>(), 137 - 24);
    let drugs: Vec<ClaimDrug> = rows(dir.path());
    // Every current code has a YJ code.
    let yj_missing: BTreeSet<&str> = drugs
        .iter()
        .filter(|d| d.yj_code.is_none())
        .map(|d| d.drug_code.as_str())
        .collect();
    assert!(
        yj_missing.iter().all(|c| retired.contains(*c)),
        "{yj_missing:?}"
    );
    assert_no_orca_identifiers(dir.path());
    // The same input twice gives the same files.
    let dir2 = tempfile::tempdir().unwrap();
    ingest(
        IngestOptions {
            uke: vec![root().join("tests/fixtures/uke_orca")],
            out: dir2.path().into(),
            ..Default::default()
        },
        &Resolver::vendored(),
    );
    for t in [
        "medical_claims",
        "claim_drugs",
        "claim_diagnoses",
        "persons",
    ] {
        let f = format!("{t}.parquet");
        assert_eq!(
            std::fs::read(dir.path().join(&f)).unwrap(),
            std::fs::read(dir2.path().join(&f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("ingest_summary.json")).unwrap(),
        std::fs::read(dir2.path().join("ingest_summary.json")).unwrap()
    );
}

// ------------------------------------------------------------------ round trip

/// Canonical rows with the person id and claim id replaced by stable keys.
fn norm_claims(
    claims: &[MedicalClaim],
    pid: &dyn Fn(&str) -> String,
) -> (Vec<String>, HashMap<String, String>) {
    let mut by_id = HashMap::new();
    let mut v: Vec<String> = claims
        .iter()
        .filter(|c| c.claim_kind != ClaimKind::HomeNursing.code())
        .map(|c| {
            let k = format!(
                "{}|{}|{}|{}|{:?}|{:?}",
                pid(c.person_id.as_str()),
                c.service_month,
                c.claim_kind,
                c.institution_code,
                c.points,
                c.days
            );
            by_id.insert(c.claim_id.clone(), k.clone());
            k
        })
        .collect();
    v.sort();
    (v, by_id)
}

#[test]
fn round_trip_through_the_standard_formats_reproduces_the_canonical_tables() {
    let dir = tempfile::tempdir().unwrap();
    let canon = dir.path().join("canon");
    let cfg = ittai_synth::SynthConfig {
        persons: 2500,
        seed: 11,
        first_fy: 2022,
        last_fy: 2024,
        ..Default::default()
    };
    ittai_synth::generate(&cfg, &canon, &mut |_, _| {}).unwrap();
    let std_dir = dir.path().join("standard");
    // Small passes, so that the partitioned export is what is tested.
    let opts = ittai_ingest::ExportOptions {
        claims_per_pass: 40_000,
        ..Default::default()
    };
    let e = ittai_ingest::export(&canon, &std_dir, &opts, &mut |_| {}).unwrap();
    assert!(e.uke.receipts > 10_000 && e.documents > 1_000, "{e:?}");
    let back = dir.path().join("back");
    // The synthetic data were drawn from the vendored 2024-03 master; resolve against it.
    let resolver = Resolver::new(DrugMaster::embedded(), DiseaseMaster::embedded());
    let s = ingest(
        IngestOptions {
            uke: vec![std_dir.join("uke")],
            kenshin: vec![std_dir.join("kenshin")],
            care_claims: vec![std_dir.join("care_claims.csv")],
            certifications: vec![std_dir.join("certifications.csv")],
            persons: vec![std_dir.join("persons.csv")],
            out: back.clone(),
        },
        &resolver,
    );
    assert!(unexpected(&s, &[]).is_empty(), "{:?}", unexpected(&s, &[]));
    // Original id → the id ingest gives the person (from the numbers the export wrote).
    let map: HashMap<PersonId, PersonId> = e
        .numbers
        .iter()
        .map(|(orig, (ins, no))| (key().person_id(ins, "", no), orig.clone()))
        .collect();
    let orig = |p: &str| p.to_string();
    let back_id = |p: &str| {
        map.get(p)
            .map(PersonId::to_string)
            .unwrap_or_else(|| panic!("unknown person id {p}"))
    };

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // persons
    let f = |p: &Person, id: String| {
        format!(
            "{id}|{}|{}|{}|{}|{}|{:?}|{:?}",
            p.sex,
            p.birth_date,
            p.municipality_code,
            p.insurer_number,
            p.coverage_start,
            p.coverage_end,
            p.loss_reason
        )
    };
    let a = sorted(
        rows::<Person>(&canon)
            .iter()
            .map(|p| f(p, orig(p.person_id.as_str())))
            .collect(),
    );
    let b = sorted(
        rows::<Person>(&back)
            .iter()
            .map(|p| f(p, back_id(p.person_id.as_str())))
            .collect(),
    );
    assert_eq!(a.len(), b.len());
    assert!(a == b, "persons differ");
    // certifications
    let f = |c: &Certification, id: String| {
        format!(
            "{id}|{}|{}|{}|{}",
            c.decision_date, c.care_level_code, c.valid_from, c.valid_to
        )
    };
    assert!(
        sorted(
            rows::<Certification>(&canon)
                .iter()
                .map(|c| f(c, orig(c.person_id.as_str())))
                .collect()
        ) == sorted(
            rows::<Certification>(&back)
                .iter()
                .map(|c| f(c, back_id(c.person_id.as_str())))
                .collect()
        ),
        "certifications differ"
    );
    // care claims
    let f = |c: &CareClaim, id: String| {
        format!(
            "{id}|{}|{}|{:?}|{:?}|{:?}|{:?}",
            c.service_month,
            c.service_type_code,
            c.care_level_code,
            c.units,
            c.days,
            c.provider_number
        )
    };
    assert!(
        sorted(
            rows::<CareClaim>(&canon)
                .iter()
                .map(|c| f(c, orig(c.person_id.as_str())))
                .collect()
        ) == sorted(
            rows::<CareClaim>(&back)
                .iter()
                .map(|c| f(c, back_id(c.person_id.as_str())))
                .collect()
        ),
        "care claims differ"
    );

    // receipts of all kinds 1–5 (訪問看護 6 has no UKE form here)
    let (ca, ida) = norm_claims(&rows::<MedicalClaim>(&canon), &orig);
    let (cb, idb) = norm_claims(&rows::<MedicalClaim>(&back), &back_id);
    assert_eq!(ca.len(), cb.len());
    assert!(ca == cb, "medical claims differ");
    let kinds: BTreeSet<u8> = rows::<MedicalClaim>(&back)
        .iter()
        .map(|c| c.claim_kind)
        .collect();
    assert_eq!(kinds, BTreeSet::from([1, 2, 3, 4, 5]));
    let f = |d: &ClaimDiagnosis, ids: &HashMap<String, String>| {
        format!(
            "{}|{}|{:?}|{}|{:?}|{:?}",
            ids[&d.claim_id], d.disease_code, d.icd10, d.suspected, d.start_date, d.outcome
        )
    };
    let da = sorted(
        rows::<ClaimDiagnosis>(&canon)
            .iter()
            .filter(|d| ida.contains_key(&d.claim_id))
            .map(|d| f(d, &ida))
            .collect(),
    );
    let db = sorted(
        rows::<ClaimDiagnosis>(&back)
            .iter()
            .map(|d| f(d, &idb))
            .collect(),
    );
    assert_eq!(da.len(), db.len());
    assert!(da == db, "diagnoses differ");
    // Drug YJ codes: null in the canonical table means "from the master" (docs/reference/dataset.md).
    let yj = |d: &ClaimDrug| {
        d.yj_code
            .clone()
            .or_else(|| resolver.drugs.get(&d.drug_code).map(|e| e.yj.clone()))
    };
    let f = |d: &ClaimDrug, ids: &HashMap<String, String>| {
        format!(
            "{}|{}|{:?}|{:?}|{:?}|{:?}",
            ids[&d.claim_id],
            d.drug_code,
            yj(d),
            d.route,
            d.quantity,
            d.days
        )
    };
    let ga = sorted(
        rows::<ClaimDrug>(&canon)
            .iter()
            .filter(|d| ida.contains_key(&d.claim_id))
            .map(|d| f(d, &ida))
            .collect(),
    );
    let gb = sorted(
        rows::<ClaimDrug>(&back)
            .iter()
            .map(|d| f(d, &idb))
            .collect(),
    );
    assert_eq!(ga.len(), gb.len());
    if ga != gb {
        let first = ga.iter().zip(&gb).find(|(x, y)| x != y);
        panic!("drug lines differ, first: {first:?}");
    }

    // checkups and the questionnaires answered at them
    let f = |c: &Checkup, id: String| {
        format!(
            "{id}|{:?}",
            Checkup {
                person_id: PersonId::default(),
                ..c.clone()
            }
        )
    };
    let ka = sorted(
        rows::<Checkup>(&canon)
            .iter()
            .map(|c| f(c, orig(c.person_id.as_str())))
            .collect(),
    );
    let kb = sorted(
        rows::<Checkup>(&back)
            .iter()
            .map(|c| f(c, back_id(c.person_id.as_str())))
            .collect(),
    );
    assert_eq!(ka.len(), kb.len());
    if ka != kb {
        let first = ka.iter().zip(&kb).find(|(x, y)| x != y);
        panic!("checkups differ, first: {first:?}");
    }
    let f = |q: &Questionnaire, id: String| {
        format!(
            "{id}|{:?}",
            Questionnaire {
                person_id: PersonId::default(),
                ..q.clone()
            }
        )
    };
    let checkup_dates: BTreeSet<(PersonId, chrono::NaiveDate)> = rows::<Checkup>(&canon)
        .iter()
        .map(|c| (c.person_id.clone(), c.exam_date))
        .collect();
    let qa = sorted(
        rows::<Questionnaire>(&canon)
            .iter()
            .filter(|q| {
                q.setting == QuestionnaireSetting::Checkup.code()
                    && checkup_dates.contains(&(q.person_id.clone(), q.answer_date))
            })
            .map(|q| f(q, orig(q.person_id.as_str())))
            .collect(),
    );
    let qb = sorted(
        rows::<Questionnaire>(&back)
            .iter()
            .map(|q| f(q, back_id(q.person_id.as_str())))
            .collect(),
    );
    assert!(qa.len() > 500, "{}", qa.len());
    assert!(qa == qb, "questionnaires differ");
}

// ------------------------------------------------------------------ XSD

/// A synthetic FY2024 population of `persons` written as 健診 XML (and the CSV files) under
/// `dir/standard`.
fn checkups_as_xml(dir: &Path, persons: u64, seed: u64) -> (PathBuf, ittai_ingest::ExportSummary) {
    let canon = dir.join("canon");
    let cfg = ittai_synth::SynthConfig {
        persons,
        seed,
        first_fy: 2024,
        last_fy: 2024,
        ..Default::default()
    };
    ittai_synth::generate(&cfg, &canon, &mut |_, _| {}).unwrap();
    let std_dir = dir.join("standard");
    let opts = ittai_ingest::ExportOptions {
        uke: false,
        ..Default::default()
    };
    let e = ittai_ingest::export(&canon, &std_dir, &opts, &mut |_| {}).unwrap();
    (std_dir, e)
}

/// Validates generated documents against the vendored V08 schema with Python's
/// `xmlschema` (a full XSD 1.0 validator). Skipped when the module is missing, unless
/// ITTAI_REQUIRE_XMLSCHEMA=1 (set by .ci/run, which installs it).
#[test]
fn generated_checkup_xml_validates_against_the_vendored_xsd() {
    let has = std::process::Command::new("python3")
        .args(["-c", "import xmlschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        assert!(
            std::env::var("ITTAI_REQUIRE_XMLSCHEMA").is_err(),
            "python3 -m pip install xmlschema: required by ITTAI_REQUIRE_XMLSCHEMA"
        );
        eprintln!("skipped: python3 module xmlschema not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (std_dir, e) = checkups_as_xml(dir.path(), 600, 5);
    assert!(
        e.documents > 100 && e.questionnaires_in_documents > 80,
        "{e:?}"
    );
    let xsd = root().join("reference/kenshin/xsd_v08/hc08_V08.xsd");
    let script = r#"
import sys, zipfile, glob, xmlschema
schema = xmlschema.XMLSchema(sys.argv[1])
n = bad = 0
for z in sorted(glob.glob(sys.argv[2] + "/*.zip")):
    with zipfile.ZipFile(z) as zf:
        for name in zf.namelist():
            n += 1
            errs = list(schema.iter_errors(zf.read(name).decode("utf-8")))
            if errs:
                bad += 1
                if bad <= 3:
                    print(z, name, errs[0].reason, errs[0].path)
print("documents", n, "invalid", bad)
sys.exit(1 if bad or n == 0 else 0)
"#;
    let o = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&xsd)
        .arg(std_dir.join("kenshin"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("documents {} invalid 0", e.documents)),
        "{out}"
    );
}

// ------------------------------------------------------------------ bad input

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The rows of `rejects_<source>.csv` (UTF-8 with BOM, the seven columns of the ingest
/// rejects, seven fields in every row).
fn rejects(dir: &Path, source: &str) -> Vec<csv::StringRecord> {
    let text = std::fs::read_to_string(dir.join(format!("rejects_{source}.csv"))).unwrap();
    let body = text
        .strip_prefix('\u{feff}')
        .expect("the rejects file starts with a BOM");
    let mut rdr = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "file", "line", "record", "field", "kind", "action", "detail"
        ]
    );
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), 7, "{r:?}");
            r
        })
        .collect()
}

/// A reject without its reason: (file, line, record, field, kind, action), the file as
/// its name (`a.csv`) or archive name and member (`x.zip!dir/member.xml`).
type Reject = (String, String, String, String, String, String);

fn key6(file: &str, line: &str, record: &str, field: &str, kind: &str, action: &str) -> Reject {
    (
        file.into(),
        line.into(),
        record.into(),
        field.into(),
        kind.into(),
        action.into(),
    )
}

/// `dir/x.zip!m/a.xml` → `x.zip!m/a.xml`; `dir/a.csv` → `a.csv`.
fn short_file(origin: &str) -> String {
    let (outer, member) = match origin.split_once('!') {
        Some((a, m)) => (a, Some(m)),
        None => (origin, None),
    };
    let base = outer.rsplit(['/', '\\']).next().unwrap_or(outer);
    match member {
        Some(m) => format!("{base}!{m}"),
        None => base.to_string(),
    }
}

/// The rejects as [`Reject`]s, sorted.
fn reject_keys(r: &[csv::StringRecord]) -> Vec<Reject> {
    let mut v: Vec<Reject> = r
        .iter()
        .map(|x| key6(&short_file(&x[0]), &x[1], &x[2], &x[3], &x[4], &x[5]))
        .collect();
    v.sort();
    v
}

#[test]
fn bad_receipts_are_named_by_file_and_line_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir(&inp).unwrap();
    let good = std::fs::read_to_string(orca("kokuho_201811.csv")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    // (a) truncated: the file stops after line 20 (inside a receipt, no GO).
    write(&inp, "a_truncated.csv", lines[..20].join("\n").as_bytes());
    // (b) a broken record: line 3 (HO of receipt 1) cut to two fields.
    let mut b = lines.clone();
    b[2] = "HO,";
    write(&inp, "b_broken.csv", b.join("\n").as_bytes());
    // (c) an unknown record type on line 4.
    let mut c = lines.clone();
    c.insert(3, "ZZ,1,2,3");
    write(&inp, "c_unknown.csv", c.join("\n").as_bytes());
    // (d) 診療年月 month 13 on the first RE (line 2): 43013.
    let mut d = lines.clone();
    let re1 = d[1].replacen(",43011,", ",43013,", 1);
    assert_ne!(re1, d[1]);
    d[1] = &re1;
    write(&inp, "d_month13.csv", d.join("\n").as_bytes());
    // (e) wrong encoding: UTF-16.
    let mut e = vec![0xFF, 0xFE];
    for u in good.encode_utf16() {
        e.extend(u.to_le_bytes());
    }
    write(&inp, "e_utf16.csv", &e);
    // (f) a duplicate of the whole file.
    write(&inp, "f_duplicate.csv", good.as_bytes());
    write(&inp, "g_original.csv", good.as_bytes());

    let out = dir.path().join("out");
    let o = ittai()
        .arg("ingest")
        .arg("--id-key-file")
        .arg(write(
            dir.path(),
            "key",
            b"8d1f6a0c3b2e4f5a6978c0d1e2f3a4b5c6d7e8f90112233445566778899aabbc",
        ))
        .arg("--uke")
        .arg(&inp)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = rejects(&out, "uke");
    let find = |file: &str, kind: &str| {
        r.iter()
            .find(|x| x[0].ends_with(file) && &x[4] == kind)
            .unwrap_or_else(|| panic!("no {kind} for {file} in {r:?}"))
            .clone()
    };
    // Every reject, by hand from the inputs above (lines of kokuho_201811.csv: RE at 2, 9,
    // 18, 23, 32, 41, 50; GO at 59). Files are read in name order, so a's receipts 1 and 2
    // and b's receipts 3–7 are the first copies; every later copy is a duplicate.
    fn dup(file: &str, lines: &[u64]) -> Vec<Reject> {
        lines
            .iter()
            .map(|l| {
                key6(
                    file,
                    &l.to_string(),
                    "RE",
                    "",
                    "duplicate_receipt",
                    "receipt_rejected",
                )
            })
            .collect()
    }
    let all_res: [u64; 7] = [2, 9, 18, 23, 32, 41, 50];
    let mut expected = vec![
        // a: cut after line 20, inside receipt 3 (RE line 18): that receipt is left out.
        key6(
            "a_truncated.csv",
            "18",
            "GO",
            "",
            "truncated",
            "receipt_rejected",
        ),
        // b: the HO of receipt 1 has 2 fields; receipt 1 is left out.
        key6(
            "b_broken.csv",
            "3",
            "HO",
            "",
            "bad_record",
            "receipt_rejected",
        ),
        // c: the ZZ record is dropped, its receipt (1) kept.
        key6(
            "c_unknown.csv",
            "4",
            "ZZ",
            "1",
            "unknown_record_type",
            "record_rejected",
        ),
        // d: 診療年月 (RE field 4) of receipt 1.
        key6(
            "d_month13.csv",
            "2",
            "RE",
            "4",
            "invalid_date",
            "receipt_rejected",
        ),
        // e: the first byte (line 1) is neither UTF-8 nor Shift_JIS.
        key6(
            "e_utf16.csv",
            "1",
            "",
            "",
            "wrong_encoding",
            "file_rejected",
        ),
    ];
    // b: receipt 2 was read from a; 3–7 are new.
    expected.extend(dup("b_broken.csv", &[9]));
    // c: every receipt, its lines after the inserted line 4 moved down by one.
    expected.extend(dup("c_unknown.csv", &[2, 10, 19, 24, 33, 42, 51]));
    // d: receipts 2–7 (receipt 1 was rejected).
    expected.extend(dup("d_month13.csv", &all_res[1..]));
    expected.extend(dup("f_duplicate.csv", &all_res[..]));
    expected.extend(dup("g_original.csv", &all_res[..]));
    expected.sort();
    assert_eq!(expected.len(), 33);
    assert_eq!(reject_keys(&r), expected, "{r:?}");
    // The reason of each.
    for x in &r {
        let want = match &x[4] {
            "truncated" => "ends without its GO trailer",
            "bad_record" => "2 fields; a HO record needs at least 6",
            "unknown_record_type" => "unknown record type",
            "invalid_date" => "診療年月 \"43013\" is not a year-month",
            "wrong_encoding" => "neither UTF-8 nor Shift_JIS",
            "duplicate_receipt" => "was read before",
            k => panic!("unexpected kind {k}: {x:?}"),
        };
        assert!(x[6].contains(want), "{x:?}");
    }
    let t = find("a_truncated.csv", "truncated");
    assert_eq!(&t[1], "18", "the RE line of the receipt cut short: {t:?}");
    let b = find("b_broken.csv", "bad_record");
    assert_eq!(&b[1], "3");
    let c = find("c_unknown.csv", "unknown_record_type");
    assert_eq!(&c[1], "4");
    let d = find("d_month13.csv", "invalid_date");
    assert_eq!(&d[1], "2");
    let e = find("e_utf16.csv", "wrong_encoding");
    assert_eq!(&e[5], "file_rejected");
    let g = r
        .iter()
        .filter(|x| x[0].ends_with("g_original.csv") && &x[4] == "duplicate_receipt")
        .count();
    assert_eq!(g, 7, "the last copy's 7 receipts are duplicates");
    // No personal value anywhere in the output: not in the rejects, the summary or any
    // decoded table (names and 被保険者番号 of the source, in every form).
    assert_no_orca_identifiers(&out);
    // The summary counts them, exactly as the rejects file lists them.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("ingest_summary.json")).unwrap()).unwrap();
    let issues = &summary["sources"]["uke"]["issues"];
    assert_eq!(
        issues,
        &serde_json::json!({
            "bad_record/receipt_rejected": 1,
            "duplicate_receipt/receipt_rejected": 1 + 7 + 6 + 7 + 7,
            "invalid_date/receipt_rejected": 1,
            "truncated/receipt_rejected": 1,
            "unknown_record_type/record_rejected": 1,
            "wrong_encoding/file_rejected": 1,
        }),
        "{issues}"
    );
    // Every file is a copy of the same batch of 7 receipts, so after the bad parts are left
    // out (b: receipt 1 with its broken HO; d: receipt 1 with month 13; a: the receipt cut
    // at line 20; e: the whole file) every receipt is still in once, the others being
    // duplicates.
    let claims: Vec<MedicalClaim> = rows(&out);
    assert_eq!(claims.len(), 7);
    let b_dupes = r
        .iter()
        .filter(|x| x[0].ends_with("b_broken.csv") && &x[4] == "duplicate_receipt")
        .count();
    // a (lines 1–20) holds receipts 1 and 2 whole (RE at lines 2 and 9; receipt 3 starts at
    // 18 and is cut): in b only receipt 2 is a duplicate, 3–7 are new.
    assert_eq!(b_dupes, 1);
    let f_dupes = r
        .iter()
        .filter(|x| x[0].ends_with("f_duplicate.csv") && &x[4] == "duplicate_receipt")
        .count();
    assert_eq!(f_dupes, 7);
}

/// kokuho_201811.csv line 19 is `HO,  061234,１０−２３,１１３４,…`: its 記号 has U+2212 MINUS
/// SIGN. Shift_JIS has no U+2212: the encoder writes 0x817C, which reads back as U+FF0D
/// FULLWIDTH HYPHEN-MINUS. Both copies must give the patient one id.
#[test]
fn the_same_person_has_one_id_in_a_utf8_file_and_its_shift_jis_copy() {
    let text = std::fs::read_to_string(orca("kokuho_201811.csv")).unwrap();
    assert!(text.contains("\nHO,  061234,１０\u{2212}２３,１１３４,"));
    let (sjis, _, bad) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!bad);
    let (minus, _, _) = encoding_rs::SHIFT_JIS.encode("１０\u{2212}２３");
    assert_eq!(&minus[..], b"\x82\x50\x82\x4F\x81\x7C\x82\x51\x82\x52");
    let (back, _) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(&minus);
    assert_eq!(back, "１０\u{FF0D}２３");
    let dir = tempfile::tempdir().unwrap();
    let ids = |name: &str, bytes: &[u8]| -> BTreeSet<PersonId> {
        let file = write(dir.path(), name, bytes);
        let out = dir.path().join(format!("out_{name}"));
        ingest(
            IngestOptions {
                uke: vec![file],
                out: out.clone(),
                ..Default::default()
            },
            &Resolver::vendored(),
        );
        assert_no_orca_identifiers(&out);
        rows::<MedicalClaim>(&out)
            .into_iter()
            .map(|c| c.person_id)
            .collect()
    };
    let utf8 = ids("utf8.csv", text.as_bytes());
    let shift_jis = ids("sjis.csv", &sjis);
    assert_eq!(utf8, shift_jis);
    // The patient of that HO, with the numbers typed in ASCII.
    assert!(utf8.contains(&key().person_id("061234", "10-23", "1134")));
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_loop_in_an_input_directory_is_reported_and_ingest_ends() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(inp.join("sub")).unwrap();
    std::fs::copy(orca("kokuho_201811.csv"), inp.join("sub/kokuho_201811.csv")).unwrap();
    // in/sub/loop -> in: without a guard the walk went down in/sub/loop/sub/loop/… until
    // the system refused to follow more links (ELOOP), which stopped the whole ingest; with
    // two such links the walk doubles at every level.
    std::os::unix::fs::symlink(&inp, inp.join("sub/loop")).unwrap();
    let out = dir.path().join("out");
    let s = ingest(
        IngestOptions {
            uke: vec![inp.clone()],
            out: out.clone(),
            ..Default::default()
        },
        &Resolver::vendored(),
    );
    assert_eq!(
        s.sources["uke"].issues.get("skipped/file_rejected"),
        Some(&1),
        "{:?}",
        s.sources["uke"].issues
    );
    assert_eq!((s.receipts.files, s.receipts.duplicate_receipts), (1, 0));
    let r = rejects(&out, "uke");
    assert!(
        r.iter()
            .any(|x| x[0].ends_with("sub/loop") && &x[4] == "skipped"),
        "{r:?}"
    );
    // The loop is the only reject: the file itself reads without a problem.
    assert_eq!(
        reject_keys(&r),
        [key6("loop", "", "", "", "skipped", "file_rejected")],
        "{r:?}"
    );
    assert!(!r[0][6].is_empty(), "a reason is given: {r:?}");
    assert_eq!(rows::<MedicalClaim>(&out).len(), 7);
    assert_no_orca_identifiers(&out);
}

#[test]
fn bad_checkup_archives_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (std_dir, e) = checkups_as_xml(dir.path(), 200, 2);
    // One more archive: a non-XML member, broken XML, a non-checkup XML, an index file
    // (skipped silently), and a second copy of a real document (duplicate exam).
    let first_zip = std::fs::read_dir(std_dir.join("kenshin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let mut z = zip::ZipArchive::new(std::fs::File::open(&first_zip).unwrap()).unwrap();
    let mut doc = String::new();
    std::io::Read::read_to_string(&mut z.by_index(0).unwrap(), &mut doc).unwrap();
    let bad = std_dir.join("kenshin/zz_bad.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&bad).unwrap());
    let o = zip::write::SimpleFileOptions::default();
    for (name, body) in [
        ("zz/DATA/readme.pdf", "%PDF-1.4 not xml".to_string()),
        (
            "zz/DATA/h000001.xml",
            "<ClinicalDocument><broken".to_string(),
        ),
        (
            "zz/DATA/h000002.xml",
            "<?xml version=\"1.0\"?><other/>".to_string(),
        ),
        (
            "zz/ix08_V08.xml",
            "<?xml version=\"1.0\"?><index/>".to_string(),
        ),
        ("zz/DATA/h000003.xml", doc),
    ] {
        w.start_file(name, o).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap();
    let out = dir.path().join("out");
    let s = ingest(
        IngestOptions {
            kenshin: vec![std_dir.join("kenshin")],
            persons: vec![std_dir.join("persons.csv")],
            out: out.clone(),
            ..Default::default()
        },
        &Resolver::vendored(),
    );
    let k = &s.sources["kenshin"].issues;
    assert_eq!(k.get("skipped/file_rejected"), Some(&1), "{k:?}");
    assert_eq!(k.get("not_xml/file_rejected"), Some(&2), "{k:?}");
    assert_eq!(k.get("duplicate_record/file_rejected"), Some(&1), "{k:?}");
    assert_eq!(s.checkups.checkups, e.documents);
    let r = rejects(&out, "kenshin");
    // Every reject, by hand from the archive above: the index file is not one, and the
    // synthetic documents have none.
    let mut expected = vec![
        key6(
            "zz_bad.zip!zz/DATA/readme.pdf",
            "",
            "",
            "",
            "skipped",
            "file_rejected",
        ),
        key6(
            "zz_bad.zip!zz/DATA/h000001.xml",
            "1",
            "",
            "",
            "not_xml",
            "file_rejected",
        ),
        key6(
            "zz_bad.zip!zz/DATA/h000002.xml",
            "",
            "ClinicalDocument",
            "",
            "not_xml",
            "file_rejected",
        ),
        key6(
            "zz_bad.zip!zz/DATA/h000003.xml",
            "",
            "ClinicalDocument",
            "",
            "duplicate_record",
            "file_rejected",
        ),
    ];
    expected.sort();
    assert_eq!(reject_keys(&r), expected, "{r:?}");
    for x in &r {
        let want = match short_file(&x[0]).as_str() {
            "zz_bad.zip!zz/DATA/readme.pdf" => None,
            "zz_bad.zip!zz/DATA/h000001.xml" => Some("not well-formed XML"),
            "zz_bad.zip!zz/DATA/h000002.xml" => Some("not a 健診結果 document"),
            _ => Some("was read before"),
        };
        assert!(!x[6].is_empty(), "a reason is given: {x:?}");
        if let Some(w) = want {
            assert!(x[6].contains(w), "{x:?}");
        }
    }
    assert!(
        r.iter()
            .any(|x| x[0].ends_with("zz_bad.zip!zz/DATA/readme.pdf") && &x[4] == "skipped"),
        "{r:?}"
    );
    assert!(
        r.iter()
            .any(|x| x[0].ends_with("zz_bad.zip!zz/DATA/h000001.xml")
                && &x[4] == "not_xml"
                && &x[1] == "1"),
        "{r:?}"
    );
    assert!(
        !r.iter().any(|x| x[0].contains("ix08")),
        "index documents are not problems"
    );
}

#[test]
fn ingest_without_a_key_refuses_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let o = ittai()
        .args(["ingest", "--uke"])
        .arg(orca("01.csv"))
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--id-key-file is required") && err.contains("HMAC-SHA256"),
        "{err}"
    );
    assert!(!dir.path().join("o").exists(), "nothing written");
    let short = write(dir.path(), "short.key", b"too short");
    let o = ittai()
        .args(["ingest", "--uke"])
        .arg(orca("01.csv"))
        .arg("--out")
        .arg(dir.path().join("o"))
        .arg("--id-key-file")
        .arg(&short)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("use at least 32 random bytes"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

// ------------------------------------------------------------------ main job on real input

#[test]
fn real_receipts_ingested_then_run_give_sensible_lists() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // 01–05 are two batches in variants; read the six 国保/社保 months and the dental file.
    let mut cmd = ittai();
    cmd.arg("ingest")
        .arg("--id-key-file")
        .arg(write(
            dir.path(),
            "key",
            b"8d1f6a0c3b2e4f5a6978c0d1e2f3a4b5c6d7e8f90112233445566778899aabbc",
        ))
        .arg("--out")
        .arg(&data)
        .arg("--uke");
    for f in [
        "kokuho_201811.csv",
        "kokuho_201812.csv",
        "kokuho_201901.csv",
        "shaho_201811.csv",
        "shaho_201812.csv",
        "shaho_201901.csv",
        "shika_shaho.csv",
    ] {
        cmd.arg(orca(f));
    }
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("coverage UNKNOWN"), "{stdout}");
    assert_no_orca_identifiers(&data);
    assert!(
        stdout.contains("620008230"),
        "retired codes named: {stdout}"
    );
    let out = dir.path().join("out");
    let o = ittai()
        .args(["run", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // FY2018 (the latest claims, 2019-01), everyone derived is "insured" on 2019-03-31.
    assert!(stdout.contains("FY2018"), "{stdout}");
    let persons: Vec<Person> = rows(&data);
    assert!(
        stdout.contains(&format!("被保険者数（基準日） {}", persons.len())),
        "{stdout}"
    );
    // With coverage unknown, every step that needs a year of coverage (no checkup, no
    // claims) cannot say "none": R10 (健康状態不明者) lists nobody and the attrition says why.
    let attrition = std::fs::read_to_string(out.join("attrition.csv")).unwrap();
    let r10_step1 = attrition
        .lines()
        .find(|l| l.starts_with("R10,") && l.split(',').nth(2) == Some("1"))
        .unwrap();
    let f: Vec<&str> = r10_step1.split(',').collect();
    assert_eq!(f[f.len() - 2], "0", "{r10_step1}");
    assert_eq!(
        f[f.len() - 1],
        persons.len().to_string(),
        "all excluded for coverage: {r10_step1}"
    );
    let claims: Vec<MedicalClaim> = rows(&data);
    assert_eq!(claims.len(), 96, "7 + 4 + 9 + 27 + 20 + 26 + 3 receipts");
    assert!(
        claims
            .iter()
            .any(|c| c.claim_kind == ClaimKind::Dental.code())
    );
}
