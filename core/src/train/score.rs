//! How well a batch or a set is predicted: the examples classified right or, on a regression
//! set, the sum of squared errors, and the accuracy figure a run reports from it: the share
//! classified right, or the coefficient of determination R² on a regression set.

use burn::tensor::{Int, Tensor, TensorData};

use crate::model::Activation;

/// A batch's score, on the device: how many examples the logits classify right (argmax with
/// several outputs, activation > 0.5 with one), or with `targets` (a regression set's values)
/// the sum of the squared errors of the output activations. `[1]`.
pub fn batch_score(
    logits: Tensor<2>,
    labels: Tensor<1, Int>,
    targets: Option<&[f32]>,
    activation: Activation,
) -> Tensor<1> {
    if let Some(targets) = targets {
        let values = Tensor::<2>::from_data(
            TensorData::new(targets.to_vec(), [targets.len(), 1]),
            &logits.device(),
        );
        let diff = activation.apply(logits) - values;
        return (diff.clone() * diff).sum();
    }
    correct_count(logits, labels, activation).float()
}

/// How many examples of a batch the logits classify correctly: argmax with several outputs,
/// probability > 0.5 with one.
pub fn correct_count(
    logits: Tensor<2>,
    labels: Tensor<1, Int>,
    activation: Activation,
) -> Tensor<1, Int> {
    let [_, outputs] = logits.dims();
    let predicted: Tensor<1, Int> = if outputs == 1 {
        activation
            .apply(logits)
            .greater_elem(0.5)
            .int()
            .reshape([-1])
    } else {
        logits.argmax(1).reshape([-1])
    };
    predicted.equal(labels).int().sum()
}

/// The squared distances of `targets` from `mean`, summed (the total sum of squares R² divides
/// by); 0 without targets.
pub fn spread(targets: Option<&[f32]>, mean: f64) -> f64 {
    targets.map_or(0.0, |t| {
        t.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>()
    })
}

/// The accuracy figure of `examples` examples that scored `score`: the share classified
/// right, or on a regression set (`regression`) R² = 1 - (sum of squared errors) / `spread`:
/// 1 is perfect, 0 no better than predicting the mean, below 0 worse (NaN when the values do
/// not spread).
pub fn accuracy_of(score: f64, spread: f64, examples: usize, regression: bool) -> f64 {
    if regression {
        if spread > 0.0 {
            1.0 - score / spread
        } else {
            f64::NAN
        }
    } else {
        score / examples.max(1) as f64
    }
}

/// What the accuracy figure is called: "accuracy", or "R²" on a regression set.
pub fn figure_name(regression: bool) -> &'static str {
    if regression {
        "R²"
    } else {
        "accuracy"
    }
}

/// The accuracy figure as shown: a percentage ("96.25%"), or on a regression set R² with three
/// decimals ("0.973"); "–" when there is none (NaN).
pub fn format_figure(value: f64, regression: bool) -> String {
    if value.is_nan() {
        "–".into()
    } else if regression {
        format!("{value:.3}")
    } else {
        format!("{:.2}%", value * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn value(t: Tensor<1>) -> f32 {
        t.into_data().try_into_vec_as::<f32>().unwrap()[0]
    }

    #[test]
    fn a_class_batch_scores_the_examples_classified_right() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0]], &device);
        let labels = Tensor::<1, Int>::from_ints([0, 1, 1], &device);
        assert_eq!(
            value(batch_score(logits, labels, None, Activation::Softmax)),
            2.0
        );
        assert_eq!(accuracy_of(2.0, 0.0, 3, false), 2.0 / 3.0);
    }

    #[test]
    fn a_regression_batch_scores_its_squared_errors_and_r2_compares_them_with_the_spread() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[1.0], [2.0], [4.0]], &device);
        let labels = Tensor::<1, Int>::from_ints([0, 0, 0], &device);
        let targets = [1.0, 3.0, 5.0];
        let sse = value(batch_score(
            logits,
            labels,
            Some(&targets),
            Activation::Linear,
        ));
        assert_eq!(sse, 0.0 + 1.0 + 1.0);
        let total = spread(Some(&targets), 3.0);
        assert_eq!(total, 8.0);
        assert!((accuracy_of(sse as f64, total, 3, true) - 0.75).abs() < 1e-9);
        // Predicting the mean scores 0; a constant set has no R².
        assert_eq!(accuracy_of(total, total, 3, true), 0.0);
        assert!(accuracy_of(1.0, 0.0, 3, true).is_nan());
    }

    #[test]
    fn the_figure_reads_as_a_percentage_or_as_r2() {
        assert_eq!(format_figure(0.9625, false), "96.25%");
        assert_eq!(format_figure(0.97312, true), "0.973");
        assert_eq!(format_figure(-1.5, true), "-1.500");
        assert_eq!(format_figure(f64::NAN, true), "–");
        assert_eq!((figure_name(false), figure_name(true)), ("accuracy", "R²"));
    }
}
