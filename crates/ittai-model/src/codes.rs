//! Code tables of the canonical dataset (docs/reference/dataset.md). Each enum's `code()` is the value
//! stored in the dataset; `from_code` is its inverse and returns `None` for a code
//! outside the domain, which the validator reports as a violation.

use serde::{Deserialize, Serialize};

/// The dataset codes of a u8-coded enum, in the order of its `ALL` array: `[ALL[0] as u8, …]`.
macro_rules! u8_codes {
    ($all:expr, $n:literal) => {{
        let all = $all;
        let mut out = [0u8; $n];
        let mut i = 0;
        while i < $n {
            out[i] = all[i] as u8;
            i += 1;
        }
        out
    }};
}

/// Pseudonymised person identifier, column `person_id` of every canonical table (str).
///
/// From ingest it is `p` + 32 hex digits, the first 128 bits of HMAC-SHA256 of the
/// normalised insurance numbers under the user's key (docs/reference/privacy.md); the
/// synthetic population uses its own ids. The contract asks only for 1–64 bytes without
/// control characters (docs/reference/dataset.md). Stored, compared, hashed, ordered and
/// serialised exactly as its text.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(String);

impl PersonId {
    /// The id of a text (no check: validation checks ids against the contract).
    pub fn new(id: impl Into<String>) -> Self {
        PersonId(id.into())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The id's text, consuming it.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for PersonId {
    fn from(s: String) -> Self {
        PersonId(s)
    }
}

impl From<&str> for PersonId {
    fn from(s: &str) -> Self {
        PersonId(s.to_string())
    }
}

impl From<&String> for PersonId {
    fn from(s: &String) -> Self {
        PersonId(s.clone())
    }
}

impl From<PersonId> for String {
    fn from(id: PersonId) -> Self {
        id.0
    }
}

impl std::ops::Deref for PersonId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for PersonId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets maps keyed by [`PersonId`] be looked up with a `&str` (hash and order are those of
/// the text).
impl std::borrow::Borrow<str> for PersonId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for PersonId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PersonId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for PersonId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

/// 性別 (sex) as coded in the canonical dataset and in レセ電 (`1` 男, `2` 女).
///
/// Source: レセ電 記録条件仕様（医科用）別表 男女区分.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Sex {
    /// 男 (code 1).
    Male = 1,
    /// 女 (code 2).
    Female = 2,
}

impl Sex {
    /// Both sexes in code order (男, 女).
    pub const ALL: [Sex; 2] = [Sex::Male, Sex::Female];
    /// The valid dataset codes, in the order of [`Sex::ALL`] (`[1, 2]`).
    pub const CODES: [u8; 2] = u8_codes!(Self::ALL, 2);
    /// Dataset code (u8: 1 or 2).
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// Parses the code as written in レセ電 (RE 男女区分), 健診 XML
    /// (`administrativeGenderCode`) and the register CSV: exactly `1` or `2`; `None` for
    /// anything else (no padding or full-width digits).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| text == s.code_text())
    }
    /// The code as text (`1` / `2`), as written in レセ電, 健診 XML and the register CSV.
    pub fn code_text(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
        }
    }
    /// Inverse of [`Sex::code`]; `None` outside {1, 2}.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Sex::Male),
            2 => Some(Sex::Female),
            _ => None,
        }
    }
    /// Japanese label (男 / 女).
    pub fn label_ja(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
    /// English snake_case label (`male` / `female`).
    pub fn label_en(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// Kind of medical claim (レセプト種別 grouped as KDB groups them), column
/// `medical_claims.claim_kind` (u8).
///
/// Source: docs/reference/dataset.md; レセ電 記録条件仕様 別表 レセプト種別 (医科入院 / 入院外, 歯科, 調剤,
/// DPC, 訪問看護).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ClaimKind {
    /// 医科入院 (code 1).
    Inpatient = 1,
    /// 医科入院外 (code 2).
    Outpatient = 2,
    /// 歯科 (code 3).
    Dental = 3,
    /// 調剤 (code 4).
    Pharmacy = 4,
    /// DPC (包括評価, code 5).
    Dpc = 5,
    /// 訪問看護 (code 6).
    HomeNursing = 6,
}

impl ClaimKind {
    /// All kinds in code order.
    pub const ALL: [ClaimKind; 6] = [
        ClaimKind::Inpatient,
        ClaimKind::Outpatient,
        ClaimKind::Dental,
        ClaimKind::Pharmacy,
        ClaimKind::Dpc,
        ClaimKind::HomeNursing,
    ];
    /// The valid dataset codes, in the order of [`ClaimKind::ALL`] (`[1, …, 6]`).
    pub const CODES: [u8; 6] = u8_codes!(Self::ALL, 6);
    /// Dataset code (u8, 1–6).
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// Inverse of [`ClaimKind::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
    /// Parses the snake_case names used in rule files (`inpatient`, `outpatient`,
    /// `dental`, `pharmacy`, `dpc`, `home_nursing`; see [`ClaimKind::label_en`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label_en() == name)
    }
    /// The kinds that count as a visit ([`ClaimKind::is_visit`]), in code order.
    pub fn visits() -> impl Iterator<Item = ClaimKind> {
        Self::ALL.into_iter().filter(|k| k.is_visit())
    }
    /// Japanese label as KDB prints it.
    pub fn label_ja(self) -> &'static str {
        match self {
            ClaimKind::Inpatient => "医科入院",
            ClaimKind::Outpatient => "医科入院外",
            ClaimKind::Dental => "歯科",
            ClaimKind::Pharmacy => "調剤",
            ClaimKind::Dpc => "DPC",
            ClaimKind::HomeNursing => "訪問看護",
        }
    }
    /// English snake_case label.
    pub fn label_en(self) -> &'static str {
        match self {
            ClaimKind::Inpatient => "inpatient",
            ClaimKind::Outpatient => "outpatient",
            ClaimKind::Dental => "dental",
            ClaimKind::Pharmacy => "pharmacy",
            ClaimKind::Dpc => "dpc",
            ClaimKind::HomeNursing => "home_nursing",
        }
    }
    /// True for the kinds that count as a visit to a doctor or dentist in rules R09
    /// and R10 (医科入院, 医科入院外, 歯科, DPC; docs/reference/rules.md).
    pub fn is_visit(self) -> bool {
        matches!(
            self,
            ClaimKind::Inpatient | ClaimKind::Outpatient | ClaimKind::Dental | ClaimKind::Dpc
        )
    }
    /// True for inpatient stays (医科入院 and DPC), used for long-term inpatients (docs/reference/indicators.md).
    pub fn is_inpatient(self) -> bool {
        matches!(self, ClaimKind::Inpatient | ClaimKind::Dpc)
    }
}

