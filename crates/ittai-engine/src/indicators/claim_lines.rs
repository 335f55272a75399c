//! The claim-line measures of the indicators for one FY, by one pass over each claim
//! file (`medical_claims`, `claim_diagnoses`, `claim_drugs`) restricted to the FY's service
//! months, in the way `crate::lines` computes the rules' features: string columns read
//! as dictionaries, each distinct code classified once, row groups split among threads.
//!
//! The polars form of these measures joined every drug line with its claim (重複投薬) and
//! with the generic categories (後発医薬品), and every claim with its chosen diagnosis
//! (疾病分類別医療費); at 100,000 insured those joins took 12 of the indicators' 18 s
//! (docs/PERFORMANCE.md). Here a line finds its claim by its claim row (`crate::claim_rows`:
//! the file row of its claim in `medical_claims`, computed once per dataset) in an array
//! of the FY's claims, and only a claim of the line's own person counts, as the validator
//! rejects a line whose claim belongs to another person or month (docs/DECISIONS.md,
//! D103, D104). [`long_stays`] finds the runs of long-term inpatient stay of the checkup
//! denominators, once for every FY.
//!
//! What is computed, per person of the FY's population (`attrs`, the persons insured at
//! some time in the FY; lines of other persons are left out, as the polars joins on
//! `person_id` left them out):
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
use polars::prelude::{DataFrame, PolarsResult};
use rayon::prelude::*;

use super::cells::Timings;
use crate::Sources;
use crate::lines::{
    Keep, Memo, MonthlyKeys, Population, Strings, booleans, bytes, code_number, dates, day,
    masters, month_number, monthly_highest, months_between, primitives, scan, scan_numbered,
    yj7_number,
};

/// The measures of one FY, indexed by the row of `attrs` (see the module docs).
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

/// A claim of the FY.
#[derive(Clone, Copy)]
struct Claim {
    /// Row of the person in `attrs`.
    pid: u32,
    /// Claim kind code (0 when null).
    kind: u8,
    /// Points, `i64::MIN` when null.
    points: i64,
    /// The parsed institution code, `u64::MAX` when it does not parse.
    institution: u64,
}

/// The claims of the FY, found from a line's claim row (`crate::claim_rows`: the file
/// row of its claim in `medical_claims`) through an array over all rows of the file. The
/// claims stay in the parts the threads collected (each in file order) rather than being
/// copied into one vector: at 1,000,000 insured an FY has 17 million claims, and a copy is
/// 400 MB of fresh pages, which cost more than the copying (docs/PERFORMANCE.md).
struct Claims {
    /// Each range's claims, in file order.
    parts: Vec<Vec<Claim>>,
    /// The index (over all parts, in order) of each part's first claim.
    starts: Vec<usize>,
    /// `slot[row]` is 1 + the index of the claim at file row `row`, 0 for a claim outside
    /// the FY or the population.
    slot: Vec<u32>,
}

impl Claims {
    /// From each range's (file rows, claims), in any order, and the number of rows of the
    /// file.
    fn new(parts: Vec<(Vec<u32>, Vec<Claim>)>, file_rows: u64) -> Self {
        let mut slot = vec![0u32; file_rows as usize];
        let mut starts = Vec::with_capacity(parts.len());
        let mut claims = Vec::with_capacity(parts.len());
        let mut at = 0usize;
        for (rows, part) in parts {
            starts.push(at);
            for (i, &row) in rows.iter().enumerate() {
                slot[row as usize] = (at + i) as u32 + 1;
            }
            at += part.len();
            claims.push(part);
        }
        Self {
            parts: claims,
            starts,
            slot,
        }
    }

    /// The number of claims.
    fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }

    /// The claim of index `i`.
    #[inline]
    fn get(&self, i: usize) -> &Claim {
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        &self.parts[p][i - self.starts[p]]
    }

    /// Every claim, in index order.
    fn iter(&self) -> impl Iterator<Item = &Claim> {
        self.parts.iter().flatten()
    }

    /// The index of the claim at file row `row` of `medical_claims` if it is a claim of
    /// the FY of person `pid` (a line is not linked to another person's claim, which the
    /// validator rejects).
    #[inline]
    fn find(&self, row: u32, pid: u32) -> Option<usize> {
        let i = *self.slot.get(row as usize)? as usize;
        (i != 0 && self.get(i - 1).pid == pid).then(|| i - 1)
    }
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

