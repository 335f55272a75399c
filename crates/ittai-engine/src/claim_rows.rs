//! Each claim line's claim as a row number of `medical_claims`, so that the passes over
//! the line files (`claim_diagnoses`, `claim_drugs`) read a 4-byte number per line instead
//! of its `claim_id`, and find the claim in an array instead of hashing the id.
//!
//! `claim_id` is nearly unique per row and is most of the bytes the line passes decompress
//! (83 % of `claim_drugs` at 1,000,000 insured, docs/PERFORMANCE.md); the indicators read
//! each line file once per FY. The map from lines to claims is a property of the files
//! alone, so it is computed once per dataset and kept:
//!
//! - **What is stored**: for each line file, one little-endian `u32` per file row (in file
//!   order): the 0-based file row in `medical_claims` of the first claim whose `claim_id`
//!   equals the line's, or [`NO_CLAIM`] for a line with a null `claim_id` or a `claim_id`
//!   absent from `medical_claims`. A validated dataset has neither (the validator rejects
//!   such lines and repeated `claim_id`s: docs/VALIDATION.md). The form, its cache key
//!   and its folder are defined once, in `ittai_dataset::claim_rows`, because the
//!   validator writes them too: a validation of clean Parquet in place leaves them in the
//!   cache, and this module builds them only when no validation did.
//! - **How ids are compared**: by the XXH3-128 hash of `claim_id`, the hash the validator
//!   uses (docs/DECISIONS.md, D103), of which 96 bits are kept beside the 32-bit row.
//!   Two different ids share 96 bits with a chance of about n²/2⁹⁷ for n claims: 3 × 10⁻¹⁴
//!   for the 67.5 million claims of 1,000,000 insured over four FYs.
//! - **Where it is kept**: `<cache>/claim_rows/<key>/` (the cache folder of the validation
//!   stamps), where `<key>` is the SHA-256 of `ittai_dataset::claim_rows::REVISION` and
//!   of the SHA-256 of the three claim files, so a changed file never meets an old map. Without those hashes (a staged
//!   copy, a dataset opened directly) the map is built into a temporary folder that lives
//!   as long as the [`crate::Sources`].
//!
//! The files hold row numbers, not identifiers, and are written owner-readable.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use polars::prelude::{PolarsResult, polars_err};
use rayon::prelude::*;

use crate::lines::{column, plain_str, scan_numbered};

pub(crate) use ittai_dataset::claim_rows::{LINE_TABLES, NO_CLAIM, file_name};

/// The claim rows of one dataset's line files (see the module docs).
#[derive(Debug)]
pub(crate) struct ClaimRows {
    dir: PathBuf,
    /// Holds a temporary folder alive.
    _temp: Option<tempfile::TempDir>,
    /// Rows of `medical_claims`.
    pub(crate) claims: u64,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> polars::prelude::PolarsError {
    polars_err!(ComputeError: "{}: {e}", path.display())
}

/// The rows of the Parquet file `path` (from its footer).
fn parquet_rows(path: &Path) -> PolarsResult<u64> {
    ittai_dataset::parquet_rows(path).ok_or_else(|| io_err(path, "not a readable Parquet file"))
}

impl ClaimRows {
    /// The claim rows of the dataset in `dir`: read from `cache` (a folder) when it holds
    /// them for files of these sizes and not `rebuild`, else built there, or in a
    /// temporary folder when `cache` is `None` or cannot be written.
    ///
    /// # Errors
    /// I/O and schema errors of the claim files, or of the temporary folder.
    pub(crate) fn open(dir: &Path, cache: Option<&Path>, rebuild: bool) -> PolarsResult<Self> {
        let claims = parquet_rows(&dir.join("medical_claims.parquet"))?;
        let mut sizes = Vec::new();
        for t in LINE_TABLES {
            sizes.push(parquet_rows(&dir.join(format!("{t}.parquet")))?);
        }
        if let Some(cache) = cache {
            let complete = !rebuild
                && LINE_TABLES.iter().zip(&sizes).all(|(t, &n)| {
                    std::fs::metadata(cache.join(file_name(t))).is_ok_and(|m| m.len() == n * 4)
                });
            // A cache folder that cannot be written falls back to a temporary folder; an
            // error reading the claim files is the caller's, and is not retried.
            let writable = || {
                std::fs::create_dir_all(cache).is_ok()
                    && tempfile::NamedTempFile::new_in(cache).is_ok()
            };
            if complete || writable() {
                if !complete {
                    build(dir, cache)?;
                }
                return Ok(Self {
                    dir: cache.to_path_buf(),
                    _temp: None,
                    claims,
                });
            }
        }
        let temp = tempfile::Builder::new()
            .prefix("ittai-claim-rows")
            .tempdir()
            .map_err(|e| polars_err!(ComputeError: "a temporary folder for claim rows: {e}"))?;
        build(dir, temp.path())?;
        Ok(Self {
            dir: temp.path().to_path_buf(),
            _temp: Some(temp),
            claims,
        })
    }

