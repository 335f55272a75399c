//! Rule cases as data: every directory under `tests/rules/` is one case — a few small CSV
//! tables, optional `--set` overrides and the expected target lists (and attrition) — and
//! this one test runs them all, in the spirit of DataFusion's sqllogictest files. A domain
//! expert adds a case without writing Rust; the format is described in
//! `tests/rules/README.md`.
//!
//! For each case (in sorted order) the runner completes the CSV tables to the contract
//! (every missing table is written empty with its header; missing nullable columns are
//! written empty), validates them into a clean Parquet directory as `ittai run` does
//! (`validate_dataset` with a `ParquetDirSink`), runs the engine with the embedded masters
//! and the default drug and disease classes, and compares the listed persons, the
//! attrition and the population with `[expect]`. A case with any rejected row or nulled
//! value fails (a typo in a case file must not silently change the case), and so does an
//! unknown file, table or column name. All failures are reported together.
//!
//! A case marked `pending = "reason"` documents intended behaviour that the rule files do
//! not implement yet: it is reported as skipped while it differs from its expectations, and
//! fails once it passes, so that the mark is removed.
//!
//! `ITTAI_RULE_CASE=text cargo test --test it rule_cases` runs only the cases whose
//! directory name contains `text`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ittai_dataset::ParquetDirSink;
use ittai_dataset::atomic::Visibility;
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_dataset::rejects::{Location, RejectSink, Violation};
use ittai_dataset::{TABLES, TableSpec, ValidateOptions, validate_dataset};
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunResult, RunSpec, Sources};
use ittai_model::FiscalYear;
use ittai_model::classes::{
    DiseaseClass, DrugClass, default_disease_classes, default_drug_classes,
};
use ittai_model::time::parse_csv_date as parse_date;
use serde::Deserialize;

/// Environment variable that restricts the run to cases whose name contains its value.
const FILTER_VAR: &str = "ITTAI_RULE_CASE";

/// `case.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What is tested and the hand reasoning behind the expected result.
    description: String,
    /// Extraction FY (2024 = 2024-04-01 … 2025-03-31).
    #[serde(default = "default_fy")]
    fy: i32,
    /// 基準日; the FY's last day when absent. A TOML date (`2024-09-30`) or a string.
    #[serde(default)]
    reference_date: Option<toml::Value>,
    /// Rule ids to run; each needs an entry in `[expect.listed]`.
    only: Vec<String>,
    /// Parameter overrides as on the command line: `"R03.threshold" = "20"` (also a
    /// number, true/false, a list, or a `[set.R03]` table).
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    /// Why the case is expected to fail for now (intended behaviour not yet implemented).
    #[serde(default)]
    pending: Option<String>,
    /// Expected results.
    expect: Expect,
}

fn default_fy() -> i32 {
    2024
}

/// `[expect]` of `case.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Rule id → person ids listed (any order).
    listed: BTreeMap<String, Vec<String>>,
    /// Rule id → every attrition step, population (step 0) first.
    #[serde(default)]
    attrition: BTreeMap<String, Vec<Step>>,
    /// Persons insured on the reference date.
    #[serde(default)]
    population: Option<u64>,
}

/// One expected row of an attrition table (the fields of `ittai_engine::AttritionStep`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// 0 for the population, then 1, 2, … (one per conjunct of the rule's top-level `all`).
    step: usize,
    /// Persons remaining after the step.
    persons: u64,
    /// Persons who would remain but for the coverage guard (0 when omitted).
    #[serde(default)]
    insufficient_coverage: u64,
    /// The step's condition in Japanese, compared only when given.
    #[serde(default)]
    condition_ja: Option<String>,
}

/// What a run needs besides the case.
struct Env<'a> {
    drug_master: &'a DrugMaster,
    disease_master: &'a DiseaseMaster,
    drug_classes: &'a BTreeMap<String, DrugClass>,
    disease_classes: &'a BTreeMap<String, DiseaseClass>,
    today: NaiveDate,
}

/// The tables of a case as written for validation.
struct Staged {
    /// Person ids of `persons.csv`.
    persons: BTreeSet<String>,
    /// Per table, the line in the case's CSV file of each row written (for messages).
    lines: BTreeMap<String, Vec<u64>>,
}

