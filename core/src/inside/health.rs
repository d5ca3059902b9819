//! Layer health while a model trains: per layer, histograms of its weights, of their gradients
//! and of its outputs on a few training examples, the norms, the update-to-weight ratio of a
//! step, the share of dead ReLU units, and a note when the gradients vanish or explode (before
//! a NaN stops the run). The trainer reads a step's parameters, gradients and updated
//! parameters when asked (see `Trainer::request_health`); this module turns those readings
//! into the report.

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::model::summary::ModelSummary;
use crate::model::{Activation, ModelConfig};

/// Bins of every histogram.
pub const BINS: usize = 24;
/// A step that changes a layer's weights by more than this fraction of their norm is far too
/// large: the gradients (or the learning rate) explode. Healthy runs change about 1e-3; Adam's
/// first step moves each weight by about its learning rate whatever the gradient, which at
/// 0.01 on MNIST's first layer is a fifth of the weights, and such runs train.
pub const EXPLODING_UPDATE_RATIO: f32 = 0.5;
/// Values of a parameter a histogram counts at most (evenly strided): its norms are computed
/// on the device over every value.
pub const HISTOGRAM_SAMPLE: usize = 65_536;
/// A layer whose relative gradient (gradient norm over weight norm) is below this fraction of
/// the largest layer's barely learns: its gradients vanish.
pub const VANISHING_GRADIENT_RATIO: f32 = 1e-4;
/// Examples of the batch the layers' outputs are read on.
pub const PROBE_EXAMPLES: usize = 64;

/// Counts of values in equal bins from `low` to `high`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Histogram {
    /// The smallest finite value.
    pub low: f32,
    /// The largest finite value.
    pub high: f32,
    /// Values per bin, [`BINS`] of them.
    pub counts: Vec<u32>,
    /// Values that are NaN or infinite (counted in no bin).
    pub non_finite: u32,
}

impl Histogram {
    /// The histogram of `values`.
    pub fn of(values: &[f32]) -> Histogram {
        let (low, high) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let (low, high) = if low > high { (0.0, 0.0) } else { (low, high) };
        let mut counts = vec![0u32; BINS];
        let mut non_finite = 0u32;
        let span = high - low;
        for &v in values {
            if !v.is_finite() {
                non_finite = non_finite.saturating_add(1);
                continue;
            }
            let bin = if span > 0.0 {
                (((v - low) / span * BINS as f32) as usize).min(BINS - 1)
            } else {
                BINS / 2
            };
            counts[bin] = counts[bin].saturating_add(1);
        }
        Histogram {
            low,
            high,
            counts,
            non_finite,
        }
    }
}

/// What a note on a layer warns of.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HealthWarning {
    /// Steps change the weights by a large fraction of their size.
    Exploding,
    /// The layer's gradients are tiny next to the other layers'.
    Vanishing,
    /// Some gradients are NaN or infinite.
    NotFinite,
}

impl HealthWarning {
    /// Its id, as serialized (`exploding`, `vanishing`, `not_finite`).
    pub fn id(self) -> &'static str {
        match self {
            HealthWarning::Exploding => "exploding",
            HealthWarning::Vanishing => "vanishing",
            HealthWarning::NotFinite => "not_finite",
        }
    }

    /// What it warns of, in words.
    pub fn describe(self) -> &'static str {
        match self {
            HealthWarning::Exploding => "exploding gradients",
            HealthWarning::Vanishing => "vanishing gradients",
            HealthWarning::NotFinite => "non-finite gradients",
        }
    }
}

/// One layer's health at a step.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LayerHealth {
    /// The layer's name, as the summary has it (`dense_1`, `conv2d_2`, `gru_1`).
    pub name: String,
    /// Its parameters (weights and biases).
    pub weights: Histogram,
    /// Their gradients at the step.
    pub gradients: Histogram,
    /// Its outputs on the first examples of the batch (after its activation), when read.
    pub activations: Option<Histogram>,
    /// The parameters' L2 norm.
    #[serde(deserialize_with = "crate::nan_json::f32_or_nan")]
    pub weight_norm: f32,
    /// The gradients' L2 norm.
    #[serde(deserialize_with = "crate::nan_json::f32_or_nan")]
    pub gradient_norm: f32,
    /// The norm of the step's change of the parameters over their norm.
    #[serde(deserialize_with = "crate::nan_json::f32_or_nan")]
    pub update_ratio: f32,
    /// For a ReLU layer, the share of its units (channels) that output zero for every example
    /// read.
    pub dead_share: Option<f32>,
    /// What is wrong, when something is.
    pub warning: Option<HealthWarning>,
    /// The warning, in words.
    pub note: Option<String>,
}

