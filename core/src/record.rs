//! What is kept of a run: its config, how it ended, its per-epoch metrics and a downsampled
//! batch curve. The browser stores these (IndexedDB), compares them, and shares them as links.

use serde::{Deserialize, Serialize};

use crate::model::weights::{metadata, with_metadata, WeightsError};
use crate::run::RunConfig;
use crate::run::MAX_TRAINING_BYTES;
use crate::train::{BatchPoint, EpochMetrics, StopReason, TrainerState};

/// Key of the run record (JSON) in a model file's metadata.
pub const RUN_METADATA_KEY: &str = "kindling.run";

/// Most points of a stored batch curve.
pub const MAX_CURVE_POINTS: usize = 400;

/// Longest run name an imported run keeps, in characters (as a share link's run).
pub const MAX_RUN_NAME_CHARS: usize = 200;

/// Longest notes an imported run keeps, in characters.
pub const MAX_NOTES_CHARS: usize = 10_000;

/// Most bytes of a model file: the weights of the largest model a run may train (at most half
/// of [`MAX_TRAINING_BYTES`], which counts the weights and their gradients at least) and 16 MB
/// for its run record and the file's own tables: 1,040 MB (1 MB = 2^20 bytes). The page
/// checks a chosen file's size against it before reading it.
pub const MAX_MODEL_FILE_BYTES: usize = (MAX_TRAINING_BYTES / 2) as usize + 16 * 1024 * 1024;

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

/// The file name of a run whose name has no letter or digit.
const FALLBACK_FILE_STEM: &str = "kindling-run";

impl RunRecord {
    /// A file name made of the run's name: letters and digits (lower case) and dashes.
    pub fn file_stem(&self) -> String {
        let stem: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let stem = stem.trim_matches('-').to_string();
        if stem.is_empty() {
            FALLBACK_FILE_STEM.into()
        } else {
            stem
        }
    }

    /// The command that trains this run natively, in a clone of Kindling, from its share
    /// `link` (same config and seed), writes its model file and exports it for PyTorch and
    /// Keras into a folder named after the run (`kindling export`): what "Run natively"
    /// copies. The link is single-quoted for the shell (it has no quote of its own: base64url
    /// and the page's address; one would be escaped).
    pub fn native_command(&self, link: &str) -> String {
        let stem = self.file_stem();
        let weights = format!("{stem}.{}", crate::model::WEIGHTS_EXTENSION);
        format!(
            "cargo run --release -p kindling-cli -- train --link '{}' --weights {weights} \
             && cargo run --release -p kindling-cli -- export --weights {weights} --out {stem}",
            link.replace('\'', "'\\''"),
        )
    }

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
    ///
    /// Checked as a share link's run is: a file of at most [`MAX_MODEL_FILE_BYTES`], its name
    /// and notes cut to [`MAX_RUN_NAME_CHARS`] and [`MAX_NOTES_CHARS`], then
    /// [`RunRecord::check_imported`].
    pub fn from_model_file(bytes: &[u8]) -> Result<RunRecord, WeightsError> {
        if bytes.len() > MAX_MODEL_FILE_BYTES {
            return Err(WeightsError::Unreadable(format!(
                "it is {:.1} MB, more than the {} MB a model file may have",
                bytes.len() as f64 / (1024.0 * 1024.0),
                MAX_MODEL_FILE_BYTES / (1024 * 1024)
            )));
        }
        let json = metadata(bytes, RUN_METADATA_KEY)?.ok_or_else(|| {
            WeightsError::Unreadable(
                "it holds weights but no Kindling run (was it saved by Kindling?)".into(),
            )
        })?;
        let mut record: RunRecord = serde_json::from_str(&json)
            .map_err(|e| WeightsError::Unreadable(format!("its run record is damaged: {e}")))?;
        if record.name.chars().count() > MAX_RUN_NAME_CHARS {
            record.name = record.name.chars().take(MAX_RUN_NAME_CHARS).collect();
        }
        if record.notes.chars().count() > MAX_NOTES_CHARS {
            record.notes = record.notes.chars().take(MAX_NOTES_CHARS).collect();
        }
        record
            .check_imported()
            .map_err(|e| WeightsError::Unreadable(format!("its run is not valid: {e}")))?;
        Ok(record)
    }

