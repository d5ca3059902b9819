//! A run taken out of Kindling: its weights as safetensors (through burn's store), the data
//! file that names its examples, and readable PyTorch and Keras 3 scripts that rebuild the
//! model, load those weights, evaluate the test set (`test accuracy: NN.NN%`) and can retrain
//! it with the run's settings (`--train`).
//!
//! The scripts read the MNIST family and IMDB from Kindling's data folder and pick the run's
//! examples by the positions in the data file (Kindling's seeded, class-stratified draws are
//! not something numpy can repeat); generated toy sets and uploads travel in the data file.

pub mod archive;
pub mod keras;
pub mod python;
pub mod pytorch;
pub mod weights;

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};

use crate::data::loader::SplitPositions;
use crate::data::{Dataset, ExampleShape, Examples};
use crate::model::{Model, WeightsError};
use crate::record::RunRecord;

pub use archive::Framework;
#[cfg(not(target_family = "wasm"))]
pub use weights::model_from_pytorch;
pub use weights::{model_from_safetensors, safetensors_of, SAFETENSORS_EXTENSION};

/// Why a run could not be exported.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExportError {
    /// The weights could not be read or written.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// The data file could not be written.
    #[error("the data file could not be written: {0}")]
    Data(String),
    /// The zip archive of a framework's files could not be written.
    #[error("the archive could not be written: {0}")]
    Archive(String),
}

/// Where the scripts find the run's examples.
#[derive(Debug, Clone, Copy)]
pub enum ExportData<'a> {
    /// In the data folder's files, at these positions (the MNIST family and IMDB).
    Positions(&'a SplitPositions),
    /// Carried in the data file: the training and test examples themselves (toy sets, uploads).
    Carried {
        /// Training examples.
        train: &'a Dataset,
        /// Test examples.
        test: &'a Dataset,
    },
}

/// One file of an export, named for the folder it is written to.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportFile {
    /// File name (no folder).
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// What an export writes, by what it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The weights (`<run>.safetensors`).
    pub weights: ExportFile,
    /// The examples or their positions (`<run>-data.safetensors`).
    pub data: ExportFile,
    /// The PyTorch script (`<run>-pytorch.py`).
    pub pytorch: ExportFile,
    /// The Keras 3 script (`<run>-keras.py`).
    pub keras: ExportFile,
}

impl Export {
    /// Every file, weights first.
    pub fn files(&self) -> [&ExportFile; 4] {
        [&self.weights, &self.data, &self.pytorch, &self.keras]
    }
}

/// Exports `record`'s run with its trained `model` (on the CPU) and the data the scripts need.
pub fn export_run(
    record: &RunRecord,
    model: &Model,
    data: ExportData<'_>,
) -> Result<Export, ExportError> {
    let stem = record.file_stem();
    let weights_name = format!("{stem}.{SAFETENSORS_EXTENSION}");
    let data_name = format!("{stem}-data.{SAFETENSORS_EXTENSION}");
    let pytorch_name = format!("{stem}-pytorch.py");
    let keras_name = format!("{stem}-keras.py");
    let files = (weights_name.as_str(), data_name.as_str());
    Ok(Export {
        pytorch: ExportFile {
            bytes: pytorch::script(&record.config, &record.name, &pytorch_name, files).into_bytes(),
            name: pytorch_name,
        },
        keras: ExportFile {
            bytes: keras::script(&record.config, &record.name, &keras_name, files).into_bytes(),
            name: keras_name,
        },
        weights: ExportFile {
            bytes: safetensors_of(model)?,
            name: weights_name,
        },
        data: ExportFile {
            bytes: data_file(data)?,
            name: data_name,
        },
    })
}

/// One tensor of the data file: its dtype, shape and little-endian bytes.
struct Array {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Array {
    fn int64(values: impl ExactSizeIterator<Item = i64>, shape: Vec<usize>) -> Self {
        let mut bytes = Vec::with_capacity(values.len() * 8);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        Self {
            dtype: Dtype::I64,
            shape,
            bytes,
        }
    }

    fn uint8(values: &[u8], shape: Vec<usize>) -> Self {
        Self {
            dtype: Dtype::U8,
            shape,
            bytes: values.to_vec(),
        }
    }

    fn float32(values: impl ExactSizeIterator<Item = f32>, shape: Vec<usize>) -> Self {
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        Self {
            dtype: Dtype::F32,
            shape,
            bytes,
        }
    }
}

/// The examples of `data` with their labels (or values): features as f32, pixels as the u8 grey levels
/// (a quarter of f32's size; the script divides them by 255 as Kindling's batches do), token
/// ids as i64.
fn examples(data: &Dataset) -> (Array, Array) {
    let n = data.len();
    let shape = match data.shape {
        ExampleShape::Features(f) => vec![n, f],
        ExampleShape::Image([c, h, w]) => vec![n, c, h, w],
        ExampleShape::Tokens(len) => vec![n, len],
    };
    let x = match &data.examples {
        Examples::Dense(v) => Array::float32(v.iter().copied(), shape),
        Examples::Pixels(v) => Array::uint8(v, shape),
        Examples::Tokens(v) => Array::int64(v.iter().map(|&t| i64::from(t)), shape),
    };
    // A regression set's values to predict, else the classes.
    let y = match &data.targets {
        Some(values) => Array::float32(values.iter().copied(), vec![n]),
        None => Array::int64(data.labels.iter().map(|&l| i64::from(l)), vec![n]),
    };
    (x, y)
}

fn data_file(data: ExportData<'_>) -> Result<Vec<u8>, ExportError> {
    let arrays: Vec<(&str, Array)> = match data {
        ExportData::Positions(split) => {
            let positions = |p: &[usize]| Array::int64(p.iter().map(|&i| i as i64), vec![p.len()]);
            let mut arrays = vec![
                ("train_positions", positions(&split.train)),
                ("test_positions", positions(&split.test)),
            ];
            if let Some(validation) = &split.validation {
                arrays.push(("validation_positions", positions(validation)));
            }
            arrays
        }
        ExportData::Carried { train, test } => {
            let (train_x, train_y) = examples(train);
            let (test_x, test_y) = examples(test);
            vec![
                ("train_x", train_x),
                ("train_y", train_y),
                ("test_x", test_x),
                ("test_y", test_y),
            ]
        }
    };
    let views = arrays
        .iter()
        .map(|(name, a)| {
            TensorView::new(a.dtype, a.shape.clone(), &a.bytes)
                .map(|view| (*name, view))
                .map_err(|e| ExportError::Data(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = HashMap::from([("exported_by".to_string(), "Kindling".to_string())]);
    safetensors::serialize(views, Some(metadata)).map_err(|e| ExportError::Data(e.to_string()))
}
