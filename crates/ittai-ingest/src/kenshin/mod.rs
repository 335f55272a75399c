//! 特定健診・後期高齢者健診 result documents (健診結果情報, HL7 CDA R2, MHLW schema V08,
//! 2024 item table): the item codes ittai reads and writes ([`ITEMS`]), reading
//! ([`read`]) and writing ([`write`](mod@write)).
//!
//! Items are identified by their 17-digit 項目コード (XMLhc24tab.csv, vendored in
//! reference/kenshin/; each entry below cites its line there). Every method variant of an
//! analyte maps to the same canonical field. Blood pressure measured more than once:
//! the representative value (その他, 9A755/9A765) when present, else the mean of the 1st
//! and 2nd readings, else the one reading there is (decision D53, after the MHLW
//! 標準的な健診・保健指導プログラム: 「原則2回測定し、その平均値を用いる」). The writer
//! writes the canonical value as その他.

pub mod read;
pub mod write;

/// HL7 v3 namespace of the documents.
pub const HL7: &str = "urn:hl7-org:v3";
/// Code system of item codes (observation/code, default when absent).
pub const ITEM_OID: &str = "1.2.392.200119.6.1005";
/// Code system of method codes (methodCode, default when absent).
pub const METHOD_OID: &str = "1.2.392.200119.6.1007";
/// Identifier roots in recordTarget/patientRole: 保険者番号, 記号, 番号, 枝番.
pub const INSURER_ROOT: &str = "1.2.392.200119.6.101";
/// 被保険者証等記号.
pub const SYMBOL_ROOT: &str = "1.2.392.200119.6.204";
/// 被保険者証等番号.
pub const NUMBER_ROOT: &str = "1.2.392.200119.6.205";

/// The canonical field an item fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// height_cm.
    Height,
    /// weight_kg.
    Weight,
    /// bmi.
    Bmi,
    /// waist_cm.
    Waist,
    /// sbp, representative value (その他).
    SbpOther,
    /// sbp, 1st reading.
    Sbp1,
    /// sbp, 2nd reading.
    Sbp2,
    /// dbp, representative value.
    DbpOther,
    /// dbp, 1st reading.
    Dbp1,
    /// dbp, 2nd reading.
    Dbp2,
    /// hba1c (% NGSP).
    Hba1c,
    /// fasting_glucose.
    FastingGlucose,
    /// tg, fasting.
    TgFasting,
    /// tg, random (随時), used when no fasting value.
    TgRandom,
    /// hdl.
    Hdl,
    /// ldl.
    Ldl,
    /// ast.
    Ast,
    /// alt.
    Alt,
    /// ggt.
    Ggt,
    /// creatinine.
    Creatinine,
    /// egfr.
    Egfr,
    /// urine_protein (CO 1–5).
    UrineProtein,
    /// urine_glucose (CO 1–5).
    UrineGlucose,
    /// med_bp (CD 1 服薬あり / 2 なし).
    MedBp,
    /// med_dm.
    MedDm,
    /// med_lipid.
    MedLipid,
    /// 採血時間 (CD 2 食後10時間以上 …), written with fasting values.
    SamplingTime,
    /// Questionnaire item q01 … q15 (後期高齢者の質問票).
    Question(u8),
}