#[test]
fn rule_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("rules");
    let filter = std::env::var(FILTER_VAR).ok().filter(|f| !f.is_empty());
    let mut failures: Vec<String> = Vec::new();
    let mut dirs = match case_dirs(&root) {
        Ok((dirs, problems)) => {
            failures.extend(problems);
            dirs
        }
        Err(e) => panic!("{e}"),
    };
    if let Some(f) = &filter {
        dirs.retain(|d| name_of(d).contains(f.as_str()));
    }
    assert!(
        !dirs.is_empty(),
        "no rule case found in {}{}: a case is a directory with a case.toml",
        root.display(),
        filter
            .as_ref()
            .map(|f| format!(" whose name contains {f:?} ({FILTER_VAR})"))
            .unwrap_or_default()
    );

    let drug_master = DrugMaster::embedded();
    let disease_master = DiseaseMaster::embedded();
    let drug_classes = default_drug_classes();
    let disease_classes = default_disease_classes();
    let env = Env {
        drug_master: &drug_master,
        disease_master: &disease_master,
        drug_classes: &drug_classes,
        disease_classes: &disease_classes,
        today: chrono::Local::now().date_naive(),
    };

    let mut passed = 0usize;
    let mut pending: Vec<String> = Vec::new();
    for dir in &dirs {
        let name = format!("tests/rules/{}", name_of(dir));
        let case = match load_case(dir) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        match (run_case(dir, &case, &env), &case.pending) {
            (Err(e), _) => failures.push(format!("{name}: the case cannot be run: {e}")),
            (Ok(diffs), None) if diffs.is_empty() => passed += 1,
            (Ok(diffs), None) => failures.push(format!("{name}:\n    {}", diffs.join("\n    "))),
            (Ok(diffs), Some(why)) if diffs.is_empty() => failures.push(format!(
                "{name}: marked pending ({why}) but it now passes: remove `pending` from its \
                 case.toml"
            )),
            (Ok(diffs), Some(why)) => pending.push(format!(
                "{name}: skipped, pending: {why}\n    (differs as expected: {})",
                diffs.join("; ")
            )),
        }
    }

    eprintln!(
        "rule cases: {passed} passed, {} pending, {} failed (of {})",
        pending.len(),
        failures.len(),
        dirs.len()
    );
    for p in &pending {
        eprintln!("  {p}");
    }
    assert!(
        failures.is_empty(),
        "{} rule case problem(s):\n\n{}\n",
        failures.len(),
        failures.join("\n\n")
    );
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The case directories under `root`, sorted, and problems with other entries.
fn case_dirs(root: &Path) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    let rd = std::fs::read_dir(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
    let mut dirs = Vec::new();
    let mut problems = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        let path = entry.path();
        let name = name_of(&path);
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            if path.join("case.toml").is_file() {
                dirs.push(path);
            } else {
                problems.push(format!(
                    "tests/rules/{name}: no case.toml (every case directory needs one)"
                ));
            }
        } else if !name.ends_with(".md") {
            problems.push(format!(
                "tests/rules/{name}: unexpected file (cases are directories; notes are *.md)"
            ));
        }
    }
    dirs.sort();
    Ok((dirs, problems))
}

/// Reads and checks `case.toml`.
fn load_case(dir: &Path) -> Result<Case, String> {
    let text =
        std::fs::read_to_string(dir.join("case.toml")).map_err(|e| format!("case.toml: {e}"))?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("case.toml: {e}"))?;
    if case.description.trim().is_empty() {
        return Err(
            "case.toml: `description` is empty: say what is tested and why the expected result \
             is right"
                .into(),
        );
    }
    if case.only.is_empty() {
        return Err("case.toml: `only` is empty: name the rules to run, e.g. [\"R01\"]".into());
    }
    if let Some(p) = &case.pending
        && p.trim().is_empty()
    {
        return Err("case.toml: `pending` needs a reason".into());
    }
    for id in &case.only {
        if !case.expect.listed.contains_key(id) {
            return Err(format!(
                "case.toml: rule {id} is run (`only`) but [expect.listed] has no {id} \
                 (write {id} = [] if nobody is listed)"
            ));
        }
    }
    for id in case
        .expect
        .listed
        .keys()
        .chain(case.expect.attrition.keys())
    {
        if !case.only.contains(id) {
            return Err(format!(
                "case.toml: [expect] names rule {id}, which is not in `only`"
            ));
        }
    }
    for (id, persons) in &case.expect.listed {
        let mut seen = BTreeSet::new();
        for p in persons {
            if !seen.insert(p) {
                return Err(format!("case.toml: [expect.listed] {id} names {p:?} twice"));
            }
        }
    }
    Ok(case)
}

