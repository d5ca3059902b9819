//! A whole LSTM or GRU sequence as one burn operation with its own backward pass.
//!
//! burn is extended the way it is meant to be (`#[backend_extension]`): the trait
//! [`RecurrentOps`] has a forward and a backward method per cell, written once over any
//! backend's primitive operations (the default bodies: WebGPU and ndarray run them), and for the
//! CPU device (`Flex`) as the fused loops of `recurrent_kernels`. Autodiff records the sequence
//! as one node whose backward calls the backend's backward method, instead of about 45 nodes per
//! time step.
//!
//! The operation takes the input projections of every step (`x W + b`, [batch, time, g*u],
//! computed outside by one matrix product, so the kernel's and bias's gradients come from
//! autodiff) and the recurrent kernel [u, g*u], and returns the hidden state after every step
//! [batch, time, u]. The initial state is zero.
#![allow(deprecated)] // NdArray is deprecated in burn 0.22 but still a device Kindling offers.

use burn::backend::autodiff::{
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
    Autodiff,
};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
#[cfg(feature = "gpu")]
use burn::backend::Cube;
use burn::backend::{
    backend_extension, Backend, Dispatch, Flex, NdArray, Shape, Slice, TensorMetadata,
};
use burn::tensor::Tensor;

use super::flex_values::{all_f32, contiguous, flex_tensor, values_of};
use super::recurrent_kernels::{self as kernels, SequenceShape, GRU_SAVED, LSTM_SAVED};

/// Fused recurrent sequences: forward and backward passes of Keras's LSTM and GRU
/// (`reset_after=False`) over a whole sequence.
///
/// `projected` [batch, time, g*u], `recurrent` [u, g*u] -> states [batch, time, u]; `saved` is
/// what the backward pass reads, [time, batch, s*u] (LSTM: i, f, g, o, c; GRU: z, r and the
/// candidate).
#[cfg_attr(feature = "gpu", backend_extension(Flex, NdArray, Cube, Autodiff))]
#[cfg_attr(not(feature = "gpu"), backend_extension(Flex, NdArray, Autodiff))]
pub trait RecurrentOps: Backend {
    /// The LSTM's states after every step.
    fn lstm_sequence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::lstm_sequence_forward(projected, recurrent).0
    }

    /// The LSTM's states and the activations its backward pass needs.
    fn lstm_sequence_forward(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        lstm_forward_composed::<Self>(projected, recurrent)
    }

    /// The gradients of the LSTM's projected inputs and recurrent kernel from those of its
    /// states.
    fn lstm_sequence_backward(
        grad_states: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        states: FloatTensor<Self>,
        saved: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        lstm_backward_composed::<Self>(grad_states, recurrent, states, saved)
    }

    /// The GRU's states after every step.
    fn gru_sequence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::gru_sequence_forward(projected, recurrent).0
    }

    /// The GRU's states and the activations its backward pass needs.
    fn gru_sequence_forward(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        gru_forward_composed::<Self>(projected, recurrent)
    }

    /// The gradients of the GRU's projected inputs and recurrent kernel from those of its
    /// states.
    fn gru_sequence_backward(
        grad_states: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
        states: FloatTensor<Self>,
        saved: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        gru_backward_composed::<Self>(grad_states, recurrent, states, saved)
    }
}

/// The LSTM's states after every step, through the fused operation.
///
/// `projected`: [batch, time, 4u], `recurrent`: [u, 4u] -> [batch, time, u]
pub fn lstm_sequence(projected: Tensor<3>, recurrent: Tensor<2>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as RecurrentOps>::lstm_sequence(
        projected.into_dispatch(),
        recurrent.into_dispatch(),
    ))
}

/// The GRU's states after every step, through the fused operation.
///
/// `projected`: [batch, time, 3u], `recurrent`: [u, 3u] -> [batch, time, u]
pub fn gru_sequence(projected: Tensor<3>, recurrent: Tensor<2>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as RecurrentOps>::gru_sequence(
        projected.into_dispatch(),
        recurrent.into_dispatch(),
    ))
}

// ---- Composed over any backend's primitives (WebGPU, ndarray) ----

fn dims3<B: Backend>(t: &FloatTensor<B>) -> [usize; 3] {
    let shape = t.shape();
    [shape[0], shape[1], shape[2]]
}

/// Columns `from..from + width` of a [rows, columns] tensor.
fn narrow_columns<B: Backend>(t: &FloatTensor<B>, from: usize, width: usize) -> FloatTensor<B> {
    let rows = t.shape()[0];
    B::float_slice(
        t.clone(),
        &[Slice::from(0..rows), Slice::from(from..from + width)],
    )
}

