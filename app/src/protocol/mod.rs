//! The messages between the page and the training worker: one enum each way, sent as JSON.
//! The page never touches tensors; the worker never touches the DOM.

use kindling_core::data::upload::UploadedData;
use kindling_core::inside::health::HealthReport;
use kindling_core::inside::{ImageLayers, NetworkView, ReviewTrace, UnitImages};
use kindling_core::record::{RunRecord, RunStatus};
use kindling_core::train::{BatchPoint, DeviceSpeeds, EpochMetrics, Steer};
use kindling_core::{DeviceChoice, RunConfig};
use serde::{Deserialize, Serialize};

use crate::faults::Fault;

mod payloads;

pub use payloads::{
    BoundaryMap, CpuThreads, DataPreview, DevicePick, ExportFormat, ImageExample, ProgressReport,
    ReviewExample, TestReport, ToyPoint,
};

/// A message that is not one of the protocol's (another version of the page or worker, or a
/// damaged one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable message to {to}: {reason}")]
pub struct UnreadableMessage {
    /// Who it was sent to.
    pub to: &'static str,
    /// What serde could not read.
    pub reason: String,
}

/// What the page asks of the worker.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum ToWorker {
    /// Load the run's data, build its model and train it. A running run is stopped first.
    Start {
        /// The page's id of the run, echoed in every message about it.
        run_id: u64,
        /// The whole run.
        config: Box<RunConfig>,
        /// How its device is picked.
        #[serde(default)]
        pick: DevicePick,
        /// Whether it starts paused (to be stepped a batch at a time).
        #[serde(default)]
        paused: bool,
    },
    /// Pause training after the current batch.
    Pause,
    /// Resume a paused run.
    Resume,
    /// Train exactly one batch of the paused run, then send every view anew.
    Step,
    /// Send the test images of a confusion-matrix cell (the run's model, once it ended).
    /// Answered by `CellExamples`.
    CellExamples {
        /// True class.
        truth: u32,
        /// Predicted class.
        predicted: u32,
    },
    /// Open or close the live views (the network view, the boundary map, the first-layer
    /// weight images): closed, the worker computes none of them; opened, it sends them at once.
    Views {
        /// Whether they are open.
        open: bool,
    },
    /// Change hyper-parameters of the paused run from its next batch on (the worker records
    /// the batch). Answered by `Steered`.
    Steer {
        /// What changes (its `at_step` is set by the worker).
        change: Steer,
    },
    /// Stop the run (its model stays for predictions).
    Stop,
    /// Classify a drawn digit, already preprocessed as MNIST was (28x28 grey levels, ink high).
    PredictImage {
        /// Echoed in the answer; the page keeps only the latest.
        request: u64,
        /// 784 grey levels, row-major (or 196 of a tinyMNIST test image).
        pixels: Vec<u8>,
        /// Read with the current run's model even when a saved one is in use (a test image of
        /// the run's report).
        #[serde(default)]
        run_model: bool,
    },
    /// Score a review's sentiment with the IMDB model.
    PredictReview {
        /// Echoed in the answer.
        request: u64,
        /// The review as typed.
        text: String,
    },
    /// Load a saved model (a kept run's weights, or uploaded ones) and use it for the drawing
    /// and the review box, until the next run starts. Answered by `ModelInUse` or
    /// `ModelRejected`.
    UseModel {
        /// The page's id of the run the weights belong to.
        run_id: u64,
        /// Its name, for messages.
        name: String,
        /// Its config (the weights must fit its model).
        config: Box<RunConfig>,
        /// The weights (burnpack bytes); they travel beside the JSON, not in it.
        #[serde(skip)]
        weights: Vec<u8>,
    },
    /// Read the user's own data (one CSV file, or idx images and labels) and keep it for runs
    /// on it. Answered by `DataUploaded` or `UploadRejected`.
    UploadData {
        /// Echoed in the answer.
        request: u64,
        /// The files' names, in order.
        names: Vec<String>,
        /// Their sizes in bytes (the attachment is the files one after another).
        sizes: Vec<usize>,
        /// The files' bytes; they travel beside the JSON, not in it.
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// Export a kept run for use elsewhere: its weights as safetensors, or a framework's
    /// script with the weights and the data file, zipped. Answered by `Exported` or
    /// `ExportFailed`.
    Export {
        /// The run (its config builds the model; its name names the files).
        record: Box<RunRecord>,
        /// What to make.
        format: ExportFormat,
        /// The run's weights (burnpack bytes); they travel beside the JSON, not in it.
        #[serde(skip)]
        weights: Vec<u8>,
    },
    /// Fail on purpose as `fault` does (for the browser tests of recovery; the page sends it
    /// only on a [`crate::faults::FAULT_EVENT`] that a script dispatches). Nothing answers:
    /// the worker dies.
    Fault {
        /// How to fail.
        fault: Fault,
    },
}

