//! `ittai evaluate`: programme evaluation (個別事業の評価) from the support records.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ittai_dataset::atomic::Visibility;
use ittai_engine::programmes::{self, Evaluation, Lists};
use ittai_engine::rules::LoadOptions;
use ittai_engine::{Frame, Job};
use ittai_model::FiscalYear;
use ittai_model::evaluation::{EvalUnit, EvaluationRow, Group, Measure, Period};
use ittai_model::support::Programme;
use ittai_report::{CsvEncoding, Headers, write_csv, write_xlsx};

use crate::{cmd_indicators, cmd_run, prepare, sample, ui};

/// Evaluate the support that followed the lists (個別事業の評価) from the support records.
///
/// Reads the optional `interventions` table (支援記録: one row per contact, see
/// docs/reference/dataset.md) and, for each FY t with contacts, takes as targets the
/// persons listed by each programme's rules for FY t−1. Per programme × FY × municipality
/// and the union: targets → contacted → supported, and every outcome of
/// docs/reference/evaluation.md for the supported beside the targets not supported (the
/// comparison standardised by sex × age band, with a 95 % CI of the difference). The
/// comparison is observational: it shows what followed the support, not that the support
/// caused it.
///
/// Writes OUT/evaluation/evaluation.parquet (exact, owner-only) and evaluation.csv /
/// evaluation.xlsx (published: counts under 10 blank and marked ※).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory (default: ./sample_data or the built-in sample).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Only these fiscal years of support (default: every FY with support records whose
    /// previous FY has claims).
    #[arg(long, value_name = "YEARS", value_delimiter = ',')]
    fy: Vec<i32>,
    /// Directory of rule files that draw the lists (default: the built-in rules).
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Override a rule parameter, e.g. --set R03.threshold=20 (repeatable).
    #[arg(long, value_name = "RULE.PARAM=VALUE")]
    set: Vec<String>,
    /// Text encoding of CSV files: utf8 (with BOM) or sjis.
    #[arg(long, value_name = "ENC", default_value = "utf8")]
    encoding: String,
}

impl Args {
    /// The defaults `ittai report` uses when it has to compute the evaluation itself.
    pub fn for_report(data: Option<PathBuf>, out: PathBuf) -> Self {
        Args {
            data,
            out,
            fy: Vec::new(),
            rules: None,
            set: Vec::new(),
            encoding: "utf8".into(),
        }
    }
}

/// Writes into `dir`: `evaluation.parquet` (exact, owner-only), `evaluation.csv` and
/// `evaluation.xlsx` (published). Returns the files written.
pub fn write(
    rows: &[EvaluationRow],
    dir: &Path,
    encoding: CsvEncoding,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = vec![programmes::write_rows(rows, dir)?];
    let names = cmd_indicators::municipality_names();
    let published = ittai_report::published_evaluation(rows, &names);
    let p = dir.join("evaluation.csv");
    write_csv(
        &published,
        &p,
        encoding,
        Headers::Japanese,
        Visibility::Shared,
    )?;
    out.push(p);
    let p = dir.join("evaluation.xlsx");
    write_xlsx(&[("個別事業評価", &published)], &p, Visibility::Shared)?;
    out.push(p);
    Ok(out)
}

