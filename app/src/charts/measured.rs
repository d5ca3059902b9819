//! A plotters canvas backend that measures text with the canvas itself.
//!
//! plotters' browser font support sizes each label by adding a `<span>` to the page and reading
//! its size back, which makes the browser lay out the whole page once per label: tens of
//! milliseconds per chart on a page as full as the playground's, on the main thread. The
//! canvas's own `measureText` needs no layout. Every chart is drawn through this backend, and
//! the charts draw their legends themselves (`super::legend`), since plotters' series labels
//! measure text through the font and not through the backend.

use plotters::prelude::*;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};
use plotters_canvas::CanvasBackend;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// A line of text's height per pixel of font size, as browsers lay out `line-height: normal`.
const LINE_HEIGHT: f64 = 1.2;

/// Errors of the canvas backend this one wraps.
type CanvasError = <CanvasBackend as DrawingBackend>::ErrorType;

/// [`CanvasBackend`] with text measured by the canvas's `measureText`.
pub struct MeasuredCanvas {
    canvas: CanvasBackend,
    context: CanvasRenderingContext2d,
}

impl MeasuredCanvas {
    /// A backend drawing on `canvas`, or `None` when it has no 2-D context.
    pub fn new(canvas: &HtmlCanvasElement) -> Option<Self> {
        Some(MeasuredCanvas {
            canvas: CanvasBackend::with_canvas_object(canvas.clone())?,
            context: super::context(canvas)?,
        })
    }

    /// The CSS font of a plotters text style, as the canvas backend sets it to draw.
    fn font_of<S: BackendTextStyle>(style: &S) -> String {
        format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str()
        )
    }
}

/// A failure to measure text, as a plotters font error.
#[derive(Debug)]
struct MeasureError;

impl std::fmt::Display for MeasureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the canvas could not measure a text")
    }
}

impl std::error::Error for MeasureError {}

impl DrawingBackend for MeasuredCanvas {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        self.canvas.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.fill_polygon(vert, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.canvas.draw_text(text, style, pos)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        self.context.set_font(&Self::font_of(style));
        let metrics = self
            .context
            .measure_text(text)
            .map_err(|_| DrawingErrorKind::FontError(Box::new(MeasureError)))?;
        // The height of a line of text, as a span's would be (about 1.2 times the font size).
        Ok((
            metrics.width().ceil() as u32,
            (style.size() * LINE_HEIGHT).ceil() as u32,
        ))
    }
}
