//! The device a run trains on: WebGPU detection, opening the GPU once, and the fall back to the
//! CPU (with a note for the page) when WebGPU is missing or failed.

use burn::tensor::Device;
use kindling_core::data::TrainingData;
use kindling_core::run::Engine;
use kindling_core::train::{
    measure_speed, measurement_data, speed_key, DeviceSpeed, DeviceSpeeds, SharedPool, TrainError,
};
use kindling_core::{DeviceChoice, RunConfig};

use super::host::{now_ms, post};
use super::Actor;
use crate::protocol::FromWorker;

/// Milliseconds of timed training per device when measuring which is faster (after a
/// warm-up batch): long enough to average a few batches of a small model, short enough that
/// the user barely waits (once per model shape; the page keeps the figures). The CPU's
/// thread counts are measured twice each.
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

    /// Measures how fast `config`'s model trains on each device this browser offers (the CPU,
    /// and WebGPU when there is an adapter that has not failed): the CPU on one thread and on
    /// the pool's threads where the worker has a pool. With the CPU alone and one thread,
    /// nothing is measured.
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
        let pool = self.pool_for(config);
        if !gpu && pool.is_none() {
            return speeds;
        }
        post(&FromWorker::MeasuringDevices { run_id });
        let sample = measurement_data(data, config.training.batch_size);
        match pool {
            Some(pool) => {
                speeds.speeds = measure_cpu_threads(config, &sample, &self.cpu, pool).await;
                if let Some(threads) = speeds.fastest_cpu_threads() {
                    self.thread_choices.insert(speeds.key.clone(), threads);
                }
            }
            None => {
                let measured = measure_speed(
                    config,
                    sample.clone(),
                    (&self.cpu, None),
                    &now_ms,
                    MEASURE_MS,
                )
                .await
                .map_err(|e| e.to_string());
                speeds
                    .speeds
                    .push(figure(DeviceChoice::Cpu, measured, None));
            }
        }
        if gpu {
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
            speeds
                .speeds
                .push(figure(DeviceChoice::Wgpu, measured, None));
        }
        speeds
    }

    /// The pool a run of `config` would train in on the CPU: the worker's, for the autodiff
    /// engine (the hand-written one trains on the worker's own thread).
    fn pool_for(&self, config: &RunConfig) -> Option<SharedPool> {
        self.pool
            .clone()
            .filter(|_| config.engine == Engine::Autodiff)
    }

    /// The pool a run of `config` on the CPU trains in (`None`: the worker's own thread):
    /// by `speeds` when they hold CPU figures per thread count, else by the figures measured
    /// this session for its model shape, else measured now (a run whose device was chosen,
    /// or a restart on the CPU). The threads it uses, and the figures when it measured them.
    pub(super) async fn cpu_pool(
        &mut self,
        run_id: u64,
        config: &RunConfig,
        data: &TrainingData,
        speeds: Option<&DeviceSpeeds>,
    ) -> (Option<SharedPool>, u32, Option<DeviceSpeeds>) {
        let Some(pool) = self.pool_for(config) else {
            return (None, 1, None);
        };
        let key = speed_key(config, self.threads.available);
        let known = speeds
            .filter(|s| s.key == key)
            .and_then(DeviceSpeeds::fastest_cpu_threads)
            .or_else(|| self.thread_choices.get(&key).copied());
        let (threads, measured) = match known {
            Some(threads) => (threads, None),
            None => {
                post(&FromWorker::MeasuringDevices { run_id });
                let sample = measurement_data(data, config.training.batch_size);
                let measured = DeviceSpeeds {
                    key: key.clone(),
                    speeds: measure_cpu_threads(config, &sample, &self.cpu, pool.clone()).await,
                };
                let threads = measured.fastest_cpu_threads().unwrap_or(1);
                self.thread_choices.insert(key, threads);
                (threads, Some(measured))
            }
        };
        if threads > 1 {
            (Some(pool), threads, measured)
        } else {
            (None, 1, measured)
        }
    }

    /// The CPU, with `note` saying why it stands in for the GPU.
    fn cpu_instead(&self, note: String) -> (Device, DeviceChoice, Option<String>) {
        (self.cpu.clone(), DeviceChoice::Cpu, Some(note))
    }
}

/// A device's figure: its speed, or why it could not train.
fn figure(
    device: DeviceChoice,
    measured: Result<f64, String>,
    threads: Option<u32>,
) -> DeviceSpeed {
    let (samples_per_second, failure) = match measured {
        Ok(v) => (Some(v), None),
        Err(why) => (None, Some(why)),
    };
    DeviceSpeed {
        device,
        samples_per_second,
        failure,
        threads,
    }
}

/// The CPU's figures on the worker's own thread and on `pool`'s threads. Each is measured
/// twice, in turns (one thread, the pool, one thread, the pool), and keeps its better
/// figure: on a first visit V8 replaces its baseline code while the measurements run, which
/// would favour whichever went second.
async fn measure_cpu_threads(
    config: &RunConfig,
    sample: &TrainingData,
    cpu: &Device,
    pool: SharedPool,
) -> Vec<DeviceSpeed> {
    let threads = pool.threads() as u32;
    let mut best: [Result<f64, String>; 2] = [Err(String::new()), Err(String::new())];
    for _ in 0..2 {
        for (i, pool) in [None, Some(pool.clone())].into_iter().enumerate() {
            let measured = measure_speed(config, sample.clone(), (cpu, pool), &now_ms, MEASURE_MS)
                .await
                .map_err(|e| e.to_string());
            best[i] = match (&best[i], measured) {
                (Ok(a), Ok(b)) => Ok(a.max(b)),
                (Ok(a), Err(_)) => Ok(*a),
                (Err(_), m) => m,
            };
        }
    }
    let [one, all] = best;
    vec![
        figure(DeviceChoice::Cpu, one, Some(1)),
        figure(DeviceChoice::Cpu, all, Some(threads)),
    ]
}
