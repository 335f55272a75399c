//! The person × FY feature table: everything the rules look at, computed once per
//! extraction FY with one aggregation per source table, then joined on `person_id`.
//!
//! Rows: persons insured on the reference date (docs/reference/time.md rule population). Columns:
//! - base: `person_id`, `sex` (u8), `birth_date`, `age` (i32, full years at the reference
//!   date), `age_band` (str), `municipality_code` (str), `care_level` (str code on the
//!   reference date, null when none);
//! - one column per requested [`Feature`] (see [`Feature::column`]) and its evidence
//!   columns (see [`Feature::evidence`]).
//!
//! Time conventions (docs/reference/time.md): events after the reference date are ignored; "latest"
//! checkup and questionnaire are the latest in the FY up to the reference date (ties: most
//! non-null values, then last in file order); windows are FY-relative ([`Window`]).

use ittai_model::labels::{self, evidence};
use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use ittai_model::classes::{DiseaseClass, DrugClass};
use ittai_model::{
    AgeBand, CareLevel, ClaimKind, FiscalYear, LossReason, QuestionnaireSetting, Route, Sex,
    UrineTest, first_of_month,
};
use polars::prelude::*;

use crate::rules::file::{DrugUnit, Event, Node};
use crate::rules::window::Window;
use crate::source::Sources;

/// A column of the feature table that a rule condition uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// Latest checkup value of the FY (`checkups` column name).
    Checkup(String),
    /// Latest questionnaire answer of the FY (item 1–15).
    Questionnaire(u8),
    /// Age at the reference date.
    Age,
    /// An event in a window.
    Exists(Event, Window),
    /// Maximum over the window's months of the number of distinct drugs in a month.
    MonthlyDrugs {
        /// Routes counted.
        routes: BTreeSet<Route>,
        /// Counting unit.
        unit: DrugUnit,
        /// Window.
        window: Window,
    },
    /// Covered over the whole window (coverage guard, docs/reference/time.md).
    Covered(Window),
}

/// True when `kinds` are exactly the kinds that count as a visit ([`ClaimKind::is_visit`]).
fn is_visit_set(kinds: &BTreeSet<ClaimKind>) -> bool {
    kinds.iter().copied().eq(ClaimKind::visits())
}

pub(crate) fn kinds_tag(kinds: &BTreeSet<ClaimKind>) -> String {
    if is_visit_set(kinds) {
        return "visit".to_string();
    }
    kinds
        .iter()
        .map(|k| k.label_en())
        .collect::<Vec<_>>()
        .join("_")
}

fn drug_tag(
    class: &str,
    options: &BTreeMap<String, bool>,
    kinds: &Option<BTreeSet<ClaimKind>>,
) -> String {
    let mut t = class.to_string();
    for (k, v) in options {
        t.push_str(&format!("_{k}{}", if *v { "" } else { "_off" }));
    }
    if let Some(k) = kinds {
        t.push_str("_on_");
        t.push_str(&kinds_tag(k));
    }
    t
}

/// The tag of a drug class's evidence columns (`last_<tag>_month`, `last_<tag>_name`):
/// class and options only. The evidence is the person's last prescription of the class on
/// a claim of any kind up to the reference month, whatever the window and claim kinds of
/// the condition ([`DrugFeature::evidence`]), so features that differ only in those share
/// one evidence column instead of repeating it under another name.
pub(crate) fn evidence_tag(class: &str, options: &BTreeMap<String, bool>) -> String {
    drug_tag(class, options, &None)
}

/// The class and explicitly set options of a drug evidence column in Japanese, e.g.
/// `睡眠薬、エチゾラム（デパス等）を睡眠薬に含める: 含めない`: the same parts as
/// [`evidence_tag`], so two evidence columns never share a header.
fn drug_subject_ja(class: &str, options: &BTreeMap<String, bool>) -> String {
    static CLASSES: std::sync::OnceLock<BTreeMap<String, DrugClass>> = std::sync::OnceLock::new();
    let def = CLASSES
        .get_or_init(ittai_model::classes::default_drug_classes)
        .get(class);
    let mut s = class_name_ja(class);
    for (name, on) in options {
        let label = def
            .and_then(|d| d.options.get(name))
            .map_or(name.as_str(), |o| o.label_ja.as_str());
        s.push_str(&format!(
            "、{label}: {}",
            if *on { "含める" } else { "含めない" }
        ));
    }
    s
}

impl Feature {
    /// The column holding the feature (snake_case).
    pub fn column(&self) -> String {
        match self {
            Feature::Checkup(f) => f.clone(),
            Feature::Questionnaire(n) => format!("q{n:02}"),
            Feature::Age => "age".to_string(),
            Feature::Covered(w) => format!("covered_{}", w.tag()),
            Feature::MonthlyDrugs {
                routes,
                unit,
                window,
            } => {
                let r: Vec<_> = routes.iter().map(|r| r.label_en()).collect();
                let oral_only = routes.iter().eq([Route::Oral].iter());
                let suffix = if oral_only && *unit == DrugUnit::Yj7 {
                    String::new()
                } else {
                    format!("_{}_{}", r.join("_"), unit.name())
                };
                format!("max_monthly_drugs{suffix}_{}", window.tag())
            }
            Feature::Exists(e, w) => match e {
                Event::Checkup => format!("has_checkup_{}", w.tag()),
                Event::DentalCheckup => format!("has_dental_checkup_{}", w.tag()),
                Event::Claim(k) => format!("has_{}_claim_{}", kinds_tag(k), w.tag()),
                Event::Drug {
                    class,
                    options,
                    kinds,
                } => format!("has_{}_drug_{}", drug_tag(class, options, kinds), w.tag()),
                Event::Diagnosis(c) => format!("has_{c}_diagnosis_{}", w.tag()),
                Event::Certification(ex) => {
                    let e = if ex.is_empty() {
                        String::new()
                    } else {
                        let codes: Vec<&str> = ex.iter().map(|l| l.code()).collect();
                        format!("_excl_{}", codes.join("_"))
                    };
                    format!("has_certification{e}_{}", w.tag())
                }
            },
        }
    }

