//! Who is counted: persons and their spells, support records, targets of each programme ×
//! FY with their contacts, index dates and comparison-group index dates
//! (docs/reference/evaluation.md, "Who is counted").

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use ittai_model::support::{Programme, Referral};
use ittai_model::time::{AgeBand, FiscalYear, age_at};

/// One coverage spell of a person.
#[derive(Debug, Clone)]
pub(crate) struct Spell {
    pub start: NaiveDate,
    /// First day without coverage; `None` = still covered.
    pub end: Option<NaiveDate>,
    pub municipality: String,
    pub sex: u8,
    pub birth: NaiveDate,
}

/// Spells of the persons the evaluation looks at, by interned person index.
#[derive(Debug, Default)]
pub(crate) struct People {
    pub ids: Vec<String>,
    pub index: HashMap<String, u32>,
    /// Spells sorted by start.
    pub spells: Vec<Vec<Spell>>,
}

impl People {
    pub fn intern(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.push(id.to_string());
        self.index.insert(id.to_string(), i);
        self.spells.push(Vec::new());
        i
    }

    /// The spell covering day `d`.
    pub fn spell_on(&self, p: u32, d: NaiveDate) -> Option<&Spell> {
        self.spells[p as usize]
            .iter()
            .rev()
            .find(|s| s.start <= d && s.end.is_none_or(|e| d < e))
    }

    /// Whether the person is insured on every day from `a` to `b` (inclusive), spells
    /// joined where one ends on the day the next starts (docs/reference/dataset.md).
    pub fn covered(&self, p: u32, a: NaiveDate, b: NaiveDate) -> bool {
        let mut cursor = a;
        for s in &self.spells[p as usize] {
            if s.start <= cursor && s.end.is_none_or(|e| e > cursor) {
                match s.end {
                    None => return true,
                    Some(e) => cursor = e,
                }
                if cursor > b {
                    return true;
                }
            }
        }
        cursor > b
    }
}

/// One support record, codes parsed.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub person: u32,
    pub programme: Programme,
    pub rule_id: Option<String>,
    pub date: NaiveDate,
    pub reached: bool,
    pub needs_referral: bool,
    pub referred_to: Option<Referral>,
}

/// Sex × age band: the strata of the standardisation.
pub(crate) type Stratum = (u8, AgeBand);

/// A target of a programme in FY t (listed by one of its rules for FY t − 1 and insured on
/// April 1 of FY t).
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub person: u32,
    pub fy: i32,
    pub programme: Programme,
    /// The programme's rules that listed the person (R01 … R10).
    pub rules: Vec<&'static str>,
    pub municipality: String,
    pub stratum: Stratum,
    pub contacted: bool,
    pub supported: bool,
    pub referred: bool,
    pub needs_referral: bool,
    /// First on-list contact date.
    pub first_contact: Option<NaiveDate>,
    /// Index date: first reached contact (supported), else as the comparison rule says.
    pub index: Option<NaiveDate>,
}

/// Persons with a reached record outside the lists, per FY × programme × municipality
/// (`None` = no spell on the contact date or on April 1).
pub(crate) type Outside = BTreeMap<(i32, Programme, Option<String>), u64>;

/// Listed persons: FY of the lists → rule id → person ids.
pub type Lists = BTreeMap<i32, BTreeMap<String, std::collections::HashSet<String>>>;

/// Targets of every programme for FY `t` with their contacts; records of the FY outside the
/// lists are counted in `outside`.
pub(crate) fn targets_of_fy(
    t: FiscalYear,
    lists: &Lists,
    people: &People,
    records: &[Record],
    outside: &mut Outside,
) -> Vec<Target> {
    let april1 = t.start();
    let empty = BTreeMap::new();
    let listed = lists.get(&(t.0 - 1)).unwrap_or(&empty);
    let mut out = Vec::new();
    let mut slot: HashMap<(u32, Programme), usize> = HashMap::new();
    for p in Programme::ALL {
        let mut by_person: BTreeMap<u32, Vec<&'static str>> = BTreeMap::new();
        for rule in p.rules() {
            if let Some(ids) = listed.get(*rule) {
                for id in ids {
                    if let Some(&pi) = people.index.get(id) {
                        by_person.entry(pi).or_default().push(rule);
                    }
                }
            }
        }
        for (pi, rules) in by_person {
            let Some(s) = people.spell_on(pi, april1) else {
                continue;
            };
            let band = AgeBand::of_age(age_at(s.birth, april1));
            slot.insert((pi, *p), out.len());
            out.push(Target {
                person: pi,
                fy: t.0,
                programme: *p,
                rules,
                municipality: s.municipality.clone(),
                stratum: (s.sex, band),
                contacted: false,
                supported: false,
                referred: false,
                needs_referral: false,
                first_contact: None,
                index: None,
            });
        }
    }
    let mut outside_persons: BTreeMap<
        (Programme, Option<String>),
        std::collections::BTreeSet<u32>,
    > = BTreeMap::new();
    let mut recs: Vec<&Record> = records
        .iter()
        .filter(|r| FiscalYear::of(r.date) == t)
        .collect();
    recs.sort_by_key(|r| r.date);
    for r in recs {
        let on_list = slot.get(&(r.person, r.programme)).filter(|&&i| {
            r.rule_id
                .as_deref()
                .is_none_or(|rule| out[i].rules.contains(&rule))
        });
        match on_list {
            Some(&i) => {
                let tg = &mut out[i];
                tg.contacted = true;
                tg.first_contact.get_or_insert(r.date);
                if r.reached {
                    if !tg.supported {
                        tg.supported = true;
                        tg.index = Some(r.date);
                    }
                    tg.needs_referral |= r.needs_referral;
                    tg.referred |= matches!(
                        r.referred_to,
                        Some(Referral::Medical | Referral::Care | Referral::Community)
                    );
                }
            }
            None if r.reached => {
                let muni = people
                    .spell_on(r.person, r.date)
                    .or_else(|| people.spell_on(r.person, april1))
                    .map(|s| s.municipality.clone());
                outside_persons
                    .entry((r.programme, muni))
                    .or_default()
                    .insert(r.person);
            }
            None => {}
        }
    }
    for ((p, muni), persons) in outside_persons {
        *outside.entry((t.0, p, muni)).or_default() += persons.len() as u64;
    }
    assign_comparison_index(&mut out);
    out
}

