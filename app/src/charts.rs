//! Drawing on canvases: training curves (plotters), the decision-boundary map, images.

use kindling_core::train::{BatchPoint, EpochMetrics};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::protocol::{BoundaryMap, ImageExample, ToyPoint};

/// Colours of the current theme.
#[derive(Clone, Copy)]
pub struct Palette {
    background: RGBColor,
    text: RGBColor,
    grid: RGBColor,
    train: RGBColor,
    held_out: RGBColor,
}

/// Whether the system asks for a dark theme.
pub fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

impl Palette {
    /// The palette for the system's light or dark preference.
    pub fn current() -> Self {
        if prefers_dark() {
            Palette {
                background: RGBColor(24, 27, 33),
                text: RGBColor(214, 219, 226),
                grid: RGBColor(52, 57, 66),
                train: RGBColor(255, 153, 51),
                held_out: RGBColor(88, 166, 255),
            }
        } else {
            Palette {
                background: RGBColor(255, 255, 255),
                text: RGBColor(40, 44, 52),
                grid: RGBColor(228, 231, 236),
                train: RGBColor(232, 111, 0),
                held_out: RGBColor(17, 99, 204),
            }
        }
    }
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

/// Draws the batch curve and the per-epoch held-out metric against batches trained, with a
/// dashed line at each batch in `marks` (where a steered run changed its settings).
pub fn draw_curves(
    canvas: &HtmlCanvasElement,
    points: &[BatchPoint],
    epochs: &[EpochMetrics],
    batches_per_epoch: usize,
    marks: &[usize],
    metric: Metric,
    log: bool,
) {
    let palette = Palette::current();
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else {
        return;
    };
    let root = backend.into_drawing_area();
    let _ = root.fill(&palette.background);
    let value = |loss: f64, acc: f64| -> f64 {
        match metric {
            Metric::Loss if log => loss.max(1e-6).log10(),
            Metric::Loss => loss,
            Metric::Accuracy => acc,
        }
    };
    let train: Vec<(f64, f64)> = thin(points, 400)
        .iter()
        .filter(|p| p.loss.is_finite())
        .map(|p| (p.step as f64, value(p.loss, p.accuracy)))
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
        .collect();
    let x_max = train
        .iter()
        .chain(&held)
        .map(|p| p.0)
        .chain(marks.iter().map(|&m| m as f64))
        .fold(10.0f64, f64::max);
    let (mut y_min, mut y_max) = match metric {
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
    let font = ("sans-serif", 12).into_font().color(&palette.text);
    let Ok(mut chart) = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..x_max, y_min..y_max)
    else {
        return;
    };
    let y_format = |v: &f64| -> String {
        match metric {
            Metric::Loss if log => format!("{:.3}", 10f64.powf(*v)),
            Metric::Loss => format!("{v:.3}"),
            Metric::Accuracy => format!("{:.0}%", v * 100.0),
        }
    };
    let _ = chart
        .configure_mesh()
        .x_desc("batches")
        .y_desc(match metric {
            Metric::Loss if log => "loss (log)",
            Metric::Loss => "loss",
            Metric::Accuracy => "accuracy",
        })
        .y_label_formatter(&y_format)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .axis_style(palette.text)
        .bold_line_style(palette.grid)
        .light_line_style(palette.background)
        .draw();
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
    let train_color = palette.train;
    if let Ok(series) = chart.draw_series(LineSeries::new(train, train_color.stroke_width(2))) {
        series.label("train (batches)").legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 16, y)], train_color.stroke_width(2))
        });
    }
    let held_color = palette.held_out;
    let _ = chart.draw_series(LineSeries::new(
        held.iter().copied(),
        held_color.stroke_width(2),
    ));
    if let Ok(series) =
        chart.draw_series(held.iter().map(|&p| Circle::new(p, 4, held_color.filled())))
    {
        series
            .label("held out (epochs)")
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, held_color.filled()));
    }
    let _ = chart
        .configure_series_labels()
        .position(match metric {
            Metric::Loss => SeriesLabelPosition::UpperRight,
            Metric::Accuracy => SeriesLabelPosition::LowerRight,
        })
        .label_font(font)
        .background_style(palette.background.mix(0.85))
        .border_style(palette.grid)
        .draw();
    let _ = root.present();
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// The colour of each class of a 2-D set (orange and blue first, as TensorFlow Playground).
pub const CLASS_COLOURS: [&str; 5] = ["#f59322", "#0877bd", "#2ca02c", "#9467bd", "#d62728"];
/// [`CLASS_COLOURS`] as RGB.
const CLASS_RGB: [[f32; 3]; 5] = [
    [245.0, 147.0, 34.0],
    [8.0, 119.0, 189.0],
    [44.0, 160.0, 44.0],
    [148.0, 103.0, 189.0],
    [214.0, 39.0, 40.0],
];

