//! The training worker: owns the devices, the data and the [`TrainingRun`]; talks to the page
//! only through [`ToWorker`] / [`FromWorker`] messages. It trains in slices of about 40 ms and
//! yields to its event loop between them, so pause, stop and predictions are answered mid-run.

use std::cell::Cell;
use std::collections::HashMap;

use burn::tensor::Device;
use futures_channel::mpsc;
use futures_util::StreamExt;
use kindling_core::data::digit::to_tiny;
use kindling_core::data::imdb::Vocabulary;
use kindling_core::data::loader::{
    load_dataset_with, required_files, vocabulary_from_bytes, VOCABULARY_FILE,
};
use kindling_core::data::manifest::{Manifest, MANIFEST_FILE};
use kindling_core::data::upload::{decode_upload, UploadedData};
use kindling_core::data::{DataError, Dataset, ExampleShape, Examples, TrainingData};
use kindling_core::model::SavedModel;
use kindling_core::train::{confusion_matrix, TrainerState, TrainingRun};
use kindling_core::{DatasetConfig, DeviceChoice, RunConfig};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{
    class_names, BoundaryMap, DataPreview, FromWorker, ImageExample, ProgressReport, ReviewExample,
    RunEnd, TestReport, ToWorker, ToyPoint,
};

/// Milliseconds of training between two yields to the worker's event loop.
const SLICE_MS: f64 = 40.0;
/// Least milliseconds between two progress messages.
const PROGRESS_MS: f64 = 150.0;
/// Least milliseconds between two decision-boundary maps.
const BOUNDARY_MS: f64 = 600.0;
/// Cells per side of the decision-boundary map.
const BOUNDARY_RESOLUTION: usize = 48;
/// Name of the Cache API store of dataset files; bump it when the asset format changes.
const CACHE_NAME: &str = "kindling-data-v1";

