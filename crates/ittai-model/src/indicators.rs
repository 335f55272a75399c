//! The evaluation indicators (共通評価指標) of docs/reference/indicators.md: definitions with their Japanese
//! names, units, explanations and sources, and the tidy row every indicator table uses.
//!
//! The codes of a row are types ([`IndicatorId`], [`Area`], [`SexGroup`], [`AgeGroup`],
//! [`Direction`]); their strings (`checkup_rate`, `union`, `male`, `75-79`, `up` …) are
//! written and read only at the file boundary (`as_str` / `parse`), and serde uses the same
//! strings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codes::Sex;
use crate::time::AgeBand;

/// How an indicator's value is built from its numerator and denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// Persons / persons × 100 (%).
    Percent,
    /// Yen / insured person-years (円).
    YenPerInsured,
    /// Years (life-table expectancies; numerator deaths, denominator person-years).
    Years,
}

/// The unit printed after an indicator's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Percent (`%`).
    Percent,
    /// Yen (`円`).
    Yen,
    /// Years (`年`).
    Years,
}

impl Unit {
    /// The unit as printed: `%`, `円`, `年`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Percent => "%",
            Unit::Yen => "円",
            Unit::Years => "年",
        }
    }
    /// Decimal places of published values in this unit: whole yen, else 2.
    pub fn decimals(self) -> i32 {
        match self {
            Unit::Yen => 0,
            Unit::Percent | Unit::Years => 2,
        }
    }
}

/// What primary suppression looks at (docs/reference/indicators.md: counts of 1–9 persons
/// and the figures built on them are not published).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suppression {
    /// Numerator and denominator count persons: a small numerator or denominator.
    Counts,
    /// Numerator and denominator are not persons (yen, person-years, drug quantities): a
    /// small number of persons behind the cell.
    Persons,
    /// Life expectancies: no value, or fewer than 10 deaths (the numerator).
    Deaths,
}

/// The id of an indicator (column `indicator`), one per entry of [`INDICATORS`] and in
/// its order (the report order; `Ord` follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorId {
    /// `checkup_rate` (健診受診率).
    CheckupRate,
    /// `dental_checkup_rate` (歯科健診受診率).
    DentalCheckupRate,
    /// `high_risk_rate` (ハイリスク者割合, one per rule).
    HighRiskRate,
    /// `certification_rate` (要介護認定率).
    CertificationRate,
    /// `life_expectancy_75` (平均余命（75歳）).
    LifeExpectancy75,
    /// `independence_75` (平均自立期間（75歳）).
    Independence75,
    /// `medical_cost` (医療費).
    MedicalCost,
    /// `medical_cost_inpatient` (医療費（入院）).
    MedicalCostInpatient,
    /// `medical_cost_outpatient` (医療費（入院外）).
    MedicalCostOutpatient,
    /// `medical_cost_dental` (医療費（歯科）).
    MedicalCostDental,
    /// `medical_cost_pharmacy` (医療費（調剤）).
    MedicalCostPharmacy,
    /// `care_cost` (介護給付費).
    CareCost,
    /// `polypharmacy_rate` (多剤投薬患者割合).
    PolypharmacyRate,
    /// `duplicate_rate` (重複投薬患者割合).
    DuplicateRate,
    /// `generic_share` (後発医薬品使用割合（数量）).
    GenericShare,
    /// `deaths` (死亡率).
    Deaths,
}

