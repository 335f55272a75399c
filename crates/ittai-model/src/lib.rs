//! Domain types and code tables of ittai: sexes, care-need levels, claim kinds,
//! questionnaire items, fiscal years, 和暦 dates and the check digits of Japanese
//! public codes.
//!
//! This crate does no I/O and knows nothing of dataframes; every other crate uses
//! it for the meaning of the codes it reads and writes. Sources of each code table are
//! given on the type; the canonical dataset is described in
//! docs/reference/dataset.md.

pub mod check_digit;
pub mod classes;
pub mod codes;
pub mod indicators;
pub mod labels;
pub mod questionnaire;
pub mod time;

pub use codes::{
    CareLevel, CareServiceType, ClaimKind, LossReason, PersonId, QuestionnaireSetting, Route, Sex,
    UrineTest,
};
pub use time::{AgeBand, FiscalYear, age_at, first_of_month};
