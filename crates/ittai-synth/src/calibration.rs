//! Calibration of the synthetic population: every rate and distribution the generator
//! uses, with its source. Targets are docs/reference/calibration.md ("Calibration facts"); figures marked
//! (est.) are project estimates, as in docs/reference/calibration.md. `ittai profile` prints the achieved
//! values beside the targets.

/// Share of persons, among those insured on the first day, aged 65–74 and insured through
/// a disability certification (障害認定). Source: 後期高齢者医療事業状況報告 (about 1 %).
pub const UNDER_75_SHARE: f64 = 0.01;

/// Persons moving into the union's prefecture per year, per insured (est.).
pub const MOVE_IN_PER_YEAR: f64 = 0.004;
/// Moves out of the prefecture (資格喪失, 転出) per person-year (est.).
pub const MOVE_OUT_PER_YEAR: f64 = 0.004;
/// Moves between municipalities of the union per person-year (est.).
pub const MOVE_WITHIN_PER_YEAR: f64 = 0.008;
/// Loss of coverage to public assistance (生活保護) per person-year (est.).
pub const PUBLIC_ASSISTANCE_PER_YEAR: f64 = 0.0015;

/// Annual death probability at age 75 and its growth per year of age (Gompertz), by sex
/// (male, female). Chosen so that deaths at 75+ are ≈ 6–7 % per year over the 2020
/// census age structure (docs/reference/calibration.md, est.); the ratio male/female follows 簡易生命表 2022.
pub const DEATH_Q75: [f64; 2] = [0.027, 0.0133];
/// Gompertz slope per year of age (male, female).
pub const DEATH_SLOPE: [f64; 2] = [0.112, 0.132];
/// Log hazard ratio of death per unit of standardised frailty.
pub const DEATH_FRAILTY_LOG_HR: f64 = 0.45;
/// Share of deaths preceded by a hospital stay in the month of death (人口動態統計: about
/// 70 % of deaths occur in hospitals).
pub const DEATH_IN_HOSPITAL: f64 = 0.70;

/// Certification prevalence by age follows logit p = `CERT_LOGIT_75` + `CERT_LOGIT_SLOPE` ×
/// (age − 75), which gives 12 % at 77, 26 % at 82, 48 % at 87 and 72 % at 92.5, the
/// midpoints of the docs/reference/calibration.md bands (75–79 ≈ 12 %, 80–84 ≈ 26 %, 85–89 ≈ 48 %, 90+ ≈ 72 %).
pub const CERT_LOGIT_75: f64 = -2.65;
/// See [`CERT_LOGIT_75`].
pub const CERT_LOGIT_SLOPE: f64 = 0.205;
/// Certification prevalence of the under-75 (disability) insured (est.).
pub const CERT_UNDER_75: f64 = 0.20;
/// Level mix among the certified, cumulative, 要支援1 … 要介護5 (docs/reference/calibration.md: 14, 14, 21, 17,
/// 13, 12, 9 %). The cut points sit a little below the target shares at the low end
/// because new certifications start just above the threshold (low levels), which the
/// stationary mix of the latent model does not see.
pub const LEVEL_CUMULATIVE: [f64; 7] = [0.105, 0.25, 0.47, 0.645, 0.78, 0.905, 1.00];
/// Yearly standard deviation of each person's frailty drift (individual decline).
pub const FRAILTY_DRIFT_SD: f64 = 0.15;
/// Applications refused (非該当) per new application (est.).
pub const NOT_ELIGIBLE_SHARE: f64 = 0.04;
/// 事業対象者 (checklist route) share among the not-certified near the threshold (est.).
pub const PROJECT_TARGET_SHARE: f64 = 0.03;

/// Facility entry per month by level group (要支援, 要介護1–2, 要介護3–5) (est.; about a
/// quarter of 要介護3+ live in facilities).
pub const FACILITY_ENTRY_PER_MONTH: [f64; 3] = [0.0, 0.004, 0.022];
/// Share of certified persons at home who use services in a month (要支援, 要介護).
pub const HOME_SERVICE_USE: [f64; 2] = [0.55, 0.88];

