//! The terminal side of setting up a command: spinners while the dataset is validated
//! and staged ([`ittai_dataset::prepare`], [`ittai_engine::Job::open`]), and the warnings.

use std::path::Path;

use ittai_dataset::masters::MasterChoice;
use ittai_dataset::{PrepareStage, Prepared};
use ittai_engine::rules::LoadOptions;
use ittai_engine::{Job, JobOptions};

use crate::ui;

/// [`ittai_engine::Job::open`] for a command: today's date, the masters every command uses
/// ([`MasterChoice::Snapshot`], the drug master the tests pin), a spinner, and the
/// validation warnings on stderr.
///
/// # Errors
/// As [`ittai_engine::Job::open`].
pub fn open_job(
    data: &Path,
    out: &Path,
    rules: LoadOptions,
    revalidate: bool,
) -> anyhow::Result<Job> {
    open(data, out, rules, revalidate, true)
}

/// As `open_job`, but the warning gives only the number of problems and the rejects file,
/// not the first problems themselves, whose text can hold a value of the input (a person
/// id): `ittai serve` keeps personal values off its terminal.
///
/// # Errors
/// As [`ittai_engine::Job::open`].
pub fn open_job_quiet(
    data: &Path,
    out: &Path,
    rules: LoadOptions,
    revalidate: bool,
) -> anyhow::Result<Job> {
    open(data, out, rules, revalidate, false)
}

fn open(
    data: &Path,
    out: &Path,
    rules: LoadOptions,
    revalidate: bool,
    show_problems: bool,
) -> anyhow::Result<Job> {
    let opts = JobOptions {
        data: data.to_path_buf(),
        out: out.to_path_buf(),
        rules,
        revalidate,
        as_of: chrono::Local::now().date_naive(),
        masters: MasterChoice::Snapshot,
    };
    let pb = ui::spinner("hashing input files");
    // Huge pages while the input is validated (see `crate::huge_pages`).
    crate::huge_pages(true);
    let job = Job::open(&opts, &mut progress(&pb));
    crate::huge_pages(false);
    let job = job?;
    pb.finish_and_clear();
    warn(&job.prepared, show_problems);
    Ok(job)
}

/// A progress callback that shows the stage on `pb`.
fn progress(pb: &indicatif::ProgressBar) -> impl FnMut(PrepareStage, &str, u64) + '_ {
    move |stage, table, rows| match stage {
        PrepareStage::Hashing => pb.set_message("hashing input files"),
        PrepareStage::Validating => {
            pb.set_message(format!("validating {table}: {} rows", ui::thousands(rows)))
        }
        PrepareStage::Staging => {
            pb.set_message(format!("staging {table}: {} rows", ui::thousands(rows)))
        }
    }
}

/// Prints a note when the stamp could not be saved and, with `show_problems`, the first
/// problems of the input.
fn warn(prepared: &Prepared, show_problems: bool) {
    if let Some(note) = &prepared.stamp_note {
        eprintln!("note: {note}");
    }
    if !prepared.report.is_clean() {
        eprintln!(
            "warning: {} problem(s) in the input; bad rows are left out and listed in {}",
            ui::thousands(prepared.report.violations()),
            prepared.rejects.display()
        );
        if show_problems {
            for f in prepared.first_problems.iter().take(5) {
                eprintln!("  {f}");
            }
        }
    }
}
