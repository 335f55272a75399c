//! Programme evaluation (`ittai_engine::programmes::evaluate`) on tiny hand-built datasets,
//! every expected count worked out by hand from docs/reference/evaluation.md ("How ittai
//! computes it") in the comments beside it — never taken from a run of the program.
//!
//! All the tests evaluate FY2023 (2023-04-01 … 2024-03-31) of the `medication` programme:
//! the lists are those of R03 (polypharmacy) applied for FY2022 (service months 2022-04 …
//! 2023-03, reference date 2023-03-31), and only R03 is loaded. A person is listed by giving
//! them, on a 調剤 claim of a month of FY2022, 16 distinct oral ingredients (YJ first 7
//! characters; R03 lists ≥ 15 in one service month, docs/reference/rules.md#r03-polypharmacy).
//!
//! Every person is a woman born 1944-06-01 (78 on 2023-04-01: band 75-79), covered since
//! 2019-06-01, in 鳥取市 (312011) unless said otherwise — so every comparison has a single
//! sex × age stratum and the standardised comparison value equals the crude one.
//!
//! Claim kinds: 1 医科入院, 2 医科入院外, 3 歯科, 4 調剤. Visits for `institutions` and
//! `visit_days` are kinds 2 and 3 only; drugs are counted on every kind (as R03 counts them).
//! The data end is the last day of the month of the latest medical claim in the dataset.

use chrono::NaiveDate;
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_dataset::{Certification, MedicalClaim};
use ittai_engine::programmes;
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunSpec, Sources};
use ittai_model::FiscalYear;
use ittai_model::classes::{default_disease_classes, default_drug_classes};
use ittai_model::evaluation::Measure::{
    Contacted, Institutions, NeedsReferral, NewCertification, OutsideLists, Polypharmacy, Referred,
    Supported, Targets, VisitDays,
};
use ittai_model::evaluation::{EvaluationRow, Group, Measure, Period};
use ittai_model::indicators::Area;
use ittai_model::support::Programme;

use crate::support::{Dataset, MUNI, contact, d};

/// 米子市: a second municipality (valid check digit), for the union fallback.
const MUNI_2: &str = "312029";

const INPATIENT: u8 = 1;
const OUTPATIENT: u8 = 2;
const DENTAL: u8 = 3;
const DISPENSING: u8 = 4;

const CLINIC_A: &str = "3110100012";
const CLINIC_B: &str = "3110100021";
const CLINIC_C: &str = "3110100039";
const CLINIC_D: &str = "3110100047";
const DENTIST: &str = "3130100010";
const HOSPITAL: &str = "3110195017";
const PHARMACY: &str = "3140100016";

/// Sixteen oral (内服) products of the SSK drug master with 16 distinct ingredients (YJ
/// first 7 characters): the fifteen of tests/rules/r03_fifteen_in_one_month_vs_fourteen_plus_one
/// and インフリーＳカプセル２００ｍｇ (from the R03 threshold cases).
const DRUGS: [(&str, &str); 16] = [
    ("610406079", "2325003B2029"), // ガスター散２％
    ("610406193", "5100133A1011"), // テンマ末
    ("610406227", "5900001A1025"), // 花扇加工ブシ末Ｋ
    ("610406231", "7212029X1023"), // バリトゲンＨＤ
    ("610406232", "7212022A1037"), // バリトップＨＤ
    ("610406378", "8114004G3020"), // ＭＳコンチン錠６０ｍｇ
    ("610406382", "1149032F1035"), // オステラック錠１００
    ("610406385", "3919007M1021"), // セロシオンカプセル１０
    ("610406386", "6250002D1024"), // ゾビラックス顆粒４０％
    ("610406389", "2329027D1028"), // プロマック顆粒１５％
    ("610406390", "3969004F1020"), // ベイスン錠０．２
    ("610406392", "1169008F1026"), // ペルマックス錠５０μｇ
    ("610406394", "3929005M1029"), // メタライト２５０カプセル
    ("610406398", "2129012M1020"), // ピメノールカプセル５０ｍｇ
    ("610406401", "4490011F2028"), // アレギサール錠５ｍｇ
    ("610406402", "1145005M2026"), // インフリーＳカプセル２００ｍｇ
];

const FY: i32 = 2023;
const MED: Programme = Programme::Medication;

// Groups and periods of the rows.
const ALL: Group = Group::All;
const SUP: Group = Group::Supported;
const NOT_SUP: Group = Group::NotSupported;
const DIFF: Group = Group::Difference;
/// The period of the outputs (`targets`, `supported`, …): no window.
const OUTPUT: Period = Period::None;
const PRE: Period = Period::Pre;
const POST: Period = Period::Post;
const CHANGE: Period = Period::Change;

/// First day of a service month.
fn m(year: i32, month: u32) -> NaiveDate {
    d(year, month, 1)
}

