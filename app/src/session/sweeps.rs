//! Sweeps: a grid of runs trained one after another.

use kindling_core::RunConfig;
use leptos::prelude::*;

use super::Session;

/// One run of a sweep in the page.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRun {
    /// The value of each axis.
    pub values: Vec<f64>,
    /// e.g. `learning_rate=0.01`.
    pub label: String,
    /// The run's config.
    pub config: RunConfig,
    /// Its record, once started.
    pub record: Option<u64>,
    /// Whether it ended (or failed).
    pub done: bool,
}

/// A sweep in progress or done.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepState {
    /// Axis names, in order.
    pub fields: Vec<String>,
    /// Its runs, in grid order.
    pub runs: Vec<SweepRun>,
    /// The run being trained (index), if any.
    pub current: Option<usize>,
    /// Stopped before its end.
    pub cancelled: bool,
}

/// The sweep (Copy: a signal).
#[derive(Clone, Copy)]
pub struct Sweeps {
    /// The current sweep.
    pub sweep: RwSignal<Option<SweepState>>,
}

impl Sweeps {
    pub(super) fn new() -> Self {
        Self {
            sweep: RwSignal::new(None),
        }
    }

    /// Stops the sweep after the current run.
    pub fn cancel(&self) {
        self.sweep.update(|s| {
            if let Some(s) = s {
                s.cancelled = true;
            }
        });
    }

    /// The label of the sweep run being trained, if a sweep is training one.
    pub(super) fn current_label(&self) -> Option<String> {
        self.sweep.with_untracked(|s| {
            s.as_ref()
                .and_then(|s| s.current.map(|i| s.runs[i].label.clone()))
        })
    }

    /// Notes that the sweep run being trained is kept as record `id`.
    pub(super) fn started_as(&self, id: u64) {
        self.sweep.update(|s| {
            if let Some(s) = s {
                if let Some(i) = s.current {
                    s.runs[i].record = Some(id);
                }
            }
        });
    }
}

impl Session {
    /// Starts a sweep: its runs train one after another.
    pub fn start_sweep(&self, state: SweepState) {
        self.sweeps.sweep.set(Some(state));
        self.next_sweep_run();
    }

    /// Trains the next run of the sweep, if any is left.
    pub(super) fn next_sweep_run(&self) {
        let Some(mut state) = self.sweeps.sweep.get_untracked() else {
            return;
        };
        if let Some(i) = state.current.take() {
            state.runs[i].done = true;
        }
        if !state.cancelled {
            if let Some(i) = state
                .runs
                .iter()
                .position(|r| !r.done && r.record.is_none())
            {
                state.current = Some(i);
                let config = state.runs[i].config.clone();
                self.sweeps.sweep.set(Some(state));
                self.train_config(config);
                return;
            }
        }
        self.sweeps.sweep.set(Some(state));
    }
}
