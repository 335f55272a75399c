//! Charts for the HTML report, drawn with plotters as SVG strings. Text stays text in the
//! SVG (`<text>` with a CJK-capable font list), so the browser renders Japanese labels with
//! the reader's own fonts; titles live in the HTML around the chart.
//!
//! Four shapes cover the report: horizontal bars ([`hbar`]: municipalities against the
//! union, attrition funnels, cost by disease group), grouped horizontal bars ([`hgrouped`]:
//! a programme's targets → contacted → supported by municipality), grouped vertical bars
//! ([`grouped`]: age band × sex, supported vs not supported) and lines over fiscal years
//! with optional confidence intervals ([`lines`]).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Font list written into every SVG `<text>` (the browser picks the first it has).
pub const FONT: &str =
    "Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif";

/// Series colours (Okabe–Ito, readable by colour-blind readers).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];
const GREY: RGBColor = RGBColor(150, 150, 150);
const REFERENCE: RGBColor = RGBColor(200, 30, 30);

/// A chart could not be drawn (plotters' message).
#[derive(Debug, thiserror::Error)]
#[error("chart: {0}")]
pub struct ChartError(String);

fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label left of the bar (e.g. municipality name).
    pub label: String,
    /// Length of the bar; `None` draws no bar and prints `note` instead.
    pub value: Option<f64>,
    /// Text printed right of the bar (the formatted value, or e.g. "※ 秘匿").
    pub note: String,
    /// Drawn in the accent colour (e.g. the union's own bar).
    pub highlight: bool,
}

/// A named series of a grouped-bar or line chart; values align with the categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// One value per category (`None`: missing or suppressed).
    pub values: Vec<Option<f64>>,
    /// Optional 95 % CI per category (lower, upper), drawn as error bars.
    pub ci: Vec<Option<(f64, f64)>>,
}

fn upper_bound(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.fold(0.0f64, f64::max);
    if m <= 0.0 { 1.0 } else { m * 1.15 }
}