/// Every layer's health at a step of a run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct HealthReport {
    /// Batches trained when it was read (the step is the last of them).
    pub step: usize,
    /// The epoch of the step (from 1).
    pub epoch: usize,
    /// Whether the step was its epoch's last.
    pub epoch_end: bool,
    /// The layers with parameters, first to last.
    pub layers: Vec<LayerHealth>,
}

/// One parameter tensor read at a step: how many values it has, sums of squares over all of
/// them (computed on the device), and at most [`HISTOGRAM_SAMPLE`] of its values before the
/// step and of its gradient.
#[derive(Debug, Clone, Default)]
pub struct ParamReading {
    /// Its values.
    pub values: usize,
    /// The sum of its values' squares before the step.
    pub weight_squares: f64,
    /// The sum of its gradient's squares (0 without a gradient; NaN when one is not finite).
    pub gradient_squares: f64,
    /// The sum of the squares of the step's change.
    pub change_squares: f64,
    /// Values before the step (a strided sample of large tensors).
    pub before: Vec<f32>,
    /// The gradient, sampled likewise (empty when the parameter had none).
    pub gradient: Vec<f32>,
}

/// A layer's outputs read on a few examples: `values` in the layout of [batch, channels,
/// spatial] (`spatial` 1 for dense units).
#[derive(Debug, Clone)]
pub struct ActivationReading {
    /// The layer's name.
    pub name: String,
    /// The outputs, flattened.
    pub values: Vec<f32>,
    /// Units, or channels of feature maps.
    pub channels: usize,
    /// Positions per channel (height x width; 1 for units).
    pub spatial: usize,
}

/// Collects every float parameter of a module, flattened, in the module's order, with its
/// gradient from `grads` when given.
pub struct ParamCollector<'a> {
    grads: Option<&'a GradientsParams>,
    /// (values, gradient) of each parameter.
    pub params: Vec<(Tensor<1>, Option<Tensor<1>>)>,
}

impl<'a> ParamCollector<'a> {
    /// A collector that also takes each parameter's gradient from `grads`.
    pub fn new(grads: Option<&'a GradientsParams>) -> Self {
        Self {
            grads,
            params: Vec::new(),
        }
    }
}

impl ModuleVisitor for ParamCollector<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let n = value.shape().num_elements();
        let gradient = self
            .grads
            .and_then(|g| g.get::<D>(param.id))
            .map(|g| g.reshape([n]));
        self.params.push((value.inner().reshape([n]), gradient));
    }
}

/// The names of the layers of `config` whose activation is ReLU (their dead units count).
pub fn relu_layers(config: &ModelConfig) -> Vec<String> {
    let mut names = Vec::new();
    match config {
        ModelConfig::Mlp(m) => {
            for (i, layer) in m.hidden.iter().enumerate() {
                if layer.activation == Activation::Relu {
                    names.push(format!("dense_{}", i + 1));
                }
            }
        }
        ModelConfig::Cnn(c) => {
            let (mut convs, mut denses) = (0, 0);
            for layer in &c.layers {
                match layer {
                    crate::model::cnn::CnnLayerConfig::Conv2d { activation, .. } => {
                        convs += 1;
                        if *activation == Activation::Relu {
                            names.push(format!("conv2d_{convs}"));
                        }
                    }
                    crate::model::cnn::CnnLayerConfig::Dense { activation, .. } => {
                        denses += 1;
                        if *activation == Activation::Relu {
                            names.push(format!("dense_{denses}"));
                        }
                    }
                    _ => {}
                }
            }
        }
        ModelConfig::Sequence(_) => {}
    }
    names
}

/// The share of channels that are zero for every example and position.
fn dead_share(a: &ActivationReading) -> f32 {
    if a.channels == 0 || a.spatial == 0 {
        return 0.0;
    }
    let mut alive = vec![false; a.channels];
    for (i, &v) in a.values.iter().enumerate() {
        if v != 0.0 {
            alive[(i / a.spatial) % a.channels] = true;
        }
    }
    alive.iter().filter(|&&x| !x).count() as f32 / a.channels as f32
}