    /// Evidence columns shown in target lists with this feature (name_en, Japanese header).
    pub fn evidence(&self) -> Vec<(String, String)> {
        match self {
            Feature::Checkup(f) => {
                let h = labels::checkup_item(f).map_or_else(|| "?".to_string(), |i| i.header());
                vec![(f.clone(), h), header("checkup_date")]
            }
            Feature::Questionnaire(n) => {
                let it = ittai_model::questionnaire::item(*n).expect("item");
                vec![
                    (
                        format!("q{n:02}"),
                        format!("{}{n}（{}）", evidence::QUESTIONNAIRE, it.domain_ja),
                    ),
                    header("questionnaire_date"),
                ]
            }
            Feature::Age | Feature::Covered(_) => vec![],
            Feature::MonthlyDrugs {
                routes,
                unit,
                window,
            } => {
                // The count depends on window, routes and unit, like the column name: the
                // default (当該年度, 内服, 成分) keeps the plain header, any other says them.
                let c = self.column();
                let default = *window == Window::FY
                    && routes.iter().eq([Route::Oral].iter())
                    && *unit == DrugUnit::Yj7;
                let suffix = if default {
                    String::new()
                } else {
                    let r: Vec<&str> = routes.iter().map(|r| r.label_ja()).collect();
                    let u = match unit {
                        DrugUnit::Yj7 => "成分",
                        DrugUnit::Yj => "製品規格",
                        DrugUnit::DrugCode => "医薬品コード",
                    };
                    format!("（{}、{}、{u}）", window.label_ja(), r.join("・"))
                };
                vec![
                    (
                        c.clone(),
                        format!("{}{suffix}", evidence::MAX_MONTHLY_DRUGS),
                    ),
                    (
                        format!("{c}_month"),
                        format!("{}{suffix}", evidence::MAX_MONTHLY_DRUGS_MONTH),
                    ),
                ]
            }
            Feature::Exists(e, _) => match e {
                Event::Checkup => vec![header("last_checkup_date")],
                Event::DentalCheckup => vec![header("last_dental_checkup_date")],
                Event::Claim(k) => {
                    let t = kinds_tag(k);
                    let ja = if is_visit_set(k) {
                        format!(
                            "{}（{}）",
                            evidence::LAST_VISIT_MONTH,
                            evidence::VISIT_KINDS
                        )
                    } else {
                        format!(
                            "{}（{}）",
                            evidence::LAST_VISIT_MONTH,
                            k.iter()
                                .map(|x| x.label_ja())
                                .collect::<Vec<_>>()
                                .join("・")
                        )
                    };
                    vec![(format!("last_{t}_month"), ja)]
                }
                Event::Drug {
                    class,
                    options,
                    kinds: _,
                } => {
                    let t = evidence_tag(class, options);
                    let ja = drug_subject_ja(class, options);
                    vec![
                        (
                            format!("last_{t}_month"),
                            format!("{}（{ja}）", evidence::LAST_PRESCRIPTION_MONTH),
                        ),
                        (
                            format!("last_{t}_name"),
                            format!("{}（{ja}）", evidence::LAST_PRESCRIPTION_NAME),
                        ),
                    ]
                }
                Event::Diagnosis(c) => vec![(
                    format!("{c}_diagnosis"),
                    format!("{}（{}）", evidence::LATEST_DIAGNOSIS, disease_name_ja(c)),
                )],
                Event::Certification(_) => vec![],
            },
        }
    }
}

/// A column with its header from the one label table.
fn header(name: &str) -> (String, String) {
    let ja = labels::column_ja(name).expect("labelled column");
    (name.to_string(), ja.to_string())
}

