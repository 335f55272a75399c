//! The indicator tables on disk: `indicators.parquet` (the tidy table), `life_tables.parquet`
//! and `funnels.parquet`, written by `ittai run` / `ittai indicators` and read back by
//! `ittai report`. All three hold exact figures and are written readable by the owner only;
//! the published CSV, xlsx and HTML apply the suppression.
//!
//! Columns (in this order):
//! - `indicators.parquet`: indicator (str), rule_id (str, null unless high_risk_rate),
//!   fy (i32), municipality_code (str, `union` for the whole union), sex (str: all, male,
//!   female), age_band (str: all, <75, 75-79 … 95+), numerator (f64), denominator (f64),
//!   persons (u64), value, age_standardised, ci_lower, ci_upper, previous_value, change
//!   (f64, nullable), direction (str: up, down, same; nullable), suppressed (bool);
//! - `life_tables.parquet`: fy, municipality_code, sex, age_band, deaths, person_years,
//!   sample, dependent, m, q, l, big_l, prevalence, e, h (see [`LifeLine`]);
//! - `funnels.parquet`: fy, rule_id, rule_name_ja, step (u32), condition_ja, persons (u64),
//!   insufficient_coverage (u64), lookback_fys (u32) (see [`FunnelStep`]).
//!
//! The coded columns (indicator, municipality_code, sex, age_band, direction) are the
//! `as_str` strings of their types and are parsed back here; an unknown value is an error
//! naming the file and column.

use std::path::{Path, PathBuf};

use ittai_dataset::atomic::Visibility;
use ittai_model::indicators::{
    AgeGroup, Area, Direction, FunnelStep, IndicatorId, IndicatorRow, LifeLine, SexGroup,
    parse_age_band,
};
use polars::prelude::*;

use super::{IndicatorSet, to_dataframe};
use crate::display::write_parquet;

/// File names inside the indicator directory.
pub const ROWS_FILE: &str = "indicators.parquet";
/// Life tables file.
pub const LIFE_FILE: &str = "life_tables.parquet";
/// Funnels file.
pub const FUNNELS_FILE: &str = "funnels.parquet";
/// 疾病分類別医療費 rows (exact, owner-only).
pub const DISEASE_COSTS_FILE: &str = "disease_costs.parquet";

/// The three tables, as read back.
#[derive(Debug, Clone, Default)]
pub struct IndicatorTables {
    /// The tidy indicator rows.
    pub rows: Vec<IndicatorRow>,
    /// Life-table lines.
    pub life: Vec<LifeLine>,
    /// Attrition funnels of every FY.
    pub funnels: Vec<FunnelStep>,
    /// 疾病分類別医療費 rows (empty when read from an older output).
    pub disease_costs: Vec<ittai_model::icd10::DiseaseCostRow>,
}

impl From<&IndicatorSet> for IndicatorTables {
    fn from(set: &IndicatorSet) -> Self {
        IndicatorTables {
            rows: set.rows.clone(),
            life: set.life_lines(),
            funnels: set.funnels(),
            disease_costs: set.disease_costs.clone(),
        }
    }
}

