//! Data parallelism across devices: a batch split into one shard per device, each shard's
//! forward and backward pass on its own thread and device, the gradients summed on the main
//! device with burn's `GradientsAccumulator` (as burn-train's multi-device strategy does) and
//! one optimizer step.
//!
//! burn 0.22.1's collective `all_reduce` (`burn::tensor::distributed`, what burn-train's DDP
//! strategy syncs gradients with) has a transport between devices only for CUDA (NCCL) and
//! remote devices: on the CPU (flex, ndarray) and wgpu devices `DistributedContext::init` and
//! `all_reduce` panic ("Distributed operations are not supported for device Flex(Cpu)").
//! Summing on the main device is what burn offers on those devices.
//!
//! Each shard's loss is weighted by its share of the batch (and the L2 penalty likewise), so
//! the summed gradient is the whole batch's: the curve matches the single-device run up to
//! float summation order. Dropout masks come from a seed per shard.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};

use super::loss::{l2_penalty, L2Mode, LossKind};
use super::score::batch_score;
use crate::data::Dataset;
use crate::device::with_device_rng;
use crate::model::{Activation, InputKind, Model};

/// What every shard of a step shares.
pub(super) struct Shards<'a> {
    /// The training set.
    pub data: &'a Dataset,
    /// How the model reads an example.
    pub input: InputKind,
    /// Cost function.
    pub loss: LossKind,
    /// Output activation.
    pub activation: Activation,
    /// L2 coefficients of the dense layers.
    pub l2: &'a [f64],
    /// How L2 acts.
    pub l2_mode: L2Mode,
    /// Whether the forward pass draws dropout masks.
    pub stochastic: bool,
    /// The batch's dropout seed (each shard derives its own from it).
    pub batch_seed: u64,
}

/// A step's gradients (on the main device) and its device-side metrics.
pub(super) struct ShardedStep {
    /// The whole batch's gradients.
    pub grads: GradientsParams,
    /// Loss times examples.
    pub loss_sum: Tensor<1>,
    /// Examples classified right, or the squared errors on a regression set.
    pub score: Tensor<1>,
}

/// The `devices.len()` contiguous shards of `indices`, as even as can be (the first ones one
/// longer); empty shards are left out.
pub(super) fn shards(indices: &[usize], devices: usize) -> Vec<&[usize]> {
    let n = devices.max(1);
    let (size, extra) = (indices.len() / n, indices.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let len = size + usize::from(i < extra);
        if len > 0 {
            out.push(&indices[start..start + len]);
        }
        start += len;
    }
    out
}

impl Shards<'_> {
    /// Trains the batch `indices` of `model` (on `devices[0]`, the main device) in one shard
    /// per device, each on its own thread.
    pub fn step(&self, model: &Model, indices: &[usize], devices: &[Device]) -> ShardedStep {
        let main = &devices[0];
        let total = indices.len() as f64;
        let parts = shards(indices, devices.len());
        let results: Vec<(GradientsParams, Tensor<1>, Tensor<1>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .zip(devices)
                .enumerate()
                .map(|(shard, (part, device))| {
                    let model = model.clone();
                    scope.spawn(move || {
                        self.shard(model, part, device, shard, part.len() as f64 / total)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(result) => result,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
        let mut accumulator = GradientsAccumulator::<Model>::new();
        let mut loss_sum: Option<Tensor<1>> = None;
        let mut score: Option<Tensor<1>> = None;
        for (grads, loss, right) in results {
            accumulator.accumulate(model, grads.to_device(main, model));
            let (loss, right) = (loss.to_device(main), right.to_device(main));
            loss_sum = Some(loss_sum.map_or(loss.clone(), |s| s + loss));
            score = Some(score.map_or(right.clone(), |c| c + right));
        }
        ShardedStep {
            grads: accumulator.grads(),
            loss_sum: loss_sum.expect("a batch has at least one example"),
            score: score.expect("a batch has at least one example"),
        }
    }

    /// One shard's gradients of its weighted loss, that loss times the batch size, and its
    /// score (see [`batch_score`]), on `device`.
    fn shard(
        &self,
        model: Model,
        indices: &[usize],
        device: &Device,
        shard: usize,
        share: f64,
    ) -> (GradientsParams, Tensor<1>, Tensor<1>) {
        // A copy of the weights on this device, with its own graph.
        let model = model.fork(device);
        let batch = self.data.batch(indices, self.input, device);
        let logits = if self.stochastic {
            let seed = self.batch_seed ^ (shard as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            with_device_rng(device, Some(seed), || model.forward(batch.input))
        } else {
            model.forward(batch.input)
        };
        let mut loss = self.loss.forward(
            logits.clone(),
            &batch.label_values,
            batch.targets.as_deref(),
            self.activation,
        );
        if let Some(penalty) = l2_penalty(model.dense_weights(), self.l2, self.l2_mode) {
            loss = loss + penalty;
        }
        let weighted = loss.mul_scalar(share);
        let correct = batch_score(
            logits.detach(),
            batch.labels,
            batch.targets.as_deref(),
            self.activation,
        );
        let loss_sum = weighted
            .clone()
            .detach()
            .mul_scalar(indices.len() as f64 / share);
        let grads = GradientsParams::from_grads(weighted.backward(), &model);
        (grads, loss_sum, correct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_batch_in_order_as_evenly_as_can_be() {
        let indices: Vec<usize> = (10..17).collect();
        assert_eq!(
            shards(&indices, 3),
            vec![&[10, 11, 12][..], &[13, 14][..], &[15, 16][..]]
        );
        assert_eq!(shards(&indices, 1), vec![&indices[..]]);
        // More devices than examples: the empty shards are left out.
        assert_eq!(shards(&indices[..2], 4), vec![&[10][..], &[11][..]]);
    }
}