/// A claim of `person` in service month `month`, with `days` 診療実日数. Returns its id.
fn claim(
    ds: &mut Dataset,
    person: &str,
    month: NaiveDate,
    kind: u8,
    institution: &str,
    days: i32,
) -> String {
    let id = format!("{person}-{month}-{kind}-{institution}");
    ds.medical_claims.push(MedicalClaim {
        claim_id: id.clone(),
        person_id: person.into(),
        service_month: month,
        claim_kind: kind,
        institution_code: institution.into(),
        points: Some(500),
        days: Some(days),
    });
    id
}

/// A 調剤 claim of `person` in `month` with the first `n` of [`DRUGS`]: `n` distinct oral
/// ingredients that month (a 調剤 claim is not a visit).
fn prescribed(ds: &mut Dataset, person: &str, month: NaiveDate, n: usize) {
    let id = claim(ds, person, month, DISPENSING, PHARMACY, 1);
    for (code, yj) in &DRUGS[..n] {
        ds.drug(&id, code, yj);
    }
}

/// A person listed by R03 for FY2022: 16 distinct oral ingredients in 2023-01.
fn listed(ds: &mut Dataset, person: &str) {
    ds.elder(person);
    prescribed(ds, person, m(2023, 1), 16);
}

/// Ends the coverage of `person` by death: `coverage_end` is the first day without coverage.
fn died(ds: &mut Dataset, person: &str, coverage_end: NaiveDate) {
    let p = ds
        .persons
        .iter_mut()
        .find(|p| p.person_id.as_str() == person)
        .expect("person");
    p.coverage_end = Some(coverage_end);
    p.loss_reason = Some(1);
}

/// Moves `person` to municipality `code`.
fn lives_in(ds: &mut Dataset, person: &str, code: &str) {
    let p = ds
        .persons
        .iter_mut()
        .find(|p| p.person_id.as_str() == person)
        .expect("person");
    p.municipality_code = code.into();
}

/// A certification decision of `level` on `decided`, valid from then up to `valid_to`.
fn certified(ds: &mut Dataset, person: &str, decided: NaiveDate, level: &str, valid_to: NaiveDate) {
    ds.certifications.push(Certification {
        person_id: person.into(),
        decision_date: decided,
        care_level_code: level.into(),
        valid_from: decided,
        valid_to,
    });
}

/// A medication support record naming the R03 list.
fn medication(person: &str, date: NaiveDate, reached: bool) -> ittai_dataset::Intervention {
    contact(person, "medication", Some("R03"), date, reached)
}

/// Writes `ds` to a temporary directory and evaluates `fys` with R03 only. `None` when
/// the dataset has no interventions table.
fn evaluate(ds: &Dataset, fys: &[i32]) -> Option<Vec<EvaluationRow>> {
    let dir = tempfile::tempdir().unwrap();
    ds.write(dir.path());
    let drugs = default_drug_classes();
    let diseases = default_disease_classes();
    let opts = LoadOptions {
        only: vec!["R03".into()],
        ..LoadOptions::default()
    };
    let rules = load_rules(&opts, &drugs, &diseases).unwrap();
    let src = Sources::open(
        dir.path(),
        &DrugMaster::embedded(),
        &DiseaseMaster::embedded(),
    )
    .unwrap();
    let fys: Vec<FiscalYear> = fys.iter().map(|y| FiscalYear(*y)).collect();
    // The frame is ignored by `evaluate` (each FY t uses FY t − 1 and its last day).
    let spec = RunSpec {
        frame: Frame {
            fy: fys[0],
            reference: fys[0].end(),
        },
        rules: &rules,
        drug_classes: &drugs,
        disease_classes: &diseases,
    };
    programmes::evaluate(&src, &spec, &fys)
        .unwrap()
        .map(|e| e.rows)
}

fn muni() -> Area {
    Area::Municipality(MUNI.into())
}

fn show(r: &EvaluationRow) -> String {
    format!(
        "FY{} {} {} {} {} {}: numerator {:?}, denominator {:?}, value {:?}, standardised {:?}, CI {:?}…{:?}",
        r.fy,
        r.programme.map_or("-", |p| p.code()),
        r.municipality_code.as_str(),
        r.measure.code(),
        r.group.code(),
        r.period.code(),
        r.numerator,
        r.denominator,
        r.value,
        r.standardised,
        r.ci_low,
        r.ci_high,
    )
}

