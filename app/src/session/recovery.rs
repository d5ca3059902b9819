//! When the worker dies (a panic, a trap, out of memory, a lost message; see
//! [`crate::faults`]): the run in progress ends as failed with the reason (kept with the epochs
//! it completed), a sweep goes on with its next run, a fresh worker starts, and the page says
//! so. The user trains again without a reload.

use std::time::Duration;

use kindling_core::record::RunStatus;
use leptos::prelude::*;

use super::persistence::{forget_pending_import, record_progress};
use super::{worker_link, Phase, Session};
use crate::faults::WorkerDeath;

/// How long the page waits after the first sign of a death before it recovers: what the
/// worker posted before dying (a panic's text, out of memory) may arrive just after the
/// browser's error event, and explains the death better.
const SETTLE: Duration = Duration::from_millis(100);

impl Session {
    /// A sign that the worker died (`generation`: the worker the sign came from, None for the
    /// one running now). The first sign of the running worker starts the recovery.
    pub(super) fn worker_died(&self, generation: Option<u64>, sign: WorkerDeath) {
        if self.worker.died(generation, sign) {
            let s = *self;
            set_timeout(move || s.recover(), SETTLE);
        }
    }

    /// Ends the dead worker, fails its run, starts a fresh worker and goes on with a sweep.
    fn recover(&self) {
        let Some((death, started)) = self.worker.bury() else {
            return;
        };
        let reason = death.reason();
        // One that never ran is not started again: a fresh one would fail the same way (a
        // script that does not load, a browser without what Kindling needs).
        if !(started && worker_link::start_worker(*self)) {
            self.worker.drop_waiting();
            self.fail_current_run(format!("the training worker stopped: {reason}"));
            self.sweeps.cancel();
            self.next_sweep_run();
            self.messages.fail(if started {
                format!(
                    "The training worker stopped: {reason}. It could not be restarted: reload \
                     the page to go on."
                )
            } else {
                format!(
                    "The training worker could not start: {reason}. Reload the page to try \
                     again."
                )
            });
            return;
        }
        // What the dead worker held is gone: its model, the user's uploads, an upload or an
        // import it was reading.
        self.predictions.model_in_use.set(None);
        self.predictions.clear();
        self.builder.pending_upload.set(None);
        forget_pending_import();
        let run = self.fail_current_run(format!("the training worker stopped: {reason}"));
        let in_sweep = self.sweeps.current_label().is_some();
        // A sweep goes on with its next run (on the fresh worker, once it is ready); each run
        // that fails is kept with its reason.
        self.next_sweep_run();
        let next = if in_sweep {
            if self.sweeps.current_label().is_some() {
                " The sweep goes on with its next run."
            } else {
                " The sweep ends here."
            }
        } else {
            " Press Train to train again."
        };
        // Told last: starting the sweep's next run clears the messages.
        self.messages.fail(format!(
            "The training worker stopped: {reason}. It was restarted.{}{next}",
            run.map(|r| format!(" {r}")).unwrap_or_default()
        ));
    }

    /// Ends the run in progress, if one is, as failed with `reason`: its record keeps the
    /// epochs and the curve it completed. Says what became of it.
    pub(super) fn fail_current_run(&self, reason: String) -> Option<String> {
        if !self.run.busy_untracked() {
            return None;
        }
        self.kept.reproducing.set(None);
        let status = RunStatus::Failed(reason);
        self.run.end.set(Some(status.clone()));
        let Some(id) = self.run.record_id.get_untracked() else {
            // It was still loading its data: nothing was kept of it.
            self.run.phase.set(Phase::Idle);
            return Some("The run was still loading its data.".into());
        };
        self.run.phase.set(Phase::Ended);
        self.run.redraw(true);
        let epochs = self.run.epochs.get_untracked();
        let points = self.run.points.get_untracked();
        let progress = self.run.progress.get_untracked();
        let kept = epochs.len();
        let name = self
            .kept
            .get(id)
            .map(|r| format!(" \"{}\"", r.name))
            .unwrap_or_default();
        // Interrupted too: a tab that opened meanwhile may have taken the run for cut off.
        self.update_run_soon(id, move |r| {
            if matches!(r.status, RunStatus::Training | RunStatus::Interrupted) {
                r.status = status;
                r.epochs = epochs;
                record_progress(r, &progress, &points);
            }
        });
        // After the write above is queued (timers run in order): the run is no longer live.
        set_timeout(
            move || super::tabs::release_run(id),
            std::time::Duration::ZERO,
        );
        Some(format!(
            "The run{name} is kept as failed, with the {kept} epoch{} it completed.",
            if kept == 1 { "" } else { "s" }
        ))
    }
}
