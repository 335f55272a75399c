//! The synthetic population: determinism, validity and calibration.

use ittai_synth::SynthConfig;

use crate::support::ittai;

fn hashes(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                ittai_dataset::sha256_file(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let dir = tempfile::tempdir().unwrap();
    let generate = |seed: u64, name: &str| {
        let out = dir.path().join(name);
        let cfg = SynthConfig {
            seed,
            persons: 400,
            ..SynthConfig::default()
        };
        ittai_synth::generate(&cfg, &out, &mut |_, _| {}).unwrap();
        hashes(&out)
    };
    let a = generate(7, "a");
    let b = generate(7, "b");
    let c = generate(8, "c");
    assert_eq!(a.len(), 10, "ten tables, support records included");
    assert_eq!(a, b, "same seed and config give byte-identical Parquet");
    assert!(
        a.iter().zip(&c).all(|(x, y)| x.1 != y.1),
        "another seed changes every table"
    );
}

#[test]
fn committed_sample_data_is_what_its_config_generates() {
    let root = crate::support::root();
    let cfg = SynthConfig::from_file(&root.join("sample_data/synth.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    ittai_synth::generate(&cfg, dir.path(), &mut |_, _| {}).unwrap();
    assert_eq!(
        hashes(dir.path()),
        hashes(&root.join("sample_data")),
        "regenerate sample_data with `ittai synth --config sample_data/synth.toml --out sample_data`"
    );
}

/// The calibration quantities of docs/reference/calibration.md on a population large
/// enough to be stable: every quantity line of `ittai profile` is marked ✓ (the failing
/// lines are printed), the closing count agrees, and the exit status is 0. 20,000 persons
/// keep this test within a minute in a debug build; the tolerances of `ittai profile` are
/// checked at 100,000 persons in the closing note of issue 2.
#[test]
fn calibration_within_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pop");
    let cfg = SynthConfig {
        seed: 11,
        persons: 20_000,
        ..SynthConfig::default()
    };
    ittai_synth::generate(&cfg, &data, &mut |_, _| {}).unwrap();
    let o = ittai()
        .arg("profile")
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("p"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The quantity lines: after the column header (`group … ok`) up to the blank line
    // before the closing "N of M quantities within tolerance.". Each ends in ✓ (within its
    // accepted range) or ✗.
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("group"));
    assert!(
        lines.next().is_some(),
        "no column header in the profile output:\n{stdout}\n{stderr}"
    );
    let quantities: Vec<&str> = lines.take_while(|l| !l.trim().is_empty()).collect();
    let failing: Vec<&str> = quantities
        .iter()
        .copied()
        .filter(|l| !l.trim_end().ends_with('✓'))
        .collect();
    assert!(
        failing.is_empty(),
        "{} of {} calibration quantities out of tolerance (or unmarked):\n{}\n\nfull output:\n{stdout}\n{stderr}",
        failing.len(),
        quantities.len(),
        failing.join("\n")
    );
    // The table is really there (docs/CALIBRATION.md lists more than 30 quantities), and
    // the closing count agrees with the lines.
    assert!(
        quantities.len() >= 20,
        "only {} quantity lines:\n{stdout}",
        quantities.len()
    );
    let n = quantities.len();
    assert!(
        stdout.contains(&format!("\n{n} of {n} quantities within tolerance.")),
        "closing line does not say {n} of {n}:\n{stdout}"
    );
    assert!(
        o.status.success(),
        "profile exit status {:?}:\n{stdout}\n{stderr}",
        o.status
    );
}
