//! Models: MLP, CNN and Embedding + LSTM/GRU, one config enum and one module enum over them,
//! plus a Keras-like summary of any of them.

pub mod activation;
pub mod cnn;
pub mod conv_kernels;
pub mod conv_ops;
pub mod dense;
pub mod dropout_ops;
pub(crate) mod flex_values;
pub mod kind;
pub mod mlp;
pub(crate) mod parallel;
pub mod pool_ops;
pub mod recurrent;
pub mod recurrent_kernels;
pub mod recurrent_ops;
pub mod sequence;
pub mod summary;
pub mod validation;
pub mod weights;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::device::with_device_rng;

pub use activation::{Activation, Padding, WeightInit};
pub use cnn::{Cnn, CnnConfig, CnnLayerConfig, CnnShapeError, FeatureShape};
pub use kind::{CnnLayerKind, ModelKind};
pub use mlp::{DenseLayerConfig, Mlp, MlpConfig};
pub use recurrent::{Recurrent, RecurrentKind};
pub use sequence::{SequenceClassifier, SequenceConfig};
pub use summary::{ModelSummary, SummaryRow};
pub use validation::{MAX_DEPTH, MAX_WIDTH};
pub use weights::{SavedModel, WeightsError, WEIGHTS_EXTENSION};

/// Any model Kindling trains.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    /// Multi-layer perceptron on flat features.
    Mlp(MlpConfig),
    /// Convolutional network on images.
    Cnn(CnnConfig),
    /// Embedding + LSTM/GRU on token sequences.
    Sequence(SequenceConfig),
}

/// What a model reads, per example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A flat vector of this many features.
    Features(usize),
    /// An image [channels, height, width].
    Image([usize; 3]),
    /// A sequence of this many token ids.
    Tokens(usize),
}

/// A batch of model inputs.
#[derive(Debug, Clone)]
pub enum BatchInput {
    /// [batch, features]
    Features(Tensor<2>),
    /// [batch, channels, height, width]
    Images(Tensor<4>),
    /// [batch, example_len] token ids
    Tokens(Tensor<2, Int>),
}

impl ModelConfig {
    /// What the model reads.
    pub fn input_kind(&self) -> InputKind {
        match self {
            ModelConfig::Mlp(c) => InputKind::Features(c.inputs),
            ModelConfig::Cnn(c) => InputKind::Image(c.input),
            ModelConfig::Sequence(c) => InputKind::Tokens(c.example_len),
        }
    }

    /// Number of output units.
    pub fn outputs(&self) -> usize {
        match self {
            ModelConfig::Mlp(c) => c.outputs,
            ModelConfig::Cnn(c) => c.outputs,
            ModelConfig::Sequence(c) => c.outputs,
        }
    }

    /// The output layer's activation.
    pub fn output_activation(&self) -> Activation {
        match self {
            ModelConfig::Mlp(c) => c.output_activation,
            ModelConfig::Cnn(c) => c.output_activation,
            ModelConfig::Sequence(c) => c.output_activation,
        }
    }

    /// The L2 coefficient of each dense layer, in the order [`Model::dense_weights`] returns them.
    pub fn l2_per_layer(&self) -> Vec<f64> {
        match self {
            ModelConfig::Mlp(c) => c.l2_per_layer(),
            ModelConfig::Cnn(c) => c.l2_per_layer(),
            ModelConfig::Sequence(c) => vec![c.output_l2],
        }
    }

    /// Whether it has dropout layers (whose rate a steered run may change; an MLP's hidden
    /// layers each have one, at rate 0 when unset).
    pub fn has_dropout_layers(&self) -> bool {
        match self {
            ModelConfig::Mlp(c) => !c.hidden.is_empty(),
            ModelConfig::Cnn(c) => c
                .layers
                .iter()
                .any(|l| matches!(l, CnnLayerConfig::Dropout { .. })),
            ModelConfig::Sequence(_) => true,
        }
    }

    /// The largest dropout rate of its layers (0 without dropout).
    pub fn max_dropout(&self) -> f64 {
        match self {
            ModelConfig::Mlp(c) => c.hidden.iter().map(|l| l.dropout).fold(0.0, f64::max),
            ModelConfig::Cnn(c) => c
                .layers
                .iter()
                .filter_map(|l| match l {
                    CnnLayerConfig::Dropout { rate } => Some(*rate),
                    _ => None,
                })
                .fold(0.0, f64::max),
            ModelConfig::Sequence(c) => c.dropout,
        }
    }

