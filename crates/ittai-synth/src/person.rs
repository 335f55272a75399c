//! The life of one synthetic person over the period, month by month: death and moves,
//! frailty and care-need certification, hospital stays, clinic visits with diagnoses and
//! prescriptions (in house or through a pharmacy), dental care, care services, checkups
//! with lab values, and the questionnaire.
//!
//! Every draw comes from the person's own random stream (seed, person index), so a person
//! does not depend on any other person, on chunking or on the number of threads.
//!
//! Latent traits drive the correlations the rules look for:
//! - `m`, metabolic risk (standard normal): hypertension, diabetes, lipids, CKD, heart
//!   disease; higher BMI, blood pressure, HbA1c, lower eGFR;
//! - `u`, frailty on the logistic scale (`z = u / 1.8138` standardised), drifting up with
//!   time and jumping after some admissions: certification and its level, deaths,
//!   admissions, questionnaire answers (Q1, Q6, Q7, Q8, Q13 …), lower BMI;
//! - `oral`, oral frailty: Q4 and Q5;
//! - care-seeking: doctor avoiders, checkup propensity, dental attendance.
//!
//! Support (支援記録): the person keeps, per FY, what the extraction rules look at
//! (`support::YearSeen`). Each April from the second FY, the lists of the FY before are
//! approximated from it, the person's municipality's programmes decide on contacts
//! (`support::plan_contacts`), the contacts are written in their month, and the first
//! reached contact of a programme (the index date) sets that programme's effects for the
//! months after it (`SupportEffects`). Support decisions and effects draw from a second
//! stream of the person's own, so a person never reached by support draws exactly what they
//! would draw without support: their rows do not change.

use chrono::{Datelike, Duration, NaiveDate};
use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, DentalCheckup, Intervention,
    MedicalClaim, Person, Questionnaire,
};
use ittai_model::questionnaire::{NO, YES};
use ittai_model::support::Programme;
use ittai_model::time::add_months;
use ittai_model::{
    CareLevel, CareServiceType, ClaimKind, FiscalYear, LossReason, QuestionnaireSetting, Route,
    Sex, UrineTest, age_at, first_of_month,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, StandardNormal};

use crate::calibration as cal;
use crate::catalog::{self, ACUTE, ADMISSION_REASONS, CONDITIONS, Cond, DENTAL_CODES, SUSPECTED};
use crate::demography::{Plan, plan, splitmix};
use crate::register::RegisterPerson;
use crate::support::{
    self as sup, Answers, CheckupSeen, Effects, Listing, PROGRAMMES, PlannedContact, YearSeen,
};
use crate::tables::Tables;
use crate::world::World;

const LOGISTIC_SD: f64 = 1.813_799_364_234_217_8; // π / √3

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

fn days_in_month(month: NaiveDate) -> i64 {
    (add_months(month, 1) - month).num_days()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One chosen drug: group, ingredient and product indices into the catalog.
#[derive(Debug, Clone, Copy)]
struct Drug {
    group: usize,
    ingredient: usize,
    product: usize,
}

/// How support changed a condition: not at all, treatment started through support (of a
/// condition the person had), or the condition found and treated through support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Baseline,
    Started,
    Added,
}

#[derive(Debug, Clone)]
struct CondState {
    cond: Cond,
    onset: NaiveDate,
    code: &'static str,
    diagnosed: bool,
    treated: bool,
    stopped: bool,
    regimen: Vec<Drug>,
    clinic: usize,
    per_visit: f64,
    support: Mark,
}

#[derive(Debug, Clone)]
struct ClinicRel {
    code: String,
    pharmacy: String,
    in_house: bool,
    interval: i32,
    phase: i32,
    days_per_month: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dental {
    Regular,
    Occasional,
    Never,
}

#[derive(Debug, Clone, Copy)]
struct Cert {
    level: CareLevel,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
}

#[derive(Debug, Clone)]
struct Stay {
    start: NaiveDate,
    /// Last day in hospital (inclusive); `None` = until death.
    end: Option<NaiveDate>,
    hospital: String,
    reason: &'static str,
    kind: ClaimKind,
    points_per_day: f64,
}

#[derive(Debug, Clone)]
struct Spell {
    start: NaiveDate,
    end: Option<NaiveDate>,
    reason: Option<LossReason>,
    municipality: usize,
}

/// Simulates person `index` and appends all of their rows to `out`.
pub fn simulate(world: &World, index: u64, out: &mut Tables) {
    let mut rng = ChaCha8Rng::seed_from_u64(splitmix(world.seed ^ 0x005E_ED0F_1771));
    rng.set_stream(index);
    let mut p = plan(
        world.seed,
        index,
        &world.ages,
        world.shares,
        &world.municipalities,
        world.period,
        &mut rng,
    );
    // With the synthetic register, the id its row gives under the sample key (no random
    // draw: every other value of the person stays as it is).
    if let Some(ids) = &world.register {
        p.id = ids.person_id(index);
    }
    // Support decisions and effects: a stream of their own (see the module docs).
    let mut srng = ChaCha8Rng::seed_from_u64(splitmix(world.seed ^ 0x5099_0127_E1F0));
    srng.set_stream(index);
    let mut sim = Sim::new(world, p, rng, srng);
    sim.run(out);
    if world.register.is_some() {
        out.register.push(RegisterPerson {
            index,
            municipality: sim.municipality(),
            sex: sim.p.sex,
        });
    }
}

/// One drug of group `group_id`, drawn from `rng` (as `Sim::choose_drug`, for the support
/// stream).
fn pick_drug(w: &World, group_id: &str, rng: &mut ChaCha8Rng) -> Drug {
    let group = w.catalog.group_index[group_id];
    let ings = &w.catalog.products[group];
    let ingredient = rng.random_range(0..ings.len());
    let product = rng.random_range(0..ings[ingredient].len());
    Drug {
        group,
        ingredient,
        product,
    }
}

struct Sim<'w> {
    w: &'w World,
    rng: ChaCha8Rng,
    p: Plan,
    male: bool,
    m: f64,
    mm: f64,
    generosity: f64,
    u: f64,
    oral: f64,
    social: f64,
    bmi0: f64,
    sbp0: f64,
    egfr0: f64,
    hba1c0: f64,
    avoider: bool,
    checkup_propensity: f64,
    dental: Dental,
    dental_phase: i32,
    dental_episode: i32,
    dental_code: &'static str,
    conds: Vec<CondState>,
    clinics: Vec<ClinicRel>,
    cert: Option<Cert>,
    next_application: NaiveDate,
    facility: Option<CareServiceType>,
    services: Vec<CareServiceType>,
    home_nursing: bool,
    stay: Option<Stay>,
    last_discharge: Option<NaiveDate>,
    spells: Vec<Spell>,
    seq: u32,
    death: Option<NaiveDate>,
    covered_until: Option<NaiveDate>,
    checkup_date: Option<NaiveDate>,
    extra_questionnaire: Option<(NaiveDate, QuestionnaireSetting)>,
    dental_checkup_date: Option<NaiveDate>,
    duplicate: Option<(usize, Drug)>,
    /// The support stream.
    srng: ChaCha8Rng,
    /// What the rules see, per FY of the period (index 0 = the first FY).
    years: Vec<YearSeen>,
    /// YJ 7 of the oral drug lines of the current month.
    month_oral: Vec<u32>,
    /// The last claim written has no main diagnosis yet.
    main_open: bool,
    /// The lists of the FY before the current one (targets of the current FY).
    listing: Listing,
    /// Contacts of the current FY not yet written.
    contacts: Vec<PlannedContact>,
    /// Per programme: the current FY's index date has passed.
    indexed: [bool; PROGRAMMES],
    /// Effects of support waiting to happen.
    fx: Effects,
}

impl<'w> Sim<'w> {
    fn new(w: &'w World, p: Plan, mut rng: ChaCha8Rng, srng: ChaCha8Rng) -> Self {
        let male = p.sex == Sex::Male;
        let m = normal(&mut rng);
        let mm = normal(&mut rng);
        let generosity = (0.7 * normal(&mut rng) + 0.35 * mm).exp();
        // Frailty: logistic latent; slightly correlated with metabolic risk.
        let v: f64 = rng.random_range(1e-9..1.0 - 1e-9);
        let u = (v / (1.0 - v)).ln() + 0.25 * m;
        let z = u / LOGISTIC_SD;
        let oral = 0.55 * z + 0.8 * normal(&mut rng);
        let social = 0.5 * z + 0.85 * normal(&mut rng);
        let avoider = rng.random::<f64>() < cal::AVOIDER_SHARE * (1.0 - 0.5 * sigmoid(2.0 * z));
        let checkup_propensity = Beta::new(cal::CHECKUP_BETA.0, cal::CHECKUP_BETA.1)
            .expect("beta shape")
            .sample(&mut rng);
        // Dental attendance: the health-conscious (checkup takers) and those with oral
        // problems see dentists more.
        let dental_score = 1.2 * oral + 3.5 * (checkup_propensity - 0.39)
            - if avoider { 1.5 } else { 0.0 }
            + normal(&mut rng);
        let dental = match dental_score {
            x if x > 0.45 => Dental::Regular,
            x if x > -0.55 => Dental::Occasional,
            _ => Dental::Never,
        };
        let age0 = age_at(p.birth, p.follow_from) as f64;
        let bmi0 = 22.7 + 0.9 * m - 0.55 * z.max(-1.0) + 3.1 * normal(&mut rng);
        let sbp0 = 135.0 + 6.0 * m + 0.25 * (age0 - 75.0) + 12.0 * normal(&mut rng);
        let egfr0 = 67.2 - 0.85 * (age0 - 75.0) - 4.0 * m + 12.0 * normal(&mut rng);
        let hba1c0 = 5.6 + 0.15 * m + 0.28 * normal(&mut rng);
        let dental_phase = rng.random_range(0..3);
        let municipality = p.municipality;
        let start = p.coverage_start;
        let mut s = Sim {
            w,
            rng,
            male,
            m,
            mm,
            generosity,
            u,
            oral,
            social,
            bmi0,
            sbp0,
            egfr0,
            hba1c0,
            avoider,
            checkup_propensity,
            dental,
            dental_phase,
            dental_episode: 0,
            dental_code: DENTAL_CODES[0],
            conds: Vec::new(),
            clinics: Vec::new(),
            cert: None,
            next_application: p.follow_from,
            facility: None,
            services: Vec::new(),
            home_nursing: false,
            stay: None,
            last_discharge: None,
            spells: vec![Spell {
                start,
                end: None,
                reason: None,
                municipality,
            }],
            seq: 0,
            death: None,
            covered_until: None,
            checkup_date: None,
            extra_questionnaire: None,
            dental_checkup_date: None,
            duplicate: None,
            srng,
            years: vec![YearSeen::default(); (w.fiscal_years.1 - w.fiscal_years.0 + 1) as usize],
            month_oral: Vec::new(),
            main_open: false,
            listing: Listing::default(),
            contacts: Vec::new(),
            indexed: [false; PROGRAMMES],
            fx: Effects::default(),
            p,
        };
        s.dental_code = DENTAL_CODES[s.rng.random_range(0..DENTAL_CODES.len())];
        s.init_conditions();
        s
    }

