//! The LSTM and GRU sequence loops on plain `f32` slices: the CPU device's fused recurrent
//! operations (`recurrent_ops`).
//!
//! A step of the composed cell is about 45 small tensor operations forward and back, each a pass
//! over memory with its own autodiff node and scalar `tanhf`/`expf` per element. Here a step is
//! one matrix product (through the backend, `MatMul`) and one loop over the batch that computes
//! every gate, the cell and the state, with activations that vectorise. The backward pass walks
//! the sequence in reverse with one loop and one product per step, and forms the recurrent
//! kernel's gradient in one product over all steps.
//!
//! Layouts: `projected` is the input projection `x W + b` of every step, [batch, time, gates*u];
//! `recurrent` is the recurrent kernel [u, gates*u]; `states` is the hidden state after every
//! step, [batch, time, u]. The saved activations are time-major, [time, batch, saved*u].

/// The backend's matrix product on row-major `f32` matrices.
pub trait Gemm {
    /// A right-hand matrix, prepared once to be multiplied by many times.
    type Matrix;

    /// Prepares `values` [rows, columns] as a right-hand matrix.
    fn matrix(&self, values: &[f32], rows: usize, columns: usize) -> Self::Matrix;

    /// `a` [rows, k] times `b` [k, n]: [rows, n].
    fn times(&self, a: &[f32], rows: usize, b: &Self::Matrix) -> Vec<f32>;
}

/// Values saved per unit by the LSTM's forward pass: the gates i, f, g, o (activated) and the
/// cell state c.
pub const LSTM_SAVED: usize = 5;

/// Values saved per unit by the GRU's forward pass: the gates z and r (activated) and the
/// candidate state.
pub const GRU_SAVED: usize = 3;

/// tanh by the rational approximation Eigen and XLA use for `f32` (a few ulp from the exact
/// value), which vectorises where `tanhf` does not.
#[inline(always)]
pub fn tanh_fast(x: f32) -> f32 {
    // Beyond this tanh rounds to +-1 in f32.
    const CLAMP: f32 = 7.905_311;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347_1e-4;
    const B6: f32 = 1.198_258_4e-6;
    let clamped = x.clamp(-CLAMP, CLAMP);
    let x2 = clamped * clamped;
    let mut p = x2 * A13 + A11;
    p = x2 * p + A9;
    p = x2 * p + A7;
    p = x2 * p + A5;
    p = x2 * p + A3;
    p = x2 * p + A1;
    p *= clamped;
    let mut q = x2 * B6 + B4;
    q = x2 * q + B2;
    q = x2 * q + B0;
    let value = p / q;
    // Tiny inputs keep their own value (tanh x = x to f32 precision), as Eigen does.
    if x.abs() < 4e-4 {
        x
    } else {
        value
    }
}

/// The logistic sigmoid as 1/2 + tanh(x/2)/2, through [`tanh_fast`].
#[inline(always)]
pub fn sigmoid_fast(x: f32) -> f32 {
    0.5 + 0.5 * tanh_fast(0.5 * x)
}

fn sigmoid_in_place(values: &mut [f32]) {
    for v in values {
        *v = sigmoid_fast(*v);
    }
}

fn tanh_in_place(values: &mut [f32]) {
    for v in values {
        *v = tanh_fast(*v);
    }
}

/// Sizes of a sequence: batch, time steps and units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceShape {
    /// Sequences in the batch.
    pub batch: usize,
    /// Time steps.
    pub time: usize,
    /// Units of the layer.
    pub units: usize,
}

impl SequenceShape {
    /// Offset of step `step` of sequence `row` in a batch-major [batch, time, width] buffer.
    fn batch_major(&self, row: usize, step: usize, width: usize) -> usize {
        (row * self.time + step) * width
    }

    /// Offset of step `step` of sequence `row` in a time-major [time, batch, width] buffer.
    fn time_major(&self, step: usize, row: usize, width: usize) -> usize {
        (step * self.batch + row) * width
    }
}

/// The columns `from..from + width` of a row-major [rows, columns] matrix, as [rows, width].
fn columns(matrix: &[f32], columns: usize, from: usize, width: usize) -> Vec<f32> {
    matrix
        .chunks_exact(columns)
        .flat_map(|row| &row[from..from + width])
        .copied()
        .collect()
}

