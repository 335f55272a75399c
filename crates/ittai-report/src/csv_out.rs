//! CSV output that opens correctly in Japanese Excel.
//!
//! Excel on Japanese Windows reads a CSV without a byte-order mark as Shift_JIS (CP932),
//! so UTF-8 files start with the BOM `EF BB BF`. Shift_JIS output is offered for older
//! systems; characters CP932 cannot represent are replaced by `?` and counted.

use std::io::Write;
use std::path::Path;

use ittai_dataset::atomic::{AtomicFile, Visibility};

use ittai_dataset::Table;

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
/// replaced by `?` (Shift_JIS only; always 0 for UTF-8).
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
            w.write_record(table.columns.iter().map(|c| c.cells.text(i)))
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
    use ittai_dataset::Cells;

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