    /// Whether any layer drops activations while training (its forward pass is random).
    pub fn has_dropout(&self) -> bool {
        match self {
            ModelConfig::Mlp(c) => c.hidden.iter().any(|l| l.dropout > 0.0),
            ModelConfig::Cnn(c) => c
                .layers
                .iter()
                .any(|l| matches!(l, CnnLayerConfig::Dropout { rate } if *rate > 0.0)),
            ModelConfig::Sequence(c) => c.dropout > 0.0,
        }
    }

    /// Builds the model on `device`, drawing its initial weights from the device's generator as
    /// it stands (all of them at once, never interleaved with a seeded run's draws).
    pub fn init(&self, device: &Device) -> Result<Model, CnnShapeError> {
        with_device_rng(device, None, || self.build(device))
    }

    /// Builds the model on `device` with the device's generator seeded to `seed` first: the same
    /// seed gives the same weights whatever else runs in the process.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Result<Model, CnnShapeError> {
        with_device_rng(device, Some(seed), || self.build(device))
    }

    /// Builds the model and draws every parameter now: burn initialises parameters lazily, on
    /// first use, which would draw later and outside the generator lock. Callers hold that lock.
    fn build(&self, device: &Device) -> Result<Model, CnnShapeError> {
        let model = match self {
            ModelConfig::Mlp(c) => Model::Mlp(c.init(device)),
            ModelConfig::Cnn(c) => Model::Cnn(c.init(device)?),
            ModelConfig::Sequence(c) => Model::Sequence(c.init(device)),
        };
        model.visit(&mut InitializeEveryParameter);
        Ok(model)
    }

    /// The Keras-like summary of this model.
    pub fn summary(&self) -> Result<ModelSummary, CnnShapeError> {
        ModelSummary::of(self)
    }
}

/// Initialises each lazy parameter it visits (reading a parameter draws it).
struct InitializeEveryParameter;

impl ModuleVisitor for InitializeEveryParameter {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// A built model of any kind. (A model is built once per run and moved per batch: the size
/// difference between variants costs nothing worth boxing for.)
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Model {
    /// MLP.
    Mlp(Mlp),
    /// CNN.
    Cnn(Cnn),
    /// Embedding + LSTM/GRU.
    Sequence(SequenceClassifier),
}

impl Model {
    /// Output-layer pre-activations (logits) of a batch.
    ///
    /// `input` (its kind must match the model's [`InputKind`]) -> [batch, outputs]
    pub fn forward(&self, input: BatchInput) -> Tensor<2> {
        match (self, input) {
            (Model::Mlp(m), BatchInput::Features(x)) => m.forward(x),
            (Model::Mlp(m), BatchInput::Images(x)) => m.forward(x.flatten(1, 3)),
            (Model::Cnn(m), BatchInput::Images(x)) => m.forward(x),
            (Model::Sequence(m), BatchInput::Tokens(x)) => m.forward(x),
            (model, input) => panic!(
                "batch input {} does not fit a {} model: the batcher builds inputs from the model's InputKind",
                input.kind_name(),
                model.kind_name()
            ),
        }
    }

    /// What the model outputs for a batch: `activation` (the config's output activation:
    /// softmax probabilities, a sigmoid probability) applied to the logits.
    ///
    /// `input` -> [batch, outputs]
    pub fn predict(&self, input: BatchInput, activation: Activation) -> Tensor<2> {
        activation.apply(self.forward(input))
    }

    /// Sets the rate of every dropout layer (a steered run's change).
    pub fn set_dropout(&mut self, rate: f64) {
        match self {
            Model::Mlp(m) => m.set_dropout(rate),
            Model::Cnn(m) => m.set_dropout(rate),
            Model::Sequence(m) => m.set_dropout(rate),
        }
    }

    /// The weights of every dense layer, in the order of [`ModelConfig::l2_per_layer`].
    pub fn dense_weights(&self) -> Vec<Tensor<2>> {
        match self {
            Model::Mlp(m) => m.weights(),
            Model::Cnn(m) => m.dense_weights(),
            Model::Sequence(m) => m.dense_weights(),
        }
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Model::Mlp(_) => "MLP",
            Model::Cnn(_) => "CNN",
            Model::Sequence(_) => "sequence",
        }
    }
}

impl BatchInput {
    fn kind_name(&self) -> &'static str {
        match self {
            BatchInput::Features(_) => "features",
            BatchInput::Images(_) => "images",
            BatchInput::Tokens(_) => "tokens",
        }
    }
}
