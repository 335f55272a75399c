//! Deterministic synthetic population of a 後期高齢者医療広域連合: the ten tables of the
//! canonical dataset for several fiscal years, calibrated to the published facts of
//! docs/reference/calibration.md, from a seed and a small configuration. The tenth table,
//! `interventions`, holds synthetic support records (支援記録) of the integrated programmes,
//! whose modest, configurable effects show in the later data of the persons supported
//! ([`SupportConfig`]).
//!
//! Flow: [`SynthConfig`] → `world::World` (catalog of real drug and disease codes,
//! municipalities, institutions, the programmes each municipality runs) → for each person
//! index, `person::simulate` (their own random streams) → `tables::Tables` per chunk →
//! Parquet files written in person order.
//! Same seed and configuration give byte-identical files, whatever the thread count. The
//! calibration targets and how each is met are in `docs/CALIBRATION.md`.
//!
//! With [`SynthConfig::register`] (`ittai synth` sets it), a synthetic register with
//! made-up names is written beside the tables (`register/台帳.csv`, `register/sample.key`,
//! [`register`]) and the person ids are those its rows give under the sample key, so that
//! re-identification (`ittai run --register`) can be tried without real names.
//!
//! # Example
//!
//! Generate a small union and read its insured persons back:
//!
//! ```
//! use ittai_synth::{SynthConfig, generate};
//!
//! let dir = tempfile::tempdir()?;
//! let cfg = SynthConfig { persons: 200, seed: 7, ..SynthConfig::default() };
//! let summary = generate(&cfg, dir.path(), &mut |_done, _total| {})?;
//! assert_eq!(summary.persons, 200);
//! let (persons, _) = ittai_dataset::read_rows::<ittai_dataset::Person>(dir.path())?;
//! assert!(persons.len() >= 200); // one row per coverage spell
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod calibration;
mod catalog;
mod config;
mod demography;
mod person;
pub mod register;
mod support;
mod tables;
mod world;

use std::path::{Path, PathBuf};
use std::time::Instant;

use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_dataset::{ParquetTableWriter, TABLES};
use rayon::prelude::*;

pub use config::{ConfigError, ProgrammeShares, SupportConfig, SupportEffects, SynthConfig};
pub use world::WorldError;

/// Persons simulated per chunk (one chunk is one unit of parallel work).
pub const CHUNK_PERSONS: u64 = 1_000;

/// Error generating a population.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The catalog or world could not be built.
    #[error(transparent)]
    World(#[from] world::WorldError),
    /// Writing failed.
    #[error("{0}")]
    Write(String),
}

