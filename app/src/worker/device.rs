//! The device a run trains on: WebGPU detection, opening the GPU once, and the fall back to the
//! CPU (with a note for the page) when WebGPU is missing or failed.

use burn::tensor::Device;
use kindling_core::data::TrainingData;
use kindling_core::run::Engine;
use kindling_core::train::{
    measure_speed, measurement_data, speed_key, DeviceSpeed, DeviceSpeeds, SharedPool, ThreadTrial,
    TrainError, TrainerState,
};
use kindling_core::{DeviceChoice, RunConfig};

use super::host::{now_ms, post};
use super::Actor;
use crate::protocol::FromWorker;

/// Milliseconds of timed training per device when measuring which is faster (after a
/// warm-up batch): long enough to average a few batches of a small model, short enough that
/// the user barely waits (once per model shape; the page keeps the figures).
const MEASURE_MS: f64 = 300.0;

/// Whether `navigator.gpu.requestAdapter()` gives an adapter here (never in a build without
/// WebGPU: the threaded one).
#[cfg(not(feature = "gpu"))]
pub(super) async fn webgpu_adapter_exists() -> bool {
    false
}

/// Whether `navigator.gpu.requestAdapter()` gives an adapter here.
#[cfg(feature = "gpu")]
pub(super) async fn webgpu_adapter_exists() -> bool {
    crate::browser_offers::webgpu_adapter_exists().await
}

impl Actor {
    /// The device for `choice`, opening WebGPU once; falls back to the CPU with a note.
    pub(super) async fn device(
        &mut self,
        choice: DeviceChoice,
    ) -> (Device, DeviceChoice, Option<String>) {
        match choice {
            DeviceChoice::Wgpu => self.gpu_or_cpu().await,
            DeviceChoice::Ndarray => {
                #[allow(deprecated)]
                let device = Device::ndarray();
                (device, DeviceChoice::Ndarray, None)
            }
            DeviceChoice::Cpu => (self.cpu.clone(), DeviceChoice::Cpu, None),
        }
    }

    /// The WebGPU device (opened on the first call), else the CPU with the reason why.
    async fn gpu_or_cpu(&mut self) -> (Device, DeviceChoice, Option<String>) {
        if !self.webgpu {
            return self.cpu_instead(
                "This browser offers no WebGPU adapter: training on the CPU \
                 (WebAssembly with SIMD) instead."
                    .into(),
            );
        }
        if let Some(why) = &self.gpu_failure {
            let note = format!("WebGPU failed earlier ({why}): training on the CPU.");
            return self.cpu_instead(note);
        }
        if self.gpu.is_none() {
            match DeviceChoice::Wgpu.open_async().await {
                Ok(device) => self.gpu = Some(device),
                Err(e) => {
                    self.gpu_failure = Some(e.to_string());
                    return self.cpu_instead(format!("{e}: training on the CPU instead."));
                }
            }
        }
        let gpu = self.gpu.clone().expect("opened above");
        (gpu, DeviceChoice::Wgpu, None)
    }

