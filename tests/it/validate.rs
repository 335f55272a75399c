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
