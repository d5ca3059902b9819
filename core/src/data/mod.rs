//! Datasets: in-memory examples and labels, batching, decoders, loaders and the generated
//! 2-D toy sets.

pub mod config;
pub mod csv;
pub mod dataset;
pub mod digit;
pub mod idx_images;
pub mod imdb;
pub mod loader;
pub mod split;
pub mod toy;
pub mod upload;

pub use config::{DatasetConfig, DatasetId, ImageSubset, ImdbSubset};
pub use dataset::{Batch, Dataset, ExampleShape, Examples, TrainingData};
pub use split::held_out_size;
pub use toy::{ToyConfig, ToyKind};

/// The file formats (idx, the IMDB token files, `manifest.json`) and their errors live in
/// `kindling-formats`, which builds without burn (`cargo xtask data` uses it alone).
pub use kindling_formats::{idx, manifest, DataError};
