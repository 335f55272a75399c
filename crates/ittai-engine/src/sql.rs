//! The rules as SQL, for engines other than ittai's own: Apache Spark (through Spark
//! Connect) and DuckDB (the baseline of the scale harness).
//!
//! The SQL is generated, not written per rule: the same rule TOML and class files that
//! drive the native engine give the same [`Feature`] set ([`crate::wanted_features`]),
//! and each feature, rule condition and attrition step below is the SQL form of the native
//! computation in `features.rs` / `lines.rs` / `evaluate.rs`. A change to a rule file (a threshold, a
//! window, a class) changes the SQL with no code change.
//!
//! A [`Script`] is a short sequence of statements over the canonical Parquet tables
//! (docs/reference/dataset.md):
//!
//! 1. one temporary view per step, `ittai_<step>`: the population (`ittai_pop`), and per
//!    source table the rows or aggregates the features need (`ittai_drug_lines`,
//!    `ittai_f_drugs`, `ittai_f_monthly_0`, …);
//! 2. `ittai_features` (temporary view): one row per person insured on the reference date,
//!    with the base columns (`person_id`, `sex`, `birth_date`, `municipality_code`,
//!    `insurer_number`, `care_level`, `age`, `age_band`) and one column per feature, named
//!    as in the native feature table ([`Feature::column`]) with its evidence columns;
//! 3. `ittai_flags` (materialised: a cached table in Spark, a temporary table in DuckDB):
//!    the features with `flag_<rule id>` (boolean) per rule and `n_rules` (integer);
//! 4. the attrition query: one row, `population` then `<id>_<step>_persons` and
//!    `<id>_<step>_insufficient_coverage` per rule and step (docs/reference/rules.md,
//!    "Attrition");
//! 5. the list query: the rows of `ittai_flags` with `n_rules > 0`, by `person_id`.
//!
//! Two master lookups are read as views, `ittai_drug_master (drug_code, master_yj)` and
//! `ittai_disease_master (disease_code, master_icd)`: a drug line without a YJ code takes the
//! master's, a diagnosis without an ICD-10 code the master's (as the native engine does).
//!
//! The SQL subset used is documented in docs/SCALE.md ("The SQL"): temporary views,
//! `LEFT JOIN … ON`,
//! `ANTI JOIN … ON`, `UNION ALL`,
//! `GROUP BY` with `bool_or`, `max`, `count`, `row_number() OVER (PARTITION BY … ORDER BY
//! …)`, `CASE`, `coalesce`, `LIKE 'prefix%'`, `substr`, `year`/`month`/`day`, `DATE '…'`
//! literals and `CAST`. The two dialects differ only in how a Parquet file is named, the
//! file row number, days since 1970 and how a table is materialised.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use ittai_model::classes::{DiseaseClass, DrugClass};
use ittai_model::{AgeBand, ClaimKind, first_of_month};
use polars::prelude::*;

use crate::evaluate::{AttritionStep, RuleResult, evidence_in_order, flag_column, steps};
use crate::features::{Feature, Frame, collect};
use crate::rules::file::{DrugUnit, Event, Node, Op, Rule};
use crate::rules::text::{TextContext, describe};
use crate::rules::window::Window;

/// The SQL dialect to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Apache Spark SQL (3.5 or later; tested with 4.0).
    Spark,
    /// DuckDB (1.0 or later).
    DuckDb,
}

impl Dialect {
    /// The dialect's name as given to `--dialect` (`spark`, `duckdb`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
        }
    }

    /// A Parquet file as a relation.
    fn parquet(self, uri: &str) -> String {
        match self {
            Dialect::Spark => format!("parquet.`{uri}`"),
            Dialect::DuckDb => format!("read_parquet({})", quote(uri)),
        }
    }

    /// A Parquet file as a relation with its row number in file order as `_row`.
    fn parquet_with_row(self, uri: &str) -> String {
        match self {
            Dialect::Spark => format!(
                "(SELECT *, _metadata.row_index AS _row FROM {})",
                self.parquet(uri)
            ),
            Dialect::DuckDb => format!(
                "(SELECT *, file_row_number AS _row FROM read_parquet({}, file_row_number = true))",
                quote(uri)
            ),
        }
    }

    /// Days since 1970-01-01 of a date expression.
    fn epoch_days(self, e: &str) -> String {
        match self {
            Dialect::Spark => format!("datediff({e}, DATE '1970-01-01')"),
            Dialect::DuckDb => format!("date_diff('day', DATE '1970-01-01', {e})"),
        }
    }

    /// The statement that materialises a query as `name`.
    fn materialise(self, name: &str, query: &str) -> String {
        match self {
            Dialect::Spark => format!("CACHE TABLE {name} AS\n{query}"),
            Dialect::DuckDb => format!("CREATE OR REPLACE TEMP TABLE {name} AS\n{query}"),
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "spark" => Ok(Dialect::Spark),
            "duckdb" => Ok(Dialect::DuckDb),
            other => Err(format!("unknown SQL dialect {other:?}: spark or duckdb")),
        }
    }
}

/// Where the master lookups come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Masters {
    /// The views `ittai_drug_master` and `ittai_disease_master` exist already (the
    /// caller registers them, as `ittai run --engine spark` does).
    Views,
    /// Parquet files `drug_master.parquet` and `disease_master.parquet` under this URI
    /// (written by `ittai sql --masters DIR`); the script creates the views.
    Parquet(String),
}

/// What to render.
#[derive(Debug, Clone, Copy)]
pub struct SqlSpec<'a> {
    /// Extraction FY and reference date.
    pub frame: Frame,
    /// Rules to apply (as loaded, parameters set).
    pub rules: &'a [Rule],
    /// Drug classes in force.
    pub drug_classes: &'a BTreeMap<String, DrugClass>,
    /// Disease classes in force.
    pub disease_classes: &'a BTreeMap<String, DiseaseClass>,
    /// The dialect.
    pub dialect: Dialect,
    /// The dataset directory or URI holding `<table>.parquet` (a local path, `s3a://…`,
    /// `hdfs://…`, as the engine reads it).
    pub data: &'a str,
}

/// One statement of a script with a comment saying what it is.
#[derive(Debug, Clone)]
pub struct Statement {
    /// One-line purpose (printed as a `--` comment).
    pub comment: String,
    /// The SQL, without a trailing semicolon.
    pub sql: String,
}

