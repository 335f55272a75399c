//! Support records (支援記録, table `interventions`) of the integrated programmes: which
//! persons a municipality's programme targets, how it contacts them, and the bookkeeping the
//! person simulation needs for that.
//!
//! The generator does not run the engine. Each person keeps, per fiscal year, what the ten
//! rules look at ([`YearSeen`]: latest checkup values and answers, the largest monthly
//! count of distinct oral drugs, drug classes, visits, dental claims, heart and
//! cerebrovascular diagnoses, certifications), and [`listing`] approximates the rules of
//! docs/reference/rules.md from it. Most support records therefore land on the engine's
//! lists; the others count as "supported outside the lists", as real records can.
//!
//! Municipalities run a random subset of the programmes ([`municipality_plans`]); a running
//! municipality contacts a share of its targets ([`plan_contacts`]: 1–3 contacts in the FY,
//! first contacts mostly April–December, approach, staff and referral by programme). The
//! effects of support on later data are applied by `person.rs`; the configuration and its
//! defaults are [`SupportConfig`] (docs/CALIBRATION.md, "Support records").

use chrono::{Duration, NaiveDate};
use ittai_model::FiscalYear;
use ittai_model::questionnaire::{NO, YES};
use ittai_model::support::{Approach, Programme, Referral, Staff};
use ittai_model::time::add_months;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::SupportConfig;
use crate::demography::splitmix;

/// Drug-class bit of an antihypertensive (class `hypertension`, docs/reference/dataset.md).
pub const DRUG_HYPERTENSION: u8 = 1;
/// Drug-class bit of a diabetes drug (class `diabetes`).
pub const DRUG_DIABETES: u8 = 2;
/// Drug-class bit of a hypnotic (class `hypnotic`, エチゾラム not included, as R04 by default).
pub const DRUG_HYPNOTIC: u8 = 4;

/// Distinct oral drugs (YJ 7) in one month from which R03 lists a person (its default).
pub const POLYPHARMACY_DRUGS: usize = 15;

/// A phone attempt reaches the person with the configured probability times this (calls
/// go unanswered more often than visits or interviews fail) (est.).
pub const PHONE_REACH_FACTOR: f64 = 0.75;

/// Number of programmes (the length of `Programme::ALL`).
pub const PROGRAMMES: usize = Programme::ALL.len();

/// Position of a programme in `Programme::ALL` (and in every per-programme array here).
pub fn programme_index(p: Programme) -> usize {
    Programme::ALL
        .iter()
        .position(|x| *x == p)
        .expect("every programme is in ALL")
}

/// Rough share of the insured on a programme's lists in an FY (est., from the published
/// ハイリスク者割合 of docs/reference/calibration.md and the rates the generator gives): it
/// scales the contacts "outside the lists" to about `outside_lists` of the on-list ones.
fn list_share(p: Programme) -> f64 {
    match p {
        Programme::Undernutrition => 0.01,
        Programme::Oral => 0.03,
        Programme::Medication => 0.055,
        Programme::PhysicalFrailty => 0.04,
        Programme::DiseasePrevention => 0.05,
        Programme::HealthUnknown => 0.02,
    }
}

/// How a programme's contacts are made (relative weights, est.): 健康状態不明者 mostly by
/// home visit; 服薬 by phone, interview or letter; 重症化予防 by a visit recommendation or
/// phone; 身体的フレイル and 口腔 often at a 通いの場.
fn approach_mix(p: Programme) -> &'static [(Approach, f64)] {
    use Approach as A;
    match p {
        Programme::Undernutrition => &[(A::Visit, 0.45), (A::Interview, 0.3), (A::Phone, 0.25)],
        Programme::Oral => &[
            (A::Interview, 0.35),
            (A::Phone, 0.25),
            (A::Group, 0.25),
            (A::Visit, 0.15),
        ],
        Programme::Medication => &[
            (A::Phone, 0.35),
            (A::Interview, 0.35),
            (A::Letter, 0.2),
            (A::Visit, 0.1),
        ],
        Programme::PhysicalFrailty => &[
            (A::Group, 0.45),
            (A::Interview, 0.25),
            (A::Phone, 0.2),
            (A::Visit, 0.1),
        ],
        Programme::DiseasePrevention => &[
            (A::Recommendation, 0.45),
            (A::Phone, 0.3),
            (A::Visit, 0.15),
            (A::Letter, 0.1),
        ],
        Programme::HealthUnknown => &[(A::Visit, 0.75), (A::Phone, 0.15), (A::Letter, 0.1)],
    }
}