/// Step `step` of a [batch, time, width] tensor, as [batch, width].
fn step_of<B: Backend>(t: &FloatTensor<B>, step: usize) -> FloatTensor<B> {
    let [batch, time, width] = dims3::<B>(t);
    debug_assert!(step < time);
    let slice = B::float_slice(
        t.clone(),
        &[
            Slice::from(0..batch),
            Slice::from(step..step + 1),
            Slice::from(0..width),
        ],
    );
    B::float_reshape(slice, Shape::new([batch, width]))
}

/// Row `step` of a [time, batch, width] tensor, as [batch, width].
fn time_row<B: Backend>(t: &FloatTensor<B>, step: usize) -> FloatTensor<B> {
    let [_, batch, width] = dims3::<B>(t);
    let slice = B::float_slice(
        t.clone(),
        &[
            Slice::from(step..step + 1),
            Slice::from(0..batch),
            Slice::from(0..width),
        ],
    );
    B::float_reshape(slice, Shape::new([batch, width]))
}

fn one_minus<B: Backend>(t: FloatTensor<B>) -> FloatTensor<B> {
    B::float_add_scalar(B::float_neg(t), 1.0.into())
}

fn one_minus_square<B: Backend>(t: FloatTensor<B>) -> FloatTensor<B> {
    one_minus::<B>(B::float_mul(t.clone(), t))
}

fn zeros_like_rows<B: Backend>(like: &FloatTensor<B>, rows: usize, width: usize) -> FloatTensor<B> {
    B::float_zeros(
        Shape::new([rows, width]),
        &like.device(),
        like.dtype().into(),
    )
}

/// Stacks [batch, width] tensors along a new dimension `dim` (1: [batch, time, width];
/// 0: [time, batch, width]).
fn stack<B: Backend>(steps: Vec<FloatTensor<B>>, dim: usize) -> FloatTensor<B> {
    let steps = steps
        .into_iter()
        .map(|t| {
            let shape = t.shape();
            let (rows, width) = (shape[0], shape[1]);
            let shape = if dim == 0 {
                [1, rows, width]
            } else {
                [rows, 1, width]
            };
            B::float_reshape(t, Shape::new(shape))
        })
        .collect();
    B::float_cat(steps, dim)
}

fn lstm_forward_composed<B: Backend>(
    projected: FloatTensor<B>,
    recurrent: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let [batch, time, gates] = dims3::<B>(&projected);
    let u = gates / 4;
    let mut h = zeros_like_rows::<B>(&projected, batch, u);
    let mut c = zeros_like_rows::<B>(&projected, batch, u);
    let mut states = Vec::with_capacity(time);
    let mut saved = Vec::with_capacity(time);
    for step in 0..time {
        let a = B::float_add(
            step_of::<B>(&projected, step),
            B::float_matmul(h, recurrent.clone()),
        );
        let i = B::sigmoid(narrow_columns::<B>(&a, 0, u));
        let f = B::sigmoid(narrow_columns::<B>(&a, u, u));
        let g = B::float_tanh(narrow_columns::<B>(&a, 2 * u, u));
        let o = B::sigmoid(narrow_columns::<B>(&a, 3 * u, u));
        c = B::float_add(
            B::float_mul(f.clone(), c),
            B::float_mul(i.clone(), g.clone()),
        );
        h = B::float_mul(o.clone(), B::float_tanh(c.clone()));
        states.push(h.clone());
        saved.push(B::float_cat(vec![i, f, g, o, c.clone()], 1));
    }
    (stack::<B>(states, 1), stack::<B>(saved, 0))
}

