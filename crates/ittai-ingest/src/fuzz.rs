//! Property tests: the readers of untrusted bytes (UKE text, 健診 XML, the care CSV, and
//! the whole ingest of a file) never panic, whatever they are given — random bytes, and
//! real files with random damage (bytes flipped, lines cut, fields dropped).

use proptest::prelude::*;

use super::inputs::{Input, decode};
use super::issues::IssueLog;
use super::output::Output;
use super::receipts::ReceiptIngest;
use crate::pseudonym::IdKey;
use ittai_dataset::masters::Resolver;

const ORCA: &str = include_str!("../../../tests/fixtures/uke_orca/kokuho_201901.csv");
const SHIKA: &str = include_str!("../../../tests/fixtures/uke_orca/shika_shaho.csv");

fn parse_uke(bytes: &[u8]) {
    if let Ok(text) = decode(bytes) {
        let _ = crate::uke::read::parse(&text, &mut |_| {}, &mut |_, _| {});
    }
}

fn parse_xml(bytes: &[u8]) {
    if let Ok(text) = decode(bytes) {
        let _ = crate::kenshin::read::parse(&text, &mut Vec::new());
    }
}

/// A real file with damage: `edits` of (position, byte) overwrites and a cut.
fn damaged(base: &str, edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut b = base.as_bytes().to_vec();
    for &(i, x) in edits {
        let n = b.len();
        b[i % n] = x;
    }
    b.truncate(cut % (b.len() + 1));
    b
}

fn xml_sample() -> String {
    use crate::kenshin::write::{ExamIdentity, document};
    use ittai_dataset::Checkup;
    let d = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).expect("date");
    let c = Checkup {
        person_id: "p".into(),
        exam_date: d,
        height_cm: Some(150.0),
        weight_kg: Some(50.0),
        bmi: Some(22.2),
        waist_cm: None,
        sbp: Some(130.0),
        dbp: Some(80.0),
        hba1c: Some(6.0),
        fasting_glucose: None,
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
        med_dm: Some(false),
        med_lipid: Some(false),
    };
    let id = ExamIdentity {
        insurer: "39312012",
        number: "00000001",
        sex: ittai_model::Sex::Female,
        birth_date: chrono::NaiveDate::from_ymd_opt(1940, 1, 1).expect("date"),
    };
    document(&id, "3100000001", &c, None)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn uke_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        parse_uke(&bytes);
    }

    #[test]
    fn uke_reader_never_panics_on_random_record_soup(lines in proptest::collection::vec((prop_oneof!["IR", "UK", "YK", "RE", "HO", "KO", "SY", "HS", "SI", "IY", "SH", "CZ", "BU", "GO", "TI", "ZZ", ""], proptest::collection::vec("[0-9A-Z０-９]{0,10}", 0..12)), 0..40)) {
        let text: String = lines.iter().map(|(rt, f)| format!("{rt},{}\n", f.join(","))).collect();
        parse_uke(text.as_bytes());
    }

    #[test]
    fn uke_reader_never_panics_on_damaged_real_files(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>(), dental in any::<bool>()) {
        parse_uke(&damaged(if dental { SHIKA } else { ORCA }, &edits, cut));
    }

    #[test]
    fn xml_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        parse_xml(&bytes);
    }

    #[test]
    fn xml_reader_never_panics_on_damaged_documents(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        parse_xml(&damaged(&xml_sample(), &edits, cut));
    }

    #[test]
    fn receipt_ingest_never_panics_on_damaged_files(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = IdKey::from_bytes(b"0123456789abcdef").expect("key");
        let resolver = resolver();
        let mut out = Output::create(dir.path()).expect("output");
        let mut log = IssueLog::counting("uke");
        let mut r = ReceiptIngest::new(&key, resolver);
        r.file(&Input { origin: "x.UKE".into(), bytes: damaged(ORCA, &edits, cut) }, &mut out, &mut log).expect("io");
    }

    #[test]
    fn care_claims_reader_never_panics(lines in proptest::collection::vec((prop_oneof!["H1", "D1", "XX"], proptest::collection::vec("[0-9A-Z]{0,12}", 0..10)), 0..30)) {
        let text: String = lines.iter().map(|(rt, f)| format!("{rt},{}\n", f.join(","))).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let key = IdKey::from_bytes(b"0123456789abcdef").expect("key");
        let mut out = Output::create(dir.path()).expect("output");
        let mut log = IssueLog::counting("care_claims");
        super::register::read_care_claims(&Input { origin: "c.csv".into(), bytes: text.into_bytes() }, &key, &Default::default(), &mut out, &mut log).expect("io");
    }
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
