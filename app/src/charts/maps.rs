//! Maps painted at one pixel a cell (scaled up by CSS): the decision boundary with its points,
//! neuron maps, layer levels, images.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::{context, prefers_dark};
use crate::protocol::{BoundaryMap, ImageExample, ToyPoint};

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

/// The colour of a value on a regression map, against `scale`: blue for high values, orange
/// for low (negative) ones, the background near 0, as TensorFlow Playground shows regression.
fn value_colour(value: f32, scale: f32, dark: bool) -> [u8; 3] {
    class_colour(0.5 + 0.5 * (value / scale.max(1e-6)).clamp(-1.0, 1.0), dark)
}

/// Which points of the boundary panel one path draws.
type PointFilter = Box<dyn Fn(&ToyPoint) -> bool>;

/// Levels a regression set's points are drawn at (one path each).
const VALUE_LEVELS: usize = 11;

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

/// Paints a recurrent layer's states as a heat map, a column per word and a row per unit, at
/// one pixel a cell: `levels` holds each word's `units` states (level 0 is -1: orange, 255 is
/// 1: blue, as the maps colour a unit's output).
pub fn paint_states(canvas: &HtmlCanvasElement, levels: &[u8], units: usize) {
    let words = levels.len() / units.max(1);
    if words == 0 {
        return;
    }
    let dark = prefers_dark();
    let mut rgba = vec![0u8; words * units * 4];
    for (word, states) in levels.chunks_exact(units).enumerate() {
        for (unit, &l) in states.iter().enumerate() {
            let [r, g, b] = class_colour(f32::from(l) / 255.0, dark);
            let at = (unit * words + word) * 4;
            rgba[at..at + 4].copy_from_slice(&[r, g, b, 255]);
        }
    }
    put_rgba(canvas, &rgba, words, units);
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

/// Fills `canvas` with the maps' background: its context, width, height and whether the
/// theme is dark.
fn blank_map(canvas: &HtmlCanvasElement) -> Option<(CanvasRenderingContext2d, f64, f64, bool)> {
    let ctx = context(canvas)?;
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let dark = prefers_dark();
    ctx.set_fill_style_str(if dark { "#1e2128" } else { "#e8eaeb" });
    ctx.fill_rect(0.0, 0.0, w, h);
    Some((ctx, w, h, dark))
}

/// Paints a histogram: a bar per bin, as tall as its count over the largest, in `colour`.
pub fn paint_histogram(canvas: &HtmlCanvasElement, counts: &[u32], colour: &str) {
    let Some((ctx, w, h, _)) = blank_map(canvas) else {
        return;
    };
    let largest = counts.iter().copied().max().unwrap_or(0);
    if largest == 0 {
        return;
    }
    ctx.set_fill_style_str(colour);
    let bar = w / counts.len() as f64;
    for (i, &c) in counts.iter().enumerate() {
        let height = f64::from(c) / f64::from(largest) * (h - 2.0);
        // A bin with any value shows, however few.
        let height = if c > 0 { height.max(1.0) } else { 0.0 };
        ctx.fill_rect(
            i as f64 * bar + 0.5,
            h - height,
            (bar - 1.0).max(1.0),
            height,
        );
    }
}

/// Paints one bar per level (a dense layer's units), as tall as the level.
pub fn paint_levels_bars(canvas: &HtmlCanvasElement, levels: &[u8]) {
    let Some((ctx, w, h, _)) = blank_map(canvas) else {
        return;
    };
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
    let Some((ctx, w, h, dark)) = blank_map(canvas) else {
        return;
    };
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
            let [r, g, b] = match (map.value_scale, map.winners.get(i)) {
                (Some(scale), _) => value_colour(p, scale, dark),
                (None, Some(&w)) => winner_colour(w, p, map.classes, dark),
                (None, None) => class_colour(p, dark),
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
    // A regression set's points by their value, in a few levels against the map's scale (or
    // the points' own); a classification set's by class.
    let value_scale = map.and_then(|m| m.value_scale).unwrap_or_else(|| {
        points
            .iter()
            .filter_map(|p| p.value)
            .fold(0.0f32, |m, v| m.max(v.abs()))
    });
    let level_of = move |v: f32| {
        let t = 0.5 + 0.5 * (v / value_scale.max(1e-6)).clamp(-1.0, 1.0);
        (t * (VALUE_LEVELS - 1) as f32).round() as usize
    };
    let groups: Vec<(String, PointFilter)> = if points.iter().any(|p| p.value.is_some()) {
        (0..VALUE_LEVELS)
            .map(|level| {
                let t = level as f32 / (VALUE_LEVELS - 1) as f32;
                // Full colour for the points, so they stand out on the map.
                let [r, g, b] = blend(
                    map_background(dark),
                    if t < 0.5 { CLASS_RGB[0] } else { CLASS_RGB[1] },
                    0.3 + 0.7 * (t - 0.5).abs() * 2.0,
                );
                let test: PointFilter =
                    Box::new(move |p: &ToyPoint| p.value.map(level_of) == Some(level));
                (format!("rgb({r},{g},{b})"), test)
            })
            .collect()
    } else {
        CLASS_COLOURS
            .iter()
            .enumerate()
            .map(|(label, fill)| {
                let test: PointFilter = Box::new(move |p: &ToyPoint| p.label == label as u32);
                (fill.to_string(), test)
            })
            .collect()
    };
    for (fill, in_group) in &groups {
        for test in [false, true] {
            ctx.begin_path();
            for p in points.iter().filter(|p| in_group(p) && p.test == test) {
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
