//! Losses of the seed notebooks, computed from output-layer logits, and L2 penalties.

use burn::config::Config;
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Tensor, TensorData};

use crate::model::Activation;

/// The cost a run minimises.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum LossKind {
    /// Softmax + categorical cross-entropy (Keras `categorical_crossentropy`), from logits.
    SoftmaxCrossEntropy,
    /// Sigmoid + binary cross-entropy (Keras `binary_crossentropy`), from logits.
    BinaryCrossEntropy,
    /// The homework's quadratic cost 0.5 * ||a - y||^2 on the output activations, summed over
    /// outputs and averaged over the batch.
    Quadratic,
    /// Mean squared error of the output activations (Keras `mse`): (a - y)^2 averaged over the
    /// outputs and the batch; the loss of regression.
    MeanSquaredError,
}

/// How L2 penalties act on the weights.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum L2Mode {
    /// Keras `kernel_regularizer=l2(w)`: w * sum(W^2) is added to the loss.
    KerasLoss,
    /// The homework's weight decay `W -= eta*dW + eta*lam*W`: the gradient gains lam * W
    /// (0.5 * lam * sum(W^2) is added to the loss), exactly that update under SGD.
    WeightDecay,
}

impl LossKind {
    /// Display name.
    pub fn name(&self) -> &'static str {
        match self {
            LossKind::SoftmaxCrossEntropy => "softmax cross-entropy",
            LossKind::BinaryCrossEntropy => "binary cross-entropy",
            LossKind::Quadratic => "quadratic",
            LossKind::MeanSquaredError => "mean squared error",
        }
    }

    /// Why this loss cannot train a model with `outputs` units and `activation` on its output
    /// layer, or `None` when it can (`regression`: the data has values to predict).
    pub fn incompatibility(
        &self,
        outputs: usize,
        activation: Activation,
        regression: bool,
    ) -> Option<String> {
        match self {
            LossKind::SoftmaxCrossEntropy | LossKind::BinaryCrossEntropy if regression => {
                Some(format!(
                    "{} compares classes; a regression set's values need mean squared error (or the quadratic cost)",
                    self.name()
                ))
            }
            _ if regression && outputs != 1 => Some(format!(
                "a regression set has one value per example: the output layer needs 1 unit, not {outputs}"
            )),
            _ if regression && activation == Activation::Softmax => {
                Some("a softmax over one output is always 1: regression needs another output activation (linear)".into())
            }
            LossKind::SoftmaxCrossEntropy if activation != Activation::Softmax => Some(format!(
                "softmax cross-entropy needs a softmax output layer, not {}",
                activation.name()
            )),
            LossKind::SoftmaxCrossEntropy if outputs < 2 => {
                Some("softmax cross-entropy needs at least 2 outputs".into())
            }
            LossKind::BinaryCrossEntropy if activation != Activation::Sigmoid => Some(format!(
                "binary cross-entropy needs a sigmoid output layer, not {}",
                activation.name()
            )),
            _ => None,
        }
    }

    /// Mean loss of a batch.
    ///
    /// `logits`: [batch, outputs]; `labels`: class of each example, or `values` to predict on
    /// a regression set (one output). With one output the target is the label itself (0 or 1);
    /// with several it is the one-hot vector of the label.
    pub fn forward(
        &self,
        logits: Tensor<2>,
        labels: &[u32],
        values: Option<&[f32]>,
        activation: Activation,
    ) -> Tensor<1> {
        let [batch, outputs] = logits.dims();
        let targets = match values {
            Some(values) => Tensor::from_data(
                TensorData::new(values.to_vec(), [values.len(), 1]),
                &logits.device(),
            ),
            None => targets(labels, outputs, &logits),
        };
        match self {
            LossKind::SoftmaxCrossEntropy => {
                (log_softmax(logits, 1) * targets).sum_dim(1).mean().neg()
            }
            LossKind::BinaryCrossEntropy => {
                // max(z, 0) - z*y + log(1 + exp(-|z|)), stable for any logit.
                let stable = relu(logits.clone()) - logits.clone() * targets
                    + logits.abs().neg().exp().add_scalar(1.0).log();
                stable.sum_dim(1).mean().div_scalar(outputs as f64)
            }
            LossKind::Quadratic => {
                let diff = activation.apply(logits) - targets;
                (diff.clone() * diff).sum().mul_scalar(0.5 / batch as f64)
            }
            LossKind::MeanSquaredError => {
                let diff = activation.apply(logits) - targets;
                (diff.clone() * diff).mean()
            }
        }
    }
}

/// One-hot targets [batch, outputs] (or the label itself for a single output).
fn targets(labels: &[u32], outputs: usize, like: &Tensor<2>) -> Tensor<2> {
    let mut values = vec![0.0f32; labels.len() * outputs];
    for (i, &label) in labels.iter().enumerate() {
        if outputs == 1 {
            values[i] = label as f32;
        } else if (label as usize) < outputs {
            values[i * outputs + label as usize] = 1.0;
        }
    }
    Tensor::from_data(
        TensorData::new(values, [labels.len(), outputs]),
        &like.device(),
    )
}

