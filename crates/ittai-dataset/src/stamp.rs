//! Validation stamps: a record that a dataset with exactly these bytes met the contract,
//! so that repeated runs on the same files can skip a full validation.
//!
//! A stamp is `<cache>/validated/<combined sha-256>.json` holding the validation report.
//! It is used only when the files hash to the same combined SHA-256, the stamp was written
//! under the same contract ([`contract_fingerprint`]), the report is clean, and its data end (`as_of`) is not later
//! than the one asked for (a date plausible then is plausible later).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::read::discover;
use super::validate::ValidationReport;
use crate::atomic::{Visibility, write_atomic};

/// SHA-256 of each table file of a dataset and of them all.
#[derive(Debug, Clone, Serialize)]
pub struct InputHashes {
    /// (table, file, sha256, bytes) in contract order.
    pub files: Vec<(String, PathBuf, String, u64)>,
    /// SHA-256 over the tables' names and hashes, in contract order.
    pub combined: String,
}

/// Hashes the table files found in `dir` (in parallel).
///
/// # Errors
/// I/O errors reading a file.
pub fn hash_inputs(dir: &Path) -> std::io::Result<InputHashes> {
    let (found, _) = discover(dir);
    let hashed: Vec<std::io::Result<(String, PathBuf, String, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = found
            .iter()
            .map(|f| {
                s.spawn(move || {
                    let sha = crate::hash::sha256_file(&f.path)?;
                    let bytes = std::fs::metadata(&f.path)?.len();
                    Ok((f.spec.name.to_string(), f.path.clone(), sha, bytes))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("hash thread"))
            .collect()
    });
    let files = hashed.into_iter().collect::<std::io::Result<Vec<_>>>()?;
    let mut all = String::new();
    for (t, p, h, _) in &files {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        all.push_str(&format!("{t}:{name}:{h}\n"));
    }
    Ok(InputHashes {
        combined: crate::hash::sha256_bytes(all.as_bytes()),
        files,
    })
}

/// A fingerprint of the contract the validator checks: every table, column, type, check
/// and policy, plus [`VALIDATOR_REVISION`]. A stamp written under another contract is
/// not used.
pub fn contract_fingerprint() -> String {
    let spec = format!("{VALIDATOR_REVISION}{:?}", super::schema::TABLES);
    crate::hash::sha256_bytes(spec.as_bytes())
}

/// Bumped whenever the validator's logic changes in a way the table specs do not show
/// (cross-table checks, parsing).
pub const VALIDATOR_REVISION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Stamp {
    version: String,
    combined: String,
    report: ValidationReport,
}

/// Where the stamp of `hashes` lives under `cache`.
pub fn stamp_path(cache: &Path, hashes: &InputHashes) -> PathBuf {
    cache
        .join("validated")
        .join(format!("{}.json", hashes.combined))
}

/// The report of an earlier clean validation of the same bytes, if a usable stamp exists.
pub fn load(cache: &Path, hashes: &InputHashes, as_of: NaiveDate) -> Option<ValidationReport> {
    let text = std::fs::read_to_string(stamp_path(cache, hashes)).ok()?;
    let s: Stamp = serde_json::from_str(&text).ok()?;
    let ok = s.version == contract_fingerprint()
        && s.combined == hashes.combined
        && s.report.is_clean()
        && s.report.all_parquet
        && s.report.as_of <= as_of;
    ok.then_some(s.report)
}

/// Records a clean validation (does nothing for a report with violations or CSV tables).
///
/// # Errors
/// I/O errors writing the stamp.
pub fn save(cache: &Path, hashes: &InputHashes, report: &ValidationReport) -> std::io::Result<()> {
    if !report.is_clean() || !report.all_parquet {
        return Ok(());
    }
    let s = Stamp {
        version: contract_fingerprint(),
        combined: hashes.combined.clone(),
        report: report.clone(),
    };
    write_atomic(
        &stamp_path(cache, hashes),
        serde_json::to_string(&s)
            .map_err(std::io::Error::other)?
            .as_bytes(),
        Visibility::Private,
    )
}
