//! Output formats for people: tables written as CSV (UTF-8 with BOM so Japanese Excel
//! opens them, or Shift_JIS/CP932 on request), xlsx workbooks, SVG charts (plotters) and
//! the self-contained HTML report.
//!
//! Tables arrive as plain typed columns ([`ittai_dataset::Table`]); this crate knows nothing of polars.

pub mod charts;
pub mod csv_out;
pub mod html;
pub mod indicators;
pub mod xlsx;

pub use csv_out::{CsvEncoding, Headers, write_csv};
pub use xlsx::write_xlsx;
