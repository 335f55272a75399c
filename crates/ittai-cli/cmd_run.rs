//! `ittai run`: the main job — the ten extraction rules, target lists and attrition.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_dataset::{Cells, Table};
use ittai_engine::Frame;
use ittai_engine::rules::LoadOptions;
use ittai_engine::{combined, evidence_headers, target_list};
use ittai_engine::{default_headers, to_table, write_parquet};
use ittai_model::FiscalYear;
use ittai_report::{Headers, write_csv, write_xlsx};

use crate::cmd_check_output::{self, OutputFile};
use crate::named::{self, NAMED_DIR, SHEET_PREFIX};
use crate::{cmd_evaluate, cmd_indicators, prepare, sample, ui};

/// Run the ten extraction rules and write target lists, attrition and a manifest.
///
/// With no options it runs every rule on the embedded sample data for its latest fiscal
/// year and writes `out/`. Target lists are personal data: they are written readable by
/// you only.
///
/// manifest.json, written last, lists every file of the run with its size and SHA-256
/// (`ittai check-output` compares them); files an earlier run wrote into the same folder
/// and this run did not write again (other --only or --format choices) are removed, and
/// so are temporary files left by a run that was stopped.
///
/// With --register, the lists are also written with names (氏名, カナ, 住所, 電話 from the
/// municipality's own register, matched by the key used at ingest) to OUT/named/, on this
/// machine only (docs/GUIDE.md, 名前を表示する).
///
/// Examples:
///   ittai run
///   ittai run --data /path/to/dataset --fy 2024
///   ittai run --only R03 --set R03.threshold=20
///   ittai run --format csv,xlsx,parquet --encoding sjis
///   ittai run --data DIR --register 台帳.csv --id-key-file KEY --municipality 312011
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory (nine tables as Parquet or CSV). Default: ./sample_data, or the
    /// sample data built into ittai when that folder does not exist.
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Extraction fiscal year (年度), e.g. 2024 for 2024-04-01 … 2025-03-31. Default: the
    /// latest year with medical claims.
    #[arg(long, value_name = "YEAR")]
    pub(crate) fy: Option<i32>,
    /// Reference date (基準日). Default: the last day of the fiscal year (3/31).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) reference_date: Option<NaiveDate>,
    /// Directory of rule files (*.toml) to use instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub(crate) rules: Option<PathBuf>,
    /// Only these rules, e.g. --only R03,R05.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub(crate) only: Vec<String>,
    /// Change a rule parameter, e.g. --set R03.threshold=20 (repeatable).
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    pub(crate) set: Vec<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub(crate) out: PathBuf,
    /// Output formats: csv, xlsx, parquet (comma-separated).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "csv,xlsx,parquet"
    )]
    pub(crate) format: Vec<String>,
    /// Text encoding of CSV files: utf8 (with BOM, opens in Japanese Excel) or sjis.
    #[arg(long, value_name = "ENC", default_value = "utf8")]
    pub(crate) encoding: String,
    /// Validate the input even if the same files were validated before, and link the claim
    /// lines to their claims again (by default an earlier clean validation of identical
    /// bytes, and its links, are reused from the cache).
    #[arg(long)]
    revalidate: bool,
    /// Skip the evaluation indicators (共通評価指標). By default they are computed for every
    /// fiscal year in the data and written to OUT/indicators/ (this applies the rules to every
    /// FY, the claim files read once for all of them; `ittai report` then draws the
    /// committee report from them).
    #[arg(long)]
    pub(crate) no_indicators: bool,
    /// Skip the programme evaluation (個別事業の評価). By default, when the dataset has
    /// support records (interventions), it is computed for every FY with records and
    /// written to OUT/evaluation/ (as `ittai evaluate`).
    #[arg(long)]
    pub(crate) no_evaluation: bool,
    /// The municipality's own register (台帳 CSV, UTF-8 or Shift_JIS, Japanese or English
    /// headers: 保険者番号, 記号, 被保険者番号, 氏名, カナ, 住所, 電話, 市町村コード) to show names:
    /// the lists of the persons it has are written again with 氏名, カナ, 住所 and 電話 to
    /// OUT/named/ (CSV and xlsx, readable by you only). The register is read, never
    /// copied; the manifest records its SHA-256 and counts, never a name. Needs
    /// --id-key-file.
    #[arg(long, value_name = "CSV", requires = "id_key_file")]
    pub(crate) register: Option<PathBuf>,
    /// The key file used by `ittai ingest` for this dataset (--register only): the ids of
    /// the register's rows are computed again with it.
    #[arg(long, value_name = "FILE", requires = "register")]
    id_key_file: Option<PathBuf>,
    /// Name only the persons of this municipality (市町村コード, 6 digits or the first 5):
    /// register rows of any other municipality are skipped unread (--register only; the
    /// register needs a 市町村コード column).
    #[arg(long, value_name = "CODE", requires = "register")]
    municipality: Option<String>,
    /// 保険者番号 of the register rows that have none, for a register without that column
    /// (--register only).
    #[arg(long, value_name = "NUMBER", requires = "register")]
    insurer: Option<String>,
    /// Where the rules run: native (this computer, the default) or spark (an Apache Spark
    /// cluster through Spark Connect, with --spark-remote; --data is then the directory or
    /// URI the cluster reads, e.g. s3a://bucket/union, and --fy is required). The Spark
    /// run executes the SQL of `ittai sql --dialect spark` and writes the same lists,
    /// attrition and manifest; indicators and evaluation are computed natively only.
    #[arg(long, value_name = "NAME", default_value = "native")]
    pub(crate) engine: String,
    /// Spark Connect address for --engine spark, e.g. sc://spark-master:15002.
    #[arg(long, value_name = "URL")]
    pub(crate) spark_remote: Option<String>,
}

