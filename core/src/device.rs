//! Which device a run trains on.

use std::sync::Mutex;

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// The device of a run. `Cpu` is burn's `flex` backend: measured faster than `ndarray` on the
/// MLP and CNN here (figures in BENCHMARKS.md); `Ndarray` stays selectable for comparison.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// CPU (burn `flex`, SIMD GEMM; multi-threaded natively).
    #[default]
    Cpu,
    /// CPU (burn `ndarray`), kept for comparison.
    Ndarray,
    /// GPU through wgpu (WebGPU in the browser; Vulkan/Metal/DX12 natively).
    Wgpu,
}

/// A device that could not be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot open the {choice} device: {reason}")]
pub struct DeviceError {
    /// Which device was asked for.
    pub choice: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// A device name that is not one of [`DeviceChoice`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown device {0:?}: use cpu, ndarray or wgpu")]
pub struct UnknownDevice(pub String);

impl std::str::FromStr for DeviceChoice {
    type Err = UnknownDevice;

    /// Parses a CLI name (`cpu`, `ndarray`, `wgpu`, and the aliases [`DeviceChoice::parse`]
    /// takes).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DeviceChoice::parse(name).ok_or_else(|| UnknownDevice(name.to_string()))
    }
}

impl DeviceChoice {
    /// Short name, as the CLI takes it.
    pub fn name(&self) -> &'static str {
        match self {
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Ndarray => "ndarray",
            DeviceChoice::Wgpu => "wgpu",
        }
    }

    /// Its name for people, as the playground shows it.
    pub fn label(&self) -> &'static str {
        match self {
            DeviceChoice::Cpu => "CPU",
            DeviceChoice::Ndarray => "CPU (ndarray)",
            DeviceChoice::Wgpu => "WebGPU",
        }
    }

    /// Parses a CLI name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "cpu" | "flex" => Some(DeviceChoice::Cpu),
            "ndarray" => Some(DeviceChoice::Ndarray),
            "wgpu" | "gpu" | "webgpu" => Some(DeviceChoice::Wgpu),
            _ => None,
        }
    }

    /// Opens the device, waiting for the GPU adapter when one is asked for. In the browser this
    /// is the only way to open WebGPU; do it once per page or worker and keep the device.
    pub async fn open_async(&self) -> Result<Device, DeviceError> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            #[allow(deprecated)]
            DeviceChoice::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "gpu")]
            DeviceChoice::Wgpu => {
                Device::wgpu_options()
                    .init_async()
                    .await
                    .map_err(|e| DeviceError {
                        choice: "wgpu",
                        reason: format!("{e}"),
                    })
            }
            #[cfg(not(feature = "gpu"))]
            DeviceChoice::Wgpu => Err(no_gpu_in_this_build()),
        }
    }

    /// Opens the device (native only: the browser must use [`DeviceChoice::open_async`]).
    #[cfg(not(target_family = "wasm"))]
    pub fn open(&self) -> Result<Device, DeviceError> {
        match self {
            #[cfg(not(feature = "gpu"))]
            DeviceChoice::Wgpu => Err(no_gpu_in_this_build()),
            #[cfg(feature = "gpu")]
            DeviceChoice::Wgpu => {
                // wgpu may panic instead of returning an error when no adapter exists.
                let opened = std::panic::catch_unwind(|| Device::wgpu_options().init());
                match opened {
                    Ok(Ok(device)) => Ok(device),
                    Ok(Err(e)) => Err(DeviceError {
                        choice: "wgpu",
                        reason: format!("{e}"),
                    }),
                    Err(_) => Err(DeviceError {
                        choice: "wgpu",
                        reason: "no GPU adapter was found".into(),
                    }),
                }
            }
            cpu => crate::block_on(cpu.open_async()),
        }
    }
}

/// Why WebGPU cannot open in a build without kindling-core's `gpu` feature.
#[cfg(not(feature = "gpu"))]
fn no_gpu_in_this_build() -> DeviceError {
    DeviceError {
        choice: "wgpu",
        reason: "this build has no WebGPU (the threaded CPU build cannot have it)".into(),
    }
}

/// Reads a tensor's values back as f32, asynchronously (the only read-back a browser's GPU
/// allows).
pub async fn read_f32s<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| format!("{e:?}"))?
        .try_into_vec_as::<f32>()
        .map_err(|e| format!("{e:?}"))
}

/// Serialises every draw from a device's random generator (initial weights, dropout masks),
/// which burn's CPU backends keep process-wide: two models built or trained at once on other
/// threads would otherwise take numbers from each other's seeded sequence.
static DEVICE_RNG: Mutex<()> = Mutex::new(());

/// Runs `draw` holding the process-wide generator lock, with `device`'s generator first seeded
/// to `seed` when one is given. Every draw Kindling makes from a device generator goes through
/// here, so the same seed gives the same numbers whatever else runs in the process.
pub(crate) fn with_device_rng<T>(
    device: &Device,
    seed: Option<u64>,
    draw: impl FnOnce() -> T,
) -> T {
    let _guard = DEVICE_RNG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(seed) = seed {
        device.seed(seed);
    }
    draw()
}
