//! Reading canonical tables from CSV or Parquet into typed Arrow batches.
//!
//! The reader only parses: a cell that does not parse as its column type becomes null
//! and a [`Mark`]; what happens to the row is decided by the validator from the column's
//! [`OnBad`](super::schema::OnBad) policy, the same way as for values that parse but fail
//! their check. Whole-file problems (missing column, wrong Parquet type, unreadable
//! file, a byte sequence that is not text in the file's encoding) are returned as a
//! [`Violation`] with [`Action::FileRejected`]. A column added to the contract after
//! datasets were written ([`TableSpec::added_columns`]) that a file lacks is read as all
//! null, without a violation.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use ittai_model::time::parse_csv_date;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::column::{ColumnBuilder, date_to_days};
use super::schema::{ColType, TableSpec};
use crate::rejects::{Action, Location, Violation, ViolationKind};

/// Rows per batch read.
pub const READ_BATCH_ROWS: usize = 65_536;

/// File format of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<table>.parquet`.
    Parquet,
    /// `<table>.csv` (UTF-8 with or without BOM; Shift_JIS is detected and accepted; a
    /// byte that is not text in the encoding is a file error, see
    /// [`open_table`](crate::open_table)).
    Csv,
}

/// A table file found in a dataset directory.
#[derive(Debug, Clone)]
pub struct TableFile {
    /// The table.
    pub spec: &'static TableSpec,
    /// Its file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
}

/// A value that did not parse, found by the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Row within the batch (0-based).
    pub row: usize,
    /// Contract column index.
    pub col: usize,
    /// Kind (not_parseable or null_required for CSV empties are decided later).
    pub kind: ViolationKind,
    /// The text found.
    pub value: String,
    /// What was expected.
    pub detail: String,
}

/// A batch as read: contract columns first (typed; null where a value did not parse),
/// then extra columns from the input, with the location of every row.
#[derive(Debug, Clone)]
pub struct RawBatch {
    /// The rows.
    pub batch: RecordBatch,
    /// Location of each row in the source file.
    pub locations: Vec<Location>,
    /// Values that did not parse.
    pub marks: Vec<Mark>,
    /// Whole CSV records that were rejected before typing (wrong field count), with the
    /// record as text.
    pub bad_records: Vec<(Violation, String)>,
}

/// Looks for the tables of the contract in `dir`. Returns the files found and one
/// violation per table that is present in two formats or, when required, missing. A
/// missing optional table ([`TableSpec::required`] false: `interventions`) is neither a
/// file nor a violation.
pub fn discover(dir: &Path) -> (Vec<TableFile>, Vec<Violation>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for spec in super::schema::TABLES {
        let pq = dir.join(format!("{}.parquet", spec.name));
        let csv = dir.join(format!("{}.csv", spec.name));
        match (pq.is_file(), csv.is_file()) {
            (true, false) => files.push(TableFile { spec, path: pq, format: Format::Parquet }),
            (false, true) => files.push(TableFile { spec, path: csv, format: Format::Csv }),
            (true, true) => problems.push(file_violation(
                spec.name,
                &pq,
                ViolationKind::AmbiguousTable,
                None,
                format!("both {0}.parquet and {0}.csv exist; keep one", spec.name),
            )),
            (false, false) if !spec.required => {}
            (false, false) => problems.push(file_violation(
                spec.name,
                &pq,
                ViolationKind::MissingColumn,
                None,
                format!("table file missing: expected {0}.parquet or {0}.csv (an empty table needs its header row)", spec.name),
            )),
        }
    }
    (files, problems)
}

pub(crate) fn file_violation(
    table: &str,
    path: &Path,
    kind: ViolationKind,
    column: Option<&str>,
    detail: String,
) -> Violation {
    Violation {
        table: table.to_string(),
        file: path.to_path_buf(),
        location: Location::File,
        column: column.map(str::to_string),
        kind,
        action: Action::FileRejected,
        value: String::new(),
        detail,
    }
}

