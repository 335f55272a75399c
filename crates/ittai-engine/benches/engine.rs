//! Micro-benchmarks of the engine's hot paths on the committed sample data (5,000 persons,
//! FY2021–FY2024): the whole feature table of the ten rules, the monthly distinct-drug
//! count alone (R03's feature), and the ten rules end to end. `cargo bench -p ittai-engine`.
//! Figures are for comparison between commits on one machine, not thresholds.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::NaiveDate;
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_engine::rules::{LoadOptions, Rule, load_rules};
use ittai_engine::{Feature, build_features as build, wanted_features as collect};
use ittai_engine::{Frame, RunSpec, Sources};
use ittai_model::classes::{default_disease_classes, default_drug_classes};
use ittai_model::time::FiscalYear;

fn main() {
    divan::main();
}

struct Setup {
    src: Sources,
    rules: Vec<Rule>,
    frame: Frame,
}

fn setup() -> &'static Setup {
    static S: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample_data");
        let src = Sources::open(&dir, &DrugMaster::embedded(), &DiseaseMaster::embedded())
            .expect("sample data");
        let rules = load_rules(
            &LoadOptions::default(),
            &default_drug_classes(),
            &default_disease_classes(),
        )
        .expect("rules");
        let frame = Frame {
            fy: FiscalYear(2024),
            reference: NaiveDate::from_ymd_opt(2025, 3, 31).expect("date"),
        };
        Setup { src, rules, frame }
    })
}

/// Builds and collects the feature table of the rules' features for which `keep` holds;
/// returns its height.
fn feature_table(keep: impl Fn(&Feature) -> bool) -> usize {
    let s = setup();
    let mut all = BTreeSet::new();
    for r in &s.rules {
        collect(&r.condition, &mut all);
    }
    let f: BTreeSet<Feature> = all.into_iter().filter(keep).collect();
    assert!(!f.is_empty());
    let (lf, _) = build(
        &s.src,
        &s.frame,
        &f,
        &default_drug_classes(),
        &default_disease_classes(),
    )
    .expect("build");
    lf.collect().expect("collect").height()
}

/// The feature table of all ten rules (every aggregation over claims, drugs, diagnoses,
/// checkups, questionnaires, certifications), collected.
#[divan::bench(sample_count = 10)]
fn feature_table_ten_rules() -> usize {
    feature_table(|_| true)
}

/// The monthly distinct-ingredient (YJ7) count of R03 alone.
#[divan::bench(sample_count = 10)]
fn monthly_distinct_drug_count() -> usize {
    feature_table(|f| matches!(f, Feature::MonthlyDrugs { .. }))
}

/// Features, the ten rules, attrition and lists.
#[divan::bench(sample_count = 10)]
fn ten_rules_end_to_end() -> u64 {
    let s = setup();
    let dc = default_drug_classes();
    let sc = default_disease_classes();
    let spec = RunSpec {
        frame: s.frame,
        rules: &s.rules,
        drug_classes: &dc,
        disease_classes: &sc,
    };
    ittai_engine::run(&s.src, &spec).expect("run").population
}
