//! `ittai ingest`: standard-format files in, the canonical dataset out.
//!
//! Sources: レセプト電算 receipts ([`uke`]), 健診結果 XML ([`kenshin`]), and the CSV layouts
//! of [`register`] for the insured register, certifications and care claims. Every person
//! number is pseudonymised on reading ([`crate::pseudonym`]); every problem goes to a
//! rejects file per source ([`issues`]); the same inputs give the same dataset.

pub mod inputs;
pub mod issues;
pub mod output;
pub mod receipts;
pub mod register;
pub mod run;

#[cfg(test)]
mod fuzz;

pub use run::{IngestError, IngestOptions, IngestProgress, IngestSummary, run};