    /// Whether a run that comes from outside (a model file) is one this build could have
    /// made, as strictly as a share link's run is checked: name and notes not longer than
    /// [`MAX_RUN_NAME_CHARS`] and [`MAX_NOTES_CHARS`]; a config that validates; times,
    /// throughput and accuracies finite and in range; at most the config's epochs, numbered
    /// from 1; at most [`MAX_CURVE_POINTS`] curve points with increasing steps, within the
    /// config's epochs and batches; losses not negative (NaN or infinite: a diverged run).
    /// The error says what is wrong.
    pub fn check_imported(&self) -> Result<(), String> {
        let chars = self.name.chars().count();
        if chars > MAX_RUN_NAME_CHARS {
            return Err(format!(
                "its name is {chars} characters long; at most {MAX_RUN_NAME_CHARS}"
            ));
        }
        let chars = self.notes.chars().count();
        if chars > MAX_NOTES_CHARS {
            return Err(format!(
                "its notes are {chars} characters long; at most {MAX_NOTES_CHARS}"
            ));
        }
        self.config.validate().map_err(|e| e.to_string())?;
        for (what, v) in [
            ("seconds", self.seconds),
            ("samples per second", self.samples_per_second),
            ("creation time", self.created_ms),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("{what} is {v}"));
            }
        }
        // A share in [0, 1]; on a regression set R², at most 1 (below 0 for a model worse than
        // the mean, NaN when the values do not spread).
        let regression = self.config.dataset.is_regression();
        let accuracy = |what: &str, a: f64| match (0.0..=1.0).contains(&a)
            || (regression && (a <= 1.0 || a.is_nan()))
        {
            true => Ok(()),
            false => Err(format!("{what} is {a}")),
        };
        // A loss is not negative; NaN or infinite when the run diverged.
        let loss = |what: &str, l: f64| match l >= 0.0 || l.is_nan() {
            true => Ok(()),
            false => Err(format!("{what} is {l}")),
        };
        if let Some(a) = self.test_accuracy {
            accuracy("test accuracy", a)?;
        }
        let epochs = self.config.training.epochs;
        if self.epochs.len() > epochs {
            return Err(format!(
                "{} epochs recorded for a run of {epochs}",
                self.epochs.len()
            ));
        }
        for (i, e) in self.epochs.iter().enumerate() {
            if e.epoch != i + 1 {
                return Err(format!("epoch {} is recorded as epoch {}", i + 1, e.epoch));
            }
            let at = |what: &str| format!("epoch {}'s {what}", i + 1);
            loss(&at("training loss"), e.train_loss)?;
            loss(&at("held-out loss"), e.eval_loss)?;
            accuracy(&at("training accuracy"), e.train_accuracy)?;
            accuracy(&at("held-out accuracy"), e.eval_accuracy)?;
        }
        let batches = self.batches_per_epoch;
        let train = self.config.dataset.train_size().max(1);
        if batches > train {
            return Err(format!(
                "{batches} batches per epoch for {train} training examples"
            ));
        }
        if self.curve.len() > MAX_CURVE_POINTS {
            return Err(format!(
                "its curve has {} points; at most {MAX_CURVE_POINTS}",
                self.curve.len()
            ));
        }
        let last_step = epochs.saturating_mul(batches);
        let (mut step, mut epoch) = (0, 1);
        for (i, p) in self.curve.iter().enumerate() {
            let at = |what: &str| format!("curve point {}'s {what}", i + 1);
            if p.step <= step {
                return Err(format!(
                    "{} {} does not follow step {step}",
                    at("step"),
                    p.step
                ));
            }
            if batches > 0 && p.step > last_step {
                return Err(format!(
                    "{} {} is past the run's last, {last_step} ({epochs} epochs of {batches} \
                     batches)",
                    at("step"),
                    p.step
                ));
            }
            if p.epoch < epoch {
                return Err(format!(
                    "{} {} does not follow epoch {epoch}",
                    at("epoch"),
                    p.epoch
                ));
            }
            if p.epoch > epochs {
                return Err(format!(
                    "{} {} is past the run's {epochs} epochs",
                    at("epoch"),
                    p.epoch
                ));
            }
            (step, epoch) = (p.step, p.epoch);
            loss(&at("loss"), p.loss)?;
            accuracy(&at("accuracy"), p.accuracy)?;
        }
        Ok(())
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

    fn finished_run() -> RunRecord {
        crate::mutations::sample_run()
    }

    #[test]
    fn an_imported_run_is_checked_as_a_link_s_run() {
        let good = finished_run();
        assert_eq!(good.check_imported(), Ok(()));
        type Change = fn(&mut RunRecord);
        let cases: [(Change, &str); 16] = [
            (
                |r| r.name = "n".repeat(201),
                "its name is 201 characters long; at most 200",
            ),
            (
                |r| r.notes = "n".repeat(10_001),
                "its notes are 10001 characters long; at most 10000",
            ),
            (
                |r| r.config.training.optimizer.learning_rate = 1e9,
                "learning_rate",
            ),
            (|r| r.seconds = -1.0, "seconds is -1"),
            (
                |r| r.samples_per_second = f64::INFINITY,
                "samples per second is inf",
            ),
            (|r| r.test_accuracy = Some(1.5), "test accuracy is 1.5"),
            (
                |r| r.epochs.push(r.epochs[0]),
                "epochs recorded for a run of",
            ),
            (|r| r.epochs[0].epoch = 3, "epoch 1 is recorded as epoch 3"),
            (
                |r| r.epochs[0].train_loss = -0.5,
                "epoch 1's training loss is -0.5",
            ),
            (
                |r| r.epochs[1].eval_accuracy = f64::NAN,
                "epoch 2's held-out accuracy is NaN",
            ),
            (|r| r.batches_per_epoch = 1 << 40, "batches per epoch for"),
            (
                |r| r.curve = vec![r.curve[0]; MAX_CURVE_POINTS + 1],
                "its curve has 401 points; at most 400",
            ),
            (
                |r| r.curve.swap(0, 1),
                "curve point 2's step 800 does not follow step 1600",
            ),
            (
                |r| r.curve[0].step = 1 << 40,
                "curve point 1's step 1099511627776 is past the run's last, 24000 (30 epochs \
                 of 800 batches)",
            ),
            (
                |r| r.curve[1].epoch = 1000,
                "curve point 2's epoch 1000 is past the run's 30 epochs",
            ),
            (
                |r| r.curve[0].loss = f64::NEG_INFINITY,
                "curve point 1's loss is -inf",
            ),
        ];
        for (change, expected) in cases {
            let mut run = good.clone();
            change(&mut run);
            let e = run.check_imported().unwrap_err();
            assert!(e.contains(expected), "{expected}: {e}");
        }
        // A diverged run keeps its NaN losses; a run still training has fewer epochs.
        let mut diverged = good.clone();
        diverged.status = RunStatus::Diverged("loss NaN".into());
        diverged.curve[1].loss = f64::NAN;
        assert_eq!(diverged.check_imported(), Ok(()));
        let mut partial = good;
        partial.epochs.truncate(1);
        partial.curve.truncate(1);
        assert_eq!(partial.check_imported(), Ok(()));
    }

    #[test]
    fn a_model_file_with_an_invalid_run_is_refused() {
        let run = finished_run();
        let device = burn::tensor::Device::flex();
        let model = run.config.model.init(&device).unwrap();
        let weights =
            crate::block_on(crate::model::weights::weights_of(&model, &run.config.model)).unwrap();
        // A long name and notes are cut, as a link's are.
        let mut long = run.clone();
        long.name = "é".repeat(300);
        long.notes = "x".repeat(20_000);
        let back = RunRecord::from_model_file(&long.model_file(weights.clone()).unwrap()).unwrap();
        assert_eq!(back.name.chars().count(), MAX_RUN_NAME_CHARS);
        assert_eq!(back.notes.len(), MAX_NOTES_CHARS);
        let mut bad = run;
        bad.epochs[0].train_accuracy = 2.0;
        let e = RunRecord::from_model_file(&bad.model_file(weights).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not a Kindling weights file (burnpack): its run is not valid: epoch 1's training \
             accuracy is 2"
        );
        assert_eq!(MAX_MODEL_FILE_BYTES, 1040 << 20);
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