/// What the worker tells the page.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum FromWorker {
    /// The worker has started; `webgpu` says whether a WebGPU adapter exists here.
    Ready {
        /// A WebGPU adapter was found.
        webgpu: bool,
        /// The CPU device's threads, and why that many.
        threads: CpuThreads,
    },
    /// Data is being downloaded (or read from the cache).
    Loading {
        /// The run.
        run_id: u64,
        /// File being read.
        file: String,
        /// Bytes read so far, over all of the run's files.
        loaded: u64,
        /// Bytes in all, when known.
        total: u64,
        /// Whether the bytes came from the browser's cache.
        cached: bool,
    },
    /// The data is ready and the model is built; training starts.
    Started {
        /// The run.
        run_id: u64,
        /// The device actually used.
        device: DeviceChoice,
        /// Why the device differs from the one asked for, if it does.
        device_note: Option<String>,
        /// The figures the device (and the CPU's threads) were picked by, when measured.
        speeds: Option<DeviceSpeeds>,
        /// The threads the CPU device trains this run on (when the run is on the CPU).
        cpu_threads: u32,
        /// The run's first batches take turns on one thread and on every thread of the pool;
        /// `ThreadsPicked` says which it goes on with.
        #[serde(default)]
        trying_threads: bool,
        /// What the data looks like.
        preview: Box<DataPreview>,
    },
    /// The network view of an MLP run, as it is now (a few times a second at most).
    Network {
        /// The run.
        run_id: u64,
        /// Its layers' weights, and on 2-D data every unit's map.
        view: Box<NetworkView>,
    },
    /// Every layer's health at a probed step (every few seconds at most, and each epoch's
    /// last step).
    Health {
        /// The run.
        run_id: u64,
        /// The report.
        report: Box<HealthReport>,
    },
    /// The incoming weights of each first-layer unit of an MLP on images, as images (every
    /// few seconds at most).
    UnitWeights {
        /// The run.
        run_id: u64,
        /// The images (their levels travel beside the JSON).
        images: Box<UnitImages>,
    },
    /// A run's turns on one thread and on the pool are over (or the run ended during them):
    /// the threads it goes on with, and the figures that picked them (none when the run ended
    /// before both had a turn).
    ThreadsPicked {
        /// The run.
        run_id: u64,
        /// The threads it trains on from now.
        cpu_threads: u32,
        /// Each side's samples/s.
        speeds: Option<DeviceSpeeds>,
    },
    /// The run's data is loaded; the worker measures which device trains its model faster
    /// (a fraction of a second on each) before it starts.
    MeasuringDevices {
        /// The run.
        run_id: u64,
    },
    /// Training progress, at most a few times a second.
    Progress {
        /// The run.
        run_id: u64,
        /// Where it is.
        progress: ProgressReport,
        /// New points of the batch curve since the last message.
        points: Vec<BatchPoint>,
    },
    /// An epoch ended.
    Epoch {
        /// The run.
        run_id: u64,
        /// Its metrics.
        metrics: EpochMetrics,
    },
    /// The decision boundary of a 2-D run, as it is now.
    Boundary {
        /// The run.
        run_id: u64,
        /// The map.
        map: BoundaryMap,
    },
    /// The test images of a confusion-matrix cell.
    CellExamples {
        /// The run.
        run_id: u64,
        /// True class.
        truth: u32,
        /// Predicted class.
        predicted: u32,
        /// Test examples in the cell.
        total: usize,
        /// The first of them, each with the probability the model gave its prediction.
        images: Vec<(ImageExample, f32)>,
    },
    /// A change of hyper-parameters of the paused run, recorded or refused.
    Steered {
        /// The run.
        run_id: u64,
        /// The change as recorded (with its batch), or why it was refused.
        result: Result<Steer, String>,
    },
    /// Training was paused (true) or resumed (false).
    Paused {
        /// The run.
        run_id: u64,
        /// Now paused.
        paused: bool,
    },
    /// The run ended; the model stays loaded for predictions.
    Ended {
        /// The run.
        run_id: u64,
        /// How (finished, stopped or diverged).
        end: RunStatus,
        /// The test-set report (absent when no epoch completed).
        report: Option<Box<TestReport>>,
        /// Final progress (time, throughput).
        progress: ProgressReport,
    },
    /// The weights of a run that ended (finished or stopped), to keep with it.
    Weights {
        /// The run.
        run_id: u64,
        /// Burnpack bytes; they travel beside the JSON, not in it.
        #[serde(skip)]
        weights: Vec<u8>,
    },
    /// A run's export, ready to download.
    Exported {
        /// The run.
        run_id: u64,
        /// The file's name.
        name: String,
        /// The file; it travels beside the JSON, not in it.
        #[serde(skip)]
        bytes: Vec<u8>,
    },
    /// A run could not be exported.
    ExportFailed {
        /// The run.
        run_id: u64,
        /// Why, naming the run.
        message: String,
    },
    /// A saved model was loaded: the drawing and the review box now use it.
    ModelInUse {
        /// The run whose weights they are.
        run_id: u64,
        /// Its name.
        name: String,
    },
    /// Weights that could not be used (damaged, or another model's).
    ModelRejected {
        /// The run they were offered for.
        run_id: u64,
        /// Why, for the user.
        message: String,
    },
    /// The user's data was read and is kept for runs on it.
    DataUploaded {
        /// The request answered.
        request: u64,
        /// The data as a run names it.
        data: UploadedData,
        /// What it looks like.
        preview: Box<DataPreview>,
    },
    /// The user's data could not be read; the message says where (file, line, column).
    UploadRejected {
        /// The request answered.
        request: u64,
        /// Why.
        message: String,
    },
    /// The run could not start or failed on the way; nothing more comes for it.
    Failed {
        /// The run.
        run_id: u64,
        /// What went wrong, for the user.
        message: String,
    },
    /// A drawn digit's class probabilities.
    ImagePrediction {
        /// The request answered.
        request: u64,
        /// Probability per class.
        #[serde(deserialize_with = "kindling_core::nan_json::f32s_or_nan")]
        probabilities: Vec<f32>,
        /// What every layer computed for it, and the first filters (a CNN, or an MLP); their
        /// levels travel beside the JSON.
        #[serde(default)]
        layers: Option<Box<ImageLayers>>,
        /// The image exactly as the model read it (28x28, or 14x14 for tinyMNIST).
        input: ImageExample,
    },
    /// A review's sentiment.
    ReviewPrediction {
        /// The request answered.
        request: u64,
        /// Probability that the review is positive.
        #[serde(deserialize_with = "kindling_core::nan_json::f32_or_nan")]
        positive: f32,
        /// Words outside the model's vocabulary (they read as "unknown").
        unknown: Vec<String>,
        /// Tokens read.
        tokens: usize,
        /// How it read the review word by word (a recurrent model); the states' levels travel
        /// beside the JSON.
        #[serde(default)]
        trace: Option<Box<ReviewTrace>>,
    },
    /// A prediction could not be made (no suitable model yet, say).
    PredictionUnavailable {
        /// The request.
        request: u64,
        /// Why.
        message: String,
    },
    /// The worker itself failed (a panic): it is dead, and the page starts a fresh one.
    Crashed {
        /// The panic message.
        message: String,
    },
    /// The worker's memory allocator failed. Sent from inside the allocator, so it never
    /// allocates; the abort that usually follows kills the worker, and this says why.
    OutOfMemory {
        /// Bytes asked for.
        requested: u64,
        /// Bytes of WebAssembly memory held then.
        memory: u64,
    },
}

