//! Why the worker cannot do what the page asked: every failure it reports, as one type whose
//! text is what the page shows (each names what to do next).

use kindling_core::data::DataError;
use kindling_core::export::ExportError;
use kindling_core::model::WeightsError;
use kindling_core::train::TrainError;
use kindling_core::ConfigError;

/// A failure of the worker, shown to the user as its text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    /// A dataset file is missing, malformed or damaged.
    #[error("{0}")]
    Data(#[from] DataError),
    /// The run cannot be built or trained.
    #[error("{0}")]
    Train(#[from] TrainError),
    /// A data file could not be requested at all.
    #[error(
        "cannot download data/{file}: {reason}. Is the data folder served? Run `cargo xtask data`."
    )]
    Unreachable {
        /// The file.
        file: String,
        /// The browser's reason.
        reason: String,
    },
    /// The server answered a data file with an error status.
    #[error("data/{file} is not served (HTTP {status}): run `cargo xtask data` and serve again")]
    NotServed {
        /// The file.
        file: String,
        /// The HTTP status.
        status: u16,
    },
    /// A downloaded file is not what the manifest says.
    #[error("{0}. Run `cargo xtask data` to rebuild the data folder, then reload.")]
    Damaged(DataError),
    /// The browser failed while reading (a stream, a device read-back).
    #[error("{0}")]
    Browser(String),
    /// A run names an upload this tab no longer holds.
    #[error(
        "\"{0}\" is not loaded in this tab (uploads last until the page closes): upload it again \
         under Build → Dataset"
    )]
    UploadGone(String),
    /// A run's config is out of range.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A saved model's run has a config out of range.
    #[error("the run's config is not valid: {0}")]
    SavedConfig(ConfigError),
    /// The IMDB vocabulary is not in the data folder's manifest.
    #[error("the IMDB vocabulary is not in the data folder: run `cargo xtask data`")]
    NoVocabulary,
    /// Weights that do not load into the run's model.
    #[error("{0}")]
    Weights(#[from] WeightsError),
    /// A run's export could not be written.
    #[error("{0}")]
    Export(#[from] ExportError),
    /// The uploaded files' bytes do not add up to their sizes.
    #[error("the files arrived incomplete: choose them again")]
    IncompleteUpload,
}

impl WorkerError {
    /// Whether the text mentions `what` (for tests of the messages).
    #[cfg(test)]
    pub(crate) fn contains(&self, what: &str) -> bool {
        self.to_string().contains(what)
    }
}