/// What was generated.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GenerateSummary {
    /// Output directory.
    pub dir: PathBuf,
    /// Distinct persons.
    pub persons: u64,
    /// Rows per table, in contract order.
    pub rows: Vec<(String, u64)>,
    /// Total bytes of the Parquet files.
    pub bytes: u64,
    /// Rows of the synthetic register (`register/台帳.csv`), when it was written.
    pub register_rows: Option<u64>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Generates the population of `cfg` into `out` (ten `<table>.parquet` files, the last
/// being the support records `interventions`, and `synth.toml`; with
/// [`SynthConfig::register`] also `register/台帳.csv`, `register/sample.key` and
/// `register/README.txt`, owner-only, see [`register`]). `progress(done, total)` is called
/// after each round of chunks.
///
/// # Errors
/// [`SynthError`] for a bad configuration, a catalog code missing from the vendored
/// masters, or a write failure.
pub fn generate(
    cfg: &SynthConfig,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<GenerateSummary, SynthError> {
    let started = Instant::now();
    cfg.check()?;
    let world = world::World::build(cfg, &DrugMaster::embedded(), &DiseaseMaster::embedded())?;
    let w = |e: ittai_dataset::WriteError| SynthError::Write(e.to_string());
    let mut writers = TABLES
        .iter()
        .map(|spec| ParquetTableWriter::for_table(out, spec, Visibility::Shared))
        .collect::<Result<Vec<_>, _>>()
        .map_err(w)?;
    let io = |e: std::io::Error| SynthError::Write(e.to_string());
    let mut names = match &world.register {
        Some(_) => Some(register::RegisterWriter::create(out, &world.prefecture_name).map_err(io)?),
        None => None,
    };
    let chunks = cfg.persons.div_ceil(CHUNK_PERSONS);
    let round = (rayon::current_num_threads() as u64 * 2).max(2);
    let mut next = 0u64;
    while next < chunks {
        let end = (next + round).min(chunks);
        let mut done: Vec<tables::Tables> = (next..end)
            .into_par_iter()
            .map(|c| {
                let mut t = tables::Tables::default();
                let from = c * CHUNK_PERSONS;
                let to = ((c + 1) * CHUNK_PERSONS).min(cfg.persons);
                for i in from..to {
                    person::simulate(&world, i, &mut t);
                }
                t
            })
            .collect();
        for t in &mut done {
            for (writer, batch) in writers.iter_mut().zip(t.in_order()) {
                writer.write(&batch.finish()).map_err(w)?;
            }
            if let Some(r) = names.as_mut() {
                r.write(&world, &t.register).map_err(io)?;
            }
        }
        next = end;
        progress((next * CHUNK_PERSONS).min(cfg.persons), cfg.persons);
    }
    let mut rows = Vec::new();
    for (spec, writer) in TABLES.iter().zip(writers) {
        rows.push((spec.name.to_string(), writer.finish().map_err(w)?));
    }
    let register_rows = match names {
        Some(r) => Some(r.finish().map_err(io)?.0),
        None => None,
    };
    let header = "# Configuration of this synthetic population (ittai synth --config this-file).\n";
    write_atomic(
        &out.join("synth.toml"),
        format!("{header}{}", cfg.to_toml()).as_bytes(),
        Visibility::Shared,
    )
    .map_err(|e| SynthError::Write(e.to_string()))?;
    let bytes = TABLES
        .iter()
        .filter_map(|s| std::fs::metadata(out.join(format!("{}.parquet", s.name))).ok())
        .map(|m| m.len())
        .sum();
    Ok(GenerateSummary {
        dir: out.to_path_buf(),
        persons: cfg.persons,
        rows,
        bytes,
        register_rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use ittai_dataset::{ClaimDiagnosis, Intervention, Person, Questionnaire, read_rows};
    use ittai_model::support::{Approach, Programme, Referral, Staff};
    use ittai_model::{FiscalYear, PersonId};

    use super::*;

    fn small(persons: u64, support: bool) -> (tempfile::TempDir, SynthConfig) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = SynthConfig {
            persons,
            seed: 5,
            ..SynthConfig::default()
        };
        cfg.support.enabled = support;
        generate(&cfg, dir.path(), &mut |_, _| {}).expect("generates");
        (dir, cfg)
    }

    fn rows<R: ittai_dataset::Row>(dir: &Path) -> Vec<R> {
        read_rows::<R>(dir).expect("reads").0
    }

    #[test]
    fn support_records_are_valid_and_in_the_later_fiscal_years() {
        let (dir, cfg) = small(2_000, true);
        let persons: HashSet<PersonId> = rows::<Person>(dir.path())
            .into_iter()
            .map(|p| p.person_id)
            .collect();
        let records: Vec<Intervention> = rows(dir.path());
        assert!(!records.is_empty(), "no support records");
        let first = FiscalYear(cfg.first_fy + 1).start();
        let last = FiscalYear(cfg.last_fy).end();
        for r in &records {
            assert!(
                persons.contains(&r.person_id),
                "unknown person {:?}",
                r.person_id
            );
            assert!(
                (first..=last).contains(&r.contact_date),
                "contact on {} outside FY{}–FY{}",
                r.contact_date,
                cfg.first_fy + 1,
                cfg.last_fy
            );
            let p = Programme::parse(&r.programme).expect("programme code");
            assert_eq!(p.code(), r.programme);
            let a = Approach::parse(&r.approach).expect("approach code");
            assert_eq!(a.code(), r.approach);
            if let Some(rule) = &r.rule_id {
                assert_eq!(Programme::for_rule(rule), Some(p), "{rule} on a {p} record");
            }
            if let Some(to) = &r.referred_to {
                assert_eq!(Referral::parse(to).map(Referral::code), Some(to.as_str()));
            }
            if let Some(s) = &r.staff {
                assert_eq!(Staff::parse(s).map(Staff::code), Some(s.as_str()));
            }
            assert_eq!(r.needs_referral.is_some(), r.reached);
        }
        // Most records name their list; reached contacts are the majority; more than one
        // programme runs.
        let named = records.iter().filter(|r| r.rule_id.is_some()).count();
        let reached = records.iter().filter(|r| r.reached).count();
        assert!(named * 2 > records.len(), "{named} of {}", records.len());
        assert!(
            reached * 2 > records.len(),
            "{reached} of {}",
            records.len()
        );
        let programmes: HashSet<&str> = records.iter().map(|r| r.programme.as_str()).collect();
        assert!(programmes.len() >= 3, "{programmes:?}");
    }

    #[test]
    fn every_claim_has_at_most_one_main_diagnosis() {
        let (dir, _) = small(300, true);
        let dx: Vec<ClaimDiagnosis> = rows(dir.path());
        let mut main: HashMap<&str, usize> = HashMap::new();
        for d in &dx {
            let m = d.main_diagnosis.expect("main_diagnosis is always recorded");
            assert!(
                !(m && d.suspected),
                "a suspected diagnosis is never the main one"
            );
            *main.entry(d.claim_id.as_str()).or_default() += usize::from(m);
        }
        assert!(main.values().all(|&n| n <= 1));
        assert!(main.values().filter(|&&n| n == 1).count() * 10 > main.len() * 9);
    }

    /// The synthetic register: one row per person, whose numbers give the person's id
    /// under the sample key (as `ittai run --register` recomputes it), in the municipality
    /// of the latest spell; owner-only files.
    #[test]
    fn the_register_gives_every_person_their_id_and_latest_municipality() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = SynthConfig {
            persons: 600,
            seed: 5,
            register: true,
            ..SynthConfig::default()
        };
        let summary = generate(&cfg, dir.path(), &mut |_, _| {}).expect("generates");
        assert_eq!(summary.register_rows, Some(600));
        let persons: Vec<Person> = rows(dir.path());
        let mut latest: HashMap<PersonId, &Person> = HashMap::new();
        for p in &persons {
            let e = latest.entry(p.person_id.clone()).or_insert(p);
            if p.coverage_start > e.coverage_start {
                *e = p;
            }
        }
        assert!(
            persons.len() > latest.len(),
            "some persons move: several spells"
        );
        let reg = dir.path().join(register::REGISTER_DIR);
        let text = std::fs::read_to_string(reg.join(register::REGISTER_FILE)).expect("read");
        let text = text.strip_prefix('\u{feff}').expect("a BOM");
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(header, register::REGISTER_HEADER);
        let key = register::sample_key();
        let mut seen = HashSet::new();
        for rec in rdr.records() {
            let r = rec.expect("row");
            let id = key.person_id(&r[0], "", &r[1]);
            let p = latest
                .get(&id)
                .unwrap_or_else(|| panic!("register row {} is no person", &r[1]));
            assert_eq!(
                (&r[0], &r[6]),
                (p.insurer_number.as_str(), p.municipality_code.as_str())
            );
            assert!(r[2].contains('\u{3000}') && r[3].contains('\u{3000}'));
            assert!(r[4].starts_with("鳥取県") && r[5].starts_with("0000-00-"));
            seen.insert(id);
        }
        assert_eq!(seen.len(), latest.len());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&reg), 0o700);
            for f in [
                register::REGISTER_FILE,
                register::SAMPLE_KEY_FILE,
                "README.txt",
            ] {
                assert_eq!(mode(&reg.join(f)), 0o600, "{f}");
            }
        }
        // The key file is read as `--id-key-file` reads it.
        let from_file =
            ittai_ingest::IdKey::from_file(&reg.join(register::SAMPLE_KEY_FILE)).expect("key");
        assert_eq!(
            from_file.person_id("39312012", "", "1"),
            key.person_id("39312012", "", "1")
        );
    }

    /// The register changes the ids and nothing else.
    #[test]
    fn the_register_changes_only_the_ids() {
        let plain = tempfile::tempdir().expect("temp dir");
        let named = tempfile::tempdir().expect("temp dir");
        let cfg = SynthConfig {
            persons: 300,
            seed: 9,
            ..SynthConfig::default()
        };
        generate(&cfg, plain.path(), &mut |_, _| {}).expect("generates");
        let with = SynthConfig {
            register: true,
            ..cfg.clone()
        };
        generate(&with, named.path(), &mut |_, _| {}).expect("generates");
        assert!(!plain.path().join(register::REGISTER_DIR).exists());
        let insurer = demography::union_municipalities(31)[0].insurer.clone();
        let ids = register::RegisterIds::sample(&insurer);
        let to_register: HashMap<PersonId, PersonId> = (0..cfg.persons)
            .map(|i| (demography::person_id(cfg.seed, i), ids.person_id(i)))
            .collect();
        let a: Vec<Person> = rows::<Person>(plain.path())
            .into_iter()
            .map(|mut p| {
                p.person_id = to_register[&p.person_id].clone();
                p
            })
            .collect();
        let b: Vec<Person> = rows(named.path());
        assert!(!a.is_empty());
        assert!(a == b, "persons differ beyond their ids");
        let a: Vec<Questionnaire> = rows::<Questionnaire>(plain.path())
            .into_iter()
            .map(|mut q| {
                q.person_id = to_register[&q.person_id].clone();
                q
            })
            .collect();
        let b: Vec<Questionnaire> = rows(named.path());
        assert!(a == b, "questionnaires differ beyond their ids");
    }

    /// Support draws from a stream of its own: a person never reached by support has the
    /// same rows with support as without.
    #[test]
    fn persons_not_reached_are_unchanged_by_support() {
        let (with, _) = small(800, true);
        let (without, _) = small(800, false);
        assert!(rows::<Intervention>(without.path()).is_empty());
        let reached: HashSet<PersonId> = rows::<Intervention>(with.path())
            .into_iter()
            .filter(|r| r.reached)
            .map(|r| r.person_id)
            .collect();
        assert!(!reached.is_empty());
        let keep = |p: &PersonId| !reached.contains(p);
        let a: Vec<Questionnaire> = rows::<Questionnaire>(with.path())
            .into_iter()
            .filter(|q| keep(&q.person_id))
            .collect();
        let b: Vec<Questionnaire> = rows::<Questionnaire>(without.path())
            .into_iter()
            .filter(|q| keep(&q.person_id))
            .collect();
        assert!(!a.is_empty());
        assert!(a == b, "questionnaires of persons not reached differ");
        let a: Vec<ClaimDiagnosis> = rows::<ClaimDiagnosis>(with.path())
            .into_iter()
            .filter(|d| keep(&d.person_id))
            .collect();
        let b: Vec<ClaimDiagnosis> = rows::<ClaimDiagnosis>(without.path())
            .into_iter()
            .filter(|d| keep(&d.person_id))
            .collect();
        assert!(a == b, "diagnoses of persons not reached differ");
    }
}
