//! Which device trains a model faster here: a short measurement of each (a warm-up batch,
//! then batches for a fraction of a second), kept per model shape so that it is made once.
//!
//! A small model can train far slower on a GPU than on the CPU (per-example SGD on tinyTOY:
//! about 7 samples/s on a CPU-emulated WebGPU adapter, 20,000 on the wasm CPU device), and a
//! large one far faster; only measuring tells which on a given machine. The clock is passed in:
//! `std::time::Instant` does not exist in the browser.

use serde::{Deserialize, Serialize};

use super::compute_pool::SharedPool;
use super::trainer::TrainError;
use super::training_run::TrainingRun;
use crate::data::{Dataset, TrainingData};
use crate::run::RunConfig;
use crate::DeviceChoice;
use burn::tensor::Device;

/// Training examples a measurement trains on at most: enough that no epoch ends (and
/// evaluates) within it for any batch size the measurement reaches, few enough to copy fast.
const MEASURED_EXAMPLES: usize = 4096;
/// A warm-up batch this many measuring budgets long ends the measurement of its device.
const SLOW_WARM_UP: f64 = 5.0;

/// How fast one device trained a model.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DeviceSpeed {
    /// The device.
    pub device: DeviceChoice,
    /// Samples/s after the warm-up batch; `None` when it could not train (the reason says why).
    pub samples_per_second: Option<f64>,
    /// Why the device could not train, when it could not.
    #[serde(default)]
    pub failure: Option<String>,
    /// The threads the CPU device trained on (None for WebGPU, and for figures kept before
    /// the CPU had threads: one).
    #[serde(default)]
    pub threads: Option<u32>,
}

impl DeviceSpeed {
    /// "CPU, 2 threads", "CPU, 1 thread" or the device's own label.
    pub fn label(&self) -> String {
        match (self.device, self.threads) {
            (DeviceChoice::Cpu, Some(n)) => format!("CPU, {}", threads_label(n)),
            (device, _) => device.label().into(),
        }
    }
}

/// "1 thread", "2 threads".
pub fn threads_label(threads: u32) -> String {
    match threads {
        1 => "1 thread".into(),
        n => format!("{n} threads"),
    }
}

/// The speeds of the devices measured for one model shape ([`speed_key`]).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DeviceSpeeds {
    /// The model shape measured.
    pub key: String,
    /// One entry per device tried, in the order tried.
    pub speeds: Vec<DeviceSpeed>,
}

impl DeviceSpeeds {
    /// The device that trained fastest (the CPU when none trained).
    pub fn fastest(&self) -> DeviceChoice {
        self.fastest_figure()
            .map_or(DeviceChoice::Cpu, |s| s.device)
    }

    /// The threads of the CPU's fastest figure, when the CPU was measured with a count of
    /// threads (the browser worker's threaded build tries one thread and all of them).
    pub fn fastest_cpu_threads(&self) -> Option<u32> {
        Self::fastest_of(self.speeds.iter().filter(|s| s.device == DeviceChoice::Cpu))
            .and_then(|s| s.threads)
    }

    /// The figure of the device that trained fastest, if any trained.
    fn fastest_figure(&self) -> Option<&DeviceSpeed> {
        Self::fastest_of(self.speeds.iter())
    }

