//! A trained model's weights as bytes and back: burn's burnpack record of a [`Model`], what the
//! browser downloads, stores and uploads and what the CLI writes.
//!
//! Reading a GPU tensor synchronously is impossible in a browser, so [`weights_of`] reads every
//! parameter asynchronously, rebuilds the model on the CPU and records that copy.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};

use super::{Activation, InputKind, Model, ModelConfig};
use crate::data::Dataset;
use crate::device::read_f32s;

/// File-name extension of a weights file (burn's burnpack format).
pub const WEIGHTS_EXTENSION: &str = "bpk";

/// Why weights could not be written or read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WeightsError {
    /// The bytes are not a burnpack record.
    #[error("not a Kindling weights file (burnpack): {0}")]
    Unreadable(String),
    /// The record holds other tensors than the model has (another model's weights).
    #[error("these weights do not fit the run's model: {0}")]
    Mismatch(String),
    /// The bytes are not weights of the format they were read as (safetensors, PyTorch).
    #[error("these are not readable {format} weights: {message}")]
    Foreign {
        /// safetensors or PyTorch.
        format: &'static str,
        /// What the reader said.
        message: String,
    },
    /// The device failed while the weights were read.
    #[error("the device failed while reading the weights: {0}")]
    Device(String),
}

/// Collects clones of every float parameter, in visiting order.
#[derive(Default)]
struct ParameterList {
    tensors: Vec<Tensor<1>>,
}

impl ModuleVisitor for ParameterList {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // Flattened here, reshaped back by `Replace` (which knows each parameter's shape).
        self.tensors.push(param.val().flatten(0, D - 1));
    }
}

/// Replaces every float parameter, in visiting order, with the next of `values`.
struct Replace {
    values: std::vec::IntoIter<Vec<f32>>,
    device: Device,
    error: Option<String>,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(values) = self.values.next() else {
            self.error
                .get_or_insert_with(|| "fewer tensors than the model has".into());
            return param;
        };
        let device = self.device.clone();
        let mut error = None;
        let param = param.map(|old| {
            let shape = old.shape();
            if shape.num_elements() != values.len() {
                error = Some(format!(
                    "a tensor of {} values where the model has {:?}",
                    values.len(),
                    shape.as_slice()
                ));
                return old;
            }
            Tensor::from_data(TensorData::new(values, shape), &device)
        });
        if let Some(e) = error {
            self.error.get_or_insert(e);
        }
        param
    }
}

/// Reads every float parameter of `model` (asynchronously: safe on a GPU in a browser), in the
/// order burn visits them.
pub async fn parameter_values(model: &Model) -> Result<Vec<Vec<f32>>, WeightsError> {
    let mut list = ParameterList::default();
    model.visit(&mut list);
    let mut values = Vec::with_capacity(list.tensors.len());
    for tensor in list.tensors {
        values.push(read(tensor).await?);
    }
    Ok(values)
}

async fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, WeightsError> {
    read_f32s(tensor).await.map_err(WeightsError::Device)
}

/// Flattened values of tensors read asynchronously (the hand-written engine's weights).
pub async fn tensor_values<const D: usize>(
    tensors: Vec<Tensor<D>>,
) -> Result<Vec<Vec<f32>>, WeightsError> {
    let mut values = Vec::with_capacity(tensors.len());
    for t in tensors {
        values.push(read(t).await?);
    }
    Ok(values)
}

/// Builds `config`'s model on `device` with its float parameters set to `values` (in burn's
/// visiting order, as [`parameter_values`] reads them).
pub fn model_with_values(
    config: &ModelConfig,
    values: Vec<Vec<f32>>,
    device: &Device,
) -> Result<Model, WeightsError> {
    let expected = {
        let model = config
            .init(device)
            .map_err(|e| WeightsError::Mismatch(e.to_string()))?;
        let mut list = ParameterList::default();
        model.visit(&mut list);
        (list.tensors.len(), model)
    };
    let (count, model) = expected;
    if count != values.len() {
        return Err(WeightsError::Mismatch(format!(
            "{} tensors where the model has {count}",
            values.len()
        )));
    }
    let mut replace = Replace {
        values: values.into_iter(),
        device: device.clone(),
        error: None,
    };
    let model = model.map(&mut replace);
    match replace.error {
        Some(e) => Err(WeightsError::Mismatch(e)),
        None => Ok(model),
    }
}

