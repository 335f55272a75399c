//! The SSK base masters (社会保険診療報酬支払基金 基本マスター): drugs (`y`), diseases (`b`)
//! and modifiers (`z`), in their published CSV format (CP932, quoted fields).
//!
//! Column positions follow 「レセプト電算処理システム マスターファイル仕様説明書」
//! (令和4年4月), cited per field below. The vendored snapshots are compiled into the
//! binary (`reference/masters/`, origins in `reference/SOURCES.md`).

use std::collections::HashMap;
use std::io::{Cursor, Read};

use chrono::NaiveDate;

const Y_ZIP: &[u8] = include_bytes!("../../../reference/masters/ssk_y_ALL20240321.zip");
const B_ZIP: &[u8] = include_bytes!("../../../reference/masters/ssk_b_20240601.zip");
const Z_ZIP: &[u8] = include_bytes!("../../../reference/masters/ssk_z_20250601.zip");

/// Error reading a master file.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct MasterError {
    /// File or `<built-in …>`.
    pub origin: String,
    /// What went wrong, with the line when known.
    pub message: String,
}

/// 剤形 of the drug master (column 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DosageForm {
    /// 1 内用薬.
    Internal,
    /// 3 その他.
    Other,
    /// 4 注射薬.
    Injection,
    /// 6 外用薬.
    External,
    /// 8 歯科用薬剤.
    Dental,
}

impl DosageForm {
    fn from_code(c: &str) -> Option<Self> {
        Some(match c {
            "1" => Self::Internal,
            "3" => Self::Other,
            "4" => Self::Injection,
            "6" => Self::External,
            "8" => Self::Dental,
            _ => return None,
        })
    }
}

/// One product of the drug master.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugEntry {
    /// 医薬品コード, 9 digits (column 3).
    pub code: String,
    /// 医薬品名・規格名 (漢字, column 5).
    pub name: String,
    /// 単位 (漢字, column 10), e.g. 錠.
    pub unit: String,
    /// 薬価基準収載医薬品コード (YJ), 12 characters; empty for some products (column 32).
    pub yj: String,
    /// 剤形 (column 28).
    pub form: DosageForm,
    /// 後発品 (column 17 = 1).
    pub generic: bool,
    /// 新又は現金額 (薬価), yen per unit (column 12).
    pub price_yen: f64,
    /// 廃止年月日 (column 31; `99999999` = in use → `None`).
    pub retired: Option<NaiveDate>,
}

/// A drug master snapshot keyed by the 9-digit code (YJ is not unique per product).
#[derive(Debug, Clone, Default)]
pub struct DrugMaster {
    entries: Vec<DrugEntry>,
    by_code: HashMap<String, usize>,
}

fn unzip_first(bytes: &[u8], origin: &str) -> Result<Vec<u8>, MasterError> {
    let err = |m: String| MasterError {
        origin: origin.to_string(),
        message: m,
    };
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| err(e.to_string()))?;
    let mut f = z.by_index(0).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::with_capacity(f.size() as usize);
    f.read_to_end(&mut out).map_err(|e| err(e.to_string()))?;
    Ok(out)
}

/// Decodes CP932 (or UTF-8 when the bytes are valid UTF-8) and parses quoted CSV rows.
fn ssk_rows(
    bytes: &[u8],
    origin: &str,
    min_cols: usize,
) -> Result<Vec<csv::StringRecord>, MasterError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let (t, _, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
            if bad {
                return Err(MasterError {
                    origin: origin.into(),
                    message: "neither UTF-8 nor Shift_JIS (CP932) text".into(),
                });
            }
            t
        }
    };
    let mut rows = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| MasterError {
            origin: origin.into(),
            message: format!("line {}: {e}", i + 1),
        })?;
        if r.len() < min_cols {
            return Err(MasterError {
                origin: origin.into(),
                message: format!(
                    "line {}: {} columns, expected at least {min_cols}",
                    i + 1,
                    r.len()
                ),
            });
        }
        rows.push(r);
    }
    Ok(rows)
}

fn yyyymmdd(s: &str) -> Option<NaiveDate> {
    if s == "99999999" || s.is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

impl DrugMaster {
    /// Parses an SSK drug master (`y_*.csv`, 40 or 42 columns, CP932 or UTF-8).
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text, a short row or an unknown 剤形.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, MasterError> {
        let mut m = DrugMaster::default();
        for (i, r) in ssk_rows(bytes, origin, 32)?.into_iter().enumerate() {
            let form = DosageForm::from_code(&r[27]).ok_or_else(|| MasterError {
                origin: origin.into(),
                message: format!("line {}: 剤形 {:?} is not 1, 3, 4, 6 or 8", i + 1, &r[27]),
            })?;
            let e = DrugEntry {
                code: r[2].to_string(),
                name: r[4].to_string(),
                unit: r[9].to_string(),
                yj: r[31].to_string(),
                form,
                generic: &r[16] == "1",
                price_yen: r[11].parse().unwrap_or(0.0),
                retired: yyyymmdd(&r[30]),
            };
            m.by_code.insert(e.code.clone(), m.entries.len());
            m.entries.push(e);
        }
        Ok(m)
    }

    /// The vendored snapshot (2024-03-21, 19,686 products).
    ///
    /// # Panics
    /// Never for the vendored file (tested).
    pub fn embedded() -> Self {
        let bytes =
            unzip_first(Y_ZIP, "<built-in ssk_y_ALL20240321.zip>").expect("vendored drug master");
        Self::parse(&bytes, "<built-in ssk_y_ALL20240321.zip>")
            .expect("vendored drug master parses")
    }

    /// The product with a 9-digit code.
    pub fn get(&self, code: &str) -> Option<&DrugEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// All products in file order.
    pub fn entries(&self) -> &[DrugEntry] {
        &self.entries
    }
}

/// One disease name of the 傷病名マスター.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiseaseEntry {
    /// 傷病名コード, 7 digits (column 3).
    pub code: String,
    /// 傷病名 基本名称 (column 6).
    pub name: String,
    /// ICD-10-1 (2013) without dot (column 16); empty for 未コード化 etc.
    pub icd10: String,
    /// 廃止年月日 (column 24).
    pub retired: Option<NaiveDate>,
}

