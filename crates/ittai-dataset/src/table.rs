//! A plain table: named, typed columns of equal length.

use chrono::NaiveDate;

/// The cells of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Cells {
    /// Text.
    Text(Vec<Option<String>>),
    /// Integers.
    Int(Vec<Option<i64>>),
    /// Numbers.
    Float(Vec<Option<f64>>),
    /// Dates (written YYYY-MM-DD).
    Date(Vec<Option<NaiveDate>>),
}

impl Cells {
    /// Number of cells.
    pub fn len(&self) -> usize {
        match self {
            Cells::Text(v) => v.len(),
            Cells::Int(v) => v.len(),
            Cells::Float(v) => v.len(),
            Cells::Date(v) => v.len(),
        }
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Cell `i` as text (empty for null).
    pub fn text(&self, i: usize) -> String {
        match self {
            Cells::Text(v) => v[i].clone().unwrap_or_default(),
            Cells::Int(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
            Cells::Float(v) => v[i].map(format_float).unwrap_or_default(),
            Cells::Date(v) => v[i].map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// Decimal text of a number, rounded to 4 decimals to hide binary noise; whole numbers
/// keep one decimal (20.0 → "20.0", 20.25 → "20.25").
pub fn format_float(x: f64) -> String {
    let r = (x * 10_000.0).round() / 10_000.0;
    if r.fract() == 0.0 {
        format!("{r:.1}")
    } else {
        format!("{r}")
    }
}

/// An integer with thousands separators: 1234567 → "1,234,567", -1200 → "-1,200".
pub fn thousands(v: i64) -> String {
    let s = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// A column: English snake_case name (for programs), Japanese header (for people).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// snake_case name.
    pub name: String,
    /// Japanese header.
    pub header_ja: String,
    /// Cells.
    pub cells: Cells,
}

/// A table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Columns in order.
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows (0 for no columns).
    pub fn rows(&self) -> usize {
        self.columns.first().map(|c| c.cells.len()).unwrap_or(0)
    }
    /// Adds a column with the Japanese header of its name in the one label table
    /// ([`ittai_model::labels::COLUMNS`]).
    ///
    /// # Panics
    /// When the name has no label there (a programming error, caught by the tests that
    /// write every table), or its length differs from the existing columns'.
    pub fn add(&mut self, name: &str, cells: Cells) {
        let header = ittai_model::labels::column_ja(name).unwrap_or_else(|| {
            panic!("column {name} has no Japanese label in ittai_model::labels::COLUMNS")
        });
        self.push(name, header, cells);
    }
    /// Adds a column with a header of its own (evidence columns, whose headers are built
    /// from the labels of [`ittai_model::labels`]).
    ///
    /// # Panics
    /// When its length differs from the existing columns'.
    pub fn push(&mut self, name: &str, header_ja: &str, cells: Cells) {
        if let Some(first) = self.columns.first() {
            assert_eq!(
                first.cells.len(),
                cells.len(),
                "column {name} has another length"
            );
        }
        self.columns.push(Column {
            name: name.to_string(),
            header_ja: header_ja.to_string(),
            cells,
        });
    }
}