fn lstm_backward_composed<B: Backend>(
    grad_states: FloatTensor<B>,
    recurrent: FloatTensor<B>,
    states: FloatTensor<B>,
    saved: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let [batch, time, u] = dims3::<B>(&states);
    let recurrent_t = B::float_transpose(recurrent.clone());
    let mut dh = zeros_like_rows::<B>(&states, batch, u);
    let mut dc = zeros_like_rows::<B>(&states, batch, u);
    let mut d_recurrent = B::float_zeros(
        recurrent.shape(),
        &recurrent.device(),
        recurrent.dtype().into(),
    );
    let mut d_steps = Vec::with_capacity(time);
    for step in (0..time).rev() {
        let now = time_row::<B>(&saved, step); // [batch, 5u]
        let [i, f, g, o, c] = [0, 1, 2, 3, 4].map(|k| narrow_columns::<B>(&now, k * u, u));
        let c_prev = if step == 0 {
            zeros_like_rows::<B>(&states, batch, u)
        } else {
            narrow_columns::<B>(&time_row::<B>(&saved, step - 1), 4 * u, u)
        };
        dh = B::float_add(dh, step_of::<B>(&grad_states, step));
        let tanh_c = B::float_tanh(c);
        let dc_total = B::float_add(
            dc,
            B::float_mul(
                B::float_mul(dh.clone(), o.clone()),
                one_minus_square::<B>(tanh_c.clone()),
            ),
        );
        let d_o = B::sigmoid_backward(o, B::float_mul(dh, tanh_c));
        let d_i = B::sigmoid_backward(i.clone(), B::float_mul(dc_total.clone(), g.clone()));
        let d_f = B::sigmoid_backward(f.clone(), B::float_mul(dc_total.clone(), c_prev));
        let d_g = B::float_mul(B::float_mul(dc_total.clone(), i), one_minus_square::<B>(g));
        let d_a = B::float_cat(vec![d_i, d_f, d_g, d_o], 1); // [batch, 4u]
        dc = B::float_mul(dc_total, f);
        dh = B::float_matmul(d_a.clone(), recurrent_t.clone());
        if step > 0 {
            let h_prev = step_of::<B>(&states, step - 1);
            d_recurrent = B::float_add(
                d_recurrent,
                B::float_matmul(B::float_transpose(h_prev), d_a.clone()),
            );
        }
        d_steps.push(d_a);
    }
    d_steps.reverse();
    (stack::<B>(d_steps, 1), d_recurrent)
}

fn gru_forward_composed<B: Backend>(
    projected: FloatTensor<B>,
    recurrent: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let [batch, time, gates] = dims3::<B>(&projected);
    let u = gates / 3;
    let recurrent_zr = narrow_columns::<B>(&recurrent, 0, 2 * u);
    let recurrent_h = narrow_columns::<B>(&recurrent, 2 * u, u);
    let mut h = zeros_like_rows::<B>(&projected, batch, u);
    let mut states = Vec::with_capacity(time);
    let mut saved = Vec::with_capacity(time);
    for step in 0..time {
        let x = step_of::<B>(&projected, step);
        let zr = B::sigmoid(B::float_add(
            narrow_columns::<B>(&x, 0, 2 * u),
            B::float_matmul(h.clone(), recurrent_zr.clone()),
        ));
        let z = narrow_columns::<B>(&zr, 0, u);
        let r = narrow_columns::<B>(&zr, u, u);
        let candidate = B::float_tanh(B::float_add(
            narrow_columns::<B>(&x, 2 * u, u),
            B::float_matmul(B::float_mul(r, h.clone()), recurrent_h.clone()),
        ));
        h = B::float_add(
            B::float_mul(z.clone(), h),
            B::float_mul(one_minus::<B>(z), candidate.clone()),
        );
        states.push(h.clone());
        saved.push(B::float_cat(vec![zr, candidate], 1));
    }
    (stack::<B>(states, 1), stack::<B>(saved, 0))
}

