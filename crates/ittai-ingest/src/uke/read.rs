//! Parsing UKE files into receipts. Pure parsing: no masters, no pseudonymisation — the
//! caller receives each receipt with its raw insurance numbers and must pseudonymise them
//! at once (`ingest::receipts` does). Problems are reported through a callback with the
//! line; a bad record never stops the file.
//!
//! Rules (docs/INGEST.md, positions 1-based as in the spec):
//! - the header (IR, UK, YK) gives the institution code (都道府県 2 + 点数表 1 + 医療機関
//!   コード 7) and 請求年月; a file without one is rejected;
//! - a receipt runs from RE to the next RE or GO; a receipt whose RE is unreadable (bad
//!   レセプト種別 or 診療年月) is rejected with all its records;
//! - an empty 診療識別 on SI, IY, TO, CO (and 歯科 SS) lines is inherited from the previous
//!   such line of the receipt (CO lines count);
//! - 臓器提供者 blocks (TI, TR, TS and what follows them) are skipped: they are another
//!   person's care billed on the recipient's receipt;
//! - a file that ends without GO is truncated: its last receipt may be incomplete and is
//!   rejected, the others are kept;
//! - unknown record types are reported and skipped; the receipt is kept.

use chrono::NaiveDate;
use ittai_model::{ClaimKind, Sex};

use super::{Schedule, claim_kind, parse_date, parse_month, schedule_of};
use crate::issues::{IssueAction, IssueKind};

/// The file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// 点数表 of the file.
    pub schedule: Schedule,
    /// 10-digit institution code: 都道府県 (2) + 点数表 (1) + 医療機関コード (7).
    pub institution_code: String,
    /// 請求年月 (first day).
    pub claim_month: NaiveDate,
    /// Dates are 和暦 (the older layout).
    pub wareki: bool,
}

/// The raw insurance identity of a receipt (never stored: pseudonymise it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawIdentity {
    /// 保険者番号 (HO field 2), or the 公費負担者番号 of the first KO when there is no HO.
    pub insurer: String,
    /// 被保険者証の記号 (HO field 3).
    pub symbol: String,
    /// 被保険者証の番号 (HO field 4), or the 受給者番号 (KO field 3).
    pub number: String,
    /// 氏名 (RE field 5), used only when the number is blank (decision D52).
    pub name: String,
}

/// One SY (医科) or HS (歯科) line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDiagnosis {
    /// Line in the file.
    pub line: u64,
    /// 7-digit 傷病名コード.
    pub code: String,
    /// 診療開始日.
    pub start_date: Option<NaiveDate>,
    /// 転帰区分 1–4.
    pub outcome: Option<u8>,
    /// 修飾語 8002 「の疑い」 present.
    pub suspected: bool,
    /// 主傷病 (SY field 7, 別表19 主傷病コード): `Some(true)` for 01 （主）, `Some(false)` when
    /// the field is empty — the spec records 01 for a main diagnosis and omits the field
    /// otherwise, so empty means "not main"; `None` when the record stops before field 7,
    /// holds another value, or is an HS (歯科) record, whose layout as ittai reads it has
    /// no such field.
    pub main: Option<bool>,
}

/// One drug line (IY).
#[derive(Debug, Clone, PartialEq)]
pub struct RawDrug {
    /// Line in the file.
    pub line: u64,
    /// 9-digit 医薬品コード.
    pub code: String,
    /// Effective 診療識別 (医科・歯科) after inheritance.
    pub category: Option<String>,
    /// 剤形コード of the 処方 (調剤 SH record).
    pub dosage_form: Option<String>,
    /// 使用量.
    pub quantity: Option<f64>,
    /// 回数 (医科: days for 内服, doses for 屯服) or 調剤数量 (調剤).
    pub count: Option<i32>,
}

/// One receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReceipt {
    /// Line of its RE record.
    pub line: u64,
    /// レセプト番号 (RE field 2).
    pub number: String,
    /// レセプト種別 (RE field 3).
    pub receipt_type: String,
    /// Canonical claim kind.
    pub kind: ClaimKind,
    /// 診療年月 (調剤年月).
    pub service_month: NaiveDate,
    /// 男女区分.
    pub sex: Option<Sex>,
    /// 生年月日.
    pub birth_date: Option<NaiveDate>,
    /// Insurance identity (raw).
    pub identity: RawIdentity,
    /// 合計点数 of the main payer (HO, or the first KO).
    pub points: Option<i64>,
    /// 診療実日数 of the main payer.
    pub days: Option<i32>,
    /// Diagnoses.
    pub diagnoses: Vec<RawDiagnosis>,
    /// Drugs.
    pub drugs: Vec<RawDrug>,
}

