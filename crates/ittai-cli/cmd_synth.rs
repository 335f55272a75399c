//! `ittai synth`: generate a synthetic population.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ittai_synth::SynthConfig;

use crate::ui;

/// Generate a deterministic synthetic union (nine canonical tables as Parquet).
///
/// The same seed and settings always give byte-identical files. The population is
/// calibrated to published national figures (see `ittai profile`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory (created; existing table files are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of distinct persons.
    #[arg(long, value_name = "N")]
    persons: Option<u64>,
    /// Random seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Prefecture of the union: number, 鳥取県 / 鳥取 or Tottori.
    #[arg(long)]
    prefecture: Option<String>,
    /// First fiscal year with data (e.g. 2021).
    #[arg(long, value_name = "FY")]
    first_fy: Option<i32>,
    /// Last fiscal year with data (e.g. 2024).
    #[arg(long, value_name = "FY")]
    last_fy: Option<i32>,
    /// Read settings from a TOML file (as written by a previous run, `synth.toml`);
    /// options given on the command line override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut cfg = match &a.config {
        Some(p) => SynthConfig::from_file(p)?,
        None => SynthConfig::default(),
    };
    if let Some(v) = a.persons {
        cfg.persons = v;
    }
    if let Some(v) = a.seed {
        cfg.seed = v;
    }
    if let Some(v) = a.prefecture {
        cfg.prefecture = v;
    }
    if let Some(v) = a.first_fy {
        cfg.first_fy = v;
    }
    if let Some(v) = a.last_fy {
        cfg.last_fy = v;
    }
    cfg.check()?;
    eprintln!(
        "synthetic union: {} persons, {}, FY{}–FY{}, seed {} → {}",
        ui::thousands(cfg.persons),
        cfg.prefecture,
        cfg.first_fy,
        cfg.last_fy,
        cfg.seed,
        a.out.display()
    );
    let pb = ui::bar(cfg.persons, "persons");
    let summary = ittai_synth::generate(&cfg, &a.out, &mut |done, _| pb.set_position(done))
        .with_context(|| format!("generating into {}", a.out.display()))?;
    pb.finish_and_clear();
    println!("{:<18} {:>14}", "table", "rows");
    for (t, n) in &summary.rows {
        println!("{t:<18} {:>14}", ui::thousands(*n));
    }
    println!(
        "{} persons in {:.1} s; {} of Parquet in {}",
        ui::thousands(summary.persons),
        summary.seconds,
        ui::megabytes(summary.bytes),
        summary.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