/// A rendered script (see the module docs).
#[derive(Debug, Clone)]
pub struct Script {
    /// The dialect.
    pub dialect: Dialect,
    /// Statements to execute first, in order (views, the materialised flags).
    pub setup: Vec<Statement>,
    /// The attrition query (one row).
    pub attrition: Statement,
    /// The list query (persons on at least one list, every column of `ittai_flags`).
    pub listed: Statement,
    /// The columns of the list query with the types of the native feature table.
    pub columns: Vec<(String, DataType)>,
    /// Each rule's attrition columns: (rule id, per step (persons, insufficient) column).
    pub attrition_columns: Vec<(String, Vec<(String, String)>)>,
    /// The features the rules use.
    pub features: BTreeSet<Feature>,
}

impl Script {
    /// The whole script as text: a header, each statement with its comment, terminated by
    /// semicolons.
    pub fn text(&self, header: &str) -> String {
        let mut s = String::new();
        for line in header.lines() {
            let _ = writeln!(s, "-- {line}");
        }
        for st in self.setup.iter().chain([&self.attrition, &self.listed]) {
            let _ = writeln!(s, "\n-- {}", st.comment);
            let _ = writeln!(s, "{};", st.sql);
        }
        s
    }
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A date literal.
fn date(d: NaiveDate) -> String {
    format!("DATE '{d}'")
}

/// A float literal as DOUBLE (both dialects read `20.0` as a decimal otherwise).
fn double(v: f64) -> String {
    format!("CAST({v:?} AS DOUBLE)")
}

/// `c` between two dates (inclusive).
fn between(c: &str, (a, b): (NaiveDate, NaiveDate)) -> String {
    format!("{c} BETWEEN {} AND {}", date(a), date(b))
}

/// `c` starts with one of `prefixes` (FALSE for none): `LIKE 'p%'` for plain prefixes
/// (letters and digits), an exact `substr` comparison otherwise.
fn starts_with_any(c: &str, prefixes: &[String]) -> String {
    if prefixes.is_empty() {
        return "FALSE".into();
    }
    let parts: Vec<String> = prefixes
        .iter()
        .map(|p| {
            if p.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                format!("{c} LIKE '{p}%'")
            } else {
                format!("substr({c}, 1, {}) = {}", p.chars().count(), quote(p))
            }
        })
        .collect();
    format!("({})", parts.join(" OR "))
}

/// `c IN (codes)` for u8 codes, FALSE for null and for no codes.
fn in_codes(c: &str, codes: impl IntoIterator<Item = u8>) -> String {
    let v: Vec<String> = codes.into_iter().map(|k| k.to_string()).collect();
    if v.is_empty() {
        return "FALSE".into();
    }
    format!("coalesce({c} IN ({}), FALSE)", v.join(", "))
}

fn kinds_in(c: &str, kinds: &BTreeSet<ClaimKind>) -> String {
    in_codes(c, kinds.iter().map(|k| k.code()))
}

/// The comparison of a value leaf (`evaluate::compare`): FALSE when the value is null.
fn compare(c: &str, op: Op, value: &[f64]) -> String {
    let x = format!("CAST({c} AS DOUBLE)");
    let v = value.first().copied().unwrap_or(f64::NAN);
    let e = match op {
        Op::Lt => format!("{x} < {}", double(v)),
        Op::Le => format!("{x} <= {}", double(v)),
        Op::Gt => format!("{x} > {}", double(v)),
        Op::Ge => format!("{x} >= {}", double(v)),
        Op::Eq => format!("{x} = {}", double(v)),
        Op::Ne => format!("{x} <> {}", double(v)),
        Op::In => {
            if value.is_empty() {
                return "FALSE".into();
            }
            let vs: Vec<String> = value.iter().map(|v| double(*v)).collect();
            format!("{x} IN ({})", vs.join(", "))
        }
    };
    format!("coalesce({e}, FALSE)")
}

