//! CSV output that opens correctly in Japanese Excel.
//!
//! Excel on Japanese Windows reads a CSV without a byte-order mark as Shift_JIS (CP932),
//! so UTF-8 files start with the BOM `EF BB BF`. Shift_JIS output is offered for older
//! systems; characters CP932 cannot represent are replaced by `?` and counted.
//!
//! Text cells that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, TAB, CR at
//! the start) are written with a leading `'` ([`neutralise_cell`], docs/reference/privacy.md);
//! numbers and dates are written as they are.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use ittai_dataset::atomic::{AtomicFile, Visibility, neutralise_cell};

use ittai_dataset::{Cells, Table};

/// Text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark (the default).
    Utf8Bom,
    /// Shift_JIS (CP932, as Windows writes it).
    ShiftJis,
}

/// Which header row to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    /// Japanese headers (for people).
    Japanese,
    /// English snake_case names (for programs).
    English,
}

/// Writes `table` to `path` atomically. Returns the number of characters that had to be
/// replaced by `?` (Shift_JIS only; always 0 for UTF-8). Text cells pass through
/// [`neutralise_cell`] (in both encodings); Int, Float and Date cells do not, so `-5` stays
/// a number.
///
/// # Errors
/// I/O errors.
pub fn write_csv(
    table: &Table,
    path: &Path,
    encoding: CsvEncoding,
    headers: Headers,
    visibility: Visibility,
) -> std::io::Result<u64> {
    let mut buf = Vec::new();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut buf);
        let head: Vec<&str> = table
            .columns
            .iter()
            .map(|c| match headers {
                Headers::Japanese => c.header_ja.as_str(),
                Headers::English => c.name.as_str(),
            })
            .collect();
        w.write_record(&head).map_err(std::io::Error::other)?;
        for i in 0..table.rows() {
            w.write_record(table.columns.iter().map(|c| {
                let cell = c.cells.text(i);
                match &c.cells {
                    Cells::Text(_) => {
                        // Only a neutralised cell is a new string; the rest are moved.
                        let changed = match neutralise_cell(&cell) {
                            Cow::Owned(s) => Some(s),
                            Cow::Borrowed(_) => None,
                        };
                        changed.unwrap_or(cell)
                    }
                    Cells::Int(_) | Cells::Float(_) | Cells::Date(_) => cell,
                }
            }))
            .map_err(std::io::Error::other)?;
        }
        w.flush()?;
    }
    let text = String::from_utf8(buf).map_err(std::io::Error::other)?;
    let mut f = AtomicFile::create(path, visibility)?;
    let mut replaced = 0;
    match encoding {
        CsvEncoding::Utf8Bom => {
            f.write_all(b"\xEF\xBB\xBF")?;
            f.write_all(text.as_bytes())?;
        }
        CsvEncoding::ShiftJis => {
            let (bytes, n) = to_shift_jis(&text);
            replaced = n;
            f.write_all(&bytes)?;
        }
    }
    f.commit()?;
    Ok(replaced)
}

/// Encodes text as CP932, replacing unmappable characters with `?`; returns the bytes and
/// the number of replacements.
pub fn to_shift_jis(text: &str) -> (Vec<u8>, u64) {
    // Characters our own labels use that CP932 lacks, with their usual substitutes.
    let text: std::borrow::Cow<'_, str> = if text.contains(['²', '³']) {
        text.replace('²', "2").replace('³', "3").into()
    } else {
        text.into()
    };
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    if !unmappable {
        return (bytes.into_owned(), 0);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut n = 0;
    let mut tmp = [0u8; 4];
    for ch in text.chars() {
        let (b, _, bad) = encoding_rs::SHIFT_JIS.encode(ch.encode_utf8(&mut tmp));
        if bad {
            out.push(b'?');
            n += 1;
        } else {
            out.extend_from_slice(&b);
        }
    }
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::default();
        t.add(
            "person_id",
            Cells::Text(vec![Some("a1".into()), Some("b,2".into())]),
        );
        t.push("bmi", "BMI", Cells::Float(vec![Some(20.0), None]));
        t.add(
            "care_level",
            Cells::Text(vec![Some("要介護２".into()), Some("要支援1".into())]),
        );
        t
    }

    #[test]
    fn utf8_has_bom_and_japanese_headers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        write_csv(
            &sample(),
            &p,
            CsvEncoding::Utf8Bom,
            Headers::Japanese,
            Visibility::Private,
        )
        .unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(&b[..3], b"\xEF\xBB\xBF");
        let s = String::from_utf8(b[3..].to_vec()).unwrap();
        assert_eq!(
            s,
            "被保険者ID（仮名）,BMI,要介護度\r\na1,20.0,要介護２\r\n\"b,2\",,要支援1\r\n"
        );
    }

    #[test]
    fn shift_jis_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        let n = write_csv(
            &sample(),
            &p,
            CsvEncoding::ShiftJis,
            Headers::Japanese,
            Visibility::Private,
        )
        .unwrap();
        assert_eq!(n, 0);
        let b = std::fs::read(&p).unwrap();
        assert_ne!(&b[..3], b"\xEF\xBB\xBF");
        let (s, _, bad) = encoding_rs::SHIFT_JIS.decode(&b);
        assert!(!bad);
        assert!(s.starts_with("被保険者ID（仮名）,BMI,要介護度\r\n"));
        // "要" is 0x97 0x76 in CP932.
        assert!(b.windows(2).any(|w| w == [0x97, 0x76]));
    }

    /// Text cells that Excel would read as a formula get a leading `'` in both encodings;
    /// numbers, even negative ones, and harmless text do not.
    #[test]
    fn formula_text_cells_are_neutralised_numbers_are_not() {
        let mut t = Table::default();
        for (name, cell) in [
            ("c1", "=SUM(A1)"),
            ("c2", "-1"),
            ("c3", "@x"),
            ("c4", "+1"),
            ("c5", "a=b"),
        ] {
            t.push(name, name, Cells::Text(vec![Some(cell.into())]));
        }
        t.push("c6", "c6", Cells::Int(vec![Some(-5)]));
        t.push("c7", "c7", Cells::Float(vec![Some(-0.5)]));
        let want = "c1,c2,c3,c4,c5,c6,c7\r\n'=SUM(A1),'-1,'@x,'+1,a=b,-5,-0.5\r\n";
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.csv");
        write_csv(
            &t,
            &p,
            CsvEncoding::Utf8Bom,
            Headers::Japanese,
            Visibility::Private,
        )
        .unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(&b[..3], b"\xEF\xBB\xBF");
        assert_eq!(std::str::from_utf8(&b[3..]).unwrap(), want);
        let p = dir.path().join("s.csv");
        write_csv(
            &t,
            &p,
            CsvEncoding::ShiftJis,
            Headers::Japanese,
            Visibility::Private,
        )
        .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), want.as_bytes());
    }

    #[test]
    fn unmappable_characters_are_substituted_or_counted() {
        // "²" is not in CP932 (Python's cp932 codec agrees) and becomes "2"; an emoji
        // has no substitute and becomes "?".
        let (b, n) = to_shift_jis("mL/min/1.73m² 😀");
        assert_eq!(n, 1);
        assert_eq!(b, b"mL/min/1.73m2 ?");
        // The symbols of our labels (尿蛋白 −, ±) are in CP932.
        assert_eq!(to_shift_jis("−±").1, 0);
    }
}
