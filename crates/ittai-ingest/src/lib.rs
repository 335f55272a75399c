//! Standard-format files in and out of ittai: `ittai ingest` reads the union's own files
//! into the canonical dataset, and [`export`] writes a dataset back in the same formats.
//!
//! Sources: レセプト電算 receipts ([`uke`]: 医科・歯科・調剤・DPC), 健診結果 XML
//! ([`kenshin`], single files or submission zips), and the CSV layouts ([`PERSONS_LAYOUT`], [`CERTIFICATIONS_LAYOUT`],
//! [`CARE_H1`]/[`CARE_D1`]) for
//! the insured register (被保険者台帳), 要介護認定 and 介護給付実績. Every person number is
//! pseudonymised on reading with the user's key ([`IdKey`], HMAC-SHA256); every problem
//! goes to a rejects file per source ([`IssueLog`]); the same inputs give the same dataset.
//! This is the only crate that reads XML, zip archives of user files, or computes HMACs.
//! [`names`] goes the other way on the user's own machine: it reads a municipality's
//! register (台帳) with names and recomputes each row's person id with the same key, so that
//! `ittai run --register` can show whom a nurse must phone or visit; it writes nothing.
//! Layouts and decisions are described for people in `docs/INGEST.md`.
//!
//! # Example
//!
//! Parse one レセ電 receipt file (the vendored ORCA sample) and count its receipts:
//!
//! ```
//! let text = include_str!("../../../tests/fixtures/uke_orca/kokuho_201901.csv");
//! let mut receipts = 0;
//! let (header, _counts) = ittai_ingest::uke::read::parse(text, &mut |_issue| {}, &mut |_h, _r| {
//!     receipts += 1
//! });
//! assert!(header.is_some());
//! assert!(receipts > 0);
//! ```

mod export;
pub mod kenshin;
pub mod names;
mod pseudonym;
pub mod uke;

mod inputs;
mod issues;
mod output;
mod receipts;
mod register;
mod run;

#[cfg(test)]
mod fuzz;

pub use export::{ExportError, ExportOptions, ExportSummary, export};
pub use inputs::Input;
pub use issues::IssueLog;
pub use output::Output;
pub use pseudonym::{
    IdKey, KeyError, KeyProblem, MAX_KEY_FILE_BYTES, MIN_KEY_BYTES, MIN_RAW_KEY_BYTES, insurer_key,
    normalise, normalise_number,
};
pub use receipts::ReceiptIngest;
pub use register::{CARE_D1, CARE_H1, CERTIFICATIONS_LAYOUT, FieldDef, PERSONS_LAYOUT};
pub use run::{IngestError, IngestOptions, IngestProgress, IngestSummary, run};
