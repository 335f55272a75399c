//! The per-person value of every outcome (docs/reference/evaluation.md, "Outcomes"): pure
//! functions of a target, its claim values and its dated records.

use chrono::NaiveDate;
use ittai_model::CareLevel;
use ittai_model::evaluation::Measure;
use ittai_model::support::Programme;
use ittai_model::time::add_months;

use super::events::{ClaimValues, PersonRecords, month_no};
use super::targets::{People, Target};

/// Polypharmacy: distinct oral ingredients in a month (R03's default threshold).
pub const POLYPHARMACY_MIN: f64 = 15.0;

/// One outcome value of a person: `pre` is set for paired measures only; a value left out
/// of the denominator is not produced at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Value {
    pub measure: Measure,
    pub pre: Option<f64>,
    pub post: f64,
}

fn last_day_of_month_no(n: i32) -> NaiveDate {
    let next = n + 1;
    NaiveDate::from_ymd_opt(next.div_euclid(12), next.rem_euclid(12) as u32 + 1, 1)
        .expect("month")
        .pred_opt()
        .expect("day before")
}

fn first_day_of_month_no(n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(n.div_euclid(12), n.rem_euclid(12) as u32 + 1, 1).expect("month")
}

/// The context of one target's outcomes.
pub(crate) struct Ctx<'a> {
    pub people: &'a People,
    pub data_end: NaiveDate,
}

impl Ctx<'_> {
    /// Whether the claim window of months M+a … M+b is covered and inside the data.
    fn months_covered(&self, t: &Target, m: i32, a: i32, b: i32) -> bool {
        let (from, to) = (first_day_of_month_no(m + a), last_day_of_month_no(m + b));
        to <= self.data_end && self.people.covered(t.person, from, to)
    }
}