/// The transpose of a row-major [rows, columns] matrix.
fn transpose(matrix: &[f32], rows: usize, columns: usize) -> Vec<f32> {
    let mut out = vec![0.0; matrix.len()];
    for r in 0..rows {
        for c in 0..columns {
            out[c * rows + r] = matrix[r * columns + c];
        }
    }
    out
}

/// The hidden states before steps 1..time, transposed: [u, (time - 1) * batch], column
/// `(step - 1) * batch + row` holding the state of `row` after step `step - 1`. Multiplied by
/// the gate gradients of steps 1..time ([(time - 1) * batch, n]) it sums every step's
/// recurrent-kernel gradient in one product.
fn previous_states_transposed(states: &[f32], shape: SequenceShape) -> Vec<f32> {
    let SequenceShape { batch, time, units } = shape;
    let columns = (time - 1) * batch;
    let mut out = vec![0.0; units * columns];
    for step in 1..time {
        for row in 0..batch {
            let h = &states[shape.batch_major(row, step - 1, units)..][..units];
            let column = (step - 1) * batch + row;
            for (j, &value) in h.iter().enumerate() {
                out[j * columns + column] = value;
            }
        }
    }
    out
}

/// Reorders a time-major [time, batch, width] buffer to batch-major [batch, time, width].
fn to_batch_major(time_major: &[f32], shape: SequenceShape, width: usize) -> Vec<f32> {
    let mut out = vec![0.0; time_major.len()];
    for step in 0..shape.time {
        for row in 0..shape.batch {
            out[shape.batch_major(row, step, width)..][..width]
                .copy_from_slice(&time_major[shape.time_major(step, row, width)..][..width]);
        }
    }
    out
}

/// What a backward pass reads: the recurrent kernel [u, g*u] and what the forward pass gave,
/// the states [batch, time, u] and the saved activations [time, batch, s*u].
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The recurrent kernel.
    pub recurrent: &'a [f32],
    /// The state after every step.
    pub states: &'a [f32],
    /// The activations the forward pass saved.
    pub saved: &'a [f32],
    /// Sizes of the sequence.
    pub shape: SequenceShape,
}

/// An LSTM over a sequence (Keras's gates i, f, c, o; zero initial state).
///
/// Returns the states [batch, time, u] and the saved activations [time, batch, 5u].
pub fn lstm_forward<G: Gemm>(
    projected: &[f32],
    recurrent: &[f32],
    shape: SequenceShape,
    gemm: &G,
) -> (Vec<f32>, Vec<f32>) {
    let SequenceShape {
        batch,
        time,
        units: u,
    } = shape;
    let gates = 4 * u;
    let saved_width = LSTM_SAVED * u;
    let mut states = vec![0.0f32; batch * time * u];
    let mut saved = vec![0.0f32; time * batch * saved_width];
    let recurrent = gemm.matrix(recurrent, u, gates);
    let mut h = vec![0.0f32; batch * u];
    for step in 0..time {
        // h_{t-1} R: [batch, 4u]; the state before the first step is zero.
        let from_state = (step > 0).then(|| gemm.times(&h, batch, &recurrent));
        for row in 0..batch {
            let x = &projected[shape.batch_major(row, step, gates)..][..gates];
            let (before, now) = saved.split_at_mut(shape.time_major(step, row, saved_width));
            let now = &mut now[..saved_width];
            let (a, c) = now.split_at_mut(gates);
            a.copy_from_slice(x);
            if let Some(from_state) = &from_state {
                for (a, r) in a.iter_mut().zip(&from_state[row * gates..][..gates]) {
                    *a += r;
                }
            }
            let (i, rest) = a.split_at_mut(u);
            let (f, rest) = rest.split_at_mut(u);
            let (g, o) = rest.split_at_mut(u);
            sigmoid_in_place(i);
            sigmoid_in_place(f);
            tanh_in_place(g);
            sigmoid_in_place(o);
            let h_row = &mut h[row * u..][..u];
            if step == 0 {
                for j in 0..u {
                    c[j] = i[j] * g[j];
                }
            } else {
                let c_prev = &before[shape.time_major(step - 1, row, saved_width) + gates..][..u];
                for j in 0..u {
                    c[j] = f[j] * c_prev[j] + i[j] * g[j];
                }
            }
            for j in 0..u {
                h_row[j] = o[j] * tanh_fast(c[j]);
            }
            states[shape.batch_major(row, step, u)..][..u].copy_from_slice(h_row);
        }
    }
    (states, saved)
}

