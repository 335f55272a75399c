//! `ittai synth`: generate a synthetic population.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ittai_synth::SynthConfig;

use crate::ui;

/// Generate a deterministic synthetic union (ten canonical tables as Parquet).
///
/// The same seed and settings always give byte-identical files. The population is
/// calibrated to published national figures (see `ittai profile`). The tenth table,
/// `interventions`, holds synthetic support records (支援記録) of the integrated programmes;
/// their effects on later data and every rate are set in the `[support]` section of the
/// `--config` file (docs/CALIBRATION.md).
///
/// Beside the tables, OUT/register/ holds a synthetic register (台帳.csv: 保険者番号,
/// 被保険者番号, made-up 氏名, カナ, 住所, 電話 and 市町村コード) and sample.key, a sample key
/// that is public and must never be used for real data; the person ids are those the
/// register gives under that key, so that names can be tried in the lists:
///   ittai run --data OUT --register OUT/register/台帳.csv --id-key-file OUT/register/sample.key
/// (docs/GUIDE.md, 名前を表示する). Both files are readable by you only.
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
    /// Also write the population in the national standard formats, under OUT/standard/:
    /// `uke` (レセ電 receipts, Shift_JIS) and/or `xml` (健診結果 XML archives, V08), with the
    /// register, certifications and care claims as the CSV layouts `ittai ingest` reads
    /// (docs/INGEST.md). Support records have no standard format: they are written beside
    /// as `interventions.csv` (as a municipality keeps them; `ittai ingest` does not read
    /// it). The Parquet tables are always written.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "parquet"
    )]
    format: Vec<String>,
    /// Do not write OUT/register/ (the synthetic register and its sample key); the person
    /// ids are then the generator's own 12-digit ids. A --config file without `register =
    /// true` (one written before the register existed) also leaves it out, so that it
    /// gives the same files as before.
    #[arg(long)]
    no_register: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut cfg = match &a.config {
        Some(p) => SynthConfig::from_file(p)?,
        None => SynthConfig {
            register: true,
            ..SynthConfig::default()
        },
    };
    if a.no_register {
        cfg.register = false;
    }
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
    let (mut uke, mut xml) = (false, false);
    for f in &a.format {
        match f.trim().to_lowercase().as_str() {
            "parquet" => {}
            "uke" => uke = true,
            "xml" => xml = true,
            other => {
                anyhow::bail!("--format {other}: expected parquet, uke or xml (comma-separated)")
            }
        }
    }
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
    if let Some(rows) = summary.register_rows {
        let dir = a.out.join(ittai_synth::register::REGISTER_DIR);
        println!(
            "synthetic register (made-up names, readable by you only): {} rows in {}; sample key {} — public, never for real data",
            ui::thousands(rows),
            dir.join(ittai_synth::register::REGISTER_FILE).display(),
            dir.join(ittai_synth::register::SAMPLE_KEY_FILE).display()
        );
    }
    if uke || xml {
        let dir = a.out.join("standard");
        let sp = ui::spinner("standard formats");
        let t0 = std::time::Instant::now();
        let opts = ittai_ingest::ExportOptions {
            uke,
            xml,
            ..Default::default()
        };
        let e = ittai_ingest::export(&a.out, &dir, &opts, &mut |step| {
            sp.set_message(format!("standard formats: {step}"))
        })
        .with_context(|| format!("writing the standard formats into {}", dir.display()))?;
        sp.finish_and_clear();
        println!(
            "standard formats in {} ({:.1} s): register {} rows, certifications {}, care claims {}, support records {} (interventions.csv, not read by ingest); {} UKE files ({} receipts, {} lines); {} checkup documents in {} archives ({} questionnaires inside, {} not at a checkup left out)",
            dir.display(),
            t0.elapsed().as_secs_f64(),
            ui::thousands(e.persons),
            ui::thousands(e.certifications),
            ui::thousands(e.care_claims),
            ui::thousands(e.interventions),
            ui::thousands(e.uke.files),
            ui::thousands(e.uke.receipts),
            ui::thousands(e.uke.lines),
            ui::thousands(e.documents),
            e.archives,
            ui::thousands(e.questionnaires_in_documents),
            ui::thousands(e.questionnaires_left_out)
        );
    }
    Ok(ExitCode::SUCCESS)
}
