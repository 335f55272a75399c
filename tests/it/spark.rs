//! The rules as SQL (`ittai sql`) give the same persons and attrition as the native engine,
//! on Apache Spark (`ittai run --engine spark`, through Spark Connect) and on DuckDB
//! (`benches/duckdb_baseline.py`, which runs `ittai sql --dialect duckdb`), for all ten
//! rules on sample_data with the default parameters and with `--set R03.threshold=20`.
//!
//! The Spark tests need a Spark Connect server whose address is in `ITTAI_SPARK_REMOTE`
//! (`.ci/run` starts one in local mode on 127.0.0.1 from PyPI's pyspark and stops it at the
//! end); the DuckDB test needs python3 with the duckdb module. Without them the tests skip
//! with a message — unless `ITTAI_REQUIRE_SPARK=1` / `ITTAI_REQUIRE_DUCKDB=1` (set by
//! .ci/run), and then they fail.

use std::path::Path;
use std::process::Command;

use crate::support::{ittai, list_files, root, run_lists};

/// Whether an `ITTAI_REQUIRE_*` variable is set.
fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The Spark Connect address, or `None` (after saying why) when the test is to be skipped.
fn spark_remote(test: &str) -> Option<String> {
    match std::env::var("ITTAI_SPARK_REMOTE") {
        Ok(r) if !r.is_empty() => Some(r),
        _ => {
            assert!(
                !required("ITTAI_REQUIRE_SPARK"),
                "ITTAI_REQUIRE_SPARK is set but ITTAI_SPARK_REMOTE is not: start a Spark Connect server (see .ci/run)"
            );
            eprintln!(
                "{test}: ITTAI_SPARK_REMOTE is not set; skipped (ITTAI_REQUIRE_SPARK=1 makes this a failure)"
            );
            None
        }
    }
}

/// `ittai run` on sample_data for FY2024 with `extra` arguments into `out`.
fn run(out: &Path, extra: &[&str]) {
    run_lists(&root().join("sample_data"), out, extra);
}

/// Native and Spark runs with the same arguments write the same list and attrition files,
/// byte for byte (persons, order, evidence columns, attrition counts).
fn native_and_spark_agree(test: &str, extra: &[&str]) {
    let Some(remote) = spark_remote(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let native = dir.path().join("native");
    let spark = dir.path().join("spark");
    run(&native, extra);
    let mut args = vec!["--engine", "spark", "--spark-remote", remote.as_str()];
    args.extend_from_slice(extra);
    run(&spark, &args);
    let files = list_files(&native);
    assert_eq!(files, list_files(&spark), "the same files");
    for f in &files {
        let a = std::fs::read(native.join(f)).unwrap();
        let b = std::fs::read(spark.join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the native engine and Spark ({extra:?})"
        );
    }
    // The attrition is not trivially empty: every rule is there.
    let attrition = std::fs::read_to_string(native.join("attrition.csv")).unwrap();
    let ids: Vec<&str> = if extra.contains(&"--rules") {
        vec!["X01", "X02", "X03", "X04", "X05", "X06"]
    } else {
        vec![
            "R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10",
        ]
    };
    assert_eq!(files.len(), 2 + ids.len(), "one list per rule: {files:?}");
    for id in ids {
        assert!(attrition.contains(id), "attrition has {id}");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spark.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["engine"], "spark");
    assert!(
        m["spark_version"]
            .as_str()
            .is_some_and(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit())),
        "manifest records the Spark version: {}",
        m["spark_version"]
    );
    let sql = std::fs::read_to_string(spark.join("spark.sql")).unwrap();
    assert!(sql.contains("CACHE TABLE ittai_flags"));
}

#[test]
fn spark_lists_the_same_persons_with_the_same_attrition() {
    native_and_spark_agree("spark_lists_the_same_persons_with_the_same_attrition", &[]);
}

#[test]
fn spark_agrees_with_a_changed_threshold() {
    native_and_spark_agree(
        "spark_agrees_with_a_changed_threshold",
        &["--set", "R03.threshold=20"],
    );
}

#[test]
fn spark_agrees_on_every_kind_of_condition() {
    // tests/sql_rules: age, dental checkups, certifications with excluded levels, classes
    // with options and claim kinds, past diagnoses, monthly counts by product and by code,
    // every operator; on a reference date in the middle of the FY.
    let dir = root().join("tests/sql_rules");
    native_and_spark_agree(
        "spark_agrees_on_every_kind_of_condition",
        &[
            "--rules",
            dir.to_str().unwrap(),
            "--reference-date",
            "2024-10-15",
        ],
    );
}