/// The LSTM's backward pass: from the gradient of every state [batch, time, u], the gradients
/// of the projected inputs [batch, time, 4u] and of the recurrent kernel [u, 4u].
pub fn lstm_backward<G: Gemm>(
    grad_states: &[f32],
    recorded: Recorded,
    gemm: &G,
) -> (Vec<f32>, Vec<f32>) {
    let Recorded {
        recurrent,
        states,
        saved,
        shape,
    } = recorded;
    let SequenceShape {
        batch,
        time,
        units: u,
    } = shape;
    let gates = 4 * u;
    let saved_width = LSTM_SAVED * u;
    let recurrent_t = gemm.matrix(&transpose(recurrent, u, gates), gates, u);
    let mut d_gates = vec![0.0f32; time * batch * gates]; // time-major
    let mut dh = vec![0.0f32; batch * u];
    let mut dc = vec![0.0f32; batch * u];
    for step in (0..time).rev() {
        for row in 0..batch {
            let now = &saved[shape.time_major(step, row, saved_width)..][..saved_width];
            let (i, rest) = now.split_at(u);
            let (f, rest) = rest.split_at(u);
            let (g, rest) = rest.split_at(u);
            let (o, c) = rest.split_at(u);
            let zeros;
            let c_prev = if step == 0 {
                zeros = vec![0.0f32; u];
                &zeros[..]
            } else {
                &saved[shape.time_major(step - 1, row, saved_width) + gates..][..u]
            };
            let dh_row = &mut dh[row * u..][..u];
            let dc_row = &mut dc[row * u..][..u];
            for (d, grad) in dh_row
                .iter_mut()
                .zip(&grad_states[shape.batch_major(row, step, u)..][..u])
            {
                *d += grad;
            }
            let out = &mut d_gates[shape.time_major(step, row, gates)..][..gates];
            let (d_i, rest) = out.split_at_mut(u);
            let (d_f, rest) = rest.split_at_mut(u);
            let (d_g, d_o) = rest.split_at_mut(u);
            for j in 0..u {
                let tanh_c = tanh_fast(c[j]);
                let dc_total = dc_row[j] + dh_row[j] * o[j] * (1.0 - tanh_c * tanh_c);
                d_o[j] = dh_row[j] * tanh_c * o[j] * (1.0 - o[j]);
                d_i[j] = dc_total * g[j] * i[j] * (1.0 - i[j]);
                d_f[j] = dc_total * c_prev[j] * f[j] * (1.0 - f[j]);
                d_g[j] = dc_total * i[j] * (1.0 - g[j] * g[j]);
                dc_row[j] = dc_total * f[j];
            }
        }
        if step > 0 {
            let d_step = &d_gates[shape.time_major(step, 0, gates)..][..batch * gates];
            dh = gemm.times(d_step, batch, &recurrent_t);
        }
    }
    let d_recurrent = if time > 1 {
        let later = gemm.matrix(&d_gates[batch * gates..], (time - 1) * batch, gates);
        gemm.times(&previous_states_transposed(states, shape), u, &later)
    } else {
        vec![0.0; u * gates]
    };
    (to_batch_major(&d_gates, shape, gates), d_recurrent)
}