/// Opens a table file for reading in batches.
///
/// A CSV file is UTF-8 (with or without BOM) or Shift_JIS (CP932), chosen from its first
/// 64 KiB. Bytes are never replaced: a byte sequence that is not text in the chosen
/// encoding is a whole-file error ([`ViolationKind::Unreadable`], [`Action::FileRejected`])
/// at [`Location::Line`] of that byte (newlines before it, plus one), not a row reject,
/// since a file in the wrong encoding or damaged in transfer cannot be trusted elsewhere
/// either. In the first 64 KiB it is returned here; later, by the batch iterator, which
/// then stops (and validation marks the table as unusable).
///
/// # Errors
/// A file-level [`Violation`]: unreadable file, missing contract column, wrong type, a
/// CSV file whose first 64 KiB are neither UTF-8 nor Shift_JIS.
pub fn open(
    file: &TableFile,
) -> Result<Box<dyn Iterator<Item = Result<RawBatch, Violation>> + Send>, Violation> {
    open_noting_absent(file).map(|(batches, _)| batches)
}

/// As [`open`], also returning the contract columns the file lacks, which are read as all
/// null (columns of [`TableSpec::added_columns`]).
///
/// # Errors
/// As [`open`].
pub(crate) fn open_noting_absent(
    file: &TableFile,
) -> Result<(Batches, Vec<&'static str>), Violation> {
    match file.format {
        Format::Parquet => {
            let t = ParquetTable::open(file)?;
            let absent = absent_columns(t.spec, &t.map);
            let batches: Batches = Box::new(t);
            Ok((batches, absent))
        }
        Format::Csv => {
            let t = CsvTable::open(file)?;
            let absent = absent_columns(t.spec, &t.map);
            let batches: Batches = Box::new(t);
            Ok((batches, absent))
        }
    }
}

/// The batches of an open table file.
pub(crate) type Batches = Box<dyn Iterator<Item = Result<RawBatch, Violation>> + Send>;

/// The contract columns of `spec` that have no place in a file (`None` in `map`).
fn absent_columns(spec: &'static TableSpec, map: &[Option<usize>]) -> Vec<&'static str> {
    spec.columns
        .iter()
        .zip(map)
        .filter(|(_, m)| m.is_none())
        .map(|(c, _)| c.name)
        .collect()
}

// ---------------------------------------------------------------- CSV

struct CsvTable {
    spec: &'static TableSpec,
    path: PathBuf,
    rdr: csv::Reader<Box<dyn Read + Send>>,
    /// For each contract column, its field index in the file (`None`: an added column the
    /// file lacks, read as null).
    map: Vec<Option<usize>>,
    extras: Vec<(String, usize)>,
    width: usize,
    done: bool,
}

/// Byte offset of the first malformed sequence of `bytes` in `enc` (no BOM handling), or
/// `None` when they decode; an incomplete sequence at the end is malformed only when
/// `last` (the bytes are the whole file).
fn first_malformed(enc: &'static encoding_rs::Encoding, bytes: &[u8], last: bool) -> Option<usize> {
    let mut d = enc.new_decoder_without_bom_handling();
    let mut out = vec![0u8; 1 << 16];
    let mut pos = 0;
    loop {
        let (res, read, _) = d.decode_to_utf8_without_replacement(&bytes[pos..], &mut out, last);
        pos += read;
        match res {
            encoding_rs::DecoderResult::InputEmpty => return None,
            encoding_rs::DecoderResult::OutputFull => {}
            encoding_rs::DecoderResult::Malformed(bad, extra) => {
                return Some(pos.saturating_sub(extra as usize + bad as usize));
            }
        }
    }
}

/// 1-based line of byte `at` of `bytes` (newlines before it, plus one). 0x0A is never
/// part of a multi-byte character in UTF-8 or Shift_JIS, so this counts lines in both.
fn line_at(bytes: &[u8], at: usize) -> u64 {
    1 + bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

/// The encoding of a CSV file, from its first 64 KiB: UTF-8 (with or without BOM) when
/// they are UTF-8, else Shift_JIS (CP932) when they are that. When they are neither, the
/// error gives the reason and the line of the first byte that fits neither encoding (the
/// later of the two first bad bytes: the one of the encoding the file gets further in,
/// which is the one it was most likely meant to be in). The rest of the file is checked
/// as it is read ([`StrictDecoder`]).
fn sniff_encoding(path: &Path) -> Result<&'static encoding_rs::Encoding, (String, Option<u64>)> {
    let mut head = vec![0u8; 1 << 16];
    let mut f = File::open(path).map_err(|e| (e.to_string(), None))?;
    let mut n = 0;
    while n < head.len() {
        let k = f.read(&mut head[n..]).map_err(|e| (e.to_string(), None))?;
        if k == 0 {
            break;
        }
        n += k;
    }
    head.truncate(n);
    // `full`: the whole file is in `head`.
    let full = n < (1 << 16);
    let utf8_bad = match std::str::from_utf8(&head) {
        Ok(_) => return Ok(encoding_rs::UTF_8),
        // A multi-byte character cut at the end of the sniffed block is still UTF-8.
        Err(e) if !full && e.error_len().is_none() => return Ok(encoding_rs::UTF_8),
        Err(e) => e.valid_up_to(),
    };
    let Some(sjis_bad) = first_malformed(encoding_rs::SHIFT_JIS, &head, full) else {
        return Ok(encoding_rs::SHIFT_JIS);
    };
    let line = line_at(&head, utf8_bad.max(sjis_bad));
    Err((
        format!(
            "not UTF-8 and not Shift_JIS (CP932) text: line {line} holds a byte sequence that is neither (save the file as UTF-8)"
        ),
        Some(line),
    ))
}

/// A byte sequence that is not text in the file's encoding, found while reading.
#[derive(Debug)]
struct BadBytes {
    line: u64,
    encoding: &'static str,
}

impl std::fmt::Display for BadBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} holds a byte sequence that is not {} text, the encoding of the file's first 64 KiB (save the file as UTF-8)",
            self.line, self.encoding
        )
    }
}