/// The burnpack bytes of `config`'s model with parameters `values` (built on the CPU).
pub fn weights_from_values(
    config: &ModelConfig,
    values: Vec<Vec<f32>>,
) -> Result<Vec<u8>, WeightsError> {
    let model = model_with_values(config, values, &Device::flex())?;
    let bytes = model
        .into_record()
        .into_bytes()
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// The burnpack bytes of a trained `model` of `config` (on any device).
pub async fn weights_of(model: &Model, config: &ModelConfig) -> Result<Vec<u8>, WeightsError> {
    let values = parameter_values(model).await?;
    weights_from_values(config, values)
}

/// `bytes` (a weights file) with the text `value` kept under `key` in its metadata.
pub fn with_metadata(bytes: Vec<u8>, key: &str, value: &str) -> Result<Vec<u8>, WeightsError> {
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    let tensors = reader
        .into_tensors()
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    let bytes = burn_pack::Writer::new(tensors)
        .with_metadata(key, value)
        .into_bytes()
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// The text kept under `key` in a weights file's metadata, if any.
pub fn metadata(bytes: &[u8], key: &str) -> Result<Option<String>, WeightsError> {
    let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    Ok(reader.metadata().get(key).cloned())
}

/// A model built from `config` and loaded with the weights in `bytes`, on `device`.
///
/// Errors: bytes that are not a burnpack record, and a record of another model (tensors
/// missing, extra or of other shapes), each with burn's details.
pub fn load_weights(
    config: &ModelConfig,
    bytes: Vec<u8>,
    device: &Device,
) -> Result<Model, WeightsError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    let model = config
        .init(device)
        .map_err(|e| WeightsError::Mismatch(e.to_string()))?;
    model
        .try_load_record(record)
        .map_err(|e| WeightsError::Mismatch(e.to_string()))
}

/// Class probabilities of every example of `data` under `model`, row-major
/// `[examples, classes]` (a single sigmoid output becomes two columns, `1 - p` and `p`).
pub async fn model_probabilities(
    model: &Model,
    input: InputKind,
    activation: Activation,
    data: &Dataset,
    batch_size: usize,
    device: &Device,
) -> Result<Vec<f32>, String> {
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut out = Vec::with_capacity(data.len() * data.num_classes.max(2));
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = data.batch(chunk, input, device);
        let outputs = model.predict(batch.input, activation);
        let [_, width] = outputs.dims();
        let values = read_f32s(outputs).await?;
        if width == 1 {
            out.extend(values.iter().flat_map(|&p| [1.0 - p, p]));
        } else {
            out.extend(values);
        }
    }
    Ok(out)
}

/// A model loaded from weights, ready to classify (draw-a-digit, review sentiment).
#[derive(Debug)]
pub struct SavedModel {
    config: ModelConfig,
    model: Model,
    device: Device,
}

impl SavedModel {
    /// Loads `bytes` into `config`'s model on `device` (see [`load_weights`]).
    pub fn load(
        config: &ModelConfig,
        bytes: Vec<u8>,
        device: &Device,
    ) -> Result<Self, WeightsError> {
        Ok(Self {
            config: config.clone(),
            model: load_weights(config, bytes, device)?,
            device: device.clone(),
        })
    }

    /// `model`, built from `config` on `device` (weights loaded some other way, e.g. from
    /// safetensors), ready to classify.
    pub fn from_model(config: &ModelConfig, model: Model, device: &Device) -> Self {
        Self {
            config: config.clone(),
            model,
            device: device.clone(),
        }
    }

    /// The model's config.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The model itself.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// What every layer computes for the single image of `data` (see
    /// [`crate::inside::image_layers`]).
    pub async fn image_layers(
        &self,
        data: &Dataset,
    ) -> Result<Option<crate::inside::ImageLayers>, String> {
        crate::inside::image_layers_of(&self.model, &self.config, data, &self.device).await
    }

    /// How the model reads a review word by word (see [`crate::inside::review_trace`]).
    pub async fn review_trace(
        &self,
        vocabulary: &crate::data::imdb::Vocabulary,
        text: &str,
    ) -> Result<Option<crate::inside::ReviewTrace>, String> {
        crate::inside::review_trace(&self.model, &self.config, vocabulary, text, &self.device).await
    }

