//! Training curves against batches trained, and several runs' curves overlaid.

use kindling_core::train::{BatchPoint, EpochMetrics};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use web_sys::HtmlCanvasElement;

use super::legend::{draw_legend, LegendCorner, LegendMark};
use super::measured::MeasuredCanvas;
use super::Palette;

/// A chart on a canvas, with f64 axes.
type Chart<'a> = ChartContext<'a, MeasuredCanvas, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the grid, the axes and their labels of `chart`.
fn draw_axes(
    chart: &mut Chart<'_>,
    palette: &Palette,
    x_desc: &str,
    y_desc: &str,
    y_format: &dyn Fn(&f64) -> String,
) {
    let font = ("sans-serif", 12).into_font().color(&palette.text);
    let _ = chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_label_formatter(y_format)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font.clone())
        .axis_desc_style(font)
        .axis_style(palette.text)
        .bold_line_style(palette.grid)
        .light_line_style(palette.background)
        .draw();
}

/// Which metric a curve chart shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Metric {
    /// Loss (optionally on a log scale).
    Loss,
    /// Accuracy in [0, 1].
    Accuracy,
}

/// Keeps at most `max` points, evenly spaced (the last always kept).
fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max {
        return points.to_vec();
    }
    let step = points.len() as f64 / max as f64;
    let mut out: Vec<T> = (0..max)
        .map(|i| points[(i as f64 * step) as usize])
        .collect();
    out.push(points[points.len() - 1]);
    out
}

/// Lowest R² a chart shows: a model far worse than the mean (R² of -30 at the first batches)
/// would flatten the rest of the curve.
const LOWEST_R2: f64 = -1.0;

/// Draws the batch curve and the per-epoch held-out metric against batches trained, with a
/// dashed line at each batch in `marks` (where a steered run changed its settings); on a
/// regression set (`regression`) the accuracy chart shows R².
#[allow(clippy::too_many_arguments)]
pub fn draw_curves(
    canvas: &HtmlCanvasElement,
    points: &[BatchPoint],
    epochs: &[EpochMetrics],
    batches_per_epoch: usize,
    marks: &[usize],
    metric: Metric,
    log: bool,
    regression: bool,
) {
    let palette = Palette::current();
    let Some(backend) = MeasuredCanvas::new(canvas) else {
        return;
    };
    let root = backend.into_drawing_area();
    let _ = root.fill(&palette.background);
    let value = |loss: f64, acc: f64| -> f64 {
        match metric {
            Metric::Loss if log => loss.max(1e-6).log10(),
            Metric::Loss => loss,
            // NaN (values that do not spread) stays a gap.
            Metric::Accuracy if regression && !acc.is_nan() => acc.max(LOWEST_R2),
            Metric::Accuracy => acc,
        }
    };
    let train: Vec<(f64, f64)> = thin(points, 400)
        .iter()
        .filter(|p| p.loss.is_finite())
        .map(|p| (p.step as f64, value(p.loss, p.accuracy)))
        .filter(|p| p.1.is_finite())
        .collect();
    let held: Vec<(f64, f64)> = epochs
        .iter()
        .filter(|e| e.eval_loss.is_finite())
        .map(|e| {
            (
                (e.epoch * batches_per_epoch) as f64,
                value(e.eval_loss, e.eval_accuracy),
            )
        })
        .filter(|p| p.1.is_finite())
        .collect();
    let x_max = train
        .iter()
        .chain(&held)
        .map(|p| p.0)
        .chain(marks.iter().map(|&m| m as f64))
        .fold(10.0f64, f64::max);
    let (mut y_min, mut y_max) = match metric {
        Metric::Accuracy if regression => {
            let lowest = train.iter().chain(&held).map(|p| p.1).fold(0.0, f64::min);
            (lowest, 1.0)
        }
        Metric::Accuracy => (0.0, 1.0),
        Metric::Loss => {
            let ys = train.iter().chain(&held).map(|p| p.1);
            let lo = ys.clone().fold(f64::INFINITY, f64::min);
            let hi = ys.fold(f64::NEG_INFINITY, f64::max);
            if lo.is_finite() && hi.is_finite() {
                (if log { lo } else { lo.min(0.0) }, hi)
            } else {
                (0.0, 1.0)
            }
        }
    };
    if y_max - y_min < 1e-9 {
        y_max = y_min + 1.0;
    }
    if metric == Metric::Loss {
        let pad = (y_max - y_min) * 0.05;
        y_max += pad;
        if log {
            y_min -= pad;
        }
    }
    let Ok(mut chart) = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(58)
        .build_cartesian_2d(0f64..x_max, y_min..y_max)
    else {
        return;
    };
    let y_format = |v: &f64| -> String {
        match metric {
            Metric::Loss if log => format!("{:.3}", 10f64.powf(*v)),
            Metric::Loss => format!("{v:.3}"),
            Metric::Accuracy if regression => format!("{v:.1}"),
            Metric::Accuracy => format!("{:.0}%", v * 100.0),
        }
    };
    let y_desc = match metric {
        Metric::Loss if log => "loss (log)",
        Metric::Loss => "loss",
        Metric::Accuracy if regression => "R²",
        Metric::Accuracy => "accuracy",
    };
    draw_axes(&mut chart, &palette, "batches", y_desc, &y_format);
    let mark_color = palette.text.mix(0.6);
    for &mark in marks {
        let x = mark as f64;
        let _ = chart.draw_series(DashedLineSeries::new(
            [(x, y_min), (x, y_max)],
            5,
            4,
            mark_color.stroke_width(1),
        ));
    }
    let _ = chart.draw_series(LineSeries::new(train, palette.train.stroke_width(2)));
    let held_color = palette.held_out;
    let _ = chart.draw_series(LineSeries::new(
        held.iter().copied(),
        held_color.stroke_width(2),
    ));
    let _ = chart.draw_series(held.iter().map(|&p| Circle::new(p, 4, held_color.filled())));
    draw_legend(
        &root,
        chart.plotting_area().get_pixel_range(),
        &[
            ("train (batches)".into(), LegendMark::Line(palette.train)),
            ("held out (epochs)".into(), LegendMark::Dot(held_color)),
        ],
        match metric {
            Metric::Loss => LegendCorner::UpperRight,
            Metric::Accuracy => LegendCorner::LowerRight,
        },
        &palette,
    );
    let _ = root.present();
}

