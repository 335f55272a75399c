//! Programme evaluation (個別事業の評価): the measures of each programme, the groups and
//! periods they are shown for, and the tidy row `ittai evaluate` writes
//! (`evaluation.parquet`, published as `evaluation.csv` / `.xlsx`).
//!
//! Source: MHLW 「高齢者保健事業の実施計画（データヘルス計画）」 materials of 2023-02-21
//! (資料1, p.76, 「個別事業（一体的実施）の評価指標例」); the exact windows and methods are
//! ittai's and are written out in docs/reference/evaluation.md.

use crate::indicators::Area;
use crate::support::Programme;

macro_rules! measures {
    ($( $(#[$vm:meta])* $V:ident = $code:literal, $ja:literal, $unit:ident, $paired:literal, [$($p:ident),*] ; )*) => {
        /// What a row of the evaluation counts (column `measure`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Measure { $( $(#[$vm])* $V, )* }

        impl Measure {
            /// Every measure, in output order.
            pub const ALL: &'static [Measure] = &[$(Measure::$V),*];
            /// snake_case code (column `measure`).
            pub fn code(self) -> &'static str { match self { $(Measure::$V => $code),* } }
            /// Japanese label for published tables and the report.
            pub fn label_ja(self) -> &'static str { match self { $(Measure::$V => $ja),* } }
            /// How the value is shown.
            pub fn unit(self) -> EvalUnit { match self { $(Measure::$V => EvalUnit::$unit),* } }
            /// Whether the measure compares the previous and the next value of the same
            /// person (`pre`, `post`, `change` rows; the comparison is on `change`); else
            /// it has one `post` row (an outcome) or none (an output).
            pub fn paired(self) -> bool { match self { $(Measure::$V => $paired),* } }
            /// The programmes the measure is computed for; empty = every programme.
            pub fn programmes(self) -> &'static [Programme] {
                match self { $(Measure::$V => &[$(Programme::$p),*]),* }
            }
            /// Inverse of [`Measure::code`].
            pub fn parse(code: &str) -> Option<Measure> {
                Measure::ALL.iter().copied().find(|m| m.code() == code)
            }
        }
    };
}

measures! {
    /// 対象者数: targets of the programme (persons).
    Targets = "targets", "対象者数", Persons, false, [];
    /// 接触者数: targets with a contact.
    Contacted = "contacted", "接触者数（支援を試みた人）", Percent, false, [];
    /// 支援実施者数: targets with a reached contact.
    Supported = "supported", "支援実施者数（支援できた人）", Percent, false, [];
    /// 対象外の支援: persons with a reached record outside the lists.
    OutsideLists = "outside_lists", "抽出対象外への支援", Persons, false, [];
    /// サービスにつないだ: supported targets referred to medical, care or community services.
    Referred = "referred", "医療・介護・通いの場につないだ人", Percent, false, [];
    /// 支援が必要と把握: supported targets found to need support.
    NeedsReferral = "needs_referral", "医療・介護等の支援が必要と把握", Percent, false, [];
    /// 1年後の新規要介護認定 (要支援1以上).
    NewCertification = "new_certification", "12か月以内の新規認定（要支援1以上）", Percent, false, [];
    /// 受診医療機関数 (医科入院外・歯科).
    Institutions = "institutions", "受診医療機関数（外来・歯科、3か月）", Mean, true, [Medication];
    /// 受診日数 (診療実日数, 医科入院外・歯科).
    VisitDays = "visit_days", "受診日数（外来・歯科、3か月）", Mean, true, [Medication];
    /// 多剤 (15剤以上の月がある).
    Polypharmacy = "polypharmacy", "15剤以上の月がある人", Percent, true, [Medication];
    /// 歯科受診 (6か月以内).
    DentalClaim = "dental_claim", "6か月以内の歯科受診", Percent, false, [Oral];
    /// 質問票 Q4 固いものが食べにくい = はい.
    Q04Yes = "q04_yes", "固いものが食べにくい（Q4）", Percent, true, [Oral];
    /// 質問票 Q5 むせる = はい.
    Q05Yes = "q05_yes", "お茶や汁物等でむせる（Q5）", Percent, true, [Oral];
    /// 誤嚥性肺炎の再発 (J69.0, 12か月以内).
    AspirationPneumonia = "aspiration_pneumonia", "誤嚥性肺炎の再発（12か月以内）", Percent, false, [Oral];
    /// 身体的フレイルの回答.
    FrailtyAnswers = "frailty_answers", "身体的フレイルの回答（Q1・Q7・Q8）", Percent, true, [PhysicalFrailty];
    /// 体重維持 (±0.9 kg).
    WeightKept = "weight_kept", "体重維持（±0.9kg以内）", Percent, false, [Undernutrition];
    /// 体重増加 (+1.0 kg 以上).
    WeightGained = "weight_gained", "体重増加（+1.0kg以上）", Percent, false, [Undernutrition];
    /// 体重減少 (−1.0 kg 以上).
    WeightLost = "weight_lost", "体重減少（-1.0kg以上）", Percent, false, [Undernutrition];
    /// BMI 20 以下.
    Bmi20 = "bmi_20", "BMI 20以下", Percent, true, [Undernutrition];
    /// 受診確認 (6か月以内).
    VisitConfirmed = "visit_confirmed", "6か月以内の受診確認", Percent, false, [DiseasePrevention];
    /// HbA1c 8.0 % 以上.
    Hba1c8 = "hba1c_8", "HbA1c 8.0%以上", Percent, true, [DiseasePrevention];
    /// 血圧 160/100 mmHg 以上.
    Bp160100 = "bp_160_100", "血圧160/100mmHg以上", Percent, true, [DiseasePrevention];
    /// 健診・医療・介護のいずれかの利用 (12か月以内).
    Contact12m = "contact_12m", "12か月以内の健診・医療・介護の利用", Percent, false, [HealthUnknown];
    /// 事業を実施した市町村数 (union rows).
    MunicipalitiesRunning = "municipalities_running", "事業を実施した市町村", Percent, false, [];
    /// 歯科健診を実施した市町村数 (union rows; no programme).
    MunicipalitiesDentalCheckups = "municipalities_dental_checkups", "歯科健診を実施した市町村", Percent, false, [];
    /// 質問票を用いたハイリスク支援を実施した市町村数 (union rows; no programme).
    MunicipalitiesQuestionnaireSupport = "municipalities_questionnaire_support", "質問票を用いた支援を実施した市町村", Percent, false, [];
}

/// How a measure's value is shown (column `unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvalUnit {
    /// A count of persons (value = numerator).
    Persons,
    /// 100 · numerator / denominator (for `change`: percentage points).
    Percent,
    /// numerator / denominator: a mean per person.
    Mean,
}

