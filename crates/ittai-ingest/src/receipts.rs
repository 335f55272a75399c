//! Receipts (UKE) into `medical_claims`, `claim_diagnoses` and `claim_drugs`: parse, then
//! pseudonymise the patient at once, resolve codes against the masters, drop duplicates,
//! and write. Also collects the persons seen on receipts, for datasets ingested without an
//! insured register.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use ittai_model::check_digit::municipality_check_digit;
use ittai_model::{ClaimKind, PersonId, Route, Sex};
use serde::Serialize;

use super::inputs::{Input, decode, wrong_encoding};
use super::issues::{Issue, IssueAction, IssueKind, IssueLog};
use super::output::Output;
use crate::pseudonym::{IdKey, normalise};
use crate::uke::read::{FileCounts, FileHeader, ParseIssue, RawReceipt, parse};
use crate::uke::{Schedule, route_of_category, route_of_dosage_form};
use ittai_dataset::masters::{DosageForm, DrugResolution, Resolver};
use ittai_dataset::{ClaimDiagnosis, ClaimDrug, MedicalClaim, Person};

/// Counts of the receipt source, for the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiptStats {
    /// Files read (with a readable header).
    pub files: u64,
    /// Files by 点数表 (`medical`, `dental`, `pharmacy`).
    pub files_by_schedule: BTreeMap<String, u64>,
    /// Non-empty lines read.
    pub lines: u64,
    /// Records by type.
    pub records: BTreeMap<String, u64>,
    /// Receipts written, by canonical claim kind (its dataset code, 1–6).
    pub receipts_by_kind: BTreeMap<u8, u64>,
    /// Receipts left out as duplicates.
    pub duplicate_receipts: u64,
    /// Receipts whose patient had no 被保険者番号 and was identified by name and birth date.
    pub identified_by_name: u64,
    /// Drug lines written.
    pub drug_lines: u64,
    /// … whose code is in the current master.
    pub drug_lines_current: u64,
    /// … whose code is only in the 2019 snapshot.
    pub drug_lines_legacy: u64,
    /// … of those, with a YJ code found by name.
    pub drug_lines_legacy_with_yj: u64,
    /// … whose code is in no master.
    pub drug_lines_unresolved: u64,
    /// Codes only in the 2019 snapshot.
    pub drug_codes_legacy: BTreeSet<String>,
    /// Codes in no master.
    pub drug_codes_unresolved: BTreeSet<String>,
    /// Diagnosis lines written.
    pub diagnosis_lines: u64,
    /// … whose code is only in the 2019 snapshot (no ICD-10).
    pub diagnosis_lines_legacy: u64,
    /// … whose code is in no master.
    pub diagnosis_lines_unresolved: u64,
    /// Codes only in the 2019 snapshot.
    pub disease_codes_legacy: BTreeSet<String>,
    /// Codes in no master.
    pub disease_codes_unresolved: BTreeSet<String>,
}

/// What the receipts say about a person (for persons derived without a register).
#[derive(Debug, Clone)]
struct SeenPerson {
    sex: Option<Sex>,
    birth_date: Option<NaiveDate>,
    insurer: String,
    prefecture: String,
    first_month: NaiveDate,
}

/// A UKE file decoded and parsed ([`ReceiptIngest::parse_file`]).
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The line of the first byte that is neither UTF-8 nor Shift_JIS (the file is then
    /// rejected and nothing else is set).
    wrong_encoding: Option<u64>,
    header: Option<FileHeader>,
    counts: FileCounts,
    issues: Vec<ParseIssue>,
    receipts: Vec<(FileHeader, RawReceipt)>,
}

/// State of the receipt source across files.
pub struct ReceiptIngest<'a> {
    key: &'a IdKey,
    resolver: &'a Resolver,
    /// Counts.
    pub stats: ReceiptStats,
    /// [`receipt_key`]s of the receipts read.
    seen: HashSet<u128>,
    /// Receipts read per claim-id base (XXH3-128 of the base), for the `-n` suffix.
    claim_ids: HashMap<u128, u32>,
    persons: BTreeMap<PersonId, SeenPerson>,
}

impl std::fmt::Debug for ReceiptIngest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptIngest")
            .field("stats", &self.stats)
            .finish()
    }
}

