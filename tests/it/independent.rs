//! An independent, straightforward implementation of the ten rules, written from the
//! text of docs/reference/dataset.md, time.md and rules.md only — not from the engine's code,
//! the feature table or polars: rows are read with arrow into plain structs and every rule is
//! a loop. On sample_data it must list exactly the persons `ittai_engine::run` lists, for
//! every rule.
//!
//! Every reading below cites the reference text it follows. Where the reference states a
//! rule (R07 and R08 count drugs on 医科・DPC・調剤 claims only), this oracle follows the
//! reference, not whatever the engine or the shipped rule files happen to do; where the
//! reference is silent, the comment says which literal reading was taken.

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
// docs/reference/rules.md R08: heart_failure (I50), ischaemic_heart (I20–I25) and
// cerebrovascular (I60–I69), from the disease-class table of dataset.md.
const CARDIO: &[&str] = &[
    "I50", "I20", "I21", "I22", "I23", "I24", "I25", "I60", "I61", "I62", "I63", "I64", "I65",
    "I66", "I67", "I68", "I69",
];

/// Claim kinds whose drug lines R06, R07 and R08 count: 1 医科入院, 2 医科入院外, 4 調剤,
/// 5 DPC — the source's 「レセプト(医科・DPC・調剤)」 (docs/reference/rules.md, R06, R07, R08
/// and "Claim kinds per rule"; "医科" = kinds 1 and 2, dataset.md#medical_claims).
const DRUG_KINDS_MEDICAL_DPC_PHARMACY: &[u8] = &[1, 2, 4, 5];
/// Claim kinds that are a visit for R09 and R10: 医科入院, 医科入院外, 歯科, DPC (rules.md R09,
/// R10: 調剤 and 訪問看護 are not visits).
const VISIT_KINDS: &[u8] = &[1, 2, 3, 5];

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

