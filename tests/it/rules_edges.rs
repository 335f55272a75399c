//! Each rule at its thresholds, on hand-made persons. Expected results are worked out
//! from SPEC §4–§5 (FY2024, reference date 2025-03-31), not from the program's output.

use std::collections::BTreeSet;

use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunResult, RunSpec, Sources};
use ittai_dataset::{Certification, DentalCheckup};
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_model::FiscalYear;
use ittai_model::classes::{default_disease_classes, default_drug_classes};

use crate::support::{Dataset, checkup, d, questionnaire};

const HYPNOTIC: (&str, &str) = ("610443047", "1129009F1025"); // マイスリー錠５ｍｇ
const DIABETES: (&str, &str) = ("621950901", "3969010F1034"); // ジャヌビア錠２５ｍｇ
const HYPERTENSION: (&str, &str) = ("620005904", "2171022F1045"); // アムロジン錠２．５ｍｇ

fn run(ds: &Dataset, only: &[&str], set: &[(&str, &str, &str)]) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    ds.write(dir.path());
    let drugs = default_drug_classes();
    let diseases = default_disease_classes();
    let mut opts = LoadOptions {
        only: only.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    for (r, k, v) in set {
        opts.set
            .entry(r.to_string())
            .or_default()
            .insert(k.to_string(), v.to_string());
    }
    let rules = load_rules(&opts, &drugs, &diseases).unwrap();
    let src = Sources::open(
        dir.path(),
        &DrugMaster::embedded(),
        &DiseaseMaster::embedded(),
    )
    .unwrap();
    let fy = FiscalYear(2024);
    ittai_engine::run(
        &src,
        &RunSpec {
            frame: Frame {
                fy,
                reference: fy.end(),
            },
            rules: &rules,
            drug_classes: &drugs,
            disease_classes: &diseases,
        },
    )
    .unwrap()
}

fn listed(r: &RunResult, id: &str) -> BTreeSet<String> {
    r.listed(id).unwrap().into_iter().collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn r01_bmi_20_0_listed_20_1_not() {
    let mut ds = Dataset::default();
    for (id, bmi) in [("a", 20.0), ("b", 20.1), ("c", 19.9)] {
        ds.elder(id);
        let mut c = checkup(id, d(2024, 7, 1));
        c.bmi = Some(bmi);
        ds.checkups.push(c);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &[(6, 1)]));
    }
    // BMI 18 but Q6 いいえ: not listed.
    ds.elder("d");
    let mut c = checkup("d", d(2024, 7, 1));
    c.bmi = Some(18.0);
    ds.checkups.push(c);
    ds.questionnaires
        .push(questionnaire("d", d(2024, 7, 1), &[(6, 2)]));
    let r = run(&ds, &["R01"], &[]);
    assert_eq!(listed(&r, "R01"), set(&["a", "c"]));
}

#[test]
fn r01_bmi_derived_from_height_and_weight() {
    // 57.8 kg / 1.70² = 20.0 (19.999…) → listed; 58.0 kg → 20.07 → 20.1 → not.
    let mut ds = Dataset::default();
    for (id, w) in [("a", 57.8), ("b", 58.0)] {
        ds.elder(id);
        let mut c = checkup(id, d(2024, 7, 1));
        c.height_cm = Some(170.0);
        c.weight_kg = Some(w);
        ds.checkups.push(c);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &[(6, 1)]));
    }
    let r = run(&ds, &["R01"], &[]);
    assert_eq!(listed(&r, "R01"), set(&["a"]));
}

#[test]
fn r01_latest_checkup_of_the_fy_wins() {
    // Two checkups in FY2024: the later (BMI 22) decides → not listed. A checkup in
    // FY2023 with BMI 18 does not count.
    let mut ds = Dataset::default();
    ds.elder("a");
    let mut c1 = checkup("a", d(2024, 5, 1));
    c1.bmi = Some(18.0);
    let mut c2 = checkup("a", d(2024, 11, 1));
    c2.bmi = Some(22.0);
    ds.checkups.extend([c1, c2]);
    ds.elder("b");
    let mut c3 = checkup("b", d(2024, 3, 15));
    c3.bmi = Some(18.0);
    ds.checkups.push(c3);
    for id in ["a", "b"] {
        ds.questionnaires
            .push(questionnaire(id, d(2024, 6, 1), &[(6, 1)]));
    }
    let r = run(&ds, &["R01"], &[]);
    assert!(listed(&r, "R01").is_empty());
}

#[test]
fn r02_dental_claim_13_months_before_does_not_count() {
    let mut ds = Dataset::default();
    for id in ["old_dental", "recent_dental", "none"] {
        ds.elder(id);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &[(4, 1)]));
    }
    // 13 months before the reference date (2025-03-31) is 2024-02: FY2023, outside.
    ds.claim("old_dental", d(2024, 2, 1), 3);
    ds.claim("recent_dental", d(2024, 4, 1), 3);
    let r = run(&ds, &["R02"], &[]);
    assert_eq!(listed(&r, "R02"), set(&["none", "old_dental"]));
}

