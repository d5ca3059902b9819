//! Drawing on canvases: training curves and overlays (plotters) in `curves`, the
//! decision-boundary map, neuron and state maps, and images in `maps`.

mod curves;
mod legend;
mod maps;
mod measured;

pub use curves::{draw_curves, draw_overlay, Metric, Series, RUN_COLOURS};
pub use maps::*;

use plotters::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

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

pub(crate) fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}
