//! Finding and decoding the input files of `ittai ingest`: single files, directories
//! (walked recursively, in name order) and zip archives (members in name order), each
//! handed over as bytes with a readable origin (`dir/file.UKE`, `batch.zip!DATA/x.xml`).

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input file, read into memory.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it came from: a path, or `archive.zip!member`.
    pub origin: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An input that could not be opened (the file, directory or zip member is named).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct InputError {
    /// Path or `archive.zip!member`.
    pub origin: String,
    /// What went wrong.
    pub message: String,
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Expands `paths` into the files to read, in a stable order: directories are walked
/// recursively (entries sorted by name, hidden files skipped); files are kept as given.
/// `accept(name)` filters files found inside directories and zip archives by name (files
/// named explicitly are always read).
///
/// # Errors
/// A path that does not exist or a directory that cannot be listed.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out, true)?;
    }
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>, top: bool) -> Result<(), InputError> {
    let err = |m: String| InputError {
        origin: p.display().to_string(),
        message: m,
    };
    let meta = std::fs::metadata(p).map_err(|e| {
        err(if top {
            format!("{e} (check the path)")
        } else {
            e.to_string()
        })
    })?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| err(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|e| {
                !e.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out, false)?;
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// Reads every file under `paths` and calls `f` with each input in order; zip archives are
/// opened and their members (accepted by `accept(member_name)`) read one at a time. Files
/// inside directories are read only when `accept(file_name)` or they are zips. An input
/// that cannot be read is passed to `on_error` and the rest continue.
///
/// # Errors
/// Only errors returned by `f` (which stop the walk), and a missing top-level path.
pub fn for_each<E>(
    paths: &[PathBuf],
    accept: &dyn Fn(&str) -> bool,
    on_error: &mut dyn FnMut(InputError) -> Result<(), E>,
    f: &mut dyn FnMut(Input) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<InputError>,
{
    for top in paths {
        let files = expand(std::slice::from_ref(top))?;
        let explicit = files.len() == 1 && files[0] == *top;
        for path in files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if is_zip(&path) {
                read_zip(&path, accept, on_error, f)?;
                continue;
            }
            if !explicit && !accept(&name) {
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => f(Input {
                    origin: path.display().to_string(),
                    bytes,
                })?,
                Err(e) => on_error(InputError {
                    origin: path.display().to_string(),
                    message: e.to_string(),
                })?,
            }
        }
    }
    Ok(())
}

fn read_zip<E>(
    path: &Path,
    accept: &dyn Fn(&str) -> bool,
    on_error: &mut dyn FnMut(InputError) -> Result<(), E>,
    f: &mut dyn FnMut(Input) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<InputError>,
{
    let origin = path.display().to_string();
    let file = match std::fs::File::open(path) {
        Ok(x) => x,
        Err(e) => {
            return on_error(InputError {
                origin,
                message: e.to_string(),
            });
        }
    };
    let mut z = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(z) => z,
        Err(e) => {
            return on_error(InputError {
                origin,
                message: format!("not a readable zip archive: {e}"),
            });
        }
    };
    let mut names: Vec<(String, usize)> = (0..z.len())
        .filter_map(|i| {
            z.by_index_raw(i)
                .ok()
                .and_then(|m| m.name().ok().map(|n| (n.to_string(), i)))
        })
        .collect();
    names.sort();
    for (name, i) in names {
        if name.ends_with('/') {
            continue;
        }
        let member = format!("{origin}!{name}");
        let base = name.rsplit('/').next().unwrap_or(&name);
        if !accept(base) {
            on_error(InputError {
                origin: member,
                message: "not a file this source reads (skipped)".into(),
            })?;
            continue;
        }
        let mut bytes = Vec::new();
        match z.by_index(i).map(|mut m| m.read_to_end(&mut bytes)) {
            Ok(Ok(_)) => f(Input {
                origin: member,
                bytes,
            })?,
            Ok(Err(e)) => on_error(InputError {
                origin: member,
                message: e.to_string(),
            })?,
            Err(e) => on_error(InputError {
                origin: member,
                message: e.to_string(),
            })?,
        }
    }
    Ok(())
}

/// The text of an input, as [`decode`]; when it is neither encoding, a `wrong_encoding`
/// issue (file rejected, with the line of the first bad byte) goes to `log` and `None` is
/// returned.
///
/// # Errors
/// I/O errors writing the rejects file.
pub fn text_of<'a>(
    input: &'a Input,
    log: &mut super::issues::IssueLog,
) -> std::io::Result<Option<Cow<'a, str>>> {
    match decode(&input.bytes) {
        Ok(t) => Ok(Some(t)),
        Err(line) => {
            log.push(super::issues::Issue {
                file: input.origin.clone(),
                line: Some(line),
                record: String::new(),
                field: String::new(),
                kind: super::issues::IssueKind::WrongEncoding,
                action: super::issues::IssueAction::FileRejected,
                detail: "neither UTF-8 nor Shift_JIS (CP932) text".into(),
            })?;
            Ok(None)
        }
    }
}

/// The text of an input: UTF-8 (a BOM is dropped) or else Shift_JIS (CP932).
///
/// # Errors
/// When the bytes are neither, the 1-based line of the first byte that fits neither.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, u64> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(utf8) => {
            match encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(body) {
                Some(s) => Ok(Cow::Owned(s.into_owned())),
                None => {
                    // Report the line of the first byte that is not UTF-8, which is where a reader
                    // would look first.
                    let at = utf8.valid_up_to();
                    Err(1 + body[..at].iter().filter(|&&b| b == b'\n').count() as u64)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_shift_jis() {
        assert_eq!(decode(b"\xEF\xBB\xBFIR,1").unwrap(), "IR,1");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("RE,1,医療法人　オルカ医院");
        assert_eq!(decode(&sjis).unwrap(), "RE,1,医療法人　オルカ医院");
        // UTF-16 is neither: the line of the first bad byte is reported.
        let bad = b"IR,1\nRE,2\n\xFF\xFE\x00";
        assert_eq!(decode(bad).unwrap_err(), 3);
    }
}
