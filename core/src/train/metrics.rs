//! What a run records as it trains: a per-batch curve, per-epoch metrics and why it stopped.

use serde::{Deserialize, Serialize};

/// Mean training loss and accuracy over the batches since the previous point.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct BatchPoint {
    /// Batches trained so far in the whole run (1-based position of this point).
    pub step: usize,
    /// Epoch the batches belong to (from 1).
    pub epoch: usize,
    /// Mean loss per example over the window.
    pub loss: f64,
    /// Fraction of the window's examples classified correctly.
    pub accuracy: f64,
}

/// Loss and accuracy of a whole dataset.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct EvalMetrics {
    /// Mean loss per example (with the L2 penalty, as Keras reports it).
    pub loss: f64,
    /// Fraction classified correctly.
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
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    pub train_accuracy: f64,
    /// Loss on the held-out set (validation if the run has one, else test) after the epoch.
    pub eval_loss: f64,
    /// Accuracy on the held-out set after the epoch.
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
