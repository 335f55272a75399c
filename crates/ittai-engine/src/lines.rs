//! The claim-line feature groups — medical claims (レセプト), drug lines (医薬品) and
//! diagnoses (傷病名) — and coverage, computed by one pass over each Parquet file in plain
//! Rust.
//!
//! These three tables hold almost all the rows of a union (at 1,000,000 insured over four
//! FYs: 67 M claims, 131 M drug lines, 109 M diagnoses), and every feature on them tests a
//! code against a class, a month against a window and a claim kind against a set. The
//! profile of the polars form of these groups (docs/PERFORMANCE.md) showed the time going
//! to per-row string work: parsing the YJ code's first seven digits, prefix comparisons of
//! ICD-10 codes, hashing `person_id` strings in the group-by. The Parquet files store those
//! strings dictionary-encoded (a row group of a million drug lines has about 2,000 distinct
//! YJ codes and 8,000 persons), so here they are read as Arrow dictionary arrays: each
//! distinct code is classified once per row group ([`Memo`]) and each line costs a few
//! array look-ups. Row groups are split into one contiguous range per thread; the
//! per-thread results are merged (OR, max, concatenation). `claim_id`, nearly unique per
//! row and most of the bytes of the files, is not read here: a drug flag restricted to
//! claim kinds finds a line's claim by its claim row (`crate::claim_rows`) in the kinds
//! of all claims ([`ClaimKinds`]). docs/PERFORMANCE.md has the profiles behind each of
//! these choices.
//!
//! The columns, types and null conventions are those the feature table documents
//! (`features.rs`): `has_…` (bool), `last_<tag>_packed` and `<class>_diagnosis_packed` (u64:
//! service month's day number · 10^9 + code, null when none), `last_<kinds>_month` (date,
//! null when none), `max_monthly_drugs…` (i32) and `…_month` (date), null for persons
//! without lines in the window. The SQL form of the same features (`sql.rs`) is the
//! independent check: the test suite compares both on every kind of condition.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowPrimitiveType, Date32Type, Int32Type, UInt8Type};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType as ArrowType, Field, Schema};
use chrono::{Datelike, NaiveDate};
use itertools::Itertools;
use ittai_model::classes::{DiseaseClass, DrugClass};
use ittai_model::{ClaimKind, Route};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use polars::prelude::{Column, DataFrame, DataType, IntoColumn, NamedFrom, PolarsResult, Series};
use polars::prelude::{PolarsError, polars_err};
use rayon::prelude::*;

use crate::features::{Feature, Frame, PACK, evidence_tag, kinds_tag};
use crate::rules::file::{DrugUnit, Event};
use crate::rules::window::Window;
use crate::source::Sources;

/// Rows per decoded batch: small enough that the batch buffers are reused by the
/// allocator instead of being mapped afresh (page faults were a tenth of the time with
/// batches of a whole row group); dictionaries are classified once per row group anyway
/// ([`Memo`]).
const BATCH_ROWS: usize = 1 << 16;

/// "Not in the population" in a person look-up.
pub(crate) const NO_PID: u32 = u32::MAX;

/// The population's `person_id` → `pid` (row index of the population frame).
pub(crate) struct Population<'a> {
    ids: HashMap<&'a str, u32>,
    person_id: Column,
}

impl<'a> Population<'a> {
    /// From the population frame's `person_id` column (str, unique).
    ///
    /// # Errors
    /// A `person_id` column that is not a string column.
    pub(crate) fn new(pop: &'a DataFrame) -> PolarsResult<Self> {
        let c = pop.column("person_id")?;
        let ids = c
            .str()?
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (s, i as u32)))
            .collect();
        Ok(Self {
            ids,
            person_id: c.clone(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.person_id.len()
    }

    /// The `pid` of a `person_id`, [`NO_PID`] when not in the population.
    pub(crate) fn pid(&self, person_id: Option<&str>) -> u32 {
        person_id
            .and_then(|s| self.ids.get(s).copied())
            .unwrap_or(NO_PID)
    }

    /// The `person_id` column of `batch` (read as a dictionary) with each dictionary value
    /// looked up once (`memo` keeps the look-ups while the next batches share the
    /// dictionary).
    ///
    /// # Errors
    /// A batch without a string `person_id` column.
    pub(crate) fn persons<'m>(
        &self,
        memo: &'m mut Memo<u32>,
        batch: &RecordBatch,
    ) -> PolarsResult<Persons<'m>> {
        let keys = Strings::of(batch, "person_id")?;
        let pids = memo.of(&keys, |s| self.pid(s));
        Ok(Persons { keys, pids })
    }

    /// The `person_id`s of `pids` (str column `person_id`).
    ///
    /// # Errors
    /// A pid outside the population.
    pub(crate) fn ids(&self, pids: &[u32]) -> PolarsResult<Column> {
        let idx = polars::prelude::IdxCa::from_vec(
            "pid".into(),
            pids.iter()
                .map(|&p| p as polars::prelude::IdxSize)
                .collect(),
        );
        self.person_id.take(&idx)
    }
}

fn arrow_err(path: &Path, e: impl std::fmt::Display) -> PolarsError {
    polars_err!(ComputeError: "{}: {e}", path.display())
}

/// A row filter: the column it reads and the rows it keeps.
pub(crate) type Keep = (
    &'static str,
    Arc<dyn Fn(&RecordBatch) -> BooleanArray + Send + Sync>,
);

/// Reads `columns` of the Parquet file `path` in one contiguous range of row groups per
/// thread, string columns as dictionaries except those in `plain` (a column nearly unique
/// per row, such as `medical_claims.claim_id`, where a dictionary costs more than it
/// saves), which are read as string views: a view points into the decompressed page
/// instead of copying each string into a new buffer, and `claim_id` is most of the bytes
/// of the line files (docs/PERFORMANCE.md). `each` is called on every batch with the
/// range's state from `init`, which is given the number of rows in the range (an upper
/// bound on the rows `each` sees there, to size vectors before they fill: a vector that
/// grows by doubling copies itself into fresh pages that the kernel zeroes first, which
/// was a fifth of the time of the indicators' passes, docs/PERFORMANCE.md); the states are
/// returned in file order. With `keep`, only the rows it keeps are passed to `each`.
pub(crate) fn scan<A: Send>(
    path: &Path,
    columns: &[&str],
    plain: &[&str],
    keep: Option<Keep>,
    init: impl Fn(usize) -> A + Sync,
    each: impl Fn(&mut A, &RecordBatch) -> PolarsResult<()> + Sync,
) -> PolarsResult<Vec<A>> {
    scan_numbered(path, columns, plain, keep, init, |acc, batch, _| {
        each(acc, batch)
    })
}