/// The map's background, where no class wins.
fn map_background(dark: bool) -> [f32; 3] {
    if dark {
        [30.0, 33.0, 40.0]
    } else {
        [232.0, 234.0, 235.0]
    }
}

/// `to` blended over `from` by `w` in [0, 1].
fn blend(from: [f32; 3], to: [f32; 3], w: f32) -> [u8; 3] {
    [0, 1, 2].map(|i| (from[i] + (to[i] - from[i]) * w) as u8)
}

/// Orange for class 0, blue for class 1, blended through the background (as TensorFlow
/// Playground shows it).
fn class_colour(p: f32, dark: bool) -> [u8; 3] {
    let t = (p.clamp(0.0, 1.0) - 0.5) * 2.0;
    let (to, w) = if t < 0.0 {
        (CLASS_RGB[0], -t)
    } else {
        (CLASS_RGB[1], t)
    };
    blend(map_background(dark), to, w * 0.85)
}

/// The winning class's colour, the stronger the surer the model is (`p`, from a tie of all
/// `classes` to certainty).
fn winner_colour(class: u8, p: f32, classes: usize, dark: bool) -> [u8; 3] {
    let tie = 1.0 / classes.max(2) as f32;
    let w = ((p - tie) / (1.0 - tie)).clamp(0.0, 1.0);
    blend(
        map_background(dark),
        CLASS_RGB[class as usize % CLASS_RGB.len()],
        w * 0.85,
    )
}

/// Puts a `w` x `h` RGBA image into `canvas` at one pixel a cell, resizing the canvas to it
/// (its CSS size scales it up): one `putImageData`, no scratch canvas.
fn put_rgba(canvas: &HtmlCanvasElement, rgba: &[u8], w: usize, h: usize) {
    if canvas.width() != w as u32 || canvas.height() != h as u32 {
        canvas.set_width(w as u32);
        canvas.set_height(h as u32);
    }
    let Some(ctx) = context(canvas) else {
        return;
    };
    if let Ok(data) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), w as u32, h as u32)
    {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// Paints an `n` x `n` map of shades (see [`crate::network_view::unit_shades`]) into `canvas`
/// at one pixel a cell (smoothly scaled up by CSS), so that the network view's dozens of
/// units cost little to redraw.
pub fn paint_shades(canvas: &HtmlCanvasElement, shades: &[f32], n: usize) {
    if shades.len() < n * n || n == 0 {
        return;
    }
    let dark = prefers_dark();
    let rgba: Vec<u8> = shades[..n * n]
        .iter()
        .flat_map(|&p| {
            let [r, g, b] = class_colour(p, dark);
            [r, g, b, 255]
        })
        .collect();
    put_rgba(canvas, &rgba, n, n);
}

/// Paints `levels` (0 black to 255 white, row-major `w` x `h`) into `canvas` at one pixel a
/// level (its CSS size scales it up, with hard pixels).
pub fn paint_grey(canvas: &HtmlCanvasElement, levels: &[u8], w: usize, h: usize) {
    if levels.len() < w * h || w == 0 || h == 0 {
        return;
    }
    let rgba: Vec<u8> = levels[..w * h]
        .iter()
        .flat_map(|&v| [v, v, v, 255])
        .collect();
    put_rgba(canvas, &rgba, w, h);
}

/// The part of the plane the boundary panel shows: the map's, or else the points' with a
/// margin (the set's usual square when there are none).
pub fn boundary_extent(map: Option<&BoundaryMap>, points: &[ToyPoint]) -> [f32; 4] {
    if let Some(m) = map {
        return m.extent;
    }
    if points.is_empty() {
        return [-1.1, 1.1, -1.1, 1.1];
    }
    let mut e = [f32::MAX, f32::MIN, f32::MAX, f32::MIN];
    for p in points {
        e = [e[0].min(p.x), e[1].max(p.x), e[2].min(p.y), e[3].max(p.y)];
    }
    let mx = (e[1] - e[0]).max(1e-3) * 0.08;
    let my = (e[3] - e[2]).max(1e-3) * 0.08;
    [e[0] - mx, e[1] + mx, e[2] - my, e[3] + my]
}

/// Paints one bar per level (a dense layer's units), as tall as the level.
pub fn paint_levels_bars(canvas: &HtmlCanvasElement, levels: &[u8]) {
    let Some(ctx) = context(canvas) else {
        return;
    };
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let dark = prefers_dark();
    ctx.set_fill_style_str(if dark { "#1e2128" } else { "#e8eaeb" });
    ctx.fill_rect(0.0, 0.0, w, h);
    if levels.is_empty() {
        return;
    }
    ctx.set_fill_style_str(CLASS_COLOURS[1]);
    let bar = w / levels.len() as f64;
    for (i, &l) in levels.iter().enumerate() {
        let height = f64::from(l) / 255.0 * h;
        ctx.fill_rect(i as f64 * bar, h - height, bar.max(1.0), height);
    }
}

/// Paints the decision-boundary map and the points over it.
pub fn draw_boundary(canvas: &HtmlCanvasElement, map: Option<&BoundaryMap>, points: &[ToyPoint]) {
    let Some(ctx) = context(canvas) else {
        return;
    };
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let dark = prefers_dark();
    ctx.set_fill_style_str(if dark { "#1e2128" } else { "#e8eaeb" });
    ctx.fill_rect(0.0, 0.0, w, h);
    if map.is_none() && points.is_empty() {
        ctx.set_fill_style_str(if dark { "#9aa3ad" } else { "#5f6b76" });
        ctx.set_font("14px sans-serif");
        ctx.set_text_align("center");
        let _ = ctx.fill_text("Press Train: the model's decision", w / 2.0, h / 2.0 - 10.0);
        let _ = ctx.fill_text(
            "boundary appears here as it learns",
            w / 2.0,
            h / 2.0 + 12.0,
        );
        ctx.set_text_align("start");
        return;
    }
    let extent = boundary_extent(map, points);
    if let Some(map) = map {
        let n = map.resolution;
        let mut rgba = Vec::with_capacity(n * n * 4);
        for (i, &p) in map.class1.iter().enumerate() {
            let [r, g, b] = match map.winners.get(i) {
                Some(&w) => winner_colour(w, p, map.classes, dark),
                None => class_colour(p, dark),
            };
            rgba.extend([r, g, b, 255]);
        }
        // Paint the small map, then scale it up smoothly.
        blit(&ctx, &rgba, n, (w, h), true);
    }
    let [x0, x1, y0, y1] = extent;
    let sx = |x: f32| ((x - x0) / (x1 - x0).max(1e-6)) as f64 * w;
    let sy = |y: f32| (1.0 - ((y - y0) / (y1 - y0).max(1e-6)) as f64) * h;
    // One path per colour and outline (a few canvas calls, not several per point: string
    // styles crossing from wasm to JS per point made this the page's slowest task).
    let outline = |test: bool| match (test, dark) {
        (true, true) => "#ffffff",
        (true, false) => "#000000",
        (false, true) => "#1e2128",
        (false, false) => "#ffffff",
    };
    for (label, fill) in CLASS_COLOURS.iter().enumerate() {
        let label = label as u32;
        for test in [false, true] {
            ctx.begin_path();
            for p in points.iter().filter(|p| p.label == label && p.test == test) {
                let (x, y) = (sx(p.x), sy(p.y));
                ctx.move_to(x + 3.2, y);
                let _ = ctx.arc(x, y, 3.2, 0.0, std::f64::consts::TAU);
            }
            ctx.set_fill_style_str(fill);
            ctx.fill();
            ctx.set_line_width(if test { 1.6 } else { 0.8 });
            ctx.set_stroke_style_str(outline(test));
            ctx.stroke();
        }
    }
}

/// Paints a grey-level image (ink light on dark) scaled to the canvas.
pub fn draw_image(canvas: &HtmlCanvasElement, image: &ImageExample) {
    let Some(ctx) = context(canvas) else {
        return;
    };
    let side = image.side.max(1);
    if image.pixels.len() != side * side {
        return;
    }
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|&v| [v, v, v, 255]).collect();
    let size = (canvas.width() as f64, canvas.height() as f64);
    blit(&ctx, &rgba, side, size, false);
}

