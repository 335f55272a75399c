//! `ittai indicators`: the evaluation indicators (共通評価指標) for every FY of a dataset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use ittai_engine::indicators::{IndicatorSet, compute, fiscal_years, to_dataframe};
use ittai_engine::rules::{LoadOptions, load_rules};
use ittai_engine::{Frame, RunSpec, Sources};
use ittai_io::atomic::Visibility;
use ittai_io::masters::{DiseaseMaster, DrugMaster};
use ittai_model::FiscalYear;
use ittai_model::classes::{default_disease_classes, default_drug_classes};
use ittai_report::{Cells, CsvEncoding, Headers, Table, write_csv, write_xlsx};

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

/// Municipality code → name, from the vendored code list.
pub fn municipality_names() -> BTreeMap<String, String> {
    ittai_io::reference::municipalities().into_iter().map(|m| (m.code, m.name)).collect()
}

/// Writes `indicators.parquet` (exact, owner-only), `indicators.csv` and `indicators.xlsx`
/// (published) into `dir`; returns the files written.
pub fn write(set: &IndicatorSet, dir: &Path, encoding: CsvEncoding) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut df = to_dataframe(&set.rows)?;
    let p = dir.join("indicators.parquet");
    ittai_engine::display::write_parquet(&mut df, &p, Visibility::Private)?;
    out.push(p);
    let published = ittai_report::indicators::published(&set.rows, &municipality_names());
    let p = dir.join("indicators.csv");
    write_csv(&published, &p, encoding, Headers::Japanese, Visibility::Shared)?;
    out.push(p);
    let life = life_table_sheet(set);
    let p = dir.join("indicators.xlsx");
    write_xlsx(&[("指標", &published), ("生命表（広域連合）", &life)], &p, Visibility::Shared)?;
    out.push(p);
    Ok(out)
}