/// Share of reached persons found to need further support (医療・介護等の支援が必要) and
/// where they are referred (relative weights, est.).
fn referral_mix(p: Programme) -> (f64, &'static [(Referral, f64)]) {
    use Referral as R;
    match p {
        Programme::Undernutrition => (
            0.25,
            &[(R::Medical, 0.4), (R::Community, 0.3), (R::Care, 0.3)],
        ),
        Programme::Oral => (0.25, &[(R::Medical, 0.8), (R::Community, 0.2)]),
        Programme::Medication => (0.15, &[(R::Medical, 0.9), (R::Watch, 0.1)]),
        Programme::PhysicalFrailty => (
            0.4,
            &[(R::Community, 0.7), (R::Care, 0.2), (R::Medical, 0.1)],
        ),
        Programme::DiseasePrevention => (0.5, &[(R::Medical, 0.95), (R::Watch, 0.05)]),
        Programme::HealthUnknown => (0.3, &[(R::Care, 0.4), (R::Medical, 0.35), (R::Watch, 0.25)]),
    }
}

/// Who makes a programme's contacts (relative weights, est.).
fn staff_mix(p: Programme) -> &'static [(Staff, f64)] {
    use Staff as S;
    match p {
        Programme::Oral => &[(S::DentalHygienist, 1.0)],
        Programme::Undernutrition => &[(S::Dietitian, 1.0)],
        Programme::Medication => &[(S::Pharmacist, 0.6), (S::PublicHealthNurse, 0.4)],
        _ => &[(S::PublicHealthNurse, 0.9), (S::Nurse, 0.1)],
    }
}

/// One of `options` by relative weight.
fn pick<T: Copy>(options: &[(T, f64)], rng: &mut ChaCha8Rng) -> T {
    let total: f64 = options.iter().map(|o| o.1).sum();
    let mut t = rng.random::<f64>() * total;
    for &(x, w) in options {
        if t < w {
            return x;
        }
        t -= w;
    }
    options[options.len() - 1].0
}

/// The programmes one municipality runs.
#[derive(Debug, Clone)]
pub struct MunicipalitySupport {
    /// Per programme (order of `Programme::ALL`): the share of its targets the municipality
    /// contacts in an FY, or `None` when it does not run the programme.
    pub reach: [Option<f64>; PROGRAMMES],
}

/// The programmes of each of `n` municipalities (same order as the world's), drawn once
/// from their own stream of `seed`: a programme runs with probability `cfg.runs`, and a
/// running one contacts a share of its targets uniform in [`reach_min`, `reach_max`].
pub fn municipality_plans(cfg: &SupportConfig, seed: u64, n: usize) -> Vec<MunicipalitySupport> {
    let mut rng = ChaCha8Rng::seed_from_u64(splitmix(seed ^ 0x5A99_0127_0C17));
    (0..n)
        .map(|_| {
            let mut reach = [None; PROGRAMMES];
            for (k, p) in Programme::ALL.iter().enumerate() {
                let runs = rng.random::<f64>() < cfg.runs.get(*p);
                let share = cfg.reach_min + (cfg.reach_max - cfg.reach_min) * rng.random::<f64>();
                if runs {
                    reach[k] = Some(share);
                }
            }
            MunicipalitySupport { reach }
        })
        .collect()
}

/// The values of a checkup the rules read.
#[derive(Debug, Clone, Copy)]
pub struct CheckupSeen {
    /// BMI, kg/m².
    pub bmi: f64,
    /// 収縮期血圧, mmHg.
    pub sbp: f64,
    /// 拡張期血圧, mmHg.
    pub dbp: f64,
    /// HbA1c, %.
    pub hba1c: f64,
    /// eGFR, mL/min/1.73m² (null when not measured).
    pub egfr: Option<f64>,
    /// 尿蛋白 code (1 − … 5 +++).
    pub urine_protein: u8,
}

/// The questionnaire answers the rules read (codes as in `questionnaires`).
#[derive(Debug, Clone, Copy)]
pub struct Answers {
    /// Q1 健康状態.
    pub q01: u8,
    /// Q4 固いものが食べにくい.
    pub q04: u8,
    /// Q5 むせる.
    pub q05: u8,
    /// Q6 体重減少.
    pub q06: u8,
    /// Q7 歩く速度.
    pub q07: u8,
    /// Q8 転倒.
    pub q08: u8,
    /// Q10 物忘れ.
    pub q10: u8,
    /// Q11 日付がわからない.
    pub q11: u8,
    /// Q13 週1回以上の外出.
    pub q13: u8,
}

