//! An independent, straightforward implementation of the ten rules, written from the
//! text of docs/reference/dataset.md, time.md and rules.md without the feature table or polars: rows are read with arrow into plain
//! structs and every rule is a loop. On sample_data it must list exactly the persons
//! `ittai_engine::run` lists, for every rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, UInt8Type};
use arrow_array::{Array, RecordBatch};
use chrono::NaiveDate;
use ittai_dataset::days_to_date;
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunSpec, Sources};
use ittai_model::time::add_months;
use ittai_model::{FiscalYear, first_of_month};

use crate::support::{read_batches, root};

// docs/reference/dataset.md#drug-classes, docs/reference/dataset.md#disease-classes, copied by hand (not read from queries/classes).
const HYPNOTIC: &[&str] = &["112", "1190016", "1190023", "1190027"];
const DIABETES: &[&str] = &[
    "396", "2492", "2499410", "2499411", "2499415", "2499416", "2499418", "2499014", "2499422",
];
const HYPERTENSION: &[&str] = &[
    "213", "214", "2171014", "2171020", "2171006", "2171021", "2171022", "2123005", "2123006",
    "2123008", "2123009", "2123011", "2123014", "2123015", "2123016",
];
const CARDIO: &[&str] = &[
    "I50", "I20", "I21", "I22", "I23", "I24", "I25", "I60", "I61", "I62", "I63", "I64", "I65",
    "I66", "I67", "I68", "I69",
];

fn starts(s: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| s.starts_with(p))
}

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column(b.schema().index_of(name).unwrap()).as_ref()
}
fn s(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let a = col(b, name).as_string::<i32>();
    a.is_valid(i).then(|| a.value(i).to_string())
}
fn dt(b: &RecordBatch, name: &str, i: usize) -> Option<NaiveDate> {
    let a = col(b, name).as_primitive::<Date32Type>();
    a.is_valid(i).then(|| days_to_date(a.value(i)))
}
fn u(b: &RecordBatch, name: &str, i: usize) -> Option<u8> {
    let a = col(b, name).as_primitive::<UInt8Type>();
    a.is_valid(i).then(|| a.value(i))
}
fn f(b: &RecordBatch, name: &str, i: usize) -> Option<f64> {
    let a = col(b, name).as_primitive::<Float64Type>();
    a.is_valid(i).then(|| a.value(i))
}
fn bl(b: &RecordBatch, name: &str, i: usize) -> bool {
    col(b, name).as_boolean().value(i)
}

fn rows(dir: &std::path::Path, table: &str) -> Vec<(RecordBatch, usize)> {
    read_batches(dir, table)
        .into_iter()
        .flat_map(|b| (0..b.num_rows()).map(move |i| (b.clone(), i)))
        .collect()
}

#[derive(Default)]
struct P {
    spells: Vec<(NaiveDate, Option<NaiveDate>)>,
    checkup_dates: Vec<NaiveDate>,
    latest_checkup: Option<(
        NaiveDate,
        usize,
        usize,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
        Option<u8>,
    )>,
    latest_q: Option<(NaiveDate, usize, usize, [Option<u8>; 15])>,
    claims: Vec<(NaiveDate, u8)>,
    drugs: Vec<(NaiveDate, String, Option<u8>, u8)>,
    dx: Vec<(NaiveDate, String)>,
    certs: Vec<(NaiveDate, String, NaiveDate, NaiveDate)>,
}

fn covered(p: &P, a: NaiveDate, b: NaiveDate) -> bool {
    let mut sp = p.spells.clone();
    sp.sort();
    let far = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let mut islands: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for (s, e) in sp {
        let e = e.unwrap_or(far);
        match islands.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => islands.push((s, e)),
        }
    }
    islands.iter().any(|(s, e)| *s <= a && *e > b)
}