/// The one row of FY × programme × area × measure × group × period; panics listing every
/// row when there is none (or more than one).
#[track_caller]
fn row<'a>(
    rows: &'a [EvaluationRow],
    fy: i32,
    programme: Programme,
    area: &Area,
    measure: Measure,
    group: Group,
    period: Period,
) -> &'a EvaluationRow {
    let found: Vec<&EvaluationRow> = rows
        .iter()
        .filter(|r| {
            r.fy == fy
                && r.programme == Some(programme)
                && &r.municipality_code == area
                && r.measure == measure
                && r.group == group
                && r.period == period
        })
        .collect();
    match found.as_slice() {
        [r] => r,
        _ => {
            let all: Vec<String> = rows.iter().map(show).collect();
            panic!(
                "{} rows for FY{fy} {} {} {} {} {} (want 1); the rows are:\n{}",
                found.len(),
                programme.code(),
                area.as_str(),
                measure.code(),
                group.code(),
                period.code(),
                all.join("\n")
            )
        }
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (a, b) => a == b,
    }
}

/// Exact numerator and denominator, and the value (`None` when the denominator is 0).
#[track_caller]
fn expect(r: &EvaluationRow, numerator: f64, denominator: f64, value: Option<f64>) {
    assert_eq!(r.numerator, Some(numerator), "numerator of {}", show(r));
    assert_eq!(
        r.denominator,
        Some(denominator),
        "denominator of {}",
        show(r)
    );
    assert!(
        close(r.value, value),
        "value of {} (want {value:?})",
        show(r)
    );
}

/// A count of persons (`targets`, `outside_lists`): numerator = value = `n`.
#[track_caller]
fn persons(r: &EvaluationRow, n: f64) {
    assert_eq!(r.numerator, Some(n), "numerator of {}", show(r));
    assert!(close(r.value, Some(n)), "value of {} (want {n})", show(r));
}

