//! Getting a dataset ready for the engine: validate it against the contract, write the
//! rejects, and stage a clean Parquet copy when the input is CSV or had bad rows.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::NaiveDate;
use ittai_io::atomic::Visibility;
use ittai_io::dataset::validate::{Discard, ParquetDirSink, ValidationReport};
use ittai_io::dataset::{ValidateOptions, stamp, validate_dataset};
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
    /// SHA-256 of the input files.
    pub hashes: ittai_io::dataset::stamp::InputHashes,
    /// How validation was done ("full", or "stamp" when an earlier clean validation of the
    /// same bytes was reused).
    pub validation: &'static str,
}

/// The user's cache folder for ittai (`$XDG_CACHE_HOME/ittai`, else `~/.cache/ittai`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("ittai")
}

/// Validates `data` (or reuses the stamp of an earlier clean validation of the same
/// bytes unless `revalidate`); writes `<out>/rejects.csv`; stages into `<out>/.staging`
/// if needed.
pub fn prepare(
    data: &Path,
    out: &Path,
    as_of: NaiveDate,
    revalidate: bool,
) -> anyhow::Result<Prepared> {
    anyhow::ensure!(
        data.is_dir(),
        "{} is not a dataset directory",
        data.display()
    );
    let rejects_path = out.join("rejects.csv");
    let pb = ui::spinner("hashing input files");
    let hashes = stamp::hash_inputs(data).with_context(|| format!("reading {}", data.display()))?;
    pb.finish_and_clear();
    if !revalidate && let Some(report) = stamp::load(&cache_dir(), &hashes, as_of) {
        RejectSink::to_file(&rejects_path, 0)?.finish()?;
        return Ok(Prepared {
            dir: data.to_path_buf(),
            report,
            rejects: rejects_path,
            staged: false,
            hashes,
            validation: "stamp",
        });
    }
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
        if let Err(e) = stamp::save(&cache_dir(), &hashes, &report) {
            eprintln!(
                "note: could not record the validation in {}: {e}",
                cache_dir().display()
            );
        }
        return Ok(Prepared {
            dir: data.to_path_buf(),
            report,
            rejects: rejects_path,
            staged: false,
            hashes,
            validation: "full",
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
        hashes,
        validation: "full",
    })
}