/// The earlier middle date of a non-empty list.
pub(crate) fn median_date(mut dates: Vec<NaiveDate>) -> Option<NaiveDate> {
    if dates.is_empty() {
        return None;
    }
    dates.sort();
    Some(dates[(dates.len() - 1) / 2])
}

/// Index dates of the targets not supported: their first contact, else the median index
/// date of the supported targets of the same programme in their municipality, else in the
/// union; none when the programme has no supported target in the FY.
pub(crate) fn assign_comparison_index(targets: &mut [Target]) {
    let mut by_muni: HashMap<(Programme, String), Vec<NaiveDate>> = HashMap::new();
    let mut by_union: HashMap<Programme, Vec<NaiveDate>> = HashMap::new();
    for t in targets.iter().filter(|t| t.supported) {
        let d = t.index.expect("supported targets have an index date");
        by_muni
            .entry((t.programme, t.municipality.clone()))
            .or_default()
            .push(d);
        by_union.entry(t.programme).or_default().push(d);
    }
    let muni_median: HashMap<_, _> = by_muni
        .into_iter()
        .filter_map(|(k, v)| median_date(v).map(|d| (k, d)))
        .collect();
    let union_median: HashMap<_, _> = by_union
        .into_iter()
        .filter_map(|(k, v)| median_date(v).map(|d| (k, d)))
        .collect();
    for t in targets.iter_mut().filter(|t| !t.supported) {
        if !union_median.contains_key(&t.programme) {
            continue;
        }
        t.index = t.first_contact.or_else(|| {
            muni_median
                .get(&(t.programme, t.municipality.clone()))
                .or_else(|| union_median.get(&t.programme))
                .copied()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn spell(start: NaiveDate, end: Option<NaiveDate>) -> Spell {
        Spell {
            start,
            end,
            municipality: "312011".into(),
            sex: 1,
            birth: d(1940, 1, 1),
        }
    }

    #[test]
    fn coverage_joins_adjacent_spells_and_stops_at_gaps() {
        let mut p = People::default();
        let a = p.intern("A");
        p.spells[a as usize] = vec![
            spell(d(2020, 4, 1), Some(d(2023, 6, 1))),
            spell(d(2023, 6, 1), Some(d(2024, 1, 1))),
        ];
        assert!(p.covered(a, d(2023, 1, 1), d(2023, 12, 31)));
        assert!(
            !p.covered(a, d(2023, 1, 1), d(2024, 1, 1)),
            "2024-01-01 is the first day without coverage"
        );
        let b = p.intern("B");
        p.spells[b as usize] = vec![
            spell(d(2020, 4, 1), Some(d(2023, 6, 1))),
            spell(d(2023, 6, 2), None),
        ];
        assert!(!p.covered(b, d(2023, 5, 1), d(2023, 7, 1)), "one day's gap");
        assert!(p.covered(b, d(2023, 6, 2), d(2030, 1, 1)));
    }

    #[test]
    fn median_is_the_earlier_middle() {
        assert_eq!(
            median_date(vec![d(2023, 9, 1), d(2023, 5, 1)]),
            Some(d(2023, 5, 1))
        );
        assert_eq!(
            median_date(vec![d(2023, 9, 1), d(2023, 5, 1), d(2023, 7, 1)]),
            Some(d(2023, 7, 1))
        );
        assert_eq!(median_date(vec![]), None);
    }
}
