//! Rule files: errors that point at file, line and key; a changed threshold through a
//! copied file and through --set; drug classes on the real master.

use std::collections::BTreeMap;

use ittai_dataset::masters::DrugMaster;
use ittai_engine::rules::{BUILT_IN, parse_rule};
use ittai_model::classes::{default_disease_classes, default_drug_classes};

use crate::support::{ittai, root};

fn parse(text: &str) -> Result<ittai_engine::rules::Rule, ittai_engine::rules::RuleError> {
    parse_rule(
        text,
        "my/R03.toml",
        &BTreeMap::new(),
        &default_drug_classes(),
        &default_disease_classes(),
    )
}

fn r03() -> String {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == "R03.toml")
        .unwrap()
        .1
        .to_string()
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let text = r03().replace("op = \">=\"", "op = \">=\"\ncolour = \"red\"");
    let e = parse(&text).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    assert_eq!(
        (e.file.as_str(), e.line, e.key.as_str()),
        ("my/R03.toml", line, "colour"),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("my/R03.toml:{line}: colour:")),
        "{e}"
    );
}

#[test]
fn wrong_type_names_the_key() {
    let text = r03().replace("value = 15", "value = \"fifteen\"");
    let e = parse(&text).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.starts_with("value = \"$threshold\""))
        .unwrap()
        + 1;
    assert_eq!((e.line, e.key.as_str()), (line, "value"), "{e}");
    assert!(e.message.contains("expected a number"), "{e}");
}

#[test]
fn unknown_class_names_the_key_and_the_known_classes() {
    let text = BUILT_IN
        .iter()
        .find(|(n, _)| *n == "R04.toml")
        .unwrap()
        .1
        .replace("class = \"hypnotic\"", "class = \"sleeping_pills\"");
    let e = parse(&text).unwrap_err();
    let line = text
        .lines()
        .position(|l| l.contains("sleeping_pills"))
        .unwrap()
        + 1;
    assert_eq!((e.line, e.key.as_str()), (line, "class"), "{e}");
    assert!(
        e.message.contains("unknown drug class") && e.message.contains("hypnotic"),
        "{e}"
    );
}

#[test]
fn bad_rule_file_fails_the_run_with_file_line_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = r03().replace("window = \"$window\"", "window = \"last year\"");
    std::fs::write(dir.path().join("R03.toml"), &text).unwrap();
    let o = ittai()
        .args(["run", "--rules"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("out"))
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    let line = text.lines().position(|l| l.contains("last year")).unwrap() + 1;
    assert!(
        stderr.contains(&format!("R03.toml:{line}: window:")),
        "{stderr}"
    );
}

fn listed_ids(out: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("targets/R03_polypharmacy.csv")).unwrap();
    let mut ids: Vec<String> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn threshold_20_by_copied_file_and_by_set_agree_and_are_a_subset() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("R03.toml"),
        r03().replace("value = 15", "value = 20"),
    )
    .unwrap();
    let run = |args: &[&str], out: &str| {
        let o = ittai()
            .arg("run")
            .args(args)
            .args(["--format", "csv", "--no-indicators", "--out"])
            .arg(dir.path().join(out))
            .current_dir(root())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        listed_ids(&dir.path().join(out))
    };
    let by_file = run(&["--rules", rules.to_str().unwrap()], "a");
    let by_set = run(&["--only", "R03", "--set", "R03.threshold=20"], "b");
    let default = run(&["--only", "R03"], "c");
    assert_eq!(by_file, by_set);
    assert!(
        !by_set.is_empty() && by_set.len() < default.len(),
        "{} vs {}",
        by_set.len(),
        default.len()
    );
    assert!(
        by_set.iter().all(|p| default.contains(p)),
        "threshold 20 lists a subset of threshold 15"
    );
}

/// docs/reference/dataset.md#drug-classes: known products of the real master and their classes.
#[test]
fn drug_classes_on_the_real_master() {
    let m = DrugMaster::embedded();
    let classes = default_drug_classes();
    let off = BTreeMap::new();
    let on = BTreeMap::from([("etizolam".to_string(), true)]);
    let yj_of = |prefix: &str| -> Vec<String> {
        let v: Vec<String> = m
            .entries()
            .iter()
            .filter(|e| e.name.starts_with(prefix))
            .map(|e| e.yj.clone())
            .collect();
        assert!(!v.is_empty(), "{prefix} not in the master");
        v
    };
    for yj in yj_of("マイスリー") {
        assert!(classes["hypnotic"].matches(&yj, &off), "マイスリー {yj}");
    }
    for yj in yj_of("ベルソムラ") {
        assert!(classes["hypnotic"].matches(&yj, &off), "ベルソムラ {yj}");
    }
    for yj in yj_of("アムロジン") {
        assert!(
            classes["hypertension"].matches(&yj, &off),
            "アムロジン {yj}"
        );
        assert!(!classes["hypnotic"].matches(&yj, &off));
    }
    for yj in yj_of("デパス") {
        assert!(
            !classes["hypnotic"].matches(&yj, &off),
            "デパス is not a hypnotic by default"
        );
        assert!(
            classes["hypnotic"].matches(&yj, &on),
            "デパス with the etizolam option"
        );
    }
    for yj in yj_of("ジャヌビア") {
        assert!(classes["diabetes"].matches(&yj, &off), "ジャヌビア {yj}");
    }
}

/// Every class prefix matches at least one product of the vendored master.
#[test]
fn class_prefixes_resolve_against_the_master() {
    let m = DrugMaster::embedded();
    for (id, c) in default_drug_classes() {
        let all = c
            .include
            .iter()
            .chain(c.options.values().flat_map(|o| o.include.iter()));
        for p in all {
            assert!(
                m.entries().iter().any(|e| e.yj.starts_with(&p.0)),
                "class {id}: prefix {} matches no product",
                p.0
            );
        }
    }
}