/// Route of a prescribed drug, column `claim_drugs.route` (u8).
///
/// Derived at ingest from 診療識別 (21 内服, 22 屯服, 23 外用, 3x 注射) and the drug
/// master's 剤形 (1 内用, 4 注射, 6 外用). Source: docs/reference/dataset.md, レセ電 記録条件仕様 別表 診療識別.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Route {
    /// 内服 (code 1).
    Oral = 1,
    /// 頓服 (code 2).
    AsNeeded = 2,
    /// 外用 (code 3).
    External = 3,
    /// 注射 (code 4).
    Injection = 4,
    /// other (code 9).
    Other = 9,
}

impl Route {
    /// All routes in code order.
    pub const ALL: [Route; 5] = [
        Route::Oral,
        Route::AsNeeded,
        Route::External,
        Route::Injection,
        Route::Other,
    ];
    /// The valid dataset codes, in the order of [`Route::ALL`] (`[1, 2, 3, 4, 9]`).
    pub const CODES: [u8; 5] = u8_codes!(Self::ALL, 5);
    /// Dataset code.
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// Inverse of [`Route::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
    /// Parses the snake_case names used in rule files (`oral`, `as_needed`, `external`,
    /// `injection`, `other`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.label_en() == name)
    }
    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            Route::Oral => "内服",
            Route::AsNeeded => "頓服",
            Route::External => "外用",
            Route::Injection => "注射",
            Route::Other => "その他",
        }
    }
    /// English snake_case label.
    pub fn label_en(self) -> &'static str {
        match self {
            Route::Oral => "oral",
            Route::AsNeeded => "as_needed",
            Route::External => "external",
            Route::Injection => "injection",
            Route::Other => "other",
        }
    }
}