/// Pins the index date and the pre / post windows (evaluation.md "Index date and windows",
/// "Windows"), the medication outcomes (`institutions`, `visit_days` of 医科入院外 / 歯科
/// claims; `polypharmacy` counted as R03 counts), the outputs `targets` / `contacted` /
/// `supported`, and the comparison group's index date when not contacted: the median index
/// date of the supported targets of its municipality (one date here, so the same windows).
///
/// `sup` (supported, reached contact 2023-06-15: D = 2023-06-15, M = 2023-06; pre = service
/// months 2023-03 … 2023-05, post = 2023-07 … 2023-09) and `cmp` (listed, no contact; index
/// date = median of {2023-06-15} = 2023-06-15, the same windows). Data end = 2023-10-31
/// (latest claim 2023-10), after both windows: everyone is covered.
#[test]
fn medication_pre_post_and_comparison() {
    let mut ds = Dataset::default();
    listed(&mut ds, "sup");
    listed(&mut ds, "cmp");

    // sup — M−4 (2023-02, outside pre): 6 days at clinic D.
    claim(&mut ds, "sup", m(2023, 2), OUTPATIENT, CLINIC_D, 6);
    // pre: 2023-03 clinic A 2 days; 2023-04 clinic B 3 days and a dentist 1 day; 2023-05
    // clinic A 1 day, an inpatient stay of 5 days (not a visit) and 16 drugs.
    claim(&mut ds, "sup", m(2023, 3), OUTPATIENT, CLINIC_A, 2);
    claim(&mut ds, "sup", m(2023, 4), OUTPATIENT, CLINIC_B, 3);
    claim(&mut ds, "sup", m(2023, 4), DENTAL, DENTIST, 1);
    claim(&mut ds, "sup", m(2023, 5), OUTPATIENT, CLINIC_A, 1);
    claim(&mut ds, "sup", m(2023, 5), INPATIENT, HOSPITAL, 5);
    prescribed(&mut ds, "sup", m(2023, 5), 16);
    // index month 2023-06 (in neither window): clinic C 4 days and 16 drugs.
    claim(&mut ds, "sup", m(2023, 6), OUTPATIENT, CLINIC_C, 4);
    prescribed(&mut ds, "sup", m(2023, 6), 16);
    // post: 2023-07 clinic A 2 days; 2023-08 14 drugs; 2023-09 clinic A 1 day.
    claim(&mut ds, "sup", m(2023, 7), OUTPATIENT, CLINIC_A, 2);
    prescribed(&mut ds, "sup", m(2023, 8), 14);
    claim(&mut ds, "sup", m(2023, 9), OUTPATIENT, CLINIC_A, 1);
    // M+4 (2023-10, outside post): clinic B 2 days and 16 drugs.
    claim(&mut ds, "sup", m(2023, 10), OUTPATIENT, CLINIC_B, 2);
    prescribed(&mut ds, "sup", m(2023, 10), 16);

    // cmp — pre: 2023-04 clinic A 1 day and 16 drugs. post: 2023-07 clinic B 2 days;
    // 2023-08 16 drugs; 2023-09 a dentist 1 day.
    claim(&mut ds, "cmp", m(2023, 4), OUTPATIENT, CLINIC_A, 1);
    prescribed(&mut ds, "cmp", m(2023, 4), 16);
    claim(&mut ds, "cmp", m(2023, 7), OUTPATIENT, CLINIC_B, 2);
    prescribed(&mut ds, "cmp", m(2023, 8), 16);
    claim(&mut ds, "cmp", m(2023, 9), DENTAL, DENTIST, 1);

    ds.interventions
        .push(medication("sup", d(2023, 6, 15), true));

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    let area = muni();
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);

    // Outputs: targets {sup, cmp} = 2 (both listed by R03 for FY2022, insured 2023-04-01);
    // contacted {sup} = 1 of 2 → 50 %; supported {sup} = 1 of 2 → 50 %.
    persons(get(Targets, ALL, OUTPUT), 2.0);
    expect(get(Contacted, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
    expect(get(Supported, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
    persons(get(OutsideLists, ALL, OUTPUT), 0.0);

    // polypharmacy, sup: pre has 2023-05 with 16 ≥ 15 → 1; post's largest month is
    // 2023-08 with 14 < 15 → 0 (2023-06 and 2023-10 have 16 but are outside the windows);
    // change 0 − 1 = −1 → mean −1 → −100 percentage points.
    expect(get(Polypharmacy, SUP, PRE), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, SUP, POST), 0.0, 1.0, Some(0.0));
    expect(get(Polypharmacy, SUP, CHANGE), -1.0, 1.0, Some(-100.0));
    // cmp: pre 2023-04 with 16 → 1; post 2023-08 with 16 → 1; change 0.
    expect(get(Polypharmacy, NOT_SUP, PRE), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, NOT_SUP, POST), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, NOT_SUP, CHANGE), 0.0, 1.0, Some(0.0));

    // institutions (医科入院外 / 歯科 only), sup: pre {A (03, 05), B (04), dentist (04)} = 3
    // (the hospital is 入院, the pharmacy 調剤: not visits); post {A (07, 09)} = 1;
    // change 1 − 3 = −2. cmp: pre {A} = 1; post {B, dentist} = 2; change +1.
    expect(get(Institutions, SUP, PRE), 3.0, 1.0, Some(3.0));
    expect(get(Institutions, SUP, POST), 1.0, 1.0, Some(1.0));
    expect(get(Institutions, SUP, CHANGE), -2.0, 1.0, Some(-2.0));
    expect(get(Institutions, NOT_SUP, PRE), 1.0, 1.0, Some(1.0));
    expect(get(Institutions, NOT_SUP, POST), 2.0, 1.0, Some(2.0));
    expect(get(Institutions, NOT_SUP, CHANGE), 1.0, 1.0, Some(1.0));

    // visit_days (診療実日数 of 医科入院外 / 歯科), sup: pre 2 + 3 + 1 + 1 = 7 (not the 5
    // inpatient days, not the 6 days of 2023-02 nor the 4 of 2023-06); post 2 + 1 = 3 (not
    // the 2 of 2023-10); change 3 − 7 = −4. cmp: pre 1; post 2 + 1 = 3; change +2.
    expect(get(VisitDays, SUP, PRE), 7.0, 1.0, Some(7.0));
    expect(get(VisitDays, SUP, POST), 3.0, 1.0, Some(3.0));
    expect(get(VisitDays, SUP, CHANGE), -4.0, 1.0, Some(-4.0));
    expect(get(VisitDays, NOT_SUP, PRE), 1.0, 1.0, Some(1.0));
    expect(get(VisitDays, NOT_SUP, POST), 3.0, 1.0, Some(3.0));
    expect(get(VisitDays, NOT_SUP, CHANGE), 2.0, 1.0, Some(2.0));

    // Comparison on `change` (paired measure). One stratum (female 75-79) holds both groups:
    // w = 1, m_c = m_k = +2 (cmp's change), so standardised = crude = 2. Difference
    // m_s' − m_c = −4 − 2 = −6 over 1 supported person; σ² of a single value is 0 (divisor
    // n), so V_s = V_c = 0 and the 95 % CI is −6 ± 0.
    let cmp_change = get(VisitDays, NOT_SUP, CHANGE);
    assert!(
        close(cmp_change.standardised, Some(2.0)),
        "{}",
        show(cmp_change)
    );
    let diff = get(VisitDays, DIFF, CHANGE);
    assert_eq!(diff.numerator, None, "{}", show(diff));
    assert_eq!(diff.denominator, Some(1.0), "{}", show(diff));
    assert!(close(diff.value, Some(-6.0)), "{}", show(diff));
    assert!(close(diff.ci_low, Some(-6.0)), "{}", show(diff));
    assert!(close(diff.ci_high, Some(-6.0)), "{}", show(diff));
    // polypharmacy: −1 − 0 = −1 → −100 percentage points.
    let diff = get(Polypharmacy, DIFF, CHANGE);
    assert!(close(diff.value, Some(-100.0)), "{}", show(diff));

    // The union holds only 鳥取市: the same counts.
    let in_union =
        |measure, group, period| row(&rows, FY, MED, &Area::Union, measure, group, period);
    persons(in_union(Targets, ALL, OUTPUT), 2.0);
    expect(in_union(Supported, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
    expect(in_union(Polypharmacy, SUP, CHANGE), -1.0, 1.0, Some(-100.0));
    expect(in_union(VisitDays, NOT_SUP, CHANGE), 2.0, 1.0, Some(2.0));
}

/// The post window may cross the FY boundary, and a window is covered only when its last day
/// is not after the data end (the last day of the month of the latest medical claim)
/// (evaluation.md "Windows"). A contact on 2024-03-31 is in FY2023 (D = 2024-03-31,
/// M = 2024-03; pre = 2023-12 … 2024-02, post = 2024-04 … 2024-06, all in FY2024).
///
/// `p`: listed; 16 drugs in 2024-02 (pre → 1), 3 drugs in 2024-05; and, in the first
/// dataset only, 16 drugs in 2024-06 (M+3, the last month of post).
fn crossing(with_june: bool) -> Vec<EvaluationRow> {
    let mut ds = Dataset::default();
    listed(&mut ds, "p");
    prescribed(&mut ds, "p", m(2024, 2), 16);
    prescribed(&mut ds, "p", m(2024, 5), 3);
    if with_june {
        prescribed(&mut ds, "p", m(2024, 6), 16);
    }
    ds.interventions.push(medication("p", d(2024, 3, 31), true));
    evaluate(&ds, &[FY]).expect("an interventions table")
}

/// See [`crossing`]: counted when the data reach 2024-06, left out of the post (and change)
/// denominators when they end in 2024-05.
#[test]
fn post_window_crossing_the_fy_needs_data_to_its_end() {
    let area = muni();

    // Data end 2024-06-30 (latest claim 2024-06) = last day of post: covered.
    let rows = crossing(true);
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);
    // The contact of 2024-03-31 is in FY2023: supported 1 of 1 target.
    expect(get(Supported, ALL, OUTPUT), 1.0, 1.0, Some(100.0));
    // pre: 2024-02 has 16 → 1. post: 2024-06 has 16 → 1. change 1 − 1 = 0.
    expect(get(Polypharmacy, SUP, PRE), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, SUP, POST), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, SUP, CHANGE), 0.0, 1.0, Some(0.0));
    // No 医科入院外 / 歯科 claim in post: 0 institutions, counted (covered).
    expect(get(Institutions, SUP, POST), 0.0, 1.0, Some(0.0));

    // Data end 2024-05-31 (latest claim 2024-05) < 2024-06-30: post not covered → p left
    // out of the paired measure altogether: pre, post and change are on the same persons
    // (evaluation.md, "Windows"), so all three have denominator 0 and no value.
    let rows = crossing(false);
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);
    expect(get(Supported, ALL, OUTPUT), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, SUP, PRE), 0.0, 0.0, None);
    expect(get(Polypharmacy, SUP, POST), 0.0, 0.0, None);
    expect(get(Polypharmacy, SUP, CHANGE), 0.0, 0.0, None);
    expect(get(Institutions, SUP, POST), 0.0, 0.0, None);
}

