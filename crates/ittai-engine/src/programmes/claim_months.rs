//! The claim tables of the programme evaluation's target persons reduced to one row per
//! person × service month, by one pass over each Parquet file (the way `crate::lines`
//! computes the rules' features: dictionaries classified once, row groups split among
//! threads). The polars form of these reductions grouped every line of the target persons
//! by `person_id` string and month, and tested drug and disease classes per row; it took
//! 31.5 of the evaluation's 34 s at 1,000,000 insured (docs/PERFORMANCE.md).
//!
//! Each function returns the frame the evaluation joins with its targets; rows of persons
//! outside `persons` are left out. Each person's lines are reduced when the person changes
//! (the files come grouped by person) and the reduced rows are merged again at the end,
//! so a person whose lines are not consecutive is still one row per month.

use std::collections::HashMap;
use std::sync::Mutex;

use arrow_array::Array;
use arrow_array::types::Int32Type;
use ittai_model::{ClaimKind, Route};
use polars::prelude::*;
use rayon::prelude::*;

use crate::Sources;
use crate::lines::{
    Memo, NO_PID, Population, Strings, booleans, bytes, dates, in_prefixes, masters,
    months_between, primitives, scan, yj7_number,
};

/// Rows (person · 2^32 + service month's day number, value) of one thread's range; the
/// rows of the current person are kept apart and reduced by `reduce` when the person
/// changes.
struct Runs<T> {
    done: Vec<(u64, T)>,
    run: Vec<(u64, T)>,
    pid: u32,
}

impl<T: Copy + Ord> Runs<T> {
    /// Room for `rows` rows before the vector grows (the rows of the range is a bound).
    fn with_capacity(rows: usize) -> Self {
        Self {
            done: Vec::with_capacity(rows),
            run: Vec::new(),
            pid: NO_PID,
        }
    }

    fn push(&mut self, pid: u32, month: i32, v: T, reduce: &impl Fn(&mut Vec<(u64, T)>)) {
        if pid != self.pid {
            self.flush(reduce);
            self.pid = pid;
        }
        self.run.push(((pid as u64) << 32 | month as u32 as u64, v));
    }

    fn flush(&mut self, reduce: &impl Fn(&mut Vec<(u64, T)>)) {
        reduce(&mut self.run);
        self.done.append(&mut self.run);
    }
}

/// All ranges' rows, reduced once more over the whole.
fn merge<T: Copy + Ord + Send>(
    parts: Vec<Runs<T>>,
    reduce: &impl Fn(&mut Vec<(u64, T)>),
) -> Vec<(u64, T)> {
    let mut parts = parts;
    parts.iter_mut().for_each(|p| p.flush(reduce));
    let mut all = Vec::with_capacity(parts.iter().map(|p| p.done.len()).sum());
    for mut p in parts {
        all.append(&mut p.done);
    }
    all.par_sort_unstable();
    reduce(&mut all);
    all
}

/// `person_id` (str) and `service_month` (date) of the keys of `rows`.
fn key_columns<T>(pop: &Population, rows: &[(u64, T)]) -> PolarsResult<Vec<Column>> {
    let pids: Vec<u32> = rows.iter().map(|(k, _)| (k >> 32) as u32).collect();
    let months: Vec<i32> = rows.iter().map(|(k, _)| *k as u32 as i32).collect();
    Ok(vec![
        pop.ids(&pids)?,
        Series::new("service_month".into(), months)
            .cast(&DataType::Date)?
            .into_column(),
    ])
}

/// Sorts `rows` and merges the rows of one key with `combine`.
fn combine_by_key<T: Copy + Ord>(rows: &mut Vec<(u64, T)>, combine: impl Fn(&mut T, T)) {
    rows.sort_unstable();
    let mut out: Vec<(u64, T)> = Vec::with_capacity(rows.len());
    for &(k, v) in rows.iter() {
        match out.last_mut() {
            Some((lk, lv)) if *lk == k => combine(lv, v),
            _ => out.push((k, v)),
        }
    }
    *rows = out;
}