/// Reason a coverage spell ended (資格喪失事由), column `persons.loss_reason` (u8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LossReason {
    /// 死亡 (code 1).
    Death = 1,
    /// 転出 (moved out of the union's prefecture, code 2).
    MovedOut = 2,
    /// 生活保護 (public assistance, code 3).
    PublicAssistance = 3,
    /// other, including moves between municipalities of the same union (code 9).
    Other = 9,
}

impl LossReason {
    /// All reasons in code order.
    pub const ALL: [LossReason; 4] = [
        LossReason::Death,
        LossReason::MovedOut,
        LossReason::PublicAssistance,
        LossReason::Other,
    ];
    /// The valid dataset codes, in the order of [`LossReason::ALL`] (`[1, 2, 3, 9]`).
    pub const CODES: [u8; 4] = u8_codes!(Self::ALL, 4);
    /// Dataset code.
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// Inverse of [`LossReason::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Death),
            2 => Some(Self::MovedOut),
            3 => Some(Self::PublicAssistance),
            9 => Some(Self::Other),
            _ => None,
        }
    }
    /// Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Death => "死亡",
            Self::MovedOut => "転出",
            Self::PublicAssistance => "生活保護",
            Self::Other => "その他",
        }
    }
}

/// Where the questionnaire was administered, column `questionnaires.setting` (u8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuestionnaireSetting {
    /// 健診 (at the checkup, code 1).
    Checkup = 1,
    /// 通いの場 (community salon, code 2).
    CommunityPlace = 2,
    /// 医療機関 (at a clinic, code 3).
    Clinic = 3,
    /// other (code 9).
    Other = 9,
}

impl QuestionnaireSetting {
    /// All settings in code order.
    pub const ALL: [QuestionnaireSetting; 4] = [
        QuestionnaireSetting::Checkup,
        QuestionnaireSetting::CommunityPlace,
        QuestionnaireSetting::Clinic,
        QuestionnaireSetting::Other,
    ];
    /// The valid dataset codes, in the order of [`QuestionnaireSetting::ALL`]
    /// (`[1, 2, 3, 9]`).
    pub const CODES: [u8; 4] = u8_codes!(Self::ALL, 4);
    /// Dataset code.
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// Inverse of [`QuestionnaireSetting::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Checkup),
            2 => Some(Self::CommunityPlace),
            3 => Some(Self::Clinic),
            9 => Some(Self::Other),
            _ => None,
        }
    }
}

/// Qualitative urine test result (尿蛋白 / 尿糖 定性), columns `checkups.urine_protein`
/// and `checkups.urine_glucose` (u8).
///
/// Source: 特定健診 XML item table 2024, answer set `1:－、2:±、3:＋、4:＋＋、5:＋＋＋`
/// (reference/kenshin/XMLhc24ext.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UrineTest {
    /// − (code 1).
    Negative = 1,
    /// ± (code 2).
    Trace = 2,
    /// ＋ (code 3).
    Plus1 = 3,
    /// ＋＋ (code 4).
    Plus2 = 4,
    /// ＋＋＋ (code 5).
    Plus3 = 5,
}