/// The SQL of a condition node over `ittai_features` (`evaluate::node_expr`): `strict`
/// applies the coverage guard to absence conditions when `guard` is on.
pub fn node_sql(node: &Node, guard: bool, strict: bool) -> String {
    match node {
        Node::All(v) if v.is_empty() => "TRUE".into(),
        Node::Any(v) if v.is_empty() => "FALSE".into(),
        Node::All(v) => format!(
            "({})",
            v.iter()
                .map(|n| node_sql(n, guard, strict))
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
        Node::Any(v) => format!(
            "({})",
            v.iter()
                .map(|n| node_sql(n, guard, strict))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
        Node::Not(inner) => {
            let e = format!("(NOT {})", node_sql(inner, guard, strict));
            match inner.as_ref() {
                Node::Exists { window, .. } if guard && strict => format!(
                    "({e} AND coalesce({}, FALSE))",
                    Feature::Covered(*window).column()
                ),
                _ => e,
            }
        }
        Node::Checkup { field, op, value } => compare(field, *op, value),
        Node::Questionnaire { item, op, value } => compare(&format!("q{item:02}"), *op, value),
        Node::Age { op, value } => compare("age", *op, value),
        Node::Exists { event, window } => format!(
            "coalesce({}, FALSE)",
            Feature::Exists(event.clone(), *window).column()
        ),
        Node::MonthlyDrugs {
            routes,
            unit,
            window,
            op,
            value,
        } => {
            let c = Feature::MonthlyDrugs {
                routes: routes.clone(),
                unit: *unit,
                window: *window,
            }
            .column();
            compare(&format!("coalesce({c}, 0)"), *op, &[*value])
        }
    }
}

/// One aggregate of the feature view: the view name, its SQL and its output columns.
struct Part {
    name: String,
    sql: String,
    columns: Vec<String>,
}

/// Renders the script for `spec`.
///
/// # Errors
/// An unknown drug or disease class, or a data URI with a backtick (Spark cannot name it).
pub fn render(spec: &SqlSpec<'_>, masters: &Masters) -> Result<Script, String> {
    if spec.data.contains('`') {
        return Err(format!(
            "the data location {:?} contains a backtick",
            spec.data
        ));
    }
    let d = spec.dialect;
    let frame = spec.frame;
    let table = |name: &str| {
        d.parquet(&format!(
            "{}/{name}.parquet",
            spec.data.trim_end_matches('/')
        ))
    };
    let table_row = |name: &str| {
        d.parquet_with_row(&format!(
            "{}/{name}.parquet",
            spec.data.trim_end_matches('/')
        ))
    };
    let mut features = BTreeSet::new();
    for r in spec.rules {
        collect(&r.condition, &mut features);
    }
    let reference = frame.reference;
    let ref_month = first_of_month(reference);
    let days = |w: &Window| w.days(frame.fy, reference);
    let months = |w: &Window| w.months(frame.fy, reference);
    let mut setup = Vec::new();
    if let Masters::Parquet(dir) = masters {
        let dir = dir.trim_end_matches('/');
        setup.push(Statement {
            comment: "The drug master: YJ code by レセ電 医薬品コード (for lines without a YJ code)".into(),
            sql: format!(
                "CREATE OR REPLACE TEMPORARY VIEW ittai_drug_master AS SELECT drug_code, master_yj FROM {}",
                d.parquet(&format!("{dir}/drug_master.parquet"))
            ),
        });
        setup.push(Statement {
            comment: "The disease master: ICD-10 by 傷病名コード (for diagnoses without an ICD-10 code)".into(),
            sql: format!(
                "CREATE OR REPLACE TEMPORARY VIEW ittai_disease_master AS SELECT disease_code, master_icd FROM {}",
                d.parquet(&format!("{dir}/disease_master.parquet"))
            ),
        });
    }

    let mut ctes: Vec<(String, String)> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut bool_cols: Vec<String> = Vec::new();

    // The population (features::population).
    let md_ref = reference.month() * 100 + reference.day();
    let mut band = format!("'{}'", AgeBand::ALL.last().expect("bands").label());
    for pair in AgeBand::ALL.windows(2).rev() {
        band = format!(
            "CASE WHEN age < {} THEN '{}' ELSE {band} END",
            pair[1].lower(),
            pair[0].label()
        );
    }
    ctes.push((
        "ittai_covering".into(),
        format!(
            "SELECT person_id, sex, birth_date, municipality_code, insurer_number,
         row_number() OVER (PARTITION BY person_id ORDER BY coverage_start DESC) AS rn
  FROM {persons}
  WHERE coverage_start <= {r} AND (coverage_end IS NULL OR coverage_end > {r})",
            persons = table("persons"),
            r = date(reference)
        ),
    ));
    ctes.push((
        "ittai_care".into(),
        format!(
            "SELECT person_id, care_level_code,
         row_number() OVER (PARTITION BY person_id ORDER BY decision_date DESC) AS rn
  FROM {certs}
  WHERE valid_from <= {r} AND valid_to >= {r} AND decision_date <= {r}",
            certs = table("certifications"),
            r = date(reference)
        ),
    ));
    ctes.push((
        "ittai_pop0".into(),
        format!(
            "SELECT c.person_id, c.sex, c.birth_date, c.municipality_code, c.insurer_number,
         k.care_level_code AS care_level,
         CAST({y} - year(c.birth_date) - CASE WHEN month(c.birth_date) * 100 + day(c.birth_date) > {md_ref} THEN 1 ELSE 0 END AS INT) AS age
  FROM ittai_covering c LEFT JOIN ittai_care k ON k.person_id = c.person_id AND k.rn = 1
  WHERE c.rn = 1",
            y = reference.year()
        ),
    ));
    ctes.push((
        "ittai_pop".into(),
        format!("SELECT *, {band} AS age_band FROM ittai_pop0"),
    ));

    // Coverage islands (lines::coverage).
    let covered: Vec<Window> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Covered(w) => Some(*w),
            _ => None,
        })
        .collect();
    if !covered.is_empty() {
        ctes.push((
            "ittai_spells".into(),
            format!(
                "SELECT person_id, coverage_start AS s, coalesce(coverage_end, DATE '9999-12-31') AS e FROM {}",
                table("persons")
            ),
        ));
        ctes.push((
            "ittai_spells_ordered".into(),
            "SELECT person_id, s, e,
         max(e) OVER (PARTITION BY person_id ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
  FROM ittai_spells"
                .into(),
        ));
        ctes.push((
            "ittai_spells_numbered".into(),
            "SELECT person_id, s, e,
         sum(CASE WHEN prev_e IS NULL OR s > prev_e THEN 1 ELSE 0 END)
           OVER (PARTITION BY person_id ORDER BY s ROWS UNBOUNDED PRECEDING) AS island
  FROM ittai_spells_ordered"
                .into(),
        ));
        ctes.push((
            "ittai_islands".into(),
            "SELECT person_id, min(s) AS s, max(e) AS e FROM ittai_spells_numbered GROUP BY person_id, island".into(),
        ));
        let mut aggs = Vec::new();
        let mut cols = Vec::new();
        for w in &covered {
            let (a, b) = days(w);
            let c = Feature::Covered(*w).column();
            aggs.push(format!(
                "bool_or(s <= {} AND e > {}) AS {c}",
                date(a),
                date(b)
            ));
            cols.push(c.clone());
            bool_cols.push(c);
        }
        parts.push(Part {
            name: "ittai_f_coverage".into(),
            sql: format!(
                "SELECT person_id,\n         {}\n  FROM ittai_islands GROUP BY person_id",
                aggs.join(",\n         ")
            ),
            columns: cols,
        });
    }

    // Latest checkup of the FY (Builder::latest_checkup).
    let checkup_fields: Vec<String> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Checkup(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    if !checkup_fields.is_empty() {
        let values: Vec<String> = checkup_fields
            .iter()
            .map(|f| {
                if f == "bmi" {
                    "coalesce(bmi, round(weight_kg / ((height_cm / CAST(100 AS DOUBLE)) * (height_cm / CAST(100 AS DOUBLE))), 1)) AS bmi".to_string()
                } else {
                    f.clone()
                }
            })
            .collect();
        let (cte, part) = latest_in_fy(
            "checkup",
            &table_row("checkups"),
            ("exam_date", "checkup_date"),
            (&values, &checkup_fields),
            crate::rules::file::CHECKUP_FIELDS
                .iter()
                .map(|c| c.to_string()),
            days(&Window::FY),
        );
        ctes.push(cte);
        parts.push(part);
    }

    // Checkup and dental-checkup presence (presence_by_date).
    for (event, tbl, last, stage) in [
        (
            Event::Checkup,
            "checkups",
            "last_checkup_date",
            "f_checkups",
        ),
        (
            Event::DentalCheckup,
            "dental_checkups",
            "last_dental_checkup_date",
            "f_dental_checkups",
        ),
    ] {
        let windows: Vec<Window> = features
            .iter()
            .filter_map(|f| match f {
                Feature::Exists(e, w) if *e == event => Some(*w),
                _ => None,
            })
            .collect();
        if windows.is_empty() {
            continue;
        }
        let mut aggs = vec![format!(
            "max(CASE WHEN exam_date <= {} THEN exam_date END) AS {last}",
            date(reference)
        )];
        let mut cols = vec![last.to_string()];
        for w in &windows {
            let c = Feature::Exists(event.clone(), *w).column();
            aggs.push(format!("bool_or({}) AS {c}", between("exam_date", days(w))));
            cols.push(c.clone());
            bool_cols.push(c);
        }
        parts.push(Part {
            name: stage.into(),
            sql: format!(
                "SELECT person_id,\n         {}\n  FROM {} GROUP BY person_id",
                aggs.join(",\n         "),
                table(tbl)
            ),
            columns: cols,
        });
    }

    // Latest questionnaire of the FY (Builder::latest_questionnaire).
    let items: Vec<String> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Questionnaire(n) => Some(format!("q{n:02}")),
            _ => None,
        })
        .collect();
    if !items.is_empty() {
        let (cte, part) = latest_in_fy(
            "questionnaire",
            &table_row("questionnaires"),
            ("answer_date", "questionnaire_date"),
            (&items, &items),
            (1..=15).map(|n| format!("q{n:02}")),
            days(&Window::FY),
        );
        ctes.push(cte);
        parts.push(part);
    }

    // Medical claims by kind (lines::claims).
    let claim_feats: Vec<(BTreeSet<ClaimKind>, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(Event::Claim(k), w) => Some((k.clone(), *w)),
            _ => None,
        })
        .collect();
    if !claim_feats.is_empty() {
        let mut aggs = Vec::new();
        let mut cols = Vec::new();
        let mut evidence_done = BTreeSet::new();
        for (kinds, w) in &claim_feats {
            let is_kind = kinds_in("claim_kind", kinds);
            let c = Feature::Exists(Event::Claim(kinds.clone()), *w).column();
            aggs.push(format!(
                "bool_or({is_kind} AND {}) AS {c}",
                between("service_month", months(w))
            ));
            cols.push(c.clone());
            bool_cols.push(c);
            let t = crate::features::kinds_tag(kinds);
            if evidence_done.insert(t.clone()) {
                aggs.push(format!(
                    "max(CASE WHEN {is_kind} THEN service_month END) AS last_{t}_month"
                ));
                cols.push(format!("last_{t}_month"));
            }
        }
        parts.push(Part {
            name: "ittai_f_claims".into(),
            sql: format!(
                "SELECT person_id,\n         {}\n  FROM {} WHERE service_month <= {} GROUP BY person_id",
                aggs.join(",\n         "),
                table("medical_claims"),
                date(ref_month)
            ),
            columns: cols,
        });
    }

    // Drugs (lines::drugs).
    struct DrugFeat {
        class: String,
        options: BTreeMap<String, bool>,
        kinds: Option<BTreeSet<ClaimKind>>,
        window: Window,
        prefixes: Vec<String>,
    }
    impl DrugFeat {
        /// The feature's column and its aggregate: a line of the class in the window.
        fn flag(&self, months: (NaiveDate, NaiveDate)) -> (String, String) {
            let c = Feature::Exists(
                Event::Drug {
                    class: self.class.clone(),
                    options: self.options.clone(),
                    kinds: self.kinds.clone(),
                },
                self.window,
            )
            .column();
            let agg = format!(
                "bool_or({} AND {}) AS {c}",
                starts_with_any("yj", &self.prefixes),
                between("service_month", months)
            );
            (c, agg)
        }
    }
    let mut drug_feats: Vec<DrugFeat> = Vec::new();
    for f in &features {
        if let Feature::Exists(
            Event::Drug {
                class,
                options,
                kinds,
            },
            w,
        ) = f
        {
            let def = spec
                .drug_classes
                .get(class)
                .ok_or_else(|| format!("unknown drug class {class}"))?;
            drug_feats.push(DrugFeat {
                class: class.clone(),
                options: options.clone(),
                kinds: kinds.clone(),
                window: *w,
                prefixes: def.prefixes(options),
            });
        }
    }
    let monthly: Vec<(BTreeSet<ittai_model::Route>, DrugUnit, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::MonthlyDrugs {
                routes,
                unit,
                window,
            } => Some((routes.clone(), *unit, *window)),
            _ => None,
        })
        .collect();
    if !drug_feats.is_empty() || !monthly.is_empty() {
        // Lines with a YJ code as they are; only those without one meet the master (the
        // second scan skips every row group whose statistics show no null YJ code).
        ctes.push((
            "ittai_drug_lines".into(),
            format!(
                "SELECT claim_id, person_id, service_month, route, drug_code, yj_code AS yj
  FROM {t} WHERE yj_code IS NOT NULL
  UNION ALL
  SELECT l.claim_id, l.person_id, l.service_month, l.route, l.drug_code, m.master_yj AS yj
  FROM {t} l LEFT JOIN ittai_drug_master m ON m.drug_code = l.drug_code
  WHERE l.yj_code IS NULL",
                t = table("claim_drugs")
            ),
        ));
    }
    if !drug_feats.is_empty() {
        // One pass over the lines of any claim kind: flags of the classes looked for on any
        // claim, and the evidence of every class (lines::drugs).
        let mut aggs = Vec::new();
        let mut cols = Vec::new();
        for f in drug_feats.iter().filter(|f| f.kinds.is_none()) {
            let (c, agg) = f.flag(months(&f.window));
            aggs.push(agg);
            cols.push(c.clone());
            bool_cols.push(c);
        }
        let mut evidence_done = BTreeSet::new();
        for f in &drug_feats {
            let t = crate::features::evidence_tag(&f.class, &f.options);
            if !evidence_done.insert(t.clone()) {
                continue;
            }
            let cond = format!(
                "{} AND service_month >= DATE '1970-01-01'",
                starts_with_any("yj", &f.prefixes)
            );
            aggs.push(format!(
                "max(CASE WHEN {cond} THEN CAST({} AS BIGINT) * 1000000000 + CAST(drug_code AS BIGINT) END) AS last_{t}_packed",
                d.epoch_days("service_month")
            ));
            aggs.push(format!(
                "max(CASE WHEN {cond} THEN service_month END) AS last_{t}_month"
            ));
            cols.push(format!("last_{t}_packed"));
            cols.push(format!("last_{t}_month"));
        }
        parts.push(Part {
            name: "ittai_f_drugs".into(),
            sql: format!(
                "SELECT person_id,\n         {}\n  FROM ittai_drug_lines WHERE service_month <= {} GROUP BY person_id",
                aggs.join(",\n         "),
                date(ref_month)
            ),
            columns: cols,
        });
        // Classes looked for on claims of some kinds: one pass per set of kinds over the
        // lines of those classes, less the lines of claims of other kinds
        // (the flags restricted to claim kinds in lines::drugs).
        let mut by_kinds: BTreeMap<BTreeSet<ClaimKind>, Vec<&DrugFeat>> = BTreeMap::new();
        for f in drug_feats.iter().filter(|f| f.kinds.is_some()) {
            by_kinds
                .entry(f.kinds.clone().expect("kinds"))
                .or_default()
                .push(f);
        }
        for (i, (kinds, feats)) in by_kinds.iter().enumerate() {
            let mut aggs = Vec::new();
            let mut cols = Vec::new();
            let mut prefixes = Vec::new();
            let mut first = ref_month;
            for f in feats {
                let (c, agg) = f.flag(months(&f.window));
                aggs.push(agg);
                cols.push(c.clone());
                bool_cols.push(c);
                prefixes.extend(f.prefixes.iter().cloned());
                first = first.min(months(&f.window).0);
            }
            parts.push(Part {
                name: format!("ittai_f_drugs_on_kinds_{i}"),
                sql: format!(
                    "SELECT person_id,\n         {aggs}\n  FROM ittai_drug_lines l
  ANTI JOIN (SELECT claim_id FROM {claims} c WHERE NOT {kind}) o ON o.claim_id = l.claim_id
  WHERE service_month BETWEEN {a} AND {b} AND {cls}
  GROUP BY person_id",
                    aggs = aggs.join(",\n         "),
                    a = date(first),
                    b = date(ref_month),
                    cls = starts_with_any("yj", &prefixes),
                    claims = table("medical_claims"),
                    kind = kinds_in("c.claim_kind", kinds),
                ),
                columns: cols,
            });
        }
    }
    // Monthly distinct drugs (lines::monthly_highest): the largest count in a month of the
    // window, and the earliest month with it.
    for (i, (routes, unit, w)) in monthly.iter().enumerate() {
        let c = Feature::MonthlyDrugs {
            routes: routes.clone(),
            unit: *unit,
            window: *w,
        }
        .column();
        let u = match unit {
            DrugUnit::Yj7 => "substr(yj, 1, 7)",
            DrugUnit::Yj => "yj",
            DrugUnit::DrugCode => "drug_code",
        };
        ctes.push((
            format!("ittai_monthly_{i}"),
            format!(
                "SELECT person_id, service_month, count(*) AS k,
         row_number() OVER (PARTITION BY person_id ORDER BY count(*) DESC, service_month ASC) AS rn
  FROM (SELECT DISTINCT person_id, service_month, {u} AS u FROM ittai_drug_lines
        WHERE {routes} AND {w} AND {u} IS NOT NULL) t
  GROUP BY person_id, service_month",
                routes = in_codes("route", routes.iter().map(|r| r.code())),
                w = between("service_month", months(w)),
            ),
        ));
        parts.push(Part {
            name: format!("ittai_f_monthly_{i}"),
            sql: format!(
                "SELECT person_id, CAST(k AS INT) AS {c}, service_month AS {c}_month FROM ittai_monthly_{i} WHERE rn = 1"
            ),
            columns: vec![c.clone(), format!("{c}_month")],
        });
    }

    // Diagnoses (lines::diagnoses).
    let dx_feats: Vec<(String, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(Event::Diagnosis(c), w) => Some((c.clone(), *w)),
            _ => None,
        })
        .collect();
    if !dx_feats.is_empty() {
        ctes.push((
            "ittai_diagnoses".into(),
            format!(
                "SELECT person_id, service_month, disease_code, icd10 AS icd
  FROM {t} WHERE icd10 IS NOT NULL AND NOT suspected AND service_month <= {m}
  UNION ALL
  SELECT x.person_id, x.service_month, x.disease_code, d.master_icd AS icd
  FROM {t} x LEFT JOIN ittai_disease_master d ON d.disease_code = x.disease_code
  WHERE x.icd10 IS NULL AND NOT x.suspected AND x.service_month <= {m}",
                t = table("claim_diagnoses"),
                m = date(ref_month)
            ),
        ));
        let mut aggs = Vec::new();
        let mut cols = Vec::new();
        let mut done = BTreeSet::new();
        for (class, w) in &dx_feats {
            let def = spec
                .disease_classes
                .get(class)
                .ok_or_else(|| format!("unknown disease class {class}"))?;
            let cond = starts_with_any("icd", &def.icd10);
            let c = Feature::Exists(Event::Diagnosis(class.clone()), *w).column();
            aggs.push(format!(
                "bool_or({cond} AND {}) AS {c}",
                between("service_month", months(w))
            ));
            cols.push(c.clone());
            bool_cols.push(c);
            if done.insert(class.clone()) {
                aggs.push(format!(
                    "max(CASE WHEN {cond} AND service_month >= DATE '1970-01-01' THEN CAST({} AS BIGINT) * 1000000000 + CAST(disease_code AS BIGINT) END) AS {class}_diagnosis_packed",
                    d.epoch_days("service_month")
                ));
                cols.push(format!("{class}_diagnosis_packed"));
            }
        }
        parts.push(Part {
            name: "ittai_f_diagnoses".into(),
            sql: format!(
                "SELECT person_id,\n         {}\n  FROM ittai_diagnoses GROUP BY person_id",
                aggs.join(",\n         ")
            ),
            columns: cols,
        });
    }

    // Certifications (Builder::certifications).
    let cert_feats: Vec<(BTreeSet<ittai_model::CareLevel>, Window)> = features
        .iter()
        .filter_map(|f| match f {
            Feature::Exists(Event::Certification(e), w) => Some((e.clone(), *w)),
            _ => None,
        })
        .collect();
    if !cert_feats.is_empty() {
        let mut aggs = Vec::new();
        let mut cols = Vec::new();
        for (excl, w) in &cert_feats {
            let (a, b) = days(w);
            let excluded = if excl.is_empty() {
                "FALSE".to_string()
            } else {
                let v: Vec<String> = excl.iter().map(|l| quote(l.code())).collect();
                format!("care_level_code IN ({})", v.join(", "))
            };
            let c = Feature::Exists(Event::Certification(excl.clone()), *w).column();
            aggs.push(format!(
                "bool_or(valid_from <= {} AND valid_to >= {} AND NOT ({excluded})) AS {c}",
                date(b),
                date(a)
            ));
            cols.push(c.clone());
            bool_cols.push(c);
        }
        parts.push(Part {
            name: "ittai_f_certifications".into(),
            sql: format!(
                "SELECT person_id,\n         {}\n  FROM {} WHERE decision_date <= {} GROUP BY person_id",
                aggs.join(",\n         "),
                table("certifications"),
                date(reference)
            ),
            columns: cols,
        });
    }

    // The feature view: the population left-joined with every part.
    let mut select = vec![
        "ittai_pop.person_id".to_string(),
        "ittai_pop.sex".into(),
        "ittai_pop.birth_date".into(),
        "ittai_pop.municipality_code".into(),
        "ittai_pop.insurer_number".into(),
        "ittai_pop.care_level".into(),
        "ittai_pop.age".into(),
        "ittai_pop.age_band".into(),
    ];
    let mut joins = String::new();
    for p in &parts {
        for c in &p.columns {
            if bool_cols.contains(c) {
                select.push(format!("coalesce({}.{c}, FALSE) AS {c}", p.name));
            } else {
                select.push(format!("{}.{c}", p.name));
            }
        }
        let _ = write!(
            joins,
            "\n  LEFT JOIN {n} ON {n}.person_id = ittai_pop.person_id",
            n = p.name
        );
    }
    // Every step is a temporary view of its own (`ittai_<step>`), so that a researcher can
    // query one, and so that Spark can match the cached flags when the attrition and list
    // queries read them (a plan with CTEs read twice gets new CTE ids at each analysis and
    // would not match its cached copy).
    for (name, sql) in ctes
        .into_iter()
        .chain(parts.iter().map(|p| (p.name.clone(), p.sql.clone())))
    {
        setup.push(Statement {
            comment: format!("{name}: {}", step_comment(&name)),
            sql: format!("CREATE OR REPLACE TEMPORARY VIEW {name} AS\n{sql}"),
        });
    }
    setup.push(Statement {
        comment: format!(
            "The person feature table: persons insured on {reference} (FY{}), one column per feature the rules use",
            frame.fy.0
        ),
        sql: format!(
            "CREATE OR REPLACE TEMPORARY VIEW ittai_features AS\nSELECT {}\n  FROM ittai_pop{joins}",
            select.join(",\n       ")
        ),
    });

    // Flags, attrition and lists (evaluate::evaluate).
    let ctx = TextContext {
        drug_classes: spec.drug_classes,
        disease_classes: spec.disease_classes,
        coverage_guard: true,
    };
    let mut flags: Vec<String> = Vec::new();
    let mut attrition = vec!["count(*) AS population".to_string()];
    let mut attrition_columns = Vec::new();
    for rule in spec.rules {
        let rctx = TextContext {
            coverage_guard: rule.coverage_guard,
            ..ctx
        };
        let text = describe(&rule.condition, &rctx);
        let st = steps(&rule.condition);
        let mut pass: Vec<String> = Vec::new();
        let mut step_cols = Vec::new();
        for (si, s) in st.iter().enumerate() {
            let strict = node_sql(s, rule.coverage_guard, true);
            let relaxed = node_sql(s, rule.coverage_guard, false);
            let before = if pass.is_empty() {
                "TRUE".to_string()
            } else {
                pass.join(" AND ")
            };
            let p_col = format!("{}_{}_persons", rule.id, si + 1);
            let i_col = format!("{}_{}_insufficient_coverage", rule.id, si + 1);
            pass.push(strict.clone());
            attrition.push(format!(
                "-- {} step {}: {}\n       sum(CASE WHEN {} THEN 1 ELSE 0 END) AS {p_col}",
                rule.id,
                si + 1,
                one_line(&describe(s, &rctx)),
                pass.join(" AND ")
            ));
            // A step without an absence condition under the coverage guard leaves nobody
            // out for coverage.
            if relaxed == strict {
                attrition.push(format!("CAST(0 AS BIGINT) AS {i_col}"));
            } else {
                attrition.push(format!(
                    "sum(CASE WHEN {before} AND {relaxed} AND NOT {strict} THEN 1 ELSE 0 END) AS {i_col}"
                ));
            }
            step_cols.push((p_col, i_col));
        }
        let flag = if pass.is_empty() {
            "TRUE".to_string()
        } else {
            pass.join("\n           AND ")
        };
        flags.push(format!(
            "-- {} {}: {}\n         {flag} AS {}",
            rule.id,
            rule.name_ja,
            one_line(&text),
            flag_column(rule)
        ));
        attrition_columns.push((rule.id.clone(), step_cols));
    }
    let n_rules = if spec.rules.is_empty() {
        "0".to_string()
    } else {
        spec.rules
            .iter()
            .map(|r| format!("CASE WHEN {} THEN 1 ELSE 0 END", flag_column(r)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    setup.push(Statement {
        comment: "Each rule's flag (its condition with the coverage guard) and the number of rules met".into(),
        sql: d.materialise(
            "ittai_flags",
            &format!(
                "SELECT *, CAST({n_rules} AS INT) AS n_rules FROM (\n  SELECT *{sep}{flags}\n  FROM ittai_features\n) x",
                sep = if flags.is_empty() { "" } else { ",\n         " },
                flags = flags.join(",\n         "),
            ),
        ),
    });
    let attrition = Statement {
        comment: "Attrition: the insured on the reference date, then the persons left after each step (and those left out only by the coverage guard)".into(),
        sql: format!(
            "SELECT {}\n  FROM ittai_flags",
            attrition.join(",\n       ")
        ),
    };
    let listed = Statement {
        comment: "The persons on at least one list, with every feature and flag".into(),
        sql: "SELECT * FROM ittai_flags WHERE n_rules > 0 ORDER BY person_id".into(),
    };
    let columns = output_columns(&parts, spec.rules);
    Ok(Script {
        dialect: d,
        setup,
        attrition,
        listed,
        columns,
        attrition_columns,
        features,
    })
}

/// The latest record of the FY per person (the native "latest" of docs/reference/time.md:
/// latest date, then most non-null values among `counted`, then last in file order), as a
/// ranking view `ittai_<what>_ranked` and the part `ittai_f_<what>` with `date_alias` and the `values`
/// (select expressions, with their output `names`).
fn latest_in_fy(
    what: &str,
    from: &str,
    (date_col, date_alias): (&str, &str),
    (values, names): (&[String], &[String]),
    counted: impl Iterator<Item = String>,
    window: (NaiveDate, NaiveDate),
) -> ((String, String), Part) {
    let nn: Vec<String> = counted
        .map(|c| format!("CASE WHEN {c} IS NULL THEN 0 ELSE 1 END"))
        .collect();
    let ranked = format!("ittai_{what}_ranked");
    let cte = (
        ranked.clone(),
        format!(
            "SELECT person_id, {date_col} AS {date_alias}, {values},
         row_number() OVER (PARTITION BY person_id ORDER BY {date_col} DESC, ({nn}) DESC, _row DESC) AS rn
  FROM {from}
  WHERE {w}",
            values = values.join(", "),
            nn = nn.join(" + "),
            w = between(date_col, window)
        ),
    );
    let mut columns = vec![date_alias.to_string()];
    columns.extend(names.iter().cloned());
    let part = Part {
        name: format!("ittai_f_{what}"),
        sql: format!(
            "SELECT person_id, {} FROM {ranked} WHERE rn = 1",
            columns.join(", ")
        ),
        columns,
    };
    (cte, part)
}

/// What a step view holds, for its comment.
fn step_comment(name: &str) -> &'static str {
    let n = name.trim_start_matches("ittai_");
    match n {
        "covering" => {
            "persons' coverage spells that cover the reference date (the latest per person)"
        }
        "care" => "the care level certified on the reference date (the latest decision)",
        "pop0" | "pop" => {
            "the population: persons insured on the reference date, with age and age band"
        }
        "spells" | "spells_ordered" | "spells_numbered" | "islands" => {
            "coverage spells joined where one ends the day the next starts (for the coverage guard)"
        }
        "checkup_ranked" | "questionnaire_ranked" => {
            "records of the FY ranked per person: latest date, most non-null values, last in file order"
        }
        "drug_lines" => "drug lines with their YJ code (the drug master's when the line has none)",
        "diagnoses" => {
            "non-suspected diagnoses up to the reference month with their ICD-10 code (the master's when missing)"
        }
        _ if n.starts_with("monthly_") => "distinct drugs per person and month of the window",
        _ if n.starts_with("f_") => "feature columns, one row per person",
        _ => "a step of the feature table",
    }
}

/// Text on one line (for `--` comments).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The columns of `ittai_flags` with the types of the native feature table.
fn output_columns(parts: &[Part], rules: &[Rule]) -> Vec<(String, DataType)> {
    let dtype_of_dataset = |table: &ittai_dataset::TableSpec, c: &str| -> DataType {
        table
            .columns
            .iter()
            .find(|x| x.name == c)
            .map(|x| match x.ty {
                ittai_dataset::ColType::Str => DataType::String,
                ittai_dataset::ColType::U8 => DataType::UInt8,
                ittai_dataset::ColType::I32 => DataType::Int32,
                ittai_dataset::ColType::I64 => DataType::Int64,
                ittai_dataset::ColType::F64 => DataType::Float64,
                ittai_dataset::ColType::Bool => DataType::Boolean,
                ittai_dataset::ColType::Date => DataType::Date,
            })
            .unwrap_or(DataType::String)
    };
    let mut out: Vec<(String, DataType)> = vec![
        ("person_id".into(), DataType::String),
        ("sex".into(), DataType::UInt8),
        ("birth_date".into(), DataType::Date),
        ("municipality_code".into(), DataType::String),
        ("insurer_number".into(), DataType::String),
        ("care_level".into(), DataType::String),
        ("age".into(), DataType::Int32),
        ("age_band".into(), DataType::String),
    ];
    for p in parts {
        for c in &p.columns {
            let t = if c.ends_with("_packed") {
                DataType::UInt64
            } else if c.ends_with("_date") || c.ends_with("_month") {
                DataType::Date
            } else if c.starts_with("has_") || c.starts_with("covered_") {
                DataType::Boolean
            } else if c.starts_with("max_monthly_drugs") {
                DataType::Int32
            } else if p.name == "ittai_f_questionnaire" {
                dtype_of_dataset(
                    ittai_dataset::table_spec("questionnaires").expect("table"),
                    c,
                )
            } else {
                dtype_of_dataset(ittai_dataset::table_spec("checkups").expect("table"), c)
            };
            out.push((c.clone(), t));
        }
    }
    for r in rules {
        out.push((flag_column(r), DataType::Boolean));
    }
    out.push(("n_rules".into(), DataType::UInt32));
    out
}

/// A column of a result that came back from a SQL engine, in the few value types the
/// scripts produce (engines differ in integer widths; [`to_run_result`] casts each column
/// to the native type).
#[derive(Debug, Clone)]
pub enum SqlColumn {
    /// Strings.
    Str(Vec<Option<String>>),
    /// Integers of any width.
    Int(Vec<Option<i64>>),
    /// Floats.
    Float(Vec<Option<f64>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Dates as days since 1970-01-01.
    Date(Vec<Option<i32>>),
}

impl SqlColumn {
    fn series(&self, name: &str) -> PolarsResult<Series> {
        let n: PlSmallStr = name.into();
        Ok(match self {
            SqlColumn::Str(v) => Series::new(n, v.clone()),
            SqlColumn::Int(v) => Series::new(n, v.clone()),
            SqlColumn::Float(v) => Series::new(n, v.clone()),
            SqlColumn::Bool(v) => Series::new(n, v.clone()),
            SqlColumn::Date(v) => Series::new(n, v.clone()).cast(&DataType::Date)?,
        })
    }

    /// The integer value of a one-row column (attrition counts).
    fn first_int(&self) -> Option<i64> {
        match self {
            SqlColumn::Int(v) => v.first().copied().flatten(),
            SqlColumn::Float(v) => v.first().copied().flatten().map(|x| x as i64),
            _ => None,
        }
    }
}

/// A result table from a SQL engine: named columns of equal length.
pub type SqlTable = Vec<(String, SqlColumn)>;

/// Turns the results of a script run elsewhere (the attrition row and the listed persons)
/// into the [`crate::RunResult`] of a native run: the listed persons' feature rows with
/// native column types and name evidence (drug and disease names from the masters, as
/// the native engine adds them), each rule's attrition and text.
///
/// The table holds only listed persons (the engine keeps the rest); `population` comes
/// from the attrition row.
///
/// # Errors
/// A missing or mistyped column, polars errors.
pub fn to_run_result(
    script: &Script,
    spec: &SqlSpec<'_>,
    sources: &crate::Sources,
    attrition: &SqlTable,
    listed: &SqlTable,
) -> PolarsResult<crate::RunResult> {
    let get = |name: &str| -> PolarsResult<i64> {
        attrition
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, c)| c.first_int())
            .ok_or_else(|| polars_err!(ComputeError: "the attrition row has no {name}"))
    };
    let population = get("population")? as u64;
    let mut cols = Vec::new();
    for (name, dtype) in &script.columns {
        let found = listed
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| polars_err!(ComputeError: "the list query returned no column {name}"))?;
        let s = found.1.series(name)?;
        let s = if s.dtype() == dtype {
            s
        } else {
            s.strict_cast(dtype)?
        };
        cols.push(s.into());
    }
    let table = DataFrame::new_infer_height(cols)?;
    let table = crate::features::add_name_evidence(sources, table, &script.features)?;
    let ctx = TextContext {
        drug_classes: spec.drug_classes,
        disease_classes: spec.disease_classes,
        coverage_guard: true,
    };
    let mut results = Vec::new();
    for (rule, (_, step_cols)) in spec.rules.iter().zip(&script.attrition_columns) {
        let rctx = TextContext {
            coverage_guard: rule.coverage_guard,
            ..ctx
        };
        let mut attrition = vec![AttritionStep {
            step: 0,
            condition_ja: "基準日の被保険者".to_string(),
            persons: population,
            insufficient_coverage: 0,
        }];
        for (si, (s, (p, i))) in steps(&rule.condition).iter().zip(step_cols).enumerate() {
            attrition.push(AttritionStep {
                step: si + 1,
                condition_ja: describe(s, &rctx),
                persons: get(p)? as u64,
                insufficient_coverage: get(i)? as u64,
            });
        }
        let listed = attrition.last().map(|s| s.persons).unwrap_or(0);
        results.push(RuleResult {
            rule: rule.clone(),
            text_ja: describe(&rule.condition, &rctx),
            attrition,
            listed,
            evidence: evidence_in_order(&rule.condition),
        });
    }
    Ok(crate::RunResult {
        frame: spec.frame,
        table,
        results,
        population,
        timings: Vec::new(),
    })
}

