//! Multi-layer perceptron: any number of hidden layers, each with its own activation,
//! dropout and L2 penalty, as in the seed notebooks' Keras `Sequential` MLPs.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::{Device, Tensor};

use super::activation::{Activation, WeightInit};
use super::dense::dense_layer;
use super::dropout_ops;

/// One hidden layer of an [`MlpConfig`].
#[derive(Config, Debug, PartialEq)]
pub struct DenseLayerConfig {
    /// Number of units (width), 1..=4096.
    pub units: usize,
    /// Non-linearity after the affine map.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Dropout rate applied after the activation while training, in [0, 1).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// L2 penalty of this layer's weights (Keras `kernel_regularizer=l2(w)` or weight decay).
    #[config(default = 0.0)]
    pub l2: f64,
}

/// A multi-layer perceptron `inputs -> hidden... -> outputs`.
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Input features (784 for MNIST, 196 for tinyMNIST, 2 for toy sets).
    pub inputs: usize,
    /// Hidden layers, first to last.
    pub hidden: Vec<DenseLayerConfig>,
    /// Output units (classes, or 1 for a binary sigmoid output).
    pub outputs: usize,
    /// Activation of the output layer.
    #[config(default = "Activation::Softmax")]
    pub output_activation: Activation,
    /// L2 penalty of the output layer's weights.
    #[config(default = 0.0)]
    pub output_l2: f64,
    /// Weight initialisation of every layer.
    #[config(default = "WeightInit::GlorotUniform")]
    pub init: WeightInit,
}

/// A hidden layer: affine map, activation, dropout.
#[derive(Module, Debug)]
pub struct MlpHidden {
    linear: Linear,
    dropout: Dropout,
    #[module(skip)]
    activation: Activation,
}

/// The MLP built from an [`MlpConfig`].
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<MlpHidden>,
    output: Linear,
}

impl MlpConfig {
    /// Units of every layer from the input to the output, e.g. `[784, 300, 10]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.inputs];
        sizes.extend(self.hidden.iter().map(|l| l.units));
        sizes.push(self.outputs);
        sizes
    }

    /// Builds the network on `device` with this config's initialisation.
    pub fn init(&self, device: &Device) -> Mlp {
        let mut inputs = self.inputs;
        let hidden = self
            .hidden
            .iter()
            .map(|layer| {
                let block = MlpHidden {
                    linear: dense_layer(inputs, layer.units, self.init, device),
                    dropout: DropoutConfig::new(layer.dropout).init(),
                    activation: layer.activation,
                };
                inputs = layer.units;
                block
            })
            .collect();
        Mlp {
            hidden,
            output: dense_layer(inputs, self.outputs, self.init, device),
        }
    }

    /// The L2 coefficient of every dense layer, first hidden to output.
    pub fn l2_per_layer(&self) -> Vec<f64> {
        self.hidden
            .iter()
            .map(|layer| layer.l2)
            .chain(std::iter::once(self.output_l2))
            .collect()
    }
}

impl Mlp {
    /// Sets every hidden layer's dropout rate.
    pub fn set_dropout(&mut self, rate: f64) {
        for layer in &mut self.hidden {
            layer.dropout.prob = rate;
        }
    }

    /// Output-layer pre-activations (logits).
    ///
    /// `input`: [batch, inputs] -> [batch, outputs]
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let x = self.hidden.iter().fold(input, |x, layer| {
            let x = layer.activation.apply(layer.linear.forward(x));
            dropout_ops::dropout(&layer.dropout, x)
        });
        self.output.forward(x)
    }

    /// Every hidden layer's output for `input` (after its activation), named `dense_1`, ...,
    /// then the logits.
    ///
    /// `input`: [batch, inputs]
    pub fn layer_outputs(
        &self,
        input: Tensor<2>,
    ) -> (Vec<(String, crate::model::cnn::LayerOutput)>, Tensor<2>) {
        let mut outputs = Vec::new();
        let mut x = input;
        for (i, layer) in self.hidden.iter().enumerate() {
            x = layer.activation.apply(layer.linear.forward(x));
            outputs.push((
                format!("dense_{}", i + 1),
                crate::model::cnn::LayerOutput::Units(x.clone()),
            ));
        }
        (outputs, self.output.forward(x))
    }

    /// Every layer as it computes, first hidden to output (the output with `output`, the
    /// activation its logits get): what the network view shows.
    pub fn dense_params(&self, output: Activation) -> Vec<crate::inside::DenseParams> {
        let dense = |linear: &Linear, activation| crate::inside::DenseParams {
            weights: linear.weight.val(),
            bias: linear.bias.as_ref().map(|b| b.val()),
            activation,
        };
        self.hidden
            .iter()
            .map(|layer| dense(&layer.linear, layer.activation))
            .chain(std::iter::once(dense(&self.output, output)))
            .collect()
    }

    /// The weight matrices of every dense layer, first hidden to output (for L2 penalties).
    pub fn weights(&self) -> Vec<Tensor<2>> {
        self.hidden
            .iter()
            .map(|layer| layer.linear.weight.val())
            .chain(std::iter::once(self.output.weight.val()))
            .collect()
    }
}
