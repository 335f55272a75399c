//! Writing canonical claims as UKE files (used by `ittai synth --format uke` so that the
//! round trip canonical → UKE → ingest → canonical can be checked).
//!
//! One file per institution and 請求年月 (the month after the service month), as a
//! facility submits them: `ika/<institution>_<YYYYMM>.UKE` for 医科 and DPC,
//! `shika/…` for 歯科, `chozai/…` for 調剤; Shift_JIS with CRLF and the 0x1A end mark, or
//! UTF-8 with LF. A receipt carries what the canonical tables hold: the 後期 receipt type
//! (1317 入院 / 1318 入院外, 3318 歯科, 4318 調剤), 診療年月, sex, birth date, the HO
//! record (保険者番号, 被保険者番号, 実日数, 合計点数), one SY (歯科: HS) per diagnosis, one
//! IY per drug (調剤: an SH/CZ/IY 処方 per drug; SY 主傷病 01 on the main diagnosis; the HS
//! layout ittai writes has no 主傷病), a BU record on DPC receipts, and one
//! SI (歯科: SS) line carrying the receipt's points so that the lines add up to 合計点数.
//! Names are not written (the field holds 「＊」). 訪問看護 claims (kind 6) have their own
//! receipt format and are not written.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use ittai_model::time::{add_months, to_wareki_date};
use ittai_model::{ClaimKind, Route, Sex};

use ittai_dataset::{ClaimDiagnosis, ClaimDrug, MedicalClaim};

use super::{Schedule, schedule_of};

/// Text encoding of written files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UkeEncoding {
    /// Shift_JIS (CP932), CRLF, 0x1A at the end: the submission format.
    ShiftJis,
    /// UTF-8, LF.
    Utf8,
}

/// A receipt to write.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptOut<'a> {
    /// The claim (kinds 1–5).
    pub claim: &'a MedicalClaim,
    /// 保険者番号.
    pub insurer: &'a str,
    /// 被保険者番号.
    pub number: &'a str,
    /// 男女区分.
    pub sex: Sex,
    /// 生年月日.
    pub birth_date: NaiveDate,
    /// Its diagnoses.
    pub diagnoses: &'a [ClaimDiagnosis],
    /// Its drugs.
    pub drugs: &'a [ClaimDrug],
}

struct FileState {
    path: PathBuf,
    receipts: u64,
    points: i64,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UkeWriteSummary {
    /// Files written.
    pub files: u64,
    /// Receipts written.
    pub receipts: u64,
    /// Records (lines) written.
    pub lines: u64,
    /// Claims not written (訪問看護).
    pub skipped_claims: u64,
}

/// Writes receipts into per-institution, per-month files under a directory, keeping a
/// bounded number of files open.
pub struct UkeWriter {
    dir: PathBuf,
    encoding: UkeEncoding,
    wareki: bool,
    files: HashMap<(String, NaiveDate), FileState>,
    open: HashMap<(String, NaiveDate), std::io::BufWriter<std::fs::File>>,
    order: VecDeque<(String, NaiveDate)>,
    summary: UkeWriteSummary,
}

impl std::fmt::Debug for UkeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UkeWriter")
            .field("dir", &self.dir)
            .field("files", &self.files.len())
            .finish()
    }
}

const MAX_OPEN: usize = 128;

fn month(d: NaiveDate, wareki: bool) -> String {
    if wareki {
        to_wareki_date(d)[..5].to_string()
    } else {
        format!("{:04}{:02}", d.year(), d.month())
    }
}

fn date(d: Option<NaiveDate>, wareki: bool) -> String {
    match d {
        Some(d) if wareki => to_wareki_date(d),
        Some(d) => format!("{:04}{:02}{:02}", d.year(), d.month(), d.day()),
        None => String::new(),
    }
}

/// A number without trailing zeros: 1.0 → "1", 0.5 → "0.5".
fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

/// An IY record of `width` fields (医科 44, 歯科 39) for a drug line: 診療識別 from the route,
/// 使用量, and the 回数 in field 7 and again at `count_at` (0-based; the first 回数 field).
fn iy(d: &ClaimDrug, width: usize, count_at: usize) -> String {
    let count = d.days.map(|x| x.to_string()).unwrap_or_default();
    let mut f = vec![
        "IY".to_string(),
        category(d.route.and_then(Route::from_code)).into(),
        "1".into(),
        d.drug_code.clone(),
        num(d.quantity),
        "0".into(),
        count.clone(),
    ];
    pad(&mut f, width);
    f[count_at] = count;
    f.join(",")
}

