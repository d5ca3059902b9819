//! The live loss and accuracy curves, and the per-epoch table.

use leptos::html::Canvas;
use leptos::prelude::*;

use kindling_core::train::score::format_figure;

use crate::charts::{draw_curves, Metric};
use crate::session::use_current_run;

/// One curve chart (loss or accuracy) with hover read-out.
#[component]
pub(super) fn CurveChart(metric: Metric, log: RwSignal<bool>) -> impl IntoView {
    let run = use_current_run();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let hover = RwSignal::new(String::new());
    Effect::new(move |_| {
        // Redraws on the session's throttled tick, not on every message, and in a task of its
        // own (each chart apart), so that no main-thread task holds a message and two charts.
        run.chart_tick.track();
        let log = log.get();
        crate::tasks::in_own_task("curve chart", move || {
            let per_epoch = run
                .progress
                .with_untracked(|p| p.progress.batches_per_epoch.max(1));
            let marks: Vec<usize> = run
                .config
                .with_untracked(|c| {
                    c.as_ref()
                        .map(|c| c.training.steering.iter().map(|s| s.at_step).collect())
                })
                .unwrap_or_default();
            let regression = run.regression_untracked();
            if let Some(c) = canvas.get_untracked() {
                run.points.with_untracked(|points| {
                    run.epochs.with_untracked(|epochs| {
                        draw_curves(
                            &c, points, epochs, per_epoch, &marks, metric, log, regression,
                        )
                    })
                });
            }
        });
    });
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let rect = c.get_bounding_client_rect();
        let scale = c.width() as f64 / rect.width().max(1.0);
        let x = (ev.client_x() as f64 - rect.left()) * scale;
        // The plotting area starts after the y labels (58 px + 8 px margin).
        let left = 66.0;
        let right = c.width() as f64 - 8.0;
        let t = ((x - left) / (right - left)).clamp(0.0, 1.0);
        run.points.with_untracked(|points| {
            let Some(last) = points.last() else { return };
            let step = t * last.step as f64;
            let nearest = points
                .iter()
                .min_by(|a, b| {
                    (a.step as f64 - step)
                        .abs()
                        .total_cmp(&(b.step as f64 - step).abs())
                })
                .copied();
            if let Some(p) = nearest {
                let epoch = run
                    .epochs
                    .with_untracked(|e| e.iter().find(|m| m.epoch == p.epoch).copied());
                let r = run.regression_untracked();
                let name = if r { "R²" } else { "acc" };
                let held = epoch
                    .map(|m| {
                        format!(
                            " · epoch {} held out: loss {:.4}, {name} {}",
                            m.epoch,
                            m.eval_loss,
                            format_figure(m.eval_accuracy, r)
                        )
                    })
                    .unwrap_or_default();
                hover.set(format!(
                    "batch {}: loss {:.4}, {name} {}{held}",
                    p.step,
                    p.loss,
                    format_figure(p.accuracy, r)
                ));
            }
        });
    };
    view! {
        <figure class="chart" data-panel="curves">
            <canvas
                node_ref=canvas
                width="560"
                height="240"
                data-testid=match metric { Metric::Loss => "loss-chart", Metric::Accuracy => "accuracy-chart" }
                on:mousemove=on_move
                on:mouseleave=move |_| hover.set(String::new())
            ></canvas>
            <figcaption class="hover">{move || hover.get()}</figcaption>
        </figure>
    }
}

/// The per-epoch table.
#[component]
pub(super) fn EpochTable() -> impl IntoView {
    let run = use_current_run();
    // "acc", or "R²" on a regression set.
    let figure = move || if run.regression() { "R²" } else { "acc" };
    let held_name = move || {
        run.preview
            .with(|p| p.as_ref().map(|p| p.sizes[1] > 0))
            .map(|v| if v { "validation" } else { "test" })
            .unwrap_or("held out")
    };
    view! {
        <table class="epochs" data-testid="epoch-metrics">
            <thead>
                <tr>
                    <th>"Epoch"</th>
                    <th>"Train loss"</th>
                    <th>{move || format!("Train {}", figure())}</th>
                    <th>{move || format!("{} loss", held_name())}</th>
                    <th>{move || format!("{} {}", held_name(), figure())}</th>
                </tr>
            </thead>
            <tbody>
                // Keyed rows: a new epoch adds one row instead of rebuilding the table.
                <For
                    each=move || {
                        run.chart_tick.track();
                        run.epochs.get_untracked()
                    }
                    key=|e| e.epoch
                    children=move |e| {
                        view! {
                            <tr data-epoch=e.epoch.to_string() data-eval-accuracy=format!("{:.6}", e.eval_accuracy)>
                                <td>{e.epoch}</td>
                                <td>{format!("{:.4}", e.train_loss)}</td>
                                <td>{format_figure(e.train_accuracy, run.regression_untracked())}</td>
                                <td>{format!("{:.4}", e.eval_loss)}</td>
                                <td>{format_figure(e.eval_accuracy, run.regression_untracked())}</td>
                            </tr>
                        }
                    }
                />
            </tbody>
        </table>
    }
}
