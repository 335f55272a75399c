//! Finding and decoding the input files of `ittai ingest`: single files, directories
//! (walked recursively, in name order) and zip archives (members in name order), each
//! handed over as bytes with a readable origin (`dir/file.UKE`, `batch.zip!DATA/x.xml`).
//!
//! Inputs are untrusted: a directory may hold a symbolic-link loop, a file may be huge, a
//! zip member may be a "zip bomb" (a few kilobytes that inflate to gigabytes) or declare a
//! size it does not have. A directory is entered once (by its canonical path), and no file
//! or member is read into memory beyond the limits below; what is not read is reported
//! ([`InputError`]) and the rest continue.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest input file read, in bytes (2 GiB). Each file is read into memory whole (and
/// then decoded), so one file must not be able to take all of it: a larger one is
/// reported (`unreadable`, file rejected, with its size and this limit) and not read.
/// Zip archives are not read whole (their members are read one at a time) and have no
/// size limit of their own.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Largest zip member read, uncompressed, in bytes (512 MiB). The declared size is
/// checked before a member is opened, and the member is read through a reader that stops
/// one byte past the limit, so a header that understates the size cannot make ittai read
/// more.
pub const MAX_MEMBER_BYTES: u64 = 512 << 20;

/// Largest expansion ratio (uncompressed ÷ compressed size) accepted, for a member of at
/// least [`RATIO_CHECK_FROM_BYTES`] and for all the members of an archive read so far
/// (against the archive's size on disk). Text and XML deflate by a few to a few tens of
/// times; long runs of one byte reach deflate's maximum of about 1,030×. A member past 200×
/// is taken for a zip bomb, not data, and is not read.
pub const MAX_EXPANSION_RATIO: u64 = 200;

/// Members, and archives' running totals, below this size (16 MiB) are not checked for
/// their expansion ratio: small files of repeated fields can deflate far, and cannot harm.
pub const RATIO_CHECK_FROM_BYTES: u64 = 16 << 20;

/// The size limits of [`for_each_within`] (the `MAX_…` constants, or smaller ones in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Largest file, bytes ([`MAX_FILE_BYTES`]).
    pub file: u64,
    /// Largest zip member uncompressed, bytes ([`MAX_MEMBER_BYTES`]).
    pub member: u64,
    /// Largest expansion ratio ([`MAX_EXPANSION_RATIO`]).
    pub ratio: u64,
    /// Size from which the ratio is checked ([`RATIO_CHECK_FROM_BYTES`]).
    pub ratio_from: u64,
}

impl Limits {
    /// The documented limits.
    pub(crate) const DEFAULT: Limits = Limits {
        file: MAX_FILE_BYTES,
        member: MAX_MEMBER_BYTES,
        ratio: MAX_EXPANSION_RATIO,
        ratio_from: RATIO_CHECK_FROM_BYTES,
    };
}