thread_local! {
    static CRASHED: Cell<bool> = const { Cell::new(false) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends a message to the page.
fn post(message: &FromWorker) {
    let (value, transfer) = crate::transport::outgoing(message.encode(), message.attachment());
    let sent = match transfer {
        Some(transfer) => scope().post_message_with_transfer(&value, &transfer),
        None => scope().post_message(&value),
    };
    if let Err(e) = sent {
        web_sys::console::error_2(&"kindling worker: cannot post a message".into(), &e);
    }
}

/// The size of this worker's WebAssembly memory (it only grows).
fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Gives the worker's event loop a turn (so queued messages are delivered).
async fn yield_now() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// Starts the worker: installs the panic reporter and the message handler, then runs the actor.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        if !CRASHED.with(|c| c.replace(true)) {
            post(&FromWorker::Crashed {
                message: info.to_string(),
            });
        }
    }));
    let (sender, inbox) = mpsc::unbounded::<ToWorker>();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some((text, bytes)) = crate::transport::incoming(event.data()) else {
            return;
        };
        match ToWorker::decode(&text) {
            Ok(message) => {
                let message = match bytes {
                    Some(bytes) => message.attach(bytes),
                    None => message,
                };
                let _ = sender.unbounded_send(message);
            }
            Err(e) => web_sys::console::warn_1(&e.into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    wasm_bindgen_futures::spawn_local(async move {
        let webgpu = webgpu_adapter_exists().await;
        post(&FromWorker::Ready { webgpu });
        Actor::new(inbox, webgpu).run().await;
    });
}

/// Whether `navigator.gpu.requestAdapter()` gives an adapter here.
async fn webgpu_adapter_exists() -> bool {
    let try_it = async {
        let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
        let gpu = js_sys::Reflect::get(&navigator, &"gpu".into()).ok()?;
        if gpu.is_undefined() || gpu.is_null() {
            return None;
        }
        let request: js_sys::Function = js_sys::Reflect::get(&gpu, &"requestAdapter".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
        let adapter = JsFuture::from(promise).await.ok()?;
        Some(!adapter.is_null() && !adapter.is_undefined())
    };
    try_it.await.unwrap_or(false)
}

/// The run the worker holds: training, paused, or ended and kept for predictions.
struct CurrentRun {
    run_id: u64,
    config: RunConfig,
    run: TrainingRun,
    device: DeviceChoice,
    /// Still training (not ended).
    active: bool,
    paused: bool,
    /// Training milliseconds before the current stretch (pauses excluded).
    trained_ms: f64,
    /// When the current stretch of training started.
    stretch_start: f64,
    last_progress: f64,
    last_boundary: f64,
    points_sent: usize,
    /// Extent of the toy set's points, for the boundary map.
    extent: Option<[f32; 4]>,
}

impl CurrentRun {
    fn seconds(&self) -> f64 {
        let running = if self.active && !self.paused {
            now_ms() - self.stretch_start
        } else {
            0.0
        };
        (self.trained_ms + running) / 1000.0
    }

    fn report(&self) -> ProgressReport {
        let mut p = self.run.progress();
        if *self.run.state() == TrainerState::Finished {
            p.batch = p.batches_per_epoch;
        }
        let seconds = self.seconds();
        ProgressReport {
            epoch: p.epoch,
            epochs: p.epochs,
            batch: p.batch,
            batches_per_epoch: p.batches_per_epoch,
            samples_seen: p.samples_seen,
            samples_total: p.samples_total,
            samples_per_second: if seconds > 0.0 {
                p.samples_seen as f64 / seconds
            } else {
                0.0
            },
            seconds,
        }
    }
}

/// A saved model in use for predictions (until the next run starts).
struct LoadedModel {
    config: RunConfig,
    model: SavedModel,
}

/// What answers the drawing and the review box: the current run's model, or a saved one.
enum Predictor<'a> {
    Run(&'a CurrentRun),
    Saved(&'a LoadedModel),
}

impl Predictor<'_> {
    fn dataset(&self) -> &DatasetConfig {
        match self {
            Predictor::Run(c) => &c.config.dataset,
            Predictor::Saved(m) => &m.config.dataset,
        }
    }

    async fn probabilities(&self, data: &Dataset) -> Result<Vec<f32>, String> {
        match self {
            Predictor::Run(c) => c.run.probabilities(data).await.map_err(|e| e.to_string()),
            Predictor::Saved(m) => m.model.probabilities(data).await,
        }
    }
}

/// Uploads kept at most (the newest ones).
const KEPT_UPLOADS: usize = 3;

struct Actor {
    inbox: mpsc::UnboundedReceiver<ToWorker>,
    /// The user's uploaded datasets, newest last, by the sha256 of their bytes.
    uploads: Vec<(String, Dataset)>,
    /// A saved model the user chose for predictions.
    saved: Option<LoadedModel>,
    webgpu: bool,
    cpu: Device,
    gpu: Option<Device>,
    gpu_failure: Option<String>,
    current: Option<CurrentRun>,
    vocabulary: Option<Vocabulary>,
    /// A note for the next run's `Started` message (a GPU fallback).
    pending_note: Option<String>,
}

impl Actor {
    fn new(inbox: mpsc::UnboundedReceiver<ToWorker>, webgpu: bool) -> Self {
        Self {
            inbox,
            uploads: Vec::new(),
            saved: None,
            webgpu,
            cpu: Device::flex(),
            gpu: None,
            gpu_failure: None,
            current: None,
            vocabulary: None,
            pending_note: None,
        }
    }

    async fn run(mut self) {
        loop {
            loop {
                match self.inbox.try_recv() {
                    Ok(message) => self.handle(message).await,
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Closed) => return,
                }
            }
            if self.current.as_ref().is_some_and(|c| c.active && !c.paused) {
                self.train_slice().await;
                yield_now().await;
            } else {
                match self.inbox.next().await {
                    Some(message) => self.handle(message).await,
                    None => return,
                }
            }
        }
    }

    async fn handle(&mut self, message: ToWorker) {
        match message {
            ToWorker::Start { run_id, config } => {
                if let Some(c) = self.current.as_mut() {
                    if c.active {
                        c.run.stop();
                        c.active = false;
                    }
                }
                self.current = None;
                self.saved = None;
                if let Err(message) = self.start(run_id, *config).await {
                    post(&FromWorker::Failed { run_id, message });
                }
            }
            ToWorker::Pause | ToWorker::Resume => {
                let pause = matches!(message, ToWorker::Pause);
                if let Some(c) = self.current.as_mut().filter(|c| c.active) {
                    if c.paused != pause {
                        if pause {
                            c.trained_ms += now_ms() - c.stretch_start;
                        } else {
                            c.stretch_start = now_ms();
                        }
                        c.paused = pause;
                        post(&FromWorker::Paused {
                            run_id: c.run_id,
                            paused: pause,
                        });
                    }
                }
            }
            ToWorker::Stop => {
                if let Some(c) = self.current.as_mut().filter(|c| c.active) {
                    if c.paused {
                        c.paused = false;
                        c.stretch_start = now_ms();
                    }
                    c.run.stop();
                }
                self.finish_if_ended().await;
            }
            ToWorker::PredictImage { request, pixels } => {
                let answer = self.predict_image(request, pixels).await;
                post(
                    &answer.unwrap_or_else(|message| FromWorker::PredictionUnavailable {
                        request,
                        message,
                    }),
                );
            }
            ToWorker::PredictReview { request, text } => {
                let answer = self.predict_review(request, &text).await;
                post(
                    &answer.unwrap_or_else(|message| FromWorker::PredictionUnavailable {
                        request,
                        message,
                    }),
                );
            }
            ToWorker::UploadData {
                request,
                names,
                sizes,
                bytes,
            } => post(&match self.upload(names, sizes, bytes) {
                Ok((data, preview)) => FromWorker::DataUploaded {
                    request,
                    data,
                    preview: Box::new(preview),
                },
                Err(message) => FromWorker::UploadRejected { request, message },
            }),
            ToWorker::UseModel {
                run_id,
                name,
                config,
                weights,
            } => post(&match self.use_model(run_id, *config, weights).await {
                Ok(()) => FromWorker::ModelInUse { run_id, name },
                Err(message) => FromWorker::ModelRejected { run_id, message },
            }),
        }
    }

    /// Reads the user's files and keeps the data for runs on it.
    fn upload(
        &mut self,
        names: Vec<String>,
        sizes: Vec<usize>,
        bytes: Vec<u8>,
    ) -> Result<(UploadedData, DataPreview), String> {
        if names.len() != sizes.len() || sizes.iter().sum::<usize>() != bytes.len() {
            return Err("the files arrived incomplete: choose them again".into());
        }
        let mut files: Vec<(&str, &[u8])> = Vec::with_capacity(names.len());
        let mut rest = bytes.as_slice();
        for (name, size) in names.iter().zip(sizes) {
            let (file, tail) = rest.split_at(size);
            files.push((name, file));
            rest = tail;
        }
        let (data, dataset) = decode_upload(&files).map_err(|e| e.to_string())?;
        drop(files);
        drop(bytes);
        let preview = self.preview(
            &DatasetConfig::Uploaded(data.clone()),
            &data.split(&dataset),
        );
        self.uploads.retain(|(sha, _)| *sha != data.sha256);
        self.uploads.push((data.sha256.clone(), dataset));
        if self.uploads.len() > KEPT_UPLOADS {
            self.uploads.remove(0);
        }
        Ok((data, preview))
    }

    /// Loads saved weights (on the CPU) for the drawing and the review box.
    async fn use_model(
        &mut self,
        run_id: u64,
        config: RunConfig,
        weights: Vec<u8>,
    ) -> Result<(), String> {
        config
            .validate()
            .map_err(|e| format!("the run's config is not valid: {e}"))?;
        if matches!(config.dataset, DatasetConfig::Imdb(_)) && self.vocabulary.is_none() {
            let manifest = fetch_manifest(config.dataset.name()).await?;
            let entry = manifest
                .file(VOCABULARY_FILE)
                .ok_or("the IMDB vocabulary is not in the data folder: run `cargo xtask data`")?;
            let bytes = fetch_checked(run_id, VOCABULARY_FILE, entry, 0, entry.bytes).await?;
            self.vocabulary = Some(vocabulary_from_bytes(bytes).map_err(|e| e.to_string())?);
        }
        let model =
            SavedModel::load(&config.model, weights, &self.cpu).map_err(|e| e.to_string())?;
        self.saved = Some(LoadedModel { config, model });
        Ok(())
    }

    /// The model that answers predictions: a saved one the user chose, else the current run's.
    fn predictor(&self) -> Option<Predictor<'_>> {
        match (&self.saved, &self.current) {
            (Some(saved), _) => Some(Predictor::Saved(saved)),
            (None, Some(run)) => Some(Predictor::Run(run)),
            (None, None) => None,
        }
    }

    /// The device for `choice`, opening WebGPU once; falls back to the CPU with a note.
    async fn device(&mut self, choice: DeviceChoice) -> (Device, DeviceChoice, Option<String>) {
        match choice {
            DeviceChoice::Wgpu => {
                if !self.webgpu {
                    return (
                        self.cpu.clone(),
                        DeviceChoice::Cpu,
                        Some(
                            "This browser offers no WebGPU adapter: training on the CPU \
                             (WebAssembly with SIMD) instead."
                                .into(),
                        ),
                    );
                }
                if let Some(why) = &self.gpu_failure {
                    return (
                        self.cpu.clone(),
                        DeviceChoice::Cpu,
                        Some(format!(
                            "WebGPU failed earlier ({why}): training on the CPU."
                        )),
                    );
                }
                if self.gpu.is_none() {
                    match DeviceChoice::Wgpu.open_async().await {
                        Ok(device) => self.gpu = Some(device),
                        Err(e) => {
                            self.gpu_failure = Some(e.to_string());
                            return (
                                self.cpu.clone(),
                                DeviceChoice::Cpu,
                                Some(format!("{e}: training on the CPU instead.")),
                            );
                        }
                    }
                }
                let gpu = self.gpu.clone().expect("opened above");
                (gpu, DeviceChoice::Wgpu, None)
            }
            DeviceChoice::Ndarray => {
                #[allow(deprecated)]
                let device = Device::ndarray();
                (device, DeviceChoice::Ndarray, None)
            }
            DeviceChoice::Cpu => (self.cpu.clone(), DeviceChoice::Cpu, None),
        }
    }

    async fn start(&mut self, run_id: u64, config: RunConfig) -> Result<(), String> {
        config.validate().map_err(|e| e.to_string())?;
        let data = self.load_data(run_id, &config.dataset).await?;
        let (device, used, note) = self.device(config.device).await;
        let note = self.pending_note.take().or(note);
        let mut preview = self.preview(&config.dataset, &data);
        preview.memory_bytes = wasm_memory_bytes();
        let extent = toy_extent(&config.dataset, &data);
        let run = TrainingRun::new(&config, data, &device).map_err(|e| e.to_string())?;
        post(&FromWorker::Started {
            run_id,
            device: used,
            device_note: note,
            preview: Box::new(preview),
        });
        let now = now_ms();
        self.current = Some(CurrentRun {
            run_id,
            config,
            run,
            device: used,
            active: true,
            paused: false,
            trained_ms: 0.0,
            stretch_start: now,
            last_progress: now,
            last_boundary: 0.0,
            points_sent: 0,
            extent,
        });
        self.post_boundary().await;
        Ok(())
    }

    /// Trains batches for about [`SLICE_MS`], then reports.
    async fn train_slice(&mut self) {
        let slice_end = now_ms() + SLICE_MS;
        let mut epochs = Vec::new();
        let mut failure = None;
        {
            let Some(c) = self.current.as_mut() else {
                return;
            };
            while now_ms() < slice_end && *c.run.state() == TrainerState::Running {
                match c.run.step().await {
                    Ok(outcome) => {
                        if let Some(m) = outcome.epoch_end {
                            epochs.push(m);
                        }
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
        }
        let Some(c) = self.current.as_mut() else {
            return;
        };
        if let Some(e) = failure {
            c.active = false;
            let run_id = c.run_id;
            if c.device == DeviceChoice::Wgpu {
                // A lost or failing GPU: retrain on the CPU, saying so.
                self.gpu = None;
                self.gpu_failure = Some(e.to_string());
                self.pending_note = Some(format!(
                    "The GPU failed during training ({e}): the run restarted on the CPU."
                ));
                let mut config = c.config.clone();
                config.device = DeviceChoice::Cpu;
                self.current = None;
                if let Err(message) = self.start(run_id, config).await {
                    post(&FromWorker::Failed { run_id, message });
                }
                return;
            }
            post(&FromWorker::Failed {
                run_id,
                message: format!("training failed: {e}"),
            });
            return;
        }
        let now = now_ms();
        let ended = *c.run.state() != TrainerState::Running;
        if !epochs.is_empty() || ended || now - c.last_progress >= PROGRESS_MS {
            let points = c.run.history().batches[c.points_sent..].to_vec();
            c.points_sent += points.len();
            c.last_progress = now;
            post(&FromWorker::Progress {
                run_id: c.run_id,
                progress: c.report(),
                points,
            });
        }
        for metrics in epochs.iter().copied() {
            post(&FromWorker::Epoch {
                run_id: c.run_id,
                metrics,
            });
        }
        let boundary_due = c.extent.is_some() && (now - c.last_boundary >= BOUNDARY_MS || ended);
        if boundary_due {
            self.post_boundary().await;
        }
        self.finish_if_ended().await;
    }

    /// After the last step: the test report and the `Ended` message.
    async fn finish_if_ended(&mut self) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        if !c.active || *c.run.state() == TrainerState::Running {
            return;
        }
        if !c.paused {
            c.trained_ms += now_ms() - c.stretch_start;
        }
        c.active = false;
        let end = match c.run.state() {
            TrainerState::Stopped(kindling_core::train::StopReason::NonFiniteLoss { .. }) => {
                let TrainerState::Stopped(reason) = c.run.state() else {
                    unreachable!()
                };
                RunEnd::Diverged(reason.to_string())
            }
            TrainerState::Stopped(_) => RunEnd::Stopped,
            _ => RunEnd::Finished,
        };
        let points = c.run.history().batches[c.points_sent..].to_vec();
        c.points_sent += points.len();
        let run_id = c.run_id;
        let progress = c.report();
        if !points.is_empty() {
            post(&FromWorker::Progress {
                run_id,
                progress,
                points,
            });
        }
        let keep_weights =
            !matches!(end, RunEnd::Diverged(_)) && !c.run.history().epochs.is_empty();
        let report = if !keep_weights {
            None
        } else {
            match self.test_report().await {
                Ok(r) => Some(Box::new(r)),
                Err(e) => {
                    web_sys::console::warn_1(&format!("no test report: {e}").into());
                    None
                }
            }
        };
        post(&FromWorker::Ended {
            run_id,
            end,
            report,
            progress,
        });
        if keep_weights {
            if let Some(c) = self.current.as_ref() {
                match c.run.weights().await {
                    Ok(weights) => post(&FromWorker::Weights { run_id, weights }),
                    Err(e) => web_sys::console::warn_1(&format!("no weights kept: {e}").into()),
                }
            }
        }
    }

    async fn test_report(&self) -> Result<TestReport, String> {
        let c = self.current.as_ref().ok_or("no run")?;
        let test = &c.run.data().eval;
        let predicted = c.run.predictions(test).await.map_err(|e| e.to_string())?;
        let classes = test.num_classes;
        let correct = predicted
            .iter()
            .zip(&test.labels)
            .filter(|(p, t)| p == t)
            .count();
        let wrong: Vec<usize> = (0..test.len())
            .filter(|&i| predicted[i] != test.labels[i])
            .take(24)
            .collect();
        let mut wrong_images = Vec::new();
        let mut wrong_reviews = Vec::new();
        for &i in &wrong {
            if let Some(mut image) = image_example(test, i) {
                image.predicted = Some(predicted[i]);
                wrong_images.push(image);
            } else if let Some(mut review) = review_example(test, i, self.vocabulary.as_ref()) {
                review.predicted = Some(predicted[i]);
                if wrong_reviews.len() < 6 {
                    wrong_reviews.push(review);
                }
            }
        }
        Ok(TestReport {
            accuracy: correct as f64 / test.len().max(1) as f64,
            examples: test.len(),
            confusion: confusion_matrix(&test.labels, &predicted, classes),
            class_names: class_names(&c.config.dataset),
            wrong_images,
            wrong_reviews,
        })
    }

    async fn post_boundary(&mut self) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let Some(extent) = c.extent else {
            return;
        };
        c.last_boundary = now_ms();
        let n = BOUNDARY_RESOLUTION;
        let [x0, x1, y0, y1] = extent;
        let mut features = Vec::with_capacity(n * n * 2);
        for row in 0..n {
            let y = y1 - (row as f32 + 0.5) / n as f32 * (y1 - y0);
            for col in 0..n {
                let x = x0 + (col as f32 + 0.5) / n as f32 * (x1 - x0);
                features.push(x);
                features.push(y);
            }
        }
        let grid = Dataset {
            name: "boundary grid".into(),
            shape: ExampleShape::Features(2),
            examples: Examples::Dense(features),
            labels: vec![0; n * n],
            num_classes: 2,
        };
        match c.run.probabilities(&grid).await {
            Ok(p) => post(&FromWorker::Boundary {
                run_id: c.run_id,
                map: BoundaryMap {
                    resolution: n,
                    extent,
                    class1: p.chunks(2).map(|pair| pair[1]).collect(),
                },
            }),
            Err(e) => web_sys::console::warn_1(&format!("no boundary map: {e}").into()),
        }
    }

    async fn predict_image(&self, request: u64, pixels: Vec<u8>) -> Result<FromWorker, String> {
        let c = self
            .predictor()
            .ok_or("Train a model on MNIST (or tinyMNIST) first: then it reads your digit.")?;
        if pixels.len() != 28 * 28 {
            return Err(format!("a drawing has 784 pixels, not {}", pixels.len()));
        }
        let (side, pixels) = match c.dataset() {
            DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_) => (28, pixels),
            DatasetConfig::TinyMnist(_) => (14, to_tiny(&pixels)),
            other => {
                return Err(format!(
                "The current model reads {}, not images: train one on MNIST to classify a drawing.",
                other.name()
            ))
            }
        };
        let image = Dataset {
            name: "drawing".into(),
            shape: ExampleShape::Image([1, side, side]),
            examples: Examples::Pixels(pixels.clone()),
            labels: vec![0],
            num_classes: 10,
        };
        let probabilities = c.probabilities(&image).await?;
        Ok(FromWorker::ImagePrediction {
            request,
            probabilities,
            input: ImageExample {
                side,
                pixels,
                label: 0,
                predicted: None,
            },
        })
    }

    async fn predict_review(&self, request: u64, text: &str) -> Result<FromWorker, String> {
        let c = self
            .predictor()
            .ok_or("Train a model on IMDB first: then it reads your review.")?;
        let DatasetConfig::Imdb(subset) = c.dataset() else {
            return Err(format!(
                "The current model reads {}: train one on IMDB to score a review.",
                c.dataset().name()
            ));
        };
        let vocabulary = self
            .vocabulary
            .as_ref()
            .ok_or("the IMDB vocabulary is not loaded")?;
        let (ids, unknown) = vocabulary.encode(text, subset.dict_size, subset.example_len);
        let tokens = kindling_core::data::imdb::words(text).len();
        let review = Dataset {
            name: "review".into(),
            shape: ExampleShape::Tokens(subset.example_len),
            examples: Examples::Tokens(ids),
            labels: vec![0],
            num_classes: 2,
        };
        let p = c.probabilities(&review).await?;
        Ok(FromWorker::ReviewPrediction {
            request,
            positive: p.get(1).copied().unwrap_or(0.5),
            unknown,
            tokens,
        })
    }

    /// Fetches (or reads from the cache) every file the dataset needs, checks each against the
    /// manifest, and builds the run's data.
    async fn load_data(
        &mut self,
        run_id: u64,
        dataset: &DatasetConfig,
    ) -> Result<TrainingData, String> {
        if let DatasetConfig::Uploaded(u) = dataset {
            return self
                .uploads
                .iter()
                .find(|(sha, _)| *sha == u.sha256)
                .map(|(_, all)| u.split(all))
                .ok_or_else(|| {
                    format!(
                        "\"{}\" is not loaded in this tab (uploads last until the page closes): \
                         upload it again under Build → Dataset",
                        u.file
                    )
                });
        }
        let mut files = required_files(dataset);
        if matches!(dataset, DatasetConfig::Imdb(_)) && self.vocabulary.is_none() {
            files.push(VOCABULARY_FILE.to_string());
        }
        let mut contents: HashMap<String, Vec<u8>> = HashMap::new();
        if !files.is_empty() {
            let manifest = fetch_manifest(dataset.name()).await?;
            let total: u64 = files
                .iter()
                .map(|f| manifest.file(f).map(|a| a.bytes).unwrap_or(0))
                .sum();
            let mut loaded = 0u64;
            for file in &files {
                let entry = manifest.file(file).ok_or_else(|| {
                    DataError::Missing {
                        dataset: dataset.name().into(),
                        path: format!("data/{file}"),
                        command: kindling_core::data::loader::DATA_COMMAND.into(),
                    }
                    .to_string()
                })?;
                let bytes = fetch_checked(run_id, file, entry, loaded, total).await?;
                loaded += bytes.len() as u64;
                contents.insert(file.clone(), bytes);
            }
        }
        if let Some(bytes) = contents.remove(VOCABULARY_FILE) {
            self.vocabulary = Some(vocabulary_from_bytes(bytes).map_err(|e| e.to_string())?);
        }
        load_dataset_with(dataset, &mut |name, file| {
            contents.remove(file).ok_or_else(|| DataError::Missing {
                dataset: name.into(),
                path: format!("data/{file}"),
                command: kindling_core::data::loader::DATA_COMMAND.into(),
            })
        })
        .map_err(|e| e.to_string())
    }

    fn preview(&self, config: &DatasetConfig, data: &TrainingData) -> DataPreview {
        let train = &data.train;
        let mut preview = DataPreview {
            name: config.name().into(),
            sizes: [
                train.len(),
                data.validation.as_ref().map_or(0, |v| v.len()),
                data.eval.len(),
            ],
            class_counts: train.class_counts(),
            class_names: class_names(config),
            ..Default::default()
        };
        match &train.examples {
            Examples::Pixels(_) => {
                // The first examples of each class in turn, so every class shows.
                let mut picked = Vec::new();
                for round in 0..3 {
                    for class in 0..train.num_classes as u32 {
                        if let Some(i) = (0..train.len())
                            .filter(|&i| train.labels[i] == class)
                            .nth(round)
                        {
                            picked.push(i);
                        }
                    }
                }
                preview.images = picked
                    .into_iter()
                    .filter_map(|i| image_example(train, i))
                    .collect();
            }
            Examples::Tokens(_) => {
                preview.reviews = (0..train.len().min(4))
                    .filter_map(|i| review_example(train, i, self.vocabulary.as_ref()))
                    .collect();
            }
            Examples::Dense(_) => {
                for (set, test) in [(&data.train, false), (&data.eval, true)] {
                    if let Examples::Dense(v) = &set.examples {
                        if set.shape == ExampleShape::Features(2) {
                            preview
                                .points
                                .extend(v.chunks(2).zip(&set.labels).take(2500).map(
                                    |(xy, &label)| ToyPoint {
                                        x: xy[0],
                                        y: xy[1],
                                        label,
                                        test,
                                    },
                                ));
                        }
                    }
                }
            }
        }
        preview
    }
}