/// Writes the three Parquet files into `dir` (owner-only); returns their paths.
///
/// # Errors
/// Polars or I/O errors.
pub fn write(t: &IndicatorTables, dir: &Path) -> PolarsResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    let p = dir.join(ROWS_FILE);
    write_parquet(&mut to_dataframe(&t.rows)?, &p, Visibility::Private)?;
    out.push(p);
    let l = &t.life;
    let f = |g: &dyn Fn(&LifeLine) -> f64| l.iter().map(g).collect::<Vec<_>>();
    let o = |g: &dyn Fn(&LifeLine) -> Option<f64>| l.iter().map(g).collect::<Vec<_>>();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("fy".into(), l.iter().map(|x| x.fy).collect::<Vec<_>>()),
        Column::new(
            "municipality_code".into(),
            l.iter()
                .map(|x| x.municipality_code.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "sex".into(),
            l.iter().map(|x| x.sex.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "age_band".into(),
            l.iter().map(|x| x.age_band.label()).collect::<Vec<_>>(),
        ),
        Column::new("deaths".into(), f(&|x| x.deaths)),
        Column::new("person_years".into(), f(&|x| x.person_years)),
        Column::new("sample".into(), f(&|x| x.sample)),
        Column::new("dependent".into(), f(&|x| x.dependent)),
        Column::new("m".into(), o(&|x| x.m)),
        Column::new("q".into(), o(&|x| x.q)),
        Column::new("l".into(), o(&|x| x.l)),
        Column::new("big_l".into(), o(&|x| x.big_l)),
        Column::new("prevalence".into(), o(&|x| x.prevalence)),
        Column::new("e".into(), o(&|x| x.e)),
        Column::new("h".into(), o(&|x| x.h)),
    ])?;
    let p = dir.join(LIFE_FILE);
    write_parquet(&mut df, &p, Visibility::Private)?;
    out.push(p);
    let s = &t.funnels;
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("fy".into(), s.iter().map(|x| x.fy).collect::<Vec<_>>()),
        Column::new(
            "rule_id".into(),
            s.iter().map(|x| x.rule_id.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "rule_name_ja".into(),
            s.iter()
                .map(|x| x.rule_name_ja.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new("step".into(), s.iter().map(|x| x.step).collect::<Vec<_>>()),
        Column::new(
            "condition_ja".into(),
            s.iter()
                .map(|x| x.condition_ja.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "persons".into(),
            s.iter().map(|x| x.persons).collect::<Vec<_>>(),
        ),
        Column::new(
            "insufficient_coverage".into(),
            s.iter()
                .map(|x| x.insufficient_coverage)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "lookback_fys".into(),
            s.iter().map(|x| x.lookback_fys).collect::<Vec<_>>(),
        ),
    ])?;
    let p = dir.join(FUNNELS_FILE);
    write_parquet(&mut df, &p, Visibility::Private)?;
    out.push(p);
    let p = dir.join(DISEASE_COSTS_FILE);
    write_parquet(
        &mut super::disease_costs::to_dataframe(&t.disease_costs)?,
        &p,
        Visibility::Private,
    )?;
    out.push(p);
    Ok(out)
}

fn load(path: &Path) -> PolarsResult<DataFrame> {
    if !path.exists() {
        polars_bail!(ComputeError: "{} does not exist: run `ittai run` or `ittai indicators` with the same --out first", path.display());
    }
    LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )?
    .collect()
    .map_err(|e| polars_err!(ComputeError: "{}: {e}", path.display()))
}

/// Typed column access with the file named in errors.
struct Cols<'a> {
    df: &'a DataFrame,
    path: &'a Path,
}

impl Cols<'_> {
    fn get(&self, name: &str, dtype: DataType) -> PolarsResult<Series> {
        let c = self.df.column(name).map_err(
            |_| polars_err!(ColumnNotFound: "{}: column {name} is missing", self.path.display()),
        )?;
        c.as_materialized_series()
            .strict_cast(&dtype)
            .map_err(|e| polars_err!(SchemaMismatch: "{}: column {name}: {e}", self.path.display()))
    }
    fn text(&self, name: &str) -> PolarsResult<Vec<Option<String>>> {
        let s = self.get(name, DataType::String)?;
        let v = s.str()?.iter().map(|x| x.map(str::to_string)).collect();
        Ok(v)
    }
    fn text_req(&self, name: &str) -> PolarsResult<Vec<String>> {
        Ok(self
            .text(name)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }
    /// A coded text column read with `parse`: nulls stay `None`; a value `parse` rejects
    /// is an error naming the file, the column and the value.
    fn coded<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> PolarsResult<Vec<Option<T>>> {
        self.text(name)?
            .into_iter()
            .map(|v| match v {
                None => Ok(None),
                Some(v) => parse(&v).map(Some).ok_or_else(|| {
                    polars_err!(SchemaMismatch: "{}: column {name}: unknown value {v:?}", self.path.display())
                }),
            })
            .collect()
    }
    /// As [`Cols::coded`] for a column without nulls (a null is read as the empty text).
    fn coded_req<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> PolarsResult<Vec<T>> {
        let path = self.path;
        self.text_req(name)?
            .into_iter()
            .map(|v| {
                parse(&v).ok_or_else(|| {
                    polars_err!(SchemaMismatch: "{}: column {name}: unknown value {v:?}", path.display())
                })
            })
            .collect()
    }
    fn float(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        let s = self.get(name, DataType::Float64)?;
        let v = s.f64()?.iter().collect();
        Ok(v)
    }
    fn float_req(&self, name: &str) -> PolarsResult<Vec<f64>> {
        Ok(self
            .float(name)?
            .into_iter()
            .map(|x| x.unwrap_or(0.0))
            .collect())
    }
    fn int(&self, name: &str) -> PolarsResult<Vec<i64>> {
        let s = self.get(name, DataType::Int64)?;
        let v = s.i64()?.iter().map(|x| x.unwrap_or(0)).collect();
        Ok(v)
    }
    fn boolean(&self, name: &str) -> PolarsResult<Vec<bool>> {
        let s = self.get(name, DataType::Boolean)?;
        let v = s.bool()?.iter().map(|x| x.unwrap_or(false)).collect();
        Ok(v)
    }
}