/// A size for people: `4.0 MiB (4194304 bytes)`.
fn size_text(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if n >= GIB {
        format!("{:.1} GiB ({n} bytes)", n as f64 / GIB as f64)
    } else if n >= MIB {
        format!("{:.1} MiB ({n} bytes)", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

/// One input file, read into memory.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it came from: a path, or `archive.zip!member`.
    pub origin: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What kind of problem an [`InputError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputProblem {
    /// Cannot be read: I/O error, not a zip archive, a broken member.
    Unreadable,
    /// A file or zip member this source does not read (by its name); skipped.
    NotRead,
    /// Over a size or expansion limit ([`MAX_FILE_BYTES`], [`MAX_MEMBER_BYTES`],
    /// [`MAX_EXPANSION_RATIO`]); not read.
    TooLarge,
    /// A directory reached again through a symbolic link (a loop, or a second link to a
    /// directory already read); not followed.
    LinkLoop,
}

/// An input that could not be opened (the file, directory or zip member is named).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct InputError {
    /// Path or `archive.zip!member`.
    pub origin: String,
    /// What went wrong.
    pub message: String,
    /// Its kind.
    pub problem: InputProblem,
}

impl InputError {
    fn new(origin: impl Into<String>, problem: InputProblem, message: impl Into<String>) -> Self {
        InputError {
            origin: origin.into(),
            message: message.into(),
            problem,
        }
    }
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// What a walk of one path found: the files in order, the entries that could not be
/// followed, and the directories entered (canonical paths).
#[derive(Debug, Default)]
struct Walk {
    files: Vec<PathBuf>,
    problems: Vec<InputError>,
    dirs: HashSet<PathBuf>,
}

/// Expands `paths` into the files to read, in a stable order: directories are walked
/// recursively (entries sorted by name, hidden files skipped, each directory entered once
/// however many links lead to it); files are kept as given. Entries below the given paths
/// that cannot be followed are left out here and reported by [`for_each`].
///
/// # Errors
/// A given path that does not exist or a given directory that cannot be listed.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut w = Walk::default();
    for p in paths {
        walk(p, &mut w, true)?;
    }
    Ok(w.files)
}

/// Walks `p` into `w`. A directory whose canonical path was entered before (through a
/// symbolic link back up the tree, or a second link to it) is not entered again and is
/// reported as [`InputProblem::LinkLoop`]; so the walk ends on every tree. An entry that
/// cannot be read (a dangling link, a link to itself, a directory without permission) is
/// reported as [`InputProblem::Unreadable`] and the walk goes on; only the given path
/// itself is an error.
fn walk(p: &Path, w: &mut Walk, top: bool) -> Result<(), InputError> {
    // The given path is an error; an entry below it is reported and left out.
    let fail = |w: &mut Walk, e: std::io::Error| -> Result<(), InputError> {
        if top {
            return Err(InputError::new(
                p.display().to_string(),
                InputProblem::Unreadable,
                format!("{e} (check the path)"),
            ));
        }
        w.problems.push(InputError::new(
            p.display().to_string(),
            InputProblem::Unreadable,
            e.to_string(),
        ));
        Ok(())
    };
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => return fail(w, e),
    };
    if !meta.is_dir() {
        w.files.push(p.to_path_buf());
        return Ok(());
    }
    let canonical = match std::fs::canonicalize(p) {
        Ok(c) => c,
        Err(e) => return fail(w, e),
    };
    if !w.dirs.insert(canonical.clone()) {
        w.problems.push(InputError::new(
            p.display().to_string(),
            InputProblem::LinkLoop,
            format!(
                "a symbolic link to {}, a directory already read (a loop, or a second link to it): not followed",
                canonical.display()
            ),
        ));
        return Ok(());
    }
    let listing = match std::fs::read_dir(p) {
        Ok(l) => l,
        Err(e) => return fail(w, e),
    };
    let mut entries: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|e| {
            !e.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for e in entries {
        walk(&e, w, false)?;
    }
    Ok(())
}

/// Reads every file under `paths` and calls `f` with each input in order; zip archives are
/// opened and their members (accepted by `accept(member_name)`) read one at a time. Files
/// inside directories are read only when `accept(file_name)` or they are zips. An input
/// that cannot be read, is over a size limit ([`MAX_FILE_BYTES`], [`MAX_MEMBER_BYTES`],
/// [`MAX_EXPANSION_RATIO`]) or is a symbolic-link loop is passed to `on_error` (with its
/// [`InputProblem`]) and the rest continue.
///
/// # Errors
/// Only errors returned by `f` or `on_error` (which stop the walk), and a missing
/// top-level path.
pub fn for_each<E>(
    paths: &[PathBuf],
    accept: &dyn Fn(&str) -> bool,
    on_error: &mut dyn FnMut(InputError) -> Result<(), E>,
    f: &mut dyn FnMut(Input) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<InputError>,
{
    for_each_within(paths, accept, &Limits::DEFAULT, on_error, f)
}

/// [`for_each`] with the given size limits.
pub(crate) fn for_each_within<E>(
    paths: &[PathBuf],
    accept: &dyn Fn(&str) -> bool,
    limits: &Limits,
    on_error: &mut dyn FnMut(InputError) -> Result<(), E>,
    f: &mut dyn FnMut(Input) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<InputError>,
{
    for top in paths {
        let mut w = Walk::default();
        walk(top, &mut w, true)?;
        for problem in std::mem::take(&mut w.problems) {
            on_error(problem)?;
        }
        let explicit = w.files.len() == 1 && w.files[0] == *top;
        for path in w.files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if is_zip(&path) {
                read_zip(&path, accept, limits, on_error, f)?;
                continue;
            }
            if !explicit && !accept(&name) {
                continue;
            }
            match read_file(&path, limits.file) {
                Ok(bytes) => f(Input {
                    origin: path.display().to_string(),
                    bytes,
                })?,
                Err(e) => on_error(e)?,
            }
        }
    }
    Ok(())
}

/// The bytes of a file of at most `limit` bytes: its size is checked before it is read,
/// and it is read through a reader that stops one byte past the limit (a file that grows
/// meanwhile is caught too).
fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let unreadable = |e: std::io::Error| {
        InputError::new(
            path.display().to_string(),
            InputProblem::Unreadable,
            e.to_string(),
        )
    };
    let too_large = |size: String| {
        InputError::new(
            path.display().to_string(),
            InputProblem::TooLarge,
            format!(
                "the file has {size}, over the limit of {} per input file: not read (split it into smaller files)",
                size_text(limit)
            ),
        )
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > limit {
        return Err(too_large(size_text(size)));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(format!("more than {}", size_text(limit))));
    }
    Ok(bytes)
}

fn read_zip<E>(
    path: &Path,
    accept: &dyn Fn(&str) -> bool,
    limits: &Limits,
    on_error: &mut dyn FnMut(InputError) -> Result<(), E>,
    f: &mut dyn FnMut(Input) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<InputError>,
{
    let origin = path.display().to_string();
    let unreadable = |origin: String, message: String| {
        InputError::new(origin, InputProblem::Unreadable, message)
    };
    let file = match std::fs::File::open(path) {
        Ok(x) => x,
        Err(e) => return on_error(unreadable(origin, e.to_string())),
    };
    let archive_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut z = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(z) => z,
        Err(e) => {
            return on_error(unreadable(
                origin,
                format!("not a readable zip archive: {e}"),
            ));
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
    names.retain(|(name, _)| !name.ends_with('/'));
    // All the members together may expand to this much (the archive's size times the
    // ratio, and at least the size from which ratios are checked).
    let budget = limits
        .ratio
        .saturating_mul(archive_bytes)
        .max(limits.ratio_from);
    let mut expanded: u64 = 0;
    for (k, (name, i)) in names.iter().enumerate() {
        let member = format!("{origin}!{name}");
        let base = name.rsplit('/').next().unwrap_or(name);
        if !accept(base) {
            on_error(InputError::new(
                member,
                InputProblem::NotRead,
                "not a file this source reads (skipped)",
            ))?;
            continue;
        }
        let mut m = match z.by_index(*i) {
            Ok(m) => m,
            Err(e) => {
                on_error(unreadable(member, e.to_string()))?;
                continue;
            }
        };
        // Sizes as the archive declares them: checked before anything is inflated.
        let (declared, packed) = (m.size(), m.compressed_size());
        if declared > limits.member {
            drop(m);
            on_error(InputError::new(
                member,
                InputProblem::TooLarge,
                format!(
                    "the member expands to {}, over the limit of {} per zip member: not read",
                    size_text(declared),
                    size_text(limits.member)
                ),
            ))?;
            continue;
        }
        if declared >= limits.ratio_from && declared > limits.ratio.saturating_mul(packed) {
            drop(m);
            on_error(InputError::new(
                member,
                InputProblem::TooLarge,
                format!(
                    "the member expands from {} to {}, more than {}× (a zip bomb, not data): not read",
                    size_text(packed),
                    size_text(declared),
                    limits.ratio
                ),
            ))?;
            continue;
        }
        if expanded.saturating_add(declared) > budget {
            drop(m);
            on_error(InputError::new(
                origin.clone(),
                InputProblem::TooLarge,
                format!(
                    "the archive's members expand to more than {}× its {} ({} read so far): the {} members from {name} on are not read",
                    limits.ratio,
                    size_text(archive_bytes),
                    size_text(expanded),
                    names.len() - k
                ),
            ))?;
            break;
        }
        // Read through a limit one byte past the largest member: a header that
        // understates the size cannot make us read more.
        let mut bytes = Vec::with_capacity(declared as usize);
        let read = std::io::Read::take(&mut m, limits.member + 1).read_to_end(&mut bytes);
        drop(m);
        match read {
            Ok(_) if bytes.len() as u64 > limits.member => on_error(InputError::new(
                member,
                InputProblem::TooLarge,
                format!(
                    "the member expands to more than {} although its header declares {}: not read",
                    size_text(limits.member),
                    size_text(declared)
                ),
            ))?,
            Ok(_) => {
                expanded = expanded.saturating_add(bytes.len() as u64);
                f(Input {
                    origin: member,
                    bytes,
                })?
            }
            Err(e) => on_error(unreadable(member, e.to_string()))?,
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
            log.push(wrong_encoding(&input.origin, line))?;
            Ok(None)
        }
    }
}

/// The issue of a file that is neither UTF-8 nor Shift_JIS, its first bad byte on `line`
/// (the file is rejected).
pub fn wrong_encoding(origin: &str, line: u64) -> super::issues::Issue {
    super::issues::Issue {
        file: origin.to_string(),
        line: Some(line),
        record: String::new(),
        field: String::new(),
        kind: super::issues::IssueKind::WrongEncoding,
        action: super::issues::IssueAction::FileRejected,
        detail: "neither UTF-8 nor Shift_JIS (CP932) text".into(),
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

    /// Every input and every problem of `paths`, read with every name accepted.
    fn collect(paths: &[PathBuf], limits: &Limits) -> (Vec<Input>, Vec<InputError>) {
        let mut inputs = Vec::new();
        let mut problems = Vec::new();
        for_each_within::<InputError>(
            paths,
            &|_| true,
            limits,
            &mut |e| {
                problems.push(e);
                Ok(())
            },
            &mut |i| {
                inputs.push(i);
                Ok(())
            },
        )
        .expect("the walk ends without error");
        (inputs, problems)
    }

    fn zip_of(path: &Path, members: &[(&str, &[u8])]) {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in members {
            w.start_file(*name, o).expect("member");
            w.write_all(body).expect("write");
        }
        w.finish().expect("finish");
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_link_loops_are_reported_and_the_walk_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = dir.path().join("in");
        std::fs::create_dir_all(top.join("sub")).expect("mkdir");
        std::fs::write(top.join("sub/a.csv"), b"x").expect("write");
        // in/sub/back -> in (a loop through the tree), in/self -> itself.
        std::os::unix::fs::symlink(&top, top.join("sub/back")).expect("symlink");
        std::os::unix::fs::symlink("self", top.join("self")).expect("symlink");
        let (inputs, problems) = collect(std::slice::from_ref(&top), &Limits::DEFAULT);
        let origins: Vec<&str> = inputs.iter().map(|i| i.origin.as_str()).collect();
        assert_eq!(origins, [top.join("sub/a.csv").display().to_string()]);
        let found: Vec<(String, InputProblem)> = problems
            .iter()
            .map(|p| (p.origin.clone(), p.problem))
            .collect();
        assert_eq!(
            found,
            [
                (
                    top.join("self").display().to_string(),
                    InputProblem::Unreadable
                ),
                (
                    top.join("sub/back").display().to_string(),
                    InputProblem::LinkLoop
                ),
            ]
        );
        assert!(
            problems[1].message.contains("already read"),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn a_zip_member_over_the_limit_is_reported_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let z = dir.path().join("batch.zip");
        let big = vec![0u8; 4 << 20];
        zip_of(
            &z,
            &[
                ("DATA/big.xml", big.as_slice()),
                ("DATA/small.xml", b"<a/>".as_slice()),
            ],
        );
        let limits = Limits {
            member: 1 << 20,
            ..Limits::DEFAULT
        };
        let (inputs, problems) = collect(std::slice::from_ref(&z), &limits);
        assert_eq!(inputs.len(), 1);
        assert!(inputs[0].origin.ends_with("batch.zip!DATA/small.xml"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(p.origin.ends_with("batch.zip!DATA/big.xml"), "{p}");
        assert_eq!(p.problem, InputProblem::TooLarge);
        // Its size and the limit, in words and bytes.
        assert!(
            p.message.contains("4.0 MiB (4194304 bytes)")
                && p.message.contains("1.0 MiB (1048576 bytes)"),
            "{p}"
        );
    }

    #[test]
    fn a_zip_bomb_is_reported_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let z = dir.path().join("bomb.zip");
        // 4 MiB of zeros deflate to a few kilobytes: about 1,000×.
        zip_of(&z, &[("x.csv", vec![0u8; 4 << 20].as_slice())]);
        let limits = Limits {
            ratio_from: 1 << 20,
            ..Limits::DEFAULT
        };
        let (inputs, problems) = collect(std::slice::from_ref(&z), &limits);
        assert!(inputs.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].problem, InputProblem::TooLarge);
        assert!(
            problems[0].message.contains("more than 200×"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_zip_member_that_understates_its_size_cannot_exceed_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let z = dir.path().join("lie.zip");
        zip_of(&z, &[("x.csv", vec![b'a'; 2 << 20].as_slice())]);
        // Declare 100 bytes uncompressed, in the local header (offset 22) and in the
        // central directory (offset 24).
        let mut b = std::fs::read(&z).expect("read");
        let at = |sig: &[u8]| b.windows(4).position(|w| w == sig).expect("header");
        let (local, central) = (at(b"PK\x03\x04"), at(b"PK\x01\x02"));
        b[local + 22..local + 26].copy_from_slice(&100u32.to_le_bytes());
        b[central + 24..central + 28].copy_from_slice(&100u32.to_le_bytes());
        std::fs::write(&z, b).expect("write");
        let limits = Limits {
            member: 1 << 20,
            ..Limits::DEFAULT
        };
        let (inputs, problems) = collect(std::slice::from_ref(&z), &limits);
        // Either the zip reader notices the lie, or the limit stops the read: never more
        // than the limit in memory, and the member is reported.
        assert!(
            inputs.is_empty(),
            "{:?}",
            inputs.iter().map(|i| i.bytes.len()).collect::<Vec<_>>()
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].origin.contains("lie.zip"), "{}", problems[0]);
    }

    #[test]
    fn a_file_over_the_limit_is_reported_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = dir.path().join("in");
        std::fs::create_dir(&top).expect("mkdir");
        std::fs::write(top.join("a.UKE"), vec![b'x'; 2 << 20]).expect("write");
        std::fs::write(top.join("b.UKE"), b"IR").expect("write");
        let limits = Limits {
            file: 1 << 20,
            ..Limits::DEFAULT
        };
        let (inputs, problems) = collect(std::slice::from_ref(&top), &limits);
        assert_eq!(inputs.len(), 1);
        assert!(inputs[0].origin.ends_with("b.UKE"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].origin.ends_with("a.UKE"));
        assert_eq!(problems[0].problem, InputProblem::TooLarge);
        assert!(
            problems[0].message.contains("2.0 MiB (2097152 bytes)")
                && problems[0].message.contains("1.0 MiB (1048576 bytes)"),
            "{}",
            problems[0]
        );
    }
}
