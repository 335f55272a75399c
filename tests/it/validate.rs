//! `ittai validate` on the sample data and on a deliberately broken copy of it.

use std::path::Path;

use crate::support::{ittai, root};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn sample_data_is_clean() {
    let out = tempfile::tempdir().unwrap();
    let o = ittai()
        .args([
            "validate",
            "sample_data",
            "--as-of",
            "2025-03-31",
            "--rejects",
        ])
        .arg(out.path().join("r.csv"))
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("OK: the dataset meets the contract."),
        "{stdout}"
    );
}

/// A broken copy of sample_data: a missing column (dental_checkups.exam_date), a bad code
/// (care level 99), a claim line without its claim, a date in 1850.
#[test]
fn broken_copy_reports_each_problem_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("broken");
    copy_dir(&root().join("sample_data"), &data);
    // Small CSV tables replace three Parquet ones.
    std::fs::remove_file(data.join("dental_checkups.parquet")).unwrap();
    std::fs::write(data.join("dental_checkups.csv"), "person_id,date\n").unwrap();
    // persons stay; a person id for the small CSV tables below.
    let persons = crate::support::read_batches(&data, "persons");
    let p1 = arrow_array::cast::AsArray::as_string::<i32>(persons[0].column(0))
        .value(0)
        .to_string();
    // certifications: a bad care-level code (99) in one row.
    std::fs::remove_file(data.join("certifications.parquet")).unwrap();
    std::fs::write(
        data.join("certifications.csv"),
        format!("person_id,decision_date,care_level_code,valid_from,valid_to\n{p1},2024-05-10,22,2024-05-01,2025-04-30\n{p1},2023-05-10,99,2023-05-01,2024-04-30\n"),
    )
    .unwrap();
    // claim_drugs: one line whose claim does not exist; checkups: a date in 1850.
    std::fs::remove_file(data.join("claim_drugs.parquet")).unwrap();
    std::fs::write(
        data.join("claim_drugs.csv"),
        format!("claim_id,person_id,service_month,drug_code,yj_code,route,quantity,days\nNO-SUCH-CLAIM,{p1},2024-05-01,610443047,1129009F1025,1,1,28\n"),
    )
    .unwrap();
    std::fs::remove_file(data.join("checkups.parquet")).unwrap();
    let mut ck = String::from(
        "person_id,exam_date,height_cm,weight_kg,bmi,waist_cm,sbp,dbp,hba1c,fasting_glucose,tg,hdl,ldl,ast,alt,ggt,creatinine,egfr,urine_protein,urine_glucose,med_bp,med_dm,med_lipid\n",
    );
    ck.push_str(&format!(
        "{p1},1850-07-01,150,50,22.2,,130,80,5.8,,,,,,,,,,1,1,false,false,false\n"
    ));
    std::fs::write(data.join("checkups.csv"), ck).unwrap();

    let rejects = dir.path().join("rejects.csv");
    let o = ittai()
        .args(["validate"])
        .arg(&data)
        .args(["--as-of", "2025-03-31", "--rejects"])
        .arg(&rejects)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    // Each problem names table, file, row/line and column.
    assert!(
        stdout.contains("dental_checkups.csv: file, column exam_date: missing_column"),
        "{stdout}"
    );
    assert!(
        stdout.contains("certifications.csv: line 3, column care_level_code: bad_code"),
        "{stdout}"
    );
    assert!(
        stdout.contains("claim_drugs.csv: line 2, column claim_id: unknown_claim"),
        "{stdout}"
    );
    assert!(
        stdout.contains("checkups.csv: line 2, column exam_date: implausible_date"),
        "{stdout}"
    );
    // The rejects file has them too, with the records, as UTF-8 with BOM.
    let bytes = std::fs::read(&rejects).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    for kind in [
        "missing_column",
        "bad_code",
        "unknown_claim",
        "implausible_date",
    ] {
        assert!(text.contains(kind), "{kind} missing from rejects:\n{text}");
    }
    assert!(
        text.contains("NO-SUCH-CLAIM"),
        "the rejected record is kept"
    );
}

