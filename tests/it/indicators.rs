//! The evaluation indicators on a tiny hand-built dataset (FY2024, reference 2025-03-31)
//! with every numerator, denominator and exclusion worked out in the comments, and the
//! union's ハイリスク者割合 of `ittai run` against `ittai_engine::run` on the sample data.

use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_dataset::{CareClaim, Certification, DentalCheckup, MedicalClaim};
use ittai_engine::indicators::{IndicatorSet, compute};
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunSpec, Sources};
use ittai_model::FiscalYear;
use ittai_model::classes::{default_disease_classes, default_drug_classes};
use ittai_model::indicators::{AgeGroup, Area, IndicatorId, IndicatorRow, SexGroup};

use crate::support::{Dataset, MUNI, checkup, d, root};

fn indicators(ds: &Dataset, fys: &[i32]) -> IndicatorSet {
    let dir = tempfile::tempdir().unwrap();
    ds.write(dir.path());
    let drugs = default_drug_classes();
    let diseases = default_disease_classes();
    let rules = load_rules(&LoadOptions::default(), &drugs, &diseases).unwrap();
    let src = Sources::open(
        dir.path(),
        &DrugMaster::embedded(),
        &DiseaseMaster::embedded(),
    )
    .unwrap();
    let fys: Vec<FiscalYear> = fys.iter().map(|y| FiscalYear(*y)).collect();
    let spec = RunSpec {
        frame: Frame {
            fy: fys[0],
            reference: fys[0].end(),
        },
        rules: &rules,
        drug_classes: &drugs,
        disease_classes: &diseases,
    };
    compute(&src, &fys, &spec, &mut |_| {}).unwrap()
}

const ALL: SexGroup = SexGroup::All;
const ALL_AGES: AgeGroup = AgeGroup::All;

fn union_all(set: &IndicatorSet, id: IndicatorId) -> &IndicatorRow {
    set.rows
        .iter()
        .find(|r| {
            r.indicator == id
                && r.fy == 2024
                && r.municipality_code == Area::Union
                && r.sex == ALL
                && r.age_band == ALL_AGES
                && r.rule_id.is_none()
        })
        .unwrap_or_else(|| panic!("{id}"))
}

fn claim(
    ds: &mut Dataset,
    id: &str,
    person: &str,
    month: chrono::NaiveDate,
    kind: u8,
    institution: &str,
    points: i64,
) {
    ds.medical_claims.push(MedicalClaim {
        claim_id: id.into(),
        person_id: person.into(),
        service_month: month,
        claim_kind: kind,
        institution_code: institution.into(),
        points: Some(points),
        days: Some(1),
    });
}

fn product(prefix: &str, generic: bool) -> (String, String) {
    let m = DrugMaster::embedded();
    let e = m
        .entries()
        .iter()
        .find(|e| e.name.starts_with(prefix) && e.generic == generic && e.retired.is_none())
        .unwrap();
    (e.code.clone(), e.yj.clone())
}