/// dataset.md#coverage: "covered over a window when their spells — joined where one ends on
/// the day the next starts — cover every day of the window"; `coverage_end` is the first day
/// without coverage, so a spell covers `start ..< end`.
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
    // Tie-break of the latest checkup (dataset.md#derived-values): "the one with the most
    // non-null values, then the last in file order". The reference does not restrict which
    // values count, so every value column of the checkup record counts (dataset.md#checkups:
    // the measurements, the two urine tests and the three self-reported medications), as
    // recorded (before BMI is derived).
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
    // time.md#latest-checkup-and-questionnaire: the latest checkup is the one with the latest
    // exam_date in the extraction FY up to the reference date; time.md#fiscal-year-and-reference-date:
    // nothing dated after the reference date is seen (also for "a checkup in W", R07, R10).
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
                .count()
            + ["med_bp", "med_dm", "med_lipid"]
                .iter()
                .filter(|c| col(&b, c).is_valid(i))
                .count();
        // BMI derived where null (dataset.md#derived-values): weight / (height/100)², one
        // decimal, half away from zero (f64::round rounds half away from zero).
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
    // time.md#latest-checkup-and-questionnaire: the latest questionnaire in the FY up to the
    // reference date, whatever its setting; ties as for checkups (the record's values are
    // its 15 answers; `setting` is never null).
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
    // time.md#fiscal-year-and-reference-date: service months after the reference date's month
    // are not seen.
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
    // dataset.md#derived-values: a drug line without yj_code takes the YJ code of its 9-digit
    // code from the drug master; dataset.md#reference-data: a line whose YJ code cannot be
    // resolved counts in no class or drug-count condition. The claim kind of a drug line is
    // that of its receipt (dataset.md#claim_drugs).
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
    // dataset.md#disease-classes: classes match the ICD-10 of non-suspected diagnoses (the
    // 転帰 is not used); the ICD-10 comes from the master when null (dataset.md#derived-values).
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
    // time.md#fiscal-year-and-reference-date: "events dated after [the reference date] are
    // ignored"; a certification's date is its decision (認定日), so one decided after the
    // reference date is not seen even if its validity starts earlier (the same reading as
    // dataset.md#certifications for the current care level, "decided on or before it").
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

    // time.md#windows: a window covers April 1 of its first FY to March 31 of its last FY,
    // clipped to the reference date, and for claims the service months of those days.
    let fy_m = (fy.start(), ref_month);
    let prev = FiscalYear(fy.0 - 1);
    let in_months = |m: NaiveDate, (a, b): (NaiveDate, NaiveDate)| m >= a && m <= b;
    // FY-3..FY-1 (R07 history) and FY-3..FY (R08 diabetes drug).
    let hist = (FiscalYear(fy.0 - 3).start(), add_months(fy.start(), -1));
    let dm_hist = (FiscalYear(fy.0 - 3).start(), ref_month);
    let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (id, p) in &people {
        // time.md#rule-population: persons insured on the reference date
        // (dataset.md#coverage: start ≤ d < coverage_end).
        let insured = p
            .spells
            .iter()
            .any(|(s, e)| *s <= reference && e.is_none_or(|e| e > reference));
        if !insured {
            continue;
        }
        // time.md#coverage-guard: every "no X in W" holds only for a person covered over W,
        // checked up to the reference date when it is before the end of W.
        let cov_fy = covered(p, fy.start(), reference);
        let cov_2y = covered(p, prev.start(), reference);
        // rules.md#the-ten-rules: "Qn = yes" is answer code 1, "Qn = no" code 2; a missing
        // answer is neither.
        let q = |n: usize| p.latest_q.as_ref().and_then(|l| l.3[n - 1]);
        let ck = p.latest_checkup.as_ref();
        // A drug of a class (dataset.md#drug-classes: YJ prefixes) on a drug line of the
        // window; `kinds` None = every claim kind.
        let has_drug = |prefixes: &[&str], w: (NaiveDate, NaiveDate), kinds: Option<&[u8]>| {
            p.drugs.iter().any(|(m, yj, _, k)| {
                in_months(*m, w) && starts(yj, prefixes) && kinds.is_none_or(|ks| ks.contains(k))
            })
        };
        let visit = |w: (NaiveDate, NaiveDate)| {
            p.claims
                .iter()
                .any(|(m, k)| in_months(*m, w) && VISIT_KINDS.contains(k))
        };
        let mut add = |rule: &'static str, cond: bool| {
            if cond {
                expected.entry(rule).or_default().insert(id.clone());
            }
        };
        // R01 (rules.md#r01-undernutrition): latest BMI ≤ 20.0 (derived where null) AND Q6 = yes.
        add(
            "R01",
            ck.and_then(|c| c.3).is_some_and(|b| b <= 20.0) && q(6) == Some(1),
        );
        // R02 (rules.md#r02-oral): (Q4 = yes OR Q5 = yes) AND no 歯科 claim (kind 3) in the FY,
        // with the coverage guard.
        let dental = p.claims.iter().any(|(m, k)| in_months(*m, fy_m) && *k == 3);
        add(
            "R02",
            (q(4) == Some(1) || q(5) == Some(1)) && !dental && cov_fy,
        );
        // R03 (rules.md#r03-polypharmacy): in some service month of the FY, ≥ 15 distinct
        // ingredients (YJ first 7 characters) over all claims of every kind, counting only
        // lines with route 1 内服 (default `routes` = oral; an empty route is not oral).
        let mut by_month: BTreeMap<NaiveDate, BTreeSet<String>> = BTreeMap::new();
        for (m, yj, route, _) in &p.drugs {
            let Some(ingredient) = yj.get(..7) else {
                continue;
            };
            if in_months(*m, fy_m) && *route == Some(1) {
                by_month
                    .entry(*m)
                    .or_default()
                    .insert(ingredient.to_string());
            }
        }
        add("R03", by_month.values().any(|s| s.len() >= 15));
        // R04 (rules.md#r04-hypnotics): a hypnotic (エチゾラム excluded by default) on any
        // claim kind in the FY AND (Q8 = yes OR (Q10 = yes AND Q11 = yes)).
        add(
            "R04",
            has_drug(HYPNOTIC, fy_m, None)
                && (q(8) == Some(1) || (q(10) == Some(1) && q(11) == Some(1))),
        );
        // R05 (rules.md#r05-physical-frailty): Q1 ∈ {4, 5} AND Q7 = yes (default connective).
        add("R05", matches!(q(1), Some(4) | Some(5)) && q(7) == Some(1));
        // R06 (rules.md#r06-poor-control): (HbA1c ≥ 8.0 AND no diabetes drug in the FY) OR
        // ((SBP ≥ 160 OR DBP ≥ 100) AND no antihypertensive in the FY); drugs on 医科入院,
        // 医科入院外, 調剤, DPC claims; both absences with the coverage guard.
        let kinds = Some(DRUG_KINDS_MEDICAL_DPC_PHARMACY);
        let a1c = ck.and_then(|c| c.4).is_some_and(|x| x >= 8.0)
            && !has_drug(DIABETES, fy_m, kinds)
            && cov_fy;
        let bp = (ck.and_then(|c| c.5).is_some_and(|x| x >= 160.0)
            || ck.and_then(|c| c.6).is_some_and(|x| x >= 100.0))
            && !has_drug(HYPERTENSION, fy_m, kinds)
            && cov_fy;
        add("R06", a1c || bp);
        // R07 (rules.md#r07-treatment-interrupted): no checkup in the FY (a dental checkup
        // does not count; dental_checkups are not read), with the coverage guard, AND, for
        // diabetes or for hypertension, a drug of the class in FY−3..FY−1 AND none in the FY
        // (with the coverage guard) — drugs counted in both windows on 医科, DPC, 調剤 claims
        // only (the source's 「レセプト(医科・DPC・調剤)」).
        let no_checkup_fy = !p.checkup_dates.iter().any(|d| *d >= fy.start()) && cov_fy;
        let stopped =
            |cls: &[&str]| has_drug(cls, hist, kinds) && !has_drug(cls, fy_m, kinds) && cov_fy;
        add(
            "R07",
            no_checkup_fy && (stopped(DIABETES) || stopped(HYPERTENSION)),
        );
        // R08 (rules.md#r08-disease-with-frailty): base = a diabetes drug in FY−3..FY on
        // 医科, DPC, 調剤 claims OR a non-suspected heart failure / ischaemic heart /
        // cerebrovascular diagnosis (any claim kind) in the FY OR latest HbA1c ≥ 7.0; frailty
        // = Q1 ∈ {4, 5} OR Q6 = yes OR Q8 = yes OR Q13 = no. No absence, so no guard.
        let base = has_drug(DIABETES, dm_hist, kinds)
            || p.dx
                .iter()
                .any(|(m, icd)| in_months(*m, fy_m) && starts(icd, CARDIO))
            || ck.and_then(|c| c.4).is_some_and(|x| x >= 7.0);
        let frail = matches!(q(1), Some(4) | Some(5))
            || q(6) == Some(1)
            || q(8) == Some(1)
            || q(13) == Some(2);
        add("R08", base && frail);
        // R09 (rules.md#r09-kidney-unvisited): (latest eGFR < 45 OR urine protein code ≥ 3 (+))
        // AND no 医科入院 / 医科入院外 / 歯科 / DPC claim in the FY, with the coverage guard.
        let kidney = ck.and_then(|c| c.7).is_some_and(|x| x < 45.0)
            || ck.and_then(|c| c.8).is_some_and(|x| x >= 3);
        add("R09", kidney && !visit(fy_m) && cov_fy);
        // R10 (rules.md#r10-health-unknown): in FY−1..FY (up to the reference date) no
        // checkup, no visit claim, and no certification other than 01 非該当 valid on any day
        // (06 事業対象者 and the legacy 11 count as contacts); all three with the coverage
        // guard over the two FYs.
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

