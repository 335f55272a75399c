//! Tests of the arithmetic after the base cells: rollups, standardisation, change and
//! suppression. Expected values are worked out by hand in the comments.

use super::cells::Cell;
use super::finish;
use ittai_model::Sex;
use ittai_model::indicators::{AgeGroup, Area, Direction, IndicatorId, IndicatorRow, SexGroup};
use ittai_model::time::AgeBand;

const FEMALE: SexGroup = SexGroup::Sex(Sex::Female);
const ALL_SEXES: SexGroup = SexGroup::All;
const ALL_AGES: AgeGroup = AgeGroup::All;
const B75: AgeBand = AgeBand::A75to79;
const B80: AgeBand = AgeBand::A80to84;

fn muni(code: &str) -> Area {
    Area::Municipality(code.into())
}

fn cell(m: &str, band: AgeBand, num: f64, den: f64) -> Cell {
    Cell {
        indicator: IndicatorId::HighRiskRate,
        rule_id: Some("R01".into()),
        municipality_code: m.into(),
        sex: Sex::Female,
        age_band: band,
        numerator: num,
        denominator: den,
        persons: den as u64,
    }
}

fn find<'a>(
    rows: &'a [IndicatorRow],
    fy: i32,
    m: &Area,
    sex: SexGroup,
    band: AgeGroup,
) -> &'a IndicatorRow {
    rows.iter()
        .find(|r| {
            r.fy == fy
                && r.municipality_code == *m
                && r.sex == sex
                && r.age_band == band
                && r.indicator == IndicatorId::HighRiskRate
        })
        .unwrap_or_else(|| panic!("no row {fy} {m} {sex} {band}"))
}

/// Three municipalities, one band, women only:
/// A 7 / 500 (primary suppression: 7 < 10), B 40 / 1000, C 30 / 800.
/// With A hidden, the union total (77) minus B and C would reveal it, so the smallest other
/// municipality (C, denominator 800) is suppressed too; B stays. The union is exact:
/// 77 / 2300 × 100 = 3.3478 %.
#[test]
fn seven_listed_persons_are_suppressed_and_the_union_is_right() {
    let cells = vec![
        (2024, cell("A", B80, 7.0, 500.0)),
        (2024, cell("B", B80, 40.0, 1000.0)),
        (2024, cell("C", B80, 30.0, 800.0)),
    ];
    let (rows, _) = finish(&cells, &[]);
    for sex in [FEMALE, ALL_SEXES] {
        for band in [AgeGroup::Band(B80), ALL_AGES] {
            assert!(
                find(&rows, 2024, &muni("A"), sex, band).suppressed,
                "A {sex} {band}"
            );
            assert!(
                find(&rows, 2024, &muni("C"), sex, band).suppressed,
                "C {sex} {band} (secondary)"
            );
            assert!(
                !find(&rows, 2024, &muni("B"), sex, band).suppressed,
                "B {sex} {band}"
            );
            let u = find(&rows, 2024, &Area::Union, sex, band);
            assert!(!u.suppressed);
            assert_eq!((u.numerator, u.denominator), (77.0, 2300.0));
            assert!((u.value.unwrap() - 100.0 * 77.0 / 2300.0).abs() < 1e-9);
        }
    }
    // The exact figures stay in the rows (only published outputs blank them).
    assert_eq!(
        find(&rows, 2024, &muni("A"), ALL_SEXES, ALL_AGES).numerator,
        7.0
    );
}

/// Direct standardisation with the union as standard.
/// Union denominators by band: 75-79 = 100 + 500 = 600, 80-84 = 100 + 300 = 400 (weights
/// 0.6 and 0.4). Municipality A: 6 / 100 = 6 % and 30 / 100 = 30 %; crude 36 / 200 = 18 %,
/// standardised 0.6 × 6 + 0.4 × 30 = 15.6 %. The union's standardised value equals its
/// crude value: 120 / 1000 = 12 % (0.6 × 5 + 0.4 × 22.5 = 12).
#[test]
fn age_standardised_rates() {
    let cells = vec![
        (2024, cell("A", B75, 6.0, 100.0)),
        (2024, cell("A", B80, 30.0, 100.0)),
        (2024, cell("B", B75, 24.0, 500.0)),
        (2024, cell("B", B80, 60.0, 300.0)),
    ];
    let (rows, _) = finish(&cells, &[]);
    let a = find(&rows, 2024, &muni("A"), FEMALE, ALL_AGES);
    assert!((a.value.unwrap() - 18.0).abs() < 1e-9);
    assert!(
        (a.age_standardised.unwrap() - 15.6).abs() < 1e-9,
        "{:?}",
        a.age_standardised
    );
    let u = find(&rows, 2024, &Area::Union, ALL_SEXES, ALL_AGES);
    assert!((u.value.unwrap() - 12.0).abs() < 1e-9);
    assert!((u.age_standardised.unwrap() - 12.0).abs() < 1e-9);
}

/// FY2023 12 / 1000 = 1.2 %, FY2024 15 / 1000 = 1.5 %: change +0.3 points, "up".
#[test]
fn change_from_the_previous_year() {
    let cells = vec![
        (2023, cell("A", B80, 12.0, 1000.0)),
        (2024, cell("A", B80, 15.0, 1000.0)),
    ];
    let (rows, _) = finish(&cells, &[]);
    let r = find(&rows, 2024, &muni("A"), ALL_SEXES, ALL_AGES);
    assert_eq!(r.previous_value, Some(1.2));
    assert!((r.change.unwrap() - 0.3).abs() < 1e-9);
    assert_eq!(r.direction, Some(Direction::Up));
    assert_eq!(
        find(&rows, 2023, &muni("A"), ALL_SEXES, ALL_AGES).previous_value,
        None
    );
}

