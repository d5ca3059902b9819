//! Layer health while a run trains: the trainer probes a step when asked (the run's first, then
//! one every [`HEALTH_MS`] at most, and each epoch's last) and the report goes to the page.
//! Only while the views are open: closed, nothing is probed.

use super::host::post;
use super::Actor;
use crate::protocol::FromWorker;

/// Least milliseconds between two probed steps: each reads every weight and gradient back.
const HEALTH_MS: f64 = 2000.0;

impl Actor {
    /// Posts the run's latest health report, if a step was probed, and asks for the next probe
    /// when one is due (`now` is the slice's clock).
    pub(super) fn post_health(&mut self, now: f64) {
        let views_open = self.views_open;
        let Some(c) = self.current.as_mut() else {
            return;
        };
        if let Some(report) = c.run.take_health() {
            post(&FromWorker::Health {
                run_id: c.run_id,
                report: Box::new(report),
            });
        }
        if views_open && c.active && now - c.last_health >= HEALTH_MS {
            c.last_health = now;
            c.run.request_health(true);
        }
    }

    /// Probes the next step (a run's start, a Step, the views opened), when the views are open;
    /// closed, stops probing.
    pub(super) fn probe_next_step(&mut self) {
        let views_open = self.views_open;
        if let Some(c) = self.current.as_mut() {
            if views_open {
                c.run.request_health(true);
            } else {
                c.run.stop_health();
            }
        }
    }
}