/// A record of `n` fields: `fields` then empty ones.
fn record(fields: &[&str], n: usize) -> String {
    let mut v: Vec<&str> = fields.to_vec();
    v.resize(n.max(fields.len()), "");
    v.join(",")
}

fn pad(fields: &mut Vec<String>, n: usize) {
    fields.resize(n, String::new());
}

impl UkeWriter {
    /// A writer into `dir` (created).
    ///
    /// # Errors
    /// I/O errors creating the directory.
    pub fn new(dir: &Path, encoding: UkeEncoding, wareki: bool) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(UkeWriter {
            dir: dir.to_path_buf(),
            encoding,
            wareki,
            files: HashMap::new(),
            open: HashMap::new(),
            order: VecDeque::new(),
            summary: UkeWriteSummary::default(),
        })
    }

    fn subdir(schedule: Schedule) -> &'static str {
        match schedule {
            Schedule::Dental => "shika",
            Schedule::Pharmacy => "chozai",
            Schedule::Medical => "ika",
        }
    }

    fn encode(&self, lines: &[String]) -> Vec<u8> {
        let sep = if self.encoding == UkeEncoding::ShiftJis {
            "\r\n"
        } else {
            "\n"
        };
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push_str(sep);
        }
        match self.encoding {
            UkeEncoding::Utf8 => text.into_bytes(),
            UkeEncoding::ShiftJis => encoding_rs::SHIFT_JIS.encode(&text).0.into_owned(),
        }
    }

    fn append(
        &mut self,
        key: &(String, NaiveDate),
        schedule: Schedule,
        lines: Vec<String>,
    ) -> std::io::Result<()> {
        let bytes = self.encode(&lines);
        self.summary.lines += lines.len() as u64;
        if !self.open.contains_key(key) {
            if self.open.len() >= MAX_OPEN {
                while let Some(old) = self.order.pop_front() {
                    if let Some(mut w) = self.open.remove(&old) {
                        w.flush()?;
                        break;
                    }
                }
            }
            let exists = self.files.contains_key(key);
            let path = self
                .files
                .get(key)
                .map(|f| f.path.clone())
                .unwrap_or_else(|| {
                    self.dir.join(Self::subdir(schedule)).join(format!(
                        "{}_{:04}{:02}.UKE",
                        key.0,
                        key.1.year(),
                        key.1.month()
                    ))
                });
            if !exists {
                std::fs::create_dir_all(path.parent().expect("subdir"))?;
                self.files.insert(
                    key.clone(),
                    FileState {
                        path: path.clone(),
                        receipts: 0,
                        points: 0,
                    },
                );
                self.summary.files += 1;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(exists)
                .write(true)
                .truncate(!exists)
                .open(&path)?;
            self.open
                .insert(key.clone(), std::io::BufWriter::with_capacity(64 * 1024, f));
            self.order.push_back(key.clone());
        }
        self.open.get_mut(key).expect("open").write_all(&bytes)
    }

    fn header(&self, schedule: Schedule, inst: &str, claim_month: NaiveDate) -> Vec<String> {
        let (pref, table, code) = (&inst[..2], &inst[2..3], &inst[3..]);
        let m = month(claim_month, self.wareki);
        match schedule {
            Schedule::Dental => vec![format!("UK,2,{pref},{table},{code},,＊＊歯科,{m},,00")],
            Schedule::Pharmacy => vec![format!("YK,2,{pref},{table},{code},,＊＊薬局,{m},00,")],
            Schedule::Medical => vec![format!("IR,2,{pref},{table},{code},,＊＊病院,{m},00,")],
        }
    }

    /// Appends one receipt (kinds 1–5; kind 6 is counted as skipped).
    ///
    /// # Errors
    /// I/O errors.
    pub fn write(&mut self, r: &ReceiptOut<'_>) -> std::io::Result<()> {
        let c = r.claim;
        let kind = ClaimKind::from_code(c.claim_kind).filter(|k| *k != ClaimKind::HomeNursing);
        let Some(kind) = kind.filter(|_| c.institution_code.len() == 10) else {
            self.summary.skipped_claims += 1;
            return Ok(());
        };
        let schedule = schedule_of(kind);
        let claim_month = add_months(c.service_month, 1);
        let key = (c.institution_code.clone(), claim_month);
        let mut lines = Vec::new();
        let new_file = !self.files.contains_key(&key);
        if new_file {
            lines.extend(self.header(schedule, &c.institution_code, claim_month));
        }
        let seq = self.files.get(&key).map_or(0, |f| f.receipts) + 1;
        let w = self.wareki;
        let receipt_type = receipt_type(kind);
        let points = c.points.map(|p| p.to_string()).unwrap_or_default();
        let days = c.days.map(|d| d.to_string()).unwrap_or_default();
        let sm = month(c.service_month, w);
        let birth = date(Some(r.birth_date), w);
        let insurer = format!("{:>8}", r.insurer);
        if kind == ClaimKind::Dental {
            // 歯科 receipts repeat the institution record before their RE.
            let inst = &c.institution_code;
            lines.push(format!(
                "IR,2,{},{},{},,{},,",
                &inst[..2],
                &inst[2..3],
                &inst[3..],
                month(claim_month, w)
            ));
        }
        // RE and HO: the same fields in every 点数表; the 歯科 layout has fewer after them.
        let (re_width, ho_width) = if kind == ClaimKind::Dental {
            (27, 14)
        } else {
            (38, 15)
        };
        let re = [
            "RE",
            &seq.to_string(),
            receipt_type,
            &sm,
            "＊",
            r.sex.code_text(),
            &birth,
        ];
        lines.push(record(&re, re_width));
        lines.push(record(
            &["HO", &insurer, "", r.number, &days, &points],
            ho_width,
        ));
        if kind == ClaimKind::Dental {
            for d in r.diagnoses {
                let mut hs = vec![
                    "HS".to_string(),
                    date(d.start_date, w),
                    d.outcome.map(|o| o.to_string()).unwrap_or_default(),
                    String::new(),
                    d.disease_code.clone(),
                    if d.suspected {
                        "8002".into()
                    } else {
                        String::new()
                    },
                ];
                pad(&mut hs, 13);
                lines.push(hs.join(","));
            }
            let mut ss = vec![
                "SS".to_string(),
                "12".into(),
                "1".into(),
                "301001210".into(),
            ];
            pad(&mut ss, 109);
            ss[76] = points.clone();
            ss[77] = "1".into();
            ss[78] = "1".into();
            lines.push(ss.join(","));
            for d in r.drugs {
                lines.push(iy(d, 39, 8));
            }
        } else if kind == ClaimKind::Pharmacy {
            for (i, d) in r.drugs.iter().enumerate() {
                let rx = (i + 1).to_string();
                let form = dosage_form(d.route.and_then(Route::from_code));
                lines.push(format!("SH,{rx},{form},,"));
                lines.push(format!(
                    "CZ,{rx},01,{},0",
                    d.days.map(|x| x.to_string()).unwrap_or_default()
                ));
                lines.push(format!("IY,{rx},{},{}", d.drug_code, num(d.quantity)));
            }
            for d in r.diagnoses {
                lines.push(sy(d, w));
            }
        } else {
            if kind == ClaimKind::Dpc {
                lines.push("BU,000000xx99x0xx,,,,".into());
            }
            for d in r.diagnoses {
                lines.push(sy(d, w));
            }
            let outpatient = kind == ClaimKind::Outpatient;
            let mut si = vec![
                "SI".to_string(),
                if outpatient { "12" } else { "90" }.into(),
                "1".into(),
                if outpatient { "112007410" } else { "190077410" }.into(),
                String::new(),
                points.clone(),
                "1".into(),
            ];
            pad(&mut si, 44);
            si[13] = "1".into();
            lines.push(si.join(","));
            for d in r.drugs {
                lines.push(iy(d, 44, 13));
            }
        }
        self.append(&key, schedule, lines)?;
        let f = self.files.get_mut(&key).expect("file");
        f.receipts += 1;
        f.points += c.points.unwrap_or(0);
        self.summary.receipts += 1;
        Ok(())
    }

    /// Closes every file with its GO trailer (and the 0x1A end mark in Shift_JIS).
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(mut self) -> std::io::Result<UkeWriteSummary> {
        for (_, mut w) in self.open.drain() {
            w.flush()?;
        }
        let files: BTreeMap<_, _> = self
            .files
            .iter()
            .map(|(k, v)| (k.clone(), (v.path.clone(), v.receipts, v.points)))
            .collect();
        for (_, (path, receipts, points)) in files {
            let mut bytes = self.encode(&[format!("GO,{receipts},{points},99")]);
            if self.encoding == UkeEncoding::ShiftJis {
                bytes.push(0x1a);
            }
            let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
            f.write_all(&bytes)?;
            self.summary.lines += 1;
        }
        Ok(self.summary)
    }
}

