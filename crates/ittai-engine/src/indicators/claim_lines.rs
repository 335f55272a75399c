//! The claim-line measures of the indicators for every FY at once, by one pass over each
//! claim file (`medical_claims`, `claim_diagnoses`, `claim_drugs`), in the way
//! `crate::lines` computes the rules' features: string columns read as dictionaries, each
//! distinct code classified once, row groups split among threads.
//!
//! The files are grouped by person, not by month, so a pass restricted to one FY still
//! decompresses and decodes every page of the file; a pass per FY read each file four
//! times for a four-FY dataset (docs/PERFORMANCE.md). Here each line is assigned to its FY
//! by its service month as it is read, and every measure is kept per (FY, person): the
//! rows of all FYs' populations one after another ([`FyRows`]).
//!
//! The polars form of these measures joined every drug line with its claim (重複投薬) and
//! with the generic categories (後発医薬品), and every claim with its chosen diagnosis
//! (疾病分類別医療費); at 100,000 insured those joins took 12 of the indicators' 18 s
//! (docs/PERFORMANCE.md). Here a line finds its claim by its claim row (`crate::claim_rows`:
//! the file row of its claim in `medical_claims`, computed once per dataset) in an array
//! over every row of `medical_claims`, and only a claim of the line's own person and FY
//! counts, as the validator rejects a line whose claim belongs to another person or month
//! (docs/DECISIONS.md, D103, D104). [`long_stays`] finds the runs of long-term inpatient
//! stay of the checkup denominators, once for every FY.
//!
//! What is computed, per FY and person of the FY's population (`attrs`, the persons
//! insured at some time in the FY; lines of other persons are left out, as the polars
//! joins on `person_id` left them out), from the lines whose service month is in the FY:
//! - `spend`: points × 10 (yen) of the claims of each group of claim kinds;
//! - `oral`: some oral (内服) drug line;
//! - `most_oral_drugs`: the highest number of distinct oral ingredients (YJ first seven
//!   digits) in one service month, the count of rule R03 and of 多剤;
//! - `duplicate`: the same ingredient from two or more institutions (parsed
//!   `institution_code`; an unparsable code counts as one more institution) in one month,
//!   on outpatient (医科入院外) and pharmacy (調剤) claims — 重複;
//! - `generic`: quantity × days (missing quantity 0, missing days 1) of generic products
//!   (category 1) and of all categorised products — 後発医薬品使用割合;
//! - `disease`: per person and disease group, claims and yen, the group of a claim being
//!   the ICD-10 chapter of its main diagnosis (主傷病), else of its first non-suspected
//!   diagnosis in file order with a known chapter category, else `unclassified`; 調剤
//!   claims form `dispensing`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, BooleanArray, RecordBatch};
use itertools::Itertools;
use ittai_model::icd10::{Chapter, DiseaseGroup};
use ittai_model::time::{FiscalYear, first_of_month};
use ittai_model::{ClaimKind, Route};
use polars::prelude::{DataFrame, PolarsResult, polars_err};
use rayon::prelude::*;

use super::cells::Timings;
use crate::Sources;
use crate::lines::{
    Keep, Memo, MonthlyKeys, NO_PID, Population, Strings, booleans, bytes, code_number, dates, day,
    masters, month_number, monthly_highest, primitives, scan, scan_numbered, yj7_number,
};

/// The measures of one FY, indexed by the row of the FY's `attrs` (see the module docs).
pub(crate) struct FyLines {
    /// Yen per person, one vector per group of claim kinds, in the order given.
    pub spend: Vec<Vec<f64>>,
    /// Some oral drug line in the FY.
    pub oral: Vec<bool>,
    /// The highest monthly count of distinct oral ingredients (0 without one).
    pub most_oral_drugs: Vec<i32>,
    /// 重複: one ingredient from two or more institutions in a month.
    pub duplicate: Vec<bool>,
    /// (generic, all) quantity × days, `None` without a categorised line.
    pub generic: Vec<Option<(f64, f64)>>,
    /// (person row, disease group, claims, yen), sorted by person and group.
    pub disease: Vec<(u32, DiseaseGroup, u64, f64)>,
}

/// The index space of the measures: the rows of every FY's population, one FY after
/// another (FY `f`'s row `i` is `offsets[f] + i`), and the way from a line (its person and
/// service month) to that index.
struct FyRows {
    /// `offsets[f]`: the index of FY `f`'s first row; the last entry is the total.
    offsets: Vec<u32>,
    /// `index[f * persons + g]`: the index of person `g` (of the union of the populations)
    /// in FY `f`, [`NO_PID`] when the person is not in FY `f`'s population.
    index: Vec<u32>,
    /// Persons in the union of the populations.
    persons: usize,
    /// The month number (see [`month_number`]) of the first month of any FY.
    first_month: i32,
    /// The FY (position in the FYs given) of each month number from `first_month`,
    /// `u8::MAX` for a month of no FY.
    fy_of_month: Vec<u8>,
    /// Per FY: its first month number and the day numbers of its first day and of the
    /// first day of its last month (a service month is the month's first day).
    months: Vec<(i32, i32, i32)>,
}