/// An unreached contact makes a target contacted, not supported; the index date is the
/// first *reached* on-list contact; a contacted target not supported takes its first on-list
/// contact as index date (evaluation.md "Who is counted": contacted, supported, index date,
/// comparison group).
///
/// - `tried`: listed by 16 drugs in 2023-03 (FY2022); one contact 2023-06-15, not reached.
///   Not supported; index date = its first contact 2023-06-15 → pre 2023-03 … 2023-05.
/// - `sup`: listed (2023-01); 16 drugs in 2023-05; 1 drug in 2023-12 (data end 2023-12-31);
///   contacts 2023-05-10 not reached, 2023-08-20 reached → D = 2023-08-20, M = 2023-08:
///   pre 2023-05 … 2023-07, post 2023-09 … 2023-11.
#[test]
fn unreached_contact_is_contacted_not_supported() {
    let mut ds = Dataset::default();
    ds.elder("tried");
    prescribed(&mut ds, "tried", m(2023, 3), 16);
    listed(&mut ds, "sup");
    prescribed(&mut ds, "sup", m(2023, 5), 16);
    prescribed(&mut ds, "sup", m(2023, 12), 1);
    ds.interventions
        .push(medication("tried", d(2023, 6, 15), false));
    ds.interventions
        .push(medication("sup", d(2023, 5, 10), false));
    ds.interventions
        .push(medication("sup", d(2023, 8, 20), true));

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    let area = muni();
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);

    // targets {tried, sup} = 2; contacted {tried, sup} = 2 → 100 %; supported {sup} → 50 %.
    persons(get(Targets, ALL, OUTPUT), 2.0);
    expect(get(Contacted, ALL, OUTPUT), 2.0, 2.0, Some(100.0));
    expect(get(Supported, ALL, OUTPUT), 1.0, 2.0, Some(50.0));

    // sup: pre 2023-05 … 2023-07 holds 2023-05 with 16 → 1 (with the unreached 2023-05-10 as
    // index date, pre would be 2023-02 … 2023-04: 0); post 2023-09 … 2023-11: nothing → 0.
    expect(get(Polypharmacy, SUP, PRE), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, SUP, POST), 0.0, 1.0, Some(0.0));
    // tried (comparison): pre 2023-03 … 2023-05 holds 2023-03 with 16 → 1 (with the median
    // of the supported, 2023-08-20, pre would be 2023-05 … 2023-07: 0); post 2023-07 …
    // 2023-09: nothing → 0.
    expect(get(Polypharmacy, NOT_SUP, PRE), 1.0, 1.0, Some(100.0));
    expect(get(Polypharmacy, NOT_SUP, POST), 0.0, 1.0, Some(0.0));
}

