//! Who is in the synthetic union: ids, sex and age from the 2020 census, people turning
//! 75 or moving in during the period, and the municipality mix.

use chrono::{Datelike, Duration, NaiveDate};
use ittai_dataset::reference::{self, CensusCell};
use ittai_model::check_digit::late_elderly_insurer_number;
use ittai_model::time::add_months;
use ittai_model::{PersonId, Sex};
use rand::Rng;

use crate::calibration::{MOVE_IN_PER_YEAR, UNDER_75_SHARE};

/// A 48-bit keyed permutation (4-round Feistel network): distinct indices give distinct
/// ids, and ids look random. `person_id` = 12 hex digits of `permute(seed, index)`.
pub fn permute(seed: u64, index: u64) -> u64 {
    const MASK: u64 = (1 << 24) - 1;
    let (mut l, mut r) = ((index >> 24) & MASK, index & MASK);
    for round in 0..4u64 {
        let f = splitmix(seed ^ (round.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ r) & MASK;
        (l, r) = (r, l ^ f);
    }
    (l << 24) | r
}

/// SplitMix64 finaliser, used to derive keys and round functions.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The pseudonymous id of person `index`.
pub fn person_id(seed: u64, index: u64) -> PersonId {
    PersonId::from(format!("{:012x}", permute(splitmix(seed), index)))
}

/// How a person enters the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Insured on the first day of the period (aged 75+ or a 65–74 disability insured).
    Base,
    /// Turns 75 during the period; covered from the 75th birthday.
    TurnsSeventyFive,
    /// Moves into the prefecture during the period.
    MovesIn,
}

/// A municipality of the union with its weight in the population.
#[derive(Debug, Clone)]
pub struct UnionMunicipality {
    /// 6-digit code.
    pub code: String,
    /// Name (鳥取市), for the addresses of the synthetic register.
    pub name: String,
    /// 後期 insurer number of the municipality (39 + prefecture + 3 digits + check).
    pub insurer: String,
    /// Relative size.
    pub weight: f64,
}

/// The municipalities of a prefecture (wards of designated cities excluded) with
/// synthetic weights: the first city listed (the prefectural capital in the vendored list)
/// 100, other cities 40, Tokyo special wards 30, towns 8,
/// villages 2. Real per-municipality 75+ counts are not vendored; the weights only make
/// cities bigger than villages, as in every union.
pub fn union_municipalities(prefecture_code: u8) -> Vec<UnionMunicipality> {
    let mut first_city = true;
    reference::municipalities()
        .into_iter()
        .filter(|m| m.prefecture_code == prefecture_code && !m.is_ward)
        .map(|m| {
            let weight = if m.name.ends_with('市') {
                let w = if first_city { 100.0 } else { 40.0 };
                first_city = false;
                w
            } else if m.name.ends_with('区') {
                30.0
            } else if m.name.ends_with('町') {
                8.0
            } else {
                2.0
            };
            let insurer =
                late_elderly_insurer_number(&m.code).expect("municipality codes have 5 digits");
            UnionMunicipality {
                code: m.code,
                name: m.name,
                insurer,
                weight,
            }
        })
        .collect()
}

/// Census-based sampler of sex and age.
#[derive(Debug, Clone)]
pub struct AgeSampler {
    cells_75: Vec<(Sex, u8, Option<u8>, f64)>,
    cells_65_74: Vec<(Sex, u8, Option<u8>, f64)>,
    male_share_70_74: f64,
    /// Persons turning 75 per year per person aged 75+ (2020 census: 70–74 / 5 ÷ 75+).
    pub entrants_per_year: f64,
}

impl AgeSampler {
    /// From the 2020 census (reference/stats).
    pub fn census_2020() -> Self {
        let c = reference::census(2020);
        let pick = |lo: u8, hi: u8| -> Vec<(Sex, u8, Option<u8>, f64)> {
            c.iter()
                .filter(|x: &&CensusCell| x.age_from >= lo && x.age_from <= hi)
                .map(|x| (x.sex, x.age_from, x.age_to, x.count as f64))
                .collect()
        };
        let cells_75 = pick(75, 100);
        let cells_65_74 = pick(65, 70);
        let n75: f64 = cells_75.iter().map(|x| x.3).sum();
        let c7074: Vec<_> = pick(70, 70);
        let n7074: f64 = c7074.iter().map(|x| x.3).sum();
        let male_7074: f64 = c7074.iter().filter(|x| x.0 == Sex::Male).map(|x| x.3).sum();
        Self {
            cells_75,
            cells_65_74,
            male_share_70_74: male_7074 / n7074,
            entrants_per_year: n7074 / 5.0 / n75,
        }
    }

