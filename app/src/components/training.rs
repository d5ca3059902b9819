//! The middle column: Train / Pause / Stop, progress, messages, live curves, the 2-D decision
//! boundary, the data preview, the per-epoch table and the test report after a run.

use kindling_core::data::loader::DATA_COMMAND;
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::charts::{draw_boundary, draw_curves, draw_image, Metric};
use crate::page::{use_session, Phase};
use crate::protocol::{ImageExample, RunEnd};

fn seconds_text(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        "–".into()
    } else if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!(
            "{}h {:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        )
    }
}

fn thousands(n: f64) -> String {
    kindling_core::model::summary::thousands(n.max(0.0).round() as usize)
}

/// Train, pause/resume and stop.
#[component]
fn Controls() -> impl IntoView {
    let s = use_session();
    let can_train =
        move || s.worker_ready.get() && !s.busy() && s.config.with(|c| c.problems().is_empty());
    view! {
        <div class="controls">
            <button
                class="primary"
                data-testid="train"
                disabled=move || !can_train()
                on:click=move |_| s.train()
            >
                {move || if s.phase.get() == Phase::Ended { "Train again" } else { "Train" }}
            </button>
            <button
                data-testid="pause"
                disabled=move || !matches!(s.phase.get(), Phase::Training | Phase::Paused)
                on:click=move |_| {
                    if s.phase.get_untracked() == Phase::Paused {
                        s.send(&crate::protocol::ToWorker::Resume)
                    } else {
                        s.send(&crate::protocol::ToWorker::Pause)
                    }
                }
            >
                {move || if s.phase.get() == Phase::Paused { "Resume" } else { "Pause" }}
            </button>
            <button
                data-testid="stop"
                disabled=move || !s.busy()
                on:click=move |_| {
                    s.cancel_sweep();
                    if matches!(s.phase.get_untracked(), Phase::Loading { .. }) {
                        // Nothing trains yet: forget the run.
                        s.run_id.update(|id| *id += 1);
                        s.phase.set(Phase::Idle);
                    }
                    s.send(&crate::protocol::ToWorker::Stop)
                }
            >
                "Stop"
            </button>
        </div>
    }
}

/// The progress bar and its line of figures.
#[component]
fn ProgressLine() -> impl IntoView {
    let s = use_session();
    let fraction = move || match s.phase.get() {
        Phase::Loading { loaded, total, .. } if total > 0 => loaded as f64 / total as f64,
        Phase::Loading { .. } | Phase::Idle => 0.0,
        _ => {
            let p = s.progress.get();
            if p.samples_total == 0 {
                0.0
            } else {
                p.samples_seen as f64 / p.samples_total as f64
            }
        }
    };
    let text = move || {
        let p = s.progress.get();
        match s.phase.get() {
            Phase::Idle => match s.end.get() {
                None => "Pick a preset or build a model, then press Train.".to_string(),
                Some(_) => String::new(),
            },
            Phase::Loading {
                file,
                loaded,
                total,
                cached,
            } => {
                if file.is_empty() {
                    "Preparing the data…".to_string()
                } else {
                    format!(
                        "{} {file}: {:.1} of {:.1} MB",
                        if cached {
                            "Reading from the cache"
                        } else {
                            "Downloading"
                        },
                        loaded as f64 / 1e6,
                        total as f64 / 1e6
                    )
                }
            }
            phase => {
                let eta = if p.samples_per_second > 0.0 {
                    (p.samples_total.saturating_sub(p.samples_seen)) as f64 / p.samples_per_second
                } else {
                    f64::NAN
                };
                let state = match phase {
                    Phase::Paused => "Paused · ",
                    Phase::Ended => match s.end.get() {
                        Some(RunEnd::Finished) => "Finished · ",
                        Some(RunEnd::Stopped) => "Stopped · ",
                        Some(RunEnd::Diverged(_)) => "Diverged · ",
                        None => "",
                    },
                    _ => "",
                };
                format!(
                    "{state}epoch {}/{} · batch {}/{} · {} samples/s · {} · ETA {}",
                    p.epoch,
                    p.epochs,
                    p.batch,
                    p.batches_per_epoch,
                    thousands(p.samples_per_second),
                    seconds_text(p.seconds),
                    if phase == Phase::Ended {
                        "–".into()
                    } else {
                        seconds_text(eta)
                    }
                )
            }
        }
    };
    view! {
        // The exact figures behind the text, for tools that measure throughput over windows.
        <div class="progress" data-testid="progress" data-fraction=move || format!("{:.4}", fraction())
            data-samples-seen=move || s.progress.get().samples_seen
            data-seconds=move || format!("{:.3}", s.progress.get().seconds)>
            <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=move || format!("{:.0}", fraction() * 100.0)>
                <div class="fill" style:width=move || format!("{:.2}%", fraction() * 100.0)></div>
            </div>
            <div class="progress-text">{text}</div>
        </div>
    }
}