/// Medical claims of the target persons with a service month in `a..=b` (day numbers),
/// per person × month: `person_id`, `service_month`, `dental` (bool: a 歯科 claim),
/// `medical` (bool: a 医科入院, 入院外 or DPC claim), `out_days` (i64: 診療実日数 of 医科入院外
/// and 歯科 claims, missing days 0); and the second frame, the distinct institutions of
/// 医科入院外 and 歯科 claims per person × month: `person_id`, `service_month`,
/// `institution_code` (u32: an id per distinct code).
///
/// # Errors
/// I/O and schema errors of `medical_claims.parquet`.
pub(crate) fn medical_months(
    src: &Sources,
    pop: &Population,
    a: i32,
    b: i32,
) -> PolarsResult<(DataFrame, DataFrame)> {
    let code = |k: ClaimKind| k.code();
    let (dental, outpatient) = (code(ClaimKind::Dental), code(ClaimKind::Outpatient));
    let medical = [
        code(ClaimKind::Inpatient),
        code(ClaimKind::Outpatient),
        code(ClaimKind::Dpc),
    ];
    // (dental, medical, days) per person × month; institutions as (id, 0) rows.
    let reduce_months = |rows: &mut Vec<(u64, (bool, bool, i64))>| {
        combine_by_key(rows, |x, y| {
            x.0 |= y.0;
            x.1 |= y.1;
            x.2 += y.2;
        });
    };
    let reduce_inst = |rows: &mut Vec<(u64, u32)>| {
        rows.sort_unstable();
        rows.dedup();
    };
    let ids: Mutex<HashMap<Option<String>, u32>> = Mutex::new(HashMap::new());
    struct Acc {
        months: Runs<(bool, bool, i64)>,
        inst: Runs<u32>,
        pids: Memo<u32>,
        inst_ids: Memo<u32>,
    }
    let accs = scan(
        &src.dir().join("medical_claims.parquet"),
        &[
            "person_id",
            "service_month",
            "claim_kind",
            "institution_code",
            "days",
        ],
        &[],
        Some(months_between(a, b)),
        |rows| Acc {
            months: Runs::with_capacity(rows),
            inst: Runs::with_capacity(rows),
            pids: Memo::default(),
            inst_ids: Memo::default(),
        },
        |acc, batch| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let inst = Strings::of(batch, "institution_code")?;
            let inst_of = acc.inst_ids.of(&inst, |s| {
                let mut ids = ids.lock().unwrap_or_else(|e| e.into_inner());
                let next = ids.len() as u32;
                *ids.entry(s.map(str::to_string)).or_insert(next)
            });
            let month = dates(batch, "service_month")?;
            let kind = bytes(batch, "claim_kind")?;
            let days = primitives::<Int32Type>(batch, "days")?;
            for row in 0..batch.num_rows() {
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) {
                    continue;
                }
                let m = month.value(row);
                let k = (!kind.is_null(row)).then(|| kind.value(row));
                let out = k.is_some_and(|k| k == outpatient || k == dental);
                let d = if out && !days.is_null(row) {
                    i64::from(days.value(row))
                } else {
                    0
                };
                acc.months.push(
                    p,
                    m,
                    (
                        k == Some(dental),
                        k.is_some_and(|k| medical.contains(&k)),
                        d,
                    ),
                    &reduce_months,
                );
                if out {
                    let i = inst.key(row).map_or(u32::MAX, |i| inst_of[i]);
                    acc.inst.push(p, m, i, &reduce_inst);
                }
            }
            Ok(())
        },
    )?;
    let (mut months, mut inst) = (Vec::new(), Vec::new());
    for acc in accs {
        months.push(acc.months);
        inst.push(acc.inst);
    }
    let months = merge(months, &reduce_months);
    let inst = merge(inst, &reduce_inst);
    let mut cols = key_columns(pop, &months)?;
    cols.push(Column::new(
        "dental".into(),
        months.iter().map(|(_, v)| v.0).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "medical".into(),
        months.iter().map(|(_, v)| v.1).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "out_days".into(),
        months.iter().map(|(_, v)| v.2).collect::<Vec<_>>(),
    ));
    let per_month = DataFrame::new_infer_height(cols)?;
    let mut cols = key_columns(pop, &inst)?;
    cols.push(Column::new(
        "institution_code".into(),
        inst.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
    ));
    Ok((per_month, DataFrame::new_infer_height(cols)?))
}

