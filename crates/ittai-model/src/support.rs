//! Support records (支援記録): the vocabularies of the `interventions` table — programme
//! (事業), approach (支援方法), referral (つなぎ先) and staff (従事者) — with their Japanese
//! labels, and which extraction rules feed which programme.
//!
//! Source: MHLW 「高齢者保健事業の実施計画（データヘルス計画）策定の手引き」 materials of
//! 2023-02-21 (資料1, p.76, 「個別事業（一体的実施）の評価指標例」) for the programmes and
//! their indicators; the approaches and referrals are the categories of the 一体的実施 実施報告
//! (see docs/reference/evaluation.md).
//!
//! Codes are English snake_case (what programs read and what ittai writes); CSV input may
//! give the Japanese label instead, or any of the listed aliases.
//!
//! ```
//! use ittai_model::support::{Approach, Programme};
//! assert_eq!(Approach::parse("訪問"), Some(Approach::Visit));
//! assert_eq!(Approach::parse("phone"), Some(Approach::Phone));
//! assert_eq!(Programme::for_rule("R04"), Some(Programme::Medication));
//! assert_eq!(Programme::Medication.rules(), ["R03", "R04"]);
//! ```

macro_rules! vocabulary {
    ($(#[$m:meta])* $Name:ident { $( $(#[$vm:meta])* $V:ident = $code:literal, $ja:literal $(| $alias:literal)* ; )* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $Name { $( $(#[$vm])* $V, )* }

        impl $Name {
            /// Every value, in code-table order.
            pub const ALL: &'static [$Name] = &[$($Name::$V),*];
            /// Every code with its Japanese label, in code-table order (for the validator and
            /// error messages).
            pub const CODES: &'static [(&'static str, &'static str)] = &[$(($code, $ja)),*];
            /// The snake_case code written to files.
            pub fn code(self) -> &'static str {
                match self { $($Name::$V => $code),* }
            }
            /// The Japanese label (as nurses write it).
            pub fn label_ja(self) -> &'static str {
                match self { $($Name::$V => $ja),* }
            }
            /// The value of a code, a Japanese label or an alias; surrounding spaces
            /// (ASCII or 全角) are ignored and codes are case-insensitive. `None` otherwise.
            pub fn parse(text: &str) -> Option<$Name> {
                let t = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
                $(
                    if t.eq_ignore_ascii_case($code) || t == $ja $(|| t == $alias)* {
                        return Some($Name::$V);
                    }
                )*
                None
            }
        }

        impl std::fmt::Display for $Name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// 事業: the programme a support record belongs to.
    Programme {
        /// 低栄養 (R01).
        Undernutrition = "undernutrition", "低栄養";
        /// 口腔 (R02).
        Oral = "oral", "口腔";
        /// 服薬（多剤・睡眠薬） (R03, R04).
        Medication = "medication", "服薬" | "服薬（多剤・睡眠薬）" | "服薬(多剤・睡眠薬)" | "多剤" | "睡眠薬";
        /// 身体的フレイル (R05).
        PhysicalFrailty = "physical_frailty", "身体的フレイル" | "身体的フレイル（ロコモ含む）";
        /// 重症化予防 (R06–R09).
        DiseasePrevention = "disease_prevention", "重症化予防";
        /// 健康状態不明者 (R10).
        HealthUnknown = "health_unknown", "健康状態不明者";
    }
}

vocabulary! {
    /// 支援方法: how the contact was made.
    Approach {
        /// 訪問 (home visit).
        Visit = "visit", "訪問";
        /// 電話.
        Phone = "phone", "電話";
        /// 面談・来所.
        Interview = "interview", "面談・来所" | "面談" | "来所";
        /// 通知・文書.
        Letter = "letter", "通知・文書" | "通知" | "文書";
        /// 受診勧奨.
        Recommendation = "recommendation", "受診勧奨";
        /// 通いの場等での支援.
        Group = "group", "通いの場等での支援" | "通いの場";
    }
}

vocabulary! {
    /// つなぎ先: the service a person was referred to after a contact.
    Referral {
        /// 医療.
        Medical = "medical", "医療";
        /// 介護.
        Care = "care", "介護";
        /// 通いの場・地域支援事業.
        Community = "community", "通いの場・地域支援事業" | "通いの場" | "地域支援事業";
        /// 見守り.
        Watch = "watch", "見守り";
        /// なし.
        None = "none", "なし";
    }
}

vocabulary! {
    /// 従事者: who made the contact.
    Staff {
        /// 保健師.
        PublicHealthNurse = "public_health_nurse", "保健師";
        /// 管理栄養士.
        Dietitian = "dietitian", "管理栄養士" | "栄養士";
        /// 歯科衛生士.
        DentalHygienist = "dental_hygienist", "歯科衛生士";
        /// 薬剤師.
        Pharmacist = "pharmacist", "薬剤師";
        /// 看護師.
        Nurse = "nurse", "看護師";
        /// その他.
        Other = "other", "その他";
    }
}

impl Programme {
    /// The extraction rules whose lists feed this programme (docs/reference/evaluation.md).
    pub fn rules(self) -> &'static [&'static str] {
        match self {
            Programme::Undernutrition => &["R01"],
            Programme::Oral => &["R02"],
            Programme::Medication => &["R03", "R04"],
            Programme::PhysicalFrailty => &["R05"],
            Programme::DiseasePrevention => &["R06", "R07", "R08", "R09"],
            Programme::HealthUnknown => &["R10"],
        }
    }

    /// The programme that rule `id` (R01 … R10) feeds; `None` for any other id.
    pub fn for_rule(id: &str) -> Option<Programme> {
        Programme::ALL
            .iter()
            .copied()
            .find(|p| p.rules().contains(&id))
    }
}

/// The rule ids a support record's `rule_id` may name (R01 … R10), with the Japanese name of
/// each list.
pub const RULE_IDS: &[(&str, &str)] = &[
    ("R01", "低栄養"),
    ("R02", "口腔"),
    ("R03", "服薬（多剤）"),
    ("R04", "服薬（睡眠薬）"),
    ("R05", "身体的フレイル"),
    ("R06", "重症化予防（コントロール不良者）"),
    ("R07", "重症化予防（糖尿病等治療中断者）"),
    ("R08", "重症化予防（基礎疾患保有＋フレイル）"),
    ("R09", "重症化予防（腎機能不良未受診者）"),
    ("R10", "健康状態不明者"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_labels_and_aliases_parse_back() {
        for p in Programme::ALL {
            assert_eq!(Programme::parse(p.code()), Some(*p));
            assert_eq!(Programme::parse(p.label_ja()), Some(*p));
        }
        for a in Approach::ALL {
            assert_eq!(Approach::parse(a.label_ja()), Some(*a));
        }
        assert_eq!(Approach::parse("　電話 "), Some(Approach::Phone));
        assert_eq!(Approach::parse("VISIT"), Some(Approach::Visit));
        assert_eq!(Approach::parse("fax"), None);
        assert_eq!(Referral::parse("通いの場"), Some(Referral::Community));
        assert_eq!(Staff::parse("保健師"), Some(Staff::PublicHealthNurse));
    }

    #[test]
    fn every_rule_feeds_exactly_one_programme() {
        for (id, _) in RULE_IDS {
            let owners: Vec<_> = Programme::ALL
                .iter()
                .filter(|p| p.rules().contains(id))
                .collect();
            assert_eq!(owners.len(), 1, "{id}");
        }
        assert_eq!(Programme::for_rule("R11"), None);
    }
}