/// Seven women in one municipality (FY2024 = 2024-04-01 … 2025-03-31, 365 days):
/// - p1 insured all year; checkup 2024-07-01; an outpatient claim (1,000 points) and a
///   pharmacy claim (500 points) in May with 15 oral ingredients of quantity 0;
/// - p2 insured all year; dental checkup; amlodipine 5 mg in June from two clinics, a
///   generic (「…」) from one and アムロジン (branded, with generics) from the other, 28 each;
///   a 非該当 (01) decision;
/// - p3 inpatient 2024-01 … 2024-06 (6 consecutive months overlapping the FY: a long-term
///   inpatient, excluded from the checkup denominator); 1,000 points a month;
/// - p4 in a 介護福祉施設 (type 51, 25,000 units in May: a facility resident, excluded);
///   要介護3 valid all year;
/// - p5 turned 75 on 2024-06-01 (not insured on April 1); checkup in August;
/// - p6 inpatient 2024-04 … 2024-08 (5 months: not long-term); checkup in September;
/// - p7 died 2024-10-15 (coverage ends 2024-10-16).
fn tiny() -> &'static IndicatorSet {
    static SET: std::sync::OnceLock<IndicatorSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let mut ds = Dataset::default();
        for p in ["p1", "p2", "p3", "p4", "p6", "p7"] {
            ds.elder(p);
        }
        ds.person("p5", d(1949, 6, 1), d(2024, 6, 1));
        let p7 = ds.persons.iter_mut().find(|x| x.person_id == "p7").unwrap();
        p7.coverage_end = Some(d(2024, 10, 16));
        p7.loss_reason = Some(1);
        ds.checkups.push(checkup("p1", d(2024, 7, 1)));
        ds.checkups.push(checkup("p5", d(2024, 8, 1)));
        ds.checkups.push(checkup("p6", d(2024, 9, 1)));
        ds.dental_checkups.push(DentalCheckup {
            person_id: "p2".into(),
            exam_date: d(2024, 9, 1),
        });
        claim(
            &mut ds,
            "p1-out",
            "p1",
            d(2024, 5, 1),
            2,
            "3110100012",
            1000,
        );
        claim(&mut ds, "p1-rx", "p1", d(2024, 5, 1), 4, "3140100016", 500);
        let m = DrugMaster::embedded();
        let mut seen = std::collections::BTreeSet::new();
        for e in m.entries() {
            if seen.len() == 15 {
                break;
            }
            if e.yj.len() == 12
                && e.retired.is_none()
                && e.form == ittai_dataset::masters::DosageForm::Internal
                && seen.insert(e.yj[..7].to_string())
            {
                ds.drug("p1-rx", &e.code, &e.yj);
                ds.claim_drugs.last_mut().unwrap().quantity = Some(0.0);
            }
        }
        claim(&mut ds, "p2-a", "p2", d(2024, 6, 1), 2, "3110100012", 800);
        claim(&mut ds, "p2-b", "p2", d(2024, 6, 1), 2, "3110100021", 800);
        let generic = product("アムロジピン錠５ｍｇ", true);
        let branded = product("アムロジン錠５ｍｇ", false);
        ds.drug("p2-a", &generic.0, &generic.1);
        ds.drug("p2-b", &branded.0, &branded.1);
        ds.certifications.push(Certification {
            person_id: "p2".into(),
            decision_date: d(2024, 5, 1),
            care_level_code: "01".into(),
            valid_from: d(2024, 4, 10),
            valid_to: d(2024, 5, 1),
        });
        for mo in 1..=6 {
            claim(
                &mut ds,
                &format!("p3-{mo}"),
                "p3",
                d(2024, mo, 1),
                1,
                "3110195017",
                1000,
            );
        }
        for mo in 4..=8 {
            claim(
                &mut ds,
                &format!("p6-{mo}"),
                "p6",
                d(2024, mo, 1),
                1,
                "3110195017",
                1000,
            );
        }
        ds.care_claims.push(CareClaim {
            person_id: "p4".into(),
            service_month: d(2024, 5, 1),
            service_type_code: "51".into(),
            care_level_code: Some("23".into()),
            units: Some(25_000),
            days: Some(31),
            provider_number: Some("3170010011".into()),
        });
        ds.certifications.push(Certification {
            person_id: "p4".into(),
            decision_date: d(2024, 3, 1),
            care_level_code: "23".into(),
            valid_from: d(2024, 3, 15),
            valid_to: d(2026, 3, 31),
        });
        indicators(&ds, &[2024])
    })
}

/// Checks the union's all-sex, all-age row of `id` (FY2024): numerator, denominator, value,
/// and that it is flagged for suppression (every count here is under 10).
fn check(id: IndicatorId, num: f64, den: f64, value: f64) {
    let r = union_all(tiny(), id);
    assert!(
        (r.numerator - num).abs() < 1e-6 && (r.denominator - den).abs() < 1e-6,
        "{id}: {} / {}",
        r.numerator,
        r.denominator
    );
    assert!(
        (r.value.unwrap() - value).abs() < 1e-6,
        "{id}: {:?} ≠ {value}",
        r.value
    );
    assert!(
        r.suppressed,
        "{id}: counts under 10 are suppressed in published outputs"
    );
}

/// Exposure: five persons × 365 days, p5 304 days (June … March), p7 198 days (April 1 …
/// October 15) = 2,327 days = 2327 / 365.25 insured-years.
const YEARS: f64 = 2327.0 / 365.25;

/// 健診受診率: insured on April 1 = p1, p2, p3, p4, p6, p7; minus p3 (long-term inpatient)
/// and p4 (facility) → 4; with a checkup: p1, p6 → 2 / 4 = 50 %. p5 is not in the
/// denominator (not insured on April 1). The municipality row equals the union (one
/// municipality).
#[test]
fn checkup_rate() {
    check(IndicatorId::CheckupRate, 2.0, 4.0, 50.0);
    let m = tiny()
        .rows
        .iter()
        .find(|r| {
            r.indicator == IndicatorId::CheckupRate
                && r.municipality_code.code() == Some(MUNI)
                && r.sex == ALL
                && r.age_band == ALL_AGES
        })
        .unwrap();
    assert_eq!((m.numerator, m.denominator), (2.0, 4.0));
}

