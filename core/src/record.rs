//! What is kept of a run: its config, how it ended, its per-epoch metrics and a downsampled
//! batch curve. The browser stores these (IndexedDB), compares them, and shares them as links.

use serde::{Deserialize, Serialize};

use crate::model::weights::{metadata, with_metadata, WeightsError};
use crate::run::RunConfig;
use crate::train::{BatchPoint, EpochMetrics, StopReason, TrainerState};

/// Key of the run record (JSON) in a model file's metadata.
pub const RUN_METADATA_KEY: &str = "kindling.run";

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
    /// It could not go on: its training failed, or the worker training it stopped (a trap, out
    /// of memory, a lost device). The reason says which; the epochs it completed are kept.
    Failed(String),
}

impl RunStatus {
    /// How a run whose trainer is in `state` stands: still training, finished, stopped, or
    /// diverged (the reason says when and what to try).
    pub fn of_trainer(state: &TrainerState) -> RunStatus {
        match state {
            TrainerState::Running => RunStatus::Training,
            TrainerState::Finished => RunStatus::Finished,
            TrainerState::Stopped(reason @ StopReason::NonFiniteLoss { .. }) => {
                RunStatus::Diverged(reason.to_string())
            }
            TrainerState::Stopped(_) => RunStatus::Stopped,
        }
    }

    /// Why the run diverged or failed, if it did.
    pub fn reason(&self) -> Option<&str> {
        match self {
            RunStatus::Diverged(why) | RunStatus::Failed(why) => Some(why),
            _ => None,
        }
    }

    /// Whether the run ended by diverging.
    pub fn diverged(&self) -> bool {
        matches!(self, RunStatus::Diverged(_))
    }

    /// Short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            RunStatus::Training => "training",
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Diverged(_) => "diverged",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed(_) => "failed",
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
    /// Its model's weights are kept too (in the browser: the weights store; from the CLI: the
    /// `.bpk` file beside the run's JSON).
    #[serde(default)]
    pub has_weights: bool,
}

impl RunRecord {
    /// The record of a run that starts training now: no epochs, no curve yet.
    pub fn started(id: u64, name: String, config: RunConfig, created_ms: f64) -> Self {
        Self {
            id,
            name,
            notes: String::new(),
            config,
            status: RunStatus::Training,
            epochs: Vec::new(),
            curve: Vec::new(),
            batches_per_epoch: 0,
            test_accuracy: None,
            seconds: 0.0,
            samples_per_second: 0.0,
            created_ms,
            shared: false,
            has_weights: false,
        }
    }

    /// One file holding a trained model and this record: the model's weights (a burnpack
    /// record burn loads as it is) with this record's JSON in its metadata.
    pub fn model_file(&self, weights: Vec<u8>) -> Result<Vec<u8>, WeightsError> {
        let json =
            serde_json::to_string(self).map_err(|e| WeightsError::Unreadable(e.to_string()))?;
        with_metadata(weights, RUN_METADATA_KEY, &json)
    }

    /// The record kept in a model file made by [`RunRecord::model_file`] (the file itself is
    /// the weights: load it with [`crate::model::SavedModel::load`]).
    pub fn from_model_file(bytes: &[u8]) -> Result<RunRecord, WeightsError> {
        let json = metadata(bytes, RUN_METADATA_KEY)?.ok_or_else(|| {
            WeightsError::Unreadable(
                "it holds weights but no Kindling run (was it saved by Kindling?)".into(),
            )
        })?;
        serde_json::from_str(&json)
            .map_err(|e| WeightsError::Unreadable(format!("its run record is damaged: {e}")))
    }

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
    fn a_model_file_carries_its_run() {
        let config = RunConfig::preset("mnist-10k").expect("a preset");
        let device = burn::tensor::Device::flex();
        let model = config.model.init(&device).unwrap();
        let weights =
            crate::block_on(crate::model::weights::weights_of(&model, &config.model)).unwrap();
        let record = RunRecord {
            id: 5,
            name: "digits".into(),
            notes: String::new(),
            config: config.clone(),
            status: RunStatus::Finished,
            epochs: Vec::new(),
            curve: Vec::new(),
            batches_per_epoch: 3,
            test_accuracy: Some(0.5),
            seconds: 1.0,
            samples_per_second: 2.0,
            created_ms: 3.0,
            shared: false,
            has_weights: true,
        };
        let file = record.model_file(weights.clone()).unwrap();
        assert_eq!(RunRecord::from_model_file(&file).unwrap(), record);
        assert!(crate::model::SavedModel::load(&config.model, file, &device).is_ok());
        let bare = RunRecord::from_model_file(&weights).unwrap_err();
        assert!(bare.to_string().contains("no Kindling run"), "{bare}");
    }

    #[test]
    fn a_failed_status_keeps_its_reason_and_older_statuses_still_read() {
        let failed = RunStatus::Failed("the training worker stopped: out of memory".into());
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(serde_json::from_str::<RunStatus>(&json).unwrap(), failed);
        assert_eq!(failed.name(), "failed");
        assert_eq!(
            failed.reason(),
            Some("the training worker stopped: out of memory")
        );
        assert_eq!(RunStatus::Finished.reason(), None);
        // Records stored before `Failed` existed read as they did.
        for (stored, status) in [
            ("\"Interrupted\"", RunStatus::Interrupted),
            ("{\"Diverged\":\"NaN\"}", RunStatus::Diverged("NaN".into())),
        ] {
            assert_eq!(serde_json::from_str::<RunStatus>(stored).unwrap(), status);
        }
    }

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
