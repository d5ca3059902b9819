//! Max pooling (no padding, dilation 1) as one burn operation with its own backward pass.
//!
//! burn is extended the way it is meant to be (`#[backend_extension]`, as
//! [`super::conv_ops`]): the default bodies are burn's own max pooling with indices and its
//! backward pass (WebGPU and ndarray run them); the CPU device (`Flex`) runs the loops below,
//! planes spread over rayon's threads where the build has them, with the window's argmax kept
//! as a 32-bit offset in its plane. burn flex's own pooling walks a generic 3-D window per
//! element and was a sixth of the seed CNN's step.
#![allow(deprecated)] // NdArray is deprecated in burn 0.22 but still a device Kindling offers.

use super::flex_values::{contiguous, flex_tensor, values_of};
use super::parallel;
use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
    Autodiff,
};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::{FloatTensor, IntTensor};
#[cfg(feature = "gpu")]
use burn::backend::Cube;
use burn::backend::{
    backend_extension, Backend, Dispatch, Flex, NdArray, TensorData, TensorMetadata,
};
use burn::tensor::{DType, IntDType, Tensor};

/// Planes per parallel task (a plane is one channel of one image).
const PLANES_PER_TASK: usize = 16;

/// Max pooling of `x` [batch, channels, h, w] over `kernel` windows moved by `stride`, no
/// padding: [batch, channels, oh, ow].
#[cfg_attr(feature = "gpu", backend_extension(Flex, NdArray, Cube, Autodiff))]
#[cfg_attr(not(feature = "gpu"), backend_extension(Flex, NdArray, Autodiff))]
pub trait PoolOps: Backend {
    /// The pooled values and where each came from (what the backward pass reads).
    fn max_pool2d_forward(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> (FloatTensor<Self>, IntTensor<Self>) {
        burns_forward::<Self>(x, kernel, stride)
    }

    /// The input's gradient: each output's gradient sent back to where its value came from.
    fn max_pool2d_backward(
        x: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        indices: IntTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FloatTensor<Self> {
        burns_backward::<Self>(x, output_grad, indices, kernel, stride)
    }
}

/// Max pooling through the operation (one autodiff node; its loops on the CPU device).
///
/// `x`: [batch, channels, h, w] -> [batch, channels, (h - kh) / sh + 1, (w - kw) / sw + 1]
pub fn max_pool2d(x: Tensor<4>, kernel: [usize; 2], stride: [usize; 2]) -> Tensor<4> {
    let (pooled, _) = <Dispatch as PoolOps>::max_pool2d_forward(x.into_dispatch(), kernel, stride);
    Tensor::from_dispatch(pooled)
}

/// burn's own max pooling with indices (the trait's default, and the CPU device's where its
/// loops do not apply).
fn burns_forward<B: Backend>(
    x: FloatTensor<B>,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> (FloatTensor<B>, IntTensor<B>) {
    let pooled =
        B::max_pool2d_with_indices(x, kernel, stride, [0, 0], [1, 1], false, IntDType::I32);
    (pooled.output, pooled.indices)
}

/// burn's own backward pass of [`burns_forward`].
fn burns_backward<B: Backend>(
    x: FloatTensor<B>,
    output_grad: FloatTensor<B>,
    indices: IntTensor<B>,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> FloatTensor<B> {
    B::max_pool2d_with_indices_backward(
        x,
        kernel,
        stride,
        [0, 0],
        [1, 1],
        false,
        output_grad,
        indices,
    )
    .x_grad
}

impl PoolOps for NdArray {}

#[cfg(feature = "gpu")]
impl PoolOps for Cube {}

// ---- The CPU device ----

/// The pooling's sizes: planes, input plane [h, w], output plane [oh, ow]; `None` where the
/// loops do not apply (not f32, not 4-D, a window larger than the plane, a zero size).
fn flex_sizes(
    x: &FlexTensor,
    kernel: [usize; 2],
    stride: [usize; 2],
) -> Option<(usize, [usize; 2], [usize; 2])> {
    let shape = x.shape();
    if shape.num_dims() != 4 || x.dtype() != DType::F32 {
        return None;
    }
    let (planes, size) = (shape[0].checked_mul(shape[1])?, [shape[2], shape[3]]);
    let side = |d: usize| {
        (kernel[d] > 0 && stride[d] > 0 && size[d] >= kernel[d])
            .then(|| (size[d] - kernel[d]) / stride[d] + 1)
    };
    let out = [side(0)?, side(1)?];
    // Offsets in a plane are kept as i32.
    let plane = size[0].checked_mul(size[1])?;
    (plane <= i32::MAX as usize && planes.checked_mul(plane).is_some())
        .then_some((planes, size, out))
}

/// One plane's pooling in the common case, 2x2 windows moved by 2 (`pool_plane`'s arguments):
/// the window's four values read directly.
fn pool_plane_2x2(
    plane: &[f32],
    [width, out_width]: [usize; 2],
    out: &mut [f32],
    argmax: &mut [i32],
) {
    for (oy, (out, argmax)) in out
        .chunks_mut(out_width)
        .zip(argmax.chunks_mut(out_width))
        .enumerate()
    {
        let top = 2 * oy * width;
        let (upper, lower) = (
            &plane[top..top + width],
            &plane[top + width..top + 2 * width],
        );
        for (ox, (o, a)) in out.iter_mut().zip(argmax.iter_mut()).enumerate() {
            let x = 2 * ox;
            let mut best = (upper[x], top + x);
            for candidate in [
                (upper[x + 1], top + x + 1),
                (lower[x], top + width + x),
                (lower[x + 1], top + width + x + 1),
            ] {
                if candidate.0 > best.0 {
                    best = candidate;
                }
            }
            (*o, *a) = (best.0, best.1 as i32);
        }
    }
}

/// One plane's pooling (planes `width` wide, outputs `out_width` wide): maxima into `out`,
/// their offsets in the plane into `argmax`.
fn pool_plane(
    plane: &[f32],
    [width, out_width]: [usize; 2],
    [kh, kw]: [usize; 2],
    [sh, sw]: [usize; 2],
    out: &mut [f32],
    argmax: &mut [i32],
) {
    for (i, (o, a)) in out.iter_mut().zip(argmax.iter_mut()).enumerate() {
        let (oy, ox) = (i / out_width, i % out_width);
        let first = oy * sh * width + ox * sw;
        let (mut best, mut at) = (plane[first], first);
        for ki in 0..kh {
            let row = first + ki * width;
            for (kj, v) in plane[row..row + kw].iter().enumerate() {
                if *v > best {
                    (best, at) = (*v, row + kj);
                }
            }
        }
        (*o, *a) = (best, at as i32);
    }
}

impl PoolOps for Flex {
    fn max_pool2d_forward(
        x: FlexTensor,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> (FlexTensor, FlexTensor) {
        let Some((planes, size, [oh, ow])) = flex_sizes(&x, kernel, stride) else {
            return burns_forward::<Flex>(x, kernel, stride);
        };
        let dims = x.shape().to_vec();
        let x = contiguous(x);
        let values = values_of(&x);
        let (plane_in, plane_out) = (size[0] * size[1], oh * ow);
        let mut out = vec![0.0f32; planes * plane_out];
        let mut argmax = vec![0i32; planes * plane_out];
        let task = |((out, argmax), x): ((&mut [f32], &mut [i32]), &[f32])| {
            for ((o, a), plane) in out
                .chunks_mut(plane_out)
                .zip(argmax.chunks_mut(plane_out))
                .zip(x.chunks(plane_in))
            {
                if kernel == [2, 2] && stride == [2, 2] {
                    pool_plane_2x2(plane, [size[1], ow], o, a);
                } else {
                    pool_plane(plane, [size[1], ow], kernel, stride, o, a);
                }
            }
        };
        let (task_out, task_in) = (PLANES_PER_TASK * plane_out, PLANES_PER_TASK * plane_in);
        let tasks = out
            .chunks_mut(task_out)
            .zip(argmax.chunks_mut(task_out))
            .zip(values.chunks(task_in))
            .collect();
        parallel::for_each(tasks, task);
        let out_dims = [dims[0], dims[1], oh, ow];
        (
            flex_tensor(out, &out_dims),
            FlexTensor::from_data(TensorData::new(argmax, out_dims.to_vec())),
        )
    }

    fn max_pool2d_backward(
        x: FlexTensor,
        output_grad: FlexTensor,
        indices: FlexTensor,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> FlexTensor {
        let sizes = flex_sizes(&x, kernel, stride);
        let ours =
            sizes.is_some() && output_grad.dtype() == DType::F32 && indices.dtype() == DType::I32;
        let (Some((planes, size, [oh, ow])), true) = (sizes, ours) else {
            return burns_backward::<Flex>(x, output_grad, indices, kernel, stride);
        };
        let dims = x.shape().to_vec();
        let (output_grad, indices) = (contiguous(output_grad), contiguous(indices));
        let grad = values_of(&output_grad);
        let at = indices.as_slice::<i32>().expect("contiguous i32 offsets");
        let (plane_in, plane_out) = (size[0] * size[1], oh * ow);
        let mut dx = vec![0.0f32; planes * plane_in];
        let task = |(dx, (grad, at)): (&mut [f32], (&[f32], &[i32]))| {
            for (plane, (g, a)) in dx
                .chunks_mut(plane_in)
                .zip(grad.chunks(plane_out).zip(at.chunks(plane_out)))
            {
                for (g, a) in g.iter().zip(a) {
                    plane[*a as usize] += g;
                }
            }
        };
        let (task_out, task_in) = (PLANES_PER_TASK * plane_out, PLANES_PER_TASK * plane_in);
        let tasks = dx
            .chunks_mut(task_in)
            .zip(grad.chunks(task_out).zip(at.chunks(task_out)))
            .collect();
        parallel::for_each(tasks, task);
        flex_tensor(dx, &dims)
    }
}

// ---- Autodiff: one node per pooling ----

/// The backward pass of a max pooling: the inner backend's backward method.
#[derive(Debug)]
struct MaxPoolBackward;

impl<B: PoolOps> Backward<B, 1> for MaxPoolBackward {
    /// The input, where each output came from, the window and the stride.
    type State = (FloatTensor<B>, IntTensor<B>, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let output_grad = grads.consume::<B>(&ops.node);
        let (x, indices, kernel, stride) = ops.state;
        if let Some(node) = node_x {
            let dx = B::max_pool2d_backward(x, output_grad, indices, kernel, stride);
            grads.register::<B>(node.id, dx);
        }
    }
}

impl<B: PoolOps, C: CheckpointStrategy> PoolOps for Autodiff<B, C> {
    fn max_pool2d_forward(
        x: FloatTensor<Self>,
        kernel: [usize; 2],
        stride: [usize; 2],
    ) -> (FloatTensor<Self>, IntTensor<Self>) {
        let guards = [x.node()];
        let x = x.into_primitive();
        match MaxPoolBackward
            .prepare::<C>(guards)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (pooled, indices) = B::max_pool2d_forward(x.clone(), kernel, stride);
                let state = (x, indices.clone(), kernel, stride);
                (prep.finish(state, pooled), indices)
            }
            OpsKind::UnTracked(prep) => {
                let (pooled, indices) = B::max_pool2d_forward(x, kernel, stride);
                (prep.finish(pooled), indices)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    /// Values and the input's gradient against burn's own max pooling under autodiff, on
    /// distinct values (no ties), for the seed CNN's 2x2 windows, overlapping 3x3 windows
    /// with stride 2 and windows that leave a remainder. On the CPU device (the loops) and on
    /// ndarray (burn's pooling, as WebGPU runs it).
    #[test]
    fn the_operation_has_burns_values_and_gradients() {
        let cases = [
            ([3, 2, 8, 8], [2, 2], [2, 2]),
            ([2, 3, 9, 7], [3, 3], [2, 2]),
            ([2, 1, 7, 5], [2, 3], [3, 1]),
        ];
        for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
            for (shape, kernel, stride) in cases {
                let len: usize = shape.iter().product();
                // A permutation of 0..len, scaled: every value distinct.
                let flat: Vec<f32> = (0..len).map(|i| ((i * 7919) % len) as f32 / 10.0).collect();
                let run = |ours: bool| {
                    let x = Tensor::<1>::from_floats(flat.as_slice(), &device)
                        .reshape(shape)
                        .require_grad();
                    let y = if ours {
                        max_pool2d(x.clone(), kernel, stride)
                    } else {
                        burn::nn::pool::MaxPool2dConfig::new(kernel)
                            .with_strides(stride)
                            .init()
                            .forward(x.clone())
                    };
                    let weights = Tensor::<1>::from_floats(
                        (0..y.dims().iter().product::<usize>())
                            .map(|i| 1.0 + i as f32)
                            .collect::<Vec<_>>()
                            .as_slice(),
                        &device,
                    )
                    .reshape(y.dims());
                    let grads = (y.clone() * weights).sum().backward();
                    (values(y), values(x.grad(&grads).unwrap()))
                };
                assert_eq!(
                    run(true),
                    run(false),
                    "{device:?} {shape:?} {kernel:?} {stride:?}"
                );
            }
        }
    }
}
