//! `ittai serve`: the nurses' workbench as a local web page served by the ittai binary.
//!
//! The flow of the national tool — ① 抽出目的 → ② 抽出条件 → ③ 対象者一覧 — then each person's
//! history over the years and their support records, in Japanese, in the browser. The
//! server listens on the loopback address only, answers only to its own Host names,
//! requires a per-start CSRF token on every POST and serves every style and script from
//! the binary: it works offline and nothing leaves the computer (docs/DECISIONS.md D85–D90).
//!
//! Modules: `app` (routes, the guard, static files), `handlers` (what each page does, on
//! blocking threads), `pages` (maud templates), `state` (the opened dataset and one engine
//! session per FY), `listing` (filters and order of the list), `charts` (inline SVG),
//! `records` (support records), `rulefile` (saving a rule).

mod app;
mod charts;
mod handlers;
mod listing;
mod pages;
mod records;
mod rulefile;
mod state;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ittai_dataset::atomic::{Visibility, write_atomic};

use crate::{sample, ui};
use state::{Config, Loaded, State};

/// The options of `ittai serve`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dataset directory (`None`: the sample data).
    pub data: Option<PathBuf>,
    /// Output directory.
    pub out: PathBuf,
    /// Port (0: any free port).
    pub port: u16,
    /// Address to listen on (loopback only).
    pub listen: String,
    /// Open the default browser once the server is ready.
    pub open_browser: bool,
    /// Directory of rule files.
    pub rules: Option<PathBuf>,
    /// The insured register for names in the lists.
    pub register: Option<PathBuf>,
    /// The pseudonymisation key that goes with `register`.
    pub id_key_file: Option<PathBuf>,
    /// Only the register rows of this municipality.
    pub municipality: Option<String>,
    /// 保険者番号 of a register without that column.
    pub insurer: Option<String>,
}

/// The address `--listen` names, when it is one of this computer's own (loopback)
/// addresses: 127.x.x.x, ::1 or `localhost`.
///
/// # Errors
/// Any other address, in Japanese and English: listening there would expose personal data
/// to the network.
pub fn loopback(listen: &str) -> anyhow::Result<IpAddr> {
    let text = listen.trim().trim_start_matches('[').trim_end_matches(']');
    let ip = if text.eq_ignore_ascii_case("localhost") {
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        text.parse::<IpAddr>().ok()
    };
    match ip {
        Some(ip) if ip.is_loopback() => Ok(ip),
        _ => anyhow::bail!(
            "ittai serve はこのコンピューターの中（127.0.0.1）だけで待ち受けます。--listen {listen} ではネットワークに個人データが公開されてしまうため、使えません。\n\
             ittai serve listens on this computer only (127.0.0.1); --listen {listen} would expose personal data to the network"
        ),
    }
}

/// The Host header values a server on `ip:port` answers to: the address and `localhost`
/// with the port, and without it when the port is HTTP's default (80).
fn host_names(ip: IpAddr, port: u16) -> Vec<String> {
    let addr = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let mut hosts = vec![format!("{addr}:{port}"), format!("localhost:{port}")];
    if port == 80 {
        hosts.push(addr);
        hosts.push("localhost".to_string());
    }
    hosts
}

/// The sample dataset copied into `OUT/sample_data/` (once; an existing copy is used as it
/// is), so that support records entered in the browser go into the copy and never change
/// the sample data that ships with ittai. `persons` is copied last: a copy that was
/// interrupted has no `persons` table and is made again.
///
/// # Errors
/// I/O errors reading the sample or writing the copy.
fn sample_copy(out: &Path) -> anyhow::Result<PathBuf> {
    let dst = out.join("sample_data");
    if dst.join("persons.parquet").is_file() {
        return Ok(dst);
    }
    let src = sample::default_data_dir()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort_by_key(|p| (p.file_stem().is_some_and(|s| s == "persons"), p.clone()));
    for p in &files {
        let Some(name) = p.file_name() else {
            continue;
        };
        let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        write_atomic(&dst.join(name), &bytes, Visibility::Private)?;
    }
    eprintln!(
        "ittai serve: copied the sample data to {} (support records entered in the browser go there)",
        dst.display()
    );
    Ok(dst)
}

