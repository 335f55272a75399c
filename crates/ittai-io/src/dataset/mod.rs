//! The canonical dataset (SPEC §2): contract, reading, validation and writing.
//!
//! Data flows: `read` (CSV or Parquet → typed batches) → `validate` (checks, rejects,
//! clean rows) → a [`validate::CleanSink`] such as [`validate::ParquetDirSink`].
//! Writers of new data (synthetic population, ingest) build rows with the structs of
//! [`schema`] and write them with [`write::ParquetTableWriter`].

pub mod column;
pub mod read;
pub mod schema;
pub mod stamp;
pub mod validate;
pub mod write;

pub use schema::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, DentalCheckup, MedicalClaim,
    Person, Questionnaire, Row, TABLES, TableSpec,
};
pub use validate::{ValidateOptions, ValidationReport, validate_dataset};
pub use write::{ParquetTableWriter, RowBatch};

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
