//! The published indicator table: Japanese headers, municipality names, and small counts
//! blanked (docs/reference/indicators.md: counts under 10 and the rates built on them are suppressed, with a
//! flag).

use std::collections::{BTreeMap, HashMap};

use ittai_model::indicators::{
    AgeGroup, Area, Direction, FunnelStep, IndicatorId, IndicatorRow, LifeLine, SexGroup,
};

use ittai_dataset::{Cells, Table};

/// Marker in the 秘匿 column of a suppressed cell.
pub const SUPPRESSED: &str = "※";

/// Japanese label of a direction ([`Direction::label_ja`]).
pub fn direction_ja(d: Option<Direction>) -> Option<String> {
    d.map(|d| d.label_ja().to_string())
}

/// The 年齢階級 cell of the published table: 全年齢, or the band's label (`75-79` …).
pub fn age_group_label(b: AgeGroup) -> &'static str {
    match b {
        AgeGroup::All => "全年齢",
        AgeGroup::Band(b) => b.label(),
    }
}

/// Builds the published table. `names` maps municipality codes to names (the union is
/// labelled 広域連合全体). A suppressed row keeps its keys and the flag; its numbers are
/// blank. The change is blank when either year is suppressed.
pub fn published(rows: &[IndicatorRow], names: &BTreeMap<String, String>) -> Table {
    let suppressed: HashMap<ittai_model::indicators::RowKey<'_>, bool> =
        rows.iter().map(|r| (r.key(), r.suppressed)).collect();
    let prev_hidden = |r: &IndicatorRow| {
        *suppressed
            .get(&(
                r.indicator,
                r.rule_id.as_deref(),
                r.fy - 1,
                &r.municipality_code,
                r.sex,
                r.age_band,
            ))
            .unwrap_or(&false)
    };
    let show = |r: &IndicatorRow, v: Option<f64>| if r.suppressed { None } else { v };
    let round = |v: Option<f64>, d: i32| v.map(|x| (x * 10f64.powi(d)).round() / 10f64.powi(d));
    let digits = |r: &IndicatorRow| r.indicator.def().unit.decimals();
    let mut t = Table::default();
    t.add(
        "fy",
        Cells::Int(rows.iter().map(|r| Some(r.fy as i64)).collect()),
    );
    t.add(
        "indicator",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.indicator.def().name_ja.to_string()))
                .collect(),
        ),
    );
    t.add(
        "rule_id",
        Cells::Text(rows.iter().map(|r| r.rule_id.clone()).collect()),
    );
    t.add(
        "municipality_code",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.municipality_code.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "municipality",
        Cells::Text(
            rows.iter()
                .map(|r| Some(area_name(&r.municipality_code, names)))
                .collect(),
        ),
    );
    t.add(
        "sex",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.sex.label_ja().to_string()))
                .collect(),
        ),
    );
    t.add(
        "age_band",
        Cells::Text(
            rows.iter()
                .map(|r| Some(age_group_label(r.age_band).to_string()))
                .collect(),
        ),
    );
    t.add(
        "numerator",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, Some(r.numerator)), 2))
                .collect(),
        ),
    );
    t.add(
        "denominator",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, Some(r.denominator)), 2))
                .collect(),
        ),
    );
    t.add(
        "value",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, r.value), digits(r)))
                .collect(),
        ),
    );
    t.add(
        "unit",
        Cells::Text(
            rows.iter()
                .map(|r| Some(r.indicator.def().unit.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "age_standardised",
        Cells::Float(
            rows.iter()
                .map(|r| round(show(r, r.age_standardised), digits(r)))
                .collect(),
        ),
    );
    t.add(
        "ci_lower",
        Cells::Float(rows.iter().map(|r| round(show(r, r.ci_lower), 2)).collect()),
    );
    t.add(
        "ci_upper",
        Cells::Float(rows.iter().map(|r| round(show(r, r.ci_upper), 2)).collect()),
    );
    let both = |r: &IndicatorRow| !r.suppressed && !prev_hidden(r);
    t.add(
        "previous_value",
        Cells::Float(
            rows.iter()
                .map(|r| {
                    if both(r) {
                        round(r.previous_value, digits(r))
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    );
    t.add(
        "change",
        Cells::Float(
            rows.iter()
                .map(|r| {
                    if both(r) {
                        round(r.change, digits(r))
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    );
    t.add(
        "direction",
        Cells::Text(
            rows.iter()
                .map(|r| {
                    if both(r) {
                        direction_ja(r.direction)
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    );
    t.add(
        "suppressed",
        Cells::Text(
            rows.iter()
                .map(|r| r.suppressed.then(|| SUPPRESSED.to_string()))
                .collect(),
        ),
    );
    t
}

/// A count of 1–9: not published (zero is).
pub(crate) fn small(x: f64) -> bool {
    (1.0..MIN_COUNT).contains(&x)
}

/// Counts below this are not published.
const MIN_COUNT: f64 = 10.0;

/// One life-table line as published: `None` where blank.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PublishedLife {
    /// Deaths (persons).
    pub deaths: Option<f64>,
    /// Person-years (not a count of persons: always shown).
    pub person_years: Option<f64>,
    /// Prevalence sample (persons).
    pub sample: Option<f64>,
    /// 要介護2+ among the sample (persons).
    pub dependent: Option<f64>,
    /// Death rate.
    pub m: Option<f64>,
    /// Probability of dying.
    pub q: Option<f64>,
    /// Survivors.
    pub l: Option<f64>,
    /// Stationary population.
    pub big_l: Option<f64>,
    /// Prevalence of 要介護2+.
    pub prevalence: Option<f64>,
    /// Life expectancy.
    pub e: Option<f64>,
    /// Period of independence.
    pub h: Option<f64>,
}

/// The published life-table lines, index-aligned with `lines`.
///
/// A table (FY × area × sex) is *hidden* when any band has 1–9 deaths, a sample or
/// 要介護2+ count of 1–9, or 1–9 sample persons not 要介護2+ (the complement), when its
/// deaths total fewer than 10 or its life expectancy cannot be computed (the rule of the
/// suppressed `life_expectancy_75` / `independence_75` rows). Every band of a hidden table
/// shows only its person-years: deaths, sample, dependent, m, q, l, L, prevalence, e and h
/// are blank — the life table chains the bands (l of one band and L give q of the one
/// before, and q × person-years gives deaths back; e and h at 75 pin a single missing
/// rate), so blanking one band alone would not hold.
///
/// Then, as in secondary suppression of the indicator rows, no equation "total = sum of
/// parts" may have exactly one hidden member: for each FY × area, all = male + female; for
/// each FY × sex, the union = its municipalities. Where one member is hidden, the shown
/// part with the fewest deaths (preferring one with deaths) is hidden too, until stable.
pub fn published_life(lines: &[LifeLine]) -> Vec<PublishedLife> {
    type G = (i32, Area, SexGroup);
    let key = |l: &LifeLine| (l.fy, l.municipality_code.clone(), l.sex);
    let mut deaths: BTreeMap<G, f64> = BTreeMap::new();
    let mut hidden: BTreeMap<G, bool> = BTreeMap::new();
    for l in lines {
        let k = key(l);
        *deaths.entry(k.clone()).or_insert(0.0) += l.deaths;
        let h = hidden.entry(k).or_insert(false);
        *h = *h
            || small(l.deaths)
            || small(l.sample)
            || small(l.dependent)
            || small(l.sample - l.dependent)
            || l.e.is_none()
            || l.h.is_none();
    }
    for (k, d) in &deaths {
        if *d < MIN_COUNT {
            hidden.insert(k.clone(), true);
        }
    }
    // Equations: (total, parts).
    let mut equations: Vec<(G, Vec<G>)> = Vec::new();
    for (fy, m, s) in hidden.keys() {
        if *s == SexGroup::All {
            let parts: Vec<G> = SexGroup::SEXES
                .iter()
                .map(|x| (*fy, m.clone(), *x))
                .filter(|g| hidden.contains_key(g))
                .collect();
            equations.push(((*fy, m.clone(), *s), parts));
        }
        if m.is_union() {
            let parts: Vec<G> = hidden
                .keys()
                .filter(|(f, a, x)| f == fy && x == s && !a.is_union())
                .cloned()
                .collect();
            equations.push(((*fy, m.clone(), *s), parts));
        }
    }
    for _ in 0..20 {
        let mut changed = false;
        for (total, parts) in &equations {
            let n = usize::from(hidden[total]) + parts.iter().filter(|g| hidden[*g]).count();
            if n != 1 {
                continue;
            }
            let pick = parts
                .iter()
                .filter(|g| !hidden[*g])
                .min_by(|a, b| {
                    let (da, db) = (deaths[*a], deaths[*b]);
                    (da <= 0.0, da)
                        .partial_cmp(&(db <= 0.0, db))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .cloned();
            if let Some(g) = pick {
                hidden.insert(g, true);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let r = |x: Option<f64>, d: i32| x.map(|x| (x * 10f64.powi(d)).round() / 10f64.powi(d));
    lines
        .iter()
        .map(|l| {
            let py = r(Some(l.person_years), 1);
            if hidden[&key(l)] {
                return PublishedLife {
                    person_years: py,
                    ..PublishedLife::default()
                };
            }
            PublishedLife {
                deaths: Some(l.deaths),
                person_years: py,
                sample: Some(l.sample),
                dependent: Some(l.dependent),
                m: r(l.m, 5),
                q: r(l.q, 5),
                l: r(l.l, 0),
                big_l: r(l.big_l, 0),
                prevalence: r(l.prevalence, 4),
                e: r(l.e, 2),
                h: r(l.h, 2),
            }
        })
        .collect()
}

/// The life tables as a published table: one row per FY × area × sex × band, blanked by
/// [`published_life`]. Columns: fy, municipality_code, municipality, sex, age_band,
/// deaths, person_years, sample, dependent, m, q, l, big_l, prevalence, e, h.
pub fn life_table(lines: &[LifeLine], names: &BTreeMap<String, String>) -> Table {
    let mut t = Table::default();
    let p = published_life(lines);
    let col = |f: &dyn Fn(&PublishedLife) -> Option<f64>| Cells::Float(p.iter().map(f).collect());
    t.add(
        "fy",
        Cells::Int(lines.iter().map(|l| Some(l.fy as i64)).collect()),
    );
    t.add(
        "municipality_code",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(l.municipality_code.as_str().to_string()))
                .collect(),
        ),
    );
    t.add(
        "municipality",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(area_name(&l.municipality_code, names)))
                .collect(),
        ),
    );
    t.add(
        "sex",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(l.sex.label_ja().to_string()))
                .collect(),
        ),
    );
    t.add(
        "age_band",
        Cells::Text(
            lines
                .iter()
                .map(|l| Some(l.age_band.label().to_string()))
                .collect(),
        ),
    );
    t.add("deaths", col(&|x| x.deaths));
    t.add("person_years", col(&|x| x.person_years));
    t.add("sample", col(&|x| x.sample));
    t.add("dependent", col(&|x| x.dependent));
    t.add("m", col(&|x| x.m));
    t.add("q", col(&|x| x.q));
    t.add("l", col(&|x| x.l));
    t.add("big_l", col(&|x| x.big_l));
    t.add("prevalence", col(&|x| x.prevalence));
    t.add("e", col(&|x| x.e));
    t.add("h", col(&|x| x.h));
    t
}

/// The published `persons` of funnel steps, index-aligned with `steps`: blank when 1–9,
/// and, within one FY × rule in step order, blank when the difference from the previous
/// *published* step is 1–9 (the persons dropped between two shown steps are a count too);
/// blanking a step makes the next shown step adjacent to the one before, so this repeats
/// until stable. A step after the population (step 0) is never compared with a hidden
/// one, so the rule is applied left to right in a single pass per funnel.
pub fn published_funnel(steps: &[FunnelStep]) -> Vec<Option<u64>> {
    let mut out: Vec<Option<u64>> = steps
        .iter()
        .map(|s| (!small(s.persons as f64)).then_some(s.persons))
        .collect();
    let mut funnels: BTreeMap<(i32, &str), Vec<usize>> = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        funnels
            .entry((s.fy, s.rule_id.as_str()))
            .or_default()
            .push(i);
    }
    for idx in funnels.values_mut() {
        idx.sort_by_key(|&i| steps[i].step);
        let mut last: Option<u64> = None;
        for &i in idx.iter() {
            let Some(x) = out[i] else { continue };
            if let Some(p) = last
                && small(p.abs_diff(x) as f64)
            {
                out[i] = None;
                continue;
            }
            last = Some(x);
        }
    }
    out
}

/// The attrition funnels as a published table (counts of 1–9 and steps 1–9 below the
/// previous shown step blank, [`published_funnel`]). Columns: fy, rule_id, rule_name_ja,
/// step, condition_ja, persons, insufficient_coverage.
pub fn funnel_table(steps: &[FunnelStep]) -> Table {
    let count = |x: u64| {
        if small(x as f64) {
            None
        } else {
            Some(x as i64)
        }
    };
    let persons = published_funnel(steps);
    let mut t = Table::default();
    t.add(
        "fy",
        Cells::Int(steps.iter().map(|s| Some(s.fy as i64)).collect()),
    );
    t.add(
        "rule_id",
        Cells::Text(steps.iter().map(|s| Some(s.rule_id.clone())).collect()),
    );
    t.add(
        "rule_name_ja",
        Cells::Text(steps.iter().map(|s| Some(s.rule_name_ja.clone())).collect()),
    );
    t.add(
        "step",
        Cells::Int(steps.iter().map(|s| Some(s.step as i64)).collect()),
    );
    t.add(
        "condition_ja",
        Cells::Text(steps.iter().map(|s| Some(s.condition_ja.clone())).collect()),
    );
    t.add(
        "persons",
        Cells::Int(persons.iter().map(|x| x.map(|x| x as i64)).collect()),
    );
    t.add(
        "insufficient_coverage",
        Cells::Int(
            steps
                .iter()
                .map(|s| count(s.insufficient_coverage))
                .collect(),
        ),
    );
    t
}

/// One row per area (union first) and one column per indicator (ハイリスク者割合 per
/// rule): the published all-sex, all-age values of fiscal year `fy` — age-standardised
/// where the indicator has one, else crude; suppressed cells blank.
pub fn comparison_table(rows: &[IndicatorRow], fy: i32, names: &BTreeMap<String, String>) -> Table {
    let union = Area::Union;
    let mut areas: Vec<&Area> = rows
        .iter()
        .map(|r| &r.municipality_code)
        .filter(|m| !m.is_union())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    areas.insert(0, &union);
    let all_all = |r: &IndicatorRow| r.sex == SexGroup::All && r.age_band == AgeGroup::All;
    let mut cols: Vec<(IndicatorId, Option<String>)> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.fy == fy && r.municipality_code.is_union() && all_all(r))
    {
        let k = (r.indicator, r.rule_id.clone());
        if !cols.contains(&k) {
            cols.push(k);
        }
    }
    let index: HashMap<(IndicatorId, Option<&str>, &Area), &IndicatorRow> = rows
        .iter()
        .filter(|r| r.fy == fy && all_all(r))
        .map(|r| ((r.indicator, r.rule_id.as_deref(), &r.municipality_code), r))
        .collect();
    let mut t = Table::default();
    t.add(
        "municipality_code",
        Cells::Text(areas.iter().map(|m| Some(m.as_str().to_string())).collect()),
    );
    t.add(
        "municipality",
        Cells::Text(areas.iter().map(|m| Some(area_name(m, names))).collect()),
    );
    for (id, rule) in &cols {
        let d = id.def();
        let std = d.age_standardised;
        let name = format!(
            "{}_{}",
            id.as_str(),
            rule.as_deref().unwrap_or(if std { "std" } else { "value" })
        );
        let header = format!(
            "{}{}{}（{}）",
            d.name_ja,
            rule.as_ref().map(|x| format!(" {x}")).unwrap_or_default(),
            if std { " 年齢調整" } else { "" },
            d.unit.as_str()
        );
        let digits = d.unit.decimals();
        let cells = areas
            .iter()
            .map(|m| {
                index
                    .get(&(*id, rule.as_deref(), *m))
                    .filter(|r| !r.suppressed)
                    .and_then(|r| {
                        if std {
                            r.age_standardised.or(r.value)
                        } else {
                            r.value
                        }
                    })
                    .map(|x| (x * 10f64.powi(digits)).round() / 10f64.powi(digits))
            })
            .collect();
        t.push(&name, &header, Cells::Float(cells));
    }
    t
}

/// The 市町村名 cell: the municipality's name (blank when unknown), 広域連合全体 for the union.
pub(crate) fn area_name(m: &Area, names: &BTreeMap<String, String>) -> String {
    match m {
        Area::Union => "広域連合全体".to_string(),
        Area::Municipality(code) => names.get(code).cloned().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ittai_model::Sex;
    use ittai_model::time::AgeBand;

    const M: SexGroup = SexGroup::Sex(Sex::Male);
    const F: SexGroup = SexGroup::Sex(Sex::Female);
    const A: SexGroup = SexGroup::All;

    fn line(m: &Area, sex: SexGroup, band: AgeBand, deaths: f64) -> LifeLine {
        LifeLine {
            fy: 2024,
            municipality_code: m.clone(),
            sex,
            age_band: band,
            deaths,
            person_years: 1000.0,
            sample: 100.0,
            dependent: 20.0,
            m: Some(deaths / 1000.0),
            q: Some(0.01),
            l: Some(100_000.0),
            big_l: Some(400_000.0),
            prevalence: Some(0.2),
            e: Some(12.0),
            h: Some(10.0),
        }
    }

    /// Deaths by band (75-79, 80-84): A female 7 and 15 (7 is under 10: primary), A male
    /// 12, 20, B female 30, 40, B male 25, 35; "all" and the union are the sums (samples
    /// and dependents are summed too, so no complement is small).
    /// A female hidden → equation A all = A male + A female has one hidden member → A male
    /// hidden (fewest deaths of the shown parts, the only one). Equation union female =
    /// A female + B female → B female hidden; then B all = B male + B female → B male
    /// hidden. Shown: A all, B all and the union's three tables — the 2 × 2 interior of
    /// municipality × sex is hidden, which no sum reveals.
    #[test]
    fn life_tables_hide_whole_tables_and_their_complements() {
        let (a, b, u) = (
            Area::Municipality("A".into()),
            Area::Municipality("B".into()),
            Area::Union,
        );
        let d = |m: &Area, s: SexGroup| -> [f64; 2] {
            match (m, s) {
                (Area::Municipality(c), s) if c == "A" && s == F => [7.0, 15.0],
                (Area::Municipality(c), s) if c == "A" && s == M => [12.0, 20.0],
                (Area::Municipality(c), s) if c == "B" && s == F => [30.0, 40.0],
                (Area::Municipality(c), s) if c == "B" && s == M => [25.0, 35.0],
                _ => [0.0, 0.0],
            }
        };
        let mut lines = Vec::new();
        for m in [&a, &b] {
            for s in [M, F] {
                for (i, band) in [AgeBand::A75to79, AgeBand::A80to84].into_iter().enumerate() {
                    lines.push(line(m, s, band, d(m, s)[i]));
                }
            }
        }
        // Rollups: sum deaths, samples, dependents.
        let parts = lines.clone();
        let mut add = |m: &Area, s: SexGroup, pick: &dyn Fn(&LifeLine) -> bool| {
            for band in [AgeBand::A75to79, AgeBand::A80to84] {
                let xs: Vec<&LifeLine> = parts
                    .iter()
                    .filter(|l| l.age_band == band && pick(l))
                    .collect();
                let mut l = line(m, s, band, xs.iter().map(|l| l.deaths).sum());
                l.person_years = xs.iter().map(|l| l.person_years).sum();
                l.sample = xs.iter().map(|l| l.sample).sum();
                l.dependent = xs.iter().map(|l| l.dependent).sum();
                lines.push(l);
            }
        };
        add(&a, A, &|l| {
            l.municipality_code == Area::Municipality("A".into())
        });
        add(&b, A, &|l| {
            l.municipality_code == Area::Municipality("B".into())
        });
        add(&u, M, &|l| l.sex == M);
        add(&u, F, &|l| l.sex == F);
        add(&u, A, &|_| true);
        let p = published_life(&lines);
        for (l, x) in lines.iter().zip(&p) {
            let hidden = !l.municipality_code.is_union() && l.sex != A;
            assert_eq!(
                x.deaths.is_none(),
                hidden,
                "{} {} {:?}",
                l.municipality_code,
                l.sex,
                l.age_band
            );
            for v in [
                x.m,
                x.q,
                x.l,
                x.big_l,
                x.prevalence,
                x.e,
                x.h,
                x.sample,
                x.dependent,
            ] {
                assert_eq!(v.is_none(), hidden);
            }
            // Person-years stay; with m blank, m × person-years gives nothing.
            assert!(x.person_years.is_some());
        }
    }

    /// A table whose life expectancy cannot be computed (e none) or whose deaths total
    /// fewer than 10 (here 0 + 0 with e present) is hidden, like its suppressed
    /// `life_expectancy_75` row; a complement of the sample (sample 100, 要介護2+ 95: 5 not
    /// dependent) hides the table too.
    #[test]
    fn life_tables_without_expectancy_or_with_small_complements_are_hidden() {
        let u = Area::Union;
        let mut no_e = line(&u, A, AgeBand::A75to79, 50.0);
        no_e.e = None;
        let few = line(&Area::Municipality("X".into()), A, AgeBand::A75to79, 0.0);
        let mut comp = line(&Area::Municipality("Y".into()), A, AgeBand::A75to79, 50.0);
        comp.dependent = 95.0;
        let ok = line(&Area::Municipality("Z".into()), A, AgeBand::A75to79, 50.0);
        let p = published_life(&[no_e, few, comp, ok]);
        assert_eq!(p[0].m, None);
        assert_eq!(p[1].e, None);
        assert_eq!(p[2].prevalence, None);
        assert_eq!(p[3].deaths, Some(50.0));
        assert_eq!(p[3].e, Some(12.0));
    }
}

#[cfg(test)]
mod life_property_tests {
    use super::*;
    use ittai_model::Sex;
    use ittai_model::time::AgeBand;

    /// A small deterministic generator (64-bit LCG, Knuth's constants), so the cases are
    /// the same on every run.
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    /// 300 random small unions (two municipalities, two sexes and their total, the union
    /// as the sum, five bands): no published life table lets a reader recover a hidden
    /// count — by showing it (1–9), by a product (deaths = m × person-years, dependent =
    /// prevalence × sample, so m, q and prevalence are hidden with their counts), by a
    /// complement (sample − dependent), or by one subtraction from a shown total (all =
    /// male + female, union = its municipalities); and a hidden table shows no e or h.
    #[test]
    fn no_hidden_life_count_can_be_recovered() {
        let mut g = Lcg(20_241_130);
        let areas = [
            Area::Municipality("312011".into()),
            Area::Municipality("312029".into()),
        ];
        let bands = &AgeBand::ALL[1..];
        for case in 0..300 {
            let mut lines: Vec<LifeLine> = Vec::new();
            let mut parts: Vec<LifeLine> = Vec::new();
            for a in &areas {
                for sex in [Sex::Male, Sex::Female] {
                    for &band in bands {
                        let deaths = g.below(25) as f64;
                        let sample = g.below(60) as f64;
                        let dependent = g.below(sample as u64 + 1) as f64;
                        let py = 5.0 + g.below(200) as f64;
                        parts.push(LifeLine {
                            fy: 2024,
                            municipality_code: a.clone(),
                            sex: SexGroup::Sex(sex),
                            age_band: band,
                            deaths,
                            person_years: py,
                            sample,
                            dependent,
                            m: Some(deaths / py),
                            q: Some(deaths / py / (1.0 + deaths / py)),
                            l: Some(100_000.0),
                            big_l: Some(400_000.0),
                            prevalence: (sample > 0.0).then(|| dependent / sample),
                            e: (g.below(10) > 0).then_some(12.0),
                            h: Some(10.0),
                        });
                    }
                }
            }
            // Totals: all sexes per municipality, then the union per sex group.
            let sum = |sel: &dyn Fn(&LifeLine) -> bool, area: &Area, sex: SexGroup, band| {
                let ps: Vec<&LifeLine> = parts
                    .iter()
                    .filter(|l| sel(l) && l.age_band == band)
                    .collect();
                let (d, py, s, dep) = ps.iter().fold((0.0, 0.0, 0.0, 0.0), |t, l| {
                    (
                        t.0 + l.deaths,
                        t.1 + l.person_years,
                        t.2 + l.sample,
                        t.3 + l.dependent,
                    )
                });
                LifeLine {
                    fy: 2024,
                    municipality_code: area.clone(),
                    sex,
                    age_band: band,
                    deaths: d,
                    person_years: py,
                    sample: s,
                    dependent: dep,
                    m: Some(d / py),
                    q: Some(d / py / (1.0 + d / py)),
                    l: Some(100_000.0),
                    big_l: Some(400_000.0),
                    prevalence: (s > 0.0).then(|| dep / s),
                    e: Some(12.0),
                    h: Some(10.0),
                }
            };
            for &band in bands {
                for a in &areas {
                    lines.push(sum(&|l| &l.municipality_code == a, a, SexGroup::All, band));
                }
                for sex in [Sex::Male, Sex::Female] {
                    lines.push(sum(
                        &|l| l.sex == SexGroup::Sex(sex),
                        &Area::Union,
                        SexGroup::Sex(sex),
                        band,
                    ));
                }
                lines.push(sum(&|_| true, &Area::Union, SexGroup::All, band));
            }
            lines.extend(parts.iter().cloned());
            let published = published_life(&lines);
            let shown = |area: &Area, sex: SexGroup, band: AgeBand| {
                let i = lines
                    .iter()
                    .position(|l| {
                        &l.municipality_code == area && l.sex == sex && l.age_band == band
                    })
                    .expect("line");
                published[i].deaths.is_some()
            };
            for (l, p) in lines.iter().zip(&published) {
                let what = format!(
                    "case {case}: {:?} {:?} {:?}",
                    l.municipality_code, l.sex, l.age_band
                );
                for v in [p.deaths, p.sample, p.dependent] {
                    assert!(!v.is_some_and(small), "{what}: a count 1–9 shown");
                }
                if let (Some(s), Some(d)) = (p.sample, p.dependent) {
                    assert!(!small(s - d), "{what}: complement 1–9 recoverable");
                }
                if p.deaths.is_none() {
                    assert!(
                        p.m.is_none() && p.q.is_none(),
                        "{what}: m × person-years gives deaths"
                    );
                    assert!(
                        p.e.is_none() && p.h.is_none(),
                        "{what}: e/h of a hidden table"
                    );
                }
                if p.dependent.is_none() {
                    assert!(
                        p.prevalence.is_none(),
                        "{what}: prevalence × sample gives dependent"
                    );
                }
            }
            // One subtraction from a shown total.
            for &band in bands {
                let mut eqs: Vec<(bool, Vec<bool>)> = Vec::new();
                for a in &areas {
                    eqs.push((
                        shown(a, SexGroup::All, band),
                        [Sex::Male, Sex::Female]
                            .iter()
                            .map(|s| shown(a, SexGroup::Sex(*s), band))
                            .collect(),
                    ));
                }
                for sex in [
                    SexGroup::All,
                    SexGroup::Sex(Sex::Male),
                    SexGroup::Sex(Sex::Female),
                ] {
                    eqs.push((
                        shown(&Area::Union, sex, band),
                        areas.iter().map(|a| shown(a, sex, band)).collect(),
                    ));
                }
                for (total, ps) in eqs {
                    let hidden = ps.iter().filter(|x| !**x).count() + usize::from(!total);
                    assert_ne!(
                        hidden, 1,
                        "case {case} {band:?}: one hidden member of a sum"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod funnel_tests {
    use super::*;

    fn step(step: u32, persons: u64) -> FunnelStep {
        FunnelStep {
            fy: 2024,
            rule_id: "R01".into(),
            rule_name_ja: String::new(),
            step,
            condition_ja: String::new(),
            persons,
            insufficient_coverage: 0,
            lookback_fys: 0,
        }
    }

    /// 1000 → 995 (difference 5: blank) → 990 (compared with 1000, the last shown:
    /// difference 10, shown) → 985 (difference 5 from 990: blank) → 40 (shown) → 7 (small:
    /// blank) → 0 (difference 40 from 40: shown; zero is shown).
    #[test]
    fn small_drops_between_shown_steps_are_blanked() {
        let steps: Vec<FunnelStep> = [1000, 995, 990, 985, 40, 7, 0]
            .iter()
            .enumerate()
            .map(|(i, &n)| step(i as u32, n))
            .collect();
        assert_eq!(
            published_funnel(&steps),
            vec![Some(1000), None, Some(990), None, Some(40), None, Some(0)]
        );
    }
}