    /// A reader of the claim rows of line file `table` (one of [`LINE_TABLES`]), one per
    /// thread; the file is opened on the first read.
    pub(crate) fn reader(&self, table: &str) -> RowReader {
        RowReader {
            file: None,
            path: self.dir.join(file_name(table)),
            bytes: Vec::new(),
            rows: Vec::new(),
        }
    }
}

/// Reads the claim rows of batches of a line file (see [`ClaimRows::reader`]).
pub(crate) struct RowReader {
    file: Option<File>,
    path: PathBuf,
    bytes: Vec<u8>,
    rows: Vec<u32>,
}

impl RowReader {
    /// The claim row of each of the file rows `numbers` (ascending, as
    /// [`crate::lines::scan_numbered`] gives them): one read of the span they cover.
    ///
    /// # Errors
    /// The file cannot be opened or read, or the rows go beyond its end.
    pub(crate) fn of(&mut self, numbers: &[u64]) -> PolarsResult<&[u32]> {
        self.rows.clear();
        let (Some(&first), Some(&last)) = (numbers.first(), numbers.last()) else {
            return Ok(&self.rows);
        };
        if self.file.is_none() {
            self.file = Some(File::open(&self.path).map_err(|e| io_err(&self.path, e))?);
        }
        let file = self.file.as_mut().expect("opened above");
        self.bytes.resize(((last - first + 1) * 4) as usize, 0);
        file.seek(SeekFrom::Start(first * 4))
            .and_then(|_| file.read_exact(&mut self.bytes))
            .map_err(|e| io_err(&self.path, e))?;
        self.rows.extend(numbers.iter().map(|&n| {
            let at = ((n - first) * 4) as usize;
            u32::from_le_bytes([
                self.bytes[at],
                self.bytes[at + 1],
                self.bytes[at + 2],
                self.bytes[at + 3],
            ])
        }));
        Ok(&self.rows)
    }
}

/// The claims of `medical_claims` by the XXH3-128 hash of their `claim_id`: the hashes
/// sorted, with a directory of the first entry for each value of their top bits, and the
/// hash of each row in file order.
///
/// A line's claim is looked for first among the few rows after the previous line's claim
/// ([`ClaimIndex::after`]), where it is when the line files follow the claims' order, as
/// files written claim by claim do; a look-up in the sorted hashes costs two or three
/// cache misses, and at 1,000,000 insured there are tens of millions of them.
struct ClaimIndex {
    /// (high half of the hash, low half with its lower 32 bits replaced by the file row),
    /// sorted, so equal hashes are adjacent and in file order.
    entries: Vec<(u64, u64)>,
    /// The hash of each file row, in one part per thread range (part `i` starts at row
    /// `part_start[i]`), the low half's lowest bit set when the row holds the first claim
    /// with that hash; (0, 0) for a null `claim_id`.
    by_row: Vec<Vec<(u64, u64)>>,
    part_start: Vec<usize>,
    /// Entries whose high half's top `bits` bits are `b` are `entries[start[b]..start[b+1]]`.
    start: Vec<u32>,
    bits: u32,
}

const ROW_MASK: u64 = 0xffff_ffff;

/// The validator's claim key ([`ittai_dataset::claim_hash`]) as (high, low) halves.
fn key(id: &str) -> (u64, u64) {
    let h = ittai_dataset::claim_hash(id);
    ((h >> 64) as u64, h as u64)
}

impl ClaimIndex {
    fn build(path: &Path) -> PolarsResult<Self> {
        let rows = parquet_rows(path)?;
        if rows >= u64::from(NO_CLAIM) {
            return Err(io_err(path, "more claims than 4,294,967,294"));
        }
        // Without a row filter each thread's range is consecutive rows, and the ranges
        // come back in file order. (Each sized for its range: growing vectors of a
        // gigabyte copies them and holds both copies for a moment.)
        let by_row = scan_numbered(
            path,
            &["claim_id"],
            &["claim_id"],
            None,
            Vec::with_capacity,
            |acc: &mut Vec<(u64, u64)>, batch, _| {
                let id = column(batch, "claim_id")?;
                for row in 0..batch.num_rows() {
                    acc.push(plain_str(id, row).map_or((0, 0), |s| {
                        let (hi, lo) = key(s);
                        (hi, (lo & !ROW_MASK) | 1)
                    }));
                }
                Ok(())
            },
        )?;
        let mut part_start = Vec::with_capacity(by_row.len());
        let mut entries = Vec::with_capacity(rows as usize);
        let mut at = 0usize;
        for part in &by_row {
            part_start.push(at);
            for (i, &(hi, lo)) in part.iter().enumerate() {
                if lo & 1 == 1 {
                    entries.push((hi, (lo & !ROW_MASK) | (at + i) as u64));
                }
            }
            at += part.len();
        }
        if at as u64 != rows {
            return Err(io_err(
                path,
                "the rows read differ from the rows in the footer",
            ));
        }
        entries.par_sort_unstable();
        let mut index = Self {
            entries,
            by_row,
            part_start,
            start: Vec::new(),
            bits: 1,
        };
        // A repeated hash: the rows after the first are not first.
        for i in 1..index.entries.len() {
            let (a, b) = (index.entries[i - 1], index.entries[i]);
            if a.0 == b.0 && (a.1 ^ b.1) & !ROW_MASK == 0 {
                let (p, j) = index.part_of((b.1 & ROW_MASK) as usize);
                index.by_row[p][j].1 &= !1;
            }
        }
        // About four entries per directory slot.
        let n = index.entries.len();
        let bits = (usize::BITS - n.max(1).leading_zeros())
            .saturating_sub(2)
            .clamp(1, 26);
        let mut start = vec![0u32; (1usize << bits) + 1];
        for &(hi, _) in &index.entries {
            start[(hi >> (64 - bits)) as usize + 1] += 1;
        }
        for b in 0..1usize << bits {
            start[b + 1] += start[b];
        }
        index.start = start;
        index.bits = bits;
        Ok(index)
    }