/// A problem found while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIssue {
    /// 1-based line; `None` for the whole file.
    pub line: Option<u64>,
    /// Record type.
    pub record: String,
    /// Field number (1-based) as text, or empty.
    pub field: String,
    /// Kind.
    pub kind: IssueKind,
    /// Consequence.
    pub action: IssueAction,
    /// Reason (no personal values).
    pub detail: String,
}

/// Counts of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Lines read.
    pub lines: u64,
    /// Records by type (known and unknown).
    pub records: std::collections::BTreeMap<String, u64>,
    /// Receipts passed on.
    pub receipts: u64,
}

struct Builder {
    receipt: RawReceipt,
    category: Option<String>,
    dental_start: Option<NaiveDate>,
    dental_outcome: Option<u8>,
    dpc: bool,
    in_donor_block: bool,
    /// 調剤: 処方番号 → 剤形コード, and 処方番号 → 調剤数量.
    rx_form: Vec<(String, String)>,
    rx_count: Vec<(String, i32)>,
}

fn field<'a>(f: &[&'a str], pos: usize) -> &'a str {
    f.get(pos - 1).copied().unwrap_or("").trim()
}

fn issue(
    line: u64,
    record: &str,
    field: &str,
    kind: IssueKind,
    action: IssueAction,
    detail: impl Into<String>,
) -> ParseIssue {
    ParseIssue {
        line: Some(line),
        record: record.into(),
        field: field.into(),
        kind,
        action,
        detail: detail.into(),
    }
}

/// Known record types that carry nothing ittai uses.
const IGNORED: &[&str] = &[
    "SN", "JD", "MF", "GR", "SI", "TO", "SJ", "KH", "NI", "SS", "SB", "KK", "SK", "GA", "HH", "GT",
    "CD", "TK", "KI", "IR",
];
/// DPC-only records: their presence makes an inpatient receipt a DPC receipt.
const DPC_RECORDS: &[&str] = &["BU", "HH", "GT", "CD", "GA", "SK", "KK", "SB"];

/// Minimum field counts of the records whose fields ittai reads.
fn min_fields(rt: &str, schedule: Schedule) -> usize {
    match (rt, schedule) {
        ("RE", _) => 7,
        ("HO", _) => 6,
        ("KO", _) => 6,
        ("SY", _) => 5,
        ("HS", _) => 6,
        ("IY", Schedule::Pharmacy) => 4,
        ("IY", _) => 7,
        ("SH", _) => 3,
        ("CZ", _) => 4,
        _ => 1,
    }
}

fn parse_header(f: &[&str], line: u64) -> Result<FileHeader, ParseIssue> {
    let rt = field(f, 1);
    let schedule = match rt {
        "IR" => Schedule::Medical,
        "UK" => Schedule::Dental,
        "YK" => Schedule::Pharmacy,
        _ => {
            // The prefixed layout of 返戻・保険者提供 data puts three fields before the ID.
            let detail = if f
                .get(3)
                .is_some_and(|x| x.len() == 2 && x.bytes().all(|b| b.is_ascii_uppercase()))
            {
                "the first record has three fields before its record type: this is the 返戻・保険者提供 layout, which ittai does not read"
            } else {
                "the first record is not a file header (IR 医科, UK 歯科 or YK 調剤)"
            };
            return Err(issue(
                line,
                rt,
                "1",
                IssueKind::BadRecord,
                IssueAction::FileRejected,
                detail,
            ));
        }
    };
    let (pref, table, code, month) = (field(f, 3), field(f, 4), field(f, 5), field(f, 8));
    if pref.len() != 2
        || table.len() != 1
        || code.is_empty()
        || code.len() > 7
        || !format!("{pref}{table}{code}")
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Err(issue(
            line,
            rt,
            "3-5",
            IssueKind::BadRecord,
            IssueAction::FileRejected,
            "都道府県 (2), 点数表 (1) and 医療機関コード (7) must be digits",
        ));
    }
    let Some(claim_month) = parse_month(month) else {
        return Err(issue(
            line,
            rt,
            "8",
            IssueKind::InvalidDate,
            IssueAction::FileRejected,
            format!("請求年月 {month:?} is not YYYYMM or 和暦 GYYMM"),
        ));
    };
    Ok(FileHeader {
        schedule,
        institution_code: format!("{pref}{table}{code:0>7}"),
        claim_month,
        wareki: month.len() == 5,
    })
}

