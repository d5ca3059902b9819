//! LSTM and GRU layers with Keras's parameter layout and maths.
//!
//! burn's own `Lstm`/`Gru` keep an input bias and a hidden bias for every gate (the PyTorch
//! layout), which adds parameters Keras does not have. These follow Keras exactly:
//! - LSTM: `kernel` [inputs, 4u], `recurrent_kernel` [u, 4u], one `bias` [4u]; gates i, f, c, o;
//!   forget-gate bias starts at 1 (`unit_forget_bias`). Parameters: 4 (u (inputs + u) + u).
//! - GRU as the seed notebooks' Keras built it (`reset_after=False`, the default before
//!   Keras 2.3): `kernel` [inputs, 3u], `recurrent_kernel` [u, 3u], one `bias` [3u]; gates
//!   z, r, h, with the reset gate applied to the state before the recurrent matmul:
//!   `h~ = tanh(x W_h + b_h + (r * h) U_h)`. Parameters: 3 (u (inputs + u) + u): GRU(128) on
//!   128 inputs has the seed's 98,688.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
#[cfg(test)]
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use super::recurrent_ops::{gru_sequence, lstm_sequence};

/// Which recurrent cell a sequence model uses.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum RecurrentKind {
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

impl RecurrentKind {
    /// Number of gate blocks stacked in the kernels.
    pub fn gates(&self) -> usize {
        match self {
            RecurrentKind::Lstm => 4,
            RecurrentKind::Gru => 3,
        }
    }

    /// Trainable parameters of the layer on `inputs` features with `units` units (saturating).
    pub fn params(&self, inputs: u64, units: u64) -> u64 {
        let gate_units = (self.gates() as u64).saturating_mul(units);
        gate_units
            .saturating_mul(inputs.saturating_add(units))
            .saturating_add(gate_units)
    }

    /// Keras's layer name.
    pub fn name(&self) -> &'static str {
        match self {
            RecurrentKind::Lstm => "LSTM",
            RecurrentKind::Gru => "GRU",
        }
    }
}

/// A recurrent layer that returns its last hidden state, as Keras's LSTM/GRU do by default.
#[derive(Module, Debug)]
pub struct Recurrent {
    /// Input kernel [inputs, gates*units].
    pub kernel: Param<Tensor<2>>,
    /// Recurrent kernel [units, gates*units].
    pub recurrent_kernel: Param<Tensor<2>>,
    /// Bias [gates*units].
    pub bias: Param<Tensor<1>>,
    #[module(skip)]
    kind: RecurrentKind,
    #[module(skip)]
    units: usize,
}

impl Recurrent {
    /// A layer of `kind` on `inputs` features with `units` units, initialised as Keras does
    /// (Glorot-uniform kernel, orthogonal recurrent kernel, zero biases, forget bias 1).
    pub fn new(kind: RecurrentKind, inputs: usize, units: usize, device: &Device) -> Self {
        let g = kind.gates();
        let kernel = Initializer::XavierUniform { gain: 1.0 }.init_with(
            [inputs, g * units],
            Some(inputs),
            Some(g * units),
            device,
        );
        let recurrent_kernel =
            Initializer::Orthogonal { gain: 1.0 }.init([units, g * units], device);
        let bias = match kind {
            RecurrentKind::Lstm => {
                let mut values = vec![0.0f32; g * units];
                values[units..2 * units].fill(1.0);
                Param::from_tensor(Tensor::from_floats(values.as_slice(), device))
            }
            RecurrentKind::Gru => Initializer::Zeros.init([g * units], device),
        };
        Self {
            kernel,
            recurrent_kernel,
            bias,
            kind,
            units,
        }
    }

