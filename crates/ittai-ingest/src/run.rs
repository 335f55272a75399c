//! The `ittai ingest` pipeline: register → certifications → care claims → receipts →
//! checkups, into one canonical dataset directory with a rejects file per source and
//! `ingest_summary.json`.
//!
//! Order matters: the register comes first because the care sources are linked to persons
//! through its 介護保険 numbers; persons are derived from receipts and checkups only when no
//! register is given (coverage then unknown — the dataset contract has no such case; docs/DECISIONS.md D54).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ittai_model::{PersonId, QuestionnaireSetting, Sex};
use serde::Serialize;

use super::inputs::{Input, InputError, InputProblem, for_each, text_of};

use super::issues::{Issue, IssueAction, IssueKind, IssueLog};
use super::output::Output;
use super::receipts::{ReceiptIngest, ReceiptStats};
use super::register::{CareLink, read_care_claims, read_certifications, read_persons};
use crate::kenshin::read::{DocError, RawExam, parse as parse_exam};
use crate::pseudonym::IdKey;
use ittai_dataset::atomic::{AtomicFile, Visibility};
use ittai_dataset::masters::Resolver;
use ittai_dataset::{Checkup, Questionnaire};

/// What to ingest and where to.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// レセ電 receipt files, directories or zips.
    pub uke: Vec<PathBuf>,
    /// 健診結果 XML files, directories or zips.
    pub kenshin: Vec<PathBuf>,
    /// Care-claims CSV (H1/D1).
    pub care_claims: Vec<PathBuf>,
    /// Certifications CSV.
    pub certifications: Vec<PathBuf>,
    /// Insured-register CSV.
    pub persons: Vec<PathBuf>,
    /// Output directory (the canonical dataset).
    pub out: PathBuf,
}

/// Counts of one source for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceSummary {
    /// Inputs read (files or zip members).
    pub inputs: u64,
    /// Rows written to the canonical tables.
    pub rows: u64,
    /// Issues by `kind/action`.
    pub issues: BTreeMap<String, u64>,
    /// Rejects file (relative to the output directory).
    pub rejects_file: String,
}

/// Counts of the checkup source.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckupStats {
    /// Documents read as 健診結果.
    pub documents: u64,
    /// Checkups written.
    pub checkups: u64,
    /// Questionnaires written (documents with at least one of 9N932–9N946 answered).
    pub questionnaires: u64,
    /// Documents left out as a second exam of the same person on the same date.
    pub duplicate_exams: u64,
    /// Values left empty because they failed their type.
    pub values_left_empty: u64,
}

/// The persons table's provenance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PersonsProvenance {
    /// `register` or `derived_from_receipts_and_checkups`.
    pub source: String,
    /// Rows written.
    pub rows: u64,
    /// Persons seen on receipts or checkups but left out (no sex or birth date anywhere).
    pub left_out: u64,
    /// Persons on receipts or checkups not in the register (their rows are kept; the
    /// rules see them as not insured).
    pub not_in_register: u64,
    /// A sentence for the summary.
    pub note: String,
}

/// `ingest_summary.json`: everything `ittai ingest` counted. Same inputs → same summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    /// Format version.
    pub format: u32,
    /// Rows per canonical table.
    pub tables: BTreeMap<String, u64>,
    /// Per source (`persons`, `certifications`, `care_claims`, `uke`, `kenshin`).
    pub sources: BTreeMap<String, SourceSummary>,
    /// Receipt details.
    pub receipts: ReceiptStats,
    /// Checkup details.
    pub checkups: CheckupStats,
    /// Where the persons came from.
    pub persons: PersonsProvenance,
}

/// Progress events for a terminal display.
pub trait IngestProgress {
    /// A source begins.
    fn source(&mut self, _name: &str) {}
    /// An input (file or zip member) of `bytes` bytes is being read.
    fn input(&mut self, _origin: &str, _bytes: u64) {}
}

impl IngestProgress for () {}

/// Errors that stop an ingest (problems with records do not: they go to the rejects).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A named input does not exist.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Writing the output failed.
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
    /// Nothing to ingest.
    #[error(
        "nothing to ingest: give at least one of --uke, --kenshin, --persons, --certifications, --care-claims"
    )]
    NoInputs,
}

fn is_xml(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".xml")
}

/// 健診 submission archives also hold the index, summary and claims documents and the
/// schemas: those are recognised and skipped without an issue.
fn is_companion(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("ix")
        || n.starts_with("su")
        || n.starts_with("cc")
        || n.ends_with(".xsd")
        || n.ends_with(".xsl")
}