/// The identity of a receipt for the duplicate check: the XXH3-128 hash of its
/// institution, 請求年月, receipt number, person, 診療年月 and claim kind (fields separated by
/// NUL, which none of them holds). Keeping the hash instead of the fields took the check
/// from 11 % of the ingest's profile (string comparisons and copies) to a few; two
/// different receipts sharing a key is as unlikely as two claims sharing the validator's
/// `claim_id` hash.
fn receipt_key(
    institution: &str,
    claim_month: NaiveDate,
    number: &str,
    person: &PersonId,
    service_month: NaiveDate,
    kind: ClaimKind,
) -> u128 {
    let mut key = Vec::with_capacity(institution.len() + number.len() + 64);
    for part in [institution, number, person.as_str()] {
        key.extend_from_slice(part.as_bytes());
        key.push(0);
    }
    for d in [claim_month, service_month] {
        key.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
    }
    key.push(kind.code());
    xxhash_rust::xxh3::xxh3_128(&key)
}

/// Route of a drug from the master's 剤形 (when the 診療識別 or 調剤 剤形 does not say).
fn route_of_form(f: DosageForm) -> Route {
    match f {
        DosageForm::Internal => Route::Oral,
        DosageForm::External => Route::External,
        DosageForm::Injection => Route::Injection,
        DosageForm::Other | DosageForm::Dental => Route::Other,
    }
}

impl<'a> ReceiptIngest<'a> {
    /// A new receipt source.
    pub fn new(key: &'a IdKey, resolver: &'a Resolver) -> Self {
        ReceiptIngest {
            key,
            resolver,
            stats: ReceiptStats::default(),
            seen: HashSet::new(),
            claim_ids: HashMap::new(),
            persons: BTreeMap::new(),
        }
    }

    /// Reads one file ([`Self::parse_file`], then [`Self::consume`]).
    ///
    /// # Errors
    /// I/O errors writing output or rejects.
    pub fn file(
        &mut self,
        input: &Input,
        out: &mut Output,
        log: &mut IssueLog,
    ) -> std::io::Result<()> {
        self.consume(input, Self::parse_file(input), out, log)
    }

    /// Decodes and parses one file: the work that needs no state, done on the reading
    /// thread while the previous file is consumed.
    pub fn parse_file(input: &Input) -> ParsedFile {
        let text = match decode(&input.bytes) {
            Ok(t) => t,
            Err(line) => {
                return ParsedFile {
                    wrong_encoding: Some(line),
                    ..Default::default()
                };
            }
        };
        let mut issues: Vec<ParseIssue> = Vec::new();
        let mut receipts: Vec<(FileHeader, RawReceipt)> = Vec::new();
        let (header, counts) = parse(&text, &mut |i| issues.push(i), &mut |h, r| {
            receipts.push((h.clone(), r))
        });
        ParsedFile {
            wrong_encoding: None,
            header,
            counts,
            issues,
            receipts,
        }
    }

    /// Takes in one parsed file: pseudonyms, duplicates, claim ids, master look-ups and
    /// the output rows, in file order.
    ///
    /// # Errors
    /// I/O errors writing output or rejects.
    pub fn consume(
        &mut self,
        input: &Input,
        parsed: ParsedFile,
        out: &mut Output,
        log: &mut IssueLog,
    ) -> std::io::Result<()> {
        if let Some(line) = parsed.wrong_encoding {
            return log.push(wrong_encoding(&input.origin, line));
        }
        let ParsedFile {
            header,
            counts,
            issues,
            receipts,
            ..
        } = parsed;
        self.stats.lines += counts.lines;
        for (k, n) in counts.records {
            *self.stats.records.entry(k).or_default() += n;
        }
        if let Some(h) = &header {
            self.stats.files += 1;
            let s = match h.schedule {
                Schedule::Medical => "medical",
                Schedule::Dental => "dental",
                Schedule::Pharmacy => "pharmacy",
            };
            *self.stats.files_by_schedule.entry(s.into()).or_default() += 1;
        }
        for i in issues {
            log.push(Issue::of_uke(input.origin.clone(), i))?;
        }
        for (h, r) in receipts {
            self.receipt(input, &h, r, out, log)?;
        }
        Ok(())
    }