fn yes(v: Option<u8>) -> Option<f64> {
    v.map(|x| if x == 1 { 1.0 } else { 0.0 })
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn certified(code: &str) -> bool {
    CareLevel::from_code(code).is_some_and(CareLevel::is_certified)
}

/// The last record before `d` and the first after it.
fn around<T: Copy>(rows: &[(NaiveDate, T)], d: NaiveDate) -> (Option<T>, Option<T>) {
    let prev = rows.iter().rev().find(|(x, _)| *x < d).map(|(_, v)| *v);
    let next = rows.iter().find(|(x, _)| *x > d).map(|(_, v)| *v);
    (prev, next)
}

fn paired(out: &mut Vec<Value>, measure: Measure, pre: Option<f64>, post: Option<f64>) {
    if let (Some(a), Some(b)) = (pre, post) {
        out.push(Value {
            measure,
            pre: Some(a),
            post: b,
        });
    }
}

fn single(out: &mut Vec<Value>, measure: Measure, post: Option<f64>) {
    if let Some(b) = post {
        out.push(Value {
            measure,
            pre: None,
            post: b,
        });
    }
}

/// Every outcome value of target `t` (with an index date).
pub(crate) fn values(
    ctx: &Ctx<'_>,
    t: &Target,
    c: &ClaimValues,
    r: Option<&PersonRecords>,
) -> Vec<Value> {
    let mut out = Vec::new();
    let Some(d) = t.index else {
        return out;
    };
    let empty = PersonRecords::default();
    let r = r.unwrap_or(&empty);
    let m = month_no(d);
    let year_after = add_months(d, 12);
    let within_year = |x: NaiveDate| x > d && x <= year_after;
    let year_covered = year_after <= ctx.data_end
        && ctx
            .people
            .covered(t.person, d.succ_opt().expect("next day"), year_after);

    // Every programme: a new certification within 12 months.
    let certified_on_d = r
        .certifications
        .iter()
        .any(|(dd, code, from, to)| *dd <= d && *from <= d && d <= *to && certified(code));
    if year_covered && !certified_on_d {
        let new = r
            .certifications
            .iter()
            .any(|(dd, code, _, _)| within_year(*dd) && certified(code));
        single(&mut out, Measure::NewCertification, Some(flag(new)));
    }

    let (ck_prev, ck_next) = around(&r.checkups, d);
    let (q_prev, q_next) = around(&r.questionnaires, d);
    match t.programme {
        Programme::Medication => {
            if ctx.months_covered(t, m, -3, -1) && ctx.months_covered(t, m, 1, 3) {
                paired(
                    &mut out,
                    Measure::Institutions,
                    Some(c.institutions[0]),
                    Some(c.institutions[1]),
                );
                paired(
                    &mut out,
                    Measure::VisitDays,
                    Some(c.visit_days[0]),
                    Some(c.visit_days[1]),
                );
                paired(
                    &mut out,
                    Measure::Polypharmacy,
                    Some(flag(c.max_drugs[0] >= POLYPHARMACY_MIN)),
                    Some(flag(c.max_drugs[1] >= POLYPHARMACY_MIN)),
                );
            }
        }
        Programme::Oral => {
            if ctx.months_covered(t, m, 1, 6) {
                single(&mut out, Measure::DentalClaim, Some(flag(c.dental_6m)));
            }
            paired(
                &mut out,
                Measure::Q04Yes,
                q_prev.and_then(|q| yes(q[1])),
                q_next.and_then(|q| yes(q[1])),
            );
            paired(
                &mut out,
                Measure::Q05Yes,
                q_prev.and_then(|q| yes(q[2])),
                q_next.and_then(|q| yes(q[2])),
            );
            if c.j69_before && ctx.months_covered(t, m, 1, 12) {
                single(
                    &mut out,
                    Measure::AspirationPneumonia,
                    Some(flag(c.j69_12m)),
                );
            }
        }
        Programme::PhysicalFrailty => {
            let frail = |q: [Option<u8>; 5]| -> Option<f64> {
                let (q1, q7, q8) = (q[0]?, q[3]?, q[4]?);
                Some(flag(
                    // (Q1 ∈ {4, 5} AND Q7 = yes) OR (Q7 = yes AND Q8 = yes), factored.
                    q7 == 1 && (matches!(q1, 4 | 5) || q8 == 1),
                ))
            };
            paired(
                &mut out,
                Measure::FrailtyAnswers,
                q_prev.and_then(frail),
                q_next.and_then(frail),
            );
        }
        Programme::Undernutrition => {
            if let (Some(a), Some(b)) = (ck_prev.and_then(|v| v[0]), ck_next.and_then(|v| v[0])) {
                let delta = ((b - a) * 10.0).round() / 10.0;
                single(
                    &mut out,
                    Measure::WeightKept,
                    Some(flag(delta.abs() <= 0.9)),
                );
                single(&mut out, Measure::WeightGained, Some(flag(delta >= 1.0)));
                single(&mut out, Measure::WeightLost, Some(flag(delta <= -1.0)));
            }
            let low = |v: [Option<f64>; 5]| v[1].map(|b| flag(b <= 20.0));
            paired(
                &mut out,
                Measure::Bmi20,
                ck_prev.and_then(low),
                ck_next.and_then(low),
            );
        }
        Programme::DiseasePrevention => {
            if ctx.months_covered(t, m, 1, 6) {
                let confirmed = if t.rules.contains(&"R07") {
                    c.class_drug_6m
                } else if t.rules == ["R09"] {
                    c.medical_visit_6m
                } else {
                    c.confirmed_6m
                };
                single(&mut out, Measure::VisitConfirmed, Some(flag(confirmed)));
            }
            let high_a1c = |v: [Option<f64>; 5]| v[2].map(|x| flag(x >= 8.0));
            paired(
                &mut out,
                Measure::Hba1c8,
                ck_prev.and_then(high_a1c),
                ck_next.and_then(high_a1c),
            );
            let high_bp = |v: [Option<f64>; 5]| -> Option<f64> {
                if v[3].is_none() && v[4].is_none() {
                    return None;
                }
                Some(flag(
                    v[3].is_some_and(|s| s >= 160.0) || v[4].is_some_and(|x| x >= 100.0),
                ))
            };
            paired(
                &mut out,
                Measure::Bp160100,
                ck_prev.and_then(high_bp),
                ck_next.and_then(high_bp),
            );
        }
        Programme::HealthUnknown => {
            if ctx.months_covered(t, m, 1, 12) && year_covered {
                let contact = c.claim_12m
                    || c.care_12m
                    || r.checkups.iter().any(|(x, _)| within_year(*x))
                    || r.certifications
                        .iter()
                        .any(|(dd, code, _, _)| within_year(*dd) && code != "01");
                single(&mut out, Measure::Contact12m, Some(flag(contact)));
            }
        }
    }
    out
}