/// Runs one case; `Ok` holds the differences from `[expect]` (empty when it passes), `Err`
/// a problem that stops the case from running (bad case file, table or rule override, a
/// rejected row, an engine error).
fn run_case(dir: &Path, case: &Case, env: &Env<'_>) -> Result<Vec<String>, String> {
    let fy = FiscalYear(case.fy);
    let reference = match &case.reference_date {
        None => fy.end(),
        Some(v) => {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parse_date(text.trim()).ok_or_else(|| {
                format!("case.toml: reference_date {text} is not a date (write 2024-09-30)")
            })?
        }
    };
    if !fy.contains(reference) {
        return Err(format!(
            "case.toml: reference_date {reference} is not in FY{} ({} … {})",
            fy.0,
            fy.start(),
            fy.end()
        ));
    }
    let opts = LoadOptions {
        dir: None,
        only: case.only.clone(),
        set: overrides(&case.set)?,
    };
    let rules = load_rules(&opts, env.drug_classes, env.disease_classes)
        .map_err(|e| format!("rules: {e}"))?;

    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let csv_dir = tmp.path().join("csv");
    let parquet_dir = tmp.path().join("parquet");
    for d in [&csv_dir, &parquet_dir] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let staged = write_tables(dir, &csv_dir)?;
    for (id, persons) in &case.expect.listed {
        for p in persons {
            if !staged.persons.contains(p) {
                return Err(format!(
                    "case.toml: [expect.listed] {id} names {p:?}, who is not in persons.csv"
                ));
            }
        }
    }

    // Validate and stage as `ittai run` does; the data end is today (or the FY end when
    // that is later), so that every date of a past FY is plausible.
    let as_of = env.today.max(fy.end());
    let mut rejects = RejectSink::counting(20);
    let mut sink = ParquetDirSink::new(&parquet_dir, Visibility::Private);
    let mut quiet = |_: &str, _: u64| {};
    let report = validate_dataset(
        &csv_dir,
        &ValidateOptions {
            as_of,
            claim_rows: None,
        },
        &mut rejects,
        &mut sink,
        &mut quiet,
    )
    .map_err(|e| format!("validation: {e}"))?;
    if rejects.total() > 0 || !report.is_clean() {
        let mut msg = format!(
            "{} problem(s) in the tables; a case must be clean so that a typo cannot change it \
             silently:",
            rejects.total().max(report.violations())
        );
        for v in rejects.first() {
            let _ = write!(msg, "\n      {}", describe_violation(v, &staged));
        }
        return Err(msg);
    }

    let src = Sources::open(&parquet_dir, env.drug_master, env.disease_master)
        .map_err(|e| format!("engine: {e}"))?;
    let spec = RunSpec {
        frame: Frame { fy, reference },
        rules: &rules,
        drug_classes: env.drug_classes,
        disease_classes: env.disease_classes,
    };
    let result = ittai_engine::run(&src, &spec).map_err(|e| format!("engine: {e}"))?;
    compare(&case.expect, &result)
}

/// `set` of `case.toml` as `LoadOptions::set` (rule id → parameter → text, as `--set`).
fn overrides(
    set: &BTreeMap<String, toml::Value>,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, String> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (key, value) in set {
        match value {
            // `[set.R03]` / `R03.threshold = 20` (an unquoted dotted key) give a table.
            toml::Value::Table(params) => {
                for (param, v) in params {
                    out.entry(key.trim().to_string())
                        .or_default()
                        .insert(param.trim().to_string(), set_text(v)?);
                }
            }
            v => {
                let Some((rule, param)) = key.split_once('.') else {
                    return Err(format!(
                        "case.toml: set {key:?}: expected \"RULE.PARAM\", e.g. \
                         \"R03.threshold\" = \"20\""
                    ));
                };
                out.entry(rule.trim().to_string())
                    .or_default()
                    .insert(param.trim().to_string(), set_text(v)?);
            }
        }
    }
    Ok(out)
}