/// Parses the text of one UKE file. `on_receipt` receives each complete receipt;
/// `on_issue` each problem. Returns the header (if readable) and counts.
pub fn parse(
    text: &str,
    on_issue: &mut dyn FnMut(ParseIssue),
    on_receipt: &mut dyn FnMut(&FileHeader, RawReceipt),
) -> (Option<FileHeader>, FileCounts) {
    let mut counts = FileCounts::default();
    let mut header: Option<FileHeader> = None;
    let mut current: Option<Builder> = None;
    let mut skipping = false; // inside a rejected receipt
    let mut ended = false;
    let text = text.trim_end_matches('\u{1a}');
    // The fields of a line, in one buffer reused for every line.
    let mut fields: Vec<&str> = Vec::with_capacity(64);
    for (i, raw) in text.split('\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        counts.lines += 1;
        fields.clear();
        fields.extend(raw.split(','));
        let f: &[&str] = &fields;
        let rt = field(f, 1);
        count_record(&mut counts, rt);
        let Some(h) = &header else {
            match parse_header(f, line) {
                Ok(h) => header = Some(h),
                Err(e) => {
                    on_issue(e);
                    return (None, counts);
                }
            }
            continue;
        };
        if ended {
            on_issue(issue(
                line,
                rt,
                "",
                IssueKind::OrphanRecord,
                IssueAction::RecordRejected,
                "record after the GO trailer",
            ));
            continue;
        }
        let schedule = h.schedule;
        if f.len() < min_fields(rt, schedule) {
            short_record(
                f,
                rt,
                line,
                h,
                &mut current,
                &mut skipping,
                on_issue,
                on_receipt,
                &mut counts,
            );
            continue;
        }
        match rt {
            "RE" => {
                if let Some(b) = current.take() {
                    finish(b, h, on_receipt, &mut counts);
                }
                skipping = false;
                match start_receipt(f, line, schedule, on_issue) {
                    Some(b) => current = Some(b),
                    None => skipping = true,
                }
            }
            "GO" => {
                if let Some(b) = current.take() {
                    finish(b, h, on_receipt, &mut counts);
                }
                ended = true;
            }
            _ if skipping => {}
            "UK" | "YK" => {}
            _ => in_receipt(current.as_mut(), rt, f, line, schedule, on_issue),
        }
    }
    end_of_file(
        header.is_some(),
        ended,
        current.as_ref().map(|b| b.receipt.line),
        on_issue,
    );
    (header, counts)
}

/// Counts one record under its type in `counts.records`; anything that is not two
/// upper-case ASCII letters counts as `??`.
fn count_record(counts: &mut FileCounts, rt: &str) {
    let rt = if rt.len() == 2 && rt.bytes().all(|b| b.is_ascii_uppercase()) {
        rt
    } else {
        "??"
    };
    // Looked up before inserting: a new key is allocated once, not once per line.
    match counts.records.get_mut(rt) {
        Some(n) => *n += 1,
        None => {
            counts.records.insert(rt.to_string(), 1);
        }
    }
}

/// A record with fewer fields than [`min_fields`] asks for: reported and skipped. A short
/// RE ends the receipt before it (passed on) and starts a rejected one; a short HO or KO
/// rejects the receipt it belongs to.
fn short_record(
    f: &[&str],
    rt: &str,
    line: u64,
    h: &FileHeader,
    current: &mut Option<Builder>,
    skipping: &mut bool,
    on_issue: &mut dyn FnMut(ParseIssue),
    on_receipt: &mut dyn FnMut(&FileHeader, RawReceipt),
    counts: &mut FileCounts,
) {
    let schedule = h.schedule;
    // RE, HO and KO carry the patient and the payer: without them the receipt
    // cannot be attributed, so it is left out whole.
    let whole = matches!(rt, "RE" | "HO" | "KO");
    let action = if whole {
        IssueAction::ReceiptRejected
    } else {
        IssueAction::RecordRejected
    };
    on_issue(issue(
        line,
        rt,
        "",
        IssueKind::BadRecord,
        action,
        format!(
            "{} fields; a {rt} record needs at least {}",
            f.len(),
            min_fields(rt, schedule)
        ),
    ));
    if rt == "RE" {
        if let Some(b) = current.take() {
            finish(b, h, on_receipt, counts);
        }
        *skipping = true;
    } else if whole && current.take().is_some() {
        *skipping = true;
    }
}