/// 歯科健診受診率: the same denominator (4); p2 → 1 / 4 = 25 %.
#[test]
fn dental_checkup_rate() {
    check(IndicatorId::DentalCheckupRate, 1.0, 4.0, 25.0);
}

/// 要介護認定率: insured on 2025-03-31 = p1 … p6 (p7 died) → 6; certified (要支援1 …
/// 要介護5): p4 only (p2's 01 非該当 does not count) → 1 / 6.
#[test]
fn certification_rate() {
    check(IndicatorId::CertificationRate, 1.0, 6.0, 100.0 / 6.0);
}

/// ハイリスク者割合 R03 (15+ oral ingredients in a month): p1 (15 in May) → 1 / 6 insured on
/// the reference date; R10 (no checkup, visit or certification): nobody → 0 / 6.
#[test]
fn high_risk_rate() {
    let row = |id: &str| {
        tiny()
            .rows
            .iter()
            .find(|r| {
                r.indicator == IndicatorId::HighRiskRate
                    && r.rule_id.as_deref() == Some(id)
                    && r.municipality_code == Area::Union
                    && r.sex == ALL
                    && r.age_band == ALL_AGES
            })
            .unwrap()
    };
    assert_eq!((row("R03").numerator, row("R03").denominator), (1.0, 6.0));
    assert!((row("R03").value.unwrap() - 100.0 / 6.0).abs() < 1e-9);
    assert_eq!(
        (
            row("R10").numerator,
            row("R10").denominator,
            row("R10").value
        ),
        (0.0, 6.0, Some(0.0))
    );
}

/// 死亡率: 1 death (p7) / 6.371 insured-years × 100.
#[test]
fn deaths() {
    check(IndicatorId::Deaths, 1.0, YEARS, 100.0 / YEARS);
}

/// 医療費: p1 1,000 + 500 points, p2 800 + 800, p3 April–June 3 × 1,000 (January–March are
/// FY2023), p6 5 × 1,000 → 11,100 points = 111,000 yen per 6.371 insured-years. By kind:
/// 入院 p3 30,000 + p6 50,000 = 80,000 yen; 入院外 p1 10,000 + p2 16,000 = 26,000; 調剤 p1
/// 5,000; 歯科 none.
#[test]
fn medical_cost() {
    check(
        IndicatorId::MedicalCost,
        111_000.0,
        YEARS,
        111_000.0 / YEARS,
    );
    check(
        IndicatorId::MedicalCostInpatient,
        80_000.0,
        YEARS,
        80_000.0 / YEARS,
    );
    check(
        IndicatorId::MedicalCostOutpatient,
        26_000.0,
        YEARS,
        26_000.0 / YEARS,
    );
    check(
        IndicatorId::MedicalCostPharmacy,
        5_000.0,
        YEARS,
        5_000.0 / YEARS,
    );
    let dental = union_all(tiny(), IndicatorId::MedicalCostDental);
    assert_eq!(dental.numerator, 0.0);
}

/// 介護給付費: 25,000 units × 10 yen = 250,000 yen / 6.371 insured-years.
#[test]
fn care_cost() {
    check(IndicatorId::CareCost, 250_000.0, YEARS, 250_000.0 / YEARS);
}

/// 多剤投薬患者割合: persons with an oral prescription in the FY: p1, p2 → 2; with ≥ 15
/// ingredients in a month: p1 → 1 / 2 = 50 %.
#[test]
fn polypharmacy_rate() {
    check(IndicatorId::PolypharmacyRate, 1.0, 2.0, 50.0);
}

/// 重複投薬患者割合: the same ingredient (amlodipine, 2171022) from two clinics in June:
/// p2 → 1 / 2.
#[test]
fn duplicate_rate() {
    check(IndicatorId::DuplicateRate, 1.0, 2.0, 50.0);
}

/// 後発医薬品使用割合: p2's generic 1 × 28 over generic 28 + branded-with-generic 28 = 50 %
/// (p1's lines have quantity 0).
#[test]
fn generic_share() {
    check(IndicatorId::GenericShare, 28.0, 56.0, 50.0);
}

