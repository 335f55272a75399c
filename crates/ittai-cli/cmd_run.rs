//! `ittai run`: the main job — the ten extraction rules, target lists and attrition.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use ittai_engine::display::{default_headers, to_table, write_parquet};
use ittai_engine::evaluate::{combined, evidence_headers, target_list};
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunSpec, Sources};
use ittai_io::atomic::{Visibility, write_atomic};
use ittai_io::masters::{DiseaseMaster, DrugMaster};
use ittai_model::FiscalYear;
use ittai_model::classes::{default_disease_classes, default_drug_classes};
use ittai_report::{Cells, Headers, Table, write_csv, write_xlsx};
use serde_json::json;

use crate::{cmd_indicators, prepare, sample, ui};

/// Run the ten extraction rules and write target lists, attrition and a manifest.
///
/// With no options it runs every rule on the embedded sample data for its latest fiscal
/// year and writes `out/`. Target lists are personal data: they are written readable by
/// you only.
///
/// Examples:
///   ittai run
///   ittai run --data /path/to/dataset --fy 2024
///   ittai run --only R03 --set R03.threshold=20
///   ittai run --format csv,xlsx,parquet --encoding sjis
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory (nine tables as Parquet or CSV). Default: ./sample_data, or the
    /// sample data built into ittai when that folder does not exist.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Extraction fiscal year (年度), e.g. 2024 for 2024-04-01 … 2025-03-31. Default: the
    /// latest year with medical claims.
    #[arg(long, value_name = "YEAR")]
    fy: Option<i32>,
    /// Reference date (基準日). Default: the last day of the fiscal year (3/31).
    #[arg(long, value_name = "YYYY-MM-DD")]
    reference_date: Option<NaiveDate>,
    /// Directory of rule files (*.toml) to use instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Only these rules, e.g. --only R03,R05.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    only: Vec<String>,
    /// Change a rule parameter, e.g. --set R03.threshold=20 (repeatable).
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    set: Vec<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Output formats: csv, xlsx, parquet (comma-separated).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "csv,xlsx,parquet"
    )]
    format: Vec<String>,
    /// Text encoding of CSV files: utf8 (with BOM, opens in Japanese Excel) or sjis.
    #[arg(long, value_name = "ENC", default_value = "utf8")]
    encoding: String,
    /// Validate the input even if the same files were validated before (by default an
    /// earlier clean validation of identical bytes is reused).
    #[arg(long)]
    revalidate: bool,
    /// Skip the evaluation indicators (共通評価指標). By default they are computed for every
    /// fiscal year in the data and written to <out>/indicators/ (this applies the rules once
    /// more per extra FY; `ittai report` then draws the committee report from them).
    #[arg(long)]
    no_indicators: bool,
}

