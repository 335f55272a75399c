//! Problems found while ingesting standard-format files, and the rejects files they go
//! to: one CSV per source (`rejects_uke.csv`, …) with file, line, record type, field,
//! kind, action and a reason. Raw records are not copied (they carry names and 被保険者番号);
//! a value is quoted only when it is not personal (a date, a code, a record type).
//!
//! The readers build the reasons, and a reason may quote the value that failed (`診療年月
//! "202413" is not a year-month`). In a damaged or shifted record that value can be a name
//! or an insurance number, and the first field of an unknown record can be anything. So
//! `IssueLog::push` redacts every issue (`Issue::redacted`) before it is written or kept
//! for the terminal:
//!
//! - the record type is kept when it looks like one (ASCII letters, digits, `_-.:`, with at
//!   least one letter: `RE`, `H1`, a 健診 item code); anything else becomes its shape,
//!   `<数字 8桁>` or `<文字列 4文字>`;
//! - a quoted value in the reason is replaced by its shape when the field is an
//!   identifier — by name (被保険者番号, 記号, 番号, 氏名, カナ, 生年月日, 住所, 電話,
//!   受給者番号, or the English column names) or by レセ電 position (RE 5 氏名, RE 7 生年月日,
//!   RE 37 カナ氏名, HO 3 記号, HO 4 番号, KO 3 受給者番号) — giving e.g. `<被保険者番号 8桁>`;
//!   in any other field when it has a character outside ASCII (names and addresses are
//!   written in kanji and kana, numbers in full-width digits) or a run of 7 or more digits
//!   (被保険者番号 and other personal numbers; 8-digit dates are shown by their shape too);
//! - outside quotes, a run of 7 or more digits is replaced by its shape unless it follows a
//!   code label (`医薬品コード 123456789`: a code is not personal).
//!
//! File, line, field, kind, action and the words of the reason are kept. A name written in
//! ASCII letters in a field that is not an identifier would not be recognised; the レセ電
//! and 健診 formats write names in kanji and kana. Every cell is also neutralised against
//! formula injection ([`ittai_dataset::atomic::neutralise_cell`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use ittai_dataset::atomic::{AtomicFile, Visibility, write_text_record};

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

impl Issue {
    /// The issue of a レセ電 parse problem in `file`.
    pub fn of_uke(file: impl Into<String>, i: crate::uke::read::ParseIssue) -> Issue {
        Issue {
            file: file.into(),
            line: i.line,
            record: i.record,
            field: i.field,
            kind: i.kind,
            action: i.action,
            detail: i.detail,
        }
    }

    /// The issue with every value that may identify a person replaced by its shape (see
    /// the module documentation): what [`IssueLog`] writes and shows.
    pub fn redacted(self) -> Issue {
        let label = identifier_label(&self.record, &self.field);
        let record = if self.record.is_empty() || looks_like_record_type(&self.record) {
            self.record
        } else {
            shape(None, &self.record)
        };
        let detail = redact_detail(&self.detail, label.as_deref());
        Issue {
            record,
            detail,
            ..self
        }
    }
}

/// Field names (CSV columns, in Japanese or English) whose values identify a person.
const IDENTIFIER_FIELDS: [&str; 15] = [
    "被保険者番号",
    "記号",
    "氏名",
    "カナ",
    "生年月日",
    "住所",
    "電話",
    "受給者番号",
    "insured_number",
    "symbol",
    "name",
    "kana",
    "birth",
    "address",
    "phone",
];

/// The name of the identifier held by `field` of `record`, if it holds one: by レセ電
/// position for RE, HO and KO records, otherwise by the field's name.
fn identifier_label(record: &str, field: &str) -> Option<String> {
    let by_position = match (record, field) {
        ("RE", "5") => Some("氏名"),
        ("RE", "7") => Some("生年月日"),
        ("RE", "37") => Some("カナ氏名"),
        ("HO", "3") => Some("記号"),
        ("HO", "4") => Some("被保険者番号"),
        ("KO", "3") => Some("受給者番号"),
        _ => None,
    };
    if let Some(l) = by_position {
        return Some(l.to_string());
    }
    if field == "番号" || IDENTIFIER_FIELDS.iter().any(|w| field.contains(w)) {
        return Some(field.to_string());
    }
    None
}