/// As [`scan`], with the file row number (0-based, counting every row of the file) of
/// each row of the batch passed to `each`: the file order that some definitions use as
/// a tie-break.
///
/// With `keep`, its column is read with the others and each batch is filtered before
/// `each` sees it; batches without a kept row are skipped. (A row selection decoding only
/// the kept rows was slower: the files are grouped by person, so an FY's rows are a
/// run per person, and the reader paid for each run in every column; every page is
/// decompressed either way. docs/PERFORMANCE.md.)
pub(crate) fn scan_numbered<A: Send>(
    path: &Path,
    columns: &[&str],
    plain: &[&str],
    keep: Option<Keep>,
    init: impl Fn(usize) -> A + Sync,
    each: impl Fn(&mut A, &RecordBatch, &[u64]) -> PolarsResult<()> + Sync,
) -> PolarsResult<Vec<A>> {
    let open = || -> PolarsResult<ParquetRecordBatchReaderBuilder<File>> {
        let f = File::open(path).map_err(|e| arrow_err(path, e))?;
        ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| arrow_err(path, e))
    };
    let first = open()?;
    // Strings as dictionaries: the reader then keeps each page's dictionary.
    let fields: Vec<Field> = first
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
                if !plain.contains(&f.name().as_str()) =>
            {
                f.as_ref().clone().with_data_type(ArrowType::Dictionary(
                    Box::new(ArrowType::Int32),
                    Box::new(ArrowType::Utf8),
                ))
            }
            // A plain string column: views, not copies ([`plain_str`] reads both).
            ArrowType::Utf8 | ArrowType::LargeUtf8 => {
                f.as_ref().clone().with_data_type(ArrowType::Utf8View)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let group_rows: Vec<u64> = first
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows().max(0) as u64)
        .collect();
    let groups = group_rows.len();
    let threads = rayon::current_num_threads().clamp(1, groups.max(1));
    let ranges: Vec<Vec<usize>> = (0..threads)
        .map(|t| (groups * t / threads..groups * (t + 1) / threads).collect())
        .collect();
    drop(first);
    ranges
        .into_par_iter()
        .map(|rows| {
            let f = File::open(path).map_err(|e| arrow_err(path, e))?;
            let b = ParquetRecordBatchReaderBuilder::try_new_with_options(
                f,
                ArrowReaderOptions::new().with_schema(schema.clone()),
            )
            .map_err(|e| arrow_err(path, e))?;
            let first_row: u64 = rows.first().map_or(0, |&g| group_rows[..g].iter().sum());
            let range_rows: u64 = rows.iter().map(|&g| group_rows[g]).sum();
            let mut read: Vec<&str> = columns.to_vec();
            if let Some((column, _)) = &keep
                && !read.contains(column)
            {
                read.push(column);
            }
            let mask = ProjectionMask::columns(b.parquet_schema(), read.iter().copied());
            let reader = b
                .with_projection(mask)
                .with_row_groups(rows)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| arrow_err(path, e))?;
            let mut state = init(range_rows as usize);
            let mut at = first_row;
            let mut numbers: Vec<u64> = Vec::with_capacity(BATCH_ROWS);
            for batch in reader {
                let batch = batch.map_err(|e| arrow_err(path, e))?;
                let n = batch.num_rows() as u64;
                numbers.clear();
                let batch = match &keep {
                    None => {
                        numbers.extend(at..at + n);
                        batch
                    }
                    Some((column, keep)) => {
                        let one = batch
                            .schema()
                            .index_of(column)
                            .and_then(|c| batch.project(&[c]))
                            .map_err(|e| arrow_err(path, e))?;
                        let kept = keep(&one);
                        numbers.extend(
                            kept.iter()
                                .enumerate()
                                .filter(|(_, k)| *k == Some(true))
                                .map(|(i, _)| at + i as u64),
                        );
                        if numbers.len() as u64 == n {
                            batch
                        } else {
                            arrow_select::filter::filter_record_batch(&batch, &kept)
                                .map_err(|e| arrow_err(path, e))?
                        }
                    }
                };
                at += n;
                if !numbers.is_empty() {
                    each(&mut state, &batch, &numbers)?;
                }
            }
            Ok(state)
        })
        .collect()
}

/// Keeps the rows whose `service_month` is between day numbers `a` and `b` (inclusive).
pub(crate) fn months_between(a: i32, b: i32) -> Keep {
    (
        "service_month",
        Arc::new(move |batch: &RecordBatch| -> BooleanArray {
            let m = batch.column(0).as_primitive::<Date32Type>();
            m.iter()
                .map(|d| Some(d.is_some_and(|d| d >= a && d <= b)))
                .collect()
        }),
    )
}

/// The persons of one batch's rows ([`Population::persons`]).
pub(crate) struct Persons<'m> {
    keys: Strings,
    /// The `pid` of each dictionary value, [`NO_PID`] outside the population.
    pids: &'m [u32],
}

impl Persons<'_> {
    /// The `pid` of row `row`'s person; `None` for a null `person_id` or a person outside
    /// the population.
    #[inline]
    pub(crate) fn pid(&self, row: usize) -> Option<u32> {
        self.keys
            .key(row)
            .map(|k| self.pids[k])
            .filter(|&p| p != NO_PID)
    }
}

/// A string column of a batch as dictionary keys and values.
pub(crate) struct Strings {
    keys: PrimitiveArray<Int32Type>,
    values: ArrayRef,
}

impl Strings {
    pub(crate) fn of(batch: &RecordBatch, name: &str) -> PolarsResult<Self> {
        let a = column(batch, name)?;
        let d = match a.as_dictionary_opt::<Int32Type>() {
            Some(d) => d.clone(),
            None => {
                let to =
                    ArrowType::Dictionary(Box::new(ArrowType::Int32), Box::new(ArrowType::Utf8));
                arrow_cast::cast(a, &to)
                    .map_err(|e| polars_err!(ComputeError: "{name}: {e}"))?
                    .as_dictionary::<Int32Type>()
                    .clone()
            }
        };
        Ok(Self {
            keys: d.keys().clone(),
            values: d.values().clone(),
        })
    }

    fn distinct(&self) -> usize {
        self.values.len()
    }

    /// Whether some row is null.
    pub(crate) fn has_nulls(&self) -> bool {
        self.keys.null_count() > 0
    }

    /// Dictionary value `i` (null for a null value).
    fn value(&self, i: usize) -> Option<&str> {
        if self.values.is_null(i) {
            return None;
        }
        match self.values.data_type() {
            ArrowType::Utf8 => Some(self.values.as_string::<i32>().value(i)),
            ArrowType::LargeUtf8 => Some(self.values.as_string::<i64>().value(i)),
            ArrowType::Utf8View => Some(self.values.as_string_view().value(i)),
            _ => None,
        }
    }

