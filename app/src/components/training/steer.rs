//! Steering a paused run (learning rate, SGD momentum, the layers' L2, dropout, changed from
//! the next batch on) and the markers of the changes a run recorded.

use kindling_core::train::{LiveSettings, OptimizerKind, Steer};
use kindling_core::{Engine, RunConfig};
use leptos::prelude::*;

use crate::components::fields::format_number;
use crate::session::{use_current_run, use_session, Phase};

/// One setting of the paused run: shows the value the next batch trains with; a new value
/// is sent as a change.
fn live_field(
    label: &'static str,
    testid: &'static str,
    title: &'static str,
    get: fn(&LiveSettings) -> f64,
    change: fn(f64) -> Steer,
) -> impl IntoView {
    let s = use_session();
    let run = s.run;
    let trained = move || {
        let p = run.progress.get().progress;
        (
            p.epoch.saturating_sub(1) * p.batches_per_epoch + p.batch,
            p.batches_per_epoch,
        )
    };
    let value = move || {
        let (trained, batches_per_epoch) = trained();
        run.config
            .with(|c| {
                c.as_ref()
                    .map(|c| get(&c.settings_at(trained, batches_per_epoch)))
            })
            .map(format_number)
            .unwrap_or_default()
    };
    view! {
        <label class="field" title=title>
            <span>{label}</span>
            <input
                type="number"
                step="any"
                data-testid=testid
                prop:value=value
                on:change=move |ev| {
                    let input = event_target::<web_sys::HtmlInputElement>(&ev);
                    // Checked here as the worker checks it, so that a refused value is put
                    // back at once (the worker's answer would not change the shown value).
                    let refusal = match input.value().trim().parse::<f64>() {
                        Ok(v) if v.is_finite() => {
                            let mut steer = change(v);
                            steer.at_step = run.progress.with_untracked(|p| {
                                let p = p.progress;
                                p.epoch.saturating_sub(1) * p.batches_per_epoch + p.batch
                            });
                            let checked = run.config.with_untracked(|c| {
                                c.as_ref().map(|c| {
                                    let mut c = c.clone();
                                    c.training.steering.push(steer);
                                    c.validate()
                                })
                            });
                            match checked {
                                Some(Err(e)) => Some(format!("Not changed: {e}")),
                                _ => {
                                    s.steer(steer);
                                    None
                                }
                            }
                        }
                        _ => Some(format!("Not changed: the {label} must be a number")),
                    };
                    if let Some(message) = refusal {
                        s.messages.fail(message);
                        input.set_value(&untrack(value));
                    }
                }
            />
        </label>
    }
}

fn has_momentum(c: &RunConfig) -> bool {
    c.training.optimizer.kind == OptimizerKind::Sgd && c.engine == Engine::Autodiff
}

fn has_dropout(c: &RunConfig) -> bool {
    c.model.has_dropout_layers() && c.engine == Engine::Autodiff
}

/// The paused run's settings, each changeable; shown (disabled) while it trains.
#[component]
pub(super) fn SteerPanel() -> impl IntoView {
    let run = use_current_run();
    let paused = move || run.phase.get() == Phase::Paused;
    let shown = move || matches!(run.phase.get(), Phase::Training | Phase::Paused);
    let config_has =
        move |f: fn(&RunConfig) -> bool| move || run.config.with(|c| c.as_ref().is_some_and(f));
    view! {
        <Show when=shown>
            <fieldset class="steer" data-testid="steer" data-lesson="steer" prop:disabled=move || !paused()>
                <legend>
                    "Steer "
                    <span class="hint">
                        {move || if paused() {
                            "changes apply from the next batch, are marked on the curves and kept in the run"
                        } else {
                            "pause to change these"
                        }}
                    </span>
                </legend>
                {live_field(
                    "learning rate",
                    "live-lr",
                    "The optimizer's learning rate, in (0, 10]",
                    |s| s.learning_rate,
                    |v| Steer { learning_rate: Some(v), ..Steer::default() },
                )}
                <Show when=config_has(has_momentum)>
                    {live_field(
                        "momentum",
                        "live-momentum",
                        "SGD momentum, in [0, 1)",
                        |s| s.momentum,
                        |v| Steer { momentum: Some(v), ..Steer::default() },
                    )}
                </Show>
                {live_field(
                    "L2 (all layers)",
                    "live-l2",
                    "The L2 coefficient of every dense layer, in [0, 10]",
                    |s| s.l2,
                    |v| Steer { l2: Some(v), ..Steer::default() },
                )}
                <Show when=config_has(has_dropout)>
                    {live_field(
                        "dropout (all layers)",
                        "live-dropout",
                        "The rate of every dropout layer, in [0, 1)",
                        |s| s.dropout,
                        |v| Steer { dropout: Some(v), ..Steer::default() },
                    )}
                </Show>
            </fieldset>
        </Show>
    }
}

/// The changes the current run records, each at its batch (the curves draw a line there).
#[component]
pub(super) fn SteerMarkers() -> impl IntoView {
    let run = use_current_run();
    let changes = move || {
        run.config
            .with(|c| c.as_ref().map(|c| c.training.steering.0.clone()))
            .unwrap_or_default()
    };
    view! {
        <Show when=move || !changes().is_empty()>
            <ul class="steer-markers" aria-label="Changes during the run">
                <For
                    each=move || changes().into_iter().enumerate()
                    key=|(i, change)| (*i, change.at_step)
                    children=|(_, change)| {
                        view! {
                            <li data-testid="steer-marker" data-step=change.at_step>
                                {format!("⚑ after batch {}: {}", change.at_step, change.describe())}
                            </li>
                        }
                    }
                />
            </ul>
        </Show>
    }
}