impl UrineTest {
    /// All results in code order (− … +++).
    pub const ALL: [UrineTest; 5] = [
        UrineTest::Negative,
        UrineTest::Trace,
        UrineTest::Plus1,
        UrineTest::Plus2,
        UrineTest::Plus3,
    ];
    /// The valid dataset codes, in the order of [`UrineTest::ALL`] (`[1, …, 5]`).
    pub const CODES: [u8; 5] = u8_codes!(Self::ALL, 5);
    /// Dataset code.
    pub const fn code(self) -> u8 {
        self as u8
    }
    /// Inverse of [`UrineTest::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Negative),
            2 => Some(Self::Trace),
            3 => Some(Self::Plus1),
            4 => Some(Self::Plus2),
            5 => Some(Self::Plus3),
            _ => None,
        }
    }
    /// Printed symbol (−, ±, +, ++, +++).
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Negative => "−",
            Self::Trace => "±",
            Self::Plus1 => "+",
            Self::Plus2 => "++",
            Self::Plus3 => "+++",
        }
    }
}

/// Care-need level (要介護状態区分), column `certifications.care_level_code` (str, 2 digits).
///
/// Source: 介護保険 要介護状態区分コード as used in 認定 and 給付実績 data: 01 非該当,
/// 06 事業対象者, 11 要支援 (経過的, legacy), 12 要支援1, 13 要支援2, 21–25 要介護1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CareLevel {
    /// 非該当 (not eligible, "01").
    NotEligible,
    /// 事業対象者 (eligible for the community support project only, "06").
    ProjectTarget,
    /// 要支援 (経過的要介護, legacy "11").
    SupportLegacy,
    /// 要支援1 ("12").
    Support1,
    /// 要支援2 ("13").
    Support2,
    /// 要介護1 ("21").
    Care1,
    /// 要介護2 ("22").
    Care2,
    /// 要介護3 ("23").
    Care3,
    /// 要介護4 ("24").
    Care4,
    /// 要介護5 ("25").
    Care5,
}

impl CareLevel {
    /// All levels in code order.
    pub const ALL: [CareLevel; 10] = [
        CareLevel::NotEligible,
        CareLevel::ProjectTarget,
        CareLevel::SupportLegacy,
        CareLevel::Support1,
        CareLevel::Support2,
        CareLevel::Care1,
        CareLevel::Care2,
        CareLevel::Care3,
        CareLevel::Care4,
        CareLevel::Care5,
    ];
    /// The seven levels of an actual certification (要支援1–2, 要介護1–5), in order.
    pub const CERTIFIED: [CareLevel; 7] = [
        CareLevel::Support1,
        CareLevel::Support2,
        CareLevel::Care1,
        CareLevel::Care2,
        CareLevel::Care3,
        CareLevel::Care4,
        CareLevel::Care5,
    ];
    /// Two-digit code.
    pub fn code(self) -> &'static str {
        match self {
            CareLevel::NotEligible => "01",
            CareLevel::ProjectTarget => "06",
            CareLevel::SupportLegacy => "11",
            CareLevel::Support1 => "12",
            CareLevel::Support2 => "13",
            CareLevel::Care1 => "21",
            CareLevel::Care2 => "22",
            CareLevel::Care3 => "23",
            CareLevel::Care4 => "24",
            CareLevel::Care5 => "25",
        }
    }
    /// Inverse of [`CareLevel::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }
    /// Japanese label (要介護3 …).
    pub fn label_ja(self) -> &'static str {
        match self {
            CareLevel::NotEligible => "非該当",
            CareLevel::ProjectTarget => "事業対象者",
            CareLevel::SupportLegacy => "要支援（経過的）",
            CareLevel::Support1 => "要支援1",
            CareLevel::Support2 => "要支援2",
            CareLevel::Care1 => "要介護1",
            CareLevel::Care2 => "要介護2",
            CareLevel::Care3 => "要介護3",
            CareLevel::Care4 => "要介護4",
            CareLevel::Care5 => "要介護5",
        }
    }
    /// True for 要支援 and 要介護 levels: a care-need certification in the sense of
    /// 要介護認定率 (docs/reference/indicators.md). 非該当 and 事業対象者 are not certifications.
    pub fn is_certified(self) -> bool {
        !matches!(self, CareLevel::NotEligible | CareLevel::ProjectTarget)
    }
    /// True for 要介護2–5, the "dependent" state of 平均自立期間 (docs/reference/indicators.md).
    pub fn is_care2_plus(self) -> bool {
        matches!(
            self,
            CareLevel::Care2 | CareLevel::Care3 | CareLevel::Care4 | CareLevel::Care5
        )
    }
}

