//! xlsx workbooks (one sheet per table) with rust_xlsxwriter.

use std::path::Path;

use ittai_dataset::atomic::{Visibility, write_atomic};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use ittai_dataset::{Cells, Table};

/// Error writing a workbook.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    /// The xlsx library failed.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Makes a valid, unique sheet name (≤ 31 characters, none of `[]:*?/\`).
fn sheet_name(name: &str, used: &mut Vec<String>) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    let mut n = clean.clone();
    let mut k = 2;
    while used.contains(&n) {
        let suffix = format!("_{k}");
        n = format!(
            "{}{suffix}",
            clean.chars().take(31 - suffix.len()).collect::<String>()
        );
        k += 1;
    }
    used.push(n.clone());
    n
}

/// Writes `sheets` (name, table) to `path` with Japanese headers, typed cells (numbers as
/// numbers, dates as dates), a frozen header row and fitted column widths.
///
/// # Errors
/// [`XlsxError`].
pub fn write_xlsx(
    sheets: &[(&str, &Table)],
    path: &Path,
    visibility: Visibility,
) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color(0xDDEBF7);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut used = Vec::new();
    for (name, t) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(name, &mut used))?;
        for (c, column) in t.columns.iter().enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, &column.header_ja, &head)?;
            for r in 0..column.cells.len() {
                let row = r as u32 + 1;
                match &column.cells {
                    Cells::Text(v) => {
                        if let Some(s) = &v[r] {
                            ws.write_string(row, c, s)?;
                        }
                    }
                    Cells::Int(v) => {
                        if let Some(x) = v[r] {
                            ws.write_number(row, c, x as f64)?;
                        }
                    }
                    Cells::Float(v) => {
                        if let Some(x) = v[r] {
                            ws.write_number(row, c, x)?;
                        }
                    }
                    Cells::Date(v) => {
                        if let Some(d) = v[r] {
                            let dt = ExcelDateTime::from_ymd(
                                chrono::Datelike::year(&d) as u16,
                                chrono::Datelike::month(&d) as u8,
                                chrono::Datelike::day(&d) as u8,
                            )?;
                            ws.write_datetime_with_format(row, c, &dt, &date)?;
                        }
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
    }
    let bytes = wb.save_to_buffer()?;
    write_atomic(path, &bytes, visibility)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut used = Vec::new();
        assert_eq!(sheet_name("R01 低栄養", &mut used), "R01 低栄養");
        assert_eq!(sheet_name("a/b", &mut used), "a_b");
        assert_eq!(sheet_name("a/b", &mut used), "a_b_2");
        let long = "x".repeat(40);
        assert_eq!(sheet_name(&long, &mut used).chars().count(), 31);
    }
}