impl IndicatorId {
    /// All ids, in the order of [`INDICATORS`].
    pub const ALL: [IndicatorId; 16] = [
        IndicatorId::CheckupRate,
        IndicatorId::DentalCheckupRate,
        IndicatorId::HighRiskRate,
        IndicatorId::CertificationRate,
        IndicatorId::LifeExpectancy75,
        IndicatorId::Independence75,
        IndicatorId::MedicalCost,
        IndicatorId::MedicalCostInpatient,
        IndicatorId::MedicalCostOutpatient,
        IndicatorId::MedicalCostDental,
        IndicatorId::MedicalCostPharmacy,
        IndicatorId::CareCost,
        IndicatorId::PolypharmacyRate,
        IndicatorId::DuplicateRate,
        IndicatorId::GenericShare,
        IndicatorId::Deaths,
    ];
    /// The snake_case id written in the `indicator` column.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorId::CheckupRate => "checkup_rate",
            IndicatorId::DentalCheckupRate => "dental_checkup_rate",
            IndicatorId::HighRiskRate => "high_risk_rate",
            IndicatorId::CertificationRate => "certification_rate",
            IndicatorId::LifeExpectancy75 => "life_expectancy_75",
            IndicatorId::Independence75 => "independence_75",
            IndicatorId::MedicalCost => "medical_cost",
            IndicatorId::MedicalCostInpatient => "medical_cost_inpatient",
            IndicatorId::MedicalCostOutpatient => "medical_cost_outpatient",
            IndicatorId::MedicalCostDental => "medical_cost_dental",
            IndicatorId::MedicalCostPharmacy => "medical_cost_pharmacy",
            IndicatorId::CareCost => "care_cost",
            IndicatorId::PolypharmacyRate => "polypharmacy_rate",
            IndicatorId::DuplicateRate => "duplicate_rate",
            IndicatorId::GenericShare => "generic_share",
            IndicatorId::Deaths => "deaths",
        }
    }
    /// Inverse of [`IndicatorId::as_str`]; `None` for an unknown id.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }
    /// The definition.
    pub fn def(self) -> &'static IndicatorDef {
        let all: &'static [IndicatorDef; 16] = &INDICATORS;
        &all[self as usize]
    }
}

/// Definition of one indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorDef {
    /// Id (column `indicator`).
    pub id: IndicatorId,
    /// Japanese name.
    pub name_ja: &'static str,
    /// Unit printed after values.
    pub unit: Unit,
    /// How the value is built.
    pub kind: Kind,
    /// What primary suppression looks at.
    pub suppression: Suppression,
    /// One value per rule (ハイリスク者割合).
    pub per_rule: bool,
    /// Age-standardised values are published beside crude ones.
    pub age_standardised: bool,
    /// The definition in Japanese, as printed in the report.
    pub explanation_ja: &'static str,
    /// Source document and section.
    pub source: &'static str,
}

const DENOMINATOR: &str = "分母は4月1日時点の被保険者から、長期入院者（当該年度に重なる6か月以上連続の医科入院・DPCレセプト）と施設入所者（当該年度に介護サービス種類51〜55の介護レセプト）を除いた人（統一的な分母）。";