    fn receipt(
        &mut self,
        input: &Input,
        h: &FileHeader,
        r: RawReceipt,
        out: &mut Output,
        log: &mut IssueLog,
    ) -> std::io::Result<()> {
        let reject = |kind: IssueKind, detail: String| Issue {
            file: input.origin.clone(),
            line: Some(r.line),
            record: "RE".into(),
            field: String::new(),
            kind,
            action: IssueAction::ReceiptRejected,
            detail,
        };
        // Pseudonymise first; the raw numbers go no further than this block.
        let id = &r.identity;
        // The 保険者番号 (or 公費負担者番号) is a number (6 or 8 digits); full-width
        // digits and spaces are normalised. Anything else is not an insurer: the receipt
        // cannot be attributed (and the value is not quoted: it may be a name).
        let insurer = normalise(&id.insurer);
        if !insurer.bytes().all(|b| b.is_ascii_digit()) {
            return log.push(reject(
                IssueKind::InvalidValue,
                "保険者番号 (HO field 2, or 公費負担者番号 KO field 2 when there is no HO) is not a number: only digits are accepted (full-width digits and spaces are normalised); the receipt cannot be attributed".into(),
            ));
        }
        let person_id = if !normalise(&id.number).is_empty() {
            self.key.person_id(&id.insurer, &id.symbol, &id.number)
        } else if !id.name.is_empty() && r.birth_date.is_some() {
            self.stats.identified_by_name += 1;
            let who = format!(
                "#{}/{}/{}",
                normalise(&id.name),
                r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                r.sex.map_or(0, Sex::code)
            );
            self.key.person_id(&id.insurer, &id.symbol, &who)
        } else {
            return log.push(reject(IssueKind::InvalidValue, "no 被保険者番号 (HO field 4 / KO field 3) and no 氏名 and 生年月日: the patient cannot be identified".into()));
        };
        let dup = receipt_key(
            &h.institution_code,
            h.claim_month,
            &r.number,
            &person_id,
            r.service_month,
            r.kind,
        );
        if !self.seen.insert(dup) {
            self.stats.duplicate_receipts += 1;
            return log.push(reject(IssueKind::DuplicateReceipt, format!("receipt {} of this institution and 請求年月 was read before for the same patient and 診療年月", r.number)));
        }
        let base = format!(
            "{}-{}-{}",
            h.institution_code,
            h.claim_month.format("%Y%m"),
            r.number
        );
        let n = self
            .claim_ids
            .entry(xxhash_rust::xxh3::xxh3_128(base.as_bytes()))
            .or_insert(0);
        *n += 1;
        let claim_id = if *n == 1 { base } else { format!("{base}-{n}") };

        // Looked up before inserting: the id is copied once per person, not per receipt.
        if !self.persons.contains_key(&person_id) {
            self.persons.insert(
                person_id.clone(),
                SeenPerson {
                    sex: r.sex,
                    birth_date: r.birth_date,
                    insurer: insurer.clone(),
                    prefecture: h.institution_code.get(..2).unwrap_or("13").to_string(),
                    first_month: r.service_month,
                },
            );
        }
        let e = self.persons.get_mut(&person_id).expect("inserted");
        e.first_month = e.first_month.min(r.service_month);
        e.sex = e.sex.or(r.sex);
        e.birth_date = e.birth_date.or(r.birth_date);

        out.medical_claim(&MedicalClaim {
            claim_id: claim_id.clone(),
            person_id: person_id.clone(),
            service_month: r.service_month,
            claim_kind: r.kind.code(),
            institution_code: h.institution_code.clone(),
            points: r.points,
            days: r.days,
        })?;
        *self
            .stats
            .receipts_by_kind
            .entry(r.kind.code())
            .or_default() += 1;
        self.diagnoses(input, &r, &claim_id, &person_id, out, log)?;
        self.drugs(input, &r, &claim_id, &person_id, out, log)
    }

    /// Writes the `claim_diagnoses` rows of a receipt (its SY/HS lines in order), each
    /// with the ICD-10 code of the disease master (current, else the 2019 master: counted as
    /// legacy). A code in neither is kept without ICD-10, counted, and logged on its first
    /// occurrence.
    fn diagnoses(
        &mut self,
        input: &Input,
        r: &RawReceipt,
        claim_id: &str,
        person_id: &PersonId,
        out: &mut Output,
        log: &mut IssueLog,
    ) -> std::io::Result<()> {
        for d in &r.diagnoses {
            let icd10 = match self.resolver.disease(&d.code) {
                Some(icd) => {
                    if self.resolver.disease_is_legacy(&d.code) {
                        self.stats.diagnosis_lines_legacy += 1;
                        self.stats.disease_codes_legacy.insert(d.code.clone());
                    }
                    icd.map(str::to_string)
                }
                None => {
                    self.stats.diagnosis_lines_unresolved += 1;
                    if self.stats.disease_codes_unresolved.insert(d.code.clone()) {
                        log.push(Issue { file: input.origin.clone(), line: Some(d.line), record: "SY".into(), field: "2".into(), kind: IssueKind::UnresolvedCode, action: IssueAction::Kept, detail: format!("傷病名コード {} is in neither the current nor the 2019 disease master; kept without ICD-10 (first occurrence)", d.code) })?;
                    }
                    None
                }
            };
            self.stats.diagnosis_lines += 1;
            out.diagnosis(&ClaimDiagnosis {
                claim_id: claim_id.to_string(),
                person_id: person_id.clone(),
                service_month: r.service_month,
                disease_code: d.code.clone(),
                icd10,
                suspected: d.suspected,
                start_date: d.start_date,
                outcome: d.outcome,
                main_diagnosis: d.main,
            })?;
        }
        Ok(())
    }