/// Complements (persons of the denominator not in the numerator) are counts too.
/// 20 / 27: numerator 20 and denominator 27 are ≥ 10 but 27 − 20 = 7 is in 1..10, so the
/// row is suppressed. 20 / 30: complement 10, published. 0 / 5: suppressed by the existing
/// denominator rule (5 < 10). 12 / 12: complement 0 — zero is not small, published. 0 / 12:
/// numerator 0 is published, complement 12 too, published. Each municipality alone in
/// its own FY so that secondary suppression across municipalities does not interfere
/// (one municipality: its rows equal the union's, which is checked too).
#[test]
fn complements_under_ten_are_suppressed() {
    let cases = [
        (2020, 20.0, 27.0, true),
        (2021, 20.0, 30.0, false),
        (2022, 0.0, 5.0, true),
        (2023, 12.0, 12.0, false),
        (2024, 0.0, 12.0, false),
    ];
    for (fy, num, den, hidden) in cases {
        let (rows, _) = finish(&[(fy, cell("A", B80, num, den))], &[]);
        let r = find(&rows, fy, &muni("A"), FEMALE, AgeGroup::Band(B80));
        assert_eq!(r.suppressed, hidden, "{num}/{den}");
        let u = find(&rows, fy, &Area::Union, ALL_SEXES, ALL_AGES);
        assert_eq!(u.suppressed, hidden, "union {num}/{den}");
    }
}

/// A hidden total over shown parts is recovered by addition. One municipality A, women,
/// two bands: 75-79 20 / 25 (complement 5: hidden), 80-84 30 / 42 (complement 12: shown);
/// all ages 50 / 67 (complement 17: shown). The band equation all = 75-79 + 80-84 has one
/// hidden member (75-79), so 80-84 is hidden too. Second case: bands 10 / 22 and 10 / 20
/// shown (complements 12, 10), all ages 20 / 42 shown: nothing hidden.
#[test]
fn a_single_hidden_member_of_an_equation_gets_a_partner() {
    let (rows, _) = finish(
        &[
            (2024, cell("A", B75, 20.0, 25.0)),
            (2024, cell("A", B80, 30.0, 42.0)),
        ],
        &[],
    );
    assert!(find(&rows, 2024, &muni("A"), FEMALE, AgeGroup::Band(B75)).suppressed);
    assert!(find(&rows, 2024, &muni("A"), FEMALE, AgeGroup::Band(B80)).suppressed);
    assert!(!find(&rows, 2024, &muni("A"), FEMALE, ALL_AGES).suppressed);
    let (rows, _) = finish(
        &[
            (2024, cell("A", B75, 10.0, 22.0)),
            (2024, cell("A", B80, 10.0, 20.0)),
        ],
        &[],
    );
    assert!(rows.iter().all(|r| !r.suppressed));
}

/// Property test (deterministic LCG, 200 random small unions of 1–3 municipalities × 2
/// sexes × 2 bands, counts 0–40): in the published rows (a suppressed row shows nothing)
/// no numerator, denominator or complement of 1–9 is shown, and no equation total = Σ
/// parts (along municipality, sex or band) has exactly one hidden member.
#[test]
fn no_published_row_lets_a_small_count_be_recovered() {
    use ittai_model::Sex;
    let mut seed: u64 = 0x1234_5678;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    for case in 0..200 {
        let munis = 1 + next(3) as usize;
        let mut cells = Vec::new();
        for m in ["A", "B", "C"].iter().take(munis) {
            for sex in [Sex::Male, Sex::Female] {
                for band in [B75, B80] {
                    let den = next(41) as f64;
                    let num = next(den as u64 + 1) as f64;
                    let mut c = cell(m, band, num, den);
                    c.sex = sex;
                    cells.push((2024, c));
                }
            }
        }
        let (rows, _) = finish(&cells, &[]);
        let small = |x: f64| (1.0..10.0).contains(&x);
        for r in rows.iter().filter(|r| !r.suppressed) {
            assert!(
                !small(r.numerator) && !small(r.denominator) && !small(r.denominator - r.numerator),
                "case {case}: {r:?}"
            );
        }
        for r in &rows {
            let members = |dim: usize| -> Vec<&IndicatorRow> {
                rows.iter()
                    .filter(|p| {
                        let same = [
                            p.municipality_code == r.municipality_code,
                            p.sex == r.sex,
                            p.age_band == r.age_band,
                        ];
                        let part = [
                            !p.municipality_code.is_union(),
                            p.sex != ALL_SEXES,
                            p.age_band != ALL_AGES,
                        ];
                        (0..3).all(|d| if d == dim { part[d] } else { same[d] })
                    })
                    .collect()
            };
            let totals = [
                r.municipality_code.is_union(),
                r.sex == ALL_SEXES,
                r.age_band == ALL_AGES,
            ];
            for dim in 0..3 {
                if !totals[dim] {
                    continue;
                }
                let parts = members(dim);
                let hidden =
                    parts.iter().filter(|p| p.suppressed).count() + usize::from(r.suppressed);
                let shown_parts = parts
                    .iter()
                    .filter(|p| !p.suppressed && p.denominator > 0.0)
                    .count();
                assert!(
                    hidden != 1 || shown_parts == 0,
                    "case {case}: one hidden member under {r:?}"
                );
            }
        }
    }
}
