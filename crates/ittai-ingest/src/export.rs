//! Canonical dataset → the national standard formats, the inverse of [`crate::run()`]:
//! receipts as レセ電 (UKE) files, checkups as 健診結果 XML archives, and the register,
//! certifications and care claims in the CSV layouts of [`crate::register`].
//! Used by `ittai synth --format uke,xml` to give test data in the formats a union holds,
//! so the round trip synth → standard formats → ingest → canonical can be checked.
//!
//! Person ids cannot be turned back into insurance numbers (they are keyed hashes), so
//! each person gets a made-up 被保険者番号: the 1-based position of the person's first
//! row in `persons`, 8 digits (`00000001`, …); the 保険者番号 is the person's own. For
//! 介護 data the 介護保険者番号 is the municipality code of the person's first spell and
//! the 介護被保険者番号 the same position in 10 digits. Dental checkups have no place in
//! the 健診 XML (the V08 schema has none) and are not written; questionnaires go into the
//! checkup document when answered on the exam date at a checkup (setting 1).
//!
//! Support records (支援記録, the optional `interventions` table) have no national standard
//! format: a municipality keeps them in its own spreadsheet. When the dataset holds them they
//! are written as `interventions.csv`, by the same made-up numbers as the register, with
//! Japanese headers and the Japanese labels a nurse writes. `ittai ingest` does not read this
//! file; the canonical `interventions` table is what programme evaluation reads.
//!
//! Layout of the output directory:
//!
//! | path | content |
//! |---|---|
//! | `persons.csv` | 被保険者台帳 (UTF-8 with BOM, Japanese headers) |
//! | `certifications.csv` | 要介護認定, by 介護 numbers |
//! | `care_claims.csv` | 給付実績 H1/D1 records, one H1 per canonical row |
//! | `interventions.csv` | 支援記録 (only when the dataset has support records) |
//! | `uke/{ika,shika,chozai}/<機関>_<請求年月>.UKE` | receipts, one file per institution and month |
//! | `kenshin/kenshin_<YYYYMM>.zip` | checkup documents by exam month |

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use ittai_model::{PersonId, QuestionnaireSetting, Sex};

use crate::kenshin::write::{ExamIdentity, document, write_archive};
use crate::uke::write::{ReceiptOut, UkeEncoding, UkeWriteSummary, UkeWriter};
use ittai_dataset::atomic::{AtomicFile, Visibility};
use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, Intervention, MedicalClaim,
    Person, Questionnaire, read_rows,
};
use ittai_model::support::{Approach, Programme, Referral, Staff};

/// What to write.
#[derive(Debug, Clone, Copy)]
pub struct ExportOptions {
    /// Receipts as UKE.
    pub uke: bool,
    /// Checkups as XML.
    pub xml: bool,
    /// Text encoding of UKE files.
    pub encoding: UkeEncoding,
    /// Dates in the older 和暦 layout (GYYMM) instead of 西暦.
    pub wareki: bool,
    /// Receipts are written in passes over a partition of the persons with about this many
    /// claims each (memory: about 1 GB per million claims with their lines).
    pub claims_per_pass: u64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            uke: true,
            xml: true,
            encoding: UkeEncoding::ShiftJis,
            wareki: false,
            claims_per_pass: CLAIMS_PER_PASS,
        }
    }
}

/// What was written.
#[derive(Clone, Default)]
pub struct ExportSummary {
    /// person_id → (保険者番号, 被保険者番号) as written.
    pub numbers: HashMap<PersonId, (String, String)>,
    /// Register rows.
    pub persons: u64,
    /// Certification rows.
    pub certifications: u64,
    /// Care-claim H1 records.
    pub care_claims: u64,
    /// Support records written to `interventions.csv` (0 when the dataset has none).
    pub interventions: u64,
    /// UKE output.
    pub uke: UkeWriteSummary,
    /// Checkup documents.
    pub documents: u64,
    /// Questionnaires written inside documents.
    pub questionnaires_in_documents: u64,
    /// Questionnaires not written (not at a checkup).
    pub questionnaires_left_out: u64,
    /// Checkup archives.
    pub archives: u64,
    /// Files and directories written.
    pub paths: Vec<PathBuf>,
}

