//! Property tests of the readers of untrusted bytes (UKE text, 健診 XML, the care CSV, and
//! the whole receipt ingest of a file). They start from valid files — every ORCA UKE
//! fixture, 健診 documents made by `kenshin::write`, a care-claims CSV written here — and
//! damage them (a field replaced, lines deleted, duplicated or swapped, the text cut,
//! multibyte characters inserted, a record type changed, bits flipped), so most cases get
//! past the header and into the records. Each case checks invariants, not only "no panic":
//!
//! - UKE (`uke::read::parse`): when the header is read, the set of RE lines (a line whose
//!   first field, trimmed, is `RE`, after the header and before the first GO) is exactly the
//!   disjoint union of the lines of the receipts passed on (`RawReceipt::line`) and the RE
//!   lines of the rejected receipts — the RE line owning (the last RE at or before) an issue
//!   whose action is `ReceiptRejected`. `FileCounts::receipts` equals the receipts passed on.
//!   With no header, nothing is passed on.
//! - Receipt ingest (`ReceiptIngest::file`): receipts written (`receipts_by_kind`) plus the
//!   receipts the ingest rejects (its `ReceiptRejected` issues beyond the parser's) equals
//!   the receipts the parser passed on.
//! - No output text — the issues as `IssueLog` writes them (`Issue::redacted`) — contains
//!   a 被保険者番号 of the seed (HO 記号 and 番号, KO 受給者番号) or an RE 氏名 (field 5), in
//!   ASCII or full-width digits. Numbers are checked when they have 7 or more digits (the
//!   redaction rule: shorter runs are codes and counts, and the ORCA 番号 are 2–4 digits, so a
//!   canary seed with an 8-digit 番号 is added); names always.
//!
//! 10,000 cases per reader with a fixed RNG (ChaCha) and no persistence file, so CI runs
//! the same cases every time. The Parquet output and the ingest are set up once per test
//! thread, so a case costs a parse.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed};

use super::inputs::{Input, decode};
use super::issues::{Issue, IssueAction, IssueLog};
use super::output::Output;
use super::receipts::ReceiptIngest;
use crate::pseudonym::{IdKey, normalise};
use ittai_dataset::masters::Resolver;

const UKE_SEEDS: [&str; 12] = [
    include_str!("../../../tests/fixtures/uke_orca/01.csv"),
    include_str!("../../../tests/fixtures/uke_orca/02.csv"),
    include_str!("../../../tests/fixtures/uke_orca/03.csv"),
    include_str!("../../../tests/fixtures/uke_orca/04.csv"),
    include_str!("../../../tests/fixtures/uke_orca/05.csv"),
    include_str!("../../../tests/fixtures/uke_orca/kokuho_201811.csv"),
    include_str!("../../../tests/fixtures/uke_orca/kokuho_201812.csv"),
    include_str!("../../../tests/fixtures/uke_orca/kokuho_201901.csv"),
    include_str!("../../../tests/fixtures/uke_orca/shaho_201811.csv"),
    include_str!("../../../tests/fixtures/uke_orca/shaho_201812.csv"),
    include_str!("../../../tests/fixtures/uke_orca/shaho_201901.csv"),
    include_str!("../../../tests/fixtures/uke_orca/shika_shaho.csv"),
];

/// The UKE seeds: the ORCA files, and one with a long 番号 (a canary for the leak check).
fn uke_seeds() -> &'static [String] {
    static S: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<String> = UKE_SEEDS.iter().map(|s| s.to_string()).collect();
        let canary = UKE_SEEDS[7].replacen("HO,  138057,,,", "HO,  138057,,98765432,", 1);
        v.push(canary);
        v
    })
}

/// A care-claims file (H1 header and D1 lines), valid.
const CARE_SEED: &str = "H1,C0001,202401,131011,0000123456,1310100001,21,39131032,87654321\n\
D1,C0001,11,1111,250,10,2500\n\
D1,C0001,13,1121,400,4,1600\n\
H1,C0002,202402,131011,0000654321,1310100001,03,,\n\
D1,C0002,15,1511,700,8,5600\n";