/// All indicators, in report order.
pub const INDICATORS: [IndicatorDef; 16] = [
    IndicatorDef {
        id: IndicatorId::CheckupRate,
        name_ja: "健診受診率",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に後期高齢者健康診査を1回以上受けた人の割合。",
        source: "docs/reference/indicators.md; 第3期データヘルス計画 共通評価指標",
    },
    IndicatorDef {
        id: IndicatorId::DentalCheckupRate,
        name_ja: "歯科健診受診率",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に後期高齢者歯科健康診査を1回以上受けた人の割合。",
        source: "docs/reference/indicators.md; 第3期データヘルス計画 共通評価指標",
    },
    IndicatorDef {
        id: IndicatorId::HighRiskRate,
        name_ja: "ハイリスク者割合",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: true,
        age_standardised: true,
        explanation_ja: "基準日（年度末）の被保険者のうち、一体的実施・KDB活用支援ツールの抽出条件（ルール）に該当した人の割合。条件は ittai rules show で確認できる。",
        source: "docs/reference/indicators.md; 「一体的実施・KDB活用支援ツール」の抽出条件の考え方と保健事業への活用 Ver.1",
    },
    IndicatorDef {
        id: IndicatorId::CertificationRate,
        name_ja: "要介護認定率",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "基準日（年度末）の被保険者のうち、要支援1〜要介護5の認定が有効な人の割合（非該当・事業対象者を除く）。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::LifeExpectancy75,
        name_ja: "平均余命（75歳）",
        unit: Unit::Years,
        kind: Kind::Years,
        suppression: Suppression::Deaths,
        per_rule: false,
        age_standardised: false,
        explanation_ja: "75歳の人があと何年生きるかの期待値。当該年度の死亡数と被保険者の観察人年から5歳階級の簡易生命表（Chiang法、95歳以上は開放階級）で算出し、95%信頼区間を付す。",
        source: "docs/reference/indicators.md; Chiang CL (1984) The Life Table and its Applications",
    },
    IndicatorDef {
        id: IndicatorId::Independence75,
        name_ja: "平均自立期間（75歳、要介護2以上を不健康）",
        unit: Unit::Years,
        kind: Kind::Years,
        suppression: Suppression::Deaths,
        per_rule: false,
        age_standardised: false,
        explanation_ja: "75歳の人が要介護2以上にならずに過ごす期間の期待値。生命表の定常人口に年齢階級別の要介護2〜5の有病割合（基準日の認定）を掛けるSullivan法で算出し、95%信頼区間を付す。",
        source: "docs/reference/indicators.md; Sullivan DF (1971); Jagger C et al., Health expectancy calculation by the Sullivan method: a practical guide (EHLEIS, 2014)",
    },
    IndicatorDef {
        id: IndicatorId::MedicalCost,
        name_ja: "医療費（被保険者1人当たり）",
        unit: Unit::Yen,
        kind: Kind::YenPerInsured,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度の診療年月の医療レセプトの決定点数×10円の合計を、被保険者の年間観察人年で割った額。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::MedicalCostInpatient,
        name_ja: "医療費（入院、1人当たり）",
        unit: Unit::Yen,
        kind: Kind::YenPerInsured,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち医科入院とDPCのレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::MedicalCostOutpatient,
        name_ja: "医療費（入院外、1人当たり）",
        unit: Unit::Yen,
        kind: Kind::YenPerInsured,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち医科入院外のレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::MedicalCostDental,
        name_ja: "医療費（歯科、1人当たり）",
        unit: Unit::Yen,
        kind: Kind::YenPerInsured,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち歯科のレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::MedicalCostPharmacy,
        name_ja: "医療費（調剤、1人当たり）",
        unit: Unit::Yen,
        kind: Kind::YenPerInsured,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち調剤のレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::CareCost,
        name_ja: "介護給付費（被保険者1人当たり）",
        unit: Unit::Yen,
        kind: Kind::YenPerInsured,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度のサービス提供年月の介護レセプトの単位数×10円の合計を、被保険者の年間観察人年で割った額（地域区分による単価差は考慮しない）。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::PolypharmacyRate,
        name_ja: "多剤投薬患者割合",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に内服薬の処方を受けた人のうち、いずれかの月に内服薬が15成分（YJコード上7桁）以上だった人の割合。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::DuplicateRate,
        name_ja: "重複投薬患者割合",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に内服薬の処方を受けた人のうち、同じ月に同じ成分（YJコード上7桁）を医科入院外・調剤のレセプトで2か所以上の医療機関・薬局から受けた人の割合（レセプトの医療機関コードで区別）。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: IndicatorId::GenericShare,
        name_ja: "後発医薬品使用割合（数量）",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Persons,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "後発医薬品の数量 ÷（後発医薬品のある先発医薬品の数量＋後発医薬品の数量）。数量は使用量×日数（回数）。後発品の有無はYJコード上9桁（成分・剤形・規格）が同じ後発品が医薬品マスターにあるかで判定。",
        source: "docs/reference/indicators.md; 厚生労働省 後発医薬品の数量シェアの定義",
    },
    IndicatorDef {
        id: IndicatorId::Deaths,
        name_ja: "死亡率（粗、100人年当たり）",
        unit: Unit::Percent,
        kind: Kind::Percent,
        suppression: Suppression::Counts,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に死亡により資格を喪失した人の数（分子）を被保険者の観察人年（分母）で割り100を掛けた値。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
];

/// The note printed with the checkup rates.
pub const CHECKUP_DENOMINATOR_JA: &str = DENOMINATOR;

/// The area of a row (column `municipality_code`): the whole union or one municipality.
///
/// `Ord` puts the union first, then municipalities by code (the published order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    /// The union total (`union` on disk).
    Union,
    /// A municipality, by its 6-digit code.
    Municipality(String),
}

