//! A whole run: one serialisable config (dataset, model, training, engine, device) that a
//! share link carries ([`RunConfig`]), its validation with messages that name the field and
//! the allowed range (`validation.rs`), the adapter to the homework's hand-written engine
//! (`hw1.rs`), and the presets named after the seed notebooks' experiments (`presets.rs`,
//! one declarative table).

mod hw1;
mod presets;
mod validation;

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::device::DeviceChoice;
use crate::model::ModelConfig;
use crate::train::TrainingConfig;

pub use crate::checks::ConfigError;
pub use crate::data::config::{DatasetConfig, ImageSubset, ImdbSubset};
pub use hw1::Hw1Mismatch;
pub use presets::{presets_markdown, Preset, PresetGroup, PRESETS};
pub use validation::{MAX_BATCH_SETTING, MAX_EPOCHS, MAX_TRAINING_BYTES};

/// Which engine trains the model.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// burn autodiff with the configured optimizer (every model).
    #[default]
    Autodiff,
    /// The homework's hand-written backprop (sigmoid MLP, quadratic cost, SGD, weight decay).
    HandWritten,
}

/// A whole run: what a share link carries.
#[derive(Config, Debug, PartialEq)]
pub struct RunConfig {
    /// The dataset and its options.
    pub dataset: DatasetConfig,
    /// The model.
    pub model: ModelConfig,
    /// Optimizer, loss, schedule, seed.
    pub training: TrainingConfig,
    /// Autodiff or the hand-written backprop engine.
    #[config(default = "Engine::Autodiff")]
    pub engine: Engine,
    /// Device.
    #[config(default = "DeviceChoice::Cpu")]
    pub device: DeviceChoice,
}