/// Values from the input that Excel would read as a formula are written to the rejects
/// file with a leading `'` (docs/reference/privacy.md, formula injection): the claim id
/// `=1+2` of an unknown claim in the value column; no cell starts like a formula.
#[test]
fn rejects_file_neutralises_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&root().join("sample_data"), &data);
    let persons = crate::support::read_batches(&data, "persons");
    let p1 = arrow_array::cast::AsArray::as_string::<i32>(persons[0].column(0))
        .value(0)
        .to_string();
    std::fs::remove_file(data.join("claim_drugs.parquet")).unwrap();
    std::fs::write(
        data.join("claim_drugs.csv"),
        format!("claim_id,person_id,service_month,drug_code,yj_code,route,quantity,days\n=1+2,{p1},2024-05-01,610443047,1129009F1025,1,1,28\n"),
    )
    .unwrap();
    let rejects = dir.path().join("rejects.csv");
    let o = ittai()
        .args(["validate"])
        .arg(&data)
        .args(["--as-of", "2025-03-31", "--rejects"])
        .arg(&rejects)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let bytes = std::fs::read(&rejects).unwrap();
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    let row = rows
        .iter()
        .find(|r| &r[0] == "claim_drugs" && &r[4] == "unknown_claim")
        .unwrap_or_else(|| panic!("no unknown_claim in {text}"));
    assert_eq!(&row[6], "'=1+2", "{row:?}");
    // The record (`claim_id==1+2; person_id=…`) keeps the value as read.
    assert!(row[8].contains("=1+2"), "{row:?}");
    for r in &rows {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {r:?}"
            );
        }
    }
}

// ------------------------------------------------------------------ support records

/// Validates `data` as of 2025-03-31 into `clean` (Parquet), writing the rejects to
/// `rejects`; returns the report.
fn validate_into(data: &Path, clean: &Path, rejects: &Path) -> ittai_dataset::ValidationReport {
    let mut sink =
        ittai_dataset::ParquetDirSink::new(clean, ittai_dataset::atomic::Visibility::Private);
    let mut r = ittai_dataset::rejects::RejectSink::to_file(rejects, 100).unwrap();
    let report = ittai_dataset::validate_dataset(
        data,
        &ittai_dataset::ValidateOptions {
            as_of: crate::support::d(2025, 3, 31),
            claim_rows: None,
        },
        &mut r,
        &mut sink,
        &mut |_: &str, _: u64| {},
    )
    .unwrap();
    r.finish().unwrap();
    report
}

