//! The native measurements behind `cargo xtask bench`: its workloads (the same models and
//! batch sizes as the Keras, PyTorch and browser contenders), the throughput of one run on one
//! device, burn `flex`'s f32 matmul rate, and the GPU adapters wgpu finds. xtask runs them
//! through this CLI (`--json`) so that it needs no burn of its own.

use std::path::Path;

use anyhow::{Context, Result};
use kindling_core::data::loader::load_dataset;
use kindling_core::model::ModelConfig;
use kindling_core::run::ImdbSubset;
use kindling_core::train::throughput::{measure_data_parallel, BenchPlan, Throughput};
use kindling_core::DeviceChoice;
use kindling_core::{DatasetConfig, RunConfig};
use serde::Serialize;

/// One model of the throughput benchmark.
#[derive(Serialize, Debug, Clone)]
pub struct Workload {
    /// Short name: `mlp`, `cnn` or `lstm`.
    pub id: &'static str,
    /// What it is, as the report's table names it.
    pub label: &'static str,
    /// Batches per timed window natively and in the references: the MLP's batch takes about
    /// 2.5 ms natively, and windows of 10 (25 ms) measured the machine's noise more than the
    /// training (the same build gave 42,710 and 92,604 samples/s in two runs).
    pub batches: usize,
    /// The run it trains (the browser contenders get it as it is).
    pub config: RunConfig,
}

/// The benchmark's workloads: the seed MLP, the two-conv seed CNN at batch 128, and a smaller
/// Embedding + LSTM at batch 32.
pub fn workloads() -> Result<Vec<Workload>> {
    let preset = |name: &str| RunConfig::preset(name).with_context(|| format!("preset {name}"));
    let mlp = preset("mlp-keras")?;
    let mut cnn = preset("cnn-seed-2conv")?;
    cnn.training.batch_size = 128;
    let mut lstm = preset("lstm-imdb")?;
    lstm.dataset = DatasetConfig::Imdb(ImdbSubset::new(5000, 256));
    if let ModelConfig::Sequence(s) = &mut lstm.model {
        s.dict_size = 5000;
        s.example_len = 256;
        s.embedding_len = 64;
        s.units = 128;
        s.dropout = 0.0;
    }
    lstm.training.batch_size = 32;
    for config in [&mlp, &cnn, &lstm] {
        config.validate()?;
    }
    Ok(vec![
        Workload {
            id: "mlp",
            label: "MLP 784-300-10, batch 200, Adam",
            batches: 50,
            config: mlp,
        },
        Workload {
            id: "cnn",
            label: "seed CNN (two 5x5 convs, dense 1000), batch 128, Adam",
            batches: 10,
            config: cnn,
        },
        Workload {
            id: "lstm",
            label: "Embedding(5000,64) + LSTM(128), length 256, batch 32, Adam",
            batches: 10,
            config: lstm,
        },
    ])
}

/// Trains `config` on its device (and, splitting every batch, on `others` too) for `plan`
/// (see [`measure_data_parallel`]).
pub fn measure(
    config: &RunConfig,
    others: &[DeviceChoice],
    data_dir: &Path,
    plan: BenchPlan,
) -> Result<Throughput> {
    let device = config.device.open()?;
    let others = others
        .iter()
        .map(|d| d.open())
        .collect::<Result<Vec<_>, _>>()?;
    let data = load_dataset(&config.dataset, data_dir)?;
    Ok(measure_data_parallel(config, data, &device, &others, plan)?)
}

/// The machine's f32 matmul rate with burn `flex`, in FLOP/s: the best of 4 products of two
/// random `size` x `size` matrices (each ends with a read-back, so the work is counted).
pub fn gemm_peak(size: usize) -> Result<f64> {
    use burn::tensor::{Distribution, Tensor};
    let device = kindling_core::DeviceChoice::Cpu.open()?;
    let a = Tensor::<2>::random([size, size], Distribution::Default, &device);
    let b = Tensor::<2>::random([size, size], Distribution::Default, &device);
    let mut best = 0.0f64;
    for _ in 0..4 {
        let start = std::time::Instant::now();
        let c = a.clone().matmul(b.clone());
        kindling_core::block_on(kindling_core::device::read_f32s(c.slice([0..1, 0..1])))
            .map_err(anyhow::Error::msg)?;
        best = best.max(2.0 * (size as f64).powi(3) / start.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// The GPU adapters wgpu finds natively, as "name (backend)"; CPU adapters (llvmpipe,
/// lavapipe, SwiftShader) are left out: their figures would say nothing of a GPU.
pub fn gpu_adapters() -> Vec<String> {
    use burn::tensor::wgpu::wgpu;
    // wgpu may panic where no graphics API can be loaded at all.
    std::panic::catch_unwind(|| {
        let instance = wgpu::Instance::default();
        kindling_core::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
            .into_iter()
            .map(|adapter| adapter.get_info())
            .filter(|info| info.device_type != wgpu::DeviceType::Cpu)
            .map(|info| format!("{} ({:?})", info.name, info.backend))
            .collect()
    })
    .unwrap_or_default()
}
