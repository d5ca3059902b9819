//! Adam's update of a parameter as one burn operation: on the CPU device one pass over the
//! parameter, its gradient and both moments, in place and spread over the threads; elsewhere
//! the backend's own element-wise operations.
//!
//! burn's `Adam` updates a parameter with about a dozen element-wise tensor operations (the
//! two moments, their bias corrections, the square root, the quotient, the step), each a pass
//! over memory into a freshly allocated tensor, on the calling thread. Natively those passes
//! are a few percent of the MLP's step; in the browser's threaded worker they kept one thread
//! busy while the pool's others waited. [`FusedAdam`] is burn's Adam (the same state, so the
//! same record, and the same numbers within float rounding) with the update written once per
//! backend ([`AdamOps`]).
#![allow(deprecated)] // NdArray is deprecated in burn 0.22 but still a device Kindling offers.

use crate::model::flex_values::{all_f32, contiguous};
use crate::model::parallel;
use burn::backend::autodiff::{checkpoint::strategy::CheckpointStrategy, Autodiff};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
#[cfg(feature = "gpu")]
use burn::backend::Cube;
use burn::backend::{
    backend_extension, AutodiffBackend, Backend, Dispatch, Flex, NdArray, TensorMetadata,
};
use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};

/// Elements per parallel item: fixed, and an update is element-wise, so the result does not
/// depend on the threads.
const CHUNK: usize = 16 * 1024;

/// The coefficients of one Adam step, bias corrections folded in (as burn folds them):
/// `m = beta_1 m + (1 - beta_1) g`, `v = beta_2 v + (1 - beta_2) g^2`,
/// `param -= step_size m / (sqrt(v) + epsilon)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    /// Decay of the first moment.
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// The learning rate times `sqrt(1 - beta_2^t) / (1 - beta_1^t)`.
    pub step_size: f32,
    /// Epsilon times `sqrt(1 - beta_2^t)`.
    pub epsilon: f32,
}

impl AdamStep {
    /// The coefficients of step `time` (from 1) with learning rate `lr`, computed as burn's
    /// `Adam` computes them.
    pub fn at(time: usize, lr: LearningRate, beta_1: f32, beta_2: f32, epsilon: f32) -> Self {
        let time = i32::try_from(time).unwrap_or(i32::MAX);
        let bias_correction2_sqrt = (1.0 - beta_2.powi(time)).sqrt();
        let combined_factor = bias_correction2_sqrt / (1.0 - beta_1.powi(time));
        Self {
            beta_1,
            beta_2,
            step_size: (lr * f64::from(combined_factor)) as f32,
            epsilon: epsilon * bias_correction2_sqrt,
        }
    }
}

/// Adam's update of one parameter.
#[cfg_attr(feature = "gpu", backend_extension(Flex, NdArray, Cube, Autodiff))]
#[cfg_attr(not(feature = "gpu"), backend_extension(Flex, NdArray, Autodiff))]
pub trait AdamOps: Backend {
    /// `(param, moment_1, moment_2)` after one step with gradient `grad` (all of one shape).
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        step: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        adam_update_composed::<Self>(param, grad, moment_1, moment_2, step)
    }
}

/// The update from the backend's element-wise operations, in burn's `Adam`'s order: the
/// trait's default, and the CPU device's for tensors that are not `f32`.
fn adam_update_composed<B: Backend>(
    param: FloatTensor<B>,
    grad: FloatTensor<B>,
    moment_1: FloatTensor<B>,
    moment_2: FloatTensor<B>,
    step: AdamStep,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let moment_1 = B::float_add(
        B::float_mul_scalar(moment_1, step.beta_1.into()),
        B::float_mul_scalar(grad.clone(), (1.0 - step.beta_1).into()),
    );
    let moment_2 = B::float_add(
        B::float_mul_scalar(moment_2, step.beta_2.into()),
        B::float_mul_scalar(B::float_mul(grad.clone(), grad), (1.0 - step.beta_2).into()),
    );
    let denominator = B::float_add_scalar(B::float_sqrt(moment_2.clone()), step.epsilon.into());
    let update = B::float_div(
        B::float_mul_scalar(moment_1.clone(), step.step_size.into()),
        denominator,
    );
    (B::float_sub(param, update), moment_1, moment_2)
}

impl AdamOps for NdArray {}

#[cfg(feature = "gpu")]
impl AdamOps for Cube {}

