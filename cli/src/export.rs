//! `kindling export` and `kindling import`: a trained run out to PyTorch and Keras (weights as
//! safetensors, the data file, the scripts) and weights back in from safetensors or a PyTorch
//! state dict.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use kindling_core::data::loader::{load_dataset, split_positions_in};
use kindling_core::export::{export_run, model_from_pytorch, model_from_safetensors, ExportData};
use kindling_core::model::weights::weights_from_values;
use kindling_core::model::SavedModel;
use kindling_core::record::{RunRecord, RunStatus};
use kindling_core::train::score::{figure_name, format_figure};
use kindling_core::RunConfig;

/// Writes the export of the model file `weights` into `out` and prints Kindling's own test
/// accuracy of those weights, which the scripts' `test accuracy:` line should repeat.
pub fn export(weights: &Path, out: &Path, data_dir: &Path, json: bool) -> Result<()> {
    let bytes =
        std::fs::read(weights).with_context(|| format!("cannot read {}", weights.display()))?;
    let record = RunRecord::from_model_file(&bytes)
        .with_context(|| format!("{} is not a Kindling model file", weights.display()))?;
    let device = Device::flex();
    let saved = SavedModel::load(&record.config.model, bytes, &device)?;
    let data = load_dataset(&record.config.dataset, data_dir)?;
    let positions = split_positions_in(&record.config.dataset, data_dir)?;
    let export_data = match &positions {
        Some(p) => ExportData::Positions(p),
        None => ExportData::Carried {
            train: &data.train,
            test: &data.eval,
        },
    };
    let export = export_run(&record, saved.model(), export_data)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot make {}", out.display()))?;
    for file in export.files() {
        let path = out.join(&file.name);
        std::fs::write(&path, &file.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), file.bytes.len());
    }
    let accuracy =
        kindling_core::block_on(saved.accuracy(&data.eval)).map_err(anyhow::Error::msg)?;
    // R² on a regression set, as the scripts print it.
    let regression = data.eval.is_regression();
    println!(
        "Kindling test {}: {} ({} test examples)",
        figure_name(regression),
        format_figure(accuracy, regression),
        data.eval.len()
    );
    if json {
        println!(
            "{}",
            serde_json::json!({ "test_accuracy": accuracy, "test_examples": data.eval.len() })
        );
    }
    println!(
        "run it elsewhere: python {} --data {}   (or {})",
        out.join(&export.pytorch.name).display(),
        data_dir.display(),
        export.keras.name
    );
    Ok(())
}

/// The run config kept in a Kindling model file.
pub fn config_of_model_file(path: &Path) -> Result<RunConfig> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(RunRecord::from_model_file(&bytes)
        .with_context(|| format!("{} is not a Kindling model file", path.display()))?
        .config)
}

/// Loads `weights` (safetensors, or a PyTorch `.pt`/`.pth` state dict) into `config`'s model,
/// writes it as a Kindling model file to `out` and prints its test accuracy.
pub fn import(config: RunConfig, weights: &Path, out: &Path, data_dir: &Path) -> Result<()> {
    let device = Device::flex();
    let extension = weights
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let model = match extension.as_str() {
        "safetensors" => {
            let bytes = std::fs::read(weights)
                .with_context(|| format!("cannot read {}", weights.display()))?;
            model_from_safetensors(&config.model, bytes, &device)
        }
        "pt" | "pth" | "bin" => model_from_pytorch(&config.model, weights, &device),
        _ => bail!(
            "{} is neither .safetensors nor a PyTorch file (.pt, .pth)",
            weights.display()
        ),
    }
    .with_context(|| format!("cannot load {} into the run's model", weights.display()))?;
    let values = kindling_core::block_on(kindling_core::model::weights::parameter_values(&model))?;
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0);
    let name = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let mut record = RunRecord::started(created_ms as u64, name, config.clone(), created_ms);
    record.notes = format!("imported from {}", file_name(weights));
    record.has_weights = true;
    let data = load_dataset(&config.dataset, data_dir)?;
    let saved_bytes = weights_from_values(&config.model, values)?;
    let saved = SavedModel::from_model(&config.model, model, &device);
    let accuracy =
        kindling_core::block_on(saved.accuracy(&data.eval)).map_err(anyhow::Error::msg)?;
    record.status = RunStatus::Finished;
    record.test_accuracy = Some(accuracy);
    let file = record.model_file(saved_bytes)?;
    std::fs::write(out, &file).with_context(|| format!("cannot write {}", out.display()))?;
    let regression = data.eval.is_regression();
    println!(
        "wrote {} ({} bytes): test {} {} ({} test examples)",
        out.display(),
        file.len(),
        figure_name(regression),
        format_figure(accuracy, regression),
        data.eval.len()
    );
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| PathBuf::from(path).display().to_string())
}