struct Ctx<'a> {
    out: Output,
    progress: &'a mut dyn IngestProgress,
    dir: PathBuf,
}

fn io_err(dir: &Path) -> impl Fn(std::io::Error) -> IngestError + '_ {
    move |e| IngestError::Io(dir.display().to_string(), e)
}

/// Reads one source: every input of `paths` that `accept` takes goes through `f` (which
/// returns the rows it wrote) on this thread; inputs that cannot be read are logged.
fn source(
    ctx: &mut Ctx<'_>,
    name: &'static str,
    paths: &[PathBuf],
    accept: &(dyn Fn(&str) -> bool + Sync),
    summary: &mut IngestSummary,
    f: &mut dyn FnMut(&Input, &mut Output, &mut IssueLog) -> std::io::Result<u64>,
) -> Result<(), IngestError> {
    source_prepared(
        ctx,
        name,
        paths,
        accept,
        summary,
        &|_| (),
        &mut |i, (), o, l| f(i, o, l),
    )
}

/// As [`source`], with `prepare` applied to each input on a second thread while this one
/// runs `f` on the previous inputs: reading the files and the work that needs no state
/// (decoding and parsing) overlap with the work that does (pseudonyms, duplicates,
/// writing). Inputs reach `f` in the order they are read, so the output does not depend
/// on the threads.
fn source_prepared<P: Send>(
    ctx: &mut Ctx<'_>,
    name: &'static str,
    paths: &[PathBuf],
    accept: &(dyn Fn(&str) -> bool + Sync),
    summary: &mut IngestSummary,
    prepare: &(dyn Fn(&Input) -> P + Sync),
    f: &mut dyn FnMut(&Input, P, &mut Output, &mut IssueLog) -> std::io::Result<u64>,
) -> Result<(), IngestError> {
    if paths.is_empty() {
        return Ok(());
    }
    ctx.progress.source(name);
    let mut log = IssueLog::to_dir(name, &ctx.dir).map_err(io_err(&ctx.dir))?;
    let mut s = SourceSummary::default();
    {
        let out = &mut ctx.out;
        let progress = &mut *ctx.progress;
        let on_error = |e: InputError, log: &mut IssueLog| -> Result<(), IngestError> {
            let base = e.origin.rsplit(['/', '!']).next().unwrap_or("").to_string();
            let kind = match e.problem {
                InputProblem::NotRead if is_companion(&base) => return Ok(()),
                InputProblem::NotRead | InputProblem::LinkLoop => IssueKind::Skipped,
                InputProblem::Unreadable | InputProblem::TooLarge => IssueKind::Unreadable,
            };
            log.push(Issue {
                file: e.origin,
                line: None,
                record: String::new(),
                field: String::new(),
                kind,
                action: IssueAction::FileRejected,
                detail: e.message,
            })
            .map_err(|e| IngestError::Io(name.into(), e))
        };
        std::thread::scope(|scope| -> Result<(), IngestError> {
            // A few inputs in flight: bounded memory, and enough to keep both threads busy.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(Input, P), InputError>>(8);
            let tx_err = tx.clone();
            let reader = scope.spawn(move || -> Result<(), IngestError> {
                // A closed channel means this thread stopped on an error, reported there.
                let stopped = || IngestError::Io(name.into(), std::io::Error::other("stopped"));
                for_each(
                    paths,
                    accept,
                    &mut |e: InputError| tx_err.send(Err(e)).map_err(|_| stopped()),
                    &mut |input: Input| {
                        let p = prepare(&input);
                        tx.send(Ok((input, p))).map_err(|_| stopped())
                    },
                )
            });
            for msg in rx {
                match msg {
                    Ok((input, p)) => {
                        progress.input(&input.origin, input.bytes.len() as u64);
                        s.inputs += 1;
                        s.rows += f(&input, p, out, &mut log)
                            .map_err(|e| IngestError::Io(input.origin.clone(), e))?;
                    }
                    Err(e) => on_error(e, &mut log)?,
                }
            }
            reader
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })?;
    }
    for ((k, a), n) in log.counts() {
        s.issues.insert(format!("{}/{}", k.name(), a.name()), *n);
    }
    s.rejects_file = log
        .finish()
        .map_err(io_err(&ctx.dir))?
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .unwrap_or_default();
    summary.sources.insert(name.into(), s);
    Ok(())
}