/// Japanese name of a drug class of the built-in class file (the id for other classes).
fn class_name_ja(id: &str) -> String {
    static CLASSES: std::sync::OnceLock<BTreeMap<String, DrugClass>> = std::sync::OnceLock::new();
    CLASSES
        .get_or_init(ittai_model::classes::default_drug_classes)
        .get(id)
        .map(|c| c.name_ja.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Japanese name of a disease class of the built-in class file (the id for other classes).
fn disease_name_ja(id: &str) -> String {
    static CLASSES: std::sync::OnceLock<BTreeMap<String, DiseaseClass>> =
        std::sync::OnceLock::new();
    CLASSES
        .get_or_init(ittai_model::classes::default_disease_classes)
        .get(id)
        .map(|c| c.name_ja.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Collects the features a condition uses, including the coverage windows of its
/// absence conditions.
pub fn collect(node: &Node, out: &mut BTreeSet<Feature>) {
    match node {
        Node::All(v) | Node::Any(v) => v.iter().for_each(|n| collect(n, out)),
        Node::Not(inner) => {
            if let Node::Exists { window, .. } = inner.as_ref() {
                out.insert(Feature::Covered(*window));
            }
            collect(inner, out);
        }
        Node::Checkup { field, .. } => {
            out.insert(Feature::Checkup(field.clone()));
        }
        Node::Questionnaire { item, .. } => {
            out.insert(Feature::Questionnaire(*item));
        }
        Node::Age { .. } => {
            out.insert(Feature::Age);
        }
        Node::Exists { event, window } => {
            out.insert(Feature::Exists(event.clone(), *window));
        }
        Node::MonthlyDrugs {
            routes,
            unit,
            window,
            ..
        } => {
            out.insert(Feature::MonthlyDrugs {
                routes: routes.clone(),
                unit: *unit,
                window: *window,
            });
        }
    }
}

/// A date literal (Date dtype).
pub fn date_lit(d: NaiveDate) -> Expr {
    lit(ittai_dataset::date_to_days(d)).strict_cast(DataType::Date)
}

/// Days since 1970-01-01 of `d` (the Date32 value of a date literal).
pub fn days_lit_value(d: NaiveDate) -> i32 {
    ittai_dataset::date_to_days(d)
}

/// `c` equals one of `codes` (OR of equalities; false for null).
pub fn in_u8(c: Expr, codes: impl IntoIterator<Item = u8>) -> Expr {
    codes.into_iter().fold(lit(false), |acc, k| {
        acc.or(c.clone().eq(lit(k)).fill_null(lit(false)))
    })
}

/// A code type of the model whose values are stored in a canonical column (docs/reference/dataset.md):
/// how a value is written as a polars literal of that column's type. The u8 codes
/// ([`Sex`], [`ClaimKind`], [`Route`], [`LossReason`], [`QuestionnaireSetting`],
/// [`UrineTest`]) are UInt8 literals of their `code()`; a [`CareLevel`] is its two-digit
/// string code.
pub trait CodeValue: Copy {
    /// The literal of the value's dataset code.
    fn code_lit(self) -> Expr;
}

macro_rules! u8_code_value {
    ($($t:ty),*) => {$(
        impl CodeValue for $t {
            fn code_lit(self) -> Expr {
                lit(self.code())
            }
        }
    )*};
}

u8_code_value!(
    Sex,
    ClaimKind,
    Route,
    LossReason,
    QuestionnaireSetting,
    UrineTest
);

impl CodeValue for CareLevel {
    fn code_lit(self) -> Expr {
        lit(self.code())
    }
}

/// `c` holds the code of `value` (null where `c` is null).
pub fn is_code<T: CodeValue>(c: Expr, value: T) -> Expr {
    c.eq(value.code_lit())
}

/// `c` holds the code of one of `values` (OR of equalities; false for null and for no
/// values): the polars form of a set of codes of one type, e.g. the claim kinds of a
/// rule or the certified care levels.
pub fn is_code_in<T: CodeValue>(c: Expr, values: impl IntoIterator<Item = T>) -> Expr {
    values.into_iter().fold(lit(false), |acc, v| {
        acc.or(c.clone().eq(v.code_lit()).fill_null(lit(false)))
    })
}

/// `a` ≤ `c` ≤ `b` for a date column.
pub fn between_dates(c: Expr, a: NaiveDate, b: NaiveDate) -> Expr {
    c.clone().gt_eq(date_lit(a)).and(c.lt_eq(date_lit(b)))
}

/// The run's time frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Extraction FY.
    pub fy: FiscalYear,
    /// Reference date (基準日).
    pub reference: NaiveDate,
}

impl Frame {
    fn days(&self, w: &Window) -> (NaiveDate, NaiveDate) {
        w.days(self.fy, self.reference)
    }
    pub(crate) fn months(&self, w: &Window) -> (NaiveDate, NaiveDate) {
        w.months(self.fy, self.reference)
    }
    pub(crate) fn ref_month(&self) -> NaiveDate {
        first_of_month(self.reference)
    }
}

/// Age in full years at `reference` of a birth-date column.
pub fn age_expr(birth: Expr, reference: NaiveDate) -> Expr {
    let md_ref = (reference.month() * 100 + reference.day()) as i32;
    let md_birth = birth.clone().dt().month().cast(DataType::Int32) * lit(100)
        + birth.clone().dt().day().cast(DataType::Int32);
    lit(reference.year())
        - birth.dt().year().cast(DataType::Int32)
        - when(md_birth.gt(lit(md_ref)))
            .then(lit(1))
            .otherwise(lit(0))
}

/// Age-band label ([`AgeBand::label`]) of an age column (docs/reference/time.md): the
/// first band whose next band's lower bound the age is below, else the last band. Built
/// from [`AgeBand::ALL`] from the last band back, which is the expression of the chain
/// `when(age < 75).then("<75").when(age < 80).then("75-79") … .otherwise("95+")`.
pub fn age_band_expr(age: Expr) -> Expr {
    let bands = AgeBand::ALL;
    let (last, _) = bands.split_last().expect("at least one band");
    bands
        .windows(2)
        .rev()
        .fold(lit(last.label()), |otherwise, pair| {
            when(age.clone().lt(lit(pair[1].lower())))
                .then(lit(pair[0].label()))
                .otherwise(otherwise)
        })
}

/// The rule population with base columns (see the module docs).
pub fn population(src: &Sources, frame: &Frame) -> PolarsResult<LazyFrame> {
    let r = date_lit(frame.reference);
    let covering = src
        .persons()?
        .filter(
            col("coverage_start").lt_eq(r.clone()).and(
                col("coverage_end")
                    .is_null()
                    .or(col("coverage_end").gt(r.clone())),
            ),
        )
        .sort(["person_id", "coverage_start"], Default::default())
        .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
        .select([
            col("person_id"),
            col("sex"),
            col("birth_date"),
            col("municipality_code"),
            col("insurer_number"),
        ]);
    let care = src
        .certifications()?
        .filter(
            col("valid_from")
                .lt_eq(r.clone())
                .and(col("valid_to").gt_eq(r.clone()))
                .and(col("decision_date").lt_eq(r.clone())),
        )
        .sort(["person_id", "decision_date"], Default::default())
        .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
        .select([col("person_id"), col("care_level_code").alias("care_level")]);
    Ok(covering
        .left_join(care, col("person_id"), col("person_id"))
        .with_columns([age_expr(col("birth_date"), frame.reference).alias("age")])
        .with_columns([age_band_expr(col("age")).alias("age_band")]))
}

/// Multiplier of the packed (month, code) evidence: day number of the service month ·
/// 10^9 + code.
pub(crate) const PACK: u64 = 1_000_000_000;

/// The service month of a packed (month, code) value, as a date.
fn packed_month_date(packed: Expr) -> Expr {
    (packed / lit(PACK))
        .cast(DataType::Int32)
        .cast(DataType::Date)
}

/// Days since 1970-01-01 of the first day of month number `n` (year × 12 + month − 1).
pub fn days_of_month_index(n: i32) -> i32 {
    let d = NaiveDate::from_ymd_opt(n.div_euclid(12), n.rem_euclid(12) as u32 + 1, 1)
        .expect("valid month");
    ittai_dataset::date_to_days(d)
}

/// Presence of dated events (checkups, dental checkups) per requested window, plus the
/// last date up to the reference date; `None` when no window of `event` is requested.
fn presence_by_date(
    table: LazyFrame,
    event: Event,
    last_name: &str,
    features: &BTreeSet<Feature>,
    frame: &Frame,
    bool_cols: &mut Vec<String>,
) -> Option<LazyFrame> {
    let windows: Vec<Window> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(e, w) if *e == event => Some(*w),
            _ => None,
        })
        .collect();
    if windows.is_empty() {
        return None;
    }
    let mut aggs = vec![
        col("exam_date")
            .filter(col("exam_date").lt_eq(date_lit(frame.reference)))
            .max()
            .alias(last_name),
    ];
    for w in &windows {
        let (a, b) = frame.days(w);
        let c = Feature::Exists(event.clone(), *w).column();
        bool_cols.push(c.clone());
        aggs.push(between_dates(col("exam_date"), a, b).any(true).alias(c));
    }
    Some(table.group_by([col("person_id")]).agg(aggs))
}

/// Builds the feature table for `features`; also returns the time of each feature group
/// (`features.claims`, `features.drugs` …) in seconds.
///
/// # Errors
/// Polars errors (I/O, schema).
pub fn build(
    src: &Sources,
    frame: &Frame,
    features: &BTreeSet<Feature>,
    drug_classes: &BTreeMap<String, DrugClass>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
) -> PolarsResult<(LazyFrame, Vec<(String, f64)>)> {
    let classes = (drug_classes, disease_classes);
    let mut lines = Lines::compute(src, std::slice::from_ref(frame), features, classes)?;
    lines.build(src, 0, features)
}

/// The population and the columns computed in Rust ([`crate::lines`]: coverage, medical
/// claims, drug lines, diagnoses) of one frame, in population order.
struct FrameLines {
    /// The frame's population ([`population`], collected) with `pid` (u32, row index).
    pop: DataFrame,
    /// The coverage columns (`covered_<window>`, bool).
    coverage: Vec<Column>,
    /// The claim-line columns (claims, then drugs, then diagnoses).
    lines: Vec<Column>,
}

/// The Rust-computed feature columns of one or more frames, each claim file read once for
/// all of them: the indicators need the rules of every FY, and the decoding of the files
/// is most of the time of these groups (docs/PERFORMANCE.md, "The rules of every FY in
/// one pass"). The passes work on the persons of all frames together; each frame's
/// columns are then taken in its population's order. [`Lines::build`] makes one frame's
/// feature table from them.
pub(crate) struct Lines {
    frames: Vec<Frame>,
    /// By frame; `None` once built.
    per_frame: Vec<Option<FrameLines>>,
    /// The boolean columns among them (absent aggregates are filled with false).
    bool_cols: Vec<String>,
    /// Time of each pass (`features.<stage>`, seconds, for all frames together), given to
    /// the first frame built.
    timings: Vec<(String, f64)>,
}

impl Lines {
    /// The coverage and claim-line columns of `features` for every frame of `frames`
    /// (`classes`: drug and disease classes by id), one pass over each file.
    ///
    /// # Errors
    /// Polars errors (I/O, schema).
    pub(crate) fn compute(
        src: &Sources,
        frames: &[Frame],
        features: &BTreeSet<Feature>,
        (drug_classes, disease_classes): (
            &BTreeMap<String, DrugClass>,
            &BTreeMap<String, DiseaseClass>,
        ),
    ) -> PolarsResult<Self> {
        let pops = frames
            .iter()
            .map(|f| {
                crate::collect_streaming(population(src, f)?)?.with_row_index("pid".into(), None)
            })
            .collect::<PolarsResult<Vec<DataFrame>>>()?;
        // The persons of every frame, each once (one frame: its own population).
        let all = match pops.as_slice() {
            [one] => one.select(["person_id"])?,
            _ => {
                let mut ids = Series::new_empty("person_id".into(), &DataType::String);
                for p in &pops {
                    ids.append(p.column("person_id")?.as_materialized_series())?;
                }
                DataFrame::new_infer_height(vec![ids.unique_stable()?.into_column()])?
            }
        };
        let people = crate::lines::Population::new(&all)?;
        let mut bool_cols = Vec::new();
        // The time of each pass, as the indicators keep theirs.
        let mut timings = crate::indicators::Timings::default();
        let coverage = timings.time("features.coverage", || {
            crate::lines::coverage(src, frames, &people, features, &mut bool_cols)
        })?;
        let drug_kinds = crate::lines::drug_kind_sets(features);
        let (claims, claim_kinds) = timings.time("features.claims", || {
            crate::lines::claims(src, frames, &people, features, &mut bool_cols, &drug_kinds)
        })?;
        let drugs = timings.time("features.drugs", || {
            crate::lines::drugs(
                src,
                frames,
                &people,
                features,
                drug_classes,
                &mut bool_cols,
                &drug_kinds,
                &claim_kinds,
            )
        })?;
        drop(claim_kinds);
        let diagnoses = timings.time("features.diagnoses", || {
            crate::lines::diagnoses(
                src,
                frames,
                &people,
                features,
                disease_classes,
                &mut bool_cols,
            )
        })?;
        let mut per_frame = Vec::with_capacity(frames.len());
        let parts = pops
            .into_iter()
            .zip(coverage)
            .zip(claims)
            .zip(drugs)
            .zip(diagnoses);
        for ((((pop, coverage), claims), drugs), diagnoses) in parts {
            let lines: Vec<Column> = claims.into_iter().chain(drugs).chain(diagnoses).collect();
            let (coverage, lines) = if frames.len() == 1 {
                (coverage, lines)
            } else {
                // Rows of the frame's population in the persons of all frames.
                let at = IdxCa::from_vec(
                    "pid".into(),
                    pop.column("person_id")?
                        .str()?
                        .iter()
                        .map(|s| people.pid(s) as IdxSize)
                        .collect(),
                );
                let take = |cols: Vec<Column>| -> PolarsResult<Vec<Column>> {
                    cols.iter().map(|c| c.take(&at)).collect()
                };
                (take(coverage)?, take(lines)?)
            };
            per_frame.push(Some(FrameLines {
                pop,
                coverage,
                lines,
            }));
        }
        Ok(Self {
            frames: frames.to_vec(),
            per_frame,
            bool_cols,
            timings: timings.0,
        })
    }

    /// The frames, in the order given to [`Lines::compute`].
    pub(crate) fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The feature table of frame `fi` (see [`build`]), its Rust-computed columns moved
    /// out of `self`; the first frame built also gets the time of the passes.
    ///
    /// # Errors
    /// Polars errors (I/O, schema); a frame out of range or built before.
    pub(crate) fn build(
        &mut self,
        src: &Sources,
        fi: usize,
        features: &BTreeSet<Feature>,
    ) -> PolarsResult<(LazyFrame, Vec<(String, f64)>)> {
        let FrameLines {
            pop,
            coverage,
            lines,
        } = self
            .per_frame
            .get_mut(fi)
            .and_then(Option::take)
            .ok_or_else(|| polars_err!(ComputeError: "frame {fi} built twice or unknown"))?;
        let frame = &self.frames[fi];
        // The groups computed in Rust come as columns in population order and are added
        // side by side; each polars group is computed by its own streaming query and
        // collected before it is joined, so peak memory is that of the largest group
        // rather than of all of them. The columns end in the order of the stages.
        let mut b = Builder {
            src,
            frame,
            features,
            timings: std::mem::take(&mut self.timings),
            bool_cols: self.bool_cols.clone(),
            order: pop
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect(),
            aligned: Vec::new(),
        };
        b.add_lines(coverage);
        let lines_at = b.order.len();
        b.add_lines(lines);
        let mut base = pop;
        base.hstack_mut(&b.aligned)?;
        let mut out = base.lazy();
        // The polars groups' columns come after coverage and before the claim lines.
        let after_coverage = b.order.split_off(lines_at);
        out = b.latest_checkup(out)?;
        out = b.checkup_presence(out)?;
        out = b.latest_questionnaire(out)?;
        b.order.extend(after_coverage);
        out = b.certifications(out)?;
        out = out.select(b.order.iter().map(|c| col(c.as_str())).collect::<Vec<_>>());
        out = b.finish_columns(out);
        Ok((out, b.timings))
    }
}

/// What the feature groups of [`Lines::build`] share: the inputs and what the groups
/// accumulate (timings, boolean columns, column order).
struct Builder<'a> {
    /// The source tables.
    src: &'a Sources,
    /// The run's time frame.
    frame: &'a Frame,
    /// The requested features.
    features: &'a BTreeSet<Feature>,
    /// Time of each collected group (`features.<stage>`, seconds), in collection order.
    timings: Vec<(String, f64)>,
    /// The boolean feature columns added so far (absent aggregates are filled with false
    /// by [`Builder::finish_columns`]).
    bool_cols: Vec<String>,
    /// The feature table's columns in stage order.
    order: Vec<String>,
    /// The columns of the Rust-computed groups, in population order.
    aligned: Vec<Column>,
}