/// A record other than RE, GO, UK or YK outside a rejected receipt: read into the open
/// receipt by [`record`]; with no receipt open, a known record type is an orphan and an
/// unknown one is reported as such (歯科 files repeat IR before each receipt: ignored).
fn in_receipt(
    current: Option<&mut Builder>,
    rt: &str,
    f: &[&str],
    line: u64,
    schedule: Schedule,
    on_issue: &mut dyn FnMut(ParseIssue),
) {
    match current {
        None if rt == "IR" => {} // 歯科 files repeat IR before each receipt
        None if IGNORED.contains(&rt)
            || matches!(
                rt,
                "HO" | "KO" | "SY" | "HS" | "IY" | "CO" | "SH" | "CZ" | "BU" | "TI" | "TR" | "TS"
            ) =>
        {
            on_issue(issue(
                line,
                rt,
                "",
                IssueKind::OrphanRecord,
                IssueAction::RecordRejected,
                "record before any RE (receipt) record",
            ));
        }
        None => on_issue(issue(
            line,
            rt,
            "1",
            IssueKind::UnknownRecordType,
            IssueAction::RecordRejected,
            "unknown record type, skipped",
        )),
        Some(b) => record(b, rt, f, line, schedule, on_issue),
    }
}

/// The issues at the end of the file: without a GO trailer the file may be cut short and
/// the receipt still open (whose RE is on line `last`) is left out; a file with no header
/// at all is empty.
fn end_of_file(
    has_header: bool,
    ended: bool,
    last: Option<u64>,
    on_issue: &mut dyn FnMut(ParseIssue),
) {
    if has_header && !ended {
        on_issue(ParseIssue {
            line: last,
            record: "GO".into(),
            field: String::new(),
            kind: IssueKind::Truncated,
            action: if last.is_some() { IssueAction::ReceiptRejected } else { IssueAction::Kept },
            detail: "the file ends without its GO trailer: it may be cut short, so its last receipt is left out".into(),
        });
    } else if !has_header {
        on_issue(ParseIssue {
            line: None,
            record: String::new(),
            field: String::new(),
            kind: IssueKind::Truncated,
            action: IssueAction::FileRejected,
            detail: "empty file".into(),
        });
    }
}

