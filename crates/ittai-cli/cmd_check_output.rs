//! `ittai check-output`: is an output folder of `ittai run` whole and current? Also the
//! `outputs` list of `manifest.json` that `ittai run` writes and reads (to remove the files
//! of an earlier run that it did not write again).

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// Check that an output folder of `ittai run` is whole and current.
///
/// Reads OUT/manifest.json and checks that every file it lists is there with the size and
/// SHA-256 recorded when the run wrote it, and that the places the run writes (targets/,
/// indicators/, named/, and targets_all.*, targets.xlsx, attrition.* at the top) hold no
/// file the run did not write — a file left by an earlier run with other --only or --format
/// choices, or by a run that was stopped. Exit status 0 when the folder is whole and
/// current, 1 when not, with each problem named.
///
/// manifest.json に記録された出力がすべて揃い、記録どおりの内容（大きさと SHA-256）で
/// あること、記録にないファイル（以前の実行の残りなど）がないことを確かめます。
///
/// Examples:
///   ittai check-output
///   ittai check-output /path/to/out
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory of `ittai run`.
    #[arg(value_name = "OUT", default_value = "out")]
    out: PathBuf,
}

/// One file of `manifest.json`'s `outputs`: its path under the output folder (`/`
/// separated), its size and its SHA-256. Fields in alphabetical order, like the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutputFile {
    /// Size in bytes.
    pub bytes: u64,
    /// Path relative to the output folder, e.g. `targets/R03_polypharmacy.csv`.
    pub path: String,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

impl OutputFile {
    /// Records `file`, which must be inside `out`.
    ///
    /// # Errors
    /// A file outside `out`, or I/O errors reading it.
    pub fn record(out: &Path, file: &Path) -> anyhow::Result<OutputFile> {
        let path = file
            .strip_prefix(out)
            .ok()
            .and_then(manifest_path)
            .with_context(|| {
                format!("output {} is not inside {}", file.display(), out.display())
            })?;
        let bytes = fs::metadata(file)
            .with_context(|| format!("reading {}", file.display()))?
            .len();
        let sha256 = ittai_dataset::sha256_file(file)
            .with_context(|| format!("hashing {}", file.display()))?;
        Ok(OutputFile {
            bytes,
            path,
            sha256,
        })
    }
}