    /// Measures how fast `config`'s model trains on each device this browser offers: the CPU
    /// (on one thread) and WebGPU, when there is an adapter that has not failed. Without one,
    /// nothing is measured here: the CPU's threads are tried by the run itself
    /// ([`Actor::cpu_pool`]).
    pub(super) async fn measure_devices(
        &mut self,
        run_id: u64,
        config: &RunConfig,
        data: &TrainingData,
    ) -> DeviceSpeeds {
        let mut speeds = DeviceSpeeds {
            key: speed_key(config, self.threads.available),
            speeds: Vec::new(),
        };
        let gpu = self.webgpu && self.gpu_failure.is_none();
        if !gpu {
            return speeds;
        }
        post(&FromWorker::MeasuringDevices { run_id });
        let sample = measurement_data(data, config.training.batch_size);
        let measured = measure_speed(
            config,
            sample.clone(),
            (&self.cpu, None),
            &now_ms,
            MEASURE_MS,
        )
        .await
        .map_err(|e| e.to_string());
        speeds.speeds.push(figure(DeviceChoice::Cpu, measured));
        let (device, used, note) = self.device(DeviceChoice::Wgpu).await;
        let measured = if used != DeviceChoice::Wgpu {
            Err(note.unwrap_or_else(|| "not available".into()))
        } else {
            match measure_speed(config, sample, (&device, None), &now_ms, MEASURE_MS).await {
                Ok(v) => Ok(v),
                Err(e @ TrainError::Device(_)) => {
                    // A failing GPU is not used by this run or the next: they go to the
                    // CPU.
                    self.gpu = None;
                    self.gpu_failure = Some(e.to_string());
                    Err(e.to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        };
        speeds.speeds.push(figure(DeviceChoice::Wgpu, measured));
        speeds
    }

    /// The pool a run of `config` would train in on the CPU: the worker's, for the autodiff
    /// engine (the hand-written one trains on the worker's own thread).
    fn pool_for(&self, config: &RunConfig) -> Option<SharedPool> {
        self.pool
            .clone()
            .filter(|_| config.engine == Engine::Autodiff)
    }

    /// How a run of `config` on the CPU uses the pool: all of its threads or the worker's own
    /// thread alone, by `speeds` when they hold CPU figures per thread count, else by the
    /// choice made this session for its model shape; else a trial, the run's first batches
    /// taking turns on both ([`ThreadTrial`]). The pool to train in now (`None`: the worker's
    /// thread), its threads, and the trial.
    pub(super) fn cpu_pool(
        &self,
        config: &RunConfig,
        speeds: Option<&DeviceSpeeds>,
    ) -> (Option<SharedPool>, u32, Option<ThreadTrial>) {
        let Some(pool) = self.pool_for(config) else {
            return (None, 1, None);
        };
        let key = speed_key(config, self.threads.available);
        let known = speeds
            .filter(|s| s.key == key)
            .and_then(DeviceSpeeds::fastest_cpu_threads)
            .or_else(|| self.thread_choices.get(&key).copied());
        match known {
            Some(threads) if threads > 1 => (Some(pool), threads, None),
            Some(_) => (None, 1, None),
            None => {
                let trial = ThreadTrial::new(key, pool.threads() as u32);
                (None, 1, Some(trial))
            }
        }
    }

    /// Counts a stretch of training of the current run in its thread trial, if it has one:
    /// the next turn's pool, and at the end of the trial (or of the run) the threads it keeps,
    /// told to the page with `ThreadsPicked`.
    pub(super) fn count_trial_turn(&mut self, samples: usize, ms: f64) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let Some(trial) = c.thread_trial.as_mut() else {
            return;
        };
        let decided = trial.record(samples, ms).is_some();
        let ended = *c.run.state() != TrainerState::Running;
        if !(decided || ended) {
            c.run
                .set_pool(trial.pooled().then(|| self.pool.clone()).flatten());
            return;
        }
        let threads = trial.threads_to_keep();
        let figures = trial.figures();
        let measured = figures
            .speeds
            .iter()
            .all(|s| s.samples_per_second.is_some());
        if trial.is_done() {
            self.thread_choices.insert(figures.key.clone(), threads);
        }
        c.thread_trial = None;
        c.run
            .set_pool((threads > 1).then(|| self.pool.clone()).flatten());
        post(&FromWorker::ThreadsPicked {
            run_id: c.run_id,
            cpu_threads: threads,
            speeds: measured.then_some(figures),
        });
    }

    /// The CPU, with `note` saying why it stands in for the GPU.
    fn cpu_instead(&self, note: String) -> (Device, DeviceChoice, Option<String>) {
        (self.cpu.clone(), DeviceChoice::Cpu, Some(note))
    }
}

/// A device's figure: its speed, or why it could not train.
fn figure(device: DeviceChoice, measured: Result<f64, String>) -> DeviceSpeed {
    let (samples_per_second, failure) = match measured {
        Ok(v) => (Some(v), None),
        Err(why) => (None, Some(why)),
    };
    DeviceSpeed {
        device,
        samples_per_second,
        failure,
        threads: None,
    }
}