impl std::fmt::Debug for ExportSummary {
    /// Everything but the insurance numbers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSummary")
            .field("numbers", &format_args!("<{} persons>", self.numbers.len()))
            .field("persons", &self.persons)
            .field("certifications", &self.certifications)
            .field("care_claims", &self.care_claims)
            .field("interventions", &self.interventions)
            .field("uke", &self.uke)
            .field("documents", &self.documents)
            .field(
                "questionnaires_in_documents",
                &self.questionnaires_in_documents,
            )
            .field("questionnaires_left_out", &self.questionnaires_left_out)
            .field("archives", &self.archives)
            .finish()
    }
}

/// Errors of the export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the dataset.
    #[error("reading the dataset: {0}")]
    Read(String),
    /// Writing.
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |e| ExportError::Io(p.display().to_string(), e)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn csv_file(
    path: &Path,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<u64, ExportError> {
    let mut w =
        ittai_dataset::atomic::bom_csv(path, Visibility::Private, header).map_err(io(path))?;
    let mut n = 0;
    for r in rows {
        w.write_record(&r).map_err(|e| io(path)(e.into()))?;
        n += 1;
    }
    ittai_dataset::atomic::commit_csv(w).map_err(io(path))?;
    Ok(n)
}

/// Default claims per pass of the receipt export (with their lines, about 2 GB in memory).
const CLAIMS_PER_PASS: u64 = 2_000_000;

/// The pass (0..passes) of a person: FNV-1a of the id.
fn partition(person_id: &str, passes: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in person_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h % passes
}

fn read_where<R: ittai_dataset::Row>(
    dir: &Path,
    keep: impl Fn(&R) -> bool,
) -> Result<Vec<R>, ExportError> {
    ittai_dataset::read_rows_where::<R>(dir, keep)
        .map(|(r, _)| r)
        .map_err(ExportError::Read)
}

fn read<R: ittai_dataset::Row>(dir: &Path) -> Result<Vec<R>, ExportError> {
    read_rows::<R>(dir)
        .map(|(r, _)| r)
        .map_err(ExportError::Read)
}

/// The made-up insurance numbers of the export (module docs): for each person id, its
/// 0-based position among the distinct ids of `persons` (in row order) and the row of its
/// first spell.
struct Numbering<'a> {
    persons: &'a [Person],
    /// person_id → (index, first spell).
    index: HashMap<PersonId, (usize, usize)>,
}

impl<'a> Numbering<'a> {
    /// Numbers the persons in their row order.
    fn new(persons: &'a [Person]) -> Self {
        let mut index: HashMap<PersonId, (usize, usize)> = HashMap::new();
        for (i, p) in persons.iter().enumerate() {
            let n = index.len();
            index.entry(p.person_id.clone()).or_insert((n, i));
        }
        Numbering { persons, index }
    }

    /// The 被保険者番号: the 1-based position, 8 digits.
    fn number(&self, pid: &str) -> Option<String> {
        self.index.get(pid).map(|&(n, _)| format!("{:08}", n + 1))
    }

    /// The 介護保険者番号 (municipality code of the first spell) and 介護被保険者番号
    /// (the 1-based position, 10 digits).
    fn care_number(&self, pid: &str) -> Option<(String, String)> {
        self.index.get(pid).map(|&(n, first)| {
            (
                self.persons[first].municipality_code.clone(),
                format!("{:010}", n + 1),
            )
        })
    }

    /// person_id → (保険者番号 of the first spell, 被保険者番号), as written.
    fn numbers(&self) -> HashMap<PersonId, (String, String)> {
        let mut numbers = HashMap::new();
        for (pid, &(n, first)) in &self.index {
            numbers.insert(
                pid.clone(),
                (
                    self.persons[first].insurer_number.clone(),
                    format!("{:08}", n + 1),
                ),
            );
        }
        numbers
    }

    /// person_id → the person's first spell.
    fn by_person(&self) -> HashMap<&str, &'a Person> {
        let persons = self.persons;
        self.index
            .iter()
            .map(|(pid, &(_, first))| (pid.as_str(), &persons[first]))
            .collect()
    }
}

