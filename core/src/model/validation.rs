//! The ranges a model's settings must be in: every problem names its field (`model.…`) and
//! what is allowed, before anything is built.

use super::sequence::{MAX_EXAMPLE_LEN, MAX_VOCABULARY};
use super::{Activation, CnnLayerConfig, InputKind, ModelConfig};
use crate::checks::{Checker, ConfigError};

/// Widest allowed layer.
pub const MAX_WIDTH: usize = 4096;
/// Most hidden layers (or a quarter of the most CNN stack layers) allowed.
pub const MAX_DEPTH: usize = 16;
/// Most inputs of an MLP.
pub const MAX_INPUTS: usize = 100_000;
/// Most channels of a CNN's input image.
pub const MAX_CHANNELS: usize = 4;
/// Largest height and width of a CNN's input image.
pub const MAX_SIDE: usize = 512;
/// Most filters of a convolution.
pub const MAX_FILTERS: usize = 1024;
/// Largest convolution kernel.
pub const MAX_KERNEL: usize = 15;
/// Largest stride (and pooling window).
pub const MAX_STRIDE: usize = 8;
/// Longest embedding, and most units of a recurrent layer.
pub const MAX_EMBEDDING: usize = 1024;

impl ModelConfig {
    /// Every out-of-range setting of the model (fields prefixed `model.`); empty when it can
    /// be built.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut checker = Checker::default();
        let c = &mut checker;
        match self {
            ModelConfig::Mlp(m) => {
                c.range("model.inputs", m.inputs, 1, MAX_INPUTS);
                if m.hidden.len() > MAX_DEPTH {
                    c.fail(
                        "model.hidden",
                        m.hidden.len(),
                        format!("at most {MAX_DEPTH} hidden layers"),
                    );
                }
                for (i, layer) in m.hidden.iter().enumerate() {
                    c.range(
                        format!("model.hidden[{i}].units"),
                        layer.units,
                        1,
                        MAX_WIDTH,
                    );
                    c.unit(
                        format!("model.hidden[{i}].dropout"),
                        layer.dropout,
                        "dropout",
                    );
                    c.l2(format!("model.hidden[{i}].l2"), layer.l2);
                    if layer.activation == Activation::Softmax {
                        c.fail(
                            format!("model.hidden[{i}].activation"),
                            "softmax",
                            "softmax is for the output layer only",
                        );
                    }
                }
                c.range("model.outputs", m.outputs, 1, MAX_WIDTH);
                c.l2("model.output_l2", m.output_l2);
            }
            ModelConfig::Cnn(m) => {
                let [ch, h, w] = m.input;
                c.range("model.input.channels", ch, 1, MAX_CHANNELS);
                c.range("model.input.height", h, 1, MAX_SIDE);
                c.range("model.input.width", w, 1, MAX_SIDE);
                if m.layers.len() > 4 * MAX_DEPTH {
                    c.fail(
                        "model.layers",
                        m.layers.len(),
                        format!("at most {} layers", 4 * MAX_DEPTH),
                    );
                }
                for (i, layer) in m.layers.iter().enumerate() {
                    match layer {
                        CnnLayerConfig::Conv2d {
                            filters,
                            kernel,
                            stride,
                            ..
                        } => {
                            c.range(
                                format!("model.layers[{i}].filters"),
                                *filters,
                                1,
                                MAX_FILTERS,
                            );
                            c.range(format!("model.layers[{i}].kernel"), *kernel, 1, MAX_KERNEL);
                            c.range(format!("model.layers[{i}].stride"), *stride, 1, MAX_STRIDE);
                        }
                        CnnLayerConfig::MaxPool2d { pool, stride } => {
                            c.range(format!("model.layers[{i}].pool"), *pool, 1, MAX_STRIDE);
                            c.range(format!("model.layers[{i}].stride"), *stride, 1, MAX_STRIDE);
                        }
                        CnnLayerConfig::Dropout { rate } => {
                            c.unit(format!("model.layers[{i}].rate"), *rate, "dropout")
                        }
                        CnnLayerConfig::Flatten => {}
                        CnnLayerConfig::Dense { units, l2, .. } => {
                            c.range(format!("model.layers[{i}].units"), *units, 1, MAX_WIDTH);
                            c.l2(format!("model.layers[{i}].l2"), *l2);
                        }
                    }
                }
                c.range("model.outputs", m.outputs, 1, MAX_WIDTH);
                c.l2("model.output_l2", m.output_l2);
                if c.0.is_empty() {
                    if let Err(e) = m.shapes() {
                        c.fail("model.layers", "stack", e.to_string());
                    }
                }
            }
            ModelConfig::Sequence(m) => {
                c.range("model.dict_size", m.dict_size, 4, MAX_VOCABULARY);
                c.range("model.example_len", m.example_len, 1, MAX_EXAMPLE_LEN);
                c.range("model.embedding_len", m.embedding_len, 1, MAX_EMBEDDING);
                c.range("model.units", m.units, 1, MAX_EMBEDDING);
                c.unit("model.dropout", m.dropout, "dropout");
                c.range("model.outputs", m.outputs, 1, 2);
                c.l2("model.output_l2", m.output_l2);
            }
        }
        checker.into_problems()
    }
}

impl ModelConfig {
    /// What the model reads, in words ("784 inputs", "1x28x28 images").
    pub fn input_description(&self) -> String {
        match self.input_kind() {
            InputKind::Features(n) => format!("{n} inputs"),
            InputKind::Image([c, h, w]) => format!("{c}x{h}x{w} images"),
            InputKind::Tokens(n) => format!("{n} tokens"),
        }
    }
}

/// Whether a model with `outputs` units can classify `classes` classes: one unit per class,
/// or one sigmoid unit for two classes.
pub fn outputs_fit_classes(outputs: usize, classes: usize) -> bool {
    outputs == classes || (outputs == 1 && classes == 2)
}
