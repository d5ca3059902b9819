//! A 2-D convolution (with its bias) as one burn operation whose backward pass computes the
//! kernel's, the bias's and (when needed) the input's gradients as matrix products.
//!
//! burn is extended the way it is meant to be (`#[backend_extension]`, as
//! [`super::recurrent_ops`]): the trait [`ConvOps`] has a forward and a backward method whose
//! default bodies are burn's own convolution and its gradients (WebGPU and ndarray run them),
//! and the CPU device (`Flex`) runs them as the im2col products of [`super::conv_kernels`],
//! spread over the batch on rayon's threads. burn flex's own backward takes the kernel's
//! gradient through a generic fallback (a convolution with the batch as channels, fed by one
//! huge unfolded matrix on one product) and the input's through a transposed convolution;
//! and it computes the input's gradient even for the first layer, whose input is the data.
#![allow(deprecated)] // NdArray is deprecated in burn 0.22 but still a device Kindling offers.

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
    Autodiff,
};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
#[cfg(feature = "gpu")]
use burn::backend::Cube;
use burn::backend::{backend_extension, Backend, Dispatch, Flex, NdArray, Shape, TensorMetadata};
use burn::tensor::ops::ConvOptions;
use burn::tensor::Tensor;

use super::conv_kernels::{self as kernels, ConvGeometry};
use super::flex_values::{all_f32, contiguous, flex_tensor, values_of};

/// A 2-D convolution with a bias and its gradients.
///
/// `x` [batch, channels, h, w], `weight` [filters, channels, kh, kw], `bias` [filters] ->
/// [batch, filters, oh, ow].
#[cfg_attr(feature = "gpu", backend_extension(Flex, NdArray, Cube, Autodiff))]
#[cfg_attr(not(feature = "gpu"), backend_extension(Flex, NdArray, Autodiff))]
pub trait ConvOps: Backend {
    /// The convolution of `x` with `weight`, plus `bias`.
    fn conv2d_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options)
    }

    /// The gradients of the kernel and the bias, and of the input when `input_gradient`, from
    /// the gradient of the output.
    fn conv2d_biased_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
        input_gradient: bool,
    ) -> (
        Option<FloatTensor<Self>>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        burns_gradients::<Self>(x, weight, output_grad, options, input_gradient)
    }
}

/// The convolution of `x` [batch, channels, h, w] with `weight` [filters, channels, kh, kw],
/// plus `bias` [filters], through the operation: [batch, filters, oh, ow].
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as ConvOps>::conv2d_biased(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        options,
    ))
}

/// burn's own gradients of a convolution (its `ModuleOps` backward methods): the trait's
/// default, and the CPU device's where its matrix kernels do not apply.
type Gradients3<B> = (Option<FloatTensor<B>>, FloatTensor<B>, FloatTensor<B>);

fn burns_gradients<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    output_grad: FloatTensor<B>,
    options: ConvOptions<2>,
    input_gradient: bool,
) -> Gradients3<B> {
    let dx = input_gradient.then(|| {
        B::conv2d_x_backward(
            x.clone(),
            weight.clone(),
            output_grad.clone(),
            options.clone(),
        )
    });
    let dw = B::conv2d_weight_backward(x, weight, output_grad.clone(), options);
    (dx, dw, bias_gradient::<B>(output_grad))
}

/// The bias's gradient: the output gradient summed over the batch and the positions.
fn bias_gradient<B: Backend>(output_grad: FloatTensor<B>) -> FloatTensor<B> {
    let [batch, filters, oh, ow] = dims4::<B>(&output_grad);
    let per_filter = B::float_swap_dims(output_grad, 0, 1);
    let per_filter = B::float_reshape(per_filter, Shape::new([filters, batch * oh * ow]));
    B::float_reshape(B::float_sum_dim(per_filter, 1), Shape::new([filters]))
}

