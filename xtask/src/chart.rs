//! PNG charts for `BENCHMARKS.md`, drawn with plotters (bitmap backend, text with ab_glyph and
//! a system TrueType font).

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A named line of (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Fonts tried in order (Debian's DejaVu and Liberation packages; Chromium brings one).
const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Registers the first font found as plotters' "sans-serif" (once per process).
fn register_font() -> Result<()> {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        FONTS.iter().any(|path| {
            std::fs::read(path).is_ok_and(|bytes| {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
        })
    });
    if *found {
        Ok(())
    } else {
        bail!("no TrueType font found (tried {})", FONTS.join(", "))
    }
}

/// A white drawing area of `size` pixels that [`save`] writes to `path` (its folder made).
fn canvas(path: &Path, size: (u32, u32)) -> Result<DrawingArea<BitMapBackend<'_>, Shift>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    Ok(root)
}

fn color(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    PALETTE[i % PALETTE.len()]
}

/// The box naming each series.
fn legend<'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))
}

/// Writes the finished drawing to its file.
fn save(root: DrawingArea<BitMapBackend, Shift>, path: &Path) -> Result<()> {
    root.present()
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A line chart of `series` into a PNG at `path`.
pub fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    register_font()?;
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if y_min > y_max {
        bail!("nothing to draw");
    }
    let pad = ((y_max - y_min) * 0.08).max(0.5);
    let root = canvas(path, (900, 520))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..x_max + 0.5, (y_min - pad)..(y_max + pad).min(100.5))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels((x_max as usize).clamp(2, 30))
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-6 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, s) in series.iter().enumerate() {
        let c = color(i);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(s.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart
            .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(|e| anyhow!("{e}"))?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    save(root, path)
}

/// Grouped horizontal bars on a log scale: one group per row label, one bar per contender
/// (`values[row][contender]`, missing ones skipped), into a PNG at `path`.
pub fn bars(
    path: &Path,
    title: &str,
    value_label: &str,
    rows: &[String],
    contenders: &[String],
    values: &[Vec<Option<f64>>],
) -> Result<()> {
    register_font()?;
    let present: Vec<f64> = values
        .iter()
        .flatten()
        .flatten()
        .copied()
        .filter(|v| *v > 0.0)
        .collect();
    if present.is_empty() {
        bail!("nothing to draw");
    }
    let low = present.iter().copied().fold(f64::MAX, f64::min) / 2.0;
    let high = present.iter().copied().fold(0.0, f64::max) * 3.0;
    let slots = rows.len() * (contenders.len() + 1);
    let root = canvas(path, (900, 120 + 22 * slots as u32))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(20)
        .build_cartesian_2d((low..high).log_scale(), 0f64..slots as f64)
        .map_err(|e| anyhow!("{e}"))?;
    // Each row is a group of one bar per contender under a slot for the row's name.
    let group = contenders.len() + 1;
    chart
        .configure_mesh()
        .x_desc(value_label)
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|x| thousands(*x))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(r, name)| {
            let top = ((rows.len() - r) * group) as f64;
            Text::new(
                name.clone(),
                (low * 1.15, top - 0.15),
                ("sans-serif", 16).into_font(),
            )
        }))
        .map_err(|e| anyhow!("{e}"))?;
    for (c, name) in contenders.iter().enumerate() {
        let colour = color(c);
        let bars: Vec<_> = values
            .iter()
            .enumerate()
            .filter_map(|(r, row)| row.get(c).copied().flatten().map(|v| (r, v)))
            .map(|(r, v)| {
                // The first row is drawn at the top, its name above its bars.
                let base = ((rows.len() - 1 - r) * group + (contenders.len() - 1 - c)) as f64;
                Rectangle::new([(low, base + 0.1), (v, base + 0.9)], colour.filled())
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(|e| anyhow!("{e}"))?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    save(root, path)
}

/// 12345.6 as "12,346" (and small values with a decimal).
fn thousands(x: f64) -> String {
    if x < 10.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{x:.0}");
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoded pixels of a PNG: (width, height, how many are not white).
    fn inked(path: &Path) -> (u32, u32, usize) {
        let image = image::open(path).unwrap().to_rgb8();
        let inked = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        (image.width(), image.height(), inked)
    }

    #[test]
    fn charts_are_drawn_with_text_and_data() {
        let dir = crate::root().join("target").join("chart-test");
        let series = vec![
            Series {
                name: "mlp-keras".into(),
                points: vec![(1.0, 96.0), (2.0, 97.5), (3.0, 98.1)],
            },
            Series {
                name: "cnn-seed".into(),
                points: vec![(1.0, 98.0), (2.0, 98.9)],
            },
        ];
        let lines_png = dir.join("lines.png");
        lines(&lines_png, "Test accuracy", "epoch", "%", &series).unwrap();
        let (w, h, ink) = inked(&lines_png);
        assert_eq!((w, h), (900, 520));
        assert!(
            ink > 5_000,
            "a line chart with axes, labels and lines: {ink} pixels"
        );

        let bars_png = dir.join("bars.png");
        let rows = vec!["MLP".to_string(), "LSTM".to_string()];
        let contenders = vec!["Kindling".to_string(), "PyTorch".to_string()];
        let empty = vec![vec![None, None], vec![None, None]];
        assert!(bars(&bars_png, "t", "samples/s", &rows, &contenders, &empty).is_err());
        let values = vec![vec![Some(30_000.0), Some(90_000.0)], vec![Some(30.0), None]];
        bars(&bars_png, "t", "samples/s", &rows, &contenders, &values).unwrap();
        let (_, _, ink) = inked(&bars_png);
        assert!(ink > 5_000, "bars, axes and labels: {ink} pixels");
    }
}