impl FyRows {
    /// From the FYs and their populations (`attrs`: frames with a unique `person_id`,
    /// str), with `everyone` the union of the populations.
    fn new(fys: &[(FiscalYear, &DataFrame)], everyone: &Population) -> PolarsResult<Self> {
        let persons = everyone.len();
        let mut offsets = vec![0u32];
        let mut index = vec![NO_PID; fys.len() * persons];
        for (f, (_, attrs)) in fys.iter().enumerate() {
            let at = *offsets.last().expect("starts with 0");
            let ids = attrs.column("person_id")?.str()?;
            for (i, id) in ids.iter().enumerate() {
                let g = everyone.pid(id);
                if g == NO_PID {
                    return Err(
                        polars_err!(ComputeError: "a person of an FY's population is missing from the union of the populations"),
                    );
                }
                index[f * persons + g as usize] = at + i as u32;
            }
            let end = u64::from(at) + ids.len() as u64;
            // `MonthlyKeys` keeps an index in 27 bits.
            if end >= 1 << 27 {
                return Err(
                    polars_err!(ComputeError: "the populations of the FYs add up to {end} rows; at most 134,217,727 are supported"),
                );
            }
            offsets.push(end as u32);
        }
        let months: Vec<(i32, i32, i32)> = fys
            .iter()
            .map(|(fy, _)| {
                let (a, b) = (day(fy.start()), day(first_of_month(fy.end())));
                (month_number(a), a, b)
            })
            .collect();
        let first_month = months.iter().map(|m| m.0).min().unwrap_or(0);
        let last_month = months.iter().map(|m| m.0 + 11).max().unwrap_or(-1);
        let mut fy_of_month = vec![u8::MAX; (last_month - first_month + 1).max(0) as usize];
        for (f, m) in months.iter().enumerate() {
            let f = u8::try_from(f)
                .ok()
                .filter(|&f| f != u8::MAX)
                .ok_or_else(|| polars_err!(ComputeError: "at most 255 FYs at once"))?;
            for k in 0..12 {
                let at = &mut fy_of_month[(m.0 + k - first_month) as usize];
                if *at != u8::MAX {
                    return Err(
                        polars_err!(ComputeError: "FY{} is given twice", fys[f as usize].0.0),
                    );
                }
                *at = f;
            }
        }
        Ok(Self {
            offsets,
            index,
            persons,
            first_month,
            fy_of_month,
            months,
        })
    }

    /// The number of indexes (rows of all FYs).
    fn len(&self) -> usize {
        *self.offsets.last().expect("starts with 0") as usize
    }

    /// The index of person `g` (of the union) in the FY of service month `month` (a day
    /// number) and the month's position in that FY (0 = April); `None` when the month is
    /// in no FY or the person is not in that FY's population.
    #[inline]
    fn at(&self, g: u32, month: i32) -> Option<(u32, u64)> {
        let m = month_number(month);
        let f = *self
            .fy_of_month
            .get(usize::try_from(m - self.first_month).ok()?)?;
        if f == u8::MAX {
            return None;
        }
        let (first, a, b) = self.months[f as usize];
        if month < a || month > b {
            return None;
        }
        let i = self.index[f as usize * self.persons + g as usize];
        (i != NO_PID).then_some((i, (m - first) as u64))
    }

    /// The range of indexes of FY `f`.
    fn range(&self, f: usize) -> std::ops::Range<usize> {
        self.offsets[f] as usize..self.offsets[f + 1] as usize
    }
}

/// A row of `medical_claims`, 12 bytes (the table holds every row of the file: 67 million
/// at 1,000,000 insured over four FYs).
#[derive(Clone, Copy)]
struct Claim {
    /// The (FY, person) index of the claim ([`FyRows`]), [`NO_PID`] for a claim of no FY
    /// or of a person outside the FY's population.
    pid: u32,
    /// The claim kind code (0 when null) in the low 8 bits; above them the parsed
    /// institution code, as an index into its range's table of codes.
    kind_institution: u32,
    /// Points, [`NO_POINTS`] when null (the validator keeps points in 0..=10^9).
    points: i32,
}

impl Claim {
    /// A claim; `None` when `institution` does not fit in 24 bits (more than 16,777,216
    /// distinct institution codes in one range of the file).
    fn new(pid: u32, institution: u32, points: i32, kind: u8) -> Option<Self> {
        (institution < 1 << 24).then_some(Self {
            pid,
            kind_institution: institution << 8 | u32::from(kind),
            points,
        })
    }

    /// The claim kind code (0 when null).
    #[inline]
    fn kind(&self) -> u8 {
        self.kind_institution as u8
    }

    /// The index of the institution code in its range's table.
    #[inline]
    fn institution(&self) -> u32 {
        self.kind_institution >> 8
    }
}

/// A range's table of parsed institution codes (`u64::MAX` for a code that does not
/// parse), each code once, with its index.
#[derive(Default)]
struct InstitutionCodes {
    codes: Vec<u64>,
    ids: HashMap<u64, u32>,
}

impl InstitutionCodes {
    /// The index of `code`, added if new.
    fn id(&mut self, code: u64) -> u32 {
        let codes = &mut self.codes;
        *self.ids.entry(code).or_insert_with(|| {
            codes.push(code);
            (codes.len() - 1) as u32
        })
    }
}

/// Null points in a [`Claim`].
const NO_POINTS: i32 = i32::MIN;

/// Every row of `medical_claims`, found by its file row. The claims stay in the ranges the
/// threads read (each in file order) rather than being copied into one vector: at
/// 1,000,000 insured the file has 67 million claims, and a copy is 0.8 GB of fresh
/// pages, which cost more than the copying (docs/PERFORMANCE.md).
struct Claims {
    /// Each range's claims, one per file row from the range's first.
    parts: Vec<Vec<Claim>>,
    /// The file row of each part's first claim, ascending.
    starts: Vec<u64>,
    /// Each range's parsed institution codes (`u64::MAX` for a code that does not parse).
    institutions: Vec<Vec<u64>>,
}

impl Claims {
    /// From each range's (first file row, claims, institution codes), in file order.
    ///
    /// # Errors
    /// Ranges that do not follow each other.
    fn new(ranges: Vec<(u64, Vec<Claim>, Vec<u64>)>) -> PolarsResult<Self> {
        let mut out = Self {
            parts: Vec::with_capacity(ranges.len()),
            starts: Vec::with_capacity(ranges.len()),
            institutions: Vec::with_capacity(ranges.len()),
        };
        let mut next = 0u64;
        for (first, claims, codes) in ranges {
            if first != next {
                return Err(
                    polars_err!(ComputeError: "medical_claims: a range starts at row {first}, not {next}"),
                );
            }
            next = first + claims.len() as u64;
            out.starts.push(first);
            out.parts.push(claims);
            out.institutions.push(codes);
        }
        Ok(out)
    }