/// Writes the master lookups the scripts read as `DIR/drug_master.parquet` (`drug_code`,
/// `master_yj`) and `DIR/disease_master.parquet` (`disease_code`, `master_icd`), for
/// [`Masters::Parquet`]. Public reference data, written readable by all.
///
/// # Errors
/// I/O and polars errors.
pub fn write_masters(sources: &crate::Sources, dir: &std::path::Path) -> PolarsResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| polars_err!(ComputeError: "{}: {e}", dir.display()))?;
    let vis = ittai_dataset::atomic::Visibility::Shared;
    let mut drugs = sources.drug_master_yj().collect()?;
    crate::write_parquet(&mut drugs, &dir.join("drug_master.parquet"), vis)?;
    let mut diseases = sources.disease_master_icd().collect()?;
    crate::write_parquet(&mut diseases, &dir.join("disease_master.parquet"), vis)?;
    Ok(())
}

/// The FY of the latest `service_month` in `DIR/medical_claims.parquet` (the default
/// extraction FY of `ittai sql` for a local dataset); `None` without claims.
///
/// # Errors
/// A missing or unreadable file.
pub fn latest_claim_fy(dir: &std::path::Path) -> PolarsResult<Option<ittai_model::FiscalYear>> {
    let p = dir.join("medical_claims.parquet");
    let df = LazyFrame::scan_parquet(
        PlRefPath::new(p.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )?
    .select([col("service_month").max()])
    .collect()?;
    let days = df.column("service_month")?.cast(&DataType::Int32)?;
    Ok(days
        .i32()?
        .get(0)
        .map(|d| ittai_model::FiscalYear::of(ittai_dataset::days_to_date(d))))
}

/// The master lookups as rows, for engines that receive them as data (Spark):
/// (`drug_code`, `master_yj`) and (`disease_code`, `master_icd`) pairs, codes without a YJ or
/// ICD-10 code left out.
///
/// # Errors
/// Polars errors.
#[allow(clippy::type_complexity)]
pub fn master_rows(
    sources: &crate::Sources,
) -> PolarsResult<(Vec<(String, String)>, Vec<(String, String)>)> {
    let pairs = |lf: LazyFrame, a: &str, b: &str| -> PolarsResult<Vec<(String, String)>> {
        let df = lf.collect()?;
        let x = df.column(a)?.str()?.clone();
        let y = df.column(b)?.str()?.clone();
        Ok(x.iter()
            .zip(y.iter())
            .filter_map(|(p, q)| Some((p?.to_string(), q?.to_string())))
            .collect())
    };
    Ok((
        pairs(sources.drug_master_yj(), "drug_code", "master_yj")?,
        pairs(sources.disease_master_icd(), "disease_code", "master_icd")?,
    ))
}