    fn z(&self) -> f64 {
        self.u / LOGISTIC_SD
    }

    fn age(&self, d: NaiveDate) -> i32 {
        age_at(self.p.birth, d)
    }

    fn municipality(&self) -> usize {
        self.spells.last().expect("a spell").municipality
    }

    // ------------------------------------------------------------ conditions

    fn init_conditions(&mut self) {
        let age = self.age(self.p.follow_from) as f64;
        let z = self.z();
        let local = &self.w.local[self.municipality()];
        // Main clinic plus specialists as needed.
        let n_clinics_pool = local.clinics.len();
        let mut clinic_for_specialty: [Option<usize>; 4] = [None; 4]; // ortho, eye, uro, derm
        for spec in CONDITIONS {
            let male = if self.male { spec.b_male } else { 0.0 };
            let logit = spec.a
                + cal::MULTIMORBIDITY * self.mm
                + spec.b_met * self.m
                + spec.b_frail * z
                + spec.b_age * (age - 80.0)
                + male;
            if self.rng.random::<f64>() >= sigmoid(logit) {
                continue;
            }
            let years_ago: f64 = self.rng.random_range(0.3..15.0);
            let onset = self.p.follow_from - Duration::days((years_ago * 365.0) as i64);
            let diagnosed = !self.avoider && self.rng.random::<f64>() < spec.diagnosed;
            let treated = diagnosed && self.rng.random::<f64>() < spec.treated;
            let mut regimen: Vec<Drug> = Vec::new();
            if treated {
                let mut best = (0usize, -1.0f64);
                for (i, (g, prob)) in spec.regimen.iter().enumerate() {
                    if *prob > best.1 {
                        best = (i, *prob);
                    }
                    let prob = 1.0 - (1.0 - prob).powf(self.generosity);
                    // A drug group the person already takes for another condition is not
                    // prescribed again (the draw is made anyway to keep the stream stable).
                    let draw = self.rng.random::<f64>() < prob;
                    if draw && !self.takes_group(g) {
                        regimen.push(self.choose_drug(g));
                    }
                }
                if regimen.is_empty() {
                    let g = spec.regimen[best.0].0;
                    regimen.push(self.choose_drug(g));
                }
            }
            let specialty = match spec.cond {
                Cond::Pain | Cond::Osteoporosis => Some(0),
                Cond::Glaucoma | Cond::DryEye => Some(1),
                Cond::Bph | Cond::Oab => Some(2),
                Cond::Skin => Some(3),
                _ => None,
            };
            let clinic = match specialty {
                Some(k) if self.rng.random::<f64>() < 0.6 => {
                    *clinic_for_specialty[k].get_or_insert_with(|| usize::MAX - k)
                }
                _ => usize::MAX - 10,
            };
            let code = spec.codes[self.rng.random_range(0..spec.codes.len())];
            self.conds.push(CondState {
                cond: spec.cond,
                onset,
                code,
                diagnosed,
                treated,
                stopped: false,
                regimen,
                clinic,
                per_visit: spec.per_visit,
                support: Mark::Baseline,
            });
        }
        // Materialise clinics: placeholder ids (usize::MAX - k) become real relations.
        let mut placeholders: Vec<usize> = self
            .conds
            .iter()
            .filter(|c| c.diagnosed)
            .map(|c| c.clinic)
            .collect();
        placeholders.sort_unstable();
        placeholders.dedup();
        if !self.avoider && !placeholders.contains(&(usize::MAX - 10)) {
            placeholders.push(usize::MAX - 10); // everyone who sees doctors has a main clinic
        }
        let mut mapping = Vec::new();
        for ph in placeholders {
            let pick = self.rng.random_range(0..n_clinics_pool);
            let c = &self.w.local[self.municipality()].clinics[pick];
            let pharmacy = if self.rng.random::<f64>() < 0.85 {
                c.pharmacy.clone()
            } else {
                let other = self.rng.random_range(0..n_clinics_pool);
                self.w.local[self.municipality()].clinics[other]
                    .pharmacy
                    .clone()
            };
            let interval = match self.rng.random::<f64>() {
                x if x < 0.58 => 1,
                x if x < 0.90 => 2,
                _ => 3,
            };
            let phase = self.rng.random_range(0..interval);
            let days_per_month = if self.rng.random::<f64>() < 0.7 {
                28
            } else {
                30
            };
            mapping.push((ph, self.clinics.len()));
            self.clinics.push(ClinicRel {
                code: c.code.clone(),
                pharmacy,
                in_house: c.in_house,
                interval,
                phase,
                days_per_month,
            });
        }
        for c in &mut self.conds {
            c.clinic = mapping
                .iter()
                .find(|(ph, _)| *ph == c.clinic)
                .map(|(_, i)| *i)
                .unwrap_or(usize::MAX);
        }
        // A few patients get the same ingredient from two clinics (重複投薬).
        if self.clinics.len() >= 2
            && self.rng.random::<f64>() < 0.06
            && let Some(c) = self
                .conds
                .iter()
                .find(|c| c.treated && !c.regimen.is_empty())
        {
            let other = if c.clinic == 0 { 1 } else { 0 };
            self.duplicate = Some((other, c.regimen[0]));
        }
    }

    fn choose_drug(&mut self, group_id: &str) -> Drug {
        let group = self.w.catalog.group_index[group_id];
        let ings = &self.w.catalog.products[group];
        let ingredient = self.rng.random_range(0..ings.len());
        let product = self.rng.random_range(0..ings[ingredient].len());
        Drug {
            group,
            ingredient,
            product,
        }
    }

    fn takes_group(&self, group_id: &str) -> bool {
        let g = self.w.catalog.group_index[group_id];
        self.conds
            .iter()
            .any(|c| c.regimen.iter().any(|d| d.group == g))
    }

    fn has(&self, c: Cond) -> bool {
        self.conds.iter().any(|s| s.cond == c)
    }

    fn treated(&self, c: Cond) -> bool {
        self.conds
            .iter()
            .any(|s| s.cond == c && s.treated && !s.stopped)
    }

    // ------------------------------------------------------------ main loop

    fn run(&mut self, out: &mut Tables) {
        let (_, t1) = self.w.period;
        let start = self.p.follow_from;
        self.init_certification(start, out);
        self.init_long_term_stay(start);
        let mut month = first_of_month(start);
        while month <= t1 {
            if month.month() == 4 || month == first_of_month(start) {
                self.plan_fiscal_year(FiscalYear::of(month), out);
            }
            if month.month() == 4 {
                self.plan_support(FiscalYear::of(month));
            }
            self.month(month, out);
            if self.covered_until.is_some() {
                break;
            }
            month = add_months(month, 1);
        }
        self.emit_persons(out);
    }

