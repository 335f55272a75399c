//! Configuration of a synthetic population: seed, size, union (prefecture) and period, and
//! the support records (支援記録) with their synthetic effects (`[support]`).

use std::path::Path;

use ittai_model::FiscalYear;
use ittai_model::support::Programme;
use serde::{Deserialize, Serialize};

/// What to generate. Same configuration → identical files (no clock, no thread-count
/// dependence).
///
/// TOML form (e.g. `sample_data/synth.toml`):
/// ```toml
/// seed = 1
/// persons = 3000
/// prefecture = "鳥取県"
/// first_fy = 2021
/// last_fy = 2024
/// register = true      # optional (default false): write register/台帳.csv and sample.key
///
/// [support]            # optional; every key may be left out (defaults below)
/// reach_min = 0.2
/// reach_max = 0.6
///
/// [support.effects]
/// deprescribe = 0.5
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthConfig {
    /// Random seed; every id and value derives from it.
    pub seed: u64,
    /// Number of distinct persons in the dataset (insured on the first day of `first_fy`,
    /// plus those who turn 75 or move in during the period).
    pub persons: u64,
    /// The union's prefecture: number (31), name (鳥取県, 鳥取) or English name (Tottori).
    pub prefecture: String,
    /// First fiscal year with data.
    pub first_fy: i32,
    /// Last fiscal year with data (the latest extraction FY).
    pub last_fy: i32,
    /// Write the synthetic register beside the tables (`register/台帳.csv` with made-up
    /// names, and `register/sample.key`) and give every person the id that register has
    /// under the sample key, so that `ittai run --register` can show names
    /// (`crate::register`). `ittai synth` sets it unless `--no-register`; false by default
    /// here and in a `synth.toml` written before the register existed, whose persons keep
    /// the generator's own 12-digit ids (the same configuration gives the same files).
    #[serde(default)]
    pub register: bool,
    /// Support records and their effects (`[support]`; defaults when absent).
    #[serde(default)]
    pub support: SupportConfig,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            persons: 3000,
            prefecture: "鳥取県".into(),
            first_fy: 2021,
            last_fy: 2024,
            register: false,
            support: SupportConfig::default(),
        }
    }
}

/// The support records (支援記録, table `interventions`) of the integrated programmes:
/// which municipalities run which programme, how many of their targets they contact, and
/// how contacts go (`[support]` of the TOML; docs/CALIBRATION.md, "Support records").
///
/// Targets of FY t are the persons the generator finds on a rule's list for FY t − 1 (an
/// approximation of the rules from the person's own simulated state); support starts in
/// the second generated FY. All probabilities are per FY.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportConfig {
    /// Write support records and apply their effects (default true). With false the
    /// `interventions` table is empty and every other table is as without support.
    pub enabled: bool,
    /// Lowest share of its targets a running municipality contacts in an FY (default 0.2);
    /// each municipality and programme draws its share uniformly from
    /// [`reach_min`, `reach_max`] once.
    pub reach_min: f64,
    /// Highest share of targets contacted (default 0.6).
    pub reach_max: f64,
    /// Probability that a contact is reached (支援できた; for 健康状態不明者 状況把握できた)
    /// (default 0.8); a phone attempt reaches with this times 0.75.
    pub reached: f64,
    /// Share of records that name the list (`rule_id`) (default 0.8).
    pub rule_id_recorded: f64,
    /// Persons on no list of a programme contacted by it, as a share of the persons the
    /// programme contacts from its lists (default 0.03): records "outside the lists".
    pub outside_lists: f64,
    /// Probability that a municipality runs each programme (`[support.runs]`).
    pub runs: ProgrammeShares,
    /// Effects of support on later data (`[support.effects]`).
    pub effects: SupportEffects,
}

impl Default for SupportConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            reach_min: 0.2,
            reach_max: 0.6,
            reached: 0.8,
            rule_id_recorded: 0.8,
            outside_lists: 0.03,
            runs: ProgrammeShares::default(),
            effects: SupportEffects::default(),
        }
    }
}

/// One probability per programme, keyed by the programme codes of the `interventions`
/// table (`[support.runs]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgrammeShares {
    /// 低栄養 (default 0.6).
    pub undernutrition: f64,
    /// 口腔 (default 0.5).
    pub oral: f64,
    /// 服薬 (default 0.6).
    pub medication: f64,
    /// 身体的フレイル (default 0.6).
    pub physical_frailty: f64,
    /// 重症化予防 (default 0.9).
    pub disease_prevention: f64,
    /// 健康状態不明者 (default 0.8).
    pub health_unknown: f64,
}