fn start_receipt(
    f: &[&str],
    line: u64,
    schedule: Schedule,
    on_issue: &mut dyn FnMut(ParseIssue),
) -> Option<Builder> {
    let receipt_type = field(f, 3);
    let Some(kind) = claim_kind(receipt_type, false) else {
        on_issue(issue(
            line,
            "RE",
            "3",
            IssueKind::InvalidValue,
            IssueAction::ReceiptRejected,
            format!(
                "レセプト種別 {receipt_type:?} is not a 医科 (1xxx), 歯科 (3xxx) or 調剤 (4xxx) receipt type"
            ),
        ));
        return None;
    };
    if schedule_of(kind) != schedule {
        on_issue(issue(
            line,
            "RE",
            "3",
            IssueKind::InvalidValue,
            IssueAction::Kept,
            format!(
                "レセプト種別 {receipt_type} does not match the file's 点数表 {}; the レセプト種別 is used",
                schedule.code()
            ),
        ));
    }
    let month = field(f, 4);
    let Some(service_month) = parse_month(month) else {
        on_issue(issue(
            line,
            "RE",
            "4",
            IssueKind::InvalidDate,
            IssueAction::ReceiptRejected,
            format!("診療年月 {month:?} is not a year-month (YYYYMM or 和暦 GYYMM)"),
        ));
        return None;
    };
    let sex = Sex::parse(field(f, 6));
    if sex.is_none() {
        on_issue(issue(
            line,
            "RE",
            "6",
            IssueKind::InvalidValue,
            IssueAction::ValueNulled,
            "男女区分 is not 1 or 2",
        ));
    }
    let birth = field(f, 7);
    let birth_date = parse_date(birth);
    if birth_date.is_none() {
        on_issue(issue(
            line,
            "RE",
            "7",
            IssueKind::InvalidDate,
            IssueAction::ValueNulled,
            "生年月日 is not a date (YYYYMMDD or 和暦 GYYMMDD)",
        ));
    }
    let (mut dental_start, mut dental_outcome) = (None, None);
    if schedule == Schedule::Dental {
        dental_start = parse_date(field(f, 10));
        dental_outcome = field(f, 11)
            .parse::<u8>()
            .ok()
            .filter(|x| (1..=4).contains(x));
    }
    Some(Builder {
        receipt: RawReceipt {
            line,
            number: field(f, 2).to_string(),
            receipt_type: receipt_type.to_string(),
            kind,
            service_month,
            sex,
            birth_date,
            identity: RawIdentity {
                name: field(f, 5).to_string(),
                ..Default::default()
            },
            points: None,
            days: None,
            diagnoses: Vec::new(),
            drugs: Vec::new(),
        },
        category: None,
        dental_start,
        dental_outcome,
        dpc: false,
        in_donor_block: false,
        rx_form: Vec::new(),
        rx_count: Vec::new(),
    })
}

fn number<T: std::str::FromStr>(
    s: &str,
    line: u64,
    rt: &str,
    pos: usize,
    what: &str,
    on_issue: &mut dyn FnMut(ParseIssue),
) -> Option<T> {
    if s.is_empty() {
        return None;
    }
    match s.parse::<T>() {
        Ok(x) => Some(x),
        Err(_) => {
            on_issue(issue(
                line,
                rt,
                &pos.to_string(),
                IssueKind::InvalidValue,
                IssueAction::ValueNulled,
                format!("{what} {s:?} is not a number"),
            ));
            None
        }
    }
}

/// Reads one record of an open receipt into its builder. 臓器提供者 blocks (TI, TR, TS and
/// everything after them in the receipt) are skipped; a DPC-only record in a 医科 file
/// marks the receipt as DPC. Each record type has its own reader below.
fn record(
    b: &mut Builder,
    rt: &str,
    f: &[&str],
    line: u64,
    schedule: Schedule,
    on_issue: &mut dyn FnMut(ParseIssue),
) {
    if matches!(rt, "TI" | "TR" | "TS") {
        b.in_donor_block = true;
        return;
    }
    if b.in_donor_block {
        return;
    }
    if DPC_RECORDS.contains(&rt) && schedule == Schedule::Medical {
        b.dpc = true;
    }
    match rt {
        "HO" => insurer_record(b, f, line, on_issue),
        "KO" => public_payer_record(b, f, line, on_issue),
        "SY" | "HS" => diagnosis_record(b, rt, f, line, on_issue),
        "SI" | "TO" | "CO" | "SS" => {
            let c = field(f, 2);
            if !c.is_empty() {
                b.category = Some(c.to_string());
            }
        }
        "SH" => b
            .rx_form
            .push((field(f, 2).to_string(), field(f, 3).to_string())),
        "CZ" => {
            if let Some(n) = number::<i32>(field(f, 4), line, rt, 4, "調剤数量", on_issue) {
                b.rx_count.push((field(f, 2).to_string(), n));
            }
        }
        "IY" => drug_record(b, f, line, schedule, on_issue),
        "BU" => {}
        _ if IGNORED.contains(&rt) => {}
        _ => on_issue(issue(
            line,
            rt,
            "1",
            IssueKind::UnknownRecordType,
            IssueAction::RecordRejected,
            "unknown record type, skipped; the receipt is kept",
        )),
    }
}

