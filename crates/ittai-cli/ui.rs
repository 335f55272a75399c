//! Terminal output helpers: progress bars (only on a terminal) and number formatting.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr with `total` steps, hidden when stderr is not a terminal.
pub fn bar(total: u64, message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({elapsed}, eta {eta})")
            .expect("template")
            .progress_chars("=> "),
    );
    pb.set_message(message.to_string());
    pb
}

/// A spinner with a message, hidden when stderr is not a terminal.
pub fn spinner(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("template"));
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb.set_message(message.to_string());
    pb
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    ittai_dataset::thousands(n as i64)
}

/// Bytes as MB with one decimal.
pub fn megabytes(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1_000_000.0)
}

/// Pads `s` with spaces to `width` terminal columns (Japanese characters take two).
pub fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// Pads `s` on the left with spaces to `width` terminal columns.
pub fn pad_left(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{}{s}", " ".repeat(width.saturating_sub(w)))
}

/// Parses `--encoding`: utf8 (UTF-8 with BOM) or sjis (Shift_JIS/CP932).
pub fn csv_encoding(s: &str) -> anyhow::Result<ittai_report::CsvEncoding> {
    match s.to_lowercase().as_str() {
        "utf8" | "utf-8" => Ok(ittai_report::CsvEncoding::Utf8Bom),
        "sjis" | "shift_jis" | "cp932" => Ok(ittai_report::CsvEncoding::ShiftJis),
        other => anyhow::bail!("--encoding {other}: expected utf8 or sjis"),
    }
}