impl std::error::Error for BadBytes {}

/// Decodes a CSV file to UTF-8 as it is read, without replacement: the first byte
/// sequence that is not text in the chosen encoding ends the reading with an
/// [`std::io::Error`] wrapping a [`BadBytes`] with its line (newlines before it, plus
/// one). A BOM selects its own encoding, as before (UTF-8, UTF-16).
struct StrictDecoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    encoding: &'static str,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    eof: bool,
    finished: bool,
    /// Line of the next byte to decode.
    line: u64,
    failed: Option<u64>,
}

impl<R: Read> StrictDecoder<R> {
    fn new(inner: R, enc: &'static encoding_rs::Encoding) -> Self {
        StrictDecoder {
            inner,
            decoder: enc.new_decoder(),
            encoding: enc.name(),
            input: vec![0; 1 << 16],
            in_start: 0,
            in_end: 0,
            output: vec![0; 1 << 17],
            out_start: 0,
            out_end: 0,
            eof: false,
            finished: false,
            line: 1,
            failed: None,
        }
    }

    fn bad_bytes(&self, line: u64) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            BadBytes {
                line,
                encoding: self.encoding,
            },
        )
    }
}

impl<R: Read> Read for StrictDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if let Some(line) = self.failed {
                return Err(self.bad_bytes(line));
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let k = loop {
                    match self.inner.read(&mut self.input) {
                        Ok(k) => break k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                (self.in_start, self.in_end, self.eof) = (0, k, k == 0);
            }
            let src = &self.input[self.in_start..self.in_end];
            let (res, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(src, &mut self.output, self.eof);
            (self.out_start, self.out_end) = (0, written);
            match res {
                encoding_rs::DecoderResult::InputEmpty => {
                    self.line += line_at(src, read) - 1;
                    self.in_start = self.in_end;
                    self.finished = self.eof;
                }
                encoding_rs::DecoderResult::OutputFull => {
                    self.line += line_at(src, read) - 1;
                    self.in_start += read;
                }
                encoding_rs::DecoderResult::Malformed(bad, extra) => {
                    // The bad sequence starts `bad + extra` bytes before the end of what
                    // was read (possibly in the previous block: then at its start).
                    let start = read.saturating_sub(bad as usize + extra as usize);
                    self.failed = Some(self.line + line_at(src, start) - 1);
                    self.in_start += read;
                }
            }
        }
    }
}

impl CsvTable {
    fn open(file: &TableFile) -> Result<Self, Violation> {
        let spec = file.spec;
        let unreadable =
            |d: String| file_violation(spec.name, &file.path, ViolationKind::Unreadable, None, d);
        let enc = sniff_encoding(&file.path).map_err(|(d, line)| Violation {
            location: line.map_or(Location::File, Location::Line),
            ..unreadable(d)
        })?;
        let f = File::open(&file.path).map_err(|e| unreadable(e.to_string()))?;
        let decoded = StrictDecoder::new(BufReader::with_capacity(1 << 20, f), enc);
        let reader: Box<dyn Read + Send> = Box::new(decoded);
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(reader);
        let headers = rdr
            .headers()
            .map_err(|e| match bad_bytes(&e) {
                Some(b) => Violation {
                    location: Location::Line(b.line),
                    ..unreadable(b.to_string())
                },
                None => unreadable(format!("cannot read the header row: {e}")),
            })?
            .clone();
        let names: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
        let mut map = Vec::with_capacity(spec.columns.len());
        for c in spec.columns {
            match names.iter().position(|h| h == c.name) {
                Some(i) => map.push(Some(i)),
                None if spec.added_columns.contains(&c.name) => map.push(None),
                None => {
                    return Err(file_violation(
                        spec.name,
                        &file.path,
                        ViolationKind::MissingColumn,
                        Some(c.name),
                        format!(
                            "required column `{}` ({}) is missing from the header",
                            c.name,
                            c.ty.name()
                        ),
                    ));
                }
            }
        }
        let extras = names
            .iter()
            .enumerate()
            .filter(|(_, n)| spec.index_of(n).is_none())
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Ok(Self {
            spec,
            path: file.path.clone(),
            rdr,
            map,
            extras,
            width: names.len(),
            done: false,
        })
    }
}

