//! From per-person values to the evaluation rows: outputs, supported vs not supported with
//! the comparison standardised by sex × age band and a Wald 95 % CI of the difference, the
//! union-level municipality counts, and small-count suppression
//! (docs/reference/evaluation.md, "Comparison and confidence interval", "Outputs and
//! suppression").

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ittai_model::evaluation::{EvalUnit, EvaluationRow, Group, Measure, Period};
use ittai_model::indicators::Area;
use ittai_model::support::Programme;

use super::outcomes::Value;
use super::targets::{Outside, Stratum, Target};

/// Published counts below this are suppressed (as the common indicators).
const MIN: f64 = 10.0;

fn small(x: f64) -> bool {
    x > 0.0 && x < MIN
}

/// The mean and variance (divisor n) of values.
fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var)
}

/// The comparison of one outcome: supported values and not-supported values by stratum.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Supported persons in the strata held by both groups.
    pub n: usize,
    /// Supported mean over those strata.
    pub supported: f64,
    /// Comparison mean standardised to the supported persons' mix of those strata.
    pub standardised: f64,
    /// supported − standardised.
    pub difference: f64,
    /// Wald 95 % interval of the difference.
    pub ci: (f64, f64),
}

/// Direct standardisation of the not-supported group to the supported group's strata, and
/// the difference with its Wald 95 % CI (docs/reference/evaluation.md). `None` when no
/// stratum holds persons of both groups.
pub fn compare(supported: &[(Stratum, f64)], other: &[(Stratum, f64)]) -> Option<Comparison> {
    let mut s: BTreeMap<Stratum, Vec<f64>> = BTreeMap::new();
    let mut o: BTreeMap<Stratum, Vec<f64>> = BTreeMap::new();
    for (k, v) in supported {
        s.entry(*k).or_default().push(*v);
    }
    for (k, v) in other {
        o.entry(*k).or_default().push(*v);
    }
    let shared: Vec<Stratum> = s.keys().filter(|k| o.contains_key(k)).copied().collect();
    let ns: usize = shared.iter().map(|k| s[k].len()).sum();
    if ns == 0 {
        return None;
    }
    let all_s: Vec<f64> = shared.iter().flat_map(|k| s[k].iter().copied()).collect();
    let (ms, vs) = mean_var(&all_s);
    let (mut mc, mut vc) = (0.0, 0.0);
    for k in &shared {
        let w = s[k].len() as f64 / ns as f64;
        let (m, v) = mean_var(&o[k]);
        mc += w * m;
        vc += w * w * v / o[k].len() as f64;
    }
    let diff = ms - mc;
    let half = 1.96 * (vs / ns as f64 + vc).sqrt();
    Some(Comparison {
        n: ns,
        supported: ms,
        standardised: mc,
        difference: diff,
        ci: (diff - half, diff + half),
    })
}

fn scale(m: Measure) -> f64 {
    match m.unit() {
        EvalUnit::Percent => 100.0,
        _ => 1.0,
    }
}

fn row(
    fy: i32,
    p: Option<Programme>,
    area: &Area,
    m: Measure,
    g: Group,
    period: Period,
) -> EvaluationRow {
    EvaluationRow {
        fy,
        programme: p,
        municipality_code: area.clone(),
        measure: m,
        group: g,
        period,
        numerator: None,
        denominator: None,
        value: None,
        standardised: None,
        ci_low: None,
        ci_high: None,
        suppressed: false,
    }
}

fn share(num: f64, den: f64, sc: f64) -> Option<f64> {
    (den > 0.0).then(|| sc * num / den)
}