    fn month(&mut self, month: NaiveDate, out: &mut Tables) {
        let (_, t1) = self.w.period;
        let month_end = (add_months(month, 1) - Duration::days(1)).min(t1);
        self.support_effects_of_month(month);
        let age = self.age(month);
        // Frailty drifts.
        self.u += cal::FRAILTY_DRIFT_SD * normal(&mut self.rng) / 12f64.sqrt();
        // Death.
        let sexi = if self.male { 0 } else { 1 };
        let z = self.z();
        let beta = cal::DEATH_FRAILTY_LOG_HR;
        let q = (cal::DEATH_Q75[sexi]
            * (cal::DEATH_SLOPE[sexi] * (age as f64 - 75.0)).exp()
            * (beta * z - beta * beta / 2.0).exp())
        .min(0.8);
        let monthly = 1.0 - (1.0 - q).powf(1.0 / 12.0);
        let mut death = None;
        if self.rng.random::<f64>() < monthly {
            let day = self.rng.random_range(0..days_in_month(month));
            let d = (month + Duration::days(day)).max(self.p.follow_from);
            if d <= t1 {
                death = Some(d);
                if self.stay.is_none() && self.rng.random::<f64>() < cal::DEATH_IN_HOSPITAL {
                    let back = self.rng.random_range(0..20);
                    let start = (d - Duration::days(back))
                        .max(month)
                        .max(self.p.follow_from);
                    let reason = out_reason_terminal(&mut self.rng);
                    self.start_stay(start, Some(d), reason);
                }
            }
        }
        // Moves and other losses of coverage (not from hospital or facility).
        let mut lost: Option<(NaiveDate, LossReason)> = None;
        if death.is_none() && self.stay.is_none() && self.facility.is_none() {
            let r: f64 = self.rng.random();
            let day = month + Duration::days(self.rng.random_range(0..days_in_month(month)));
            if day > self.p.follow_from && day <= t1 {
                if r < cal::MOVE_OUT_PER_YEAR / 12.0 {
                    lost = Some((day, LossReason::MovedOut));
                } else if r < (cal::MOVE_OUT_PER_YEAR + cal::PUBLIC_ASSISTANCE_PER_YEAR) / 12.0 {
                    lost = Some((day, LossReason::PublicAssistance));
                } else if r
                    < (cal::MOVE_OUT_PER_YEAR
                        + cal::PUBLIC_ASSISTANCE_PER_YEAR
                        + cal::MOVE_WITHIN_PER_YEAR)
                        / 12.0
                    && self.w.municipalities.len() > 1
                {
                    let cur = self.municipality();
                    let mut next = self.rng.random_range(0..self.w.municipalities.len() - 1);
                    if next >= cur {
                        next += 1;
                    }
                    let last = self.spells.last_mut().expect("spell");
                    last.end = Some(day);
                    last.reason = Some(LossReason::Other);
                    self.spells.push(Spell {
                        start: day,
                        end: None,
                        reason: None,
                        municipality: next,
                    });
                }
            }
        }
        self.certification(month, out);
        self.care(month, month_end, death, out);
        self.hospital(month, death);
        self.claims(month, month_end, death, out);
        if let Some(d) = self
            .checkup_date
            .filter(|d| first_of_month(*d) == month && death.is_none_or(|x| *d <= x))
        {
            self.checkup(d, out);
        }
        if let Some((d, setting)) = self
            .extra_questionnaire
            .filter(|(d, _)| first_of_month(*d) == month && death.is_none_or(|x| *d <= x))
        {
            self.questionnaire(d, setting, out);
        }
        if let Some(d) = self
            .dental_checkup_date
            .filter(|d| first_of_month(*d) == month && death.is_none_or(|x| *d <= x))
        {
            out.dental_checkups.push(&DentalCheckup {
                person_id: self.p.id.clone(),
                exam_date: d,
            });
        }
        self.write_contacts(month, death, lost.map(|(d, _)| d), out);
        self.close_month(month);
        if let Some(d) = death {
            self.death = Some(d);
            self.end_coverage(d + Duration::days(1), LossReason::Death);
        } else if let Some((d, reason)) = lost {
            self.end_coverage(d, reason);
        }
    }

    fn end_coverage(&mut self, day: NaiveDate, reason: LossReason) {
        let last = self.spells.last_mut().expect("spell");
        last.end = Some(day);
        last.reason = Some(reason);
        self.covered_until = Some(day);
    }

    fn emit_persons(&mut self, out: &mut Tables) {
        for s in &self.spells {
            let m = &self.w.municipalities[s.municipality];
            out.persons.push(&Person {
                person_id: self.p.id.clone(),
                sex: self.p.sex.code(),
                birth_date: self.p.birth,
                municipality_code: m.code.clone(),
                insurer_number: m.insurer.clone(),
                coverage_start: s.start,
                coverage_end: s.end,
                loss_reason: s.reason.map(LossReason::code),
            });
        }
    }

    // ------------------------------------------------------------ support

    /// April of FY `fy`: the lists of FY `fy` − 1 and the contacts of FY `fy` (none in the
    /// first FY, for persons not insured on April 1, or with support disabled).
    fn plan_support(&mut self, fy: FiscalYear) {
        self.indexed = [false; PROGRAMMES];
        self.listing = Listing::default();
        self.contacts.clear();
        let w = self.w;
        let cfg = &w.support;
        if !cfg.enabled || fy.0 <= w.fiscal_years.0 || self.p.follow_from > fy.start() {
            return;
        }
        self.listing = sup::listing(
            &self.years,
            w.fiscal_years.0,
            fy.0 - 1,
            self.p.coverage_start,
        );
        let plan = &w.support_plans[self.municipality()];
        for (k, &programme) in Programme::ALL.iter().enumerate() {
            let Some(reach) = plan.reach[k] else {
                continue;
            };
            let rules = self.listing.rules_of(programme);
            let p = if rules.is_empty() {
                sup::outside_probability(cfg, programme, reach)
            } else {
                reach
            };
            if self.srng.random::<f64>() < p {
                let planned = sup::plan_contacts(cfg, &mut self.srng, fy, programme, &rules);
                self.contacts.extend(planned);
            }
        }
    }

    /// Writes the contacts dated in `month` (not after `death`, not from the day coverage
    /// is `lost`), and sets a programme's effects at its first reached contact.
    fn write_contacts(
        &mut self,
        month: NaiveDate,
        death: Option<NaiveDate>,
        lost: Option<NaiveDate>,
        out: &mut Tables,
    ) {
        if self.contacts.is_empty() {
            return;
        }
        let next = add_months(month, 1);
        let (due, later): (Vec<PlannedContact>, Vec<PlannedContact>) =
            std::mem::take(&mut self.contacts)
                .into_iter()
                .partition(|c| c.date < next);
        self.contacts = later;
        for c in due {
            if death.is_some_and(|d| c.date > d) || lost.is_some_and(|d| c.date >= d) {
                continue;
            }
            out.interventions.push(&Intervention {
                person_id: self.p.id.clone(),
                programme: c.programme.code().to_string(),
                rule_id: c.rule_id.map(str::to_string),
                approach: c.approach.code().to_string(),
                contact_date: c.date,
                reached: c.reached,
                needs_referral: c.needs_referral,
                referred_to: c.referred_to.map(|r| r.code().to_string()),
                staff: Some(c.staff.code().to_string()),
            });
            let k = sup::programme_index(c.programme);
            if c.reached && !self.indexed[k] {
                self.indexed[k] = true;
                self.support_index(c.programme, c.date, month);
            }
        }
    }

    /// The effects of programme `programme` for a person first reached on `index` (in
    /// `month`), applied from the month after (`SupportEffects`).
    fn support_index(&mut self, programme: Programme, index: NaiveDate, month: NaiveDate) {
        let w = self.w;
        let e = &w.support.effects;
        let next = add_months(month, 1);
        // Every programme: fewer new certifications in the 12 months after the index date.
        self.fx.certification = Some((next, add_months(index, 12)));
        match programme {
            Programme::Medication => {
                if self.listing.rules[2] && self.srng.random::<f64>() < e.deprescribe {
                    let n = self.srng.random_range(1..=e.deprescribe_max_drugs);
                    self.deprescribe(n);
                }
            }
            Programme::DiseasePrevention => {
                let stopped = self.conds.iter().any(|c| {
                    c.treated && c.stopped && matches!(c.cond, Cond::Hypertension | Cond::Diabetes)
                });
                if stopped && self.srng.random::<f64>() < e.restart_treatment {
                    self.fx.restart_month = Some(add_months(next, self.srng.random_range(0..6)));
                }
                let (dm, bp) = (self.listing.poor_dm, self.listing.poor_bp);
                if (dm || bp) && self.srng.random::<f64>() < e.start_treatment {
                    let m = add_months(next, self.srng.random_range(0..6));
                    self.fx.start = Some((m, dm, bp));
                }
            }
            Programme::Undernutrition => {
                if self.srng.random::<f64>() < e.weight_gain {
                    let kg = e.weight_gain_min_kg
                        + (e.weight_gain_max_kg - e.weight_gain_min_kg) * self.srng.random::<f64>();
                    let kg = self.fx.weight_gain.map_or(kg, |(_, before)| kg.max(before));
                    self.fx.weight_gain = Some((index, kg));
                }
            }
            Programme::Oral => {
                if self.srng.random::<f64>() < e.dental_claim {
                    self.fx.dental_month = Some(add_months(next, self.srng.random_range(0..6)));
                }
            }
            Programme::PhysicalFrailty => {
                if self.srng.random::<f64>() < e.walking {
                    self.fx.walking = true;
                }
            }
            Programme::HealthUnknown => {
                if self.srng.random::<f64>() < e.health_contact {
                    let m = add_months(next, self.srng.random_range(0..12));
                    if self.srng.random::<f64>() < 0.5 {
                        self.fx.checkup_month = Some(m);
                    } else {
                        self.fx.visit_month = Some(m);
                    }
                }
            }
        }
    }

    /// Stops `n` oral drugs (at most; fewer when fewer can go) of the person's regimens,
    /// keeping at least one drug of a hypertension or diabetes regimen.
    fn deprescribe(&mut self, n: u32) {
        for _ in 0..n {
            let candidates: Vec<(usize, usize)> = self
                .conds
                .iter()
                .enumerate()
                .filter(|(_, c)| c.treated)
                .flat_map(|(i, c)| {
                    let keep_one = matches!(c.cond, Cond::Hypertension | Cond::Diabetes);
                    let len = c.regimen.len();
                    c.regimen
                        .iter()
                        .enumerate()
                        .filter(move |(_, d)| {
                            catalog::DRUG_GROUPS[d.group].route == Route::Oral
                                && (!keep_one || len >= 2)
                        })
                        .map(move |(j, _)| (i, j))
                })
                .collect();
            if candidates.is_empty() {
                return;
            }
            let (i, j) = candidates[self.srng.random_range(0..candidates.len())];
            self.conds[i].regimen.remove(j);
        }
    }

    /// Treatment of `cond` starts (or restarts) in `month`, at the person's main clinic
    /// (a local clinic when they have none). A condition the person did not have is found.
    fn start_treatment(&mut self, cond: Cond, month: NaiveDate) {
        let Some(spec) = CONDITIONS.iter().find(|s| s.cond == cond) else {
            return;
        };
        let i = match self.conds.iter().position(|c| c.cond == cond) {
            Some(i) => i,
            None => {
                self.conds.push(CondState {
                    cond,
                    onset: month,
                    code: spec.codes[0],
                    diagnosed: false,
                    treated: false,
                    stopped: false,
                    regimen: Vec::new(),
                    clinic: usize::MAX,
                    per_visit: spec.per_visit,
                    support: Mark::Added,
                });
                self.conds.len() - 1
            }
        };
        if self.conds[i].treated {
            self.conds[i].stopped = false;
            return;
        }
        let clinic = self.support_clinic();
        let group = spec
            .regimen
            .iter()
            .fold(
                spec.regimen[0],
                |best, g| if g.1 > best.1 { *g } else { best },
            )
            .0;
        let w = self.w;
        let drug = pick_drug(w, group, &mut self.srng);
        let n_clinics = self.clinics.len();
        let c = &mut self.conds[i];
        c.diagnosed = true;
        c.treated = true;
        c.stopped = false;
        if c.support == Mark::Baseline {
            c.support = Mark::Started;
        }
        if c.regimen.is_empty() {
            c.regimen.push(drug);
        }
        if c.clinic >= n_clinics {
            c.clinic = clinic;
        }
    }