/// Reads every source of `opts` into the canonical dataset at `opts.out` and writes
/// `ingest_summary.json` there. The dataset files are committed atomically at the end.
///
/// # Errors
/// [`IngestError`]; problems in records never stop the run (they are in the rejects and
/// the summary).
pub fn run(
    opts: &IngestOptions,
    key: &IdKey,
    resolver: &Resolver,
    progress: &mut dyn IngestProgress,
) -> Result<IngestSummary, IngestError> {
    check_inputs(opts)?;
    let dir = opts.out.clone();
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let out = Output::create(&dir).map_err(io_err(&dir))?;
    let mut ctx = Ctx {
        out,
        progress,
        dir: dir.clone(),
    };
    let mut summary = IngestSummary {
        format: 1,
        ..Default::default()
    };
    let any = |_: &str| true;
    let csv_like = |n: &str| {
        let n = n.to_ascii_lowercase();
        n.ends_with(".csv") || n.ends_with(".txt")
    };

    // 1. Register.
    let mut link = CareLink::default();
    let has_register = !opts.persons.is_empty();
    source(
        &mut ctx,
        "persons",
        &opts.persons,
        &csv_like,
        &mut summary,
        &mut |i, o, l| read_persons(i, key, o, &mut link, l),
    )?;
    // 2–3. Care.
    source(
        &mut ctx,
        "certifications",
        &opts.certifications,
        &csv_like,
        &mut summary,
        &mut |i, o, l| read_certifications(i, key, &link, o, l),
    )?;
    source(
        &mut ctx,
        "care_claims",
        &opts.care_claims,
        &any,
        &mut summary,
        &mut |i, o, l| read_care_claims(i, key, &link, o, l),
    )?;
    // 4. Receipts.
    let mut receipts = ReceiptIngest::new(key, resolver);
    let uke_like = |n: &str| {
        let n = n.to_ascii_lowercase();
        n.ends_with(".uke") || n.ends_with(".csv") || n.ends_with(".txt")
    };
    source_prepared(
        &mut ctx,
        "uke",
        &opts.uke,
        &uke_like,
        &mut summary,
        &ReceiptIngest::parse_file,
        &mut |i, parsed, o, l| {
            let before = o.counts().get("medical_claims").copied().unwrap_or(0);
            receipts.consume(i, parsed, o, l)?;
            Ok(o.counts().get("medical_claims").copied().unwrap_or(0) - before)
        },
    )?;
    // 5. Checkups.
    let mut exams = ExamIngest {
        key,
        seen: HashSet::new(),
        stats: CheckupStats::default(),
        persons: HashMap::new(),
    };
    source(
        &mut ctx,
        "kenshin",
        &opts.kenshin,
        &|n: &str| is_xml(n) && !is_companion(n),
        &mut summary,
        &mut |i, o, l| exams.file(i, o, l),
    )?;
    for (pid, (sex, birth, insurer, month)) in &exams.persons {
        let prefecture = insurer.get(2..4).unwrap_or("13");
        receipts.observe(pid, *sex, *birth, insurer, prefecture, *month);
    }
    summary.checkups = exams.stats;

    summary.persons = persons_provenance(opts, has_register, &receipts, &link, &mut ctx.out, &dir)?;
    summary.receipts = receipts.stats;
    write_summary(&dir, ctx.out, &mut summary)?;
    Ok(summary)
}

/// Checks that `opts` names at least one input and that every path exists, so that a
/// mistyped path fails the run before anything is written.
///
/// # Errors
/// [`IngestError::NoInputs`], or the [`InputError`] of the first path that cannot be read.
fn check_inputs(opts: &IngestOptions) -> Result<(), IngestError> {
    if opts.uke.is_empty()
        && opts.kenshin.is_empty()
        && opts.persons.is_empty()
        && opts.certifications.is_empty()
        && opts.care_claims.is_empty()
    {
        return Err(IngestError::NoInputs);
    }
    // Fail early on a mistyped path, before anything is written.
    for p in opts
        .uke
        .iter()
        .chain(&opts.kenshin)
        .chain(&opts.persons)
        .chain(&opts.certifications)
        .chain(&opts.care_claims)
    {
        super::inputs::expand(std::slice::from_ref(p))?;
    }
    Ok(())
}