/// Field values a mutation puts in place of a field (none of them personal).
const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "2",
    "9",
    "01",
    "99",
    "1318",
    "3112",
    "4110",
    "202401",
    "201901",
    "43101",
    "R0601",
    "5060101",
    "20240229",
    "20241301",
    "620098801",
    "4310121",
    "8002",
    "1.5",
    "-1",
    "1e9",
    "99999999999999999999",
    "１２３",
    "−1",
    "令和",
    "漢字",
    "ア",
    "\"",
    "\"\"",
    "abc",
    "\u{FEFF}",
    "\u{3000}",
    "0x10",
    "NaN",
    "<a>",
    "&amp;",
    "]]>",
];

/// Record types a mutation puts in place of one.
const RECORD_TYPES: &[&str] = &[
    "IR", "UK", "YK", "RE", "HO", "KO", "SY", "HS", "SI", "IY", "SH", "CZ", "BU", "GO", "TI", "TR",
    "TS", "CO", "ZZ", "", "re", "ＲＥ", " RE", "H1", "D1",
];

/// Characters a mutation inserts.
const CHARS: &[char] = &[
    '０', '１', '９', '漢', '字', '\u{2212}', 'ー', '\u{3000}', '\u{FEFF}', '\u{1a}', '\r', ',',
    '\n', '"', '<', '>', '&', 'é', '𠮷',
];

#[derive(Debug, Clone)]
enum Mutation {
    ReplaceField(usize, usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
    InsertChar(usize, usize),
    RecordType(usize, usize),
    FlipBit(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>(), 0..VALUES.len())
            .prop_map(|(l, f, v)| Mutation::ReplaceField(l, f, v)),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), 0..CHARS.len()).prop_map(|(a, c)| Mutation::InsertChar(a, c)),
        2 => (any::<usize>(), 0..RECORD_TYPES.len()).prop_map(|(l, r)| Mutation::RecordType(l, r)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::FlipBit(a, b)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..5)
}

fn split_lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect()
}

/// Sets field `f` (wrapping) of line `l` (wrapping) to `value`.
fn set_field(b: &[u8], l: usize, f: usize, value: &str) -> Vec<u8> {
    let mut lines = split_lines(b);
    let n = lines.len();
    let line = &mut lines[l % n];
    let mut fields: Vec<Vec<u8>> = line.split(|&c| c == b',').map(<[u8]>::to_vec).collect();
    let k = fields.len();
    fields[f % k] = value.as_bytes().to_vec();
    *line = fields.join(&b',');
    lines.join(&b'\n')
}

/// The seed with the mutations applied in order (on bytes: a flipped bit may leave
/// invalid UTF-8, which the readers' decoder then sees).
fn mutate(seed: &str, muts: &[Mutation]) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for m in muts {
        b = match *m {
            Mutation::ReplaceField(l, f, v) => set_field(&b, l, f, VALUES[v]),
            Mutation::RecordType(l, r) => set_field(&b, l, 0, RECORD_TYPES[r]),
            Mutation::DeleteLine(l) => {
                let mut lines = split_lines(&b);
                if lines.len() > 1 {
                    let n = lines.len();
                    lines.remove(l % n);
                }
                lines.join(&b'\n')
            }
            Mutation::DuplicateLine(l) => {
                let mut lines = split_lines(&b);
                let i = l % lines.len();
                let copy = lines[i].clone();
                lines.insert(i, copy);
                lines.join(&b'\n')
            }
            Mutation::SwapLines(x, y) => {
                let mut lines = split_lines(&b);
                let n = lines.len();
                lines.swap(x % n, y % n);
                lines.join(&b'\n')
            }
            Mutation::Truncate(at) => {
                b.truncate(at % (b.len() + 1));
                b
            }
            Mutation::InsertChar(at, c) => {
                let mut i = at % (b.len() + 1);
                // At a character boundary, so the insertion itself keeps UTF-8 valid.
                while i < b.len() && b[i] & 0xC0 == 0x80 {
                    i += 1;
                }
                let mut buf = [0u8; 4];
                let s = CHARS[c].encode_utf8(&mut buf);
                let mut v = b[..i].to_vec();
                v.extend_from_slice(s.as_bytes());
                v.extend_from_slice(&b[i..]);
                v
            }
            Mutation::FlipBit(at, bit) => {
                if !b.is_empty() {
                    let n = b.len();
                    b[at % n] ^= 1 << (bit % 8);
                }
                b
            }
        };
    }
    b
}

