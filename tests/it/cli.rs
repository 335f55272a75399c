//! The `ittai` command as a user meets it: `run` on the sample data and its outputs,
//! `rules list` / `rules show`.

use crate::support::{ittai, root};

#[test]
fn run_on_sample_data_writes_lists_attrition_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = ittai()
        .arg("run")
        .arg("--out")
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for id in ["R01", "R05", "R10"] {
        assert!(stdout.contains(id), "summary lists {id}:\n{stdout}");
    }
    for f in [
        "targets_all.csv",
        "targets_all.parquet",
        "targets.xlsx",
        "attrition.csv",
        "attrition.parquet",
        "manifest.json",
        "targets/R03_polypharmacy.csv",
        "targets/R03_polypharmacy.parquet",
        "indicators/indicators.csv",
        "indicators/indicators.xlsx",
        "indicators/indicators.parquet",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    // UTF-8 with BOM and Japanese headers: opens in Japanese Excel without mojibake.
    let b = std::fs::read(out.join("targets_all.csv")).unwrap();
    assert_eq!(&b[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(b[3..].to_vec()).unwrap();
    assert!(text.starts_with("ルールID,ルール名,被保険者ID（仮名）,市町村コード,市町村名,性別,生年月日,年齢,年齢階級,要介護度,該当ルール数"), "{}", &text[..200]);
    // 市町村名 from the vendored code list (the sample is a 鳥取県 union).
    assert!(text.contains(",鳥取市,"), "no 市町村名 in targets_all.csv");
    // Target lists are owner-readable only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [
            "targets_all.csv",
            "targets.xlsx",
            "targets/R01_undernutrition.csv",
        ] {
            assert_eq!(
                std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777,
                0o600,
                "{f}"
            );
        }
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["fy"], 2024);
    assert_eq!(m["reference_date"], "2025-03-31");
    assert_eq!(m["rules"].as_array().unwrap().len(), 10);
    // The nine required tables and the optional support records of the sample.
    assert_eq!(m["inputs"].as_array().unwrap().len(), 10);
    assert!(m["inputs"][0]["sha256"].as_str().unwrap().len() == 64);
    assert!(m["timings_seconds"]["features"].as_f64().is_some());
    // Listed counts in the manifest match the rows of each list.
    for r in m["rules"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let key = ittai_engine::rules::BUILT_IN
            .iter()
            .find(|(n, _)| n.starts_with(id))
            .unwrap()
            .1;
        let key = key
            .lines()
            .find(|l| l.starts_with("key = "))
            .unwrap()
            .trim_start_matches("key = ")
            .trim_matches('"');
        let csv = std::fs::read_to_string(out.join(format!("targets/{id}_{key}.csv"))).unwrap();
        assert_eq!(
            csv.lines().count() as u64 - 1,
            r["listed"].as_u64().unwrap(),
            "{id}"
        );
        let att = r["attrition"].as_array().unwrap();
        assert_eq!(att.last().unwrap()["persons"], r["listed"]);
        assert_eq!(att[0]["persons"], m["population"]);
    }
}

#[test]
fn shift_jis_output_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = ittai()
        .args([
            "run",
            "--format",
            "csv",
            "--encoding",
            "sjis",
            "--only",
            "R05",
            "--no-indicators",
            "--out",
        ])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let b = std::fs::read(out.join("targets/R05_physical_frailty.csv")).unwrap();
    assert_ne!(&b[..3], b"\xEF\xBB\xBF");
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&b);
    assert!(!had_errors);
    assert!(text.starts_with("ルールID,ルール名,被保険者ID（仮名）"));
    assert!(text.contains("身体的フレイル（ロコモ含む）"));
    // Re-encoding the decoded text gives the same bytes.
    let (again, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    assert_eq!(again.as_ref(), b.as_slice());
}

#[test]
fn rules_show_prints_the_rule_as_applied() {
    let o = ittai().args(["rules", "show", "R04"]).output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(s.contains("R04 服薬（睡眠薬）"), "{s}");
    assert!(s.contains("当該年度に睡眠薬の処方がある"), "{s}");
    assert!(s.contains("include_etizolam = false"), "{s}");
    assert!(s.contains("出典: 「一体的実施・KDB活用支援ツール」"), "{s}");
    let o = ittai()
        .args(["rules", "show", "R03", "--set", "R03.threshold=20"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("20剤以上"), "{s}");
    let o = ittai().args(["rules", "list"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 10);
}

/// Formats a nurse or analyst reads, pinned as snapshots (tests/it/snapshots/): the text
/// of a rule as applied and the list of rules. A change shows as a diff to review
/// (`cargo insta review`, or INSTA_UPDATE=always and read the diff) — these are formats;
/// the counts and persons they describe are checked by the rule cases (tests/rules/).
#[test]
fn rule_texts_are_stable() {
    for args in [
        &["rules", "show", "R04"][..],
        &["rules", "show", "R03", "--set", "R03.threshold=20"],
        &["rules", "list"],
    ] {
        let o = ittai().args(args).output().unwrap();
        assert!(o.status.success(), "ittai {args:?} failed");
        let name = args.join("_").replace(['.', '='], "_");
        insta::assert_snapshot!(name, String::from_utf8_lossy(&o.stdout));
    }
}

/// A rule's key is part of output file names (`targets/R05_physical_frailty.csv`): a key
/// that is a path is refused with the file, line and key named, and nothing is written
/// outside `--out` (before the check, `../../../escaped` wrote `escaped.csv` next to it).
#[test]
fn a_rule_key_that_is_a_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let r05 = ittai_engine::rules::BUILT_IN
        .iter()
        .find(|(n, _)| *n == "R05.toml")
        .unwrap()
        .1;
    let evil = r05.replace("key = \"physical_frailty\"", "key = \"../../../escaped\"");
    assert_ne!(evil, r05);
    std::fs::write(rules.join("R05.toml"), &evil).unwrap();
    let out = dir.path().join("out");
    let o = ittai()
        .args(["run", "--format", "csv", "--no-indicators", "--rules"])
        .arg(&rules)
        .arg("--out")
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("R05.toml:6: key:") && err.contains("\"../../../escaped\""),
        "{err}"
    );
    assert!(
        !dir.path().join("escaped.csv").exists(),
        "written outside --out"
    );
    assert!(!out.join("targets").exists(), "no list written");
}