impl Builder<'_> {
    /// The requested features that `pick` selects, in the order of the feature set.
    fn requested<T>(&self, pick: impl FnMut(&Feature) -> Option<T>) -> Vec<T> {
        self.features.iter().filter_map(pick).collect()
    }

    /// Collects one feature group `other` (streaming), records its time as
    /// `features.<stage>` and left-joins it to `base` on `person_id`.
    fn join(&mut self, base: LazyFrame, other: LazyFrame, stage: &str) -> PolarsResult<LazyFrame> {
        let t = std::time::Instant::now();
        let small = crate::collect_streaming(other)?;
        self.timings
            .push((format!("features.{stage}"), t.elapsed().as_secs_f64()));
        self.order.extend(
            small
                .get_column_names()
                .iter()
                .filter(|c| **c != "person_id")
                .map(|c| c.to_string()),
        );
        Ok(base.left_join(small.lazy(), col("person_id"), col("person_id")))
    }

    /// Latest checkup of the FY up to the reference date (ties: most non-null values, then
    /// last in file order; see the module docs' time conventions): `checkup_date` (date)
    /// and one column per [`Feature::Checkup`] with the `checkups` column's type and unit
    /// (`bmi` computed from weight and height when missing, kg/m², 1 decimal). Stage
    /// `checkup_latest`.
    fn latest_checkup(&mut self, out: LazyFrame) -> PolarsResult<LazyFrame> {
        let checkup_fields: Vec<String> = self.requested(|f| {
            if let Feature::Checkup(c) = f {
                Some(c.clone())
            } else {
                None
            }
        });
        if checkup_fields.is_empty() {
            return Ok(out);
        }
        let (a, b) = self.frame.days(&Window::FY);
        let values: Vec<&str> = crate::rules::file::CHECKUP_FIELDS.to_vec();
        let nn = polars::lazy::dsl::sum_horizontal(
            values
                .iter()
                .map(|c| col(*c).is_not_null().cast(DataType::UInt32))
                .collect::<Vec<_>>(),
            true,
        )?;
        let bmi = coalesce(&[
            col("bmi"),
            (col("weight_kg") / (col("height_cm") / lit(100.0)).pow(2))
                .round(1, RoundMode::HalfAwayFromZero),
        ]);
        let mut sel = vec![col("person_id"), col("exam_date").alias("checkup_date")];
        sel.extend(checkup_fields.iter().map(|f| col(f.as_str())));
        let latest = self
            .src
            .checkups()?
            .with_row_index("_row", None)
            .filter(between_dates(col("exam_date"), a, b))
            .with_columns([bmi.alias("bmi"), nn.alias("_nn")])
            .sort(
                ["person_id", "exam_date", "_nn", "_row"],
                Default::default(),
            )
            .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
            .select(sel);
        self.join(out, latest, "checkup_latest")
    }

    /// Checkup and dental-checkup presence per requested window (see
    /// [`presence_by_date`]): `has_checkup_<window>`, `has_dental_checkup_<window>` (bool)
    /// and the evidence `last_checkup_date`, `last_dental_checkup_date` (date). Stages
    /// `checkups`, `dental_checkups`.
    fn checkup_presence(&mut self, mut out: LazyFrame) -> PolarsResult<LazyFrame> {
        if let Some(lf) = presence_by_date(
            self.src.checkups()?,
            Event::Checkup,
            "last_checkup_date",
            self.features,
            self.frame,
            &mut self.bool_cols,
        ) {
            out = self.join(out, lf, "checkups")?;
        }
        if let Some(lf) = presence_by_date(
            self.src.dental_checkups()?,
            Event::DentalCheckup,
            "last_dental_checkup_date",
            self.features,
            self.frame,
            &mut self.bool_cols,
        ) {
            out = self.join(out, lf, "dental_checkups")?;
        }
        Ok(out)
    }

    /// Latest questionnaire of the FY up to the reference date (ties: most non-null
    /// answers, then last in file order; see the module docs' time conventions):
    /// `questionnaire_date` (date) and `q01`…`q15` (the answer codes) for each requested
    /// [`Feature::Questionnaire`]. Stage `questionnaire_latest`.
    fn latest_questionnaire(&mut self, out: LazyFrame) -> PolarsResult<LazyFrame> {
        let items: Vec<u8> = self.requested(|f| {
            if let Feature::Questionnaire(n) = f {
                Some(*n)
            } else {
                None
            }
        });
        if items.is_empty() {
            return Ok(out);
        }
        let (a, b) = self.frame.days(&Window::FY);
        let qcols: Vec<String> = (1..=15).map(|n| format!("q{n:02}")).collect();
        let nn = polars::lazy::dsl::sum_horizontal(
            qcols
                .iter()
                .map(|c| col(c.as_str()).is_not_null().cast(DataType::UInt32))
                .collect::<Vec<_>>(),
            true,
        )?;
        let mut sel = vec![
            col("person_id"),
            col("answer_date").alias("questionnaire_date"),
        ];
        sel.extend(items.iter().map(|n| col(format!("q{n:02}").as_str())));
        let latest = self
            .src
            .questionnaires()?
            .with_row_index("_row", None)
            .filter(between_dates(col("answer_date"), a, b))
            .with_columns([nn.alias("_nn")])
            .sort(
                ["person_id", "answer_date", "_nn", "_row"],
                Default::default(),
            )
            .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::Last)
            .select(sel);
        self.join(out, latest, "questionnaire_latest")
    }

    /// Keeps the columns of a group computed by [`crate::lines`] (one value per
    /// population person, in population order).
    fn add_lines(&mut self, columns: Vec<Column>) {
        for c in columns {
            self.order.push(c.name().to_string());
            self.aligned.push(c);
        }
    }

    /// Certifications decided by the reference date and valid on some day of a window,
    /// excluding the listed care levels: `has_certification[_excl_<codes>]_<window>`
    /// (bool). Stage `certifications`.
    fn certifications(&mut self, out: LazyFrame) -> PolarsResult<LazyFrame> {
        let cert_feats: Vec<(BTreeSet<CareLevel>, Window)> = self
            .requested(|f| {
                if let Feature::Exists(Event::Certification(e), w) = f {
                    Some((e.clone(), *w))
                } else {
                    None
                }
            })
            .into_iter()
            .collect();
        if cert_feats.is_empty() {
            return Ok(out);
        }
        let r = date_lit(self.frame.reference);
        let mut aggs = Vec::new();
        for (excl, w) in &cert_feats {
            let (a, b) = self.frame.days(w);
            let excluded = excl.iter().fold(lit(false), |acc, level| {
                acc.or(is_code(col("care_level_code"), *level))
            });
            let c = Feature::Exists(Event::Certification(excl.clone()), *w).column();
            self.bool_cols.push(c.clone());
            aggs.push(
                col("valid_from")
                    .lt_eq(date_lit(b))
                    .and(col("valid_to").gt_eq(date_lit(a)))
                    .and(excluded.not())
                    .any(true)
                    .alias(c),
            );
        }
        let certs = self
            .src
            .certifications()?
            .filter(col("decision_date").lt_eq(r));
        self.join(
            out,
            certs.group_by([col("person_id")]).agg(aggs),
            "certifications",
        )
    }

    /// The columns derived after all groups are joined: `last_<tag>_month` (date) from the
    /// packed drug evidence (see [`packed_month_date`]), then every boolean feature column
    /// with absent aggregates filled with false ("no event").
    fn finish_columns(&self, mut out: LazyFrame) -> LazyFrame {
        // Last-prescription months from the packed drug evidence.
        let packed_drugs: BTreeSet<String> = self
            .requested(|f| match f {
                Feature::Exists(Event::Drug { class, options, .. }, _) => {
                    Some(evidence_tag(class, options))
                }
                _ => None,
            })
            .into_iter()
            .collect();
        if !packed_drugs.is_empty() {
            out = out.with_columns(
                packed_drugs
                    .iter()
                    .map(|t| {
                        packed_month_date(col(format!("last_{t}_packed").as_str()))
                            .alias(format!("last_{t}_month"))
                    })
                    .collect::<Vec<_>>(),
            );
        }
        // Absent aggregates mean "no event".
        if !self.bool_cols.is_empty() {
            out = out.with_columns(
                self.bool_cols
                    .iter()
                    .map(|c| col(c.as_str()).fill_null(lit(false)))
                    .collect::<Vec<_>>(),
            );
        }
        out
    }
}

