//! Small inline SVG charts for the person page: lines over dates and bars per month. No
//! chart library and no script: the browser draws them, and each point carries its value
//! in a `<title>` the browser shows on hover. Colours come from app.css (classes `s0`, `s1`).

use chrono::{Datelike, NaiveDate};
use maud::{Markup, html};

/// Width and height of the drawing area (the SVG scales to the page width).
const W: f64 = 640.0;
const H: f64 = 170.0;
/// Margins: left (value labels), right, top, bottom (date labels).
const ML: f64 = 48.0;
const MR: f64 = 12.0;
const MT: f64 = 12.0;
const MB: f64 = 24.0;

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text (収縮期 …).
    pub label: &'static str,
    /// Points in date order.
    pub points: Vec<(NaiveDate, f64)>,
}

fn day(d: NaiveDate) -> f64 {
    f64::from(d.num_days_from_ce())
}

/// A number for a label: no decimals for large values, one otherwise.
fn short(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A line chart of `lines` over dates, with `unit` after the values; `None` when there is
/// no point at all.
pub fn lines(title: &str, unit: &str, lines: &[Line]) -> Option<Markup> {
    let all: Vec<(NaiveDate, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .collect();
    let (first, last) = (
        all.iter().map(|p| p.0).min()?,
        all.iter().map(|p| p.0).max()?,
    );
    let lo = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.02).max(0.5);
    let (lo, hi) = (lo - pad, hi + pad);
    let (d0, d1) = (day(first), day(last).max(day(first) + 1.0));
    let x = |d: NaiveDate| ML + (day(d) - d0) / (d1 - d0) * (W - ML - MR);
    let y = |v: f64| MT + (hi - v) / (hi - lo) * (H - MT - MB);
    let fmt_pt = |(d, v): (NaiveDate, f64)| format!("{:.1},{:.1}", x(d), y(v));
    Some(html! {
        figure class="chart" {
            figcaption { (title) @if !unit.is_empty() { "（" (unit) "）" } }
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
                line class="axis" x1=(ML) y1=(H - MB) x2=(W - MR) y2=(H - MB) {}
                line class="axis" x1=(ML) y1=(MT) x2=(ML) y2=(H - MB) {}
                text class="tick" x=(ML - 4.0) y=(MT + 10.0) text-anchor="end" { (short(hi)) }
                text class="tick" x=(ML - 4.0) y=(H - MB) text-anchor="end" { (short(lo)) }
                text class="tick" x=(ML) y=(H - 6.0) text-anchor="start" { (first.format("%Y-%m")) }
                text class="tick" x=(W - MR) y=(H - 6.0) text-anchor="end" { (last.format("%Y-%m")) }
                @for (i, l) in lines.iter().enumerate() {
                    @let class = format!("s{}", i % 4);
                    @if l.points.len() > 1 {
                        polyline class={ "line " (class) } fill="none" points=(l.points.iter().copied().map(fmt_pt).collect::<Vec<_>>().join(" ")) {}
                    }
                    @for &(d, v) in &l.points {
                        circle class={ "dot " (class) } cx=(format!("{:.1}", x(d))) cy=(format!("{:.1}", y(v))) r="3.5" {
                            title { (l.label) " " (d) ": " (short_exact(v)) (unit) }
                        }
                    }
                }
            }
            @if lines.len() > 1 {
                p class="legend" {
                    @for (i, l) in lines.iter().enumerate() {
                        span class={ "key s" (i % 4) } { "■ " } (l.label) " "
                    }
                }
            }
        }
    })
}

/// A value as measured (up to two decimals, no trailing zeros).
fn short_exact(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Months from `first` to `last` (first days), inclusive.
fn months(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = first.with_day(1).unwrap_or(first);
    while m <= last && out.len() < 1200 {
        out.push(m);
        m = m
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
    }
    out
}

/// One bar per month from the first to the last month of `bars` (month, value, hover
/// text); months without a value get no bar. `None` when `bars` is empty.
pub fn month_bars(title: &str, unit: &str, bars: &[(NaiveDate, f64, String)]) -> Option<Markup> {
    let first = bars.iter().map(|b| b.0).min()?;
    let last = bars.iter().map(|b| b.0).max()?;
    let axis = months(first, last);
    let hi = bars.iter().map(|b| b.1).fold(1.0, f64::max);
    let n = axis.len().max(1) as f64;
    let slot = (W - ML - MR) / n;
    let width = (slot * 0.8).max(1.0);
    let index = |d: NaiveDate| axis.iter().position(|m| *m == d.with_day(1).unwrap_or(d));
    Some(html! {
        figure class="chart" {
            figcaption { (title) @if !unit.is_empty() { "（" (unit) "）" } }
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
                line class="axis" x1=(ML) y1=(H - MB) x2=(W - MR) y2=(H - MB) {}
                text class="tick" x=(ML - 4.0) y=(MT + 10.0) text-anchor="end" { (short(hi)) }
                text class="tick" x=(ML - 4.0) y=(H - MB) text-anchor="end" { "0" }
                text class="tick" x=(ML) y=(H - 6.0) text-anchor="start" { (first.format("%Y-%m")) }
                text class="tick" x=(W - MR) y=(H - 6.0) text-anchor="end" { (last.format("%Y-%m")) }
                @for (d, v, hover) in bars {
                    @if let Some(i) = index(*d) {
                        @let h = (v / hi) * (H - MT - MB);
                        rect class="bar s0" x=(format!("{:.1}", ML + i as f64 * slot + (slot - width) / 2.0)) y=(format!("{:.1}", H - MB - h)) width=(format!("{width:.1}")) height=(format!("{h:.1}")) {
                            title { (hover) }
                        }
                    }
                }
            }
        }
    })
}
