//! The sample dataset: `./sample_data` when run from the project folder, otherwise the
//! copy compiled into the binary (extracted once to a cache folder), so that `ittai run`
//! works with no arguments anywhere.

use std::path::{Path, PathBuf};

macro_rules! embed {
    ($($t:literal),*) => {
        &[$(($t, include_bytes!(concat!("../../sample_data/", $t, ".parquet")) as &[u8])),*]
    };
}

/// The ten tables of `sample_data/` (the nine required ones and the support records),
/// compiled in.
const TABLES: &[(&str, &[u8])] = embed!(
    "persons",
    "checkups",
    "dental_checkups",
    "questionnaires",
    "medical_claims",
    "claim_diagnoses",
    "claim_drugs",
    "care_claims",
    "certifications",
    "interventions"
);

/// `./sample_data` if it holds the tables, else the embedded copy extracted to
/// `$XDG_CACHE_HOME/ittai/sample-<version>` (or the system temp folder).
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    let local = Path::new("sample_data");
    if local.join("persons.parquet").is_file() {
        return Ok(local.to_path_buf());
    }
    let dir = ittai_dataset::cache_dir().join(format!("sample-{}", env!("CARGO_PKG_VERSION")));
    for (name, bytes) in TABLES {
        let p = dir.join(format!("{name}.parquet"));
        if std::fs::metadata(&p)
            .map(|m| m.len() as usize != bytes.len())
            .unwrap_or(true)
        {
            ittai_dataset::atomic::write_atomic(
                &p,
                bytes,
                ittai_dataset::atomic::Visibility::Shared,
            )?;
        }
    }
    eprintln!("using the sample data built into ittai ({})", dir.display());
    Ok(dir)
}