/// A GRU over a sequence (Keras's gates z, r, h with `reset_after=False`; zero initial state).
///
/// Returns the states [batch, time, u] and the saved activations [time, batch, 3u].
pub fn gru_forward<G: Gemm>(
    projected: &[f32],
    recurrent: &[f32],
    shape: SequenceShape,
    gemm: &G,
) -> (Vec<f32>, Vec<f32>) {
    let SequenceShape {
        batch,
        time,
        units: u,
    } = shape;
    let gates = 3 * u;
    let recurrent_zr = gemm.matrix(&columns(recurrent, gates, 0, 2 * u), u, 2 * u);
    let recurrent_h = gemm.matrix(&columns(recurrent, gates, 2 * u, u), u, u);
    let mut states = vec![0.0f32; batch * time * u];
    let mut saved = vec![0.0f32; time * batch * gates];
    let mut h = vec![0.0f32; batch * u];
    let mut reset_state = vec![0.0f32; batch * u];
    for step in 0..time {
        let from_state = (step > 0).then(|| gemm.times(&h, batch, &recurrent_zr));
        for row in 0..batch {
            let x = &projected[shape.batch_major(row, step, gates)..][..gates];
            let now = &mut saved[shape.time_major(step, row, gates)..][..gates];
            now[..2 * u].copy_from_slice(&x[..2 * u]);
            if let Some(from_state) = &from_state {
                for (a, r) in now[..2 * u]
                    .iter_mut()
                    .zip(&from_state[row * 2 * u..][..2 * u])
                {
                    *a += r;
                }
            }
            sigmoid_in_place(&mut now[..2 * u]);
            let r = &now[u..2 * u];
            for j in 0..u {
                reset_state[row * u + j] = r[j] * h[row * u + j];
            }
        }
        let candidate_from_state =
            (step > 0).then(|| gemm.times(&reset_state, batch, &recurrent_h));
        for row in 0..batch {
            let x = &projected[shape.batch_major(row, step, gates) + 2 * u..][..u];
            let now = &mut saved[shape.time_major(step, row, gates)..][..gates];
            let (zr, candidate) = now.split_at_mut(2 * u);
            candidate.copy_from_slice(x);
            if let Some(from_state) = &candidate_from_state {
                for (a, r) in candidate.iter_mut().zip(&from_state[row * u..][..u]) {
                    *a += r;
                }
            }
            tanh_in_place(candidate);
            let z = &zr[..u];
            let h_row = &mut h[row * u..][..u];
            for j in 0..u {
                h_row[j] = z[j] * h_row[j] + (1.0 - z[j]) * candidate[j];
            }
            states[shape.batch_major(row, step, u)..][..u].copy_from_slice(h_row);
        }
    }
    (states, saved)
}