/// Writes the dataset in `dataset` to `out` in the standard formats (layout in the module
/// docs). `progress(step)` is called with a short description of each step.
///
/// # Errors
/// [`ExportError`] when the dataset cannot be read or a file cannot be written.
pub fn export(
    dataset: &Path,
    out: &Path,
    opts: &ExportOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<ExportSummary, ExportError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut s = ExportSummary::default();
    progress("persons");
    let persons: Vec<Person> = read(dataset)?;
    let ids = Numbering::new(&persons);
    s.numbers = ids.numbers();
    let path = out.join("persons.csv");
    s.persons = write_persons(&path, &persons, &ids)?;
    s.paths.push(path);

    progress("certifications");
    let certs: Vec<Certification> = read(dataset)?;
    let path = out.join("certifications.csv");
    s.certifications = write_certifications(&path, &certs, &ids)?;
    s.paths.push(path);

    progress("care claims");
    let care: Vec<CareClaim> = read(dataset)?;
    let path = out.join("care_claims.csv");
    s.care_claims = write_care_claims(&path, &care, &ids)?;
    s.paths.push(path);

    // The optional support records, when the dataset has them.
    if ["parquet", "csv"]
        .iter()
        .any(|ext| dataset.join(format!("interventions.{ext}")).is_file())
    {
        progress("support records");
        let records: Vec<Intervention> = read(dataset)?;
        let path = out.join("interventions.csv");
        s.interventions = write_interventions(&path, &records, &ids)?;
        s.paths.push(path);
    }

    let by_person = ids.by_person();
    if opts.uke {
        progress("receipts");
        let dir = out.join("uke");
        s.uke = write_receipts(dataset, &dir, opts, &ids, &by_person, progress)?;
        s.paths.push(dir);
    }

    if opts.xml {
        progress("checkups");
        let dir = out.join("kenshin");
        write_checkups(dataset, &dir, &ids, &by_person, &mut s)?;
        s.paths.push(dir);
    }
    Ok(s)
}

/// Writes `persons.csv`, the register in the [`crate::register::PERSONS_LAYOUT`] columns
/// with Japanese headers: one row per spell, 記号 empty, dates `YYYY-MM-DD`, and the
/// made-up 被保険者番号 and 介護 numbers of [`Numbering`]. Returns the rows written.
fn write_persons(path: &Path, persons: &[Person], ids: &Numbering) -> Result<u64, ExportError> {
    csv_file(
        path,
        &[
            "保険者番号",
            "記号",
            "被保険者番号",
            "性別",
            "生年月日",
            "市町村コード",
            "資格取得年月日",
            "資格喪失年月日",
            "喪失事由",
            "介護保険者番号",
            "介護被保険者番号",
        ],
        persons.iter().map(|p| {
            let (ci, cn) = ids.care_number(&p.person_id).expect("indexed");
            vec![
                p.insurer_number.clone(),
                String::new(),
                ids.number(&p.person_id).expect("indexed"),
                p.sex.to_string(),
                ymd(p.birth_date),
                p.municipality_code.clone(),
                ymd(p.coverage_start),
                p.coverage_end.map(ymd).unwrap_or_default(),
                p.loss_reason.map(|x| x.to_string()).unwrap_or_default(),
                ci,
                cn,
            ]
        }),
    )
}

/// Writes `certifications.csv` in the [`crate::register::CERTIFICATIONS_LAYOUT`] columns,
/// by 介護 numbers; certifications of persons not in the register are left out. Returns
/// the rows written.
fn write_certifications(
    path: &Path,
    certs: &[Certification],
    ids: &Numbering,
) -> Result<u64, ExportError> {
    csv_file(
        path,
        &[
            "介護保険者番号",
            "介護被保険者番号",
            "認定年月日",
            "要介護状態区分",
            "認定有効期間開始年月日",
            "認定有効期間終了年月日",
        ],
        certs.iter().filter_map(|c| {
            let (ci, cn) = ids.care_number(&c.person_id)?;
            Some(vec![
                ci,
                cn,
                ymd(c.decision_date),
                c.care_level_code.clone(),
                ymd(c.valid_from),
                ymd(c.valid_to),
            ])
        }),
    )
}

/// The Japanese label of a vocabulary code (the text itself when it is no code).
fn label_of<T>(code: &str, parse: fn(&str) -> Option<T>, label: fn(T) -> &'static str) -> String {
    parse(code).map_or_else(|| code.to_string(), |v| label(v).to_string())
}