/// The [`BadBytes`] a CSV error carries, when reading stopped at one.
fn bad_bytes(e: &csv::Error) -> Option<&BadBytes> {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.get_ref().and_then(|x| x.downcast_ref::<BadBytes>()),
        _ => None,
    }
}

impl Iterator for CsvTable {
    type Item = Result<RawBatch, Violation>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let spec = self.spec;
        let mut cols: Vec<ColumnBuilder> = spec
            .columns
            .iter()
            .map(|c| ColumnBuilder::new(c.ty))
            .collect();
        let mut extra_cols: Vec<Vec<Option<String>>> = vec![Vec::new(); self.extras.len()];
        let mut locations = Vec::new();
        let mut marks = Vec::new();
        let mut bad_records = Vec::new();
        let mut rec = csv::StringRecord::new();
        while locations.len() < READ_BATCH_ROWS {
            match self.rdr.read_record(&mut rec) {
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Ok(true) => {}
                Err(e) => {
                    self.done = true;
                    let bad = bad_bytes(&e);
                    let line = bad
                        .map(|b| b.line)
                        .or_else(|| e.position().map(|p| p.line()))
                        .unwrap_or(0);
                    let kind = if bad.is_some() || matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                        ViolationKind::Unreadable
                    } else {
                        ViolationKind::BadRecord
                    };
                    let v = Violation {
                        table: spec.name.to_string(),
                        file: self.path.clone(),
                        location: Location::Line(line),
                        column: None,
                        kind,
                        action: Action::FileRejected,
                        value: String::new(),
                        detail: format!("reading stopped here: {e}"),
                    };
                    return Some(Err(v));
                }
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            if rec.len() == 1 && rec.get(0).is_some_and(|f| f.trim().is_empty()) && self.width > 1 {
                continue; // blank line
            }
            if rec.len() != self.width {
                let v = Violation {
                    table: spec.name.to_string(),
                    file: self.path.clone(),
                    location: Location::Line(line),
                    column: None,
                    kind: ViolationKind::BadRecord,
                    action: Action::RowRejected,
                    value: String::new(),
                    detail: format!("{} fields, the header has {}", rec.len(), self.width),
                };
                bad_records.push((v, rec.iter().collect::<Vec<_>>().join(",")));
                continue;
            }
            let row = locations.len();
            for (ci, c) in spec.columns.iter().enumerate() {
                let Some(fi) = self.map[ci] else {
                    cols[ci].append_null(); // an added column the file lacks
                    continue;
                };
                let text = &rec[fi];
                if let Err(detail) = parse_cell(&mut cols[ci], c.ty, text) {
                    cols[ci].append_null();
                    marks.push(Mark {
                        row,
                        col: ci,
                        kind: ViolationKind::NotParseable,
                        value: text.to_string(),
                        detail,
                    });
                }
            }
            for (k, (_, fi)) in self.extras.iter().enumerate() {
                let t = &rec[*fi];
                extra_cols[k].push((!t.is_empty()).then(|| t.to_string()));
            }
            locations.push(Location::Line(line));
        }
        if locations.is_empty() && bad_records.is_empty() {
            return None;
        }
        let mut fields: Vec<Field> = spec
            .columns
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow(), true))
            .collect();
        let mut arrays: Vec<ArrayRef> = cols.iter_mut().map(ColumnBuilder::finish).collect();
        for ((name, _), vals) in self.extras.iter().zip(extra_cols) {
            fields.push(Field::new(name, DataType::Utf8, true));
            arrays.push(Arc::new(StringArray::from(vals)));
        }
        let batch =
            RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("typed columns");
        Some(Ok(RawBatch {
            batch,
            locations,
            marks,
            bad_records,
        }))
    }
}