/// The rows of a rejects file (UTF-8 with BOM): table, file, location, column, kind,
/// action, value, detail, record.
fn rejects_rows(path: &Path) -> Vec<csv::StringRecord> {
    let bytes = std::fs::read(path).unwrap();
    let text = std::str::from_utf8(&bytes[3..]).unwrap().to_string();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

/// Two insured persons (P000123, P000456) and no other rows, as Parquet.
fn two_persons(data: &Path) {
    std::fs::create_dir_all(data).unwrap();
    let mut ds = crate::support::Dataset::default();
    ds.elder("P000123").elder("P000456");
    ds.write(data);
}

/// A support-records table with two good rows (codes; Japanese labels and はい) and four
/// bad ones: a programme that is no code or label (栄養指導), a date in 1850, a person never
/// insured, and a repeat of the first contact. The bad rows are rejected with their line,
/// column and reason; the good ones are kept with their codes.
#[test]
fn interventions_are_checked_and_normalised_to_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_persons(&data);
    std::fs::write(
        data.join("interventions.csv"),
        "\u{feff}person_id,programme,rule_id,approach,contact_date,reached,needs_referral,referred_to,staff\n\
         P000123,undernutrition,R01,visit,2024-06-10,true,false,none,dietitian\n\
         P000456,低栄養,,訪問,2024-07-01,はい,,介護,管理栄養士\n\
         P000123,栄養指導,R01,phone,2024-06-11,true,,,\n\
         P000123,oral,R02,phone,1850-04-01,false,,,\n\
         P999999,oral,R02,phone,2024-06-12,true,,,\n\
         P000123,undernutrition,R01,visit,2024-06-10,false,,,\n",
    )
    .unwrap();
    let clean = dir.path().join("clean");
    let rejects = dir.path().join("rejects.csv");
    let report = validate_into(&data, &clean, &rejects);

    // The rejects: (line, column, kind, action) and a part of the reason.
    let rows = rejects_rows(&rejects);
    let got: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            assert_eq!(&r[0], "interventions", "{r:?}");
            assert!(r[1].ends_with("interventions.csv"), "{r:?}");
            (
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
                r[5].to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String)> = [
        ("line 4", "programme", "bad_code", "row_rejected"),
        ("line 5", "contact_date", "implausible_date", "row_rejected"),
        ("line 6", "person_id", "unknown_person", "row_rejected"),
        (
            "line 7",
            "contact_date",
            "duplicate_contact",
            "row_rejected",
        ),
    ]
    .iter()
    .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    .collect();
    assert_eq!(got, want, "{rows:?}");
    // The reasons: the accepted codes with their labels; the date range; persons; the
    // line of the first record of the contact.
    assert_eq!(&rows[0][6], "栄養指導");
    for part in [
        "undernutrition 低栄養",
        "oral 口腔",
        "health_unknown 健康状態不明者",
    ] {
        assert!(rows[0][7].contains(part), "{part} not in {:?}", &rows[0][7]);
    }
    assert!(rows[1][7].contains("1900-01-01"), "{:?}", &rows[1][7]);
    assert!(rows[2][7].contains("persons"), "{:?}", &rows[2][7]);
    assert!(rows[3][7].contains("line 2"), "{:?}", &rows[3][7]);
    assert_eq!(
        &rows[3][6], "2024-06-10",
        "the duplicate's date, not the person"
    );
    let t = report
        .tables
        .iter()
        .find(|t| t.table == "interventions")
        .expect("interventions summary");
    assert_eq!(
        (t.rows_read, t.rows_clean, t.rows_rejected, t.values_nulled),
        (6, 2, 4, 0)
    );
    // Only interventions has problems.
    assert_eq!(report.violations(), 4);

    // The clean table: the two good rows, with codes.
    use arrow_array::cast::AsArray;
    let batches = crate::support::read_batches(&clean, "interventions");
    let text = |name: &str| -> Vec<Option<String>> {
        batches
            .iter()
            .flat_map(|b| {
                let c = b.column_by_name(name).unwrap().as_string::<i32>();
                c.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>()
            })
            .collect()
    };
    let some =
        |v: &[&str]| -> Vec<Option<String>> { v.iter().map(|s| Some(s.to_string())).collect() };
    assert_eq!(text("person_id"), some(&["P000123", "P000456"]));
    assert_eq!(
        text("programme"),
        some(&["undernutrition", "undernutrition"])
    );
    assert_eq!(text("approach"), some(&["visit", "visit"]));
    assert_eq!(text("rule_id"), vec![Some("R01".to_string()), None]);
    assert_eq!(text("referred_to"), some(&["none", "care"]));
    assert_eq!(text("staff"), some(&["dietitian", "dietitian"]));
    let reached: Vec<Option<bool>> = batches
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("reached").unwrap().as_boolean();
            c.iter().collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(reached, [Some(true), Some(true)]);

    // `ittai run` prepares the data the same way: the input hashes include the table and
    // the staged copy the engine reads has it.
    let prepared = ittai_dataset::prepare(
        &data,
        &dir.path().join("out"),
        crate::support::d(2025, 3, 31),
        true,
        &mut |_, _, _| {},
    )
    .unwrap();
    assert!(prepared.staged);
    assert!(
        prepared
            .hashes
            .files
            .iter()
            .any(|(t, ..)| t == "interventions")
    );
    assert!(prepared.dir.join("interventions.parquet").is_file());
}