/// Drug lines of the target persons with a service month in `a..=b` (day numbers), per
/// person × month: `person_id`, `service_month`, `k` (i64: distinct oral YJ-7 ingredients),
/// `dm` and `ht` (bool: a line of the diabetes or hypertension drug class, `dm_drug` and
/// `ht_drug` being the classes' YJ prefixes). The YJ code of a line without one is the drug
/// master's.
///
/// # Errors
/// I/O and schema errors of `claim_drugs.parquet`; a broken master.
pub(crate) fn drug_months(
    src: &Sources,
    pop: &Population,
    a: i32,
    b: i32,
    dm_drug: &[String],
    ht_drug: &[String],
) -> PolarsResult<DataFrame> {
    let master = masters(src)?.0;
    /// A line: (ingredient + 1 for an oral line with one, else 0; class bits).
    type Line = (u32, u8);
    // Per person × month: the distinct ingredients, then one row (count, bits).
    let reduce = |rows: &mut Vec<(u64, Line)>| {
        rows.sort_unstable();
        rows.dedup();
    };
    let info = |yj: Option<&str>| -> (Option<u32>, u8) {
        let Some(yj) = yj else { return (None, 0) };
        let yj7 = yj7_number(yj);
        let bits =
            u8::from(in_prefixes(yj, yj7, dm_drug)) | u8::from(in_prefixes(yj, yj7, ht_drug)) << 1;
        (yj7, bits)
    };
    let oral = Route::Oral.code();
    struct Acc {
        lines: Runs<Line>,
        pids: Memo<u32>,
        yj: Memo<(Option<u32>, u8)>,
        master: Memo<(Option<u32>, u8)>,
    }
    let accs = scan(
        &src.dir().join("claim_drugs.parquet"),
        &[
            "person_id",
            "service_month",
            "drug_code",
            "yj_code",
            "route",
        ],
        &[],
        Some(months_between(a, b)),
        |rows| Acc {
            lines: Runs::with_capacity(rows),
            pids: Memo::default(),
            yj: Memo::default(),
            master: Memo::default(),
        },
        |acc, batch| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let code = Strings::of(batch, "drug_code")?;
            let yj = Strings::of(batch, "yj_code")?;
            let of_yj = acc.yj.of(&yj, info);
            let of_master: &[(Option<u32>, u8)] = if yj.has_nulls() {
                acc.master.of(&code, |c| {
                    info(c.and_then(|c| master.get(c)).map(String::as_str))
                })
            } else {
                &[]
            };
            let route = bytes(batch, "route")?;
            for row in 0..batch.num_rows() {
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                if month.is_null(row) {
                    continue;
                }
                let (yj7, bits) = match yj.key(row) {
                    Some(k) => of_yj[k],
                    None => code.key(row).map_or((None, 0), |c| of_master[c]),
                };
                let is_oral = !route.is_null(row) && route.value(row) == oral;
                let ingredient = match (is_oral, yj7) {
                    (true, Some(v)) => v + 1,
                    _ => 0,
                };
                acc.lines
                    .push(p, month.value(row), (ingredient, bits), &reduce);
            }
            Ok(())
        },
    )?;
    let rows = merge(accs.into_iter().map(|a| a.lines).collect(), &reduce);
    // One row per person × month: rows are sorted by (key, ingredient, bits), so the
    // distinct ingredients are the changes of a non-zero ingredient within a key.
    let mut keyed: Vec<(u64, u8)> = Vec::new();
    let mut distinct: Vec<i64> = Vec::new();
    let mut last_ingredient = 0u32;
    for &(key, (ingredient, bits)) in &rows {
        match keyed.last_mut() {
            Some((k, b)) if *k == key => *b |= bits,
            _ => {
                keyed.push((key, bits));
                distinct.push(0);
                last_ingredient = 0;
            }
        }
        if ingredient != 0 && ingredient != last_ingredient {
            *distinct.last_mut().expect("pushed") += 1;
            last_ingredient = ingredient;
        }
    }
    let mut cols = key_columns(pop, &keyed)?;
    cols.push(Column::new("k".into(), distinct));
    cols.push(Column::new(
        "dm".into(),
        keyed.iter().map(|(_, b)| b & 1 != 0).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "ht".into(),
        keyed.iter().map(|(_, b)| b & 2 != 0).collect::<Vec<_>>(),
    ));
    DataFrame::new_infer_height(cols)
}

