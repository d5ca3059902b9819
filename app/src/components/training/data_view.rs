//! What the data looks like: the preview (images, reviews, class counts), image tiles, and the
//! decision boundary of 2-D sets as they train.

use leptos::html::Canvas;
use leptos::prelude::*;

use kindling_core::DatasetConfig;

use crate::charts::{boundary_extent, draw_boundary, draw_image};
use crate::protocol::ImageExample;
use crate::protocol::ToWorker;
use crate::session::{use_builder, use_current_run, use_messages, use_session, Session};
use crate::toy_edits::{
    add_point, point_count_text, remove_point_near, same_set, shown_points, SHOWN_POINTS_PER_SPLIT,
};

use crate::network_view::{focus_caption, focused_map};

use super::thousands;

/// How near a shift-click must be to a point to remove it, in canvas pixels.
const REMOVE_RADIUS_PX: f64 = 8.0;

/// The decision-boundary map of 2-D sets, with the data points over it. Between runs the
/// points are the builder's toy set, which a click edits: a point of the chosen class added
/// where clicked, or with Shift the nearest point removed (the next run trains on the edited
/// set, and its link carries it).
#[component]
pub(super) fn Boundary() -> impl IntoView {
    let run = use_current_run();
    let builder = use_builder();
    let messages = use_messages();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let point_class = RwSignal::new(0u32);
    // The value of a point added to a regression set.
    let point_value = RwSignal::new(0.5f32);
    // The builder's toy set, when it is the one to edit (no run loading or training).
    let builder_toy = Memo::new(move |_| {
        if run.busy() {
            return None;
        }
        builder.config.with(|c| match &c.dataset {
            DatasetConfig::Toy(t) => Some(t.clone()),
            _ => None,
        })
    });
    let builder_points = Memo::new(move |_| {
        builder_toy.with(|t| t.as_ref().map(|t| shown_points(t, SHOWN_POINTS_PER_SPLIT)))
    });
    // The run's map belongs under the builder's points only when they are the same set.
    let map_fits = move || {
        match builder_toy.get() {
        None => true,
        Some(toy) => run.config.with(|c| {
            matches!(c.as_ref().map(|c| &c.dataset), Some(DatasetConfig::Toy(t)) if same_set(t, &toy))
        }),
    }
    };
    // A unit of the network view pointed at: its map instead of the model's boundary.
    let focused = move || {
        let focus = run.focus.get()?;
        run.network.with(|v| {
            v.as_ref()
                .map(|v| (focused_map(v, focus), focus_caption(v, focus)))
        })
    };
    let shown = move || {
        let focused = focused().and_then(|(map, _)| map);
        let map = focused
            .or_else(|| run.boundary.get())
            .filter(|_| map_fits());
        let points = builder_points.get().unwrap_or_else(|| {
            run.preview
                .with(|p| p.as_ref().map(|p| p.points.clone()).unwrap_or_default())
        });
        (map, points)
    };
    Effect::new(move |_| {
        let (map, points) = shown();
        if let Some(c) = canvas.get() {
            draw_boundary(&c, map.as_ref(), &points);
        }
    });
    let classes_now = move || builder_toy.with_untracked(|t| t.as_ref().map_or(2, |t| t.classes()));
    let on_click = move |ev: web_sys::MouseEvent| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        if builder_toy.get_untracked().is_none() {
            messages.tell(
                "Points are added to a toy set between runs: wait for the run to end, or stop it."
                    .to_string(),
            );
            return;
        }
        let (map, points) = untrack(shown);
        let [x0, x1, y0, y1] = boundary_extent(map.as_ref(), &points);
        let rect = c.get_bounding_client_rect();
        let (w, h) = (rect.width().max(1.0), rect.height().max(1.0));
        let fx = ((ev.client_x() as f64 - rect.left()) / w) as f32;
        let fy = ((ev.client_y() as f64 - rect.top()) / h) as f32;
        let x = x0 + fx * (x1 - x0);
        let y = y1 - fy * (y1 - y0);
        let mut done = true;
        if ev.shift_key() {
            let radius = (REMOVE_RADIUS_PX / w) as f32 * (x1 - x0);
            builder.edit(|c| done = remove_point_near(c, (x, y), radius, SHOWN_POINTS_PER_SPLIT));
            if !done {
                messages
                    .tell("No point to remove there (or it is the last of its split).".to_string());
            }
        } else {
            // The chosen class, or the last there is (the classes may have shrunk since).
            let class = point_class
                .get_untracked()
                .min(classes_now().saturating_sub(1) as u32);
            let value = builder_toy
                .with_untracked(|t| t.as_ref().is_some_and(|t| t.kind.is_regression()))
                .then(|| point_value.get_untracked());
            builder.edit(|c| done = add_point(c, x, y, class, value));
            if !done {
                messages.fail(
                    "This point cannot be added (outside the plane, or too many points)."
                        .to_string(),
                );
            }
        }
    };
    let classes = move || builder_toy.with(|t| t.as_ref().map_or(2, |t| t.classes()));
    let regression = move || {
        builder_toy.with(|t| t.as_ref().is_some_and(|t| t.kind.is_regression()))
            || run
                .boundary
                .with(|m| m.as_ref().is_some_and(|m| m.value_scale.is_some()))
    };
    view! {
        <figure class="boundary" data-panel="boundary">
            <canvas
                node_ref=canvas
                width="320"
                height="320"
                data-testid="boundary"
                class:editable=move || builder_toy.with(Option::is_some)
                data-classes-shown=move || {
                    run.boundary.with(|m| m.as_ref().map_or(0, |m| m.classes_shown()))
                }
                data-map=move || {
                    run.boundary.with(|m| {
                        m.as_ref().map(|m| if m.value_scale.is_some() { "values" } else { "classes" })
                    })
                }
                on:click=on_click
            ></canvas>
            <figcaption>
                {move || match focused() {
                    Some((_, caption)) => view! { <span data-testid="neuron-focus">{caption}</span> }.into_any(),
                    None if regression() => "The model's output over the plane: blue where it predicts high values, orange low, pale near 0; each point is coloured by its value, outlined points are test points. Point at a unit of the network for its own map.".into_any(),
                    None => "Decision boundary: each class its colour, the stronger the surer the model; outlined points are test points. Point at a unit of the network for its own map.".into_any(),
                }}
            </figcaption>
            <Show when=move || builder_toy.with(Option::is_some)>
                <div class="point-tools">
                    <span data-testid="point-count">
                        {move || builder_toy.with(|t| t.as_ref().map(point_count_text).unwrap_or_default())}
                    </span>
                    <Show when=regression>
                        <label class="check">
                            "Click adds a point of value"
                            <input
                                type="number"
                                step="0.1"
                                min="-10"
                                max="10"
                                data-testid="point-value"
                                prop:value=move || point_value.get().to_string()
                                on:change=move |ev| {
                                    match event_target_value(&ev).parse::<f32>() {
                                        Ok(v) if v.is_finite() => point_value.set(v.clamp(-10.0, 10.0)),
                                        _ => point_value.update(|_| {}),
                                    }
                                }
                            />
                            "; Shift-click removes one."
                        </label>
                    </Show>
                    <label class="check" class:hidden=regression>
                        "Click adds a point of"
                        <select
                            data-testid="point-class"
                            on:change=move |ev| {
                                point_class.set(event_target_value(&ev).parse().unwrap_or(0))
                            }
                        >
                            {move || {
                                let chosen = point_class.get();
                                (0..classes() as u32)
                                    .map(|k| {
                                        view! {
                                            <option value=k.to_string() selected=k == chosen>
                                                {format!("class {k}")}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </select>
                        "; Shift-click removes one."
                    </label>
                </div>
            </Show>
        </figure>
    }
}

/// Asks the current run's model to read a test (or training) image: its prediction and its
/// layers show beside the drawing pad.
pub(crate) fn open_layers(s: Session, image: &ImageExample) {
    let request = s.predictions.next_request();
    s.worker.send(&ToWorker::PredictImage {
        request,
        pixels: image.pixels.clone(),
        run_model: true,
    });
}

/// A small canvas showing an image example; `opens_layers`: a click shows how the run's model
/// reads it, layer by layer, beside the drawing pad.
#[component]
pub fn ImageTile(
    image: ImageExample,
    #[prop(into)] caption: String,
    #[prop(optional)] size: Option<u32>,
    #[prop(optional)] opens_layers: bool,
) -> impl IntoView {
    let s = use_session();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let size = size.unwrap_or(56);
    let shown = image.clone();
    Effect::new(move |_| {
        if let Some(c) = canvas.get() {
            draw_image(&c, &shown);
        }
    });
    let title = opens_layers.then_some("Open its layers beside the drawing pad");
    view! {
        <figure class="tile" class:clickable=opens_layers title=title
            data-testid=opens_layers.then_some("open-layers")
            on:click=move |_| if opens_layers { open_layers(s, &image) }>
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
                // A click on an image shows the run's model reading it (image sets it reads).
                let images = run.config.with_untracked(|c| {
                    c.as_ref().is_some_and(|c| super::report::reads_images(&c.dataset))
                });
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
                        // Classes only: a regression set's examples have values.
                        <div class="histogram" aria-label="Training examples per class" class:hidden=p.class_counts.len() < 2>
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
                                    view! { <ImageTile image=img.clone() caption=caption opens_layers=images /> }
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
                                            <crate::components::word_trace::ClickableReview text=r.text.clone() limit=300 />
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
