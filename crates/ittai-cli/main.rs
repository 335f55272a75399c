//! `ittai` — open analytics for Japan's integrated health and long-term-care prevention
//! programmes for people aged 75+ (高齢者の保健事業と介護予防の一体的な実施).
//!
//! This file holds the command line (clap); each subcommand lives in its own module and
//! calls one entry point of a library crate.

mod cmd_check_output;
mod cmd_evaluate;
mod cmd_indicators;
mod cmd_ingest;
mod cmd_profile;
mod cmd_report;
mod cmd_rules;
mod cmd_run;
mod cmd_run_spark;
mod cmd_serve;
mod cmd_sql;
mod cmd_synth;
mod cmd_validate;
mod named;
mod prepare;
mod sample;
mod serve;
mod ui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: polars allocates and frees large buffers from
/// many threads, and glibc's per-thread arenas keep the freed memory, so the resident size
/// of a long run kept growing (docs/DECISIONS.md D58).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ittai: target lists and indicators for 後期高齢者の保健事業と介護予防の一体的な実施.
///
/// Typical use:
///   ittai run                       run the ten rules and the indicators on the embedded
///                                   sample data → out/
///   ittai evaluate                  programme evaluation from the support records
///                                   (interventions) → out/evaluation/
///   ittai report                    committee report from out/ → out/report.html, .xlsx
///   ittai serve                     work in the browser (this computer only): purpose →
///                                   conditions → target list, persons, support records
///   ittai ingest --id-key-file KEY --uke DIR --kenshin ZIP --persons CSV --out DIR
///                                   read the national standard formats → a dataset
///   ittai sql --dialect spark --data URI --fy 2024
///                                   the rules as SQL for Spark or DuckDB (docs/SCALE.md)
///   ittai validate DIR              check a dataset against the contract
///   ittai check-output              check that out/ is whole and current (manifest)
///   ittai synth --persons 100000 --seed 1 --out DIR
///                                   generate a synthetic union for testing
#[derive(Debug, Parser)]
#[command(name = "ittai", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read receipts, 健診 XML and 介護 CSV into a dataset — 標準形式の取込み.
    Ingest(cmd_ingest::Args),
    /// Run the ten extraction rules: target lists, attrition, manifest — 対象者抽出.
    Run(cmd_run::Args),
    /// Compute the evaluation indicators for every fiscal year — 共通評価指標.
    Indicators(cmd_indicators::Args),
    /// Evaluate the support that followed the lists, from the support records — 個別事業の評価.
    Evaluate(cmd_evaluate::Args),
    /// Draw the committee report (HTML + xlsx) from the indicators — 評価レポート.
    Report(cmd_report::Args),
    /// Show the rules in plain Japanese with their parameters and sources — 抽出条件.
    Rules(cmd_rules::Args),
    /// Work in the browser, on this computer only: lists, persons, support records — ブラウザで使う.
    Serve(cmd_serve::Args),
    /// Check a dataset against the calibration targets of docs/reference/calibration.md — 較正の確認.
    Profile(cmd_profile::Args),
    /// Generate a synthetic population (ten Parquet tables, support records included) — 合成データの生成.
    Synth(cmd_synth::Args),
    /// Print the rules as SQL for Apache Spark or DuckDB, generated from the rule files — SQL出力.
    Sql(cmd_sql::Args),
    /// Check a dataset against the contract; write rejects — データ検証.
    Validate(cmd_validate::Args),
    /// Check that an output folder is whole and current, as its manifest records — 出力の確認.
    CheckOutput(cmd_check_output::Args),
}

/// Allows or forbids transparent huge pages for this process (Linux). They are off except
/// while the input is validated: the passes over the claim files fill large tables a few
/// bytes at a time, and with huge pages the kernel zeroed 2 MiB on each first touch (16 %
/// of a full job's samples at 1,000,000 insured; the full job took 66–67 s without them
/// against 70–77 s with them), while the validation's table of every claim is looked up at
/// random and ran faster with them (55.7 s against 63.0 s at 1,000,000). Alternating runs,
/// docs/PERFORMANCE.md, "Huge pages off". A failure (an old kernel) changes nothing else.
pub(crate) fn huge_pages(on: bool) {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(!on);
}

fn main() -> ExitCode {
    huge_pages(false);
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run::run(a),
        Command::Ingest(a) => cmd_ingest::run(a),
        Command::Rules(a) => cmd_rules::run(a),
        Command::Serve(a) => cmd_serve::run(a),
        Command::Indicators(a) => cmd_indicators::run(a),
        Command::Evaluate(a) => cmd_evaluate::run(a),
        Command::Report(a) => cmd_report::run(a),
        Command::Profile(a) => cmd_profile::run(a),
        Command::Synth(a) => cmd_synth::run(a),
        Command::Validate(a) => cmd_validate::run(a),
        Command::Sql(a) => cmd_sql::run(a),
        Command::CheckOutput(a) => cmd_check_output::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