/// The attrition of a native run's manifest: rule id → [(persons, insufficient)] after
/// step 0.
fn manifest_attrition(out: &Path) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let mut map = serde_json::Map::new();
    for r in m["rules"].as_array().unwrap() {
        let steps: Vec<serde_json::Value> = r["attrition"].as_array().unwrap()[1..]
            .iter()
            .map(|s| serde_json::json!([s["persons"], s["insufficient_coverage"]]))
            .collect();
        map.insert(r["id"].as_str().unwrap().to_string(), steps.into());
    }
    map.into()
}

#[test]
fn duckdb_runs_the_generated_sql_with_the_same_persons_and_attrition() {
    let has_duckdb = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_duckdb {
        assert!(
            !required("ITTAI_REQUIRE_DUCKDB"),
            "ITTAI_REQUIRE_DUCKDB is set but python3 cannot import duckdb (python3 -m pip install duckdb)"
        );
        eprintln!(
            "duckdb_runs_the_generated_sql…: python3 duckdb is missing; skipped (ITTAI_REQUIRE_DUCKDB=1 makes this a failure)"
        );
        return;
    }
    let rules_dir = root().join("tests/sql_rules");
    let rules_dir = rules_dir.to_str().unwrap();
    let every_kind = ["--rules", rules_dir, "--reference-date", "2024-10-15"];
    for extra in [&[][..], &["--set", "R03.threshold=20"][..], &every_kind[..]] {
        let dir = tempfile::tempdir().unwrap();
        let native = dir.path().join("native");
        run(&native, extra);
        let listed = dir.path().join("duck.csv");
        let mut cmd = Command::new("python3");
        cmd.arg(root().join("benches/duckdb_baseline.py"))
            .arg(root().join("sample_data"))
            .args(["--fy", "2024", "--out"])
            .arg(&listed)
            .arg("--ittai")
            .arg(env!("CARGO_BIN_EXE_ittai"));
        // The same options, as the baseline spells them.
        cmd.args(extra);
        let o = cmd.output().unwrap();
        assert!(
            o.status.success(),
            "duckdb_baseline.py failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let report: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
        assert_eq!(
            report["attrition"],
            manifest_attrition(&native),
            "attrition, DuckDB vs native ({extra:?})"
        );
        // The same (rule, person) pairs as the native combined list.
        let mut duck: Vec<(String, String)> = csv::Reader::from_path(&listed)
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_string(), r[1].to_string())
            })
            .collect();
        duck.sort();
        let mut nat = Vec::new();
        for f in list_files(&native)
            .iter()
            .filter(|f| f.starts_with("targets/"))
        {
            let mut rdr = csv::Reader::from_path(native.join(f)).unwrap();
            for r in rdr.records() {
                // ルールID, ルール名, 被保険者ID（仮名）, …
                let r = r.unwrap();
                nat.push((r[0].to_string(), r[2].to_string()));
            }
        }
        nat.sort();
        assert!(!nat.is_empty());
        assert_eq!(duck, nat, "listed persons, DuckDB vs native ({extra:?})");
    }
}

/// `ittai sql` output of `args`.
fn sql(args: &[&str]) -> String {
    let o = ittai()
        .args(["sql", "--dialect", "spark", "--fy", "2024", "--data"])
        .arg(root().join("sample_data"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ittai sql {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn sql_follows_the_rule_file_with_no_code_change() {
    // R04 as shipped: hypnotics are YJ 112…, ramelteon, suvorexant, lemborexant; etizolam
    // (1179025) is off.
    let default = sql(&["--only", "R04"]);
    assert!(default.contains("yj LIKE '112%'"), "{default}");
    assert!(!default.contains("1179025"));
    assert!(default.contains("-- R04 服薬（睡眠薬）"));
    assert!(default.contains("flag_R04"));
    assert!(!default.contains("flag_R03"));
    // The same rule file with etizolam switched on: the SQL gains the prefix.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("queries/rules/R04.toml")).unwrap();
    let edited = text.replacen(
        "[params.include_etizolam]\nvalue = false",
        "[params.include_etizolam]\nvalue = true",
        1,
    );
    assert_ne!(text, edited, "R04.toml has the include_etizolam parameter");
    std::fs::write(dir.path().join("R04.toml"), edited).unwrap();
    let changed = sql(&["--rules", dir.path().to_str().unwrap()]);
    assert!(changed.contains("yj LIKE '1179025%'"), "{changed}");
    // A parameter set on the command line: R03's threshold.
    assert!(sql(&["--only", "R03"]).contains(">= CAST(15.0 AS DOUBLE)"));
    assert!(
        sql(&["--only", "R03", "--set", "R03.threshold=20"]).contains(">= CAST(20.0 AS DOUBLE)")
    );
}