/// Parses one CSV cell into `b`. Empty text is null (the validator decides whether null
/// is allowed). Dates are read by [`parse_csv_date`] (`YYYY-MM-DD`, `YYYY/M/D` as Japanese
/// Excel writes them, `YYYYMMDD`, 和暦 `GYYMMDD`).
fn parse_cell(b: &mut ColumnBuilder, ty: ColType, text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        b.append_null();
        return Ok(());
    }
    match (b, ty) {
        (ColumnBuilder::Str(b), _) => b.append_value(text),
        (ColumnBuilder::U8(b), _) => b.append_value(
            t.parse::<u8>()
                .map_err(|_| "an integer 0–255".to_string())?,
        ),
        (ColumnBuilder::I32(b), _) => {
            b.append_value(t.parse::<i32>().map_err(|_| "an integer".to_string())?)
        }
        (ColumnBuilder::I64(b), _) => {
            b.append_value(t.parse::<i64>().map_err(|_| "an integer".to_string())?)
        }
        (ColumnBuilder::F64(b), _) => {
            let v = t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| "a number".to_string())?;
            b.append_value(v)
        }
        (ColumnBuilder::Bool(b), _) => b.append_value(
            parse_bool(t)
                .ok_or_else(|| "true/false, 1/0, はい/いいえ, ○/× or あり/なし".to_string())?,
        ),
        (ColumnBuilder::Date(b), _) => b.append_value(date_to_days(
            parse_csv_date(t).ok_or_else(|| "a date YYYY-MM-DD".to_string())?,
        )),
    }
    Ok(())
}

/// A boolean cell (already trimmed): `true`/`false`, `1`/`0`, `t`/`f`, and the forms a
/// nurse writes in a Japanese sheet — はい/いいえ, ○/× (○ U+25CB, also 〇 U+3007 and ◯
/// U+25EF as IMEs offer them; × U+00D7), あり/なし.
fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "true" | "TRUE" | "True" | "1" | "t" | "T" => Some(true),
        "false" | "FALSE" | "False" | "0" | "f" | "F" => Some(false),
        "はい" | "○" | "〇" | "◯" | "あり" => Some(true),
        "いいえ" | "×" | "なし" => Some(false),
        _ => None,
    }
}

// ---------------------------------------------------------------- Parquet

struct ParquetTable {
    spec: &'static TableSpec,
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    /// For each contract column, its index in the file (`None`: an added column the file
    /// lacks, read as null).
    map: Vec<Option<usize>>,
    extras: Vec<usize>,
    next_row: u64,
}

impl ParquetTable {
    fn open(file: &TableFile) -> Result<Self, Violation> {
        let spec = file.spec;
        let unreadable =
            |d: String| file_violation(spec.name, &file.path, ViolationKind::Unreadable, None, d);
        let f = File::open(&file.path).map_err(|e| unreadable(e.to_string()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| unreadable(format!("not a readable Parquet file: {e}")))?;
        let schema = builder.schema().clone();
        let mut map = Vec::new();
        for c in spec.columns {
            let Some((i, field)) = schema.column_with_name(c.name) else {
                if spec.added_columns.contains(&c.name) {
                    map.push(None);
                    continue;
                }
                return Err(file_violation(
                    spec.name,
                    &file.path,
                    ViolationKind::MissingColumn,
                    Some(c.name),
                    format!("required column `{}` ({}) is missing", c.name, c.ty.name()),
                ));
            };
            if let Err(why) = compatible(field.data_type(), c.ty) {
                return Err(file_violation(
                    spec.name,
                    &file.path,
                    ViolationKind::WrongType,
                    Some(c.name),
                    format!(
                        "column `{}` is {}; expected {} ({why})",
                        c.name,
                        field.data_type(),
                        c.ty.name()
                    ),
                ));
            }
            map.push(Some(i));
        }
        let extras = (0..schema.fields().len())
            .filter(|i| !map.contains(&Some(*i)))
            .collect();
        let reader = builder
            .with_batch_size(READ_BATCH_ROWS)
            .build()
            .map_err(|e| unreadable(format!("cannot read: {e}")))?;
        Ok(Self {
            spec,
            path: file.path.clone(),
            reader,
            map,
            extras,
            next_row: 1,
        })
    }
}

/// Whether a Parquet column of type `dt` can be read as `ty`.
fn compatible(dt: &DataType, ty: ColType) -> Result<(), &'static str> {
    use DataType as D;
    let dt = match dt {
        D::Dictionary(_, v) => v.as_ref(),
        other => other,
    };
    let int = dt.is_integer();
    let ok = match ty {
        ColType::Str => {
            if int {
                return Err("codes must be stored as strings: integers lose leading zeros");
            }
            matches!(dt, D::Utf8 | D::LargeUtf8 | D::Utf8View)
        }
        ColType::U8 | ColType::I32 | ColType::I64 => int || dt.is_floating(),
        ColType::F64 => int || dt.is_floating(),
        ColType::Bool => matches!(dt, D::Boolean) || int,
        ColType::Date => {
            matches!(
                dt,
                D::Date32 | D::Date64 | D::Timestamp(_, _) | D::Utf8 | D::LargeUtf8 | D::Utf8View
            )
        }
    };
    if ok { Ok(()) } else { Err("no conversion") }
}