#[test]
fn r02_coverage_guard_for_a_person_who_turned_75_mid_window() {
    let mut ds = Dataset::default();
    // Turned 75 on 2024-09-10: not covered over FY2024 → not listed, counted.
    ds.person("new75", d(1949, 9, 10), d(2024, 9, 10));
    ds.questionnaires
        .push(questionnaire("new75", d(2024, 11, 1), &[(5, 1)]));
    ds.elder("old");
    ds.questionnaires
        .push(questionnaire("old", d(2024, 11, 1), &[(5, 1)]));
    let r = run(&ds, &["R02"], &[]);
    assert_eq!(listed(&r, "R02"), set(&["old"]));
    let att = &r.rule("R02").unwrap().attrition;
    assert_eq!(att.last().unwrap().insufficient_coverage, 1);
    assert_eq!(att[0].persons, 2);
}

#[test]
fn r02_spells_joined_where_one_ends_the_day_the_next_starts() {
    // A move between municipalities: spell 1 ends 2024-08-01, spell 2 starts 2024-08-01 →
    // covered over FY2024 → listed.
    let mut ds = Dataset::default();
    ds.elder("mover");
    ds.persons[0].coverage_end = Some(d(2024, 8, 1));
    ds.persons[0].loss_reason = Some(9);
    ds.person("mover", d(1944, 6, 1), d(2024, 8, 1));
    ds.persons[1].municipality_code = "312029".into();
    // A gap of one day: not covered.
    ds.elder("gap");
    ds.persons[2].coverage_end = Some(d(2024, 8, 1));
    ds.person("gap", d(1944, 6, 1), d(2024, 8, 2));
    for id in ["mover", "gap"] {
        ds.questionnaires
            .push(questionnaire(id, d(2024, 11, 1), &[(4, 1)]));
    }
    let r = run(&ds, &["R02"], &[]);
    assert_eq!(listed(&r, "R02"), set(&["mover"]));
}

#[test]
fn died_before_the_reference_date_is_not_in_the_population() {
    let mut ds = Dataset::default();
    ds.elder("died");
    ds.persons[0].coverage_end = Some(d(2025, 1, 11)); // died 2025-01-10
    ds.persons[0].loss_reason = Some(1);
    ds.questionnaires
        .push(questionnaire("died", d(2024, 7, 1), &[(4, 1)]));
    ds.elder("alive");
    let r = run(&ds, &["R02", "R10"], &[]);
    assert_eq!(r.population, 1);
    assert!(listed(&r, "R02").is_empty());
    assert_eq!(listed(&r, "R10"), set(&["alive"]));
}

fn distinct_oral_products(n: usize) -> Vec<(String, String)> {
    let m = DrugMaster::embedded();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for e in m.entries() {
        if e.yj.len() == 12
            && e.retired.is_none()
            && e.form == ittai_dataset::masters::DosageForm::Internal
            && seen.insert(e.yj[..7].to_string())
        {
            out.push((e.code.clone(), e.yj.clone()));
            if out.len() == n {
                break;
            }
        }
    }
    out
}

#[test]
fn r03_fifteen_in_one_month_vs_fourteen_plus_one() {
    let drugs = distinct_oral_products(15);
    let mut ds = Dataset::default();
    ds.elder("fifteen");
    ds.elder("split");
    // 15 distinct ingredients in May, from two institutions (counted together).
    let c1 = ds.claim("fifteen", d(2024, 5, 1), 4);
    let c2 = ds.claim("fifteen", d(2024, 5, 1), 2);
    for (i, (code, yj)) in drugs.iter().enumerate() {
        ds.drug(if i < 8 { &c1 } else { &c2 }, code, yj);
    }
    // The same product twice in a month counts once.
    ds.drug(&c2, &drugs[0].0, &drugs[0].1);
    // 14 in May and the 15th in June.
    let m = ds.claim("split", d(2024, 5, 1), 4);
    let j = ds.claim("split", d(2024, 6, 1), 4);
    for (i, (code, yj)) in drugs.iter().enumerate() {
        ds.drug(if i < 14 { &m } else { &j }, code, yj);
    }
    let r = run(&ds, &["R03"], &[]);
    assert_eq!(listed(&r, "R03"), set(&["fifteen"]));
    // With the threshold at 14 both are listed.
    let r = run(&ds, &["R03"], &[("R03", "threshold", "14")]);
    assert_eq!(listed(&r, "R03"), set(&["fifteen", "split"]));
}

