//! ICD-10 chapters (大分類, 章) and the cost-by-disease-group row (疾病分類別医療費).
//!
//! Source: WHO ICD-10 (2013 version, as adopted in Japan as 「疾病、傷害及び死因の統計分類」
//! 基本分類表, chapter titles in the Japanese edition). The 社会保険表章用疾病分類 (121 groups)
//! is not vendored; chapters are the coarser grouping every claim can be given.
//!
//! ```
//! use ittai_model::icd10::Chapter;
//! assert_eq!(Chapter::of("E119").map(|c| c.numeral()), Some("IV"));
//! assert_eq!(Chapter::of("J690").map(|c| c.numeral()), Some("X"));
//! assert_eq!(Chapter::of("D500").map(|c| c.numeral()), Some("III")); // D50–D89
//! assert_eq!(Chapter::of("H650").map(|c| c.numeral()), Some("VIII")); // H60–H95
//! assert_eq!(Chapter::of("9999"), None);
//! ```

use crate::indicators::Area;

/// One chapter: numeral, first and last 3-character category, Japanese title.
const CHAPTERS: [(&str, &str, &str, &str); 22] = [
    ("I", "A00", "B99", "感染症及び寄生虫症"),
    ("II", "C00", "D48", "新生物＜腫瘍＞"),
    (
        "III",
        "D50",
        "D89",
        "血液及び造血器の疾患並びに免疫機構の障害",
    ),
    ("IV", "E00", "E90", "内分泌，栄養及び代謝疾患"),
    ("V", "F00", "F99", "精神及び行動の障害"),
    ("VI", "G00", "G99", "神経系の疾患"),
    ("VII", "H00", "H59", "眼及び付属器の疾患"),
    ("VIII", "H60", "H95", "耳及び乳様突起の疾患"),
    ("IX", "I00", "I99", "循環器系の疾患"),
    ("X", "J00", "J99", "呼吸器系の疾患"),
    ("XI", "K00", "K93", "消化器系の疾患"),
    ("XII", "L00", "L99", "皮膚及び皮下組織の疾患"),
    ("XIII", "M00", "M99", "筋骨格系及び結合組織の疾患"),
    ("XIV", "N00", "N99", "腎尿路生殖器系の疾患"),
    ("XV", "O00", "O99", "妊娠，分娩及び産じょく"),
    ("XVI", "P00", "P96", "周産期に発生した病態"),
    ("XVII", "Q00", "Q99", "先天奇形，変形及び染色体異常"),
    (
        "XVIII",
        "R00",
        "R99",
        "症状，徴候及び異常臨床所見・異常検査所見で他に分類されないもの",
    ),
    ("XIX", "S00", "T98", "損傷，中毒及びその他の外因の影響"),
    ("XX", "V01", "Y98", "傷病及び死亡の外因"),
    (
        "XXI",
        "Z00",
        "Z99",
        "健康状態に影響を及ぼす要因及び保健サービスの利用",
    ),
    ("XXII", "U00", "U99", "特殊目的用コード"),
];

/// An ICD-10 chapter (index 0 = chapter I).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Chapter(u8);

impl Chapter {
    /// The 22 chapters in order.
    pub fn all() -> impl Iterator<Item = Chapter> {
        (0..CHAPTERS.len() as u8).map(Chapter)
    }
    /// The chapter of an ICD-10 code without dot (`E119`, `J690`, `T08-0`): by its first
    /// three characters; `None` when they are not a letter and two digits in a chapter.
    pub fn of(icd10: &str) -> Option<Chapter> {
        let head = icd10.get(..3)?;
        let b = head.as_bytes();
        if !(b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit()) {
            return None;
        }
        CHAPTERS
            .iter()
            .position(|(_, lo, hi, _)| *lo <= head && head <= *hi)
            .map(|i| Chapter(i as u8))
    }
    /// Roman numeral (`I` … `XXII`).
    pub fn numeral(self) -> &'static str {
        CHAPTERS[self.0 as usize].0
    }
    /// Range of categories, e.g. `A00–B99`.
    pub fn range(self) -> String {
        let (_, lo, hi, _) = CHAPTERS[self.0 as usize];
        format!("{lo}–{hi}")
    }
    /// Japanese chapter title.
    pub fn title_ja(self) -> &'static str {
        CHAPTERS[self.0 as usize].3
    }
}