/// `new_certification`: a decision 要支援1 or higher (12, 13, 21–25, legacy 11) after D and
/// up to D plus 12 calendar months inclusive counts; persons certified (same codes) on D are
/// left out (evaluation.md "Outcomes", "Windows" within 12 months).
///
/// Five supported targets, every index date D = 2023-06-15 (D + 12 months = 2024-06-15;
/// the claims form of the window ends 2024-06-30); data end 2024-08-31 (a claim of `a` in
/// 2024-08) and open coverage, so every window is covered.
/// - `a`: 要支援1 (12) decided 2024-05-15, 11 months after → 1;
/// - `b`: 要支援1 decided 2024-07-15, 13 months after → 0;
/// - `c`: 要介護1 (21) valid 2022-10-01 … 2024-09-30, so certified on D → left out (its new
///   要介護2 decision of 2023-10-01 would otherwise count);
/// - `d`: 要支援2 (13) decided 2024-06-15 = D + 12 months (inclusive) → 1;
/// - `e`: 非該当 (01) decided 2023-12-01: not 要支援1 or higher → 0.
#[test]
fn new_certification_within_12_months_of_the_index_date() {
    let mut ds = Dataset::default();
    for p in ["a", "b", "c", "d", "e"] {
        listed(&mut ds, p);
        ds.interventions.push(medication(p, d(2023, 6, 15), true));
    }
    prescribed(&mut ds, "a", m(2024, 8), 1);
    certified(&mut ds, "a", d(2024, 5, 15), "12", d(2025, 5, 31));
    certified(&mut ds, "b", d(2024, 7, 15), "12", d(2025, 7, 31));
    certified(&mut ds, "c", d(2022, 10, 1), "21", d(2024, 9, 30));
    certified(&mut ds, "c", d(2023, 10, 1), "22", d(2025, 9, 30));
    certified(&mut ds, "d", d(2024, 6, 15), "13", d(2025, 6, 30));
    certified(&mut ds, "e", d(2023, 12, 1), "01", d(2023, 12, 1));

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    let area = muni();
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);

    expect(get(Supported, ALL, OUTPUT), 5.0, 5.0, Some(100.0));
    // Denominator {a, b, d, e} = 4 (c certified on D); numerator {a, d} = 2 → 50 %.
    expect(get(NewCertification, SUP, POST), 2.0, 4.0, Some(50.0));
}