    /// Runs the sequence and returns the last hidden state.
    ///
    /// `input`: [batch, time, inputs] -> [batch, units]
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let [batch, time, _] = input.dims();
        self.forward_states(input)
            .narrow(1, time - 1, 1)
            .reshape([batch, self.units])
    }

    /// Runs the sequence and returns the hidden state after every step: the whole sequence is
    /// one fused operation with its own backward pass (`recurrent_ops`).
    ///
    /// `input`: [batch, time, inputs] -> [batch, time, units]
    pub fn forward_states(&self, input: Tensor<3>) -> Tensor<3> {
        let projected = self.project(input);
        let recurrent = self.recurrent_kernel.val();
        match self.kind {
            RecurrentKind::Lstm => lstm_sequence(projected, recurrent),
            RecurrentKind::Gru => gru_sequence(projected, recurrent),
        }
    }

    /// The input projections of every time step at once, `x W + b`.
    ///
    /// `input`: [batch, time, inputs] -> [batch, time, gates*units]
    fn project(&self, input: Tensor<3>) -> Tensor<3> {
        let [batch, time, inputs] = input.dims();
        input
            .reshape([batch * time, inputs])
            .matmul(self.kernel.val())
            .add(self.bias.val().unsqueeze_dim::<2>(0))
            .reshape([batch, time, self.kind.gates() * self.units])
    }

    /// The cell composed of burn's tensor operations, one step at a time (what the fused
    /// operation replaced): the reference its values and gradients are checked against.
    ///
    /// `input`: [batch, time, inputs] -> [batch, units]
    #[cfg(test)]
    fn forward_composed(&self, input: Tensor<3>) -> Tensor<2> {
        let [batch, _, _] = input.dims();
        let u = self.units;
        let projected = self.project(input);
        let steps = time_steps(projected);
        let recurrent = self.recurrent_kernel.val();
        let device = steps[0].device();
        let mut h = Tensor::<2>::zeros([batch, u], &device);
        match self.kind {
            RecurrentKind::Lstm => {
                let mut c = Tensor::<2>::zeros([batch, u], &device);
                for x in steps {
                    let gates = x.add(h.matmul(recurrent.clone()));
                    let i = sigmoid(gates.clone().narrow(1, 0, u));
                    let f = sigmoid(gates.clone().narrow(1, u, u));
                    let candidate = tanh(gates.clone().narrow(1, 2 * u, u));
                    let o = sigmoid(gates.narrow(1, 3 * u, u));
                    c = f * c + i * candidate;
                    h = o * tanh(c.clone());
                }
            }
            RecurrentKind::Gru => {
                let gates_recurrent = recurrent.clone().narrow(1, 0, 2 * u); // [u, 2u]: z, r
                let candidate_recurrent = recurrent.narrow(1, 2 * u, u); // [u, u]
                for x in steps {
                    let zr =
                        x.clone().narrow(1, 0, 2 * u) + h.clone().matmul(gates_recurrent.clone());
                    let z = sigmoid(zr.clone().narrow(1, 0, u));
                    let r = sigmoid(zr.narrow(1, u, u));
                    let candidate = tanh(
                        x.narrow(1, 2 * u, u) + (r * h.clone()).matmul(candidate_recurrent.clone()),
                    );
                    h = z.clone() * h + (z.neg() + 1.0) * candidate;
                }
            }
        }
        h
    }
}

