//! The claim row of each claim line: the on-disk form shared by the validator, which
//! writes it as a by-product of its claim look-ups, and the engine, which reads it (and
//! builds it itself when no validation wrote it).
//!
//! - **What is stored**: for each line file ([`LINE_TABLES`]), one little-endian `u32` per
//!   file row, in file order: the 0-based file row in `medical_claims` of the first claim
//!   whose `claim_id` equals the line's, or [`NO_CLAIM`] for a line with a null
//!   `claim_id` or a `claim_id` absent from `medical_claims`.
//! - **Where it is kept**: `<cache>/claim_rows/<key>/<table>.claim_rows` ([`cache_folder`]),
//!   where `<key>` is the SHA-256 of [`REVISION`] and of the SHA-256s of the three claim
//!   files, so a changed file never meets an old map.
//!
//! The validator finds each line's claim anyway (a line must match a claim of the same
//! person and service month, docs/VALIDATION.md), so on a first run it writes the rows it
//! found instead of leaving the engine to read every `claim_id` again (docs/PERFORMANCE.md,
//! "Claim rows from the validation"). It publishes them only when the whole dataset is
//! clean Parquet read in place: then the file rows it numbered are the rows the engine
//! reads. The files hold row numbers, not identifiers, and are written owner-readable.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::stamp::InputHashes;

/// The row of a line whose claim is not in `medical_claims`.
pub const NO_CLAIM: u32 = u32::MAX;

/// Bumped whenever what is stored changes; part of the cache key.
pub const REVISION: u32 = 1;

/// The line files that carry a `claim_id`, in the order the validator reads them.
pub const LINE_TABLES: [&str; 2] = ["claim_diagnoses", "claim_drugs"];

/// The file name of the claim rows of line table `table`.
pub fn file_name(table: &str) -> String {
    format!("{table}.claim_rows")
}

/// The cache key of the claim rows of files with these SHA-256s (`medical_claims`,
/// `claim_diagnoses`, `claim_drugs`), hexadecimal.
pub fn cache_key(shas: [&str; 3]) -> String {
    crate::sha256_bytes(format!("claim_rows {REVISION}\n{}", shas.join("\n")).as_bytes())
}

/// The folder of the claim rows of the files hashed in `hashes`, in the user's cache
/// ([`crate::cache_dir`]); `None` when one of the three claim files is not among them.
pub fn cache_folder(hashes: &InputHashes) -> Option<PathBuf> {
    let sha = |table: &str| {
        hashes
            .files
            .iter()
            .find(|(t, ..)| t == table)
            .map(|(_, _, sha, _)| sha.as_str())
    };
    Some(crate::cache_dir().join("claim_rows").join(cache_key([
        sha("medical_claims")?,
        sha("claim_diagnoses")?,
        sha("claim_drugs")?,
    ])))
}

/// Writes the claim rows of the line tables during a validation: each table into a
/// temporary file in the destination folder, renamed into place by [`Writer::publish`].
/// Dropped without publishing, it leaves nothing behind.
pub(crate) struct Writer {
    dest: PathBuf,
    /// Per line table: the temporary file, its buffered writer, the rows written.
    files: Vec<(tempfile::NamedTempFile, BufWriter<std::fs::File>, u64)>,
}

impl Writer {
    /// A writer into folder `dest` (created if need be).
    ///
    /// # Errors
    /// The folder or a temporary file in it cannot be created.
    pub(crate) fn new(dest: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dest)?;
        let mut files = Vec::new();
        for _ in LINE_TABLES {
            let tmp = tempfile::NamedTempFile::new_in(dest)?;
            let w = BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?);
            files.push((tmp, w, 0));
        }
        Ok(Self {
            dest: dest.to_path_buf(),
            files,
        })
    }

    /// Appends the claim rows of the next rows of line table `table` (one of
    /// [`LINE_TABLES`]; other tables are ignored).
    ///
    /// # Errors
    /// Writing the temporary file failed.
    pub(crate) fn push(&mut self, table: &str, rows: &[u32]) -> std::io::Result<()> {
        let Some(i) = LINE_TABLES.iter().position(|t| *t == table) else {
            return Ok(());
        };
        let (_, w, n) = &mut self.files[i];
        for r in rows {
            w.write_all(&r.to_le_bytes())?;
        }
        *n += rows.len() as u64;
        Ok(())
    }

    /// Renames the files into place, provided each table got `rows[i]` rows (the rows of
    /// its file); returns the folder.
    ///
    /// # Errors
    /// A table got another number of rows, or flushing, syncing or renaming failed.
    pub(crate) fn publish(self, rows: [u64; 2]) -> std::io::Result<PathBuf> {
        for ((_, _, n), (want, table)) in self.files.iter().zip(rows.iter().zip(LINE_TABLES)) {
            if n != want {
                return Err(std::io::Error::other(format!(
                    "{table}: claim rows of {n} lines written, the file has {want}"
                )));
            }
        }
        for ((tmp, w, _), table) in self.files.into_iter().zip(LINE_TABLES) {
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            tmp.persist(self.dest.join(file_name(table)))
                .map_err(|e| e.error)?;
        }
        Ok(self.dest)
    }
}