impl AdamOps for Flex {
    fn adam_update(
        param: FlexTensor,
        grad: FlexTensor,
        moment_1: FlexTensor,
        moment_2: FlexTensor,
        step: AdamStep,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        if !all_f32(&[&param, &grad, &moment_1, &moment_2]) {
            return adam_update_composed::<Flex>(param, grad, moment_1, moment_2, step);
        }
        let grad = contiguous(grad);
        let (mut param, mut moment_1, mut moment_2) =
            (writable(param), writable(moment_1), writable(moment_2));
        update_in_place(
            param.storage_mut::<f32>(),
            moment_1.storage_mut::<f32>(),
            moment_2.storage_mut::<f32>(),
            grad.as_slice::<f32>().expect("a contiguous f32 tensor"),
            step,
        );
        (param, moment_1, moment_2)
    }
}

/// The tensor with exactly its own values in its storage, in row-major order, so that its
/// storage can be updated in place (a copy when it is a view; shared storage is copied on
/// write by `storage_mut`).
fn writable(t: FlexTensor) -> FlexTensor {
    let t = contiguous(t);
    let len = t.shape().num_elements();
    if t.layout().contiguous_offsets() == Some((0, len)) && t.storage::<f32>().len() == len {
        t
    } else {
        FlexTensor::from_data(burn::backend::TensorData::new(
            t.as_slice::<f32>()
                .expect("a contiguous f32 tensor")
                .to_vec(),
            t.shape().to_vec(),
        ))
    }
}

/// One Adam step over plain values, in place, in parallel chunks where the build has threads.
pub fn update_in_place(
    param: &mut [f32],
    moment_1: &mut [f32],
    moment_2: &mut [f32],
    grad: &[f32],
    step: AdamStep,
) {
    assert!(
        param.len() == grad.len() && moment_1.len() == grad.len() && moment_2.len() == grad.len(),
        "Adam's parameter, gradient and moments have one shape"
    );
    let items: Vec<_> = param
        .chunks_mut(CHUNK)
        .zip(moment_1.chunks_mut(CHUNK))
        .zip(moment_2.chunks_mut(CHUNK))
        .zip(grad.chunks(CHUNK))
        .collect();
    let AdamStep {
        beta_1,
        beta_2,
        step_size,
        epsilon,
    } = step;
    let (keep_1, keep_2) = (1.0 - beta_1, 1.0 - beta_2);
    parallel::for_each(items, |(((p, m), v), g)| {
        for (((p, m), v), g) in p.iter_mut().zip(m).zip(v).zip(g) {
            *m = beta_1 * *m + keep_1 * g;
            *v = beta_2 * *v + keep_2 * (g * g);
            *p -= step_size * *m / (v.sqrt() + epsilon);
        }
    });
}

impl<B: AdamOps, C: CheckpointStrategy> AdamOps for Autodiff<B, C> {
    /// Optimizers step the inner tensors; an autodiff tensor is updated as a constant.
    fn adam_update(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        step: AdamStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (param, moment_1, moment_2) = B::adam_update(
            Self::inner(param),
            Self::inner(grad),
            Self::inner(moment_1),
            Self::inner(moment_2),
            step,
        );
        (
            Self::from_inner(param),
            Self::from_inner(moment_1),
            Self::from_inner(moment_2),
        )
    }
}

/// burn's Adam (no weight decay, no AMSGrad: what Kindling's runs use) with its update as the
/// one operation [`AdamOps::adam_update`]. Its state is burn's [`AdamState`], so records and
/// resumed runs are the same as burn's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusedAdam {
    /// Decay of the first moment.
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// Numerical stability term.
    pub epsilon: f32,
}

