//! `ittai report`: the committee report — one self-contained HTML file and an xlsx workbook
//! drawn from the indicator tables of `ittai run` / `ittai indicators`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use ittai_dataset::atomic::Visibility;
use ittai_engine::indicators::{self, IndicatorTables};
use ittai_model::evaluation::EvaluationRow;
use ittai_model::icd10::DiseaseCostRow;
use ittai_model::indicators::{AgeGroup, SexGroup};
use ittai_report::write_xlsx;
use ittai_report::{ReportInput, write_html};
use ittai_report::{
    comparison_table, funnel_table, life_table, published, published_disease_costs,
    published_evaluation,
};

use crate::cmd_evaluate;
use crate::cmd_indicators::{self, municipality_names};

/// Draw the committee report: report.html (self-contained, opens offline) and report.xlsx.
///
/// Besides the common indicators, the report has a section on programme evaluation
/// (個別事業の評価) and one on medical cost by disease group (疾病分類別医療費); without
/// support records (interventions) they hold a short note instead.
///
/// Reads OUT/indicators/ written by `ittai run` or `ittai indicators`. When they are not
/// there it computes them first from --data (default: ./sample_data or the built-in
/// sample). The report holds aggregates only: counts under 10 and the rates built on them
/// are shown as ※.
///
/// Examples:
///   ittai run && ittai report          → out/report.html, out/report.xlsx
///   ittai report --data DIR --out DIR --title "○○県後期高齢者医療広域連合"
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory of `ittai run` (the report is written there too).
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Dataset to compute the indicators from when OUT/indicators/ does not exist yet.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Recompute the indicators from --data even if OUT/indicators/ exists.
    #[arg(long)]
    recompute: bool,
    /// Title of the report (default: 「（都道府県名）後期高齢者医療広域連合 共通評価指標レポート」).
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let dir = a.out.join("indicators");
    if a.recompute || !dir.join(indicators::ROWS_FILE).exists() {
        eprintln!(
            "ittai report: no indicator tables in {} yet; computing them first",
            dir.display()
        );
        cmd_indicators::run(cmd_indicators::Args::for_report(
            a.data.clone(),
            a.out.clone(),
        ))?;
        cmd_evaluate::run(cmd_evaluate::Args::for_report(
            a.data.clone(),
            a.out.clone(),
        ))?;
    }
    let tables: IndicatorTables = indicators::read_tables(&dir)?;
    let names = municipality_names();
    let title = a.title.clone().unwrap_or_else(|| default_title(&tables));
    let fys: BTreeSet<i32> = tables.rows.iter().map(|r| r.fy).collect();
    let subtitle = format!(
        "作成 {} ／ ittai {} ／ 入力 {}",
        chrono::Local::now().format("%Y-%m-%d"),
        env!("CARGO_PKG_VERSION"),
        dir.display()
    );
    // The programme evaluation (written by `ittai run` / `ittai evaluate`; absent without
    // support records) and 疾病分類別医療費 (written with the indicators). Empty slices make
    // the report print a note in place of the two sections and leave their sheets out.
    let evaluation: Vec<EvaluationRow> =
        ittai_engine::programmes::read_rows(&a.out.join("evaluation"))?;
    let disease_costs: Vec<DiseaseCostRow> = tables.disease_costs.clone();
    let input = ReportInput {
        title: &title,
        subtitle: &subtitle,
        rows: &tables.rows,
        life: &tables.life,
        funnels: &tables.funnels,
        names: &names,
        evaluation: &evaluation,
        disease_costs: &disease_costs,
    };
    let html = a.out.join("report.html");
    write_html(input, &html)?;
    let latest = *fys.last().unwrap_or(&0);
    let xlsx = a.out.join("report.xlsx");
    let union_rows: Vec<_> = tables
        .rows
        .iter()
        .filter(|r| {
            r.municipality_code.is_union()
                && r.fy == latest
                && r.sex == SexGroup::All
                && r.age_band == AgeGroup::All
        })
        .cloned()
        .collect();
    let (summary_name, comparison_name) = (
        format!("概要 {latest}年度"),
        format!("市町村比較 {latest}年度"),
    );
    let summary = published(&union_rows, &names);
    let comparison = comparison_table(&tables.rows, latest, &names);
    let all_rows = published(&tables.rows, &names);
    let life = life_table(&tables.life, &names);
    let funnels = funnel_table(&tables.funnels);
    let evaluation_sheet = published_evaluation(&evaluation, &names);
    let disease_sheet = published_disease_costs(&disease_costs, &names);
    let mut sheets = vec![
        (summary_name.as_str(), &summary),
        (comparison_name.as_str(), &comparison),
        ("指標（全件）", &all_rows),
        ("生命表", &life),
        ("減少表", &funnels),
    ];
    if !evaluation.is_empty() {
        sheets.push(("個別事業評価", &evaluation_sheet));
    }
    if !disease_costs.is_empty() {
        sheets.push(("疾病分類別医療費", &disease_sheet));
    }
    write_xlsx(&sheets, &xlsx, Visibility::Shared)?;
    eprintln!(
        "wrote {} and {} (aggregates only; counts under 10 are shown as ※)",
        html.display(),
        xlsx.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// 「（都道府県名）後期高齢者医療広域連合 共通評価指標レポート」 when every municipality is in one
/// prefecture, else a generic title.
pub fn default_title(t: &IndicatorTables) -> String {
    let prefs: BTreeSet<&str> = t
        .rows
        .iter()
        .filter_map(|r| r.municipality_code.code())
        .filter_map(|code| code.get(..2))
        .collect();
    let name = match prefs.iter().next() {
        Some(code) if prefs.len() == 1 => {
            ittai_dataset::reference::find_prefecture(code).map(|p| p.name)
        }
        _ => None,
    };
    match name {
        Some(p) => format!("{p}後期高齢者医療広域連合 共通評価指標レポート"),
        None => "後期高齢者医療広域連合 共通評価指標レポート".to_string(),
    }
}