/// The rows of one FY × programme × area from its targets and their values.
pub(crate) fn programme_rows(
    fy: i32,
    p: Programme,
    area: &Area,
    targets: &[(&Target, &[Value])],
    outside: u64,
    rows: &mut Vec<EvaluationRow>,
) {
    let n = targets.len() as f64;
    let contacted = targets.iter().filter(|(t, _)| t.contacted).count() as f64;
    let supported = targets.iter().filter(|(t, _)| t.supported).count() as f64;
    let referred = targets
        .iter()
        .filter(|(t, _)| t.supported && t.referred)
        .count() as f64;
    let needs = targets
        .iter()
        .filter(|(t, _)| t.supported && t.needs_referral)
        .count() as f64;
    let out = |m: Measure, num: f64, den: Option<f64>| {
        let mut r = row(fy, Some(p), area, m, Group::All, Period::None);
        r.numerator = Some(num);
        r.denominator = den;
        r.value = match (m.unit(), den) {
            (EvalUnit::Persons, _) => Some(num),
            (_, Some(d)) => share(num, d, scale(m)),
            (_, None) => None,
        };
        r
    };
    rows.push(out(Measure::Targets, n, Some(n)));
    rows.push(out(Measure::Contacted, contacted, Some(n)));
    rows.push(out(Measure::Supported, supported, Some(n)));
    rows.push(out(Measure::OutsideLists, outside as f64, None));
    rows.push(out(Measure::Referred, referred, Some(supported)));
    rows.push(out(Measure::NeedsReferral, needs, Some(supported)));

    for &m in Measure::ALL {
        let applies = match m {
            Measure::NewCertification => true,
            _ => m.programmes().contains(&p),
        };
        if !applies {
            continue;
        }
        let sc = scale(m);
        // (stratum, pre, post) per group.
        let mut by_group: HashMap<bool, Vec<(Stratum, Option<f64>, f64)>> = HashMap::new();
        for (t, vals) in targets {
            if t.index.is_none() {
                continue;
            }
            for v in vals.iter().filter(|v| v.measure == m) {
                by_group
                    .entry(t.supported)
                    .or_default()
                    .push((t.stratum, v.pre, v.post));
            }
        }
        let periods: &[Period] = if m.paired() {
            &[Period::Pre, Period::Post, Period::Change]
        } else {
            &[Period::Post]
        };
        let pick = |x: &(Stratum, Option<f64>, f64), period: Period| -> f64 {
            match period {
                Period::Pre => x.1.unwrap_or(0.0),
                Period::Change => x.2 - x.1.unwrap_or(0.0),
                _ => x.2,
            }
        };
        for &period in periods {
            let mut per: [Vec<(Stratum, f64)>; 2] = [Vec::new(), Vec::new()];
            for (k, supported) in [(0, true), (1, false)] {
                per[k] = by_group
                    .get(&supported)
                    .map(|v| v.iter().map(|x| (x.0, pick(x, period))).collect())
                    .unwrap_or_default();
            }
            let cmp = compare(&per[0], &per[1]);
            for (k, g) in [(0, Group::Supported), (1, Group::NotSupported)] {
                let mut r = row(fy, Some(p), area, m, g, period);
                let num: f64 = per[k].iter().map(|x| x.1).sum();
                let den = per[k].len() as f64;
                r.numerator = Some(num);
                r.denominator = Some(den);
                r.value = share(num, den, sc);
                if g == Group::NotSupported {
                    r.standardised = cmp.as_ref().map(|c| c.standardised * sc);
                }
                rows.push(r);
            }
            let comparison_period = if m.paired() {
                Period::Change
            } else {
                Period::Post
            };
            if period == comparison_period {
                let mut r = row(fy, Some(p), area, m, Group::Difference, period);
                if let Some(c) = &cmp {
                    r.denominator = Some(c.n as f64);
                    r.value = Some(c.difference * sc);
                    r.ci_low = Some(c.ci.0 * sc);
                    r.ci_high = Some(c.ci.1 * sc);
                }
                rows.push(r);
            }
        }
    }
}

/// Rows of every FY × programme × area, union first then municipalities by code.
pub(crate) fn all_rows(
    targets: &[Target],
    values: &[Vec<Value>],
    outside: &Outside,
) -> Vec<EvaluationRow> {
    let mut groups: BTreeMap<(i32, Programme, Area), Vec<(&Target, &[Value])>> = BTreeMap::new();
    for (t, v) in targets.iter().zip(values) {
        for area in [Area::Union, Area::Municipality(t.municipality.clone())] {
            groups
                .entry((t.fy, t.programme, area))
                .or_default()
                .push((t, v.as_slice()));
        }
    }
    // Areas with records outside the lists but no targets still get their rows.
    for ((fy, p, muni), _) in outside.iter() {
        groups.entry((*fy, *p, Area::Union)).or_default();
        if let Some(m) = muni {
            groups
                .entry((*fy, *p, Area::Municipality(m.clone())))
                .or_default();
        }
    }
    let mut rows = Vec::new();
    for ((fy, p, area), ts) in &groups {
        let out: u64 = outside
            .iter()
            .filter(|((f, q, m), _)| {
                f == fy && q == p && (area.is_union() || m.as_deref() == area.code())
            })
            .map(|(_, n)| *n)
            .sum();
        programme_rows(*fy, *p, area, ts, out, &mut rows);
    }
    rows
}