/// HO (保険者): field 2 保険者番号, 3 記号, 4 番号, 5 診療実日数, 6 合計点数. The first
/// HO of the receipt is the main payer; later ones are ignored.
fn insurer_record(b: &mut Builder, f: &[&str], line: u64, on_issue: &mut dyn FnMut(ParseIssue)) {
    // The first HO is the main payer.
    if b.receipt.identity.insurer.is_empty() && b.receipt.points.is_none() {
        b.receipt.identity.insurer = field(f, 2).to_string();
        b.receipt.identity.symbol = field(f, 3).to_string();
        b.receipt.identity.number = field(f, 4).to_string();
        b.receipt.days = number(field(f, 5), line, "HO", 5, "診療実日数", on_issue);
        b.receipt.points = number(field(f, 6), line, "HO", 6, "合計点数", on_issue);
    }
}

/// KO (公費): field 2 公費負担者番号, 3 受給者番号, 5 診療実日数, 6 合計点数. With no
/// HO before it, the first KO is the main payer (公費単独).
fn public_payer_record(
    b: &mut Builder,
    f: &[&str],
    line: u64,
    on_issue: &mut dyn FnMut(ParseIssue),
) {
    // With no HO, the first KO is the main payer (公費単独).
    if b.receipt.identity.insurer.is_empty() && b.receipt.points.is_none() {
        b.receipt.identity.insurer = field(f, 2).to_string();
        b.receipt.identity.number = field(f, 3).to_string();
        b.receipt.days = number(field(f, 5), line, "KO", 5, "診療実日数", on_issue);
        b.receipt.points = number(field(f, 6), line, "KO", 6, "合計点数", on_issue);
    }
}

/// SY (医科 傷病名: field 2 傷病名コード, 3 診療開始日, 4 転帰区分, 5 修飾語コード, 7 主傷病)
/// or HS (歯科 傷病名部位: 2 診療開始日, 3 転帰区分, 5 傷病名コード, 6 修飾語コード). A code
/// that is not 7 digits rejects the record; a bad date, 転帰区分 or 主傷病 is nulled; on HS
/// an empty date or 転帰区分 is taken from the RE record (fields 10 and 11).
fn diagnosis_record(
    b: &mut Builder,
    rt: &str,
    f: &[&str],
    line: u64,
    on_issue: &mut dyn FnMut(ParseIssue),
) {
    let (code_pos, start_pos, outcome_pos, mod_pos) = if rt == "SY" {
        (2, 3, 4, 5)
    } else {
        (5, 2, 3, 6)
    };
    let code = field(f, code_pos);
    if code.len() != 7 || !code.bytes().all(|c| c.is_ascii_digit()) {
        on_issue(issue(
            line,
            rt,
            &code_pos.to_string(),
            IssueKind::InvalidValue,
            IssueAction::RecordRejected,
            format!("傷病名コード {code:?} is not 7 digits"),
        ));
        return;
    }
    let s = field(f, start_pos);
    let start_date = match (s.is_empty(), parse_date(s)) {
        (true, _) => b.dental_start.filter(|_| rt == "HS"),
        (false, Some(d)) => Some(d),
        (false, None) => {
            on_issue(issue(
                line,
                rt,
                &start_pos.to_string(),
                IssueKind::InvalidDate,
                IssueAction::ValueNulled,
                format!("診療開始日 {s:?} is not a date"),
            ));
            None
        }
    };
    let o = field(f, outcome_pos);
    let outcome = match o.parse::<u8>() {
        Ok(x @ 1..=4) => Some(x),
        _ if o.is_empty() => b.dental_outcome.filter(|_| rt == "HS"),
        _ => {
            on_issue(issue(
                line,
                rt,
                &outcome_pos.to_string(),
                IssueKind::InvalidValue,
                IssueAction::ValueNulled,
                format!("転帰区分 {o:?} is not 1–4"),
            ));
            None
        }
    };
    let suspected = super::modifier_codes(field(f, mod_pos))
        .any(|m| m == ittai_dataset::masters::SUSPECTED_MODIFIER);
    let main = if rt == "SY" {
        main_diagnosis(f, line, on_issue)
    } else {
        None
    };
    b.receipt.diagnoses.push(RawDiagnosis {
        line,
        code: code.to_string(),
        start_date,
        outcome,
        suspected,
        main,
    });
}