impl Iterator for ParquetTable {
    type Item = Result<RawBatch, Violation>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.reader.next()? {
            Ok(b) => b,
            Err(e) => {
                return Some(Err(Violation {
                    table: self.spec.name.to_string(),
                    file: self.path.clone(),
                    location: Location::Row(self.next_row),
                    column: None,
                    kind: ViolationKind::Unreadable,
                    action: Action::FileRejected,
                    value: String::new(),
                    detail: format!("reading stopped here: {e}"),
                }));
            }
        };
        let n = batch.num_rows();
        let mut marks = Vec::new();
        let mut fields = Vec::new();
        let mut arrays = Vec::new();
        for (ci, c) in self.spec.columns.iter().enumerate() {
            let (arr, bad) = match self.map[ci] {
                Some(i) => coerce(batch.column(i), c.ty),
                // An added column the file lacks.
                None => (arrow_array::new_null_array(&c.ty.arrow(), n), Vec::new()),
            };
            for (row, value, detail) in bad {
                marks.push(Mark {
                    row,
                    col: ci,
                    kind: ViolationKind::NotParseable,
                    value,
                    detail,
                });
            }
            fields.push(Field::new(c.name, c.ty.arrow(), true));
            arrays.push(arr);
        }
        let schema = batch.schema();
        for &i in &self.extras {
            fields.push(schema.field(i).clone().with_nullable(true));
            arrays.push(batch.column(i).clone());
        }
        let out =
            RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("coerced columns");
        let locations = (0..n as u64)
            .map(|k| Location::Row(self.next_row + k))
            .collect();
        self.next_row += n as u64;
        Some(Ok(RawBatch {
            batch: out,
            locations,
            marks,
            bad_records: Vec::new(),
        }))
    }
}

