//! Configuration of a synthetic population: seed, size, union (prefecture) and period.

use std::path::Path;

use ittai_model::FiscalYear;
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
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            persons: 3000,
            prefecture: "鳥取県".into(),
            first_fy: 2021,
            last_fy: 2024,
        }
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
    /// known prefecture.
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
        Ok(())
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
