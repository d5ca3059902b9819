//! Chart legends, drawn on the canvas with text measured by [`MeasuredCanvas`].

use plotters::prelude::*;

use super::measured::MeasuredCanvas;
use super::Palette;

/// How a legend entry shows its series.
#[derive(Clone, Copy)]
pub enum LegendMark {
    /// A line in this colour.
    Line(RGBColor),
    /// A filled dot in this colour.
    Dot(RGBColor),
}

/// Which corner of the plotting area a legend sits in.
#[derive(Clone, Copy)]
pub enum LegendCorner {
    /// Top right.
    UpperRight,
    /// Bottom right.
    LowerRight,
}

/// Draws a legend of `entries` in a corner of the plotting area `plot` (pixel ranges on
/// `root`), on a box of the background colour, entries measured by the canvas.
pub fn draw_legend(
    root: &DrawingArea<MeasuredCanvas, plotters::coord::Shift>,
    plot: (std::ops::Range<i32>, std::ops::Range<i32>),
    entries: &[(String, LegendMark)],
    corner: LegendCorner,
    palette: &Palette,
) {
    if entries.is_empty() {
        return;
    }
    let font = ("sans-serif", 12).into_font().color(&palette.text);
    const ROW: i32 = 18;
    const MARK: i32 = 20;
    const PAD: i32 = 6;
    let text_width = entries
        .iter()
        .filter_map(|(label, _)| root.estimate_text_size(label, &font).ok())
        .map(|(w, _)| w as i32)
        .max()
        .unwrap_or(0);
    let width = PAD + MARK + 6 + text_width + PAD;
    let height = PAD * 2 + ROW * entries.len() as i32;
    let right = plot.0.end - 8;
    // A legend wider than the plot starts at its left edge.
    let left = (right - width).max(plot.0.start + 4);
    let top = match corner {
        LegendCorner::UpperRight => plot.1.start + 8,
        LegendCorner::LowerRight => plot.1.end - 8 - height,
    };
    let _ = root.draw(&Rectangle::new(
        [(left, top), (right, top + height)],
        palette.background.mix(0.85).filled(),
    ));
    let _ = root.draw(&Rectangle::new(
        [(left, top), (right, top + height)],
        palette.grid.stroke_width(1),
    ));
    for (i, (label, mark)) in entries.iter().enumerate() {
        let y = top + PAD + ROW * i as i32 + ROW / 2;
        let x = left + PAD;
        let _ = match *mark {
            LegendMark::Line(colour) => root.draw(&PathElement::new(
                vec![(x, y), (x + MARK, y)],
                colour.stroke_width(2),
            )),
            LegendMark::Dot(colour) => {
                root.draw(&Circle::new((x + MARK / 2, y), 4, colour.filled()))
            }
        };
        let _ = root.draw(&Text::new(
            label.clone(),
            (x + MARK + 6, y),
            font.pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
        ));
    }
}
