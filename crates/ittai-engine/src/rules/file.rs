//! Rule files (`queries/rules/*.toml`): parsing with positions, parameters and `--set`
//! overrides, and resolution into a typed condition tree.
//!
//! Format (docs/RULES.md): `id`, `key`, `name_ja`, `name_en`, `purpose_ja`, `citation`,
//! optional `coverage_guard`; `[params.NAME]` tables with `value`, `label_ja` and
//! optional `unit`; and `[condition]`, a tree of nodes:
//!
//! - `all = [..]`, `any = [..]`, `not = {..}`, `join = "and"|"or", of = [..]`;
//! - `checkup = "bmi", op, value` — the latest checkup of the FY (up to the reference date);
//! - `questionnaire = "q06", op, value` — the latest questionnaire of the FY;
//! - `age, op, value` — age in full years at the reference date;
//! - `exists = "checkup" | "dental_checkup" | "claim" | "drug" | "diagnosis" |
//!   "certification"` with `window` and, as applicable, `kinds`, `class`, `options`,
//!   `exclude_levels`;
//! - `count = "monthly_distinct_drugs", routes, unit, window, op, value`.
//!
//! Any value may be written `"$name"` to use parameter `name`.

use std::collections::{BTreeMap, BTreeSet};

use ittai_model::classes::{DiseaseClass, DrugClass};
use ittai_model::{CareLevel, ClaimKind, Route};
use serde::Deserialize;
use toml::Spanned;

use super::window::Window;

/// An error in a rule file: file, line and key, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct RuleError {
    /// Rule file (or `<built-in R01.toml>`).
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// The key at fault (dotted path when known).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// A parameter declared in `[params.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Current value (the default unless overridden).
    pub value: toml::Value,
    /// What it means, in Japanese.
    pub label_ja: String,
    /// Unit, when it has one.
    #[serde(default)]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    key: Spanned<String>,
    name_ja: String,
    name_en: String,
    purpose_ja: String,
    citation: String,
    #[serde(default = "yes")]
    coverage_guard: bool,
    #[serde(default)]
    params: BTreeMap<String, Spanned<Param>>,
    condition: Spanned<RawNode>,
}

fn yes() -> bool {
    true
}

/// A condition node as written (every field optional; the combination decides the kind).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    all: Option<Vec<Spanned<RawNode>>>,
    any: Option<Vec<Spanned<RawNode>>>,
    not: Option<Box<Spanned<RawNode>>>,
    join: Option<Spanned<toml::Value>>,
    of: Option<Vec<Spanned<RawNode>>>,
    checkup: Option<Spanned<String>>,
    questionnaire: Option<Spanned<String>>,
    age: Option<Spanned<bool>>,
    exists: Option<Spanned<String>>,
    count: Option<Spanned<String>>,
    op: Option<Spanned<String>>,
    value: Option<Spanned<toml::Value>>,
    window: Option<Spanned<toml::Value>>,
    kinds: Option<Spanned<toml::Value>>,
    class: Option<Spanned<toml::Value>>,
    options: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    exclude_levels: Option<Spanned<toml::Value>>,
    routes: Option<Spanned<toml::Value>>,
    unit: Option<Spanned<toml::Value>>,
}

/// Comparison operator of a value leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `in` (value is a list)
    In,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "in" => Op::In,
            _ => return None,
        })
    }
}

/// Checkup values a rule may test (columns of `checkups`).
pub const CHECKUP_FIELDS: &[&str] = &[
    "height_cm",
    "weight_kg",
    "bmi",
    "waist_cm",
    "sbp",
    "dbp",
    "hba1c",
    "fasting_glucose",
    "tg",
    "hdl",
    "ldl",
    "ast",
    "alt",
    "ggt",
    "creatinine",
    "egfr",
    "urine_protein",
    "urine_glucose",
];

/// How drugs are counted by `monthly_distinct_drugs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DrugUnit {
    /// YJ code's first 7 characters (成分; the default).
    Yj7,
    /// Full 12-character YJ code (製品規格).
    Yj,
    /// 9-digit レセ電 医薬品コード.
    DrugCode,
}

impl DrugUnit {
    /// Name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            DrugUnit::Yj7 => "yj7",
            DrugUnit::Yj => "yj",
            DrugUnit::DrugCode => "drug_code",
        }
    }
}