/// The GRU's backward pass: from the gradient of every state [batch, time, u], the gradients
/// of the projected inputs [batch, time, 3u] and of the recurrent kernel [u, 3u].
pub fn gru_backward<G: Gemm>(
    grad_states: &[f32],
    recorded: Recorded,
    gemm: &G,
) -> (Vec<f32>, Vec<f32>) {
    let Recorded {
        recurrent,
        states,
        saved,
        shape,
    } = recorded;
    let SequenceShape {
        batch,
        time,
        units: u,
    } = shape;
    let gates = 3 * u;
    let recurrent_zr_t = transpose(&columns(recurrent, gates, 0, 2 * u), u, 2 * u); // [2u, u]
    let recurrent_zr_t = gemm.matrix(&recurrent_zr_t, 2 * u, u);
    let recurrent_h_t = transpose(&columns(recurrent, gates, 2 * u, u), u, u); // [u, u]
    let recurrent_h_t = gemm.matrix(&recurrent_h_t, u, u);
    let mut d_gates = vec![0.0f32; time * batch * gates]; // time-major
    let mut dh = vec![0.0f32; batch * u];
    // Per step: the reset state r * h_{t-1}, transposed for the kernel's gradient.
    let mut reset_states_t = vec![0.0f32; u * time.saturating_sub(1) * batch];
    let columns_all = time.saturating_sub(1) * batch;
    let mut d_zr = vec![0.0f32; batch * 2 * u];
    let mut d_candidate = vec![0.0f32; batch * u];
    for step in (0..time).rev() {
        for row in 0..batch {
            let now = &saved[shape.time_major(step, row, gates)..][..gates];
            let (z, rest) = now.split_at(u);
            let (_, candidate) = rest.split_at(u);
            let h_prev = (step > 0).then(|| &states[shape.batch_major(row, step - 1, u)..][..u]);
            let dh_row = &mut dh[row * u..][..u];
            for (d, grad) in dh_row
                .iter_mut()
                .zip(&grad_states[shape.batch_major(row, step, u)..][..u])
            {
                *d += grad;
            }
            let d_candidate_row = &mut d_candidate[row * u..][..u];
            let d_z = &mut d_zr[row * 2 * u..][..u];
            for j in 0..u {
                let previous = h_prev.map_or(0.0, |h| h[j]);
                d_candidate_row[j] = dh_row[j] * (1.0 - z[j]) * (1.0 - candidate[j] * candidate[j]);
                d_z[j] = dh_row[j] * (previous - candidate[j]) * z[j] * (1.0 - z[j]);
                // The direct path h_{t-1} -> h_t; the products below add the others.
                dh_row[j] *= z[j];
            }
        }
        if step > 0 {
            // d(r * h_{t-1}) = d_candidate U_h^T: [batch, u].
            let d_reset_state = gemm.times(&d_candidate, batch, &recurrent_h_t);
            for row in 0..batch {
                let now = &saved[shape.time_major(step, row, gates)..][..gates];
                let r = &now[u..2 * u];
                let h_prev = &states[shape.batch_major(row, step - 1, u)..][..u];
                let d_r = &mut d_zr[row * 2 * u + u..][..u];
                let column = (step - 1) * batch + row;
                for j in 0..u {
                    let d = d_reset_state[row * u + j];
                    d_r[j] = d * h_prev[j] * r[j] * (1.0 - r[j]);
                    dh[row * u + j] += d * r[j];
                    reset_states_t[j * columns_all + column] = r[j] * h_prev[j];
                }
            }
            let from_gates = gemm.times(&d_zr, batch, &recurrent_zr_t);
            for (d, extra) in dh.iter_mut().zip(&from_gates) {
                *d += extra;
            }
        } else {
            // Before the first step the state is zero: the reset gate has no effect.
            for row in 0..batch {
                d_zr[row * 2 * u + u..][..u].fill(0.0);
            }
        }
        for row in 0..batch {
            let out = &mut d_gates[shape.time_major(step, row, gates)..][..gates];
            out[..2 * u].copy_from_slice(&d_zr[row * 2 * u..][..2 * u]);
            out[2 * u..].copy_from_slice(&d_candidate[row * u..][..u]);
        }
    }
    let mut d_recurrent = vec![0.0f32; u * gates];
    if time > 1 {
        let later = &d_gates[batch * gates..]; // steps 1..time, [(time - 1) batch, 3u]
        let d_zr_later = columns(later, gates, 0, 2 * u);
        let d_candidate_later = columns(later, gates, 2 * u, u);
        let d_zr_later = gemm.matrix(&d_zr_later, columns_all, 2 * u);
        let d_candidate_later = gemm.matrix(&d_candidate_later, columns_all, u);
        let d_u_zr = gemm.times(&previous_states_transposed(states, shape), u, &d_zr_later);
        let d_u_h = gemm.times(&reset_states_t, u, &d_candidate_later);
        for j in 0..u {
            d_recurrent[j * gates..][..2 * u].copy_from_slice(&d_u_zr[j * 2 * u..][..2 * u]);
            d_recurrent[j * gates + 2 * u..][..u].copy_from_slice(&d_u_h[j * u..][..u]);
        }
    }
    (to_batch_major(&d_gates, shape, gates), d_recurrent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_fast_is_within_a_few_ulp_of_tanh() {
        let mut worst = 0.0f32;
        for k in -200_000..=200_000 {
            let x = k as f32 / 10_000.0; // -20..20
            let err = (tanh_fast(x) - x.tanh()).abs();
            worst = worst.max(err);
        }
        assert!(worst < 5e-7, "worst error {worst}");
        assert_eq!(tanh_fast(1e-6), 1e-6);
        assert_eq!(tanh_fast(f32::INFINITY), 1.0);
        assert_eq!(tanh_fast(-50.0), -1.0);
        assert!(tanh_fast(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_fast_matches_the_logistic_function() {
        for k in -2_000..=2_000 {
            let x = k as f32 / 100.0;
            let exact = 1.0 / (1.0 + (-x as f64).exp());
            let err = (sigmoid_fast(x) as f64 - exact).abs();
            assert!(err < 3e-7, "sigmoid({x}): error {err}");
        }
    }

    #[test]
    fn previous_states_line_up_with_later_steps() {
        let shape = SequenceShape {
            batch: 2,
            time: 3,
            units: 2,
        };
        // states[b, t, j] = 100 b + 10 t + j
        let states: Vec<f32> = (0..2)
            .flat_map(|b| {
                (0..3).flat_map(move |t| (0..2).map(move |j| (100 * b + 10 * t + j) as f32))
            })
            .collect();
        let out = previous_states_transposed(&states, shape);
        // Columns: (step 1, row 0), (step 1, row 1), (step 2, row 0), (step 2, row 1).
        assert_eq!(out, vec![0.0, 100.0, 10.0, 110.0, 1.0, 101.0, 11.0, 111.0]);
    }
}
