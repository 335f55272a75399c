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
/// numbers, dates as dates), a frozen header row, an autofilter on the header row over the
/// whole table (so a nurse can filter a list by 市町村名 or sort it by age without selecting
/// anything) and fitted column widths.
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
        // The filter buttons on the header row, over every column and row of the table
        // (header only when it has no rows); a sheet without columns has nothing to filter.
        if let Some(last_col) = t.columns.len().checked_sub(1) {
            ws.autofilter(0, 0, t.rows() as u32, last_col as u16)?;
        }
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

    /// The XML of worksheet `n` (1-based) of the workbook at `path`.
    fn sheet_xml(path: &Path, n: usize) -> String {
        use std::io::Read;
        let mut z = zip::ZipArchive::new(std::fs::File::open(path).expect("open")).expect("zip");
        let mut s = String::new();
        z.by_name(&format!("xl/worksheets/sheet{n}.xml"))
            .expect("sheet")
            .read_to_string(&mut s)
            .expect("read");
        s
    }

    #[test]
    fn every_sheet_has_an_autofilter_over_its_table() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.xlsx");
        let mut t = Table::default();
        t.add(
            "municipality_code",
            Cells::Text(vec![Some("312011".into()), Some("312029".into())]),
        );
        t.add("age", Cells::Int(vec![Some(80), None]));
        let mut header_only = Table::default();
        header_only.add("age", Cells::Int(vec![]));
        let empty = Table::default();
        write_xlsx(
            &[("a", &t), ("b", &header_only), ("c", &empty)],
            &p,
            Visibility::Private,
        )
        .expect("writes");
        // Header row 1 and two data rows, columns A and B.
        assert!(
            sheet_xml(&p, 1).contains("<autoFilter ref=\"A1:B3\"/>"),
            "{}",
            sheet_xml(&p, 1)
        );
        assert!(sheet_xml(&p, 2).contains("<autoFilter ref=\"A1\"/>"));
        assert!(!sheet_xml(&p, 3).contains("<autoFilter"));
    }
}