/// A `set` value as the text `--set` would give.
fn set_text(v: &toml::Value) -> Result<String, String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(a) => a
            .iter()
            .map(set_text)
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        other => {
            return Err(format!(
                "case.toml: set value {other}: expected text, a number, true/false or a list"
            ));
        }
    })
}

/// Writes the tables into `out` as complete CSV files (contract columns in contract
/// order) from the case's CSV files; a required table the case does not give is written
/// with its header only, an optional one (`interventions`) is left absent.
fn write_tables(case_dir: &Path, out: &Path) -> Result<Staged, String> {
    let table_names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let rd = std::fs::read_dir(case_dir).map_err(|e| format!("{}: {e}", case_dir.display()))?;
    for entry in rd {
        let entry = entry.map_err(|e| format!("{}: {e}", case_dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let known_table = name
            .strip_suffix(".csv")
            .is_some_and(|stem| table_names.contains(&stem));
        if name == "case.toml" || name.ends_with(".md") || name.starts_with('.') || known_table {
            continue;
        }
        return Err(format!(
            "unexpected file {name}: a table file is named after its table ({}), with .csv",
            table_names.join(", ")
        ));
    }
    let mut staged = Staged {
        persons: BTreeSet::new(),
        lines: BTreeMap::new(),
    };
    for spec in TABLES {
        let src = case_dir.join(format!("{}.csv", spec.name));
        let dst = out.join(format!("{}.csv", spec.name));
        if !spec.required && !src.is_file() {
            continue;
        }
        let (lines, persons) = if src.is_file() {
            complete_table(spec, &src, &dst)?
        } else {
            let mut w =
                csv::Writer::from_path(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            w.write_record(spec.columns.iter().map(|c| c.name))
                .map_err(|e| format!("{}: {e}", dst.display()))?;
            w.flush().map_err(|e| format!("{}: {e}", dst.display()))?;
            (Vec::new(), Vec::new())
        };
        if spec.name == "persons" {
            staged.persons.extend(persons);
        }
        staged.lines.insert(spec.name.to_string(), lines);
    }
    Ok(staged)
}

/// Reads a case's CSV file of table `spec` (only some columns; `#` comment lines; spaces
/// around values ignored) and writes it to `dst` with every contract column. Returns the
/// source line of each row and the person ids.
fn complete_table(
    spec: &TableSpec,
    src: &Path,
    dst: &Path,
) -> Result<(Vec<u64>, Vec<String>), String> {
    let file = format!("{}.csv", spec.name);
    let bytes = std::fs::read(src).map_err(|e| format!("{file}: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{file}: not UTF-8 text (save it as CSV UTF-8)"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let names: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("{file}: the header row: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let all: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    let required: Vec<&str> = spec
        .columns
        .iter()
        .filter(|c| !c.nullable)
        .map(|c| c.name)
        .collect();
    let mut seen = BTreeSet::new();
    for n in &names {
        if n.is_empty() {
            return Err(format!("{file}: the header has an empty column name"));
        }
        if !seen.insert(n.as_str()) {
            return Err(format!("{file}: column `{n}` appears twice in the header"));
        }
        if spec.index_of(n).is_none() {
            return Err(format!(
                "{file}: unknown column `{n}` (the columns of {} are: {})",
                spec.name,
                all.join(", ")
            ));
        }
    }
    let mut map: Vec<Option<usize>> = Vec::with_capacity(spec.columns.len());
    for c in spec.columns {
        let i = names.iter().position(|n| n == c.name);
        if i.is_none() && !c.nullable {
            return Err(format!(
                "{file}: required column `{}` is missing (required: {})",
                c.name,
                required.join(", ")
            ));
        }
        map.push(i);
    }
    let pid = names.iter().position(|n| n == "person_id");
    let mut w = csv::Writer::from_path(dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    w.write_record(&all)
        .map_err(|e| format!("{}: {e}", dst.display()))?;
    let mut lines = Vec::new();
    let mut persons = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| format!("{file}: {e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let fields: Vec<&str> = map
            .iter()
            .map(|i| match i {
                Some(i) => &rec[*i],
                None => "",
            })
            .collect();
        w.write_record(&fields)
            .map_err(|e| format!("{}: {e}", dst.display()))?;
        lines.push(line);
        if let Some(i) = pid {
            persons.push(rec[i].to_string());
        }
    }
    w.flush().map_err(|e| format!("{}: {e}", dst.display()))?;
    Ok((lines, persons))
}

/// A violation found in the written tables, located in the case's own CSV file.
fn describe_violation(v: &Violation, staged: &Staged) -> String {
    let file = format!("{}.csv", v.table);
    let mut s = match v.location {
        // Line 1 of the written file is the header; data rows follow one per line.
        Location::Line(n) => match staged
            .lines
            .get(&v.table)
            .and_then(|l| (n as usize).checked_sub(2).and_then(|k| l.get(k)))
        {
            Some(line) => format!("{file} line {line}"),
            None => format!("{file} (line {n} as written)"),
        },
        Location::Row(n) => format!("{file} row {n}"),
        Location::File => file,
    };
    if let Some(c) = &v.column {
        let _ = write!(s, ", column {c}");
    }
    let _ = write!(s, ": {} ({})", v.kind, v.detail);
    if !v.value.is_empty() {
        let _ = write!(s, "; found {:?}", v.value);
    }
    s
}

/// The differences between `[expect]` and a run.
fn compare(expect: &Expect, r: &RunResult) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    if let Some(p) = expect.population
        && p != r.population
    {
        out.push(format!(
            "population (insured on the reference date): expected {p}, got {}",
            r.population
        ));
    }
    for (id, want) in &expect.listed {
        let got_v = r.listed(id).map_err(|e| format!("engine: {e}"))?;
        let got: BTreeSet<&str> = got_v.iter().map(String::as_str).collect();
        let want: BTreeSet<&str> = want.iter().map(String::as_str).collect();
        if got != want {
            let missing: Vec<&str> = want.difference(&got).copied().collect();
            let extra: Vec<&str> = got.difference(&want).copied().collect();
            out.push(format!(
                "{id} listed: expected {}, got {} (expected but not listed: {}; listed but not \
                 expected: {})",
                show(&want),
                show(&got),
                names(&missing),
                names(&extra)
            ));
        }
    }
    for (id, want) in &expect.attrition {
        let Some(rule) = r.rule(id) else {
            out.push(format!("{id} attrition: the rule did not run"));
            continue;
        };
        let got = &rule.attrition;
        let same = want.len() == got.len()
            && want.iter().zip(got).all(|(w, g)| {
                w.step == g.step
                    && w.persons == g.persons
                    && w.insufficient_coverage == g.insufficient_coverage
                    && w.condition_ja.as_ref().is_none_or(|c| *c == g.condition_ja)
            });
        if !same {
            let mut msg = format!("{id} attrition differs.\n      expected:");
            for w in want {
                let _ = write!(
                    msg,
                    "\n        {{ step = {}, persons = {}, insufficient_coverage = {} }}{}",
                    w.step,
                    w.persons,
                    w.insufficient_coverage,
                    w.condition_ja
                        .as_ref()
                        .map(|c| format!("  # condition_ja = {c:?}"))
                        .unwrap_or_default()
                );
            }
            msg.push_str("\n      got:");
            for g in got {
                let _ = write!(
                    msg,
                    "\n        {{ step = {}, persons = {}, insufficient_coverage = {} }},  # {}",
                    g.step, g.persons, g.insufficient_coverage, g.condition_ja
                );
            }
            out.push(msg);
        }
    }
    Ok(out)
}

fn show(set: &BTreeSet<&str>) -> String {
    let v: Vec<String> = set.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", v.join(", "))
}

fn names(v: &[&str]) -> String {
    if v.is_empty() {
        "—".to_string()
    } else {
        v.join(", ")
    }
}
