//! Atomic file output: write to a temporary file in the destination's directory, then
//! rename over the destination, so a failed run leaves earlier outputs intact (docs/reference/privacy.md).

use std::borrow::Cow;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// How the name of an [`AtomicFile`]'s temporary file begins: `.ittai-`, then random
/// characters, then [`TEMP_SUFFIX`] (`.ittai-a1B2c3.tmp`).
pub const TEMP_PREFIX: &str = ".ittai-";
/// How the name of an [`AtomicFile`]'s temporary file ends.
pub const TEMP_SUFFIX: &str = ".tmp";

/// True for a file name an [`AtomicFile`] gives its temporary file: [`TEMP_PREFIX`], at
/// least one character, [`TEMP_SUFFIX`].
pub fn is_temp_name(name: &str) -> bool {
    name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
        && name.starts_with(TEMP_PREFIX)
        && name.ends_with(TEMP_SUFFIX)
}

/// Removes the temporary files of [`AtomicFile`]s that were never committed nor dropped —
/// left by a run that was killed or lost power — from `dir` and its subfolders (symbolic
/// links are not followed). Returns the files removed. A missing `dir` is no error.
///
/// Call it only when no other process is writing into `dir`: it would remove that
/// process's files in progress too.
///
/// # Errors
/// I/O errors reading a folder or removing a file.
pub fn sweep_temp_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() && entry.file_name().to_str().is_some_and(is_temp_name) {
                let p = entry.path();
                match fs::remove_file(&p) {
                    Ok(()) => removed.push(p),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    removed.sort();
    Ok(removed)
}

/// Who may read a file we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Owner read/write only (0600): person-level data, target lists, rejects (docs/reference/privacy.md).
    Private,
    /// Readable by all (0644): aggregates with small counts suppressed, reports, manifests.
    Shared,
}

/// A file being written atomically. Nothing appears at the destination until
/// [`AtomicFile::commit`]; dropping it without committing removes the temporary file.
#[derive(Debug)]
pub struct AtomicFile {
    inner: BufWriter<NamedTempFile>,
    dest: PathBuf,
    visibility: Visibility,
}

impl AtomicFile {
    /// Starts writing `dest` (its directory is created if missing).
    ///
    /// # Errors
    /// I/O errors creating the directory or the temporary file.
    pub fn create(dest: &Path, visibility: Visibility) -> io::Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(&dir)?;
        Ok(Self {
            inner: BufWriter::with_capacity(1 << 20, tmp),
            dest: dest.to_path_buf(),
            visibility,
        })
    }

    /// Destination path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flushes, sets permissions and renames the file into place.
    ///
    /// # Errors
    /// I/O errors flushing, setting permissions or renaming.
    pub fn commit(self) -> io::Result<()> {
        let tmp = self.inner.into_inner().map_err(|e| e.into_error())?;
        tmp.as_file().sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = match self.visibility {
                Visibility::Private => 0o600,
                Visibility::Shared => 0o644,
            };
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
        }
        tmp.persist(&self.dest).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl io::Seek for AtomicFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Writes `bytes` to `dest` atomically.
///
/// # Errors
/// I/O errors (see [`AtomicFile::create`] and [`AtomicFile::commit`]).
pub fn write_atomic(dest: &Path, bytes: &[u8], visibility: Visibility) -> io::Result<()> {
    let mut f = AtomicFile::create(dest, visibility)?;
    f.write_all(bytes)?;
    f.commit()
}

