//! One person's history on one screen (個人の経年, `ittai serve`): checkup values over the
//! years, questionnaire answers, distinct oral drugs per month with the products, claims by
//! kind per month, certifications and care use, coverage spells and support records.
//! Read for one `person_id` only (the scans are filtered on it, so Parquet statistics skip
//! most row groups).

use chrono::NaiveDate;
use ittai_dataset::{Intervention, Person};
use ittai_model::{ClaimKind, Route};
use polars::prelude::*;

use crate::Sources;
use crate::features::is_code;

/// One checkup's values.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckupPoint {
    /// 健診実施日.
    pub exam_date: NaiveDate,
    /// 体重, kg.
    pub weight_kg: Option<f64>,
    /// BMI, kg/m² (derived from height and weight when missing).
    pub bmi: Option<f64>,
    /// 収縮期血圧, mmHg.
    pub sbp: Option<f64>,
    /// 拡張期血圧, mmHg.
    pub dbp: Option<f64>,
    /// HbA1c, % (NGSP).
    pub hba1c: Option<f64>,
    /// eGFR, mL/min/1.73m².
    pub egfr: Option<f64>,
    /// 尿蛋白: 1 −, 2 ±, 3 +, 4 ++, 5 +++.
    pub urine_protein: Option<u8>,
}

/// Drugs of one service month.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugMonth {
    /// 診療年月 (first day).
    pub month: NaiveDate,
    /// Distinct oral ingredients (YJ 7), as R03 counts them.
    pub distinct_oral_yj7: u32,
    /// Product names of the month (every route), sorted.
    pub products: Vec<String>,
}

/// Medical claims of one kind in one service month.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimMonth {
    /// 診療年月 (first day).
    pub month: NaiveDate,
    /// Claim kind.
    pub kind: ClaimKind,
    /// Receipts.
    pub claims: u32,
    /// 決定点数, points (1 point = 10 yen).
    pub points: i64,
}

/// Everything shown on the person page, each part sorted by date.
#[derive(Debug, Clone, Default)]
pub struct PersonHistory {
    /// Checkups.
    pub checkups: Vec<CheckupPoint>,
    /// Questionnaires: answer date and Q1 … Q15.
    pub questionnaires: Vec<(NaiveDate, [Option<u8>; 15])>,
    /// Drugs per month.
    pub drug_months: Vec<DrugMonth>,
    /// Medical claims per month and kind.
    pub claim_months: Vec<ClaimMonth>,
    /// Certifications: decision date, care level code, valid from, valid to.
    pub certifications: Vec<(NaiveDate, String, NaiveDate, NaiveDate)>,
    /// Care use: service month, サービス種類コード, units.
    pub care_months: Vec<(NaiveDate, String, i64)>,
    /// Support records (empty without an `interventions` table).
    pub support: Vec<Intervention>,
    /// Coverage spells.
    pub spells: Vec<Person>,
}

/// A date column as dates (nulls are not expected: required columns).
pub(crate) fn dates(df: &DataFrame, c: &str) -> PolarsResult<Vec<NaiveDate>> {
    Ok(df
        .column(c)?
        .cast(&DataType::Int32)?
        .i32()?
        .into_no_null_iter()
        .map(ittai_dataset::days_to_date)
        .collect())
}