#[test]
fn r04_drug_on_march_31_vs_april_1() {
    let mut ds = Dataset::default();
    for (id, month) in [("march", d(2024, 3, 1)), ("april", d(2024, 4, 1))] {
        ds.elder(id);
        let c = ds.claim(id, month, 4);
        ds.drug(&c, HYPNOTIC.0, HYPNOTIC.1);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &[(8, 1)]));
    }
    let r = run(&ds, &["R04"], &[]);
    // March 2024 is FY2023; April 2024 is FY2024.
    assert_eq!(listed(&r, "R04"), set(&["april"]));
}

#[test]
fn r04_needs_q8_or_both_q10_and_q11() {
    let mut ds = Dataset::default();
    for (id, ans) in [
        ("q8", vec![(8, 1)]),
        ("q10q11", vec![(10, 1), (11, 1)]),
        ("q10", vec![(10, 1)]),
        ("none", vec![]),
    ] {
        ds.elder(id);
        let c = ds.claim(id, d(2024, 9, 1), 4);
        ds.drug(&c, HYPNOTIC.0, HYPNOTIC.1);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &ans));
    }
    let r = run(&ds, &["R04"], &[]);
    assert_eq!(listed(&r, "R04"), set(&["q10q11", "q8"]));
}

#[test]
fn r04_etizolam_only_with_the_option() {
    let mut ds = Dataset::default();
    ds.elder("depas");
    let c = ds.claim("depas", d(2024, 9, 1), 4);
    ds.drug(&c, "611170513", "1179025F1026"); // デパス錠０．５ｍｇ
    ds.questionnaires
        .push(questionnaire("depas", d(2024, 7, 1), &[(8, 1)]));
    assert!(listed(&run(&ds, &["R04"], &[]), "R04").is_empty());
    assert_eq!(
        listed(
            &run(&ds, &["R04"], &[("R04", "include_etizolam", "true")]),
            "R04"
        ),
        set(&["depas"])
    );
}

#[test]
fn r05_q1_4_or_5_and_q7() {
    let mut ds = Dataset::default();
    for (id, ans) in [
        ("q1_4", vec![(1, 4), (7, 1)]),
        ("q1_5", vec![(1, 5), (7, 1)]),
        ("q1_3", vec![(1, 3), (7, 1)]),
        ("no_q7", vec![(1, 5), (7, 2)]),
    ] {
        ds.elder(id);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &ans));
    }
    assert_eq!(
        listed(&run(&ds, &["R05"], &[]), "R05"),
        set(&["q1_4", "q1_5"])
    );
    // With OR, Q7 alone or Q1 alone suffices.
    assert_eq!(
        listed(&run(&ds, &["R05"], &[("R05", "connective", "or")]), "R05"),
        set(&["q1_3", "q1_4", "q1_5", "no_q7"])
    );
}

#[test]
fn r06_hba1c_8_0_vs_7_9_and_blood_pressure_edges() {
    let mut ds = Dataset::default();
    let cases: [(&str, Option<f64>, Option<f64>, Option<f64>); 6] = [
        ("a1c_80", Some(8.0), None, None),
        ("a1c_79", Some(7.9), None, None),
        ("sbp_160", None, Some(160.0), Some(80.0)),
        ("sbp_159", None, Some(159.0), Some(99.0)),
        ("dbp_100", None, Some(150.0), Some(100.0)),
        ("a1c_80_treated", Some(8.0), None, None),
    ];
    for (id, a1c, sbp, dbp) in cases {
        ds.elder(id);
        let mut c = checkup(id, d(2024, 7, 1));
        c.hba1c = a1c;
        c.sbp = sbp;
        c.dbp = dbp;
        ds.checkups.push(c);
    }
    let c = ds.claim("a1c_80_treated", d(2024, 10, 1), 4);
    ds.drug(&c, DIABETES.0, DIABETES.1);
    // A hypertension drug only on a dental claim does not count (R06 looks at 医科, DPC, 調剤).
    let dental = ds.claim("sbp_160", d(2024, 10, 1), 3);
    ds.drug(&dental, HYPERTENSION.0, HYPERTENSION.1);
    let r = run(&ds, &["R06"], &[]);
    assert_eq!(listed(&r, "R06"), set(&["a1c_80", "dbp_100", "sbp_160"]));
}