/// What a claim's cost is attributed to in 疾病分類別医療費 (column `disease_group`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiseaseGroup {
    /// The ICD-10 chapter of the claim's 主傷病, else of its first non-suspected diagnosis.
    Chapter(Chapter),
    /// A claim with diagnoses but none usable (no ICD-10, only suspected): 分類不能.
    Unclassified,
    /// 調剤 claims, which carry no diagnosis (shown on their own: 調剤).
    Dispensing,
}

impl DiseaseGroup {
    /// Code on disk: the chapter numeral, `unclassified` or `dispensing`.
    pub fn code(self) -> &'static str {
        match self {
            DiseaseGroup::Chapter(c) => c.numeral(),
            DiseaseGroup::Unclassified => "unclassified",
            DiseaseGroup::Dispensing => "dispensing",
        }
    }
    /// Japanese label (`IX 循環器系の疾患`, `分類不能`, `調剤（傷病名なし）`).
    pub fn label_ja(self) -> String {
        match self {
            DiseaseGroup::Chapter(c) => format!("{} {}", c.numeral(), c.title_ja()),
            DiseaseGroup::Unclassified => "分類不能".into(),
            DiseaseGroup::Dispensing => "調剤（傷病名なし）".into(),
        }
    }
    /// Inverse of [`DiseaseGroup::code`].
    pub fn parse(code: &str) -> Option<DiseaseGroup> {
        match code {
            "unclassified" => Some(DiseaseGroup::Unclassified),
            "dispensing" => Some(DiseaseGroup::Dispensing),
            _ => Chapter::all()
                .find(|c| c.numeral() == code)
                .map(DiseaseGroup::Chapter),
        }
    }
}

/// One row of 疾病分類別医療費: FY × area × disease group.
#[derive(Debug, Clone, PartialEq)]
pub struct DiseaseCostRow {
    /// Fiscal year of the service months.
    pub fy: i32,
    /// A municipality or the union.
    pub municipality_code: Area,
    /// Chapter, unclassified or dispensing.
    pub disease_group: DiseaseGroup,
    /// Claims attributed to the group.
    pub claims: u64,
    /// Distinct persons with such a claim.
    pub persons: u64,
    /// Cost: 決定点数 × 10, yen.
    pub yen: f64,
    /// yen per insured person-year of the area (the `medical_cost` denominator).
    pub yen_per_insured: Option<f64>,
    /// Share of the area's medical cost, %.
    pub share: Option<f64>,
    /// Blanked in published outputs (1–9 persons, or protecting another blank cell).
    pub suppressed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_bounds() {
        let n = |c: &str| Chapter::of(c).map(|c| c.numeral());
        assert_eq!(n("A000"), Some("I"));
        assert_eq!(n("B99"), Some("I"));
        assert_eq!(n("C000"), Some("II"));
        assert_eq!(n("D489"), Some("II"));
        assert_eq!(n("D509"), Some("III"));
        assert_eq!(n("H599"), Some("VII"));
        assert_eq!(n("I10"), Some("IX"));
        assert_eq!(n("T08-0"), Some("XIX"));
        assert_eq!(n("U071"), Some("XXII"));
        assert_eq!(n("Z999"), Some("XXI"));
        assert_eq!(n("D90"), None, "D90–D99 are unused");
        assert_eq!(n("e11"), None);
        for c in Chapter::all() {
            assert_eq!(
                DiseaseGroup::parse(c.numeral()),
                Some(DiseaseGroup::Chapter(c))
            );
        }
    }
}
