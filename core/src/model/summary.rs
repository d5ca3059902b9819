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
    /// Trainable parameters.
    pub params: usize,
}

/// A model's layers with totals and a memory estimate.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ModelSummary {
    /// Layers, first to last.
    pub rows: Vec<SummaryRow>,
    /// Sum of the rows' parameters (all trainable).
    pub total_params: usize,
    /// Bytes of the f32 weights.
    pub weight_bytes: usize,
    /// Bytes of f32 activations per example (all layer outputs, forward pass).
    pub activation_bytes_per_example: usize,
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
                        dense_params(inputs, layer.units),
                    );
                    if layer.dropout > 0.0 {
                        builder.row("Dropout", vec![layer.units], 0);
                    }
                    inputs = layer.units;
                }
                builder.row("Dense", vec![c.outputs], dense_params(inputs, c.outputs));
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
                            ("Conv2D", filters * (channels * kernel * kernel + 1))
                        }
                        CnnLayerConfig::MaxPool2d { .. } => ("MaxPooling2D", 0),
                        CnnLayerConfig::Dropout { .. } => ("Dropout", 0),
                        CnnLayerConfig::Flatten => ("Flatten", 0),
                        CnnLayerConfig::Dense { units, .. } => {
                            ("Dense", dense_params(input.size(), *units))
                        }
                    };
                    builder.row(kind, shape.keras(), params);
                    input = *shape;
                }
                builder.row(
                    "Dense",
                    vec![c.outputs],
                    dense_params(input.size(), c.outputs),
                );
            }
            ModelConfig::Sequence(c) => {
                let seq = vec![c.example_len, c.embedding_len];
                builder.row("Embedding", seq.clone(), c.dict_size * c.embedding_len);
                builder.row("Dropout", seq, 0);
                builder.row(
                    c.cell.name(),
                    vec![c.units],
                    c.cell.params(c.embedding_len, c.units),
                );
                builder.row("Dense", vec![c.outputs], dense_params(c.units, c.outputs));
            }
        }
        Ok(builder.finish())
    }

    /// Estimated bytes to train with `batch` examples and an optimizer keeping `optimizer_slots`
    /// tensors per parameter (SGD 0, momentum 1, RMSprop 1, Adam 2): weights, gradients, optimizer
    /// state, and forward activations kept for the backward pass.
    pub fn training_bytes(&self, batch: usize, optimizer_slots: usize) -> usize {
        self.weight_bytes * (2 + optimizer_slots) + 2 * batch * self.activation_bytes_per_example
    }
}

#[derive(Default)]
struct Builder {
    rows: Vec<SummaryRow>,
    counts: HashMap<&'static str, usize>,
}

impl Builder {
    fn row(&mut self, layer: &'static str, output_shape: Vec<usize>, params: usize) {
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
        let total_params = self.rows.iter().map(|r| r.params).sum::<usize>();
        let activations = self
            .rows
            .iter()
            .map(|r| r.output_shape.iter().product::<usize>())
            .sum::<usize>();
        ModelSummary {
            rows: self.rows,
            total_params,
            weight_bytes: 4 * total_params,
            activation_bytes_per_example: 4 * activations,
        }
    }
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: usize) -> String {
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
pub fn human_bytes(bytes: usize) -> String {
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