fn gru_backward_composed<B: Backend>(
    grad_states: FloatTensor<B>,
    recurrent: FloatTensor<B>,
    states: FloatTensor<B>,
    saved: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let [batch, time, u] = dims3::<B>(&states);
    let recurrent_zr_t = B::float_transpose(narrow_columns::<B>(&recurrent, 0, 2 * u));
    let recurrent_h_t = B::float_transpose(narrow_columns::<B>(&recurrent, 2 * u, u));
    let zeros = |width| {
        B::float_zeros(
            Shape::new([u, width]),
            &recurrent.device(),
            recurrent.dtype().into(),
        )
    };
    let (mut d_u_zr, mut d_u_h) = (zeros(2 * u), zeros(u));
    let mut dh = zeros_like_rows::<B>(&states, batch, u);
    let mut d_steps = Vec::with_capacity(time);
    for step in (0..time).rev() {
        let now = time_row::<B>(&saved, step); // [batch, 3u]
        let [z, r, candidate] = [0, 1, 2].map(|k| narrow_columns::<B>(&now, k * u, u));
        let h_prev = if step == 0 {
            zeros_like_rows::<B>(&states, batch, u)
        } else {
            step_of::<B>(&states, step - 1)
        };
        dh = B::float_add(dh, step_of::<B>(&grad_states, step));
        let d_candidate = B::float_mul(
            B::float_mul(dh.clone(), one_minus::<B>(z.clone())),
            one_minus_square::<B>(candidate.clone()),
        );
        let d_z = B::sigmoid_backward(
            z.clone(),
            B::float_mul(dh.clone(), B::float_sub(h_prev.clone(), candidate)),
        );
        let d_reset_state = B::float_matmul(d_candidate.clone(), recurrent_h_t.clone());
        let d_r = B::sigmoid_backward(
            r.clone(),
            B::float_mul(d_reset_state.clone(), h_prev.clone()),
        );
        let d_zr = B::float_cat(vec![d_z, d_r], 1);
        let h_prev_t = B::float_transpose(h_prev.clone());
        d_u_h = B::float_add(
            d_u_h,
            B::float_matmul(
                B::float_transpose(B::float_mul(r.clone(), h_prev)),
                d_candidate.clone(),
            ),
        );
        d_u_zr = B::float_add(d_u_zr, B::float_matmul(h_prev_t, d_zr.clone()));
        dh = B::float_add(
            B::float_add(B::float_mul(dh, z), B::float_mul(d_reset_state, r)),
            B::float_matmul(d_zr.clone(), recurrent_zr_t.clone()),
        );
        d_steps.push(B::float_cat(vec![d_zr, d_candidate], 1));
    }
    d_steps.reverse();
    (stack::<B>(d_steps, 1), B::float_cat(vec![d_u_zr, d_u_h], 1))
}

impl RecurrentOps for NdArray {}

#[cfg(feature = "gpu")]
impl RecurrentOps for Cube {}

// ---- The CPU device: the fused loops ----

/// Which cell a sequence runs.
#[derive(Debug, Clone, Copy)]
enum Cell {
    Lstm,
    Gru,
}

impl Cell {
    /// Gate blocks in its kernels.
    fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// Values per unit its forward pass saves.
    fn saved(self) -> usize {
        match self {
            Cell::Lstm => LSTM_SAVED,
            Cell::Gru => GRU_SAVED,
        }
    }
}

/// Matrix products on the CPU device: burn flex's GEMM (threaded natively for large products).
struct FlexGemm;

impl kernels::Gemm for FlexGemm {
    type Matrix = FlexTensor;

    fn matrix(&self, values: &[f32], rows: usize, columns: usize) -> FlexTensor {
        flex_tensor(values.to_vec(), &[rows, columns])
    }

    fn times(&self, a: &[f32], rows: usize, b: &FlexTensor) -> Vec<f32> {
        let k = a.len() / rows.max(1);
        let product = Flex::float_matmul(flex_tensor(a.to_vec(), &[rows, k]), b.clone());
        contiguous(product)
            .into_data()
            .into_vec::<f32>()
            .expect("an f32 product of f32 matrices")
    }
}

fn sequence_shape(states_or_projected: &[usize], units: usize) -> SequenceShape {
    SequenceShape {
        batch: states_or_projected[0],
        time: states_or_projected[1],
        units,
    }
}

impl RecurrentOps for Flex {
    fn lstm_sequence_forward(
        projected: FlexTensor,
        recurrent: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        flex_forward(Cell::Lstm, projected, recurrent)
    }

    fn lstm_sequence_backward(
        grad_states: FlexTensor,
        recurrent: FlexTensor,
        states: FlexTensor,
        saved: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        flex_backward(Cell::Lstm, grad_states, recurrent, states, saved)
    }

    fn gru_sequence_forward(
        projected: FlexTensor,
        recurrent: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        flex_forward(Cell::Gru, projected, recurrent)
    }

    fn gru_sequence_backward(
        grad_states: FlexTensor,
        recurrent: FlexTensor,
        states: FlexTensor,
        saved: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        flex_backward(Cell::Gru, grad_states, recurrent, states, saved)
    }
}

