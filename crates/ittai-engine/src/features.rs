//! The person × FY feature table: everything the rules look at, computed once per
//! extraction FY with one aggregation per source table, then joined on `person_id`.
//!
//! Rows: persons insured on the reference date (SPEC §4 rule population). Columns:
//! - base: `person_id`, `sex` (u8), `birth_date`, `age` (i32, full years at the reference
//!   date), `age_band` (str), `municipality_code` (str), `care_level` (str code on the
//!   reference date, null when none);
//! - one column per requested [`Feature`] (see [`Feature::column`]) and its evidence
//!   columns (see [`Feature::evidence`]).
//!
//! Time conventions (SPEC §4): events after the reference date are ignored; "latest"
//! checkup and questionnaire are the latest in the FY up to the reference date (ties: most
//! non-null values, then last in file order); windows are FY-relative ([`Window`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use ittai_model::classes::{DiseaseClass, DrugClass};
use ittai_model::{ClaimKind, FiscalYear, Route, first_of_month};
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
    /// Covered over the whole window (coverage guard, SPEC §4).
    Covered(Window),
}

fn kinds_tag(kinds: &BTreeSet<ClaimKind>) -> String {
    let visit: BTreeSet<ClaimKind> = ClaimKind::ALL
        .into_iter()
        .filter(|k| k.is_visit())
        .collect();
    if *kinds == visit {
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
                let suffix = if r == ["oral"] && *unit == DrugUnit::Yj7 {
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
                        format!("_excl_{}", ex.iter().cloned().collect::<Vec<_>>().join("_"))
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
                let (ja, unit) = crate::rules::text::checkup_label(f);
                let h = if unit.is_empty() {
                    ja.to_string()
                } else {
                    format!("{ja}（{unit}）")
                };
                vec![(f.clone(), h), ("checkup_date".into(), "健診日".into())]
            }
            Feature::Questionnaire(n) => {
                let it = ittai_model::questionnaire::item(*n).expect("item");
                vec![
                    (format!("q{n:02}"), format!("質問票{n}（{}）", it.domain_ja)),
                    ("questionnaire_date".into(), "質問票回答日".into()),
                ]
            }
            Feature::Age | Feature::Covered(_) => vec![],
            Feature::MonthlyDrugs { .. } => {
                let c = self.column();
                vec![
                    (c.clone(), "最大薬剤数（1か月）".into()),
                    (format!("{c}_month"), "最大薬剤数の診療年月".into()),
                ]
            }
            Feature::Exists(e, _) => match e {
                Event::Checkup => vec![("last_checkup_date".into(), "最終健診日".into())],
                Event::DentalCheckup => {
                    vec![("last_dental_checkup_date".into(), "最終歯科健診日".into())]
                }
                Event::Claim(k) => {
                    let t = kinds_tag(k);
                    let ja = if t == "visit" {
                        "最終受診月（医科・歯科・DPC）".to_string()
                    } else {
                        format!(
                            "最終受診月（{}）",
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
                    kinds,
                } => {
                    let t = drug_tag(class, options, kinds);
                    let ja = class_name_ja(class);
                    vec![(format!("last_{t}_month"), format!("最終処方月（{ja}）")), (format!("last_{t}_name"), format!("最終処方薬（{ja}）"))]
                }
                Event::Diagnosis(c) => vec![(format!("{c}_diagnosis"), format!("最新の傷病名（{}）", disease_name_ja(c)))],
                Event::Certification(_) => vec![],
            },
        }
    }
}

/// Japanese name of a drug class of the built-in class file (the id for other classes).
fn class_name_ja(id: &str) -> String {
    static CLASSES: std::sync::OnceLock<BTreeMap<String, DrugClass>> = std::sync::OnceLock::new();
    CLASSES.get_or_init(ittai_model::classes::default_drug_classes).get(id).map(|c| c.name_ja.clone()).unwrap_or_else(|| id.to_string())
}

/// Japanese name of a disease class of the built-in class file (the id for other classes).
fn disease_name_ja(id: &str) -> String {
    static CLASSES: std::sync::OnceLock<BTreeMap<String, DiseaseClass>> = std::sync::OnceLock::new();
    CLASSES.get_or_init(ittai_model::classes::default_disease_classes).get(id).map(|c| c.name_ja.clone()).unwrap_or_else(|| id.to_string())
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
    lit(ittai_io::dataset::column::date_to_days(d)).strict_cast(DataType::Date)
}

/// `c` equals one of `codes` (OR of equalities; false for null).
pub fn in_u8(c: Expr, codes: impl IntoIterator<Item = u8>) -> Expr {
    codes.into_iter().fold(lit(false), |acc, k| {
        acc.or(c.clone().eq(lit(k)).fill_null(lit(false)))
    })
}

/// `c` (a string) starts with one of `prefixes` (false for null or no prefixes).
pub fn starts_with_any(c: Expr, prefixes: &[String]) -> Expr {
    prefixes.iter().fold(lit(false), |acc, p| {
        acc.or(c
            .clone()
            .str()
            .starts_with(lit(p.as_str()))
            .fill_null(lit(false)))
    })
}

/// `a` ≤ `c` ≤ `b` for a date column.
pub fn between_dates(c: Expr, a: NaiveDate, b: NaiveDate) -> Expr {
    c.clone().gt_eq(date_lit(a)).and(c.lt_eq(date_lit(b)))
}

/// The run's time frame.
#[derive(Debug, Clone, Copy)]
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
    fn months(&self, w: &Window) -> (NaiveDate, NaiveDate) {
        w.months(self.fy, self.reference)
    }
    fn ref_month(&self) -> NaiveDate {
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

/// Age-band label of an age column (SPEC §4).
pub fn age_band_expr(age: Expr) -> Expr {
    when(age.clone().lt(lit(75)))
        .then(lit("<75"))
        .when(age.clone().lt(lit(80)))
        .then(lit("75-79"))
        .when(age.clone().lt(lit(85)))
        .then(lit("80-84"))
        .when(age.clone().lt(lit(90)))
        .then(lit("85-89"))
        .when(age.lt(lit(95)))
        .then(lit("90-94"))
        .otherwise(lit("95+"))
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

/// The latest `service_month` among rows where `cond` holds (null when none); a plain
/// `max` so that the streaming engine can aggregate it.
fn last_month_when(cond: Expr) -> Expr {
    when(cond).then(col("service_month")).otherwise(lit(NULL).cast(DataType::Date)).max()
}

/// A drug-class feature: class, options, claim kinds (None = any claim), window.
#[derive(Debug, Clone)]
struct DrugFeature {
    class: String,
    options: BTreeMap<String, bool>,
    kinds: Option<BTreeSet<ClaimKind>>,
    window: Window,
}

impl DrugFeature {
    fn prefixes(&self, drug_classes: &BTreeMap<String, DrugClass>) -> PolarsResult<Vec<String>> {
        let def = drug_classes.get(&self.class).ok_or_else(|| polars_err!(ComputeError: "unknown drug class {}", self.class))?;
        Ok(def.prefixes(&self.options))
    }

    fn event(&self) -> Event {
        Event::Drug { class: self.class.clone(), options: self.options.clone(), kinds: self.kinds.clone() }
    }

    /// The presence flag and the last-month evidence, over drug lines with a `yj` column.
    /// `evidence_done` holds the evidence columns already computed (the last month of a
    /// class does not depend on the window, so windows share it).
    fn aggregations(
        &self,
        drug_classes: &BTreeMap<String, DrugClass>,
        frame: &Frame,
        bool_cols: &mut Vec<String>,
        evidence_done: &mut BTreeSet<String>,
    ) -> PolarsResult<Vec<Expr>> {
        let cond = starts_with_any(col("yj"), &self.prefixes(drug_classes)?);
        let (a, b) = frame.months(&self.window);
        let c = Feature::Exists(self.event(), self.window).column();
        bool_cols.push(c.clone());
        let mut out = vec![cond.clone().and(between_dates(col("service_month"), a, b)).any(true).alias(c)];
        let last = format!("last_{}_month", drug_tag(&self.class, &self.options, &self.kinds));
        if evidence_done.insert(last.clone()) {
            out.push(last_month_when(cond).alias(last));
        }
        Ok(out)
    }

    /// Drug lines of this class up to the reference month, on claims of the kinds: the
    /// lines of the class are anti-joined with the claims of the other kinds (a small
    /// set), instead of joining every line with its claim.
    fn lines(&self, src: &Sources, drug_classes: &BTreeMap<String, DrugClass>, upto: &Expr) -> PolarsResult<LazyFrame> {
        let cond = starts_with_any(col("yj"), &self.prefixes(drug_classes)?);
        let mut lines = src
            .drugs(&["claim_id", "person_id", "service_month"])?
            .filter(col("service_month").lt_eq(upto.clone()).and(cond));
        if let Some(kinds) = &self.kinds {
            let other = src
                .medical_claims()?
                .select([col("claim_id"), col("claim_kind")])
                .filter(in_u8(col("claim_kind"), kinds.iter().map(|k| k.code())).not())
                .select([col("claim_id")]);
            lines = lines.join(other, [col("claim_id")], [col("claim_id")], JoinArgs::new(JoinType::Anti));
        }
        Ok(lines)
    }
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

/// Builds the feature table for `features`.
///
/// # Errors
/// Polars errors (I/O, schema).
pub fn build(
    src: &Sources,
    frame: &Frame,
    features: &BTreeSet<Feature>,
    drug_classes: &BTreeMap<String, DrugClass>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
) -> PolarsResult<LazyFrame> {
    let mut out = population(src, frame)?;
    let join = |base: LazyFrame, other: LazyFrame| {
        base.left_join(other, col("person_id"), col("person_id"))
    };
    let mut bool_cols: Vec<String> = Vec::new();

    // Coverage over windows (spells joined where one ends the day the next starts).
    let covered: Vec<Window> = features
        .iter()
        .filter_map(|f| {
            if let Feature::Covered(w) = f {
                Some(*w)
            } else {
                None
            }
        })
        .collect();
    if !covered.is_empty() {
        let far = date_lit(NaiveDate::from_ymd_opt(9999, 12, 31).expect("far"));
        let islands = src
            .persons()?
            .select([
                col("person_id"),
                col("coverage_start").alias("s"),
                col("coverage_end").fill_null(far).alias("e"),
            ])
            .sort(["person_id", "s"], Default::default())
            .with_columns([col("e")
                .cum_max(false)
                .shift(lit(1))
                .over([col("person_id")])?
                .alias("prev_e")])
            .with_columns([col("prev_e")
                .is_null()
                .or(col("s").gt(col("prev_e")))
                .cast(DataType::UInt32)
                .alias("new")])
            .with_columns([col("new")
                .cum_sum(false)
                .over([col("person_id")])?
                .alias("island")])
            .group_by([col("person_id"), col("island")])
            .agg([col("s").min(), col("e").max()]);
        let aggs: Vec<Expr> = covered
            .iter()
            .map(|w| {
                let (a, b) = frame.days(w);
                let c = Feature::Covered(*w).column();
                bool_cols.push(c.clone());
                col("s")
                    .lt_eq(date_lit(a))
                    .and(col("e").gt(date_lit(b)))
                    .any(true)
                    .alias(c)
            })
            .collect();
        out = join(out, islands.group_by([col("person_id")]).agg(aggs));
    }

    // Latest checkup of the FY, and checkup presence per window.
    let checkup_fields: Vec<String> = features
        .iter()
        .filter_map(|f| {
            if let Feature::Checkup(c) = f {
                Some(c.clone())
            } else {
                None
            }
        })
        .collect();
    if !checkup_fields.is_empty() {
        let (a, b) = frame.days(&Window::FY);
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
        let latest = src
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
        out = join(out, latest);
    }
    if let Some(lf) = presence_by_date(
        src.checkups()?,
        Event::Checkup,
        "last_checkup_date",
        features,
        frame,
        &mut bool_cols,
    ) {
        out = join(out, lf);
    }
    if let Some(lf) = presence_by_date(
        src.dental_checkups()?,
        Event::DentalCheckup,
        "last_dental_checkup_date",
        features,
        frame,
        &mut bool_cols,
    ) {
        out = join(out, lf);
    }

    // Latest questionnaire of the FY.
    let items: Vec<u8> = features
        .iter()
        .filter_map(|f| {
            if let Feature::Questionnaire(n) = f {
                Some(*n)
            } else {
                None
            }
        })
        .collect();
    if !items.is_empty() {
        let (a, b) = frame.days(&Window::FY);
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
        let latest = src
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
        out = join(out, latest);
    }

    // Claims by kind and window.
    let claim_feats: Vec<(BTreeSet<ClaimKind>, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(Event::Claim(k), w) => Some((k.clone(), *w)),
            _ => None,
        })
        .collect();
    if !claim_feats.is_empty() {
        let upto = date_lit(frame.ref_month());
        let mut aggs = Vec::new();
        let mut evidence_done = BTreeSet::new();
        for (kinds, w) in &claim_feats {
            let (a, b) = frame.months(w);
            let is_kind = in_u8(col("claim_kind"), kinds.iter().map(|k| k.code()));
            let c = Feature::Exists(Event::Claim(kinds.clone()), *w).column();
            bool_cols.push(c.clone());
            aggs.push(is_kind.clone().and(between_dates(col("service_month"), a, b)).any(true).alias(c));
            let t = kinds_tag(kinds);
            if evidence_done.insert(t.clone()) {
                aggs.push(last_month_when(is_kind).alias(format!("last_{t}_month")));
            }
        }
        let claims = src
            .medical_claims()?
            .select([col("person_id"), col("service_month"), col("claim_kind")])
            .filter(col("service_month").lt_eq(upto));
        out = join(out, claims.group_by([col("person_id")]).agg(aggs));
    }

    // Drugs: class presence per window (one aggregation for all classes looked for on any
    // claim, one per class restricted to claim kinds), and monthly distinct counts.
    let drug_feats: Vec<DrugFeature> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(Event::Drug { class, options, kinds }, w) => {
                Some(DrugFeature { class: class.clone(), options: options.clone(), kinds: kinds.clone(), window: *w })
            }
            _ => None,
        })
        .collect();
    let upto = date_lit(frame.ref_month());
    let any_kind: Vec<&DrugFeature> = drug_feats.iter().filter(|d| d.kinds.is_none()).collect();
    let mut evidence_done = BTreeSet::new();
    if !any_kind.is_empty() {
        let mut aggs = Vec::new();
        for d in &any_kind {
            aggs.extend(d.aggregations(drug_classes, frame, &mut bool_cols, &mut evidence_done)?);
        }
        let drugs = src.drugs(&["person_id", "service_month"])?.filter(col("service_month").lt_eq(upto.clone()));
        out = join(out, drugs.group_by([col("person_id")]).agg(aggs));
    }
    for d in drug_feats.iter().filter(|d| d.kinds.is_some()) {
        let aggs = d.aggregations(drug_classes, frame, &mut bool_cols, &mut evidence_done)?;
        let lines = d.lines(src, drug_classes, &upto)?;
        out = join(out, lines.group_by([col("person_id")]).agg(aggs));
    }
    let count_feats: Vec<(BTreeSet<Route>, DrugUnit, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::MonthlyDrugs { routes, unit, window } => Some((routes.clone(), *unit, *window)),
            _ => None,
        })
        .collect();
    for (routes, unit, w) in &count_feats {
        let (a, b) = frame.months(w);
        let key = match unit {
            DrugUnit::Yj7 => col("yj").str().slice(lit(0), lit(7)),
            DrugUnit::Yj => col("yj"),
            DrugUnit::DrugCode => col("drug_code"),
        };
        let c = Feature::MonthlyDrugs { routes: routes.clone(), unit: *unit, window: *w }.column();
        let monthly = src
            .drugs(&["person_id", "service_month", "route"])?
            .filter(in_u8(col("route"), routes.iter().map(|r| r.code())).and(between_dates(col("service_month"), a, b)))
            .select([col("person_id"), col("service_month"), key.alias("unit")])
            .filter(col("unit").is_not_null())
            .group_by([col("person_id"), col("service_month")])
            .agg([col("unit").n_unique().cast(DataType::Int32).alias(c.as_str())])
            .sort(
                ["person_id", c.as_str(), "service_month"],
                SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
            )
            .unique_stable(Some(cols(["person_id"])), UniqueKeepStrategy::First)
            .select([col("person_id"), col(c.as_str()), col("service_month").alias(format!("{c}_month"))]);
        out = join(out, monthly);
    }

    // Diagnoses (non-suspected) by class and window.
    let dx_feats: Vec<(String, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(Event::Diagnosis(c), w) => Some((c.clone(), *w)),
            _ => None,
        })
        .collect();
    if !dx_feats.is_empty() {
        let dx = src
            .diagnoses(&["person_id", "service_month", "suspected"])?
            .filter(col("suspected").not().and(col("service_month").lt_eq(upto)));
        let mut aggs = Vec::new();
        for (class, w) in &dx_feats {
            let def = disease_classes.get(class).ok_or_else(|| polars_err!(ComputeError: "unknown disease class {class}"))?;
            let cond = starts_with_any(col("icd"), &def.icd10);
            let (a, b) = frame.months(w);
            let c = Feature::Exists(Event::Diagnosis(class.clone()), *w).column();
            bool_cols.push(c.clone());
            aggs.push(cond.and(between_dates(col("service_month"), a, b)).any(true).alias(c));
        }
        out = join(out, dx.group_by([col("person_id")]).agg(aggs));
    }

    // Certifications valid on some day of a window.
    let cert_feats: Vec<(BTreeSet<String>, Window)> = features
        .iter()
        .filter_map(|f| {
            if let Feature::Exists(Event::Certification(e), w) = f {
                Some((e.clone(), *w))
            } else {
                None
            }
        })
        .collect();
    if !cert_feats.is_empty() {
        let r = date_lit(frame.reference);
        let mut aggs = Vec::new();
        for (excl, w) in &cert_feats {
            let (a, b) = frame.days(w);
            let excluded = excl.iter().fold(lit(false), |acc, code| {
                acc.or(col("care_level_code").eq(lit(code.as_str())))
            });
            let c = Feature::Exists(Event::Certification(excl.clone()), *w).column();
            bool_cols.push(c.clone());
            aggs.push(
                col("valid_from")
                    .lt_eq(date_lit(b))
                    .and(col("valid_to").gt_eq(date_lit(a)))
                    .and(excluded.not())
                    .any(true)
                    .alias(c),
            );
        }
        let certs = src.certifications()?.filter(col("decision_date").lt_eq(r));
        out = join(out, certs.group_by([col("person_id")]).agg(aggs));
    }

    // Absent aggregates mean "no event".
    if !bool_cols.is_empty() {
        out = out.with_columns(
            bool_cols
                .iter()
                .map(|c| col(c.as_str()).fill_null(lit(false)))
                .collect::<Vec<_>>(),
        );
    }
    Ok(out)
}