/// Waits for Ctrl+C (or SIGTERM); a second Ctrl+C ends the process at once.
async fn shutdown() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("ittai serve: 終了します（stopping）");
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
}

/// Opens the dataset, binds the loopback address, prints the address (one line on stdout:
/// `ittai serve: http://127.0.0.1:PORT/ (Ctrl+C で終了)`), opens the browser and serves
/// until Ctrl+C.
///
/// # Errors
/// A non-loopback `--listen`, a port in use, an unusable dataset or rule file.
pub fn start(opts: Options) -> anyhow::Result<()> {
    let ip = loopback(&opts.listen)?;
    let sample = opts.data.is_none();
    let data = match &opts.data {
        Some(d) => d.clone(),
        None => sample_copy(&opts.out)?,
    };
    let listener = TcpListener::bind(SocketAddr::new(ip, opts.port)).with_context(|| {
        format!(
            "cannot listen on {ip} port {} (使用中のポートかもしれません)",
            opts.port
        )
    })?;
    let port = listener.local_addr()?.port();
    let cfg = Config {
        data: data.clone(),
        out: opts.out.clone(),
        rules: opts.rules.clone(),
        register: opts.register.clone(),
        sample,
    };
    // The register is read before the dataset, so that a wrong file or key fails at once;
    // it stays in memory only.
    let register = match (&opts.register, &opts.id_key_file) {
        (Some(r), Some(k)) => Some(crate::named::load_register(&crate::named::RegisterArgs {
            register: r.clone(),
            key: k.clone(),
            municipality: opts.municipality.clone(),
            insurer: opts.insurer.clone(),
        })?),
        _ => None,
    };
    eprintln!(
        "ittai serve: {} を開いています（opening the dataset）",
        data.display()
    );
    let loaded = Loaded::open(&cfg)?;
    let fy = loaded.default_fy;
    let st = Arc::new(State::new(cfg, loaded, host_names(ip, port), register));
    let pb = ui::spinner(&format!(
        "FY{fy}: building person features and applying the rules"
    ));
    st.defaults(fy)?;
    pb.finish_and_clear();
    // Downloads are written into OUT/serve-downloads/ and removed once sent; a server that
    // was stopped mid-download may have left some.
    let _ = std::fs::remove_dir_all(opts.out.join("serve-downloads"));
    if st.register.is_some() {
        eprintln!(
            "note: 台帳の氏名を表示します（個人情報）。名前はこのコンピューターのメモリーの中だけにあり、ファイルには書き出しません（ダウンロードを除く）。"
        );
    }
    let shown = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let url = format!("http://{shown}:{port}/");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    let router = app::router(st);
    let served = runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "ittai serve: {url} (Ctrl+C で終了)")?;
        stdout.flush()?;
        eprintln!("ブラウザで {url} を開いてください。データはこのコンピューターの外に送信されません。");
        if opts.open_browser {
            let url = url.clone();
            std::thread::spawn(move || {
                if webbrowser::open(&url).is_err() {
                    eprintln!("note: could not open a browser; open {url} yourself (ブラウザで開いてください)");
                }
            });
        }
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown())
            .await
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    served.context("serving")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        for ok in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(loopback(ok).unwrap().is_loopback(), "{ok}");
        }
        for bad in ["0.0.0.0", "192.168.1.10", "::", "example.org", ""] {
            let e = loopback(bad).unwrap_err().to_string();
            assert!(e.contains("would expose personal data"), "{bad}: {e}");
        }
        assert_eq!(
            host_names(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            ["127.0.0.1:8080", "localhost:8080"]
        );
        assert_eq!(host_names(IpAddr::V4(Ipv4Addr::LOCALHOST), 80).len(), 4);
    }
}
