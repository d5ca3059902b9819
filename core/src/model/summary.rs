//! Keras-like model summary, as data (for the UI) and as text (for the CLI).

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::cnn::{CnnLayerConfig, CnnShapeError, FeatureShape};
use super::dense::dense_params;
use super::ModelConfig;

/// One row of a summary: a layer, its output shape and its parameters.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Keras-style name, e.g. `conv2d_1`.
    pub name: String,
    /// Keras layer type, e.g. `Conv2D`.
    pub layer: String,
    /// Output shape without the batch dimension, channels last as Keras prints it.
    pub output_shape: Vec<usize>,
    /// Trainable parameters (u64: a 32-bit `usize` on wasm32 cannot hold every config's count).
    pub params: u64,
}

/// A model's layers with totals and a memory estimate.
///
/// Every count is a `u64` computed with saturating arithmetic, so a config far out of range
/// gives a figure far over the limits (never one that wrapped around below them), and the
/// browser (32-bit `usize`) reaches the same figures as the native CLI.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    /// Layers, first to last.
    pub rows: Vec<SummaryRow>,
    /// Sum of the rows' parameters (all trainable).
    pub total_params: u64,
    /// Bytes of the f32 weights.
    pub weight_bytes: u64,
    /// Bytes of f32 activations per example (all layer outputs, forward pass).
    pub activation_bytes_per_example: u64,
    /// Bytes per example that training keeps besides the layer outputs for the backward
    /// pass: a recurrent cell's gates, cell and hidden state at every step.
    pub step_state_bytes_per_example: u64,
}

impl ModelSummary {
    /// Summarises `config` without building it.
    pub fn of(config: &ModelConfig) -> Result<Self, CnnShapeError> {
        let mut builder = Builder::default();
        match config {
            ModelConfig::Mlp(c) => {
                let mut inputs = c.inputs;
                for layer in &c.hidden {
                    builder.row(
                        "Dense",
                        vec![layer.units],
                        dense_params(inputs as u64, layer.units as u64),
                    );
                    if layer.dropout > 0.0 {
                        builder.row("Dropout", vec![layer.units], 0);
                    }
                    inputs = layer.units;
                }
                builder.row(
                    "Dense",
                    vec![c.outputs],
                    dense_params(inputs as u64, c.outputs as u64),
                );
            }
            ModelConfig::Cnn(c) => {
                let shapes = c.shapes()?;
                let mut input = FeatureShape::Image(c.input);
                for (layer, shape) in c.layers.iter().zip(&shapes) {
                    let (kind, params) = match layer {
                        CnnLayerConfig::Conv2d {
                            filters, kernel, ..
                        } => {
                            let FeatureShape::Image([channels, ..]) = input else {
                                unreachable!("shapes() checked conv inputs")
                            };
                            ("Conv2D", conv_params(channels, *kernel, *filters))
                        }
                        CnnLayerConfig::MaxPool2d { .. } => ("MaxPooling2D", 0),
                        CnnLayerConfig::Dropout { .. } => ("Dropout", 0),
                        CnnLayerConfig::Flatten => ("Flatten", 0),
                        CnnLayerConfig::Dense { units, .. } => {
                            ("Dense", dense_params(input.size_u64(), *units as u64))
                        }
                    };
                    builder.row(kind, shape.keras(), params);
                    input = *shape;
                }
                builder.row(
                    "Dense",
                    vec![c.outputs],
                    dense_params(input.size_u64(), c.outputs as u64),
                );
            }
            ModelConfig::Sequence(c) => {
                let seq = vec![c.example_len, c.embedding_len];
                builder.row(
                    "Embedding",
                    seq.clone(),
                    (c.dict_size as u64).saturating_mul(c.embedding_len as u64),
                );
                builder.row("Dropout", seq, 0);
                builder.row(
                    c.cell.name(),
                    vec![c.units],
                    c.cell.params(c.embedding_len as u64, c.units as u64),
                );
                // Every step keeps its gates, its cell state and its output for the backward pass.
                let per_step = (c.cell.gates() as u64 + 2).saturating_mul(c.units as u64);
                builder.step_state_values = per_step.saturating_mul(c.example_len as u64);
                builder.row(
                    "Dense",
                    vec![c.outputs],
                    dense_params(c.units as u64, c.outputs as u64),
                );
            }
        }
        Ok(builder.finish())
    }

