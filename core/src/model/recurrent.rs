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
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

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

    /// Trainable parameters of the layer on `inputs` features with `units` units.
    pub fn params(&self, inputs: usize, units: usize) -> usize {
        let g = self.gates();
        g * units * (inputs + units) + g * units
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
        let [batch, time, inputs] = input.dims();
        let u = self.units;
        let g = self.kind.gates();
        // Input projections of every time step at once: [batch, time, g*u].
        let projected = input
            .reshape([batch * time, inputs])
            .matmul(self.kernel.val())
            .add(self.bias.val().unsqueeze_dim::<2>(0))
            .reshape([batch, time, g * u]);
        let recurrent = self.recurrent_kernel.val();
        let device = projected.device();
        let mut h = Tensor::<2>::zeros([batch, u], &device);
        match self.kind {
            RecurrentKind::Lstm => {
                let mut c = Tensor::<2>::zeros([batch, u], &device);
                for t in 0..time {
                    let gates = projected
                        .clone()
                        .narrow(1, t, 1)
                        .reshape([batch, g * u])
                        .add(h.matmul(recurrent.clone()));
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
                for t in 0..time {
                    let x = projected.clone().narrow(1, t, 1).reshape([batch, g * u]);
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