impl Area {
    /// The value of the `municipality_code` column: `union` or the code.
    pub fn as_str(&self) -> &str {
        match self {
            Area::Union => "union",
            Area::Municipality(code) => code.as_str(),
        }
    }
    /// Inverse of [`Area::as_str`]: `union` is the union, anything else a municipality code.
    pub fn parse(s: &str) -> Self {
        if s == Area::Union.as_str() {
            Area::Union
        } else {
            Area::Municipality(s.to_string())
        }
    }
    /// True for the union total.
    pub fn is_union(&self) -> bool {
        matches!(self, Area::Union)
    }
    /// The municipality code; `None` for the union.
    pub fn code(&self) -> Option<&str> {
        match self {
            Area::Union => None,
            Area::Municipality(code) => Some(code.as_str()),
        }
    }
}

/// The sex of a row (column `sex`): both sexes together, or one.
///
/// `Ord` is the published order: all, male, female.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SexGroup {
    /// Both sexes (`all` on disk).
    All,
    /// One sex (`male` / `female` on disk, [`Sex::label_en`]).
    Sex(Sex),
}

impl SexGroup {
    /// The published order: all, male, female.
    pub const PUBLISHED: [SexGroup; 3] = [
        SexGroup::All,
        SexGroup::Sex(Sex::Male),
        SexGroup::Sex(Sex::Female),
    ];
    /// Male and female, the parts of [`SexGroup::All`].
    pub const SEXES: [SexGroup; 2] = [SexGroup::Sex(Sex::Male), SexGroup::Sex(Sex::Female)];
    /// The value of the `sex` column: `all`, `male`, `female`.
    pub fn as_str(self) -> &'static str {
        match self {
            SexGroup::All => "all",
            SexGroup::Sex(s) => s.label_en(),
        }
    }
    /// Inverse of [`SexGroup::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::PUBLISHED.into_iter().find(|g| g.as_str() == s)
    }
    /// Japanese label: 計, 男, 女.
    pub fn label_ja(self) -> &'static str {
        match self {
            SexGroup::All => "計",
            SexGroup::Sex(s) => s.label_ja(),
        }
    }
}

impl From<Sex> for SexGroup {
    fn from(s: Sex) -> Self {
        SexGroup::Sex(s)
    }
}

/// The age band of a row (column `age_band`): all ages, or one [`AgeBand`].
///
/// `Ord` is the published order: all, then the bands youngest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeGroup {
    /// All ages (`all` on disk).
    All,
    /// One band (its [`AgeBand::label`] on disk: `<75`, `75-79` … `95+`).
    Band(AgeBand),
}

impl AgeGroup {
    /// The value of the `age_band` column: `all` or the band's label.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeGroup::All => "all",
            AgeGroup::Band(b) => b.label(),
        }
    }
    /// Inverse of [`AgeGroup::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        if s == AgeGroup::All.as_str() {
            Some(AgeGroup::All)
        } else {
            parse_age_band(s).map(AgeGroup::Band)
        }
    }
}

impl From<AgeBand> for AgeGroup {
    fn from(b: AgeBand) -> Self {
        AgeGroup::Band(b)
    }
}

/// The age band of a label (`<75`, `75-79` … `95+`, [`AgeBand::label`]); `None` for
/// anything else.
pub fn parse_age_band(label: &str) -> Option<AgeBand> {
    AgeBand::ALL.into_iter().find(|b| b.label() == label)
}

/// Direction of the change from the previous FY (column `direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Up by more than the tolerance (`up`).
    Up,
    /// Down by more than the tolerance (`down`).
    Down,
    /// Within the tolerance (`same`).
    Same,
}