/// Evaluates the FYs of the dataset with support records, reusing the lists of `lists`
/// (by FY of the lists) and drawing the missing ones. `None` when there are no support
/// records.
pub fn compute(
    job: &Job,
    fys: &[FiscalYear],
    lists: Option<&Lists>,
) -> anyhow::Result<Option<Evaluation>> {
    let fys: Vec<FiscalYear> = if fys.is_empty() {
        programmes::evaluation_years(&job.sources)?
    } else {
        fys.to_vec()
    };
    if !programmes::has_interventions(&job.sources) {
        return Ok(None);
    }
    let spec = job.spec(Frame {
        fy: FiscalYear(0),
        reference: FiscalYear(0).end(),
    });
    let pb = ui::spinner("programme evaluation (支援記録の評価)");
    let mut all = lists.cloned().unwrap_or_default();
    let missing: Vec<FiscalYear> = fys
        .iter()
        .copied()
        .filter(|t| !all.contains_key(&(t.0 - 1)))
        .collect();
    if !missing.is_empty() {
        all.extend(programmes::lists_for(&job.sources, &spec, &missing)?);
    }
    let e = programmes::evaluate_with_lists(&job.sources, &spec, &fys, &all)?;
    pb.finish_and_clear();
    Ok(e)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let encoding = ui::csv_encoding(&a.encoding)?;
    let data = match &a.data {
        Some(d) => d.clone(),
        None => sample::default_data_dir()?,
    };
    let rules = LoadOptions {
        dir: a.rules.clone(),
        set: cmd_run::parse_set(&a.set)?,
        ..Default::default()
    };
    let job = prepare::open_job(&data, &a.out, rules, false)?;
    let fys: Vec<FiscalYear> = a.fy.iter().map(|y| FiscalYear(*y)).collect();
    let Some(e) = compute(&job, &fys, None)? else {
        eprintln!(
            "{} has no support records (interventions.parquet or interventions.csv): nothing to evaluate.\n\
             See docs/GUIDE.md, 支援記録, for the layout a municipality fills in.",
            data.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let files =
        write(&e.rows, &a.out.join("evaluation"), encoding).context("writing the evaluation")?;
    print_summary(&e.rows);
    eprintln!(
        "\nwrote {} (published files blank counts under 10 and mark them ※)",
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

fn fmt(unit: EvalUnit, v: Option<f64>) -> String {
    match (unit, v) {
        (_, None) => "-".into(),
        (EvalUnit::Persons, Some(v)) => ui::thousands(v.round() as u64),
        (EvalUnit::Percent, Some(v)) => format!("{v:.1}%"),
        (EvalUnit::Mean, Some(v)) => format!("{v:.2}"),
    }
}

/// Prints, at union level, each programme's targets and supported share of the latest FY,
/// and each outcome (supported vs not supported, standardised, with the difference and its
/// CI) of the latest FY whose windows the data cover. Aggregates only; no personal rows.
pub fn print_summary(rows: &[EvaluationRow]) {
    let Some(fy) = rows.iter().map(|r| r.fy).max() else {
        return;
    };
    let union = |fy: i32, p: Programme, m: Measure, g: Group, period: Period| {
        rows.iter().find(|r| {
            r.fy == fy
                && r.programme == Some(p)
                && r.municipality_code.is_union()
                && r.measure == m
                && r.group == g
                && r.period == period
        })
    };
    let mut fys: Vec<i32> = rows.iter().map(|r| r.fy).collect();
    fys.sort_unstable();
    fys.dedup();
    println!(
        "\n個別事業の評価（広域連合全体）— 支援あり・支援なし（性・年齢調整）の比較は観察によるもので、因果を示すものではありません"
    );
    for &p in Programme::ALL {
        let Some(t) = union(fy, p, Measure::Targets, Group::All, Period::None) else {
            continue;
        };
        let s = union(fy, p, Measure::Supported, Group::All, Period::None);
        println!(
            "\n  {} FY{fy} — 対象者 {}、支援実施 {}（{}）",
            p.label_ja(),
            fmt(EvalUnit::Persons, t.numerator),
            fmt(EvalUnit::Persons, s.and_then(|r| r.numerator)),
            fmt(EvalUnit::Percent, s.and_then(|r| r.value)),
        );
        for &m in Measure::ALL {
            let period = if m.paired() {
                Period::Change
            } else {
                Period::Post
            };
            // The latest FY with supported persons counted for this outcome.
            let found = fys.iter().rev().find_map(|&y| {
                let sup = union(y, p, m, Group::Supported, period)?;
                (sup.denominator.unwrap_or(0.0) > 0.0).then_some(y)
            });
            let Some(y) = found else {
                continue;
            };
            let (Some(sup), Some(not), Some(diff)) = (
                union(y, p, m, Group::Supported, period),
                union(y, p, m, Group::NotSupported, period),
                union(y, p, m, Group::Difference, period),
            ) else {
                continue;
            };
            let unit = m.unit();
            let pt = if unit == EvalUnit::Percent { "pt" } else { "" };
            let digits = if unit == EvalUnit::Mean { 2 } else { 1 };
            let ci = match (diff.ci_low, diff.ci_high) {
                (Some(a), Some(b)) => format!("（95%CI {a:+.digits$} ～ {b:+.digits$}）"),
                _ => String::new(),
            };
            println!(
                "    {} FY{y}{}: 支援あり {} (n={}) / 支援なし {}（調整 {}）(n={}) / 差 {}{ci}",
                ui::pad(m.label_ja(), 34),
                if m.paired() { " 変化" } else { "" },
                fmt(unit, sup.value),
                fmt(EvalUnit::Persons, sup.denominator),
                fmt(unit, not.value),
                fmt(unit, not.standardised),
                fmt(EvalUnit::Persons, not.denominator),
                diff.value
                    .map(|v| format!("{v:+.digits$}{pt}"))
                    .unwrap_or_else(|| "-".into()),
            );
        }
    }
}
