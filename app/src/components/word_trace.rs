//! Words that move the verdict (#17): for the review in the box, each word tinted by how far
//! it moved the model's verdict (unknown words marked), the positive probability after each
//! word drawn as a trace, and the recurrent state after each word as a heat map (a column per
//! word, a row per unit) whose columns line up with the trace's points and name their word
//! under the pointer. The worker computes the trace with the prediction; the page paints it.

use kindling_core::inside::{ReadWord, ReviewTrace};
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::{context, paint_states};
use crate::session::{use_predictions, use_session};

/// CSS pixels the trace and the heat map span when they fit (wider ones scroll).
const SPAN: f64 = 288.0;

/// CSS pixels a word takes along the trace and the heat map: the span shared by the words,
/// between 6 and 24.
fn column(words: usize) -> f64 {
    (SPAN / words.max(1) as f64).clamp(6.0, 24.0)
}
/// Height of the trace in CSS pixels.
const TRACE_HEIGHT: f64 = 64.0;
/// A word that moves the verdict this far (or more) is tinted fully.
const FULL_TINT: f32 = 0.2;

/// The tint of a word that moved the verdict by `delta`: blue towards positive, orange
/// towards negative (the meter's colours), as strong as the move.
fn tint(delta: f32) -> String {
    let strength = (delta.abs() / FULL_TINT).min(1.0) * 0.75;
    let (r, g, b) = if delta >= 0.0 {
        (17, 99, 204)
    } else {
        (232, 89, 12)
    };
    format!("rgba({r}, {g}, {b}, {strength:.3})")
}

/// What the pointer's word says: its place, the verdict after it and how far it moved it.
fn word_text(i: usize, count: usize, word: &ReadWord) -> String {
    format!(
        "After “{}” (word {} of {count}): {:.1}% positive ({:+.1} points){}",
        word.word,
        i + 1,
        word.positive * 100.0,
        word.delta * 100.0,
        if word.known {
            ""
        } else {
            "; the model does not know this word"
        }
    )
}

/// The range of the trace's axis: its values and 50%, with a margin, at least 10 points wide
/// (a short run's model moves little: the axis says how little).
fn trace_range(trace: &ReviewTrace) -> (f32, f32) {
    let (low, high) = trace
        .words
        .iter()
        .map(|w| w.positive)
        .chain([trace.before, 0.5])
        .filter(|p| p.is_finite())
        .fold((1.0f32, 0.0f32), |(lo, hi), p| (lo.min(p), hi.max(p)));
    let middle = (low + high) / 2.0;
    let half = ((high - low) / 2.0 * 1.15).max(0.05);
    ((middle - half).max(0.0), (middle + half).min(1.0))
}

/// The trace: the positive probability before the first word and after each, a point per
/// word at the middle of its column, over a dashed line at 50%, its range written at the
/// left; `hovered` is marked.
fn draw_trace(canvas: &web_sys::HtmlCanvasElement, trace: &ReviewTrace, hovered: Option<usize>) {
    let words = trace.words.len();
    let col = column(words);
    let ratio = web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .max(1.0);
    let (w, h) = ((words as f64 * col).max(col), TRACE_HEIGHT);
    canvas.set_width((w * ratio) as u32);
    canvas.set_height((h * ratio) as u32);
    let Some(ctx) = context(canvas) else {
        return;
    };
    let _ = ctx.scale(ratio, ratio);
    let (low, high) = trace_range(trace);
    let y =
        |p: f32| 4.0 + f64::from((high - p) / (high - low).max(1e-6)).clamp(0.0, 1.0) * (h - 8.0);
    ctx.set_stroke_style_str("rgba(128, 128, 128, 0.6)");
    ctx.set_line_width(1.0);
    let _ = ctx.set_line_dash(&js_sys::Array::of2(&3.0.into(), &3.0.into()));
    ctx.begin_path();
    ctx.move_to(0.0, y(0.5));
    ctx.line_to(w, y(0.5));
    ctx.stroke();
    let _ = ctx.set_line_dash(&js_sys::Array::new());
    if let Some(i) = hovered.filter(|&i| i < words) {
        ctx.set_fill_style_str("rgba(128, 128, 128, 0.25)");
        ctx.fill_rect(i as f64 * col, 0.0, col, h);
    }
    ctx.set_fill_style_str("rgba(128, 128, 128, 0.9)");
    ctx.set_font("10px sans-serif");
    let _ = ctx.fill_text(&format!("{:.0}%", high * 100.0), 2.0, 11.0);
    let _ = ctx.fill_text(&format!("{:.0}%", low * 100.0), 2.0, h - 3.0);
    ctx.set_stroke_style_str("#1163cc");
    ctx.set_line_width(1.5);
    ctx.begin_path();
    ctx.move_to(0.0, y(trace.before));
    for (i, word) in trace.words.iter().enumerate() {
        ctx.line_to((i as f64 + 0.5) * col, y(word.positive));
    }
    ctx.stroke();
}

