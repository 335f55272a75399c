//! レセプト電算処理 (UKE) receipt files: reading ([`read`]) and writing ([`write`](mod@write)).
//!
//! A file is a header record (IR 医科・DPC, UK 歯科, YK 調剤), receipts each starting with
//! RE, and a GO trailer; one record per line, fields separated by commas, no quoting.
//! Field positions follow 「オンライン又は光ディスク等による請求に係る記録条件仕様（医科用）」
//! (令和4年4月版) for 医科; the 歯科 positions are those of the real sample receipt
//! (reference: uke/samples_orca/shika_shaho.csv) checked against a transcription of the
//! 歯科用 spec; DPC receipts are 医科入院 receipts with a BU (診断群分類) record. The official
//! 調剤用 spec is not in ittai's reference set: ittai reads and writes the 調剤 records it
//! needs (YK, SH, CZ, IY) in the provisional layout documented in docs/INGEST.md.
//! Both the current layout (西暦 YYYYMM / YYYYMMDD) and the older one (和暦 GYYMM /
//! GYYMMDD) are read; the width of each date field tells which.

pub mod read;
pub mod write;

use chrono::NaiveDate;
use ittai_model::time::{parse_wareki_date, parse_wareki_month, parse_yyyymm, parse_yyyymmdd};
use ittai_model::{ClaimKind, Route};

/// The fee schedule (点数表) of a file: its header record and what its receipts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Schedule {
    /// 医科 (IR header; also DPC receipts).
    Medical,
    /// 歯科 (UK header).
    Dental,
    /// 調剤 (YK header).
    Pharmacy,
}

impl Schedule {
    /// 点数表 code (別表3): 1 医科, 3 歯科, 4 調剤.
    pub fn code(self) -> char {
        match self {
            Schedule::Medical => '1',
            Schedule::Dental => '3',
            Schedule::Pharmacy => '4',
        }
    }
}

/// The canonical claim kind (docs/reference/dataset.md) of a receipt from its レセプト種別 (RE field 3, 別表5)
/// and whether it has DPC records: first digit 1 医科 (fourth digit odd 入院 →
/// [`ClaimKind::Inpatient`], or [`ClaimKind::Dpc`] with DPC records; even or 0 入院外 →
/// [`ClaimKind::Outpatient`]), 3 歯科 → [`ClaimKind::Dental`], 4 調剤 →
/// [`ClaimKind::Pharmacy`]. `None` for anything else.
pub fn claim_kind(receipt_type: &str, dpc: bool) -> Option<ClaimKind> {
    let b = receipt_type.as_bytes();
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let inpatient = (b[3] - b'0') % 2 == 1;
    match b[0] {
        b'1' if inpatient && dpc => Some(ClaimKind::Dpc),
        b'1' if inpatient => Some(ClaimKind::Inpatient),
        b'1' => Some(ClaimKind::Outpatient),
        b'3' => Some(ClaimKind::Dental),
        b'4' => Some(ClaimKind::Pharmacy),
        _ => None,
    }
}

/// The fee schedule whose files carry receipts of `kind` (DPC receipts are 医科 receipts;
/// 訪問看護 has its own receipt format, counted here as 医科).
pub fn schedule_of(kind: ClaimKind) -> Schedule {
    match kind {
        ClaimKind::Dental => Schedule::Dental,
        ClaimKind::Pharmacy => Schedule::Pharmacy,
        ClaimKind::Inpatient | ClaimKind::Outpatient | ClaimKind::Dpc | ClaimKind::HomeNursing => {
            Schedule::Medical
        }
    }
}

/// The drug route of a 医科・歯科 IY line from its 診療識別 (別表20): 21 内服 →
/// [`Route::Oral`], 22 屯服 → [`Route::AsNeeded`], 23 外用 → [`Route::External`], 31–33
/// 注射 → [`Route::Injection`]; `None` for other categories (在宅, 処置, 手術, 検査 …), where
/// the master's 剤形 decides.
pub fn route_of_category(category: &str) -> Option<Route> {
    match category {
        "21" => Some(Route::Oral),
        "22" => Some(Route::AsNeeded),
        "23" => Some(Route::External),
        "31" | "32" | "33" => Some(Route::Injection),
        _ => None,
    }
}

/// The route of a 調剤 drug from the 剤形コード of its SH record (1 内服, 2 内滴, 6 浸煎,
/// 7 湯 → [`Route::Oral`]; 3 屯服 → [`Route::AsNeeded`]; 4 注射 → [`Route::Injection`];
/// 5 外用 → [`Route::External`]; 9 材料 → [`Route::Other`]).
pub fn route_of_dosage_form(code: &str) -> Option<Route> {
    match code {
        "1" | "2" | "6" | "7" => Some(Route::Oral),
        "3" => Some(Route::AsNeeded),
        "4" => Some(Route::Injection),
        "5" => Some(Route::External),
        "9" => Some(Route::Other),
        _ => None,
    }
}

/// A year-month field in either layout: `YYYYMM` (6) or 和暦 `GYYMM` (5).
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    match s.len() {
        6 => parse_yyyymm(s).ok(),
        5 => parse_wareki_month(s).ok(),
        _ => None,
    }
}

/// A date field in either layout: `YYYYMMDD` (8) or 和暦 `GYYMMDD` (7).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    match s.len() {
        8 => parse_yyyymmdd(s).ok(),
        7 => parse_wareki_date(s).ok(),
        _ => None,
    }
}

/// Splits a 修飾語コード field (4-character codes run together) into its codes.
pub fn modifier_codes(s: &str) -> impl Iterator<Item = &str> {
    (0..s.len() / 4).filter_map(move |i| s.get(i * 4..i * 4 + 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_kinds_from_receipt_types() {
        // 1112 医科 医保単独 本人 入院外; 1318 後期 入院外; 1317 後期 入院; 3112 歯科; 4118 調剤.
        assert_eq!(claim_kind("1112", false), Some(ClaimKind::Outpatient));
        assert_eq!(claim_kind("1318", false), Some(ClaimKind::Outpatient));
        assert_eq!(claim_kind("1317", false), Some(ClaimKind::Inpatient));
        assert_eq!(claim_kind("1317", true), Some(ClaimKind::Dpc));
        assert_eq!(claim_kind("1310", false), Some(ClaimKind::Outpatient)); // 0 = 入院外 (7割)
        assert_eq!(claim_kind("3112", false), Some(ClaimKind::Dental));
        assert_eq!(claim_kind("4118", false), Some(ClaimKind::Pharmacy));
        assert_eq!(claim_kind("2112", false), None);
        assert_eq!(claim_kind("13x8", false), None);
    }

    #[test]
    fn dates_in_both_layouts_and_modifiers() {
        assert_eq!(parse_month("43101"), NaiveDate::from_ymd_opt(2019, 1, 1));
        assert_eq!(parse_month("202401"), NaiveDate::from_ymd_opt(2024, 1, 1));
        assert_eq!(parse_month("202413"), None);
        assert_eq!(parse_date("4070208"), NaiveDate::from_ymd_opt(1995, 2, 8));
        assert_eq!(parse_date("20240229"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(parse_date("20230229"), None);
        assert_eq!(
            modifier_codes("10114012").collect::<Vec<_>>(),
            ["1011", "4012"]
        );
        assert_eq!(modifier_codes("8002").collect::<Vec<_>>(), ["8002"]);
    }
}