fn parse_set(items: &[String]) -> anyhow::Result<BTreeMap<String, BTreeMap<String, String>>> {
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

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut timings: Vec<(String, f64)> = Vec::new();
    let formats: Vec<String> = a.format.iter().map(|f| f.trim().to_lowercase()).collect();
    for f in &formats {
        anyhow::ensure!(
            matches!(f.as_str(), "csv" | "xlsx" | "parquet"),
            "--format {f}: expected csv, xlsx or parquet"
        );
    }
    let encoding = ui::csv_encoding(&a.encoding)?;
    let data = match &a.data {
        Some(d) => d.clone(),
        None => sample::default_data_dir()?,
    };
    // Rules first: a bad rule file should fail before any heavy work.
    let drug_classes = default_drug_classes();
    let disease_classes = default_disease_classes();
    let opts = LoadOptions {
        dir: a.rules.clone(),
        only: a.only.clone(),
        set: parse_set(&a.set)?,
    };
    let rules = load_rules(&opts, &drug_classes, &disease_classes)?;

    let t = Instant::now();
    let today = chrono::Local::now().date_naive();
    let prepared = prepare::prepare(&data, &a.out, today, a.revalidate)?;
    timings.push(("validate".into(), t.elapsed().as_secs_f64()));
    let last_claim = prepared
        .report
        .tables
        .iter()
        .find(|t| t.table == "medical_claims")
        .and_then(|t| t.date_max);
    let fy = match a.fy {
        Some(y) => FiscalYear(y),
        None => FiscalYear::of(last_claim.context("the dataset has no medical claims; give --fy")?),
    };
    let reference = a.reference_date.unwrap_or_else(|| fy.end());
    anyhow::ensure!(
        fy.contains(reference),
        "--reference-date {reference} is not in FY{} ({} … {})",
        fy.0,
        fy.start(),
        fy.end()
    );
    eprintln!(
        "ittai run: {} — FY{} (基準日 {reference}), {} rule(s)",
        data.display(),
        fy.0,
        rules.len()
    );

    let t = Instant::now();
    let pb = ui::spinner("building person features and applying rules");
    let src = Sources::open(
        &prepared.dir,
        &DrugMaster::embedded(),
        &DiseaseMaster::embedded(),
    )?;
    let spec = RunSpec {
        frame: Frame { fy, reference },
        rules: &rules,
        drug_classes: &drug_classes,
        disease_classes: &disease_classes,
    };
    let mut result = ittai_engine::run(&src, &spec)?;
    let unresolved = src.unresolved_drug_lines()?;
    pb.finish_and_clear();
    timings.extend(result.timings.iter().cloned());
    let _ = t;

    // Outputs.
    let t = Instant::now();
    let pb = ui::spinner("writing target lists");
    let mut headers = default_headers();
    headers.extend(evidence_headers(&result.results));
    let mut outputs: Vec<PathBuf> = Vec::new();
    let targets_dir = a.out.join("targets");
    let mut sheets: Vec<(String, Table)> = Vec::new();
    let summary = summary_table(&result.results, result.population);
    sheets.push(("集計".to_string(), summary.clone()));
    for r in &result.results {
        let mut list = target_list(&result.table, r)?;
        let stem = format!("{}_{}", r.rule.id, r.rule.key);
        if formats.iter().any(|f| f == "csv") {
            let p = targets_dir.join(format!("{stem}.csv"));
            write_csv(
                &to_table(&list, &headers, true)?,
                &p,
                encoding,
                Headers::Japanese,
                Visibility::Private,
            )?;
            outputs.push(p);
        }
        if formats.iter().any(|f| f == "parquet") {
            let p = targets_dir.join(format!("{stem}.parquet"));
            write_parquet(&mut list, &p, Visibility::Private)?;
            outputs.push(p);
        }
        sheets.push((
            format!("{} {}", r.rule.id, r.rule.name_ja),
            to_table(&list, &headers, true)?,
        ));
    }
    let mut all = combined(&result.table, &result.results)?;
    if formats.iter().any(|f| f == "csv") {
        let p = a.out.join("targets_all.csv");
        write_csv(
            &to_table(&all, &headers, true)?,
            &p,
            encoding,
            Headers::Japanese,
            Visibility::Private,
        )?;
        outputs.push(p);
    }
    if formats.iter().any(|f| f == "parquet") {
        let p = a.out.join("targets_all.parquet");
        write_parquet(&mut all, &p, Visibility::Private)?;
        outputs.push(p);
    }
    let attrition = attrition_table(&result.results);
    if formats.iter().any(|f| f == "csv") {
        let p = a.out.join("attrition.csv");
        write_csv(
            &attrition,
            &p,
            encoding,
            Headers::Japanese,
            Visibility::Shared,
        )?;
        outputs.push(p);
    }
    if formats.iter().any(|f| f == "parquet") {
        let p = a.out.join("attrition.parquet");
        write_attrition_parquet(&result.results, &p)?;
        outputs.push(p);
    }
    if formats.iter().any(|f| f == "xlsx") {
        let p = a.out.join("targets.xlsx");
        sheets.push(("減少表（attrition）".to_string(), attrition.clone()));
        let refs: Vec<(&str, &Table)> = sheets.iter().map(|(n, t)| (n.as_str(), t)).collect();
        write_xlsx(&refs, &p, Visibility::Private)?;
        outputs.push(p);
    }
    pb.finish_and_clear();
    timings.push(("write".into(), t.elapsed().as_secs_f64()));

    let mut indicator_set = None;
    if !a.no_indicators {
        let t = Instant::now();
        let fys = ittai_engine::indicators::fiscal_years(&src)?;
        let set = cmd_indicators::compute_with_progress(
            &src,
            &fys,
            &rules,
            &drug_classes,
            &disease_classes,
            // The lists are written: hand the feature table over (the indicators drop it
            // after its FY) and keep the rule results for the manifest and summary.
            Some(ittai_engine::RunResult {
                table: std::mem::take(&mut result.table),
                results: result.results.clone(),
                frame: result.frame,
                population: result.population,
                timings: Vec::new(),
            }),
        )?;
        outputs.extend(cmd_indicators::write(
            &set,
            &a.out.join("indicators"),
            encoding,
        )?);
        timings.push(("indicators".into(), t.elapsed().as_secs_f64()));
        indicator_set = Some(set);
    }
    timings.push(("total".into(), started.elapsed().as_secs_f64()));

    let manifest = manifest(
        &a, &data, &prepared, fy, reference, &rules, &result, unresolved, &timings, &outputs,
    )?;
    let mp = a.out.join("manifest.json");
    write_atomic(
        &mp,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
        Visibility::Shared,
    )?;

    print_summary(&result.results, result.population);
    if let Some(set) = &indicator_set {
        cmd_indicators::print_union_summary(set);
        eprintln!("\ncommittee report: ittai report --out {}", a.out.display());
    }
    if unresolved > 0 {
        eprintln!(
            "note: {} drug line(s) have a code not in the drug master and no YJ code; they are not counted in drug rules.",
            ui::thousands(unresolved)
        );
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

fn summary_table(results: &[ittai_engine::RuleResult], population: u64) -> Table {
    let mut t = Table::default();
    t.push(
        "rule_id",
        "ルールID",
        Cells::Text(results.iter().map(|r| Some(r.rule.id.clone())).collect()),
    );
    t.push(
        "rule_name_ja",
        "ルール名",
        Cells::Text(
            results
                .iter()
                .map(|r| Some(r.rule.name_ja.clone()))
                .collect(),
        ),
    );
    t.push(
        "listed",
        "対象者数",
        Cells::Int(results.iter().map(|r| Some(r.listed as i64)).collect()),
    );
    t.push(
        "insured",
        "被保険者数（基準日）",
        Cells::Int(results.iter().map(|_| Some(population as i64)).collect()),
    );
    t.push(
        "rate_percent",
        "割合（%）",
        Cells::Float(
            results
                .iter()
                .map(|r| Some(100.0 * r.listed as f64 / population.max(1) as f64))
                .collect(),
        ),
    );
    t.push(
        "condition_ja",
        "抽出条件（適用した条件）",
        Cells::Text(results.iter().map(|r| Some(r.text_ja.clone())).collect()),
    );
    t.push(
        "citation",
        "出典",
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
    t.push(
        "rule_id",
        "ルールID",
        Cells::Text(rows.iter().map(|r| Some(r.0.clone())).collect()),
    );
    t.push(
        "rule_name_ja",
        "ルール名",
        Cells::Text(rows.iter().map(|r| Some(r.1.clone())).collect()),
    );
    t.push(
        "step",
        "段階",
        Cells::Int(rows.iter().map(|r| Some(r.2 as i64)).collect()),
    );
    t.push(
        "condition_ja",
        "条件",
        Cells::Text(rows.iter().map(|r| Some(r.3.clone())).collect()),
    );
    t.push(
        "persons",
        "該当者数",
        Cells::Int(rows.iter().map(|r| Some(r.4 as i64)).collect()),
    );
    t.push(
        "insufficient_coverage",
        "資格期間不足で除外",
        Cells::Int(rows.iter().map(|r| Some(r.5 as i64)).collect()),
    );
    t
}

fn write_attrition_parquet(
    results: &[ittai_engine::RuleResult],
    path: &Path,
) -> anyhow::Result<()> {
    let t = attrition_table(results);
    ittai_engine::display::write_table_parquet(&t, path, Visibility::Shared)?;
    Ok(())
}

fn print_summary(results: &[ittai_engine::RuleResult], population: u64) {
    println!("\n被保険者数（基準日） {}", ui::thousands(population));
    println!(
        "{:<5} {:<28} {:>10} {:>9}",
        "rule", "name", "listed", "rate"
    );
    for r in results {
        let name = ui::pad(&r.rule.name_ja, 28);
        println!(
            "{:<5} {} {:>10} {:>8.2}%",
            r.rule.id,
            name,
            ui::thousands(r.listed),
            100.0 * r.listed as f64 / population.max(1) as f64
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn manifest(
    a: &Args,
    data: &Path,
    prepared: &prepare::Prepared,
    fy: FiscalYear,
    reference: NaiveDate,
    rules: &[ittai_engine::rules::Rule],
    result: &ittai_engine::RunResult,
    unresolved: u64,
    timings: &[(String, f64)],
    outputs: &[PathBuf],
) -> anyhow::Result<serde_json::Value> {
    let mut inputs = Vec::new();
    for (table, file, sha, bytes) in &prepared.hashes.files {
        let t = prepared.report.tables.iter().find(|t| &t.table == table);
        inputs.push(json!({
            "table": table,
            "file": file.display().to_string(),
            "sha256": sha,
            "bytes": bytes,
            "rows": t.map(|t| t.rows_read),
            "rows_rejected": t.map(|t| t.rows_rejected),
            "values_nulled": t.map(|t| t.values_nulled),
        }));
    }
    let rules_json: Vec<_> = rules
        .iter()
        .zip(&result.results)
        .map(|(r, res)| {
            let params: BTreeMap<&String, &toml::Value> =
                r.params.iter().map(|(k, p)| (k, &p.value)).collect();
            json!({
                "id": r.id,
                "name_ja": r.name_ja,
                "file": r.origin,
                "sha256": ittai_io::hash::sha256_bytes(r.text.as_bytes()),
                "params": params,
                "coverage_guard": r.coverage_guard,
                "condition_ja": res.text_ja,
                "listed": res.listed,
                "attrition": res.attrition,
            })
        })
        .collect();
    Ok(json!({
        "tool": "ittai",
        "version": env!("CARGO_PKG_VERSION"),
        "command": std::env::args().collect::<Vec<_>>(),
        "data": data.display().to_string(),
        "staged_copy": prepared.staged,
        "validation": prepared.validation,
        "inputs_sha256": prepared.hashes.combined,
        "fy": fy.0,
        "reference_date": reference.to_string(),
        "formats": a.format,
        "encoding": a.encoding,
        "inputs": inputs,
        "rejects": { "file": prepared.rejects.display().to_string(), "problems": prepared.report.violations() },
        "unresolved_drug_lines": unresolved,
        "population": result.population,
        "rules": rules_json,
        "timings_seconds": timings.iter().map(|(k, v)| (k.clone(), *v)).collect::<BTreeMap<_, _>>(),
        "outputs": outputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    }))
}