/// A digit, ASCII or full-width.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// The longest run of digits in `s`.
fn longest_digit_run(s: &str) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if is_digit(c) { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Shortest run of digits taken for a personal number (被保険者番号 of 後期 has 8, 受給者番号
/// 7, 介護被保険者番号 10).
const PERSONAL_DIGITS: usize = 7;

/// True for a value that may be personal in any field: a character outside ASCII, or a
/// run of [`PERSONAL_DIGITS`] digits.
fn looks_personal(v: &str) -> bool {
    !v.is_ascii() || longest_digit_run(v) >= PERSONAL_DIGITS
}

/// A record type as the readers report it: `RE`, `HO`, `H1`, a 健診 item code.
fn looks_like_record_type(r: &str) -> bool {
    r.len() <= 40
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
        && r.bytes().any(|b| b.is_ascii_alphabetic())
}

/// What stands in for a redacted value: its label (when the field is a known identifier)
/// and length, e.g. `<被保険者番号 8桁>`, `<数字 8桁>`, `<文字列 4文字>`.
fn shape(label: Option<&str>, value: &str) -> String {
    let n = value.chars().count();
    let digits = value.chars().all(is_digit);
    match (label, digits) {
        (Some(l), true) => format!("<{l} {n}桁>"),
        (Some(l), false) => format!("<{l} {n}文字>"),
        (None, true) => format!("<数字 {n}桁>"),
        (None, false) => format!("<文字列 {n}文字>"),
    }
}

/// The reason with its quoted values (Rust's `{:?}` form, `"…"` with `\` escapes) and
/// long digit runs redacted (see the module documentation).
fn redact_detail(detail: &str, label: Option<&str>) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(start) = rest.find('"') {
        out.push_str(&redact_bare(&rest[..start]));
        let body = &rest[start + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else {
            // An unbalanced quote: the rest is ordinary text.
            out.push('"');
            rest = body;
            break;
        };
        let value = &body[..end];
        if !value.is_empty() && (label.is_some() || looks_personal(value)) {
            out.push_str(&shape(label, value));
        } else {
            out.push('"');
            out.push_str(value);
            out.push('"');
        }
        rest = &body[end + 1..];
    }
    out.push_str(&redact_bare(rest));
    out
}

/// Text outside quotes with every run of [`PERSONAL_DIGITS`] or more digits replaced by its
/// shape, except a run that follows a code label (`…コード 1234567`).
fn redact_bare(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |out: &mut String, run: &mut String| {
        if run.chars().count() >= PERSONAL_DIGITS && !out.trim_end_matches(' ').ends_with("コード")
        {
            out.push_str(&shape(None, run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_digit(c) {
            run.push(c);
        } else {
            flush(&mut out, &mut run);
            out.push(c);
        }
    }
    flush(&mut out, &mut run);
    out
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

    /// Records an issue, redacted first (`Issue::redacted`, see the module
    /// documentation): what is written and kept never shows a name or an insurance number.
    ///
    /// # Errors
    /// I/O errors writing the rejects file.
    pub fn push(&mut self, issue: Issue) -> std::io::Result<()> {
        let issue = issue.redacted();
        *self.counts.entry((issue.kind, issue.action)).or_default() += 1;
        if let Some((w, _)) = &mut self.writer {
            write_text_record(
                w,
                [
                    issue.file.as_str(),
                    &issue.line.map(|l| l.to_string()).unwrap_or_default(),
                    &issue.record,
                    &issue.field,
                    issue.kind.name(),
                    issue.action.name(),
                    &issue.detail,
                ],
            )?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A レセ電 file with a name and a 被保険者番号 where they do not belong: a 合計点数
    /// that is a name (line 3), records whose first field is a number or a name (lines 4
    /// and 5), a 診療年月 in full-width digits (line 6), a 診療実日数 with an 8-digit run
    /// (line 9). The rejects keep line, record type, field, kind and reason but not one of
    /// the personal values, in either digit width.
    #[test]
    fn rejects_never_show_a_name_or_an_insured_number() {
        let text = "IR,2,13,1,1234567,,医院,202411,00\n\
                    RE,1,1318,202411,山田太郎,1,19440601,90\n\
                    HO,39312012,,12345678,1,山田太郎\n\
                    12345678,山田太郎\n\
                    山田太郎,１２３４５６７８\n\
                    RE,2,1318,１２３４５６７８,山田太郎,1,19440601,90\n\
                    HO,39312012,,１２３４５６７８,1,100\n\
                    RE,3,1318,202411,山田太郎,1,19440601,90\n\
                    HO,39312012,,12345678,12345678X,100\n\
                    GO\n";
        let mut issues = Vec::new();
        let mut receipts = 0;
        crate::uke::read::parse(text, &mut |i| issues.push(i), &mut |_, _| receipts += 1);
        assert_eq!(receipts, 2, "receipts 1 and 3 are read; 2 is rejected");
        let dir = tempfile::tempdir().unwrap();
        let mut log = IssueLog::to_dir("uke", dir.path()).unwrap();
        for i in issues {
            log.push(Issue::of_uke("x.UKE", i)).unwrap();
        }
        let terminal: Vec<String> = log.first().iter().map(|i| i.to_string()).collect();
        let path = log.finish().unwrap().unwrap();
        let written = std::fs::read_to_string(path).unwrap();
        for t in terminal.iter().chain([&written]) {
            for personal in [
                "12345678",
                "１２３４５６７８",
                "山田太郎",
                "山田",
                "19440601",
            ] {
                assert!(!t.contains(personal), "{personal} in {t}");
            }
        }
        assert_eq!(
            written,
            "\u{feff}file,line,record,field,kind,action,detail\n\
             x.UKE,3,HO,6,invalid_value,value_nulled,合計点数 <文字列 4文字> is not a number\n\
             x.UKE,4,<数字 8桁>,1,unknown_record_type,record_rejected,\"unknown record type, skipped; the receipt is kept\"\n\
             x.UKE,5,<文字列 4文字>,1,unknown_record_type,record_rejected,\"unknown record type, skipped; the receipt is kept\"\n\
             x.UKE,6,RE,4,invalid_date,receipt_rejected,診療年月 <数字 8桁> is not a year-month (YYYYMM or 和暦 GYYMM)\n\
             x.UKE,9,HO,5,invalid_value,value_nulled,診療実日数 <文字列 9文字> is not a number\n"
        );
    }

    fn issue(record: &str, field: &str, detail: &str) -> Issue {
        Issue {
            file: "f".into(),
            line: Some(2),
            record: record.into(),
            field: field.into(),
            kind: IssueKind::InvalidDate,
            action: IssueAction::RecordRejected,
            detail: detail.into(),
        }
    }

    #[test]
    fn identifier_fields_are_redacted_by_name_and_position_other_values_kept() {
        // By column name: a birth date in the register, whatever it looks like.
        let i = issue("", "生年月日", "\"1944/6/1x\" is not a date").redacted();
        assert_eq!(i.detail, "<生年月日 9文字> is not a date");
        // By レセ電 position: HO field 4 is the 番号.
        let i = issue("HO", "4", "番号 \"12a\" is odd").redacted();
        assert_eq!(i.detail, "番号 <被保険者番号 3文字> is odd");
        // Not personal: short ASCII values, codes after their label, record types.
        let i = issue("SY", "2", "傷病名コード \"12345\" is not 7 digits").redacted();
        assert_eq!(i.detail, "傷病名コード \"12345\" is not 7 digits");
        assert_eq!(i.record, "SY");
        let i = issue(
            "IY",
            "4",
            "医薬品コード 620000001 is in neither the current nor the 2019 drug master",
        )
        .redacted();
        assert_eq!(
            i.detail,
            "医薬品コード 620000001 is in neither the current nor the 2019 drug master"
        );
        let i = issue("9N001000000000011", "", "answer code \"9\" is not 1–2").redacted();
        assert_eq!(i.record, "9N001000000000011");
        assert_eq!(i.detail, "answer code \"9\" is not 1–2");
        // An unquoted long number not after a code label is redacted.
        let i = issue("H1", "2", "明細番号 1234567890 seen before").redacted();
        assert_eq!(i.detail, "明細番号 <数字 10桁> seen before");
    }

    /// Cells of the rejects file are neutralised against formula injection.
    #[test]
    fn rejects_cells_are_neutralised() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = IssueLog::to_dir("persons", dir.path()).unwrap();
        log.push(Issue {
            file: "=cmd.csv".into(),
            line: Some(2),
            record: String::new(),
            field: "性別".into(),
            kind: IssueKind::InvalidValue,
            action: IssueAction::RecordRejected,
            detail: "-1 is not 1 or 2".into(),
        })
        .unwrap();
        let path = log.finish().unwrap().unwrap();
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            "\u{feff}file,line,record,field,kind,action,detail\n\
             '=cmd.csv,2,,性別,invalid_value,record_rejected,'-1 is not 1 or 2\n"
        );
    }
}