fn image_example(set: &Dataset, i: usize) -> Option<ImageExample> {
    let (Examples::Pixels(p), ExampleShape::Image([1, h, w])) = (&set.examples, set.shape) else {
        return None;
    };
    Some(ImageExample {
        side: w.max(h),
        pixels: p[i * h * w..(i + 1) * h * w].to_vec(),
        label: set.labels[i],
        predicted: None,
    })
}

fn review_example(
    set: &Dataset,
    i: usize,
    vocabulary: Option<&Vocabulary>,
) -> Option<ReviewExample> {
    let (Examples::Tokens(t), ExampleShape::Tokens(len)) = (&set.examples, set.shape) else {
        return None;
    };
    let ids = &t[i * len..(i + 1) * len];
    let words: Vec<&str> = ids
        .iter()
        .filter(|&&id| id > 1)
        .map(|&id| vocabulary.map_or("?", |v| v.word(id)))
        .collect();
    Some(ReviewExample {
        text: words.join(" "),
        label: set.labels[i],
        tokens: ids.iter().filter(|&&id| id != 0).count(),
        predicted: None,
    })
}

/// The data extent of a 2-D toy set, with a margin.
fn toy_extent(config: &DatasetConfig, data: &TrainingData) -> Option<[f32; 4]> {
    if !crate::builder::has_boundary_map(config) {
        return None;
    }
    let mut extent = [f32::MAX, f32::MIN, f32::MAX, f32::MIN];
    for set in [&data.train, &data.eval] {
        let Examples::Dense(v) = &set.examples else {
            return None;
        };
        for xy in v.chunks(2) {
            extent[0] = extent[0].min(xy[0]);
            extent[1] = extent[1].max(xy[0]);
            extent[2] = extent[2].min(xy[1]);
            extent[3] = extent[3].max(xy[1]);
        }
    }
    let mx = (extent[1] - extent[0]).max(1e-3) * 0.08;
    let my = (extent[3] - extent[2]).max(1e-3) * 0.08;
    Some([
        extent[0] - mx,
        extent[1] + mx,
        extent[2] - my,
        extent[3] + my,
    ])
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The manifest, always from the network (it is small and says what the files must be).
async fn fetch_manifest(dataset: &str) -> Result<Manifest, String> {
    let missing = || {
        DataError::Missing {
            dataset: dataset.into(),
            path: format!("data/{MANIFEST_FILE}"),
            command: kindling_core::data::loader::DATA_COMMAND.into(),
        }
        .to_string()
    };
    let response = fetch(&format!("data/{MANIFEST_FILE}"))
        .await
        .map_err(|_| missing())?;
    if !response.ok() {
        return Err(missing());
    }
    let bytes = read_body(&response, 0, |_| {}).await?;
    // A server that answers every path with the page (trunk serve does) gives HTML here.
    Manifest::parse(&bytes).map_err(|_| missing())
}

async fn fetch(url: &str) -> Result<web_sys::Response, String> {
    let promise = scope().fetch_with_str(url);
    let value = JsFuture::from(promise).await.map_err(js_error)?;
    value.dyn_into().map_err(js_error)
}

/// Reads a response body chunk by chunk, calling `progress` with the bytes read so far.
/// Reads a response's body into one buffer of `expected` bytes (grown only if the body is
/// longer: no doubling copies of a 47 MB file).
async fn read_body(
    response: &web_sys::Response,
    expected: usize,
    mut progress: impl FnMut(u64),
) -> Result<Vec<u8>, String> {
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|o: js_sys::Object| js_error(o.into()))?;
    let mut bytes = Vec::with_capacity(expected);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(js_error)?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(js_error)?;
        let array = js_sys::Uint8Array::new(&value);
        let start = bytes.len();
        bytes.resize(start + array.length() as usize, 0);
        array.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64);
    }
    Ok(bytes)
}

