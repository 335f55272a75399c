//! Setting up a command over a dataset, in one place: rules and classes loaded (a bad rule
//! file fails before any heavy work), the dataset validated or its stamp reused and staged
//! when needed, and the tables opened with the masters of one [`MasterChoice`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use ittai_dataset::masters::{MasterChoice, MasterError};
use ittai_dataset::{PrepareError, PrepareStage, Prepared};
use ittai_model::FiscalYear;
use ittai_model::classes::{
    DiseaseClass, DrugClass, default_disease_classes, default_drug_classes,
};
use polars::prelude::PolarsError;

use crate::rules::{LoadOptions, Rule, RuleError, load_rules};
use crate::{Frame, RunSpec, Sources};

/// What a command runs on.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Dataset directory (nine tables, Parquet or CSV).
    pub data: PathBuf,
    /// Output directory (`rejects.csv` and a staged copy go there).
    pub out: PathBuf,
    /// Which rules, from where, with which parameter overrides.
    pub rules: LoadOptions,
    /// Validate even when an earlier clean validation of the same bytes exists, and link
    /// the claim lines to their claims again instead of reading the cached links.
    pub revalidate: bool,
    /// The day of the run: dates after it are impossible in the input.
    pub as_of: NaiveDate,
    /// Masters that resolve drug and disease codes.
    pub masters: MasterChoice,
}

/// A dataset ready for the engine, with the rules and classes in force.
#[derive(Debug)]
pub struct Job {
    /// The rules to apply, in id order.
    pub rules: Vec<Rule>,
    /// Drug classes in force (`queries/classes/drugs.toml`).
    pub drug_classes: BTreeMap<String, DrugClass>,
    /// Disease classes in force (`queries/classes/diseases.toml`).
    pub disease_classes: BTreeMap<String, DiseaseClass>,
    /// The validated (or staged) dataset and its validation report.
    pub prepared: Prepared,
    /// The tables as lazy frames, codes resolved from the masters.
    pub sources: Sources,
}

/// Why a job cannot start.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// A rule file is invalid (file, line, key).
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The dataset cannot be used.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// A master file cannot be read.
    #[error(transparent)]
    Masters(#[from] MasterError),
    /// Opening the tables failed.
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

impl Job {
    /// Loads the rules, prepares the dataset and opens its tables. `progress` is told what
    /// validation is doing.
    ///
    /// # Errors
    /// [`JobError`]: an invalid rule file, an unusable dataset, an unreadable master.
    pub fn open(
        opts: &JobOptions,
        progress: &mut dyn FnMut(PrepareStage, &str, u64),
    ) -> Result<Job, JobError> {
        let drug_classes = default_drug_classes();
        let disease_classes = default_disease_classes();
        let rules = load_rules(&opts.rules, &drug_classes, &disease_classes)?;
        let prepared =
            ittai_dataset::prepare(&opts.data, &opts.out, opts.as_of, opts.revalidate, progress)?;
        let (drugs, diseases) = opts.masters.load()?;
        let mut sources = Sources::open(&prepared.dir, &drugs, &diseases)?;
        if !prepared.staged {
            // The files are the ones hashed: their claim rows can be kept in the cache,
            // where this validation may just have written them (then they are not built
            // again, even with `revalidate`).
            let rebuild = opts.revalidate && prepared.report.claim_rows.is_none();
            sources = sources.with_input_hashes(&prepared.hashes, rebuild);
        }
        Ok(Job {
            rules,
            drug_classes,
            disease_classes,
            prepared,
            sources,
        })
    }

    /// The FY of the last medical claim, the default extraction FY.
    pub fn latest_claim_fy(&self) -> Option<FiscalYear> {
        self.prepared
            .report
            .tables
            .iter()
            .find(|t| t.table == "medical_claims")
            .and_then(|t| t.date_max)
            .map(FiscalYear::of)
    }

    /// What [`crate::run`] needs to apply the job's rules for `frame`.
    pub fn spec(&self, frame: Frame) -> RunSpec<'_> {
        RunSpec {
            frame,
            rules: &self.rules,
            drug_classes: &self.drug_classes,
            disease_classes: &self.disease_classes,
        }
    }
}
