//! The canonical dataset of ittai: the table contract, reading (Parquet or CSV),
//! validation with rejects, Parquet writing, atomic outputs, the vendored masters and
//! reference data, and the plain [`Table`] that every writer of people-facing files takes.
//!
//! Data flows: [`open_table`] (CSV or Parquet → typed Arrow batches) → [`validate_dataset`]
//! (checks, [`rejects`], clean rows) → a [`CleanSink`] such as [`ParquetDirSink`];
//! [`prepare`] does all of it for a command, reusing the stamp of an earlier clean
//! validation.
//! Writers of new data (synthetic population, ingest) build rows with the structs of
//! the contract ([`Person`], [`Checkup`], … — [`TABLES`] lists them) and write them with
//! [`ParquetTableWriter`]. The contract itself is
//! described for people in `docs/reference/dataset.md`.
//!
//! Nothing here uses polars, XML or HMAC; the engine receives validated Parquet files.
//!
//! # Example
//!
//! Write one insured person with the typed rows of the contract, then read the table back:
//!
//! ```
//! use ittai_dataset::atomic::Visibility;
//! use ittai_dataset::{ParquetTableWriter, Person, RowBatch, read_rows};
//! use chrono::NaiveDate;
//!
//! let dir = tempfile::tempdir()?;
//! let mut batch = RowBatch::for_row::<Person>();
//! batch.push(&Person {
//!     person_id: "p1".into(),
//!     sex: 2, // 女
//!     birth_date: NaiveDate::from_ymd_opt(1945, 6, 1).unwrap(),
//!     municipality_code: "131016".into(), // 千代田区, with check digit
//!     insurer_number: "39131015".into(),
//!     coverage_start: NaiveDate::from_ymd_opt(2020, 6, 1).unwrap(),
//!     coverage_end: None,
//!     loss_reason: None,
//! });
//! let mut w = ParquetTableWriter::for_table(dir.path(), batch.spec(), Visibility::Private)?;
//! w.write(&batch.finish())?;
//! w.finish()?;
//! let (persons, skipped) = read_rows::<Person>(dir.path())?;
//! assert_eq!((persons.len(), skipped), (1, 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod atomic;
pub mod claim_rows;
mod column;
mod hash;
pub mod masters;
mod prepare;
mod read;
pub mod reference;
pub mod rejects;
mod schema;
mod stamp;
mod table;
mod validate;
mod write;

pub use column::{date_to_days, days_to_date};
pub use hash::{sha256_bytes, sha256_file};
pub use prepare::{PrepareError, PrepareStage, Prepared, cache_dir, prepare};
pub use read::{
    Format, Mark, READ_BATCH_ROWS, RawBatch, TableFile, discover, open as open_table,
    parquet_null_count, parquet_rows,
};
pub use schema::{
    CareClaim, Certification, Check, Checkup, ClaimDiagnosis, ClaimDrug, ColType, ColumnSpec,
    DentalCheckup, INTERVENTIONS, Intervention, MedicalClaim, OnBad, Person, Questionnaire, Row,
    TABLES, TableSpec, Vocab, table as table_spec,
};
pub use stamp::InputHashes;
pub use table::{Cells, Column, Table, format_float, thousands};
pub use validate::{
    CleanSink, Discard, ParquetDirSink, Progress, TableSummary, ValidateOptions, ValidationReport,
    claim_hash, render_row, validate_dataset,
};
pub use write::{ParquetTableWriter, ROW_GROUP_ROWS, RowBatch, WriteError, writer_properties};

/// Reads every row of one table of the dataset in `dir` (Parquet or CSV) as typed rows,
/// in file order. Rows with a value that does not parse or a required null are skipped
/// and counted (validate the dataset first to see them).
///
/// # Errors
/// The table is missing, or its file cannot be opened or read (the violation's text).
pub fn read_rows<R: Row>(dir: &std::path::Path) -> Result<(Vec<R>, u64), String> {
    read_rows_where(dir, |_: &R| true)
}

/// As [`read_rows`], keeping only the rows for which `keep` is true (the others are
/// dropped batch by batch, so memory holds only what is kept).
///
/// # Errors
/// As [`read_rows`].
pub fn read_rows_where<R: Row>(
    dir: &std::path::Path,
    keep: impl Fn(&R) -> bool,
) -> Result<(Vec<R>, u64), String> {
    let (files, _) = read::discover(dir);
    let Some(file) = files.iter().find(|f| f.spec.name == R::SPEC.name) else {
        return Err(format!("{}: no {} table", dir.display(), R::SPEC.name));
    };
    let mut rows = Vec::new();
    let mut skipped = 0;
    for batch in read::open(file).map_err(|v| v.to_string())? {
        let b = batch.map_err(|v| v.to_string())?;
        let bad: std::collections::HashSet<usize> = b.marks.iter().map(|m| m.row).collect();
        let cols = b.batch.columns();
        for i in 0..b.batch.num_rows() {
            match (bad.contains(&i), R::from_columns(cols, i)) {
                (false, Some(r)) => {
                    if keep(&r) {
                        rows.push(r);
                    }
                }
                _ => skipped += 1,
            }
        }
    }
    Ok((rows, skipped))
}
