//! `ittai profile`: a dataset's calibration quantities beside the targets of docs/reference/calibration.md.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use ittai_engine::Frame;
use ittai_engine::rules::LoadOptions;
use ittai_model::FiscalYear;

use crate::{prepare, ui};

/// Print each calibration quantity of a dataset beside its published target.
///
/// Used to check that a synthetic population looks like a real union (docs/reference/calibration.md): age and
/// sex, certification by age and level, checkups, deaths, questionnaire answers, lab
/// values, claims and costs, and the rates of rules R02–R06. Exit status 1 when a
/// quantity is outside its tolerance.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory.
    dir: PathBuf,
    /// Fiscal year to profile (default: the latest with medical claims).
    #[arg(long, value_name = "YEAR")]
    fy: Option<i32>,
    /// Where validation rejects go.
    #[arg(long, value_name = "DIR", default_value = "out/profile")]
    out: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let rules = LoadOptions {
        only: ["R02", "R03", "R04", "R05", "R06"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    let job = prepare::open_job(&a.dir, &a.out, rules, false)?;
    let fy = match a.fy {
        Some(y) => FiscalYear(y),
        None => job
            .latest_claim_fy()
            .ok_or_else(|| anyhow::anyhow!("no medical claims; give --fy"))?,
    };
    let pb = ui::spinner("profiling");
    let res = ittai_engine::run(
        &job.sources,
        &job.spec(Frame {
            fy,
            reference: fy.end(),
        }),
    )?;
    let rates: BTreeMap<String, f64> = res
        .results
        .iter()
        .map(|r| {
            (
                r.rule.id.clone(),
                100.0 * r.listed as f64 / res.population.max(1) as f64,
            )
        })
        .collect();
    let rows = ittai_engine::profile(&job.sources, fy, &rates)?;
    pb.finish_and_clear();
    println!(
        "calibration profile of {} for FY{} (基準日 {}), {} insured\n",
        a.dir.display(),
        fy.0,
        fy.end(),
        ui::thousands(res.population)
    );
    println!(
        "{:<13} {} {:>12} {:>22}  {:<18} ok",
        "group",
        ui::pad("quantity", 58),
        "value",
        "accepted range",
        "target (docs/reference/calibration.md)"
    );
    let mut bad = 0;
    for r in &rows {
        let fmt = |x: f64| {
            if r.unit == "yen" {
                ui::thousands(x.round() as u64)
            } else {
                format!("{x:.2}")
            }
        };
        let ok = r.ok();
        if !ok {
            bad += 1;
        }
        println!(
            "{:<13} {} {:>12} {:>22}  {:<18} {}",
            r.group,
            ui::pad(&r.quantity, 58),
            fmt(r.value),
            format!("[{}, {}] {}", fmt(r.lo), fmt(r.hi), r.unit),
            r.target,
            if ok { "✓" } else { "✗" }
        );
    }
    println!(
        "\n{} of {} quantities within tolerance.",
        rows.len() - bad,
        rows.len()
    );
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
