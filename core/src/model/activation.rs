//! Activation functions and weight initialisation schemes shared by every layer.

use burn::config::Config;
use burn::nn::Initializer;
use burn::tensor::{activation, Tensor};
use serde::{Deserialize, Serialize};

/// The non-linearity a layer applies to its pre-activations.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// Logistic sigmoid, 1 / (1 + e^-x): the homework's units.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// max(0, x).
    Relu,
    /// max(0.01 x, x).
    LeakyRelu,
    /// Softmax over the last dimension (output layers only).
    Softmax,
    /// The identity.
    Linear,
}

impl Activation {
    /// Every activation, in the order a picker shows them.
    pub const ALL: [Activation; 6] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Softmax,
        Activation::Linear,
    ];

    /// Applies the activation; softmax normalises over the last dimension.
    pub fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Sigmoid => activation::sigmoid(x),
            Activation::Tanh => activation::tanh(x),
            Activation::Relu => activation::relu(x),
            Activation::LeakyRelu => activation::leaky_relu(x, 0.01),
            Activation::Softmax => activation::softmax(x, D - 1),
            Activation::Linear => x,
        }
    }

    /// Keras's name for it, as a summary shows it.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Softmax => "softmax",
            Activation::Linear => "linear",
        }
    }
}

/// How a layer's weights start, named after the tool that used it in the seed notebooks.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum WeightInit {
    /// Keras 1 `init='normal'`: N(0, 0.05) weights, zero biases.
    KerasNormal,
    /// The homework's `nn.py` (Nielsen): N(0, 1) weights and biases.
    NielsenRandn,
    /// Glorot (Xavier) uniform weights, zero biases: Keras's default.
    GlorotUniform,
    /// He (Kaiming) normal weights for ReLU layers, zero biases.
    He,
}

impl WeightInit {
    /// The burn initialiser of a layer's weight matrix or kernel.
    pub fn weight(&self) -> Initializer {
        match self {
            WeightInit::KerasNormal => Initializer::Normal {
                mean: 0.0,
                std: 0.05,
            },
            WeightInit::NielsenRandn => Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            },
            WeightInit::GlorotUniform => Initializer::XavierUniform { gain: 1.0 },
            WeightInit::He => Initializer::KaimingNormal {
                gain: std::f64::consts::SQRT_2,
                fan_out_only: false,
            },
        }
    }

    /// The burn initialiser of a layer's bias vector.
    pub fn bias(&self) -> Initializer {
        match self {
            WeightInit::NielsenRandn => Initializer::Normal {
                mean: 0.0,
                std: 1.0,
            },
            _ => Initializer::Zeros,
        }
    }
}

/// Padding of a convolution or pooling window, as Keras names it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: the output shrinks by kernel - 1.
    Valid,
    /// Zero padding so that a stride-1 output keeps the input size.
    Same,
}