/// The rules of several frames prepared together ([`ittai_engine::Runs`]: each claim file
/// read once, on the persons of all frames) give, frame by frame, the same feature table,
/// flags and attrition as a run of that frame alone. The frames differ in population (the
/// sample's insured change between FYs, checked below), in FY and in reference date (one
/// mid-FY, where windows are cut at the reference month).
#[test]
fn frames_prepared_together_equal_runs_alone() {
    let dir = root().join("sample_data");
    let drugs = ittai_model::classes::default_drug_classes();
    let diseases = ittai_model::classes::default_disease_classes();
    let rules = load_rules(&LoadOptions::default(), &drugs, &diseases).unwrap();
    let src = Sources::open(&dir, &DrugMaster::embedded(), &DiseaseMaster::embedded()).unwrap();
    let frames = [
        Frame {
            fy: FiscalYear(2024),
            reference: FiscalYear(2024).end(),
        },
        Frame {
            fy: FiscalYear(2022),
            reference: FiscalYear(2022).end(),
        },
        Frame {
            fy: FiscalYear(2024),
            reference: NaiveDate::from_ymd_opt(2024, 10, 15).unwrap(),
        },
        Frame {
            fy: FiscalYear(2023),
            reference: FiscalYear(2023).end(),
        },
    ];
    let spec = |frame| RunSpec {
        frame,
        rules: &rules,
        drug_classes: &drugs,
        disease_classes: &diseases,
    };
    let mut together = ittai_engine::Runs::prepare(&src, &spec(frames[0]), &frames).unwrap();
    assert_eq!(together.frames(), frames);
    // Run out of order: each frame's columns are its own whatever the order.
    let mut populations = BTreeSet::new();
    for i in [2, 0, 3, 1] {
        let joint = together.run(i).unwrap();
        let alone = ittai_engine::run(&src, &spec(frames[i])).unwrap();
        assert_eq!(joint.frame, frames[i]);
        assert_eq!(
            joint.table.get_column_names(),
            alone.table.get_column_names(),
            "frame {i}: columns"
        );
        // Rows in person order (the population's row order is not fixed from one
        // collection to the next), without the row index `pid`.
        let sorted = |t: &polars::prelude::DataFrame| {
            t.drop("pid")
                .unwrap()
                .sort(["person_id"], Default::default())
                .unwrap()
        };
        let (joint_table, alone_table) = (sorted(&joint.table), sorted(&alone.table));
        let differ: Vec<String> = alone_table
            .columns()
            .iter()
            .filter(|c| {
                let j = joint_table.column(c.name()).unwrap();
                !j.as_materialized_series()
                    .equals_missing(c.as_materialized_series())
            })
            .map(|c| c.name().to_string())
            .collect();
        assert!(differ.is_empty(), "frame {i}: columns differ: {differ:?}");
        for (a, b) in joint.results.iter().zip(&alone.results) {
            assert_eq!(a.listed, b.listed, "frame {i}, {}", a.rule.id);
            let steps = |r: &ittai_engine::RuleResult| {
                r.attrition.iter().map(|s| s.persons).collect::<Vec<_>>()
            };
            assert_eq!(steps(a), steps(b), "frame {i}, {}: attrition", a.rule.id);
        }
        let listed: usize = alone.results.iter().map(|r| r.listed as usize).sum();
        assert!(listed > 0, "frame {i}: the sample data should list someone");
        populations.insert(alone.population);
    }
    assert!(
        populations.len() > 1,
        "the frames should differ in population: {populations:?}"
    );
    assert!(together.run(0).is_err(), "a frame is run once");
}