/// Converts a column to the contract type. Values that cannot be converted become null
/// and are returned as (row, text, expectation).
fn coerce(arr: &ArrayRef, ty: ColType) -> (ArrayRef, Vec<(usize, String, String)>) {
    let target = ty.arrow();
    if arr.data_type() == &target {
        return (arr.clone(), Vec::new());
    }
    let mut bad = Vec::new();
    let show = |a: &ArrayRef, i: usize| {
        arrow_cast::display::array_value_to_string(a, i).unwrap_or_default()
    };
    // Floats read into integer columns must be whole numbers (pandas stores nullable
    // integers as float64).
    if target.is_integer() && arr.data_type().is_floating() {
        let f = arrow_cast::cast(arr, &DataType::Float64).expect("float to f64");
        let f = f.as_primitive::<Float64Type>();
        let mut b = ColumnBuilder::new(ty);
        for i in 0..f.len() {
            if f.is_null(i) {
                b.append_null();
                continue;
            }
            let v = f.value(i);
            let ok = v.fract() == 0.0 && v.is_finite();
            let fits = match &mut b {
                ColumnBuilder::U8(x) if ok && (0.0..=255.0).contains(&v) => {
                    x.append_value(v as u8);
                    true
                }
                ColumnBuilder::I32(x) if ok && v.abs() <= i32::MAX as f64 => {
                    x.append_value(v as i32);
                    true
                }
                ColumnBuilder::I64(x) if ok && v.abs() <= 9.0e15 => {
                    x.append_value(v as i64);
                    true
                }
                _ => false,
            };
            if !fits {
                b.append_null();
                bad.push((
                    i,
                    show(arr, i),
                    format!("a whole number that fits {}", ty.name()),
                ));
            }
        }
        return (b.finish(), bad);
    }
    if ty == ColType::Date
        && matches!(
            arr.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    {
        let s = arrow_cast::cast(arr, &DataType::Utf8).expect("string to utf8");
        let s = s.as_string::<i32>();
        let mut b = ColumnBuilder::new(ty);
        for i in 0..s.len() {
            if s.is_null(i) || s.value(i).trim().is_empty() {
                b.append_null();
            } else if let Some(d) = parse_csv_date(s.value(i).trim()) {
                if let ColumnBuilder::Date(x) = &mut b {
                    x.append_value(date_to_days(d));
                }
            } else {
                b.append_null();
                bad.push((i, s.value(i).to_string(), "a date YYYY-MM-DD".to_string()));
            }
        }
        return (b.finish(), bad);
    }
    if ty == ColType::Bool && arr.data_type().is_integer() {
        let i64s = arrow_cast::cast(arr, &DataType::Int64).expect("int to i64");
        let v = i64s.as_primitive::<arrow_array::types::Int64Type>();
        let out: BooleanArray = (0..v.len())
            .map(|i| {
                if v.is_null(i) {
                    return None;
                }
                match v.value(i) {
                    0 => Some(false),
                    1 => Some(true),
                    _ => {
                        bad.push((i, v.value(i).to_string(), "true/false or 1/0".to_string()));
                        None
                    }
                }
            })
            .collect();
        return (Arc::new(out), bad);
    }
    let opts = arrow_cast::CastOptions {
        safe: true,
        ..Default::default()
    };
    let out = arrow_cast::cast_with_options(arr, &target, &opts)
        .unwrap_or_else(|_| arrow_array::new_null_array(&target, arr.len()));
    for i in 0..arr.len() {
        if arr.is_valid(i) && out.is_null(i) {
            bad.push((i, show(arr, i), format!("a value of type {}", ty.name())));
        }
    }
    (out, bad)
}

/// Number of nulls in `column` of a Parquet file, from the row groups' statistics, or
/// `None` when the file or its statistics do not say (the caller must then assume nulls).
pub fn parquet_null_count(path: &Path, column: &str) -> Option<u64> {
    let f = File::open(path).ok()?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(f).ok()?;
    use parquet::file::reader::FileReader;
    let meta = reader.metadata();
    let idx = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.name() == column)?;
    let mut total = 0u64;
    for rg in meta.row_groups() {
        total += rg.column(idx).statistics()?.null_count_opt()?;
    }
    Some(total)
}