fn full_width_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The personal values of a UKE seed, each in its ASCII (NFKC) and full-width forms: the
/// HO 記号 (3) and 番号 (4) and the KO 受給者番号 (3) with 7 or more digits, and the RE
/// 氏名 (5) of two or more characters.
fn uke_needles(seed: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in seed.lines() {
        let f: Vec<&str> = line.split(',').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let candidates: Vec<(&str, bool)> = match f.first().copied() {
            Some("HO") => vec![(get(2), true), (get(3), true)],
            Some("KO") => vec![(get(2), true)],
            Some("RE") => vec![(get(4), false)],
            _ => vec![],
        };
        for (raw, numeric) in candidates {
            let n = normalise(raw);
            let keep = if numeric {
                n.bytes().filter(u8::is_ascii_digit).count() >= 7
                    && n.chars().any(|c| !n.starts_with(c))
            } else {
                n.chars().count() >= 2
            };
            if keep {
                out.push(full_width_digits(&n));
                out.push(n);
                if !out.contains(&raw.trim().to_string()) {
                    out.push(raw.trim().to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn assert_no_needle(text: &str, needles: &[String]) {
    for n in needles {
        assert!(
            !text.contains(n.as_str()),
            "a personal value of the seed ({} chars) appears in an output: {text}",
            n.chars().count()
        );
    }
}

/// An issue as `IssueLog::push` writes it.
fn written(issue: Issue) -> String {
    issue.redacted().to_string()
}

fn parse_issue(i: crate::uke::read::ParseIssue) -> Issue {
    Issue::of_uke("x.UKE", i)
}

/// Checks the UKE invariants on one decoded text; returns (receipts passed on, parser
/// issues rejecting a receipt).
fn check_uke(text: &str, needles: &[String]) -> (u64, u64) {
    let mut issues = Vec::new();
    let mut lines = Vec::new();
    let (header, counts) = crate::uke::read::parse(text, &mut |i| issues.push(i), &mut |_, r| {
        lines.push(r.line)
    });
    assert_eq!(counts.receipts, lines.len() as u64);
    let rejecting = issues
        .iter()
        .filter(|i| i.action == IssueAction::ReceiptRejected)
        .count() as u64;
    if header.is_none() {
        assert!(
            lines.is_empty(),
            "receipts passed on from a file without header"
        );
    } else {
        // The RE lines as the parser numbers and sees them.
        let body = text.trim_end_matches('\u{1a}');
        let mut re_lines: Vec<u64> = Vec::new();
        let mut seen_header = false;
        for (i, raw) in body.split('\n').enumerate() {
            let raw = raw.trim_end_matches('\r');
            if raw.trim().is_empty() {
                continue;
            }
            if !seen_header {
                seen_header = true;
                continue;
            }
            let rt = raw.split(',').next().unwrap_or("").trim();
            if rt == "GO" {
                break;
            }
            if rt == "RE" {
                re_lines.push(i as u64 + 1);
            }
        }
        let owner = |l: u64| re_lines.iter().copied().filter(|&r| r <= l).max();
        let mut rejected: Vec<u64> = issues
            .iter()
            .filter(|i| i.action == IssueAction::ReceiptRejected)
            .filter_map(|i| i.line.and_then(owner))
            .collect();
        rejected.sort_unstable();
        rejected.dedup();
        let mut passed = lines.clone();
        passed.sort_unstable();
        for p in &passed {
            assert!(
                rejected.binary_search(p).is_err(),
                "the receipt of RE line {p} was both passed on and rejected"
            );
        }
        let mut both: Vec<u64> = passed.iter().chain(&rejected).copied().collect();
        both.sort_unstable();
        assert_eq!(
            both, re_lines,
            "RE lines vs receipts read ({passed:?}) + rejected ({rejected:?})"
        );
    }
    for i in issues {
        assert_no_needle(&written(parse_issue(i)), needles);
    }
    (lines.len() as u64, rejecting)
}

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

thread_local! {
    /// One Parquet output per test thread (its rows are never read): creating one per
    /// case would cost more than the case.
    static OUT: RefCell<(tempfile::TempDir, Output)> = RefCell::new({
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Output::create(dir.path()).expect("output");
        (dir, out)
    });
}

fn resolver() -> &'static Resolver {
    static R: std::sync::OnceLock<Resolver> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Resolver::new(
            ittai_dataset::masters::DrugMaster::embedded(),
            ittai_dataset::masters::DiseaseMaster::embedded(),
        )
    })
}

fn xml_sample(number: &str, day: u32) -> String {
    use crate::kenshin::write::{ExamIdentity, document};
    use ittai_dataset::Checkup;
    let d = chrono::NaiveDate::from_ymd_opt(2024, 6, day).expect("date");
    let c = Checkup {
        person_id: "p".into(),
        exam_date: d,
        height_cm: Some(150.0),
        weight_kg: Some(50.0),
        bmi: Some(22.2),
        waist_cm: if day.is_multiple_of(2) {
            Some(80.5)
        } else {
            None
        },
        sbp: Some(130.0),
        dbp: Some(80.0),
        hba1c: Some(6.0),
        fasting_glucose: if day.is_multiple_of(2) {
            None
        } else {
            Some(101.0)
        },
        tg: Some(100.0),
        hdl: Some(50.0),
        ldl: Some(120.0),
        ast: Some(20.0),
        alt: Some(20.0),
        ggt: Some(20.0),
        creatinine: Some(0.8),
        egfr: Some(60.0),
        urine_protein: Some(1),
        urine_glucose: Some(1),
        med_bp: Some(false),
        med_dm: Some(day.is_multiple_of(2)),
        med_lipid: Some(false),
    };
    let id = ExamIdentity {
        insurer: "39312012",
        number,
        sex: ittai_model::Sex::Female,
        birth_date: chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date"),
    };
    document(&id, "3100000001", &c, None)
}

/// 健診 seeds: two documents (different items present), with 8-digit 番号 (the needles).
fn xml_seeds() -> &'static [(String, &'static str)] {
    static S: std::sync::OnceLock<Vec<(String, &'static str)>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        vec![
            (xml_sample("87654321", 1), "87654321"),
            (xml_sample("12398745", 2), "12398745"),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x0017_77a1),
        ..ProptestConfig::default()
    })]

    #[test]
    fn uke_reader_on_mutated_orca_files(seed in 0..13usize, muts in mutations()) {
        let seed = &uke_seeds()[seed % uke_seeds().len()];
        let needles = uke_needles(seed);
        let bytes = mutate(seed, &muts);
        if let Ok(text) = decode(&bytes) {
            check_uke(&text, &needles);
        }
    }

    #[test]
    fn receipt_ingest_on_mutated_orca_files(seed in 0..13usize, muts in mutations()) {
        let seed = &uke_seeds()[seed % uke_seeds().len()];
        let needles = uke_needles(seed);
        let bytes = mutate(seed, &muts);
        let Ok(text) = decode(&bytes) else { return Ok(()) };
        let (passed, parser_rejects) = check_uke(&text, &needles);
        let key = IdKey::from_bytes(KEY).expect("key");
        let mut log = IssueLog::counting("uke");
        let mut r = ReceiptIngest::new(&key, resolver());
        OUT.with(|o| {
            let mut o = o.borrow_mut();
            r.file(&Input { origin: "x.UKE".into(), bytes: bytes.clone() }, &mut o.1, &mut log)
        }).expect("io");
        let written: u64 = r.stats.receipts_by_kind.values().sum();
        let rejects: u64 = log
            .counts()
            .iter()
            .filter(|((_, a), _)| *a == IssueAction::ReceiptRejected)
            .map(|(_, n)| n)
            .sum();
        prop_assert_eq!(written + (rejects - parser_rejects), passed);
        for i in log.first() {
            assert_no_needle(&i.to_string(), &needles);
        }
    }

    #[test]
    fn xml_reader_on_mutated_documents(seed in 0..2usize, muts in mutations()) {
        let (doc, number) = &xml_seeds()[seed];
        let needles = vec![number.to_string(), full_width_digits(number)];
        let bytes = mutate(doc, &muts);
        if let Ok(text) = decode(&bytes) {
            let mut issues = Vec::new();
            let _ = crate::kenshin::read::parse(&text, &mut issues);
            for i in issues {
                let issue = Issue {
                    file: "x.xml".into(),
                    line: Some(i.line),
                    record: i.record,
                    field: String::new(),
                    kind: super::issues::IssueKind::InvalidValue,
                    action: IssueAction::ValueNulled,
                    detail: i.detail,
                };
                assert_no_needle(&written(issue), &needles);
            }
        }
    }

    #[test]
    fn care_claims_reader_on_mutated_files(muts in mutations()) {
        let needles: Vec<String> = ["0000123456", "0000654321", "87654321"]
            .iter()
            .flat_map(|n| [n.to_string(), full_width_digits(n)])
            .collect();
        let bytes = mutate(CARE_SEED, &muts);
        let key = IdKey::from_bytes(KEY).expect("key");
        let mut log = IssueLog::counting("care_claims");
        OUT.with(|o| {
            let mut o = o.borrow_mut();
            super::register::read_care_claims(&Input { origin: "c.csv".into(), bytes }, &key, &Default::default(), &mut o.1, &mut log)
        }).expect("io");
        for i in log.first() {
            assert_no_needle(&i.to_string(), &needles);
        }
    }

    #[test]
    fn uke_reader_never_panics_on_random_record_soup(lines in proptest::collection::vec((prop_oneof!["IR", "UK", "YK", "RE", "HO", "KO", "SY", "HS", "SI", "IY", "SH", "CZ", "BU", "GO", "TI", "ZZ", ""], proptest::collection::vec("[0-9A-Z０-９]{0,10}", 0..12)), 0..40)) {
        let text: String = lines.iter().map(|(rt, f)| format!("{rt},{}\n", f.join(","))).collect();
        check_uke(&text, &[]);
    }
}

#[test]
fn the_seeds_are_valid_and_have_needles() {
    let mut with_names = 0;
    for seed in uke_seeds() {
        let mut issues = Vec::new();
        let mut n = 0;
        let (h, _) = crate::uke::read::parse(seed, &mut |i| issues.push(i), &mut |_, _| n += 1);
        assert!(h.is_some() && n > 0, "a seed does not parse");
        check_uke(seed, &uke_needles(seed));
        with_names += usize::from(!uke_needles(seed).is_empty());
    }
    assert_eq!(with_names, uke_seeds().len());
    assert!(uke_needles(uke_seeds().last().expect("canary")).contains(&"98765432".to_string()));
    for (doc, _) in xml_seeds() {
        let mut issues = Vec::new();
        assert!(crate::kenshin::read::parse(doc, &mut issues).is_ok());
    }
}
