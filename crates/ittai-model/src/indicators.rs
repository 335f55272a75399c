//! The evaluation indicators (共通評価指標) of docs/reference/indicators.md: definitions with their Japanese
//! names, units, explanations and sources, and the tidy row every indicator table uses.

use serde::{Deserialize, Serialize};

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

/// Definition of one indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorDef {
    /// snake_case id (column `indicator`).
    pub id: &'static str,
    /// Japanese name.
    pub name_ja: &'static str,
    /// Unit printed after values.
    pub unit: &'static str,
    /// How the value is built.
    pub kind: Kind,
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
        id: "checkup_rate",
        name_ja: "健診受診率",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に後期高齢者健康診査を1回以上受けた人の割合。",
        source: "docs/reference/indicators.md; 第3期データヘルス計画 共通評価指標",
    },
    IndicatorDef {
        id: "dental_checkup_rate",
        name_ja: "歯科健診受診率",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に後期高齢者歯科健康診査を1回以上受けた人の割合。",
        source: "docs/reference/indicators.md; 第3期データヘルス計画 共通評価指標",
    },
    IndicatorDef {
        id: "high_risk_rate",
        name_ja: "ハイリスク者割合",
        unit: "%",
        kind: Kind::Percent,
        per_rule: true,
        age_standardised: true,
        explanation_ja: "基準日（年度末）の被保険者のうち、一体的実施・KDB活用支援ツールの抽出条件（ルール）に該当した人の割合。条件は ittai rules show で確認できる。",
        source: "docs/reference/indicators.md; 「一体的実施・KDB活用支援ツール」の抽出条件の考え方と保健事業への活用 Ver.1",
    },
    IndicatorDef {
        id: "certification_rate",
        name_ja: "要介護認定率",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "基準日（年度末）の被保険者のうち、要支援1〜要介護5の認定が有効な人の割合（非該当・事業対象者を除く）。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "life_expectancy_75",
        name_ja: "平均余命（75歳）",
        unit: "年",
        kind: Kind::Years,
        per_rule: false,
        age_standardised: false,
        explanation_ja: "75歳の人があと何年生きるかの期待値。当該年度の死亡数と被保険者の観察人年から5歳階級の簡易生命表（Chiang法、95歳以上は開放階級）で算出し、95%信頼区間を付す。",
        source: "docs/reference/indicators.md; Chiang CL (1984) The Life Table and its Applications",
    },
    IndicatorDef {
        id: "independence_75",
        name_ja: "平均自立期間（75歳、要介護2以上を不健康）",
        unit: "年",
        kind: Kind::Years,
        per_rule: false,
        age_standardised: false,
        explanation_ja: "75歳の人が要介護2以上にならずに過ごす期間の期待値。生命表の定常人口に年齢階級別の要介護2〜5の有病割合（基準日の認定）を掛けるSullivan法で算出し、95%信頼区間を付す。",
        source: "docs/reference/indicators.md; Sullivan DF (1971); Jagger C et al., Health expectancy calculation by the Sullivan method: a practical guide (EHLEIS, 2014)",
    },
    IndicatorDef {
        id: "medical_cost",
        name_ja: "医療費（被保険者1人当たり）",
        unit: "円",
        kind: Kind::YenPerInsured,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度の診療年月の医療レセプトの決定点数×10円の合計を、被保険者の年間観察人年で割った額。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "medical_cost_inpatient",
        name_ja: "医療費（入院、1人当たり）",
        unit: "円",
        kind: Kind::YenPerInsured,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち医科入院とDPCのレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "medical_cost_outpatient",
        name_ja: "医療費（入院外、1人当たり）",
        unit: "円",
        kind: Kind::YenPerInsured,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち医科入院外のレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "medical_cost_dental",
        name_ja: "医療費（歯科、1人当たり）",
        unit: "円",
        kind: Kind::YenPerInsured,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち歯科のレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "medical_cost_pharmacy",
        name_ja: "医療費（調剤、1人当たり）",
        unit: "円",
        kind: Kind::YenPerInsured,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "医療費のうち調剤のレセプト分。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "care_cost",
        name_ja: "介護給付費（被保険者1人当たり）",
        unit: "円",
        kind: Kind::YenPerInsured,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度のサービス提供年月の介護レセプトの単位数×10円の合計を、被保険者の年間観察人年で割った額（地域区分による単価差は考慮しない）。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "polypharmacy_rate",
        name_ja: "多剤投薬患者割合",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に内服薬の処方を受けた人のうち、いずれかの月に内服薬が15成分（YJコード上7桁）以上だった人の割合。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "duplicate_rate",
        name_ja: "重複投薬患者割合",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に内服薬の処方を受けた人のうち、同じ月に同じ成分（YJコード上7桁）を医科入院外・調剤のレセプトで2か所以上の医療機関・薬局から受けた人の割合（レセプトの医療機関コードで区別）。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
    IndicatorDef {
        id: "generic_share",
        name_ja: "後発医薬品使用割合（数量）",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "後発医薬品の数量 ÷（後発医薬品のある先発医薬品の数量＋後発医薬品の数量）。数量は使用量×日数（回数）。後発品の有無はYJコード上9桁（成分・剤形・規格）が同じ後発品が医薬品マスターにあるかで判定。",
        source: "docs/reference/indicators.md; 厚生労働省 後発医薬品の数量シェアの定義",
    },
    IndicatorDef {
        id: "deaths",
        name_ja: "死亡率（粗、100人年当たり）",
        unit: "%",
        kind: Kind::Percent,
        per_rule: false,
        age_standardised: true,
        explanation_ja: "当該年度に死亡により資格を喪失した人の数（分子）を被保険者の観察人年（分母）で割り100を掛けた値。",
        source: "第3期データヘルス計画 共通評価指標; docs/reference/indicators.md",
    },
];

