//! The device a run trains on: WebGPU detection, opening the GPU once, and the fall back to the
//! CPU (with a note for the page) when WebGPU is missing or failed.

use burn::tensor::Device;
use kindling_core::data::TrainingData;
use kindling_core::train::{
    measure_speed, measurement_data, speed_key, DeviceSpeed, DeviceSpeeds, TrainError,
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

    /// Measures how fast `config`'s model trains on each device this browser offers (the CPU,
    /// and WebGPU when there is an adapter that has not failed); with the CPU alone nothing is
    /// measured. The CPU's figure names its threads when it has several.
    pub(super) async fn measure_devices(
        &mut self,
        run_id: u64,
        config: &RunConfig,
        data: &TrainingData,
    ) -> DeviceSpeeds {
        let threads = self.threads.available;
        let mut speeds = DeviceSpeeds {
            key: speed_key(config, threads),
            speeds: Vec::new(),
        };
        if !self.webgpu || self.gpu_failure.is_some() {
            return speeds;
        }
        post(&FromWorker::MeasuringDevices { run_id });
        let sample = measurement_data(data, config.training.batch_size);
        for choice in [DeviceChoice::Cpu, DeviceChoice::Wgpu] {
            let (device, used, note) = self.device(choice).await;
            let measured = if used != choice {
                Err(note.unwrap_or_else(|| "not available".into()))
            } else {
                match measure_speed(config, sample.clone(), &device, &now_ms, MEASURE_MS).await {
                    Ok(v) => Ok(v),
                    Err(e @ TrainError::Device(_)) if choice == DeviceChoice::Wgpu => {
                        // A failing GPU is not used by this run or the next: they go to the
                        // CPU.
                        self.gpu = None;
                        self.gpu_failure = Some(e.to_string());
                        Err(e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            };
            let (samples_per_second, failure) = match measured {
                Ok(v) => (Some(v), None),
                Err(why) => (None, Some(why)),
            };
            speeds.speeds.push(DeviceSpeed {
                device: choice,
                samples_per_second,
                failure,
                threads: (choice == DeviceChoice::Cpu && threads > 1).then_some(threads),
            });
        }
        speeds
    }

    /// The CPU, with `note` saying why it stands in for the GPU.
    fn cpu_instead(&self, note: String) -> (Device, DeviceChoice, Option<String>) {
        (self.cpu.clone(), DeviceChoice::Cpu, Some(note))
    }
}