    fn draw(cells: &[(Sex, u8, Option<u8>, f64)], rng: &mut impl Rng) -> (Sex, i32) {
        let total: f64 = cells.iter().map(|x| x.3).sum();
        let mut t = rng.random::<f64>() * total;
        let mut cell = cells[cells.len() - 1];
        for c in cells {
            if t < c.3 {
                cell = *c;
                break;
            }
            t -= c.3;
        }
        // Within a band, ages decline as survival does (about 8 % per year of age at
        // 75+, steeper above 100).
        let (span, decay) = match cell.2 {
            Some(hi) => ((hi - cell.1 + 1) as usize, 0.08),
            None => (6, 0.35),
        };
        let w: Vec<f64> = (0..span).map(|k| (-decay * k as f64).exp()).collect();
        let mut t = rng.random::<f64>() * w.iter().sum::<f64>();
        let mut k = span - 1;
        for (i, wi) in w.iter().enumerate() {
            if t < *wi {
                k = i;
                break;
            }
            t -= wi;
        }
        (cell.0, cell.1 as i32 + k as i32)
    }

    /// Sex and age of a person insured at 75+.
    pub fn draw_75_plus(&self, rng: &mut impl Rng) -> (Sex, i32) {
        Self::draw(&self.cells_75, rng)
    }

    /// Sex and age (65–74) of a disability insured.
    pub fn draw_65_74(&self, rng: &mut impl Rng) -> (Sex, i32) {
        Self::draw(&self.cells_65_74, rng)
    }

    /// Sex of someone turning 75 now (the 70–74 census cohort).
    pub fn draw_sex_turning_75(&self, rng: &mut impl Rng) -> Sex {
        if rng.random::<f64>() < self.male_share_70_74 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// Demographic plan of one person: who they are and when their coverage starts.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Pseudonymous id.
    pub id: PersonId,
    /// How they enter.
    #[allow(dead_code, reason = "read by this module's tests")]
    pub entry: Entry,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth: NaiveDate,
    /// First day of coverage (資格取得日).
    pub coverage_start: NaiveDate,
    /// First day the simulation follows them (period start or coverage start).
    pub follow_from: NaiveDate,
    /// Municipality index.
    pub municipality: usize,
}

/// Shares of the three kinds of entry among all persons of the dataset, for `years`
/// fiscal years.
pub fn entry_shares(ages: &AgeSampler, years: usize) -> [f64; 3] {
    let base = 1.0;
    let turning = ages.entrants_per_year * years as f64;
    let moving = MOVE_IN_PER_YEAR * years as f64;
    let t = base + turning + moving;
    [base / t, turning / t, moving / t]
}

fn random_day(rng: &mut impl Rng, from: NaiveDate, to_inclusive: NaiveDate) -> NaiveDate {
    let span = (to_inclusive - from).num_days().max(0);
    from + Duration::days(rng.random_range(0..=span))
}

/// The 75th birthday (the day 後期 coverage starts).
pub fn seventy_fifth_birthday(birth: NaiveDate) -> NaiveDate {
    birth
        .with_year(birth.year() + 75)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(birth.year() + 75, 3, 1).expect("Mar 1"))
}