/// Non-suspected diagnoses of the target persons with a service month up to `b` (day
/// number), per person × month, for the months with one of them: `person_id`,
/// `service_month`, `j69` (J69.0, ICD-10 starting `J690`), `dxdm`, `dxht` (bool: a
/// diagnosis of the diabetes or hypertension disease class, `dm_dx` and `ht_dx` being
/// their ICD-10 prefixes). The ICD-10 of a line without one is the disease master's.
///
/// # Errors
/// I/O and schema errors of `claim_diagnoses.parquet`; a broken master.
pub(crate) fn diagnosis_months(
    src: &Sources,
    pop: &Population,
    b: i32,
    dm_dx: &[String],
    ht_dx: &[String],
) -> PolarsResult<DataFrame> {
    let master = masters(src)?.1;
    let bits_of = |icd: Option<&str>| -> u8 {
        icd.map_or(0, |icd| {
            let any = |p: &[String]| p.iter().any(|p| icd.starts_with(p.as_str()));
            u8::from(icd.starts_with("J690"))
                | u8::from(any(dm_dx)) << 1
                | u8::from(any(ht_dx)) << 2
        })
    };
    let reduce = |rows: &mut Vec<(u64, u8)>| combine_by_key(rows, |x, y| *x |= y);
    struct Acc {
        rows: Runs<u8>,
        pids: Memo<u32>,
        icd: Memo<u8>,
        master: Memo<u8>,
    }
    let accs = scan(
        &src.dir().join("claim_diagnoses.parquet"),
        &[
            "person_id",
            "service_month",
            "disease_code",
            "icd10",
            "suspected",
        ],
        &[],
        Some(months_between(i32::MIN, b)),
        |rows| Acc {
            rows: Runs::with_capacity(rows),
            pids: Memo::default(),
            icd: Memo::default(),
            master: Memo::default(),
        },
        |acc, batch| {
            let persons = pop.persons(&mut acc.pids, batch)?;
            let month = dates(batch, "service_month")?;
            let code = Strings::of(batch, "disease_code")?;
            let icd = Strings::of(batch, "icd10")?;
            let of_icd = acc.icd.of(&icd, bits_of);
            let of_master: &[u8] = if icd.has_nulls() {
                acc.master.of(&code, |c| {
                    bits_of(c.and_then(|c| master.get(c)).map(String::as_str))
                })
            } else {
                &[]
            };
            let suspected = booleans(batch, "suspected")?;
            for row in 0..batch.num_rows() {
                if suspected.is_null(row) || suspected.value(row) || month.is_null(row) {
                    continue;
                }
                let bits = match icd.key(row) {
                    Some(k) => of_icd[k],
                    None => code.key(row).map_or(0, |c| of_master[c]),
                };
                if bits == 0 {
                    continue;
                }
                let Some(p) = persons.pid(row) else {
                    continue;
                };
                acc.rows.push(p, month.value(row), bits, &reduce);
            }
            Ok(())
        },
    )?;
    let rows = merge(accs.into_iter().map(|a| a.rows).collect(), &reduce);
    let mut cols = key_columns(pop, &rows)?;
    for (name, bit) in [("j69", 1u8), ("dxdm", 2), ("dxht", 4)] {
        cols.push(Column::new(
            name.into(),
            rows.iter().map(|(_, v)| v & bit != 0).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new_infer_height(cols)
}
