//! The fixed world every person is simulated in: period, catalog, municipalities and the
//! institutions (clinics, pharmacies, dentists, hospitals, care providers) of the union,
//! and the programmes each municipality runs. Built once from the configuration, before
//! any person.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_model::FiscalYear;
use ittai_model::check_digit::weighted_21_check_digit;
use ittai_model::classes::{default_disease_classes, default_drug_classes};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::{Catalog, CatalogError};
use crate::config::{SupportConfig, SynthConfig};
use crate::demography::{
    AgeSampler, UnionMunicipality, entry_shares, splitmix, union_municipalities,
};
use crate::register::RegisterIds;
use crate::support::{
    DRUG_DIABETES, DRUG_HYPERTENSION, DRUG_HYPNOTIC, MunicipalitySupport, municipality_plans,
};

/// A clinic (診療所, 医科) and the pharmacy its prescriptions usually go to.
#[derive(Debug, Clone)]
pub struct Clinic {
    /// 10-digit 医療機関コード (点数表 1).
    pub code: String,
    /// Dispenses in house (院内処方).
    pub in_house: bool,
    /// The nearby pharmacy (門前薬局), 10 digits (点数表 4).
    pub pharmacy: String,
}

/// A hospital.
#[derive(Debug, Clone)]
pub struct Hospital {
    /// 10-digit 医療機関コード.
    pub code: String,
    /// Paid by DPC (包括評価).
    pub dpc: bool,
    /// Has long-term care beds (療養病床).
    pub long_term: bool,
}

/// Institutions of one municipality.
#[derive(Debug, Clone, Default)]
pub struct LocalInstitutions {
    /// Clinics.
    pub clinics: Vec<Clinic>,
    /// Dental clinics (点数表 3).
    pub dentists: Vec<String>,
    /// Care providers (事業所番号, 10 characters) for any service type.
    pub care_providers: Vec<String>,
    /// Home-nursing stations.
    pub nursing_stations: Vec<String>,
}

/// Everything shared by all persons.
#[derive(Debug)]
pub struct World {
    /// Seed of the configuration.
    pub seed: u64,
    /// First and last day of the period.
    pub period: (NaiveDate, NaiveDate),
    /// Resolved drugs and diagnoses.
    pub catalog: Catalog,
    /// Municipalities with weights.
    pub municipalities: Vec<UnionMunicipality>,
    /// Institutions by municipality (same index).
    pub local: Vec<LocalInstitutions>,
    /// Hospitals of the prefecture.
    pub hospitals: Vec<Hospital>,
    /// Census sampler.
    pub ages: AgeSampler,
    /// Entry shares (base, turning 75, moving in).
    pub shares: [f64; 3],
    /// First and last fiscal year of the period.
    pub fiscal_years: (i32, i32),
    /// Support records and their effects (the configuration's `[support]`).
    pub support: SupportConfig,
    /// The programmes of each municipality (same index as `municipalities`).
    pub support_plans: Vec<MunicipalitySupport>,
    /// YJ code of every catalog product → its drug-class bits (`support::DRUG_*`), from
    /// the default drug classes (docs/reference/dataset.md#drug-classes).
    pub drug_flags: HashMap<String, u8>,
    /// 傷病名コード of the catalog in the classes heart_failure, ischaemic_heart and
    /// cerebrovascular (the diagnoses of R08).
    pub heart_codes: HashSet<String>,
    /// The person ids of the synthetic register, when it is written
    /// ([`SynthConfig::register`]); `None`: the generator's own ids.
    pub register: Option<RegisterIds>,
    /// The union's prefecture name (鳥取県), for the addresses of the register.
    pub prefecture_name: String,
}

fn institution_code(pref: u8, table: u8, area: usize, number: usize) -> String {
    let body = format!("{:02}{:04}", area % 100, number % 10_000);
    format!(
        "{pref:02}{table}{body}{}",
        weighted_21_check_digit(&body).expect("digits")
    )
}

/// Error building the world.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// Catalog codes missing from a master.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
}