impl Direction {
    /// All directions.
    pub const ALL: [Direction; 3] = [Direction::Up, Direction::Down, Direction::Same];
    /// The direction of a change `d` with tolerance `eps`: up when `d > eps`, down when
    /// `d < −eps`, else the same.
    pub fn of_change(d: f64, eps: f64) -> Self {
        if d > eps {
            Direction::Up
        } else if d < -eps {
            Direction::Down
        } else {
            Direction::Same
        }
    }
    /// The value of the `direction` column: `up`, `down`, `same`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Same => "same",
        }
    }
    /// Inverse of [`Direction::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
    /// The arrow: ↑, ↓, →.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Up => "↑",
            Direction::Down => "↓",
            Direction::Same => "→",
        }
    }
    /// Japanese label with its arrow: 「↑ 上昇」, 「↓ 低下」, 「→ 横ばい」.
    pub fn label_ja(self) -> &'static str {
        match self {
            Direction::Up => "↑ 上昇",
            Direction::Down => "↓ 低下",
            Direction::Same => "→ 横ばい",
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(Unit, IndicatorId, Area, SexGroup, AgeGroup, Direction);

/// Serialises a type as its `as_str` string and reads it back with `parse` (an
/// expression `fn(&str) -> Option<Self>`), so the serde form is the string on disk.
macro_rules! serde_as_str {
    ($t:ty, $what:literal, $parse:expr) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                let parse: fn(&str) -> Option<$t> = $parse;
                parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("unknown ", $what, " {:?}"), s))
                })
            }
        }
    };
}
serde_as_str!(IndicatorId, "indicator", IndicatorId::parse);
serde_as_str!(Area, "area", |s| Some(Area::parse(s)));
serde_as_str!(SexGroup, "sex", SexGroup::parse);
serde_as_str!(AgeGroup, "age band", AgeGroup::parse);
serde_as_str!(Direction, "direction", Direction::parse);

/// serde of an [`AgeBand`] field as its label (`75-79` …), as written on disk.
mod band_label {
    use super::{AgeBand, parse_age_band};
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(b: &AgeBand, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(b.label())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<AgeBand, D::Error> {
        let s = String::deserialize(d)?;
        parse_age_band(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown age band {s:?}")))
    }
}

/// One row of the tidy indicator table. Exact figures; published outputs blank the
/// suppressed ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorRow {
    /// Indicator ([`INDICATORS`]).
    pub indicator: IndicatorId,
    /// Rule id for ハイリスク者割合 (R01 … R10), else `None`.
    pub rule_id: Option<String>,
    /// Fiscal year.
    pub fy: i32,
    /// A municipality or the union.
    pub municipality_code: Area,
    /// All, male or female.
    pub sex: SexGroup,
    /// All ages or an age band.
    pub age_band: AgeGroup,
    /// Numerator (persons, yen, or deaths for expectancies).
    pub numerator: f64,
    /// Denominator (persons, person-years).
    pub denominator: f64,
    /// Persons behind the cell (for suppression of small counts).
    pub persons: u64,
    /// Value: % , yen per insured-year, or years.
    pub value: Option<f64>,
    /// Directly age-standardised value (the union's population of the same FY and sex as
    /// standard), for all-age rows of standardised indicators.
    pub age_standardised: Option<f64>,
    /// Lower bound of the 95 % CI (expectancies).
    pub ci_lower: Option<f64>,
    /// Upper bound of the 95 % CI (expectancies).
    pub ci_upper: Option<f64>,
    /// Value of the previous FY.
    pub previous_value: Option<f64>,
    /// value − previous_value.
    pub change: Option<f64>,
    /// Up, down or the same (the same within 0.05 %, 0.05 years or 0.5 yen).
    pub direction: Option<Direction>,
    /// Blanked in published outputs: a count of 1–9 persons (or a cell computed from one),
    /// or secondary suppression protecting another blanked cell.
    pub suppressed: bool,
}

/// The identity of an [`IndicatorRow`]: indicator, rule_id, fy, municipality_code, sex,
/// age_band. Unique in a table.
pub type RowKey<'a> = (
    IndicatorId,
    Option<&'a str>,
    i32,
    &'a Area,
    SexGroup,
    AgeGroup,
);

impl IndicatorRow {
    /// The row's [`RowKey`].
    pub fn key(&self) -> RowKey<'_> {
        (
            self.indicator,
            self.rule_id.as_deref(),
            self.fy,
            &self.municipality_code,
            self.sex,
            self.age_band,
        )
    }
}

