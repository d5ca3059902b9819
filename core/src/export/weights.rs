//! A model's weights as safetensors, with PyTorch's names and layouts, through burn's store;
//! and back, from safetensors or (natively) a PyTorch state dict of a matching model.
//!
//! Names are the model's module paths without enum variants (`hidden.0.linear.weight`,
//! `layers.2.conv.bias`, `recurrent.kernel`), which the exported PyTorch scripts mirror, so
//! `model.load_state_dict(load_file(path))` loads them as they are. Dense weights are stored
//! as PyTorch keeps them, [out, in] (burn keeps [in, out]); convolution kernels are
//! [out, in, kh, kw] in both. The recurrent layer keeps Keras's layout (`kernel` [in, g*u],
//! `recurrent_kernel` [u, g*u], `bias` [g*u]; gates i, f, c, o or z, r, h), as Kindling does.

use burn::tensor::Device;
use burn_store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};

use crate::model::{Model, ModelConfig, WeightsError};

/// File-name extension of exported weights.
pub const SAFETENSORS_EXTENSION: &str = "safetensors";

/// The safetensors bytes of `model` (read synchronously: a model on the CPU, as
/// [`crate::model::SavedModel::load`] builds it from a model file).
pub fn safetensors_of(model: &Model) -> Result<Vec<u8>, WeightsError> {
    let mut store = SafetensorsStore::from_bytes(None)
        .skip_enum_variants(true)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata("exported_by", "Kindling");
    model
        .save_into(&mut store)
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    store
        .get_bytes()
        .map_err(|e| WeightsError::Unreadable(e.to_string()))
}

/// `config`'s model on `device` with the weights of a safetensors file (as
/// [`safetensors_of`] writes them, or a PyTorch `state_dict` of the exported script's model
/// saved with `safetensors.torch.save_file`). Every tensor of the model must be in the file,
/// with its shape.
pub fn model_from_safetensors(
    config: &ModelConfig,
    bytes: Vec<u8>,
    device: &Device,
) -> Result<Model, WeightsError> {
    let store = SafetensorsStore::from_bytes(Some(bytes))
        .skip_enum_variants(true)
        .validate(false)
        .allow_partial(true)
        .with_from_adapter(PyTorchToBurnAdapter);
    load_from(config, store, device, "safetensors")
}

/// `config`'s model on `device` with the weights of a PyTorch file (`torch.save` of the
/// exported script's `model.state_dict()`).
#[cfg(not(target_family = "wasm"))]
pub fn model_from_pytorch(
    config: &ModelConfig,
    path: &std::path::Path,
    device: &Device,
) -> Result<Model, WeightsError> {
    let store = burn_store::PytorchStore::from_file(path)
        .skip_enum_variants(true)
        // The exported model's layer lists keep their positions (`layers.4` is the stack's
        // fifth layer, after parameter-free ones): no renumbering.
        .map_indices_contiguous(false)
        .validate(false)
        .allow_partial(true);
    load_from(config, store, device, "PyTorch")
}

fn load_from<S: burn_store::ModuleStore>(
    config: &ModelConfig,
    mut store: S,
    device: &Device,
    format: &'static str,
) -> Result<Model, WeightsError>
where
    S::Error: std::fmt::Display,
{
    let mut model = config
        .init(device)
        .map_err(|e| WeightsError::Mismatch(e.to_string()))?;
    let result = model
        .load_from(&mut store)
        .map_err(|e| WeightsError::Foreign {
            format,
            message: e.to_string(),
        })?;
    let mut problems: Vec<String> = result.errors.iter().map(ToString::to_string).collect();
    let list = |names: Vec<&str>| {
        let shown: Vec<&str> = names.iter().take(5).copied().collect();
        let more = names.len().saturating_sub(shown.len());
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    if !result.missing.is_empty() {
        let names = result.missing.iter().map(|(n, _)| n.as_str()).collect();
        problems.push(format!("the file lacks {}", list(names)));
    }
    if !result.unused.is_empty() {
        let names = result.unused.iter().map(String::as_str).collect();
        problems.push(format!("the model has no {}", list(names)));
    }
    if problems.is_empty() {
        Ok(model)
    } else {
        Err(WeightsError::Mismatch(problems.join("; ")))
    }
}