#[test]
fn independent_implementation_agrees_on_sample_data() {
    let dir = root().join("sample_data");
    let fy = FiscalYear(2024);
    let reference = fy.end();
    let ref_month = first_of_month(reference);
    let mut people: BTreeMap<String, P> = BTreeMap::new();
    let drug_master = DrugMaster::embedded();
    let disease_master = DiseaseMaster::embedded();

    for (b, i) in rows(&dir, "persons") {
        people
            .entry(s(&b, "person_id", i).unwrap())
            .or_default()
            .spells
            .push((
                dt(&b, "coverage_start", i).unwrap(),
                dt(&b, "coverage_end", i),
            ));
    }
    let values = [
        "height_cm",
        "weight_kg",
        "bmi",
        "waist_cm",
        "sbp",
        "dbp",
        "hba1c",
        "fasting_glucose",
        "tg",
        "hdl",
        "ldl",
        "ast",
        "alt",
        "ggt",
        "creatinine",
        "egfr",
    ];
    for (k, (b, i)) in rows(&dir, "checkups").into_iter().enumerate() {
        let p = people.entry(s(&b, "person_id", i).unwrap()).or_default();
        let date = dt(&b, "exam_date", i).unwrap();
        if date <= reference {
            p.checkup_dates.push(date);
        }
        if date < fy.start() || date > reference {
            continue;
        }
        let nn = values.iter().filter(|c| f(&b, c, i).is_some()).count()
            + ["urine_protein", "urine_glucose"]
                .iter()
                .filter(|c| u(&b, c, i).is_some())
                .count();
        let bmi = f(&b, "bmi", i).or_else(|| {
            let (h, w) = (f(&b, "height_cm", i)?, f(&b, "weight_kg", i)?);
            Some((w / (h / 100.0).powi(2) * 10.0).round() / 10.0)
        });
        let cand = (
            date,
            nn,
            k,
            bmi,
            f(&b, "hba1c", i),
            f(&b, "sbp", i),
            f(&b, "dbp", i),
            f(&b, "egfr", i),
            u(&b, "urine_protein", i),
        );
        if p.latest_checkup
            .as_ref()
            .is_none_or(|l| (l.0, l.1, l.2) < (cand.0, cand.1, cand.2))
        {
            p.latest_checkup = Some(cand);
        }
    }
    for (k, (b, i)) in rows(&dir, "questionnaires").into_iter().enumerate() {
        let date = dt(&b, "answer_date", i).unwrap();
        if date < fy.start() || date > reference {
            continue;
        }
        let q: [Option<u8>; 15] = std::array::from_fn(|n| u(&b, &format!("q{:02}", n + 1), i));
        let nn = q.iter().filter(|x| x.is_some()).count();
        let p = people.entry(s(&b, "person_id", i).unwrap()).or_default();
        if p.latest_q
            .as_ref()
            .is_none_or(|l| (l.0, l.1, l.2) < (date, nn, k))
        {
            p.latest_q = Some((date, nn, k, q));
        }
    }
    let mut claim_kind: HashMap<String, u8> = HashMap::new();
    for (b, i) in rows(&dir, "medical_claims") {
        let month = dt(&b, "service_month", i).unwrap();
        claim_kind.insert(
            s(&b, "claim_id", i).unwrap(),
            u(&b, "claim_kind", i).unwrap(),
        );
        if month <= ref_month {
            people
                .entry(s(&b, "person_id", i).unwrap())
                .or_default()
                .claims
                .push((month, u(&b, "claim_kind", i).unwrap()));
        }
    }
    for (b, i) in rows(&dir, "claim_drugs") {
        let month = dt(&b, "service_month", i).unwrap();
        if month > ref_month {
            continue;
        }
        let code = s(&b, "drug_code", i).unwrap();
        let yj = s(&b, "yj_code", i).or_else(|| {
            drug_master
                .get(&code)
                .map(|e| e.yj.clone())
                .filter(|y| !y.is_empty())
        });
        let Some(yj) = yj else { continue };
        let kind = claim_kind[&s(&b, "claim_id", i).unwrap()];
        people
            .entry(s(&b, "person_id", i).unwrap())
            .or_default()
            .drugs
            .push((month, yj, u(&b, "route", i), kind));
    }
    for (b, i) in rows(&dir, "claim_diagnoses") {
        let month = dt(&b, "service_month", i).unwrap();
        if month > ref_month || bl(&b, "suspected", i) {
            continue;
        }
        let code = s(&b, "disease_code", i).unwrap();
        let icd = s(&b, "icd10", i).or_else(|| {
            disease_master
                .get(&code)
                .map(|e| e.icd10.clone())
                .filter(|x| !x.is_empty())
        });
        if let Some(icd) = icd {
            people
                .entry(s(&b, "person_id", i).unwrap())
                .or_default()
                .dx
                .push((month, icd));
        }
    }
    for (b, i) in rows(&dir, "certifications") {
        let decision = dt(&b, "decision_date", i).unwrap();
        if decision <= reference {
            people
                .entry(s(&b, "person_id", i).unwrap())
                .or_default()
                .certs
                .push((
                    decision,
                    s(&b, "care_level_code", i).unwrap(),
                    dt(&b, "valid_from", i).unwrap(),
                    dt(&b, "valid_to", i).unwrap(),
                ));
        }
    }

    let fy_m = (fy.start(), ref_month);
    let prev = FiscalYear(fy.0 - 1);
    let in_months = |m: NaiveDate, (a, b): (NaiveDate, NaiveDate)| m >= a && m <= b;
    let hist = (FiscalYear(fy.0 - 3).start(), add_months(fy.start(), -1));
    let dm_hist = (FiscalYear(fy.0 - 3).start(), ref_month);
    let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (id, p) in &people {
        let insured = p
            .spells
            .iter()
            .any(|(s, e)| *s <= reference && e.is_none_or(|e| e > reference));
        if !insured {
            continue;
        }
        let cov_fy = covered(p, fy.start(), reference);
        let cov_2y = covered(p, prev.start(), reference);
        let q = |n: usize| p.latest_q.as_ref().and_then(|l| l.3[n - 1]);
        let ck = p.latest_checkup.as_ref();
        let has_drug = |prefixes: &[&str], w: (NaiveDate, NaiveDate), kinds: Option<&[u8]>| {
            p.drugs.iter().any(|(m, yj, _, k)| {
                in_months(*m, w) && starts(yj, prefixes) && kinds.is_none_or(|ks| ks.contains(k))
            })
        };
        let visit = |w: (NaiveDate, NaiveDate)| {
            p.claims
                .iter()
                .any(|(m, k)| in_months(*m, w) && [1, 2, 3, 5].contains(k))
        };
        let mut add = |rule: &'static str, cond: bool| {
            if cond {
                expected.entry(rule).or_default().insert(id.clone());
            }
        };
        // R01
        add(
            "R01",
            ck.and_then(|c| c.3).is_some_and(|b| b <= 20.0) && q(6) == Some(1),
        );
        // R02
        let dental = p.claims.iter().any(|(m, k)| in_months(*m, fy_m) && *k == 3);
        add(
            "R02",
            (q(4) == Some(1) || q(5) == Some(1)) && !dental && cov_fy,
        );
        // R03
        let mut by_month: BTreeMap<NaiveDate, BTreeSet<String>> = BTreeMap::new();
        for (m, yj, route, _) in &p.drugs {
            if in_months(*m, fy_m) && *route == Some(1) {
                by_month.entry(*m).or_default().insert(yj[..7].to_string());
            }
        }
        add("R03", by_month.values().any(|s| s.len() >= 15));
        // R04
        add(
            "R04",
            has_drug(HYPNOTIC, fy_m, None)
                && (q(8) == Some(1) || (q(10) == Some(1) && q(11) == Some(1))),
        );
        // R05
        add("R05", matches!(q(1), Some(4) | Some(5)) && q(7) == Some(1));
        // R06
        let kinds: &[u8] = &[1, 2, 4, 5];
        let a1c = ck.and_then(|c| c.4).is_some_and(|x| x >= 8.0)
            && !has_drug(DIABETES, fy_m, Some(kinds))
            && cov_fy;
        let bp = (ck.and_then(|c| c.5).is_some_and(|x| x >= 160.0)
            || ck.and_then(|c| c.6).is_some_and(|x| x >= 100.0))
            && !has_drug(HYPERTENSION, fy_m, Some(kinds))
            && cov_fy;
        add("R06", a1c || bp);
        // R07
        let no_checkup_fy = !p.checkup_dates.iter().any(|d| *d >= fy.start()) && cov_fy;
        let stopped =
            |cls: &[&str]| has_drug(cls, hist, None) && !has_drug(cls, fy_m, None) && cov_fy;
        add(
            "R07",
            no_checkup_fy && (stopped(DIABETES) || stopped(HYPERTENSION)),
        );
        // R08
        let base = has_drug(DIABETES, dm_hist, None)
            || p.dx
                .iter()
                .any(|(m, icd)| in_months(*m, fy_m) && starts(icd, CARDIO))
            || ck.and_then(|c| c.4).is_some_and(|x| x >= 7.0);
        let frail = matches!(q(1), Some(4) | Some(5))
            || q(6) == Some(1)
            || q(8) == Some(1)
            || q(13) == Some(2);
        add("R08", base && frail);
        // R09
        let kidney = ck.and_then(|c| c.7).is_some_and(|x| x < 45.0)
            || ck.and_then(|c| c.8).is_some_and(|x| x >= 3);
        add("R09", kidney && !visit(fy_m) && cov_fy);
        // R10
        let two = (prev.start(), ref_month);
        let checkup_2y = p.checkup_dates.iter().any(|d| *d >= prev.start());
        let cert_2y = p
            .certs
            .iter()
            .any(|(_, lvl, from, to)| lvl != "01" && *from <= reference && *to >= prev.start());
        add("R10", !checkup_2y && !visit(two) && !cert_2y && cov_2y);
    }

    let drugs = ittai_model::classes::default_drug_classes();
    let diseases = ittai_model::classes::default_disease_classes();
    let rules = load_rules(&LoadOptions::default(), &drugs, &diseases).unwrap();
    let src = Sources::open(&dir, &drug_master, &disease_master).unwrap();
    let res = ittai_engine::run(
        &src,
        &RunSpec {
            frame: Frame { fy, reference },
            rules: &rules,
            drug_classes: &drugs,
            disease_classes: &diseases,
        },
    )
    .unwrap();
    for id in [
        "R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10",
    ] {
        let engine: BTreeSet<String> = res.listed(id).unwrap().into_iter().collect();
        let want = expected.remove(id).unwrap_or_default();
        assert!(
            !want.is_empty(),
            "{id}: the sample data should list someone"
        );
        let only_engine: Vec<_> = engine.difference(&want).take(5).collect();
        let only_here: Vec<_> = want.difference(&engine).take(5).collect();
        assert_eq!(
            engine, want,
            "{id}: engine-only {only_engine:?}, independent-only {only_here:?}"
        );
    }
}