/// Checkup participation: each person has a propensity drawn from Beta(a, b); the yearly
/// attendance is Bernoulli(propensity × modifiers). Mean participation among insured
/// ≈ 27 % (docs/reference/calibration.md); the Beta shape gives the strong year-to-year persistence seen in
/// practice (most takers come every year).
pub const CHECKUP_BETA: (f64, f64) = (0.55, 0.85);
/// Multiplier on checkup propensity for the certified (at home) and for facility residents.
pub const CHECKUP_CERTIFIED_FACTOR: [f64; 2] = [0.35, 0.03];
/// Share of checkup takers who also answer the questionnaire at the checkup.
pub const QUESTIONNAIRE_AT_CHECKUP: f64 = 0.96;
/// Yearly probability of answering the questionnaire elsewhere (通いの場, 医療機関).
pub const QUESTIONNAIRE_ELSEWHERE: [f64; 2] = [0.025, 0.015];
/// Dental checkup participation per year among dental attenders and others (est.; the
/// national 後期 dental checkup rate is a few per cent).
pub const DENTAL_CHECKUP: [f64; 2] = [0.12, 0.01];

/// Share of persons who avoid doctors (no regular clinic; about 5 % of insured have no
/// medical claim in a year, docs/reference/calibration.md "≈ 95 % have a medical claim").
pub const AVOIDER_SHARE: f64 = 0.05;

/// Hospital admissions per person-year at frailty 0, age 80 (est.; about 18 % of the
/// 75+ are admitted in a year) and the log rate ratio per unit of standardised frailty.
pub const ADMISSION_RATE: f64 = 0.23;
/// See [`ADMISSION_RATE`].
pub const ADMISSION_FRAILTY_LOG_RR: f64 = 0.45;
/// Share of admissions to DPC hospitals (the rest are 医科入院 出来高).
pub const ADMISSION_DPC_SHARE: f64 = 0.60;
/// Share of persons who are long-term inpatients (療養病床) at the start (est.).
pub const LONG_TERM_INPATIENT_SHARE: f64 = 0.012;

/// Points per inpatient day (DPC, 出来高 general, 療養病床) (est.; gives ≈ 430,000 yen of
/// inpatient cost per insured per year, 医療費の動向).
pub const INPATIENT_POINTS_PER_DAY: [f64; 3] = [5400.0, 4200.0, 2200.0];
/// Mean outpatient points per clinic claim excluding in-house drugs (est.).
pub const OUTPATIENT_POINTS: f64 = 2000.0;
/// Pharmacy fees per claim in points (調剤基本料 + 薬学管理料, est.).
pub const PHARMACY_FEE_POINTS: f64 = 1100.0;
/// Mean points per dental claim (est.).
pub const DENTAL_POINTS: f64 = 2800.0;

/// Share of clinics that dispense in house (院内処方); the rest prescribe to pharmacies
/// (医薬分業率 ≈ 77 %, 日本薬剤師会 2022).
pub const IN_HOUSE_DISPENSING: f64 = 0.23;

/// Yearly probability that a treated hypertension or diabetes patient stops treatment
/// (treatment interruption, R07) and the yearly probability of restarting (est.).
pub const STOP_TREATMENT_PER_YEAR: f64 = 0.035;
/// See [`STOP_TREATMENT_PER_YEAR`].
pub const RESTART_TREATMENT_PER_YEAR: f64 = 0.25;

/// Coefficient of a shared multimorbidity factor in every condition's logit: it makes
/// conditions cluster in the same persons, which gives the long tail of monthly drug
/// counts behind 多剤 (R03, ≈ 4.5 % with ≥ 15 drugs, docs/reference/calibration.md).
pub const MULTIMORBIDITY: f64 = 1.02;
