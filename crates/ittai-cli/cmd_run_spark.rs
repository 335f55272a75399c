//! `ittai run --engine spark`: the rules on an Apache Spark cluster through Spark Connect.
//!
//! The SQL is that of `ittai sql --dialect spark` ([`ittai_engine::sql`]); the data stays
//! where the cluster reads it (`--data` is a path or URI of the cluster), only the
//! attrition row and the listed persons come back, and the lists are written by the same
//! code as a native run ([`crate::cmd_run::write_lists`]), so their files are the same.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_engine::sql::{Dialect, Masters, SqlSpec, master_rows, render, to_run_result};
use ittai_engine::{Frame, Sources};
use ittai_model::FiscalYear;
use ittai_spark::Lookup;

use crate::cmd_check_output::{self, OutputFile};
use crate::cmd_run::{
    Args, Formats, ManifestRule, print_summary, record_outputs, reference_date, write_lists,
};
use crate::cmd_sql::load_rules_and_classes;
use crate::ui;

/// `manifest.json` of a Spark run: what was run where, with which rules, and what came out.
#[derive(Debug, serde::Serialize)]
struct SparkManifest {
    command: Vec<String>,
    data: String,
    encoding: String,
    engine: &'static str,
    formats: Vec<String>,
    fy: i32,
    outputs: Vec<OutputFile>,
    population: u64,
    reference_date: String,
    rules: Vec<ManifestRule>,
    spark_remote: String,
    spark_version: String,
    timings_seconds: BTreeMap<String, f64>,
    tool: &'static str,
    validation: &'static str,
    version: &'static str,
}

/// Runs the rules on Spark and writes the lists, attrition, the SQL and the manifest.
///
/// # Errors
/// Options that need the native engine, no --fy or --spark-remote, bad rules, Spark
/// errors (with the server's message), write errors.
pub fn run(a: &Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let remote = a
        .spark_remote
        .clone()
        .context("--engine spark needs --spark-remote sc://HOST:PORT (a Spark Connect server)")?;
    if a.register.is_some() {
        bail!(
            "--register works with the native engine only: run the lists natively, or name the Spark lists with a native run of the same rules"
        );
    }
    let fy = FiscalYear(a.fy.context(
        "--engine spark needs --fy (the latest claim year of data on the cluster is not read here)",
    )?);
    let reference = reference_date(fy, a.reference_date)?;
    let formats = Formats::parse(&a.format)?;
    let encoding = ui::csv_encoding(&a.encoding)?;
    let data = match &a.data {
        Some(d) => {
            let s = d.display().to_string();
            // A local directory is given to Spark as an absolute path (the server may run
            // in another working directory).
            if d.is_dir() {
                std::fs::canonicalize(d)?.display().to_string()
            } else {
                s
            }
        }
        None => std::fs::canonicalize(crate::sample::default_data_dir()?)?
            .display()
            .to_string(),
    };
    let (rules, drug_classes, disease_classes) =
        load_rules_and_classes(a.rules.clone(), &a.only, &a.set)?;
    let spec = SqlSpec {
        frame: Frame { fy, reference },
        rules: &rules,
        drug_classes: &drug_classes,
        disease_classes: &disease_classes,
        dialect: Dialect::Spark,
        data: &data,
    };
    let script = render(&spec, &Masters::Views).map_err(anyhow::Error::msg)?;
    let (drugs, diseases) = ittai_dataset::masters::MasterChoice::default().load()?;
    let sources = Sources::masters_only(&drugs, &diseases)?;
    let (drug_rows, disease_rows) = master_rows(&sources)?;
    let lookups = [
        Lookup {
            view: "ittai_drug_master".into(),
            columns: ["drug_code".into(), "master_yj".into()],
            rows: drug_rows,
        },
        Lookup {
            view: "ittai_disease_master".into(),
            columns: ["disease_code".into(), "master_icd".into()],
            rows: disease_rows,
        },
    ];
    eprintln!(
        "ittai run --engine spark: {data} on {remote} — FY{} (基準日 {reference}), {} rule(s)",
        fy.0,
        rules.len()
    );
    if !a.no_indicators || !a.no_evaluation {
        eprintln!(
            "note: indicators and the programme evaluation are computed by the native engine only; this run writes the lists and attrition"
        );
    }
    let pb = ui::spinner("applying the rules on Spark");
    let spark = ittai_spark::run_script(&remote, &script, &lookups)?;
    pb.finish_and_clear();
    let mut result = to_run_result(&script, &spec, &sources, &spark.attrition, &spark.listed)?;
    result.timings = spark.timings.clone();

    let previous = cmd_check_output::previous_outputs(&a.out);
    ittai_dataset::atomic::sweep_temp_files(&a.out)
        .with_context(|| format!("removing temporary files in {}", a.out.display()))?;
    let t = Instant::now();
    let (mut outputs, _) = write_lists(&a.out, formats, encoding, &result, None)?;
    // The SQL that ran, for the record (no personal data: rules, dates and the data URI).
    let sql_path = a.out.join("spark.sql");
    let header = format!(
        "ittai {} — executed by `ittai run --engine spark` on Spark {} ({remote})",
        env!("CARGO_PKG_VERSION"),
        spark.version
    );
    write_atomic(
        &sql_path,
        script.text(&header).as_bytes(),
        Visibility::Shared,
    )?;
    outputs.push(sql_path);
    let mut timings = result.timings.clone();
    timings.push(("write".into(), t.elapsed().as_secs_f64()));
    let recorded = record_outputs(&a.out, &previous, &outputs)?;
    timings.push(("total".into(), started.elapsed().as_secs_f64()));
    let manifest = SparkManifest {
        command: std::env::args().collect(),
        data: data.clone(),
        encoding: a.encoding.clone(),
        engine: "spark",
        formats: a.format.clone(),
        fy: fy.0,
        outputs: recorded,
        population: result.population,
        reference_date: reference.to_string(),
        rules: ManifestRule::all(&rules, &result.results),
        spark_remote: remote.clone(),
        spark_version: spark.version.clone(),
        timings_seconds: timings.iter().cloned().collect(),
        tool: "ittai",
        validation: "not run here: the data is read by the cluster (validate it with `ittai validate` where it is written)",
        version: env!("CARGO_PKG_VERSION"),
    };
    let mp = a.out.join("manifest.json");
    write_atomic(
        &mp,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
        Visibility::Private,
    )?;
    print_summary(&result.results, result.population);
    eprintln!(
        "\nwrote {} files to {} in {:.1} s on Spark {} (target lists are readable by you only). Manifest: {}",
        outputs.len() + 1,
        a.out.display(),
        started.elapsed().as_secs_f64(),
        spark.version,
        mp.display()
    );
    Ok(ExitCode::SUCCESS)
}
