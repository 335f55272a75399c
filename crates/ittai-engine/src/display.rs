//! DataFrames to plain tables for people: Japanese headers and labels instead of codes
//! (性別 男/女, 要介護度 要介護2, 質問票 はい/いいえ, 尿蛋白 +, 診療年月 2024-05), or the
//! raw values with English names for programs.

use std::collections::BTreeMap;

use ittai_dataset::{Cells, Table};
use ittai_model::{CareLevel, Sex, UrineTest, questionnaire};
use polars::prelude::*;

/// Japanese headers of the base and well-known columns.
pub fn default_headers() -> BTreeMap<String, String> {
    ittai_model::labels::COLUMNS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Converts `df` to a [`Table`]. With `labels`, codes become Japanese labels for people;
/// without, values stay as stored. Headers come from `headers` (falling back to the
/// column name).
///
/// # Errors
/// Polars errors converting columns.
pub fn to_table(
    df: &DataFrame,
    headers: &BTreeMap<String, String>,
    labels: bool,
) -> PolarsResult<Table> {
    let mut t = Table::default();
    for c in df.columns() {
        let name = c.name().to_string();
        let header = headers.get(&name).cloned().unwrap_or_else(|| name.clone());
        let s = c.as_materialized_series();
        let cells = if labels { labelled(&name, s)? } else { None };
        let cells = match cells {
            Some(x) => x,
            None => plain(s)?,
        };
        t.push(&name, &header, cells);
    }
    Ok(t)
}

fn plain(s: &Series) -> PolarsResult<Cells> {
    Ok(match s.dtype() {
        DataType::String => Cells::Text(s.str()?.iter().map(|x| x.map(str::to_string)).collect()),
        DataType::Boolean => Cells::Text(
            s.bool()?
                .iter()
                .map(|x| x.map(|b| if b { "true".into() } else { "false".into() }))
                .collect(),
        ),
        DataType::Date => Cells::Date(s.date()?.as_date_iter().collect()),
        DataType::Float32 | DataType::Float64 => {
            Cells::Float(s.cast(&DataType::Float64)?.f64()?.iter().collect())
        }
        dt if dt.is_integer() => Cells::Int(s.cast(&DataType::Int64)?.i64()?.iter().collect()),
        _ => Cells::Text(
            s.cast(&DataType::String)?
                .str()?
                .iter()
                .map(|x| x.map(str::to_string))
                .collect(),
        ),
    })
}

fn u8s(s: &Series) -> PolarsResult<Vec<Option<u8>>> {
    Ok(s.cast(&DataType::UInt8)?.u8()?.iter().collect())
}

fn labelled(name: &str, s: &Series) -> PolarsResult<Option<Cells>> {
    let text = |v: Vec<Option<String>>| Some(Cells::Text(v));
    if name == "sex" {
        return Ok(text(
            u8s(s)?
                .into_iter()
                .map(|x| x.and_then(Sex::from_code).map(|s| s.label_ja().to_string()))
                .collect(),
        ));
    }
    if name == "care_level" {
        return Ok(text(
            s.str()?
                .iter()
                .map(|x| {
                    x.and_then(CareLevel::from_code)
                        .map(|l| l.label_ja().to_string())
                })
                .collect(),
        ));
    }
    if let Some(n) = name.strip_prefix('q').and_then(|x| x.parse::<u8>().ok())
        && let Some(item) = questionnaire::item(n)
    {
        return Ok(text(
            u8s(s)?
                .into_iter()
                .map(|x| {
                    x.map(|c| {
                        item.answer_label(c)
                            .map(str::to_string)
                            .unwrap_or_else(|| c.to_string())
                    })
                })
                .collect(),
        ));
    }
    if name.starts_with("urine_") {
        return Ok(text(
            u8s(s)?
                .into_iter()
                .map(|x| {
                    x.and_then(UrineTest::from_code)
                        .map(|u| u.symbol().to_string())
                })
                .collect(),
        ));
    }
    if name.ends_with("_month") && s.dtype() == &DataType::Date {
        return Ok(text(
            s.date()?
                .as_date_iter()
                .map(|d| d.map(|d| d.format("%Y-%m").to_string()))
                .collect(),
        ));
    }
    if matches!(name, "sbp" | "dbp") {
        return Ok(Some(Cells::Int(
            s.cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|x| x.map(|v| v.round() as i64))
                .collect(),
        )));
    }
    if s.dtype() == &DataType::Boolean {
        return Ok(text(
            s.bool()?
                .iter()
                .map(|x| x.map(|b| if b { "あり".into() } else { "なし".into() }))
                .collect(),
        ));
    }
    Ok(None)
}

/// Writes `df` as Parquet (zstd) atomically with the given visibility.
///
/// # Errors
/// Polars or I/O errors.
pub fn write_parquet(
    df: &mut DataFrame,
    path: &std::path::Path,
    visibility: ittai_dataset::atomic::Visibility,
) -> PolarsResult<()> {
    let file = ittai_dataset::atomic::AtomicFile::create(path, visibility)
        .map_err(|e| polars_err!(ComputeError: "{}: {e}", path.display()))?;
    let mut file = file;
    ParquetWriter::new(&mut file)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)?;
    file.commit()
        .map_err(|e| polars_err!(ComputeError: "{}: {e}", path.display()))?;
    Ok(())
}

/// Writes a plain [`Table`] as Parquet (English column names), atomically.
///
/// # Errors
/// Polars or I/O errors.
pub fn write_table_parquet(
    t: &Table,
    path: &std::path::Path,
    visibility: ittai_dataset::atomic::Visibility,
) -> PolarsResult<()> {
    let cols: Vec<Column> = t
        .columns
        .iter()
        .map(|c| {
            let name: PlSmallStr = c.name.as_str().into();
            match &c.cells {
                Cells::Text(v) => {
                    Column::new(name, v.iter().map(|x| x.as_deref()).collect::<Vec<_>>())
                }
                Cells::Int(v) => Column::new(name, v.clone()),
                Cells::Float(v) => Column::new(name, v.clone()),
                Cells::Date(v) => {
                    let days: Vec<Option<i32>> = v
                        .iter()
                        .map(|d| d.map(ittai_dataset::date_to_days))
                        .collect();
                    Column::new(name, days)
                        .cast(&DataType::Date)
                        .expect("i32 to date")
                }
            }
        })
        .collect();
    let mut df = DataFrame::new_infer_height(cols)?;
    write_parquet(&mut df, path, visibility)
}
