//! What each first-layer unit of an MLP on images looks for: its incoming weights as an image
//! (blue positive, orange negative), live. The worker sends them (`FromWorker::UnitWeights`)
//! every few seconds; this only paints them, a few dozen per task.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::paint_shades;
use crate::session::use_current_run;

/// Unit images painted per task: an MNIST MLP has 256, each a `putImageData`; in slices the
/// page's thread is never held for long.
const IMAGES_PER_TASK: usize = 32;

/// What each first-layer unit looks for, on image data: its incoming weights as an image
/// (blue positive, orange negative, each unit scaled by its largest |weight|), live.
#[component]
pub(super) fn UnitWeightsPanel() -> impl IntoView {
    let run = use_current_run();
    let units = Memo::new(move |_| {
        run.unit_images
            .with(|i| i.as_ref().map_or((0, 0), |i| (i.units, i.side)))
    });
    let grid: NodeRef<leptos::html::Div> = NodeRef::new();
    Effect::new(move |_| {
        run.unit_images.track();
        let (count, _) = units.get();
        for start in (0..count).step_by(IMAGES_PER_TASK) {
            crate::tasks::in_own_task("unit weights", move || {
                let Some(grid) = grid.try_get_untracked().flatten() else {
                    return;
                };
                let canvases = grid.get_elements_by_tag_name("canvas");
                run.unit_images.with_untracked(|images| {
                    let Some(images) = images else {
                        return;
                    };
                    let end = (start + IMAGES_PER_TASK).min(images.units);
                    for u in start..end {
                        let Some(canvas) = canvases
                            .item(u as u32)
                            .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
                        else {
                            continue;
                        };
                        let shades: Vec<f32> = images
                            .unit(u)
                            .iter()
                            .map(|&l| f32::from(l) / 255.0)
                            .collect();
                        paint_shades(&canvas, &shades, images.side);
                    }
                });
            });
        }
    });
    view! {
        <figure class="unit-weights" data-panel="filters">
            <figcaption>
                {move || {
                    let (count, side) = units.get();
                    format!(
                        "What each of the {count} first-layer units looks for: its {side}×{side} incoming weights (blue positive, orange negative; each unit scaled to its largest weight)."
                    )
                }}
            </figcaption>
            <div class="unit-weights-grid" node_ref=grid>
                {move || {
                    let (count, _) = units.get();
                    (0..count)
                        .map(|u| {
                            let title = move || {
                                run.unit_images
                                    .with_untracked(|i| {
                                        i.as_ref()
                                            .and_then(|i| i.scales.get(u).copied())
                                            .map(|s| format!("unit {}: weights within ±{s:.3}", u + 1))
                                    })
                                    .unwrap_or_default()
                            };
                            view! {
                                <canvas data-testid="unit-weights" data-unit=u width="1" height="1"
                                    on:mouseenter=move |ev| {
                                        if let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                            let _ = el.set_attribute("title", &title());
                                        }
                                    }></canvas>
                            }
                        })
                        .collect_view()
                }}
            </div>
        </figure>
    }
}