/// The time steps of `x` [batch, time, features], each [batch, features].
///
/// burn's autodiff gives a slice a backward pass that writes its gradient into zeros the size
/// of the sliced tensor, so slicing each of T steps from the whole sequence moves T whole
/// sequences backward (for the IMDB LSTM, 256 x 16 MB per batch: most of its training time).
/// Slicing blocks of about sqrt(T) steps first, then the steps from their block, moves about
/// 2 sqrt(T) whole sequences instead.
#[cfg(test)]
fn time_steps(x: Tensor<3>) -> Vec<Tensor<2>> {
    let [batch, time, features] = x.dims();
    let block = (time as f64).sqrt().ceil().max(1.0) as usize;
    let mut steps = Vec::with_capacity(time);
    for start in (0..time).step_by(block) {
        let len = block.min(time - start);
        let part = x.clone().narrow(1, start, len); // [batch, len, features]
        for t in 0..len {
            steps.push(part.clone().narrow(1, t, 1).reshape([batch, features]));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec_as::<f32>().unwrap()
    }

    fn sigmoid1(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }

    /// [batch, time, features] counting up from 0, so every element says where it came from.
    fn counting(batch: usize, time: usize, features: usize, device: &Device) -> Tensor<3> {
        let n = batch * time * features;
        let flat: Vec<f32> = (0..n).map(|v| v as f32).collect();
        Tensor::<1>::from_floats(flat.as_slice(), device).reshape([batch, time, features])
    }

    #[test]
    fn time_steps_keep_every_step_in_order() {
        let device = Device::flex();
        // 10 steps: blocks of 4, 4 and 2.
        let (batch, time, features) = (2, 10, 3);
        let steps = time_steps(counting(batch, time, features, &device));
        assert_eq!(steps.len(), time);
        for (t, step) in steps.into_iter().enumerate() {
            let expected: Vec<f32> = (0..batch)
                .flat_map(|b| (0..features).map(move |f| ((b * time + t) * features + f) as f32))
                .collect();
            assert_eq!(values(step), expected, "step {t}");
        }
    }

    #[test]
    fn time_steps_send_each_step_its_own_gradient() {
        let device = Device::flex().autodiff();
        let (batch, time, features) = (2, 7, 3);
        let x = counting(batch, time, features, &device).require_grad();
        // Step t weighted by t + 1: the gradient of element [b, t, f] is t + 1.
        let loss = time_steps(x.clone())
            .into_iter()
            .enumerate()
            .map(|(t, step)| step.sum().mul_scalar(t as f32 + 1.0))
            .reduce(|a, b| a + b)
            .unwrap();
        let grad = values(x.grad(&loss.backward()).unwrap());
        let expected: Vec<f32> = (0..batch * time * features)
            .map(|i| ((i / features) % time) as f32 + 1.0)
            .collect();
        assert_eq!(grad, expected);
    }

    /// The layer's equations, written out per number (Keras's LSTM, and GRU with
    /// `reset_after=False`), on the layer's own weights.
    fn reference(
        layer: &Recurrent,
        input: &[f32],
        batch: usize,
        time: usize,
        n: usize,
    ) -> Vec<f32> {
        let u = layer.units;
        let g = layer.kind.gates();
        let w = values(layer.kernel.val()); // [n, g*u]
        let r = values(layer.recurrent_kernel.val()); // [u, g*u]
        let bias = values(layer.bias.val());
        let mut out = Vec::new();
        for b in 0..batch {
            let (mut h, mut c) = (vec![0.0f32; u], vec![0.0f32; u]);
            for t in 0..time {
                let x = &input[(b * time + t) * n..(b * time + t + 1) * n];
                let proj = |k: usize| -> f32 {
                    bias[k] + (0..n).map(|i| x[i] * w[i * g * u + k]).sum::<f32>()
                };
                let rec = |state: &[f32], k: usize| -> f32 {
                    (0..u).map(|j| state[j] * r[j * g * u + k]).sum::<f32>()
                };
                match layer.kind {
                    RecurrentKind::Lstm => {
                        let gate = |k: usize| proj(k) + rec(&h, k);
                        let next_c: Vec<f32> = (0..u)
                            .map(|j| {
                                sigmoid1(gate(u + j)) * c[j]
                                    + sigmoid1(gate(j)) * gate(2 * u + j).tanh()
                            })
                            .collect();
                        h = (0..u)
                            .map(|j| sigmoid1(gate(3 * u + j)) * next_c[j].tanh())
                            .collect();
                        c = next_c;
                    }
                    RecurrentKind::Gru => {
                        let z: Vec<f32> = (0..u).map(|j| sigmoid1(proj(j) + rec(&h, j))).collect();
                        let reset: Vec<f32> = (0..u)
                            .map(|j| sigmoid1(proj(u + j) + rec(&h, u + j)))
                            .collect();
                        let rh: Vec<f32> = (0..u).map(|j| reset[j] * h[j]).collect();
                        h = (0..u)
                            .map(|j| {
                                let candidate = (proj(2 * u + j) + rec(&rh, 2 * u + j)).tanh();
                                z[j] * h[j] + (1.0 - z[j]) * candidate
                            })
                            .collect();
                    }
                }
            }
            out.extend(h);
        }
        out
    }

    #[test]
    fn lstm_and_gru_follow_their_equations_over_a_sequence() {
        let device = Device::flex();
        let (batch, time, inputs, units) = (2, 11, 3, 4);
        let input: Vec<f32> = (0..batch * time * inputs)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
            let mut layer = Recurrent::new(kind, inputs, units, &device);
            // A bias that is not the initial zeros/ones, so its place in every gate is checked.
            let g = kind.gates();
            let bias: Vec<f32> = (0..g * units).map(|k| (k as f32 - 6.0) / 10.0).collect();
            layer.bias = Param::from_tensor(Tensor::from_floats(bias.as_slice(), &device));
            let x =
                Tensor::<1>::from_floats(input.as_slice(), &device).reshape([batch, time, inputs]);
            let got = values(layer.forward(x));
            let want = reference(&layer, &input, batch, time, inputs);
            assert_eq!(got.len(), batch * units);
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "{kind:?}: {got:?} vs {want:?}");
            }
        }
    }

    /// Values and gradients of the fused sequence against the composed cell it replaced: the
    /// last state, and the gradients of the input, both kernels and the bias under a loss that
    /// weighs every unit differently. On the CPU device (the fused loops) and on ndarray (the
    /// operation composed over a backend's primitives, as WebGPU runs it).
    #[test]
    #[allow(deprecated)] // ndarray: the device that runs the composed operation natively
    fn the_fused_sequence_has_the_composed_cells_values_and_gradients() {
        let (batch, time, inputs, units) = (3, 9, 4, 5);
        let input: Vec<f32> = (0..batch * time * inputs)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 6.0)
            .collect();
        let weights: Vec<f32> = (0..batch * units)
            .map(|i| ((i * 13 % 7) as f32 - 3.0) / 2.0)
            .collect();
        for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
            for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
                let mut layer = Recurrent::new(kind, inputs, units, &device);
                let g = kind.gates();
                let bias: Vec<f32> = (0..g * units).map(|k| (k as f32 - 6.0) / 10.0).collect();
                layer.bias = Param::from_tensor(Tensor::from_floats(bias.as_slice(), &device));
                let w =
                    Tensor::<1>::from_floats(weights.as_slice(), &device).reshape([batch, units]);
                let run = |fused: bool| {
                    let x = Tensor::<1>::from_floats(input.as_slice(), &device)
                        .reshape([batch, time, inputs])
                        .require_grad();
                    let h = if fused {
                        layer.forward(x.clone())
                    } else {
                        layer.forward_composed(x.clone())
                    };
                    let grads = (h.clone() * w.clone()).sum().backward();
                    let grad = |t: Tensor<3>| values(t.grad(&grads).unwrap());
                    let grad2 = |t: Tensor<2>| values(t.grad(&grads).unwrap());
                    [
                        values(h),
                        grad(x),
                        grad2(layer.kernel.val()),
                        grad2(layer.recurrent_kernel.val()),
                        values(layer.bias.val().grad(&grads).unwrap()),
                    ]
                };
                let (fused, composed) = (run(true), run(false));
                let names = [
                    "state",
                    "input grad",
                    "kernel grad",
                    "recurrent grad",
                    "bias grad",
                ];
                for ((got, want), name) in fused.iter().zip(&composed).zip(names) {
                    assert_eq!(got.len(), want.len(), "{kind:?} {name}");
                    let scale = want.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
                    for (a, b) in got.iter().zip(want) {
                        assert!(
                            (a - b).abs() <= 1e-4 * scale,
                            "{device:?} {kind:?} {name}: {got:?} vs {want:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_state_after_each_step_is_the_state_of_that_prefix() {
        let device = Device::flex();
        let (batch, time, inputs, units) = (2, 6, 3, 4);
        let input: Vec<f32> = (0..batch * time * inputs)
            .map(|i| ((i * 29 % 17) as f32 - 8.0) / 5.0)
            .collect();
        for kind in [RecurrentKind::Lstm, RecurrentKind::Gru] {
            let layer = Recurrent::new(kind, inputs, units, &device);
            let x =
                Tensor::<1>::from_floats(input.as_slice(), &device).reshape([batch, time, inputs]);
            let states = layer.forward_states(x.clone());
            assert_eq!(states.dims(), [batch, time, units]);
            for t in 0..time {
                let step = values(states.clone().narrow(1, t, 1).reshape([batch, units]));
                let prefix = values(layer.forward_composed(x.clone().narrow(1, 0, t + 1)));
                for (a, b) in step.iter().zip(&prefix) {
                    assert!(
                        (a - b).abs() < 1e-5,
                        "{kind:?} step {t}: {step:?} vs {prefix:?}"
                    );
                }
            }
        }
    }
}