impl Default for ProgrammeShares {
    fn default() -> Self {
        Self {
            undernutrition: 0.6,
            oral: 0.5,
            medication: 0.6,
            physical_frailty: 0.6,
            disease_prevention: 0.9,
            health_unknown: 0.8,
        }
    }
}

impl ProgrammeShares {
    /// The value of programme `p`.
    pub fn get(&self, p: Programme) -> f64 {
        match p {
            Programme::Undernutrition => self.undernutrition,
            Programme::Oral => self.oral,
            Programme::Medication => self.medication,
            Programme::PhysicalFrailty => self.physical_frailty,
            Programme::DiseasePrevention => self.disease_prevention,
            Programme::HealthUnknown => self.health_unknown,
        }
    }
}

/// Synthetic effects of support (`[support.effects]`), applied to a person reached by a
/// programme from the month after the index month (the month of the first reached contact
/// of the FY). They exist so that programme evaluation has something to find; they are not
/// estimates of what real programmes achieve. Probabilities are per supported person and FY.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportEffects {
    /// 服薬: a person on the 多剤 list (R03) stops some oral drugs (default 0.5).
    pub deprescribe: f64,
    /// 服薬: most oral drugs stopped, 1 … this (default 2).
    pub deprescribe_max_drugs: u32,
    /// 重症化予防: a person whose diabetes or hypertension drugs stopped restarts them in
    /// one of the 6 months after the index month (default 0.3; on top of the baseline
    /// restart rate).
    pub restart_treatment: f64,
    /// 重症化予防: a person on the コントロール不良 list (R06) starts treatment of the class
    /// in one of the 6 months after the index month (default 0.25).
    pub start_treatment: f64,
    /// 低栄養: weight at every later checkup is higher (default 0.3).
    pub weight_gain: f64,
    /// 低栄養: least gain, kg (default 1.0).
    pub weight_gain_min_kg: f64,
    /// 低栄養: largest gain, kg (default 2.0).
    pub weight_gain_max_kg: f64,
    /// 口腔: a dental claim in one of the 6 months after the index month (default 0.3).
    pub dental_claim: f64,
    /// 身体的フレイル: Q7 (歩く速度) = yes turns to no at the next questionnaire
    /// (default 0.2).
    pub walking: f64,
    /// 健康状態不明者: a checkup or a clinic visit in one of the 12 months after the index
    /// month (default 0.3).
    pub health_contact: f64,
    /// Every programme: a new certification application falling within 12 months of the
    /// index date goes ahead with this probability, else waits until after those 12 months
    /// (default 0.9: the 12-month hazard × 0.9).
    pub certification_factor: f64,
}

impl Default for SupportEffects {
    fn default() -> Self {
        Self {
            deprescribe: 0.5,
            deprescribe_max_drugs: 2,
            restart_treatment: 0.3,
            start_treatment: 0.25,
            weight_gain: 0.3,
            weight_gain_min_kg: 1.0,
            weight_gain_max_kg: 2.0,
            dental_claim: 0.3,
            walking: 0.2,
            health_contact: 0.3,
            certification_factor: 0.9,
        }
    }
}