/// How an item's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Physical quantity with a UCUM unit.
    Pq(&'static str),
    /// Coded ordinal (CO) in a code system.
    Co(&'static str),
    /// Coded value (CD) in a code system.
    Cd(&'static str),
}

/// One item of the 2024 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// 17-digit 項目コード.
    pub code: &'static str,
    /// Canonical field.
    pub field: Field,
    /// Value type and unit or code system.
    pub value: Value,
    /// methodCode, when the item has one.
    pub method: Option<&'static str>,
    /// Name in the item table.
    pub name: &'static str,
}

const fn item(
    code: &'static str,
    field: Field,
    value: Value,
    method: Option<&'static str>,
    name: &'static str,
) -> Item {
    Item {
        code,
        field,
        value,
        method,
        name,
    }
}

use Field::*;
use Value::*;

/// The items ittai reads, in the order the writer writes them (the first item of each
/// field is the one written). Source: reference/kenshin/XMLhc24tab.csv, lines given.
pub const ITEMS: &[Item] = &[
    item("9N001000000000001", Height, Pq("cm"), None, "身長"), // line 4
    item("9N006000000000001", Weight, Pq("kg"), None, "体重"), // line 5
    item("9N011000000000001", Bmi, Pq("kg/m2"), None, "BMI"),  // line 6
    item(
        "9N016160100000001",
        Waist,
        Pq("cm"),
        Some("9N01610000"),
        "腹囲(実測）",
    ), // line 8
    item(
        "9N016160200000001",
        Waist,
        Pq("cm"),
        Some("9N01620000"),
        "腹囲(自己判定）",
    ), // line 9
    item(
        "9N016160300000001",
        Waist,
        Pq("cm"),
        Some("9N01630000"),
        "腹囲(自己申告）",
    ), // line 10
    item(
        "9A755000000000001",
        SbpOther,
        Pq("mm[Hg]"),
        Some("9A75500009"),
        "収縮期血圧(その他)",
    ), // line 24
    item(
        "9A752000000000001",
        Sbp2,
        Pq("mm[Hg]"),
        Some("9A75200000"),
        "収縮期血圧(2回目)",
    ), // line 25
    item(
        "9A751000000000001",
        Sbp1,
        Pq("mm[Hg]"),
        Some("9A75100000"),
        "収縮期血圧(1回目)",
    ), // line 26
    item(
        "9A765000000000001",
        DbpOther,
        Pq("mm[Hg]"),
        Some("9A76500009"),
        "拡張期血圧(その他)",
    ), // line 27
    item(
        "9A762000000000001",
        Dbp2,
        Pq("mm[Hg]"),
        Some("9A76200000"),
        "拡張期血圧(2回目)",
    ), // line 28
    item(
        "9A761000000000001",
        Dbp1,
        Pq("mm[Hg]"),
        Some("9A76100000"),
        "拡張期血圧(1回目)",
    ), // line 29
    item(
        "9N141000000000011",
        SamplingTime,
        Cd("1.2.392.200119.6.2202"),
        None,
        "採血時間(食後)",
    ), // line 31
    item(
        "3F015000002327101",
        TgFasting,
        Pq("mg/dL"),
        Some("3F01510000"),
        "空腹時中性脂肪",
    ), // line 35
    item(
        "3F015000002327201",
        TgFasting,
        Pq("mg/dL"),
        Some("3F01520000"),
        "空腹時中性脂肪",
    ), // line 36
    item(
        "3F015000002399901",
        TgFasting,
        Pq("mg/dL"),
        Some("3F01530009"),
        "空腹時中性脂肪",
    ), // line 37
    item(
        "3F015129902327101",
        TgRandom,
        Pq("mg/dL"),
        Some("3F01510000"),
        "随時中性脂肪",
    ), // line 38
    item(
        "3F015129902327201",
        TgRandom,
        Pq("mg/dL"),
        Some("3F01520000"),
        "随時中性脂肪",
    ), // line 39
    item(
        "3F015129902399901",
        TgRandom,
        Pq("mg/dL"),
        Some("3F01530009"),
        "随時中性脂肪",
    ), // line 40
    item(
        "3F070000002327101",
        Hdl,
        Pq("mg/dL"),
        Some("3F07010000"),
        "HDLコレステロール",
    ), // line 41
    item(
        "3F070000002327201",
        Hdl,
        Pq("mg/dL"),
        Some("3F07020000"),
        "HDLコレステロール",
    ), // line 42
    item(
        "3F070000002399901",
        Hdl,
        Pq("mg/dL"),
        Some("3F07030009"),
        "HDLコレステロール",
    ), // line 43
    item(
        "3F077000002327101",
        Ldl,
        Pq("mg/dL"),
        Some("3F07710000"),
        "LDLコレステロール",
    ), // line 44
    item(
        "3F077000002327201",
        Ldl,
        Pq("mg/dL"),
        Some("3F07720000"),
        "LDLコレステロール",
    ), // line 45
    item(
        "3F077000002399901",
        Ldl,
        Pq("mg/dL"),
        Some("3F07730009"),
        "LDLコレステロール",
    ), // line 46
    item(
        "3F077000002391901",
        Ldl,
        Pq("mg/dL"),
        Some("3F07740009"),
        "LDLコレステロール",
    ), // line 47 (計算法)
    item(
        "3B035000002327201",
        Ast,
        Pq("U/L"),
        Some("3B03510000"),
        "AST(GOT)",
    ), // line 51
    item(
        "3B035000002399901",
        Ast,
        Pq("U/L"),
        Some("3B03520009"),
        "AST(GOT)",
    ), // line 52
    item(
        "3B045000002327201",
        Alt,
        Pq("U/L"),
        Some("3B04510000"),
        "ALT(GPT)",
    ), // line 53
    item(
        "3B045000002399901",
        Alt,
        Pq("U/L"),
        Some("3B04520009"),
        "ALT(GPT)",
    ), // line 54
    item(
        "3B090000002327101",
        Ggt,
        Pq("U/L"),
        Some("3B09010000"),
        "γ-GT(γ-GTP)",
    ), // line 55
    item(
        "3B090000002399901",
        Ggt,
        Pq("U/L"),
        Some("3B09020009"),
        "γ-GT(γ-GTP)",
    ), // line 56
    item(
        "3C015000002327101",
        Creatinine,
        Pq("mg/dL"),
        Some("3C01510000"),
        "血清クレアチニン",
    ), // line 63
    item(
        "3C015000002399901",
        Creatinine,
        Pq("mg/dL"),
        Some("3C01520009"),
        "血清クレアチニン",
    ), // line 64
    item(
        "8A065000002391901",
        Egfr,
        Pq("ml/min/1.73m2"),
        Some("8A06510000"),
        "eGFR",
    ), // line 67
    item(
        "3D010000001926101",
        FastingGlucose,
        Pq("mg/dL"),
        Some("3D01010000"),
        "空腹時血糖",
    ), // line 77
    item(
        "3D010000002227101",
        FastingGlucose,
        Pq("mg/dL"),
        Some("3D01020000"),
        "空腹時血糖",
    ), // line 78
    item(
        "3D010000001927201",
        FastingGlucose,
        Pq("mg/dL"),
        Some("3D01030000"),
        "空腹時血糖",
    ), // line 79
    item(
        "3D010000001999901",
        FastingGlucose,
        Pq("mg/dL"),
        Some("3D01040009"),
        "空腹時血糖",
    ), // line 80
    item(
        "3D046000001906202",
        Hba1c,
        Pq("%"),
        Some("3D04610000"),
        "HbA1c(NGSP値)",
    ), // line 85
    item(
        "3D046000001920402",
        Hba1c,
        Pq("%"),
        Some("3D04620000"),
        "HbA1c(NGSP値)",
    ), // line 86
    item(
        "3D046000001927102",
        Hba1c,
        Pq("%"),
        Some("3D04630000"),
        "HbA1c(NGSP値)",
    ), // line 87
    item(
        "3D046000001999902",
        Hba1c,
        Pq("%"),
        Some("3D04640009"),
        "HbA1c(NGSP値)",
    ), // line 88
    item(
        "1A020000000191111",
        UrineGlucose,
        Co("1.2.392.200119.6.2102"),
        Some("1A02010000"),
        "尿糖",
    ), // line 89
    item(
        "1A020000000190111",
        UrineGlucose,
        Co("1.2.392.200119.6.2102"),
        Some("1A02020000"),
        "尿糖",
    ), // line 90
    item(
        "1A010000000191111",
        UrineProtein,
        Co("1.2.392.200119.6.2102"),
        Some("1A01010000"),
        "尿蛋白",
    ), // line 91
    item(
        "1A010000000190111",
        UrineProtein,
        Co("1.2.392.200119.6.2102"),
        Some("1A01020000"),
        "尿蛋白",
    ), // line 92
    item(
        "9N701000000000011",
        MedBp,
        Cd("1.2.392.200119.6.2003"),
        None,
        "服薬1(血圧)",
    ), // line 253
    item(
        "9N706000000000011",
        MedDm,
        Cd("1.2.392.200119.6.2003"),
        None,
        "服薬2(血糖)",
    ), // line 257
    item(
        "9N711000000000011",
        MedLipid,
        Cd("1.2.392.200119.6.2003"),
        None,
        "服薬3(脂質)",
    ), // line 261
    item(
        "9N932000000000011",
        Question(1),
        Cd("1.2.392.200119.6.19010"),
        None,
        "健康状態（後期）",
    ), // line 311
    item(
        "9N933000000000011",
        Question(2),
        Cd("1.2.392.200119.6.19020"),
        None,
        "生活満足度（後期）",
    ), // line 312
    item(
        "9N934000000000011",
        Question(3),
        Cd("1.2.392.200119.6.19030"),
        None,
        "食習慣（後期）",
    ),
    item(
        "9N935000000000011",
        Question(4),
        Cd("1.2.392.200119.6.19040"),
        None,
        "口腔機能・咀嚼（後期）",
    ),
    item(
        "9N936000000000011",
        Question(5),
        Cd("1.2.392.200119.6.19050"),
        None,
        "口腔機能・嚥下（後期）",
    ),
    item(
        "9N937000000000011",
        Question(6),
        Cd("1.2.392.200119.6.19060"),
        None,
        "体重変化（後期）",
    ),
    item(
        "9N938000000000011",
        Question(7),
        Cd("1.2.392.200119.6.19070"),
        None,
        "運動・転倒（歩行速度）（後期）",
    ),
    item(
        "9N939000000000011",
        Question(8),
        Cd("1.2.392.200119.6.19080"),
        None,
        "運動・転倒（転倒）（後期）",
    ),
    item(
        "9N940000000000011",
        Question(9),
        Cd("1.2.392.200119.6.19090"),
        None,
        "運動・転倒（運動習慣）（後期）",
    ),
    item(
        "9N941000000000011",
        Question(10),
        Cd("1.2.392.200119.6.19100"),
        None,
        "認知機能（物忘れ）（後期）",
    ),
    item(
        "9N942000000000011",
        Question(11),
        Cd("1.2.392.200119.6.19110"),
        None,
        "認知機能（見当識）（後期）",
    ),
    item(
        "9N943000000000011",
        Question(12),
        Cd("1.2.392.200119.6.19120"),
        None,
        "喫煙（後期）",
    ),
    item(
        "9N944000000000011",
        Question(13),
        Cd("1.2.392.200119.6.19130"),
        None,
        "社会参加（後期）",
    ),
    item(
        "9N945000000000011",
        Question(14),
        Cd("1.2.392.200119.6.19140"),
        None,
        "社会参加（付き合い）（後期）",
    ),
    item(
        "9N946000000000011",
        Question(15),
        Cd("1.2.392.200119.6.19150"),
        None,
        "ソーシャルサポート（後期）",
    ), // line 325
];

/// The item with a code.
pub fn item_of(code: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.code == code)
}

