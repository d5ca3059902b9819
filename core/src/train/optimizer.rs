//! Optimizers of the seed notebooks with Keras's defaults.

use super::adam_ops::FusedAdam;
use burn::config::Config;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{ModuleOptimizer, RmsPropConfig, SgdConfig};

/// Which update rule.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum OptimizerKind {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum.
    Sgd,
    /// Adam.
    Adam,
    /// RMSprop.
    RmsProp,
}

/// An optimizer and its hyper-parameters.
#[derive(Config, Debug, PartialEq)]
pub struct OptimizerConfig {
    /// Update rule.
    pub kind: OptimizerKind,
    /// Learning rate, in (0, 10].
    pub learning_rate: f64,
    /// SGD momentum in [0, 1) (0 = plain SGD).
    #[config(default = 0.0)]
    pub momentum: f64,
    /// SGD: Nesterov momentum.
    #[config(default = false)]
    pub nesterov: bool,
    /// Adam beta 1, in [0, 1).
    #[config(default = 0.9)]
    pub beta_1: f64,
    /// Adam beta 2, in [0, 1).
    #[config(default = 0.999)]
    pub beta_2: f64,
    /// RMSprop decay of the squared-gradient average (Keras `rho`), in [0, 1).
    #[config(default = 0.9)]
    pub rho: f64,
    /// Numerical stability term (Keras 1e-7).
    #[config(default = 1e-7)]
    pub epsilon: f64,
}

impl OptimizerConfig {
    /// Adam with learning rate `lr` and Keras's defaults.
    pub fn adam(lr: f64) -> Self {
        Self::new(OptimizerKind::Adam, lr)
    }

    /// Plain SGD with learning rate `lr`.
    pub fn sgd(lr: f64) -> Self {
        Self::new(OptimizerKind::Sgd, lr)
    }

    /// Tensors of state kept per parameter (for memory estimates).
    pub fn state_slots(&self) -> usize {
        match self.kind {
            OptimizerKind::Sgd if self.momentum > 0.0 => 1,
            OptimizerKind::Sgd => 0,
            OptimizerKind::Adam => 2,
            OptimizerKind::RmsProp => 1,
        }
    }

    /// Builds the optimizer: burn's, with Adam's update as one operation
    /// ([`FusedAdam`]).
    pub fn init(&self) -> ModuleOptimizer {
        match self.kind {
            OptimizerKind::Sgd => {
                let momentum = (self.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(self.nesterov)
                });
                SgdConfig::new().with_momentum(momentum).init()
            }
            OptimizerKind::Adam => FusedAdam {
                beta_1: self.beta_1 as f32,
                beta_2: self.beta_2 as f32,
                epsilon: self.epsilon as f32,
            }
            .init(),
            OptimizerKind::RmsProp => RmsPropConfig::new()
                .with_alpha(self.rho as f32)
                .with_momentum(0.0)
                .with_epsilon(self.epsilon as f32)
                .init(),
        }
    }
}
