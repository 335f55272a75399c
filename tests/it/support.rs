//! Test support: building small hand-made datasets, reading datasets back as rows, and
//! running the engine or the `ittai` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use ittai_dataset::atomic::Visibility;
use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, DentalCheckup, Intervention,
    MedicalClaim, ParquetTableWriter, Person, Questionnaire, Row, RowBatch,
};
use ittai_dataset::{Format, TableFile, open_table};
use ittai_model::{Route, Sex};

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

/// A municipality code and insurer that pass the check digits (鳥取市).
pub const MUNI: &str = "312011";
pub const INSURER: &str = "39312012";

/// Rows of the nine required tables and the optional `interventions`, written as Parquet by
/// [`Dataset::write`].
#[derive(Default, Clone)]
pub struct Dataset {
    pub persons: Vec<Person>,
    pub checkups: Vec<Checkup>,
    pub dental_checkups: Vec<DentalCheckup>,
    pub questionnaires: Vec<Questionnaire>,
    pub medical_claims: Vec<MedicalClaim>,
    pub claim_diagnoses: Vec<ClaimDiagnosis>,
    pub claim_drugs: Vec<ClaimDrug>,
    pub care_claims: Vec<CareClaim>,
    pub certifications: Vec<Certification>,
    /// Support records (支援記録); the table is optional and written only when non-empty.
    pub interventions: Vec<Intervention>,
}

fn write_rows<R: Row>(dir: &Path, rows: &[R]) {
    let mut b = RowBatch::for_row::<R>();
    for r in rows {
        b.push(r);
    }
    let mut w = ParquetTableWriter::for_table(dir, R::SPEC, Visibility::Shared).expect("create");
    w.write(&b.finish()).expect("write");
    w.finish().expect("finish");
}

/// An empty checkup on `date` (all values null).
pub fn checkup(person: &str, date: NaiveDate) -> Checkup {
    Checkup {
        person_id: person.into(),
        exam_date: date,
        height_cm: None,
        weight_kg: None,
        bmi: None,
        waist_cm: None,
        sbp: None,
        dbp: None,
        hba1c: None,
        fasting_glucose: None,
        tg: None,
        hdl: None,
        ldl: None,
        ast: None,
        alt: None,
        ggt: None,
        creatinine: None,
        egfr: None,
        urine_protein: None,
        urine_glucose: None,
        med_bp: None,
        med_dm: None,
        med_lipid: None,
    }
}

/// A support record (支援記録) of `programme` (a code: `medication`, `oral`, …) for `person`
/// on `date`: a home visit (`visit`), naming the list `rule` (null when `None`), with no
/// referral and no staff recorded.
pub fn contact(
    person: &str,
    programme: &str,
    rule: Option<&str>,
    date: NaiveDate,
    reached: bool,
) -> Intervention {
    Intervention {
        person_id: person.into(),
        programme: programme.into(),
        rule_id: rule.map(str::to_string),
        approach: "visit".into(),
        contact_date: date,
        reached,
        needs_referral: None,
        referred_to: None,
        staff: None,
    }
}

impl Dataset {
    /// A person born on `birth`, covered from `start` (open-ended).
    pub fn person(&mut self, id: &str, birth: NaiveDate, start: NaiveDate) -> &mut Self {
        self.persons.push(Person {
            person_id: id.into(),
            sex: Sex::Female.code(),
            birth_date: birth,
            municipality_code: MUNI.into(),
            insurer_number: INSURER.into(),
            coverage_start: start,
            coverage_end: None,
            loss_reason: None,
        });
        self
    }

    /// An 80-year-old (on 2025-03-31) covered since 2015.
    pub fn elder(&mut self, id: &str) -> &mut Self {
        self.person(id, d(1944, 6, 1), d(2019, 6, 1))
    }

    /// A drug line (route 内服) with a 9-digit code and YJ on claim `claim`.
    pub fn drug(&mut self, claim: &str, code: &str, yj: &str) {
        let c = self
            .medical_claims
            .iter()
            .find(|c| c.claim_id == claim)
            .expect("claim")
            .clone();
        self.claim_drugs.push(ClaimDrug {
            claim_id: claim.into(),
            person_id: c.person_id,
            service_month: c.service_month,
            drug_code: code.into(),
            yj_code: Some(yj.into()),
            route: Some(Route::Oral.code()),
            quantity: Some(1.0),
            days: Some(28),
        });
    }

    /// Writes the nine required tables into `dir`, and `interventions.parquet` when there is
    /// a support record (no file otherwise: the table is optional).
    pub fn write(&self, dir: &Path) {
        write_rows(dir, &self.persons);
        write_rows(dir, &self.checkups);
        write_rows(dir, &self.dental_checkups);
        write_rows(dir, &self.questionnaires);
        write_rows(dir, &self.medical_claims);
        write_rows(dir, &self.claim_diagnoses);
        write_rows(dir, &self.claim_drugs);
        write_rows(dir, &self.care_claims);
        write_rows(dir, &self.certifications);
        if !self.interventions.is_empty() {
            write_rows(dir, &self.interventions);
        }
    }
}

/// Path of the `ittai` binary built for these tests.
pub fn ittai() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ittai"))
}

/// The project root (where sample_data/ lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a table of a Parquet dataset as typed batches.
pub fn read_batches(dir: &Path, table: &str) -> Vec<arrow_array::RecordBatch> {
    let spec = ittai_dataset::table_spec(table).expect("table");
    let file = TableFile {
        spec,
        path: dir.join(format!("{table}.parquet")),
        format: Format::Parquet,
    };
    open_table(&file)
        .expect("open")
        .map(|b| b.expect("batch").batch)
        .collect()
}

/// `ittai run` on `data` for FY2024 (lists and attrition only, CSV and Parquet) with `extra`
/// arguments into `out`; panics with the output when it fails.
pub fn run_lists(data: &Path, out: &Path, extra: &[&str]) {
    let o = ittai()
        .args(["run", "--data"])
        .arg(data)
        .args(["--fy", "2024", "--format", "csv,parquet", "--out"])
        .arg(out)
        .args(["--no-indicators", "--no-evaluation"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ittai run {extra:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The list and attrition files of a run: `attrition.csv`, `targets_all.csv`, then
/// `targets/<rule>.csv` sorted.
pub fn list_files(out: &Path) -> Vec<String> {
    let mut files = vec!["attrition.csv".to_string(), "targets_all.csv".to_string()];
    let mut rules: Vec<String> = std::fs::read_dir(out.join("targets"))
        .unwrap()
        .map(|e| format!("targets/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|p| p.ends_with(".csv"))
        .collect();
    rules.sort();
    files.extend(rules);
    files
}
