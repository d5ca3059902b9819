//! What the messages carry besides commands: how a device is picked, what an export makes,
//! and the data of the page's views (progress, the boundary map, examples, the test report).

use kindling_core::export::Framework;
use kindling_core::train::{DeviceSpeeds, Progress};
use serde::{Deserialize, Serialize};

/// How the worker picks the device a run trains on.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub enum DevicePick {
    /// The one the run's config names (the user chose it, or a shared run is reproduced).
    #[default]
    AsConfigured,
    /// The faster for this model here: by `known` figures for its shape
    /// ([`kindling_core::train::speed_key`]), else measured now (the page is told with
    /// `MeasuringDevices`, and gets the figures with `Started` to keep).
    Fastest {
        /// Figures measured before for this model shape, if the page kept some.
        known: Option<DeviceSpeeds>,
    },
}

/// The threads of the worker's CPU device, as it started ([`FromWorker::Ready`]).
///
/// [`FromWorker::Ready`]: super::FromWorker::Ready
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CpuThreads {
    /// Threads the CPU device may use (1 without shared memory).
    pub available: u32,
    /// Why that many, in a few words for the header: "cross-origin isolated".
    pub reason: String,
    /// Why that many, in full: "2 threads: this page is cross-origin isolated, ...".
    pub note: String,
}

impl CpuThreads {
    /// One thread, because of `why` (`reason` in a few words).
    pub fn one(reason: &str, why: &str) -> CpuThreads {
        CpuThreads {
            available: 1,
            reason: reason.into(),
            note: format!("1 thread: {why}"),
        }
    }
}

/// What the page downloads of a run to take it elsewhere.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A framework's script with the weights and the data file, as one zip.
    Framework(Framework),
    /// The weights alone, as safetensors with PyTorch's names and layouts.
    Safetensors,
}

impl ExportFormat {
    /// What the user sees it called.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Framework(Framework::PyTorch) => "PyTorch",
            ExportFormat::Framework(Framework::Keras) => "Keras",
            ExportFormat::Safetensors => "safetensors",
        }
    }
}

/// A point of the 2-D toy sets' decision-boundary map.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BoundaryMap {
    /// Cells per side.
    pub resolution: usize,
    /// Data-space extent shown: [x_min, x_max, y_min, y_max].
    pub extent: [f32; 4],
    /// Per cell, row-major from the top (y_max) row: the probability of class 1 (two
    /// classes, or a unit's shade), or with `winners` the winning class's probability.
    pub class1: Vec<f32>,
    /// With more than two classes: the winning class of each cell.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub winners: Vec<u8>,
    /// Classes of the map (2 unless `winners` are given).
    #[serde(default = "two")]
    pub classes: usize,
    /// On a regression set: `class1` holds the model's predicted value of each cell, shown
    /// against this scale (the largest size of the set's values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_scale: Option<f32>,
}

fn two() -> usize {
    2
}

impl BoundaryMap {
    /// How many classes win some cell of the map.
    pub fn classes_shown(&self) -> usize {
        if self.winners.is_empty() {
            let ones = self.class1.iter().filter(|&&p| p >= 0.5).count();
            usize::from(ones > 0) + usize::from(ones < self.class1.len())
        } else {
            let mut seen = [false; 256];
            for &w in &self.winners {
                seen[w as usize] = true;
            }
            seen.iter().filter(|&&s| s).count()
        }
    }

    /// The map of a model's class probabilities (`probabilities`: `[cells, classes]`, rows
    /// of a `resolution` x `resolution` grid over `extent`).
    pub fn of_probabilities(
        resolution: usize,
        extent: [f32; 4],
        probabilities: &[f32],
        classes: usize,
    ) -> BoundaryMap {
        let classes = classes.max(2);
        if classes == 2 {
            return BoundaryMap {
                resolution,
                extent,
                class1: probabilities.chunks(2).map(|pair| pair[1]).collect(),
                winners: Vec::new(),
                classes,
                value_scale: None,
            };
        }
        let (winners, class1) = probabilities
            .chunks(classes)
            .map(|row| {
                let w = kindling_core::train::argmax(row);
                (w as u8, row[w as usize])
            })
            .unzip();
        BoundaryMap {
            resolution,
            extent,
            class1,
            winners,
            classes,
            value_scale: None,
        }
    }