/// An SY record: 2 傷病名コード, 3 診療開始日, 4 転帰区分, 5 修飾語コード (8002 when
/// suspected), 6 傷病名称 (empty), 7 主傷病 (01 for the main diagnosis, else empty, as the
/// spec asks; a diagnosis whose flag is unknown is written empty and read back as not
/// main), 8 補足コメント (empty).
fn sy(d: &ClaimDiagnosis, wareki: bool) -> String {
    format!(
        "SY,{},{},{},{},,{},",
        d.disease_code,
        date(d.start_date, wareki),
        d.outcome.map(|o| o.to_string()).unwrap_or_default(),
        if d.suspected { "8002" } else { "" },
        if d.main_diagnosis == Some(true) {
            "01"
        } else {
            ""
        }
    )
}

/// The 後期 レセプト種別 written for a claim kind: 1317 医科入院 (also DPC), 1318 医科入院外,
/// 3318 歯科, 4318 調剤 (訪問看護 is not written; 4318 like the other kinds without a form).
fn receipt_type(kind: ClaimKind) -> &'static str {
    match kind {
        ClaimKind::Inpatient | ClaimKind::Dpc => "1317",
        ClaimKind::Outpatient => "1318",
        ClaimKind::Dental => "3318",
        ClaimKind::Pharmacy | ClaimKind::HomeNursing => "4318",
    }
}