/// A CSV writer on a new [`AtomicFile`] that starts with a UTF-8 BOM (so Japanese Excel opens
/// it as UTF-8) and `header`. Finish it with [`commit_csv`].
///
/// # Errors
/// I/O errors creating the file.
pub fn bom_csv(
    path: &Path,
    visibility: Visibility,
    header: &[&str],
) -> std::io::Result<csv::Writer<AtomicFile>> {
    let mut f = AtomicFile::create(path, visibility)?;
    std::io::Write::write_all(&mut f, b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(f);
    w.write_record(header).map_err(std::io::Error::other)?;
    Ok(w)
}

/// Characters that make a spreadsheet read a cell as a formula (or start one) when they
/// begin it: `=`, `+`, `-`, `@`, TAB and CR (OWASP, "CSV Injection").
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written to a CSV file meant for people (docs/reference/privacy.md, formula
/// injection): a cell that begins with one of [`FORMULA_STARTS`] gets a leading `'`, the
/// OWASP recommendation, so that Excel shows it as text instead of evaluating it
/// (`=SUM(A1)` → `'=SUM(A1)`, `-1` → `'-1`); any other cell is returned as it is.
///
/// Only for text: numbers are written as numbers and never pass through here, so a
/// negative number stays `-5`. Every CSV writer of ittai for people uses it: the report
/// CSVs (`ittai_report::write_csv`: target lists, attrition, indicators) for their text
/// cells, and the rejects files of `ittai validate`/`ittai run` ([`crate::rejects`]) and
/// of `ittai ingest` through [`write_text_record`].
pub fn neutralise_cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes one record whose cells are all text, each through [`neutralise_cell`]: the
/// record writer of the rejects files, which are opened with [`bom_csv`].
///
/// # Errors
/// I/O errors writing the record.
pub fn write_text_record<W: io::Write, S: AsRef<str>>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> io::Result<()> {
    for cell in cells {
        w.write_field(neutralise_cell(cell.as_ref()).as_bytes())
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
    w.write_record(None::<&[u8]>)
        .map_err(|e| io::Error::other(e.to_string()))
}

/// Flushes a writer made by [`bom_csv`] and moves its file into place.
///
/// # Errors
/// I/O errors flushing or renaming.
pub fn commit_csv(w: csv::Writer<AtomicFile>) -> std::io::Result<()> {
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_file_leaves_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"old", Visibility::Shared).unwrap();
        {
            let mut f = AtomicFile::create(&p, Visibility::Shared).unwrap();
            f.write_all(b"new").unwrap();
            // dropped without commit: a failed run
        }
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file removed"
        );
    }

    #[test]
    fn temp_files_are_named_for_the_sweep_and_swept() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("targets");
        let f = AtomicFile::create(&sub.join("a.csv"), Visibility::Shared).unwrap();
        let name = f
            .inner
            .get_ref()
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(is_temp_name(&name), "{name}");
        std::mem::forget(f); // a killed run: the temporary file stays
        fs::write(sub.join("keep.csv"), b"x").unwrap();
        fs::write(sub.join(".ittai-.tmp"), b"x").unwrap();
        fs::write(dir.path().join(".ittai-xyz123.tmp"), b"x").unwrap();
        let removed = sweep_temp_files(dir.path()).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(!sub.join(&name).exists());
        assert!(!dir.path().join(".ittai-xyz123.tmp").exists());
        assert!(sub.join("keep.csv").exists());
        assert!(sub.join(".ittai-.tmp").exists(), "not the pattern");
        assert!(
            sweep_temp_files(&dir.path().join("none"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for (cell, want) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("-1", "'-1"),
            ("@x", "'@x"),
            ("+1", "'+1"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            ("", ""),
            ("'=already", "'=already"),
            ("要介護２", "要介護２"),
        ] {
            assert_eq!(neutralise_cell(cell), want, "{cell:?}");
        }
        assert!(matches!(neutralise_cell("a=b"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_records_are_written_neutralised() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let mut w = bom_csv(&p, Visibility::Private, &["a", "b", "c"]).unwrap();
        write_text_record(&mut w, ["=1+1", "x,y", "-2"]).unwrap();
        commit_csv(w).unwrap();
        assert_eq!(
            fs::read(&p).unwrap(),
            "\u{feff}a,b,c\n'=1+1,\"x,y\",'-2\n".as_bytes()
        );
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("list.csv");
        write_atomic(&p, b"x", Visibility::Private).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        write_atomic(&p, b"x", Visibility::Shared).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
