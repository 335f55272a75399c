//! Violations of the data contract and the rejects file they are written to.
//!
//! A bad record is never dropped silently (docs/reference/privacy.md): every rejected row and every nulled
//! value becomes one line of a rejects CSV (UTF-8 with BOM so that Japanese Excel opens
//! it), and the run summary counts them by kind.
//!
//! The rejects of the canonical dataset show the offending value and record as read: the
//! dataset is already pseudonymised (`person_id` is a keyed hash, names and insurance
//! numbers are not in it), and what it does hold (birth dates, codes) is what the user
//! must see to correct a row. The file is owner-only, and every cell goes through
//! [`crate::atomic::neutralise_cell`] (formula injection). The rejects of `ittai ingest`,
//! which reads raw files with names and 被保険者番号, are another matter: they never quote
//! an identifier (`ittai_ingest`'s `issues` module).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::{AtomicFile, Visibility};

/// Where in a file a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line of a text file (the header is line 1 of a CSV).
    Line(u64),
    /// A 1-based data row of a Parquet file.
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => write!(f, "file"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// Kind of contract violation; the snake_case name appears in summaries and rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// A required column is absent (whole file).
    MissingColumn,
    /// A Parquet column has a type that cannot hold the contract type (whole file).
    WrongType,
    /// The file cannot be read: I/O error, not Parquet, not UTF-8 or Shift_JIS text.
    Unreadable,
    /// Two files for one table (`x.csv` and `x.parquet`).
    AmbiguousTable,
    /// A CSV record has a different number of fields than the header.
    BadRecord,
    /// A value does not parse as the column's type.
    NotParseable,
    /// A required value is empty.
    NullRequired,
    /// A code outside its domain (sex 3, claim kind 7, bad check digit …).
    BadCode,
    /// A measurement outside its plausible range (BMI 400 …).
    OutOfRange,
    /// A date before 1900 or after the data end.
    ImplausibleDate,
    /// A service month that is not the first day of a month.
    NotMonthStart,
    /// An interval whose end precedes its start.
    BadInterval,
    /// A claim id seen before in medical_claims.
    DuplicateClaimId,
    /// A claim line whose claim id is not in medical_claims.
    UnknownClaim,
    /// A claim line whose person or service month differs from its claim's.
    ClaimMismatch,
    /// A person id not in persons.
    UnknownPerson,
    /// A coverage spell overlapping another spell of the same person.
    OverlappingCoverage,
    /// A spell whose sex or birth date differs from the person's first spell.
    InconsistentPerson,
    /// A support contact (`interventions`) with the same person, programme, approach and
    /// contact date as an earlier row.
    DuplicateContact,
}

impl ViolationKind {
    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::MissingColumn => "missing_column",
            Self::WrongType => "wrong_type",
            Self::Unreadable => "unreadable",
            Self::AmbiguousTable => "ambiguous_table",
            Self::BadRecord => "bad_record",
            Self::NotParseable => "not_parseable",
            Self::NullRequired => "null_required",
            Self::BadCode => "bad_code",
            Self::OutOfRange => "out_of_range",
            Self::ImplausibleDate => "implausible_date",
            Self::NotMonthStart => "not_month_start",
            Self::BadInterval => "bad_interval",
            Self::DuplicateClaimId => "duplicate_claim_id",
            Self::UnknownClaim => "unknown_claim",
            Self::ClaimMismatch => "claim_mismatch",
            Self::UnknownPerson => "unknown_person",
            Self::OverlappingCoverage => "overlapping_coverage",
            Self::InconsistentPerson => "inconsistent_person",
            Self::DuplicateContact => "duplicate_contact",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was done about a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The file was not read.
    FileRejected,
    /// The row is left out of the clean data.
    RowRejected,
    /// The value was set to null; the row is kept.
    ValueNulled,
}

impl Action {
    /// snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Action::FileRejected => "file_rejected",
            Action::RowRejected => "row_rejected",
            Action::ValueNulled => "value_nulled",
        }
    }
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Table (file stem).
    pub table: String,
    /// File as given.
    pub file: PathBuf,
    /// Line or row.
    pub location: Location,
    /// Column, when the problem is in one.
    pub column: Option<String>,
    /// Kind.
    pub kind: ViolationKind,
    /// Consequence.
    pub action: Action,
    /// The offending value as text (may be empty).
    pub value: String,
    /// What was expected, in words.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.location)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {} ({})", self.kind, self.detail)?;
        if !self.value.is_empty() {
            write!(f, "; found {:?}", self.value)?;
        }
        Ok(())
    }
}