    /// The dictionary index of row `row`, `None` for a null.
    #[inline]
    pub(crate) fn key(&self, row: usize) -> Option<usize> {
        if self.keys.is_null(row) {
            None
        } else {
            Some(self.keys.value(row) as usize)
        }
    }
}

/// What was computed from one dictionary, kept while the next batches carry the same
/// dictionary (a column chunk's batches share it), so that a dictionary is classified once
/// per row group whatever the batch size. The dictionary itself is held, so its address
/// cannot be reused by another while it is remembered.
pub(crate) struct Memo<T> {
    values: Option<ArrayRef>,
    out: Vec<T>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self {
            values: None,
            out: Vec::new(),
        }
    }
}

impl<T> Memo<T> {
    /// `f` of every value of `s`'s dictionary, recomputed only when the dictionary changes.
    pub(crate) fn of(&mut self, s: &Strings, mut f: impl FnMut(Option<&str>) -> T) -> &[T] {
        let same = self
            .values
            .as_ref()
            .is_some_and(|v| Arc::ptr_eq(v, &s.values));
        if !same {
            self.out = (0..s.distinct()).map(|i| f(s.value(i))).collect();
            self.values = Some(s.values.clone());
        }
        &self.out
    }
}

/// Row `i` of a plain string column (null for a null or a non-string column).
pub(crate) fn plain_str(a: &ArrayRef, i: usize) -> Option<&str> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        ArrowType::Utf8 => Some(a.as_string::<i32>().value(i)),
        ArrowType::LargeUtf8 => Some(a.as_string::<i64>().value(i)),
        ArrowType::Utf8View => Some(a.as_string_view().value(i)),
        _ => None,
    }
}

/// Column `name` of a batch.
pub(crate) fn column<'b>(batch: &'b RecordBatch, name: &str) -> PolarsResult<&'b ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| polars_err!(ColumnNotFound: "{name}"))
}

/// Column `name` of a batch as a primitive array of `T` (a schema error otherwise).
pub(crate) fn primitives<T: ArrowPrimitiveType>(
    batch: &RecordBatch,
    name: &str,
) -> PolarsResult<PrimitiveArray<T>> {
    column(batch, name)?
        .as_primitive_opt::<T>()
        .cloned()
        .ok_or_else(|| polars_err!(SchemaMismatch: "{name} is not a {} column", T::DATA_TYPE))
}

pub(crate) fn dates(batch: &RecordBatch, name: &str) -> PolarsResult<PrimitiveArray<Date32Type>> {
    primitives(batch, name)
}

pub(crate) fn booleans(batch: &RecordBatch, name: &str) -> PolarsResult<BooleanArray> {
    column(batch, name)?
        .as_boolean_opt()
        .cloned()
        .ok_or_else(|| polars_err!(SchemaMismatch: "{name} is not a boolean column"))
}

pub(crate) fn bytes(batch: &RecordBatch, name: &str) -> PolarsResult<PrimitiveArray<UInt8Type>> {
    primitives(batch, name)
}

/// The drug master's (`drug_code` → YJ code) and the disease master's (`disease_code` →
/// ICD-10) look-ups, for lines without a code of their own ([`crate::sql::master_rows`]).
///
/// # Errors
/// Polars errors.
#[allow(clippy::type_complexity)]
pub(crate) fn masters(
    src: &Sources,
) -> PolarsResult<(HashMap<String, String>, HashMap<String, String>)> {
    let (drugs, diseases) = crate::sql::master_rows(src)?;
    Ok((drugs.into_iter().collect(), diseases.into_iter().collect()))
}

/// Day number since 1970-01-01.
pub(crate) fn day(d: NaiveDate) -> i32 {
    ittai_dataset::date_to_days(d)
}

/// Month number (year × 12 + month − 1) of a day number since 1970-01-01 (the civil
/// calendar, proleptic Gregorian; H. Hinnant, "chrono-Compatible Low-Level Date
/// Algorithms", `civil_from_days`).
pub(crate) fn month_number(days: i32) -> i32 {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year * 12 + month - 1) as i32
}

/// The numeric value of a code string (`None` unless it parses as an unsigned integer),
/// as the polars cast of a string to u64 gives it.
pub(crate) fn code_number(s: Option<&str>) -> Option<u64> {
    s.and_then(|s| s.parse::<u64>().ok())
}

/// The first seven characters of a YJ code as a number (`None` unless they are digits).
pub(crate) fn yj7_number(yj: &str) -> Option<u32> {
    let head: String = yj.chars().take(7).collect();
    if head.is_empty() || !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    head.parse().ok()
}

/// A set of code prefixes: up to 7 digits are compared as a range of the YJ code's first
/// seven digits (the form the polars expression used), anything else as a string prefix.
pub(crate) fn in_prefixes(code: &str, yj7: Option<u32>, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| {
        if p.len() <= 7 && p.bytes().all(|b| b.is_ascii_digit()) {
            let scale = 10u32.pow(7 - p.len() as u32);
            let lo = p.parse::<u32>().unwrap_or(0) * scale;
            yj7.is_some_and(|v| v >= lo && v < lo + scale)
        } else {
            code.starts_with(p.as_str())
        }
    })
}

/// Bits of the classes (indices into `classes`) that a code belongs to.
fn class_bits(classes: &[Vec<String>], test: impl Fn(&[String]) -> bool) -> u64 {
    classes
        .iter()
        .enumerate()
        .filter(|(_, p)| test(p))
        .fold(0u64, |acc, (i, _)| acc | (1 << i))
}

/// Index of `x` in `v`, pushing it when absent.
fn index_of<T: PartialEq>(v: &mut Vec<T>, x: T) -> usize {
    match v.iter().position(|y| *y == x) {
        Some(i) => i,
        None => {
            v.push(x);
            v.len() - 1
        }
    }
}

/// A presence flag of frame `frame`: `column` is true when a line of `class` (or of
/// `kinds`) falls in the service months `a`..=`b` (day numbers).
struct Flag {
    column: String,
    /// Index of the frame (in the frames of the pass) whose window `a..=b` is.
    frame: usize,
    class: usize,
    a: i32,
    b: i32,
    /// Index of the claim-kind set the line's claim must be of (drug flags restricted
    /// to kinds).
    kinds: Option<usize>,
}

