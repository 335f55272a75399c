//! `ittai serve`: the nurses' workbench in the browser (ブラウザで使う).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::serve;

/// Open the workbench in the browser: purpose → conditions → target list, each person's
/// history and support records — ブラウザで使う（この PC の中だけ）.
///
/// Serves a local web page on this computer only (127.0.0.1) and opens it in the default
/// browser. Every page, style and script comes from the ittai binary: it works offline and
/// no data leaves the computer. Stop it with Ctrl+C.
///
/// Examples:
///   ittai serve
///   ittai serve --data /path/to/dataset --out out
///   ittai serve --port 8080 --no-open
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset directory (nine tables as Parquet or CSV, support records optional).
    /// Default: a copy of the sample data in OUT/sample_data (support records entered in
    /// the browser are added to the dataset).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Output directory (rejects, saved rules `OUT/rules/`, indicators, downloads).
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Port on this computer; 0 lets the system choose a free one.
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    /// Address to listen on. Only this computer's own (loopback) address is accepted:
    /// 127.0.0.1 (the default), another 127.x.x.x, ::1 or localhost.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    listen: String,
    /// Do not open the browser; only print the address.
    #[arg(long)]
    no_open: bool,
    /// Directory of rule files (*.toml) to use instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// The insured register (被保険者台帳) whose names the target lists show, with
    /// --id-key-file (the key the dataset was pseudonymised with).
    #[arg(long, value_name = "FILE", requires = "id_key_file")]
    register: Option<PathBuf>,
    /// Key file of the pseudonymisation (as for `ittai ingest`), needed with --register.
    #[arg(long, value_name = "KEY", requires = "register")]
    id_key_file: Option<PathBuf>,
    /// Show only the register rows of this municipality (全国地方公共団体コード, 6 digits):
    /// a municipality sees the names of its own persons only.
    #[arg(long, value_name = "CODE", requires = "register")]
    municipality: Option<String>,
    /// 保険者番号 of a register that has no such column.
    #[arg(long, value_name = "NUMBER", requires = "register")]
    insurer: Option<String>,
}

/// Runs `ittai serve` until Ctrl+C.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    serve::start(serve::Options {
        data: a.data,
        out: a.out,
        port: a.port,
        listen: a.listen,
        open_browser: !a.no_open,
        rules: a.rules,
        register: a.register,
        id_key_file: a.id_key_file,
        municipality: a.municipality,
        insurer: a.insurer,
    })?;
    Ok(ExitCode::SUCCESS)
}
