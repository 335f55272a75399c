//! `ittai indicators`: the evaluation indicators (共通評価指標) for every FY of a dataset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ittai_dataset::atomic::Visibility;
use ittai_engine::Frame;
use ittai_engine::indicators::{self, IndicatorTables};
use ittai_engine::indicators::{IndicatorSet, compute_reusing, fiscal_years};
use ittai_engine::rules::LoadOptions;
use ittai_model::FiscalYear;
use ittai_model::indicators::{AgeGroup, SexGroup, Unit};
use ittai_report::{CsvEncoding, Headers, write_csv, write_xlsx};

use crate::{prepare, sample, ui};

/// Compute the evaluation indicators (共通評価指標) for every fiscal year of a dataset.
///
/// Per municipality and for the whole union, by sex and age band: 健診・歯科健診受診率
/// (unified denominator), ハイリスク者割合 of the ten rules, 要介護認定率, 平均余命 and
/// 平均自立期間 at 75 with 95 % CIs, medical and care cost per insured, 多剤・重複投薬,
/// 後発医薬品使用割合. Writes the exact tidy table as Parquet (owner-only) and the published
/// table (counts under 10 blanked and flagged) as CSV and xlsx.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory (default: ./sample_data or the built-in sample).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Only these fiscal years (default: every FY with medical claims).
    #[arg(long, value_name = "YEARS", value_delimiter = ',')]
    fy: Vec<i32>,
    /// Directory of rule files for ハイリスク者割合 (default: the built-in rules).
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Text encoding of CSV files: utf8 (with BOM) or sjis.
    #[arg(long, value_name = "ENC", default_value = "utf8")]
    encoding: String,
}

impl Args {
    /// The defaults `ittai report` uses when it has to compute the indicators itself.
    pub fn for_report(data: Option<PathBuf>, out: PathBuf) -> Self {
        Args {
            data,
            out,
            fy: Vec::new(),
            rules: None,
            encoding: "utf8".into(),
        }
    }
}

/// Municipality code → name, from the vendored code list.
pub fn municipality_names() -> BTreeMap<String, String> {
    ittai_dataset::reference::municipalities()
        .into_iter()
        .map(|m| (m.code, m.name))
        .collect()
}

/// Writes into `dir`: `indicators.parquet`, `life_tables.parquet`, `funnels.parquet` and
/// `disease_costs.parquet` (exact, owner-only; `ittai report` reads them), `indicators.csv`,
/// `disease_costs.csv` (疾病分類別医療費) and `indicators.xlsx` (published: counts under 10
/// and the values built on them blank and flagged ※). Returns the files written.
pub fn write(
    set: &IndicatorSet,
    dir: &Path,
    encoding: CsvEncoding,
) -> anyhow::Result<Vec<PathBuf>> {
    let tables = IndicatorTables::from(set);
    let mut out = indicators::write_tables(&tables, dir)?;
    let names = municipality_names();
    let published = ittai_report::published(&tables.rows, &names);
    let p = dir.join("indicators.csv");
    write_csv(
        &published,
        &p,
        encoding,
        Headers::Japanese,
        Visibility::Shared,
    )?;
    out.push(p);
    let life = ittai_report::life_table(&tables.life, &names);
    let funnels = ittai_report::funnel_table(&tables.funnels);
    let costs = ittai_report::published_disease_costs(&tables.disease_costs, &names);
    let p = dir.join("disease_costs.csv");
    write_csv(&costs, &p, encoding, Headers::Japanese, Visibility::Shared)?;
    out.push(p);
    let p = dir.join("indicators.xlsx");
    write_xlsx(
        &[
            ("指標", &published),
            ("生命表", &life),
            ("減少表", &funnels),
            ("疾病分類別医療費", &costs),
        ],
        &p,
        Visibility::Shared,
    )?;
    out.push(p);
    Ok(out)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let encoding = ui::csv_encoding(&a.encoding)?;
    let data = match &a.data {
        Some(d) => d.clone(),
        None => sample::default_data_dir()?,
    };
    let rules = LoadOptions {
        dir: a.rules.clone(),
        ..Default::default()
    };
    let job = prepare::open_job(&data, &a.out, rules, false)?;
    let fys: Vec<FiscalYear> = if a.fy.is_empty() {
        fiscal_years(&job.sources)?
    } else {
        a.fy.iter().map(|y| FiscalYear(*y)).collect()
    };
    anyhow::ensure!(
        !fys.is_empty(),
        "the dataset has no medical claims; give --fy"
    );
    let set = compute_with_progress(&job, &fys, None, None)?;
    let files = write(&set, &a.out.join("indicators"), encoding)?;
    print_union_summary(&set);
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

/// Computes the indicators with a progress bar over the fiscal years, reusing `done` (a
/// run of the same rules for one FY with its FY end as reference date) and `prepared`
/// (the passes over the claim files for the same rules and FY ends) when given.
pub fn compute_with_progress<'a>(
    job: &'a ittai_engine::Job,
    fys: &[FiscalYear],
    done: Option<ittai_engine::RunResult>,
    prepared: Option<ittai_engine::Runs<'a>>,
) -> anyhow::Result<IndicatorSet> {
    let pb = ui::bar(fys.len() as u64, "indicators");
    let spec = job.spec(Frame {
        fy: fys[0],
        reference: fys[0].end(),
    });
    let mut k = 0;
    let set = compute_reusing(&job.sources, fys, &spec, done, prepared, &mut |fy| {
        pb.set_position(k);
        pb.set_message(format!("FY{}", fy.0));
        k += 1;
    })?;
    pb.finish_and_clear();
    Ok(set)
}

/// Prints the union's all-sex, all-age values of the latest FY.
pub fn print_union_summary(set: &IndicatorSet) {
    let Some(fy) = set.rows.iter().map(|r| r.fy).max() else {
        return;
    };
    println!("\n共通評価指標 FY{fy}（広域連合全体、計、全年齢）");
    for r in set.rows.iter().filter(|r| {
        r.fy == fy
            && r.municipality_code.is_union()
            && r.sex == SexGroup::All
            && r.age_band == AgeGroup::All
    }) {
        let d = r.indicator.def();
        let name = format!(
            "{}{}",
            d.name_ja,
            r.rule_id
                .as_ref()
                .map(|x| format!(" {x}"))
                .unwrap_or_default()
        );
        let v = match (d.unit, r.value) {
            (Unit::Yen, Some(v)) => ui::thousands(v.round() as u64),
            (Unit::Percent | Unit::Years, Some(v)) => format!("{v:.2}"),
            (_, None) => "-".into(),
        };
        let unit = d.unit.as_str();
        let ci = match (r.ci_lower, r.ci_upper) {
            (Some(a), Some(b)) => format!("  (95%CI {a:.2}–{b:.2})"),
            _ => String::new(),
        };
        let change = ittai_report::direction_ja(r.direction).unwrap_or_default();
        println!("  {} {:>12} {unit}{ci}  {change}", ui::pad(&name, 46), v);
    }
}