/// Computes [`FyLines`] for `fy` over the persons of `attrs` (a frame with a unique
/// `person_id`, str); `kind_groups` are the sets of claim kind codes of `spend`. The time
/// of each pass is added to `timings` (`claim_lines.claims`, `.diagnoses`, `.drugs`).
///
/// # Errors
/// I/O and schema errors of the claim files.
pub(crate) fn fy_lines(
    src: &Sources,
    fy: FiscalYear,
    attrs: &DataFrame,
    kind_groups: &[Vec<u8>],
    timings: &mut Timings,
) -> PolarsResult<FyLines> {
    let t = Instant::now();
    let pop = Population::new(attrs)?;
    let n = pop.len();
    let (a, b) = (day(fy.start()), day(first_of_month(fy.end())));
    let base = month_number(a);
    let (drug_master, disease_master) = masters(src)?;

    // Claims: spending and the claim table.
    let group_bits: Vec<u64> = (0..=255u8)
        .map(|c| {
            kind_groups
                .iter()
                .enumerate()
                .filter(|(_, g)| ClaimKind::from_code(c).is_some() && g.contains(&c))
                .fold(0, |acc, (i, _)| acc | 1 << i)
        })
        .collect();
    struct ClaimAcc {
        spend: Vec<Vec<f64>>,
        rows: Vec<u32>,
        claims: Vec<Claim>,
        pids: Memo<u32>,
        institutions: Memo<u64>,
    }
    let claim_rows = src.claim_rows()?;
    let accs = scan_numbered(
        &src.dir().join("medical_claims.parquet"),
        &["person_id", "claim_kind", "institution_code", "points"],
        &[],
        Some(months_between(a, b)),
        |rows| ClaimAcc {
            spend: vec![vec![0.0; n]; kind_groups.len()],
            rows: Vec::with_capacity(rows),
            claims: Vec::with_capacity(rows),
            pids: Memo::default(),
            institutions: Memo::default(),
        },
        |acc, batch, numbers| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let inst = Strings::of(batch, "institution_code")?;
            let inst_of = acc
                .institutions
                .of(&inst, |s| code_number(s).unwrap_or(u64::MAX));
            let kind = bytes(batch, "claim_kind")?;
            let points = primitives::<Int64Type>(batch, "points")?;
            for row in 0..batch.num_rows() {
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                let k = if kind.is_null(row) {
                    0
                } else {
                    kind.value(row)
                };
                let pts = (!points.is_null(row)).then(|| points.value(row));
                if let Some(pts) = pts {
                    let bits = group_bits[k as usize];
                    for (g, spend) in acc.spend.iter_mut().enumerate() {
                        if bits & (1 << g) != 0 {
                            spend[p as usize] += pts as f64 * 10.0;
                        }
                    }
                }
                acc.rows.push(numbers[row] as u32);
                acc.claims.push(Claim {
                    pid: p,
                    kind: k,
                    points: pts.unwrap_or(i64::MIN),
                    institution: inst.key(row).map_or(u64::MAX, |i| inst_of[i]),
                });
            }
            Ok(())
        },
    )?;
    let mut spend = vec![vec![0.0; n]; kind_groups.len()];
    let mut parts = Vec::with_capacity(accs.len());
    for acc in accs {
        for (into, from) in spend.iter_mut().zip(&acc.spend) {
            for (x, y) in into.iter_mut().zip(from) {
                *x += y;
            }
        }
        parts.push((acc.rows, acc.claims));
    }
    let claims = Claims::new(parts, claim_rows.claims);
    timings.add("claim_lines.claims", t.elapsed().as_secs_f64());
    let t = Instant::now();

    // Diagnoses: the chosen line of each claim, as the minimum of
    // rank · 2^58 + file row · 32 + chapter (rank 0 for the main diagnosis).
    const NONE: u64 = u64::MAX;
    let chosen: Vec<AtomicU64> = (0..claims.len()).map(|_| AtomicU64::new(NONE)).collect();
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
            "disease_code",
            "icd10",
            "suspected",
            "main_diagnosis",
        ],
        &[],
        Some(months_between(a, b)),
        |_| DxAcc {
            rows: claim_rows.reader("claim_diagnoses"),
            pids: Memo::default(),
            icd: Memo::default(),
            master: Memo::default(),
        },
        |acc, batch, numbers| {
            let persons = pop.persons(&mut acc.pids, batch)?;
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
                if suspected.is_null(row) || suspected.value(row) {
                    continue;
                }
                let chapter = match icd.key(row) {
                    Some(k) => of_icd[k],
                    None => code.key(row).and_then(|c| of_master[c]),
                };
                let Some(chapter) = chapter else { continue };
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                let Some(c) = claims.find(claim_of[row], p) else {
                    continue;
                };
                let is_main = !main.is_null(row) && main.value(row);
                let rank = if is_main { 0 } else { 1u64 << 58 };
                let at = chapter.map_or(NO_CHAPTER, |i| i as u64);
                chosen[c].fetch_min(rank + numbers[row] * 32 + at, Ordering::Relaxed);
            }
            Ok(())
        },
    )?;
    drop(dx);
    let chapters: Vec<Chapter> = Chapter::all().collect();
    // Sized first: the parts' chained iterator gives no length to `collect`.
    let mut per: Vec<(u32, DiseaseGroup, f64)> = Vec::with_capacity(claims.len());
    per.extend(claims.iter().zip(&chosen).map(|(c, k)| {
        let k = k.load(Ordering::Relaxed);
        let group = if c.kind == ClaimKind::Pharmacy.code() {
            DiseaseGroup::Dispensing
        } else if k == NONE || k % 32 == NO_CHAPTER {
            DiseaseGroup::Unclassified
        } else {
            DiseaseGroup::Chapter(chapters[(k % 32) as usize])
        };
        let yen = if c.points == i64::MIN {
            0.0
        } else {
            c.points as f64 * 10.0
        };
        (c.pid, group, yen)
    }));
    drop(chosen);
    per.par_sort_unstable_by_key(|(p, g, _)| (*p, *g));
    let mut disease: Vec<(u32, DiseaseGroup, u64, f64)> = Vec::new();
    for (p, g, yen) in per {
        match disease.last_mut() {
            Some(last) if last.0 == p && last.1 == g => {
                last.2 += 1;
                last.3 += yen;
            }
            _ => disease.push((p, g, 1, yen)),
        }
    }

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
        /// (person · 2^40 + month · 2^24 + ingredient, institution).
        duplicates: Vec<(u64, u64)>,
        pids: Memo<u32>,
        yj7: Memo<Option<u32>>,
        master_yj7: Memo<Option<u32>>,
        category: Memo<Option<u8>>,
    }
    let accs = scan_numbered(
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
        Some(months_between(a, b)),
        |rows| DrugAcc {
            rows: claim_rows.reader("claim_drugs"),
            oral: vec![false; n],
            generic: vec![None; n],
            monthly: MonthlyKeys::with_capacity(rows),
            duplicates: Vec::with_capacity(rows),
            pids: Memo::default(),
            yj7: Memo::default(),
            master_yj7: Memo::default(),
            category: Memo::default(),
        },
        |acc, batch, numbers| {
            let persons = pop.persons(&mut acc.pids, batch)?;
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
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) {
                    continue;
                }
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
                let mi = (month_number(month.value(row)) - base) as u64;
                acc.monthly
                    .push(p, (p as u64) << 37 | mi << 30 | u64::from(yj7));
                if let Some(cl) = claims.find(claim_of[row], p).map(|i| claims.get(i))
                    && (cl.kind == outpatient || cl.kind == pharmacy)
                {
                    acc.duplicates
                        .push(((p as u64) << 40 | mi << 24 | u64::from(yj7), cl.institution));
                }
            }
            Ok(())
        },
    )?;
    drop(claims);
    let mut oral = vec![false; n];
    let mut generic = vec![None; n];
    let mut monthly = Vec::new();
    let mut pairs: Vec<Vec<(u64, u64)>> = Vec::with_capacity(accs.len());
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
        pairs.push(acc.duplicates);
    }
    let most_oral_drugs = monthly_highest(monthly, n)
        .into_iter()
        .map(|b| b.map_or(0, |(c, _)| c))
        .collect();
    // Each range's pairs sorted, then read in one merged order (no merged copy): a key
    // (person, month, ingredient) next to itself with another institution is 重複.
    pairs.iter_mut().for_each(|p| p.par_sort_unstable());
    let mut duplicate = vec![false; n];
    let mut previous: Option<(u64, u64)> = None;
    for (key, institution) in pairs.iter().map(|p| p.iter().copied()).kmerge() {
        if previous.is_some_and(|(k, i)| k == key && i != institution) {
            duplicate[(key >> 40) as usize] = true;
        }
        previous = Some((key, institution));
    }
    timings.add("claim_lines.drugs", t.elapsed().as_secs_f64());
    Ok(FyLines {
        spend,
        oral,
        most_oral_drugs,
        duplicate,
        generic,
        disease,
    })
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
        // Claims at the even file rows of a 5,000-row file, of persons 0..7, in two parts
        // (as two threads collect them), each out of row order, the later rows first.
        let part = |from: u32, to: u32| -> (Vec<u32>, Vec<Claim>) {
            (from..to)
                .rev()
                .map(|i| {
                    (
                        2 * i,
                        Claim {
                            pid: i % 7,
                            kind: 2,
                            points: i64::from(i),
                            institution: 7,
                        },
                    )
                })
                .unzip()
        };
        let claims = Claims::new(vec![part(1700, 2500), part(0, 1700)], 5000);
        assert_eq!(claims.len(), 2500);
        for row in 0..5000u32 {
            let pid = (row / 2) % 7;
            let found = claims.find(row, pid).map(|c| claims.get(c).points);
            assert_eq!(found, (row % 2 == 0).then_some(i64::from(row / 2)), "{row}");
            // Another person's claim is not found.
            assert_eq!(claims.find(row, (pid + 1) % 7), None, "{row}");
        }
        // A line without a claim, and a row beyond the file.
        assert_eq!(claims.find(crate::claim_rows::NO_CLAIM, 0), None);
        assert_eq!(claims.find(5000, 0), None);
    }
}