#[test]
fn r07_interrupted_treatment() {
    let mut ds = Dataset::default();
    // Diabetes drug in FY2022, none in FY2024, no checkup → listed.
    ds.elder("stopped");
    let c = ds.claim("stopped", d(2022, 10, 1), 4);
    ds.drug(&c, DIABETES.0, DIABETES.1);
    // Still treated in FY2024 → not listed.
    ds.elder("continuing");
    let c = ds.claim("continuing", d(2023, 10, 1), 4);
    ds.drug(&c, HYPERTENSION.0, HYPERTENSION.1);
    let c = ds.claim("continuing", d(2024, 10, 1), 4);
    ds.drug(&c, HYPERTENSION.0, HYPERTENSION.1);
    // Stopped but had a checkup in FY2024 → not listed.
    ds.elder("checked");
    let c = ds.claim("checked", d(2023, 5, 1), 4);
    ds.drug(&c, HYPERTENSION.0, HYPERTENSION.1);
    ds.checkups.push(checkup("checked", d(2024, 8, 1)));
    // Last prescription in FY2020 (outside FY−3..FY−1) → not listed.
    ds.elder("long_ago");
    let c = ds.claim("long_ago", d(2020, 10, 1), 4);
    ds.drug(&c, DIABETES.0, DIABETES.1);
    let r = run(&ds, &["R07"], &[]);
    assert_eq!(listed(&r, "R07"), set(&["stopped"]));
}

#[test]
fn r08_suspected_heart_failure_does_not_count() {
    let mut ds = Dataset::default();
    for (id, suspected) in [("suspected", true), ("confirmed", false)] {
        ds.elder(id);
        let c = ds.claim(id, d(2024, 6, 1), 2);
        ds.diagnosis(&c, "4289015", "I509", suspected); // 心不全
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &[(8, 1)]));
    }
    // HbA1c 7.0 is a base condition; 6.9 is not. Frailty by Q13 いいえ.
    for (id, a1c) in [("a1c_70", 7.0), ("a1c_69", 6.9)] {
        ds.elder(id);
        let mut c = checkup(id, d(2024, 7, 1));
        c.hba1c = Some(a1c);
        ds.checkups.push(c);
        ds.questionnaires
            .push(questionnaire(id, d(2024, 7, 1), &[(13, 2)]));
    }
    let r = run(&ds, &["R08"], &[]);
    assert_eq!(listed(&r, "R08"), set(&["a1c_70", "confirmed"]));
}

#[test]
fn r09_egfr_45_vs_44_9_and_urine_protein_trace_vs_plus() {
    let mut ds = Dataset::default();
    let cases: [(&str, Option<f64>, Option<u8>); 4] = [
        ("egfr_449", Some(44.9), Some(1)),
        ("egfr_45", Some(45.0), Some(1)),
        ("plus", Some(70.0), Some(3)),
        ("trace", Some(70.0), Some(2)),
    ];
    for (id, egfr, prot) in cases {
        ds.elder(id);
        let mut c = checkup(id, d(2024, 7, 1));
        c.egfr = egfr;
        c.urine_protein = prot;
        ds.checkups.push(c);
    }
    // eGFR 30 but saw a doctor in FY2024 → not listed; a pharmacy claim is not a visit.
    ds.elder("visited");
    let mut c = checkup("visited", d(2024, 7, 1));
    c.egfr = Some(30.0);
    ds.checkups.push(c);
    ds.claim("visited", d(2024, 8, 1), 2);
    ds.elder("pharmacy_only");
    let mut c = checkup("pharmacy_only", d(2024, 7, 1));
    c.egfr = Some(30.0);
    ds.checkups.push(c);
    ds.claim("pharmacy_only", d(2024, 8, 1), 4);
    let r = run(&ds, &["R09"], &[]);
    assert_eq!(
        listed(&r, "R09"),
        set(&["egfr_449", "pharmacy_only", "plus"])
    );
}

#[test]
fn r10_not_eligible_certification_does_not_count() {
    let mut ds = Dataset::default();
    for id in [
        "not_eligible",
        "support1",
        "nothing",
        "checkup_last_year",
        "dental_checkup_only",
    ] {
        ds.elder(id);
    }
    ds.certifications.push(Certification {
        person_id: "not_eligible".into(),
        decision_date: d(2024, 5, 10),
        care_level_code: "01".into(),
        valid_from: d(2024, 4, 20),
        valid_to: d(2024, 5, 10),
    });
    ds.certifications.push(Certification {
        person_id: "support1".into(),
        decision_date: d(2023, 5, 10),
        care_level_code: "12".into(),
        valid_from: d(2023, 4, 20),
        valid_to: d(2024, 4, 30),
    });
    ds.checkups
        .push(checkup("checkup_last_year", d(2023, 9, 1)));
    ds.dental_checkups.push(DentalCheckup {
        person_id: "dental_checkup_only".into(),
        exam_date: d(2024, 9, 1),
    });
    let r = run(&ds, &["R10"], &[]);
    // A 要支援1 valid until 2024-04-30 overlaps FY2023–FY2024; a checkup in FY2023 counts
    // (window FY−1..FY); a dental checkup is not a checkup.
    assert_eq!(
        listed(&r, "R10"),
        set(&["dental_checkup_only", "not_eligible", "nothing"])
    );
}