/// Kinds of event an `exists` leaf can look for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Event {
    /// A checkup.
    Checkup,
    /// A dental checkup.
    DentalCheckup,
    /// A medical claim of the given kinds.
    Claim(BTreeSet<ClaimKind>),
    /// A drug of a class (with options) on claims of the given kinds (`None` = all).
    Drug {
        /// Class id in the drug-class file.
        class: String,
        /// Class options switched explicitly.
        options: BTreeMap<String, bool>,
        /// Claim kinds to look at, `None` for all.
        kinds: Option<BTreeSet<ClaimKind>>,
    },
    /// A non-suspected diagnosis of a class.
    Diagnosis(String),
    /// A certification valid on some day of the window, other than the excluded levels.
    Certification(BTreeSet<CareLevel>),
}

/// A resolved condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// All children hold.
    All(Vec<Node>),
    /// At least one child holds.
    Any(Vec<Node>),
    /// The child does not hold.
    Not(Box<Node>),
    /// A checkup value compared with a number (or list for `in`).
    Checkup {
        /// `checkups` column (see `CHECKUP_FIELDS`).
        field: String,
        /// Operator.
        op: Op,
        /// One number, or several for `in`.
        value: Vec<f64>,
    },
    /// A questionnaire answer compared with codes.
    Questionnaire {
        /// Item 1–15.
        item: u8,
        /// Operator.
        op: Op,
        /// Answer code(s).
        value: Vec<f64>,
    },
    /// Age at the reference date.
    Age {
        /// Operator.
        op: Op,
        /// Age(s) in years.
        value: Vec<f64>,
    },
    /// An event happened in a window.
    Exists {
        /// What happened.
        event: Event,
        /// When.
        window: Window,
    },
    /// The monthly count of distinct drugs, at its maximum over the window.
    MonthlyDrugs {
        /// Routes counted.
        routes: BTreeSet<Route>,
        /// Counting unit.
        unit: DrugUnit,
        /// Window.
        window: Window,
        /// Operator.
        op: Op,
        /// Threshold.
        value: f64,
    },
}

impl Node {
    /// How many fiscal years before the extraction FY the condition looks at (0 when it
    /// looks only at the FY; 3 for a `FY-3..FY-1` window anywhere in the tree).
    pub fn lookback_fys(&self) -> u32 {
        match self {
            Node::All(v) | Node::Any(v) => v.iter().map(Node::lookback_fys).max().unwrap_or(0),
            Node::Not(n) => n.lookback_fys(),
            Node::Exists { window, .. } | Node::MonthlyDrugs { window, .. } => {
                window.from.unsigned_abs()
            }
            Node::Checkup { .. } | Node::Questionnaire { .. } | Node::Age { .. } => 0,
        }
    }
}

/// A rule ready to compile.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `R01` … `R10` (or a user's id).
    pub id: String,
    /// snake_case key (`undernutrition`).
    pub key: String,
    /// Japanese name.
    pub name_ja: String,
    /// English name.
    pub name_en: String,
    /// 目的.
    pub purpose_ja: String,
    /// Source document and section.
    pub citation: String,
    /// Apply the coverage guard to "no X in W" conditions (docs/reference/time.md).
    pub coverage_guard: bool,
    /// Parameters with their current values, in file order of names.
    pub params: BTreeMap<String, Param>,
    /// The condition with parameters substituted.
    pub condition: Node,
    /// Where the rule came from.
    pub origin: String,
    /// The file text (recorded in the manifest).
    pub text: String,
}

/// Line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
    params: &'a BTreeMap<String, Spanned<Param>>,
    overrides: &'a BTreeMap<String, toml::Value>,
    drug_classes: &'a BTreeMap<String, DrugClass>,
    disease_classes: &'a BTreeMap<String, DiseaseClass>,
    used: std::cell::RefCell<BTreeSet<String>>,
}