/// The trace, the tinted words and the state heat map of the review in the box.
#[component]
pub fn WordTrace() -> impl IntoView {
    let predictions = use_predictions();
    let trace = Memo::new(move |_| {
        predictions
            .review
            .with(|r| r.as_ref().and_then(|r| r.trace.clone()))
    });
    let hovered = RwSignal::new(None::<usize>);
    let trace_canvas: NodeRef<Canvas> = NodeRef::new();
    let states_canvas: NodeRef<Canvas> = NodeRef::new();
    Effect::new(move |_| {
        let hovered = hovered.get();
        trace.with(|t| {
            if let (Some(t), Some(c)) = (t, trace_canvas.get()) {
                draw_trace(&c, t, hovered);
            }
        })
    });
    Effect::new(move |_| {
        trace.with(|t| {
            if let (Some(t), Some(c)) = (t, states_canvas.get()) {
                paint_states(&c, &t.levels, t.units);
            }
        })
    });
    let count = move || trace.with(|t| t.as_ref().map_or(0, |t| t.words.len()));
    let units = move || trace.with(|t| t.as_ref().map_or(0, |t| t.units));
    let width = move || {
        let col = column(count());
        format!("{}px", (count() as f64 * col).max(col))
    };
    let on_states_move = move |ev: web_sys::MouseEvent| {
        let i = (f64::from(ev.offset_x()) / column(count())).floor();
        hovered.set((i >= 0.0 && (i as usize) < count()).then_some(i as usize));
    };
    let hover_text = move || {
        trace.with(|t| {
            let t = t.as_ref()?;
            let i = hovered.get()?;
            t.words.get(i).map(|w| word_text(i, t.words.len(), w))
        })
    };
    view! {
        <Show when=move || trace.with(Option::is_some)>
            <div class="word-trace">
                <h4>"Word by word"</h4>
                <p class="hint">
                    "Each word is tinted by how far it moved the verdict (blue towards positive, orange towards negative; dashed: unknown to the model). Below, the positive probability after each word, and the recurrent state after each word (a column per word, a row per unit). Point at a word or a column."
                </p>
                <p class="tokens" data-testid="token-trace" data-words=count
                    data-last=move || trace.with(|t| t.as_ref().map(|t| format!("{:.6}", t.positive())).unwrap_or_default())>
                    {move || trace.with(|t| t.as_ref().map(|t| {
                        let cut = (t.cut > 0).then(|| view! {
                            <span class="hint">{format!("({} words before these were not read) ", t.cut)}</span>
                        });
                        let words = t.words.iter().enumerate().map(|(i, w)| {
                            let title = word_text(i, t.words.len(), w);
                            view! {
                                <span data-testid="token" class="token" class:unknown=!w.known
                                    class:hovered=move || hovered.get() == Some(i)
                                    data-delta=format!("{:.6}", w.delta)
                                    data-positive=format!("{:.6}", w.positive)
                                    style:background-color=tint(w.delta)
                                    title=title
                                    on:mouseenter=move |_| hovered.set(Some(i))
                                    on:click=move |_| hovered.set(Some(i))
                                >{w.word.clone()}</span>
                                " "
                            }
                        }).collect_view();
                        (cut, words)
                    }))}
                </p>
                <div class="trace-scroll">
                    <span class="axis-note">"positive probability after each word"</span>
                    <canvas class="trace-line" node_ref=trace_canvas
                        style:width=width style:height=format!("{TRACE_HEIGHT}px")
                        aria-label="The positive probability after each word"></canvas>
                    <canvas class="states" node_ref=states_canvas data-testid="hidden-state"
                        data-words=count data-units=units
                        style:width=width
                        style:height=move || format!("{}px", units() * (256 / units().max(1)).clamp(1, 4))
                        aria-label="The recurrent state after each word: a column per word, a row per unit"
                        on:mousemove=on_states_move
                        on:mouseleave=move |_| hovered.set(None)></canvas>
                    <span class="axis-note">
                        {move || trace.with(|t| t.as_ref().map(|t| format!(
                            "recurrent state: {} units × {} words (orange −{s:.2}, blue +{s:.2})",
                            t.units,
                            t.words.len(),
                            s = t.scale
                        )))}
                    </span>
                </div>
                <p class="hint" data-testid="hidden-word">
                    {move || hover_text().unwrap_or_else(|| "Point at a column to see its word.".into())}
                </p>
            </div>
        </Show>
    }
}

/// A review of a gallery (the data preview, the mistakes), its first `limit` characters shown:
/// a click puts it in the review box, read word by word.
#[component]
pub fn ClickableReview(text: String, limit: usize) -> impl IntoView {
    let s = use_session();
    let shown: String = text.chars().take(limit).collect();
    let shown = if shown.len() < text.len() {
        format!("{shown}…")
    } else {
        shown
    };
    view! {
        <button class="review-text link" data-testid="read-review"
            title="Read it in the review box, word by word"
            on:click=move |_| {
                s.read_review(text.clone());
                let input = document().query_selector("[data-testid=review-input]").ok().flatten();
                if let Some(input) = input {
                    input.scroll_into_view();
                }
            }>{shown}</button>
    }
}