/// Union rows counting municipalities: those running each programme, holding dental
/// checkups, running questionnaire-based support. `munis[fy]` = every municipality with
/// insured persons on April 1; `running[fy]` = (programme, municipality) pairs with a record;
/// `dental[fy]` = municipalities with a dental checkup.
pub(crate) fn municipality_rows(
    munis: &BTreeMap<i32, BTreeSet<String>>,
    running: &BTreeMap<i32, BTreeSet<(Programme, String)>>,
    dental: &BTreeMap<i32, BTreeSet<String>>,
) -> Vec<EvaluationRow> {
    let mut rows = Vec::new();
    let empty = BTreeSet::new();
    for (fy, all) in munis {
        let den = all.len() as f64;
        let run = running.get(fy).unwrap_or(&empty);
        let mk = |p: Option<Programme>, m: Measure, num: usize| {
            let mut r = row(*fy, p, &Area::Union, m, Group::All, Period::None);
            r.numerator = Some(num as f64);
            r.denominator = Some(den);
            r.value = share(num as f64, den, 100.0);
            r
        };
        for p in Programme::ALL {
            let n = all
                .iter()
                .filter(|m| run.contains(&(*p, (*m).clone())))
                .count();
            rows.push(mk(Some(*p), Measure::MunicipalitiesRunning, n));
        }
        let n = dental
            .get(fy)
            .map(|d| d.intersection(all).count())
            .unwrap_or(0);
        rows.push(mk(None, Measure::MunicipalitiesDentalCheckups, n));
        let q = [
            Programme::Undernutrition,
            Programme::Oral,
            Programme::PhysicalFrailty,
        ];
        let n = all
            .iter()
            .filter(|m| q.iter().any(|p| run.contains(&(*p, (*m).clone()))))
            .count();
        rows.push(mk(None, Measure::MunicipalitiesQuestionnaireSupport, n));
    }
    rows
}

/// The identity of a row without its area.
type SetKey = (i32, Option<Programme>, Measure, Group, Period);

fn set_key(r: &EvaluationRow) -> SetKey {
    (r.fy, r.programme, r.measure, r.group, r.period)
}