/// Paints a `side` x `side` RGBA image over the whole of `ctx`'s canvas (`size`), smoothly
/// scaled or with hard pixels.
fn blit(ctx: &CanvasRenderingContext2d, rgba: &[u8], side: usize, size: (f64, f64), smooth: bool) {
    let Ok(data) =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), side as u32, side as u32)
    else {
        return;
    };
    let document = web_sys::window().and_then(|w| w.document());
    let Some(scratch) = document
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
    else {
        return;
    };
    scratch.set_width(side as u32);
    scratch.set_height(side as u32);
    if let Some(sctx) = context(&scratch) {
        let _ = sctx.put_image_data(&data, 0.0, 0.0);
        ctx.set_image_smoothing_enabled(smooth);
        let _ = ctx
            .draw_image_with_html_canvas_element_and_dw_and_dh(&scratch, 0.0, 0.0, size.0, size.1);
    }
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
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else {
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
    let font = ("sans-serif", 12).into_font().color(&palette.text);
    let Ok(mut chart) = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(52)
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
    let _ = chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_label_formatter(&y_format)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .axis_style(palette.text)
        .bold_line_style(palette.grid)
        .light_line_style(palette.background)
        .draw();
    for (i, s) in series.iter().enumerate() {
        let colour = RUN_COLOURS[i % RUN_COLOURS.len()];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, y)| (x, tf(y)))
            .collect();
        if let Ok(drawn) = chart.draw_series(LineSeries::new(points, colour.stroke_width(2))) {
            drawn.label(s.name.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
        }
    }
    let _ = chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(font)
        .background_style(palette.background.mix(0.85))
        .border_style(palette.grid)
        .draw();
    let _ = root.present();
}