/// Draws the plan of person `index`.
pub fn plan(
    seed: u64,
    index: u64,
    ages: &AgeSampler,
    shares: [f64; 3],
    municipalities: &[UnionMunicipality],
    period: (NaiveDate, NaiveDate),
    rng: &mut impl Rng,
) -> Plan {
    let id = person_id(seed, index);
    let (t0, t1) = period;
    let u: f64 = rng.random();
    let entry = if u < shares[0] {
        Entry::Base
    } else if u < shares[0] + shares[1] {
        Entry::TurnsSeventyFive
    } else {
        Entry::MovesIn
    };
    let total_w: f64 = municipalities.iter().map(|m| m.weight).sum();
    let mut t = rng.random::<f64>() * total_w;
    let mut municipality = municipalities.len() - 1;
    for (i, m) in municipalities.iter().enumerate() {
        if t < m.weight {
            municipality = i;
            break;
        }
        t -= m.weight;
    }
    let launch = NaiveDate::from_ymd_opt(2008, 4, 1).expect("後期高齢者医療制度 start");
    let (sex, birth, coverage_start, follow_from) = match entry {
        Entry::Base => {
            if rng.random::<f64>() < UNDER_75_SHARE {
                let (sex, age) = ages.draw_65_74(rng);
                let birth = random_day(
                    rng,
                    add_months(t0, -12 * (age + 1)) + Duration::days(1),
                    add_months(t0, -12 * age),
                );
                let sixty_five = birth
                    .with_year(birth.year() + 65)
                    .unwrap_or(birth + Duration::days(365 * 65));
                let start = random_day(rng, sixty_five.max(launch), t0 - Duration::days(1));
                (sex, birth, start, t0)
            } else {
                let (sex, age) = ages.draw_75_plus(rng);
                let birth = random_day(
                    rng,
                    add_months(t0, -12 * (age + 1)) + Duration::days(1),
                    add_months(t0, -12 * age),
                );
                let start = seventy_fifth_birthday(birth).max(launch);
                (sex, birth, start, t0)
            }
        }
        Entry::TurnsSeventyFive => {
            let sex = ages.draw_sex_turning_75(rng);
            let birthday = random_day(rng, t0 + Duration::days(1), t1);
            let birth = birthday.with_year(birthday.year() - 75).unwrap_or_else(|| {
                NaiveDate::from_ymd_opt(birthday.year() - 75, 2, 28).expect("Feb 28")
            });
            let start = seventy_fifth_birthday(birth);
            (sex, birth, start, start)
        }
        Entry::MovesIn => {
            let start = random_day(rng, t0 + Duration::days(1), t1);
            let (sex, age) = ages.draw_75_plus(rng);
            let birth = random_day(
                rng,
                add_months(start, -12 * (age + 1)) + Duration::days(1),
                add_months(start, -12 * age),
            );
            (sex, birth, start, start)
        }
    };
    Plan {
        id,
        entry,
        sex,
        birth,
        coverage_start,
        follow_from,
        municipality,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_seed_dependent() {
        let ids: HashSet<PersonId> = (0..200_000).map(|i| person_id(1, i)).collect();
        assert_eq!(ids.len(), 200_000);
        assert_ne!(person_id(1, 0), person_id(2, 0));
        assert_eq!(person_id(1, 7), person_id(1, 7));
        assert_eq!(person_id(1, 7).len(), 12);
    }

    #[test]
    fn entrants_rate_from_census() {
        let a = AgeSampler::census_2020();
        // (4,249,286 + 4,762,509) / 5 / 18,248,742 = 0.09877 (hand calculation).
        assert!(
            (a.entrants_per_year - 0.09877).abs() < 1e-4,
            "{}",
            a.entrants_per_year
        );
    }

    #[test]
    fn tottori_union() {
        let m = union_municipalities(31);
        assert_eq!(m.len(), 19);
        assert_eq!(m[0].name, "鳥取市");
        assert_eq!(m[0].weight, 100.0);
        assert_eq!(m[1].weight, 40.0); // 米子市
        // 39 + 31 + 201, check digit by hand: weights 2,1 from the right over 3931201 give
        // 2+0+4+1+6+9+6 = 28 → (10 − 8) = 2.
        assert_eq!(m[0].insurer, "39312012");
        assert!(ittai_model::check_digit::is_valid_insurer_number(
            &m[0].insurer
        ));
    }

    #[test]
    fn plans_respect_entry_rules() {
        let ages = AgeSampler::census_2020();
        let shares = entry_shares(&ages, 4);
        let munis = union_municipalities(31);
        let t0 = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap();
        let t1 = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for i in 0..5000 {
            let p = plan(1, i, &ages, shares, &munis, (t0, t1), &mut rng);
            match p.entry {
                Entry::Base => assert!(p.coverage_start < t0),
                Entry::TurnsSeventyFive => {
                    assert_eq!(ittai_model::age_at(p.birth, p.coverage_start), 75);
                    assert!(p.coverage_start > t0 && p.coverage_start <= t1);
                }
                Entry::MovesIn => assert!(ittai_model::age_at(p.birth, p.coverage_start) >= 75),
            }
        }
    }
}