impl EvalUnit {
    /// Code on disk: `persons`, `percent`, `mean`.
    pub fn code(self) -> &'static str {
        match self {
            EvalUnit::Persons => "persons",
            EvalUnit::Percent => "percent",
            EvalUnit::Mean => "mean",
        }
    }
    /// Japanese unit for published tables: 人, %, 平均.
    pub fn label_ja(self) -> &'static str {
        match self {
            EvalUnit::Persons => "人",
            EvalUnit::Percent => "%",
            EvalUnit::Mean => "平均",
        }
    }
}

/// Whose value a row gives (column `group`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Every target (outputs) or every municipality (union counts).
    All,
    /// Supported targets (支援実施者).
    Supported,
    /// Targets not supported (比較群), crude; `standardised` holds the value standardised to
    /// the supported group's sex × age-band mix.
    NotSupported,
    /// Supported − standardised comparison, with the 95 % CI.
    Difference,
}

impl Group {
    /// Every group, in output order.
    pub const ALL: [Group; 4] = [
        Group::All,
        Group::Supported,
        Group::NotSupported,
        Group::Difference,
    ];
    /// Code on disk: `all`, `supported`, `not_supported`, `difference`.
    pub fn code(self) -> &'static str {
        match self {
            Group::All => "all",
            Group::Supported => "supported",
            Group::NotSupported => "not_supported",
            Group::Difference => "difference",
        }
    }
    /// Japanese label: 全体, 支援あり, 支援なし, 差.
    pub fn label_ja(self) -> &'static str {
        match self {
            Group::All => "全体",
            Group::Supported => "支援あり",
            Group::NotSupported => "支援なし",
            Group::Difference => "差（支援あり－支援なし）",
        }
    }
    /// Inverse of [`Group::code`].
    pub fn parse(code: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// Which window a row's value comes from (column `period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// No window (outputs, union counts).
    None,
    /// Before the index date (3 months of claims, or the previous checkup / questionnaire).
    Pre,
    /// After the index date.
    Post,
    /// Post − pre of each person.
    Change,
}

impl Period {
    /// Every period, in output order.
    pub const ALL: [Period; 4] = [Period::None, Period::Pre, Period::Post, Period::Change];
    /// Code on disk: `-`, `pre`, `post`, `change`.
    pub fn code(self) -> &'static str {
        match self {
            Period::None => "-",
            Period::Pre => "pre",
            Period::Post => "post",
            Period::Change => "change",
        }
    }
    /// Japanese label: 空, 支援前, 支援後, 変化.
    pub fn label_ja(self) -> &'static str {
        match self {
            Period::None => "",
            Period::Pre => "支援前",
            Period::Post => "支援後",
            Period::Change => "変化（後－前）",
        }
    }
    /// Inverse of [`Period::code`].
    pub fn parse(code: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// One row of the evaluation table: FY × programme × area × measure × group × period.
///
/// `numerator` is persons (outputs, 0/1 outcomes) or a sum (counts: institutions, days);
/// `denominator` is persons; `value` is 100 · num / den (`Percent`), num / den (`Mean`) or
/// num (`Persons`). Means and shares of `change` rows are of per-person post − pre values.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRow {
    /// Fiscal year of the support (FY t; the lists are FY t − 1's).
    pub fy: i32,
    /// The programme; `None` for the union counts that belong to none
    /// (`municipalities_dental_checkups`, `municipalities_questionnaire_support`).
    pub programme: Option<Programme>,
    /// A municipality or the union.
    pub municipality_code: Area,
    /// What is counted.
    pub measure: Measure,
    /// Whose value.
    pub group: Group,
    /// Which window.
    pub period: Period,
    /// Persons or a sum; `None` on difference rows.
    pub numerator: Option<f64>,
    /// Persons; on difference rows the supported persons in the strata compared.
    pub denominator: Option<f64>,
    /// The value in [`Measure::unit`]; `None` when the denominator is 0.
    pub value: Option<f64>,
    /// Not-supported rows: the value standardised to the supported group's sex × age mix.
    pub standardised: Option<f64>,
    /// Difference rows: lower bound of the Wald 95 % CI.
    pub ci_low: Option<f64>,
    /// Difference rows: upper bound of the Wald 95 % CI.
    pub ci_high: Option<f64>,
    /// Blanked in published outputs (small counts or protecting another blank cell).
    pub suppressed: bool,
}

/// The caveat the report and the published tables print with every comparison.
pub const OBSERVATIONAL_CAVEAT_JA: &str = "支援を受けた人と受けなかった人は、支援を受け入れるかどうかの時点で既に違いがあります。この比較は支援の後に起きたことを示すもので、支援が原因であることを証明するものではありません（観察研究）。比較群は性・年齢構成を支援ありの人にそろえて（直接法）比べています。";
