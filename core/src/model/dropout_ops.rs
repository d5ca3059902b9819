//! Dropout with its keep-mask drawn as one burn operation: on the CPU device from a fast
//! counter-style generator spread over the tab's or the machine's threads, elsewhere from the
//! backend's own Bernoulli draw.
//!
//! burn's `Dropout` draws a Bernoulli tensor with the backend's random generator (on the CPU
//! device one ChaCha12 draw per element, on one thread while the others wait: a tenth of the
//! seed CNN's step) and then scales the kept values in a second pass. Here the mask holds
//! `1 / keep` or 0, so dropout is one product, and on the CPU device the mask comes from
//! ChaCha8 streams, one per fixed block of elements, keyed by one seed drawn from the device's
//! generator. The trainer seeds that generator per batch, so a run's masks stay the same for
//! the same seed, whatever the number of threads.
#![allow(deprecated)] // NdArray is deprecated in burn 0.22 but still a device Kindling offers.

use super::flex_values::flex_tensor;
use super::parallel;
use burn::backend::autodiff::{checkpoint::strategy::CheckpointStrategy, Autodiff};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
#[cfg(feature = "gpu")]
use burn::backend::Cube;
use burn::backend::{
    backend_extension, AutodiffBackend, Backend, Dispatch, Flex, NdArray, Shape, TensorMetadata,
};
use burn::nn::Dropout;
use burn::tensor::{DType, Distribution, Tensor};
use rand::RngCore;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Elements per generator stream: fixed, so that the mask does not depend on the threads.
const BLOCK: usize = 16 * 1024;

/// Dropout's keep-masks.
#[cfg_attr(feature = "gpu", backend_extension(Flex, NdArray, Cube, Autodiff))]
#[cfg_attr(not(feature = "gpu"), backend_extension(Flex, NdArray, Autodiff))]
pub trait DropoutOps: Backend {
    /// A tensor shaped like `like` whose every element is `1 / keep` with probability `keep`
    /// and 0 otherwise, drawn from the device's generator. `keep` in (0, 1].
    fn dropout_mask(like: FloatTensor<Self>, keep: f64) -> FloatTensor<Self> {
        burns_mask::<Self>(like, keep)
    }
}

/// The keep-mask from the backend's own Bernoulli draw, scaled: the trait's default, and the
/// CPU device's for tensors that are not `f32`.
fn burns_mask<B: Backend>(like: FloatTensor<B>, keep: f64) -> FloatTensor<B> {
    let kept = B::float_random(
        like.shape(),
        Distribution::Bernoulli(keep),
        &like.device(),
        like.dtype().into(),
    );
    B::float_mul_scalar(kept, (1.0 / keep).into())
}

/// `layer`'s dropout of `x`: as burn's `Dropout::forward` (only while training on an autodiff
/// device, with a rate above 0), through the keep-mask operation.
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !x.device().is_autodiff() || layer.prob <= 0.0 {
        return x;
    }
    let keep = 1.0 - layer.prob.min(1.0);
    if keep <= 0.0 {
        return x.zeros_like();
    }
    let mask = Tensor::from_dispatch(<Dispatch as DropoutOps>::dropout_mask(
        x.clone().into_dispatch(),
        keep,
    ));
    x * mask
}

impl DropoutOps for NdArray {}

#[cfg(feature = "gpu")]
impl DropoutOps for Cube {}

impl DropoutOps for Flex {
    fn dropout_mask(like: FlexTensor, keep: f64) -> FlexTensor {
        if like.dtype() != DType::F32 {
            return burns_mask::<Flex>(like, keep);
        }
        // One seed from the device's generator: four 16-bit draws (exact in f32).
        let draws = Flex::float_random(
            Shape::new([4]),
            Distribution::Uniform(0.0, 65536.0),
            &like.device(),
            DType::F32.into(),
        );
        let seed = draws
            .as_slice::<f32>()
            .expect("a fresh f32 tensor")
            .iter()
            .fold(0u64, |seed, v| (seed << 16) | (*v as u64 & 0xFFFF));
        let dims = like.shape().to_vec();
        flex_tensor(keep_mask(dims.iter().product(), keep, seed), &dims)
    }
}