/// The largest answer code of questionnaire item `q` (q01 1–5, q02 1–4, q12 1–3, others
/// 1–2), as in the item table (lines 311–325).
pub fn max_answer(q: u8) -> u8 {
    match q {
        1 => 5,
        2 => 4,
        12 => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item ittai uses is in the vendored 2024 item table with the same type and
    /// unit (and, for coded items, the same answer code system).
    #[test]
    fn items_match_the_vendored_2024_table() {
        let text = include_str!("../../../../reference/kenshin/XMLhc24tab.csv");
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
        for it in ITEMS {
            let row = rows
                .iter()
                .find(|r| r.get(15) == Some(it.code))
                .unwrap_or_else(|| panic!("{} not in the table", it.code));
            let ty = row.get(18).unwrap();
            match it.value {
                Value::Pq(unit) => {
                    assert_eq!(ty, "PQ", "{}", it.code);
                    assert_eq!(row.get(20), Some(unit), "{}", it.code);
                }
                Value::Co(oid) => {
                    assert_eq!(ty, "CO", "{}", it.code);
                    assert_eq!(row.get(29), Some(oid), "{}", it.code);
                }
                Value::Cd(oid) => {
                    assert_eq!(ty, "CD", "{}", it.code);
                    assert_eq!(row.get(29), Some(oid), "{}", it.code);
                }
            }
            assert_eq!(
                row.get(26).filter(|s| !s.is_empty()),
                it.method,
                "{}",
                it.code
            );
        }
    }
}