    /// The fastest of `speeds` that trained, if any.
    fn fastest_of<'a>(speeds: impl Iterator<Item = &'a DeviceSpeed>) -> Option<&'a DeviceSpeed> {
        speeds
            .filter(|s| s.samples_per_second.is_some())
            .max_by(|a, b| {
                let speed = |s: &DeviceSpeed| s.samples_per_second.unwrap_or(-1.0);
                speed(a).total_cmp(&speed(b))
            })
    }

    /// The figures for people, fastest first: "CPU: 19,500 samples/s · WebGPU: 4,100", or
    /// with the CPU's threads "CPU, 2 threads: 29,000 samples/s · CPU, 1 thread: 19,500".
    pub fn summary(&self) -> String {
        let mut speeds: Vec<&DeviceSpeed> = self.speeds.iter().collect();
        speeds.sort_by(|a, b| {
            b.samples_per_second
                .unwrap_or(-1.0)
                .total_cmp(&a.samples_per_second.unwrap_or(-1.0))
        });
        speeds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let figure = match (s.samples_per_second, &s.failure) {
                    (Some(v), _) if i == 0 => format!("{} samples/s", thousands(v)),
                    (Some(v), _) => thousands(v),
                    (None, Some(why)) => format!("failed ({why})"),
                    (None, None) => "failed".into(),
                };
                format!("{}: {figure}", s.label())
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// `v` rounded, with thousands separated by commas (19,500): the summary's own formatting.
fn thousands(v: f64) -> String {
    crate::model::summary::thousands(v.max(0.0).round() as u64)
}

/// What sets how fast a run trains on a device: the engine, the model (its layers and input
/// shape), the batch size and what the examples are. Not the seed, the learning rate, the
/// epochs or the number of examples, which change the time a run takes but not its speed.
/// Nor the machine, but the threads the CPU device may use here (`cpu_threads`): figures
/// made with one thread say nothing of two. `figures` names what the figures hold (since 2:
/// the CPU on one thread and on all of them), so that figures kept before are measured anew.
pub fn speed_key(config: &RunConfig, cpu_threads: u32) -> String {
    let shape = serde_json::json!({
        "figures": 2,
        "threads": cpu_threads,
        "engine": config.engine,
        "model": config.model,
        "batch": config.training.batch_size,
        "data": config.dataset.input_description(),
        "image": config.dataset.image_size(),
    });
    kindling_formats::manifest::sha256_hex(shape.to_string().as_bytes())[..16].to_string()
}

/// The data a measurement trains on: the first training examples (at most
/// [`MEASURED_EXAMPLES`]), and one batch of them as the held-out set.
pub fn measurement_data(data: &TrainingData, batch_size: usize) -> TrainingData {
    let n = data.train.len().min(MEASURED_EXAMPLES);
    let indices: Vec<usize> = (0..n).collect();
    let train = data.train.select(&indices, "measured");
    let eval = train.select(&indices[..n.min(batch_size.max(1))], "measured held out");
    TrainingData {
        train,
        eval,
        validation: None,
    }
}

/// Samples/s of `config`'s run on `device`, its tensor work inside `pool` when there is one
/// ([`TrainingRun::set_pool`]): one warm-up batch (shader compilation, first
/// allocations), then batches until `budget_ms` have passed by `now_ms` (at least two), ended
/// by a read-back so the device's queued work is counted. A warm-up batch that alone takes
/// over [`SLOW_WARM_UP`] budgets gives the figure by itself (a device that slow loses anyway,
/// and the user is not kept waiting). A run that stops training while measured (its loss
/// diverged) is an error: no figure is made of it.
pub async fn measure_speed(
    config: &RunConfig,
    data: TrainingData,
    (device, pool): (&Device, Option<SharedPool>),
    now_ms: &dyn Fn() -> f64,
    budget_ms: f64,
) -> Result<f64, TrainError> {
    let mut config = config.clone();
    config.training.epochs = 1_000;
    // Speed is measured on the run's settings as configured, not as a steered run changes them.
    config.training.steering.clear();
    let probe: Dataset = data.eval.select(&[0], "probe");
    let mut run = TrainingRun::new(&config, data, device)?;
    run.set_pool(pool);
    let warm_up_start = now_ms();
    run.step().await?;
    run.probabilities(&probe).await?;
    let seen = run.progress().samples_seen;
    let start = now_ms();
    if start - warm_up_start > SLOW_WARM_UP * budget_ms {
        return Ok(seen as f64 / ((start - warm_up_start) / 1000.0).max(1e-6));
    }
    let mut batches = 0;
    while batches < 2 || now_ms() - start < budget_ms {
        if *run.state() != super::TrainerState::Running {
            return Err(TrainError::Data(
                "the run stopped training while its speed was measured (its loss diverged?)".into(),
            ));
        }
        run.step().await?;
        batches += 1;
    }
    run.probabilities(&probe).await?;
    let seconds = (now_ms() - start) / 1000.0;
    let samples = run.progress().samples_seen - seen;
    Ok(samples as f64 / seconds.max(1e-6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ImageSubset;

    #[test]
    fn the_key_changes_with_the_model_and_batch_not_with_rates_seeds_or_epochs() {
        let base = RunConfig::preset("mlp-keras").unwrap();
        let key = speed_key(&base, 1);
        let mut same = base.clone();
        same.training.seed += 1;
        same.training.epochs += 3;
        same.training.optimizer.learning_rate *= 2.0;
        same.dataset = crate::DatasetConfig::Mnist(ImageSubset::new().with_train_size(1000));
        assert_eq!(speed_key(&same, 1), key);
        let mut batch = base.clone();
        batch.training.batch_size += 1;
        assert_ne!(speed_key(&batch, 1), key);
        let other_model = RunConfig::preset("mlp-3layer").unwrap();
        assert_ne!(speed_key(&other_model, 1), key);
        assert_ne!(
            speed_key(&base, 2),
            key,
            "figures of one thread say nothing of two"
        );
        let tiny = RunConfig::preset("tinymnist-hw1").unwrap();
        assert_ne!(
            speed_key(&tiny, 1),
            speed_key(&RunConfig::preset("tinytoy-hw1").unwrap(), 1)
        );
    }

    #[test]
    fn the_fastest_device_that_trained_wins_and_the_summary_says_so() {
        let speeds = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![
                DeviceSpeed {
                    device: DeviceChoice::Wgpu,
                    samples_per_second: Some(4100.4),
                    failure: None,
                    threads: None,
                },
                DeviceSpeed {
                    device: DeviceChoice::Cpu,
                    samples_per_second: Some(19_500.0),
                    failure: None,
                    threads: None,
                },
            ],
        };
        assert_eq!(speeds.fastest(), DeviceChoice::Cpu);
        assert_eq!(speeds.summary(), "CPU: 19,500 samples/s · WebGPU: 4,100");
        let gpu_failed = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![
                DeviceSpeed {
                    device: DeviceChoice::Cpu,
                    samples_per_second: Some(7.0),
                    failure: None,
                    threads: None,
                },
                DeviceSpeed {
                    device: DeviceChoice::Wgpu,
                    samples_per_second: None,
                    failure: Some("device lost".into()),
                    threads: None,
                },
            ],
        };
        assert_eq!(gpu_failed.fastest(), DeviceChoice::Cpu);
        assert!(gpu_failed
            .summary()
            .ends_with("WebGPU: failed (device lost)"));
        let none = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![],
        };
        assert_eq!(none.fastest(), DeviceChoice::Cpu);
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }

    #[test]
    fn a_cpu_figure_names_its_threads_when_it_has_several() {
        let figure = |device, threads, v: Option<f64>| DeviceSpeed {
            device,
            samples_per_second: v,
            failure: v.is_none().then(|| "device lost".to_string()),
            threads,
        };
        let threaded = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![
                figure(DeviceChoice::Cpu, Some(2), Some(29_000.0)),
                figure(DeviceChoice::Wgpu, None, Some(4_100.0)),
            ],
        };
        assert_eq!(threaded.fastest(), DeviceChoice::Cpu);
        assert_eq!(
            threaded.summary(),
            "CPU, 2 threads: 29,000 samples/s · WebGPU: 4,100"
        );
        let one = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![
                figure(DeviceChoice::Wgpu, None, Some(40_000.0)),
                figure(DeviceChoice::Cpu, Some(1), None),
            ],
        };
        assert_eq!(one.fastest(), DeviceChoice::Wgpu);
        assert_eq!(
            one.summary(),
            "WebGPU: 40,000 samples/s · CPU, 1 thread: failed (device lost)"
        );
        assert_eq!(one.fastest_cpu_threads(), None, "no CPU figure trained");
        assert_eq!(threaded.fastest_cpu_threads(), Some(2));
    }

    /// The threaded worker measures the CPU on one thread and on all of them: the faster
    /// count is the run's, even when it is one (a first visit, small products).
    #[test]
    fn the_faster_thread_count_is_chosen_even_when_it_is_one() {
        let cpu = |threads, v| DeviceSpeed {
            device: DeviceChoice::Cpu,
            samples_per_second: Some(v),
            failure: None,
            threads: Some(threads),
        };
        let mut speeds = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![cpu(1, 18_848.0), cpu(2, 15_385.0)],
        };
        assert_eq!(speeds.fastest(), DeviceChoice::Cpu);
        assert_eq!(speeds.fastest_cpu_threads(), Some(1));
        assert_eq!(
            speeds.summary(),
            "CPU, 1 thread: 18,848 samples/s · CPU, 2 threads: 15,385"
        );
        speeds.speeds[1].samples_per_second = Some(20_000.0);
        assert_eq!(speeds.fastest_cpu_threads(), Some(2));
        let kept_before_threads = DeviceSpeeds {
            key: "k".into(),
            speeds: vec![DeviceSpeed {
                threads: None,
                ..cpu(1, 7.0)
            }],
        };
        assert_eq!(kept_before_threads.fastest_cpu_threads(), None);
    }

    #[test]
    fn a_device_whose_warm_up_batch_is_very_slow_is_measured_by_it_alone() {
        let config = RunConfig::preset("spiral-mlp").unwrap();
        let crate::DatasetConfig::Toy(toy) = &config.dataset else {
            panic!("a toy preset")
        };
        let data = measurement_data(&toy.generate(), config.training.batch_size);
        // A clock on which every reading is a second after the last: the warm-up batch takes
        // a second, twenty budgets of 50 ms.
        let ticks = std::cell::Cell::new(0.0);
        let clock = || {
            ticks.set(ticks.get() + 1000.0);
            ticks.get()
        };
        let speed = measured_on_the_cpu(&config, data, &clock);
        assert_eq!(
            speed, config.training.batch_size as f64,
            "one batch in one second"
        );
    }

    /// `measure_speed` on the CPU device, 50 ms of budget by `clock`.
    fn measured_on_the_cpu(config: &RunConfig, data: TrainingData, clock: &dyn Fn() -> f64) -> f64 {
        crate::block_on(measure_speed(
            config,
            data,
            (&Device::flex(), None),
            clock,
            50.0,
        ))
        .unwrap()
    }

    #[test]
    fn a_measurement_trains_the_run_and_counts_its_samples() {
        let config = RunConfig::preset("tinytoy-hw1").unwrap();
        let crate::DatasetConfig::Toy(toy) = &config.dataset else {
            panic!("a toy preset")
        };
        let data = measurement_data(&toy.generate(), config.training.batch_size);
        assert!(data.train.len() <= MEASURED_EXAMPLES);
        assert_eq!(
            data.eval.len(),
            config.training.batch_size.min(data.train.len())
        );
        let start = std::time::Instant::now();
        let clock = move || start.elapsed().as_secs_f64() * 1000.0;
        let speed = measured_on_the_cpu(&config, data, &clock);
        assert!(speed.is_finite() && speed > 0.0, "{speed}");
    }
}