/// 平均余命・平均自立期間: no death in the open interval (95+) → not computable, so no value
/// and suppressed (the Sullivan arithmetic itself is tested in ittai-engine's lifetable).
#[test]
fn life_expectancy_and_independence() {
    for id in [IndicatorId::LifeExpectancy75, IndicatorId::Independence75] {
        let le = union_all(tiny(), id);
        assert!(le.value.is_none() && le.suppressed, "{id}");
    }
}

/// docs/reference/indicators.md#high-risk-rates: the union's ハイリスク者割合 of rule Rnn =
/// persons listed by Rnn / persons insured on the reference date (March 31 of the FY). The
/// indicator table that `ittai run` writes (sample data) is checked against an independent
/// path: `ittai_engine::run` called directly, for the same data, rules and FY, with the
/// reference date March 31 — not against the run's own manifest, which is a rollup of the
/// same result. Checked for the run's FY (2024) and the year before (2023).
#[test]
fn union_high_risk_rates_equal_engine_run_counts_over_insured() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = crate::support::ittai()
        .args(["run", "--format", "csv", "--out"])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The indicator table `ittai run` wrote for every FY of the data.
    let set = ittai_engine::indicators::read_tables(&out.join("indicators")).unwrap();

    let drugs = default_drug_classes();
    let diseases = default_disease_classes();
    let rules = load_rules(&LoadOptions::default(), &drugs, &diseases).unwrap();
    assert_eq!(rules.len(), 10);
    let src = Sources::open(
        &root().join("sample_data"),
        &DrugMaster::embedded(),
        &DiseaseMaster::embedded(),
    )
    .unwrap();
    for fy in [2023, 2024] {
        let frame = Frame {
            fy: FiscalYear(fy),
            reference: FiscalYear(fy).end(),
        };
        let res = ittai_engine::run(
            &src,
            &RunSpec {
                frame,
                rules: &rules,
                drug_classes: &drugs,
                disease_classes: &diseases,
            },
        )
        .unwrap();
        let population = res.population as f64;
        assert!(population > 0.0, "FY{fy}: nobody insured");
        let mut someone = false;
        for rule in &rules {
            let id = rule.id.as_str();
            let listed = res.listed(id).unwrap().len() as f64;
            someone |= listed > 0.0;
            let row = set
                .rows
                .iter()
                .find(|x| {
                    x.indicator == IndicatorId::HighRiskRate
                        && x.fy == fy
                        && x.rule_id.as_deref() == Some(id)
                        && x.municipality_code == Area::Union
                        && x.sex == ALL
                        && x.age_band == ALL_AGES
                })
                .unwrap_or_else(|| panic!("FY{fy} {id}: no union ハイリスク者割合 row"));
            assert_eq!(
                (row.numerator, row.denominator),
                (listed, population),
                "FY{fy} {id}: indicator numerator / denominator vs ittai_engine::run"
            );
            assert!(
                (row.value.unwrap() - 100.0 * listed / population).abs() < 1e-9,
                "FY{fy} {id}: {:?}",
                row.value
            );
        }
        assert!(someone, "FY{fy}: the sample data should list someone");
    }
}

/// Unions compare figures across runs: the same data give byte-identical indicator tables
/// (the floating-point rollups add in a fixed order; person-years are summed as days).
#[test]
fn indicators_are_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for i in 0..2 {
        let out = dir.path().join(format!("o{i}"));
        let o = crate::support::ittai()
            .args(["indicators", "--fy", "2023,2024", "--out"])
            .arg(&out)
            .current_dir(crate::support::root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        files.push((
            std::fs::read(out.join("indicators/indicators.parquet")).unwrap(),
            std::fs::read(out.join("indicators/indicators.csv")).unwrap(),
        ));
    }
    assert!(files[0] == files[1], "two runs on the same data differ");
}

/// Cost cells are suppressed by the number of persons WITH claims of the kind, not by the
/// insured: twelve insured women of one municipality, all with an outpatient claim (1,000
/// points), three of them also with a dental claim (500 points). 入院外 cost per insured
/// is built from 12 patients → published; 歯科 from 3 → suppressed, although 12 are insured
/// (before, both were published, and the dental figure described three people).
#[test]
fn cost_cells_are_suppressed_by_persons_with_claims() {
    let mut ds = Dataset::default();
    for i in 0..12 {
        let id = format!("w{i:02}");
        ds.elder(&id);
        claim(
            &mut ds,
            &format!("o{i}"),
            &id,
            d(2024, 5, 1),
            2,
            "3110100012",
            1000,
        );
        if i < 3 {
            claim(
                &mut ds,
                &format!("d{i}"),
                &id,
                d(2024, 6, 1),
                3,
                "3130100012",
                500,
            );
        }
    }
    let set = indicators(&ds, &[2024]);
    let outpatient = union_all(&set, IndicatorId::MedicalCostOutpatient);
    assert_eq!(outpatient.numerator, 120_000.0);
    assert_eq!(outpatient.persons, 12);
    assert!(!outpatient.suppressed, "12 patients: published");
    let dental = union_all(&set, IndicatorId::MedicalCostDental);
    assert_eq!(dental.numerator, 15_000.0);
    assert_eq!(dental.persons, 3, "persons with a dental claim");
    assert!(dental.suppressed, "3 patients: suppressed");
}

