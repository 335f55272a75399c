//! `ittai rules list` / `ittai rules show R04`: the rules in plain Japanese as applied.

use std::path::PathBuf;
use std::process::ExitCode;

use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::rules::{TextContext, describe};
use ittai_model::classes::{default_disease_classes, default_drug_classes};

use crate::ui;

/// Show the extraction rules: what each selects, its parameters and its source.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// One line per rule: id, name, the condition as applied.
    List(Common),
    /// One rule in full: purpose, condition, parameters, source, file.
    Show {
        /// Rule id, e.g. R04.
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, clap::Args)]
struct Common {
    /// Directory of rule files instead of the built-in rules.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Change a parameter to see its effect, e.g. --set R03.threshold=20.
    #[arg(long = "set", value_name = "RULE.PARAM=VALUE")]
    set: Vec<String>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (common, id) = match &a.what {
        What::List(c) => (c, None),
        What::Show { id, common } => (common, Some(id.clone())),
    };
    let drugs = default_drug_classes();
    let diseases = default_disease_classes();
    let mut set =
        std::collections::BTreeMap::<String, std::collections::BTreeMap<String, String>>::new();
    for s in &common.set {
        let (lhs, v) = s
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--set {s}: expected RULE.PARAM=VALUE"))?;
        let (r, p) = lhs
            .split_once('.')
            .ok_or_else(|| anyhow::anyhow!("--set {s}: expected RULE.PARAM=VALUE"))?;
        set.entry(r.into()).or_default().insert(p.into(), v.into());
    }
    let only = id.clone().into_iter().collect();
    let rules = load_rules(
        &LoadOptions {
            dir: common.rules.clone(),
            only,
            set,
        },
        &drugs,
        &diseases,
    )?;
    for r in &rules {
        let ctx = TextContext {
            drug_classes: &drugs,
            disease_classes: &diseases,
            coverage_guard: r.coverage_guard,
        };
        let text = describe(&r.condition, &ctx);
        if id.is_none() {
            println!("{} {} {}", r.id, ui::pad(&r.name_ja, 34), text);
            continue;
        }
        println!("{} {}（{}）", r.id, r.name_ja, r.name_en);
        println!("\n目的: {}", r.purpose_ja);
        println!("\n抽出条件（適用される条件）:");
        for (i, s) in ittai_engine::steps(&r.condition).iter().enumerate() {
            println!("  {}. {}", i + 1, describe(s, &ctx));
        }
        println!(
            "\n対象: 基準日に被保険者である人。{}",
            if r.coverage_guard {
                "「…がない」条件は、その期間を通じて被保険者である人にだけ当てはめます（資格期間不足は減少表に別掲）。"
            } else {
                "資格期間の確認（coverage guard）はオフです。"
            }
        );
        if !r.params.is_empty() {
            println!("\nパラメータ（--set {}.名前=値 で変更）:", r.id);
            for (k, p) in &r.params {
                let unit = p.unit.as_deref().unwrap_or("");
                println!("  {k} = {} {unit}  … {}", p.value, p.label_ja);
            }
        }
        println!("\n出典: {}", r.citation);
        println!("定義ファイル: {}", r.origin);
    }
    Ok(ExitCode::SUCCESS)
}