impl Ctx<'_> {
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> Result<T, RuleError> {
        Err(RuleError {
            file: self.origin.to_string(),
            line: line_of(self.text, span.start),
            key: key.to_string(),
            message: message.into(),
        })
    }

    /// The value of an attribute, with `"$name"` replaced by the parameter.
    fn resolve(&self, v: &Spanned<toml::Value>, key: &str) -> Result<toml::Value, RuleError> {
        if let toml::Value::String(s) = v.get_ref()
            && let Some(name) = s.strip_prefix('$')
        {
            self.used.borrow_mut().insert(name.to_string());
            if let Some(o) = self.overrides.get(name) {
                return Ok(o.clone());
            }
            return match self.params.get(name) {
                Some(p) => Ok(p.get_ref().value.clone()),
                None => self.err(
                    v.span(),
                    key,
                    format!("unknown parameter `${name}` (declare it under [params.{name}])"),
                ),
            };
        }
        Ok(v.get_ref().clone())
    }

    fn numbers(&self, v: &Spanned<toml::Value>, key: &str) -> Result<Vec<f64>, RuleError> {
        let val = self.resolve(v, key)?;
        let one = |x: &toml::Value| match x {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) => Some(*f),
            _ => None,
        };
        match &val {
            toml::Value::Array(a) => a
                .iter()
                .map(|x| one(x).ok_or(()))
                .collect::<Result<Vec<_>, _>>()
                .or_else(|_| self.err(v.span(), key, "expected a list of numbers")),
            x => match one(x) {
                Some(n) => Ok(vec![n]),
                None => self.err(
                    v.span(),
                    key,
                    format!("expected a number, found {}", x.type_str()),
                ),
            },
        }
    }

    fn string(&self, v: &Spanned<toml::Value>, key: &str) -> Result<String, RuleError> {
        match self.resolve(v, key)? {
            toml::Value::String(s) => Ok(s),
            x => self.err(
                v.span(),
                key,
                format!("expected a string, found {}", x.type_str()),
            ),
        }
    }

    fn strings(&self, v: &Spanned<toml::Value>, key: &str) -> Result<Vec<String>, RuleError> {
        match self.resolve(v, key)? {
            toml::Value::Array(a) => a
                .into_iter()
                .map(|x| match x {
                    toml::Value::String(s) => Ok(s),
                    other => self.err(
                        v.span(),
                        key,
                        format!(
                            "expected a list of strings, found {} in it",
                            other.type_str()
                        ),
                    ),
                })
                .collect(),
            toml::Value::String(s) => Ok(s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()),
            x => self.err(
                v.span(),
                key,
                format!("expected a list of strings, found {}", x.type_str()),
            ),
        }
    }

    fn window(
        &self,
        v: Option<&Spanned<toml::Value>>,
        span: std::ops::Range<usize>,
    ) -> Result<Window, RuleError> {
        let Some(v) = v else {
            return self.err(
                span,
                "window",
                "missing `window` (e.g. \"FY\", \"FY-1..FY\")",
            );
        };
        let s = self.string(v, "window")?;
        Window::parse(&s).or_else(|e| self.err(v.span(), "window", e))
    }

    fn kinds(&self, v: &Spanned<toml::Value>) -> Result<BTreeSet<ClaimKind>, RuleError> {
        let mut out = BTreeSet::new();
        for k in self.strings(v, "kinds")? {
            match ClaimKind::from_name(&k) {
                Some(c) => {
                    out.insert(c);
                }
                None => {
                    let names: Vec<&str> = ClaimKind::ALL.iter().map(|c| c.label_en()).collect();
                    return self.err(
                        v.span(),
                        "kinds",
                        format!("unknown claim kind {k:?} (expected {})", names.join(", ")),
                    );
                }
            }
        }
        Ok(out)
    }

    fn op(&self, n: &Spanned<RawNode>) -> Result<(Op, Vec<f64>), RuleError> {
        let raw = n.get_ref();
        let Some(op) = &raw.op else {
            return self.err(
                n.span(),
                "op",
                "missing `op` (one of <, <=, >, >=, ==, !=, in)",
            );
        };
        let Some(o) = Op::parse(op.get_ref()) else {
            return self.err(
                op.span(),
                "op",
                format!(
                    "unknown operator {:?} (one of <, <=, >, >=, ==, !=, in)",
                    op.get_ref()
                ),
            );
        };
        let Some(v) = &raw.value else {
            return self.err(n.span(), "value", "missing `value`");
        };
        let value = self.numbers(v, "value")?;
        if o != Op::In && value.len() != 1 {
            return self.err(
                v.span(),
                "value",
                "expected one number (use op = \"in\" for a list)",
            );
        }
        Ok((o, value))
    }

    /// A condition node: checks that exactly one node kind is present and dispatches to
    /// the kind's method (`all`/`any`/`not` recurse here).
    fn node(&self, n: &Spanned<RawNode>) -> Result<Node, RuleError> {
        let r = n.get_ref();
        let kinds_present = [
            r.all.is_some(),
            r.any.is_some(),
            r.not.is_some(),
            r.join.is_some(),
            r.checkup.is_some(),
            r.questionnaire.is_some(),
            r.age.is_some(),
            r.exists.is_some(),
            r.count.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if kinds_present != 1 {
            return self.err(n.span(), "condition", "each node needs exactly one of all, any, not, join, checkup, questionnaire, age, exists, count");
        }
        if let Some(v) = &r.all {
            return Ok(Node::All(self.children(v)?));
        }
        if let Some(v) = &r.any {
            return Ok(Node::Any(self.children(v)?));
        }
        if let Some(v) = &r.not {
            return Ok(Node::Not(Box::new(self.node(v)?)));
        }
        if let Some(j) = &r.join {
            return self.join_node(n, j);
        }
        if let Some(f) = &r.checkup {
            return self.checkup_node(n, f);
        }
        if let Some(q) = &r.questionnaire {
            return self.questionnaire_node(n, q);
        }
        if r.age.is_some() {
            let (op, value) = self.op(n)?;
            return Ok(Node::Age { op, value });
        }
        if let Some(c) = &r.count {
            return self.count_node(n, c);
        }
        let e = r.exists.as_ref().expect("one kind present");
        self.exists_node(n, e)
    }

    /// The child nodes of `all`, `any` or `join … of`, in file order.
    fn children(&self, v: &[Spanned<RawNode>]) -> Result<Vec<Node>, RuleError> {
        v.iter()
            .map(|c| self.node(c))
            .collect::<Result<Vec<_>, _>>()
    }

    /// `join = "and" | "or"` over `of = [..]`: [`Node::All`] or [`Node::Any`].
    fn join_node(&self, n: &Spanned<RawNode>, j: &Spanned<toml::Value>) -> Result<Node, RuleError> {
        let r = n.get_ref();
        let Some(of) = &r.of else {
            return self.err(n.span(), "of", "`join` needs `of = [..]`");
        };
        let kids = self.children(of)?;
        match self.string(j, "join")?.as_str() {
            "and" => Ok(Node::All(kids)),
            "or" => Ok(Node::Any(kids)),
            other => self.err(
                j.span(),
                "join",
                format!("expected \"and\" or \"or\", found {other:?}"),
            ),
        }
    }

    /// `checkup = "<field>"` with `op`/`value`: [`Node::Checkup`]; the field must be one of
    /// [`CHECKUP_FIELDS`].
    fn checkup_node(&self, n: &Spanned<RawNode>, f: &Spanned<String>) -> Result<Node, RuleError> {
        if !CHECKUP_FIELDS.contains(&f.get_ref().as_str()) {
            return self.err(
                f.span(),
                "checkup",
                format!(
                    "unknown checkup value {:?} (expected one of {})",
                    f.get_ref(),
                    CHECKUP_FIELDS.join(", ")
                ),
            );
        }
        let (op, value) = self.op(n)?;
        Ok(Node::Checkup {
            field: f.get_ref().clone(),
            op,
            value,
        })
    }

    /// `questionnaire = "q01"` … `"q15"` with `op`/`value`: [`Node::Questionnaire`] (item
    /// 1–15).
    fn questionnaire_node(
        &self,
        n: &Spanned<RawNode>,
        q: &Spanned<String>,
    ) -> Result<Node, RuleError> {
        let item = q
            .get_ref()
            .trim_start_matches('q')
            .parse::<u8>()
            .ok()
            .filter(|i| (1..=15).contains(i));
        let Some(item) = item else {
            return self.err(
                q.span(),
                "questionnaire",
                format!("expected an item q01 … q15, found {:?}", q.get_ref()),
            );
        };
        let (op, value) = self.op(n)?;
        Ok(Node::Questionnaire { item, op, value })
    }

    /// `count = "monthly_distinct_drugs"` with `window`, optional `routes` (default oral)
    /// and `unit` (default yj7), and `op`/`value`: [`Node::MonthlyDrugs`] (threshold: the
    /// first value).
    fn count_node(&self, n: &Spanned<RawNode>, c: &Spanned<String>) -> Result<Node, RuleError> {
        let r = n.get_ref();
        if c.get_ref() != "monthly_distinct_drugs" {
            return self.err(
                c.span(),
                "count",
                format!(
                    "unknown count {:?} (expected \"monthly_distinct_drugs\")",
                    c.get_ref()
                ),
            );
        }
        let window = self.window(r.window.as_ref(), n.span())?;
        let routes = self.routes(r)?;
        let unit = self.unit(r)?;
        let (op, value) = self.op(n)?;
        Ok(Node::MonthlyDrugs {
            routes,
            unit,
            window,
            op,
            value: value[0],
        })
    }

    /// The `routes` of a count (route names; oral when absent).
    fn routes(&self, r: &RawNode) -> Result<BTreeSet<Route>, RuleError> {
        Ok(match &r.routes {
            Some(v) => {
                let mut out = BTreeSet::new();
                for s in self.strings(v, "routes")? {
                    match Route::from_name(&s) {
                        Some(x) => {
                            out.insert(x);
                        }
                        None => {
                            return self.err(
                                v.span(),
                                "routes",
                                format!(
                                    "unknown route {s:?} ({})",
                                    Route::ALL.map(Route::label_en).join(", ")
                                ),
                            );
                        }
                    }
                }
                out
            }
            None => BTreeSet::from([Route::Oral]),
        })
    }

    /// The `unit` of a count (`yj7`, `yj`, `drug_code`; yj7 when absent).
    fn unit(&self, r: &RawNode) -> Result<DrugUnit, RuleError> {
        Ok(match &r.unit {
            Some(v) => match self.string(v, "unit")?.as_str() {
                "yj7" => DrugUnit::Yj7,
                "yj" => DrugUnit::Yj,
                "drug_code" => DrugUnit::DrugCode,
                other => {
                    return self.err(
                        v.span(),
                        "unit",
                        format!("unknown unit {other:?} (yj7, yj, drug_code)"),
                    );
                }
            },
            None => DrugUnit::Yj7,
        })
    }

    /// `exists = "<event>"` with `window`: [`Node::Exists`]; the event's own attributes are
    /// read by [`Ctx::drug_event`], [`Ctx::diagnosis_event`] and
    /// [`Ctx::certification_event`].
    fn exists_node(&self, n: &Spanned<RawNode>, e: &Spanned<String>) -> Result<Node, RuleError> {
        let r = n.get_ref();
        let window = self.window(r.window.as_ref(), n.span())?;
        let event = match e.get_ref().as_str() {
            "checkup" => Event::Checkup,
            "dental_checkup" => Event::DentalCheckup,
            "claim" => {
                let Some(k) = &r.kinds else {
                    return self.err(n.span(), "kinds", "`exists = \"claim\"` needs `kinds`");
                };
                Event::Claim(self.kinds(k)?)
            }
            "drug" => self.drug_event(n)?,
            "diagnosis" => self.diagnosis_event(n)?,
            "certification" => self.certification_event(r)?,
            other => {
                return self.err(e.span(), "exists", format!(
                    "unknown event {other:?} (checkup, dental_checkup, claim, drug, diagnosis, certification)"
                ));
            }
        };
        Ok(Node::Exists { event, window })
    }

    /// `exists = "drug"`: `class` (a class of the drug-class file), optional `options`
    /// (booleans, options the class declares) and `kinds` (claim kinds; all when absent).
    fn drug_event(&self, n: &Spanned<RawNode>) -> Result<Event, RuleError> {
        let r = n.get_ref();
        let Some(c) = &r.class else {
            return self.err(n.span(), "class", "`exists = \"drug\"` needs `class`");
        };
        let class = self.string(c, "class")?;
        let Some(def) = self.drug_classes.get(&class) else {
            return self.err(
                c.span(),
                "class",
                format!(
                    "unknown drug class {class:?} (known: {})",
                    self.drug_classes
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        };
        let mut options = BTreeMap::new();
        if let Some(o) = &r.options {
            for (name, v) in o.get_ref() {
                if !def.options.contains_key(name) {
                    return self.err(
                        v.span(),
                        "options",
                        format!("class {class} has no option {name:?}"),
                    );
                }
                match self.resolve(v, "options")? {
                    toml::Value::Boolean(b) => {
                        options.insert(name.clone(), b);
                    }
                    x => {
                        return self.err(
                            v.span(),
                            "options",
                            format!("expected true or false, found {}", x.type_str()),
                        );
                    }
                }
            }
        }
        let kinds = r.kinds.as_ref().map(|k| self.kinds(k)).transpose()?;
        Ok(Event::Drug {
            class,
            options,
            kinds,
        })
    }

    /// `exists = "diagnosis"`: `class`, a class of the disease-class file.
    fn diagnosis_event(&self, n: &Spanned<RawNode>) -> Result<Event, RuleError> {
        let r = n.get_ref();
        let Some(c) = &r.class else {
            return self.err(n.span(), "class", "`exists = \"diagnosis\"` needs `class`");
        };
        let class = self.string(c, "class")?;
        if !self.disease_classes.contains_key(&class) {
            return self.err(
                c.span(),
                "class",
                format!(
                    "unknown disease class {class:?} (known: {})",
                    self.disease_classes
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        Ok(Event::Diagnosis(class))
    }

    /// `exists = "certification"`: optional `exclude_levels` (care-level codes; none when
    /// absent).
    fn certification_event(&self, r: &RawNode) -> Result<Event, RuleError> {
        let excl = match &r.exclude_levels {
            Some(v) => {
                let mut out = BTreeSet::new();
                for c in self.strings(v, "exclude_levels")? {
                    match CareLevel::from_code(&c) {
                        Some(l) => {
                            out.insert(l);
                        }
                        None => {
                            return self.err(
                                v.span(),
                                "exclude_levels",
                                format!("unknown care level code {c:?}"),
                            );
                        }
                    }
                }
                out
            }
            None => BTreeSet::new(),
        };
        Ok(Event::Certification(excl))
    }
}

/// Parses a rule file and resolves its condition with parameter `overrides` (from
/// `--set`).
///
/// # Errors
/// [`RuleError`] with file, line and key: TOML syntax, unknown key, wrong type, unknown
/// class, parameter, operator, window or code.
pub fn parse_rule(
    text: &str,
    origin: &str,
    overrides: &BTreeMap<String, String>,
    drug_classes: &BTreeMap<String, DrugClass>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
) -> Result<Rule, RuleError> {
    let raw: RawRule = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        let msg = e.message().to_string();
        let key = msg
            .split('`')
            .nth(1)
            .map(str::to_string)
            .unwrap_or_else(|| "-".to_string());
        RuleError {
            file: origin.to_string(),
            line,
            key,
            message: msg,
        }
    })?;
    // `id` and `key` become part of output file names (`targets/R03_polypharmacy.csv`):
    // plain names only, so that a rule file cannot write outside the output directory.
    for (what, v, allowed) in [
        ("id", &raw.id, "letters, digits or _ (e.g. R01)"),
        (
            "key",
            &raw.key,
            "letters, digits, _ or - (e.g. polypharmacy)",
        ),
    ] {
        let dash_ok = what == "key";
        if !is_plain_name(v.get_ref(), dash_ok) {
            return Err(RuleError {
                file: origin.to_string(),
                line: line_of(text, v.span().start),
                key: what.to_string(),
                message: format!(
                    "expected 1–{MAX_NAME_LEN} ASCII {allowed}: the {what} is part of output file names; found {:?}",
                    v.get_ref()
                ),
            });
        }
    }
    let mut typed_overrides = BTreeMap::new();
    for (name, text_value) in overrides {
        let Some(p) = raw.params.get(name) else {
            return Err(RuleError {
                file: origin.to_string(),
                line: 0,
                key: format!("params.{name}"),
                message: format!(
                    "--set {}.{name}: this rule has no parameter {name:?} (it has: {})",
                    raw.id.get_ref(),
                    raw.params.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        };
        let v = convert_override(&p.get_ref().value, text_value).map_err(|m| RuleError {
            file: origin.to_string(),
            line: line_of(text, p.span().start),
            key: format!("params.{name}"),
            message: format!("--set {}.{name}={text_value}: {m}", raw.id.get_ref()),
        })?;
        typed_overrides.insert(name.clone(), v);
    }
    let ctx = Ctx {
        text,
        origin,
        params: &raw.params,
        overrides: &typed_overrides,
        drug_classes,
        disease_classes,
        used: Default::default(),
    };
    let condition = ctx.node(&raw.condition)?;
    let id = raw.id.get_ref().clone();
    let mut params = BTreeMap::new();
    for (k, p) in &raw.params {
        let mut p = p.get_ref().clone();
        if let Some(o) = typed_overrides.get(k) {
            p.value = o.clone();
        }
        params.insert(k.clone(), p);
    }
    Ok(Rule {
        id,
        key: raw.key.into_inner(),
        name_ja: raw.name_ja,
        name_en: raw.name_en,
        purpose_ja: raw.purpose_ja,
        citation: raw.citation,
        coverage_guard: raw.coverage_guard,
        params,
        condition,
        origin: origin.to_string(),
        text: text.to_string(),
    })
}

/// Longest rule `id` or `key`.
pub const MAX_NAME_LEN: usize = 64;

/// True for a rule `id` or `key` that can be part of a file name: 1–[`MAX_NAME_LEN`] ASCII
/// letters, digits and `_` (and `-` when `dash` is true). No `.`, `/`, `\` or spaces, so
/// no `..`, no path and no hidden file.
pub fn is_plain_name(s: &str, dash: bool) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || (dash && b == b'-'))
}

/// Converts `--set` text to the type of the parameter's default.
fn convert_override(default: &toml::Value, text: &str) -> Result<toml::Value, String> {
    let t = text.trim();
    match default {
        toml::Value::Integer(_) => t.parse::<i64>().map(toml::Value::Integer).or_else(|_| {
            t.parse::<f64>()
                .map(toml::Value::Float)
                .map_err(|_| format!("expected a number, found {t:?}"))
        }),
        toml::Value::Float(_) => t
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| format!("expected a number, found {t:?}")),
        toml::Value::Boolean(_) => match t {
            "true" | "1" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, found {t:?}")),
        },
        toml::Value::String(_) => Ok(toml::Value::String(t.to_string())),
        toml::Value::Array(_) => Ok(toml::Value::Array(
            t.split(',')
                .map(|x| x.trim())
                .filter(|x| !x.is_empty())
                .map(|x| toml::Value::String(x.to_string()))
                .collect(),
        )),
        other => Err(format!(
            "parameters of type {} cannot be set from the command line",
            other.type_str()
        )),
    }
}

/// The built-in rule files (`queries/rules/R01.toml` … `R10.toml`), compiled in.
pub const BUILT_IN: [(&str, &str); 10] = [
    (
        "R01.toml",
        include_str!("../../../../queries/rules/R01.toml"),
    ),
    (
        "R02.toml",
        include_str!("../../../../queries/rules/R02.toml"),
    ),
    (
        "R03.toml",
        include_str!("../../../../queries/rules/R03.toml"),
    ),
    (
        "R04.toml",
        include_str!("../../../../queries/rules/R04.toml"),
    ),
    (
        "R05.toml",
        include_str!("../../../../queries/rules/R05.toml"),
    ),
    (
        "R06.toml",
        include_str!("../../../../queries/rules/R06.toml"),
    ),
    (
        "R07.toml",
        include_str!("../../../../queries/rules/R07.toml"),
    ),
    (
        "R08.toml",
        include_str!("../../../../queries/rules/R08.toml"),
    ),
    (
        "R09.toml",
        include_str!("../../../../queries/rules/R09.toml"),
    ),
    (
        "R10.toml",
        include_str!("../../../../queries/rules/R10.toml"),
    ),
];

/// Options of loading a rule set.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// A directory of `*.toml` rule files instead of the built-in ones.
    pub dir: Option<std::path::PathBuf>,
    /// Only these rule ids (all when empty).
    pub only: Vec<String>,
    /// Parameter overrides: rule id → (name → text value).
    pub set: BTreeMap<String, BTreeMap<String, String>>,
}

/// Loads, resolves and orders the rules (by id).
///
/// # Errors
/// [`RuleError`] for a bad file, an unknown id in `only` or `set`, or duplicate ids.
pub fn load_rules(
    opts: &LoadOptions,
    drug_classes: &BTreeMap<String, DrugClass>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
) -> Result<Vec<Rule>, RuleError> {
    let mut sources: Vec<(String, String)> = Vec::new();
    match &opts.dir {
        Some(dir) => {
            let rd = std::fs::read_dir(dir).map_err(|e| RuleError {
                file: dir.display().to_string(),
                line: 0,
                key: "-".into(),
                message: format!("cannot read the rules directory: {e}"),
            })?;
            let mut paths: Vec<_> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p).map_err(|e| RuleError {
                    file: p.display().to_string(),
                    line: 0,
                    key: "-".into(),
                    message: e.to_string(),
                })?;
                sources.push((p.display().to_string(), text));
            }
            if sources.is_empty() {
                return Err(RuleError {
                    file: dir.display().to_string(),
                    line: 0,
                    key: "-".into(),
                    message: "no *.toml rule files here".into(),
                });
            }
        }
        None => {
            for (name, text) in BUILT_IN {
                sources.push((format!("<built-in queries/rules/{name}>"), text.to_string()));
            }
        }
    }
    // Parse ids first so that --set and --only can be checked.
    let empty = BTreeMap::new();
    let mut rules = Vec::new();
    for (origin, text) in &sources {
        let id = toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_string));
        let overrides = id.as_ref().and_then(|i| opts.set.get(i)).unwrap_or(&empty);
        let rule = parse_rule(text, origin, overrides, drug_classes, disease_classes)?;
        if rules.iter().any(|r: &Rule| r.id == rule.id) {
            return Err(RuleError {
                file: origin.clone(),
                line: 1,
                key: "id".into(),
                message: format!("duplicate rule id {}", rule.id),
            });
        }
        rules.push(rule);
    }
    for id in opts.set.keys().chain(opts.only.iter()) {
        if !rules.iter().any(|r| &r.id == id) {
            return Err(RuleError {
                file: opts
                    .dir
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "<built-in rules>".into()),
                line: 0,
                key: id.clone(),
                message: format!(
                    "no rule with id {id} (known: {})",
                    rules
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    if !opts.only.is_empty() {
        rules.retain(|r| opts.only.contains(&r.id));
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rules)
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn parse(text: &str) -> Result<Rule, RuleError> {
        parse_rule(
            text,
            "x.toml",
            &BTreeMap::new(),
            &ittai_model::classes::default_drug_classes(),
            &ittai_model::classes::default_disease_classes(),
        )
    }

    /// A rule file with `id` and `key` on lines 1 and 2.
    fn rule(id: &str, key: &str) -> String {
        format!(
            "id = {id:?}\nkey = {key:?}\nname_ja = \"x\"\nname_en = \"x\"\npurpose_ja = \"x\"\ncitation = \"x\"\n\n[condition]\nage = true\nop = \">=\"\nvalue = 75\n"
        )
    }

    /// The key becomes part of an output file name: a path in it is refused, naming the
    /// key and its line.
    #[test]
    fn a_key_that_is_a_path_is_refused() {
        let e = parse(&rule("R99", "../../x")).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.key.as_str()),
            ("x.toml", 2, "key")
        );
        assert!(e.message.contains("\"../../x\""), "{e}");
        let (k65, r65) = ("k".repeat(65), "R".repeat(65));
        for bad in [
            "",
            "a/b",
            "a\\b",
            ".hidden",
            "a b",
            "ポリファーマシー",
            k65.as_str(),
        ] {
            let e = parse(&rule("R99", bad)).unwrap_err();
            assert_eq!((e.line, e.key.as_str()), (2, "key"), "{bad:?}: {e}");
        }
        for bad in ["../R01", "R-01", "", r65.as_str()] {
            let e = parse(&rule(bad, "ok")).unwrap_err();
            assert_eq!((e.line, e.key.as_str()), (1, "id"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn plain_keys_pass() {
        let k64 = "k".repeat(64);
        for key in ["polypharmacy", "poor_control", "my-rule-2", k64.as_str()] {
            let r = parse(&rule("R99", key)).unwrap();
            assert_eq!(r.key, key);
            assert_eq!(r.id, "R99");
        }
        // Every built-in rule passes.
        for (name, text) in BUILT_IN {
            parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