/// A claim_diagnoses table written before the 主傷病 column existed validates clean, as CSV
/// and as Parquet; the summary lists the column as absent, and the clean copy has it, all
/// null. A Parquet dataset lacking it is not read in place (`all_parquet` is false), so the
/// engine always sees the whole contract.
#[test]
fn claim_diagnoses_without_main_diagnosis_validate_clean() {
    use arrow_array::Array as _;
    let dir = tempfile::tempdir().unwrap();
    let mut ds = crate::support::Dataset::default();
    ds.elder("P000123");
    ds.medical_claims.push(ittai_dataset::MedicalClaim {
        claim_id: "C1".into(),
        person_id: "P000123".into(),
        service_month: crate::support::d(2024, 5, 1),
        claim_kind: 2,
        institution_code: "3110000001".into(),
        points: Some(320),
        days: Some(1),
    });
    let check = |data: &Path, name: &str| {
        let clean = dir.path().join(format!("clean_{name}"));
        let rejects = dir.path().join(format!("rejects_{name}.csv"));
        let report = validate_into(data, &clean, &rejects);
        assert!(report.is_clean(), "{name}: {:?}", rejects_rows(&rejects));
        assert!(rejects_rows(&rejects).is_empty(), "{name}");
        assert!(!report.all_parquet, "{name}");
        let t = report
            .tables
            .iter()
            .find(|t| t.table == "claim_diagnoses")
            .unwrap();
        assert_eq!((t.rows_read, t.rows_clean), (1, 1), "{name}");
        assert_eq!(t.absent_columns, ["main_diagnosis"], "{name}");
        let batches = crate::support::read_batches(&clean, "claim_diagnoses");
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 1, "{name}");
        for b in &batches {
            let c = b
                .column_by_name("main_diagnosis")
                .expect("main_diagnosis written");
            assert_eq!(c.null_count(), c.len(), "{name}");
        }
    };

    // CSV without the column.
    let csv_dir = dir.path().join("csv");
    std::fs::create_dir_all(&csv_dir).unwrap();
    ds.write(&csv_dir);
    std::fs::remove_file(csv_dir.join("claim_diagnoses.parquet")).unwrap();
    std::fs::write(
        csv_dir.join("claim_diagnoses.csv"),
        "claim_id,person_id,service_month,disease_code,icd10,suspected,start_date,outcome\n\
         C1,P000123,2024-05-01,8840107,,false,2024-05-10,1\n",
    )
    .unwrap();
    check(csv_dir.as_path(), "csv");

    // The same row as Parquet written without the column.
    let pq_dir = dir.path().join("parquet");
    std::fs::create_dir_all(&pq_dir).unwrap();
    ds.claim_diagnoses.push(ittai_dataset::ClaimDiagnosis {
        claim_id: "C1".into(),
        person_id: "P000123".into(),
        service_month: crate::support::d(2024, 5, 1),
        disease_code: "8840107".into(),
        icd10: None,
        suspected: false,
        start_date: Some(crate::support::d(2024, 5, 10)),
        outcome: Some(1),
        main_diagnosis: None,
    });
    ds.write(&pq_dir);
    let spec = ittai_dataset::table_spec("claim_diagnoses").unwrap();
    let mut rows = ittai_dataset::RowBatch::new(spec);
    rows.push(&ds.claim_diagnoses[0]);
    let keep: Vec<usize> = (0..spec.columns.len())
        .filter(|i| spec.columns[*i].name != "main_diagnosis")
        .collect();
    let old = rows.finish().project(&keep).unwrap();
    let mut w = ittai_dataset::ParquetTableWriter::create(
        &pq_dir,
        "claim_diagnoses",
        old.schema(),
        ittai_dataset::atomic::Visibility::Private,
    )
    .unwrap();
    w.write(&old).unwrap();
    w.finish().unwrap();
    check(pq_dir.as_path(), "parquet");
}