    /// The clinic a treatment started through support goes to: the main clinic (index 0),
    /// or a new monthly relation with a clinic of the municipality.
    fn support_clinic(&mut self) -> usize {
        if !self.clinics.is_empty() {
            return 0;
        }
        let w = self.w;
        let local = &w.local[self.municipality()];
        let c = &local.clinics[self.srng.random_range(0..local.clinics.len())];
        self.clinics.push(ClinicRel {
            code: c.code.clone(),
            pharmacy: c.pharmacy.clone(),
            in_house: c.in_house,
            interval: 1,
            phase: 0,
            days_per_month: 28,
        });
        self.clinics.len() - 1
    }

    /// The effects due in `month`, before anything else of the month is drawn.
    fn support_effects_of_month(&mut self, month: NaiveDate) {
        if self.fx.restart_month == Some(month) {
            self.fx.restart_month = None;
            for c in &mut self.conds {
                if c.treated && matches!(c.cond, Cond::Hypertension | Cond::Diabetes) {
                    c.stopped = false;
                }
            }
        }
        if let Some((m, dm, bp)) = self.fx.start
            && m == month
        {
            self.fx.start = None;
            if dm {
                self.start_treatment(Cond::Diabetes, month);
            }
            if bp {
                self.start_treatment(Cond::Hypertension, month);
            }
        }
        if self.fx.checkup_month == Some(month) {
            self.fx.checkup_month = None;
            let long_stay = self.stay.as_ref().is_some_and(|s| s.end.is_none());
            if self.checkup_date.is_none() && !long_stay {
                let day = month + Duration::days(self.srng.random_range(0..28));
                self.checkup_date = Some(day.max(self.p.follow_from));
            } else {
                self.fx.visit_month = Some(month);
            }
        }
    }

    /// End of `month`: the largest monthly count of distinct oral drugs of its FY.
    fn close_month(&mut self, month: NaiveDate) {
        let mut oral = std::mem::take(&mut self.month_oral);
        oral.sort_unstable();
        oral.dedup();
        let n = oral.len();
        oral.clear();
        self.month_oral = oral;
        if let Some(y) = self.year_mut(month) {
            y.max_oral = y.max_oral.max(n);
        }
    }

    // ------------------------------------------------------------ certification

    fn threshold(&self, day: NaiveDate) -> f64 {
        let age = self.age(day);
        let logit = if age < 75 {
            (cal::CERT_UNDER_75 / (1.0 - cal::CERT_UNDER_75)).ln()
        } else {
            cal::CERT_LOGIT_75 + cal::CERT_LOGIT_SLOPE * (age as f64 - 75.0)
        };
        -logit
    }

    /// The level the person's frailty corresponds to, or `None` when below the threshold.
    fn level_now(&self, day: NaiveDate) -> Option<CareLevel> {
        let thr = self.threshold(day);
        if self.u <= thr {
            return None;
        }
        let q = (sigmoid(self.u) - sigmoid(thr)) / (1.0 - sigmoid(thr));
        let i = cal::LEVEL_CUMULATIVE
            .iter()
            .position(|c| q < *c)
            .unwrap_or(6);
        Some(CareLevel::CERTIFIED[i])
    }

    fn push_cert(
        &mut self,
        decision: NaiveDate,
        level: CareLevel,
        from: NaiveDate,
        to: NaiveDate,
        out: &mut Tables,
    ) {
        if decision > self.w.period.1 {
            return; // decided after the data end: not in the data yet
        }
        if level != CareLevel::NotEligible {
            let (first, last) = self.w.fiscal_years;
            for fy in FiscalYear::of(from).0.max(first)..=FiscalYear::of(to).0.min(last) {
                self.years[(fy - first) as usize].certified = true;
            }
        }
        out.certifications.push(&Certification {
            person_id: self.p.id.clone(),
            decision_date: decision,
            care_level_code: level.code().to_string(),
            valid_from: from,
            valid_to: to,
        });
    }

    fn validity_months(&mut self) -> i32 {
        match self.rng.random::<f64>() {
            x if x < 0.45 => 12,
            x if x < 0.75 => 24,
            x if x < 0.95 => 36,
            _ => 48,
        }
    }

    fn init_certification(&mut self, start: NaiveDate, out: &mut Tables) {
        if let Some(level) = self.level_now(start) {
            let months = self.validity_months();
            let elapsed = self.rng.random_range(0..months);
            let from = add_months(first_of_month(start), -elapsed);
            let to = add_months(from, months) - Duration::days(1);
            let decision = from - Duration::days(self.rng.random_range(5..40));
            self.push_cert(decision, level, from, to, out);
            self.cert = Some(Cert {
                level,
                valid_from: from,
                valid_to: to,
            });
            self.choose_services(level);
            if level >= CareLevel::Care3 && self.rng.random::<f64>() < 0.28 {
                self.enter_facility(level);
            }
        }
    }

    fn certification(&mut self, month: NaiveDate, out: &mut Tables) {
        let day = month + Duration::days(self.rng.random_range(0..days_in_month(month)));
        let day = day.max(self.p.follow_from);
        let now = self.level_now(day);
        match self.cert {
            None => {
                if let Some(level) = now {
                    if day < self.next_application {
                        return;
                    }
                    // Support: the first application within 12 months of an index date
                    // waits until after them with probability 1 − certification_factor.
                    if let Some((from, to)) = self.fx.certification
                        && (from..=to).contains(&day)
                    {
                        self.fx.certification = None;
                        let factor = self.w.support.effects.certification_factor;
                        if self.srng.random::<f64>() >= factor {
                            self.next_application = to + Duration::days(1);
                            return;
                        }
                    }
                    let decision = day + Duration::days(self.rng.random_range(25..40));
                    let q_margin = self.u - self.threshold(day);
                    if q_margin < 0.08 && self.rng.random::<f64>() < cal::NOT_ELIGIBLE_SHARE * 8.0 {
                        self.push_cert(decision, CareLevel::NotEligible, day, decision, out);
                        self.next_application = add_months(day, 6);
                        return;
                    }
                    // 新規: the remainder of the month plus six months.
                    let to = add_months(first_of_month(day), if day.day() == 1 { 6 } else { 7 })
                        - Duration::days(1);
                    self.push_cert(decision, level, day, to, out);
                    self.cert = Some(Cert {
                        level,
                        valid_from: day,
                        valid_to: to,
                    });
                    self.choose_services(level);
                } else if month.month() == 4
                    && self.u > self.threshold(day) - 0.5
                    && self.rng.random::<f64>() < cal::PROJECT_TARGET_SHARE * 4.0
                {
                    // 事業対象者 through the 基本チェックリスト (no certification).
                    self.push_cert(
                        day,
                        CareLevel::ProjectTarget,
                        day,
                        add_months(day, 12) - Duration::days(1),
                        out,
                    );
                }
            }
            Some(c) => {
                let renew = first_of_month(c.valid_to) <= add_months(month, 1);
                let changed = now
                    .map(|l| level_rank(l) >= level_rank(c.level) + 2)
                    .unwrap_or(false);
                if renew {
                    let from = c.valid_to + Duration::days(1);
                    let decision = c.valid_to - Duration::days(self.rng.random_range(5..40));
                    let level = match now {
                        Some(l) => l,
                        None if self.rng.random::<f64>() < 0.5 => CareLevel::Support1,
                        None => {
                            self.push_cert(decision, CareLevel::NotEligible, from, from, out);
                            self.cert = None;
                            self.services.clear();
                            self.next_application = add_months(month, 6);
                            return;
                        }
                    };
                    let months = self.validity_months();
                    let to = add_months(from, months) - Duration::days(1);
                    self.push_cert(decision, level, from, to, out);
                    self.cert = Some(Cert {
                        level,
                        valid_from: from,
                        valid_to: to,
                    });
                    if level != c.level {
                        self.choose_services(level);
                    }
                } else if changed {
                    // 区分変更申請 after a sudden decline.
                    let level = now.expect("changed implies a level");
                    let decision = day + Duration::days(self.rng.random_range(25..40));
                    let to = add_months(first_of_month(day), if day.day() == 1 { 6 } else { 7 })
                        - Duration::days(1);
                    self.push_cert(decision, level, day, to, out);
                    self.cert = Some(Cert {
                        level,
                        valid_from: day,
                        valid_to: to,
                    });
                    self.choose_services(level);
                }
            }
        }
    }

    // ------------------------------------------------------------ care services

    fn choose_services(&mut self, level: CareLevel) {
        self.services.clear();
        if self.facility.is_some() {
            return;
        }
        let support = matches!(
            level,
            CareLevel::Support1 | CareLevel::Support2 | CareLevel::SupportLegacy
        );
        let uses = self.rng.random::<f64>()
            < if support {
                cal::HOME_SERVICE_USE[0]
            } else {
                cal::HOME_SERVICE_USE[1]
            };
        if !uses {
            return;
        }
        use CareServiceType as T;
        let options: &[(CareServiceType, f64)] = if support {
            &[
                (T::DayServiceOwn, 0.45),
                (T::VisitingServiceOwn, 0.2),
                (T::PreventiveEquipmentRental, 0.3),
                (T::PreventiveDayCare, 0.1),
            ]
        } else {
            &[
                (T::DayCare, 0.42),
                (T::CommunityDayCare, 0.15),
                (T::DayRehabilitation, 0.2),
                (T::HomeHelp, 0.32),
                (T::EquipmentRental, 0.55),
                (T::HomeNursing, 0.12),
                (T::ShortStayWelfare, 0.1),
                (T::HomeMedicalManagement, 0.1),
            ]
        };
        for &(t, p) in options {
            if self.rng.random::<f64>() < p {
                self.services.push(t);
            }
        }
        if self.services.is_empty() {
            self.services.push(options[0].0);
        }
        self.services.push(if support {
            T::PreventiveCareManagement
        } else {
            T::CareManagement
        });
        self.home_nursing =
            !support && level >= CareLevel::Care3 && self.rng.random::<f64>() < 0.15;
    }

