//! Deterministic synthetic population of a 後期高齢者医療広域連合: the nine tables of the
//! canonical dataset for several fiscal years, calibrated to the published facts of
//! docs/reference/calibration.md, from a seed and a small configuration.
//!
//! Flow: [`SynthConfig`] → `world::World` (catalog of real drug and disease codes,
//! municipalities, institutions) → for each person index, `person::simulate` (their own
//! random stream) → `tables::Tables` per chunk → Parquet files written in person order.
//! Same seed and configuration give byte-identical files, whatever the thread count. The
//! calibration targets and how each is met are in `docs/CALIBRATION.md`.
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
mod tables;
mod world;

use std::path::{Path, PathBuf};
use std::time::Instant;

use ittai_dataset::atomic::{Visibility, write_atomic};
use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use ittai_dataset::{ParquetTableWriter, TABLES};
use rayon::prelude::*;

pub use config::{ConfigError, SynthConfig};
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
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Generates the population of `cfg` into `out` (nine `<table>.parquet` files and
/// `synth.toml`). `progress(done, total)` is called after each round of chunks.
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
        }
        next = end;
        progress((next * CHUNK_PERSONS).min(cfg.persons), cfg.persons);
    }
    let mut rows = Vec::new();
    for (spec, writer) in TABLES.iter().zip(writers) {
        rows.push((spec.name.to_string(), writer.finish().map_err(w)?));
    }
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
        seconds: started.elapsed().as_secs_f64(),
    })
}
