//! Domain types and code tables of ittai: sexes, care-need levels, claim kinds,
//! questionnaire items, fiscal years, 和暦 dates and the check digits of Japanese
//! public codes.
//!
//! This crate does no I/O and knows nothing of dataframes; every other crate uses
//! it for the meaning of the codes it reads and writes. Sources of each code table are
//! given on the type; the canonical dataset is described in
//! docs/reference/dataset.md.
//!
//! The code types ([`Sex`], [`ClaimKind`], [`Route`], [`CareLevel`], [`AgeBand`], …) are
//! at the crate root; each turns the text or number of a source into the type once
//! (`from_code`, `parse`) and gives back its code and Japanese label. The modules are
//! tables of their own: [`time`] (fiscal years, 和暦, age bands), [`classes`] (drug and
//! disease classes), [`questionnaire`] (the 15 items), [`indicators`] (the common
//! indicators), [`labels`] (Japanese headers) and [`check_digit`].
//!
//! # Example
//!
//! ```
//! use ittai_model::{AgeBand, CareLevel, FiscalYear, age_at};
//! use chrono::NaiveDate;
//!
//! let fy = FiscalYear(2024); // 2024-04-01 … 2025-03-31
//! let birth = NaiveDate::from_ymd_opt(1945, 6, 1).unwrap();
//! let age = age_at(birth, fy.end()); // full years on the reference date 2025-03-31
//! assert_eq!((age, AgeBand::of_age(age).label()), (79, "75-79"));
//! let level = CareLevel::from_code("22").unwrap();
//! assert_eq!(level.label_ja(), "要介護2");
//! ```

pub mod check_digit;
pub mod classes;
mod codes;
pub mod evaluation;
pub mod icd10;
pub mod indicators;
pub mod labels;
pub mod questionnaire;
pub mod support;
pub mod time;

pub use codes::{
    CareLevel, CareServiceType, ClaimKind, LossReason, PersonId, QuestionnaireSetting, Route, Sex,
    UrineTest, care_service_type_label, is_facility_service_type,
};
pub use time::{AgeBand, FiscalYear, age_at, first_of_month};
