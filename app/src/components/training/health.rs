//! Layer health while it trains (#17): per layer with parameters, histograms of its weights,
//! of their gradients and of its outputs on the batch's first examples, the norms, the
//! update-to-weight ratio, the share of dead ReLU units, and a note when its gradients vanish
//! or explode. Live (a probed step every few seconds) or at the end of any epoch. The worker
//! computes the reports; the page paints small canvases.

use kindling_core::inside::health::{HealthReport, Histogram, LayerHealth};
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::{paint_histogram, CLASS_COLOURS};
use crate::session::use_current_run;

/// "1.2e-3" for small and large figures, "0.42" between.
fn figure(v: f32) -> String {
    if v == 0.0 || (1e-2..1e3).contains(&v.abs()) {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    }
}

/// One histogram with its label and range (`histogram` changes with each report: the canvas is
/// repainted, the element stays).
#[component]
fn HistogramView(
    label: &'static str,
    histogram: Signal<Option<Histogram>>,
    colour: &'static str,
) -> impl IntoView {
    let canvas: NodeRef<Canvas> = NodeRef::new();
    // Painted in a task of its own, so that a report's many histograms never hold the page's
    // thread together.
    Effect::new(move |_| {
        histogram.track();
        crate::tasks::in_own_task("histogram", move || {
            let Some(c) = canvas.try_get_untracked().flatten() else {
                return;
            };
            // The layer may be gone by now (a new run, another model).
            histogram.try_with_untracked(|h| {
                if let Some(h) = h {
                    paint_histogram(&c, &h.counts, colour);
                }
            });
        });
    });
    let caption = move || {
        histogram.with(|h| {
            h.as_ref().map(|h| {
                let non_finite = if h.non_finite > 0 {
                    format!(" · {} not finite", h.non_finite)
                } else {
                    String::new()
                };
                format!("{} … {}{non_finite}", figure(h.low), figure(h.high))
            })
        })
    };
    view! {
        <figure class="health-histogram" data-label=label>
            <canvas node_ref=canvas width="120" height="44"></canvas>
            <figcaption><b>{label}</b>" "{caption}</figcaption>
        </figure>
    }
}

/// One layer's health, as the report shown has it (`layer` follows the report).
#[component]
fn LayerHealthView(name: String, layer: Memo<Option<LayerHealth>>) -> impl IntoView {
    let warning = move || {
        layer.with(|l| {
            l.as_ref()
                .and_then(|l| l.warning)
                .map(|w| w.id().to_string())
                .unwrap_or_default()
        })
    };
    let figures = move || {
        layer.with(|l| {
            l.as_ref().map(|l| {
                let dead = l
                    .dead_share
                    .map(|d| format!(" · dead ReLU units {:.0}%", d * 100.0))
                    .unwrap_or_default();
                format!(
                    "‖w‖ {} · ‖∇‖ {} · update/weight {}{dead}",
                    figure(l.weight_norm),
                    figure(l.gradient_norm),
                    figure(l.update_ratio)
                )
            })
        })
    };
    let part = move |f: fn(&LayerHealth) -> Option<Histogram>| {
        Signal::derive(move || layer.with(|l| l.as_ref().and_then(f)))
    };
    let has_outputs = move || layer.with(|l| l.as_ref().is_some_and(|l| l.activations.is_some()));
    let note = move || layer.with(|l| l.as_ref().and_then(|l| l.note.clone()));
    view! {
        <div class="layer-health" class:warned=move || layer.with(|l| l.as_ref().is_some_and(|l| l.warning.is_some()))
            data-testid="layer-health" data-layer=name.clone() data-warning=warning
            data-update-ratio=move || layer.with(|l| l.as_ref().map(|l| format!("{:.6e}", l.update_ratio)).unwrap_or_default())>
            <h4>{name.clone()}</h4>
            <div class="histograms-row">
                <HistogramView label="weights" histogram=part(|l| Some(l.weights.clone())) colour=CLASS_COLOURS[1] />
                <HistogramView label="gradients" histogram=part(|l| Some(l.gradients.clone())) colour=CLASS_COLOURS[0] />
                <Show when=has_outputs>
                    <HistogramView label="outputs" histogram=part(|l| l.activations.clone()) colour=CLASS_COLOURS[2] />
                </Show>
            </div>
            <p class="figures">{figures}</p>
            {move || note().map(|note| view! {
                <p class="health-note" data-testid="health-note" data-kind=warning>{note}</p>
            })}
        </div>
    }
}

/// The panel: the live report or an epoch's, chosen.
#[component]
pub(super) fn HealthPanel() -> impl IntoView {
    let run = use_current_run();
    // None: live; Some(i): the report of the i-th epoch's end.
    let chosen = RwSignal::new(None::<usize>);
    let shown = Memo::new(move |_| -> Option<HealthReport> {
        match chosen.get() {
            Some(i) => run.health_epochs.with(|e| e.get(i).cloned()),
            None => run.health.get(),
        }
    });
    // The layers' names: the panel's structure, which changes only with the model (each
    // report repaints the canvases and the figures of the same elements).
    let names = Memo::new(move |_| {
        shown.with(|r| {
            r.as_ref()
                .map(|r| r.layers.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="chart-card health" data-testid="histograms" data-panel="health" aria-label="Layer health">
            <div class="health-head">
                <h3>"Layer health"</h3>
                <label class="health-at">
                    <span>"at"</span>
                    <select data-testid="health-epoch"
                        on:change=move |ev| chosen.set(event_target_value(&ev).parse::<usize>().ok())>
                        <option value="live" selected=move || chosen.get().is_none()>
                            {move || run.health.with(|h| h.as_ref().map(|h| format!("live (batch {})", h.step)).unwrap_or_else(|| "live".into()))}
                        </option>
                        <For
                            each=move || run.health_epochs.with(|e| e.iter().enumerate().map(|(i, r)| (i, r.epoch)).collect::<Vec<_>>())
                            key=|entry| *entry
                            let:entry
                        >
                            <option value=entry.0.to_string() selected=move || chosen.get() == Some(entry.0)>{format!("end of epoch {}", entry.1)}</option>
                        </For>
                    </select>
                </label>
            </div>
            {move || run.first_warning.get().map(|(step, text)| view! {
                <p class="message notice" data-testid="health-first-warning" data-step=step.to_string()>
                    {format!("First warning at batch {step}: {text}.")}
                </p>
            })}
            <p class="hint">
                "Each layer's weights, their gradients, and its outputs on the batch's first 64 examples, as read at one step. A healthy step changes the weights by about 0.1% (update/weight 1e-3); far more and the run is about to diverge, far less and the layer barely learns."
            </p>
            <div class="health-layers">
                <For each=move || names.get() key=|name| name.clone() let:name>
                    {
                        let key = name.clone();
                        let layer = Memo::new(move |_| shown.with(|r| r.as_ref().and_then(|r| r.layers.iter().find(|l| l.name == key).cloned())));
                        view! { <LayerHealthView name layer /> }
                    }
                </For>
            </div>
        </section>
    }
}