impl World {
    /// Builds the world of a configuration (deterministic in the seed).
    ///
    /// # Errors
    /// [`WorldError`] for an unknown prefecture or a catalog code missing from a master.
    pub fn build(
        cfg: &SynthConfig,
        drugs: &DrugMaster,
        diseases: &DiseaseMaster,
    ) -> Result<Self, WorldError> {
        let pref = ittai_dataset::reference::find_prefecture(&cfg.prefecture).ok_or_else(|| {
            WorldError::Config(format!("unknown prefecture {:?}", cfg.prefecture))
        })?;
        let catalog = Catalog::build(drugs, diseases)?;
        let municipalities = union_municipalities(pref.code);
        // Every person's id under the sample key, with the union's 保険者番号 (that of its
        // first municipality: for a 後期 insurer only 39 and the prefecture count, D51).
        let register = if cfg.register {
            municipalities
                .first()
                .map(|m| RegisterIds::sample(&m.insurer))
        } else {
            None
        };
        let fiscal_years = cfg.fiscal_years();
        let period = (
            fiscal_years[0].start(),
            fiscal_years[fiscal_years.len() - 1].end(),
        );
        let ages = AgeSampler::census_2020();
        let shares = entry_shares(&ages, fiscal_years.len());
        let mut rng = ChaCha8Rng::seed_from_u64(splitmix(cfg.seed ^ 0x1A57_1707));
        let total_w: f64 = municipalities.iter().map(|m| m.weight).sum();
        let n = cfg.persons as f64;
        let mut local = Vec::new();
        let (mut nc, mut nd, mut np, mut ns) = (0usize, 0usize, 0usize, 0usize);
        for (i, m) in municipalities.iter().enumerate() {
            let share = n * m.weight / total_w;
            let clinics = ((share / 220.0).ceil() as usize).max(2);
            let mut li = LocalInstitutions::default();
            for _ in 0..clinics {
                nc += 1;
                np += 1;
                li.clinics.push(Clinic {
                    code: institution_code(pref.code, 1, i, nc),
                    in_house: rng.random::<f64>() < crate::calibration::IN_HOUSE_DISPENSING,
                    pharmacy: institution_code(pref.code, 4, i, np),
                });
            }
            for _ in 0..((share / 500.0).ceil() as usize).max(1) {
                nd += 1;
                li.dentists.push(institution_code(pref.code, 3, i, nd));
            }
            for _ in 0..((share / 300.0).ceil() as usize).max(2) {
                ns += 1;
                li.care_providers.push(format!(
                    "{:02}7{:03}{:03}{}",
                    pref.code,
                    i % 1000,
                    ns % 1000,
                    ns % 10
                ));
            }
            li.nursing_stations
                .push(institution_code(pref.code, 6, i, ns));
            local.push(li);
        }
        let n_hosp = ((n / 2500.0).ceil() as usize).max(4);
        let hospitals = (0..n_hosp)
            .map(|k| Hospital {
                code: institution_code(pref.code, 1, 90 + k % 10, 5000 + k),
                dpc: k % 3 != 2,
                long_term: k % 3 == 2,
            })
            .collect();
        let support_plans = municipality_plans(&cfg.support, cfg.seed, municipalities.len());
        let drug_classes = default_drug_classes();
        // Every class option at its default (エチゾラム not a hypnotic, as R04 by default).
        let defaults: BTreeMap<String, bool> = BTreeMap::new();
        let mut drug_flags = HashMap::new();
        for product in catalog.products.iter().flatten().flatten() {
            let mut bits = 0;
            for (class, bit) in [
                ("hypertension", DRUG_HYPERTENSION),
                ("diabetes", DRUG_DIABETES),
                ("hypnotic", DRUG_HYPNOTIC),
            ] {
                if drug_classes
                    .get(class)
                    .is_some_and(|c| c.matches(&product.yj, &defaults))
                {
                    bits |= bit;
                }
            }
            drug_flags.insert(product.yj.clone(), bits);
        }
        let disease_classes = default_disease_classes();
        let heart_codes = catalog
            .icd10
            .iter()
            .filter(|(_, icd)| {
                ["heart_failure", "ischaemic_heart", "cerebrovascular"]
                    .iter()
                    .any(|k| disease_classes.get(*k).is_some_and(|c| c.matches(icd)))
            })
            .map(|(code, _)| code.clone())
            .collect();
        Ok(Self {
            seed: cfg.seed,
            period,
            catalog,
            municipalities,
            local,
            hospitals,
            ages,
            shares,
            fiscal_years: (FiscalYear::of(period.0).0, FiscalYear::of(period.1).0),
            support: cfg.support.clone(),
            support_plans,
            drug_flags,
            heart_codes,
            register,
            prefecture_name: pref.name.clone(),
        })
    }

    /// The 10-digit code of the `k`-th hospital with the given kind (DPC or long-term).
    pub fn hospital(&self, rng: &mut impl Rng, dpc: bool, long_term: bool) -> &Hospital {
        let pool: Vec<&Hospital> = self
            .hospitals
            .iter()
            .filter(|h| h.dpc == dpc && h.long_term == long_term)
            .collect();
        if pool.is_empty() {
            return &self.hospitals[rng.random_range(0..self.hospitals.len())];
        }
        pool[rng.random_range(0..pool.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn institution_codes_have_ten_digits() {
        let c = institution_code(31, 1, 3, 17);
        assert_eq!(c.len(), 10);
        assert!(c.starts_with("311"));
    }
}
