//! Layer health while a run trains: the trainer probes a step when asked (the run's first, then
//! one every [`HEALTH_MS`] at most, and each epoch's last, at most one every
//! [`EPOCH_HEALTH_MS`]) and the reports go to the page. Only while the views are open: closed,
//! nothing is probed.

use super::host::post;
use super::Actor;
use crate::protocol::FromWorker;

/// Least milliseconds between two probed steps: each reads every parameter's norms and a
/// sample of its values and gradient back.
const HEALTH_MS: f64 = 2000.0;
/// Least milliseconds between two probed epoch ends (a small set's epochs take a fraction of
/// a second: the page keeps the epochs it was sent).
const EPOCH_HEALTH_MS: f64 = 1000.0;

impl Actor {
    /// Posts the reports of the steps probed, and asks for the next probes when they are due
    /// (`now` is the slice's clock).
    pub(super) fn post_health(&mut self, now: f64) {
        let views_open = self.views_open;
        let Some(c) = self.current.as_mut() else {
            return;
        };
        for report in c.run.take_health() {
            if report.epoch_end {
                c.last_epoch_health = now;
            }
            post(&FromWorker::Health {
                run_id: c.run_id,
                report: Box::new(report),
            });
        }
        if !views_open || !c.active {
            return;
        }
        if now - c.last_health >= HEALTH_MS {
            c.last_health = now;
            c.run.request_health();
        }
        c.run
            .set_health_per_epoch(now - c.last_epoch_health >= EPOCH_HEALTH_MS);
    }

    /// Probes the next step and the epochs' ends (a run's start, the views opened), when the
    /// views are open; closed, stops probing.
    pub(super) fn probe_next_step(&mut self) {
        let views_open = self.views_open;
        if let Some(c) = self.current.as_mut() {
            if views_open {
                c.run.request_health();
                c.run.set_health_per_epoch(true);
            } else {
                c.run.stop_health();
            }
        }
    }
}
