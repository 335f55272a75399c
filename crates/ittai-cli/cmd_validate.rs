//! `ittai validate`: check a dataset against the contract.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use ittai_dataset::rejects::RejectSink;
use ittai_dataset::{Discard, ParquetDirSink, ValidationReport};
use ittai_dataset::{ValidateOptions, validate_dataset};

use crate::ui;

/// Check a dataset directory against the canonical-dataset contract.
///
/// Reads the nine tables and, when present, the optional support records `interventions`
/// (`<table>.parquet` or `<table>.csv`), checks columns, types, codes, plausible values
/// and dates, unique claim ids, claim lines against their claims, persons known, coverage
/// spells, and support contacts recorded once. Prints a summary per table and writes
/// every bad row (with file, line and reason) to a rejects CSV. Exit status 0 when the
/// contract holds, 1 when it is broken.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory.
    dir: PathBuf,
    /// Where to write the rejects (UTF-8 CSV with BOM, owner-readable only).
    #[arg(long, value_name = "FILE", default_value = "out/validate/rejects.csv")]
    rejects: PathBuf,
    /// Also write the clean rows as Parquet into this directory.
    #[arg(long, value_name = "DIR")]
    clean_out: Option<PathBuf>,
    /// The data end: dates after it are implausible (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<NaiveDate>,
    /// How many violations to list on the terminal.
    #[arg(long, default_value_t = 20)]
    show: usize,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(a.dir.is_dir(), "{} is not a directory", a.dir.display());
    // Validation only: huge pages help its look-ups (see `crate::huge_pages`).
    crate::huge_pages(true);
    let as_of = a.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut rejects = RejectSink::to_file(&a.rejects, a.show)
        .with_context(|| format!("creating {}", a.rejects.display()))?;
    let pb = ui::spinner("validating");
    let mut progress =
        |table: &str, rows: u64| pb.set_message(format!("{table}: {} rows", ui::thousands(rows)));
    let report = match &a.clean_out {
        Some(dir) => {
            let mut sink = ParquetDirSink::new(dir, ittai_dataset::atomic::Visibility::Private);
            validate_dataset(
                &a.dir,
                &ValidateOptions {
                    as_of,
                    claim_rows: None,
                },
                &mut rejects,
                &mut sink,
                &mut progress,
            )
        }
        None => validate_dataset(
            &a.dir,
            &ValidateOptions {
                as_of,
                claim_rows: None,
            },
            &mut rejects,
            &mut Discard,
            &mut progress,
        ),
    }
    .map_err(anyhow::Error::msg)?;
    pb.finish_and_clear();
    print_report(&report, &rejects);
    let path = rejects.finish()?;
    if report.is_clean() {
        println!("\nOK: the dataset meets the contract.");
        Ok(ExitCode::SUCCESS)
    } else {
        if let Some(p) = path {
            println!(
                "\nrejects: {} (one line per problem, with the record)",
                p.display()
            );
        }
        println!(
            "BROKEN: {} problem(s); see above.",
            ui::thousands(report.violations())
        );
        Ok(ExitCode::from(1))
    }
}

fn print_report(r: &ValidationReport, rejects: &RejectSink) {
    println!(
        "dataset {} (dates checked up to {})\n",
        r.dir.display(),
        r.as_of
    );
    println!(
        "{:<16} {:>12} {:>12} {:>9} {:>7} {:>9}  {:<10}  {:<10} {:>8}",
        "table", "rows", "clean", "rejected", "nulled", "persons", "from", "to", "seconds"
    );
    let d = |x: Option<NaiveDate>| x.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    for t in &r.tables {
        println!(
            "{:<16} {:>12} {:>12} {:>9} {:>7} {:>9}  {:<10}  {:<10} {:>8.1}",
            t.table,
            ui::thousands(t.rows_read),
            ui::thousands(t.rows_clean),
            ui::thousands(t.rows_rejected),
            ui::thousands(t.values_nulled),
            ui::thousands(t.persons),
            d(t.date_min),
            d(t.date_max),
            t.seconds
        );
    }
    println!("\nnulls per column (clean rows):");
    for t in &r.tables {
        let cols: Vec<String> = t
            .nulls
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| {
                format!(
                    "{c} {} ({:.0}%)",
                    ui::thousands(*n),
                    100.0 * *n as f64 / t.rows_clean.max(1) as f64
                )
            })
            .collect();
        if !cols.is_empty() {
            println!("  {:<16} {}", t.table, cols.join(", "));
        }
    }
    let absent: Vec<String> = r
        .tables
        .iter()
        .flat_map(|t| {
            t.absent_columns
                .iter()
                .map(move |c| format!("{}.{c}", t.table))
        })
        .collect();
    if !absent.is_empty() {
        println!(
            "\ncolumns added to the contract later, not in the files (read as empty): {}",
            absent.join(", ")
        );
    }
    if !r.tables.iter().any(|t| t.table == "interventions") {
        println!(
            "\ninterventions: no file (support records are optional; programme evaluation needs them)"
        );
    }
    let any = r.tables.iter().any(|t| !t.violations.is_empty());
    if any {
        println!("\nviolations by kind:");
        for t in &r.tables {
            for (k, n) in &t.violations {
                println!(
                    "  {:<16} {:<22} {:>10}",
                    t.table,
                    k.name(),
                    ui::thousands(*n)
                );
            }
        }
        println!("\nfirst problems:");
        for v in rejects.first() {
            println!("  {v}");
        }
    }
}