/// A record is on the list only when its person is a target of the programme and, when it
/// names `rule_id`, is on that rule's list; `outside_lists` counts persons with a *reached*
/// record outside the lists, and such records do not make anyone contacted or supported
/// (evaluation.md "Who is counted": on-list records, outputs).
///
/// - `named_r04`: listed by R03 only; one reached record naming R04 → outside the lists;
///   a target neither contacted nor supported;
/// - `on_list`: listed by R03; one reached record naming R03 → supported;
/// - `unlisted`: 14 drugs in 2023-01 (< 15: on no list); a reached record without rule_id
///   → outside the lists;
/// - `unlisted_tried`: on no list; an unreached record → not counted anywhere.
#[test]
fn records_outside_the_lists() {
    let mut ds = Dataset::default();
    listed(&mut ds, "named_r04");
    listed(&mut ds, "on_list");
    ds.elder("unlisted");
    prescribed(&mut ds, "unlisted", m(2023, 1), 14);
    ds.elder("unlisted_tried");
    ds.interventions.push(contact(
        "named_r04",
        "medication",
        Some("R04"),
        d(2023, 6, 15),
        true,
    ));
    ds.interventions
        .push(medication("on_list", d(2023, 6, 15), true));
    ds.interventions
        .push(contact("unlisted", "medication", None, d(2023, 7, 1), true));
    ds.interventions.push(contact(
        "unlisted_tried",
        "medication",
        None,
        d(2023, 7, 1),
        false,
    ));

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    for area in [muni(), Area::Union] {
        let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);
        // targets {named_r04, on_list} = 2; contacted = supported = {on_list} = 1 → 50 %;
        // outside_lists {named_r04, unlisted} = 2.
        persons(get(Targets, ALL, OUTPUT), 2.0);
        expect(get(Contacted, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
        expect(get(Supported, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
        persons(get(OutsideLists, ALL, OUTPUT), 2.0);
    }
}

/// A person not covered over the whole of an outcome's window is left out of that outcome's
/// denominator, not counted as "no" (evaluation.md "Index date and windows", "Windows":
/// insured on every day of the window).
///
/// Three supported targets, reached 2023-06-15 (pre 2023-03 … 2023-05, post 2023-07 …
/// 2023-09, new certification up to 2024-06-15 / service month 2024-06); data end 2024-07-31
/// (a claim of `alive` in 2024-07).
/// - `died_aug`: died 2023-08-10 (coverage_end 2023-08-11): covered over pre only; 16 drugs
///   in 2023-05 (pre → 1) and in 2023-07 (would make post 1); 要介護1 decided 2023-07-20
///   (would count);
/// - `alive`: open coverage; 16 drugs in 2023-08 (post → 1); no certification (→ 0);
/// - `died_sep`: died 2023-09-30 (coverage_end 2023-10-01, the day after post ends):
///   covered over pre and post, not over the 12 months; 要支援1 decided 2023-09-01 (would
///   count).
#[test]
fn coverage_ending_in_a_window_leaves_the_person_out() {
    let mut ds = Dataset::default();
    for p in ["died_aug", "alive", "died_sep"] {
        listed(&mut ds, p);
        ds.interventions.push(medication(p, d(2023, 6, 15), true));
    }
    died(&mut ds, "died_aug", d(2023, 8, 11));
    prescribed(&mut ds, "died_aug", m(2023, 5), 16);
    prescribed(&mut ds, "died_aug", m(2023, 7), 16);
    certified(&mut ds, "died_aug", d(2023, 7, 20), "21", d(2024, 7, 31));
    prescribed(&mut ds, "alive", m(2023, 8), 16);
    prescribed(&mut ds, "alive", m(2024, 7), 1);
    died(&mut ds, "died_sep", d(2023, 10, 1));
    certified(&mut ds, "died_sep", d(2023, 9, 1), "12", d(2024, 8, 31));

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    let area = muni();
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);

    // All three insured on 2023-04-01 and reached: supported 3 of 3.
    expect(get(Supported, ALL, OUTPUT), 3.0, 3.0, Some(100.0));
    // Paired measures count the persons covered over both windows (evaluation.md,
    // "Windows": pre, post and change on the same persons). died_aug is not insured
    // 2023-08-11 … 2023-09-30, so it is left out of all three; alive and died_sep remain.
    // pre: neither has 16 drugs in 2023-03 … 2023-05 → 0 of 2 (counting died_aug: 1 of 3).
    expect(get(Polypharmacy, SUP, PRE), 0.0, 2.0, Some(0.0));
    // post: {alive} (16 in 2023-08) → 1 of 2 (counting died_aug would give 2 of 3).
    expect(get(Polypharmacy, SUP, POST), 1.0, 2.0, Some(50.0));
    // change: alive 1 − 0 = +1, died_sep 0 − 0 = 0 → sum 1 over 2.
    expect(get(Polypharmacy, SUP, CHANGE), 1.0, 2.0, Some(50.0));
    // The same persons for the visit measures (no visits: 0).
    expect(get(Institutions, SUP, PRE), 0.0, 2.0, Some(0.0));
    expect(get(Institutions, SUP, POST), 0.0, 2.0, Some(0.0));
    // new_certification: only alive is covered up to 2024-06 → 0 of 1 (the decisions of
    // died_aug and died_sep are not counted: both are left out).
    expect(get(NewCertification, SUP, POST), 0.0, 1.0, Some(0.0));
}

/// A target not supported and not contacted takes the median index date of the supported
/// targets of the same programme and FY in its municipality, else of the union; the median
/// of an even number of dates is the earlier middle one (evaluation.md "Who is counted":
/// comparison group).
///
/// Supported in 鳥取市: `s1` reached 2023-06-15 and `s2` reached 2023-09-10 (median of two
/// = the earlier, 2023-06-15). `c` (鳥取市) and `c2` (米子市, no supported target there: the
/// union's supported are the same two → 2023-06-15) have no contact and 16 drugs only in
/// 2023-03 (which lists them for FY2022). With index 2023-06-15, pre = 2023-03 … 2023-05
/// → 1; with 2023-09-10 (the later middle) pre = 2023-06 … 2023-08 → 0, and with the mean
/// date (2023-07-29) pre = 2023-04 … 2023-06 → 0. Data end 2024-01-31 (a claim of `s2`).
#[test]
fn comparison_index_date_is_the_earlier_middle_median() {
    let mut ds = Dataset::default();
    listed(&mut ds, "s1");
    listed(&mut ds, "s2");
    prescribed(&mut ds, "s2", m(2024, 1), 1);
    for p in ["c", "c2"] {
        ds.elder(p);
        prescribed(&mut ds, p, m(2023, 3), 16);
    }
    lives_in(&mut ds, "c2", MUNI_2);
    ds.interventions
        .push(medication("s1", d(2023, 6, 15), true));
    ds.interventions
        .push(medication("s2", d(2023, 9, 10), true));

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    for code in [MUNI, MUNI_2] {
        let area = Area::Municipality(code.into());
        let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);
        // One comparison person per municipality: pre 2023-03 … 2023-05 → 1 of 1; post
        // 2023-07 … 2023-09 → 0 of 1.
        persons(
            get(Targets, ALL, OUTPUT),
            if code == MUNI { 3.0 } else { 1.0 },
        );
        expect(get(Polypharmacy, NOT_SUP, PRE), 1.0, 1.0, Some(100.0));
        expect(get(Polypharmacy, NOT_SUP, POST), 0.0, 1.0, Some(0.0));
    }
    // The supported of 鳥取市: s1 pre 2023-03 … 2023-05, s2 pre 2023-06 … 2023-08, no drugs
    // in either → 0 of 2.
    let area = muni();
    expect(
        row(&rows, FY, MED, &area, Polypharmacy, SUP, PRE),
        0.0,
        2.0,
        Some(0.0),
    );
    // Union: comparison {c, c2} pre 2 of 2.
    expect(
        row(&rows, FY, MED, &Area::Union, Polypharmacy, NOT_SUP, PRE),
        2.0,
        2.0,
        Some(100.0),
    );
}

/// `referred` and `needs_referral` count supported targets with a *reached* on-list record
/// whose `referred_to` is medical, care or community / whose `needs_referral` is true
/// (evaluation.md "Who is counted": outputs).
///
/// - `t1`: listed; reached 2023-06-15, referred to medical, needs referral → both;
/// - `t2`: listed; reached 2023-06-15, referred to watch (見守り: not a service),
///   needs_referral false; an unreached record 2023-07-01 referred to care with
///   needs_referral true (not reached: ignored) → neither;
/// - `other`: on no list; reached, referred to community, needs referral → outside the lists,
///   in neither count.
///
/// Both targets are supported, so the share is 1 of 2 whether taken of the supported or of
/// the targets.
#[test]
fn referred_and_needs_referral_count_reached_on_list_records() {
    let mut ds = Dataset::default();
    listed(&mut ds, "t1");
    listed(&mut ds, "t2");
    ds.elder("other");
    let mut r = medication("t1", d(2023, 6, 15), true);
    r.referred_to = Some("medical".into());
    r.needs_referral = Some(true);
    ds.interventions.push(r);
    let mut r = medication("t2", d(2023, 6, 15), true);
    r.referred_to = Some("watch".into());
    r.needs_referral = Some(false);
    ds.interventions.push(r);
    let mut r = medication("t2", d(2023, 7, 1), false);
    r.referred_to = Some("care".into());
    r.needs_referral = Some(true);
    ds.interventions.push(r);
    let mut r = contact("other", "medication", None, d(2023, 6, 15), true);
    r.referred_to = Some("community".into());
    r.needs_referral = Some(true);
    ds.interventions.push(r);

    let rows = evaluate(&ds, &[FY]).expect("an interventions table");
    let area = muni();
    let get = |measure, group, period| row(&rows, FY, MED, &area, measure, group, period);
    expect(get(Supported, ALL, OUTPUT), 2.0, 2.0, Some(100.0));
    persons(get(OutsideLists, ALL, OUTPUT), 1.0);
    // referred {t1} = 1 of 2 → 50 %; needs_referral {t1} = 1 of 2 → 50 %.
    expect(get(Referred, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
    expect(get(NeedsReferral, ALL, OUTPUT), 1.0, 2.0, Some(50.0));
}

/// The interventions table is optional: without it there is nothing to evaluate
/// (`evaluate` returns `None`), even when the lists are not empty.
#[test]
fn no_interventions_table_no_evaluation() {
    let mut ds = Dataset::default();
    listed(&mut ds, "p");
    prescribed(&mut ds, "p", m(2023, 9), 16);
    assert!(ds.interventions.is_empty()); // so no interventions.parquet is written
    assert!(evaluate(&ds, &[FY]).is_none());
}