/// Primary and secondary suppression of person counts (docs/reference/evaluation.md).
pub(crate) fn suppress(rows: &mut [EvaluationRow]) {
    // Primary.
    for r in rows.iter_mut() {
        if matches!(
            r.measure,
            Measure::MunicipalitiesRunning
                | Measure::MunicipalitiesDentalCheckups
                | Measure::MunicipalitiesQuestionnaireSupport
        ) || r.group == Group::Difference
        {
            continue;
        }
        let num = r.numerator.unwrap_or(0.0);
        let den = r.denominator.unwrap_or(0.0);
        let counted = r.measure.unit() != EvalUnit::Mean && r.period != Period::Change;
        r.suppressed = small(den)
            || (counted && (small(num) || (r.denominator.is_some() && small(den - num))));
    }
    // The funnel: supported hides when contacted − supported is 1–9.
    let hidden_funnel: Vec<usize> = (0..rows.len())
        .filter(|&i| {
            let r = &rows[i];
            r.measure == Measure::Supported
                && rows.iter().any(|c| {
                    c.measure == Measure::Contacted
                        && c.fy == r.fy
                        && c.programme == r.programme
                        && c.municipality_code == r.municipality_code
                        && small(c.numerator.unwrap_or(0.0) - r.numerator.unwrap_or(0.0))
                })
        })
        .collect();
    for i in hidden_funnel {
        rows[i].suppressed = true;
    }
    // Paired rows: pre, post and change of a group stand or fall together.
    let mut fall: BTreeSet<(i32, Option<Programme>, String, Measure, Group)> = BTreeSet::new();
    for r in rows.iter().filter(|r| r.suppressed && r.measure.paired()) {
        fall.insert((
            r.fy,
            r.programme,
            r.municipality_code.as_str().to_string(),
            r.measure,
            r.group,
        ));
    }
    for r in rows.iter_mut().filter(|r| r.measure.paired()) {
        if fall.contains(&(
            r.fy,
            r.programme,
            r.municipality_code.as_str().to_string(),
            r.measure,
            r.group,
        )) {
            r.suppressed = true;
        }
    }
    // Secondary: no set of municipalities may have exactly one hidden member under a
    // published union row.
    loop {
        let mut changed = false;
        let mut sets: BTreeMap<SetKey, Vec<usize>> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            if r.group != Group::Difference {
                sets.entry(set_key(r)).or_default().push(i);
            }
        }
        for idx in sets.values() {
            let union_shown = idx
                .iter()
                .any(|&i| rows[i].municipality_code.is_union() && !rows[i].suppressed);
            let munis: Vec<usize> = idx
                .iter()
                .copied()
                .filter(|&i| !rows[i].municipality_code.is_union())
                .collect();
            let hidden = munis.iter().filter(|&&i| rows[i].suppressed).count();
            if union_shown && hidden == 1 {
                let pick = munis
                    .iter()
                    .copied()
                    .filter(|&i| !rows[i].suppressed)
                    .min_by(|&a, &b| {
                        let k = |i: usize| {
                            (
                                rows[i].denominator.unwrap_or(0.0),
                                rows[i].numerator.unwrap_or(0.0),
                            )
                        };
                        k(a).partial_cmp(&k(b)).unwrap_or(std::cmp::Ordering::Equal)
                    });
                if let Some(i) = pick {
                    rows[i].suppressed = true;
                    changed = true;
                }
            }
        }
        // Differences follow their groups.
        for i in 0..rows.len() {
            if rows[i].group != Group::Difference || rows[i].suppressed {
                continue;
            }
            let hide = rows.iter().any(|o| {
                o.suppressed
                    && o.fy == rows[i].fy
                    && o.programme == rows[i].programme
                    && o.municipality_code == rows[i].municipality_code
                    && o.measure == rows[i].measure
                    && matches!(o.group, Group::Supported | Group::NotSupported)
            });
            if hide || rows[i].denominator.is_some_and(small) {
                rows[i].suppressed = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ittai_model::time::AgeBand;

    #[test]
    fn standardisation_and_wald_interval_by_hand() {
        let (a, b) = ((1u8, AgeBand::A75to79), (2u8, AgeBand::A80to84));
        // Supported: stratum a: 1, 0 (n 2); stratum b: 1, 1, 1, 0 (n 4). Mean 4/6.
        let s = [(a, 1.0), (a, 0.0), (b, 1.0), (b, 1.0), (b, 1.0), (b, 0.0)];
        // Comparison: a: 0, 0, 0, 1 (mean 0.25); b: 1, 0 (mean 0.5); an extra stratum is
        // not shared and is ignored.
        let o = [
            (a, 0.0),
            (a, 0.0),
            (a, 0.0),
            (a, 1.0),
            (b, 1.0),
            (b, 0.0),
            ((1u8, AgeBand::A90to94), 1.0),
        ];
        let c = compare(&s, &o).unwrap();
        // Weights 2/6 and 4/6: 1/3 · 0.25 + 2/3 · 0.5 = 0.41666…
        assert_eq!(c.n, 6);
        assert!((c.supported - 4.0 / 6.0).abs() < 1e-12);
        assert!((c.standardised - (0.25 / 3.0 + 1.0 / 3.0)).abs() < 1e-12);
        // V_s = p(1−p)/n = (2/3)(1/3)/6 = 1/27; V_c = (1/3)² · 0.1875/4 + (2/3)² · 0.25/2
        //     = 0.0052083… + 0.0555… = 0.0607638…
        let v: f64 = 1.0 / 27.0 + (1.0 / 9.0) * 0.1875 / 4.0 + (4.0 / 9.0) * 0.25 / 2.0;
        let half = 1.96 * v.sqrt();
        assert!((c.ci.0 - (c.difference - half)).abs() < 1e-12);
        assert!((c.difference - (4.0 / 6.0 - 0.25 / 3.0 - 1.0 / 3.0)).abs() < 1e-12);
        assert!(compare(&s, &[((1, AgeBand::A95plus), 1.0)]).is_none());
    }
}