/// The claim kind of every row of `medical_claims`, for the drug flags restricted to
/// claim kinds: a drug line's claim is found by its claim row (`crate::claim_rows`).
#[derive(Default)]
pub(crate) struct ClaimKinds {
    /// `claim_kind` code by file row, 0 when null (outside every set).
    kinds: Vec<u8>,
    /// Bit `i` of `bits[code]`: kind `code` is in the `i`-th set of kinds.
    bits: Vec<u64>,
}

impl ClaimKinds {
    /// Whether the claim at file row `row` is of a kind in the `set`-th set of kinds. A
    /// line without a claim in `medical_claims` (`NO_CLAIM`) is not excluded for it,
    /// which the validator rejects.
    #[inline]
    fn inside(&self, row: u32, set: usize) -> bool {
        self.kinds
            .get(row as usize)
            .is_none_or(|&k| self.bits[k as usize] & (1 << set) != 0)
    }
}

/// Medical claims: `has_<kinds>_claim_<window>` and `last_<kinds>_month` of every frame of
/// `frames` (one column list per frame, in the order of `pop`, the persons of all
/// frames; empty when no such feature is requested), plus, for the drug flags restricted
/// to claim kinds, the kind of every claim. One pass over the file for all frames. Stage
/// `claims`.
pub(crate) fn claims(
    src: &Sources,
    frames: &[Frame],
    pop: &Population,
    features: &BTreeSet<Feature>,
    bool_cols: &mut Vec<String>,
    drug_kinds: &[BTreeSet<ClaimKind>],
) -> PolarsResult<(Vec<Vec<Column>>, ClaimKinds)> {
    let mut sets: Vec<BTreeSet<ClaimKind>> = Vec::new();
    let mut flags = Vec::new();
    for (fi, frame) in frames.iter().enumerate() {
        for f in features {
            if let Feature::Exists(Event::Claim(k), w) = f {
                let set = index_of(&mut sets, k.clone());
                flags.push(Flag::new(f, set, (fi, frame), w, None, bool_cols));
            }
        }
    }
    let none = || vec![Vec::new(); frames.len()];
    if flags.is_empty() && drug_kinds.is_empty() {
        return Ok((none(), ClaimKinds::default()));
    }
    let upto = upto_months(frames);
    let upto_max = upto.iter().copied().max().unwrap_or(i32::MIN);
    let n = pop.len();
    if sets.len() > 64 || drug_kinds.len() > 64 {
        return Err(polars_err!(ComputeError: "more than 64 sets of claim kinds in one run"));
    }
    // Bits of the sets that hold each claim_kind code.
    let kind_bits = |sets: &[BTreeSet<ClaimKind>], code: u8| -> u64 {
        sets.iter()
            .enumerate()
            .filter(|(_, s)| s.iter().any(|k| k.code() == code))
            .fold(0u64, |acc, (i, _)| acc | (1 << i))
    };
    let bits: Vec<u64> = (0..=255u8).map(|c| kind_bits(&sets, c)).collect();
    let path = src.dir().join("medical_claims.parquet");
    // One pass: the flags and last months of the claim sets, and the kind of every
    // claim when a drug flag is restricted to kinds.
    let keep_kinds = !drug_kinds.is_empty();
    struct Acc {
        flags: Vec<Vec<bool>>,
        /// Last month by frame × set (index `frame · sets + set`).
        last: Vec<Vec<i32>>,
        pids: Memo<u32>,
        /// `claim_kind` of the range's rows, in file order.
        kinds: Vec<u8>,
    }
    let lasts = frames.len() * sets.len();
    let accs = scan(
        &path,
        &["person_id", "service_month", "claim_kind"],
        &[],
        None,
        |rows| Acc {
            flags: vec![vec![false; n]; flags.len()],
            last: vec![vec![i32::MIN; n]; lasts],
            pids: Memo::default(),
            kinds: Vec::with_capacity(if keep_kinds { rows } else { 0 }),
        },
        |acc, batch| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let kind = bytes(batch, "claim_kind")?;
            for row in 0..batch.num_rows() {
                let k = (!kind.is_null(row)).then(|| kind.value(row));
                if keep_kinds {
                    acc.kinds.push(k.unwrap_or(0));
                }
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) {
                    continue;
                }
                let m = month.value(row);
                let Some(k) = k else { continue };
                let kb = bits[k as usize];
                if kb == 0 || m > upto_max {
                    continue;
                }
                for (f, flag) in flags.iter().enumerate() {
                    if kb & (1 << flag.class) != 0 && m >= flag.a && m <= flag.b {
                        acc.flags[f][p as usize] = true;
                    }
                }
                for (fi, &u) in upto.iter().enumerate() {
                    if m > u {
                        continue;
                    }
                    let frame_last = &mut acc.last[fi * sets.len()..(fi + 1) * sets.len()];
                    for (s, last) in frame_last.iter_mut().enumerate() {
                        if kb & (1 << s) != 0 && last[p as usize] < m {
                            last[p as usize] = m;
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    let mut merged_flags = vec![vec![false; n]; flags.len()];
    let mut merged_last = vec![vec![i32::MIN; n]; lasts];
    // Without a row filter the ranges are consecutive: their kinds, in order, are the
    // kinds of the file's rows.
    let mut kinds = ClaimKinds {
        kinds: Vec::with_capacity(accs.iter().map(|a| a.kinds.len()).sum()),
        bits: (0..=255u8).map(|c| kind_bits(drug_kinds, c)).collect(),
    };
    for acc in accs {
        merge_or(&mut merged_flags, &acc.flags);
        merge_max(&mut merged_last, &acc.last);
        kinds.kinds.extend_from_slice(&acc.kinds);
    }
    if flags.is_empty() {
        return Ok((none(), kinds));
    }
    let mut cols = flag_columns(frames.len(), &flags, merged_flags);
    let mut merged_last = merged_last.into_iter();
    for frame_cols in &mut cols {
        for s in &sets {
            let last = merged_last.next().expect("a last month per frame and set");
            let v: Vec<Option<i32>> = last
                .into_iter()
                .map(|d| (d != i32::MIN).then_some(d))
                .collect();
            frame_cols.push(
                Series::new(format!("last_{}_month", kinds_tag(s)).into(), v)
                    .cast(&DataType::Date)?
                    .into_column(),
            );
        }
    }
    Ok((cols, kinds))
}

/// The flag columns (bool, one value per person of the pass's population) from the
/// merged flags, by frame (`frames` lists, in feature order).
fn flag_columns(frames: usize, flags: &[Flag], merged: Vec<Vec<bool>>) -> Vec<Vec<Column>> {
    let mut out = vec![Vec::new(); frames];
    for (f, v) in flags.iter().zip(merged) {
        out[f.frame].push(Column::new(f.column.as_str().into(), v));
    }
    out
}

/// Adds to each frame's columns the packed evidence of every class (`merged`: by frame ×
/// class, index `frame · classes + class`), named by `column(class name)`.
fn add_evidence(
    cols: &mut [Vec<Column>],
    classes: &[String],
    merged: Vec<Vec<u64>>,
    column: impl Fn(&str) -> String,
) {
    let mut merged = merged.into_iter();
    for frame_cols in cols {
        for c in classes {
            let v = merged.next().expect("evidence per frame and class");
            frame_cols.push(packed_column(&column(c), v));
        }
    }
}

/// The latest month up to which each frame reads lines (the reference month), by frame.
fn upto_months(frames: &[Frame]) -> Vec<i32> {
    frames.iter().map(|f| day(f.ref_month())).collect()
}

fn merge_or(into: &mut [Vec<bool>], from: &[Vec<bool>]) {
    for (m, f) in into.iter_mut().zip(from) {
        for (x, y) in m.iter_mut().zip(f) {
            *x |= *y;
        }
    }
}

fn merge_max<T: Ord + Copy>(into: &mut [Vec<T>], from: &[Vec<T>]) {
    for (m, f) in into.iter_mut().zip(from) {
        for (x, y) in m.iter_mut().zip(f) {
            *x = (*x).max(*y);
        }
    }
}

/// Raises person `p`'s evidence of each class in `classes` (bit per class) to the line of
/// service month `m` (day number, ≥ 0) and code `code`, packed as month · 10^9 + code and
/// stored + 1 (see [`packed_column`]).
#[inline]
fn raise_evidence(evidence: &mut [Vec<u64>], classes: u64, p: u32, m: i32, code: u64) {
    let packed = m as u64 * PACK + code + 1;
    let mut bits = classes;
    while bits != 0 {
        let class = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        let e = &mut evidence[class][p as usize];
        if *e < packed {
            *e = packed;
        }
    }
}

/// The index of class `name` in `names` (and its prefixes in `classes`), adding it with
/// `prefixes()` when new.
fn class_index(
    names: &mut Vec<String>,
    classes: &mut Vec<Vec<String>>,
    name: String,
    prefixes: impl FnOnce() -> Vec<String>,
) -> usize {
    if let Some(i) = names.iter().position(|t| *t == name) {
        return i;
    }
    names.push(name);
    classes.push(prefixes());
    names.len() - 1
}

impl Flag {
    /// The flag of feature `f` on `class` over window `w` of frame `fi` of `frames`, its
    /// column noted in `bool_cols` once (for the first frame: every frame has the same
    /// columns).
    fn new(
        f: &Feature,
        class: usize,
        (fi, frame): (usize, &Frame),
        w: &Window,
        kinds: Option<usize>,
        bool_cols: &mut Vec<String>,
    ) -> Self {
        let (a, b) = frame.months(w);
        let column = f.column();
        if fi == 0 {
            bool_cols.push(column.clone());
        }
        // Lines after the reference month are never read for a frame.
        Flag {
            column,
            frame: fi,
            class,
            a: day(a),
            b: day(b).min(day(frame.ref_month())),
            kinds,
        }
    }
}

/// The packed evidence columns (u64, null when none): stored + 1 so that 0 means none.
fn packed_column(name: &str, v: Vec<u64>) -> Column {
    let v: Vec<Option<u64>> = v.into_iter().map(|x| x.checked_sub(1)).collect();
    Column::new(name.into(), v)
}

/// One monthly distinct-drug count ([`Feature::MonthlyDrugs`]) of one frame.
struct Monthly {
    column: String,
    /// Index of the frame (in the frames of the pass).
    frame: usize,
    /// Route codes counted (bit per code).
    routes: u16,
    unit: DrugUnit,
    a: i32,
    b: i32,
    /// Month number of the window's first month.
    base: i32,
}

/// Distinct (person, month, drug) keys of one monthly count, one thread's range:
/// `pid` · 2^37 + month · 2^30 + drug. Lines arrive grouped by person in the files the
/// validator writes; each person's run of keys is sorted and deduplicated when the person
/// changes, so `keys` is usually sorted already (checked, and sorted when not).
#[derive(Default)]
pub(crate) struct MonthlyKeys {
    keys: Vec<u64>,
    run: Vec<u64>,
    run_pid: u32,
}

impl MonthlyKeys {
    /// Room for `keys` keys before the vector grows (the rows of the range is a bound).
    pub(crate) fn with_capacity(keys: usize) -> Self {
        Self {
            keys: Vec::with_capacity(keys),
            run: Vec::new(),
            run_pid: NO_PID,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, pid: u32, key: u64) {
        if pid != self.run_pid {
            self.flush();
            self.run_pid = pid;
        }
        self.run.push(key);
    }

    fn flush(&mut self) {
        self.run.sort_unstable();
        self.run.dedup();
        self.keys.append(&mut self.run);
    }
}

/// `<column>` (i32, the highest number of distinct drugs in a month of the window) and
/// `<column>_month` (date, the earliest month with it) from the keys of all ranges.
fn monthly_columns(
    m: &Monthly,
    parts: Vec<MonthlyKeys>,
    n: usize,
) -> PolarsResult<(Column, Column)> {
    let best = monthly_highest(parts, n);
    let counts: Vec<Option<i32>> = best.iter().map(|b| b.map(|(c, _)| c)).collect();
    let months: Vec<Option<i32>> = best
        .iter()
        .map(|b| b.map(|(_, mi)| crate::features::days_of_month_index(m.base + mi)))
        .collect();
    Ok((
        Column::new(m.column.as_str().into(), counts),
        Series::new(format!("{}_month", m.column).into(), months)
            .cast(&DataType::Date)?
            .into_column(),
    ))
}

/// Per `pid` (of `n`), from the keys `pid` · 2^37 + month · 2^30 + drug of all ranges:
/// the highest number of distinct drugs in one month and the earliest month index with
/// it; `None` for a person without keys.
pub(crate) fn monthly_highest(parts: Vec<MonthlyKeys>, n: usize) -> Vec<Option<(i32, i32)>> {
    let mut parts = parts;
    // Each range's keys sorted, then read in one merged order without a merged copy
    // (fresh pages cost more than the copying, docs/PERFORMANCE.md).
    parts.par_iter_mut().for_each(|p| {
        p.flush();
        if !p.keys.is_sorted() {
            p.keys.par_sort_unstable();
        }
    });
    let mut best: Vec<Option<(i32, i32)>> = vec![None; n]; // (count, month index)
    let mut raise = |pm: u64, k: i32| {
        let (pid, month) = ((pm >> 7) as usize, (pm & 127) as i32);
        // Highest count, then the earliest month (keys come in month order).
        if best[pid].is_none_or(|(c, _)| k > c) {
            best[pid] = Some((k, month));
        }
    };
    let mut run: Option<(u64, i32)> = None; // (person and month, distinct drugs)
    for key in parts
        .iter()
        .map(|p| p.keys.iter().copied())
        .kmerge()
        .dedup()
    {
        let pm = key >> 30;
        match &mut run {
            Some((at, k)) if *at == pm => *k += 1,
            _ => {
                if let Some((at, k)) = run {
                    raise(at, k);
                }
                run = Some((pm, 1));
            }
        }
    }
    if let Some((at, k)) = run {
        raise(at, k);
    }
    best
}

/// What the drug pass knows of one distinct code.
#[derive(Clone, Copy, Default)]
struct DrugInfo {
    /// Classes (bit per class) the line's YJ code belongs to.
    classes: u64,
    /// The YJ code's first seven digits.
    yj7: Option<u32>,
    /// An id of the whole YJ code (for the `yj` unit), `u32::MAX` when none.
    yj_id: u32,
}

/// Drug lines: `has_<class>[_on_<kinds>]_drug_<window>`, the evidence
/// `last_<tag>_packed`, and every `max_monthly_drugs…` count, of every frame of `frames`
/// (one column list per frame, in the order of `pop`; empty when none is requested). One
/// pass over the file for all frames. Stage `drugs`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn drugs(
    src: &Sources,
    frames: &[Frame],
    pop: &Population,
    features: &BTreeSet<Feature>,
    drug_classes: &BTreeMap<String, DrugClass>,
    bool_cols: &mut Vec<String>,
    drug_kinds: &[BTreeSet<ClaimKind>],
    claim_kinds: &ClaimKinds,
) -> PolarsResult<Vec<Vec<Column>>> {
    let mut tags: Vec<String> = Vec::new();
    let mut classes: Vec<Vec<String>> = Vec::new();
    let mut flags = Vec::new();
    let mut monthly = Vec::new();
    for (f, (fi, frame)) in frames
        .iter()
        .enumerate()
        .flat_map(|fr| features.iter().map(move |f| (f, fr)))
    {
        match f {
            Feature::Exists(
                Event::Drug {
                    class,
                    options,
                    kinds,
                },
                w,
            ) => {
                let def = drug_classes
                    .get(class)
                    .ok_or_else(|| polars_err!(ComputeError: "unknown drug class {class}"))?;
                let c = class_index(
                    &mut tags,
                    &mut classes,
                    evidence_tag(class, options),
                    || def.prefixes(options),
                );
                let kinds = kinds.as_ref().map(|k| {
                    drug_kinds
                        .iter()
                        .position(|d| d == k)
                        .expect("kinds collected")
                });
                flags.push(Flag::new(f, c, (fi, frame), w, kinds, bool_cols));
            }
            Feature::MonthlyDrugs {
                routes,
                unit,
                window,
            } => {
                let (a, b) = frame.months(window);
                monthly.push(Monthly {
                    column: f.column(),
                    frame: fi,
                    routes: routes.iter().fold(0u16, |acc, r| acc | route_bit(*r)),
                    unit: *unit,
                    a: day(a),
                    b: day(b),
                    base: a.year() * 12 + a.month0() as i32,
                });
            }
            _ => {}
        }
    }
    if flags.is_empty() && monthly.is_empty() {
        return Ok(vec![Vec::new(); frames.len()]);
    }
    if classes.len() > 64 {
        return Err(polars_err!(ComputeError: "more than 64 drug classes in one run"));
    }
    let upto = upto_months(frames);
    let upto_max = upto.iter().copied().max().unwrap_or(i32::MIN);
    let n = pop.len();
    let evidences = frames.len() * classes.len();
    let master = masters(src)?.0;
    let yj_ids: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());
    let want_yj_ids = monthly.iter().any(|m| m.unit == DrugUnit::Yj);
    let info_of = |yj: Option<&str>| -> DrugInfo {
        let Some(yj) = yj else {
            return DrugInfo {
                yj_id: u32::MAX,
                ..Default::default()
            };
        };
        let yj7 = yj7_number(yj);
        DrugInfo {
            classes: class_bits(&classes, |p| in_prefixes(yj, yj7, p)),
            yj7,
            yj_id: u32::MAX,
        }
    };
    let mut columns = vec!["person_id", "service_month", "drug_code", "yj_code"];
    if !monthly.is_empty() {
        columns.push("route");
    }
    // The drug flags restricted to claim kinds find each line's claim by its claim row.
    let claim_rows = if flags.iter().any(|f| f.kinds.is_some()) {
        Some(src.claim_rows()?)
    } else {
        None
    };
    struct Acc {
        flags: Vec<Vec<bool>>,
        evidence: Vec<Vec<u64>>,
        monthly: Vec<MonthlyKeys>,
        pids: Memo<u32>,
        yj_info: Memo<DrugInfo>,
        master_info: Memo<DrugInfo>,
        code_no: Memo<Option<u64>>,
        rows: Option<crate::claim_rows::RowReader>,
    }
    let path = src.dir().join("claim_drugs.parquet");
    let accs = scan_numbered(
        &path,
        &columns,
        &[],
        None,
        |rows| Acc {
            flags: vec![vec![false; n]; flags.len()],
            evidence: vec![vec![0; n]; evidences],
            monthly: monthly
                .iter()
                .map(|_| MonthlyKeys::with_capacity(rows))
                .collect(),
            pids: Memo::default(),
            yj_info: Memo::default(),
            master_info: Memo::default(),
            code_no: Memo::default(),
            rows: claim_rows.as_ref().map(|r| r.reader("claim_drugs")),
        },
        |acc, batch, numbers| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let code = Strings::of(batch, "drug_code")?;
            let yj = Strings::of(batch, "yj_code")?;
            // The YJ code of a dictionary value and its id (for the `yj` unit).
            let with_id = |yj: Option<&str>| -> DrugInfo {
                let mut info = info_of(yj);
                if let (true, Some(s)) = (want_yj_ids, yj) {
                    let mut ids = yj_ids.lock().unwrap_or_else(|e| e.into_inner());
                    let next = ids.len() as u32;
                    info.yj_id = *ids.entry(s.to_string()).or_insert(next);
                }
                info
            };
            let yj_info = acc.yj_info.of(&yj, with_id);
            let code_no = acc.code_no.of(&code, code_number);
            // Lines without a YJ code take the drug master's (computed only when some line
            // lacks one).
            let master_info: &[DrugInfo] = if yj.has_nulls() {
                acc.master_info.of(&code, |c| {
                    with_id(c.and_then(|c| master.get(c)).map(String::as_str))
                })
            } else {
                &[]
            };
            let route = if monthly.is_empty() {
                None
            } else {
                Some(bytes(batch, "route")?)
            };
            let claim_of: &[u32] = match &mut acc.rows {
                Some(r) => r.of(numbers)?,
                None => &[],
            };
            for row in 0..batch.num_rows() {
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) {
                    continue;
                }
                let m = month.value(row);
                let c = code.key(row);
                let info = match yj.key(row) {
                    Some(k) => yj_info[k],
                    None => c.map_or(
                        DrugInfo {
                            yj_id: u32::MAX,
                            ..Default::default()
                        },
                        |c| master_info[c],
                    ),
                };
                if info.classes != 0 && m <= upto_max {
                    if let Some(v) = c.and_then(|c| code_no[c]).filter(|_| m >= 0) {
                        for (fi, &u) in upto.iter().enumerate() {
                            if m <= u {
                                let ev = &mut acc.evidence[fi * classes.len()..];
                                raise_evidence(ev, info.classes, p, m, v);
                            }
                        }
                    }
                    for (f, flag) in flags.iter().enumerate() {
                        if info.classes & (1 << flag.class) == 0
                            || m < flag.a
                            || m > flag.b
                            || acc.flags[f][p as usize]
                        {
                            // Not this class or window, or already known (which spares
                            // the claim look-up for most lines).
                            continue;
                        }
                        if let Some(ks) = flag.kinds
                            && !claim_kinds.inside(claim_of[row], ks)
                        {
                            continue;
                        }
                        acc.flags[f][p as usize] = true;
                    }
                }
                if let Some(route) = &route {
                    if route.is_null(row) {
                        continue;
                    }
                    let r = route_bit_code(route.value(row));
                    for (i, mm) in monthly.iter().enumerate() {
                        if mm.routes & r == 0 || m < mm.a || m > mm.b {
                            continue;
                        }
                        let drug = match mm.unit {
                            DrugUnit::Yj7 => info.yj7.map(u64::from),
                            DrugUnit::DrugCode => c.and_then(|c| code_no[c]),
                            DrugUnit::Yj => (info.yj_id != u32::MAX).then_some(info.yj_id as u64),
                        };
                        let Some(drug) = drug else { continue };
                        let mi = (month_number(m) - mm.base) as u64;
                        let key = (p as u64) << 37 | mi << 30 | (drug & ((1 << 30) - 1));
                        acc.monthly[i].push(p, key);
                    }
                }
            }
            Ok(())
        },
    )?;
    let mut merged_flags = vec![vec![false; n]; flags.len()];
    let mut merged_ev = vec![vec![0u64; n]; evidences];
    let mut parts: Vec<Vec<MonthlyKeys>> = monthly.iter().map(|_| Vec::new()).collect();
    for acc in accs {
        merge_or(&mut merged_flags, &acc.flags);
        merge_max(&mut merged_ev, &acc.evidence);
        for (p, k) in parts.iter_mut().zip(acc.monthly) {
            p.push(k);
        }
    }
    let mut cols = flag_columns(frames.len(), &flags, merged_flags);
    add_evidence(&mut cols, &tags, merged_ev, |t| format!("last_{t}_packed"));
    // The counts of the frames at once: each one's merge of its ranges is sequential.
    let counted: Vec<PolarsResult<(Column, Column)>> = monthly
        .iter()
        .zip(parts)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(m, p)| monthly_columns(m, p, n))
        .collect();
    for (m, counted) in monthly.iter().zip(counted) {
        let (c, month) = counted?;
        cols[m.frame].push(c);
        cols[m.frame].push(month);
    }
    Ok(cols)
}