/// A disease master snapshot keyed by the 7-digit code.
#[derive(Debug, Clone, Default)]
pub struct DiseaseMaster {
    entries: Vec<DiseaseEntry>,
    by_code: HashMap<String, usize>,
}

impl DiseaseMaster {
    /// Parses an SSK disease master (`b_*.txt`, CP932 or UTF-8).
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text or a short row.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, MasterError> {
        let mut m = DiseaseMaster::default();
        for r in ssk_rows(bytes, origin, 24)? {
            let e = DiseaseEntry {
                code: r[2].to_string(),
                name: r[5].to_string(),
                icd10: r[15].to_string(),
                retired: yyyymmdd(&r[23]),
            };
            m.by_code.insert(e.code.clone(), m.entries.len());
            m.entries.push(e);
        }
        Ok(m)
    }

    /// The vendored snapshot (2024-06-01, 27,437 names).
    ///
    /// # Panics
    /// Never for the vendored file (tested).
    pub fn embedded() -> Self {
        let bytes =
            unzip_first(B_ZIP, "<built-in ssk_b_20240601.zip>").expect("vendored disease master");
        Self::parse(&bytes, "<built-in ssk_b_20240601.zip>")
            .expect("vendored disease master parses")
    }

    /// The name with a 7-digit code.
    pub fn get(&self, code: &str) -> Option<&DiseaseEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// All names in file order.
    pub fn entries(&self) -> &[DiseaseEntry] {
        &self.entries
    }
}

/// 修飾語コード of 「の疑い」 (suspected), SSK 修飾語マスター.
pub const SUSPECTED_MODIFIER: &str = "8002";

/// The 修飾語マスター: 4-digit code → name.
#[derive(Debug, Clone, Default)]
pub struct ModifierMaster {
    by_code: HashMap<String, String>,
}

impl ModifierMaster {
    /// Parses an SSK modifier master (`z_*.txt`).
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text or a short row.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, MasterError> {
        let mut m = ModifierMaster::default();
        for r in ssk_rows(bytes, origin, 7)? {
            m.by_code.insert(r[2].to_string(), r[6].to_string());
        }
        Ok(m)
    }

    /// The vendored snapshot (2025-06-01).
    ///
    /// # Panics
    /// Never for the vendored file (tested).
    pub fn embedded() -> Self {
        let bytes =
            unzip_first(Z_ZIP, "<built-in ssk_z_20250601.zip>").expect("vendored modifier master");
        Self::parse(&bytes, "<built-in ssk_z_20250601.zip>")
            .expect("vendored modifier master parses")
    }

    /// Name of a modifier code.
    pub fn get(&self, code: &str) -> Option<&str> {
        self.by_code.get(code).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_drug_master_knows_the_spec_products() {
        let m = DrugMaster::embedded();
        assert_eq!(m.entries().len(), 19_686);
        let mysl = m.get("610443047").unwrap(); // マイスリー錠５ｍｇ
        assert_eq!(mysl.name, "マイスリー錠５ｍｇ");
        assert_eq!(mysl.yj, "1129009F1025");
        assert_eq!(mysl.form, DosageForm::Internal);
        assert!(!mysl.generic);
        assert_eq!(mysl.retired, None);
        assert_eq!(m.get("620005904").unwrap().yj, "2171022F1045"); // アムロジン錠２．５ｍｇ
    }

    #[test]
    fn vendored_disease_and_modifier_masters() {
        let b = DiseaseMaster::embedded();
        assert_eq!(b.entries().len(), 27_437);
        let e = b.get("8848176").unwrap();
        assert_eq!(
            (e.name.as_str(), e.icd10.as_str()),
            ("１１β－水酸化酵素欠損症", "E250")
        );
        assert_eq!(b.get("0000999").unwrap().icd10, "");
        let z = ModifierMaster::embedded();
        assert_eq!(z.get(SUSPECTED_MODIFIER), Some("の疑い"));
    }

    #[test]
    fn bad_master_names_the_line() {
        let err = DrugMaster::parse(b"\"0\",\"Y\",\"1\"\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.csv") && err.contains("line 1"), "{err}");
    }
}