/// The report of a step: each layer of `summary` with parameters takes the next readings of
/// `params` (in the module's order) whose sizes add up to its parameter count; `relu` names
/// the ReLU layers; `learning_rate` is said in the exploding note.
pub fn health_report(
    summary: &ModelSummary,
    params: &[ParamReading],
    activations: &[ActivationReading],
    relu: &[String],
    learning_rate: f64,
) -> Vec<LayerHealth> {
    let mut layers = Vec::new();
    let mut next = params.iter();
    for row in summary.rows.iter().filter(|r| r.params > 0) {
        let mut taken: Vec<&ParamReading> = Vec::new();
        let mut count = 0u64;
        while count < row.params {
            let Some(p) = next.next() else { break };
            count += p.values as u64;
            taken.push(p);
        }
        let gather = |f: fn(&ParamReading) -> &Vec<f32>| -> Vec<f32> {
            taken.iter().flat_map(|p| f(p).iter().copied()).collect()
        };
        let norm =
            |f: fn(&ParamReading) -> f64| taken.iter().map(|p| f(p)).sum::<f64>().sqrt() as f32;
        let weight_norm = norm(|p| p.weight_squares);
        let activation = activations.iter().find(|a| a.name == row.name);
        layers.push(LayerHealth {
            name: row.name.clone(),
            weights: Histogram::of(&gather(|p| &p.before)),
            gradients: Histogram::of(&gather(|p| &p.gradient)),
            activations: activation.map(|a| Histogram::of(&a.values)),
            weight_norm,
            gradient_norm: norm(|p| p.gradient_squares),
            update_ratio: norm(|p| p.change_squares) / weight_norm.max(1e-12),
            dead_share: activation
                .filter(|a| relu.contains(&a.name))
                .map(dead_share),
            warning: None,
            note: None,
        });
    }
    warn(&mut layers, learning_rate);
    layers
}

/// Puts a note on each layer whose gradients explode, are not finite, or vanish next to the
/// other layers'.
fn warn(layers: &mut [LayerHealth], learning_rate: f64) {
    let relative = |l: &LayerHealth| l.gradient_norm / l.weight_norm.max(1e-12);
    let largest = layers
        .iter()
        .map(relative)
        .filter(|r| r.is_finite())
        .fold(0.0f32, f32::max);
    for layer in layers.iter_mut() {
        let (warning, note) = if layer.gradients.non_finite > 0 || !layer.gradient_norm.is_finite()
        {
            (
                HealthWarning::NotFinite,
                "Some gradients are NaN or infinite: the next step makes the weights so too. Lower the learning rate.".to_string(),
            )
        } else if layer.update_ratio > EXPLODING_UPDATE_RATIO || !layer.update_ratio.is_finite() {
            (
                HealthWarning::Exploding,
                format!(
                    "Exploding: one step changed these weights by {:.0}% of their size (healthy is about 0.1%). At learning rate {learning_rate} the loss is about to blow up: lower it.",
                    layer.update_ratio * 100.0
                ),
            )
        } else if largest > 0.0 && relative(layer) < largest * VANISHING_GRADIENT_RATIO {
            (
                HealthWarning::Vanishing,
                format!(
                    "Vanishing: this layer's gradients are {:.0e} of the liveliest layer's, so it barely learns (deep sigmoid or tanh stacks do this; ReLU or fewer layers help).",
                    relative(layer) / largest
                ),
            )
        } else {
            continue;
        };
        layer.warning = Some(warning);
        layer.note = Some(note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_s_id_is_its_serialized_name() {
        for w in [
            HealthWarning::Exploding,
            HealthWarning::Vanishing,
            HealthWarning::NotFinite,
        ] {
            assert_eq!(
                serde_json::to_string(&w).unwrap(),
                format!("\"{}\"", w.id())
            );
            assert!(w.describe().ends_with("gradients"));
        }
    }

    #[test]
    fn a_histogram_counts_every_finite_value_in_its_bin() {
        let h = Histogram::of(&[0.0, 1.0, 2.0, 3.0, f32::NAN, 3.0]);
        assert_eq!((h.low, h.high), (0.0, 3.0));
        assert_eq!(h.counts.len(), BINS);
        assert_eq!(h.counts.iter().sum::<u32>(), 5);
        assert_eq!(h.non_finite, 1);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[BINS - 1], 2);
        let flat = Histogram::of(&[2.0; 4]);
        assert_eq!(flat.counts[BINS / 2], 4);
        assert_eq!(Histogram::of(&[]).counts.iter().sum::<u32>(), 0);
    }

    #[test]
    fn dead_units_are_the_channels_zero_everywhere() {
        // 2 examples, 3 channels of 2 positions: channel 1 is zero everywhere.
        let a = ActivationReading {
            name: "conv2d_1".into(),
            values: vec![1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0],
            channels: 3,
            spatial: 2,
        };
        assert!((dead_share(&a) - 1.0 / 3.0).abs() < 1e-6);
    }
}