    /// Writes the `claim_drugs` rows of a receipt (its IY lines in order), with the YJ code
    /// of the drug master (current, else the 2019 master: counted as legacy). The route is
    /// that of the line's 診療識別 or 剤形 when they give one, else that of the current
    /// master's 剤形, else 9. A code in neither master is kept without YJ code, counted, and
    /// logged on its first occurrence.
    fn drugs(
        &mut self,
        input: &Input,
        r: &RawReceipt,
        claim_id: &str,
        person_id: &PersonId,
        out: &mut Output,
        log: &mut IssueLog,
    ) -> std::io::Result<()> {
        for d in &r.drugs {
            let explicit = d
                .category
                .as_deref()
                .and_then(route_of_category)
                .or_else(|| d.dosage_form.as_deref().and_then(route_of_dosage_form));
            let (yj, route) = match self.resolver.drug(&d.code) {
                DrugResolution::Current(e) => {
                    self.stats.drug_lines_current += 1;
                    (
                        Some(e.yj.clone()).filter(|y| !y.is_empty()),
                        explicit.or(Some(route_of_form(e.form))),
                    )
                }
                DrugResolution::Legacy { yj, .. } => {
                    self.stats.drug_lines_legacy += 1;
                    self.stats.drug_codes_legacy.insert(d.code.clone());
                    if yj.is_some() {
                        self.stats.drug_lines_legacy_with_yj += 1;
                    }
                    (yj.map(str::to_string), explicit.or(Some(Route::Other)))
                }
                DrugResolution::Unknown => {
                    self.stats.drug_lines_unresolved += 1;
                    if self.stats.drug_codes_unresolved.insert(d.code.clone()) {
                        log.push(Issue { file: input.origin.clone(), line: Some(d.line), record: "IY".into(), field: "4".into(), kind: IssueKind::UnresolvedCode, action: IssueAction::Kept, detail: format!("医薬品コード {} is in neither the current nor the 2019 drug master; kept without YJ code (first occurrence)", d.code) })?;
                    }
                    (None, explicit.or(Some(Route::Other)))
                }
            };
            self.stats.drug_lines += 1;
            out.drug(&ClaimDrug {
                claim_id: claim_id.to_string(),
                person_id: person_id.clone(),
                service_month: r.service_month,
                drug_code: d.code.clone(),
                yj_code: yj,
                route: route.map(Route::code),
                quantity: d.quantity,
                days: d.count,
            })?;
        }
        Ok(())
    }

    /// Notes a person seen elsewhere (a checkup), for [`Self::derived_persons`]: sex and
    /// birth date fill gaps, the first month is the earliest.
    pub fn observe(
        &mut self,
        person_id: &PersonId,
        sex: Option<Sex>,
        birth_date: Option<NaiveDate>,
        insurer: &str,
        prefecture: &str,
        month: NaiveDate,
    ) {
        let e = self.persons.entry(person_id.clone()).or_insert(SeenPerson {
            sex,
            birth_date,
            insurer: insurer.to_string(),
            prefecture: prefecture.to_string(),
            first_month: month,
        });
        e.sex = e.sex.or(sex);
        e.birth_date = e.birth_date.or(birth_date);
        e.first_month = e.first_month.min(month);
    }

    /// Ids of every person seen on receipts (and through [`Self::observe`]).
    pub fn person_ids(&self) -> impl Iterator<Item = &PersonId> {
        self.persons.keys()
    }