/// What one person's data hold for one fiscal year, as far as the rules look.
#[derive(Debug, Clone, Default)]
pub struct YearSeen {
    /// The FY's checkup (at most one is generated per FY).
    pub checkup: Option<CheckupSeen>,
    /// The latest questionnaire of the FY, with its date.
    pub answers: Option<(NaiveDate, Answers)>,
    /// Largest count of distinct oral drugs (YJ 7) over the claims of one month.
    pub max_oral: usize,
    /// A 歯科 claim.
    pub dental_claim: bool,
    /// A 医科入院, 医科入院外, 歯科 or DPC claim.
    pub visit_claim: bool,
    /// A diabetes drug (on 医科, DPC or 調剤 claims: the only claims with drugs here).
    pub dm_drug: bool,
    /// An antihypertensive.
    pub ht_drug: bool,
    /// A hypnotic.
    pub hypnotic: bool,
    /// A non-suspected heart-failure, ischaemic-heart or cerebrovascular diagnosis.
    pub heart_dx: bool,
    /// A certification other than 01 非該当 valid on some day of the FY.
    pub certified: bool,
}

/// The rule lists a person is on for one FY, as [`listing`] approximates them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    /// R01 … R10.
    pub rules: [bool; 10],
    /// On R06 through its HbA1c arm (HbA1c ≥ 8.0 without a diabetes drug).
    pub poor_dm: bool,
    /// On R06 through its blood-pressure arm (SBP ≥ 160 or DBP ≥ 100 without an
    /// antihypertensive).
    pub poor_bp: bool,
}

impl Listing {
    /// The rule ids of programme `p` whose lists hold the person.
    pub fn rules_of(&self, p: Programme) -> Vec<&'static str> {
        p.rules()
            .iter()
            .copied()
            .filter(|id| {
                id[1..]
                    .parse::<usize>()
                    .is_ok_and(|n| (1..=10).contains(&n) && self.rules[n - 1])
            })
            .collect()
    }
}

fn year(years: &[YearSeen], first_fy: i32, fy: i32) -> Option<&YearSeen> {
    usize::try_from(fy - first_fy)
        .ok()
        .and_then(|k| years.get(k))
}

/// The lists of FY `fy` a person is on, approximating the default rules
/// (docs/reference/rules.md) from `years` (index 0 = `first_fy`). `coverage_start` is the
/// person's first covered day: an absence condition needs coverage over its whole window,
/// as the engine's coverage guard does. FYs before the data count as holding nothing, as
/// they do for the engine.
pub fn listing(years: &[YearSeen], first_fy: i32, fy: i32, coverage_start: NaiveDate) -> Listing {
    let mut l = Listing::default();
    let Some(y) = year(years, first_fy, fy) else {
        return l;
    };
    let covered = |k: i32| coverage_start <= FiscalYear(k).start();
    let c = y.checkup;
    let a = y.answers.map(|(_, a)| a);
    let q1_poor = a.is_some_and(|a| matches!(a.q01, 4 | 5));
    let q06 = a.is_some_and(|a| a.q06 == YES);
    let q08 = a.is_some_and(|a| a.q08 == YES);
    // R01 低栄養
    l.rules[0] = c.is_some_and(|c| c.bmi <= 20.0) && q06;
    // R02 口腔
    l.rules[1] = a.is_some_and(|a| a.q04 == YES || a.q05 == YES) && !y.dental_claim && covered(fy);
    // R03 多剤
    l.rules[2] = y.max_oral >= POLYPHARMACY_DRUGS;
    // R04 睡眠薬
    l.rules[3] = y.hypnotic && (q08 || a.is_some_and(|a| a.q10 == YES && a.q11 == YES));
    // R05 身体的フレイル
    l.rules[4] = q1_poor && a.is_some_and(|a| a.q07 == YES);
    // R06 コントロール不良
    if let Some(c) = c
        && covered(fy)
    {
        l.poor_dm = c.hba1c >= 8.0 && !y.dm_drug;
        l.poor_bp = (c.sbp >= 160.0 || c.dbp >= 100.0) && !y.ht_drug;
    }
    l.rules[5] = l.poor_dm || l.poor_bp;
    // R07 治療中断: a class drug in FY−3..FY−1, none in the FY, no checkup.
    let dm_earlier = (fy - 3..fy).any(|k| year(years, first_fy, k).is_some_and(|y| y.dm_drug));
    let ht_earlier = (fy - 3..fy).any(|k| year(years, first_fy, k).is_some_and(|y| y.ht_drug));
    let stopped_dm = dm_earlier && !y.dm_drug;
    let stopped_ht = ht_earlier && !y.ht_drug;
    l.rules[6] = c.is_none() && covered(fy) && (stopped_dm || stopped_ht);
    // R08 基礎疾患＋フレイル
    let dm_drug = (fy - 3..=fy).any(|k| year(years, first_fy, k).is_some_and(|y| y.dm_drug));
    let base = dm_drug || y.heart_dx || c.is_some_and(|c| c.hba1c >= 7.0);
    let frail = q1_poor || q06 || q08 || a.is_some_and(|a| a.q13 == NO);
    l.rules[7] = base && frail;
    // R09 腎機能不良未受診
    l.rules[8] = c.is_some_and(|c| c.egfr.is_some_and(|e| e < 45.0) || c.urine_protein >= 3)
        && !y.visit_claim
        && covered(fy);
    // R10 健康状態不明者: nothing in FY−1..FY.
    let quiet = |y: &YearSeen| y.checkup.is_none() && !y.visit_claim && !y.certified;
    l.rules[9] = covered(fy - 1) && quiet(y) && year(years, first_fy, fy - 1).is_none_or(quiet);
    l
}

