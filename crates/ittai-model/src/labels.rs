//! Japanese labels for people, in one table: the header of every column ittai writes for
//! people (CSV with Japanese headers, xlsx, the terminal, the HTML report), the names of
//! checkup items with their units (also used in the Japanese text of the rules), and the
//! words the evidence columns of target lists are built from. Code names (性別, 要介護度,
//! questionnaire answers) are methods of their types ([`crate::Sex`], [`crate::CareLevel`], …) and
//! [`crate::questionnaire`]. Programs read the English snake_case names; people read these.

/// Column name (English snake_case, as in Parquet) → Japanese header.
pub const COLUMNS: &[(&str, &str)] = &[
    // Target lists (docs/reference/rules.md, target list).
    ("rule_id", "ルールID"),
    ("rule_name_ja", "ルール名"),
    ("person_id", "被保険者ID（仮名）"),
    ("municipality_code", "市町村コード"),
    ("municipality", "市町村名"),
    ("sex", "性別"),
    ("birth_date", "生年月日"),
    ("age", "年齢"),
    ("age_band", "年齢階級"),
    ("care_level", "要介護度"),
    ("n_rules", "該当ルール数"),
    ("insurer_number", "保険者番号"),
    ("checkup_date", "健診日"),
    ("questionnaire_date", "質問票回答日"),
    ("last_checkup_date", "最終健診日"),
    ("last_dental_checkup_date", "最終歯科健診日"),
    // Named lists (OUT/named/, `ittai run --register`; docs/reference/privacy.md): from the
    // municipality's own register, on its own machine only.
    ("person_name", "氏名"),
    ("person_kana", "カナ"),
    ("person_address", "住所"),
    ("person_phone", "電話"),
    // Rule summary and attrition (減少表).
    ("listed", "対象者数"),
    ("insured", "被保険者数（基準日）"),
    ("rate_percent", "割合（%）"),
    ("rule_text_ja", "抽出条件（適用した条件）"),
    ("citation", "出典"),
    ("step", "段階"),
    ("condition_ja", "条件"),
    ("persons", "該当者数"),
    ("insufficient_coverage", "資格期間不足で除外"),
    // Common indicators (docs/reference/indicators.md).
    ("fy", "年度"),
    ("indicator", "指標"),
    ("unit", "単位"),
    ("numerator", "分子"),
    ("denominator", "分母"),
    ("value", "値"),
    ("ci_lower", "95%信頼区間（下限）"),
    ("ci_upper", "95%信頼区間（上限）"),
    ("age_standardised", "年齢調整値"),
    ("previous_value", "前年度値"),
    ("change", "前年度差"),
    ("direction", "増減"),
    ("suppressed", "秘匿"),
    // Life table (平均余命・平均自立期間).
    ("person_years", "観察人年"),
    ("deaths", "死亡数"),
    ("m", "死亡率"),
    ("q", "死亡確率"),
    ("l", "生存数"),
    ("big_l", "定常人口"),
    ("sample", "年度末の被保険者数"),
    ("dependent", "うち要介護2以上"),
    ("prevalence", "要介護2以上の割合"),
    ("e", "平均余命"),
    ("h", "平均自立期間"),
    // Programme evaluation (docs/reference/evaluation.md#outputs-and-suppression). The
    // `measure` column is published under the 指標 header of `indicator` (the two never
    // share a table).
    ("programme", "事業"),
    ("group", "群"),
    ("period", "期間"),
    ("standardised", "標準化値"),
    ("ci_low", "95%CI下限"),
    ("ci_high", "95%CI上限"),
    // 疾病分類別医療費 (docs/reference/indicators.md#context-indicators). Its `persons`
    // column is published as 人数.
    ("disease_group", "疾病分類"),
    ("claims", "件数"),
    ("yen", "医療費（円）"),
    ("yen_per_insured", "1人当たり医療費（円）"),
    ("share", "構成比（%）"),
];

/// The Japanese header of a column, if it has one.
pub fn column_ja(name: &str) -> Option<&'static str> {
    COLUMNS.iter().find(|(n, _)| *n == name).map(|(_, ja)| *ja)
}

