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
