//! `ittai sql`: the rules as SQL for Apache Spark or DuckDB, generated from the rule files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::sql::{Dialect, Masters, SqlSpec, render, write_masters};
use ittai_engine::{Frame, Sources};
use ittai_model::FiscalYear;
use ittai_model::classes::{
    DiseaseClass, DrugClass, default_disease_classes, default_drug_classes,
};

use crate::cmd_run::parse_set;

/// Print the SQL that builds the person feature table, each rule's flag, the attrition and
/// the lists, for Apache Spark or DuckDB.
///
/// The SQL is generated from the same rule files (and drug / disease class files) as the
/// native engine, so a changed threshold or window changes it with no code change; each
/// rule's text is written beside its flag as a comment. It reads the canonical tables as
/// `<DATA>/<table>.parquet` and two master lookups, the views `ittai_drug_master` and
/// `ittai_disease_master` (create them yourself, or give --masters DIR to write them as
/// Parquet and have the script read them). See docs/SCALE.md for the statements, the SQL
/// they rely on, and how they run on a cluster.
///
/// Examples:
///   ittai sql --dialect spark --data s3a://bucket/union --fy 2024 > rules.sql
///   ittai sql --dialect duckdb --data sample_data --masters /tmp/masters
///   ittai sql --only R04 --set R04.include_etizolam=true
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// SQL dialect: spark (Spark SQL 3.5+) or duckdb.
    #[arg(long, value_name = "NAME", default_value = "spark")]
    dialect: String,
    /// Where the engine reads the dataset: a directory or URI holding `<table>.parquet`
    /// (a local path, s3a://…, hdfs://…, abfss://…). Default: sample_data.
    #[arg(long, value_name = "URI")]
    data: Option<String>,
    /// Extraction fiscal year (年度). Default for a local --data: the latest year with
    /// medical claims; required for a remote URI.
    #[arg(long, value_name = "YEAR")]
    fy: Option<i32>,
    /// Reference date (基準日). Default: the last day of the fiscal year (3/31).
    #[arg(long, value_name = "YYYY-MM-DD")]
    reference_date: Option<NaiveDate>,
    /// Directory of rule files (*.toml) to use instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Only these rules, e.g. --only R04.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    only: Vec<String>,
    /// Change a rule parameter, e.g. --set R03.threshold=20 (repeatable).
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    set: Vec<String>,
    /// Write the drug and disease master lookups as Parquet to this local directory and
    /// have the script read them from there (by default it expects the views
    /// ittai_drug_master and ittai_disease_master to exist).
    #[arg(long, value_name = "DIR")]
    masters: Option<PathBuf>,
    /// Print the statements as JSON for programs: {"dialect", "fy", "reference_date",
    /// "setup": [{"comment", "sql"}…], "attrition": {…}, "listed": {…},
    /// "attrition_columns": {"R01": [["R01_1_persons", "R01_1_insufficient_coverage"], …]}}.
    #[arg(long)]
    json: bool,
}

/// The rules as loaded for `--rules`, `--only` and `--set`, with the built-in drug and
/// disease classes they refer to.
///
/// # Errors
/// Bad rule files or parameters.
#[allow(clippy::type_complexity)]
pub(crate) fn load_rules_and_classes(
    dir: Option<PathBuf>,
    only: &[String],
    set: &[String],
) -> anyhow::Result<(
    Vec<ittai_engine::rules::Rule>,
    BTreeMap<String, DrugClass>,
    BTreeMap<String, DiseaseClass>,
)> {
    let drug_classes = default_drug_classes();
    let disease_classes = default_disease_classes();
    let rules = load_rules(
        &LoadOptions {
            dir,
            only: only.to_vec(),
            set: parse_set(set)?,
        },
        &drug_classes,
        &disease_classes,
    )?;
    Ok((rules, drug_classes, disease_classes))
}

/// Runs `ittai sql`.
///
/// # Errors
/// Bad rule files or parameters, an unknown dialect, no FY for a remote URI.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let dialect: Dialect = a.dialect.parse().map_err(anyhow::Error::msg)?;
    let (rules, drug_classes, disease_classes) =
        load_rules_and_classes(a.rules.clone(), &a.only, &a.set)?;
    let data = match &a.data {
        Some(d) => d.clone(),
        None => crate::sample::default_data_dir()?.display().to_string(),
    };
    let fy = match a.fy {
        Some(y) => FiscalYear(y),
        None => {
            let local = std::path::Path::new(&data);
            anyhow::ensure!(
                local.is_dir(),
                "give --fy: {data} is not a local directory, so its latest claim year cannot be read here"
            );
            ittai_engine::sql::latest_claim_fy(local)?
                .with_context(|| format!("{data} has no medical claims; give --fy"))?
        }
    };
    let reference = crate::cmd_run::reference_date(fy, a.reference_date)?;
    let masters = match &a.masters {
        Some(dir) => {
            let (drugs, diseases) = ittai_dataset::masters::MasterChoice::default().load()?;
            let sources = Sources::masters_only(&drugs, &diseases)?;
            write_masters(&sources, dir)?;
            let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            Masters::Parquet(abs.display().to_string())
        }
        None => Masters::Views,
    };
    let spec = SqlSpec {
        frame: Frame { fy, reference },
        rules: &rules,
        drug_classes: &drug_classes,
        disease_classes: &disease_classes,
        dialect,
        data: &data,
    };
    let script = render(&spec, &masters).map_err(anyhow::Error::msg)?;
    let header = format!(
        "ittai {} — the extraction rules as {} SQL, generated from the rule files; do not edit.\n\
         FY{} (基準日 {reference}); rules: {}.\n\
         Command: {}",
        env!("CARGO_PKG_VERSION"),
        dialect.name(),
        fy.0,
        rules
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    if a.json {
        let st = |s: &ittai_engine::sql::Statement| serde_json::json!({ "comment": s.comment, "sql": s.sql });
        let doc = serde_json::json!({
            "dialect": dialect.name(),
            "fy": fy.0,
            "reference_date": reference.to_string(),
            "header": header,
            "setup": script.setup.iter().map(st).collect::<Vec<_>>(),
            "attrition": st(&script.attrition),
            "listed": st(&script.listed),
            "attrition_columns": script
                .attrition_columns
                .iter()
                .map(|(id, cols)| (id.clone(), serde_json::json!(cols)))
                .collect::<serde_json::Map<String, serde_json::Value>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", script.text(&header));
    }
    Ok(ExitCode::SUCCESS)
}