/// Declares [`CareServiceType`] from one table of (variant, code, Japanese label).
macro_rules! care_service_types {
    ($($v:ident = $code:literal, $ja:literal;)*) => {
        /// 介護サービス種類コード (2 characters), column `care_claims.service_type_code` (str),
        /// for the service types the project knows; other codes are still valid data and
        /// stay text (see [`care_service_type_label`]).
        ///
        /// Source: 介護給付費等単位数サービスコード表, サービス種類コード.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum CareServiceType {
            $(
                #[doc = concat!($ja, " (\"", $code, "\").")]
                $v,
            )*
        }

        impl CareServiceType {
            /// All known types in code order.
            pub const ALL: &'static [CareServiceType] = &[$(CareServiceType::$v),*];
            /// Two-character code.
            pub const fn code(self) -> &'static str {
                match self {
                    $(CareServiceType::$v => $code,)*
                }
            }
            /// Japanese name of the service type.
            pub const fn label_ja(self) -> &'static str {
                match self {
                    $(CareServiceType::$v => $ja,)*
                }
            }
        }
    };
}

care_service_types! {
    HomeHelp = "11", "訪問介護";
    HomeBathing = "12", "訪問入浴介護";
    HomeNursing = "13", "訪問看護";
    HomeRehabilitation = "14", "訪問リハビリテーション";
    DayCare = "15", "通所介護";
    DayRehabilitation = "16", "通所リハビリテーション";
    EquipmentRental = "17", "福祉用具貸与";
    ShortStayWelfare = "21", "短期入所生活介護";
    ShortStayHealth = "22", "短期入所療養介護（老健）";
    HomeMedicalManagement = "31", "居宅療養管理指導";
    DementiaGroupHome = "32", "認知症対応型共同生活介護";
    SpecifiedFacility = "33", "特定施設入居者生活介護";
    CareManagement = "43", "居宅介護支援";
    PreventiveCareManagement = "46", "介護予防支援";
    WelfareFacility = "51", "介護福祉施設サービス";
    HealthFacility = "52", "介護保健施設サービス";
    SanatoriumFacility = "53", "介護療養施設サービス";
    CommunityWelfareFacility = "54", "地域密着型介護老人福祉施設入所者生活介護";
    MedicalCareHome = "55", "介護医療院サービス";
    PreventiveHomeHelp = "61", "介護予防訪問介護相当";
    PreventiveDayCare = "65", "介護予防通所介護相当";
    PreventiveEquipmentRental = "67", "介護予防福祉用具貸与";
    CommunityDayCare = "78", "地域密着型通所介護";
    VisitingServiceOwn = "A2", "訪問型サービス（独自）";
    DayServiceOwn = "A6", "通所型サービス（独自）";
}

impl CareServiceType {
    /// Inverse of [`CareServiceType::code`]; `None` for a code the project does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.code() == code)
    }
    /// The facility services that mark a facility resident (施設入所者) in the unified
    /// checkup denominator: 51, 52, 53, 54, 55 (docs/reference/indicators.md).
    pub const FACILITY: [CareServiceType; 5] = [
        CareServiceType::WelfareFacility,
        CareServiceType::HealthFacility,
        CareServiceType::SanatoriumFacility,
        CareServiceType::CommunityWelfareFacility,
        CareServiceType::MedicalCareHome,
    ];
    /// True for the types of [`CareServiceType::FACILITY`].
    pub fn is_facility(self) -> bool {
        Self::FACILITY.contains(&self)
    }
}

/// Japanese label of a 介護サービス種類コード (2 characters) for the service types the
/// project uses ([`CareServiceType`]); `None` for others (which are still valid data).
///
/// Source: 介護給付費等単位数サービスコード表, サービス種類コード.
pub fn care_service_type_label(code: &str) -> Option<&'static str> {
    CareServiceType::from_code(code).map(CareServiceType::label_ja)
}

