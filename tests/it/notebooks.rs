//! The researchers' notebooks (`notebooks/*.ipynb`) executed end to end: `ittai run` on the
//! sample data, then `scripts/run_notebooks.py` (nbclient, one python3 kernel per notebook)
//! with ITTAI_OUT, ITTAI_BIN, ITTAI_DATA and ITTAI_REPO set. Every notebook must run without
//! a cell error and pass the runner's checks (committed without outputs; no `person_id` and
//! nothing like a person id in any output), and come out as HTML with a plot.
//!
//! Needs python3 with nbclient, nbformat, nbconvert, ipykernel, pandas, matplotlib and
//! pyarrow; without them the test is skipped with a message — unless
//! `ITTAI_REQUIRE_NOTEBOOKS=1` (set by .ci/run), and then it fails.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{ittai, root};

/// The Python modules the runner and the notebooks import.
const MODULES: &[&str] = &[
    "nbclient",
    "nbformat",
    "nbconvert",
    "ipykernel",
    "pandas",
    "matplotlib",
    "pyarrow",
];

/// What is missing to run the notebooks (`None` when nothing is).
fn notebook_tools_missing() -> Option<String> {
    let script = "import importlib.util, sys\n\
                  print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))";
    match Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(MODULES)
        .output()
    {
        Ok(o) if o.status.success() => {
            let missing = String::from_utf8_lossy(&o.stdout).trim().to_string();
            (!missing.is_empty()).then(|| format!("python3 modules {missing}"))
        }
        _ => Some("python3".to_string()),
    }
}

/// The committed notebooks, by file stem.
fn notebook_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("notebooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn notebooks_run_on_sample_data_and_render_plots() {
    let names = notebook_names();
    for expected in [
        "benchmarks",
        "evaluation",
        "polypharmacy_threshold",
        "rule_rates",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "notebooks/{expected}.ipynb is missing: {names:?}"
        );
    }
    if let Some(missing) = notebook_tools_missing() {
        let required =
            std::env::var("ITTAI_REQUIRE_NOTEBOOKS").is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "ITTAI_REQUIRE_NOTEBOOKS is set but the notebooks cannot run: missing {missing} (python3 -m pip install nbclient nbformat nbconvert ipykernel pandas matplotlib pyarrow)"
        );
        eprintln!(
            "notebooks_run_on_sample_data_and_render_plots: missing {missing}; notebooks not run (ITTAI_REQUIRE_NOTEBOOKS=1 makes this a failure)"
        );
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let data = root().join("sample_data");
    let o = ittai()
        .args(["run", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ittai run failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    let html = dir.path().join("html");
    let o = Command::new("python3")
        .arg(root().join("scripts/run_notebooks.py"))
        .arg("--out")
        .arg(&html)
        .env("ITTAI_OUT", &out)
        .env("ITTAI_BIN", PathBuf::from(env!("CARGO_BIN_EXE_ittai")))
        .env("ITTAI_DATA", &data)
        .env("ITTAI_REPO", root())
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "scripts/run_notebooks.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for name in &names {
        assert!(
            stdout.contains(&format!("{name}.ipynb: ok in ")),
            "no timing line for {name}.ipynb:\n{stdout}"
        );
        let page = html.join(format!("{name}.html"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(
            text.contains("<img") && text.contains("src=\"data:image/png;base64,"),
            "{name}.html has no rendered plot"
        );
        // The first cell states the version and the command from manifest.json.
        assert!(
            text.contains(&format!("ittai {}", env!("CARGO_PKG_VERSION"))),
            "{name}.html does not state the ittai version"
        );
    }
}
