//! Output formats for people: tables written as CSV (UTF-8 with BOM so Japanese Excel
//! opens them, or Shift_JIS/CP932 on request), xlsx workbooks, SVG charts (plotters) and
//! the self-contained HTML report.
//!
//! Tables arrive as plain typed columns ([`ittai_dataset::Table`]) whose Japanese headers
//! come from the one label table of `ittai_model::labels`; this crate knows nothing of
//! polars. The committee report ([`write_html`]) draws the common indicators
//! (docs/INDICATORS.md), programme evaluation and 疾病分類別医療費; published tables
//! ([`published`], [`life_table`], [`funnel_table`], [`published_evaluation`],
//! [`published_disease_costs`]) blank suppressed cells with [`SUPPRESSED`].
//!
//! # Example
//!
//! A two-column table written as CSV with Japanese headers, as Japanese Excel opens it
//! (UTF-8 with a byte-order mark, CRLF line ends):
//!
//! ```
//! use ittai_dataset::{Cells, Table, atomic::Visibility};
//! use ittai_report::{CsvEncoding, Headers, write_csv};
//!
//! let mut t = Table::default();
//! t.add("rule_id", Cells::Text(vec![Some("R03".into())]));
//! t.add("listed", Cells::Int(vec![Some(177)]));
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("summary.csv");
//! write_csv(&t, &path, CsvEncoding::Utf8Bom, Headers::Japanese, Visibility::Shared)?;
//! let bytes = std::fs::read(&path)?;
//! assert_eq!(bytes, "\u{feff}ルールID,対象者数\r\nR03,177\r\n".as_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod charts;
mod csv_out;
mod evaluation;
mod html;
mod indicators;
mod xlsx;

pub use charts::ChartError;
pub use csv_out::{CsvEncoding, Headers, to_shift_jis, write_csv};
pub use evaluation::{
    disease_cost_hidden, evaluation_hidden, published_disease_costs, published_evaluation,
    small_published_counts,
};
pub use html::{MIN_PUBLISHED, ReportError, ReportInput, render, write_html};
pub use indicators::{
    PublishedLife, SUPPRESSED, comparison_table, direction_ja, funnel_table, life_table, published,
    published_funnel, published_life,
};
pub use xlsx::{XlsxError, write_xlsx};