/// Reads the three files from `dir`.
///
/// # Errors
/// A missing file (with a hint to run `ittai run` first), a missing column or a wrong type,
/// each naming the file.
pub fn read(dir: &Path) -> PolarsResult<IndicatorTables> {
    let path = dir.join(ROWS_FILE);
    let df = load(&path)?;
    let c = Cols {
        df: &df,
        path: &path,
    };
    let (indicator, rule_id, fy, muni, sex, band) = (
        c.coded_req("indicator", IndicatorId::parse)?,
        c.text("rule_id")?,
        c.int("fy")?,
        c.text_req("municipality_code")?,
        c.coded_req("sex", SexGroup::parse)?,
        c.coded_req("age_band", AgeGroup::parse)?,
    );
    let (num, den, persons) = (
        c.float_req("numerator")?,
        c.float_req("denominator")?,
        c.int("persons")?,
    );
    let (value, std, lo, hi, prev, change) = (
        c.float("value")?,
        c.float("age_standardised")?,
        c.float("ci_lower")?,
        c.float("ci_upper")?,
        c.float("previous_value")?,
        c.float("change")?,
    );
    let (direction, suppressed) = (
        c.coded("direction", Direction::parse)?,
        c.boolean("suppressed")?,
    );
    let rows = (0..df.height())
        .map(|i| IndicatorRow {
            indicator: indicator[i],
            rule_id: rule_id[i].clone(),
            fy: fy[i] as i32,
            municipality_code: Area::parse(&muni[i]),
            sex: sex[i],
            age_band: band[i],
            numerator: num[i],
            denominator: den[i],
            persons: persons[i] as u64,
            value: value[i],
            age_standardised: std[i],
            ci_lower: lo[i],
            ci_upper: hi[i],
            previous_value: prev[i],
            change: change[i],
            direction: direction[i],
            suppressed: suppressed[i],
        })
        .collect();

    let path = dir.join(LIFE_FILE);
    let df = load(&path)?;
    let c = Cols {
        df: &df,
        path: &path,
    };
    let (fy, muni, sex, band) = (
        c.int("fy")?,
        c.text_req("municipality_code")?,
        c.coded_req("sex", SexGroup::parse)?,
        c.coded_req("age_band", parse_age_band)?,
    );
    let (deaths, py, sample, dependent) = (
        c.float_req("deaths")?,
        c.float_req("person_years")?,
        c.float_req("sample")?,
        c.float_req("dependent")?,
    );
    let (m, q, l, big_l, prevalence, e, h) = (
        c.float("m")?,
        c.float("q")?,
        c.float("l")?,
        c.float("big_l")?,
        c.float("prevalence")?,
        c.float("e")?,
        c.float("h")?,
    );
    let life = (0..df.height())
        .map(|i| LifeLine {
            fy: fy[i] as i32,
            municipality_code: Area::parse(&muni[i]),
            sex: sex[i],
            age_band: band[i],
            deaths: deaths[i],
            person_years: py[i],
            sample: sample[i],
            dependent: dependent[i],
            m: m[i],
            q: q[i],
            l: l[i],
            big_l: big_l[i],
            prevalence: prevalence[i],
            e: e[i],
            h: h[i],
        })
        .collect();

    let path = dir.join(FUNNELS_FILE);
    let df = load(&path)?;
    let c = Cols {
        df: &df,
        path: &path,
    };
    let lookback = c.int("lookback_fys")?;
    let (fy, rule_id, name, step, cond, persons, cov) = (
        c.int("fy")?,
        c.text_req("rule_id")?,
        c.text_req("rule_name_ja")?,
        c.int("step")?,
        c.text_req("condition_ja")?,
        c.int("persons")?,
        c.int("insufficient_coverage")?,
    );
    let funnels = (0..df.height())
        .map(|i| FunnelStep {
            fy: fy[i] as i32,
            rule_id: rule_id[i].clone(),
            rule_name_ja: name[i].clone(),
            step: step[i] as u32,
            condition_ja: cond[i].clone(),
            persons: persons[i] as u64,
            insufficient_coverage: cov[i] as u64,
            lookback_fys: lookback[i] as u32,
        })
        .collect();
    let path = dir.join(DISEASE_COSTS_FILE);
    let disease_costs = if path.is_file() {
        super::disease_costs::from_dataframe(&load(&path)?)?
    } else {
        Vec::new()
    };
    Ok(IndicatorTables {
        rows,
        life,
        funnels,
        disease_costs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ittai_model::Sex;
    use ittai_model::time::AgeBand;

    /// Every field survives the round trip, including nulls.
    #[test]
    fn round_trip() {
        let t = IndicatorTables {
            rows: vec![IndicatorRow {
                indicator: IndicatorId::HighRiskRate,
                rule_id: Some("R03".into()),
                fy: 2024,
                municipality_code: Area::Union,
                sex: SexGroup::All,
                age_band: AgeGroup::Band(AgeBand::A75to79),
                numerator: 12.0,
                denominator: 345.5,
                persons: 12,
                value: Some(3.47),
                age_standardised: None,
                ci_lower: Some(1.0),
                ci_upper: None,
                previous_value: Some(2.0),
                change: Some(1.47),
                direction: Some(Direction::Up),
                suppressed: true,
            }],
            life: vec![LifeLine {
                fy: 2023,
                municipality_code: Area::Municipality("131016".into()),
                sex: SexGroup::Sex(Sex::Female),
                age_band: AgeBand::A95plus,
                deaths: 3.0,
                person_years: 10.5,
                sample: 9.0,
                dependent: 4.0,
                m: Some(0.28),
                q: Some(1.0),
                l: None,
                big_l: Some(1.0),
                prevalence: Some(0.44),
                e: Some(3.5),
                h: None,
            }],
            funnels: vec![FunnelStep {
                fy: 2022,
                rule_id: "R01".into(),
                rule_name_ja: "低栄養".into(),
                step: 2,
                condition_ja: "BMI ≦ 20".into(),
                persons: 77,
                insufficient_coverage: 3,
                lookback_fys: 3,
            }],
            disease_costs: vec![ittai_model::icd10::DiseaseCostRow {
                fy: 2024,
                municipality_code: Area::Union,
                disease_group: ittai_model::icd10::DiseaseGroup::Dispensing,
                claims: 40,
                persons: 12,
                yen: 123_450.0,
                yen_per_insured: Some(1234.5),
                share: None,
                suppressed: true,
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        write(&t, dir.path()).unwrap();
        let back = read(dir.path()).unwrap();
        assert_eq!(back.rows, t.rows);
        assert_eq!(back.life, t.life);
        assert_eq!(back.funnels, t.funnels);
        assert_eq!(back.disease_costs, t.disease_costs);
    }

    #[test]
    fn missing_files_say_what_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("indicators.parquet") && e.contains("ittai run"),
            "{e}"
        );
    }
}