pub fn parse_set(items: &[String]) -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for s in items {
        let Some((lhs, value)) = s.split_once('=') else {
            bail!("--set {s}: expected RULE.PARAM=VALUE, e.g. R03.threshold=20")
        };
        let Some((rule, param)) = lhs.split_once('.') else {
            bail!("--set {s}: expected RULE.PARAM=VALUE, e.g. R03.threshold=20")
        };
        out.entry(rule.trim().to_string())
            .or_default()
            .insert(param.trim().to_string(), value.to_string());
    }
    Ok(out)
}

/// Records every output of a run (path, size, SHA-256) and removes what the previous run
/// in `out` wrote and this one did not, saying so, so that nothing stale is left as if
/// current (native and Spark runs).
///
/// # Errors
/// An output that cannot be read for its hash.
pub(crate) fn record_outputs(
    out: &Path,
    previous: &[PathBuf],
    outputs: &[PathBuf],
) -> anyhow::Result<Vec<OutputFile>> {
    let recorded = outputs
        .iter()
        .map(|p| OutputFile::record(out, p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (removed, failed) = cmd_check_output::remove_stale(out, previous, &recorded);
    if !removed.is_empty() {
        eprintln!(
            "removed {} file(s) an earlier run wrote and this run did not: {}",
            removed.len(),
            removed
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (p, e) in &failed {
        eprintln!(
            "warning: could not remove {} left by an earlier run ({e}); it is not part of this run's outputs",
            out.join(p).display()
        );
    }
    Ok(recorded)
}

/// The reference date (基準日): `given`, or the last day of `fy`.
///
/// # Errors
/// A date outside the FY.
pub fn reference_date(fy: FiscalYear, given: Option<NaiveDate>) -> anyhow::Result<NaiveDate> {
    let reference = given.unwrap_or_else(|| fy.end());
    anyhow::ensure!(
        fy.contains(reference),
        "--reference-date {reference} is not in FY{} ({} … {})",
        fy.0,
        fy.start(),
        fy.end()
    );
    Ok(reference)
}

/// The output formats chosen with `--format` (also the downloads of `ittai serve`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Formats {
    csv: bool,
    xlsx: bool,
    parquet: bool,
}

impl Formats {
    /// Parses `--format` items: csv, xlsx, parquet.
    pub fn parse(items: &[String]) -> anyhow::Result<Formats> {
        let mut f = Formats::default();
        for item in items {
            match item.trim().to_lowercase().as_str() {
                "csv" => f.csv = true,
                "xlsx" => f.xlsx = true,
                "parquet" => f.parquet = true,
                other => bail!("--format {other}: expected csv, xlsx or parquet"),
            }
        }
        Ok(f)
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.engine.as_str() {
        "native" => {}
        "spark" => return crate::cmd_run_spark::run(&a),
        other => bail!("--engine {other}: expected native or spark"),
    }
    anyhow::ensure!(
        a.spark_remote.is_none(),
        "--spark-remote is for --engine spark"
    );
    let started = Instant::now();
    let formats = Formats::parse(&a.format)?;
    let encoding = ui::csv_encoding(&a.encoding)?;
    // The register is read first, so that a wrong file or key stops the run at once; it
    // stays in memory until the named lists are written.
    let register = match (&a.register, &a.id_key_file) {
        (Some(register), Some(key)) => {
            anyhow::ensure!(
                formats.csv || formats.xlsx,
                "--register writes the named lists as CSV and xlsx: add csv or xlsx to --format"
            );
            Some(named::load_register(&named::RegisterArgs {
                register: register.clone(),
                key: key.clone(),
                municipality: a.municipality.clone(),
                insurer: a.insurer.clone(),
            })?)
        }
        (Some(_), None) => {
            bail!("--register needs --id-key-file, the key `ittai ingest` used for this dataset")
        }
        (None, _) => None,
    };
    let data = match &a.data {
        Some(d) => d.clone(),
        None => sample::default_data_dir()?,
    };
    // What an earlier run left: its list of outputs (to remove what this run does not
    // write again) and the temporary files of a run that was killed.
    let previous = cmd_check_output::previous_outputs(&a.out);
    let swept = ittai_dataset::atomic::sweep_temp_files(&a.out).with_context(|| {
        format!(
            "removing temporary files left by an earlier run in {}",
            a.out.display()
        )
    })?;
    if !swept.is_empty() {
        eprintln!(
            "note: removed {} temporary file(s) left by an earlier run that was stopped",
            swept.len()
        );
    }
    let t = Instant::now();
    let rules = LoadOptions {
        dir: a.rules.clone(),
        only: a.only.clone(),
        set: parse_set(&a.set)?,
    };
    let job = prepare::open_job(&data, &a.out, rules, a.revalidate)?;
    let mut timings: Vec<(String, f64)> = vec![("validate".into(), t.elapsed().as_secs_f64())];
    let fy = match a.fy {
        Some(y) => FiscalYear(y),
        None => job
            .latest_claim_fy()
            .context("the dataset has no medical claims; give --fy")?,
    };
    let reference = reference_date(fy, a.reference_date)?;
    eprintln!(
        "ittai run: {} — FY{} (基準日 {reference}), {} rule(s)",
        data.display(),
        fy.0,
        job.rules.len()
    );

    let t = Instant::now();
    let pb = ui::spinner("linking claim lines to their claims (once per dataset, then cached)");
    job.sources.link_claim_lines()?;
    pb.finish_and_clear();
    timings.push(("claim_rows".into(), t.elapsed().as_secs_f64()));

    let pb = ui::spinner("building person features and applying rules");
    let frame = Frame { fy, reference };
    // With the indicators, the rules are applied for every FY: the claim files are read
    // once for the rules of all of them (the run's frame first).
    let indicator_fys = if a.no_indicators {
        Vec::new()
    } else {
        ittai_engine::indicators::fiscal_years(&job.sources)?
    };
    let frames: Vec<Frame> = std::iter::once(frame)
        .chain(
            indicator_fys
                .iter()
                .map(|&fy| Frame {
                    fy,
                    reference: fy.end(),
                })
                .filter(|f| *f != frame),
        )
        .collect();
    let mut prepared = ittai_engine::Runs::prepare(&job.sources, &job.spec(frame), &frames)?;
    let mut result = prepared.run(0)?;
    let unresolved = job.sources.unresolved_drug_lines()?;
    pb.finish_and_clear();
    timings.extend(result.timings.iter().cloned());

    let t = Instant::now();
    let pb = ui::spinner("writing target lists");
    let mut outputs = Vec::new();
    if job.prepared.rejects.starts_with(&a.out) && job.prepared.rejects.is_file() {
        outputs.push(job.prepared.rejects.clone());
    }
    let (lists, named_summary) =
        write_lists(&a.out, formats, encoding, &result, register.as_ref())?;
    outputs.extend(lists);
    // The names leave memory as soon as the named lists are written.
    let register_record = register.map(|r| ManifestRegister::new(&r, named_summary));
    pb.finish_and_clear();
    timings.push(("write".into(), t.elapsed().as_secs_f64()));

    let mut indicator_set = None;
    if !a.no_indicators {
        let t = Instant::now();
        let set = cmd_indicators::compute_with_progress(
            &job,
            &indicator_fys,
            // The lists are written: hand the feature table over (the indicators drop it
            // after its FY) and keep the rule results for the manifest and summary.
            Some(ittai_engine::RunResult {
                table: std::mem::take(&mut result.table),
                results: result.results.clone(),
                frame: result.frame,
                population: result.population,
                timings: Vec::new(),
            }),
            Some(prepared),
        )?;
        outputs.extend(cmd_indicators::write(
            &set,
            &a.out.join("indicators"),
            encoding,
        )?);
        timings.push(("indicators".into(), t.elapsed().as_secs_f64()));
        timings.extend(
            set.timings
                .iter()
                .map(|(k, v)| (format!("indicators.{k}"), *v)),
        );
        indicator_set = Some(set);
    }

    let mut evaluation = None;
    if !a.no_evaluation && ittai_engine::programmes::has_interventions(&job.sources) {
        let t = Instant::now();
        let lists = indicator_set.as_ref().map(|s| &s.lists);
        if let Some(e) = cmd_evaluate::compute(&job, &[], lists)? {
            outputs.extend(cmd_evaluate::write(
                &e.rows,
                &a.out.join("evaluation"),
                encoding,
            )?);
            timings.push(("evaluation".into(), t.elapsed().as_secs_f64()));
            timings.extend(
                e.timings
                    .iter()
                    .map(|(k, v)| (format!("evaluation.{k}"), *v)),
            );
            evaluation = Some(e);
        }
    }

    // Every output with its size and hash; then what the previous run wrote and this one
    // did not goes, so that nothing stale is left as if current; the manifest comes last.
    let t = Instant::now();
    let recorded = record_outputs(&a.out, &previous, &outputs)?;
    if register_record.is_none() {
        // The named lists of an earlier run are gone with the files above; their folder
        // goes too when nothing else is in it.
        let _ = std::fs::remove_dir(a.out.join(NAMED_DIR));
    }
    timings.push(("hash".into(), t.elapsed().as_secs_f64()));
    timings.push(("total".into(), started.elapsed().as_secs_f64()));

    let manifest = Manifest::new(
        &a,
        &data,
        &job,
        fy,
        reference,
        &result,
        unresolved,
        &timings,
        &recorded,
        register_record.clone(),
    );
    let mp = a.out.join("manifest.json");
    // Personal: the manifest holds exact counts (listed persons, attrition, rows read).
    write_atomic(
        &mp,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
        Visibility::Private,
    )?;

    print_summary(&result.results, result.population);
    if let Some(set) = &indicator_set {
        cmd_indicators::print_union_summary(set);
    }
    if let Some(e) = &evaluation {
        cmd_evaluate::print_summary(&e.rows);
    }
    if indicator_set.is_some() {
        eprintln!("\ncommittee report: ittai report --out {}", a.out.display());
    }
    if unresolved > 0 {
        eprintln!(
            "note: {} drug line(s) have a code not in the drug master and no YJ code; they are not counted in drug rules.",
            ui::thousands(unresolved)
        );
    }
    if let Some(r) = &register_record {
        eprintln!(
            "\nnamed lists (個人情報): {} of {} listed person(s) found in the register → {} (readable by you only; do not share or copy them)",
            ui::thousands(r.persons_named),
            ui::thousands(r.persons_listed),
            a.out.join(NAMED_DIR).display()
        );
        if r.characters_replaced > 0 {
            eprintln!(
                "warning: {} character(s) of the named lists have no Shift_JIS code and are written as ?; use --encoding utf8",
                ui::thousands(r.characters_replaced)
            );
        }
    }
    eprintln!(
        "\nwrote {} files to {} in {:.1} s (target lists are readable by you only). Manifest: {}",
        outputs.len() + 1,
        a.out.display(),
        started.elapsed().as_secs_f64(),
        mp.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the target lists (one per rule and the combined table), the attrition table and
/// the workbook in the chosen formats; returns the files written. The lists for people (CSV
/// and xlsx) have 市町村名 beside 市町村コード; the Parquet lists, for programs, stay as the
/// engine gives them. With a register, the lists of the persons it has are written again
/// with 氏名, カナ, 住所 and 電話 after the person id to OUT/named/ (owner-only folder):
/// `named/<rule>.csv`, as `targets/`, and `named/targets.xlsx` with one sheet per rule,
/// each sheet name beginning with 個人情報. `ittai serve` writes its downloads with it, so
/// that they are the same files as `ittai run` writes.
pub fn write_lists(
    out: &Path,
    formats: Formats,
    encoding: ittai_report::CsvEncoding,
    result: &ittai_engine::RunResult,
    register: Option<&ittai_ingest::names::Register>,
) -> anyhow::Result<(Vec<PathBuf>, NamedSummary)> {
    let mut headers = default_headers();
    headers.extend(evidence_headers(&result.results));
    let places = named::municipality_names();
    let mut outputs: Vec<PathBuf> = Vec::new();
    let targets_dir = out.join("targets");
    let named_dir = out.join(NAMED_DIR);
    if register.is_some() {
        named::private_dir(&named_dir)?;
    }
    let mut summary = NamedSummary::default();
    let mut listed: HashSet<String> = HashSet::new();
    let mut named_ids: HashSet<String> = HashSet::new();
    let mut sheets: Vec<(String, Table)> = Vec::new();
    let mut named_sheets: Vec<(String, Table)> = Vec::new();
    sheets.push((
        "集計".to_string(),
        summary_table(&result.results, result.population),
    ));
    for r in &result.results {
        let mut list = target_list(&result.table, r)?;
        let stem = format!("{}_{}", r.rule.id, r.rule.key);
        // The rule parser admits only plain ids and keys; checked again where the name
        // meets the file system, so that no rule can write outside `--out`.
        anyhow::ensure!(
            is_plain_file_stem(&stem),
            "rule {}: its id and key {:?} cannot be part of a file name (letters, digits, _ and - only)",
            r.rule.id,
            r.rule.key
        );
        let mut table = to_table(&list, &headers, true)?;
        named::add_municipality_names(&mut table, &places);
        if formats.csv {
            let p = targets_dir.join(format!("{stem}.csv"));
            write_csv(&table, &p, encoding, Headers::Japanese, Visibility::Private)?;
            outputs.push(p);
        }
        if formats.parquet {
            let p = targets_dir.join(format!("{stem}.parquet"));
            write_parquet(&mut list, &p, Visibility::Private)?;
            outputs.push(p);
        }
        if let Some(register) = register {
            if let Some(ids) = table.columns.iter().find(|c| c.name == "person_id") {
                listed.extend((0..ids.cells.len()).map(|i| ids.cells.text(i)));
            }
            let named_list = named::named_table(&table, register, &mut named_ids);
            if formats.csv {
                let p = named_dir.join(format!("{stem}.csv"));
                summary.replaced_characters += write_csv(
                    &named_list,
                    &p,
                    encoding,
                    Headers::Japanese,
                    Visibility::Private,
                )?;
                outputs.push(p);
            }
            if formats.xlsx {
                named_sheets.push((
                    format!("{SHEET_PREFIX}{} {}", r.rule.id, r.rule.name_ja),
                    named_list,
                ));
            }
        }
        if formats.xlsx {
            sheets.push((format!("{} {}", r.rule.id, r.rule.name_ja), table));
        }
    }
    let mut all = combined(&result.table, &result.results)?;
    if formats.csv {
        let p = out.join("targets_all.csv");
        let mut table = to_table(&all, &headers, true)?;
        named::add_municipality_names(&mut table, &places);
        write_csv(&table, &p, encoding, Headers::Japanese, Visibility::Private)?;
        outputs.push(p);
    }
    if formats.parquet {
        let p = out.join("targets_all.parquet");
        write_parquet(&mut all, &p, Visibility::Private)?;
        outputs.push(p);
    }
    let attrition = attrition_table(&result.results);
    if formats.csv {
        let p = out.join("attrition.csv");
        // Personal: exact counts of each step, small ones included (docs/reference/privacy.md).
        write_csv(
            &attrition,
            &p,
            encoding,
            Headers::Japanese,
            Visibility::Private,
        )?;
        outputs.push(p);
    }
    if formats.parquet {
        let p = out.join("attrition.parquet");
        ittai_engine::write_table_parquet(&attrition, &p, Visibility::Private)?;
        outputs.push(p);
    }
    if formats.xlsx {
        let p = out.join("targets.xlsx");
        sheets.push(("減少表（attrition）".to_string(), attrition));
        let refs: Vec<(&str, &Table)> = sheets.iter().map(|(n, t)| (n.as_str(), t)).collect();
        write_xlsx(&refs, &p, Visibility::Private)?;
        outputs.push(p);
    }
    if register.is_some() && formats.xlsx {
        let p = named_dir.join("targets.xlsx");
        let refs: Vec<(&str, &Table)> = named_sheets.iter().map(|(n, t)| (n.as_str(), t)).collect();
        write_xlsx(&refs, &p, Visibility::Private)?;
        outputs.push(p);
    }
    summary.persons_listed = listed.len() as u64;
    summary.persons_named = named_ids.len() as u64;
    Ok((outputs, summary))
}

/// What the named lists hold: distinct persons on any list, how many of them the register
/// named, and characters written as `?` for want of a Shift_JIS code.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamedSummary {
    persons_listed: u64,
    persons_named: u64,
    replaced_characters: u64,
}

/// True for a file-name stem of ASCII letters, digits, `_` and `-` only (no separator, no
/// `.`, not empty).
fn is_plain_file_stem(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn summary_table(results: &[ittai_engine::RuleResult], population: u64) -> Table {
    let mut t = Table::default();
    t.add(
        "rule_id",
        Cells::Text(results.iter().map(|r| Some(r.rule.id.clone())).collect()),
    );
    t.add(
        "rule_name_ja",
        Cells::Text(
            results
                .iter()
                .map(|r| Some(r.rule.name_ja.clone()))
                .collect(),
        ),
    );
    t.add(
        "listed",
        Cells::Int(results.iter().map(|r| Some(r.listed as i64)).collect()),
    );
    t.add(
        "insured",
        Cells::Int(results.iter().map(|_| Some(population as i64)).collect()),
    );
    t.add(
        "rate_percent",
        Cells::Float(
            results
                .iter()
                .map(|r| Some(100.0 * r.listed as f64 / population.max(1) as f64))
                .collect(),
        ),
    );
    t.add(
        "rule_text_ja",
        Cells::Text(results.iter().map(|r| Some(r.text_ja.clone())).collect()),
    );
    t.add(
        "citation",
        Cells::Text(
            results
                .iter()
                .map(|r| Some(r.rule.citation.clone()))
                .collect(),
        ),
    );
    t
}

fn attrition_table(results: &[ittai_engine::RuleResult]) -> Table {
    let mut rows: Vec<(String, String, usize, String, u64, u64)> = Vec::new();
    for r in results {
        for s in &r.attrition {
            rows.push((
                r.rule.id.clone(),
                r.rule.name_ja.clone(),
                s.step,
                s.condition_ja.clone(),
                s.persons,
                s.insufficient_coverage,
            ));
        }
    }
    let mut t = Table::default();
    t.add(
        "rule_id",
        Cells::Text(rows.iter().map(|r| Some(r.0.clone())).collect()),
    );
    t.add(
        "rule_name_ja",
        Cells::Text(rows.iter().map(|r| Some(r.1.clone())).collect()),
    );
    t.add(
        "step",
        Cells::Int(rows.iter().map(|r| Some(r.2 as i64)).collect()),
    );
    t.add(
        "condition_ja",
        Cells::Text(rows.iter().map(|r| Some(r.3.clone())).collect()),
    );
    t.add(
        "persons",
        Cells::Int(rows.iter().map(|r| Some(r.4 as i64)).collect()),
    );
    t.add(
        "insufficient_coverage",
        Cells::Int(rows.iter().map(|r| Some(r.5 as i64)).collect()),
    );
    t
}

pub(crate) fn print_summary(results: &[ittai_engine::RuleResult], population: u64) {
    let ja = |c| ittai_model::labels::column_ja(c).unwrap_or(c);
    println!("\n{} {}", ja("insured"), ui::thousands(population));
    println!(
        "{} {} {} {}",
        ui::pad(ja("rule_id"), 8),
        ui::pad(ja("rule_name_ja"), 36),
        ui::pad_left(ja("listed"), 10),
        ui::pad_left(ja("rate_percent"), 9),
    );
    for r in results {
        let name = ui::pad(&r.rule.name_ja, 36);
        println!(
            "{:<8} {} {:>10} {:>8.2}%",
            r.rule.id,
            name,
            ui::thousands(r.listed),
            100.0 * r.listed as f64 / population.max(1) as f64
        );
    }
}

/// `manifest.json`: what was run, on which inputs, with which rules, and what came out.
/// Fields are in alphabetical order (as the file has always listed them).
#[derive(Debug, serde::Serialize)]
struct Manifest {
    command: Vec<String>,
    data: String,
    encoding: String,
    formats: Vec<String>,
    fy: i32,
    inputs: Vec<ManifestInput>,
    inputs_sha256: String,
    outputs: Vec<OutputFile>,
    population: u64,
    reference_date: String,
    /// Only with `--register`: without it the manifest is as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    register: Option<ManifestRegister>,
    rejects: ManifestRejects,
    rules: Vec<ManifestRule>,
    staged_copy: bool,
    timings_seconds: BTreeMap<String, f64>,
    tool: &'static str,
    unresolved_drug_lines: u64,
    validation: &'static str,
    version: &'static str,
}

/// One input file of the manifest.
#[derive(Debug, serde::Serialize)]
struct ManifestInput {
    bytes: u64,
    file: String,
    rows: Option<u64>,
    rows_rejected: Option<u64>,
    sha256: String,
    table: String,
    values_nulled: Option<u64>,
}

/// The register of `--register`: which file (path and SHA-256 of its bytes), the rows read,
/// kept and skipped, and how many listed persons it named; never a name or a number of it.
#[derive(Debug, Clone, serde::Serialize)]
struct ManifestRegister {
    /// Characters of the named lists written as `?` (Shift_JIS output only).
    characters_replaced: u64,
    file: String,
    /// `--municipality` as 6 digits, when given.
    municipality: Option<String>,
    /// Persons kept from the register (of the municipality, when given).
    persons: u64,
    /// Distinct persons on any list.
    persons_listed: u64,
    /// Distinct listed persons the register has: the persons of OUT/named/.
    persons_named: u64,
    rows: u64,
    rows_duplicate: u64,
    rows_other_municipality: u64,
    rows_rejected: u64,
    sha256: String,
}

impl ManifestRegister {
    fn new(r: &ittai_ingest::names::Register, named: NamedSummary) -> ManifestRegister {
        let c = r.counts();
        ManifestRegister {
            characters_replaced: named.replaced_characters,
            file: r.path().display().to_string(),
            municipality: r.municipality().map(str::to_string),
            persons: c.persons,
            persons_listed: named.persons_listed,
            persons_named: named.persons_named,
            rows: c.rows,
            rows_duplicate: c.duplicates,
            rows_other_municipality: c.other_municipality,
            rows_rejected: c.rejected,
            sha256: r.sha256().to_string(),
        }
    }
}

/// The rejects file and its number of problems.
#[derive(Debug, serde::Serialize)]
struct ManifestRejects {
    file: String,
    problems: u64,
}

/// One rule as applied (the manifests of native and Spark runs).
#[derive(Debug, serde::Serialize)]
pub(crate) struct ManifestRule {
    attrition: Vec<ittai_engine::AttritionStep>,
    condition_ja: String,
    coverage_guard: bool,
    file: String,
    id: String,
    listed: u64,
    name_ja: String,
    params: BTreeMap<String, toml::Value>,
    sha256: String,
}

impl ManifestRule {
    /// The manifest entries of `rules` with their results (same order).
    pub(crate) fn all(
        rules: &[ittai_engine::rules::Rule],
        results: &[ittai_engine::RuleResult],
    ) -> Vec<ManifestRule> {
        rules
            .iter()
            .zip(results)
            .map(|(r, res)| ManifestRule {
                attrition: res.attrition.clone(),
                condition_ja: res.text_ja.clone(),
                coverage_guard: r.coverage_guard,
                file: r.origin.clone(),
                id: r.id.clone(),
                listed: res.listed,
                name_ja: r.name_ja.clone(),
                params: r
                    .params
                    .iter()
                    .map(|(k, p)| (k.clone(), p.value.clone()))
                    .collect(),
                sha256: ittai_dataset::sha256_bytes(r.text.as_bytes()),
            })
            .collect()
    }
}

impl Manifest {
    fn new(
        a: &Args,
        data: &Path,
        job: &ittai_engine::Job,
        fy: FiscalYear,
        reference: NaiveDate,
        result: &ittai_engine::RunResult,
        unresolved: u64,
        timings: &[(String, f64)],
        outputs: &[OutputFile],
        register: Option<ManifestRegister>,
    ) -> Manifest {
        let prepared = &job.prepared;
        let inputs = prepared
            .hashes
            .files
            .iter()
            .map(|(table, file, sha, bytes)| {
                let t = prepared.report.tables.iter().find(|t| &t.table == table);
                ManifestInput {
                    bytes: *bytes,
                    file: file.display().to_string(),
                    rows: t.map(|t| t.rows_read),
                    rows_rejected: t.map(|t| t.rows_rejected),
                    sha256: sha.clone(),
                    table: table.clone(),
                    values_nulled: t.map(|t| t.values_nulled),
                }
            })
            .collect();
        let rules = ManifestRule::all(&job.rules, &result.results);
        Manifest {
            command: std::env::args().collect(),
            data: data.display().to_string(),
            encoding: a.encoding.clone(),
            formats: a.format.clone(),
            fy: fy.0,
            inputs,
            inputs_sha256: prepared.hashes.combined.clone(),
            outputs: outputs.to_vec(),
            population: result.population,
            reference_date: reference.to_string(),
            register,
            rejects: ManifestRejects {
                file: prepared.rejects.display().to_string(),
                problems: prepared.report.violations(),
            },
            rules,
            staged_copy: prepared.staged,
            timings_seconds: timings.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            tool: "ittai",
            unresolved_drug_lines: unresolved,
            validation: prepared.validation,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}