/// 診療識別 for a canonical route: 21 内服, 22 屯服, 23 外用, 33 注射・その他, 28 投薬・その他
/// (other or unknown routes).
fn category(route: Option<Route>) -> &'static str {
    match route {
        Some(Route::Oral) => "21",
        Some(Route::AsNeeded) => "22",
        Some(Route::External) => "23",
        Some(Route::Injection) => "33",
        Some(Route::Other) | None => "28",
    }
}

/// 剤形コード of a 調剤 SH record for a canonical route: 1 内服, 3 屯服, 5 外用, 4 注射,
/// 9 other or unknown.
fn dosage_form(route: Option<Route>) -> &'static str {
    match route {
        Some(Route::Oral) => "1",
        Some(Route::AsNeeded) => "3",
        Some(Route::External) => "5",
        Some(Route::Injection) => "4",
        Some(Route::Other) | None => "9",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnosis(code: &str, main: Option<bool>) -> ClaimDiagnosis {
        ClaimDiagnosis {
            claim_id: "c1".into(),
            person_id: "p1".into(),
            service_month: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
            disease_code: code.into(),
            icd10: None,
            suspected: false,
            start_date: NaiveDate::from_ymd_opt(2023, 1, 1),
            outcome: Some(1),
            main_diagnosis: main,
        }
    }

    /// 主傷病 survives SY → reader: 01 for the main diagnosis, empty otherwise (read back as
    /// not main, so an unknown flag becomes false).
    #[test]
    fn sy_records_carry_the_main_diagnosis_through_the_reader() {
        let lines: Vec<String> = [
            diagnosis("8840107", Some(true)),
            diagnosis("4011002", Some(false)),
            diagnosis("2500013", None),
        ]
        .iter()
        .map(|d| sy(d, false))
        .collect();
        assert_eq!(lines[0], "SY,8840107,20230101,1,,,01,");
        let text = format!(
            "IR,2,13,1,1234567,,医院,202401,00,\nRE,1,1318,202401,A,2,19400101,\nHO,39131032,,1,1,100,\n{}\nGO,1,100,99\n",
            lines.join("\n")
        );
        let mut receipts = Vec::new();
        let mut issues = Vec::new();
        super::super::read::parse(&text, &mut |i| issues.push(i), &mut |_, r| receipts.push(r));
        assert!(issues.is_empty(), "{issues:?}");
        let main: Vec<Option<bool>> = receipts[0].diagnoses.iter().map(|d| d.main).collect();
        assert_eq!(main, [Some(true), Some(false), Some(false)]);
    }
}