/// Writes `interventions.csv`, the support records as a municipality keeps them: one row
/// per contact of a person in the register, by the register's 保険者番号 (of the person's
/// first spell) and made-up 被保険者番号; programme, approach, referral and staff as their
/// Japanese labels (the codes' vocabularies accept them back), 支援できた and 支援が必要 as
/// 1 / 0, empty where not recorded. Returns the rows written.
fn write_interventions(
    path: &Path,
    records: &[Intervention],
    ids: &Numbering,
) -> Result<u64, ExportError> {
    let by_person = ids.by_person();
    let flag = |b: bool| String::from(if b { "1" } else { "0" });
    csv_file(
        path,
        &[
            "保険者番号",
            "被保険者番号",
            "事業",
            "抽出ルール",
            "支援方法",
            "支援日",
            "支援できた",
            "医療・介護等の支援が必要",
            "つなぎ先",
            "従事者",
        ],
        records.iter().filter_map(|r| {
            let person = by_person.get(r.person_id.as_str())?;
            Some(vec![
                person.insurer_number.clone(),
                ids.number(&r.person_id)?,
                label_of(&r.programme, Programme::parse, Programme::label_ja),
                r.rule_id.clone().unwrap_or_default(),
                label_of(&r.approach, Approach::parse, Approach::label_ja),
                ymd(r.contact_date),
                flag(r.reached),
                r.needs_referral.map(flag).unwrap_or_default(),
                r.referred_to
                    .as_deref()
                    .map(|c| label_of(c, Referral::parse, Referral::label_ja))
                    .unwrap_or_default(),
                r.staff
                    .as_deref()
                    .map(|c| label_of(c, Staff::parse, Staff::label_ja))
                    .unwrap_or_default(),
            ])
        }),
    )
}

/// Writes `care_claims.csv` in the layout of [`crate::register::CARE_H1`] and
/// [`crate::register::CARE_D1`]: per canonical row (of a person in the register) one H1
/// numbered by its 1-based row and one D1 with サービス項目コード `0000` and
/// サービス単位数 = 単位数. Returns the H1 records written.
fn write_care_claims(path: &Path, care: &[CareClaim], ids: &Numbering) -> Result<u64, ExportError> {
    let mut n = 0;
    let mut f = AtomicFile::create(path, Visibility::Private).map_err(io(path))?;
    let mut w = std::io::BufWriter::new(&mut f);
    for (i, c) in care.iter().enumerate() {
        let Some((ci, cn)) = ids.care_number(&c.person_id) else {
            continue;
        };
        let no = i + 1;
        writeln!(
            w,
            "H1,{no},{:04}{:02},{ci},{cn},{},{}",
            c.service_month.year(),
            c.service_month.month(),
            c.provider_number.as_deref().unwrap_or(""),
            c.care_level_code.as_deref().unwrap_or("")
        )
        .map_err(io(path))?;
        let (units, days) = (c.units.unwrap_or(0), c.days.unwrap_or(0));
        writeln!(
            w,
            "D1,{no},{},0000,{units},{days},{units}",
            c.service_type_code
        )
        .map_err(io(path))?;
        n += 1;
    }
    w.flush().map_err(io(path))?;
    drop(w);
    f.commit().map_err(io(path))?;
    Ok(n)
}