impl SupportConfig {
    /// Checks that probabilities lie in 0 … 1 and ranges are ordered.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key.
    pub fn check(&self) -> Result<(), ConfigError> {
        let e = &self.effects;
        let r = &self.runs;
        let probabilities = [
            ("support.reach_min", self.reach_min),
            ("support.reach_max", self.reach_max),
            ("support.reached", self.reached),
            ("support.rule_id_recorded", self.rule_id_recorded),
            ("support.outside_lists", self.outside_lists),
            ("support.runs.undernutrition", r.undernutrition),
            ("support.runs.oral", r.oral),
            ("support.runs.medication", r.medication),
            ("support.runs.physical_frailty", r.physical_frailty),
            ("support.runs.disease_prevention", r.disease_prevention),
            ("support.runs.health_unknown", r.health_unknown),
            ("support.effects.deprescribe", e.deprescribe),
            ("support.effects.restart_treatment", e.restart_treatment),
            ("support.effects.start_treatment", e.start_treatment),
            ("support.effects.weight_gain", e.weight_gain),
            ("support.effects.dental_claim", e.dental_claim),
            ("support.effects.walking", e.walking),
            ("support.effects.health_contact", e.health_contact),
            (
                "support.effects.certification_factor",
                e.certification_factor,
            ),
        ];
        for (key, v) in probabilities {
            if !(0.0..=1.0).contains(&v) {
                return Err(ConfigError::Invalid(format!(
                    "{key} = {v} (expected 0 … 1)"
                )));
            }
        }
        if self.reach_min > self.reach_max {
            return Err(ConfigError::Invalid(format!(
                "support.reach_min = {} is above support.reach_max = {}",
                self.reach_min, self.reach_max
            )));
        }
        if !(1..=10).contains(&e.deprescribe_max_drugs) {
            return Err(ConfigError::Invalid(format!(
                "support.effects.deprescribe_max_drugs = {} (expected 1 … 10)",
                e.deprescribe_max_drugs
            )));
        }
        if !(0.0..=10.0).contains(&e.weight_gain_min_kg)
            || !(0.0..=10.0).contains(&e.weight_gain_max_kg)
            || e.weight_gain_min_kg > e.weight_gain_max_kg
        {
            return Err(ConfigError::Invalid(format!(
                "support.effects.weight_gain_min_kg = {}, weight_gain_max_kg = {} (expected 0 ≤ min ≤ max ≤ 10)",
                e.weight_gain_min_kg, e.weight_gain_max_kg
            )));
        }
        Ok(())
    }
}

/// Error in a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The TOML did not parse (message has line, column and key).
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: String,
        /// Parser message.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl SynthConfig {
    /// Reads a TOML configuration file.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] with file, line and key; [`ConfigError::Invalid`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let c: SynthConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        c.check()?;
        Ok(c)
    }

    /// Checks ranges: at least one person, 1–10 fiscal years between 2010 and 2040, a
    /// known prefecture, and the `[support]` section ([`SupportConfig::check`]).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the field.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.persons == 0 || self.persons > 50_000_000 {
            return Err(ConfigError::Invalid(format!(
                "persons = {} (expected 1 … 50,000,000)",
                self.persons
            )));
        }
        if !(2010..=2040).contains(&self.first_fy)
            || self.last_fy < self.first_fy
            || self.last_fy - self.first_fy > 9
        {
            return Err(ConfigError::Invalid(format!(
                "first_fy = {}, last_fy = {} (expected 2010 ≤ first_fy ≤ last_fy ≤ first_fy + 9)",
                self.first_fy, self.last_fy
            )));
        }
        if ittai_dataset::reference::find_prefecture(&self.prefecture).is_none() {
            return Err(ConfigError::Invalid(format!(
                "prefecture = {:?} is not a prefecture name or number",
                self.prefecture
            )));
        }
        self.support.check()
    }

    /// The fiscal years generated.
    pub fn fiscal_years(&self) -> Vec<FiscalYear> {
        (self.first_fy..=self.last_fy).map(FiscalYear).collect()
    }

    /// As TOML text (written next to the generated data).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_section_is_optional_and_partial() {
        let base =
            "seed = 1\npersons = 10\nprefecture = \"鳥取県\"\nfirst_fy = 2021\nlast_fy = 2024\n";
        let c: SynthConfig = toml::from_str(base).unwrap();
        assert_eq!(c.support, SupportConfig::default());
        let c: SynthConfig = toml::from_str(&format!(
            "{base}[support]\nreach_max = 0.9\n[support.runs]\noral = 1.0\n[support.effects]\nwalking = 0.5\n"
        ))
        .unwrap();
        assert_eq!(c.support.reach_max, 0.9);
        assert_eq!(c.support.reach_min, 0.2);
        assert_eq!(c.support.runs.get(Programme::Oral), 1.0);
        assert_eq!(c.support.runs.get(Programme::Medication), 0.6);
        assert_eq!(c.support.effects.walking, 0.5);
        assert_eq!(c.support.effects.certification_factor, 0.9);
        c.check().unwrap();
        // What `synth.toml` holds reads back the same.
        let back: SynthConfig = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
        // Unknown keys and out-of-range values are errors that name the key.
        let err = toml::from_str::<SynthConfig>(&format!("{base}[support]\nreach = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("reach"), "{err}");
        let mut bad = c.clone();
        bad.support.effects.dental_claim = 1.5;
        let err = bad.check().unwrap_err().to_string();
        assert!(err.contains("support.effects.dental_claim"), "{err}");
    }
}