    /// The part of `by_row` holding file row `row`, and the row's index in it.
    #[inline]
    fn part_of(&self, row: usize) -> (usize, usize) {
        let p = self.part_start.partition_point(|&s| s <= row) - 1;
        (p, row - self.part_start[p])
    }

    /// How many rows after the previous line's claim [`ClaimIndex::after`] looks at.
    const AHEAD: usize = 8;

    /// The file row of the first claim with hash `k`, looked for first in the
    /// [`ClaimIndex::AHEAD`] rows after `prev` (the previous line's claim).
    fn after(&self, prev: u32, k: (u64, u64)) -> u32 {
        if prev != NO_CLAIM {
            let (p, j) = self.part_of(prev as usize);
            let part = &self.by_row[p];
            let to = (j + 1 + Self::AHEAD).min(part.len());
            for (i, &(hi, lo)) in part[(j + 1).min(to)..to].iter().enumerate() {
                if hi == k.0 && (lo ^ k.1) & !ROW_MASK == 0 && lo & 1 == 1 {
                    return (prev as usize + 1 + i) as u32;
                }
            }
        }
        self.find(k)
    }

    /// The file row of the first claim with hash `k`, [`NO_CLAIM`] without one.
    fn find(&self, (hi, lo): (u64, u64)) -> u32 {
        let b = (hi >> (64 - self.bits)) as usize;
        let slot = &self.entries[self.start[b] as usize..self.start[b + 1] as usize];
        slot.iter()
            .find(|&&(h, l)| h == hi && l & !ROW_MASK == lo & !ROW_MASK)
            .map_or(NO_CLAIM, |&(_, l)| (l & ROW_MASK) as u32)
    }
}

/// Builds the claim rows of the dataset in `dir` into the folder `dest` (each file
/// written under a temporary name, then renamed).
fn build(dir: &Path, dest: &Path) -> PolarsResult<()> {
    let index = ClaimIndex::build(&dir.join("medical_claims.parquet"))?;
    for table in LINE_TABLES {
        let path = dir.join(format!("{table}.parquet"));
        let rows = parquet_rows(&path)?;
        let tmp = tempfile::NamedTempFile::new_in(dest).map_err(|e| io_err(dest, e))?;
        tmp.as_file()
            .set_len(rows * 4)
            .map_err(|e| io_err(tmp.path(), e))?;
        let tmp_path = tmp.path().to_path_buf();
        // Each thread writes its own range of rows through its own handle.
        scan_numbered(
            &path,
            &["claim_id"],
            &["claim_id"],
            None,
            |_| None::<(File, Vec<u8>)>,
            |state, batch, numbers| {
                let Some(&first) = numbers.first() else {
                    return Ok(());
                };
                if state.is_none() {
                    let f = File::options()
                        .write(true)
                        .open(&tmp_path)
                        .map_err(|e| io_err(&tmp_path, e))?;
                    *state = Some((f, Vec::new()));
                }
                let (file, buf) = state.as_mut().expect("opened above");
                buf.clear();
                let id = column(batch, "claim_id")?;
                // The lines of one claim are usually consecutive.
                let mut last: Option<(&str, u32)> = None;
                for row in 0..batch.num_rows() {
                    let r = match plain_str(id, row) {
                        None => NO_CLAIM,
                        Some(s) => match last {
                            Some((prev, r)) if prev == s => r,
                            _ => {
                                let r = index.after(last.map_or(NO_CLAIM, |l| l.1), key(s));
                                last = Some((s, r));
                                r
                            }
                        },
                    };
                    buf.extend_from_slice(&r.to_le_bytes());
                }
                // Without a row filter a batch's rows are consecutive file rows.
                file.seek(SeekFrom::Start(first * 4))
                    .and_then(|_| file.write_all(buf))
                    .map_err(|e| io_err(&tmp_path, e))
            },
        )?;
        tmp.as_file().sync_all().map_err(|e| io_err(&tmp_path, e))?;
        let to = dest.join(file_name(table));
        tmp.persist(&to).map_err(|e| io_err(&to, e.error))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    fn write_ids(path: &Path, ids: &[Option<&str>], rows_per_group: usize) {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "claim_id",
            DataType::Utf8,
            true,
        )]));
        let f = File::create(path).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows_per_group))
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema.clone(), Some(props)).unwrap();
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(ids.to_vec())) as _])
                .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    fn read_all(rows: &ClaimRows, table: &str, n: u64) -> Vec<u32> {
        let numbers: Vec<u64> = (0..n).collect();
        rows.reader(table).of(&numbers).unwrap().to_vec()
    }

    /// Hand-made files: repeated, missing and null ids, lines out of claim order, and row
    /// groups smaller than the files so that the threads' ranges and batches are
    /// exercised.
    #[test]
    fn each_line_gets_the_file_row_of_its_first_claim() {
        let dir = tempfile::tempdir().unwrap();
        let claims = ["c0", "c1", "c2", "c1", "c3"]; // c1 twice: the first (row 1) counts
        write_ids(
            &dir.path().join("medical_claims.parquet"),
            &claims.iter().map(|s| Some(*s)).collect::<Vec<_>>(),
            2,
        );
        let dx = [
            Some("c2"),
            Some("c2"),
            None,
            Some("c9"),
            Some("c0"),
            Some("c1"),
        ];
        write_ids(&dir.path().join("claim_diagnoses.parquet"), &dx, 2);
        // c1 after c2: the row after c2's is a c1, but not the first one.
        let drugs = [
            Some("c3"),
            Some("c1"),
            Some("c1"),
            Some("c3"),
            Some("c2"),
            Some("c1"),
            Some("c2"),
        ];
        write_ids(&dir.path().join("claim_drugs.parquet"), &drugs, 3);

        let cache = dir.path().join("cache");
        let rows = ClaimRows::open(dir.path(), Some(&cache), false).unwrap();
        assert_eq!(rows.claims, 5);
        assert_eq!(
            read_all(&rows, "claim_diagnoses", 6),
            [2, 2, NO_CLAIM, NO_CLAIM, 0, 1]
        );
        assert_eq!(read_all(&rows, "claim_drugs", 7), [4, 1, 1, 4, 2, 1, 2]);
        // A window of scattered rows, as a row filter gives them.
        let mut r = rows.reader("claim_diagnoses");
        assert_eq!(r.of(&[1, 4, 5]).unwrap(), [2, 0, 1]);

        // The cache is used as it is when its sizes match...
        std::fs::write(cache.join(file_name("claim_drugs")), [7u8; 28]).unwrap();
        let again = ClaimRows::open(dir.path(), Some(&cache), false).unwrap();
        assert_eq!(read_all(&again, "claim_drugs", 7), [0x0707_0707; 7]);
        // ...unless asked to rebuild...
        let forced = ClaimRows::open(dir.path(), Some(&cache), true).unwrap();
        assert_eq!(read_all(&forced, "claim_drugs", 7), [4, 1, 1, 4, 2, 1, 2]);
        std::fs::write(cache.join(file_name("claim_drugs")), [7u8; 28]).unwrap();
        // ...and rebuilt when they do not match.
        std::fs::write(cache.join(file_name("claim_drugs")), [7u8; 12]).unwrap();
        let rebuilt = ClaimRows::open(dir.path(), Some(&cache), false).unwrap();
        assert_eq!(read_all(&rebuilt, "claim_drugs", 7), [4, 1, 1, 4, 2, 1, 2]);

        // Without a cache: a temporary folder.
        let temp = ClaimRows::open(dir.path(), None, false).unwrap();
        assert_eq!(read_all(&temp, "claim_drugs", 7), [4, 1, 1, 4, 2, 1, 2]);
    }
}