fn route_bit(r: Route) -> u16 {
    route_bit_code(r.code())
}

fn route_bit_code(code: u8) -> u16 {
    if code < 16 { 1 << code } else { 0 }
}

/// Diagnoses (not suspected): `has_<class>_diagnosis_<window>` and the evidence
/// `<class>_diagnosis_packed` of every frame of `frames` (one column list per frame, in
/// the order of `pop`; empty when none is requested). One pass over the file for all
/// frames. Stage `diagnoses`.
pub(crate) fn diagnoses(
    src: &Sources,
    frames: &[Frame],
    pop: &Population,
    features: &BTreeSet<Feature>,
    disease_classes: &BTreeMap<String, DiseaseClass>,
    bool_cols: &mut Vec<String>,
) -> PolarsResult<Vec<Vec<Column>>> {
    let mut names: Vec<String> = Vec::new();
    let mut classes: Vec<Vec<String>> = Vec::new();
    let mut flags = Vec::new();
    for (fi, frame) in frames.iter().enumerate() {
        for f in features {
            if let Feature::Exists(Event::Diagnosis(class), w) = f {
                let def = disease_classes
                    .get(class)
                    .ok_or_else(|| polars_err!(ComputeError: "unknown disease class {class}"))?;
                let c = class_index(&mut names, &mut classes, class.clone(), || {
                    def.icd10.clone()
                });
                flags.push(Flag::new(f, c, (fi, frame), w, None, bool_cols));
            }
        }
    }
    if flags.is_empty() {
        return Ok(vec![Vec::new(); frames.len()]);
    }
    if classes.len() > 64 {
        return Err(polars_err!(ComputeError: "more than 64 disease classes in one run"));
    }
    let upto = upto_months(frames);
    let upto_max = upto.iter().copied().max().unwrap_or(i32::MIN);
    let n = pop.len();
    let evidences = frames.len() * classes.len();
    let master = masters(src)?.1;
    let bits_of = |icd: Option<&str>| -> u64 {
        icd.map_or(0, |icd| {
            class_bits(&classes, |p| p.iter().any(|p| icd.starts_with(p.as_str())))
        })
    };
    struct Acc {
        flags: Vec<Vec<bool>>,
        evidence: Vec<Vec<u64>>,
        pids: Memo<u32>,
        icd_bits: Memo<u64>,
        master_bits: Memo<u64>,
        code_no: Memo<Option<u64>>,
    }
    let path = src.dir().join("claim_diagnoses.parquet");
    let accs = scan(
        &path,
        &[
            "person_id",
            "service_month",
            "disease_code",
            "icd10",
            "suspected",
        ],
        &[],
        None,
        |_| Acc {
            flags: vec![vec![false; n]; flags.len()],
            evidence: vec![vec![0; n]; evidences],
            pids: Memo::default(),
            icd_bits: Memo::default(),
            master_bits: Memo::default(),
            code_no: Memo::default(),
        },
        |acc, batch| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let code = Strings::of(batch, "disease_code")?;
            let icd = Strings::of(batch, "icd10")?;
            let suspected = booleans(batch, "suspected")?;
            let icd_bits = acc.icd_bits.of(&icd, bits_of);
            let code_no = acc.code_no.of(&code, code_number);
            let master_bits: &[u64] = if icd.has_nulls() {
                acc.master_bits.of(&code, |c| {
                    bits_of(c.and_then(|c| master.get(c)).map(String::as_str))
                })
            } else {
                &[]
            };
            for row in 0..batch.num_rows() {
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) || suspected.is_null(row) || suspected.value(row) {
                    continue;
                }
                let m = month.value(row);
                if m > upto_max {
                    continue;
                }
                let c = code.key(row);
                let bits = match icd.key(row) {
                    Some(k) => icd_bits[k],
                    None => c.map_or(0, |c| master_bits[c]),
                };
                if bits == 0 {
                    continue;
                }
                if let Some(v) = c.and_then(|c| code_no[c]).filter(|_| m >= 0) {
                    for (fi, &u) in upto.iter().enumerate() {
                        if m <= u {
                            let ev = &mut acc.evidence[fi * classes.len()..];
                            raise_evidence(ev, bits, p, m, v);
                        }
                    }
                }
                for (f, flag) in flags.iter().enumerate() {
                    if bits & (1 << flag.class) != 0 && m >= flag.a && m <= flag.b {
                        acc.flags[f][p as usize] = true;
                    }
                }
            }
            Ok(())
        },
    )?;
    let mut merged_flags = vec![vec![false; n]; flags.len()];
    let mut merged_ev = vec![vec![0u64; n]; evidences];
    for acc in accs {
        merge_or(&mut merged_flags, &acc.flags);
        merge_max(&mut merged_ev, &acc.evidence);
    }
    let mut cols = flag_columns(frames.len(), &flags, merged_flags);
    add_evidence(&mut cols, &names, merged_ev, |n| {
        format!("{n}_diagnosis_packed")
    });
    Ok(cols)
}

