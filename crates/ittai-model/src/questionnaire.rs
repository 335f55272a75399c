//! The 15 items of 後期高齢者の質問票 (questionnaire for the late elderly), with their
//! 17-digit 健診 XML item codes and answer codes.
//!
//! Source: 特定健診等データ管理 XML 項目表 2024 (第4期), items 9N932000000000011 …
//! 9N946000000000011 (reference/kenshin/XMLhc24tab.csv, 区分 900 後期質問票).
//! Answer codes are the XML codes: most items 1 はい / 2 いいえ.

/// One questionnaire item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionnaireItem {
    /// Item number 1–15 (column `qNN` of the `questionnaires` table).
    pub number: u8,
    /// 17-digit 健診 XML item code.
    pub xml_code: &'static str,
    /// 類型 (domain) in Japanese, e.g. 口腔機能.
    pub domain_ja: &'static str,
    /// The question as printed (short form).
    pub text_ja: &'static str,
    /// Answer codes and their Japanese labels.
    pub answers: &'static [(u8, &'static str)],
}

const YES_NO: &[(u8, &str)] = &[(1, "はい"), (2, "いいえ")];

/// Answer code "yes" (はい) of the yes/no items.
pub const YES: u8 = 1;
/// Answer code "no" (いいえ) of the yes/no items.
pub const NO: u8 = 2;

/// The 15 items in order (index = number − 1).
pub const ITEMS: [QuestionnaireItem; 15] = [
    QuestionnaireItem {
        number: 1,
        xml_code: "9N932000000000011",
        domain_ja: "健康状態",
        text_ja: "あなたの現在の健康状態はいかがですか",
        answers: &[
            (1, "よい"),
            (2, "まあよい"),
            (3, "ふつう"),
            (4, "あまりよくない"),
            (5, "よくない"),
        ],
    },
    QuestionnaireItem {
        number: 2,
        xml_code: "9N933000000000011",
        domain_ja: "心の健康状態",
        text_ja: "毎日の生活に満足していますか",
        answers: &[(1, "満足"), (2, "やや満足"), (3, "やや不満"), (4, "不満")],
    },
    QuestionnaireItem {
        number: 3,
        xml_code: "9N934000000000011",
        domain_ja: "食習慣",
        text_ja: "１日３食きちんと食べていますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 4,
        xml_code: "9N935000000000011",
        domain_ja: "口腔機能",
        text_ja: "半年前に比べて固いものが食べにくくなりましたか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 5,
        xml_code: "9N936000000000011",
        domain_ja: "口腔機能",
        text_ja: "お茶や汁物等でむせることがありますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 6,
        xml_code: "9N937000000000011",
        domain_ja: "体重変化",
        text_ja: "６カ月間で２～３kg以上の体重減少がありましたか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 7,
        xml_code: "9N938000000000011",
        domain_ja: "運動・転倒",
        text_ja: "以前に比べて歩く速度が遅くなってきたと思いますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 8,
        xml_code: "9N939000000000011",
        domain_ja: "運動・転倒",
        text_ja: "この1年間に転んだことがありますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 9,
        xml_code: "9N940000000000011",
        domain_ja: "運動・転倒",
        text_ja: "ウォーキング等の運動を週に1回以上していますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 10,
        xml_code: "9N941000000000011",
        domain_ja: "認知機能",
        text_ja: "周りの人から「いつも同じことを聞く」などの物忘れがあると言われていますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 11,
        xml_code: "9N942000000000011",
        domain_ja: "認知機能",
        text_ja: "今日が何月何日かわからない時がありますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 12,
        xml_code: "9N943000000000011",
        domain_ja: "喫煙",
        text_ja: "あなたはたばこを吸いますか",
        answers: &[(1, "吸っている"), (2, "吸っていない"), (3, "やめた")],
    },
    QuestionnaireItem {
        number: 13,
        xml_code: "9N944000000000011",
        domain_ja: "社会参加",
        text_ja: "週に1回以上は外出していますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 14,
        xml_code: "9N945000000000011",
        domain_ja: "社会参加",
        text_ja: "ふだんから家族や友人と付き合いがありますか",
        answers: YES_NO,
    },
    QuestionnaireItem {
        number: 15,
        xml_code: "9N946000000000011",
        domain_ja: "ソーシャルサポート",
        text_ja: "体調が悪いときに、身近に相談できる人がいますか",
        answers: YES_NO,
    },
];

/// The item with number `n` (1–15).
pub fn item(n: u8) -> Option<&'static QuestionnaireItem> {
    ITEMS.get((n as usize).checked_sub(1)?)
}

/// Dataset column name of item `n` (`q01` … `q15`).
pub fn column(n: u8) -> String {
    format!("q{n:02}")
}

impl QuestionnaireItem {
    /// Japanese label of an answer code, `None` outside the item's domain.
    pub fn answer_label(&self, code: u8) -> Option<&'static str> {
        self.answers
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, l)| *l)
    }
    /// Highest valid answer code.
    pub fn max_code(&self) -> u8 {
        self.answers.iter().map(|(c, _)| *c).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_numbered_and_coded_in_order() {
        for (i, it) in ITEMS.iter().enumerate() {
            assert_eq!(it.number as usize, i + 1);
            // 9N932 … 9N946 are consecutive.
            assert_eq!(&it.xml_code[..5], format!("9N{}", 932 + i).as_str());
            assert_eq!(it.xml_code.len(), 17);
        }
        assert_eq!(item(1).unwrap().max_code(), 5);
        assert_eq!(item(2).unwrap().max_code(), 4);
        assert_eq!(item(12).unwrap().max_code(), 3);
        assert_eq!(item(6).unwrap().answer_label(YES), Some("はい"));
        assert_eq!(column(7), "q07");
        assert!(item(16).is_none() && item(0).is_none());
    }
}