/// The union's life tables (all FYs, by sex) as a table.
fn life_table_sheet(set: &IndicatorSet) -> Table {
    let mut rows: Vec<(i32, String, String, ittai_engine::indicators::cells::LifeInput, Option<ittai_engine::lifetable::LifeTableRow>)> = Vec::new();
    for lt in set.life_tables.iter().filter(|t| t.municipality_code == ittai_model::indicators::UNION) {
        for (i, input) in lt.inputs.iter().enumerate() {
            let row = lt.table.as_ref().ok().and_then(|t| t.rows.get(i).copied());
            rows.push((lt.fy, lt.sex.clone(), input.age_band.clone(), input.clone(), row));
        }
    }
    let mut t = Table::default();
    t.push("fy", "年度", Cells::Int(rows.iter().map(|r| Some(r.0 as i64)).collect()));
    t.push("sex", "性別", Cells::Text(rows.iter().map(|r| Some(ittai_model::indicators::sex_label_ja(&r.1).to_string())).collect()));
    t.push("age_band", "年齢階級", Cells::Text(rows.iter().map(|r| Some(r.2.clone())).collect()));
    t.push("deaths", "死亡数", Cells::Float(rows.iter().map(|r| Some(r.3.deaths)).collect()));
    t.push("person_years", "観察人年", Cells::Float(rows.iter().map(|r| Some((r.3.person_years * 10.0).round() / 10.0)).collect()));
    t.push("m", "死亡率", Cells::Float(rows.iter().map(|r| r.4.map(|x| x.m)).collect()));
    t.push("q", "死亡確率", Cells::Float(rows.iter().map(|r| r.4.map(|x| x.q)).collect()));
    t.push("l", "生存数", Cells::Float(rows.iter().map(|r| r.4.map(|x| x.l.round())).collect()));
    t.push("big_l", "定常人口", Cells::Float(rows.iter().map(|r| r.4.map(|x| x.big_l.round())).collect()));
    t.push("prevalence", "要介護2以上の割合", Cells::Float(rows.iter().map(|r| r.4.map(|x| x.prevalence)).collect()));
    t.push("e", "平均余命", Cells::Float(rows.iter().map(|r| r.4.map(|x| (x.e * 100.0).round() / 100.0)).collect()));
    t.push("h", "平均自立期間", Cells::Float(rows.iter().map(|r| r.4.map(|x| (x.h * 100.0).round() / 100.0)).collect()));
    t
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let encoding = match a.encoding.to_lowercase().as_str() {
        "utf8" | "utf-8" => CsvEncoding::Utf8Bom,
        "sjis" | "shift_jis" | "cp932" => CsvEncoding::ShiftJis,
        other => bail!("--encoding {other}: expected utf8 or sjis"),
    };
    let data = match &a.data {
        Some(d) => d.clone(),
        None => sample::default_data_dir()?,
    };
    let drugs = default_drug_classes();
    let diseases = default_disease_classes();
    let rules = load_rules(&LoadOptions { dir: a.rules.clone(), ..Default::default() }, &drugs, &diseases)?;
    let prepared = prepare::prepare(&data, &a.out, chrono::Local::now().date_naive(), false)?;
    let src = Sources::open(&prepared.dir, &DrugMaster::embedded(), &DiseaseMaster::embedded())?;
    let fys: Vec<FiscalYear> = if a.fy.is_empty() { fiscal_years(&src)? } else { a.fy.iter().map(|y| FiscalYear(*y)).collect() };
    anyhow::ensure!(!fys.is_empty(), "the dataset has no medical claims; give --fy");
    let set = compute_with_progress(&src, &fys, &rules, &drugs, &diseases)?;
    let files = write(&set, &a.out.join("indicators"), encoding)?;
    print_union_summary(&set);
    eprintln!("\nwrote {} (published files blank counts under 10 and mark them ※)", files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    Ok(ExitCode::SUCCESS)
}

/// Computes the indicators with a progress bar over the fiscal years.
pub fn compute_with_progress(
    src: &Sources,
    fys: &[FiscalYear],
    rules: &[ittai_engine::rules::Rule],
    drugs: &BTreeMap<String, ittai_model::classes::DrugClass>,
    diseases: &BTreeMap<String, ittai_model::classes::DiseaseClass>,
) -> anyhow::Result<IndicatorSet> {
    let pb = ui::bar(fys.len() as u64, "indicators");
    let spec = RunSpec { frame: Frame { fy: fys[0], reference: fys[0].end() }, rules, drug_classes: drugs, disease_classes: diseases };
    let mut k = 0;
    let set = compute(src, fys, &spec, &mut |fy| {
        pb.set_position(k);
        pb.set_message(format!("FY{}", fy.0));
        k += 1;
    })?;
    pb.finish_and_clear();
    Ok(set)
}

/// Prints the union's all-sex, all-age values of the latest FY.
pub fn print_union_summary(set: &IndicatorSet) {
    let Some(fy) = set.rows.iter().map(|r| r.fy).max() else { return };
    println!("\n共通評価指標 FY{fy}（広域連合全体、計、全年齢）");
    for r in set.rows.iter().filter(|r| r.fy == fy && r.municipality_code == "union" && r.sex == "all" && r.age_band == "all") {
        let d = ittai_model::indicators::def(&r.indicator);
        let name = format!("{}{}", d.map(|d| d.name_ja).unwrap_or(&r.indicator), r.rule_id.as_ref().map(|x| format!(" {x}")).unwrap_or_default());
        let unit = d.map(|d| d.unit).unwrap_or("");
        let v = match r.value {
            Some(v) if unit == "円" => ui::thousands(v.round() as u64),
            Some(v) => format!("{v:.2}"),
            None => "-".into(),
        };
        let ci = match (r.ci_lower, r.ci_upper) {
            (Some(a), Some(b)) => format!("  (95%CI {a:.2}–{b:.2})"),
            _ => String::new(),
        };
        let change = ittai_report::indicators::direction_ja(r.direction.as_deref()).unwrap_or_default();
        println!("  {} {:>12} {unit}{ci}  {change}", ui::pad(&name, 46), v);
    }
}
