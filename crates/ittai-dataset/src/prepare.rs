//! Getting a dataset ready for the engine: validate it against the contract, write the
//! rejects, and stage a clean Parquet copy when the input is CSV or had bad rows. An
//! earlier clean validation of the same bytes (a stamp in the user's cache) is reused.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::atomic::Visibility;
use crate::rejects::RejectSink;
use crate::stamp::{self, InputHashes};
use crate::validate::{
    Discard, ParquetDirSink, ValidateOptions, ValidationReport, validate_dataset,
};

/// A dataset the engine can read.
#[derive(Debug)]
pub struct Prepared {
    /// Directory of clean Parquet tables (the input itself, or `<out>/.staging`).
    pub dir: PathBuf,
    /// The validation report of the input.
    pub report: ValidationReport,
    /// Rejects file `<out>/rejects.csv` (only a header when the input was clean).
    pub rejects: PathBuf,
    /// Whether a staged copy is used.
    pub staged: bool,
    /// SHA-256 of the input files.
    pub hashes: InputHashes,
    /// How validation was done: "full", or "stamp" when an earlier clean validation of the
    /// same bytes was reused.
    pub validation: &'static str,
    /// The first problems found (at most 10, as text with file, line and column), for the
    /// user's terminal; all of them are in `rejects`.
    pub first_problems: Vec<String>,
    /// A stamp could not be recorded in the cache (the message), which only costs a
    /// validation next time.
    pub stamp_note: Option<String>,
}

/// What [`prepare`] is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrepareStage {
    /// Hashing the input files.
    Hashing,
    /// Validating every row.
    Validating,
    /// Writing the clean Parquet copy.
    Staging,
}

/// Why a dataset cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// `data` is not a directory.
    #[error("{0} is not a dataset directory")]
    NotADirectory(PathBuf),
    /// Reading, hashing or writing failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// A whole table cannot be used (wrong encoding, missing column, unreadable file).
    #[error(
        "the dataset in {dir} cannot be used:\n  {}\n(run `ittai validate {dir}` for details)",
        messages.join("\n  ")
    )]
    Unusable {
        /// The dataset directory.
        dir: String,
        /// One message per unusable table.
        messages: Vec<String>,
    },
    /// The validator failed (its message).
    #[error("{0}")]
    Validation(String),
}

/// The user's cache folder for ittai (`$XDG_CACHE_HOME/ittai`, else `~/.cache/ittai`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("ittai")
}

/// Validates `data` as of the day `as_of` (dates after it are impossible), or reuses the
/// stamp of an earlier clean validation of the same bytes unless `revalidate`; writes
/// `<out>/rejects.csv`; stages a clean Parquet copy into `<out>/.staging` when the input
/// is CSV or had bad rows. `progress` is told the stage and the table and rows done.
///
/// # Errors
/// [`PrepareError`]: not a directory, I/O, or a table that cannot be used at all.
pub fn prepare(
    data: &Path,
    out: &Path,
    as_of: NaiveDate,
    revalidate: bool,
    progress: &mut dyn FnMut(PrepareStage, &str, u64),
) -> Result<Prepared, PrepareError> {
    if !data.is_dir() {
        return Err(PrepareError::NotADirectory(data.to_path_buf()));
    }
    let io = |context: String| move |source| PrepareError::Io { context, source };
    let rejects_path = out.join("rejects.csv");
    progress(PrepareStage::Hashing, "", 0);
    let hashes = stamp::hash_inputs(data).map_err(io(format!("reading {}", data.display())))?;
    if !revalidate && let Some(report) = stamp::load(&cache_dir(), &hashes, as_of) {
        RejectSink::to_file(&rejects_path, 0)
            .and_then(RejectSink::finish)
            .map_err(io(format!("writing {}", rejects_path.display())))?;
        return Ok(Prepared {
            dir: data.to_path_buf(),
            report,
            rejects: rejects_path,
            staged: false,
            hashes,
            validation: "stamp",
            first_problems: Vec::new(),
            stamp_note: None,
        });
    }
    let mut rejects = RejectSink::to_file(&rejects_path, 10)
        .map_err(io(format!("creating {}", rejects_path.display())))?;
    let opts = ValidateOptions {
        as_of,
        claim_rows: crate::claim_rows::cache_folder(&hashes),
    };
    let mut validating = |t: &str, n: u64| progress(PrepareStage::Validating, t, n);
    let report = validate_dataset(data, &opts, &mut rejects, &mut Discard, &mut validating)
        .map_err(PrepareError::Validation)?;
    let first_problems: Vec<String> = rejects.first().iter().map(|v| v.to_string()).collect();
    rejects
        .finish()
        .map_err(io(format!("writing {}", rejects_path.display())))?;
    if report.has_file_errors() {
        return Err(PrepareError::Unusable {
            dir: data.display().to_string(),
            messages: report
                .tables
                .iter()
                .filter_map(|t| t.file_error.clone())
                .collect(),
        });
    }
    if report.is_clean() && report.all_parquet {
        let stamp_note = stamp::save(&cache_dir(), &hashes, &report).err().map(|e| {
            format!(
                "could not record the validation in {}: {e}",
                cache_dir().display()
            )
        });
        return Ok(Prepared {
            dir: data.to_path_buf(),
            report,
            rejects: rejects_path,
            staged: false,
            hashes,
            validation: "full",
            first_problems,
            stamp_note,
        });
    }
    let staging = out.join(".staging");
    let mut sink = ParquetDirSink::new(&staging, Visibility::Private);
    let mut quiet = RejectSink::counting(0);
    let mut staging_progress = |t: &str, n: u64| progress(PrepareStage::Staging, t, n);
    // The staged copy's rows are not the input's: no claim rows from this pass.
    let opts = ValidateOptions {
        claim_rows: None,
        ..opts
    };
    validate_dataset(data, &opts, &mut quiet, &mut sink, &mut staging_progress)
        .map_err(PrepareError::Validation)?;
    Ok(Prepared {
        dir: staging,
        report,
        rejects: rejects_path,
        staged: true,
        hashes,
        validation: "full",
        first_problems,
        stamp_note: None,
    })
}