/// `rel` as the manifest writes it: its plain components joined by `/`; `None` when it
/// is empty, not UTF-8, or has a root, a drive or `..`.
fn manifest_path(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A path read from a manifest, accepted only when it stays inside the output folder:
/// relative, plain components only (no `..`, no root or drive, no `\`). `None` otherwise.
pub fn safe_relative(s: &str) -> Option<PathBuf> {
    if s.is_empty() || s.contains('\\') || s.contains('\0') {
        return None;
    }
    let mut out = PathBuf::new();
    for c in Path::new(s).components() {
        match c {
            Component::Normal(x) => out.push(x),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// The files the manifest in `out` lists, relative to `out`: empty when there is no
/// manifest or it cannot be read. Entries that would leave `out` are dropped. Reads both
/// the current form (`{"path": …}`) and the older one (the path as `out` joined with it).
pub fn previous_outputs(out: &Path) -> Vec<PathBuf> {
    let Ok(text) = fs::read_to_string(out.join("manifest.json")) else {
        return Vec::new();
    };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let Some(list) = m.get("outputs").and_then(|o| o.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| match e {
            serde_json::Value::Object(o) => o.get("path")?.as_str().and_then(safe_relative),
            serde_json::Value::String(s) => Path::new(s)
                .strip_prefix(out)
                .ok()
                .and_then(manifest_path)
                .and_then(|p| safe_relative(&p)),
            _ => None,
        })
        .filter(|p| p.as_path() != Path::new("manifest.json"))
        .collect()
}

/// Removes the files in `previous` (relative to `out`, from [`previous_outputs`]) that are
/// not in `current`: what an earlier run wrote and this one did not write again. Returns
/// the paths removed and those that could not be removed, with the reason.
pub fn remove_stale(
    out: &Path,
    previous: &[PathBuf],
    current: &[OutputFile],
) -> (Vec<PathBuf>, Vec<(PathBuf, io::Error)>) {
    let now: BTreeSet<PathBuf> = current
        .iter()
        .filter_map(|f| safe_relative(&f.path))
        .collect();
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for rel in previous {
        if now.contains(rel) {
            continue;
        }
        let p = out.join(rel);
        match fs::symlink_metadata(&p) {
            Ok(m) if !m.is_dir() => match fs::remove_file(&p) {
                Ok(()) => removed.push(rel.clone()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => failed.push((rel.clone(), e)),
            },
            _ => {}
        }
    }
    (removed, failed)
}

/// True for a path (relative to the output folder) in the places `ittai run` writes:
/// under targets/, indicators/ or named/ (the named lists of `--register`), or
/// targets_all.*, targets.xlsx, attrition.* at the top.
fn in_run_folders(rel: &Path) -> bool {
    let mut parts = rel.components();
    let Some(Component::Normal(first)) = parts.next() else {
        return false;
    };
    let Some(first) = first.to_str() else {
        return false;
    };
    if parts.next().is_some() {
        return first == "targets" || first == "indicators" || first == crate::named::NAMED_DIR;
    }
    first.starts_with("targets_all.") || first == "targets.xlsx" || first.starts_with("attrition.")
}

/// Every file (and symbolic link) under `dir`, relative to `base`, without following links.
fn files_under(base: &Path, dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let p = entry.path();
        if entry.file_type()?.is_dir() {
            files_under(base, &p, found)?;
        } else if let Ok(rel) = p.strip_prefix(base) {
            found.push(rel.to_path_buf());
        }
    }
    Ok(())
}

/// The problems of the output folder `out`, one sentence each; empty when it is whole and
/// current. Also returns the number of files the manifest lists.
///
/// # Errors
/// `out` is not a folder, or I/O errors reading it.
pub fn check(out: &Path) -> anyhow::Result<(Vec<String>, usize)> {
    anyhow::ensure!(out.is_dir(), "{} is not a directory", out.display());
    let mut problems = Vec::new();
    let mp = out.join("manifest.json");
    let text = match fs::read_to_string(&mp) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            problems.push(format!(
                "no manifest.json in {}: `ittai run` did not finish there",
                out.display()
            ));
            return Ok((problems, 0));
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", mp.display())),
    };
    let m: serde_json::Value = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!("manifest.json cannot be read: {e}"));
            return Ok((problems, 0));
        }
    };
    let Some(list) = m.get("outputs").and_then(|o| o.as_array()) else {
        problems.push("manifest.json has no list of outputs".to_string());
        return Ok((problems, 0));
    };
    let mut listed: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in list {
        let Ok(f) = serde_json::from_value::<OutputFile>(entry.clone()) else {
            problems.push(format!(
                "manifest.json lists {entry} without size and SHA-256 (written by an older ittai): run `ittai run` again"
            ));
            continue;
        };
        let Some(rel) = safe_relative(&f.path) else {
            problems.push(format!(
                "manifest.json lists {:?}, a path outside {}: not checked",
                f.path,
                out.display()
            ));
            continue;
        };
        listed.insert(rel.clone());
        let p = out.join(&rel);
        match fs::metadata(&p) {
            Ok(meta) if meta.is_file() => {
                if meta.len() != f.bytes {
                    problems.push(format!(
                        "changed: {} ({} bytes; the run wrote {})",
                        f.path,
                        meta.len(),
                        f.bytes
                    ));
                } else {
                    let sha = ittai_dataset::sha256_file(&p)
                        .with_context(|| format!("hashing {}", p.display()))?;
                    if sha != f.sha256 {
                        problems.push(format!(
                            "changed: {} (its SHA-256 is not the one the run recorded)",
                            f.path
                        ));
                    }
                }
            }
            Ok(_) => problems.push(format!("missing: {} (not a file)", f.path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                problems.push(format!("missing: {}", f.path))
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }
    let mut found = Vec::new();
    files_under(out, &out.join("targets"), &mut found)
        .with_context(|| format!("reading {}", out.join("targets").display()))?;
    files_under(out, &out.join("indicators"), &mut found)
        .with_context(|| format!("reading {}", out.join("indicators").display()))?;
    let named = out.join(crate::named::NAMED_DIR);
    files_under(out, &named, &mut found).with_context(|| format!("reading {}", named.display()))?;
    for entry in fs::read_dir(out).with_context(|| format!("reading {}", out.display()))? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            found.push(PathBuf::from(entry.file_name()));
        }
    }
    found.sort();
    for rel in found {
        if in_run_folders(&rel) && !listed.contains(&rel) {
            problems.push(format!(
                "not from this run: {} (not in manifest.json; left by an earlier or stopped run?)",
                rel.display()
            ));
        }
    }
    Ok((problems, list.len()))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (problems, files) = check(&a.out)?;
    if problems.is_empty() {
        println!(
            "{}: whole and current — {files} file(s) as manifest.json records them, nothing else (出力は完全で最新です)",
            a.out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: NOT whole and current — {} problem(s) (出力に問題があります):",
        a.out.display(),
        problems.len()
    );
    for p in &problems {
        println!("  {p}");
    }
    println!("Run `ittai run` again to write a whole, current output folder.");
    Ok(ExitCode::from(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_stay_inside_the_output_folder() {
        assert_eq!(
            safe_relative("targets/a.csv"),
            Some(PathBuf::from("targets/a.csv"))
        );
        for bad in ["", "/etc/passwd", "../x", "targets/../../x", "a\\b", "."] {
            assert_eq!(safe_relative(bad), None, "{bad:?}");
        }
        assert!(in_run_folders(Path::new("targets/old.csv")));
        assert!(in_run_folders(Path::new("named/R01_undernutrition.csv")));
        assert!(in_run_folders(Path::new("targets.xlsx")));
        assert!(in_run_folders(Path::new("attrition.csv")));
        assert!(!in_run_folders(Path::new("report.html")));
        assert!(!in_run_folders(Path::new("rejects.csv")));
    }
}