/// Adds the name evidence of drug and diagnosis features (`last_<class>_name`,
/// `<class>_diagnosis`) for the persons listed by some rule (`n_rules` > 0). The feature
/// pass already found each person's latest (month, code) of each class (the `*_packed`
/// columns); here the codes of the listed persons are turned into names from the masters.
///
/// # Errors
/// Polars errors.
pub fn add_name_evidence(
    src: &Sources,
    table: DataFrame,
    features: &BTreeSet<Feature>,
) -> PolarsResult<DataFrame> {
    let mut wanted: Vec<(String, String, &str, usize)> = Vec::new(); // (packed, name, kind, width)
    for f in features {
        match f {
            Feature::Exists(Event::Drug { class, options, .. }, _) => {
                let t = evidence_tag(class, options);
                let w = (
                    format!("last_{t}_packed"),
                    format!("last_{t}_name"),
                    "drug",
                    9,
                );
                if !wanted.contains(&w) {
                    wanted.push(w);
                }
            }
            Feature::Exists(Event::Diagnosis(class), _) => {
                let w = (
                    format!("{class}_diagnosis_packed"),
                    format!("{class}_diagnosis"),
                    "disease",
                    7,
                );
                if !wanted.contains(&w) {
                    wanted.push(w);
                }
            }
            _ => {}
        }
    }
    let mut out = table.clone().lazy();
    for (packed, name, kind, width) in &wanted {
        let (code, names, name_col) = match *kind {
            "drug" => ("drug_code", src.drug_names(), "drug_name"),
            _ => ("disease_code", src.disease_names(), "disease_name"),
        };
        let code_expr = (col(packed.as_str()) % lit(PACK))
            .cast(DataType::String)
            .str()
            .zfill(lit(*width as u64));
        let found = table
            .clone()
            .lazy()
            .filter(
                col("n_rules")
                    .gt(lit(0u32))
                    .and(col(packed.as_str()).is_not_null()),
            )
            .select([col("person_id"), code_expr.alias(code)])
            .left_join(names, col(code), col(code))
            .select([col("person_id"), col(name_col).alias(name.as_str())]);
        out = out.left_join(found, col("person_id"), col("person_id"));
    }
    out.collect()
}

