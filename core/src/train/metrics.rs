//! What a run records as it trains: a per-batch curve, per-epoch metrics and why it stopped.

use serde::{Deserialize, Deserializer, Serialize};

/// Reads a figure that JSON wrote as `null`: serde_json writes a NaN or infinite `f64` as
/// `null` (JSON has no NaN), and a diverged run's losses are NaN, so without this its record
/// (in the browser's store, in a model file) could not be read back, and the run was lost.
fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Mean training loss and accuracy over the batches since the previous point.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct BatchPoint {
    /// Batches trained so far in the whole run (1-based position of this point).
    pub step: usize,
    /// Epoch the batches belong to (from 1).
    pub epoch: usize,
    /// Mean loss per example over the window.
    #[serde(deserialize_with = "nan_if_null")]
    pub loss: f64,
    /// Fraction of the window's examples classified correctly.
    #[serde(deserialize_with = "nan_if_null")]
    pub accuracy: f64,
}

/// Loss and accuracy of a whole dataset.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct EvalMetrics {
    /// Mean loss per example (with the L2 penalty, as Keras reports it).
    #[serde(deserialize_with = "nan_if_null")]
    pub loss: f64,
    /// Fraction classified correctly.
    #[serde(deserialize_with = "nan_if_null")]
    pub accuracy: f64,
    /// Examples evaluated.
    pub examples: usize,
}

/// Metrics at the end of one epoch.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (weights changing as it went, as Keras does).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    #[serde(deserialize_with = "nan_if_null")]
    pub train_accuracy: f64,
    /// Loss on the held-out set (validation if the run has one, else test) after the epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub eval_loss: f64,
    /// Accuracy on the held-out set after the epoch.
    #[serde(deserialize_with = "nan_if_null")]
    pub eval_accuracy: f64,
}

/// Why a run ended before its last epoch.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, thiserror::Error)]
pub enum StopReason {
    /// The loss became NaN or infinite: the run diverged.
    #[error(
        "the loss became {value} at epoch {epoch}, batch {batch}: the run diverged; \
         try a smaller learning rate (now {learning_rate})"
    )]
    NonFiniteLoss {
        /// Epoch (from 1).
        epoch: usize,
        /// Batch within the epoch (from 1).
        batch: usize,
        /// The value read back, e.g. "NaN" or "inf".
        value: String,
        /// The learning rate in use.
        learning_rate: f64,
    },
    /// The user stopped it.
    #[error("stopped by the user")]
    Stopped,
}

/// Everything measured during a run.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct TrainingHistory {
    /// The per-batch curve (one point per read-back window).
    pub batches: Vec<BatchPoint>,
    /// One entry per completed epoch.
    pub epochs: Vec<EpochMetrics>,
}

impl TrainingHistory {
    /// The last epoch's metrics, if any epoch completed.
    pub fn last(&self) -> Option<&EpochMetrics> {
        self.epochs.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diverged run's NaN and infinite losses are written as JSON's `null` and read back as
    /// NaN: its record is never unreadable.
    #[test]
    fn non_finite_figures_survive_json() {
        let epoch = EpochMetrics {
            epoch: 3,
            train_loss: f64::NAN,
            train_accuracy: 0.1,
            eval_loss: f64::INFINITY,
            eval_accuracy: 0.1,
        };
        let json = serde_json::to_string(&epoch).unwrap();
        assert!(json.contains("\"train_loss\":null"), "{json}");
        let back: EpochMetrics = serde_json::from_str(&json).unwrap();
        assert!(back.train_loss.is_nan() && back.eval_loss.is_nan());
        assert_eq!(back.train_accuracy, 0.1);
        let point = BatchPoint {
            step: 7,
            epoch: 1,
            loss: f64::NAN,
            accuracy: 0.5,
        };
        let back: BatchPoint =
            serde_json::from_str(&serde_json::to_string(&point).unwrap()).unwrap();
        assert!(back.loss.is_nan() && back.step == 7);
        let eval: EvalMetrics =
            serde_json::from_str(r#"{"loss": null, "accuracy": 0.25, "examples": 4}"#).unwrap();
        assert!(eval.loss.is_nan() && eval.accuracy == 0.25);
    }
}
