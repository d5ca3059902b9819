//! What the data looks like: the preview (images, reviews, class counts), image tiles, and the
//! decision boundary of 2-D sets as they train.

use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::{draw_boundary, draw_image};
use crate::protocol::ImageExample;
use crate::session::use_current_run;

use crate::network_view::{focus_caption, focused_map};

use super::thousands;

/// The decision-boundary map of 2-D sets.
#[component]
pub(super) fn Boundary() -> impl IntoView {
    let run = use_current_run();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    // A unit of the network view pointed at: its map instead of the model's boundary.
    let focused = move || {
        let focus = run.focus.get()?;
        run.network.with(|v| {
            v.as_ref()
                .map(|v| (focused_map(v, focus), focus_caption(v, focus)))
        })
    };
    Effect::new(move |_| {
        let focused = focused().and_then(|(map, _)| map);
        let map = focused.or_else(|| run.boundary.get());
        let points = run
            .preview
            .with(|p| p.as_ref().map(|p| p.points.clone()).unwrap_or_default());
        if let Some(c) = canvas.get() {
            draw_boundary(&c, map.as_ref(), &points);
        }
    });
    view! {
        <figure class="boundary">
            <canvas node_ref=canvas width="320" height="320" data-testid="boundary"></canvas>
            <figcaption>
                {move || match focused() {
                    Some((_, caption)) => view! { <span data-testid="neuron-focus">{caption}</span> }.into_any(),
                    None => "Decision boundary: orange class 0, blue class 1; outlined points are test points. Point at a unit of the network for its own map.".into_any(),
                }}
            </figcaption>
        </figure>
    }
}

/// A small canvas showing an image example.

#[component]
pub fn ImageTile(
    image: ImageExample,
    #[prop(into)] caption: String,
    #[prop(optional)] size: Option<u32>,
) -> impl IntoView {
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let size = size.unwrap_or(56);
    let shown = image.clone();
    Effect::new(move |_| {
        if let Some(c) = canvas.get() {
            draw_image(&c, &shown);
        }
    });
    view! {
        <figure class="tile">
            <canvas node_ref=canvas width=size.to_string() height=size.to_string()></canvas>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

/// What the loaded data looks like.

#[component]
pub(super) fn Preview() -> impl IntoView {
    let run = use_current_run();
    view! {
        {move || {
            run.preview.get().map(|p| {
                let max = p.class_counts.iter().copied().max().unwrap_or(1).max(1);
                let names = p.class_names.clone();
                view! {
                    <details class="preview" data-testid="data-preview" open=p.points.is_empty()
                        data-memory-bytes=p.memory_bytes.to_string()>
                        <summary>
                            {format!(
                                "{}: {} train · {} validation · {} test",
                                p.name,
                                thousands(p.sizes[0] as f64),
                                thousands(p.sizes[1] as f64),
                                thousands(p.sizes[2] as f64)
                            )}
                            {(p.memory_bytes > 0).then(|| format!(
                                " · worker memory {:.0} MB",
                                p.memory_bytes as f64 / 1_048_576.0
                            ))}
                        </summary>
                        <div class="histogram" aria-label="Training examples per class">
                            {p.class_counts
                                .iter()
                                .enumerate()
                                .map(|(i, &n)| {
                                    let name = names.get(i).cloned().unwrap_or_else(|| i.to_string());
                                    let title = format!("{name}: {n}");
                                    view! {
                                        <div class="hbar" title=title>
                                            <div class="hfill" style:height=format!("{:.0}%", 100.0 * n as f64 / max as f64)></div>
                                            <span>{name}</span>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </div>
                        <div class="tiles">
                            {p.images
                                .iter()
                                .map(|img| {
                                    let caption = names.get(img.label as usize).cloned().unwrap_or_default();
                                    view! { <ImageTile image=img.clone() caption=caption /> }
                                })
                                .collect_view()}
                        </div>
                        <ul class="reviews">
                            {p.reviews
                                .iter()
                                .map(|r| {
                                    view! {
                                        <li>
                                            <b>{if r.label == 1 { "positive" } else { "negative" }}</b>
                                            {format!(" · {} tokens · ", r.tokens)}
                                            <span class="review-text">{r.text.chars().take(300).collect::<String>()}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </details>
                }
            })
        }}
    }
}