/// 主傷病 of an SY record (field 7, 数字 2 可変; 別表19: 01 （主）). The spec records 01 for
/// the receipt's main diagnosis and omits the field otherwise: 01 → `Some(true)` (also
/// `1`, from a writer that drops the leading zero the spec keeps), empty → `Some(false)`.
/// A record that stops before field 7 (shorter than the layout) → `None`; another value →
/// `None`, reported.
fn main_diagnosis(f: &[&str], line: u64, on_issue: &mut dyn FnMut(ParseIssue)) -> Option<bool> {
    if f.len() < 7 {
        return None;
    }
    match field(f, 7) {
        "01" | "1" => Some(true),
        "" => Some(false),
        m => {
            on_issue(issue(
                line,
                "SY",
                "7",
                IssueKind::InvalidValue,
                IssueAction::ValueNulled,
                format!("主傷病 {m:?} is not 01 (別表19)"),
            ));
            None
        }
    }
}

/// IY (医薬品). 医科・歯科: field 2 診療識別 (inherited when empty), 4 医薬品コード,
/// 5 使用量, 7 回数. 調剤: 2 処方番号 (its 剤形 from the SH and 調剤数量 from the CZ of
/// the same number), 3 医薬品コード, 4 使用量. A code that is not 9 digits rejects the
/// record.
fn drug_record(
    b: &mut Builder,
    f: &[&str],
    line: u64,
    schedule: Schedule,
    on_issue: &mut dyn FnMut(ParseIssue),
) {
    let rt = "IY";
    let (code, quantity, count, category, dosage_form) = if schedule == Schedule::Pharmacy {
        let rx = field(f, 2);
        let form = b
            .rx_form
            .iter()
            .rev()
            .find(|(n, _)| n == rx)
            .map(|(_, c)| c.clone());
        let count = b
            .rx_count
            .iter()
            .rev()
            .find(|(n, _)| n == rx)
            .map(|(_, c)| *c);
        if form.is_none() {
            on_issue(issue(
                line,
                rt,
                "2",
                IssueKind::OrphanRecord,
                IssueAction::Kept,
                format!(
                    "処方番号 {rx:?} has no SH record before it; the route is taken from the drug master"
                ),
            ));
        }
        (
            field(f, 3),
            number::<f64>(field(f, 4), line, rt, 4, "使用量", on_issue),
            count,
            None,
            form,
        )
    } else {
        let c = field(f, 2);
        if !c.is_empty() {
            b.category = Some(c.to_string());
        }
        (
            field(f, 4),
            number::<f64>(field(f, 5), line, rt, 5, "使用量", on_issue),
            number::<i32>(field(f, 7), line, rt, 7, "回数", on_issue),
            b.category.clone(),
            None,
        )
    };
    if code.len() != 9 || !code.bytes().all(|c| c.is_ascii_digit()) {
        on_issue(issue(
            line,
            rt,
            if schedule == Schedule::Pharmacy {
                "3"
            } else {
                "4"
            },
            IssueKind::InvalidValue,
            IssueAction::RecordRejected,
            format!("医薬品コード {code:?} is not 9 digits"),
        ));
        return;
    }
    b.receipt.drugs.push(RawDrug {
        line,
        code: code.to_string(),
        category,
        dosage_form,
        quantity,
        count,
    });
}