/// Support records are optional: a dataset without them is clean, and the clean copy has
/// no interventions.parquet (so the engine can tell they are absent).
#[test]
fn a_dataset_without_interventions_validates_clean_without_writing_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_persons(&data);
    assert!(!data.join("interventions.parquet").exists());
    let clean = dir.path().join("clean");
    let rejects = dir.path().join("rejects.csv");
    let report = validate_into(&data, &clean, &rejects);
    assert!(report.is_clean(), "{:?}", rejects_rows(&rejects));
    assert!(report.all_parquet);
    assert!(rejects_rows(&rejects).is_empty());
    assert!(report.tables.iter().all(|t| t.table != "interventions"));
    assert_eq!(report.tables.len(), 9);
    for t in ittai_dataset::TABLES {
        let written = clean.join(format!("{}.parquet", t.name)).is_file();
        assert_eq!(written, t.required, "{}", t.name);
    }
    // The command says so too.
    let o = ittai()
        .args(["validate"])
        .arg(&data)
        .args(["--as-of", "2025-03-31", "--rejects"])
        .arg(dir.path().join("r.csv"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    assert!(
        stdout.contains("OK: the dataset meets the contract."),
        "{stdout}"
    );
    assert!(stdout.contains("interventions: no file"), "{stdout}");
}

/// The sample support records of the guide (docs/samples/interventions.csv, Japanese
/// labels, UTF-8 with BOM) are valid: every row is kept, with codes.
#[test]
fn the_guide_sample_of_interventions_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut ds = crate::support::Dataset::default();
    for id in [
        "P000123", "P000456", "P000789", "P001011", "P001213", "P001415",
    ] {
        ds.elder(id);
    }
    ds.write(&data);
    std::fs::copy(
        root().join("docs/samples/interventions.csv"),
        data.join("interventions.csv"),
    )
    .unwrap();
    let clean = dir.path().join("clean");
    let rejects = dir.path().join("rejects.csv");
    let report = validate_into(&data, &clean, &rejects);
    assert!(report.is_clean(), "{:?}", rejects_rows(&rejects));
    let t = report
        .tables
        .iter()
        .find(|t| t.table == "interventions")
        .unwrap();
    assert_eq!((t.rows_read, t.rows_clean, t.values_nulled), (7, 7, 0));
    use arrow_array::cast::AsArray;
    let programmes: Vec<String> = crate::support::read_batches(&clean, "interventions")
        .iter()
        .flat_map(|b| {
            let c = b.column_by_name("programme").unwrap().as_string::<i32>();
            c.iter().map(|v| v.unwrap().to_string()).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(programmes[0], "undernutrition");
    assert_eq!(programmes[6], "physical_frailty");
}

/// Tables of several read batches (65,536 rows each), whose batches are checked on as many
/// threads as there are cores: every reject is still reported in file order with its own
/// line, the claims are registered in file order (so the second use of a claim id is the
/// one rejected, even in a later batch), and the clean rows keep the file's order.
/// medical_claims: 150,000 claims, the first id used again on line 140,002. claim_drugs:
/// 200,000 lines of known claims, four of an unknown claim (lines 7, 70,002, 131,077 and
/// 200,001, in the first, second, third and fourth batch) and one with route 7 (no route
/// code: the value is nulled, the line kept) on line 100,002.
#[test]
fn batches_checked_on_several_threads_keep_the_file_order() {
    use std::fmt::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    two_persons(&data);
    for t in ["medical_claims", "claim_drugs"] {
        std::fs::remove_file(data.join(format!("{t}.parquet"))).unwrap();
    }
    let mut claims =
        String::from("claim_id,person_id,service_month,claim_kind,institution_code,points,days\n");
    for i in 0..150_000 {
        let id = if i == 140_000 { 0 } else { i };
        writeln!(claims, "C{id:07},P000123,2024-06-01,2,1310000001,100,1").unwrap();
    }
    std::fs::write(data.join("medical_claims.csv"), claims).unwrap();
    let unknown = [5, 70_000, 131_075, 199_999];
    let mut drugs =
        String::from("claim_id,person_id,service_month,drug_code,yj_code,route,quantity,days\n");
    let mut kept = Vec::new();
    for i in 0..200_000usize {
        let claim = if unknown.contains(&i) {
            format!("X{i:07}")
        } else {
            let c = format!("C{:07}", i % 140_000);
            kept.push(c.clone());
            c
        };
        let route = if i == 100_000 { 7 } else { 1 };
        writeln!(drugs, "{claim},P000123,2024-06-01,620000001,,{route},1,14").unwrap();
    }
    std::fs::write(data.join("claim_drugs.csv"), drugs).unwrap();

    let clean = dir.path().join("clean");
    let rejects = dir.path().join("rejects.csv");
    let report = validate_into(&data, &clean, &rejects);

    let rows = rejects_rows(&rejects);
    let got: Vec<[String; 5]> = rows
        .iter()
        .map(|r| std::array::from_fn(|k| r[[0, 2, 3, 4, 5][k]].to_string()))
        .collect();
    let want: Vec<[String; 5]> = [
        [
            "medical_claims",
            "line 140002",
            "claim_id",
            "duplicate_claim_id",
            "row_rejected",
        ],
        [
            "claim_drugs",
            "line 7",
            "claim_id",
            "unknown_claim",
            "row_rejected",
        ],
        [
            "claim_drugs",
            "line 70002",
            "claim_id",
            "unknown_claim",
            "row_rejected",
        ],
        [
            "claim_drugs",
            "line 100002",
            "route",
            "bad_code",
            "value_nulled",
        ],
        [
            "claim_drugs",
            "line 131077",
            "claim_id",
            "unknown_claim",
            "row_rejected",
        ],
        [
            "claim_drugs",
            "line 200001",
            "claim_id",
            "unknown_claim",
            "row_rejected",
        ],
    ]
    .iter()
    .map(|r| r.map(str::to_string))
    .collect();
    assert_eq!(got, want);

    let summary = |table: &str| {
        let t = report.tables.iter().find(|t| t.table == table).unwrap();
        (t.rows_read, t.rows_clean, t.rows_rejected, t.values_nulled)
    };
    assert_eq!(summary("medical_claims"), (150_000, 149_999, 1, 0));
    assert_eq!(summary("claim_drugs"), (200_000, 199_996, 4, 1));

    // The clean lines in file order, the route of line 100,002 (the 99,999th kept: two
    // unknown lines before it) nulled.
    let batches = crate::support::read_batches(&clean, "claim_drugs");
    let mut ids = Vec::new();
    let mut null_routes = Vec::new();
    for b in &batches {
        let c = arrow_array::cast::AsArray::as_string::<i32>(b.column(0));
        let route = b.column(5);
        for r in 0..b.num_rows() {
            if arrow_array::Array::is_null(route, r) {
                null_routes.push(ids.len());
            }
            ids.push(c.value(r).to_string());
        }
    }
    assert!(ids == kept, "the clean claim lines are not in file order");
    assert_eq!(null_routes, vec![99_998]);
}

/// Asked to, the validator writes each claim line's claim row (the file row of its claim
/// in `medical_claims`, in the engine's cache form: a little-endian `u32` per line) when
/// the dataset is clean Parquet. The rows are counted by hand: lines in claim order (each
/// claim found among the rows after the previous line's) and out of it (found in the
/// index). A dataset with one bad line gets none.
#[test]
fn validation_writes_the_claim_rows_of_clean_parquet() {
    use crate::support::d;
    let dir = tempfile::tempdir().unwrap();
    let mut ds = crate::support::Dataset::default();
    ds.elder("P000123").elder("P000456");
    // File rows 0..=4.
    for (id, person, month) in [
        ("C0", "P000123", 5),
        ("C1", "P000123", 5),
        ("C2", "P000123", 6),
        ("C3", "P000456", 5),
        ("C4", "P000456", 6),
    ] {
        ds.medical_claims.push(ittai_dataset::MedicalClaim {
            claim_id: id.into(),
            person_id: person.into(),
            service_month: d(2024, month, 1),
            claim_kind: 2,
            institution_code: "3110000001".into(),
            points: Some(320),
            days: Some(1),
        });
    }
    for claim in ["C2", "C2", "C0", "C4"] {
        let c = ds
            .medical_claims
            .iter()
            .find(|c| c.claim_id == claim)
            .unwrap()
            .clone();
        ds.claim_diagnoses.push(ittai_dataset::ClaimDiagnosis {
            claim_id: claim.into(),
            person_id: c.person_id,
            service_month: c.service_month,
            disease_code: "8840107".into(),
            icd10: Some("E11".into()),
            suspected: false,
            start_date: Some(d(2024, 4, 10)),
            outcome: Some(1),
            main_diagnosis: Some(true),
        });
    }
    for claim in ["C0", "C1", "C1", "C3", "C4", "C1"] {
        ds.drug(claim, "610443047", "1129009F1025");
    }
    let validate = |data: &Path, rows: &Path| {
        let mut rejects = ittai_dataset::rejects::RejectSink::counting(0);
        ittai_dataset::validate_dataset(
            data,
            &ittai_dataset::ValidateOptions {
                as_of: d(2025, 3, 31),
                claim_rows: Some(rows.to_path_buf()),
            },
            &mut rejects,
            &mut ittai_dataset::Discard,
            &mut |_: &str, _: u64| {},
        )
        .unwrap()
    };
    let read = |path: &Path| -> Vec<u32> {
        std::fs::read(path)
            .unwrap()
            .chunks(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };

    let clean = dir.path().join("clean");
    ds.write(&clean);
    let rows = dir.path().join("rows_clean");
    let report = validate(&clean, &rows);
    assert!(report.is_clean() && report.all_parquet);
    assert_eq!(report.claim_rows.as_deref(), Some(rows.as_path()));
    assert_eq!(read(&rows.join("claim_diagnoses.claim_rows")), [2, 2, 0, 4]);
    assert_eq!(
        read(&rows.join("claim_drugs.claim_rows")),
        [0, 1, 1, 3, 4, 1]
    );
    // Nothing else is left in the folder (the temporary files were renamed).
    assert_eq!(std::fs::read_dir(&rows).unwrap().count(), 2);

    // A line whose claim belongs to another person: rejected, and no claim rows.
    let mut bad = ds.clone();
    bad.claim_drugs[3].person_id = "P000123".into();
    let data = dir.path().join("bad");
    bad.write(&data);
    let rows = dir.path().join("rows_bad");
    let report = validate(&data, &rows);
    assert_eq!(report.violations(), 1);
    assert_eq!(report.claim_rows, None);
    assert_eq!(std::fs::read_dir(&rows).unwrap().count(), 0);

    // C1 used again by another person right after C2 (row 3): that row is rejected. A
    // line of C1 after a line of C2 finds C1's first row, not row 3 (a look among the rows
    // after the previous line's claim must skip a claim not registered), so nothing else
    // is rejected.
    let mut repeated = ds.clone();
    let mut again = repeated.medical_claims[1].clone();
    again.person_id = "P000456".into();
    again.service_month = d(2024, 6, 1);
    repeated.medical_claims.insert(3, again);
    repeated.drug("C2", "610443047", "1129009F1025");
    repeated.drug("C1", "610443047", "1129009F1025");
    let data = dir.path().join("repeated");
    repeated.write(&data);
    let report = validate(&data, &dir.path().join("rows_repeated"));
    let kinds: Vec<_> = report
        .tables
        .iter()
        .flat_map(|t| t.violations.keys().map(move |k| (t.table.as_str(), *k)))
        .collect();
    assert_eq!(
        kinds,
        [(
            "medical_claims",
            ittai_dataset::rejects::ViolationKind::DuplicateClaimId
        )]
    );
    assert_eq!(report.violations(), 1);
}