/// Writes the receipts (`medical_claims` with their `claim_diagnoses` and `claim_drugs`)
/// as UKE files under `dir`, for persons in the register (with a valid sex code, as in
/// any validated dataset), in claim row order.
///
/// Receipts are written in passes over a partition of the persons, so that memory holds
/// about `opts.claims_per_pass` claims with their lines at a time whatever the size of the
/// union (each pass reads the three tables and keeps its persons' rows).
fn write_receipts(
    dataset: &Path,
    dir: &Path,
    opts: &ExportOptions,
    ids: &Numbering,
    by_person: &HashMap<&str, &Person>,
    progress: &mut dyn FnMut(&str),
) -> Result<UkeWriteSummary, ExportError> {
    let claim_rows =
        ittai_dataset::parquet_rows(&dataset.join("medical_claims.parquet")).unwrap_or(0);
    let passes = claim_rows.div_ceil(opts.claims_per_pass.max(1)).max(1);
    let mut w = UkeWriter::new(dir, opts.encoding, opts.wareki).map_err(io(dir))?;
    for pass in 0..passes {
        if passes > 1 {
            progress(&format!("receipts, pass {} of {passes}", pass + 1));
        }
        let mine = |pid: &str| passes == 1 || partition(pid, passes) == pass;
        let claims: Vec<MedicalClaim> =
            read_where(dataset, |c: &MedicalClaim| mine(c.person_id.as_str()))?;
        let dx: Vec<ClaimDiagnosis> =
            read_where(dataset, |d: &ClaimDiagnosis| mine(d.person_id.as_str()))?;
        let drugs: Vec<ClaimDrug> =
            read_where(dataset, |d: &ClaimDrug| mine(d.person_id.as_str()))?;
        let dx_of = group(&dx, |d| d.claim_id.as_str());
        let drugs_of = group(&drugs, |d| d.claim_id.as_str());
        for c in &claims {
            let Some(p) = by_person.get(c.person_id.as_str()) else {
                continue;
            };
            // Sex is a valid code in a validated dataset; a receipt cannot be written without.
            let Some(sex) = Sex::from_code(p.sex) else {
                continue;
            };
            let d: Vec<ClaimDiagnosis> = dx_of
                .get(c.claim_id.as_str())
                .map(|ix| ix.iter().map(|&i| dx[i].clone()).collect())
                .unwrap_or_default();
            let g: Vec<ClaimDrug> = drugs_of
                .get(c.claim_id.as_str())
                .map(|ix| ix.iter().map(|&i| drugs[i].clone()).collect())
                .unwrap_or_default();
            let number = ids.number(&c.person_id).expect("indexed");
            w.write(&ReceiptOut {
                claim: c,
                insurer: &p.insurer_number,
                number: &number,
                sex,
                birth_date: p.birth_date,
                diagnoses: &d,
                drugs: &g,
            })
            .map_err(io(dir))?;
        }
    }
    w.finish().map_err(io(dir))
}

/// Writes the checkups of persons in the register (with a valid sex code, as in any
/// validated dataset) as 健診結果 XML documents, one zip
/// archive per exam month under `dir` (`kenshin_<YYYYMM>.zip`), each document with the
/// questionnaire answered on its exam date at a checkup (setting 1), if any. Counts the
/// documents, archives and questionnaires in `s`.
fn write_checkups(
    dataset: &Path,
    dir: &Path,
    ids: &Numbering,
    by_person: &HashMap<&str, &Person>,
    s: &mut ExportSummary,
) -> Result<(), ExportError> {
    let checkups: Vec<Checkup> = read(dataset)?;
    let qs: Vec<Questionnaire> = read(dataset)?;
    let mut at_checkup: HashMap<(&str, NaiveDate), &Questionnaire> = HashMap::new();
    for q in &qs {
        if QuestionnaireSetting::from_code(q.setting) == Some(QuestionnaireSetting::Checkup) {
            at_checkup.insert((q.person_id.as_str(), q.answer_date), q);
        }
    }
    // One archive per exam month, its documents built when it is written.
    let mut by_month: BTreeMap<(i32, u32), Vec<usize>> = BTreeMap::new();
    for (i, c) in checkups.iter().enumerate() {
        let person = by_person.get(c.person_id.as_str());
        if person.is_some_and(|p| Sex::from_code(p.sex).is_some()) {
            by_month
                .entry((c.exam_date.year(), c.exam_date.month()))
                .or_default()
                .push(i);
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for ((y, m), ix) in by_month {
        let mut docs = Vec::with_capacity(ix.len());
        for i in ix {
            let c = &checkups[i];
            let p = by_person[c.person_id.as_str()];
            let q = at_checkup.remove(&(c.person_id.as_str(), c.exam_date));
            if q.is_some() {
                s.questionnaires_in_documents += 1;
            }
            let number = ids.number(&c.person_id).expect("indexed");
            let id = ExamIdentity {
                insurer: &p.insurer_number,
                number: &number,
                sex: Sex::from_code(p.sex).expect("persons with a valid sex only"),
                birth_date: p.birth_date,
            };
            let inst = format!("{}00000001", &p.municipality_code[..2]);
            docs.push(document(&id, &inst, c, q));
            s.documents += 1;
        }
        let path = dir.join(format!("kenshin_{y:04}{m:02}.zip"));
        write_archive(&path, &docs).map_err(io(&path))?;
        s.archives += 1;
    }
    s.questionnaires_left_out = qs.len() as u64 - s.questionnaires_in_documents;
    Ok(())
}

/// Row indices by a key, in row order.
fn group<'a, T>(rows: &'a [T], key: impl Fn(&'a T) -> &'a str) -> HashMap<&'a str, Vec<usize>> {
    let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        m.entry(key(r)).or_default().push(i);
    }
    m
}
