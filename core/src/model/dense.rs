//! A fully connected layer built with a [`WeightInit`] scheme.

use burn::nn::{Linear, LinearConfig};
use burn::tensor::Device;

use super::activation::WeightInit;

/// Builds a `Linear` layer `inputs -> units` whose weight and bias follow `init`
/// (burn's own `LinearConfig` uses one initialiser for both; Keras zeroes biases).
pub fn dense_layer(inputs: usize, units: usize, init: WeightInit, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(inputs, units)
        .with_bias(false)
        .with_initializer(init.weight())
        .init(device);
    linear.bias = Some(
        init.bias()
            .init_with([units], Some(inputs), Some(units), device),
    );
    linear
}

/// Parameters of a dense layer: weights plus biases (saturating: never wraps).
pub fn dense_params(inputs: u64, units: u64) -> u64 {
    inputs.saturating_mul(units).saturating_add(units)
}
