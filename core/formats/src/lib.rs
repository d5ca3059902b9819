//! The datasets' file formats, without burn: the idx files of MNIST and Fashion-MNIST (raw or
//! gzip), the IMDB tokenizer and token files, and `data/manifest.json` with its sha256 checks.
//! `cargo xtask data` writes them with this crate alone (no burn to build first);
//! `kindling-core` reads them and re-exports these modules as `kindling_core::data::idx`,
//! `kindling_core::data::imdb` and `kindling_core::data::manifest`.

#![warn(missing_docs)]

pub mod idx;
pub mod imdb;
pub mod manifest;

/// Why a dataset cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// The converted files are not there.
    #[error("{dataset} is not on this machine ({path} is missing): run `{command}` to make it")]
    Missing {
        /// Dataset name.
        dataset: String,
        /// The file looked for.
        path: String,
        /// The command that makes it.
        command: String,
    },
    /// A file is not what it should be.
    #[error("{file}, byte {position}: {message}")]
    Malformed {
        /// File name.
        file: String,
        /// Byte offset (or line, for text formats) of the problem.
        position: usize,
        /// What is wrong.
        message: String,
    },
    /// A text file (CSV) is not what it should be; the message starts with the line (and
    /// column) of the problem.
    #[error("{file}, {message}")]
    Text {
        /// File name.
        file: String,
        /// Line of the problem, from 1.
        line: usize,
        /// What is wrong and where.
        message: String,
    },
    /// Reading failed.
    #[error("cannot read {file}: {message}")]
    Io {
        /// File name.
        file: String,
        /// The system's message.
        message: String,
    },
}