    /// Persons seen on receipts whose id is not in `known`, as `persons` rows with coverage
    /// from the first day of their earliest service month and no end (coverage unknown):
    /// the municipality is the one of a 後期 保険者番号 (39 + 都道府県 + the municipality's
    /// three digits) when that code exists, else the prefecture of the institution (its
    /// 全国地方公共団体コード, e.g. 310000 鳥取県). Persons without sex or birth date on any
    /// receipt cannot be written and are counted. Returns (rows written, persons left out).
    ///
    /// # Errors
    /// I/O errors writing output.
    pub fn derived_persons(
        &self,
        known: &HashSet<PersonId>,
        out: &mut Output,
    ) -> std::io::Result<(u64, u64)> {
        let municipalities: HashSet<String> = ittai_dataset::reference::municipalities()
            .into_iter()
            .map(|m| m.code)
            .collect();
        let (mut written, mut left) = (0, 0);
        for (pid, p) in &self.persons {
            if known.contains(pid) {
                continue;
            }
            let (Some(sex), Some(birth)) = (p.sex, p.birth_date) else {
                left += 1;
                continue;
            };
            // `get`, not an index: the insurer of a checkup is not checked for digits.
            let from_insurer = p
                .insurer
                .get(2..7)
                .filter(|_| p.insurer.len() == 8 && p.insurer.starts_with("39"))
                .and_then(|five| municipality_check_digit(five).map(|c| format!("{five}{c}")))
                .filter(|m| municipalities.contains(m));
            let muni = from_insurer.unwrap_or_else(|| {
                let five = format!("{}000", p.prefecture);
                format!("{five}{}", municipality_check_digit(&five).unwrap_or(0))
            });
            let insurer = if p.insurer.len() < 8 {
                format!("{:0>8}", p.insurer)
            } else {
                p.insurer.clone()
            };
            out.person(&Person {
                person_id: pid.clone(),
                sex: sex.code(),
                birth_date: birth,
                municipality_code: muni,
                insurer_number: insurer,
                coverage_start: p.first_month,
                coverage_end: None,
                loss_reason: None,
            })?;
            written += 1;
        }
        Ok((written, left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 医科 file of three receipts whose HO 保険者番号 (field 2) is `insurers[i]`.
    fn uke_with_insurers(insurers: [&str; 3]) -> String {
        let mut t = String::from("IR,2,13,1,1234567,,医院,202401,00,\n");
        for (i, ins) in insurers.iter().enumerate() {
            t.push_str(&format!(
                "RE,{n},1318,202401,テスト,2,19400101,\nHO,{ins},,0000000{n},2,500,\n",
                n = i + 1
            ));
        }
        t.push_str("GO,3,1500,99\n");
        t
    }

    #[test]
    fn a_multibyte_insurer_number_is_normalised_or_rejects_its_receipt() {
        let key = IdKey::from_bytes(b"0123456789abcdef").expect("key");
        let resolver = Resolver::vendored();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut out = Output::create(dir.path()).expect("output");
        let mut log = IssueLog::counting("uke");
        let mut ri = ReceiptIngest::new(&key, &resolver);
        // Full-width digits: read as 39131015. "39東京" is 8 bytes starting with 39 (it
        // used to be cut at byte 7, inside 京: a panic); "保険者番号１" is a label in the
        // wrong field. The last two are not numbers: their receipts are rejected.
        let text = uke_with_insurers(["３９１３１０１５", "39東京", "保険者番号１"]);
        let input = Input {
            origin: "x.UKE".into(),
            bytes: text.into_bytes(),
        };
        ri.file(&input, &mut out, &mut log).expect("io");
        let (written, left) = ri.derived_persons(&HashSet::new(), &mut out).expect("io");
        assert_eq!((written, left), (1, 0));
        out.finish().expect("commit");
        assert_eq!(
            log.counts()
                .iter()
                .map(|(k, n)| (*k, *n))
                .collect::<Vec<_>>(),
            [((IssueKind::InvalidValue, IssueAction::ReceiptRejected), 2)]
        );
        let lines: Vec<Option<u64>> = log.first().iter().map(|i| i.line).collect();
        assert_eq!(lines, [Some(4), Some(6)]);
        let (claims, _) = ittai_dataset::read_rows::<MedicalClaim>(dir.path()).expect("claims");
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].claim_id, "1311234567-202401-1");
        assert_eq!(
            claims[0].person_id,
            key.person_id("39131015", "", "00000001")
        );
        let (persons, _) = ittai_dataset::read_rows::<Person>(dir.path()).expect("persons");
        assert_eq!(persons.len(), 1);
        // 39 13 101 5: 東京都 千代田区 13101, check digit 6.
        assert_eq!(
            (
                persons[0].insurer_number.as_str(),
                persons[0].municipality_code.as_str()
            ),
            ("39131015", "131016")
        );
    }
}