/// Colours of overlaid runs, in order.
pub const RUN_COLOURS: [RGBColor; 8] = [
    RGBColor(232, 111, 0),
    RGBColor(17, 99, 204),
    RGBColor(46, 160, 67),
    RGBColor(200, 50, 120),
    RGBColor(130, 80, 220),
    RGBColor(0, 150, 160),
    RGBColor(160, 120, 0),
    RGBColor(120, 120, 120),
];

/// One run's series for an overlay chart: its name and (x, y) points.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points.
    pub points: Vec<(f64, f64)>,
}

/// Several runs' curves on one chart (`log_y` plots log10 of y, labelled in y).
pub fn draw_overlay(
    canvas: &HtmlCanvasElement,
    series: &[Series],
    x_desc: &str,
    y_desc: &str,
    log_y: bool,
) {
    let palette = Palette::current();
    let Some(backend) = MeasuredCanvas::new(canvas) else {
        return;
    };
    let root = backend.into_drawing_area();
    let _ = root.fill(&palette.background);
    let tf = |y: f64| if log_y { y.max(1e-6).log10() } else { y };
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| {
            s.points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|&(x, y)| (x, tf(y)))
        })
        .collect();
    let x_max = all.iter().map(|p| p.0).fold(1.0f64, f64::max);
    let x_min = all
        .iter()
        .map(|p| p.0)
        .fold(x_max, f64::min)
        .min(x_max - 1e-9);
    let mut y_min = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut y_max = all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if !y_min.is_finite() || !y_max.is_finite() {
        y_min = 0.0;
        y_max = 1.0;
    }
    if y_max - y_min < 1e-9 {
        y_max = y_min + 0.1;
    }
    let pad = (y_max - y_min) * 0.05;
    let Ok(mut chart) = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(62)
        .build_cartesian_2d(x_min..x_max, (y_min - pad)..(y_max + pad))
    else {
        return;
    };
    let y_format = |v: &f64| -> String {
        if log_y {
            format!("{:.3}", 10f64.powf(*v))
        } else {
            format!("{v:.3}")
        }
    };
    draw_axes(&mut chart, &palette, x_desc, y_desc, &y_format);
    let mut legend = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        let colour = RUN_COLOURS[i % RUN_COLOURS.len()];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, y)| (x, tf(y)))
            .collect();
        let _ = chart.draw_series(LineSeries::new(points, colour.stroke_width(2)));
        legend.push((s.name.clone(), LegendMark::Line(colour)));
    }
    draw_legend(
        &root,
        chart.plotting_area().get_pixel_range(),
        &legend,
        LegendCorner::LowerRight,
        &palette,
    );
    let _ = root.present();
}
