//! Problems found while ingesting standard-format files, and the rejects files they go
//! to: one CSV per source (`rejects_uke.csv`, …) with file, line, record type, field,
//! kind, action and a reason. Raw records are not copied (they carry names and 被保険者番号);
//! a value is quoted only when it is not personal (a date, a code, a record type).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use ittai_dataset::atomic::{AtomicFile, Visibility};

/// The kind of a problem; the snake_case name appears in rejects and the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The file cannot be read (I/O, not a zip).
    Unreadable,
    /// Neither UTF-8 nor Shift_JIS (CP932) text.
    WrongEncoding,
    /// The file ends inside a receipt or lacks its closing record.
    Truncated,
    /// A record with too few fields or a malformed field list.
    BadRecord,
    /// A record type the reader does not know.
    UnknownRecordType,
    /// A record that must follow another (a line before any RE, a D1 without its H1).
    OrphanRecord,
    /// A date or year-month that does not exist (month 13) or has the wrong form.
    InvalidDate,
    /// A value outside its domain (a receipt type, a sex code, a number that is not one).
    InvalidValue,
    /// The same receipt (institution, 請求年月, receipt number, person) seen before.
    DuplicateReceipt,
    /// The same record seen before (register row, certification, checkup).
    DuplicateRecord,
    /// Not an XML document, or not a 健診結果 document.
    NotXml,
    /// A file or archive member that this source does not read (skipped).
    Skipped,
    /// A 被保険者番号 without a person (care data whose 介護 numbers are not in the register).
    UnlinkedPerson,
    /// A code not in the masters (the line is kept; the code stays unresolved).
    UnresolvedCode,
}

impl IssueKind {
    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::WrongEncoding => "wrong_encoding",
            Self::Truncated => "truncated",
            Self::BadRecord => "bad_record",
            Self::UnknownRecordType => "unknown_record_type",
            Self::OrphanRecord => "orphan_record",
            Self::InvalidDate => "invalid_date",
            Self::InvalidValue => "invalid_value",
            Self::DuplicateReceipt => "duplicate_receipt",
            Self::DuplicateRecord => "duplicate_record",
            Self::NotXml => "not_xml",
            Self::Skipped => "skipped",
            Self::UnlinkedPerson => "unlinked_person",
            Self::UnresolvedCode => "unresolved_code",
        }
    }
}

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueAction {
    /// The whole file or member was not read.
    FileRejected,
    /// The receipt (RE and all its records) was left out.
    ReceiptRejected,
    /// The one record was left out; the rest of its receipt or document is kept.
    RecordRejected,
    /// The value was left empty; the record is kept.
    ValueNulled,
    /// Nothing left out (a warning).
    Kept,
}

impl IssueAction {
    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::FileRejected => "file_rejected",
            Self::ReceiptRejected => "receipt_rejected",
            Self::RecordRejected => "record_rejected",
            Self::ValueNulled => "value_nulled",
            Self::Kept => "kept",
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// File or `archive.zip!member`.
    pub file: String,
    /// 1-based line (text formats) or element position; `None` for the whole file.
    pub line: Option<u64>,
    /// Record type (`RE`, `SY`, `H1`, an XML element), when known.
    pub record: String,
    /// 1-based field number or field name, when the problem is in one.
    pub field: String,
    /// Kind.
    pub kind: IssueKind,
    /// Consequence.
    pub action: IssueAction,
    /// The reason in words (never a name or an insured number).
    pub detail: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.record.is_empty() {
            write!(f, " {}", self.record)?;
        }
        if !self.field.is_empty() {
            write!(f, " field {}", self.field)?;
        }
        write!(
            f,
            ": {} — {} ({})",
            self.kind.name(),
            self.detail,
            self.action.name()
        )
    }
}

/// Header of a rejects file.
pub const ISSUE_HEADER: [&str; 7] = [
    "file", "line", "record", "field", "kind", "action", "detail",
];

/// Collects the issues of one source: counts by kind and action, the first few for the
/// terminal, and every one in the source's rejects file (owner-only).
pub struct IssueLog {
    source: &'static str,
    writer: Option<(csv::Writer<AtomicFile>, PathBuf)>,
    counts: BTreeMap<(IssueKind, IssueAction), u64>,
    first: Vec<Issue>,
}

impl std::fmt::Debug for IssueLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueLog")
            .field("source", &self.source)
            .field("counts", &self.counts)
            .finish()
    }
}

/// How many issues per source are kept for the terminal.
const KEEP: usize = 20;

impl IssueLog {
    /// A log that only counts (tests, dry runs).
    pub fn counting(source: &'static str) -> Self {
        IssueLog {
            source,
            writer: None,
            counts: BTreeMap::new(),
            first: Vec::new(),
        }
    }

    /// A log writing `dir/rejects_<source>.csv`.
    ///
    /// # Errors
    /// I/O errors creating the file.
    pub fn to_dir(source: &'static str, dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(format!("rejects_{source}.csv"));
        let w = ittai_dataset::atomic::bom_csv(&path, Visibility::Private, &ISSUE_HEADER)?;
        Ok(IssueLog {
            writer: Some((w, path)),
            ..Self::counting(source)
        })
    }

    /// Source name (`uke`, `kenshin`, …).
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Records an issue.
    ///
    /// # Errors
    /// I/O errors writing the rejects file.
    pub fn push(&mut self, issue: Issue) -> std::io::Result<()> {
        *self.counts.entry((issue.kind, issue.action)).or_default() += 1;
        if let Some((w, _)) = &mut self.writer {
            w.write_record([
                issue.file.as_str(),
                &issue.line.map(|l| l.to_string()).unwrap_or_default(),
                &issue.record,
                &issue.field,
                issue.kind.name(),
                issue.action.name(),
                &issue.detail,
            ])
            .map_err(std::io::Error::other)?;
        }
        if self.first.len() < KEEP {
            self.first.push(issue);
        }
        Ok(())
    }

    /// Counts by (kind, action).
    pub fn counts(&self) -> &BTreeMap<(IssueKind, IssueAction), u64> {
        &self.counts
    }

    /// Issues of `kind`.
    pub fn count(&self, kind: IssueKind) -> u64 {
        self.counts
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum()
    }

    /// Total issues.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The first issues, for the terminal.
    pub fn first(&self) -> &[Issue] {
        &self.first
    }

    /// Closes and moves the rejects file into place; returns its path.
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(self) -> std::io::Result<Option<PathBuf>> {
        match self.writer {
            Some((w, p)) => {
                ittai_dataset::atomic::commit_csv(w)?;
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }
}