/// The L2 penalty of `weights` with per-layer coefficients `l2` (layers with 0 are skipped).
pub fn l2_penalty(weights: Vec<Tensor<2>>, l2: &[f64], mode: L2Mode) -> Option<Tensor<1>> {
    let scale = match mode {
        L2Mode::KerasLoss => 1.0,
        L2Mode::WeightDecay => 0.5,
    };
    weights
        .into_iter()
        .zip(l2)
        .filter(|(_, &c)| c > 0.0)
        .map(|(w, &c)| (w.clone() * w).sum().mul_scalar(c * scale))
        .reduce(|a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_data().try_into_vec_as::<f32>().unwrap()[0]
    }

    #[test]
    fn softmax_cross_entropy_matches_hand_computation() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], &device);
        let loss = scalar(LossKind::SoftmaxCrossEntropy.forward(
            logits,
            &[2, 0],
            None,
            Activation::Softmax,
        ));
        let a = -(3.0f32.exp() / (1.0f32.exp() + 2.0f32.exp() + 3.0f32.exp())).ln();
        let b = 3.0f32.ln();
        assert!((loss - (a + b) / 2.0).abs() < 1e-5, "{loss}");
    }

    #[test]
    fn binary_cross_entropy_is_stable_for_large_logits() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[100.0], [-100.0], [0.0]], &device);
        let loss = scalar(LossKind::BinaryCrossEntropy.forward(
            logits,
            &[1, 0, 1],
            None,
            Activation::Sigmoid,
        ));
        assert!(loss.is_finite());
        assert!((loss - 2.0f32.ln() / 3.0).abs() < 1e-5, "{loss}");
    }

    #[test]
    fn quadratic_cost_is_half_squared_error_of_the_activations() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[0.0, 0.0]], &device);
        // sigmoid(0) = 0.5 for both outputs; target one-hot [0, 1].
        let loss = scalar(LossKind::Quadratic.forward(logits, &[1], None, Activation::Sigmoid));
        assert!((loss - 0.25).abs() < 1e-6, "{loss}");
    }

    #[test]
    fn l2_penalty_modes() {
        let device = Device::flex();
        let w = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 0.0]], &device);
        let keras = scalar(l2_penalty(vec![w.clone()], &[0.1], L2Mode::KerasLoss).unwrap());
        let decay = scalar(l2_penalty(vec![w.clone()], &[0.1], L2Mode::WeightDecay).unwrap());
        assert!((keras - 1.4).abs() < 1e-5);
        assert!((decay - 0.7).abs() < 1e-5);
        assert!(l2_penalty(vec![w], &[0.0], L2Mode::KerasLoss).is_none());
    }

    #[test]
    fn incompatible_output_layers_are_named() {
        assert!(LossKind::SoftmaxCrossEntropy
            .incompatibility(10, Activation::Sigmoid, false)
            .unwrap()
            .contains("softmax"));
        assert!(LossKind::BinaryCrossEntropy
            .incompatibility(1, Activation::Sigmoid, false)
            .is_none());
        assert!(LossKind::Quadratic
            .incompatibility(2, Activation::Sigmoid, false)
            .is_none());
    }

    #[test]
    fn mean_squared_error_compares_the_output_with_the_values() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[0.5], [2.0]], &device);
        // Linear output: errors 0.5 - 1.0 and 2.0 - 0.0, squared and averaged.
        let loss = scalar(LossKind::MeanSquaredError.forward(
            logits,
            &[0, 0],
            Some(&[1.0, 0.0]),
            Activation::Linear,
        ));
        assert!((loss - (0.25 + 4.0) / 2.0).abs() < 1e-6, "{loss}");
        // On classes, the one-hot targets, averaged over outputs too.
        let logits = Tensor::<2>::from_floats([[1.0, 0.0]], &device);
        let loss =
            scalar(LossKind::MeanSquaredError.forward(logits, &[1], None, Activation::Linear));
        assert!((loss - 1.0).abs() < 1e-6, "{loss}");
    }

    #[test]
    fn a_regression_set_is_refused_a_class_loss_and_several_outputs() {
        let why =
            |loss: LossKind, outputs, activation| loss.incompatibility(outputs, activation, true);
        assert!(why(LossKind::MeanSquaredError, 1, Activation::Linear).is_none());
        assert!(why(LossKind::Quadratic, 1, Activation::Tanh).is_none());
        assert!(why(LossKind::SoftmaxCrossEntropy, 1, Activation::Softmax)
            .unwrap()
            .contains("mean squared error"));
        assert!(why(LossKind::BinaryCrossEntropy, 1, Activation::Sigmoid).is_some());
        assert!(why(LossKind::MeanSquaredError, 2, Activation::Linear)
            .unwrap()
            .contains("1 unit"));
        assert!(why(LossKind::MeanSquaredError, 1, Activation::Softmax).is_some());
    }
}
