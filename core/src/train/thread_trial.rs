//! Picking a run's CPU threads while it trains: its first stretches of training take turns on
//! one thread and on the pool's threads, and the run goes on with whichever trained faster.
//!
//! Measuring before the run (a sample of the data, thrown away after) cost MNIST's MLP 1.3-1.4
//! s before its first batch in the browser. The turns of a trial are training: the run loses
//! only the difference between the two while the slower one has its turns, and the figures are
//! those of the run itself (its data, its evaluations, the page's load beside it). Each side
//! has two turns and keeps its better one: on a first visit V8 replaces its baseline code
//! while the first turns run, which would favour whichever went second.

use super::device_speed::{DeviceSpeed, DeviceSpeeds};
use crate::DeviceChoice;

/// Least milliseconds of training in one turn (at least one batch is always trained).
pub const TURN_MS: f64 = 250.0;
/// Turns in a trial: one thread, the pool, one thread, the pool.
const TURNS: usize = 4;

/// A run's trial of one thread against `threads` of a pool.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadTrial {
    /// The model shape the figures are for ([`super::speed_key`]).
    key: String,
    /// The pool's threads.
    threads: u32,
    /// The turn under way (even: one thread, odd: the pool).
    turn: usize,
    /// Training milliseconds and samples of the turn under way.
    turn_ms: f64,
    turn_samples: usize,
    /// Each side's best samples/s: one thread, the pool.
    best: [Option<f64>; 2],
}

impl ThreadTrial {
    /// A trial of one thread against a pool of `threads`, for the model shape `key`.
    pub fn new(key: String, threads: u32) -> ThreadTrial {
        ThreadTrial {
            key,
            threads,
            turn: 0,
            turn_ms: 0.0,
            turn_samples: 0,
            best: [None, None],
        }
    }

    /// Whether the run trains on the pool now (else on one thread).
    pub fn pooled(&self) -> bool {
        self.turn % 2 == 1
    }

    /// Counts a stretch of training (`samples` in `ms`). A turn that has trained for
    /// [`TURN_MS`] keeps its figure and hands over to the next; after the last turn, the
    /// figures that decide ([`DeviceSpeeds::fastest_cpu_threads`]).
    pub fn record(&mut self, samples: usize, ms: f64) -> Option<DeviceSpeeds> {
        if self.turn >= TURNS {
            return Some(self.figures());
        }
        self.turn_samples += samples;
        self.turn_ms += ms.max(0.0);
        if self.turn_ms < TURN_MS || self.turn_samples == 0 {
            return None;
        }
        let speed = self.turn_samples as f64 / (self.turn_ms / 1000.0);
        let side = &mut self.best[self.turn % 2];
        *side = Some(side.map_or(speed, |best| best.max(speed)));
        self.turn += 1;
        self.turn_ms = 0.0;
        self.turn_samples = 0;
        (self.turn == TURNS).then(|| self.figures())
    }

    /// Whether every turn was had.
    pub fn is_done(&self) -> bool {
        self.turn >= TURNS
    }

    /// The figures so far: each side's best turn, or why it has none (a run that ended during
    /// its trial).
    pub fn figures(&self) -> DeviceSpeeds {
        let figure = |best: Option<f64>, threads: u32| DeviceSpeed {
            device: DeviceChoice::Cpu,
            samples_per_second: best,
            failure: best
                .is_none()
                .then(|| "the run ended before it had a turn".to_string()),
            threads: Some(threads),
        };
        DeviceSpeeds {
            key: self.key.clone(),
            speeds: vec![figure(self.best[0], 1), figure(self.best[1], self.threads)],
        }
    }