impl FusedAdam {
    /// The optimizer for a module.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        // The first step starts from zero moments, as burn's starts from the gradient alone.
        let (time, moment_1, moment_2) = match state {
            Some(state) => (
                state.momentum.time + 1,
                state.momentum.moment_1,
                state.momentum.moment_2,
            ),
            None => (1, grad.zeros_like(), grad.zeros_like()),
        };
        let step = AdamStep::at(time, lr, self.beta_1, self.beta_2, self.epsilon);
        let (tensor, moment_1, moment_2) = <Dispatch as AdamOps>::adam_update(
            tensor.into_dispatch(),
            grad.into_dispatch(),
            moment_1.into_dispatch(),
            moment_2.into_dispatch(),
            step,
        );
        let momentum = AdaptiveMomentumState::new(
            time,
            Tensor::from_dispatch(moment_1),
            Tensor::from_dispatch(moment_2),
        );
        (
            Tensor::from_dispatch(tensor),
            Some(AdamState::new(momentum)),
        )
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamConfig, GradientsParams};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    /// Trains one linear layer (40 x 1000: several parallel chunks) for `steps` steps with
    /// `optimizer`, on gradients that change every step, and returns its weights and biases.
    fn train(device: &Device, mut optimizer: ModuleOptimizer, steps: usize) -> Vec<f32> {
        let train = device.clone().autodiff();
        let mut layer = fixed_layer(&train);
        for i in 1..=steps {
            let x = Tensor::<2>::from_floats(
                [[0.5 + i as f32 * 0.1; 40], [-0.3 * i as f32; 40]],
                &train,
            )
            .require_grad();
            let y = layer.forward(x);
            let loss = (y.clone() * y).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &layer);
            layer = optimizer.step(1e-2, layer, grads);
        }
        let mut out = values(layer.weight.val());
        out.extend(values(layer.bias.unwrap().val()));
        out
    }

    /// A 40 x 1000 layer with fixed weights (not drawn: both optimizers start alike).
    fn fixed_layer(device: &Device) -> Linear {
        let weights: Vec<f32> = (0..40 * 1000)
            .map(|i| ((i % 97) as f32 - 48.0) / 500.0)
            .collect();
        let bias: Vec<f32> = (0..1000).map(|i| (i % 13) as f32 / 100.0).collect();
        let mut layer: Linear = LinearConfig::new(40, 1000).init(device);
        layer.weight = layer.weight.map(|_| {
            Tensor::<1>::from_floats(weights.as_slice(), device)
                .reshape([40, 1000])
                .require_grad()
        });
        layer.bias = layer
            .bias
            .map(|b| b.map(|_| Tensor::<1>::from_floats(bias.as_slice(), device).require_grad()));
        layer
    }

    /// Same weights as burn's Adam after 20 steps, on the CPU device (the fused pass) and on
    /// ndarray (the composed default), with Keras's epsilon and other betas.
    #[test]
    fn the_fused_update_trains_as_burns_adam() {
        let (beta_1, beta_2, epsilon) = (0.8, 0.99, 1e-7);
        for device in [Device::flex(), Device::ndarray()] {
            let burns = AdamConfig::new()
                .with_beta_1(beta_1)
                .with_beta_2(beta_2)
                .with_epsilon(epsilon)
                .init();
            let fused = FusedAdam {
                beta_1,
                beta_2,
                epsilon,
            };
            let (expected, got) = (train(&device, burns, 20), train(&device, fused.init(), 20));
            let start = train(&device, fused.init(), 0);
            let moved = expected
                .iter()
                .zip(&start)
                .filter(|(a, b)| (*a - *b).abs() > 1e-3)
                .count();
            assert!(moved > expected.len() / 2, "{device:?}: the weights moved");
            for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
                assert!(
                    (e - g).abs() <= 1e-5 + 1e-5 * e.abs(),
                    "{device:?}: weight {i}: burn's Adam {e}, fused {g}"
                );
            }
        }
    }

    /// The update writes in place, but never into storage another tensor still reads.
    #[test]
    fn the_update_leaves_shared_tensors_alone() {
        let device = Device::flex();
        let len = 3 * CHUNK + 5;
        let param = Tensor::<1>::from_floats(vec![1.0f32; len].as_slice(), &device);
        let kept = param.clone();
        let grad = Tensor::<1>::from_floats(vec![0.5f32; len].as_slice(), &device);
        let step = AdamStep::at(1, 0.1, 0.9, 0.999, 1e-7);
        let (updated, moment_1, moment_2) = <Dispatch as AdamOps>::adam_update(
            param.into_dispatch(),
            grad.clone().into_dispatch(),
            grad.zeros_like().into_dispatch(),
            grad.zeros_like().into_dispatch(),
            step,
        );
        assert!(
            values(kept).iter().all(|v| *v == 1.0),
            "the clone kept its values"
        );
        // Step 1: m = 0.05, v = 0.00025, m_hat / sqrt(v_hat) = 1: the parameter moves by lr.
        let updated = values(Tensor::<1>::from_dispatch(updated));
        assert!(
            updated.iter().all(|v| (v - 0.9).abs() < 1e-5),
            "{}",
            updated[0]
        );
        let m = values(Tensor::<1>::from_dispatch(moment_1));
        let v = values(Tensor::<1>::from_dispatch(moment_2));
        assert!(m.iter().all(|m| (m - 0.05).abs() < 1e-7));
        assert!(v.iter().all(|v| (v - 0.00025).abs() < 1e-7), "{}", v[0]);
        assert!(
            values(grad).iter().all(|g| *g == 0.5),
            "the gradient is read only"
        );
    }
}