fn finish(
    b: Builder,
    h: &FileHeader,
    on_receipt: &mut dyn FnMut(&FileHeader, RawReceipt),
    counts: &mut FileCounts,
) {
    let mut r = b.receipt;
    if b.dpc && r.kind == ClaimKind::Inpatient {
        r.kind = ClaimKind::Dpc;
    }
    counts.receipts += 1;
    on_receipt(h, r);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> (Vec<RawReceipt>, Vec<ParseIssue>) {
        let mut rs = Vec::new();
        let mut is = Vec::new();
        parse(text, &mut |i| is.push(i), &mut |_, r| rs.push(r));
        (rs, is)
    }

    const ONE: &str = "IR,2,13,1,1234567,,医院,202401,00,\nRE,1,1318,202401,テスト,2,19400101,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\nHO,39131032,,00000007,2,500,,,,,,,,,\nSY,8840107,20230101,1,8002,,,\nSI,12,1,112007410,,73,1,\nCO,21,1,820000001,\nIY,,1,620098401,1.5,0,14,\nGO,1,500,99\n";

    #[test]
    fn a_receipt_with_inherited_category() {
        let (rs, is) = parse_all(ONE);
        assert!(is.is_empty(), "{is:?}");
        assert_eq!(rs.len(), 1);
        let r = &rs[0];
        assert_eq!(
            (r.kind, r.points, r.days),
            (ClaimKind::Outpatient, Some(500), Some(2))
        );
        assert_eq!(r.identity.insurer, "39131032");
        assert_eq!(r.diagnoses[0].code, "8840107");
        assert!(r.diagnoses[0].suspected);
        // The IY has no 診療識別: it inherits 21 from the CO line before it.
        assert_eq!(r.drugs[0].category.as_deref(), Some("21"));
        assert_eq!(
            (r.drugs[0].quantity, r.drugs[0].count),
            (Some(1.5), Some(14))
        );
    }

    #[test]
    fn bad_input_is_reported_with_lines_and_the_rest_is_kept() {
        // Line 3: month 13 rejects its receipt; line 7: an unknown record; line 9: a broken
        // SY; no GO: the last receipt is left out as possibly incomplete.
        let text = "IR,2,13,1,1234567,,医院,202401,00,\n\
RE,1,1318,202413,A,2,19400101,\nHO,39131032,,1,1,100,\n\
RE,2,1318,202401,B,1,19400101,\nHO,39131032,,2,1,200,\nSY,8840107,20230101,1,,\nZZ,1,2\nRE,3,1318,202401,C,1,19400101,\nSY,88\n";
        let (rs, is) = parse_all(text);
        let kinds: Vec<(Option<u64>, IssueKind, IssueAction)> =
            is.iter().map(|i| (i.line, i.kind, i.action)).collect();
        assert_eq!(
            kinds,
            vec![
                (
                    Some(2),
                    IssueKind::InvalidDate,
                    IssueAction::ReceiptRejected
                ),
                (
                    Some(7),
                    IssueKind::UnknownRecordType,
                    IssueAction::RecordRejected
                ),
                (Some(9), IssueKind::BadRecord, IssueAction::RecordRejected),
                (Some(8), IssueKind::Truncated, IssueAction::ReceiptRejected),
            ]
        );
        // Only receipt 2 is complete and passed on.
        assert_eq!(
            rs.iter().map(|r| r.number.as_str()).collect::<Vec<_>>(),
            ["2"]
        );
        assert_eq!(rs[0].diagnoses.len(), 1);
    }

    /// SY field 7 主傷病: 01 is the main diagnosis, an empty field is not (the spec omits it
    /// for other diagnoses), a record without field 7 does not say, another value is
    /// reported and read as unknown; HS (歯科) records never say.
    #[test]
    fn main_diagnosis_from_sy_field_7() {
        let text = "IR,2,13,1,1234567,,医院,202401,00,\n\
RE,1,1318,202401,A,2,19400101,\nHO,39131032,,1,1,100,\n\
SY,8840107,20230101,1,,,01,\n\
SY,4011002,20230101,1,,,,\n\
SY,2500013,20230101,1,\n\
SY,8830052,20230101,1,,,1\n\
SY,4659007,20230101,1,,,02,\n\
GO,1,100,99\n";
        let (rs, is) = parse_all(text);
        let main: Vec<Option<bool>> = rs[0].diagnoses.iter().map(|d| d.main).collect();
        assert_eq!(main, [Some(true), Some(false), None, Some(true), None]);
        assert_eq!(is.len(), 1, "{is:?}");
        assert_eq!(
            (is[0].line, is[0].field.as_str(), is[0].kind, is[0].action),
            (
                Some(8),
                "7",
                IssueKind::InvalidValue,
                IssueAction::ValueNulled
            )
        );
        let dental = "UK,2,13,3,1234567,,歯科,202401,,00\n\
RE,1,3318,202401,A,2,19400101,,,,,,,,,,,,,,,,,,,,\nHO,39131032,,1,1,100,,,,,,,,\n\
HS,20230101,1,,5220063,,,01,,,,,\nGO,1,100,99\n";
        let (rs, is) = parse_all(dental);
        assert!(is.is_empty(), "{is:?}");
        assert_eq!(rs[0].diagnoses[0].main, None);
    }

    #[test]
    fn a_file_without_header_is_rejected() {
        let (rs, is) = parse_all("RE,1,1318,202401,A,2,19400101,\n");
        assert!(rs.is_empty());
        assert_eq!(
            (is[0].kind, is[0].action),
            (IssueKind::BadRecord, IssueAction::FileRejected)
        );
    }
}
