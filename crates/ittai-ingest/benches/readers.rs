//! Micro-benchmarks of the standard-format readers: UKE parsing (the 12 real ORCA sample
//! files, 1,279 records, and a synthetic 医科 file), 健診 XML parsing (one generated
//! document), and the whole receipt ingest of a file (parse, pseudonymise, resolve codes,
//! write Parquet). `cargo bench -p ittai-ingest`. Throughput is shown in bytes per second.

use chrono::NaiveDate;
use divan::counter::BytesCount;
use ittai_dataset::masters::{DiseaseMaster, DrugMaster, Resolver};
use ittai_dataset::{Checkup, ClaimDiagnosis, ClaimDrug, MedicalClaim};
use ittai_ingest::IdKey;
use ittai_ingest::Input;
use ittai_ingest::IssueLog;
use ittai_ingest::Output;
use ittai_ingest::ReceiptIngest;
use ittai_ingest::kenshin::write::{ExamIdentity, document};
use ittai_ingest::uke::write::{ReceiptOut, UkeEncoding, UkeWriter};
use ittai_model::{ClaimKind, Route, Sex};

fn main() {
    divan::main();
}

const ORCA: [&str; 12] = [
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

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// A synthetic 医科入院外 file of 2,000 receipts with 3 diagnoses and 6 drugs each.
fn synthetic_uke() -> &'static str {
    static S: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = UkeWriter::new(dir.path(), UkeEncoding::Utf8, false).expect("writer");
        let codes = [
            "620098801",
            "621973601",
            "612370052",
            "610454084",
            "620098401",
            "622442201",
        ];
        for i in 0..2000 {
            let claim = MedicalClaim {
                claim_id: format!("c{i}"),
                person_id: format!("p{i}").into(),
                service_month: d(2024, 6, 1),
                claim_kind: ClaimKind::Outpatient.code(),
                institution_code: "3110000017".into(),
                points: Some(1000),
                days: Some(2),
            };
            let dx: Vec<ClaimDiagnosis> = ["2749004", "3078015", "4930001"]
                .iter()
                .map(|c| ClaimDiagnosis {
                    claim_id: claim.claim_id.clone(),
                    person_id: claim.person_id.clone(),
                    service_month: claim.service_month,
                    disease_code: (*c).into(),
                    icd10: None,
                    suspected: false,
                    start_date: Some(d(2024, 1, 5)),
                    outcome: Some(1),
                    main_diagnosis: None,
                })
                .collect();
            let drugs: Vec<ClaimDrug> = codes
                .iter()
                .map(|c| ClaimDrug {
                    claim_id: claim.claim_id.clone(),
                    person_id: claim.person_id.clone(),
                    service_month: claim.service_month,
                    drug_code: (*c).into(),
                    yj_code: None,
                    route: Some(Route::Oral.code()),
                    quantity: Some(2.0),
                    days: Some(28),
                })
                .collect();
            let number = format!("{i:08}");
            w.write(&ReceiptOut {
                claim: &claim,
                insurer: "39312012",
                number: &number,
                sex: Sex::Male,
                birth_date: d(1940, 1, 1),
                diagnoses: &dx,
                drugs: &drugs,
            })
            .expect("write");
        }
        w.finish().expect("finish");
        std::fs::read_to_string(dir.path().join("ika/3110000017_202407.UKE")).expect("file")
    })
    .as_str()
}

#[divan::bench]
fn uke_parse_orca_samples(b: divan::Bencher) {
    let bytes: usize = ORCA.iter().map(|s| s.len()).sum();
    b.counter(BytesCount::new(bytes)).bench(|| {
        let mut n = 0;
        for t in ORCA {
            ittai_ingest::uke::read::parse(divan::black_box(t), &mut |_| {}, &mut |_, _| n += 1);
        }
        n
    });
}

#[divan::bench]
fn uke_parse_synthetic_file(b: divan::Bencher) {
    let t = synthetic_uke();
    b.counter(BytesCount::new(t.len())).bench(|| {
        let mut n = 0;
        ittai_ingest::uke::read::parse(divan::black_box(t), &mut |_| {}, &mut |_, _| n += 1);
        n
    });
}

fn resolver() -> &'static Resolver {
    static R: std::sync::OnceLock<Resolver> = std::sync::OnceLock::new();
    R.get_or_init(|| Resolver::new(DrugMaster::embedded(), DiseaseMaster::embedded()))
}

/// Parse, pseudonymise, resolve and write one synthetic file (Parquet in a temp dir).
#[divan::bench(sample_count = 20)]
fn uke_ingest_synthetic_file(b: divan::Bencher) {
    let t = synthetic_uke();
    let key = IdKey::from_bytes(b"benchmark-key-0123456789").expect("key");
    let resolver = resolver();
    b.counter(BytesCount::new(t.len())).bench(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut out = Output::create(dir.path()).expect("output");
        let mut log = IssueLog::counting("uke");
        let mut r = ReceiptIngest::new(&key, resolver);
        r.file(
            &Input {
                origin: "x.UKE".into(),
                bytes: t.as_bytes().to_vec(),
            },
            &mut out,
            &mut log,
        )
        .expect("ingest");
        out.finish().expect("finish")
    });
}

fn xml_document() -> String {
    let c = Checkup {
        person_id: "p".into(),
        exam_date: d(2024, 6, 1),
        height_cm: Some(152.3),
        weight_kg: Some(48.1),
        bmi: Some(20.7),
        waist_cm: Some(78.0),
        sbp: Some(138.0),
        dbp: Some(76.0),
        hba1c: Some(6.1),
        fasting_glucose: Some(104.0),
        tg: Some(120.0),
        hdl: Some(55.0),
        ldl: Some(128.0),
        ast: Some(22.0),
        alt: Some(18.0),
        ggt: Some(25.0),
        creatinine: Some(0.82),
        egfr: Some(58.2),
        urine_protein: Some(1),
        urine_glucose: Some(1),
        med_bp: Some(true),
        med_dm: Some(false),
        med_lipid: Some(false),
    };
    let id = ExamIdentity {
        insurer: "39312012",
        number: "00000001",
        sex: Sex::Female,
        birth_date: d(1942, 3, 3),
    };
    document(&id, "3100000001", &c, None)
}

#[divan::bench]
fn xml_parse_checkup_document(b: divan::Bencher) {
    let doc = xml_document();
    b.counter(BytesCount::new(doc.len())).bench(|| {
        ittai_ingest::kenshin::read::parse(divan::black_box(&doc), &mut Vec::new())
            .expect("parse")
            .values
            .sbp
    });
}
