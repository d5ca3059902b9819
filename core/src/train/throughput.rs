//! Training throughput, measured the same way for every benchmark: samples/s after warm-up
//! batches, the median of several timed windows, each ending with a value read back from the
//! device (so queued work is counted).

use std::time::Instant;

use burn::tensor::Device;

use super::trainer::{TrainError, Trainer};
use crate::data::TrainingData;
use crate::run::RunConfig;

/// A throughput measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    /// Median samples/s over the windows.
    pub median: f64,
    /// Samples/s of every window, in order.
    pub windows: Vec<f64>,
    /// Examples per batch.
    pub batch_size: usize,
    /// Windows measured again because an epoch ended in them (evaluation is not training).
    pub remeasured: usize,
}

/// How long a measurement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchPlan {
    /// Batches trained before timing.
    pub warmup: usize,
    /// Timed windows.
    pub windows: usize,
    /// Batches per window.
    pub batches: usize,
}

/// Trains `config`'s model on `data` (epochs unlimited) and measures its throughput.
pub fn measure_throughput(
    config: &RunConfig,
    data: TrainingData,
    device: &Device,
    plan: BenchPlan,
) -> Result<Throughput, TrainError> {
    measure_data_parallel(config, data, device, &[], plan)
}

/// [`measure_throughput`] with every batch split across `device` and `others` (see
/// [`Trainer::set_data_parallel`]).
pub fn measure_data_parallel(
    config: &RunConfig,
    data: TrainingData,
    device: &Device,
    others: &[Device],
    plan: BenchPlan,
) -> Result<Throughput, TrainError> {
    let mut training = config.training.clone();
    training.readback_every = plan.batches.max(1);
    training.epochs = 1_000_000;
    training.steering.clear();
    let mut trainer = Trainer::new(&config.model, &training, data, device)?;
    trainer.set_data_parallel(others);
    for _ in 0..plan.warmup {
        crate::block_on(trainer.step())?;
    }
    let mut windows = Vec::with_capacity(plan.windows);
    // A window in which an epoch ends also evaluates the held-out set (and may train a
    // shorter last batch): it is measured again, unless epochs are shorter than windows.
    let mut retries = plan.windows.max(1);
    let mut remeasured = 0;
    while windows.len() < plan.windows.max(1) {
        let start = Instant::now();
        let mut epoch_ended = false;
        for _ in 0..plan.batches.max(1) {
            epoch_ended |= crate::block_on(trainer.step())?.epoch_end.is_some();
        }
        // Wait for the device to finish the window's work before stopping the clock.
        if let Some(w) = trainer.model().dense_weights().pop() {
            crate::block_on(crate::device::read_f32s(w.sum())).map_err(TrainError::Device)?;
        }
        if epoch_ended && retries > 0 {
            retries -= 1;
            remeasured += 1;
            continue;
        }
        windows.push(
            (plan.batches.max(1) * training.batch_size) as f64 / start.elapsed().as_secs_f64(),
        );
    }
    let mut sorted = windows.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Throughput {
        median: sorted[sorted.len() / 2],
        windows,
        batch_size: training.batch_size,
        remeasured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_is_measured_per_window() {
        let config = RunConfig::preset("spiral-mlp").unwrap();
        let crate::DatasetConfig::Toy(toy) = &config.dataset else {
            panic!("a toy preset")
        };
        let plan = BenchPlan {
            warmup: 2,
            windows: 3,
            batches: 4,
        };
        let t = measure_throughput(&config, toy.generate(), &Device::flex(), plan).unwrap();
        assert_eq!(t.windows.len(), 3);
        assert!(t.windows.iter().all(|r| r.is_finite() && *r > 0.0), "{t:?}");
        assert!(t.windows.contains(&t.median));
        assert_eq!(t.batch_size, config.training.batch_size);
    }

    #[test]
    fn windows_with_an_epoch_end_are_measured_again() {
        let config = RunConfig::preset("spiral-mlp").unwrap();
        let crate::DatasetConfig::Toy(toy) = &config.dataset else {
            panic!("a toy preset")
        };
        let data = toy.generate();
        let batches_per_epoch = data.train.len().div_ceil(config.training.batch_size);
        // Windows of half an epoch: every second one holds the epoch's end.
        let plan = BenchPlan {
            warmup: 0,
            windows: 3,
            batches: batches_per_epoch / 2,
        };
        let t = measure_throughput(&config, data.clone(), &Device::flex(), plan).unwrap();
        assert_eq!(t.windows.len(), 3);
        assert!(t.remeasured >= 1, "{t:?}");
        // Epochs shorter than a window: every window holds one; after as many retries as
        // windows the measurement takes them as they are rather than never ending.
        let plan = BenchPlan {
            warmup: 0,
            windows: 2,
            batches: batches_per_epoch + 1,
        };
        let t = measure_throughput(&config, data, &Device::flex(), plan).unwrap();
        assert_eq!((t.windows.len(), t.remeasured), (2, 2), "{t:?}");
    }
}