/// 疾病分類別医療費 by hand (docs/reference/indicators.md, context indicators): each claim's
/// points × 10 go to the chapter of its 主傷病, else of its first non-suspected diagnosis
/// with an ICD-10 code (file order), else "unclassified"; 調剤 claims are their own group.
///
/// - `a` (医科入院外, 1,000 points): E11 first, I10 flagged 主傷病 → IX (the main diagnosis
///   wins over file order): 10,000 yen.
/// - `b` (医科入院外, 500 points): K29 suspected, then J20, then I10; no flag → X (the first
///   non-suspected line): 5,000 yen.
/// - `c` (医科入院, 2,000 points): only a suspected C18 → unclassified: 20,000 yen.
/// - `d` (調剤, 300 points): no diagnosis → dispensing: 3,000 yen.
/// - `e` (医科入院外, 400 points): I10 flagged 主傷病 but suspected, E11 not flagged → IV
///   (a suspected main diagnosis does not count): 4,000 yen.
///
/// Total 42,000 yen; shares IX 10/42, X 5/42, unclassified 20/42, dispensing 3/42, IV 4/42.
#[test]
fn cost_by_disease_group_by_hand() {
    use ittai_dataset::ClaimDiagnosis;
    use ittai_model::icd10::DiseaseGroup;
    let mut ds = Dataset::default();
    ds.elder("p1");
    let m = d(2024, 6, 1);
    for (id, kind, points) in [
        ("a", 2, 1000),
        ("b", 2, 500),
        ("c", 1, 2000),
        ("d", 4, 300),
        ("e", 2, 400),
    ] {
        claim(&mut ds, id, "p1", m, kind, "3110100012", points);
    }
    let dx = |claim: &str, icd: &str, suspected: bool, main: Option<bool>| ClaimDiagnosis {
        claim_id: claim.into(),
        person_id: "p1".into(),
        service_month: m,
        disease_code: "0000999".into(),
        icd10: Some(icd.into()),
        suspected,
        start_date: None,
        outcome: None,
        main_diagnosis: main,
    };
    ds.claim_diagnoses.extend([
        dx("a", "E119", false, Some(false)),
        dx("a", "I10", false, Some(true)),
        dx("b", "K297", true, None),
        dx("b", "J209", false, None),
        dx("b", "I10", false, None),
        dx("c", "C189", true, Some(true)),
        dx("e", "I10", true, Some(true)),
        dx("e", "E119", false, Some(false)),
    ]);
    let set = indicators(&ds, &[2024]);
    let yen = |g: &str| {
        set.disease_costs
            .iter()
            .find(|r| {
                r.fy == 2024
                    && r.municipality_code == Area::Union
                    && r.disease_group == DiseaseGroup::parse(g).unwrap()
            })
            .map(|r| (r.claims, r.yen, r.share.unwrap()))
            .unwrap_or_else(|| panic!("no row for {g}: {:?}", set.disease_costs))
    };
    let share = |y: f64| 100.0 * y / 42_000.0;
    for (g, claims, y) in [
        ("IX", 1, 10_000.0),
        ("X", 1, 5_000.0),
        ("unclassified", 1, 20_000.0),
        ("dispensing", 1, 3_000.0),
        ("IV", 1, 4_000.0),
    ] {
        let (n, got, s) = yen(g);
        assert_eq!((n, got), (claims, y), "{g}");
        assert!((s - share(y)).abs() < 1e-9, "{g}: share {s}");
    }
    assert_eq!(
        set.disease_costs
            .iter()
            .filter(|r| r.municipality_code == Area::Union)
            .count(),
        5,
        "no other group"
    );
    // One person in every group: all suppressed in the published table.
    assert!(set.disease_costs.iter().all(|r| r.suppressed));
}