/// Tick label: whole numbers with thousands separators when the axis spans more than
/// 100, else one decimal.
fn axis_number(x: f64, max: f64) -> String {
    if max > 100.0 {
        ittai_dataset::thousands(x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

/// The vertical value axis of the column and line charts: six labelled ticks up to `max`
/// in `unit`, no vertical grid lines, no category labels on the axis (they are drawn apart).
fn value_axis(
    chart: &mut ChartContext<
        '_,
        SVGBackend<'_>,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    max: f64,
    unit: &str,
) -> Result<(), ChartError> {
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|y| axis_number(*y, max))
        .y_desc(unit)
        .label_style(text_style(16))
        .axis_desc_style(text_style(16))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(err)
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size as f64).into_font().color(&BLACK)
}

/// Horizontal bars, one per row, with an optional vertical reference line (value, label),
/// e.g. the union's value. Width 720 px; height grows with the number of bars.
///
/// # Errors
/// [`ChartError`] from plotters.
pub fn hbar(
    bars: &[Bar],
    unit: &str,
    reference: Option<(f64, &str)>,
    label_width: u32,
) -> Result<String, ChartError> {
    let n = bars.len().max(1);
    let row = 26u32;
    let (w, h) = (760u32, 80 + row * n as u32);
    let xmax = upper_bound(
        bars.iter()
            .filter_map(|b| b.value)
            .chain(reference.map(|r| r.0)),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(28)
            .margin_right(110)
            .margin_left(10)
            .x_label_area_size(36)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0f64..xmax, 0f64..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&|x| axis_number(*x, xmax))
            .x_desc(unit)
            .label_style(text_style(16))
            .axis_desc_style(text_style(16))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(err)?;
        let top = |i: usize| (n - i) as f64;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                b.value.map(|v| {
                    let c = if b.highlight { PALETTE[1] } else { PALETTE[0] };
                    Rectangle::new([(0.0, top(i) - 0.8), (v, top(i) - 0.2)], c.filled())
                })
            }))
            .map_err(err)?;
        let right = Pos::new(HPos::Right, VPos::Center);
        let left = Pos::new(HPos::Left, VPos::Center);
        for (i, b) in bars.iter().enumerate() {
            let (x0, y) = chart.backend_coord(&(0.0, top(i) - 0.5));
            root.draw(&Text::new(
                b.label.clone(),
                (x0 - 6, y),
                text_style(16).pos(right),
            ))
            .map_err(err)?;
            let (x1, _) = chart.backend_coord(&(b.value.unwrap_or(0.0), 0.0));
            let c = if b.value.is_some() { BLACK } else { GREY };
            root.draw(&Text::new(
                b.note.clone(),
                (x1 + 4, y),
                text_style(15).color(&c).pos(left),
            ))
            .map_err(err)?;
        }
        if let Some((v, label)) = reference {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(v, 0.0), (v, n as f64)],
                    REFERENCE.stroke_width(2),
                )))
                .map_err(err)?;
            let (x, y) = chart.backend_coord(&(v, n as f64));
            root.draw(&Text::new(
                label.to_string(),
                (x, y - 6),
                text_style(15)
                    .color(&REFERENCE)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Grouped horizontal bars: one group per category (e.g. municipality), one bar per series
/// inside it, top to bottom (e.g. 対象者 → 接触 → 支援), with a legend on top and
/// `notes[j][i]` printed right of bar j of category i (the formatted value; where the value
/// is `None` no bar is drawn and the note is printed in grey at zero, e.g. "※"; an empty
/// note prints nothing). Width 760 px; height grows with categories × series.
///
/// # Errors
/// [`ChartError`] from plotters.
pub fn hgrouped(
    categories: &[String],
    series: &[Series],
    notes: &[Vec<String>],
    unit: &str,
    label_width: u32,
) -> Result<String, ChartError> {
    let n = categories.len().max(1);
    let k = series.len().max(1);
    let row = 18 * k as u32 + 12;
    let (w, h) = (760u32, 90 + row * n as u32);
    let xmax = upper_bound(
        series
            .iter()
            .flat_map(|s| s.values.iter().take(n).flatten().copied()),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        legend(&root, series, 14)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(34)
            .margin_right(110)
            .margin_left(10)
            .x_label_area_size(36)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0f64..xmax, 0f64..n as f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&|x| axis_number(*x, xmax))
            .x_desc(unit)
            .label_style(text_style(16))
            .axis_desc_style(text_style(16))
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(err)?;
        // Category i spans (n − i − 1, n − i); bar j of it hangs below `top(i, j)`.
        let slot = 0.84 / k as f64;
        let top = |i: usize, j: usize| (n - i) as f64 - 0.08 - j as f64 * slot;
        for (j, s) in series.iter().enumerate() {
            let c = PALETTE[j % PALETTE.len()];
            chart
                .draw_series(s.values.iter().take(n).enumerate().filter_map(|(i, v)| {
                    v.map(|v| {
                        Rectangle::new([(0.0, top(i, j) - slot * 0.85), (v, top(i, j))], c.filled())
                    })
                }))
                .map_err(err)?;
        }
        let right = Pos::new(HPos::Right, VPos::Center);
        let left = Pos::new(HPos::Left, VPos::Center);
        for (i, label) in categories.iter().enumerate() {
            let (x0, y) = chart.backend_coord(&(0.0, (n - i) as f64 - 0.5));
            root.draw(&Text::new(
                label.clone(),
                (x0 - 6, y),
                text_style(16).pos(right),
            ))
            .map_err(err)?;
        }
        for (j, s) in series.iter().enumerate() {
            for (i, v) in s.values.iter().take(n).enumerate() {
                let Some(note) = notes.get(j).and_then(|x| x.get(i)) else {
                    continue;
                };
                if note.is_empty() {
                    continue;
                }
                let (x1, y) = chart.backend_coord(&(v.unwrap_or(0.0), top(i, j) - slot * 0.425));
                let c = if v.is_some() { BLACK } else { GREY };
                root.draw(&Text::new(
                    note.clone(),
                    (x1 + 4, y),
                    text_style(13).color(&c).pos(left),
                ))
                .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn legend(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    series: &[Series],
    y: i32,
) -> Result<(), ChartError> {
    let mut x = 80;
    for (k, s) in series.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        root.draw(&Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()))
            .map_err(err)?;
        root.draw(&Text::new(
            s.name.clone(),
            (x + 20, y),
            text_style(16).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
        x += 40 + 16 * s.name.chars().count() as i32;
    }
    Ok(())
}

/// Grouped vertical bars: one group per category, one bar per series, with a legend on top.
/// 720 × 300 px.
///
/// # Errors
/// [`ChartError`] from plotters.
pub fn grouped(categories: &[String], series: &[Series], unit: &str) -> Result<String, ChartError> {
    let n = categories.len().max(1);
    let k = series.len().max(1);
    let ymax = upper_bound(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        legend(&root, series, 14)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(32)
            .margin_right(20)
            .margin_left(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..n as f64, 0f64..ymax)
            .map_err(err)?;
        value_axis(&mut chart, ymax, unit)?;
        let bw = 0.8 / k as f64;
        for (j, s) in series.iter().enumerate() {
            let c = PALETTE[j % PALETTE.len()];
            chart
                .draw_series(s.values.iter().enumerate().filter_map(|(i, v)| {
                    v.map(|v| {
                        let x0 = i as f64 + 0.1 + j as f64 * bw;
                        Rectangle::new([(x0, 0.0), (x0 + bw * 0.9, v)], c.filled())
                    })
                }))
                .map_err(err)?;
        }
        for (i, c) in categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(
                c.clone(),
                (x, y + 6),
                text_style(16).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Lines over categories (fiscal years), one per series, with points, optional 95 % CI
/// error bars and a legend on top. The y axis starts at zero unless `zero` is false (then
/// it spans the data with a margin). 720 × 300 px.
///
/// # Errors
/// [`ChartError`] from plotters.
pub fn lines(
    categories: &[String],
    series: &[Series],
    unit: &str,
    zero: bool,
) -> Result<String, ChartError> {
    let n = categories.len().max(1);
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| {
            s.values
                .iter()
                .flatten()
                .copied()
                .chain(s.ci.iter().flatten().flat_map(|c| [c.0, c.1]))
        })
        .collect();
    let hi = upper_bound(all.iter().copied());
    let lo = if zero {
        0.0
    } else {
        let (a, b) = (
            all.iter().copied().fold(f64::INFINITY, f64::min),
            all.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        if a.is_finite() {
            (a - (b - a).max(1.0) * 0.2).max(0.0)
        } else {
            0.0
        }
    };
    let hi = if zero {
        hi
    } else {
        all.iter().copied().fold(lo + 1.0, f64::max) + (hi - lo) * 0.05
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        legend(&root, series, 14)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(32)
            .margin_right(30)
            .margin_left(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, lo..hi)
            .map_err(err)?;
        value_axis(&mut chart, hi, unit)?;
        for (j, s) in series.iter().enumerate() {
            let c = PALETTE[j % PALETTE.len()];
            let off = (j as f64 - (series.len() as f64 - 1.0) / 2.0) * 0.04;
            let pts: Vec<(f64, f64)> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as f64 + off, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 4, c.filled())))
                .map_err(err)?;
            chart
                .draw_series(s.ci.iter().enumerate().filter_map(|(i, ci)| {
                    ci.map(|(a, b)| {
                        ErrorBar::new_vertical(
                            i as f64 + off,
                            a,
                            (a + b) / 2.0,
                            b,
                            c.stroke_width(1),
                            8,
                        )
                    })
                }))
                .map_err(err)?;
        }
        for (i, c) in categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, lo));
            root.draw(&Text::new(
                c.clone(),
                (x, y + 6),
                text_style(16).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Japanese labels reach the SVG as text (not outlines), with the font list.
    #[test]
    fn japanese_text_stays_text() {
        let bars = vec![
            Bar {
                label: "札幌市".into(),
                value: Some(12.5),
                note: "12.5".into(),
                highlight: false,
            },
            Bar {
                label: "小さな町".into(),
                value: None,
                note: "※ 秘匿".into(),
                highlight: false,
            },
        ];
        let svg = hbar(&bars, "%", Some((10.0, "広域連合 10.0")), 160).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        for t in [
            "札幌市",
            "小さな町",
            "※ 秘匿",
            "広域連合 10.0",
            "Noto Sans CJK JP",
        ] {
            assert!(svg.contains(t), "{t}");
        }
        // One filled bar only: the suppressed municipality has none.
        let s = Series {
            name: "男".into(),
            values: vec![Some(1.0), None],
            ci: vec![Some((0.5, 1.5)), None],
        };
        let svg = lines(
            &["2023".into(), "2024".into()],
            std::slice::from_ref(&s),
            "年",
            false,
        )
        .unwrap();
        assert!(svg.contains("2023") && svg.contains("男"));
        let svg = grouped(&["75-79".into(), "80-84".into()], &[s], "%").unwrap();
        assert!(svg.contains("80-84"));
        // Grouped horizontal bars: labels, legend and notes as text; a None value draws no
        // bar but its note.
        let steps = [
            Series {
                name: "対象者".into(),
                values: vec![Some(120.0), Some(30.0)],
                ci: Vec::new(),
            },
            Series {
                name: "支援".into(),
                values: vec![Some(40.0), None],
                ci: Vec::new(),
            },
        ];
        let notes = vec![
            vec!["120人".to_string(), "30人".to_string()],
            vec!["40人".to_string(), "※".to_string()],
        ];
        let svg = hgrouped(
            &["鳥取市".into(), "日南町".into()],
            &steps,
            &notes,
            "人",
            140,
        )
        .unwrap();
        for t in ["鳥取市", "日南町", "対象者", "支援", "120人", "40人", "※"] {
            assert!(svg.contains(t), "{t}");
        }
    }
}