    /// The claim at file row `row` and the parsed code of its institution, if it is a claim
    /// of index `pid` (the line's own FY and person: a line is not linked to another
    /// person's claim, which the validator rejects).
    #[inline]
    fn find(&self, row: u32, pid: u32) -> Option<(&Claim, u64)> {
        let row = u64::from(row);
        let p = self.starts.partition_point(|&s| s <= row).checked_sub(1)?;
        let c = self.parts[p].get((row - self.starts[p]) as usize)?;
        (c.pid == pid && pid != NO_PID).then(|| (c, self.institutions[p][c.institution() as usize]))
    }

    /// Every claim with its file row, in file order.
    fn iter(&self) -> impl Iterator<Item = (u64, &Claim)> {
        self.parts
            .iter()
            .zip(&self.starts)
            .flat_map(|(p, &s)| p.iter().enumerate().map(move |(i, c)| (s + i as u64, c)))
    }

    /// The number of rows.
    fn rows(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }
}

/// The 重複 pairs of one range of `claim_drugs`: for each oral line on a 医科入院外 or 調剤
/// claim, the key (index · 2^28 + month · 2^24 + ingredient) and its claim's institution.
/// A key seen with two institutions is 重複 for the key's (FY, person) index.
///
/// The files are grouped by person, so a person's pairs usually form one run, and a run
/// is resolved when it ends: only the pairs of the range's first and last runs (which may
/// continue in the ranges before and after) are kept for [`duplicate_flags`]. Keeping
/// every pair of every FY (16 bytes per line) raised the peak of the full job at 1,000,000
/// insured over four FYs by 1.8 GB (docs/PERFORMANCE.md). A person whose pairs come in two runs (a file not grouped by
/// person) is noticed: in the range here (`disordered`), or across ranges in
/// [`duplicate_flags`]; the caller then reads the file again keeping every pair
/// (`resolve` false).
struct Duplicates {
    /// Whether runs are resolved as they end.
    resolve: bool,
    /// The pairs of the current run.
    run: Vec<(u64, u64)>,
    /// The person (of the union of the populations) of the current run, [`NO_PID`] before
    /// the first.
    person: u32,
    /// Runs ended so far.
    ended: u64,
    /// The pairs not resolved here.
    kept: Vec<(u64, u64)>,
    /// The indexes found 重複 within a run.
    found: Vec<u32>,
    /// Bit sets over persons: those with a run here, and those whose run was resolved here.
    present: Vec<u64>,
    resolved: Vec<u64>,
    /// A person's pairs came in two runs of this range, some of them resolved.
    disordered: bool,
}

impl Duplicates {
    /// For a range of a file with `persons` persons (of the union of the populations).
    fn new(persons: usize, resolve: bool) -> Self {
        Self {
            resolve,
            run: Vec::new(),
            person: NO_PID,
            ended: 0,
            kept: Vec::new(),
            found: Vec::new(),
            present: vec![0; persons.div_ceil(64)],
            resolved: vec![0; persons.div_ceil(64)],
            disordered: false,
        }
    }

    /// A pair of person `person`.
    #[inline]
    fn push(&mut self, person: u32, key: u64, institution: u64) {
        if person != self.person {
            self.end_run(false);
            let (w, b) = (person as usize / 64, person % 64);
            self.disordered |= self.resolve && self.present[w] >> b & 1 == 1;
            self.present[w] |= 1 << b;
            self.person = person;
        }
        self.run.push((key, institution));
    }

    /// Ends the current run; `last` for the range's last.
    fn end_run(&mut self, last: bool) {
        if self.person == NO_PID {
            return;
        }
        self.ended += 1;
        if !self.resolve || last || self.ended == 1 {
            self.kept.append(&mut self.run);
            return;
        }
        self.run.sort_unstable();
        flag_pairs(self.run.iter().copied(), |key| {
            self.found.push((key >> 28) as u32)
        });
        self.run.clear();
        let p = self.person as usize;
        self.resolved[p / 64] |= 1 << (p % 64);
    }
}

/// Calls `flag` with each key that follows itself with another institution in `pairs`
/// (sorted).
fn flag_pairs(pairs: impl Iterator<Item = (u64, u64)>, mut flag: impl FnMut(u64)) {
    let mut previous: Option<(u64, u64)> = None;
    for (key, institution) in pairs {
        if previous.is_some_and(|(k, i)| k == key && i != institution) {
            flag(key);
        }
        previous = Some((key, institution));
    }
}

/// The 重複 flag of each of `n` indexes from the ranges' pairs, in file order; `None` when a
/// person's pairs came in more than one run, so that some were resolved without the others
/// (then every pair must be kept: [`Duplicates`] with `resolve` false).
fn duplicate_flags(mut parts: Vec<Duplicates>, n: usize) -> Option<Vec<bool>> {
    for part in &mut parts {
        part.end_run(true);
    }
    if parts.iter().any(|p| p.disordered) {
        return None;
    }
    // A person resolved in one range must have no pairs in another.
    let words = parts.first().map_or(0, |p| p.present.len());
    let (mut once, mut twice) = (vec![0u64; words], vec![0u64; words]);
    for part in &parts {
        for (w, &bits) in part.present.iter().enumerate() {
            twice[w] |= once[w] & bits;
            once[w] |= bits;
        }
    }
    if parts
        .iter()
        .any(|p| p.resolved.iter().zip(&twice).any(|(r, t)| r & t != 0))
    {
        return None;
    }
    let mut duplicate = vec![false; n];
    for part in &parts {
        for &i in &part.found {
            duplicate[i as usize] = true;
        }
    }
    // The kept pairs of each range sorted, then read in one merged order (no merged copy).
    let mut kept: Vec<Vec<(u64, u64)>> = parts.into_iter().map(|p| p.kept).collect();
    kept.iter_mut().for_each(|k| k.par_sort_unstable());
    flag_pairs(kept.iter().map(|k| k.iter().copied()).kmerge(), |key| {
        duplicate[(key >> 28) as usize] = true;
    });
    Some(duplicate)
}

