//! The CSV layouts ittai reads for the insured register (被保険者台帳 → `persons`), care
//! certifications (要介護認定 → `certifications`) and care claims (介護給付費 給付実績の
//! 基本 H1 and 明細 D1 records → `care_claims`). Documented for users in docs/INGEST.md.
//!
//! The register and the certifications have a header row; columns are found by their
//! Japanese or English name, in any order. The care-claims file has no header: each line
//! starts with its record type, as the 国保連 interface files do.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use ittai_model::CareLevel;
use ittai_model::check_digit::{
    is_valid_insurer_number, is_valid_municipality_code, municipality_check_digit,
};
use ittai_model::time::{parse_csv_date, parse_wareki_month, parse_yyyymm};
use ittai_model::{LossReason, PersonId, Sex};

use super::inputs::Input;
use super::issues::{Issue, IssueAction, IssueKind, IssueLog};
use super::output::Output;
use crate::pseudonym::{IdKey, normalise, normalise_number};
use ittai_dataset::{CareClaim, Certification, Person};

/// One column of a headed CSV layout.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// English header (also accepted).
    pub en: &'static str,
    /// Japanese header.
    pub ja: &'static str,
    /// The column must be present.
    pub required: bool,
    /// Meaning and format.
    pub doc: &'static str,
}

const fn field(en: &'static str, ja: &'static str, required: bool, doc: &'static str) -> FieldDef {
    FieldDef {
        en,
        ja,
        required,
        doc,
    }
}

/// The insured register (被保険者台帳): one row per coverage spell.
pub const PERSONS_LAYOUT: &[FieldDef] = &[
    field(
        "insurer_number",
        "保険者番号",
        true,
        "後期高齢者医療の保険者番号, 8 digits with 検証番号",
    ),
    field("symbol", "記号", false, "被保険者証の記号 (empty for 後期)"),
    field(
        "insured_number",
        "被保険者番号",
        true,
        "被保険者証の番号 (pseudonymised, never stored)",
    ),
    field("sex", "性別", true, "1 男, 2 女"),
    field(
        "birth_date",
        "生年月日",
        true,
        "YYYY-MM-DD, YYYY/M/D, YYYYMMDD or 和暦 GYYMMDD",
    ),
    field(
        "municipality_code",
        "市町村コード",
        true,
        "全国地方公共団体コード, 6 digits (5 digits: the check digit is added)",
    ),
    field("coverage_start", "資格取得年月日", true, "date"),
    field(
        "coverage_end",
        "資格喪失年月日",
        false,
        "date; empty while covered",
    ),
    field(
        "loss_reason",
        "喪失事由",
        false,
        "1 死亡, 2 転出, 3 生活保護, 9 その他",
    ),
    field(
        "care_insurer_number",
        "介護保険者番号",
        false,
        "介護保険の保険者番号 (6 digits), to link care data",
    ),
    field(
        "care_insured_number",
        "介護被保険者番号",
        false,
        "介護保険の被保険者番号 (10 digits), to link care data",
    ),
];

/// Care-need certifications (要介護認定): one row per decision.
pub const CERTIFICATIONS_LAYOUT: &[FieldDef] = &[
    field(
        "care_insurer_number",
        "介護保険者番号",
        false,
        "介護保険の保険者番号; with 介護被保険者番号, linked through the register",
    ),
    field(
        "care_insured_number",
        "介護被保険者番号",
        false,
        "介護保険の被保険者番号",
    ),
    field(
        "insurer_number",
        "保険者番号",
        false,
        "or the 後期 保険者番号 and 被保険者番号 directly (a KDB-linked export)",
    ),
    field("insured_number", "被保険者番号", false, "後期 被保険者番号"),
    field("decision_date", "認定年月日", true, "date"),
    field(
        "care_level_code",
        "要介護状態区分",
        true,
        "01 非該当, 06 事業対象者, 12 要支援1, 13 要支援2, 21–25 要介護1–5",
    ),
    field("valid_from", "認定有効期間開始年月日", true, "date"),
    field("valid_to", "認定有効期間終了年月日", true, "date"),
];

