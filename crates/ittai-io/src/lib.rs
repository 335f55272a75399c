//! Input and output of ittai outside the dataframe engine: the canonical dataset
//! (contract, reader, validator, Parquet writer), rejects, atomic file output, and the
//! vendored reference data (masters, municipality codes, census population).
//!
//! Nothing here uses polars; other crates receive Parquet files or plain Rust values.

pub mod atomic;
pub mod dataset;
pub mod export;
pub mod hash;
pub mod ingest;
pub mod kenshin;
pub mod masters;
pub mod pseudonym;
pub mod reference;
pub mod rejects;
pub mod uke;