/// `ittai run ARGS --no-indicators --out OUT` on the sample data; panics when it fails.
fn run_quick(out: &std::path::Path, args: &[&str]) {
    let o = ittai()
        .arg("run")
        .args(args)
        .args(["--no-indicators", "--out"])
        .arg(out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ittai run {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `ittai check-output OUT`: its exit code and what it printed (stdout and stderr).
fn check_output(out: &std::path::Path) -> (Option<i32>, String) {
    let o = ittai().arg("check-output").arg(out).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

/// A second run into the same folder with other `--only`/`--format` choices removes the
/// files of the first that it does not write again, so nothing stale is left as if
/// current; the manifest lists each output with its size and SHA-256, and
/// `ittai check-output` finds the folder whole and current.
#[test]
fn a_narrower_rerun_removes_the_earlier_runs_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_quick(&out, &[]);
    for f in [
        "targets/R01_undernutrition.csv",
        "targets/R01_undernutrition.parquet",
        "targets.xlsx",
        "targets_all.parquet",
    ] {
        assert!(out.join(f).is_file(), "{f} written by the first run");
    }
    let (code, text) = check_output(&out);
    assert_eq!(code, Some(0), "{text}");

    run_quick(&out, &["--only", "R03", "--format", "csv"]);
    for f in [
        "targets/R01_undernutrition.csv",
        "targets/R01_undernutrition.parquet",
        "targets/R03_polypharmacy.parquet",
        "targets.xlsx",
        "targets_all.parquet",
        "attrition.parquet",
    ] {
        assert!(!out.join(f).exists(), "{f} left by the first run");
    }
    for f in [
        "targets/R03_polypharmacy.csv",
        "targets_all.csv",
        "attrition.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} written by the second run");
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let outputs = m["outputs"].as_array().unwrap();
    let paths: Vec<&str> = outputs
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"targets/R03_polypharmacy.csv"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("R01")), "{paths:?}");
    for o in outputs {
        let p = out.join(o["path"].as_str().unwrap());
        assert_eq!(o["sha256"], ittai_dataset::sha256_file(&p).unwrap());
        assert_eq!(
            o["bytes"].as_u64().unwrap(),
            std::fs::metadata(&p).unwrap().len()
        );
    }
    let (code, text) = check_output(&out);
    assert_eq!(code, Some(0), "{text}");
}

/// `ittai check-output` exits 1 and names each problem: a listed file changed (same size,
/// other content), a listed file missing, and a file in targets/ the run did not write.
#[test]
fn check_output_names_changed_missing_and_stray_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_quick(&out, &["--only", "R03", "--format", "csv"]);
    let list = out.join("targets/R03_polypharmacy.csv");
    let mut b = std::fs::read(&list).unwrap();
    let last = b.len() - 2;
    b[last] = if b[last] == b'0' { b'1' } else { b'0' };
    std::fs::write(&list, &b).unwrap();
    std::fs::remove_file(out.join("attrition.csv")).unwrap();
    std::fs::write(out.join("targets/old.csv"), "x\n").unwrap();
    let (code, text) = check_output(&out);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("changed: targets/R03_polypharmacy.csv"),
        "{text}"
    );
    assert!(text.contains("missing: attrition.csv"), "{text}");
    assert!(
        text.contains("not from this run: targets/old.csv"),
        "{text}"
    );
}

/// A temporary file of an atomic write left by a run that was killed (`.ittai-XXXXXX.tmp`,
/// see `ittai_dataset::atomic`) is removed by the next run; other files are kept.
#[test]
fn a_run_sweeps_temporary_files_left_by_a_killed_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("targets")).unwrap();
    let tmp = out.join("targets/.ittai-xyz123.tmp");
    std::fs::write(&tmp, "half a list").unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    run_quick(&out, &["--only", "R03", "--format", "csv"]);
    assert!(!tmp.exists(), "temporary file swept");
    assert!(out.join("notes.txt").is_file(), "other files kept");
    let (code, text) = check_output(&out);
    assert_eq!(code, Some(0), "{text}");
}

/// Every file `ittai run` writes is either personal — exact counts or persons, created
/// readable by the owner only (0600) — or published — suppressed aggregates, readable by
/// everyone (0644); docs/reference/privacy.md lists which is which. A new output file
/// must be added to one of the two lists here.
#[cfg(unix)]
#[test]
fn every_run_output_is_personal_or_published() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = ittai()
        .args(["run", "--out"])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let published = [
        "indicators/indicators.csv",
        "indicators/indicators.xlsx",
        "indicators/disease_costs.csv",
        "evaluation/evaluation.csv",
        "evaluation/evaluation.xlsx",
    ];
    let mut seen = 0;
    let mut stack = vec![out.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            let want = if published.contains(&rel.as_str()) {
                0o644
            } else {
                0o600
            };
            assert_eq!(mode, want, "{rel}: mode {mode:o}, expected {want:o}");
            seen += 1;
        }
    }
    assert!(seen >= 30, "only {seen} files checked");
}
