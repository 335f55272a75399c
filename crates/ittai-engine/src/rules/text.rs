//! Plain-Japanese text of a rule as applied, generated from its resolved condition, so
//! the text always matches the parameters in force (docs/reference/rules.md: "a Japanese description
//! generated from its parameters").

use std::collections::BTreeMap;

use ittai_model::classes::{DiseaseClass, DrugClass};
use ittai_model::questionnaire;
use ittai_model::{ClaimKind, UrineTest};

use super::file::{DrugUnit, Event, Node, Op};

/// Japanese label and unit of a checkup value ([`ittai_model::labels::CHECKUP_ITEMS`];
/// `?` for a column that is not a checkup item).
pub fn checkup_label(field: &str) -> (&'static str, &'static str) {
    ittai_model::labels::checkup_item(field).map_or(("?", ""), |i| (i.ja, i.unit))
}

const CIRCLED: [&str; 15] = [
    "①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩", "⑪", "⑫", "⑬", "⑭", "⑮",
];

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn cmp_ja(op: Op, rendered: &[String]) -> String {
    let v = rendered.first().cloned().unwrap_or_default();
    match op {
        Op::Lt => format!("{v}未満"),
        Op::Le => format!("{v}以下"),
        Op::Gt => format!("{v}を超える"),
        Op::Ge => format!("{v}以上"),
        Op::Eq => v,
        Op::Ne => format!("{v}以外"),
        Op::In => format!("{}のいずれか", rendered.join("・")),
    }
}

fn kinds_ja(kinds: &std::collections::BTreeSet<ClaimKind>) -> String {
    kinds
        .iter()
        .map(|k| k.label_ja())
        .collect::<Vec<_>>()
        .join("・")
}

/// Context for rendering: class definitions for names.
pub struct TextContext<'a> {
    /// Drug classes.
    pub drug_classes: &'a BTreeMap<String, DrugClass>,
    /// Disease classes.
    pub disease_classes: &'a BTreeMap<String, DiseaseClass>,
    /// Whether the coverage guard is on.
    pub coverage_guard: bool,
}

fn event_ja(event: &Event, ctx: &TextContext<'_>) -> String {
    match event {
        Event::Checkup => "健診の受診".to_string(),
        Event::DentalCheckup => "歯科健診の受診".to_string(),
        Event::Claim(k) => format!("{}のレセプト", kinds_ja(k)),
        Event::Drug {
            class,
            options,
            kinds,
        } => {
            let c = ctx.drug_classes.get(class);
            let mut s = format!("{}の処方", c.map(|c| c.name_ja.as_str()).unwrap_or(class));
            if let Some(c) = c {
                for (name, opt) in &c.options {
                    let on = *options.get(name).unwrap_or(&opt.default);
                    if on != opt.default || on {
                        s.push_str(&format!(
                            "（{}: {}）",
                            opt.label_ja,
                            if on { "含める" } else { "含めない" }
                        ));
                    }
                }
            }
            if let Some(k) = kinds {
                s.push_str(&format!("（{}のレセプト）", kinds_ja(k)));
            }
            s
        }
        Event::Diagnosis(class) => format!(
            "{}の傷病名（疑い病名を除く）",
            ctx.disease_classes
                .get(class)
                .map(|c| c.name_ja.as_str())
                .unwrap_or(class)
        ),
        Event::Certification(excl) => {
            let mut s = "有効な要介護認定".to_string();
            if !excl.is_empty() {
                let names: Vec<_> = excl.iter().map(|l| l.label_ja()).collect();
                s.push_str(&format!("（{}を除く）", names.join("・")));
            }
            s
        }
    }
}

/// Japanese text of a node.
pub fn describe(node: &Node, ctx: &TextContext<'_>) -> String {
    match node {
        Node::All(v) => v
            .iter()
            .map(|n| wrap(n, ctx))
            .collect::<Vec<_>>()
            .join("、かつ、"),
        Node::Any(v) => v
            .iter()
            .map(|n| wrap(n, ctx))
            .collect::<Vec<_>>()
            .join("、または、"),
        Node::Not(inner) => match inner.as_ref() {
            Node::Exists { event, window } => {
                let guard = if ctx.coverage_guard {
                    "（期間を通じて被保険者である人に限る）"
                } else {
                    ""
                };
                format!(
                    "{}に{}がない{guard}",
                    window.label_ja(),
                    event_ja(event, ctx)
                )
            }
            other => format!("「{}」に当てはまらない", describe(other, ctx)),
        },
        Node::Checkup { field, op, value } => {
            let (label, unit) = checkup_label(field);
            let rendered: Vec<String> = value
                .iter()
                .map(|v| {
                    if field.starts_with("urine_") {
                        UrineTest::from_code(*v as u8)
                            .map(|u| format!("（{}）", u.symbol()))
                            .unwrap_or_else(|| num(*v))
                    } else if field == "bmi" || field == "hba1c" || field == "egfr" {
                        format!("{v:.1}{unit}")
                    } else {
                        format!("{}{unit}", num(*v))
                    }
                })
                .collect();
            format!("当該年度の最新の健診の{label}が{}", cmp_ja(*op, &rendered))
        }
        Node::Questionnaire { item, op, value } => {
            let it = questionnaire::item(*item).expect("item 1–15");
            let rendered: Vec<String> = value
                .iter()
                .map(|v| {
                    it.answer_label(*v as u8)
                        .map(|l| format!("「{l}」"))
                        .unwrap_or_else(|| num(*v))
                })
                .collect();
            let rhs = match op {
                Op::In => rendered.join("または"),
                _ => cmp_ja(*op, &rendered),
            };
            format!(
                "質問票{}（{}）が{rhs}",
                CIRCLED[(*item - 1) as usize],
                it.domain_ja
            )
        }
        Node::Age { op, value } => {
            let r: Vec<String> = value.iter().map(|v| format!("{}歳", num(*v))).collect();
            format!("基準日の年齢が{}", cmp_ja(*op, &r))
        }
        Node::Exists { event, window } => {
            format!("{}に{}がある", window.label_ja(), event_ja(event, ctx))
        }
        Node::MonthlyDrugs {
            routes,
            unit,
            window,
            op,
            value,
        } => {
            let r: Vec<_> = routes.iter().map(|r| r.label_ja()).collect();
            let unit_ja = match unit {
                DrugUnit::Yj7 => "成分（YJコード上7桁）",
                DrugUnit::Yj => "製品規格（YJコード12桁）",
                DrugUnit::DrugCode => "医薬品コード",
            };
            format!(
                "{}のいずれかの月に、{}の薬剤数（{}ごとに数え、すべての医療機関・薬局を合算）が{}",
                window.label_ja(),
                r.join("・"),
                unit_ja,
                cmp_ja(*op, &[format!("{}剤", num(*value))])
            )
        }
    }
}

fn wrap(n: &Node, ctx: &TextContext<'_>) -> String {
    match n {
        Node::All(_) | Node::Any(_) => format!("（{}）", describe(n, ctx)),
        _ => describe(n, ctx),
    }
}