#[cfg(test)]
mod evidence_header_tests {
    use super::*;

    fn drug(
        class: &str,
        options: &[(&str, bool)],
        kinds: Option<&[ClaimKind]>,
        w: &str,
    ) -> Feature {
        Feature::Exists(
            Event::Drug {
                class: class.into(),
                options: options.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                kinds: kinds.map(|k| k.iter().copied().collect()),
            },
            Window::parse(w).unwrap(),
        )
    }

    fn monthly(routes: &[Route], unit: DrugUnit, w: &str) -> Feature {
        Feature::MonthlyDrugs {
            routes: routes.iter().copied().collect(),
            unit,
            window: Window::parse(w).unwrap(),
        }
    }

    /// R06 looks for drugs on 医科・調剤・DPC claims in the FY, R07 on any claim in FY-3..FY-1
    /// and in the FY; their evidence is the same last prescription of the class, so it is
    /// one column with one header. Columns that differ (options, counting window) have
    /// headers that say how.
    #[test]
    fn evidence_headers_are_unique_and_say_what_differs() {
        let r06 = [
            ClaimKind::Inpatient,
            ClaimKind::Outpatient,
            ClaimKind::Pharmacy,
            ClaimKind::Dpc,
        ];
        let features = [
            drug("diabetes", &[], Some(&r06), "FY"),
            drug("diabetes", &[], None, "FY-3..FY-1"),
            drug("diabetes", &[], None, "FY"),
            drug("hypertension", &[], Some(&r06), "FY"),
            drug("hypertension", &[], None, "FY-3..FY-1"),
            drug("hypnotic", &[("etizolam", false)], None, "FY"),
            drug("hypnotic", &[("etizolam", true)], None, "FY"),
            drug("hypnotic", &[], None, "FY"),
            monthly(&[Route::Oral], DrugUnit::Yj7, "FY"),
            monthly(&[Route::Oral], DrugUnit::Yj7, "FY-1"),
            monthly(&[Route::Oral, Route::AsNeeded], DrugUnit::Yj, "FY"),
            Feature::Exists(Event::Claim(ClaimKind::visits().collect()), Window::FY),
            Feature::Exists(
                Event::Claim([ClaimKind::Dental].into_iter().collect()),
                Window::FY,
            ),
            Feature::Checkup("hba1c".into()),
            Feature::Checkup("sbp".into()),
            Feature::Questionnaire(6),
        ];
        let mut by_name: BTreeMap<String, String> = BTreeMap::new();
        for f in &features {
            for (name, header) in f.evidence() {
                if let Some(h) = by_name.insert(name.clone(), header.clone()) {
                    assert_eq!(h, header, "{name} has two headers");
                }
            }
        }
        let mut headers: Vec<&String> = by_name.values().collect();
        headers.sort();
        let n = headers.len();
        headers.dedup();
        assert_eq!(headers.len(), n, "two columns share a header: {by_name:#?}");

        let get = |name: &str| by_name.get(name).map(String::as_str);
        assert_eq!(get("last_diabetes_month"), Some("最終処方月（糖尿病用薬）"));
        assert_eq!(get("last_diabetes_name"), Some("最終処方薬（糖尿病用薬）"));
        assert_eq!(get("last_hypertension_month"), Some("最終処方月（降圧薬）"));
        assert_eq!(
            get("last_diabetes_on_inpatient_outpatient_pharmacy_dpc_month"),
            None
        );
        assert_eq!(get("last_hypnotic_month"), Some("最終処方月（睡眠薬）"));
        assert_eq!(
            get("last_hypnotic_etizolam_off_month"),
            Some("最終処方月（睡眠薬、エチゾラム（デパス等）を睡眠薬に含める: 含めない）")
        );
        assert_eq!(
            get("last_hypnotic_etizolam_name"),
            Some("最終処方薬（睡眠薬、エチゾラム（デパス等）を睡眠薬に含める: 含める）")
        );
        assert_eq!(get("max_monthly_drugs_fy"), Some("最大薬剤数（1か月）"));
        assert_eq!(
            get("max_monthly_drugs_m1_month"),
            Some("最大薬剤数の診療年月（前年度、内服、成分）")
        );
        assert_eq!(
            get("max_monthly_drugs_oral_as_needed_yj_fy"),
            Some("最大薬剤数（1か月）（当該年度、内服・頓服、製品規格）")
        );
    }
}