/// Coverage over windows: `covered_<window>` (bool) per [`Feature::Covered`], true when one
/// run of the person's coverage spells (spells joined where one ends on or after the day
/// the next starts; an open end is 9999-12-31) starts on or before the window's first day
/// and ends after its last (the coverage guard, docs/reference/time.md). Stage `coverage`.
/// Computed for every frame of `frames` from one read of the spells (one column list per
/// frame, in the order of `pop`; empty when none is requested).
pub(crate) fn coverage(
    src: &Sources,
    frames: &[Frame],
    pop: &Population,
    features: &BTreeSet<Feature>,
    bool_cols: &mut Vec<String>,
) -> PolarsResult<Vec<Vec<Column>>> {
    // (frame, column, first day, last day)
    let windows: Vec<(usize, String, i32, i32)> = frames
        .iter()
        .enumerate()
        .flat_map(|(fi, frame)| {
            features.iter().filter_map(move |f| match f {
                Feature::Covered(w) => {
                    let (a, b) = w.days(frame.fy, frame.reference);
                    Some((fi, f.column(), day(a), day(b)))
                }
                _ => None,
            })
        })
        .collect();
    let mut out = vec![Vec::new(); frames.len()];
    if windows.is_empty() {
        return Ok(out);
    }
    bool_cols.extend(windows.iter().filter(|w| w.0 == 0).map(|w| w.1.clone()));
    let open_end = day(NaiveDate::from_ymd_opt(9999, 12, 31).expect("date"));
    let path = src.dir().join("persons.parquet");
    let parts = scan(
        &path,
        &["person_id", "coverage_start", "coverage_end"],
        &["person_id"],
        None,
        |_| Vec::<(u32, i32, i32)>::new(),
        |spells, batch| {
            let person = column(batch, "person_id")?;
            let start = dates(batch, "coverage_start")?;
            let end = dates(batch, "coverage_end")?;
            for row in 0..batch.num_rows() {
                let p = pop.pid(plain_str(person, row));
                if p == NO_PID || start.is_null(row) {
                    continue;
                }
                let e = if end.is_null(row) {
                    open_end
                } else {
                    end.value(row)
                };
                spells.push((p, start.value(row), e));
            }
            Ok(())
        },
    )?;
    let mut spells: Vec<(u32, i32, i32)> = parts.into_iter().flatten().collect();
    spells.sort_unstable();
    let mut covered = vec![vec![false; pop.len()]; windows.len()];
    let mut close = |p: u32, s: i32, e: i32| {
        for (w, (_, _, a, b)) in windows.iter().enumerate() {
            if s <= *a && e > *b {
                covered[w][p as usize] = true;
            }
        }
    };
    let mut run: Option<(u32, i32, i32)> = None;
    for &(p, s, e) in &spells {
        run = match run {
            Some((rp, rs, re)) if rp == p && s <= re => Some((rp, rs, re.max(e))),
            Some((rp, rs, re)) => {
                close(rp, rs, re);
                Some((p, s, e))
            }
            None => Some((p, s, e)),
        };
    }
    if let Some((rp, rs, re)) = run {
        close(rp, rs, re);
    }
    for ((fi, c, _, _), v) in windows.iter().zip(covered) {
        out[*fi].push(Column::new(c.as_str().into(), v));
    }
    Ok(out)
}