/// Room for the JSON of a [`FromWorker::OutOfMemory`], which the worker's allocator writes into
/// a buffer of this size on its stack.
pub const OUT_OF_MEMORY_NOTE_BYTES: usize = 96;

impl ToWorker {
    /// JSON text of the message.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("messages always serialise")
    }

    /// Bytes that travel beside the JSON (weights), if any.
    pub fn attachment(&self) -> Option<&[u8]> {
        match self {
            ToWorker::UseModel { weights, .. } => Some(weights),
            ToWorker::UploadData { bytes, .. } => Some(bytes),
            ToWorker::Export { weights, .. } => Some(weights),
            _ => None,
        }
    }

    /// Puts back the bytes that travelled beside the JSON.
    pub fn attach(mut self, bytes: Vec<u8>) -> Self {
        match &mut self {
            ToWorker::UseModel { weights, .. } => *weights = bytes,
            ToWorker::UploadData { bytes: b, .. } => *b = bytes,
            ToWorker::Export { weights, .. } => *weights = bytes,
            _ => {}
        }
        self
    }

    /// Parses a message.
    pub fn decode(text: &str) -> Result<Self, UnreadableMessage> {
        serde_json::from_str(text).map_err(|e| UnreadableMessage {
            to: "the worker",
            reason: e.to_string(),
        })
    }
}

impl FromWorker {
    /// JSON text of the message.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("messages always serialise")
    }

    /// Bytes that travel beside the JSON (weights), if any.
    pub fn attachment(&self) -> Option<&[u8]> {
        match self {
            FromWorker::Weights { weights, .. } => Some(weights),
            FromWorker::Exported { bytes, .. } => Some(bytes),
            FromWorker::UnitWeights { images, .. } => Some(&images.levels),
            FromWorker::ImagePrediction {
                layers: Some(layers),
                ..
            } => Some(&layers.levels),
            FromWorker::ReviewPrediction {
                trace: Some(trace), ..
            } => Some(&trace.levels),
            _ => None,
        }
    }

    /// Puts back the bytes that travelled beside the JSON.
    pub fn attach(mut self, bytes: Vec<u8>) -> Self {
        match &mut self {
            FromWorker::Weights { weights, .. } => *weights = bytes,
            FromWorker::Exported { bytes: b, .. } => *b = bytes,
            FromWorker::UnitWeights { images, .. } => images.levels = bytes,
            FromWorker::ImagePrediction {
                layers: Some(layers),
                ..
            } => layers.levels = bytes,
            FromWorker::ReviewPrediction {
                trace: Some(trace), ..
            } => trace.levels = bytes,
            _ => {}
        }
        self
    }

    /// Parses a message.
    pub fn decode(text: &str) -> Result<Self, UnreadableMessage> {
        serde_json::from_str(text).map_err(|e| UnreadableMessage {
            to: "the page",
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