/// A checkup item (健診項目) with its Japanese name and unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckupItem {
    /// Column of the `checkups` table.
    pub field: &'static str,
    /// Japanese name (標準的な健診・保健指導プログラム item names).
    pub ja: &'static str,
    /// Unit, empty for BMI and the urine tests.
    pub unit: &'static str,
}

impl CheckupItem {
    /// Header of the item in a list: the name with its unit in full-width brackets
    /// (`収縮期血圧（mmHg）`), or the name alone when it has no unit (`BMI`).
    pub fn header(&self) -> String {
        if self.unit.is_empty() {
            self.ja.to_string()
        } else {
            format!("{}（{}）", self.ja, self.unit)
        }
    }
}

/// The numeric and coded items of the `checkups` table (docs/reference/dataset.md).
pub const CHECKUP_ITEMS: &[CheckupItem] = &[
    item("height_cm", "身長", "cm"),
    item("weight_kg", "体重", "kg"),
    item("bmi", "BMI", ""),
    item("waist_cm", "腹囲", "cm"),
    item("sbp", "収縮期血圧", "mmHg"),
    item("dbp", "拡張期血圧", "mmHg"),
    item("hba1c", "HbA1c", "%"),
    item("fasting_glucose", "空腹時血糖", "mg/dL"),
    item("tg", "中性脂肪", "mg/dL"),
    item("hdl", "HDLコレステロール", "mg/dL"),
    item("ldl", "LDLコレステロール", "mg/dL"),
    item("ast", "AST", "U/L"),
    item("alt", "ALT", "U/L"),
    item("ggt", "γ-GT", "U/L"),
    item("creatinine", "血清クレアチニン", "mg/dL"),
    item("egfr", "eGFR", "mL/min/1.73m²"),
    item("urine_protein", "尿蛋白", ""),
    item("urine_glucose", "尿糖", ""),
];

const fn item(field: &'static str, ja: &'static str, unit: &'static str) -> CheckupItem {
    CheckupItem { field, ja, unit }
}

/// The checkup item of a `checkups` column.
pub fn checkup_item(field: &str) -> Option<&'static CheckupItem> {
    CHECKUP_ITEMS.iter().find(|i| i.field == field)
}

/// Words of the evidence columns of target lists; a column joins one of them with the
/// class or claim kinds it is about, e.g. `最終処方月（糖尿病用薬）`.
pub mod evidence {
    /// Highest number of distinct drugs in one service month.
    pub const MAX_MONTHLY_DRUGS: &str = "最大薬剤数（1か月）";
    /// The service month of that highest count.
    pub const MAX_MONTHLY_DRUGS_MONTH: &str = "最大薬剤数の診療年月";
    /// Last service month with a claim of the given kinds.
    pub const LAST_VISIT_MONTH: &str = "最終受診月";
    /// The visit kinds 医科・歯科・DPC together.
    pub const VISIT_KINDS: &str = "医科・歯科・DPC";
    /// Last service month with a drug of the class.
    pub const LAST_PRESCRIPTION_MONTH: &str = "最終処方月";
    /// The product of that last prescription.
    pub const LAST_PRESCRIPTION_NAME: &str = "最終処方薬";
    /// Latest diagnosis of the class.
    pub const LATEST_DIAGNOSIS: &str = "最新の傷病名";
    /// A questionnaire answer.
    pub const QUESTIONNAIRE: &str = "質問票";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_one_label() {
        let mut names: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a column name is listed twice");
        let mut headers: Vec<&str> = COLUMNS.iter().map(|(_, h)| *h).collect();
        headers.sort_unstable();
        headers.dedup();
        assert_eq!(headers.len(), n, "two columns share a Japanese header");
    }

    #[test]
    fn checkup_headers_carry_units() {
        assert_eq!(checkup_item("sbp").unwrap().header(), "収縮期血圧（mmHg）");
        assert_eq!(checkup_item("bmi").unwrap().header(), "BMI");
        assert_eq!(
            checkup_item("egfr").unwrap().header(),
            "eGFR（mL/min/1.73m²）"
        );
        assert!(checkup_item("nope").is_none());
    }
}