/// The note printed with the checkup rates.
pub const CHECKUP_DENOMINATOR_JA: &str = DENOMINATOR;

/// The definition of `id`.
pub fn def(id: &str) -> Option<&'static IndicatorDef> {
    INDICATORS.iter().find(|d| d.id == id)
}

/// The union total in `municipality_code`.
pub const UNION: &str = "union";
/// All sexes / all ages in `sex` and `age_band`.
pub const ALL: &str = "all";

/// One row of the tidy indicator table. Exact figures; published outputs blank the
/// suppressed ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorRow {
    /// Indicator id ([`INDICATORS`]).
    pub indicator: String,
    /// Rule id for ハイリスク者割合 (R01 … R10), else `None`.
    pub rule_id: Option<String>,
    /// Fiscal year.
    pub fy: i32,
    /// 6-digit municipality code, or [`UNION`].
    pub municipality_code: String,
    /// `all`, `male` or `female`.
    pub sex: String,
    /// `all` or an age band (`75-79` …).
    pub age_band: String,
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
    /// `up`, `down` or `same` (same within 0.05 %, 0.05 years or 0.5 yen).
    pub direction: Option<String>,
    /// Blanked in published outputs: a count of 1–9 persons (or a cell computed from one),
    /// or secondary suppression protecting another blanked cell.
    pub suppressed: bool,
}

/// The identity of an [`IndicatorRow`]: indicator, rule_id, fy, municipality_code, sex,
/// age_band. Unique in a table.
pub type RowKey<'a> = (&'a str, Option<&'a str>, i32, &'a str, &'a str, &'a str);

impl IndicatorRow {
    /// The row's [`RowKey`].
    pub fn key(&self) -> RowKey<'_> {
        (
            self.indicator.as_str(),
            self.rule_id.as_deref(),
            self.fy,
            self.municipality_code.as_str(),
            self.sex.as_str(),
            self.age_band.as_str(),
        )
    }
}

/// Japanese label of a sex value.
pub fn sex_label_ja(s: &str) -> &'static str {
    match s {
        "male" => "男",
        "female" => "女",
        _ => "計",
    }
}

/// One age interval of a life table (one FY × area × sex), as stored in
/// `life_tables.parquet` and shown in the report. Inputs are exact counts; the computed
/// columns are `None` when the table could not be computed (e.g. no death in 95+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifeLine {
    /// Fiscal year.
    pub fy: i32,
    /// 6-digit municipality code, or [`UNION`].
    pub municipality_code: String,
    /// `all`, `male` or `female`.
    pub sex: String,
    /// Age band (`75-79` … `95+`).
    pub age_band: String,
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

/// Age bands of the indicator table, youngest first (`<75`: disability-based insured).
pub const AGE_BANDS: [&str; 6] = ["<75", "75-79", "80-84", "85-89", "90-94", "95+"];