/// Number of rows of a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> Option<u64> {
    let f = File::open(path).ok()?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(f).ok()?;
    use parquet::file::reader::FileReader;
    Some(reader.metadata().file_metadata().num_rows() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TABLES;

    /// The `persons` table as a CSV file in `dir`: its header, then `body` as given.
    fn table_file(dir: &Path, body: &[u8]) -> TableFile {
        let spec = TABLES[0];
        let header: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        let path = dir.join(format!("{}.csv", spec.name));
        let mut bytes = format!("{}\n", header.join(",")).into_bytes();
        bytes.extend_from_slice(body);
        std::fs::write(&path, bytes).expect("write");
        TableFile {
            spec,
            path,
            format: Format::Csv,
        }
    }

    /// A row of the table: `cell` in the first column, the others empty.
    fn row(cell: &[u8]) -> Vec<u8> {
        let mut r = cell.to_vec();
        r.extend(std::iter::repeat_n(b',', TABLES[0].columns.len() - 1));
        r.push(b'\n');
        r
    }

    /// The violation that stops reading `file` (at opening or in a batch), if any, and the
    /// first-column values of the rows read before it.
    fn read_all(file: &TableFile) -> (Option<Violation>, Vec<String>) {
        let mut ids = Vec::new();
        let batches = match open(file) {
            Ok(b) => b,
            Err(v) => return (Some(v), ids),
        };
        for b in batches {
            match b {
                Ok(raw) => {
                    let col = raw.batch.column(0).as_string::<i32>();
                    ids.extend((0..col.len()).map(|i| col.value(i).to_string()));
                }
                Err(v) => return (Some(v), ids),
            }
        }
        (None, ids)
    }

    /// A file without a column added to the contract later (`claim_diagnoses.main_diagnosis`)
    /// reads with that column all null; without any other column it is a file error.
    #[test]
    fn an_added_column_missing_from_the_file_reads_as_null() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = crate::schema::table("claim_diagnoses").expect("claim_diagnoses");
        let path = dir.path().join("claim_diagnoses.csv");
        std::fs::write(
            &path,
            "claim_id,person_id,service_month,disease_code,icd10,suspected,start_date,outcome\n\
             c1,p1,2024-05-01,8840107,,はい,,1\n",
        )
        .expect("write");
        let file = TableFile {
            spec,
            path: path.clone(),
            format: Format::Csv,
        };
        let batches: Vec<RawBatch> = open(&file)
            .expect("opens")
            .map(|b| b.expect("batch"))
            .collect();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert!(b.marks.is_empty(), "{:?}", b.marks);
        let main = spec.index_of("main_diagnosis").expect("column");
        assert_eq!(b.batch.num_columns(), spec.columns.len());
        assert_eq!(b.batch.column(main).null_count(), 1);
        let suspected = b.batch.column(spec.index_of("suspected").expect("column"));
        assert!(suspected.as_boolean().value(0), "はい is true");
        // Without `outcome` (not an added column) the file is rejected, naming the column.
        std::fs::write(
            &path,
            "claim_id,person_id,service_month,disease_code,icd10,suspected,start_date\n",
        )
        .expect("write");
        let v = open(&file).err().expect("a missing column");
        assert_eq!(
            (v.kind, v.column.as_deref()),
            (ViolationKind::MissingColumn, Some("outcome"))
        );
    }

    #[test]
    fn booleans_in_japanese_sheets() {
        for t in ["true", "1", "はい", "○", "〇", "◯", "あり"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for t in ["false", "0", "いいえ", "×", "なし"] {
            assert_eq!(parse_bool(t), Some(false), "{t}");
        }
        for t in ["yes", "済", "x", ""] {
            assert_eq!(parse_bool(t), None, "{t}");
        }
    }

    #[test]
    fn an_invalid_byte_on_line_3_rejects_the_file_naming_line_3() {
        let dir = tempfile::tempdir().expect("tempdir");
        let body = [row(b"p1"), row(b"p\xFF2"), row(b"p3")].concat();
        let file = table_file(dir.path(), &body);
        let (v, _) = read_all(&file);
        let v = v.expect("an error");
        assert_eq!(
            (v.location, v.action, v.kind),
            (
                Location::Line(3),
                Action::FileRejected,
                ViolationKind::Unreadable
            )
        );
        let text = v.to_string();
        assert!(
            text.starts_with(&format!("{}: line 3: ", file.path.display())),
            "{text}"
        );
    }

    #[test]
    fn an_invalid_byte_after_the_sniffed_64_kib_rejects_the_file_naming_its_line() {
        // Header, 1,000 rows of 100+ bytes (more than 64 KiB of UTF-8, so the encoding is
        // chosen as UTF-8), then line 1002 with a 0xFF byte: it used to become U+FFFD.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut body: Vec<u8> = (0..1000).flat_map(|_| row(&[b'a'; 100])).collect();
        body.extend(row(b"x\xFFy"));
        body.extend(row(b"z"));
        assert!(body.len() > 1 << 16);
        let file = table_file(dir.path(), &body);
        let (v, _) = read_all(&file);
        let v = v.expect("an error");
        assert_eq!(
            (v.location, v.action, v.kind),
            (
                Location::Line(1002),
                Action::FileRejected,
                ViolationKind::Unreadable
            )
        );
        assert!(
            v.detail.contains("line 1002") && v.detail.contains("UTF-8"),
            "{v}"
        );
    }

    #[test]
    fn utf8_with_bom_and_shift_jis_are_read_as_before() {
        let dir = tempfile::tempdir().expect("tempdir");
        let body = [row("東京".as_bytes()), row("ｶﾅ".as_bytes())].concat();
        // UTF-8 with a BOM before the header.
        let file = table_file(dir.path(), &body);
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend(std::fs::read(&file.path).expect("read"));
        std::fs::write(&file.path, with_bom).expect("write");
        let (v, ids) = read_all(&file);
        assert!(v.is_none(), "{v:?}");
        assert_eq!(ids, ["東京", "ｶﾅ"]);
        // Shift_JIS.
        let (sjis, _, bad) =
            encoding_rs::SHIFT_JIS.encode(std::str::from_utf8(&body).expect("utf-8"));
        assert!(!bad);
        let file = table_file(dir.path(), &sjis);
        let (v, ids) = read_all(&file);
        assert!(v.is_none(), "{v:?}");
        assert_eq!(ids, ["東京", "ｶﾅ"]);
    }
}