    fn enter_facility(&mut self, level: CareLevel) {
        let r: f64 = self.rng.random();
        use CareServiceType as T;
        let t = if level >= CareLevel::Care3 {
            match r {
                x if x < 0.55 => T::WelfareFacility,
                x if x < 0.75 => T::HealthFacility,
                x if x < 0.82 => T::MedicalCareHome,
                x if x < 0.92 => T::DementiaGroupHome,
                _ => T::SpecifiedFacility,
            }
        } else {
            match r {
                x if x < 0.4 => T::HealthFacility,
                x if x < 0.8 => T::DementiaGroupHome,
                _ => T::SpecifiedFacility,
            }
        };
        self.facility = Some(t);
        self.services.clear();
        self.home_nursing = false;
    }

    fn care(
        &mut self,
        month: NaiveDate,
        month_end: NaiveDate,
        death: Option<NaiveDate>,
        out: &mut Tables,
    ) {
        let Some(c) = self.cert else { return };
        if c.valid_from > month_end {
            return;
        }
        let group = if c.level <= CareLevel::Support2 {
            0
        } else if c.level <= CareLevel::Care2 {
            1
        } else {
            2
        };
        if self.facility.is_none()
            && self.rng.random::<f64>() < cal::FACILITY_ENTRY_PER_MONTH[group]
        {
            self.enter_facility(c.level);
        }
        let in_hospital_all_month = self
            .stay
            .as_ref()
            .is_some_and(|s| s.start <= month && s.end.is_none_or(|e| e >= month_end));
        if in_hospital_all_month {
            return;
        }
        let last_day = death.unwrap_or(month_end).min(month_end);
        let days = ((last_day - month).num_days() + 1).max(1) as i32;
        let level_ix = level_rank(c.level) as f64; // 0..6
        let local = &self.w.local[self.municipality()];
        let provider = |rng: &mut ChaCha8Rng| {
            local.care_providers[rng.random_range(0..local.care_providers.len())].clone()
        };
        use CareServiceType as T;
        let mut rows: Vec<(CareServiceType, i64, i32)> = Vec::new();
        if let Some(t) = self.facility {
            let base = match t {
                T::WelfareFacility => 22_000.0 + 1_600.0 * (level_ix - 2.0),
                T::HealthFacility => 24_000.0 + 1_500.0 * (level_ix - 2.0),
                T::MedicalCareHome => 33_000.0 + 1_800.0 * (level_ix - 2.0),
                T::DementiaGroupHome => 22_500.0 + 600.0 * level_ix,
                _ => 16_000.0 + 900.0 * level_ix,
            };
            let units = (base * days as f64 / days_in_month(month) as f64
                * (1.0 + 0.05 * normal(&mut self.rng))) as i64;
            rows.push((t, units.max(100), days));
        } else {
            for &t in &self.services {
                if self.rng.random::<f64>() > 0.93 {
                    continue;
                }
                let (units, d) = match t {
                    T::PreventiveCareManagement => (442.0, 1),
                    T::CareManagement => (if level_ix >= 4.0 { 1_411.0 } else { 1_086.0 }, 1),
                    T::DayServiceOwn | T::PreventiveDayCare => (1_800.0 * (1.0 + level_ix), 4),
                    T::VisitingServiceOwn => (1_200.0 * (1.0 + level_ix), 4),
                    T::PreventiveEquipmentRental | T::EquipmentRental => {
                        (600.0 + 450.0 * level_ix, days)
                    }
                    T::DayCare | T::CommunityDayCare => {
                        (750.0 * (4.0 + 2.0 * level_ix), 4 + 2 * level_ix as i32)
                    }
                    T::DayRehabilitation => (800.0 * (4.0 + level_ix), 4 + level_ix as i32),
                    T::HomeHelp => (2_500.0 + 1_800.0 * level_ix, 6 + 3 * level_ix as i32),
                    T::HomeNursing => (3_000.0 + 600.0 * level_ix, 4),
                    T::ShortStayWelfare => (6_000.0, 7),
                    _ => (550.0, 2),
                };
                let units = (units * (1.0 + 0.15 * normal(&mut self.rng))).max(50.0) as i64;
                rows.push((t, units, d.clamp(1, days.max(1))));
            }
        }
        for (t, units, d) in rows {
            let provider = provider(&mut self.rng);
            out.care_claims.push(&CareClaim {
                person_id: self.p.id.clone(),
                service_month: month,
                service_type_code: t.code().to_string(),
                care_level_code: Some(c.level.code().to_string()),
                units: Some(units),
                days: Some(d),
                provider_number: Some(provider),
            });
        }
    }

    // ------------------------------------------------------------ hospital

    fn init_long_term_stay(&mut self, start: NaiveDate) {
        let p = cal::LONG_TERM_INPATIENT_SHARE * 2.0 * sigmoid(1.2 * self.z() - 0.5);
        if self.rng.random::<f64>() < p {
            let h = self.w.hospital(&mut self.rng, false, true).code.clone();
            let reason = ["8838708", "8838910", "4389014"][self.rng.random_range(0..3)];
            self.stay = Some(Stay {
                start: start - Duration::days(self.rng.random_range(30..900)),
                end: None,
                hospital: h,
                reason,
                kind: ClaimKind::Inpatient,
                points_per_day: cal::INPATIENT_POINTS_PER_DAY[2],
            });
        }
    }

    fn start_stay(&mut self, start: NaiveDate, end: Option<NaiveDate>, reason: &'static str) {
        let (dpc, kind, ppd) = if self.rng.random::<f64>() < cal::ADMISSION_DPC_SHARE {
            (true, ClaimKind::Dpc, cal::INPATIENT_POINTS_PER_DAY[0])
        } else {
            (
                false,
                ClaimKind::Inpatient,
                cal::INPATIENT_POINTS_PER_DAY[1],
            )
        };
        let hospital = self.w.hospital(&mut self.rng, dpc, false).code.clone();
        self.stay = Some(Stay {
            start,
            end,
            hospital,
            reason,
            kind,
            points_per_day: ppd * (1.0 + 0.2 * normal(&mut self.rng)).max(0.4),
        });
    }

    fn hospital(&mut self, month: NaiveDate, death: Option<NaiveDate>) {
        if self.stay.is_some() || death.is_some() {
            return;
        }
        let z = self.z();
        let age = self.age(month) as f64;
        let rate = cal::ADMISSION_RATE
            * (cal::ADMISSION_FRAILTY_LOG_RR * z - 0.1).exp()
            * (0.03 * (age - 80.0)).exp();
        if self.rng.random::<f64>() >= rate / 12.0 {
            return;
        }
        let total: f64 = ADMISSION_REASONS.iter().map(|r| r.1).sum();
        let mut t = self.rng.random::<f64>() * total;
        let mut reason = ADMISSION_REASONS[0];
        for r in ADMISSION_REASONS {
            if t < r.1 {
                reason = *r;
                break;
            }
            t -= r.1;
        }
        let start = month + Duration::days(self.rng.random_range(0..days_in_month(month)));
        let los = (1.3 * reason.2 * (0.6 * normal(&mut self.rng) - 0.18).exp())
            .round()
            .max(1.0) as i64;
        self.start_stay(
            start.max(self.p.follow_from),
            Some(start + Duration::days(los - 1)),
            reason.0,
        );
        self.u += reason.3 * self.rng.random::<f64>() * 1.5;
    }

    // ------------------------------------------------------------ claims