/// A numeric column as optional f64.
pub(crate) fn floats(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<f64>>> {
    Ok(df
        .column(c)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .collect())
}

fn small(df: &DataFrame, c: &str) -> PolarsResult<Vec<Option<u8>>> {
    Ok(df.column(c)?.cast(&DataType::UInt8)?.u8()?.iter().collect())
}

/// The history of `person_id`. An unknown id gives an empty history.
///
/// # Errors
/// Polars errors; a support-records table that cannot be read.
pub fn history(src: &Sources, person_id: &str) -> PolarsResult<PersonHistory> {
    let me = || col("person_id").eq(lit(person_id));
    let mut h = PersonHistory::default();

    let ck = src
        .checkups()?
        .filter(me())
        .select([
            col("exam_date"),
            col("weight_kg"),
            coalesce(&[
                col("bmi"),
                (col("weight_kg") / (col("height_cm") / lit(100.0)).pow(2))
                    .round(1, RoundMode::HalfAwayFromZero),
            ])
            .alias("bmi"),
            col("sbp"),
            col("dbp"),
            col("hba1c"),
            col("egfr"),
            col("urine_protein"),
        ])
        .sort(["exam_date"], Default::default())
        .collect()?;
    let (d, w, b, s, dbp, a1c, e, u) = (
        dates(&ck, "exam_date")?,
        floats(&ck, "weight_kg")?,
        floats(&ck, "bmi")?,
        floats(&ck, "sbp")?,
        floats(&ck, "dbp")?,
        floats(&ck, "hba1c")?,
        floats(&ck, "egfr")?,
        small(&ck, "urine_protein")?,
    );
    h.checkups = (0..ck.height())
        .map(|i| CheckupPoint {
            exam_date: d[i],
            weight_kg: w[i],
            bmi: b[i],
            sbp: s[i],
            dbp: dbp[i],
            hba1c: a1c[i],
            egfr: e[i],
            urine_protein: u[i],
        })
        .collect();

    let items: Vec<String> = (1..=15).map(|k| format!("q{k:02}")).collect();
    let mut sel = vec![col("answer_date")];
    sel.extend(items.iter().map(|c| col(c.as_str())));
    let q = src
        .questionnaires()?
        .filter(me())
        .select(sel)
        .sort(["answer_date"], Default::default())
        .collect()?;
    let qd = dates(&q, "answer_date")?;
    let answers: Vec<Vec<Option<u8>>> = items
        .iter()
        .map(|c| small(&q, c))
        .collect::<PolarsResult<_>>()?;
    h.questionnaires = (0..q.height())
        .map(|i| {
            let mut a = [None; 15];
            for (k, v) in a.iter_mut().enumerate() {
                *v = answers[k][i];
            }
            (qd[i], a)
        })
        .collect();

    let lines = src
        .drugs(&["person_id", "service_month", "route"])?
        .filter(me())
        .left_join(src.drug_names(), col("drug_code"), col("drug_code"));
    let dm = lines
        .group_by([col("service_month")])
        .agg([
            col("yj7n")
                .filter(is_code(col("route"), Route::Oral).and(col("yj7n").is_not_null()))
                .n_unique()
                .cast(DataType::UInt32)
                .alias("n"),
            col("drug_name")
                .fill_null(col("drug_code"))
                .unique()
                .sort(Default::default())
                .alias("products"),
        ])
        .sort(["service_month"], Default::default())
        .collect()?;
    let months = dates(&dm, "service_month")?;
    let n = dm.column("n")?.u32()?.clone();
    let products = dm.column("products")?.list()?.clone();
    h.drug_months = (0..dm.height())
        .map(|i| DrugMonth {
            month: months[i],
            distinct_oral_yj7: n.get(i).unwrap_or(0),
            products: products
                .get_as_series(i)
                .and_then(|s| {
                    s.str()
                        .ok()
                        .map(|c| c.iter().flatten().map(str::to_string).collect())
                })
                .unwrap_or_default(),
        })
        .collect();

    let cm = src
        .medical_claims()?
        .filter(me())
        .group_by([col("service_month"), col("claim_kind")])
        .agg([
            len().cast(DataType::UInt32).alias("claims"),
            col("points").sum().cast(DataType::Int64).alias("points"),
        ])
        .sort(["service_month", "claim_kind"], Default::default())
        .collect()?;
    let months = dates(&cm, "service_month")?;
    let kinds = small(&cm, "claim_kind")?;
    let claims = cm.column("claims")?.u32()?.clone();
    let points = cm.column("points")?.i64()?.clone();
    h.claim_months = (0..cm.height())
        .filter_map(|i| {
            Some(ClaimMonth {
                month: months[i],
                kind: ClaimKind::from_code(kinds[i]?)?,
                claims: claims.get(i).unwrap_or(0),
                points: points.get(i).unwrap_or(0),
            })
        })
        .collect();

    let c = src
        .certifications()?
        .filter(me())
        .sort(["decision_date"], Default::default())
        .collect()?;
    let (dd, vf, vt) = (
        dates(&c, "decision_date")?,
        dates(&c, "valid_from")?,
        dates(&c, "valid_to")?,
    );
    let level = c.column("care_level_code")?.str()?.clone();
    h.certifications = (0..c.height())
        .map(|i| {
            (
                dd[i],
                level.get(i).unwrap_or_default().to_string(),
                vf[i],
                vt[i],
            )
        })
        .collect();

    let care = src
        .care_claims()?
        .filter(me())
        .group_by([col("service_month"), col("service_type_code")])
        .agg([col("units").sum().cast(DataType::Int64).alias("units")])
        .sort(["service_month", "service_type_code"], Default::default())
        .collect()?;
    let months = dates(&care, "service_month")?;
    let types = care.column("service_type_code")?.str()?.clone();
    let units = care.column("units")?.i64()?.clone();
    h.care_months = (0..care.height())
        .map(|i| {
            (
                months[i],
                types.get(i).unwrap_or_default().to_string(),
                units.get(i).unwrap_or(0),
            )
        })
        .collect();

    let err = |e: String| polars_err!(ComputeError: "{e}");
    h.spells =
        ittai_dataset::read_rows_where::<Person>(src.dir(), |r| r.person_id.as_str() == person_id)
            .map_err(err)?
            .0;
    if crate::programmes::has_interventions(src) {
        let mut s = ittai_dataset::read_rows_where::<Intervention>(src.dir(), |r| {
            r.person_id.as_str() == person_id
        })
        .map_err(err)?
        .0;
        s.sort_by_key(|r| r.contact_date);
        h.support = s;
    }
    Ok(h)
}
