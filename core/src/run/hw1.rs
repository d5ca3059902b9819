//! The adapter from a [`RunConfig`] to the homework's hand-written engine: the runs it can
//! train (a sigmoid MLP with a sigmoid output, the quadratic cost, plain SGD, one weight
//! decay) and why it cannot train the others.

use super::RunConfig;
use crate::hw1::Hw1Config;
use crate::model::{Activation, ModelConfig};
use crate::train::{LossKind, OptimizerKind};

/// Why the hand-written engine cannot train a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Hw1Mismatch {
    /// The model is not an MLP.
    #[error("the hand-written engine trains MLPs only")]
    NotAnMlp,
    /// A layer is not sigmoid.
    #[error("the hand-written engine has sigmoid layers only")]
    NotSigmoid,
    /// A layer has dropout.
    #[error("the hand-written engine has no dropout")]
    Dropout,
    /// The loss is not the quadratic cost.
    #[error("the hand-written engine minimises the quadratic cost")]
    NotQuadratic,
    /// The optimizer is not plain SGD.
    #[error("the hand-written engine uses plain SGD")]
    NotPlainSgd,
    /// Layers have different L2 coefficients.
    #[error("the hand-written engine has one weight decay for all layers")]
    UnequalWeightDecay,
    /// The data has values to predict, not classes.
    #[error("the hand-written engine trains classification sets (one-hot targets)")]
    Regression,
}

impl RunConfig {
    /// The hand-written engine's config, when the model is what it can train: a sigmoid MLP
    /// with a sigmoid output, the quadratic cost and plain SGD. L2 is the hidden layers' (all
    /// equal) coefficient, applied as weight decay.
    pub fn hw1_config(&self) -> Result<Hw1Config, Hw1Mismatch> {
        let ModelConfig::Mlp(m) = &self.model else {
            return Err(Hw1Mismatch::NotAnMlp);
        };
        if self.dataset.is_regression() {
            return Err(Hw1Mismatch::Regression);
        }
        if m.hidden.iter().any(|l| l.activation != Activation::Sigmoid)
            || m.output_activation != Activation::Sigmoid
        {
            return Err(Hw1Mismatch::NotSigmoid);
        }
        if m.hidden.iter().any(|l| l.dropout > 0.0) {
            return Err(Hw1Mismatch::Dropout);
        }
        if self.training.loss != LossKind::Quadratic {
            return Err(Hw1Mismatch::NotQuadratic);
        }
        if self.training.optimizer.kind != OptimizerKind::Sgd
            || self.training.optimizer.momentum > 0.0
        {
            return Err(Hw1Mismatch::NotPlainSgd);
        }
        let lams = m.l2_per_layer();
        let lam = lams[0];
        if lams.iter().any(|&l| l != lam) {
            return Err(Hw1Mismatch::UnequalWeightDecay);
        }
        Ok(Hw1Config::new(
            m.layer_sizes(),
            self.training.optimizer.learning_rate,
            self.training.epochs,
        )
        .with_lam(lam)
        .with_batch_size(self.training.batch_size)
        .with_seed(self.training.seed)
        .with_steering(self.training.steering.clone())
        .with_lr_decay(self.training.lr_decay))
    }
}