/// Fields of the care-claims H1 (基本) record, in order.
pub const CARE_H1: &[&str] = &[
    "レコード種別 H1",
    "明細番号 (claim number, unique in the file)",
    "サービス提供年月 YYYYMM (or 和暦 GYYMM)",
    "介護保険者番号",
    "介護被保険者番号",
    "事業所番号 (10)",
    "要介護状態区分 (01 … 25)",
    "後期 保険者番号 (optional; with the next field, used instead of the register link)",
    "後期 被保険者番号 (optional)",
];

/// Fields of the care-claims D1 (明細) record, in order.
pub const CARE_D1: &[&str] = &[
    "レコード種別 D1",
    "明細番号 (of its H1, which it follows)",
    "サービス種類コード (2)",
    "サービス項目コード (4)",
    "単位数",
    "日数・回数",
    "サービス単位数 (単位数 × 日数・回数)",
];

/// Parses a year-month `YYYYMM`, `YYYY-MM` or 和暦 `GYYMM` to its first day.
pub fn parse_month_any(s: &str) -> Option<NaiveDate> {
    let t = s.trim().replace(['-', '/'], "");
    match t.len() {
        6 => parse_yyyymm(&t).ok(),
        5 => parse_wareki_month(&t).ok(),
        _ => None,
    }
}

/// Maps header names to column positions for a layout.
struct Header {
    pos: HashMap<&'static str, usize>,
}

impl Header {
    fn find(header: &csv::StringRecord, layout: &[FieldDef]) -> Result<Self, String> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut pos = HashMap::new();
        let mut missing = Vec::new();
        for f in layout {
            match names
                .iter()
                .position(|n| n == f.ja || n.eq_ignore_ascii_case(f.en))
            {
                Some(i) => {
                    pos.insert(f.en, i);
                }
                None if f.required => missing.push(format!("{} ({})", f.ja, f.en)),
                None => {}
            }
        }
        if missing.is_empty() {
            Ok(Header { pos })
        } else {
            Err(format!("missing column(s): {}", missing.join(", ")))
        }
    }

    fn get<'r>(&self, r: &'r csv::StringRecord, en: &str) -> &'r str {
        self.pos
            .get(en)
            .and_then(|&i| r.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
}

fn issue(
    input: &Input,
    line: u64,
    record: &str,
    field: &str,
    kind: IssueKind,
    action: IssueAction,
    detail: String,
) -> Issue {
    Issue {
        file: input.origin.clone(),
        line: Some(line),
        record: record.to_string(),
        field: field.to_string(),
        kind,
        action,
        detail,
    }
}

/// A row left out, with the field and reason.
fn rejected(input: &Input, line: u64, field: &str, kind: IssueKind, detail: String) -> Issue {
    issue(
        input,
        line,
        "",
        field,
        kind,
        IssueAction::RecordRejected,
        detail,
    )
}

/// The data rows of a headed CSV with their 1-based line numbers (the header is line 1);
/// rows the CSV reader cannot read go to the log.
fn data_rows(
    input: &Input,
    text: &str,
    log: &mut IssueLog,
) -> std::io::Result<Vec<(u64, csv::StringRecord)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        match rec {
            Ok(r) => rows.push((r.position().map_or(line, |p| p.line()), r)),
            Err(e) => log.push(rejected(
                input,
                line,
                "",
                IssueKind::BadRecord,
                e.to_string(),
            ))?,
        }
    }
    Ok(rows)
}

fn file_issue(input: &Input, kind: IssueKind, detail: String) -> Issue {
    Issue {
        file: input.origin.clone(),
        line: None,
        record: String::new(),
        field: String::new(),
        kind,
        action: IssueAction::FileRejected,
        detail,
    }
}

/// Reads the text of a headed CSV; `None` (and a file issue) when it cannot be decoded or
/// lacks a required column.
fn headed<'a>(
    input: &'a Input,
    layout: &[FieldDef],
    log: &mut IssueLog,
) -> std::io::Result<Option<(std::borrow::Cow<'a, str>, Header)>> {
    let Some(text) = super::inputs::text_of(input, log)? else {
        return Ok(None);
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            log.push(file_issue(
                input,
                IssueKind::BadRecord,
                format!("no header row: {e}"),
            ))?;
            return Ok(None);
        }
    };
    match Header::find(&header, layout) {
        Ok(h) => Ok(Some((text, h))),
        Err(m) => {
            log.push(file_issue(input, IssueKind::BadRecord, m))?;
            Ok(None)
        }
    }
}

