//! `ittai ingest`: standard-format files (レセ電, 健診 XML, 介護 CSV) → canonical dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::ProgressBar;
use ittai_dataset::masters::MasterChoice;
use ittai_ingest::IdKey;
use ittai_ingest::{IngestOptions, IngestProgress};

use crate::ui;

/// Read a union's files in the national standard formats into the canonical dataset
/// (the text users see is in `after_help` and the option docs).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Each option takes files, directories (read recursively) or zip archives and may be repeated.
Every 保険者番号 + 被保険者番号 becomes a person_id (HMAC-SHA256 with your key); raw numbers and
names are never written. Problems go to OUT/rejects_<source>.csv (file, line, reason) and are
counted in OUT/ingest_summary.json; they never stop the run. Layouts: docs/INGEST.md.

Example:
  head -c 32 /dev/urandom | xxd -p > ~/ittai.key && chmod 600 ~/ittai.key
  ittai ingest --id-key-file ~/ittai.key --persons 台帳.csv --uke receipts/ \\
      --kenshin kenshin_2024.zip --certifications 認定.csv --care-claims 給付実績.csv --out data/
  ittai run --data data/")]
pub struct Args {
    /// Secret key for pseudonymisation (any file of at least 16 bytes, e.g. 64 random hex
    /// characters). Keep it: the same key gives the same person_ids next year.
    #[arg(long, value_name = "FILE")]
    id_key_file: Option<PathBuf>,
    /// レセプト電算 receipts (医科, 歯科, 調剤, DPC): .UKE files, directories, zips.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    uke: Vec<PathBuf>,
    /// 健診結果 XML (HL7 CDA V08): .xml files, directories, submission zips.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    kenshin: Vec<PathBuf>,
    /// 介護給付実績 CSV (H1 basic / D1 detail records; docs/INGEST.md).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    care_claims: Vec<PathBuf>,
    /// 要介護認定 CSV (docs/INGEST.md).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    certifications: Vec<PathBuf>,
    /// 被保険者台帳 CSV (docs/INGEST.md). Without it persons are derived from receipts
    /// and checkups, with coverage unknown.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    persons: Vec<PathBuf>,
    /// Directory of SSK masters (y_*.csv drug, b_*.txt disease; zips accepted). Default:
    /// the vendored masters (drugs as of 2025-08, diseases 2024-06) and 2019 snapshots.
    #[arg(long, value_name = "DIR")]
    masters: Option<PathBuf>,
    /// Output directory for the canonical dataset.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

struct Bars {
    pb: ProgressBar,
    inputs: u64,
    bytes: u64,
    source: String,
}

impl IngestProgress for Bars {
    fn source(&mut self, name: &str) {
        self.source = name.to_string();
        self.inputs = 0;
        self.bytes = 0;
        self.pb.set_message(format!("{name}: starting"));
    }
    fn input(&mut self, origin: &str, bytes: u64) {
        self.inputs += 1;
        self.bytes += bytes;
        let short = origin.rsplit(['/', '!']).next().unwrap_or(origin);
        self.pb.set_message(format!(
            "{}: {} files, {} — {short}",
            self.source,
            ui::thousands(self.inputs),
            ui::megabytes(self.bytes)
        ));
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let Some(key_path) = &a.id_key_file else {
        anyhow::bail!(
            "--id-key-file is required: ittai never stores 被保険者番号, it replaces them with a keyed hash (HMAC-SHA256), \
             and the key must be yours and kept secret so that the same person gets the same id in every source and every year.\n\
             Make one once and keep it safe, e.g.:\n  head -c 32 /dev/urandom | xxd -p > ~/ittai.key && chmod 600 ~/ittai.key"
        );
    };
    let (key, warnings) = IdKey::load(key_path)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    // Receipts are resolved with the newest masters ittai has (or the user's own).
    let masters = match &a.masters {
        Some(d) => MasterChoice::Dir(d.clone()),
        None => MasterChoice::Current,
    };
    let resolver = masters
        .resolver()
        .context("reading the drug and disease masters")?;
    let opts = IngestOptions {
        uke: a.uke,
        kenshin: a.kenshin,
        care_claims: a.care_claims,
        certifications: a.certifications,
        persons: a.persons,
        out: a.out.clone(),
    };
    let t0 = std::time::Instant::now();
    let mut bars = Bars {
        pb: ui::spinner("ingest"),
        inputs: 0,
        bytes: 0,
        source: String::new(),
    };
    let s = ittai_ingest::run(&opts, &key, &resolver, &mut bars)?;
    bars.pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();

    println!(
        "{:<16} {:>8} {:>12} {:>8}  rejects",
        "source", "inputs", "rows", "issues"
    );
    for (name, src) in &s.sources {
        let issues: u64 = src.issues.values().sum();
        println!(
            "{name:<16} {:>8} {:>12} {:>8}  {}",
            ui::thousands(src.inputs),
            ui::thousands(src.rows),
            ui::thousands(issues),
            if issues > 0 {
                a.out.join(&src.rejects_file).display().to_string()
            } else {
                "-".into()
            }
        );
        for (k, n) in &src.issues {
            println!("    {k:<40} {:>8}", ui::thousands(*n));
        }
    }
    let r = &s.receipts;
    if r.files > 0 {
        println!(
            "receipts: {} lines, {} duplicates left out; drug lines {} (current master {}, 2019 snapshot {}, unresolved {}); diagnoses {} (2019 snapshot {}, unresolved {})",
            ui::thousands(r.lines),
            ui::thousands(r.duplicate_receipts),
            ui::thousands(r.drug_lines),
            ui::thousands(r.drug_lines_current),
            ui::thousands(r.drug_lines_legacy),
            ui::thousands(r.drug_lines_unresolved),
            ui::thousands(r.diagnosis_lines),
            ui::thousands(r.diagnosis_lines_legacy),
            ui::thousands(r.diagnosis_lines_unresolved)
        );
        if !r.drug_codes_legacy.is_empty() {
            println!(
                "  drug codes retired since 2019, resolved by the 2019 master: {}",
                r.drug_codes_legacy
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !r.drug_codes_unresolved.is_empty() {
            println!(
                "  drug codes in no master: {}",
                r.drug_codes_unresolved
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if secs > 0.0 {
            println!(
                "  throughput: {} receipt lines/s",
                ui::thousands((r.lines as f64 / secs) as u64)
            );
        }
    }
    if s.checkups.documents > 0 {
        println!(
            "checkups: {} documents, {} checkups, {} questionnaires, {} duplicates left out",
            s.checkups.documents,
            s.checkups.checkups,
            s.checkups.questionnaires,
            s.checkups.duplicate_exams
        );
    }
    if !s.persons.note.is_empty() {
        println!("persons: {}", s.persons.note);
    }
    println!("{:<18} {:>14}", "table", "rows");
    for (t, n) in &s.tables {
        println!("{t:<18} {:>14}", ui::thousands(*n));
    }
    println!(
        "wrote the dataset and ingest_summary.json to {} in {secs:.1} s; next: ittai run --data {}",
        a.out.display(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
