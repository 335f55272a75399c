//! Getting a dataset ready for the engine: validate it against the contract, write the
//! rejects, and stage a clean Parquet copy when the input is CSV or had bad rows.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use ittai_io::atomic::Visibility;
use ittai_io::dataset::validate::{Discard, ParquetDirSink, ValidationReport};
use ittai_io::dataset::{ValidateOptions, validate_dataset};
use ittai_io::rejects::RejectSink;

use crate::ui;

/// A dataset the engine can read.
pub struct Prepared {
    /// Directory of clean Parquet tables.
    pub dir: PathBuf,
    /// The validation report of the input.
    pub report: ValidationReport,
    /// Rejects file (empty when the input was clean).
    pub rejects: PathBuf,
    /// Whether a staged copy is used.
    pub staged: bool,
}

/// Validates `data`; writes `<out>/rejects.csv`; stages into `<out>/.staging` if needed.
pub fn prepare(data: &Path, out: &Path, as_of: NaiveDate) -> anyhow::Result<Prepared> {
    anyhow::ensure!(
        data.is_dir(),
        "{} is not a dataset directory",
        data.display()
    );
    let rejects_path = out.join("rejects.csv");
    let mut rejects = RejectSink::to_file(&rejects_path, 10)
        .with_context(|| format!("creating {}", rejects_path.display()))?;
    let pb = ui::spinner("validating input");
    let opts = ValidateOptions { as_of };
    let mut progress =
        |t: &str, n: u64| pb.set_message(format!("validating {t}: {} rows", ui::thousands(n)));
    let report = validate_dataset(data, &opts, &mut rejects, &mut Discard, &mut progress)
        .map_err(anyhow::Error::msg)?;
    pb.finish_and_clear();
    let first: Vec<String> = rejects.first().iter().map(|v| v.to_string()).collect();
    rejects.finish()?;
    if report.has_file_errors() {
        let msgs: Vec<String> = report
            .tables
            .iter()
            .filter_map(|t| t.file_error.clone())
            .collect();
        bail!(
            "the dataset in {} cannot be used:\n  {}\n(run `ittai validate {}` for details)",
            data.display(),
            msgs.join("\n  "),
            data.display()
        );
    }
    if report.is_clean() && report.all_parquet {
        return Ok(Prepared {
            dir: data.to_path_buf(),
            report,
            rejects: rejects_path,
            staged: false,
        });
    }
    if !report.is_clean() {
        eprintln!(
            "warning: {} problem(s) in the input; bad rows are left out and listed in {}",
            ui::thousands(report.violations()),
            rejects_path.display()
        );
        for f in first.iter().take(5) {
            eprintln!("  {f}");
        }
    }
    let staging = out.join(".staging");
    let pb = ui::spinner("staging clean Parquet");
    let mut sink = ParquetDirSink::new(&staging, Visibility::Private);
    let mut quiet = RejectSink::counting(0);
    let mut progress =
        |t: &str, n: u64| pb.set_message(format!("staging {t}: {} rows", ui::thousands(n)));
    validate_dataset(data, &opts, &mut quiet, &mut sink, &mut progress)
        .map_err(anyhow::Error::msg)?;
    pb.finish_and_clear();
    Ok(Prepared {
        dir: staging,
        report,
        rejects: rejects_path,
        staged: true,
    })
}