/// One contact planned for FY t, written when its month comes (and dropped when the
/// person has died or left by then).
#[derive(Debug, Clone)]
pub struct PlannedContact {
    /// 支援日.
    pub date: NaiveDate,
    /// 事業.
    pub programme: Programme,
    /// The list named on the record, if recorded.
    pub rule_id: Option<&'static str>,
    /// 支援方法.
    pub approach: Approach,
    /// 支援できた.
    pub reached: bool,
    /// 医療・介護等の支援が必要と把握 (reached contacts only).
    pub needs_referral: Option<bool>,
    /// つなぎ先 (reached contacts only).
    pub referred_to: Option<Referral>,
    /// 従事者.
    pub staff: Staff,
}

fn days_in_month(month: NaiveDate) -> i64 {
    (add_months(month, 1) - month).num_days()
}

/// The contacts of programme `programme` with one person in FY `fy`: 1–3 (50, 30, 20 %),
/// the first in April–December three times as often as in January–March, the next 2–11
/// weeks after the one before (none after the FY's end). `rules` are the programme's lists
/// holding the person (empty: a person outside the lists, whose records name no list); a
/// record names one of them with probability `cfg.rule_id_recorded`. Approach, staff and
/// referral follow the programme's mixes; a person's staff and referral are the same on
/// all of their reached contacts.
pub fn plan_contacts(
    cfg: &SupportConfig,
    rng: &mut ChaCha8Rng,
    fy: FiscalYear,
    programme: Programme,
    rules: &[&'static str],
) -> Vec<PlannedContact> {
    let n = match rng.random::<f64>() {
        x if x < 0.5 => 1,
        x if x < 0.8 => 2,
        _ => 3,
    };
    let rule = (!rules.is_empty()).then(|| rules[rng.random_range(0..rules.len())]);
    let staff = pick(staff_mix(programme), rng);
    let (p_needs, referrals) = referral_mix(programme);
    let needs = rng.random::<f64>() < p_needs;
    let referral = if needs {
        pick(referrals, rng)
    } else {
        Referral::None
    };
    let months: Vec<(i32, f64)> = (0..12)
        .map(|k| (k, if k < 9 { 1.0 } else { 1.0 / 3.0 }))
        .collect();
    let month = add_months(fy.start(), pick(&months, rng));
    let mut date = month + Duration::days(rng.random_range(0..days_in_month(month)));
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        if k > 0 {
            date += Duration::days(rng.random_range(14..=75));
            if date > fy.end() {
                break;
            }
        }
        let approach = pick(approach_mix(programme), rng);
        let p_reach = cfg.reached
            * if approach == Approach::Phone {
                PHONE_REACH_FACTOR
            } else {
                1.0
            };
        let reached = rng.random::<f64>() < p_reach;
        let rule_id = rule.filter(|_| rng.random::<f64>() < cfg.rule_id_recorded);
        out.push(PlannedContact {
            date,
            programme,
            rule_id,
            approach,
            reached,
            needs_referral: reached.then_some(needs),
            referred_to: reached.then_some(referral),
            staff,
        });
    }
    out
}

/// The probability that a person not on any list of `programme` is contacted by it in a
/// municipality that contacts `reach` of its targets: `outside_lists` × the programme's
/// list share × `reach`, so that such contacts are about `outside_lists` of the on-list ones.
pub fn outside_probability(cfg: &SupportConfig, programme: Programme, reach: f64) -> f64 {
    cfg.outside_lists * list_share(programme) * reach
}