    /// The map of a regression model's predicted values (`values`, one per cell, rows of a
    /// `resolution` x `resolution` grid over `extent`), shown against `scale`.
    pub fn of_values(resolution: usize, extent: [f32; 4], values: Vec<f32>, scale: f32) -> Self {
        BoundaryMap {
            resolution,
            extent,
            class1: values,
            winners: Vec::new(),
            classes: 2,
            value_scale: Some(scale.max(1e-6)),
        }
    }
}

/// A labelled 2-D point of a toy set.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct ToyPoint {
    /// Coordinates.
    pub x: f32,
    /// Coordinates.
    pub y: f32,
    /// Class (0 on a regression set).
    pub label: u32,
    /// Whether it is a test point (drawn with an outline).
    pub test: bool,
    /// Its value, on a regression set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f32>,
}

/// An image example shown to the user.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ImageExample {
    /// Side length (28 or 14).
    pub side: usize,
    /// Grey levels, row-major.
    pub pixels: Vec<u8>,
    /// True class.
    pub label: u32,
    /// Predicted class (for misclassified examples).
    pub predicted: Option<u32>,
}

/// A review shown to the user.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ReviewExample {
    /// The review's words as the model sees them (vocabulary words; rare ones as `<?>`).
    pub text: String,
    /// 1 positive, 0 negative.
    pub label: u32,
    /// Tokens in the review before padding/truncation.
    pub tokens: usize,
    /// Predicted class (for misclassified examples).
    pub predicted: Option<u32>,
}

/// What the loaded data looks like.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct DataPreview {
    /// Dataset name.
    pub name: String,
    /// Examples per split: train, validation, test.
    pub sizes: [usize; 3],
    /// Training examples per class.
    pub class_counts: Vec<usize>,
    /// Class names.
    pub class_names: Vec<String>,
    /// A few training images.
    pub images: Vec<ImageExample>,
    /// A few training reviews.
    pub reviews: Vec<ReviewExample>,
    /// Every point of a toy set.
    pub points: Vec<ToyPoint>,
    /// The worker's WebAssembly memory once the data is loaded, in bytes.
    #[serde(default)]
    pub memory_bytes: u64,
}

/// Where training is: core's [`Progress`] with the time and throughput the worker measures.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
pub struct ProgressReport {
    /// Epoch, batch and examples done, and in all.
    #[serde(flatten)]
    pub progress: Progress,
    /// Training throughput since the run started (pauses excluded).
    pub samples_per_second: f64,
    /// Training time so far, in seconds (pauses excluded).
    pub seconds: f64,
}

/// The test-set report after a run: confusion matrix and mistakes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct TestReport {
    /// Test accuracy.
    pub accuracy: f64,
    /// Test examples.
    pub examples: usize,
    /// `confusion[true][predicted]` over `matrix_classes` (then, with `matrix_others`, one
    /// row and column for the rest: at most [`kindling_core::train::MAX_MATRIX_CLASSES`]).
    pub confusion: Vec<Vec<usize>>,
    /// The class ids of the matrix's rows and columns.
    pub matrix_classes: Vec<u32>,
    /// Whether the matrix's last row and column count the classes not shown one by one.
    pub matrix_others: bool,
    /// Class names.
    pub class_names: Vec<String>,
    /// Misclassified test images (the first few).
    pub wrong_images: Vec<ImageExample>,
    /// Misclassified test reviews (the first few).
    pub wrong_reviews: Vec<ReviewExample>,
}
