//! The right column: draw a digit for the model to read, or type a review for the IMDB model.

#[cfg(test)]
use kindling_core::data::digit::Drawing;
use kindling_core::data::digit::Strokes;
use kindling_core::data::imdb::MAX_REVIEW_CHARS;
use kindling_core::model::summary::thousands;
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, PointerEvent};

use super::training::ImageTile;
use crate::protocol::ToWorker;
use crate::session::{use_predictions, use_session, use_worker};

/// Side of the drawing canvas in canvas pixels.
const PAD: u32 = 280;
/// Pen width in canvas pixels (MNIST strokes are about 2-3 px of 28).
pub(crate) const PEN: f64 = 22.0;
/// The smallest a digit is read as, in canvas pixels: a tap or a tiny scribble stays small
/// in the 20x20 box instead of being blown up to fill it.
const MIN_DIGIT: f32 = PAD as f32 / 8.0;
/// Least milliseconds between two predictions while drawing.
const PREDICT_MS: f64 = 120.0;

pub(crate) fn context(canvas: &web_sys::HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    // The pad is read back after every stroke: tell the browser to keep it in memory.
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"willReadFrequently".into(), &true.into());
    canvas
        .get_context_with_context_options("2d", &options)
        .ok()??
        .dyn_into()
        .ok()
}

pub(crate) fn clear(canvas: &web_sys::HtmlCanvasElement) {
    if let Some(ctx) = context(canvas) {
        ctx.set_fill_style_str("#000000");
        ctx.fill_rect(0.0, 0.0, canvas.width() as f64, canvas.height() as f64);
    }
}

/// The drawing as ink levels (the red channel of white strokes on black): the pad's pixels,
/// for the in-browser tests of [`Drawing`] (the page reads the strokes instead).
#[cfg(test)]
pub(crate) fn drawing(canvas: &web_sys::HtmlCanvasElement) -> Option<Drawing> {
    let ctx = context(canvas)?;
    let (w, h) = (canvas.width(), canvas.height());
    let data = ctx
        .get_image_data(0.0, 0.0, w as f64, h as f64)
        .ok()?
        .data();
    Some(Drawing {
        width: w as usize,
        height: h as usize,
        ink: data.chunks_exact(4).map(|p| p[0] as f32 / 255.0).collect(),
    })
}