    /// The fraction of `data`'s examples classified right, as training counts it
    /// (`crate::train::score`): with one output its activation > 0.5 predicts class 1, with
    /// several the largest logit wins. On a regression set, R² of the predicted values.
    pub async fn accuracy(&self, data: &Dataset) -> Result<f64, String> {
        use crate::train::score::{accuracy_of, batch_score, spread};
        let kind = self.config.input_kind();
        let activation = self.config.output_activation();
        let indices: Vec<usize> = (0..data.len()).collect();
        let mut score = 0.0;
        for chunk in indices.chunks(256) {
            let batch = data.batch(chunk, kind, &self.device);
            let part = batch_score(
                self.model.forward(batch.input),
                batch.labels,
                batch.targets.as_deref(),
                activation,
            );
            let values = part
                .into_data_async()
                .await
                .map_err(|e| format!("{e:?}"))?
                .try_into_vec_as::<f64>()
                .map_err(|e| format!("{e:?}"))?;
            score += values.first().copied().unwrap_or(0.0);
        }
        Ok(accuracy_of(
            score,
            spread(data.targets.as_deref(), data.target_mean()),
            data.len(),
            data.is_regression(),
        ))
    }

    /// Class probabilities of every example of `data` (see [`model_probabilities`]).
    pub async fn probabilities(&self, data: &Dataset) -> Result<Vec<f32>, String> {
        model_probabilities(
            &self.model,
            self.config.input_kind(),
            self.config.output_activation(),
            data,
            256,
            &self.device,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DenseLayerConfig, MlpConfig};

    fn mlp(hidden: usize) -> ModelConfig {
        ModelConfig::Mlp(MlpConfig::new(4, vec![DenseLayerConfig::new(hidden)], 3))
    }

    #[test]
    fn weights_round_trip_and_give_the_same_outputs() {
        let device = Device::flex();
        let config = mlp(5);
        let model = config.init(&device).unwrap();
        let bytes = crate::block_on(weights_of(&model, &config)).unwrap();
        let loaded = load_weights(&config, bytes, &device).unwrap();
        let before = crate::block_on(parameter_values(&model)).unwrap();
        let after = crate::block_on(parameter_values(&loaded)).unwrap();
        assert_eq!(before.len(), 4);
        assert_eq!(before, after);
    }

    #[test]
    fn other_models_and_damaged_files_are_refused() {
        let device = Device::flex();
        let config = mlp(5);
        let model = config.init(&device).unwrap();
        let bytes = crate::block_on(weights_of(&model, &config)).unwrap();
        let wrong = load_weights(&mlp(6), bytes.clone(), &device).unwrap_err();
        assert!(matches!(wrong, WeightsError::Mismatch(_)), "{wrong}");
        let cut = load_weights(&config, bytes[..bytes.len() / 2].to_vec(), &device).unwrap_err();
        assert!(matches!(cut, WeightsError::Unreadable(_)), "{cut}");
        let noise = load_weights(&config, b"not weights at all".to_vec(), &device).unwrap_err();
        assert!(matches!(noise, WeightsError::Unreadable(_)), "{noise}");
        let short = model_with_values(&config, vec![vec![0.0; 20]], &device).unwrap_err();
        assert!(matches!(short, WeightsError::Mismatch(_)));
    }

    #[test]
    fn metadata_rides_along_and_the_record_still_loads() {
        let device = Device::flex();
        let config = mlp(2);
        let model = config.init(&device).unwrap();
        let bytes = crate::block_on(weights_of(&model, &config)).unwrap();
        assert_eq!(metadata(&bytes, "note").unwrap(), None);
        let noted = with_metadata(bytes, "note", "{\"a\": 1}").unwrap();
        assert_eq!(
            metadata(&noted, "note").unwrap().as_deref(),
            Some("{\"a\": 1}")
        );
        assert!(load_weights(&config, noted, &device).is_ok());
        assert!(metadata(b"nonsense", "note").is_err());
    }

    #[test]
    fn mutated_weight_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let device = Device::flex();
        let config = mlp(3);
        let model = config.init(&device).unwrap();
        let bytes = crate::block_on(weights_of(&model, &config)).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            let mut b = bytes.clone();
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            b.truncate(rng.random_range(0..=b.len()));
            // Either loads (a mutated value) or says why; never panics.
            let _ = metadata(&b, "note");
            let _ = load_weights(&config, b, &device);
        }
    }
}