    /// Estimated bytes to train with `batch` examples and an optimizer keeping `optimizer_slots`
    /// tensors per parameter (SGD 0, momentum 1, RMSprop 1, Adam 2): weights, gradients, optimizer
    /// state, forward activations and their gradients, and the recurrent steps' state kept for
    /// the backward pass (saturating: never wraps).
    pub fn training_bytes(&self, batch: usize, optimizer_slots: usize) -> u64 {
        let state = self.weight_bytes.saturating_mul(2 + optimizer_slots as u64);
        let per_example = self
            .activation_bytes_per_example
            .saturating_mul(2)
            .saturating_add(self.step_state_bytes_per_example);
        let activations = (batch as u64).saturating_mul(per_example);
        state.saturating_add(activations)
    }

    /// Estimated bytes while the held-out set is evaluated in batches of `eval_batch`: the
    /// training state stays, one batch's activations without the backward pass (saturating).
    pub fn evaluation_bytes(&self, eval_batch: usize, optimizer_slots: usize) -> u64 {
        let state = self.weight_bytes.saturating_mul(2 + optimizer_slots as u64);
        let activations = (eval_batch as u64).saturating_mul(self.activation_bytes_per_example);
        state.saturating_add(activations)
    }
}

#[derive(Default)]
struct Builder {
    rows: Vec<SummaryRow>,
    counts: HashMap<&'static str, usize>,
    step_state_values: u64,
}

/// Parameters of a convolution: `filters` kernels over `channels`, plus a bias each.
fn conv_params(channels: usize, kernel: usize, filters: usize) -> u64 {
    let per_filter = (channels as u64)
        .saturating_mul(kernel as u64)
        .saturating_mul(kernel as u64)
        .saturating_add(1);
    per_filter.saturating_mul(filters as u64)
}

impl Builder {
    fn row(&mut self, layer: &'static str, output_shape: Vec<usize>, params: u64) {
        let n = self.counts.entry(layer).or_insert(0);
        *n += 1;
        let stem = match layer {
            "Conv2D" => "conv2d",
            "MaxPooling2D" => "max_pooling2d",
            other => other,
        };
        self.rows.push(SummaryRow {
            name: format!("{}_{}", stem.to_lowercase(), n),
            layer: layer.to_string(),
            output_shape,
            params,
        });
    }

    fn finish(self) -> ModelSummary {
        let total_params = self
            .rows
            .iter()
            .fold(0u64, |sum, r| sum.saturating_add(r.params));
        let activations = self.rows.iter().fold(0u64, |sum, r| {
            let values = r
                .output_shape
                .iter()
                .fold(1u64, |p, &d| p.saturating_mul(d as u64));
            sum.saturating_add(values)
        });
        ModelSummary {
            rows: self.rows,
            total_params,
            weight_bytes: total_params.saturating_mul(4),
            activation_bytes_per_example: activations.saturating_mul(4),
            step_state_bytes_per_example: self.step_state_values.saturating_mul(4),
        }
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in a human unit: `4.6 MB`.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} KB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

impl fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "_".repeat(67);
        let double = "=".repeat(67);
        writeln!(f, "{rule}")?;
        writeln!(f, "{:<31}{:<26}Param #", "Layer (type)", "Output Shape")?;
        writeln!(f, "{double}")?;
        for (i, row) in self.rows.iter().enumerate() {
            let shape = std::iter::once("None".to_string())
                .chain(row.output_shape.iter().map(|d| d.to_string()))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                f,
                "{:<31}{:<26}{}",
                format!("{} ({})", row.name, row.layer),
                format!("({shape})"),
                thousands(row.params)
            )?;
            writeln!(
                f,
                "{}",
                if i + 1 == self.rows.len() {
                    &double
                } else {
                    &rule
                }
            )?;
        }
        writeln!(f, "Total params: {}", thousands(self.total_params))?;
        writeln!(f, "Trainable params: {}", thousands(self.total_params))?;
        writeln!(f, "Non-trainable params: 0")?;
        writeln!(
            f,
            "Weights: {}; activations per example: {}",
            human_bytes(self.weight_bytes),
            human_bytes(self.activation_bytes_per_example)
        )
    }
}
