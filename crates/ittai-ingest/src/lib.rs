//! Standard-format files in and out of ittai: `ittai ingest` reads the union's own files
//! into the canonical dataset, and [`export`] writes a dataset back in the same formats.
//!
//! Sources: レセプト電算 receipts ([`uke`]: 医科・歯科・調剤・DPC), 健診結果 XML
//! ([`kenshin`], single files or submission zips), and the CSV layouts of [`register`] for
//! the insured register (被保険者台帳), 要介護認定 and 介護給付実績. Every person number is
//! pseudonymised on reading with the user's key ([`pseudonym`], HMAC-SHA256); every problem
//! goes to a rejects file per source ([`issues`]); the same inputs give the same dataset.
//! This is the only crate that reads XML, zip archives of user files, or computes HMACs.
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

pub mod export;
pub mod kenshin;
pub mod pseudonym;
pub mod uke;

pub mod inputs;
pub mod issues;
pub mod output;
pub mod receipts;
pub mod register;
pub mod run;

#[cfg(test)]
mod fuzz;

pub use run::{IngestError, IngestOptions, IngestProgress, IngestSummary, run};