/// True for the service types that mark a facility resident (施設入所者) in the
/// unified checkup denominator: 51, 52, 53, 54, 55 (docs/reference/indicators.md;
/// [`CareServiceType::FACILITY`]).
pub fn is_facility_service_type(code: &str) -> bool {
    CareServiceType::from_code(code).is_some_and(CareServiceType::is_facility)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in ClaimKind::ALL {
            assert_eq!(ClaimKind::from_code(k.code()), Some(k));
        }
        for l in CareLevel::ALL {
            assert_eq!(CareLevel::from_code(l.code()), Some(l));
        }
        for r in Route::ALL {
            assert_eq!(Route::from_code(r.code()), Some(r));
            assert_eq!(Route::from_name(r.label_en()), Some(r));
        }
        for k in ClaimKind::ALL {
            assert_eq!(ClaimKind::from_name(k.label_en()), Some(k));
        }
        for s in Sex::ALL {
            assert_eq!(Sex::from_code(s.code()), Some(s));
            assert_eq!(Sex::parse(s.code_text()), Some(s));
        }
        assert_eq!(Sex::parse("01"), None);
        assert_eq!(Sex::CODES, [1, 2]);
        assert_eq!(ClaimKind::CODES, [1, 2, 3, 4, 5, 6]);
        assert_eq!(Route::CODES, [1, 2, 3, 4, 9]);
        assert_eq!(LossReason::CODES, [1, 2, 3, 9]);
        assert_eq!(QuestionnaireSetting::CODES, [1, 2, 3, 9]);
        assert_eq!(UrineTest::CODES, [1, 2, 3, 4, 5]);
        for r in LossReason::ALL {
            assert_eq!(LossReason::from_code(r.code()), Some(r));
        }
        for q in QuestionnaireSetting::ALL {
            assert_eq!(QuestionnaireSetting::from_code(q.code()), Some(q));
        }
        for u in UrineTest::ALL {
            assert_eq!(UrineTest::from_code(u.code()), Some(u));
        }
        assert_eq!(ClaimKind::from_code(7), None);
        assert_eq!(CareLevel::from_code("26"), None);
        assert_eq!(Sex::from_code(0), None);
    }

    #[test]
    fn person_ids_behave_as_their_text() {
        let a = PersonId::from("p1");
        assert_eq!(a, "p1");
        assert_eq!(a.as_str(), "p1");
        assert_eq!(a.to_string(), "p1");
        assert_eq!(format!("{a:?}"), "\"p1\"");
        let b = PersonId::from(String::from("p2"));
        assert!(a < b, "ordered as text");
        let m: std::collections::HashMap<PersonId, u8> = [(a.clone(), 1)].into();
        assert_eq!(m.get("p1"), Some(&1));
    }

    #[test]
    fn certified_and_dependent() {
        assert!(!CareLevel::NotEligible.is_certified());
        assert!(!CareLevel::ProjectTarget.is_certified());
        assert!(CareLevel::SupportLegacy.is_certified());
        assert!(!CareLevel::Care1.is_care2_plus());
        assert!(CareLevel::Care2.is_care2_plus());
        assert!(CareLevel::Care5.is_care2_plus());
        assert!(ClaimKind::Dpc.is_visit() && !ClaimKind::Pharmacy.is_visit());
        assert!(is_facility_service_type("55") && !is_facility_service_type("32"));
        assert!(!is_facility_service_type("5") && !is_facility_service_type("99"));
        for t in CareServiceType::ALL {
            assert_eq!(CareServiceType::from_code(t.code()), Some(*t));
            assert_eq!(care_service_type_label(t.code()), Some(t.label_ja()));
        }
        assert_eq!(
            care_service_type_label("54"),
            Some("地域密着型介護老人福祉施設入所者生活介護")
        );
        assert_eq!(care_service_type_label("A9"), None);
    }
}