/// Receives violations; keeps counts and the first few for display, and streams all of
/// them (with the offending record) to a rejects CSV when one is open.
pub struct RejectSink {
    file: Option<(csv::Writer<AtomicFile>, PathBuf)>,
    counts: BTreeMap<(String, ViolationKind, &'static str), u64>,
    first: Vec<Violation>,
    kinds_seen: std::collections::HashSet<(String, ViolationKind)>,
    keep_first: usize,
    total: u64,
}

impl fmt::Debug for RejectSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RejectSink")
            .field("total", &self.total)
            .finish()
    }
}

/// Header of the rejects CSV.
pub const REJECTS_HEADER: [&str; 9] = [
    "table", "file", "location", "column", "kind", "action", "value", "detail", "record",
];

impl RejectSink {
    /// A sink that only counts (and keeps the first `keep_first` violations).
    pub fn counting(keep_first: usize) -> Self {
        Self {
            file: None,
            counts: BTreeMap::new(),
            first: Vec::new(),
            kinds_seen: Default::default(),
            keep_first,
            total: 0,
        }
    }

    /// A sink that also writes every violation to `path` (owner-only: rejects contain
    /// personal records).
    ///
    /// # Errors
    /// I/O errors creating the file.
    pub fn to_file(path: &Path, keep_first: usize) -> std::io::Result<Self> {
        let w = crate::atomic::bom_csv(path, Visibility::Private, &REJECTS_HEADER)?;
        let mut s = Self::counting(keep_first);
        s.file = Some((w, path.to_path_buf()));
        Ok(s)
    }

    /// Records a violation; `record` is the offending record rendered as text.
    ///
    /// # Errors
    /// I/O errors writing the rejects file.
    pub fn push(&mut self, v: Violation, record: &str) -> std::io::Result<()> {
        *self
            .counts
            .entry((v.table.clone(), v.kind, v.action.name()))
            .or_default() += 1;
        self.total += 1;
        if let Some((w, _)) = &mut self.file {
            // Every cell is text from the input: neutralised against formula injection.
            crate::atomic::write_text_record(
                w,
                [
                    v.table.as_str(),
                    &v.file.display().to_string(),
                    &v.location.to_string(),
                    v.column.as_deref().unwrap_or(""),
                    v.kind.name(),
                    v.action.name(),
                    &v.value,
                    &v.detail,
                    record,
                ],
            )?;
        }
        // Keep the first violations, and always the first of each (table, kind), so that
        // one flooding kind does not hide the others.
        let new_kind = self.kinds_seen.insert((v.table.clone(), v.kind));
        if self.first.len() < self.keep_first || (new_kind && self.kinds_seen.len() <= 100) {
            self.first.push(v);
        }
        Ok(())
    }

    /// Total violations recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Counts by (table, kind, action).
    pub fn counts(&self) -> &BTreeMap<(String, ViolationKind, &'static str), u64> {
        &self.counts
    }

    /// The first violations in the order seen, plus the first of every (table, kind).
    pub fn first(&self) -> &[Violation] {
        &self.first
    }

    /// Path of the rejects file, if one is written.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(_, p)| p.as_path())
    }

    /// Closes the rejects file and moves it into place.
    ///
    /// # Errors
    /// I/O errors flushing or renaming.
    pub fn finish(self) -> std::io::Result<Option<PathBuf>> {
        match self.file {
            Some((w, p)) => {
                crate::atomic::commit_csv(w)?;
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(value: &str) -> Violation {
        Violation {
            table: "checkups".into(),
            file: PathBuf::from("checkups.csv"),
            location: Location::Line(2),
            column: Some("egfr".into()),
            kind: ViolationKind::OutOfRange,
            action: Action::ValueNulled,
            value: value.into(),
            detail: "expected 1–200".into(),
        }
    }

    /// Values and records from the input are neutralised against formula injection; the
    /// columns ittai writes itself are unchanged.
    #[test]
    fn rejects_file_neutralises_formulas() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rejects.csv");
        let mut sink = RejectSink::to_file(&p, 10).unwrap();
        sink.push(violation("-5"), "=HYPERLINK(\"http://x\"),-5")
            .unwrap();
        sink.push(violation("@x"), "p1,+1").unwrap();
        sink.push(violation("a=b"), "p1,a=b").unwrap();
        sink.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "\u{feff}table,file,location,column,kind,action,value,detail,record\n\
             checkups,checkups.csv,line 2,egfr,out_of_range,value_nulled,'-5,expected 1–200,\"'=HYPERLINK(\"\"http://x\"\"),-5\"\n\
             checkups,checkups.csv,line 2,egfr,out_of_range,value_nulled,'@x,expected 1–200,\"p1,+1\"\n\
             checkups,checkups.csv,line 2,egfr,out_of_range,value_nulled,a=b,expected 1–200,\"p1,a=b\"\n"
        );
    }
}