/// The index of the chapter of a three-character ICD-10 category (a capital letter and
/// two digits), `None` for anything else; `Some(None)` for a category outside every
/// chapter.
fn chapter_of(icd: &str) -> Option<Option<usize>> {
    let b = icd.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() || !b[2].is_ascii_digit()
    {
        return None;
    }
    Some(Chapter::of(&icd[..3]).and_then(|c| Chapter::all().position(|x| x == c)))
}

/// Computes [`FyLines`] for each of `fys` (an FY and its population `attrs`, a frame with
/// a unique `person_id`, str), in the order given; `kind_groups` are the sets of claim
/// kind codes of `spend`. The time of each pass is added to `timings`
/// (`claim_lines.claims`, `.diagnoses`, `.drugs`, and `.drugs_again` when the drug file
/// is not grouped by person, [`Duplicates`]).
///
/// # Errors
/// I/O and schema errors of the claim files; points outside the validated range.
pub(crate) fn lines_by_fy(
    src: &Sources,
    fys: &[(FiscalYear, &DataFrame)],
    kind_groups: &[Vec<u8>],
    timings: &mut Timings,
) -> PolarsResult<Vec<FyLines>> {
    let t = Instant::now();
    let everyone = {
        let mut ids: Vec<&str> = Vec::new();
        for (_, attrs) in fys {
            ids.extend(attrs.column("person_id")?.str()?.iter().flatten());
        }
        ids.sort_unstable();
        ids.dedup();
        DataFrame::new_infer_height(vec![polars::prelude::Column::new("person_id".into(), ids)])?
    };
    let everyone = Population::new(&everyone)?;
    let rows = FyRows::new(fys, &everyone)?;
    let n = rows.len();
    let (drug_master, disease_master) = masters(src)?;

    // Claims: the claim table (every row of the file), then spending from it.
    struct ClaimAcc {
        first: Option<u64>,
        claims: Vec<Claim>,
        pids: Memo<u32>,
        institutions: Memo<u32>,
        codes: InstitutionCodes,
    }
    let claim_rows = src.claim_rows()?;
    let path = src.dir().join("medical_claims.parquet");
    let accs = scan_numbered(
        &path,
        &[
            "person_id",
            "service_month",
            "claim_kind",
            "institution_code",
            "points",
        ],
        &[],
        None,
        |n| ClaimAcc {
            first: None,
            claims: Vec::with_capacity(n),
            pids: Memo::default(),
            institutions: Memo::default(),
            codes: InstitutionCodes::default(),
        },
        |acc, batch, numbers| {
            let first = *acc.first.get_or_insert(numbers[0]);
            if numbers[0] != first + acc.claims.len() as u64 {
                return Err(polars_err!(ComputeError: "{}: rows out of order", path.display()));
            }
            let persons = everyone.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let inst = Strings::of(batch, "institution_code")?;
            let codes = &mut acc.codes;
            let inst_of = acc
                .institutions
                .of(&inst, |s| codes.id(code_number(s).unwrap_or(u64::MAX)));
            let kind = bytes(batch, "claim_kind")?;
            let points = primitives::<Int64Type>(batch, "points")?;
            for row in 0..batch.num_rows() {
                let pid = match persons.pid(row) {
                    Some(g) if !month.is_null(row) => {
                        rows.at(g, month.value(row)).map_or(NO_PID, |(i, _)| i)
                    }
                    _ => NO_PID,
                };
                let points = if points.is_null(row) {
                    NO_POINTS
                } else {
                    let p = points.value(row);
                    i32::try_from(p).ok().filter(|&p| p != NO_POINTS).ok_or_else(
                        || polars_err!(ComputeError: "{}: row {}: points {p} outside the range the validator allows (0 to 10^9)", path.display(), numbers[row]),
                    )?
                };
                let institution = match inst.key(row) {
                    Some(k) => inst_of[k],
                    None => acc.codes.id(u64::MAX),
                };
                let kind = if kind.is_null(row) {
                    0
                } else {
                    kind.value(row)
                };
                acc.claims.push(Claim::new(pid, institution, points, kind).ok_or_else(
                    || polars_err!(ComputeError: "{}: more than 16,777,216 distinct institution codes", path.display()),
                )?);
            }
            Ok(())
        },
    )?;
    let claims = Claims::new(
        accs.into_iter()
            .filter_map(|a| Some((a.first?, a.claims, a.codes.codes)))
            .collect(),
    )?;
    if claims.rows() as u64 != claim_rows.claims {
        return Err(
            polars_err!(ComputeError: "{}: {} rows read, {} expected", path.display(), claims.rows(), claim_rows.claims),
        );
    }
    let group_bits: Vec<u64> = (0..=255u8)
        .map(|c| {
            kind_groups
                .iter()
                .enumerate()
                .filter(|(_, g)| ClaimKind::from_code(c).is_some() && g.contains(&c))
                .fold(0, |acc, (i, _)| acc | 1 << i)
        })
        .collect();
    // Integer yen: the sums are exact in any order.
    let mut spend = vec![vec![0.0; n]; kind_groups.len()];
    let mut per_fy = vec![0usize; fys.len()];
    for (_, c) in claims.iter() {
        if c.pid == NO_PID {
            continue;
        }
        per_fy[rows.offsets.partition_point(|&o| o <= c.pid) - 1] += 1;
        if c.points == NO_POINTS {
            continue;
        }
        let bits = group_bits[c.kind() as usize];
        for (g, spend) in spend.iter_mut().enumerate() {
            if bits & (1 << g) != 0 {
                spend[c.pid as usize] += f64::from(c.points) * 10.0;
            }
        }
    }
    timings.add("claim_lines.claims", t.elapsed().as_secs_f64());
    let t = Instant::now();

    // Diagnoses: the chosen line of each claim, as the minimum of
    // rank · 2^58 + file row · 32 + chapter (rank 0 for the main diagnosis).
    const NONE: u64 = u64::MAX;
    let chosen: Vec<AtomicU64> = (0..claims.rows()).map(|_| AtomicU64::new(NONE)).collect();
    struct DxAcc {
        rows: crate::claim_rows::RowReader,
        pids: Memo<u32>,
        icd: Memo<Option<Option<usize>>>,
        master: Memo<Option<Option<usize>>>,
    }
    let dx = scan_numbered(
        &src.dir().join("claim_diagnoses.parquet"),
        &[
            "person_id",
            "service_month",
            "disease_code",
            "icd10",
            "suspected",
            "main_diagnosis",
        ],
        &[],
        None,
        |_| DxAcc {
            rows: claim_rows.reader("claim_diagnoses"),
            pids: Memo::default(),
            icd: Memo::default(),
            master: Memo::default(),
        },
        |acc, batch, numbers| {
            let persons = everyone.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let icd = Strings::of(batch, "icd10")?;
            let code = Strings::of(batch, "disease_code")?;
            let of_icd = acc.icd.of(&icd, |s| s.and_then(chapter_of));
            let of_master: &[Option<Option<usize>>] = if icd.has_nulls() {
                acc.master.of(&code, |c| {
                    c.and_then(|c| disease_master.get(c))
                        .and_then(|s| chapter_of(s))
                })
            } else {
                &[]
            };
            let (suspected, main) = (
                booleans(batch, "suspected")?,
                booleans(batch, "main_diagnosis")?,
            );
            let claim_of = acc.rows.of(numbers)?;
            for row in 0..batch.num_rows() {
                if suspected.is_null(row) || suspected.value(row) || month.is_null(row) {
                    continue;
                }
                let chapter = match icd.key(row) {
                    Some(k) => of_icd[k],
                    None => code.key(row).and_then(|c| of_master[c]),
                };
                let Some(chapter) = chapter else { continue };
                let Some((p, _)) = persons.pid(row).and_then(|g| rows.at(g, month.value(row)))
                else {
                    continue;
                };
                if claims.find(claim_of[row], p).is_none() {
                    continue;
                }
                let is_main = !main.is_null(row) && main.value(row);
                let rank = if is_main { 0 } else { 1u64 << 58 };
                let at = chapter.map_or(NO_CHAPTER, |i| i as u64);
                chosen[claim_of[row] as usize]
                    .fetch_min(rank + numbers[row] * 32 + at, Ordering::Relaxed);
            }
            Ok(())
        },
    )?;
    drop(dx);
    let chapters: Vec<Chapter> = Chapter::all().collect();
    // One FY at a time, so that only one FY's claims are copied.
    let mut disease: Vec<Vec<(u32, DiseaseGroup, u64, f64)>> = Vec::with_capacity(fys.len());
    for (f, &count) in per_fy.iter().enumerate() {
        let range = rows.range(f);
        let mut per: Vec<(u32, DiseaseGroup, f64)> = Vec::with_capacity(count);
        per.extend(
            claims
                .iter()
                .filter(|(_, c)| range.contains(&(c.pid as usize)))
                .map(|(row, c)| {
                    let k = chosen[row as usize].load(Ordering::Relaxed);
                    let group = if c.kind() == ClaimKind::Pharmacy.code() {
                        DiseaseGroup::Dispensing
                    } else if k == NONE || k % 32 == NO_CHAPTER {
                        DiseaseGroup::Unclassified
                    } else {
                        DiseaseGroup::Chapter(chapters[(k % 32) as usize])
                    };
                    let yen = if c.points == NO_POINTS {
                        0.0
                    } else {
                        f64::from(c.points) * 10.0
                    };
                    (c.pid - range.start as u32, group, yen)
                }),
        );
        per.par_sort_unstable_by_key(|(p, g, _)| (*p, *g));
        let mut out: Vec<(u32, DiseaseGroup, u64, f64)> = Vec::new();
        for (p, g, yen) in per {
            match out.last_mut() {
                Some(last) if last.0 == p && last.1 == g => {
                    last.2 += 1;
                    last.3 += yen;
                }
                _ => out.push((p, g, 1, yen)),
            }
        }
        disease.push(out);
    }
    drop(chosen);
    timings.add("claim_lines.diagnoses", t.elapsed().as_secs_f64());
    let t = Instant::now();

    // Drug lines.
    let generic: HashMap<String, u8> = {
        let df = src.generic_categories().collect()?;
        let code = df.column("drug_code")?.str()?.clone();
        let cat = df.column("category")?.u8()?.clone();
        code.iter()
            .zip(cat.iter())
            .filter_map(|(c, k)| Some((c?.to_string(), k?)))
            .collect()
    };
    let oral_code = Route::Oral.code();
    let (outpatient, pharmacy) = (ClaimKind::Outpatient.code(), ClaimKind::Pharmacy.code());
    struct DrugAcc {
        rows: crate::claim_rows::RowReader,
        oral: Vec<bool>,
        generic: Vec<Option<(f64, f64)>>,
        monthly: MonthlyKeys,
        /// Keys (index · 2^28 + month · 2^24 + ingredient) with their institution; an
        /// ingredient (YJ first seven digits) is below 10^7 < 2^24.
        duplicates: Duplicates,
        pids: Memo<u32>,
        yj7: Memo<Option<u32>>,
        master_yj7: Memo<Option<u32>>,
        category: Memo<Option<u8>>,
    }
    let pass = |resolve: bool| {
        scan_numbered(
            &src.dir().join("claim_drugs.parquet"),
            &[
                "person_id",
                "service_month",
                "drug_code",
                "yj_code",
                "route",
                "quantity",
                "days",
            ],
            &[],
            None,
            |lines| DrugAcc {
                rows: claim_rows.reader("claim_drugs"),
                oral: vec![false; n],
                generic: vec![None; n],
                monthly: MonthlyKeys::with_capacity(lines),
                duplicates: Duplicates::new(everyone.len(), resolve),
                pids: Memo::default(),
                yj7: Memo::default(),
                master_yj7: Memo::default(),
                category: Memo::default(),
            },
            |acc, batch, numbers| {
                let persons = everyone.persons(&mut acc.pids, batch)?;
                let month = dates(batch, "service_month")?;
                let code = Strings::of(batch, "drug_code")?;
                let yj = Strings::of(batch, "yj_code")?;
                let yj7_of = acc.yj7.of(&yj, |s| s.and_then(yj7_number));
                let master_of: &[Option<u32>] = if yj.has_nulls() {
                    acc.master_yj7.of(&code, |c| {
                        c.and_then(|c| drug_master.get(c))
                            .and_then(|s| yj7_number(s))
                    })
                } else {
                    &[]
                };
                let category_of = acc
                    .category
                    .of(&code, |c| c.and_then(|c| generic.get(c).copied()));
                let route = bytes(batch, "route")?;
                let quantity = primitives::<Float64Type>(batch, "quantity")?;
                let days = primitives::<Int32Type>(batch, "days")?;
                let claim_of = acc.rows.of(numbers)?;
                for row in 0..batch.num_rows() {
                    if month.is_null(row) {
                        continue;
                    }
                    let Some((g, (p, mi))) = persons
                        .pid(row)
                        .and_then(|g| Some((g, rows.at(g, month.value(row))?)))
                    else {
                        continue;
                    };
                    let c = code.key(row);
                    if let Some(cat) = c.and_then(|c| category_of[c]) {
                        let q = if quantity.is_null(row) {
                            0.0
                        } else {
                            quantity.value(row)
                        };
                        let d = if days.is_null(row) {
                            1
                        } else {
                            days.value(row)
                        };
                        let qty = q * f64::from(d);
                        let e = acc.generic[p as usize].get_or_insert((0.0, 0.0));
                        if cat == 1 {
                            e.0 += qty;
                        }
                        e.1 += qty;
                    }
                    if route.is_null(row) || route.value(row) != oral_code {
                        continue;
                    }
                    acc.oral[p as usize] = true;
                    let yj7 = match yj.key(row) {
                        Some(k) => yj7_of[k],
                        None => c.and_then(|c| master_of[c]),
                    };
                    let Some(yj7) = yj7 else { continue };
                    acc.monthly
                        .push(p, (p as u64) << 37 | mi << 30 | u64::from(yj7));
                    if let Some((cl, institution)) = claims.find(claim_of[row], p)
                        && (cl.kind() == outpatient || cl.kind() == pharmacy)
                    {
                        acc.duplicates.push(
                            g,
                            (p as u64) << 28 | mi << 24 | u64::from(yj7),
                            institution,
                        );
                    }
                }
                Ok(())
            },
        )
    };
    // Each range's pairs, taken out of its state.
    let pairs = |accs: &mut Vec<DrugAcc>| -> Vec<Duplicates> {
        accs.iter_mut()
            .map(|a| std::mem::replace(&mut a.duplicates, Duplicates::new(0, false)))
            .collect()
    };
    let mut accs = pass(true)?;
    let duplicate = match duplicate_flags(pairs(&mut accs), n) {
        Some(d) => d,
        None => {
            // A file not grouped by person: read again, keeping every pair (the manifest
            // shows the time of the second reading as `claim_lines.drugs_again`).
            let again = Instant::now();
            drop(std::mem::take(&mut accs)); // not alive through the second reading
            accs = pass(false)?;
            let flags = duplicate_flags(pairs(&mut accs), n).expect("every pair kept");
            timings.add("claim_lines.drugs_again", again.elapsed().as_secs_f64());
            flags
        }
    };
    drop(claims);
    let mut oral = vec![false; n];
    let mut generic = vec![None; n];
    let mut monthly = Vec::new();
    for acc in accs {
        for (x, y) in oral.iter_mut().zip(&acc.oral) {
            *x |= *y;
        }
        for (x, y) in generic.iter_mut().zip(&acc.generic) {
            if let Some((g, t)) = y {
                let e: &mut (f64, f64) = x.get_or_insert((0.0, 0.0));
                e.0 += g;
                e.1 += t;
            }
        }
        monthly.push(acc.monthly);
    }
    let most_oral_drugs: Vec<i32> = monthly_highest(monthly, n)
        .into_iter()
        .map(|b| b.map_or(0, |(c, _)| c))
        .collect();
    timings.add("claim_lines.drugs", t.elapsed().as_secs_f64());
    Ok(disease
        .into_iter()
        .enumerate()
        .map(|(f, disease)| {
            let r = rows.range(f);
            FyLines {
                spend: spend.iter().map(|s| s[r.clone()].to_vec()).collect(),
                oral: oral[r.clone()].to_vec(),
                most_oral_drugs: most_oral_drugs[r.clone()].to_vec(),
                duplicate: duplicate[r.clone()].to_vec(),
                generic: generic[r].to_vec(),
                disease,
            }
        })
        .collect())
}