    /// The threads the run goes on with: the faster side's once both had a turn, else the
    /// side training now.
    pub fn threads_to_keep(&self) -> u32 {
        match self.best {
            [Some(_), Some(_)] => self.figures().fastest_cpu_threads().unwrap_or(1),
            _ if self.pooled() => self.threads,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `trial` stretches of `ms` at `speeds[side]` samples/s until it decides.
    fn run_trial(trial: &mut ThreadTrial, speeds: [f64; 2], ms: f64) -> (DeviceSpeeds, usize) {
        let mut stretches = 0;
        loop {
            let speed = speeds[usize::from(trial.pooled())];
            stretches += 1;
            if let Some(figures) = trial.record((speed * ms / 1000.0) as usize, ms) {
                return (figures, stretches);
            }
            assert!(stretches < 1000, "the trial never decided");
        }
    }

    #[test]
    fn turns_alternate_one_thread_and_the_pool_and_the_faster_is_kept() {
        let mut trial = ThreadTrial::new("k".into(), 2);
        assert!(!trial.pooled(), "one thread has the first turn");
        assert!(trial.record(100, 100.0).is_none());
        assert!(!trial.pooled(), "a turn lasts TURN_MS of training");
        assert!(trial.record(200, 160.0).is_none());
        assert!(trial.pooled(), "then the pool's turn");
        let (figures, stretches) = run_trial(&mut trial, [10_000.0, 16_000.0], 40.0);
        assert_eq!(stretches, 3 * 7, "three more turns of 7 stretches of 40 ms");
        assert!(trial.is_done());
        assert_eq!(figures.fastest_cpu_threads(), Some(2));
        assert_eq!(trial.threads_to_keep(), 2);
        assert_eq!(figures.key, "k");
        let pool = figures.speeds[1].samples_per_second.unwrap();
        assert!((pool - 16_000.0).abs() < 100.0, "{pool}");
        assert_eq!(figures.speeds[1].threads, Some(2));
        assert_eq!(figures.speeds[0].threads, Some(1));
        assert_eq!(
            trial.record(10, 10.0),
            Some(figures),
            "a decided trial stays decided"
        );
    }

    #[test]
    fn one_thread_wins_when_the_pool_is_slower() {
        let mut trial = ThreadTrial::new("k".into(), 4);
        let (figures, _) = run_trial(&mut trial, [20_000.0, 15_000.0], 40.0);
        assert_eq!(figures.fastest_cpu_threads(), Some(1));
        assert_eq!(trial.threads_to_keep(), 1);
        assert_eq!(
            figures.summary(),
            "CPU, 1 thread: 20,000 samples/s · CPU, 4 threads: 15,000"
        );
    }

    #[test]
    fn each_side_keeps_its_better_turn() {
        // A first visit: the first turn runs V8's baseline code, three times slower.
        let mut trial = ThreadTrial::new("k".into(), 2);
        assert!(trial.record(1_500, 300.0).is_none()); // one thread, 5,000/s
        assert!(trial.record(3_600, 300.0).is_none()); // pool, 12,000/s
        assert!(trial.record(4_500, 300.0).is_none()); // one thread, 15,000/s
        let figures = trial.record(3_300, 300.0).expect("four turns"); // pool, 11,000/s
        assert_eq!(figures.speeds[0].samples_per_second, Some(15_000.0));
        assert_eq!(figures.speeds[1].samples_per_second, Some(12_000.0));
        assert_eq!(figures.fastest_cpu_threads(), Some(1));
    }

    #[test]
    fn a_batch_longer_than_a_turn_is_one_turn() {
        // A large CNN: one batch (the least a stretch trains) takes 900 ms.
        let mut trial = ThreadTrial::new("k".into(), 2);
        assert!(trial.record(128, 900.0).is_none());
        assert!(trial.pooled());
        assert!(trial.record(128, 600.0).is_none());
        assert!(trial.record(128, 900.0).is_none());
        let figures = trial.record(128, 600.0).expect("four batches, four turns");
        assert_eq!(figures.fastest_cpu_threads(), Some(2));
    }

    #[test]
    fn a_run_that_ends_during_its_trial_keeps_the_side_training_or_the_faster_so_far() {
        let mut trial = ThreadTrial::new("k".into(), 2);
        assert_eq!(trial.threads_to_keep(), 1);
        assert!(trial.record(5_000, 250.0).is_none());
        assert_eq!(
            trial.threads_to_keep(),
            2,
            "the pool's turn, not measured yet"
        );
        let figures = trial.figures();
        assert_eq!(figures.speeds[0].samples_per_second, Some(20_000.0));
        assert_eq!(figures.speeds[1].samples_per_second, None);
        assert!(figures.speeds[1].failure.is_some());
        assert!(trial.record(2_500, 250.0).is_none());
        assert_eq!(
            trial.threads_to_keep(),
            1,
            "both had a turn: one thread was faster"
        );
        assert!(!trial.is_done());
    }

    #[test]
    fn stretches_without_samples_make_no_figure_and_negative_times_count_nothing() {
        let mut trial = ThreadTrial::new("k".into(), 2);
        assert!(trial.record(0, 1_000.0).is_none());
        assert!(!trial.pooled(), "no samples: no figure yet");
        assert!(trial.record(100, -5_000.0).is_none());
        assert!(trial.pooled(), "a clock going back subtracts nothing");
        assert_eq!(trial.figures().speeds[0].samples_per_second, Some(100.0));
    }
}
