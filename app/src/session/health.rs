//! What the page does with a layer-health report from the worker: shows it (the live one, and
//! each epoch's end, kept), and remembers the run's first warning.

use kindling_core::inside::health::HealthReport;
use leptos::prelude::*;

use super::Session;
use crate::tasks::in_own_task;

/// Most epochs' health reports the page keeps (the list is thinned past it).
const MAX_HEALTH_EPOCHS: usize = 200;

impl Session {
    /// A layer-health report: shown (and kept, at an epoch's end), rendered in a task of its
    /// own; the run's first warning is remembered.
    pub(super) fn on_health(&self, run_id: u64, report: HealthReport) {
        if !self.is_current(run_id) || !self.run.views_open.get_untracked() {
            return;
        }
        if self.run.first_warning.with_untracked(Option::is_none) {
            let warned: Vec<String> = report
                .layers
                .iter()
                .filter_map(|l| l.warning.map(|w| format!("{} {}", l.name, w.describe())))
                .collect();
            if !warned.is_empty() {
                let text = warned.join(", ");
                self.run.first_warning.set(Some((report.step, text)));
            }
        }
        let run = self.run;
        in_own_task("layer health", move || {
            // A report of a run replaced meanwhile is dropped.
            if run.id.get_untracked() != run_id || !run.views_open.get_untracked() {
                return;
            }
            if report.epoch_end {
                run.health_epochs.update(|e| {
                    // A long run keeps every other epoch's report past the cap.
                    if e.len() >= MAX_HEALTH_EPOCHS {
                        let mut i = 0;
                        e.retain(|_| {
                            i += 1;
                            i % 2 == 1
                        });
                    }
                    e.push(report.clone());
                });
            }
            run.health.set(Some(report));
        });
    }
}