async fn open_cache() -> Option<web_sys::Cache> {
    let caches = scope().caches().ok()?;
    let cache = JsFuture::from(caches.open(CACHE_NAME)).await.ok()?;
    cache.dyn_into().ok()
}

/// One data file: from the cache if it holds the manifest's bytes, else from the network (then
/// cached). Progress goes to the page as `Loading` messages.
pub(crate) async fn fetch_checked(
    run_id: u64,
    file: &str,
    entry: &kindling_core::data::manifest::AssetFile,
    before: u64,
    total: u64,
) -> Result<Vec<u8>, String> {
    let url = format!("data/{file}");
    let cache = open_cache().await;
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(&url)).await {
            if let Ok(response) = hit.dyn_into::<web_sys::Response>() {
                let bytes = read_body(&response, entry.bytes as usize, |_| {}).await?;
                if entry.check(&bytes).is_ok() {
                    post(&FromWorker::Loading {
                        run_id,
                        file: file.into(),
                        loaded: before + bytes.len() as u64,
                        total,
                        cached: true,
                    });
                    return Ok(bytes);
                }
                // Stale or damaged: drop it and download again.
                let _ = JsFuture::from(cache.delete_with_str(&url)).await;
            }
        }
    }
    let response = fetch(&url).await.map_err(|e| {
        format!(
            "cannot download data/{file}: {e}. Is the data folder served? Run `cargo xtask data`."
        )
    })?;
    if !response.ok() {
        return Err(format!(
            "data/{file} is not served (HTTP {}): run `cargo xtask data` and serve again",
            response.status()
        ));
    }
    // The cache gets a copy of the response (kept by the browser, not in wasm memory).
    let for_cache = response.clone().ok();
    let mut last_post = 0.0;
    let bytes = read_body(&response, entry.bytes as usize, |loaded| {
        let now = now_ms();
        if now - last_post > 100.0 {
            last_post = now;
            post(&FromWorker::Loading {
                run_id,
                file: file.into(),
                loaded: before + loaded,
                total,
                cached: false,
            });
        }
    })
    .await?;
    entry.check(&bytes).map_err(|e| {
        format!("{e}. Run `cargo xtask data` to rebuild the data folder, then reload.")
    })?;
    post(&FromWorker::Loading {
        run_id,
        file: file.into(),
        loaded: before + bytes.len() as u64,
        total,
        cached: false,
    });
    if let (Some(cache), Some(stored)) = (&cache, for_cache) {
        if let Err(e) = JsFuture::from(cache.put_with_str(&url, &stored)).await {
            web_sys::console::warn_2(&"kindling: cannot cache a data file".into(), &e);
        }
    }
    Ok(bytes)
}