/// One age interval of a life table (one FY × area × sex), as stored in
/// `life_tables.parquet` and shown in the report. Inputs are exact counts; the computed
/// columns are `None` when the table could not be computed (e.g. no death in 95+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifeLine {
    /// Fiscal year.
    pub fy: i32,
    /// A municipality or the union.
    pub municipality_code: Area,
    /// All, male or female.
    pub sex: SexGroup,
    /// Age band (75-79 … 95+; its label on disk and in serde).
    #[serde(with = "band_label")]
    pub age_band: AgeBand,
    /// Deaths in the FY at ages in the band (persons).
    pub deaths: f64,
    /// Person-years lived in the band during the FY (years).
    pub person_years: f64,
    /// Insured on the reference date in the band (persons; prevalence sample).
    pub sample: f64,
    /// Of them certified 要介護2–5 (persons).
    pub dependent: f64,
    /// Death rate m = D / P (per person-year).
    pub m: Option<f64>,
    /// Probability of dying in the interval.
    pub q: Option<f64>,
    /// Survivors at the start of the interval (radix 100,000).
    pub l: Option<f64>,
    /// Person-years lived in the interval (stationary population, 定常人口).
    pub big_l: Option<f64>,
    /// Prevalence of 要介護2+ (0–1).
    pub prevalence: Option<f64>,
    /// Life expectancy at the start of the interval (years).
    pub e: Option<f64>,
    /// Expectancy free of 要介護2+ at the start of the interval (years).
    pub h: Option<f64>,
}

/// One step of a rule's attrition funnel (union level) in one FY, as stored in
/// `funnels.parquet` and drawn in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStep {
    /// Fiscal year.
    pub fy: i32,
    /// Rule id (R01 …).
    pub rule_id: String,
    /// Rule name in Japanese.
    pub rule_name_ja: String,
    /// 0 for the population (基準日の被保険者), then 1, 2, …
    pub step: u32,
    /// The condition in Japanese.
    pub condition_ja: String,
    /// Persons remaining after the step.
    pub persons: u64,
    /// Persons who would remain but for the coverage guard (資格期間不足).
    pub insufficient_coverage: u64,
    /// Fiscal years of history before the FY that the rule looks at (R07: 3); the rule's
    /// rates for the first this-many FYs of a dataset lack that history.
    pub lookback_fys: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `IndicatorId` follows `INDICATORS` (its `Ord` is the report order and `def` indexes
    /// the array).
    #[test]
    fn ids_follow_the_definitions() {
        for (i, d) in INDICATORS.iter().enumerate() {
            assert_eq!(d.id as usize, i);
            assert_eq!(IndicatorId::ALL[i], d.id);
            assert_eq!(d.id.def(), d);
            assert_eq!(IndicatorId::parse(d.id.as_str()), Some(d.id));
        }
        assert_eq!(IndicatorId::parse("nope"), None);
        assert_eq!(IndicatorId::GenericShare.as_str(), "generic_share");
    }

    #[test]
    fn codes_round_trip_as_their_strings() {
        for s in SexGroup::PUBLISHED {
            assert_eq!(SexGroup::parse(s.as_str()), Some(s));
        }
        assert_eq!(SexGroup::Sex(Sex::Male).as_str(), "male");
        assert_eq!(SexGroup::All.label_ja(), "計");
        for b in AgeBand::ALL {
            assert_eq!(AgeGroup::parse(b.label()), Some(AgeGroup::Band(b)));
        }
        assert_eq!(AgeGroup::parse("all"), Some(AgeGroup::All));
        assert_eq!(AgeGroup::parse("75-80"), None);
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        assert_eq!(Area::parse("union"), Area::Union);
        assert_eq!(Area::parse("131016").code(), Some("131016"));
        assert!(Area::Union < Area::Municipality("011002".into()));
        assert!(SexGroup::All < SexGroup::Sex(Sex::Male));
        assert!(SexGroup::Sex(Sex::Male) < SexGroup::Sex(Sex::Female));
        assert!(AgeGroup::All < AgeGroup::Band(AgeBand::Under75));
        assert_eq!(Unit::Yen.as_str(), "円");
    }
}