/// Effects of support waiting to happen to one person (see `SupportEffects`).
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// Month in which stopped diabetes and hypertension treatment restarts.
    pub restart_month: Option<NaiveDate>,
    /// Month in which treatment starts, for the diabetes and/or the blood-pressure arm of R06.
    pub start: Option<(NaiveDate, bool, bool)>,
    /// Month with a dental visit.
    pub dental_month: Option<NaiveDate>,
    /// Month with a clinic visit.
    pub visit_month: Option<NaiveDate>,
    /// Month with a checkup (a clinic visit instead when the FY already has one).
    pub checkup_month: Option<NaiveDate>,
    /// Weight added at checkups after the date, kg.
    pub weight_gain: Option<(NaiveDate, f64)>,
    /// Q7 = yes turns to no at the next questionnaire.
    pub walking: bool,
    /// A new certification application from the first to the second date (inclusive)
    /// waits until after the window with probability 1 − `certification_factor` (decided
    /// once, at the first such application).
    pub certification: Option<(NaiveDate, NaiveDate)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn contacts_fall_in_their_fiscal_year() {
        let cfg = SupportConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let fy = FiscalYear(2023);
        let mut early = 0;
        let mut firsts = 0;
        for p in Programme::ALL {
            for _ in 0..500 {
                let cs = plan_contacts(&cfg, &mut rng, fy, *p, &p.rules()[..1]);
                assert!((1..=3).contains(&cs.len()));
                firsts += 1;
                if cs[0].date.month() >= 4 {
                    early += 1;
                }
                for c in &cs {
                    assert!(fy.contains(c.date), "{}", c.date);
                    assert_eq!(c.needs_referral.is_some(), c.reached);
                    assert_eq!(c.referred_to.is_some(), c.reached);
                    if let Some(r) = c.rule_id {
                        assert_eq!(Programme::for_rule(r), Some(*p));
                    }
                }
                assert!(cs.windows(2).all(|w| w[0].date < w[1].date));
            }
        }
        // April–December hold 9 / 10 of the first contacts in expectation.
        let share = early as f64 / firsts as f64;
        assert!((0.85..0.95).contains(&share), "{share}");
    }

    #[test]
    fn listing_follows_the_rules() {
        let a = Answers {
            q01: 4,
            q04: NO,
            q05: YES,
            q06: YES,
            q07: YES,
            q08: NO,
            q10: NO,
            q11: NO,
            q13: YES,
        };
        let c = CheckupSeen {
            bmi: 19.5,
            sbp: 165.0,
            dbp: 80.0,
            hba1c: 6.0,
            egfr: Some(50.0),
            urine_protein: 1,
        };
        let y21 = YearSeen {
            ht_drug: true,
            visit_claim: true,
            ..Default::default()
        };
        let y22 = YearSeen {
            checkup: Some(c),
            answers: Some((d(2022, 9, 1), a)),
            max_oral: 15,
            visit_claim: true,
            ..Default::default()
        };
        let years = [y21, y22];
        let l = listing(&years, 2021, 2022, d(2015, 1, 1));
        // R01 (BMI ≤ 20, Q6), R02 (Q5, no dental), R03 (15), R05 (Q1 4, Q7), R06 (SBP, no
        // antihypertensive in FY2022), R08 needs a base condition (none), R10 (visits).
        assert_eq!(
            l.rules,
            [
                true, true, true, false, true, true, false, false, false, false
            ]
        );
        assert!(l.poor_bp && !l.poor_dm);
        assert_eq!(l.rules_of(Programme::DiseasePrevention), ["R06"]);
        // Not covered over FY2022 (insured from 2022-06-01): no absence rule.
        let l = listing(&years, 2021, 2022, d(2022, 6, 1));
        assert!(!l.rules[1] && !l.rules[5] && l.rules[0]);
        // Nothing at all in FY2021 and FY2022: R10; without the checkup, R07 (the
        // antihypertensive of FY2021 stopped).
        let quiet = [YearSeen::default(), YearSeen::default()];
        assert!(listing(&quiet, 2021, 2022, d(2015, 1, 1)).rules[9]);
        let stopped = [
            YearSeen {
                ht_drug: true,
                visit_claim: true,
                ..Default::default()
            },
            YearSeen::default(),
        ];
        let l = listing(&stopped, 2021, 2022, d(2015, 1, 1));
        assert!(l.rules[6] && !l.rules[9]);
    }
}
