//! Every limit Kindling holds its input to, with its value, in one list: the README's table
//! and the page's "Limits" panel are made from it (a test fails when the README's table
//! differs), so what a user is told is what the code enforces. Each value is the constant the
//! checks use, wherever that check lives.

use crate::data::config::{MAX_CLASS_NAME_CHARS, TOY_SIZES};
use crate::data::csv::{MAX_CLASSES, MAX_FEATURES, MAX_ROWS, MAX_VALUES};
use crate::data::idx::MAX_INFLATED_BYTES;
use crate::data::idx_images::{MAX_IMAGES, MAX_IMAGE_SIDE};
use crate::data::imdb::MAX_REVIEW_CHARS;
use crate::data::upload::MAX_UPLOAD_BYTES;
use crate::link::{MAX_LINK_CHARS, MAX_LINK_PAYLOAD_BYTES};
use crate::model::sequence::{MAX_EXAMPLE_LEN, MAX_VOCABULARY};
use crate::model::summary::{human_bytes, thousands};
use crate::model::validation::{
    MAX_CHANNELS, MAX_DEPTH, MAX_EMBEDDING, MAX_FILTERS, MAX_INPUTS, MAX_KERNEL, MAX_SIDE,
    MAX_STRIDE, MAX_WIDTH,
};
use crate::record::{MAX_CURVE_POINTS, MAX_MODEL_FILE_BYTES, MAX_NOTES_CHARS, MAX_RUN_NAME_CHARS};
use crate::run::{MAX_BATCH_SETTING, MAX_EPOCHS, MAX_TRAINING_BYTES};
use crate::sweep::MAX_SWEEP_RUNS;
use crate::train::MAX_MATRIX_CLASSES;

/// One limit: what it bounds and its value, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// What it applies to ("Uploads", "Models", ...).
    pub area: &'static str,
    /// What is bounded.
    pub what: &'static str,
    /// The bound, as a user reads it.
    pub value: String,
}

fn limit(area: &'static str, what: &'static str, value: impl Into<String>) -> Limit {
    Limit {
        area,
        what,
        value: value.into(),
    }
}

fn count(n: usize) -> String {
    thousands(n as u64)
}

/// File sizes as the refusals give them: megabytes of 2^20 bytes.
fn megabytes(bytes: u64) -> String {
    format!("{} MB", thousands(bytes >> 20))
}

/// Every limit, grouped by area.
pub fn limits() -> Vec<Limit> {
    vec![
        limit(
            "Training",
            "memory a run may need (weights, gradients, optimizer state, a batch's activations)",
            human_bytes(MAX_TRAINING_BYTES),
        ),
        limit("Training", "epochs", count(MAX_EPOCHS)),
        limit(
            "Training",
            "batch size",
            "the training examples (at most all of them)",
        ),
        limit(
            "Training",
            "evaluation batch, batches between loss read-backs",
            count(MAX_BATCH_SETTING),
        ),
        limit("Training", "runs in a sweep", count(MAX_SWEEP_RUNS)),
        limit(
            "Models",
            "units in a layer",
            format!("{} (MLP inputs: {})", count(MAX_WIDTH), count(MAX_INPUTS)),
        ),
        limit("Models", "hidden layers of an MLP", count(MAX_DEPTH)),
        limit(
            "Models",
            "layers of a CNN stack",
            format!(
                "{}; filters {}, kernel {}, stride and pool {}",
                count(4 * MAX_DEPTH),
                count(MAX_FILTERS),
                MAX_KERNEL,
                MAX_STRIDE
            ),
        ),
        limit(
            "Models",
            "CNN input",
            format!("{MAX_CHANNELS} channels of {MAX_SIDE} x {MAX_SIDE} pixels"),
        ),
        limit(
            "Models",
            "IMDB dictionary, words per review",
            format!("{}, {}", count(MAX_VOCABULARY), count(MAX_EXAMPLE_LEN)),
        ),
        limit(
            "Models",
            "embedding length, recurrent units",
            format!("{} each", count(MAX_EMBEDDING)),
        ),
        limit(
            "Models",
            "bytes of an imported model file",
            megabytes(MAX_MODEL_FILE_BYTES as u64),
        ),
        limit(
            "Data",
            "points of a toy set",
            format!("{} to {}", count(TOY_SIZES.0), count(TOY_SIZES.1)),
        ),
        limit(
            "Uploads",
            "bytes of an upload (all its files; 1 MB = 2^20 bytes)",
            megabytes(MAX_UPLOAD_BYTES as u64),
        ),
        limit(
            "Uploads",
            "bytes a gzip file may inflate to",
            megabytes(MAX_INFLATED_BYTES),
        ),
        limit("Uploads", "CSV rows", count(MAX_ROWS)),
        limit("Uploads", "CSV feature columns", count(MAX_FEATURES)),
        limit("Uploads", "CSV values (rows x columns)", count(MAX_VALUES)),
        limit("Uploads", "classes", count(MAX_CLASSES)),
        limit(
            "Uploads",
            "characters of a class name (a label)",
            count(MAX_CLASS_NAME_CHARS),
        ),
        limit("Uploads", "idx images", count(MAX_IMAGES)),
        limit(
            "Uploads",
            "idx image height and width",
            format!("{} pixels", count(MAX_IMAGE_SIDE)),
        ),
        limit("Links", "characters of a share link", count(MAX_LINK_CHARS)),
        limit(
            "Links",
            "bytes a link's run inflates to",
            format!("{} KB", MAX_LINK_PAYLOAD_BYTES >> 10),
        ),
        limit(
            "Links and model files",
            "characters of a run's name, of its notes",
            format!("{}, {}", count(MAX_RUN_NAME_CHARS), count(MAX_NOTES_CHARS)),
        ),
        limit(
            "Links",
            "points of a run's kept curve",
            count(MAX_CURVE_POINTS),
        ),
        limit(
            "Page",
            "classes a confusion matrix shows one by one (the rest together)",
            count(MAX_MATRIX_CLASSES),
        ),
        limit(
            "Page",
            "characters of a typed review that are read (its end)",
            count(MAX_REVIEW_CHARS),
        ),
    ]
}

/// The limits as the README's Markdown table.
pub fn limits_markdown() -> String {
    let mut out = String::from("| Area | Limit | Value |\n|---|---|---|\n");
    for l in limits() {
        out.push_str(&format!("| {} | {} | {} |\n", l.area, l.what, l.value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README lists every limit with the value the code enforces (regenerate the table
    /// with `limits_markdown()` when a limit changes).
    #[test]
    fn the_readme_lists_every_limit_with_its_value() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md");
        let table = limits_markdown();
        assert!(
            readme.contains(&table),
            "README.md's limits table differs from the code's; it should read:\n{table}"
        );
    }

    #[test]
    fn values_are_the_enforced_constants() {
        let all = limits();
        let memory = all.iter().find(|l| l.what.starts_with("memory")).unwrap();
        assert_eq!(memory.value, "2.15 GB");
        let rows = all.iter().find(|l| l.what == "CSV rows").unwrap();
        assert_eq!(rows.value, "1,000,000");
    }
}