/// The claim-kind sets that drug flags are restricted to, in feature order.
pub(crate) fn drug_kind_sets(features: &BTreeSet<Feature>) -> Vec<BTreeSet<ClaimKind>> {
    let mut out: Vec<BTreeSet<ClaimKind>> = Vec::new();
    for f in features {
        if let Feature::Exists(Event::Drug { kinds: Some(k), .. }, _) = f {
            index_of(&mut out, k.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_number_agrees_with_the_calendar() {
        let mut d = NaiveDate::from_ymd_opt(1890, 1, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2110, 12, 31).unwrap();
        while d <= end {
            assert_eq!(
                month_number(day(d)),
                d.year() * 12 + d.month0() as i32,
                "{d}"
            );
            d += chrono::Duration::days(1);
        }
    }

    #[test]
    fn prefixes_up_to_seven_digits_are_ranges_of_the_yj7_number() {
        let is_in = |yj: &str, prefix: &str| in_prefixes(yj, yj7_number(yj), &[prefix.into()]);
        assert!(is_in("1124007F1011", "112"));
        assert!(!is_in("1134007F1011", "112"));
        assert!(is_in("2171022F1011", "2171022"));
        assert!(!is_in("2171023F1011", "2171022"));
        // Longer prefixes compare strings.
        assert!(is_in("2171022F1011", "2171022F"));
        assert!(!is_in("2171022G1011", "2171022F"));
        assert_eq!(yj7_number("11A4007"), None);
    }
}