/// Errors and notices.
#[component]
fn Messages() -> impl IntoView {
    let s = use_session();
    view! {
        <Show when=move || s.error.get().is_some()>
            <div class="message error" role="alert" data-testid="error">
                <span>{move || s.error.get().unwrap_or_default()}</span>
                <button class="icon" aria-label="Dismiss" on:click=move |_| s.error.set(None)>"×"</button>
            </div>
        </Show>
        <Show when=move || s.notice.get().is_some()>
            <div class="message notice" data-testid="notice">
                <span>{move || s.notice.get().unwrap_or_default()}</span>
                <button class="icon" aria-label="Dismiss" on:click=move |_| s.notice.set(None)>"×"</button>
            </div>
        </Show>
    }
}

/// One curve chart (loss or accuracy) with hover read-out.
#[component]
fn CurveChart(metric: Metric, log: RwSignal<bool>) -> impl IntoView {
    let s = use_session();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    let hover = RwSignal::new(String::new());
    Effect::new(move |_| {
        // Redraws on the session's throttled tick, not on every message, and in a task of its
        // own (each chart apart), so that no main-thread task holds a message and two charts.
        s.chart_tick.track();
        let log = log.get();
        set_timeout(
            move || {
                let per_epoch = s.progress.with_untracked(|p| p.batches_per_epoch.max(1));
                if let Some(c) = canvas.get_untracked() {
                    s.points.with_untracked(|points| {
                        s.epochs.with_untracked(|epochs| {
                            draw_curves(&c, points, epochs, per_epoch, metric, log)
                        })
                    });
                }
            },
            std::time::Duration::ZERO,
        );
    });
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let rect = c.get_bounding_client_rect();
        let scale = c.width() as f64 / rect.width().max(1.0);
        let x = (ev.client_x() as f64 - rect.left()) * scale;
        // The plotting area starts after the y labels (48 px + 8 px margin).
        let left = 56.0;
        let right = c.width() as f64 - 8.0;
        let t = ((x - left) / (right - left)).clamp(0.0, 1.0);
        s.points.with_untracked(|points| {
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
                let epoch = s
                    .epochs
                    .with_untracked(|e| e.iter().find(|m| m.epoch == p.epoch).copied());
                let held = epoch
                    .map(|m| {
                        format!(
                            " · epoch {} held out: loss {:.4}, acc {:.2}%",
                            m.epoch,
                            m.eval_loss,
                            m.eval_accuracy * 100.0
                        )
                    })
                    .unwrap_or_default();
                hover.set(format!(
                    "batch {}: loss {:.4}, acc {:.2}%{held}",
                    p.step,
                    p.loss,
                    p.accuracy * 100.0
                ));
            }
        });
    };
    view! {
        <figure class="chart">
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

/// The decision-boundary map of 2-D sets.
#[component]
fn Boundary() -> impl IntoView {
    let s = use_session();
    let canvas: NodeRef<Canvas> = NodeRef::new();
    Effect::new(move |_| {
        let map = s.boundary.get();
        let points = s
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
                "Decision boundary: orange class 0, blue class 1; outlined points are test points."
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
fn Preview() -> impl IntoView {
    let s = use_session();
    view! {
        {move || {
            s.preview.get().map(|p| {
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

/// The per-epoch table.
#[component]
fn EpochTable() -> impl IntoView {
    let s = use_session();
    let held_name = move || {
        s.preview
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
                    <th>"Train acc"</th>
                    <th>{move || format!("{} loss", held_name())}</th>
                    <th>{move || format!("{} acc", held_name())}</th>
                </tr>
            </thead>
            <tbody>
                // Keyed rows: a new epoch adds one row instead of rebuilding the table.
                <For
                    each=move || {
                        s.chart_tick.track();
                        s.epochs.get_untracked()
                    }
                    key=|e| e.epoch
                    children=|e| {
                        view! {
                            <tr data-epoch=e.epoch.to_string() data-eval-accuracy=format!("{:.6}", e.eval_accuracy)>
                                <td>{e.epoch}</td>
                                <td>{format!("{:.4}", e.train_loss)}</td>
                                <td>{format!("{:.2}%", e.train_accuracy * 100.0)}</td>
                                <td>{format!("{:.4}", e.eval_loss)}</td>
                                <td>{format!("{:.2}%", e.eval_accuracy * 100.0)}</td>
                            </tr>
                        }
                    }
                />
            </tbody>
        </table>
    }
}

/// Confusion matrix, per-class accuracy and mistakes after a run.
#[component]
fn Report() -> impl IntoView {
    let s = use_session();
    view! {
        {move || {
            s.report.get().map(|r| {
                let names = r.class_names.clone();
                let classes = r.confusion.len();
                let max = r.confusion.iter().flatten().copied().max().unwrap_or(1).max(1);
                view! {
                    <div class="report" data-testid="test-report" data-accuracy=format!("{:.6}", r.accuracy)>
                        <h3>{format!("Test set: {:.2}% of {} examples", r.accuracy * 100.0, thousands(r.examples as f64))}</h3>
                        <div class="confusion-wrap">
                            <table class="confusion" data-testid="confusion-matrix">
                                <caption>"rows: true class · columns: predicted"</caption>
                                <thead>
                                    <tr>
                                        <th></th>
                                        {(0..classes).map(|j| view! { <th>{names.get(j).cloned().unwrap_or_default()}</th> }).collect_view()}
                                        <th>"acc"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {r.confusion
                                        .iter()
                                        .enumerate()
                                        .map(|(i, row)| {
                                            let total: usize = row.iter().sum();
                                            let acc = if total > 0 { row[i] as f64 / total as f64 } else { 0.0 };
                                            view! {
                                                <tr>
                                                    <th>{names.get(i).cloned().unwrap_or_default()}</th>
                                                    {row.iter().enumerate().map(|(j, &n)| {
                                                        let alpha = n as f64 / max as f64;
                                                        let class = if i == j { "diag" } else { "off" };
                                                        view! {
                                                            <td class=class style=format!("--w:{alpha:.3}")>{n}</td>
                                                        }
                                                    }).collect_view()}
                                                    <td class="acc">{format!("{:.1}%", acc * 100.0)}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <Show when={let n = r.wrong_images.len(); move || n > 0}>
                            <h4>"Misclassified test images (true → predicted)"</h4>
                        </Show>
                        <div class="tiles" data-testid="mistakes">
                            {r.wrong_images
                                .iter()
                                .map(|img| {
                                    let t = names.get(img.label as usize).cloned().unwrap_or_default();
                                    let p = img
                                        .predicted
                                        .and_then(|p| names.get(p as usize).cloned())
                                        .unwrap_or_default();
                                    view! { <ImageTile image=img.clone() caption=format!("{t} → {p}") /> }
                                })
                                .collect_view()}
                        </div>
                        <ul class="reviews">
                            {r.wrong_reviews
                                .iter()
                                .map(|rv| view! {
                                    <li>
                                        <b>{if rv.label == 1 { "positive → negative" } else { "negative → positive" }}</b>
                                        " · "
                                        <span class="review-text">{rv.text.chars().take(240).collect::<String>()}</span>
                                    </li>
                                })
                                .collect_view()}
                        </ul>
                    </div>
                }
            })
        }}
    }
}

/// The middle column.
#[component]
pub fn TrainingPanel() -> impl IntoView {
    let s = use_session();
    let log = RwSignal::new(false);
    let is_toy = move || {
        s.run_config
            .with(|c| {
                c.as_ref()
                    .map(|c| crate::builder::has_boundary_map(&c.dataset))
            })
            .unwrap_or_else(|| {
                s.config
                    .with(|c| crate::builder::has_boundary_map(&c.dataset))
            })
    };
    view! {
        <section class="panel training" aria-label="Train and watch">
            <h2>"Train"</h2>
            <Controls />
            <ProgressLine />
            <Messages />
            <div class="chart-tools">
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="log-scale"
                        prop:checked=move || log.get()
                        on:change=move |ev| log.set(event_target_checked(&ev))
                    />
                    "log-scale loss"
                </label>
            </div>
            <CurveChart metric=Metric::Loss log=log />
            <CurveChart metric=Metric::Accuracy log=log />
            <Show when=is_toy>
                <Boundary />
            </Show>
            <Preview />
            <EpochTable />
            <Report />
            <p class="hint data-hint">
                {format!("Datasets come from the data folder that `{DATA_COMMAND}` makes; the first load is cached by the browser.")}
            </p>
        </section>
    }
}