/// A cell's forward pass on the CPU device: the fused loops on f32 tensors (what they are
/// written for), else the composed operations.
fn flex_forward(
    cell: Cell,
    projected: FlexTensor,
    recurrent: FlexTensor,
) -> (FlexTensor, FlexTensor) {
    if !all_f32(&[&projected, &recurrent]) {
        return match cell {
            Cell::Lstm => lstm_forward_composed::<Flex>(projected, recurrent),
            Cell::Gru => gru_forward_composed::<Flex>(projected, recurrent),
        };
    }
    let dims = projected.shape().to_vec();
    let (projected, recurrent) = (contiguous(projected), contiguous(recurrent));
    let (projected, recurrent) = (values_of(&projected), values_of(&recurrent));
    let shape = sequence_shape(&dims, dims[2] / cell.gates());
    let (states, saved) = match cell {
        Cell::Lstm => kernels::lstm_forward(projected, recurrent, shape, &FlexGemm),
        Cell::Gru => kernels::gru_forward(projected, recurrent, shape, &FlexGemm),
    };
    (
        flex_tensor(states, &[shape.batch, shape.time, shape.units]),
        flex_tensor(
            saved,
            &[shape.time, shape.batch, cell.saved() * shape.units],
        ),
    )
}

/// A cell's backward pass on the CPU device, as [`flex_forward`].
fn flex_backward(
    cell: Cell,
    grad_states: FlexTensor,
    recurrent: FlexTensor,
    states: FlexTensor,
    saved: FlexTensor,
) -> (FlexTensor, FlexTensor) {
    if !all_f32(&[&grad_states, &recurrent, &states, &saved]) {
        return match cell {
            Cell::Lstm => lstm_backward_composed::<Flex>(grad_states, recurrent, states, saved),
            Cell::Gru => gru_backward_composed::<Flex>(grad_states, recurrent, states, saved),
        };
    }
    let dims = grad_states.shape().to_vec();
    let recurrent_dims = recurrent.shape().to_vec();
    let [grad_states, recurrent, states, saved] =
        [grad_states, recurrent, states, saved].map(contiguous);
    let recorded = kernels::Recorded {
        recurrent: values_of(&recurrent),
        states: values_of(&states),
        saved: values_of(&saved),
        shape: sequence_shape(&dims, dims[2]),
    };
    let grad_states = values_of(&grad_states);
    let (d_projected, d_recurrent) = match cell {
        Cell::Lstm => kernels::lstm_backward(grad_states, recorded, &FlexGemm),
        Cell::Gru => kernels::gru_backward(grad_states, recorded, &FlexGemm),
    };
    let shape = recorded.shape;
    (
        flex_tensor(
            d_projected,
            &[shape.batch, shape.time, cell.gates() * shape.units],
        ),
        flex_tensor(d_recurrent, &recurrent_dims),
    )
}

// ---- Autodiff: one node per sequence ----

/// The backward pass of a whole sequence: the inner backend's backward method.
#[derive(Debug)]
struct SequenceBackward(Cell);

impl<B: RecurrentOps> Backward<B, 2> for SequenceBackward {
    /// The recurrent kernel, the states and the saved activations.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_projected, node_recurrent] = ops.parents;
        let grad_states = grads.consume::<B>(&ops.node);
        let (recurrent, states, saved) = ops.state;
        let (d_projected, d_recurrent) = match self.0 {
            Cell::Lstm => B::lstm_sequence_backward(grad_states, recurrent, states, saved),
            Cell::Gru => B::gru_sequence_backward(grad_states, recurrent, states, saved),
        };
        if let Some(node) = node_projected {
            grads.register::<B>(node.id, d_projected);
        }
        if let Some(node) = node_recurrent {
            grads.register::<B>(node.id, d_recurrent);
        }
    }
}

/// Runs `cell` on the inner backend and records it as one autodiff node.
fn record_sequence<B: RecurrentOps, C: CheckpointStrategy>(
    cell: Cell,
    projected: FloatTensor<Autodiff<B, C>>,
    recurrent: FloatTensor<Autodiff<B, C>>,
) -> FloatTensor<Autodiff<B, C>> {
    let guards = [projected.node(), recurrent.node()];
    let projected = projected.into_primitive();
    let recurrent = recurrent.into_primitive();
    let forward = |projected, recurrent| match cell {
        Cell::Lstm => B::lstm_sequence_forward(projected, recurrent),
        Cell::Gru => B::gru_sequence_forward(projected, recurrent),
    };
    match SequenceBackward(cell)
        .prepare::<C>(guards)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (states, saved) = forward(projected, recurrent.clone());
            prep.finish((recurrent, states.clone(), saved), states)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(projected, recurrent).0),
    }
}

impl<B: RecurrentOps, C: CheckpointStrategy> RecurrentOps for Autodiff<B, C> {
    fn lstm_sequence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_sequence::<B, C>(Cell::Lstm, projected, recurrent)
    }

    fn gru_sequence(
        projected: FloatTensor<Self>,
        recurrent: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        record_sequence::<B, C>(Cell::Gru, projected, recurrent)
    }
}
