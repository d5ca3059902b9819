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
    let mut training = config.training.clone();
    training.readback_every = plan.batches.max(1);
    training.epochs = 1_000_000;
    let mut trainer = Trainer::new(&config.model, &training, data, device)?;
    for _ in 0..plan.warmup {
        crate::block_on(trainer.step())?;
    }
    let mut windows = Vec::with_capacity(plan.windows);
    for _ in 0..plan.windows.max(1) {
        let start = Instant::now();
        for _ in 0..plan.batches.max(1) {
            crate::block_on(trainer.step())?;
        }
        // Wait for the device to finish the window's work before stopping the clock.
        if let Some(w) = trainer.model().dense_weights().pop() {
            crate::block_on(crate::device::read_f32s(w.sum())).map_err(TrainError::Device)?;
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
}