    fn next_claim_id(&mut self) -> String {
        self.seq += 1;
        format!("{}-{:04}", self.p.id, self.seq)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_claim(
        &mut self,
        out: &mut Tables,
        month: NaiveDate,
        kind: ClaimKind,
        inst: &str,
        points: f64,
        days: i32,
    ) -> String {
        let id = self.next_claim_id();
        out.medical_claims.push(&MedicalClaim {
            claim_id: id.clone(),
            person_id: self.p.id.clone(),
            service_month: month,
            claim_kind: kind.code(),
            institution_code: inst.to_string(),
            points: Some(points.round().max(0.0) as i64),
            days: Some(days),
        });
        self.main_open = true;
        if let Some(y) = self.year_mut(month) {
            match kind {
                ClaimKind::Dental => {
                    y.dental_claim = true;
                    y.visit_claim = true;
                }
                ClaimKind::Inpatient | ClaimKind::Outpatient | ClaimKind::Dpc => {
                    y.visit_claim = true;
                }
                ClaimKind::Pharmacy | ClaimKind::HomeNursing => {}
            }
        }
        id
    }

    /// What the rules see of the FY containing `d`, when it is in the period.
    fn year_mut(&mut self, d: NaiveDate) -> Option<&mut YearSeen> {
        let k = usize::try_from(FiscalYear::of(d).0 - self.w.fiscal_years.0).ok()?;
        self.years.get_mut(k)
    }

    /// Writes one diagnosis of the claim written last. The first non-suspected diagnosis
    /// of a claim is its 主傷病 (the one that drives the claim: the chronic condition of the
    /// visit, the reason for the stay, the dental diagnosis).
    fn push_dx(
        &mut self,
        out: &mut Tables,
        claim: &str,
        month: NaiveDate,
        code: &str,
        suspected: bool,
        start: Option<NaiveDate>,
        outcome: u8,
    ) {
        let main = !suspected && self.main_open;
        if main {
            self.main_open = false;
        }
        let w = self.w;
        if !suspected
            && w.heart_codes.contains(code)
            && let Some(y) = self.year_mut(month)
        {
            y.heart_dx = true;
        }
        out.claim_diagnoses.push(&ClaimDiagnosis {
            claim_id: claim.to_string(),
            person_id: self.p.id.clone(),
            service_month: month,
            disease_code: code.to_string(),
            icd10: self
                .w
                .catalog
                .icd10
                .get(code)
                .filter(|s| !s.is_empty())
                .cloned(),
            suspected,
            start_date: start,
            outcome: Some(outcome),
            main_diagnosis: Some(main),
        });
    }

    /// Drug lines to write and their cost in points.
    fn drug_lines(
        &mut self,
        drugs: &[(Drug, i32)],
    ) -> (Vec<(String, String, Route, f64, i32)>, f64) {
        let mut lines = Vec::new();
        let mut points = 0.0;
        for &(d, days) in drugs {
            let g = &catalog::DRUG_GROUPS[d.group];
            let prod = &self.w.catalog.products[d.group][d.ingredient][d.product];
            let as_needed = g.route == Route::Oral
                && matches!(g.id, "acetaminophen" | "nsaid")
                && self.rng.random::<f64>() < 0.25;
            let route = if as_needed { Route::AsNeeded } else { g.route };
            let (qty, n) = match route {
                Route::External => (
                    g.per_day * (days as f64 / 28.0).max(0.5).round().max(1.0),
                    1,
                ),
                Route::Injection => (1.0, 1),
                _ => (g.per_day, days),
            };
            points += prod.price_yen * qty * n as f64 / 10.0;
            lines.push((prod.code.clone(), prod.yj.clone(), route, qty, n));
        }
        (lines, points)
    }

    fn push_drugs(
        &mut self,
        out: &mut Tables,
        claim: &str,
        month: NaiveDate,
        lines: Vec<(String, String, Route, f64, i32)>,
    ) {
        let w = self.w;
        for (code, yj, route, qty, days) in lines {
            let bits = w.drug_flags.get(yj.as_str()).copied().unwrap_or(0);
            if let Some(y) = self.year_mut(month) {
                y.ht_drug |= (bits & sup::DRUG_HYPERTENSION) != 0;
                y.dm_drug |= (bits & sup::DRUG_DIABETES) != 0;
                y.hypnotic |= (bits & sup::DRUG_HYPNOTIC) != 0;
            }
            if route == Route::Oral
                && let Some(n) = yj.get(..7).and_then(|s| s.parse::<u32>().ok())
            {
                self.month_oral.push(n);
            }
            out.claim_drugs.push(&ClaimDrug {
                claim_id: claim.to_string(),
                person_id: self.p.id.clone(),
                service_month: month,
                drug_code: code,
                yj_code: Some(yj),
                route: Some(route.code()),
                quantity: Some(qty),
                days: Some(days),
            });
        }
    }

    fn claims(
        &mut self,
        month: NaiveDate,
        month_end: NaiveDate,
        death: Option<NaiveDate>,
        out: &mut Tables,
    ) {
        let last_day = death.unwrap_or(month_end).min(month_end);
        let abs_month = month.year() * 12 + month.month0() as i32;
        let mut inpatient_days = 0;
        // Hospital stay.
        if let Some(stay) = self.stay.clone() {
            let from = stay.start.max(month);
            let to = stay.end.unwrap_or(last_day).min(last_day);
            if from <= to {
                inpatient_days = ((to - from).num_days() + 1) as i32;
                let points = stay.points_per_day * inpatient_days as f64;
                let claim = self.push_claim(
                    out,
                    month,
                    stay.kind,
                    &stay.hospital,
                    points,
                    inpatient_days,
                );
                self.push_dx(
                    out,
                    &claim,
                    month,
                    stay.reason,
                    false,
                    Some(stay.start),
                    if death.is_some() && stay.end.is_none_or(|e| e >= last_day) {
                        3
                    } else {
                        1
                    },
                );
                let chronic: Vec<(&'static str, NaiveDate)> = self
                    .conds
                    .iter()
                    .filter(|c| c.diagnosed)
                    .take(4)
                    .map(|c| (c.code, c.onset))
                    .collect();
                for (code, onset) in chronic {
                    self.push_dx(out, &claim, month, code, false, Some(onset), 1);
                }
                if stay.kind == ClaimKind::Inpatient {
                    let drugs: Vec<(Drug, i32)> = self
                        .conds
                        .iter()
                        .filter(|c| c.treated && !c.stopped)
                        .flat_map(|c| c.regimen.iter().map(|d| (*d, inpatient_days)))
                        .collect();
                    let (lines, _) = self.drug_lines(&drugs);
                    self.push_drugs(out, &claim, month, lines);
                }
            }
            if stay.end.is_some_and(|e| e <= month_end) {
                self.last_discharge = stay.end;
                self.stay = None;
            }
        }
        if inpatient_days >= 20
            || matches!(
                self.facility,
                Some(CareServiceType::HealthFacility | CareServiceType::MedicalCareHome)
            )
        {
            return;
        }
        // Treatment interruption and restart (R07).
        for i in 0..self.conds.len() {
            let c = &self.conds[i];
            if !(c.treated && matches!(c.cond, Cond::Hypertension | Cond::Diabetes)) {
                continue;
            }
            let r: f64 = self.rng.random();
            if !c.stopped && r < cal::STOP_TREATMENT_PER_YEAR / 12.0 {
                self.conds[i].stopped = true;
            } else if c.stopped && r < cal::RESTART_TREATMENT_PER_YEAR / 12.0 {
                self.conds[i].stopped = false;
            }
        }
        // Clinic visits.
        for ci in 0..self.clinics.len() {
            let rel = self.clinics[ci].clone();
            if (abs_month + rel.phase) % rel.interval != 0 || self.rng.random::<f64>() > 0.94 {
                continue;
            }
            let active: Vec<usize> = (0..self.conds.len())
                .filter(|&i| self.conds[i].clinic == ci && self.conds[i].diagnosed)
                .collect();
            let any_active_treatment = active.iter().any(|&i| !self.conds[i].stopped);
            if !active.is_empty() && !any_active_treatment {
                continue; // the patient stopped coming (治療中断)
            }
            if active.is_empty() && self.rng.random::<f64>() > 0.25 {
                continue; // a main clinic without chronic conditions: occasional visits only
            }
            let days_supply = rel.days_per_month * rel.interval;
            let mut drugs: Vec<(Drug, i32)> = Vec::new();
            for &i in &active {
                let c = &self.conds[i];
                if c.treated && !c.stopped && self.rng.random::<f64>() < c.per_visit {
                    drugs.extend(c.regimen.iter().map(|d| (*d, days_supply)));
                }
            }
            if let Some((dc, d)) = self.duplicate
                && dc == ci
            {
                drugs.push((d, days_supply));
            }
            let acute = (self.rng.random::<f64>() < 0.05).then(|| self.pick_acute());
            if let Some((_, groups, days)) = acute {
                for g in groups {
                    let d = self.choose_drug(g);
                    drugs.push((d, days));
                }
            }
            let suspected = (self.rng.random::<f64>() < 0.025)
                .then(|| SUSPECTED[self.rng.random_range(0..SUSPECTED.len())]);
            let (lines, drug_points) = self.drug_lines(&drugs);
            let visit_days = 1
                + (self.rng.random::<f64>() < 0.15) as i32
                + (self.rng.random::<f64>() < 0.05) as i32;
            let mut points = cal::OUTPATIENT_POINTS
                * (0.45 * normal(&mut self.rng) - 0.1).exp()
                * visit_days as f64;
            if rel.in_house {
                points += drug_points + 40.0;
            }
            let claim = self.push_claim(
                out,
                month,
                ClaimKind::Outpatient,
                &rel.code,
                points,
                visit_days,
            );
            let dx: Vec<(&'static str, NaiveDate)> = active
                .iter()
                .map(|&i| (self.conds[i].code, self.conds[i].onset))
                .collect();
            for (code, onset) in dx {
                self.push_dx(out, &claim, month, code, false, Some(onset), 1);
            }
            if let Some((code, _, _)) = acute {
                self.push_dx(out, &claim, month, code, false, Some(month), 2);
            }
            if let Some(code) = suspected {
                self.push_dx(out, &claim, month, code, true, Some(month), 4);
            }
            if lines.is_empty() {
                continue;
            }
            if rel.in_house {
                self.push_drugs(out, &claim, month, lines);
            } else {
                let pts =
                    cal::PHARMACY_FEE_POINTS * (0.25 * normal(&mut self.rng)).exp() + drug_points;
                let rx = self.push_claim(out, month, ClaimKind::Pharmacy, &rel.pharmacy, pts, 1);
                self.push_drugs(out, &rx, month, lines);
            }
        }
        // Acute visits of people without a regular clinic, and the visit support led to
        // (健康状態不明者).
        let support_visit = self.fx.visit_month == Some(month);
        if support_visit {
            self.fx.visit_month = None;
        }
        if (self.clinics.is_empty()
            && self.rng.random::<f64>() < if self.avoider { 0.003 } else { 0.05 })
            || support_visit
        {
            let local = &self.w.local[self.municipality()];
            let c = local.clinics[self.rng.random_range(0..local.clinics.len())].clone();
            let (code, groups, days) = self.pick_acute();
            let drugs: Vec<(Drug, i32)> =
                groups.iter().map(|g| (self.choose_drug(g), days)).collect();
            let (lines, drug_points) = self.drug_lines(&drugs);
            let claim = self.push_claim(
                out,
                month,
                ClaimKind::Outpatient,
                &c.code,
                cal::OUTPATIENT_POINTS * 0.8 + if c.in_house { drug_points } else { 0.0 },
                1,
            );
            self.push_dx(out, &claim, month, code, false, Some(month), 2);
            if c.in_house {
                self.push_drugs(out, &claim, month, lines);
            } else {
                let rx = self.push_claim(
                    out,
                    month,
                    ClaimKind::Pharmacy,
                    &c.pharmacy,
                    cal::PHARMACY_FEE_POINTS + drug_points,
                    1,
                );
                self.push_drugs(out, &rx, month, lines);
            }
        }
        // Dental care.
        let visit = match self.dental {
            Dental::Regular => {
                (abs_month + self.dental_phase) % 3 == 0 && self.rng.random::<f64>() < 0.85
            }
            Dental::Occasional => {
                if self.dental_episode > 0 {
                    self.dental_episode -= 1;
                    true
                } else if self.rng.random::<f64>() < 0.022 {
                    self.dental_episode = self.rng.random_range(1..4);
                    true
                } else {
                    false
                }
            }
            Dental::Never => false,
        };
        let dental_ok = self.facility.is_none() || self.rng.random::<f64>() < 0.3;
        // The dental visit support led to (口腔).
        let support_visit = self.fx.dental_month == Some(month);
        if (visit || support_visit) && dental_ok && inpatient_days == 0 {
            let local = &self.w.local[self.municipality()];
            let dentist = local.dentists
                [(self.dental_phase as usize + self.seq as usize % 2) % local.dentists.len()]
            .clone();
            let days = 1
                + (self.rng.random::<f64>() < 0.4) as i32
                + (self.rng.random::<f64>() < 0.2) as i32;
            let points =
                cal::DENTAL_POINTS * (0.4 * normal(&mut self.rng) - 0.08).exp() * days as f64 / 1.6;
            let claim = self.push_claim(out, month, ClaimKind::Dental, &dentist, points, days);
            if self.rng.random::<f64>() < 0.3 {
                self.dental_code = DENTAL_CODES[self.rng.random_range(0..DENTAL_CODES.len())];
            }
            let code = self.dental_code;
            self.push_dx(out, &claim, month, code, false, Some(month), 1);
            if self.rng.random::<f64>() < 0.5 {
                self.push_dx(out, &claim, month, "5234016", false, None, 1);
            }
        }
        // Home nursing.
        if self.home_nursing && self.facility.is_none() && inpatient_days == 0 {
            let local = &self.w.local[self.municipality()];
            let st = local.nursing_stations[0].clone();
            let days = self.rng.random_range(4..9);
            let claim = self.push_claim(
                out,
                month,
                ClaimKind::HomeNursing,
                &st,
                1_300.0 * days as f64,
                days,
            );
            let first = self
                .conds
                .iter()
                .find(|c| c.diagnosed)
                .map(|c| (c.code, c.onset));
            if let Some((code, onset)) = first {
                self.push_dx(out, &claim, month, code, false, Some(onset), 1);
            }
        }
    }

    fn pick_acute(&mut self) -> (&'static str, &'static [&'static str], i32) {
        let total: f64 = ACUTE.iter().map(|a| a.3).sum();
        let mut t = self.rng.random::<f64>() * total;
        for a in ACUTE {
            if t < a.3 {
                return (a.0, a.1, a.2);
            }
            t -= a.3;
        }
        let a = ACUTE[0];
        (a.0, a.1, a.2)
    }

    // ------------------------------------------------------------ checkups

    fn plan_fiscal_year(&mut self, fy: FiscalYear, _out: &mut Tables) {
        self.checkup_date = None;
        self.extra_questionnaire = None;
        self.dental_checkup_date = None;
        let from = self.p.follow_from.max(fy.start());
        let to = fy.end().min(self.w.period.1);
        if from > to {
            return;
        }
        let mut factor = 1.0;
        if self.facility.is_some() {
            factor *= cal::CHECKUP_CERTIFIED_FACTOR[1];
        } else if self.cert.is_some_and(|c| c.level.is_certified()) {
            factor *= cal::CHECKUP_CERTIFIED_FACTOR[0];
        }
        if self.stay.as_ref().is_some_and(|s| s.end.is_none()) {
            factor = 0.0;
        }
        if self.conds.iter().any(|c| c.stopped) {
            factor *= 0.35;
        }
        if self.avoider {
            factor *= 1.1; // checkups are free and local; avoiders of clinics still come
        }
        factor *= (1.0 - 0.25 * sigmoid(self.z())).max(0.0);
        let attends =
            self.rng.random::<f64>() < (self.checkup_propensity * factor * 1.06).min(0.97);
        let pick_date = |rng: &mut ChaCha8Rng| -> NaiveDate {
            // Municipal checkups run June–February, peaking in summer and autumn.
            let months = [
                (6, 1.0),
                (7, 2.0),
                (8, 2.0),
                (9, 2.0),
                (10, 2.0),
                (11, 1.5),
                (12, 1.0),
                (1, 0.5),
                (2, 0.3),
            ];
            let total: f64 = months.iter().map(|m| m.1).sum();
            let mut t = rng.random::<f64>() * total;
            let mut mo = 7;
            for (m, w) in months {
                if t < w {
                    mo = m;
                    break;
                }
                t -= w;
            }
            let y = if mo >= 4 { fy.0 } else { fy.0 + 1 };
            NaiveDate::from_ymd_opt(y, mo, rng.random_range(1..=28)).expect("valid day")
        };
        if attends {
            let mut d = pick_date(&mut self.rng);
            if d < from {
                d = from
                    + Duration::days(self.rng.random_range(0..=(to - from).num_days().min(60)));
            }
            if d <= to {
                self.checkup_date = Some(d);
            }
        }
        let mobile =
            self.facility.is_none() && self.cert.is_none_or(|c| c.level < CareLevel::Care1);
        let r: f64 = self.rng.random();
        if self.checkup_date.is_none() {
            let setting = if mobile && r < cal::QUESTIONNAIRE_ELSEWHERE[0] {
                Some(QuestionnaireSetting::CommunityPlace)
            } else if r < cal::QUESTIONNAIRE_ELSEWHERE[0] + cal::QUESTIONNAIRE_ELSEWHERE[1]
                && !self.clinics.is_empty()
            {
                Some(QuestionnaireSetting::Clinic)
            } else {
                None
            };
            if let Some(s) = setting {
                let d = from + Duration::days(self.rng.random_range(0..=(to - from).num_days()));
                self.extra_questionnaire = Some((d, s));
            }
        }
        let p_dental = if self.dental == Dental::Regular {
            cal::DENTAL_CHECKUP[0]
        } else {
            cal::DENTAL_CHECKUP[1]
        };
        if self.facility.is_none() && self.rng.random::<f64>() < p_dental {
            let d = pick_date(&mut self.rng);
            if d >= from && d <= to {
                self.dental_checkup_date = Some(d);
            }
        }
    }

    fn checkup(&mut self, d: NaiveDate, out: &mut Tables) {
        let age = self.age(d) as f64;
        let z = self.z();
        let years = (d - self.w.period.0).num_days() as f64 / 365.25;
        let ht_treated = self.treated(Cond::Hypertension);
        let ht = self.has(Cond::Hypertension);
        // The blood-pressure level follows the person's hypertension as it was before
        // support: a treatment started through support does not move them to the treated
        // group's mean (which is higher: those treated are those with high pressure).
        let ht_before_support = self
            .conds
            .iter()
            .any(|c| c.cond == Cond::Hypertension && c.support != Mark::Added);
        let ht_treated_before_support = self.conds.iter().any(|c| {
            c.cond == Cond::Hypertension && c.treated && !c.stopped && c.support == Mark::Baseline
        });
        // Weight gained after support (低栄養), kg.
        let gain = self
            .fx
            .weight_gain
            .filter(|(after, _)| d > *after)
            .map_or(0.0, |(_, kg)| kg);
        let dm = self.has(Cond::Diabetes);
        let dm_treated = self.treated(Cond::Diabetes);
        let diagnosed_dm = self
            .conds
            .iter()
            .any(|c| c.cond == Cond::Diabetes && c.diagnosed);
        let statin = self.treated(Cond::Dyslipidemia);
        let ckd = self.has(Cond::Ckd);
        let sglt2 = self.conds.iter().any(|c| {
            c.treated
                && !c.stopped
                && c.regimen
                    .iter()
                    .any(|d| catalog::DRUG_GROUPS[d.group].id == "sglt2")
        });
        let rng = &mut self.rng;
        let n = |rng: &mut ChaCha8Rng| rng.sample::<f64, _>(StandardNormal);
        let height = if self.male {
            161.5 - 0.25 * (age - 75.0)
        } else {
            148.5 - 0.3 * (age - 75.0)
        } + 5.7 * n(rng);
        let height = round1(height.clamp(125.0, 195.0));
        let bmi_true = (self.bmi0 - 0.25 * years * z.max(0.0) + 0.4 * n(rng)).clamp(13.0, 42.0);
        let weight = round1(bmi_true * (height / 100.0).powi(2) + gain);
        let bmi = round1(weight / (height / 100.0).powi(2));
        let waist = (rng.random::<f64>() < 0.5).then(|| {
            round1(
                if self.male {
                    2.5 * bmi + 27.0
                } else {
                    2.7 * bmi + 22.0
                } + 4.5 * n(rng),
            )
        });
        // Group means (treated, untreated hypertensive, normotensive) plus the person's
        // own level: about 2.5 % of the untreated reach 160 mmHg, which with the HbA1c
        // arm puts コントロール不良 (R06) near its published 0.45 % (docs/reference/calibration.md).
        let group_mean = if ht_treated_before_support {
            143.0
        } else if ht_before_support {
            132.0
        } else {
            129.0
        };
        let sbp_base = group_mean + 0.85 * (self.sbp0 - 135.0);
        let sbp = (sbp_base + 10.0 * n(rng)).round().clamp(80.0, 240.0);
        let dbp = (0.35 * sbp + 26.0 - 0.3 * (age - 75.0) + 8.0 * n(rng))
            .round()
            .clamp(40.0, 140.0);
        let hba1c = if dm_treated {
            6.9 + 0.35 * (self.hba1c0 - 5.6) / 0.28 + 0.45 * n(rng)
        } else if dm && diagnosed_dm {
            7.0 + 0.9 * n(rng) // stopped treatment
        } else if dm {
            6.4 + 0.7 * n(rng) // never diagnosed
        } else {
            self.hba1c0 + 0.1 * n(rng)
        };
        let hba1c = round1(hba1c.clamp(4.2, 14.0));
        let fpg = (rng.random::<f64>() < 0.6).then(|| {
            (28.7 * hba1c - 46.7 + 12.0 * n(rng))
                .round()
                .clamp(60.0, 400.0)
        });
        let tg = (105.0 * (0.2 * self.m + 0.45 * n(rng)).exp())
            .round()
            .clamp(25.0, 1500.0);
        let hdl = (60.0 - 4.0 * self.m - if self.male { 5.0 } else { 0.0 } + 14.0 * n(rng))
            .round()
            .clamp(20.0, 140.0);
        let ldl = (rng.random::<f64>() < 0.98).then(|| {
            (118.0 - if statin { 28.0 } else { 0.0 } + 3.0 * self.m + 27.0 * n(rng))
                .round()
                .clamp(30.0, 300.0)
        });
        let ast = (23.0 + 7.0 * n(rng)).round().clamp(8.0, 400.0);
        let alt = (17.0 + 8.0 * n(rng)).round().clamp(4.0, 400.0);
        let ggt = (22.0 * ((if self.male { 0.3 } else { 0.0 }) + 0.6 * n(rng)).exp())
            .round()
            .clamp(5.0, 1000.0);
        let egfr_true = if ckd {
            37.0 + 9.0 * (self.egfr0 - 60.0) / 15.0
        } else {
            self.egfr0 - 0.6 * years
        };
        let egfr_true = (egfr_true + 3.5 * n(rng)).clamp(6.0, 120.0);
        let sexf = if self.male { 1.0 } else { 0.739 };
        // 日本腎臓学会 eGFR: 194 × Cr^−1.094 × age^−0.287 (× 0.739 for women).
        let cr = (egfr_true / (194.0 * age.powf(-0.287) * sexf)).powf(-1.0 / 1.094);
        let cr = (cr * 100.0).round() / 100.0;
        let (creatinine, egfr) = if rng.random::<f64>() < 0.96 {
            let e = round1(194.0 * cr.powf(-1.094) * age.powf(-0.287) * sexf);
            (Some(cr), Some(e))
        } else {
            (None, None)
        };
        // Proteinuria: CKD, diabetes, and untreated hypertension or diabetes (common among
        // those who avoid doctors, the people R09 looks for).
        let protein_latent = -1.35
            + 1.4 * ckd as i32 as f64
            + 0.5 * dm as i32 as f64
            + 0.6 * (ht && !ht_treated) as i32 as f64
            + 0.4 * (dm && !dm_treated) as i32 as f64
            + 0.2 * z
            + n(rng);
        let urine_protein = match protein_latent {
            x if x < 0.55 => UrineTest::Negative,
            x if x < 1.05 => UrineTest::Trace,
            x if x < 1.7 => UrineTest::Plus1,
            x if x < 2.4 => UrineTest::Plus2,
            _ => UrineTest::Plus3,
        };
        let urine_glucose = if sglt2 && rng.random::<f64>() < 0.85 {
            UrineTest::Plus3
        } else if hba1c >= 8.0 && rng.random::<f64>() < 0.5 {
            // + to +++ (codes 3–5), drawn as a u8 as before.
            UrineTest::from_code(3 + rng.random_range(0..3u8)).expect("codes 3–5")
        } else if rng.random::<f64>() < 0.02 {
            UrineTest::Trace
        } else {
            UrineTest::Negative
        };
        let report = |truth: bool, rng: &mut ChaCha8Rng| {
            if rng.random::<f64>() < 0.03 {
                !truth
            } else {
                truth
            }
        };
        let med_bp = report(ht_treated, rng);
        let med_dm = report(dm_treated, rng);
        let med_lipid = report(statin, rng);
        out.checkups.push(&Checkup {
            person_id: self.p.id.clone(),
            exam_date: d,
            height_cm: Some(height),
            weight_kg: Some(weight),
            bmi: Some(bmi),
            waist_cm: waist,
            sbp: Some(sbp),
            dbp: Some(dbp),
            hba1c: Some(hba1c),
            fasting_glucose: fpg,
            tg: Some(tg),
            hdl: Some(hdl),
            ldl,
            ast: Some(ast),
            alt: Some(alt),
            ggt: Some(ggt),
            creatinine,
            egfr,
            urine_protein: Some(urine_protein.code()),
            urine_glucose: Some(urine_glucose.code()),
            med_bp: Some(med_bp),
            med_dm: Some(med_dm),
            med_lipid: Some(med_lipid),
        });
        if let Some(y) = self.year_mut(d) {
            y.checkup = Some(CheckupSeen {
                bmi,
                sbp,
                dbp,
                hba1c,
                egfr,
                urine_protein: urine_protein.code(),
            });
        }
        if self.rng.random::<f64>() < cal::QUESTIONNAIRE_AT_CHECKUP {
            self.questionnaire(d, QuestionnaireSetting::Checkup, out);
        }
    }

    fn questionnaire(&mut self, d: NaiveDate, setting: QuestionnaireSetting, out: &mut Tables) {
        let z = self.z();
        let age = self.age(d) as f64 - 80.0;
        let hypnotic = self
            .conds
            .iter()
            .any(|c| c.cond == Cond::Insomnia && c.treated);
        let dementia = self.has(Cond::Dementia);
        let recent_admission = self
            .last_discharge
            .is_some_and(|x| (d - x).num_days() < 240);
        let low_bmi = self.bmi0 < 20.5;
        let rng = &mut self.rng;
        let n = |rng: &mut ChaCha8Rng| rng.sample::<f64, _>(StandardNormal);
        let yes = |logit: f64, rng: &mut ChaCha8Rng| {
            if rng.random::<f64>() < sigmoid(logit) {
                YES
            } else {
                NO
            }
        };
        let n_conds = self.conds.iter().filter(|c| c.diagnosed).count() as f64;
        let health = 0.9 * z + 0.12 * (n_conds - 4.0) + 0.8 * n(rng);
        let q01 = match health {
            x if x < -1.3 => 1,
            x if x < -0.75 => 2,
            x if x < 1.15 => 3,
            x if x < 1.9 => 4,
            _ => 5,
        };
        let mood = 0.5 * health + 0.4 * self.social + 0.8 * n(rng);
        let q02 = match mood {
            x if x < 0.0 => 1,
            x if x < 1.0 => 2,
            x if x < 1.8 => 3,
            _ => 4,
        };
        let q03 = yes(3.2 - 0.6 * z, rng);
        let q04 = yes(-0.92 + 0.9 * self.oral + 0.02 * age, rng);
        let q05 = yes(-1.35 + 0.8 * self.oral + 0.15 * z, rng);
        let q06 = yes(
            -2.45 + 0.55 * z + 0.9 * recent_admission as i32 as f64 + 0.5 * low_bmi as i32 as f64,
            rng,
        );
        let q07 = yes(0.40 + 0.95 * z + 0.05 * age, rng);
        let q08 = yes(
            -1.52 + 0.55 * z + 0.55 * hypnotic as i32 as f64 + 0.02 * age,
            rng,
        );
        let q09 = yes(0.75 - 0.8 * z, rng);
        let q10 = yes(
            -1.85
                + 0.6 * z
                + 1.8 * dementia as i32 as f64
                + 0.35 * hypnotic as i32 as f64
                + 0.04 * age,
            rng,
        );
        let q11 = yes(
            -2.9 + 0.6 * z
                + 2.2 * dementia as i32 as f64
                + 0.35 * hypnotic as i32 as f64
                + 0.04 * age,
            rng,
        );
        let smoke: f64 = rng.random();
        let q12 = if self.male {
            if smoke < 0.10 {
                1
            } else if smoke < 0.55 {
                3
            } else {
                2
            }
        } else if smoke < 0.02 {
            1
        } else if smoke < 0.07 {
            3
        } else {
            2
        };
        let q13 = yes(2.7 - 1.1 * z - 0.5 * self.social, rng);
        let q14 = yes(2.9 - 0.9 * self.social, rng);
        let q15 = yes(3.3 - 0.6 * self.social, rng);
        // Support (身体的フレイル): walking speed better at the next questionnaire.
        let q07 = if std::mem::take(&mut self.fx.walking) && q07 == YES {
            NO
        } else {
            q07
        };
        if let Some(y) = self.year_mut(d)
            && y.answers.is_none_or(|(at, _)| at <= d)
        {
            y.answers = Some((
                d,
                Answers {
                    q01,
                    q04,
                    q05,
                    q06,
                    q07,
                    q08,
                    q10,
                    q11,
                    q13,
                },
            ));
        }
        out.questionnaires.push(&Questionnaire {
            person_id: self.p.id.clone(),
            answer_date: d,
            setting: setting.code(),
            q01: Some(q01),
            q02: Some(q02),
            q03: Some(q03),
            q04: Some(q04),
            q05: Some(q05),
            q06: Some(q06),
            q07: Some(q07),
            q08: Some(q08),
            q09: Some(q09),
            q10: Some(q10),
            q11: Some(q11),
            q12: Some(q12),
            q13: Some(q13),
            q14: Some(q14),
            q15: Some(q15),
        });
    }
}

fn level_rank(l: CareLevel) -> i32 {
    CareLevel::CERTIFIED
        .iter()
        .position(|x| *x == l)
        .map(|p| p as i32)
        .unwrap_or(-1)
}

fn out_reason_terminal(rng: &mut ChaCha8Rng) -> &'static str {
    ["4860030", "5070003", "8830796", "1629006", "8838708"][rng.random_range(0..5)]
}
