//! What is kept of a run: its config, how it ended, its per-epoch metrics and a downsampled
//! batch curve. The browser stores these (IndexedDB), compares them, and shares them as links.

use serde::{Deserialize, Serialize};

use crate::run::RunConfig;
use crate::train::{BatchPoint, EpochMetrics};

/// Most points of a stored batch curve.
pub const MAX_CURVE_POINTS: usize = 400;

/// How a run ended (or that it did not).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Still training.
    Training,
    /// Every epoch trained.
    Finished,
    /// Stopped by the user.
    Stopped,
    /// The loss became NaN or infinite; the message says when and what to try.
    Diverged(String),
    /// The page closed while it trained.
    Interrupted,
}

impl RunStatus {
    /// Short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            RunStatus::Training => "training",
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Diverged(_) => "diverged",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// One run as kept and shared.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// Unique id (creation time in ms, made unique by the store).
    pub id: u64,
    /// Name shown in the runs table.
    pub name: String,
    /// The user's notes.
    #[serde(default)]
    pub notes: String,
    /// The whole config, seed and device included.
    pub config: RunConfig,
    /// How it ended.
    pub status: RunStatus,
    /// One entry per completed epoch.
    pub epochs: Vec<EpochMetrics>,
    /// The batch curve, downsampled to at most [`MAX_CURVE_POINTS`].
    pub curve: Vec<BatchPoint>,
    /// Batches per epoch (to place epochs on the curve's axis).
    pub batches_per_epoch: usize,
    /// Final test accuracy, when the run produced a test report.
    pub test_accuracy: Option<f64>,
    /// Training seconds (pauses excluded).
    pub seconds: f64,
    /// Training throughput.
    pub samples_per_second: f64,
    /// When the run started (ms since the Unix epoch).
    pub created_ms: f64,
    /// Opened from a share link: read-only, not trained here.
    #[serde(default)]
    pub shared: bool,
}

impl RunRecord {
    /// The last epoch's held-out accuracy.
    pub fn final_accuracy(&self) -> Option<f64> {
        self.test_accuracy
            .or_else(|| self.epochs.last().map(|e| e.eval_accuracy))
    }
}

/// Keeps at most `max` points of a curve: evenly spaced, first and last kept.
pub fn downsample(points: &[BatchPoint], max: usize) -> Vec<BatchPoint> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_the_ends_and_the_count() {
        let points: Vec<BatchPoint> = (1..=1000)
            .map(|step| BatchPoint {
                step,
                epoch: 1,
                loss: 1.0 / step as f64,
                accuracy: 0.5,
            })
            .collect();
        let d = downsample(&points, 50);
        assert_eq!(d.len(), 50);
        assert_eq!(d[0].step, 1);
        assert_eq!(d[49].step, 1000);
        assert!(d.windows(2).all(|w| w[0].step < w[1].step));
        assert_eq!(downsample(&points[..10], 50).len(), 10);
    }
}