/// Where the persons came from (module docs; docs/DECISIONS.md D54): the register when one
/// was given, counting the persons on receipts or checkups that are not in it; else, when
/// there are receipts or checkups, persons derived from them are written to `out` now;
/// else nothing (the default provenance).
///
/// # Errors
/// I/O errors writing the derived persons.
fn persons_provenance(
    opts: &IngestOptions,
    has_register: bool,
    receipts: &ReceiptIngest,
    link: &CareLink,
    out: &mut Output,
    dir: &Path,
) -> Result<PersonsProvenance, IngestError> {
    if has_register {
        let seen = receipts.person_ids();
        let not_in = seen.filter(|p| !link.is_registered(p)).count() as u64;
        Ok(PersonsProvenance {
            source: "register".into(),
            rows: out.counts().get("persons").copied().unwrap_or(0),
            left_out: 0,
            not_in_register: not_in,
            note: if not_in == 0 {
                "persons from the insured register; every person on a receipt or checkup is in it"
                    .into()
            } else {
                format!(
                    "persons from the insured register; {not_in} persons on receipts or checkups are not in it (their rows are kept; the rules count them as not insured)"
                )
            },
        })
    } else if !opts.uke.is_empty() || !opts.kenshin.is_empty() {
        let (rows, left) = receipts
            .derived_persons(&HashSet::new(), out)
            .map_err(io_err(dir))?;
        Ok(PersonsProvenance {
            source: "derived_from_receipts_and_checkups".into(),
            rows,
            left_out: left,
            not_in_register: 0,
            note: format!(
                "no insured register (--persons) given: {rows} persons derived from receipts and checkups with coverage UNKNOWN (coverage_start = first month seen, no end, municipality from the 後期 保険者番号 or else the prefecture); {left} without sex or birth date left out. Give --persons for coverage-based denominators."
            ),
        })
    } else {
        Ok(PersonsProvenance::default())
    }
}

/// Commits the dataset files of `out` in `dir`, records their row counts in
/// `summary.tables`, and writes `summary` as `ingest_summary.json` (atomically).
///
/// # Errors
/// I/O errors.
fn write_summary(dir: &Path, out: Output, summary: &mut IngestSummary) -> Result<(), IngestError> {
    summary.tables = out
        .finish()
        .map_err(io_err(dir))?
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let path = dir.join("ingest_summary.json");
    let mut f = AtomicFile::create(&path, Visibility::Private).map_err(io_err(dir))?;
    serde_json::to_writer_pretty(&mut f, &*summary)
        .map_err(|e| IngestError::Io(path.display().to_string(), e.into()))?;
    f.commit().map_err(io_err(dir))?;
    Ok(())
}

/// State of the checkup source.
struct ExamIngest<'a> {
    key: &'a IdKey,
    seen: HashSet<(PersonId, NaiveDate)>,
    stats: CheckupStats,
    /// Persons seen: sex, birth, insurer, first month.
    persons: HashMap<PersonId, (Option<Sex>, Option<NaiveDate>, String, NaiveDate)>,
}

/// An issue of the checkup source about `input` (no field: a document has none).
fn exam_issue(
    input: &Input,
    line: Option<u64>,
    record: &str,
    kind: IssueKind,
    action: IssueAction,
    detail: String,
) -> Issue {
    Issue {
        file: input.origin.clone(),
        line,
        record: record.into(),
        field: String::new(),
        kind,
        action,
        detail,
    }
}