/// "No chapter" in the chosen-line key (a category outside every chapter).
const NO_CHAPTER: u64 = 31;

/// The runs of long-term inpatient stay (長期入院) of every person of the persons table:
/// ≥ 6 consecutive service months with a 医科入院 or DPC claim (kinds 1, 5), computed once
/// for all FYs. Columns `person_id` (str), `first` and `last` (i64: the run's first and last
/// month as year × 12 + month).
///
/// # Errors
/// I/O and schema errors of `persons.parquet` and `medical_claims.parquet`.
pub(crate) fn long_stays(src: &Sources) -> PolarsResult<DataFrame> {
    let persons = src
        .persons()?
        .select([polars::prelude::col("person_id")])
        .unique_stable(None, polars::prelude::UniqueKeepStrategy::First)
        .collect()?;
    let pop = Population::new(&persons)?;
    let inpatient: Vec<u8> = ClaimKind::ALL
        .into_iter()
        .filter(|k| k.is_inpatient())
        .map(ClaimKind::code)
        .collect();
    let keep_kinds = inpatient.clone();
    let keep: Keep = (
        "claim_kind",
        Arc::new(move |batch: &RecordBatch| -> BooleanArray {
            let k = batch
                .column(0)
                .as_primitive::<arrow_array::types::UInt8Type>();
            k.iter()
                .map(|k| Some(k.is_some_and(|k| keep_kinds.contains(&k))))
                .collect()
        }),
    );
    struct Acc {
        months: Vec<u64>,
        pids: Memo<u32>,
    }
    let accs = scan(
        &src.dir().join("medical_claims.parquet"),
        &["person_id", "service_month"],
        &[],
        Some(keep),
        |_| Acc {
            months: Vec::new(),
            pids: Memo::default(),
        },
        |acc, batch| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            for row in 0..batch.num_rows() {
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) {
                    continue;
                }
                // Month numbers are shifted to be positive (from year −5000).
                let m = (month_number(month.value(row)) + 60_000) as u64;
                acc.months.push((p as u64) << 32 | m);
            }
            Ok(())
        },
    )?;
    let mut all: Vec<u64> = accs.into_iter().flat_map(|a| a.months).collect();
    all.par_sort_unstable();
    all.dedup();
    let (mut ids, mut first, mut last) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all[j] == all[j - 1] + 1 && all[j] >> 32 == all[i] >> 32 {
            j += 1;
        }
        if j - i >= 6 {
            let mn = |k: u64| (k & 0xffff_ffff) as i64 - 60_000 + 1;
            ids.push((all[i] >> 32) as u32);
            first.push(mn(all[i]));
            last.push(mn(all[j - 1]));
        }
        i = j;
    }
    DataFrame::new_infer_height(vec![
        pop.ids(&ids)?,
        polars::prelude::Column::new("first".into(), first),
        polars::prelude::Column::new("last".into(), last),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapters_of_categories() {
        assert_eq!(chapter_of("E119"), Some(Some(3)), "E: chapter IV");
        assert_eq!(chapter_of("I10"), Some(Some(8)), "I: chapter IX");
        assert_eq!(chapter_of("E1"), None);
        assert_eq!(chapter_of("e119"), None);
        assert_eq!(chapter_of("1119"), None);
    }

    #[test]
    fn claims_are_found_by_their_rows_for_their_own_person() {
        // A 5,000-row file read in two ranges (as two threads read it): rows 0..1700 and
        // 1700..5000. The claim at row r has index r % 7, except every third row, which
        // belongs to no FY's population; its institution is r % 3 in its range's table.
        let part = |from: u32, to: u32| -> (u64, Vec<Claim>, Vec<u64>) {
            let claims = (from..to)
                .map(|r| {
                    let pid = if r % 3 == 0 { NO_PID } else { r % 7 };
                    Claim::new(pid, r % 3, r as i32, 2).unwrap()
                })
                .collect();
            (u64::from(from), claims, vec![100, 200, 300])
        };
        let claims = Claims::new(vec![part(0, 1700), part(1700, 5000)]).unwrap();
        assert_eq!(claims.rows(), 5000);
        for row in 0..5000u32 {
            let pid = row % 7;
            let found = claims.find(row, pid).map(|(c, i)| (c.points, i));
            let expected = (row % 3 != 0).then(|| (row as i32, 100 * u64::from(row % 3 + 1)));
            assert_eq!(found, expected, "{row}");
            // Another index's claim is not found, nor a claim of no index.
            assert!(claims.find(row, (pid + 1) % 7).is_none(), "{row}");
            assert!(claims.find(row, NO_PID).is_none(), "{row}");
        }
        // A line without a claim, and a row beyond the file.
        assert!(claims.find(crate::claim_rows::NO_CLAIM, 0).is_none());
        assert!(claims.find(5000, 5000 % 7).is_none());
        // The file order of `iter`.
        assert!(claims.iter().map(|(r, _)| r).eq(0..5000));
    }

    #[test]
    fn claims_pack_kind_and_institution() {
        assert_eq!(std::mem::size_of::<Claim>(), 12);
        let c = Claim::new(7, (1 << 24) - 1, 1_000_000_000, 255).unwrap();
        assert_eq!(
            (c.pid, c.institution(), c.points, c.kind()),
            (7, (1 << 24) - 1, 1_000_000_000, 255)
        );
        let c = Claim::new(0, 0, NO_POINTS, 0).unwrap();
        assert_eq!((c.institution(), c.points, c.kind()), (0, NO_POINTS, 0));
        assert!(Claim::new(0, 1 << 24, 0, 1).is_none());
    }

    #[test]
    fn ranges_must_follow_each_other() {
        let part = |from: u64, len: usize| -> (u64, Vec<Claim>, Vec<u64>) {
            let c = Claim::new(0, 0, 0, 2).unwrap();
            (from, vec![c; len], vec![0])
        };
        assert!(Claims::new(vec![part(0, 10), part(11, 5)]).is_err());
        assert!(Claims::new(vec![part(1, 10)]).is_err());
        assert!(Claims::new(vec![part(0, 10), part(10, 5)]).is_ok());
    }

    /// The 重複 flags of indexes 0..4 from ranges of (person, index, ingredient,
    /// institution) pairs, each in file order; the key is as in the drug pass (month 0).
    fn flags(ranges: &[&[(u32, u64, u64, u64)]], resolve: bool) -> Option<Vec<bool>> {
        let parts = ranges
            .iter()
            .map(|pairs| {
                let mut d = Duplicates::new(3, resolve);
                for &(person, index, ingredient, institution) in *pairs {
                    d.push(person, index << 28 | ingredient, institution);
                }
                d
            })
            .collect();
        duplicate_flags(parts, 4)
    }

    #[test]
    fn duplicates_resolved_person_by_person() {
        // Person 0 (index 0): ingredient 5 at institutions 1 and 2: 重複 (the range's first
        // run, kept). Person 1 (index 1): ingredient 5 twice at institution 1, and 6 at 1
        // and 7 at 2: not 重複 (resolved in its run). Person 1 in another FY (index 2):
        // ingredient 5 at 1 and 2: 重複, in the same run. Person 2 (index 3): ingredient 8
        // at 3 and 4, the range's last run: 重複.
        let one: &[(u32, u64, u64, u64)] = &[
            (0, 0, 5, 1),
            (0, 0, 5, 2),
            (1, 1, 5, 1),
            (1, 2, 5, 1),
            (1, 1, 5, 1),
            (1, 1, 6, 1),
            (1, 1, 7, 2),
            (1, 2, 5, 2),
            (2, 3, 8, 3),
            (2, 3, 8, 4),
        ];
        let expected = Some(vec![true, false, true, true]);
        assert_eq!(flags(&[one], true), expected);
        assert_eq!(flags(&[one], false), expected);
        // The same pairs with person 1 split between two ranges (as two threads read
        // them): its index 2 pairs, at institutions 1 and 2, are in different ranges.
        let (a, b) = one.split_at(4);
        assert_eq!(flags(&[a, b], true), expected);
        // Only one institution per key: no 重複.
        let single: &[(u32, u64, u64, u64)] = &[(0, 0, 5, 1), (1, 1, 5, 2), (2, 3, 5, 3)];
        assert_eq!(flags(&[single], true), Some(vec![false; 4]));
    }

    #[test]
    fn duplicates_in_a_file_not_grouped_by_person_are_noticed() {
        // Person 1's pairs in two runs of one range: the first run was resolved alone.
        let one: &[(u32, u64, u64, u64)] = &[
            (0, 0, 5, 1),
            (1, 1, 5, 1),
            (0, 0, 6, 1),
            (1, 1, 5, 2),
            (2, 3, 5, 1),
        ];
        assert_eq!(flags(&[one], true), None);
        assert_eq!(flags(&[one], false), Some(vec![false, true, false, false]));
        // Person 1 resolved in the first range (a middle run) and present in the second.
        let a: &[(u32, u64, u64, u64)] = &[(0, 0, 5, 1), (1, 1, 5, 1), (2, 3, 5, 1)];
        let b: &[(u32, u64, u64, u64)] = &[(2, 3, 6, 1), (1, 1, 5, 2)];
        assert_eq!(flags(&[a, b], true), None);
        assert_eq!(flags(&[a, b], false), Some(vec![false, true, false, false]));
    }

    /// Two FYs: FY2023 with persons "a", "b"; FY2024 with "b", "c".
    fn two_fys() -> (DataFrame, DataFrame, DataFrame) {
        let frame = |ids: &[&str]| {
            DataFrame::new_infer_height(vec![polars::prelude::Column::new("person_id".into(), ids)])
                .unwrap()
        };
        (
            frame(&["a", "b"]),
            frame(&["b", "c"]),
            frame(&["a", "b", "c"]),
        )
    }

    #[test]
    fn lines_go_to_their_fy_and_person() {
        let (fy23, fy24, all) = two_fys();
        let everyone = Population::new(&all).unwrap();
        let rows = FyRows::new(
            &[(FiscalYear(2023), &fy23), (FiscalYear(2024), &fy24)],
            &everyone,
        )
        .unwrap();
        assert_eq!(rows.len(), 4);
        let d = |y, m| day(chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap());
        let (a, b, c) = (
            everyone.pid(Some("a")),
            everyone.pid(Some("b")),
            everyone.pid(Some("c")),
        );
        // FY2023 is April 2023 to March 2024: indexes 0 ("a") and 1 ("b").
        assert_eq!(rows.at(a, d(2023, 4)), Some((0, 0)));
        assert_eq!(rows.at(b, d(2024, 3)), Some((1, 11)));
        // FY2024: indexes 2 ("b") and 3 ("c"); April 2024 is its month 0.
        assert_eq!(rows.at(b, d(2024, 4)), Some((2, 0)));
        assert_eq!(rows.at(c, d(2025, 3)), Some((3, 11)));
        // "a" is not in FY2024's population, "c" not in FY2023's.
        assert_eq!(rows.at(a, d(2024, 4)), None);
        assert_eq!(rows.at(c, d(2023, 10)), None);
        // Months of no FY, and a day after the first of the FY's last month.
        assert_eq!(rows.at(a, d(2023, 3)), None);
        assert_eq!(rows.at(b, d(2025, 4)), None);
        assert_eq!(rows.at(c, d(2025, 3) + 1), None);
        assert_eq!(rows.range(0), 0..2);
        assert_eq!(rows.range(1), 2..4);
        // An FY given twice would take the other's lines: refused.
        assert!(
            FyRows::new(
                &[(FiscalYear(2023), &fy23), (FiscalYear(2023), &fy24)],
                &everyone
            )
            .is_err()
        );
    }
}