/// `len` values, each `1 / keep` with probability `keep` and 0 otherwise: block `b` from the
/// ChaCha8 stream `b` of `seed`, 24 random bits per element.
pub fn keep_mask(len: usize, keep: f64, seed: u64) -> Vec<f32> {
    let threshold = (keep.clamp(0.0, 1.0) * f64::from(1u32 << 24)).round() as u32;
    let scale = (1.0 / keep) as f32;
    let mut mask = vec![0.0f32; len];
    let fill = |(block, values): (usize, &mut [f32])| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(block as u64);
        for v in values {
            *v = if rng.next_u32() >> 8 < threshold {
                scale
            } else {
                0.0
            };
        }
    };
    parallel::for_each(mask.chunks_mut(BLOCK).enumerate().collect(), fill);
    mask
}

impl<B: DropoutOps, C: CheckpointStrategy> DropoutOps for Autodiff<B, C> {
    /// The mask is a constant of the graph: its product with the input carries the gradient.
    fn dropout_mask(like: FloatTensor<Self>, keep: f64) -> FloatTensor<Self> {
        Self::from_inner(B::dropout_mask(Self::inner(like), keep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;
    use burn::tensor::Device;

    #[test]
    fn the_mask_keeps_the_asked_share_scaled_and_the_same_for_a_seed() {
        for keep in [0.2, 0.5, 0.8, 1.0] {
            let len = 5 * BLOCK + 123;
            let mask = keep_mask(len, keep, 7);
            let scale = (1.0 / keep) as f32;
            assert!(mask.iter().all(|v| *v == 0.0 || *v == scale), "{keep}");
            let kept = mask.iter().filter(|v| **v != 0.0).count() as f64 / len as f64;
            assert!((kept - keep).abs() < 0.01, "keep {keep}: kept {kept}");
            assert_eq!(mask, keep_mask(len, keep, 7), "same seed, same mask");
        }
        assert_ne!(keep_mask(1000, 0.5, 7), keep_mask(1000, 0.5, 8));
        // Each block its own stream: blocks are not copies of one another.
        let mask = keep_mask(2 * BLOCK, 0.5, 3);
        assert_ne!(mask[..BLOCK], mask[BLOCK..]);
    }

    /// Dropout through the operation: the device's generator seeds it (same seed, same
    /// output), the output is the input times the mask, the gradient is the mask, and it does
    /// nothing at inference. On the CPU device and on ndarray (burn's Bernoulli draw).
    #[test]
    fn dropout_masks_values_and_gradients_alike_and_follows_the_device_seed() {
        let layer = DropoutConfig::new(0.25).init();
        for device in [Device::flex(), Device::ndarray()] {
            let train = device.clone().autodiff();
            let input: Vec<f32> = (0..4000).map(|i| 1.0 + (i % 7) as f32).collect();
            let run = |seed: u64| {
                crate::device::with_device_rng(&train, Some(seed), || {
                    let x = Tensor::<1>::from_floats(input.as_slice(), &train)
                        .reshape([40, 100])
                        .require_grad();
                    let y = dropout(&layer, x.clone());
                    let grad = x.grad(&y.clone().sum().backward()).unwrap();
                    let values = |t: Tensor<2>| t.into_data().try_into_vec_as::<f32>().unwrap();
                    (values(y), values(grad))
                })
            };
            let (y, grad) = run(11);
            assert_eq!((y.clone(), grad.clone()), run(11), "{device:?}: same seed");
            assert_ne!(y, run(12).0, "{device:?}: another seed");
            let scale = 1.0 / 0.75;
            for ((y, g), x) in y.iter().zip(&grad).zip(&input) {
                assert!(
                    *g == 0.0 || (*g - scale).abs() < 1e-6,
                    "{device:?}: grad {g}"
                );
                assert!((y - x * g).abs() < 1e-5, "{device:?}: {y} = {x} * {g}");
            }
            let dropped = grad.iter().filter(|g| **g == 0.0).count() as f64 / grad.len() as f64;
            assert!(
                (dropped - 0.25).abs() < 0.03,
                "{device:?}: dropped {dropped}"
            );
            let x = Tensor::<1>::from_floats(input.as_slice(), &device);
            let inference = dropout(&layer, x).into_data().try_into_vec_as::<f32>();
            assert_eq!(
                inference.unwrap(),
                input,
                "{device:?}: no dropout at inference"
            );
        }
    }
}