/// Adds the name evidence of drug and diagnosis features (`last_<class>_name`,
/// `<class>_diagnosis`) for the persons listed by some rule (`n_rules` > 0). Names are
/// needed only in target lists, so they are looked up after the rules are applied: one
/// streaming scan of the drug lines and one of the diagnoses, each cut early to the listed
/// persons and the classes asked for.
///
/// # Errors
/// Polars errors.
pub fn add_name_evidence(
    src: &Sources,
    frame: &Frame,
    table: DataFrame,
    features: &BTreeSet<Feature>,
    drug_classes: &BTreeMap<String, DrugClass>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
) -> PolarsResult<DataFrame> {
    let listed = table.clone().lazy().filter(col("n_rules").gt(lit(0u32))).select([col("person_id")]);
    let upto = date_lit(frame.ref_month());
    let semi = |lf: LazyFrame| lf.join(listed.clone(), [col("person_id")], [col("person_id")], JoinArgs::new(JoinType::Semi));
    let mut drug_feats: Vec<(String, DrugFeature)> = Vec::new();
    let mut dx_feats: Vec<(String, String)> = Vec::new();
    for f in features {
        match f {
            Feature::Exists(Event::Drug { class, options, kinds }, w) => {
                let name = format!("last_{}_name", drug_tag(class, options, kinds));
                if !drug_feats.iter().any(|d| d.0 == name) {
                    drug_feats.push((name, DrugFeature { class: class.clone(), options: options.clone(), kinds: kinds.clone(), window: *w }));
                }
            }
            Feature::Exists(Event::Diagnosis(class), _) => {
                let name = format!("{class}_diagnosis");
                if !dx_feats.iter().any(|d| d.0 == name) {
                    dx_feats.push((name, class.clone()));
                }
            }
            _ => {}
        }
    }
    let mut out = table.lazy();
    if !drug_feats.is_empty() {
        let mut all_prefixes = Vec::new();
        for (_, d) in &drug_feats {
            all_prefixes.extend(d.prefixes(drug_classes)?);
        }
        let lines = crate::collect_streaming(
            semi(src.drugs(&["claim_id", "person_id", "service_month"])?)
                .filter(col("service_month").lt_eq(upto.clone()).and(starts_with_any(col("yj"), &all_prefixes)))
                .select([col("claim_id"), col("person_id"), col("service_month"), col("drug_code"), col("yj")]),
        )?;
        let kinds = if drug_feats.iter().any(|(_, d)| d.kinds.is_some()) {
            let claims = semi(src.medical_claims()?.select([col("claim_id"), col("person_id"), col("claim_kind")]));
            Some(crate::collect_streaming(claims.select([col("claim_id"), col("claim_kind")]))?)
        } else {
            None
        };
        for (name, d) in &drug_feats {
            let mut sel = lines.clone().lazy().filter(starts_with_any(col("yj"), &d.prefixes(drug_classes)?));
            if let (Some(k), Some(claims)) = (&d.kinds, &kinds) {
                sel = sel
                    .left_join(claims.clone().lazy(), col("claim_id"), col("claim_id"))
                    .filter(in_u8(col("claim_kind"), k.iter().map(|x| x.code())));
            }
            let names = sel
                .left_join(src.drug_names(), col("drug_code"), col("drug_code"))
                .group_by([col("person_id")])
                .agg([col("drug_name").sort_by([col("service_month")], Default::default()).last().alias(name.as_str())]);
            out = out.left_join(names, col("person_id"), col("person_id"));
        }
    }
    if !dx_feats.is_empty() {
        let mut all_prefixes = Vec::new();
        for (_, class) in &dx_feats {
            let def = disease_classes.get(class).ok_or_else(|| polars_err!(ComputeError: "unknown disease class {class}"))?;
            all_prefixes.extend(def.icd10.iter().cloned());
        }
        let dx = crate::collect_streaming(
            semi(src.diagnoses(&["person_id", "service_month", "suspected"])?)
                .filter(col("suspected").not().and(col("service_month").lt_eq(upto.clone())).and(starts_with_any(col("icd"), &all_prefixes)))
                .select([col("person_id"), col("service_month"), col("disease_code"), col("icd")]),
        )?;
        for (name, class) in &dx_feats {
            let def = &disease_classes[class];
            let names = dx
                .clone()
                .lazy()
                .filter(starts_with_any(col("icd"), &def.icd10))
                .left_join(src.disease_names(), col("disease_code"), col("disease_code"))
                .group_by([col("person_id")])
                .agg([col("disease_name").sort_by([col("service_month")], Default::default()).last().alias(name.as_str())]);
            out = out.left_join(names, col("person_id"), col("person_id"));
        }
    }
    out.collect()
}