/// Draw-to-classify.
#[component]
fn DrawDigit() -> impl IntoView {
    let predictions = use_predictions();
    let worker = use_worker();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let drawing_now = RwSignal::new(false);
    let last = RwSignal::new((0.0f64, 0.0f64));
    let last_predict = RwSignal::new(0.0f64);
    let has_ink = RwSignal::new(false);
    // The pen's strokes in canvas pixels: what the model reads is drawn from them.
    let strokes = StoredValue::new(Vec::<Vec<(f32, f32)>>::new());

    Effect::new(move |_| {
        if let Some(c) = canvas.get() {
            clear(&c);
        }
    });

    let position = move |ev: &PointerEvent| -> Option<(f64, f64)> {
        let c = canvas.get_untracked()?;
        let rect = c.get_bounding_client_rect();
        let sx = c.width() as f64 / rect.width().max(1.0);
        let sy = c.height() as f64 / rect.height().max(1.0);
        Some((
            (ev.client_x() as f64 - rect.left()) * sx,
            (ev.client_y() as f64 - rect.top()) * sy,
        ))
    };
    let predict = move |force: bool| {
        let now = js_sys::Date::now();
        if !force && now - last_predict.get_untracked() < PREDICT_MS {
            return;
        }
        last_predict.set(now);
        let Some(pixels) = strokes.with_value(|s| {
            Strokes {
                strokes: s.clone(),
                min_extent: MIN_DIGIT,
            }
            .to_mnist()
        }) else {
            return;
        };
        let request = predictions.next_request();
        worker.send(&ToWorker::PredictImage {
            request,
            pixels,
            run_model: false,
        });
    };
    // Draws the pen from its last point to (x, y) on the pad.
    let draw_to = move |x: f64, y: f64| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let Some(ctx) = context(&c) else { return };
        let (x0, y0) = last.get_untracked();
        ctx.set_stroke_style_str("#ffffff");
        ctx.set_line_width(PEN);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
        ctx.begin_path();
        ctx.move_to(x0, y0);
        ctx.line_to(x, y);
        ctx.stroke();
        last.set((x, y));
        has_ink.set(true);
    };
    // Draws to (x, y) and records the point in the current stroke.
    let stroke_to = move |x: f64, y: f64| {
        draw_to(x, y);
        strokes.update_value(|s| {
            if let Some(stroke) = s.last_mut() {
                stroke.push((x as f32, y as f32));
            }
        });
    };
    view! {
        <div class="group" data-panel="draw">
            <h3>"Draw a digit"</h3>
            <p class="hint">
                "Train a model on MNIST or tinyMNIST, then draw here: it reads your digit as MNIST was made (your strokes redrawn at MNIST's pen width into a 20×20 box, centred by mass in 28×28), so small or off-centre digits read as well as large ones."
            </p>
            <div class="draw-row">
                <canvas
                    class="pad"
                    node_ref=canvas
                    width=PAD.to_string()
                    height=PAD.to_string()
                    data-testid="draw-canvas"
                    aria-label="Drawing pad: draw a digit with the mouse, a finger or a pen"
                    tabindex="0"
                    on:pointerdown=move |ev: PointerEvent| {
                        ev.prevent_default();
                        if let Some(c) = canvas.get_untracked() {
                            let _ = c.set_pointer_capture(ev.pointer_id());
                        }
                        if let Some((x, y)) = position(&ev) {
                            drawing_now.set(true);
                            last.set((x, y));
                            strokes.update_value(|s| s.push(vec![(x as f32, y as f32)]));
                            // A dot where the pen touches (drawn, not recorded: the stroke
                            // holds the point itself).
                            draw_to(x + 0.01, y + 0.01);
                        }
                    }
                    on:pointermove=move |ev: PointerEvent| {
                        if drawing_now.get_untracked() {
                            if let Some((x, y)) = position(&ev) {
                                stroke_to(x, y);
                                predict(false);
                            }
                        }
                    }
                    on:pointerup=move |_| {
                        drawing_now.set(false);
                        predict(true);
                    }
                    on:pointercancel=move |_| drawing_now.set(false)
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Delete" || ev.key() == "Backspace" {
                            if let Some(c) = canvas.get_untracked() { clear(&c); }
                            strokes.set_value(Vec::new());
                            has_ink.set(false);
                            predictions.digit.set(None);
                        }
                    }
                ></canvas>
                <div class="model-input">
                    {move || predictions.digit.get().map(|d| view! {
                        <ImageTile image=d.input.clone() caption=format!("what the model reads ({0}×{0})", d.input.side) size=112 />
                    })}
                </div>
            </div>
            <button
                class="secondary"
                data-testid="clear-canvas"
                on:click=move |_| {
                    if let Some(c) = canvas.get_untracked() { clear(&c); }
                    strokes.set_value(Vec::new());
                    has_ink.set(false);
                    predictions.digit.set(None);
                }
            >
                "Clear"
            </button>
            <div class="guess">
                <span>"Prediction: "</span>
                <strong data-testid="predicted-digit">
                    {move || predictions.digit.get().map(|d| {
                        let best = kindling_core::train::argmax(&d.probabilities);
                        best.to_string()
                    }).unwrap_or_else(|| if has_ink.get() { "…".into() } else { "–".into() })}
                </strong>
            </div>
            <ol class="probabilities" data-testid="probabilities">
                {(0..10)
                    .map(|digit| {
                        let p = move || predictions.digit.with(|d| d.as_ref().and_then(|d| d.probabilities.get(digit).copied()).unwrap_or(0.0));
                        view! {
                            <li data-testid=format!("digit-{digit}") data-probability=move || format!("{:.6}", p())>
                                <span class="digit">{digit}</span>
                                <span class="pbar"><span class="pfill" style:width=move || format!("{:.1}%", p() * 100.0)></span></span>
                                <span class="pvalue">{move || format!("{:.1}%", p() * 100.0)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </div>
    }
}

/// Review sentiment, and how the model read the review word by word.
#[component]
fn ReviewBox() -> impl IntoView {
    let s = use_session();
    let predictions = s.predictions;
    view! {
        <div class="group" data-panel="review">
            <h3>"Type a review"</h3>
            <p class="hint">"Train an IMDB model, then type (or click a review in the data preview or the mistakes): the positive probability updates as you type, tokenised exactly as the training reviews."</p>
            <textarea
                data-testid="review-input"
                rows="4"
                placeholder="This film was a delight from start to finish…"
                aria-label="Review text"
                prop:value=move || predictions.review_text.get()
                on:input=move |ev| s.read_review(event_target_value(&ev))
            ></textarea>
            <Show when=move || predictions.review_cut.get()>
                <p class="hint warn" data-testid="review-cut">
                    {format!(
                        "This text is long: only its last {} characters are read (a model reads a review's last words).",
                        thousands(MAX_REVIEW_CHARS as u64)
                    )}
                </p>
            </Show>
            <div class="sentiment" data-testid="sentiment"
                data-positive=move || predictions.review.with(|r| r.as_ref().map(|r| format!("{:.6}", r.positive)).unwrap_or_default())>
                {move || predictions.review.get().map(|r| {
                    let label = if r.positive >= 0.5 { "positive" } else { "negative" };
                    view! {
                        <div class="meter"><span class="mfill" style:width=format!("{:.1}%", r.positive * 100.0)></span></div>
                        <p>
                            <strong>{format!("{label} · {:.1}% positive", r.positive * 100.0)}</strong>
                            {format!(" · {} words", r.tokens)}
                        </p>
                        <p class="hint">
                            {if r.unknown.is_empty() {
                                "Every word is in the model's vocabulary.".to_string()
                            } else {
                                format!("Unknown to the model: {}", r.unknown.join(", "))
                            }}
                        </p>
                    }
                })}
            </div>
            <crate::components::word_trace::WordTrace />
        </div>
    }
}

/// The right column.
#[component]
pub fn TryItPanel() -> impl IntoView {
    let predictions = use_predictions();
    view! {
        <section class="panel try" aria-label="Try the model">
            <h2>"Try it"</h2>
            <p class="hint" data-testid="model-in-use">
                {move || match predictions.model_in_use.get() {
                    Some(name) => format!("Reading with the saved model \"{name}\" (Runs → Use)."),
                    None => "Reading with the current run's model; a kept run's Use button picks another.".into(),
                }}
            </p>
            <Show when=move || predictions.note.get().is_some()>
                <div class="message notice" data-testid="prediction-note">{move || predictions.note.get().unwrap_or_default()}</div>
            </Show>
            <DrawDigit />
            <crate::components::layer_view::LayerView />
            <ReviewBox />
        </section>
    }
}
