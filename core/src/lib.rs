//! Kindling core: datasets, models (MLP, CNN, Embedding + LSTM/GRU), training, the homework's
//! hand-written backprop network, and run configs. No web or CLI dependencies: it builds
//! natively and for `wasm32-unknown-unknown`.
#![warn(missing_docs)]

pub mod checks;
pub mod data;
pub mod device;
pub mod export;
pub mod hw1;
pub mod inside;
pub mod lesson;
pub mod limits;
pub mod link;
pub mod model;
#[doc(hidden)]
pub mod mutations;
pub mod nan_json;
pub mod record;
pub mod run;
pub mod sweep;
pub mod train;

pub use device::{DeviceChoice, DeviceError, UnknownDevice};
pub use run::{ConfigError, DatasetConfig, Engine, RunConfig};

/// Drives a future to completion on the current thread (native code: the CLI and tests).
/// Training futures only wait on device read-backs, which complete on their own natively.
#[cfg(not(target_family = "wasm"))]
pub use pollster::block_on;