fn dims4<B: Backend>(t: &FloatTensor<B>) -> [usize; 4] {
    let shape = t.shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

impl ConvOps for NdArray {}

#[cfg(feature = "gpu")]
impl ConvOps for Cube {}

// ---- The CPU device: im2col products ----

/// The geometry the matrix kernels run, `None` where they do not apply (dilation, groups,
/// other dtypes, sizes past their limits): burn's own convolution runs those.
fn flex_geometry(
    x: &FlexTensor,
    weight: &FlexTensor,
    options: &ConvOptions<2>,
) -> Option<ConvGeometry> {
    let (xs, ws) = (x.shape(), weight.shape());
    if xs.num_dims() != 4 || ws.num_dims() != 4 || !all_f32(&[x, weight]) {
        return None;
    }
    if options.dilation != [1, 1] || options.groups != 1 || xs[1] != ws[1] {
        return None;
    }
    let geometry = ConvGeometry {
        batch: xs[0],
        channels: xs[1],
        size: [xs[2], xs[3]],
        filters: ws[0],
        kernel: [ws[2], ws[3]],
        stride: options.stride,
        padding: options.padding,
    };
    geometry.fits().then_some(geometry)
}

impl ConvOps for Flex {
    fn conv2d_biased(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        let geometry = match flex_geometry(&x, &weight, &options) {
            Some(g) if all_f32(&[&bias]) => g,
            _ => return Flex::conv2d(x, weight, Some(bias), options),
        };
        let [x, weight, bias] = [x, weight, bias].map(contiguous);
        let y = kernels::conv2d(
            &geometry,
            values_of(&x),
            values_of(&weight),
            values_of(&bias),
        );
        let [oh, ow] = geometry.output_size().expect("a fitting geometry");
        flex_tensor(y, &[geometry.batch, geometry.filters, oh, ow])
    }

    fn conv2d_biased_backward(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
        input_gradient: bool,
    ) -> (Option<FlexTensor>, FlexTensor, FlexTensor) {
        let geometry = match flex_geometry(&x, &weight, &options) {
            Some(g) if all_f32(&[&output_grad]) => g,
            _ => return burns_gradients::<Flex>(x, weight, output_grad, options, input_gradient),
        };
        let (x_dims, w_dims) = (x.shape().to_vec(), weight.shape().to_vec());
        let [x, weight, output_grad] = [x, weight, output_grad].map(contiguous);
        let grads = kernels::conv2d_backward(
            &geometry,
            values_of(&x),
            values_of(&weight),
            values_of(&output_grad),
            input_gradient,
        );
        (
            grads.input.map(|dx| flex_tensor(dx, &x_dims)),
            flex_tensor(grads.weight, &w_dims),
            flex_tensor(grads.bias, &[geometry.filters]),
        )
    }
}

// ---- Autodiff: one node per convolution ----

/// The backward pass of a convolution: the inner backend's backward method, asked for the
/// input's gradient only when the input is tracked (not for a first layer's data).
#[derive(Debug)]
struct ConvBackward;

impl<B: ConvOps> Backward<B, 3> for ConvBackward {
    /// The input, the kernel and the options.
    type State = (FloatTensor<B>, FloatTensor<B>, ConvOptions<2>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let output_grad = grads.consume::<B>(&ops.node);
        let (x, weight, options) = ops.state;
        let (dx, dw, db) =
            B::conv2d_biased_backward(x, weight, output_grad, options, node_x.is_some());
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_weight {
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, db);
        }
    }
}

impl<B: ConvOps, C: CheckpointStrategy> ConvOps for Autodiff<B, C> {
    fn conv2d_biased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let guards = [x.node(), weight.node(), bias.node()];
        let (x, weight, bias) = (
            x.into_primitive(),
            weight.into_primitive(),
            bias.into_primitive(),
        );
        match ConvBackward.prepare::<C>(guards).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let y = B::conv2d_biased(x.clone(), weight.clone(), bias, options.clone());
                prep.finish((x, weight, options), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_biased(x, weight, bias, options)),
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

    fn tensor<const D: usize>(shape: [usize; D], salt: usize, device: &Device) -> Tensor<D> {
        let len = shape.iter().product::<usize>();
        let flat: Vec<f32> = (0..len)
            .map(|i| (((i * 31 + salt * 7) % 23) as f32 - 11.0) / 8.0)
            .collect();
        Tensor::<1>::from_floats(flat.as_slice(), device).reshape(shape)
    }

    /// Values and gradients of the operation against burn's own convolution under autodiff:
    /// the output, and the gradients of the input, the kernel and the bias under a loss that
    /// weighs every output differently; with and without a tracked input (a first layer's
    /// data has no gradient to compute). On the CPU device (the matrix kernels) and on ndarray
    /// (burn's convolution and gradients, as WebGPU runs them).
    #[test]
    fn the_operation_has_burns_values_and_gradients() {
        let cases = [
            // Seed-CNN-like layers, and TensorFlow's asymmetric "same" padding with stride 2.
            ([3, 1, 12, 12], [4, 1, 5, 5], [1, 1], [(0, 0), (0, 0)]),
            ([4, 3, 8, 8], [5, 3, 3, 3], [1, 1], [(1, 1), (1, 1)]),
            ([2, 2, 7, 6], [3, 2, 3, 3], [2, 2], [(0, 1), (1, 1)]),
        ];
        for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
            for (x_shape, w_shape, stride, padding) in cases {
                let options = ConvOptions::new_with_padding(stride, padding, [1, 1], 1);
                let weight = tensor(w_shape, 2, &device).require_grad();
                let bias = tensor([w_shape[0]], 3, &device).require_grad();
                for track_input in [true, false] {
                    let x = tensor(x_shape, 1, &device);
                    let x = if track_input { x.require_grad() } else { x };
                    let run = |ours: bool| {
                        let y = if ours {
                            conv2d(x.clone(), weight.clone(), bias.clone(), options.clone())
                        } else {
                            burn::tensor::module::conv2d(
                                x.clone(),
                                weight.clone(),
                                Some(bias.clone()),
                                options.clone(),
                            )
                        };
                        let weights = tensor(y.dims(), 4, &device);
                        let grads = (y.clone() * weights).sum().backward();
                        [
                            values(y),
                            x.grad(&grads).map(values).unwrap_or_default(),
                            values(weight.grad(&grads).unwrap()),
                            values(bias.grad(&grads).unwrap()),
                        ]
                    };
                    let (ours, burns) = (run(true), run(false));
                    let names = ["output", "input grad", "kernel grad", "bias grad"];
                    for ((got, want), name) in ours.iter().zip(&burns).zip(names) {
                        assert_eq!(got.len(), want.len(), "{device:?} {x_shape:?} {name}");
                        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
                        for (a, b) in got.iter().zip(want) {
                            assert!(
                                (a - b).abs() <= 1e-5 * scale,
                                "{device:?} {x_shape:?} {name}: {got:?} vs {want:?}"
                            );
                        }
                    }
                    assert_eq!(ours[1].is_empty(), !track_input, "input grad when tracked");
                }
            }
        }
    }
}
