//! Train, pause/resume and stop; the progress line; the notice and the error.

use leptos::prelude::*;

use crate::session::{use_current_run, use_messages, use_session, Phase};
use kindling_core::record::RunStatus;

use super::thousands;

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

/// Train, pause/resume and stop.
#[component]
pub(super) fn Controls() -> impl IntoView {
    let s = use_session();
    let can_train = move || {
        s.worker.ready.get() && !s.run.busy() && s.builder.config.with(|c| c.problems().is_empty())
    };
    view! {
        <div class="controls">
            <button
                class="primary"
                data-testid="train"
                disabled=move || !can_train()
                on:click=move |_| s.train()
            >
                {move || if s.run.phase.get() == Phase::Ended { "Train again" } else { "Train" }}
            </button>
            <button
                data-testid="step"
                title="Train exactly one batch (from here, or paused), then look at every view"
                disabled=move || {
                    !(s.run.phase.get() == Phase::Paused || can_train())
                }
                on:click=move |_| s.step()
            >
                "Step"
            </button>
            <button
                data-testid="pause"
                disabled=move || !matches!(s.run.phase.get(), Phase::Training | Phase::Paused)
                on:click=move |_| {
                    if s.run.phase.get_untracked() == Phase::Paused {
                        s.worker.send(&crate::protocol::ToWorker::Resume)
                    } else {
                        s.worker.send(&crate::protocol::ToWorker::Pause)
                    }
                }
            >
                {move || if s.run.phase.get() == Phase::Paused { "Resume" } else { "Pause" }}
            </button>
            <button
                data-testid="stop"
                disabled=move || !s.run.busy()
                on:click=move |_| {
                    s.sweeps.cancel();
                    if matches!(s.run.phase.get_untracked(), Phase::Loading { .. } | Phase::Measuring) {
                        // Nothing trains yet: forget the run.
                        s.run.id.update(|id| *id += 1);
                        s.run.phase.set(Phase::Idle);
                    }
                    s.worker.send(&crate::protocol::ToWorker::Stop)
                }
            >
                "Stop"
            </button>
        </div>
    }
}

/// The progress bar and its line of figures.
#[component]
pub(super) fn ProgressLine() -> impl IntoView {
    let run = use_current_run();
    let fraction = move || match run.phase.get() {
        Phase::Loading { loaded, total, .. } if total > 0 => loaded as f64 / total as f64,
        Phase::Loading { .. } | Phase::Measuring | Phase::Idle => 0.0,
        _ => {
            let p = run.progress.get();
            if p.progress.samples_total == 0 {
                0.0
            } else {
                p.progress.samples_seen as f64 / p.progress.samples_total as f64
            }
        }
    };
    let text = move || {
        let p = run.progress.get();
        match run.phase.get() {
            Phase::Idle => match run.end.get() {
                None => "Pick a preset or build a model, then press Train.".to_string(),
                Some(_) => String::new(),
            },
            Phase::Measuring => {
                "Measuring which device trains this model faster here (once per model)…".to_string()
            }
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
                    (p.progress
                        .samples_total
                        .saturating_sub(p.progress.samples_seen)) as f64
                        / p.samples_per_second
                } else {
                    f64::NAN
                };
                let state = match phase {
                    Phase::Paused => "Paused · ",
                    Phase::Ended => match run.end.get() {
                        Some(RunStatus::Finished) => "Finished · ",
                        Some(RunStatus::Stopped) => "Stopped · ",
                        Some(RunStatus::Diverged(_)) => "Diverged · ",
                        Some(RunStatus::Failed(_)) => "Failed · ",
                        Some(RunStatus::Training | RunStatus::Interrupted) | None => "",
                    },
                    _ => "",
                };
                format!(
                    "{state}epoch {}/{} · batch {}/{} · {} samples/s · {} · ETA {}",
                    p.progress.epoch,
                    p.progress.epochs,
                    p.progress.batch,
                    p.progress.batches_per_epoch,
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
            data-samples-seen=move || run.progress.get().progress.samples_seen
            data-seconds=move || format!("{:.3}", run.progress.get().seconds)>
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
pub(super) fn Messages() -> impl IntoView {
    let messages = use_messages();
    view! {
        <Show when=move || messages.error.get().is_some()>
            <div class="message error" role="alert" data-testid="error">
                <span>{move || messages.error.get().unwrap_or_default()}</span>
                <button class="icon" aria-label="Dismiss" on:click=move |_| messages.error.set(None)>"×"</button>
            </div>
        </Show>
        <Show when=move || messages.notice.get().is_some()>
            <div class="message notice" data-testid="notice">
                <span>{move || messages.notice.get().unwrap_or_default()}</span>
                <button class="icon" aria-label="Dismiss" on:click=move |_| messages.notice.set(None)>"×"</button>
            </div>
        </Show>
    }
}