/// The register's persons, and its link from 介護保険 numbers to person ids.
#[derive(Debug, Default, Clone)]
pub struct CareLink {
    by_care_number: HashMap<(String, String), PersonId>,
    registered: std::collections::HashSet<PersonId>,
}

impl CareLink {
    /// The person id of 介護保険者番号 + 介護被保険者番号, if the register has it (both
    /// compared as numbers: "0000012345" and "12345" are one number, see
    /// [`normalise_number`]).
    pub fn get(&self, care_insurer: &str, care_number: &str) -> Option<&PersonId> {
        self.by_care_number.get(&(
            normalise_number(care_insurer),
            normalise_number(care_number),
        ))
    }
    /// True when the register has a row for the person id.
    pub fn is_registered(&self, person_id: &str) -> bool {
        self.registered.contains(person_id)
    }
}

/// Reads an insured-register CSV into `persons`; returns the rows written.
///
/// # Errors
/// I/O errors writing rejects or output.
pub fn read_persons(
    input: &Input,
    key: &IdKey,
    out: &mut Output,
    link: &mut CareLink,
    log: &mut IssueLog,
) -> std::io::Result<u64> {
    let Some((text, h)) = headed(input, PERSONS_LAYOUT, log)? else {
        return Ok(0);
    };
    let mut n = 0;
    for (line, rec) in data_rows(input, &text, log)? {
        let bad = |field: &str, kind: IssueKind, detail: String| {
            rejected(input, line, field, kind, detail)
        };
        let insurer = normalise(h.get(&rec, "insurer_number"));
        if !is_valid_insurer_number(&insurer) {
            log.push(bad(
                "保険者番号",
                IssueKind::InvalidValue,
                "not an 8-digit 保険者番号 with a valid 検証番号".into(),
            ))?;
            continue;
        }
        let number = h.get(&rec, "insured_number");
        if number.is_empty() {
            log.push(bad("被保険者番号", IssueKind::InvalidValue, "empty".into()))?;
            continue;
        }
        let sex_text = h.get(&rec, "sex");
        let Some(sex) = Sex::parse(sex_text) else {
            log.push(bad(
                "性別",
                IssueKind::InvalidValue,
                format!("{sex_text:?} is not 1 (男) or 2 (女)"),
            ))?;
            continue;
        };
        let mut dates = [None; 3];
        let mut ok = true;
        for (k, (en, ja, required)) in [
            ("birth_date", "生年月日", true),
            ("coverage_start", "資格取得年月日", true),
            ("coverage_end", "資格喪失年月日", false),
        ]
        .into_iter()
        .enumerate()
        {
            let s = h.get(&rec, en);
            if s.is_empty() && !required {
                continue;
            }
            match parse_csv_date(s) {
                Some(d) => dates[k] = Some(d),
                None => {
                    log.push(bad(
                        ja,
                        IssueKind::InvalidDate,
                        format!("{s:?} is not a date"),
                    ))?;
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let muni = normalise(h.get(&rec, "municipality_code"));
        let muni = match muni.len() {
            5 => municipality_check_digit(&muni).map(|c| format!("{muni}{c}")),
            6 if is_valid_municipality_code(&muni) => Some(muni.clone()),
            _ => None,
        };
        let Some(muni) = muni else {
            log.push(bad(
                "市町村コード",
                IssueKind::InvalidValue,
                "not a 全国地方公共団体コード (5 or 6 digits with a valid check digit)".into(),
            ))?;
            continue;
        };
        let loss_reason = match h.get(&rec, "loss_reason") {
            "" => None,
            s => match s.parse::<u8>().ok().and_then(LossReason::from_code) {
                Some(r) => Some(r),
                None => {
                    log.push(issue(
                        input,
                        line,
                        "",
                        "喪失事由",
                        IssueKind::InvalidValue,
                        IssueAction::ValueNulled,
                        format!("{s:?} is not 1, 2, 3 or 9"),
                    ))?;
                    None
                }
            },
        };
        let person_id = key.person_id(&insurer, h.get(&rec, "symbol"), number);
        link.registered.insert(person_id.clone());
        let (ci, cn) = (
            h.get(&rec, "care_insurer_number"),
            h.get(&rec, "care_insured_number"),
        );
        if !ci.is_empty() && !cn.is_empty() {
            link.by_care_number.insert(
                (normalise_number(ci), normalise_number(cn)),
                person_id.clone(),
            );
        }
        out.person(&Person {
            person_id,
            sex: sex.code(),
            birth_date: dates[0].expect("required"),
            municipality_code: muni,
            insurer_number: insurer,
            coverage_start: dates[1].expect("required"),
            coverage_end: dates[2],
            loss_reason: loss_reason.map(LossReason::code),
        })?;
        n += 1;
    }
    Ok(n)
}

/// The person id of a care record: the 後期 numbers when given, else the register's link
/// of the 介護 numbers.
fn care_person(
    key: &IdKey,
    link: &CareLink,
    kouki: (&str, &str),
    care: (&str, &str),
) -> Option<PersonId> {
    if !kouki.0.is_empty() && !kouki.1.is_empty() {
        return Some(key.person_id(kouki.0, "", kouki.1));
    }
    link.get(care.0, care.1).cloned()
}

const UNLINKED: &str = "its 介護保険者番号 and 介護被保険者番号 are not in the register (--persons with 介護保険者番号/介護被保険者番号 columns), and it has no 後期 保険者番号 and 被保険者番号";

/// Reads a certifications CSV; returns the rows written.
///
/// # Errors
/// I/O errors writing rejects or output.
pub fn read_certifications(
    input: &Input,
    key: &IdKey,
    link: &CareLink,
    out: &mut Output,
    log: &mut IssueLog,
) -> std::io::Result<u64> {
    let Some((text, h)) = headed(input, CERTIFICATIONS_LAYOUT, log)? else {
        return Ok(0);
    };
    let mut n = 0;
    for (line, rec) in data_rows(input, &text, log)? {
        let bad = |field: &str, kind: IssueKind, detail: String| {
            rejected(input, line, field, kind, detail)
        };
        let Some(person_id) = care_person(
            key,
            link,
            (h.get(&rec, "insurer_number"), h.get(&rec, "insured_number")),
            (
                h.get(&rec, "care_insurer_number"),
                h.get(&rec, "care_insured_number"),
            ),
        ) else {
            log.push(bad("", IssueKind::UnlinkedPerson, UNLINKED.into()))?;
            continue;
        };
        let level_text = h.get(&rec, "care_level_code");
        let Some(level) = CareLevel::from_code(level_text) else {
            log.push(bad(
                "要介護状態区分",
                IssueKind::InvalidValue,
                format!("{level_text:?} is not a care-level code (01, 06, 11, 12, 13, 21–25)"),
            ))?;
            continue;
        };
        let mut d = [NaiveDate::MIN; 3];
        let mut ok = true;
        for (k, (en, ja)) in [
            ("decision_date", "認定年月日"),
            ("valid_from", "認定有効期間開始年月日"),
            ("valid_to", "認定有効期間終了年月日"),
        ]
        .into_iter()
        .enumerate()
        {
            match parse_csv_date(h.get(&rec, en)) {
                Some(x) => d[k] = x,
                None => {
                    log.push(bad(
                        ja,
                        IssueKind::InvalidDate,
                        format!("{:?} is not a date", h.get(&rec, en)),
                    ))?;
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        out.certification(&Certification {
            person_id,
            decision_date: d[0],
            care_level_code: level.code().to_string(),
            valid_from: d[1],
            valid_to: d[2],
        })?;
        n += 1;
    }
    Ok(n)
}

/// A care claim being assembled from its H1 and D1 records.
struct OpenClaim {
    number: String,
    person_id: Option<PersonId>,
    month: NaiveDate,
    provider: String,
    level: Option<String>,
    line: u64,
    /// service type → (Σ サービス単位数, max 日数・回数)
    by_type: BTreeMap<String, (i64, i32)>,
}

fn flush(open: &mut Option<OpenClaim>, out: &mut Output) -> std::io::Result<u64> {
    let mut n = 0;
    if let Some(c) = open.take()
        && let Some(pid) = &c.person_id
    {
        for (t, (units, days)) in &c.by_type {
            out.care_claim(&CareClaim {
                person_id: pid.clone(),
                service_month: c.month,
                service_type_code: t.clone(),
                care_level_code: c.level.clone(),
                units: Some(*units),
                days: Some(*days),
                provider_number: (!c.provider.is_empty()).then(|| c.provider.clone()),
            })?;
            n += 1;
        }
    }
    Ok(n)
}

/// Reads a care-claims file (H1/D1 records, no header): one `care_claims` row per claim and
/// service type, with units = Σ サービス単位数 and days = the largest 日数・回数 of the type's
/// detail lines. Returns the rows written.
///
/// # Errors
/// I/O errors writing rejects or output.
pub fn read_care_claims(
    input: &Input,
    key: &IdKey,
    link: &CareLink,
    out: &mut Output,
    log: &mut IssueLog,
) -> std::io::Result<u64> {
    let Some(text) = super::inputs::text_of(input, log)? else {
        return Ok(0);
    };
    let mut open: Option<OpenClaim> = None;
    let mut seen: std::collections::HashSet<String> = Default::default();
    let mut n = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = raw.split(',').map(|x| x.trim().trim_matches('"')).collect();
        let rt = f[0];
        match rt {
            "H1" => {
                n += flush(&mut open, out)?;
                open = care_h1(input, key, link, &f, line, &mut seen, log)?;
            }
            "D1" => care_d1(input, &f, line, &mut open, log)?,
            other => {
                log.push(issue(
                    input,
                    line,
                    other,
                    "1",
                    IssueKind::UnknownRecordType,
                    IssueAction::RecordRejected,
                    "expected H1 or D1".into(),
                ))?;
            }
        }
    }
    if let Some(c) = &open
        && c.by_type.is_empty()
        && c.person_id.is_some()
    {
        log.push(issue(
            input,
            c.line,
            "H1",
            "",
            IssueKind::Truncated,
            IssueAction::RecordRejected,
            "the file ends after an H1 without its D1 records".into(),
        ))?;
    }
    n += flush(&mut open, out)?;
    Ok(n)
}

/// Reads an H1 (基本) record, fields as in [`CARE_H1`], into the claim it opens. Rejected
/// (logged): fewer than 7 fields or a 明細番号 seen before (no claim: its D1 records are
/// orphans); a サービス提供年月 that is not YYYYMM or GYYMM, or a person neither given by
/// 後期 numbers nor linked through the register (a claim without person: its D1 records
/// are dropped silently).
fn care_h1(
    input: &Input,
    key: &IdKey,
    link: &CareLink,
    f: &[&str],
    line: u64,
    seen: &mut std::collections::HashSet<String>,
    log: &mut IssueLog,
) -> std::io::Result<Option<OpenClaim>> {
    let get = |k: usize| f.get(k).copied().unwrap_or("");
    if f.len() < 7 {
        log.push(issue(
            input,
            line,
            "H1",
            "",
            IssueKind::BadRecord,
            IssueAction::RecordRejected,
            format!("{} fields, expected at least 7", f.len()),
        ))?;
        return Ok(None);
    }
    if !seen.insert(get(1).to_string()) {
        log.push(issue(
            input,
            line,
            "H1",
            "2",
            IssueKind::DuplicateRecord,
            IssueAction::RecordRejected,
            format!("明細番号 {} seen before in this file", get(1)),
        ))?;
        return Ok(None);
    }
    let Some(month) = parse_month_any(get(2)) else {
        log.push(issue(
            input,
            line,
            "H1",
            "3",
            IssueKind::InvalidDate,
            IssueAction::RecordRejected,
            format!("サービス提供年月 {:?} is not YYYYMM or GYYMM", get(2)),
        ))?;
        return Ok(Some(OpenClaim {
            number: get(1).into(),
            person_id: None,
            month: NaiveDate::MIN,
            provider: String::new(),
            level: None,
            line,
            by_type: BTreeMap::new(),
        }));
    };
    let person_id = care_person(key, link, (get(7), get(8)), (get(3), get(4)));
    if person_id.is_none() {
        log.push(issue(
            input,
            line,
            "H1",
            "",
            IssueKind::UnlinkedPerson,
            IssueAction::RecordRejected,
            UNLINKED.into(),
        ))?;
    }
    let level = Some(get(6).to_string()).filter(|s| !s.is_empty());
    Ok(Some(OpenClaim {
        number: get(1).into(),
        person_id,
        month,
        provider: get(5).into(),
        level,
        line,
        by_type: BTreeMap::new(),
    }))
}

/// Reads a D1 (明細) record, fields as in [`CARE_D1`], into the open claim of its
/// 明細番号: adds its サービス単位数 to the claim's service type and keeps the largest
/// 日数・回数. A D1 not following its H1 is an orphan; one with fewer than 7 fields, a
/// サービス種類コード not of 2 characters or non-numeric counts is rejected (logged);
/// the lines of a rejected H1 are dropped without a log entry. A sum of サービス単位数
/// that leaves the range of i64 (±9.2 × 10^18) cannot be a real claim and has no true
/// value: the whole claim is rejected (logged on this D1) and its later D1 lines are
/// dropped with it.
fn care_d1(
    input: &Input,
    f: &[&str],
    line: u64,
    open: &mut Option<OpenClaim>,
    log: &mut IssueLog,
) -> std::io::Result<()> {
    let get = |k: usize| f.get(k).copied().unwrap_or("");
    let Some(c) = open.as_mut().filter(|c| c.number == get(1)) else {
        log.push(issue(
            input,
            line,
            "D1",
            "2",
            IssueKind::OrphanRecord,
            IssueAction::RecordRejected,
            format!("明細番号 {} does not follow its H1 record", get(1)),
        ))?;
        return Ok(());
    };
    if c.person_id.is_none() {
        return Ok(()); // the H1 was rejected; its lines go with it
    }
    let (units, count) = (get(6).parse::<i64>(), get(5).parse::<i32>());
    let t = get(2);
    if f.len() < 7 || t.len() != 2 || units.is_err() || count.is_err() {
        log.push(issue(
            input,
            line,
            "D1",
            "",
            IssueKind::BadRecord,
            IssueAction::RecordRejected,
            "expected サービス種類コード (2), 日数・回数 and サービス単位数 as numbers".into(),
        ))?;
        return Ok(());
    }
    let e = c.by_type.entry(t.to_string()).or_default();
    let Some(sum) = e.0.checked_add(units.expect("checked")) else {
        log.push(issue(
            input,
            line,
            "D1",
            "7",
            IssueKind::InvalidValue,
            IssueAction::RecordRejected,
            format!(
                "the サービス単位数 of サービス種類 {t} in claim 明細番号 {} add up to beyond {} .. {} (i64): the claim (its H1 and every D1) is rejected",
                c.number,
                i64::MIN,
                i64::MAX
            ),
        ))?;
        c.person_id = None; // flush writes nothing; the claim's later D1 lines are dropped
        c.by_type.clear();
        return Ok(());
    };
    e.0 = sum;
    e.1 = e.1.max(count.expect("checked"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the register CSV `text` into a fresh dataset; returns the rows written, the
    /// issues logged and the `persons` table as read back.
    fn read_register(text: &str) -> (u64, u64, Vec<Person>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = IdKey::from_bytes(b"0123456789abcdef").expect("key");
        let mut out = Output::create(dir.path()).expect("output");
        let mut log = IssueLog::counting("persons");
        let mut link = CareLink::default();
        let input = Input {
            origin: "persons.csv".into(),
            bytes: text.as_bytes().to_vec(),
        };
        let n = read_persons(&input, &key, &mut out, &mut link, &mut log).expect("io");
        out.finish().expect("commit");
        let (persons, skipped) = ittai_dataset::read_rows::<Person>(dir.path()).expect("persons");
        assert_eq!(skipped, 0);
        (n, log.total(), persons)
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn a_register_saved_by_excel_is_read() {
        // Japanese Excel saves dates as 2024/1/5; such rows used to be rejected. The other
        // rows show ISO, YYYYMMDD and 和暦 (5060105 = 令和6年1月5日) in the same file.
        let text = "保険者番号,被保険者番号,性別,生年月日,市町村コード,資格取得年月日,資格喪失年月日\n\
                    39131032,1,2,1945/6/1,131032,2024/1/5,\n\
                    39131032,2,1,1940-01-31,131032,20240105,2025/3/31\n\
                    39131032,3,1,3150229,131032,5060105, \n";
        let (n, issues, persons) = read_register(text);
        assert_eq!((n, issues), (3, 0));
        let dates: Vec<_> = persons
            .iter()
            .map(|p| (p.birth_date, p.coverage_start, p.coverage_end))
            .collect();
        assert_eq!(
            dates,
            [
                (d(1945, 6, 1), d(2024, 1, 5), None),
                (d(1940, 1, 31), d(2024, 1, 5), Some(d(2025, 3, 31))),
                (d(1940, 2, 29), d(2024, 1, 5), None),
            ]
        );
    }

    #[test]
    fn a_register_row_with_kanji_in_a_number_is_rejected_not_a_panic() {
        // "39東京" is 8 bytes and "東京" 6: the check-digit functions would cut them inside
        // 京 (byte 7, byte 5).
        let text = "保険者番号,被保険者番号,性別,生年月日,市町村コード,資格取得年月日\n\
                    39東京,1,2,1945/6/1,131032,2024/1/5\n\
                    39131032,2,2,1945/6/1,東京,2024/1/5\n\
                    ３９１３１０３２,3,2,1945/6/1,１３１０３２,2024/1/5\n";
        let (n, issues, persons) = read_register(text);
        assert_eq!((n, issues), (1, 2));
        assert_eq!(
            (
                persons[0].insurer_number.as_str(),
                persons[0].municipality_code.as_str()
            ),
            ("39131032", "131032")
        );
    }

    /// Reads the care-claims text `text` (H1 with 後期 numbers, so no register is needed);
    /// returns the rows written, the issues by (kind, action) and the rows read back.
    fn read_care(text: &str) -> (u64, Vec<((IssueKind, IssueAction), u64)>, Vec<CareClaim>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = IdKey::from_bytes(b"0123456789abcdef").expect("key");
        let mut out = Output::create(dir.path()).expect("output");
        let mut log = IssueLog::counting("care_claims");
        let input = Input {
            origin: "care.csv".into(),
            bytes: text.as_bytes().to_vec(),
        };
        let n =
            read_care_claims(&input, &key, &CareLink::default(), &mut out, &mut log).expect("io");
        out.finish().expect("commit");
        let (rows, skipped) =
            ittai_dataset::read_rows::<CareClaim>(dir.path()).expect("care_claims");
        assert_eq!(skipped, 0);
        let issues = log.counts().iter().map(|(k, n)| (*k, *n)).collect();
        (n, issues, rows)
    }

    #[test]
    fn care_units_that_overflow_reject_their_claim() {
        // Claim 1: 9223372036854775000 + 1000 > i64::MAX (9223372036854775807); its third
        // D1 goes with it. Claim 2 is read as usual.
        let text = "H1,1,202401,131001,0000000001,1310000001,21,39131032,1\n\
                    D1,1,11,1111,9223372036854775000,1,9223372036854775000\n\
                    D1,1,11,1112,1000,1,1000\n\
                    D1,1,13,1111,10,1,10\n\
                    H1,2,202401,131001,0000000002,1310000001,21,39131032,2\n\
                    D1,2,11,1111,500,2,1000\n\
                    D1,2,11,1112,100,3,300\n\
                    D1,2,13,1111,300,1,300\n";
        let (n, issues, rows) = read_care(text);
        assert_eq!(n, 2);
        assert_eq!(
            issues,
            [((IssueKind::InvalidValue, IssueAction::RecordRejected), 1)]
        );
        let key = IdKey::from_bytes(b"0123456789abcdef").expect("key");
        let got: Vec<(PersonId, &str, Option<i64>, Option<i32>)> = rows
            .iter()
            .map(|r| {
                (
                    r.person_id.clone(),
                    r.service_type_code.as_str(),
                    r.units,
                    r.days,
                )
            })
            .collect();
        let p2 = key.person_id("39131032", "", "2");
        assert_eq!(
            got,
            [
                (p2.clone(), "11", Some(1300), Some(3)),
                (p2, "13", Some(300), Some(1)),
            ]
        );
    }

    #[test]
    fn a_register_row_with_an_impossible_date_is_rejected() {
        let text = "保険者番号,被保険者番号,性別,生年月日,市町村コード,資格取得年月日\n\
                    39131032,1,2,1945/6/1,131032,2024/13/1\n";
        let (n, issues, persons) = read_register(text);
        assert_eq!((n, issues, persons.len()), (0, 1, 0));
    }
}