impl ExamIngest<'_> {
    /// Reads one 健診結果 document into `checkups` (and `questionnaires` when any of
    /// 9N932–9N946 is answered); returns the checkups written (0 or 1).
    fn file(
        &mut self,
        input: &Input,
        out: &mut Output,
        log: &mut IssueLog,
    ) -> std::io::Result<u64> {
        let Some(text) = text_of(input, log)? else {
            return Ok(0);
        };
        let Some(exam) = self.parse_document(input, &text, log)? else {
            return Ok(0);
        };
        let Some(pid) = self.identify(input, &exam, log)? else {
            return Ok(0);
        };
        let month = exam.exam_date.with_day0(0).unwrap_or(exam.exam_date);
        let e = self.persons.entry(pid.clone()).or_insert((
            exam.sex,
            exam.birth_date,
            crate::pseudonym::normalise(&exam.insurer),
            month,
        ));
        e.0 = e.0.or(exam.sex);
        e.1 = e.1.or(exam.birth_date);
        e.3 = e.3.min(month);
        self.write(&exam, pid, out)?;
        Ok(1)
    }

    /// Parses the document with [`parse_exam`]. A document that is not XML, not a 健診結果
    /// document, or has no valid 健診実施年月日 is rejected (logged, `None`); values that
    /// failed their type are logged as nulled and counted.
    fn parse_document(
        &mut self,
        input: &Input,
        text: &str,
        log: &mut IssueLog,
    ) -> std::io::Result<Option<RawExam>> {
        let mut issues = Vec::new();
        let exam = match parse_exam(text, &mut issues) {
            Ok(e) => e,
            Err(DocError::NotXml(line, m)) => {
                log.push(exam_issue(
                    input,
                    Some(line),
                    "",
                    IssueKind::NotXml,
                    IssueAction::FileRejected,
                    format!("not well-formed XML: {m}"),
                ))?;
                return Ok(None);
            }
            Err(DocError::NotCheckup(m)) => {
                log.push(exam_issue(
                    input,
                    None,
                    "ClinicalDocument",
                    IssueKind::NotXml,
                    IssueAction::FileRejected,
                    format!("not a 健診結果 document: {m}"),
                ))?;
                return Ok(None);
            }
            Err(DocError::Invalid(line, m)) => {
                log.push(exam_issue(
                    input,
                    Some(line),
                    "ClinicalDocument",
                    IssueKind::InvalidDate,
                    IssueAction::FileRejected,
                    m,
                ))?;
                return Ok(None);
            }
        };
        self.stats.documents += 1;
        for i in issues {
            self.stats.values_left_empty += 1;
            log.push(exam_issue(
                input,
                Some(i.line),
                &i.record,
                IssueKind::InvalidValue,
                IssueAction::ValueNulled,
                i.detail,
            ))?;
        }
        Ok(Some(exam))
    }

    /// The person id of a document (pseudonymised 保険者番号, 記号 and 番号). Rejected
    /// (logged, `None`): no 被保険者証等番号, or a second checkup of the same person on
    /// the same date (counted as a duplicate exam).
    fn identify(
        &mut self,
        input: &Input,
        exam: &RawExam,
        log: &mut IssueLog,
    ) -> std::io::Result<Option<PersonId>> {
        if crate::pseudonym::normalise(&exam.number).is_empty() {
            log.push(exam_issue(input, None, "patientRole", IssueKind::InvalidValue, IssueAction::FileRejected, "no 被保険者証等番号 (patientRole/id 1.2.392.200119.6.205): the person cannot be identified".into()))?;
            return Ok(None);
        }
        let pid = self
            .key
            .person_id(&exam.insurer, &exam.symbol, &exam.number);
        if !self.seen.insert((pid.clone(), exam.exam_date)) {
            self.stats.duplicate_exams += 1;
            log.push(exam_issue(
                input,
                None,
                "ClinicalDocument",
                IssueKind::DuplicateRecord,
                IssueAction::FileRejected,
                format!(
                    "a checkup of the same person on {} was read before",
                    exam.exam_date
                ),
            ))?;
            return Ok(None);
        }
        Ok(Some(pid))
    }

    /// Writes the `checkups` row of a document and, when any question is answered, its
    /// `questionnaires` row (setting 1: at a checkup, on the exam date).
    fn write(&mut self, exam: &RawExam, pid: PersonId, out: &mut Output) -> std::io::Result<()> {
        let v = &exam.values;
        out.checkup(&Checkup {
            person_id: pid.clone(),
            exam_date: exam.exam_date,
            height_cm: v.height_cm,
            weight_kg: v.weight_kg,
            bmi: v.bmi,
            waist_cm: v.waist_cm,
            sbp: v.sbp,
            dbp: v.dbp,
            hba1c: v.hba1c,
            fasting_glucose: v.fasting_glucose,
            tg: v.tg,
            hdl: v.hdl,
            ldl: v.ldl,
            ast: v.ast,
            alt: v.alt,
            ggt: v.ggt,
            creatinine: v.creatinine,
            egfr: v.egfr,
            urine_protein: v.urine_protein,
            urine_glucose: v.urine_glucose,
            med_bp: v.med_bp,
            med_dm: v.med_dm,
            med_lipid: v.med_lipid,
        })?;
        self.stats.checkups += 1;
        let q = &v.questions;
        if q.iter().any(Option::is_some) {
            out.questionnaire(&Questionnaire {
                person_id: pid,
                answer_date: exam.exam_date,
                setting: QuestionnaireSetting::Checkup.code(),
                q01: q[0],
                q02: q[1],
                q03: q[2],
                q04: q[3],
                q05: q[4],
                q06: q[5],
                q07: q[6],
                q08: q[7],
                q09: q[8],
                q10: q[9],
                q11: q[10],
                q12: q[11],
                q13: q[12],
                q14: q[13],
                q15: q[14],
            })?;
            self.stats.questionnaires += 1;
        }
        Ok(())
    }
}

use chrono::Datelike as _;
