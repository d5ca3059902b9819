//! The page: its state (signals), the bridge to the training worker, and the layout.

use std::cell::RefCell;

use kindling_core::link::{curve_distance, decode_link};
use kindling_core::record::{downsample, RunRecord, RunStatus, MAX_CURVE_POINTS};
use kindling_core::train::{BatchPoint, EpochMetrics};
use kindling_core::{DeviceChoice, RunConfig};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::components::{
    builder::BuilderPanel, runs::RunsPanel, sweep::SweepPanel, training::TrainingPanel,
    try_it::TryItPanel,
};
use crate::protocol::{
    BoundaryMap, DataPreview, FromWorker, ImageExample, ProgressReport, RunEnd, TestReport,
    ToWorker,
};

/// Where the current run is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Nothing running.
    Idle,
    /// Downloading or reading the data.
    Loading {
        /// File being read.
        file: String,
        /// Bytes so far.
        loaded: u64,
        /// Bytes in all.
        total: u64,
        /// From the browser's cache.
        cached: bool,
    },
    /// Training.
    Training,
    /// Paused.
    Paused,
    /// Ended (finished, stopped or diverged).
    Ended,
}

/// The latest prediction for the drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitGuess {
    /// Probability per class.
    pub probabilities: Vec<f32>,
    /// What the model read.
    pub input: ImageExample,
}

/// The latest answer for the review box.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewGuess {
    /// Probability of a positive review.
    pub positive: f32,
    /// Words the model does not know.
    pub unknown: Vec<String>,
    /// Words read.
    pub tokens: usize,
}

/// One run of a sweep in the page.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRun {
    /// The value of each axis.
    pub values: Vec<f64>,
    /// e.g. `learning_rate=0.01`.
    pub label: String,
    /// The run's config.
    pub config: RunConfig,
    /// Its record, once started.
    pub record: Option<u64>,
    /// Whether it ended (or failed).
    pub done: bool,
}

/// A sweep in progress or done.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepState {
    /// Axis names, in order.
    pub fields: Vec<String>,
    /// Its runs, in grid order.
    pub runs: Vec<SweepRun>,
    /// The run being trained (index), if any.
    pub current: Option<usize>,
    /// Stopped before its end.
    pub cancelled: bool,
}

/// Everything the page shows, as signals (Copy: pass it anywhere).
#[derive(Clone, Copy)]
pub struct Session {
    /// The run being built.
    pub config: RwSignal<RunConfig>,
    /// The preset last chosen ("" after edits).
    pub preset: RwSignal<String>,
    /// The device the user wants.
    pub device: RwSignal<DeviceChoice>,
    /// Whether WebGPU exists here (None until the worker says).
    pub webgpu: RwSignal<Option<bool>>,
    /// The worker is up.
    pub worker_ready: RwSignal<bool>,
    /// The current run's id (0: none yet).
    pub run_id: RwSignal<u64>,
    /// The config of the current run, as started.
    pub run_config: RwSignal<Option<RunConfig>>,
    /// Where it is.
    pub phase: RwSignal<Phase>,
    /// The device the current run trains on.
    pub device_used: RwSignal<Option<DeviceChoice>>,
    /// A note to show (device fallback, stop).
    pub notice: RwSignal<Option<String>>,
    /// An error to show.
    pub error: RwSignal<Option<String>>,
    /// Progress of the current run.
    pub progress: RwSignal<ProgressReport>,
    /// Its batch curve.
    pub points: RwSignal<Vec<BatchPoint>>,
    /// Its epochs.
    pub epochs: RwSignal<Vec<EpochMetrics>>,
    /// Its decision boundary (2-D sets).
    pub boundary: RwSignal<Option<BoundaryMap>>,
    /// What its data looks like.
    pub preview: RwSignal<Option<DataPreview>>,
    /// How it ended.
    pub end: RwSignal<Option<RunEnd>>,
    /// Its test report.
    pub report: RwSignal<Option<TestReport>>,
    /// Latest request id of a prediction.
    pub request: RwSignal<u64>,
    /// The drawing's prediction.
    pub digit: RwSignal<Option<DigitGuess>>,
    /// The review's prediction.
    pub review: RwSignal<Option<ReviewGuess>>,
    /// Why no prediction could be made.
    pub prediction_note: RwSignal<Option<String>>,
    /// Every run kept (stored ones, and a shared one opened from a link).
    pub runs: RwSignal<Vec<RunRecord>>,
    /// The record of the current run.
    pub record_id: RwSignal<Option<u64>>,
    /// Runs selected in the table (for the overlay and the diff).
    pub selected: RwSignal<Vec<u64>>,
    /// The last deleted run, for undo.
    pub deleted: RwSignal<Option<RunRecord>>,
    /// The last share link made.
    pub share_link: RwSignal<Option<String>>,
    /// The shared run being reproduced.
    pub reproduce_of: RwSignal<Option<u64>>,
    /// How the reproduction compares: (text, final accuracy difference, curve loss difference).
    pub reproduce_result: RwSignal<Option<(String, f64, f64)>>,
    /// The current sweep.
    pub sweep: RwSignal<Option<SweepState>>,
    /// Bumped (at most a few times a second) when the curves and tables should redraw.
    pub chart_tick: RwSignal<u64>,
    /// The saved model the drawing and the review box use (its run's name), when not the
    /// current run's.
    pub model_in_use: RwSignal<Option<String>>,
    /// The request id of an upload being read by the worker.
    pub pending_upload: RwSignal<Option<u64>>,
}

thread_local! {
    static LAST_TICK: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    static LAST_CHECKPOINT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Least milliseconds between two redraws of the curves while training.
const REDRAW_MS: f64 = 250.0;
/// Handling a worker message for longer than this is reported on the console (a long task).
const SLOW_MESSAGE_MS: f64 = 40.0;
/// Least milliseconds between two saves of a training run.
const CHECKPOINT_MS: f64 = 5000.0;

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    /// An imported model file waiting for the worker's check: its run and the file's bytes.
    static PENDING_IMPORT: RefCell<Option<(RunRecord, Vec<u8>)>> = const { RefCell::new(None) };
}

/// The import waiting for the worker's answer about `run_id`, if that is the one.
fn take_pending_import(run_id: u64) -> Option<(RunRecord, Vec<u8>)> {
    PENDING_IMPORT.with(|p| {
        let mut p = p.borrow_mut();
        if p.as_ref().is_some_and(|(r, _)| r.id == run_id) {
            p.take()
        } else {
            None
        }
    })
}

/// A file name made of a run's name: letters, digits and dashes.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-').to_string();
    if stem.is_empty() {
        "kindling-run".into()
    } else {
        stem
    }
}

impl Session {
    fn new() -> Self {
        let config = RunConfig::preset("tinytoy-hw1").expect("a preset");
        Self {
            config: RwSignal::new(config),
            preset: RwSignal::new("tinytoy-hw1".into()),
            device: RwSignal::new(DeviceChoice::Cpu),
            webgpu: RwSignal::new(None),
            worker_ready: RwSignal::new(false),
            run_id: RwSignal::new(0),
            run_config: RwSignal::new(None),
            phase: RwSignal::new(Phase::Idle),
            device_used: RwSignal::new(None),
            notice: RwSignal::new(None),
            error: RwSignal::new(None),
            progress: RwSignal::new(ProgressReport::default()),
            points: RwSignal::new(Vec::new()),
            epochs: RwSignal::new(Vec::new()),
            boundary: RwSignal::new(None),
            preview: RwSignal::new(None),
            end: RwSignal::new(None),
            report: RwSignal::new(None),
            request: RwSignal::new(0),
            digit: RwSignal::new(None),
            review: RwSignal::new(None),
            prediction_note: RwSignal::new(None),
            runs: RwSignal::new(Vec::new()),
            record_id: RwSignal::new(None),
            selected: RwSignal::new(Vec::new()),
            deleted: RwSignal::new(None),
            share_link: RwSignal::new(None),
            reproduce_of: RwSignal::new(None),
            reproduce_result: RwSignal::new(None),
            sweep: RwSignal::new(None),
            chart_tick: RwSignal::new(0),
            model_in_use: RwSignal::new(None),
            pending_upload: RwSignal::new(None),
        }
    }

    /// Asks the curves to redraw: at once when `now`, else at most every [`REDRAW_MS`].
    pub fn redraw(&self, now: bool) {
        let t = js_sys::Date::now();
        if now || t - LAST_TICK.with(|c| c.get()) >= REDRAW_MS {
            LAST_TICK.with(|c| c.set(t));
            self.chart_tick.update(|n| *n += 1);
        }
    }

    /// Starts a sweep: its runs train one after another.
    pub fn start_sweep(&self, state: SweepState) {
        self.sweep.set(Some(state));
        self.next_sweep_run();
    }

    /// Trains the next run of the sweep, if any is left.
    fn next_sweep_run(&self) {
        let Some(mut state) = self.sweep.get_untracked() else {
            return;
        };
        if let Some(i) = state.current.take() {
            state.runs[i].done = true;
        }
        if !state.cancelled {
            if let Some(i) = state
                .runs
                .iter()
                .position(|r| !r.done && r.record.is_none())
            {
                state.current = Some(i);
                let config = state.runs[i].config.clone();
                self.sweep.set(Some(state));
                self.train_config(config);
                return;
            }
        }
        self.sweep.set(Some(state));
    }

    /// Stops the sweep after the current run.
    pub fn cancel_sweep(&self) {
        self.sweep.update(|s| {
            if let Some(s) = s {
                s.cancelled = true;
            }
        });
    }

    /// Saves a run to IndexedDB in the background; a failure shows as an error.
    pub fn persist(&self, run: RunRecord) {
        if run.shared {
            return;
        }
        let error = self.error;
        crate::store::save_run(&run, move |e| {
            error.set(Some(format!("This run could not be saved: {e}")))
        });
    }

    /// A copy of the kept run `id`, if there is one.
    pub fn kept_run(&self, id: u64) -> Option<RunRecord> {
        self.runs
            .with_untracked(|r| r.iter().find(|r| r.id == id).cloned())
    }

    /// Changes a kept run and saves it.
    pub fn update_run(&self, id: u64, change: impl FnOnce(&mut RunRecord)) {
        let mut changed = None;
        self.runs.update(|runs| {
            if let Some(r) = runs.iter_mut().find(|r| r.id == id) {
                change(r);
                changed = Some(r.clone());
            }
        });
        if let Some(r) = changed {
            self.persist(r);
        }
    }

    /// As [`Session::update_run`], in a main-thread task of its own (saving a run serialises it
    /// and redraws the runs table: kept out of the task that handles a worker message).
    pub fn update_run_soon(&self, id: u64, change: impl FnOnce(&mut RunRecord) + 'static) {
        let s = *self;
        set_timeout(move || s.update_run(id, change), std::time::Duration::ZERO);
    }

    /// A new unique run id (milliseconds now, after every existing id).
    pub fn new_run_id(&self) -> u64 {
        let now = js_sys::Date::now() as u64;
        let last = self
            .runs
            .with_untracked(|r| r.iter().map(|r| r.id).max().unwrap_or(0));
        now.max(last + 1)
    }

    /// Retrains a shared run with its config and seed, to compare the curves.
    pub fn reproduce(&self, id: u64) {
        let Some(run) = self.kept_run(id) else {
            return;
        };
        let mut device = run.config.device;
        if device == DeviceChoice::Wgpu && self.webgpu.get_untracked() != Some(true) {
            device = DeviceChoice::Cpu;
        }
        self.config.set(run.config.clone());
        self.preset.set(String::new());
        self.device.set(device);
        self.reproduce_of.set(Some(id));
        self.reproduce_result.set(None);
        self.train();
    }

    fn finish_reproduction(&self, reproduced: &RunRecord) {
        let Some(id) = self.reproduce_of.get_untracked() else {
            return;
        };
        self.reproduce_of.set(None);
        let Some(shared) = self.kept_run(id) else {
            return;
        };
        let points = self.points.get_untracked();
        let (loss, accuracy) = curve_distance(&shared.curve, &points);
        let recorded = shared.final_accuracy().unwrap_or(0.0);
        let now = reproduced.final_accuracy().unwrap_or(0.0);
        let same_device = shared.config.device == reproduced.config.device;
        let text = format!(
            "Reproduced \"{}\": final accuracy {:.2}% (recorded {:.2}%); at the {} recorded curve points the loss differs by at most {:.3}% and the accuracy by {:.4}{}",
            shared.name,
            now * 100.0,
            recorded * 100.0,
            shared.curve.len(),
            loss * 100.0,
            accuracy,
            if same_device {
                " (same device: expected within 0.1% loss, the link's rounding)."
            } else {
                " (another device than the recorded run: small differences are expected)."
            }
        );
        self.reproduce_result
            .set(Some((text, (now - recorded).abs(), loss)));
    }

    /// Uses a kept run's stored weights for the drawing and the review box.
    pub fn use_stored_model(&self, id: u64) {
        let Some(run) = self.kept_run(id) else {
            return;
        };
        let session = *self;
        wasm_bindgen_futures::spawn_local(async move {
            match crate::store::load_weights(id).await {
                Ok(Some(weights)) => session.send(&ToWorker::UseModel {
                    run_id: id,
                    name: run.name,
                    config: Box::new(run.config),
                    weights,
                }),
                Ok(None) => session.error.set(Some(format!(
                    "The weights of \"{}\" are not kept in this browser.",
                    run.name
                ))),
                Err(e) => session.error.set(Some(e)),
            }
        });
    }

    /// Downloads a kept run's model: one `.bpk` file (burn's record of the weights, with the
    /// run record in its metadata) that "Import model" and native burn both load.
    pub fn export_model(&self, id: u64) {
        let Some(run) = self.kept_run(id) else {
            return;
        };
        let error = self.error;
        wasm_bindgen_futures::spawn_local(async move {
            let file = match crate::store::load_weights(id).await {
                Ok(Some(weights)) => run.model_file(weights).map_err(|e| e.to_string()),
                Ok(None) => Err("its weights are not kept in this browser".into()),
                Err(e) => Err(e),
            };
            let saved = file.and_then(|file| {
                crate::files::download(
                    &format!(
                        "{}.{}",
                        file_stem(&run.name),
                        kindling_core::model::WEIGHTS_EXTENSION
                    ),
                    "application/octet-stream",
                    &file,
                )
            });
            if let Err(e) = saved {
                error.set(Some(format!(
                    "The model of \"{}\" could not be saved: {e}",
                    run.name
                )));
            }
        });
    }

    /// Imports a model file (from "Download model" or `kindling train --weights`): the worker
    /// checks it against its run's config; only then is the run added to the table.
    pub fn import_model(&self, file_name: &str, bytes: Vec<u8>) {
        let mut record = match RunRecord::from_model_file(&bytes) {
            Ok(r) => r,
            Err(e) => {
                self.error.set(Some(format!(
                    "{file_name} cannot be imported: {e}. Nothing was changed."
                )));
                return;
            }
        };
        record.id = self.new_run_id();
        record.shared = false;
        record.has_weights = true;
        if record.status == RunStatus::Training {
            record.status = RunStatus::Interrupted;
        }
        let message = ToWorker::UseModel {
            run_id: record.id,
            name: record.name.clone(),
            config: Box::new(record.config.clone()),
            weights: bytes.clone(),
        };
        PENDING_IMPORT.with(|p| *p.borrow_mut() = Some((record, bytes)));
        self.error.set(None);
        self.send(&message);
    }

    /// Sends the user's files to the worker to read as a dataset; on success the builder
    /// switches to it, on failure nothing changes.
    pub fn upload_data(&self, files: Vec<(String, Vec<u8>)>) {
        let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        let sizes: Vec<usize> = files.iter().map(|(_, b)| b.len()).collect();
        let mut bytes = Vec::with_capacity(sizes.iter().sum());
        for (_, file) in &files {
            bytes.extend_from_slice(file);
        }
        drop(files);
        let request = self.next_request();
        self.pending_upload.set(Some(request));
        self.error.set(None);
        self.notice
            .set(Some(format!("Reading {}…", names.join(" and "))));
        self.send(&ToWorker::UploadData {
            request,
            names,
            sizes,
            bytes,
        });
    }

    /// Sends a message to the worker.
    pub fn send(&self, message: &ToWorker) {
        WORKER.with(|w| match w.borrow().as_ref() {
            Some(worker) => {
                let (value, transfer) =
                    crate::transport::outgoing(message.encode(), message.attachment());
                let sent = match transfer {
                    Some(transfer) => worker.post_message_with_transfer(&value, &transfer),
                    None => worker.post_message(&value),
                };
                if let Err(e) = sent {
                    self.error
                        .set(Some(format!("cannot reach the training worker: {e:?}")));
                }
            }
            None => self.error.set(Some(
                "the training worker is not running: reload the page".into(),
            )),
        });
    }

    /// Whether a run is loading, training or paused.
    pub fn busy(&self) -> bool {
        matches!(
            self.phase.get(),
            Phase::Loading { .. } | Phase::Training | Phase::Paused
        )
    }

    /// Starts a run of the builder's config on the chosen device.
    pub fn train(&self) {
        self.train_config(self.config.get_untracked());
    }

    /// Starts a run of `config` on the chosen device.
    pub fn train_config(&self, mut config: RunConfig) {
        config.device = self.device.get_untracked();
        if let Err(e) = config.validate() {
            self.error.set(Some(format!("Fix this setting first: {e}")));
            return;
        }
        let run_id = self.run_id.get_untracked() + 1;
        self.run_id.set(run_id);
        self.run_config.set(Some(config.clone()));
        self.phase.set(Phase::Loading {
            file: String::new(),
            loaded: 0,
            total: 0,
            cached: false,
        });
        self.error.set(None);
        self.notice.set(None);
        self.end.set(None);
        self.report.set(None);
        self.points.set(Vec::new());
        self.epochs.set(Vec::new());
        self.boundary.set(None);
        self.preview.set(None);
        self.digit.set(None);
        self.review.set(None);
        self.progress.set(ProgressReport::default());
        self.record_id.set(None);
        self.model_in_use.set(None);
        self.redraw(true);
        self.send(&ToWorker::Start {
            run_id,
            config: Box::new(config),
        });
    }

    /// Asks for a new prediction id (older answers are then ignored).
    pub fn next_request(&self) -> u64 {
        let id = self.request.get_untracked() + 1;
        self.request.set(id);
        id
    }

    fn receive(&self, message: FromWorker) {
        let current = self.run_id.get_untracked();
        let latest_request = self.request.get_untracked();
        match message {
            FromWorker::Ready { webgpu } => {
                self.webgpu.set(Some(webgpu));
                self.worker_ready.set(true);
                if webgpu {
                    self.device.set(DeviceChoice::Wgpu);
                }
            }
            FromWorker::Loading {
                run_id,
                file,
                loaded,
                total,
                cached,
            } if run_id == current => self.phase.set(Phase::Loading {
                file,
                loaded,
                total,
                cached,
            }),
            FromWorker::Started {
                run_id,
                device,
                device_note,
                preview,
            } if run_id == current => {
                self.device_used.set(Some(device));
                if device_note.is_some() {
                    self.notice.set(device_note);
                }
                // The preview (and the boundary's points) renders in a task of its own.
                let preview_signal = self.preview;
                set_timeout(
                    move || preview_signal.set(Some(*preview)),
                    std::time::Duration::ZERO,
                );
                self.phase.set(Phase::Training);
                if let Some(config) = self.run_config.get_untracked() {
                    let id = self.new_run_id();
                    let count = self.runs.with_untracked(|r| r.len()) + 1;
                    let preset = self.preset.get_untracked();
                    let sweep_label = self.sweep.with_untracked(|s| {
                        s.as_ref()
                            .and_then(|s| s.current.map(|i| s.runs[i].label.clone()))
                    });
                    let name = if let Some(label) = sweep_label {
                        format!("sweep {label}")
                    } else if preset.is_empty() {
                        format!("{} run {count}", config.dataset.name())
                    } else {
                        format!("{preset} run {count}")
                    };
                    let mut config = config;
                    config.device = device;
                    let record = RunRecord {
                        id,
                        name,
                        notes: String::new(),
                        config,
                        status: RunStatus::Training,
                        epochs: Vec::new(),
                        curve: Vec::new(),
                        batches_per_epoch: 0,
                        test_accuracy: None,
                        seconds: 0.0,
                        samples_per_second: 0.0,
                        created_ms: js_sys::Date::now(),
                        shared: false,
                        has_weights: false,
                    };
                    self.record_id.set(Some(id));
                    LAST_CHECKPOINT.with(|c| c.set(js_sys::Date::now()));
                    self.sweep.update(|s| {
                        if let Some(s) = s {
                            if let Some(i) = s.current {
                                s.runs[i].record = Some(id);
                            }
                        }
                    });
                    // Listed and saved in a task of its own (before any later update of the
                    // run: those are deferred the same way, and timers run in order).
                    let s = *self;
                    set_timeout(
                        move || {
                            s.runs.update(|r| r.push(record.clone()));
                            s.persist(record);
                        },
                        std::time::Duration::ZERO,
                    );
                }
            }
            FromWorker::Progress {
                run_id,
                progress,
                points,
            } if run_id == current => {
                self.progress.set(progress);
                if !points.is_empty() {
                    self.points.update(|p| p.extend(points));
                }
                self.redraw(false);
            }
            FromWorker::Epoch { run_id, metrics } if run_id == current => {
                self.epochs.update(|e| e.push(metrics));
                self.redraw(false);
                let due = js_sys::Date::now() - LAST_CHECKPOINT.with(|c| c.get()) >= CHECKPOINT_MS;
                if let Some(id) = self.record_id.get_untracked().filter(|_| due) {
                    LAST_CHECKPOINT.with(|c| c.set(js_sys::Date::now()));
                    let progress = self.progress.get_untracked();
                    let points = self.points.get_untracked();
                    self.update_run_soon(id, move |r| {
                        r.epochs.push(metrics);
                        r.batches_per_epoch = progress.batches_per_epoch;
                        r.seconds = progress.seconds;
                        r.samples_per_second = progress.samples_per_second;
                        r.curve = downsample(&points, MAX_CURVE_POINTS);
                    });
                }
            }
            FromWorker::Boundary { run_id, map } if run_id == current => {
                self.boundary.set(Some(map));
            }
            FromWorker::Paused { run_id, paused } if run_id == current => {
                self.phase.set(if paused {
                    Phase::Paused
                } else {
                    Phase::Training
                });
            }
            FromWorker::Ended {
                run_id,
                end,
                report,
                progress,
            } if run_id == current => {
                self.progress.set(progress);
                if let RunEnd::Diverged(why) = &end {
                    self.error.set(Some(format!("Training stopped: {why}")));
                }
                if let Some(id) = self.record_id.get_untracked() {
                    let points = self.points.get_untracked();
                    let epochs = self.epochs.get_untracked();
                    let test_accuracy = report.as_ref().map(|r| r.accuracy);
                    let status = match &end {
                        RunEnd::Finished => RunStatus::Finished,
                        RunEnd::Stopped => RunStatus::Stopped,
                        RunEnd::Diverged(why) => RunStatus::Diverged(why.clone()),
                    };
                    // Saved (and the runs table redrawn) in a task of its own.
                    let s = *self;
                    set_timeout(
                        move || {
                            s.update_run(id, |r| {
                                r.status = status;
                                r.epochs = epochs;
                                r.curve = downsample(&points, MAX_CURVE_POINTS);
                                r.batches_per_epoch = progress.batches_per_epoch;
                                r.seconds = progress.seconds;
                                r.samples_per_second = progress.samples_per_second;
                                r.test_accuracy = test_accuracy;
                            });
                            if let Some(record) = s.kept_run(id) {
                                s.finish_reproduction(&record);
                            }
                        },
                        std::time::Duration::ZERO,
                    );
                }
                self.end.set(Some(end));
                self.phase.set(Phase::Ended);
                self.redraw(true);
                // The report (confusion matrix, mistakes) renders in a task of its own, so that
                // no single main-thread task grows long.
                let report_signal = self.report;
                set_timeout(
                    move || report_signal.set(report.map(|r| *r)),
                    std::time::Duration::ZERO,
                );
                self.next_sweep_run();
            }
            FromWorker::Weights { run_id, weights } if run_id == current => {
                if let Some(id) = self.record_id.get_untracked() {
                    let error = self.error;
                    crate::store::save_weights(id, weights, move |e| {
                        error.set(Some(format!("This run's weights could not be kept: {e}")))
                    });
                    self.update_run_soon(id, |r| r.has_weights = true);
                }
            }
            FromWorker::DataUploaded {
                request,
                data,
                preview,
            } if self.pending_upload.get_untracked() == Some(request) => {
                self.pending_upload.set(None);
                self.notice.set(Some(format!(
                    "Loaded {}: {} examples, {} classes. The model now reads them; press Train.",
                    data.file,
                    data.examples,
                    data.classes()
                )));
                self.preset.set(String::new());
                self.config.update(|c| crate::builder::use_upload(c, data));
                self.preview.set(Some(*preview));
            }
            FromWorker::UploadRejected { request, message }
                if self.pending_upload.get_untracked() == Some(request) =>
            {
                self.pending_upload.set(None);
                self.notice.set(None);
                self.error.set(Some(format!(
                    "Your data could not be loaded: {message}. Nothing was changed."
                )));
            }
            FromWorker::ModelInUse { run_id, name } => {
                let imported = take_pending_import(run_id);
                if let Some((record, bytes)) = imported {
                    let error = self.error;
                    self.runs.update(|r| r.push(record.clone()));
                    self.persist(record);
                    crate::store::save_weights(run_id, bytes, move |e| {
                        error.set(Some(format!("The imported weights could not be kept: {e}")))
                    });
                    self.notice.set(Some(format!(
                        "Imported \"{name}\": it is listed under Runs, and the drawing and the review box now use it."
                    )));
                } else {
                    self.notice.set(Some(format!(
                        "The drawing and the review box now use \"{name}\"."
                    )));
                }
                self.model_in_use.set(Some(name));
                self.prediction_note.set(None);
                self.digit.set(None);
                self.review.set(None);
            }
            FromWorker::ModelRejected { run_id, message } => {
                let imported = take_pending_import(run_id);
                self.error.set(Some(match imported {
                    Some((record, _)) => format!(
                        "The model \"{}\" cannot be imported: {message}. Nothing was changed.",
                        record.name
                    ),
                    None => format!("That model cannot be used: {message}"),
                }));
            }
            FromWorker::Failed { run_id, message } if run_id == current => {
                self.error.set(Some(message));
                self.phase.set(Phase::Idle);
                self.reproduce_of.set(None);
                if let Some(id) = self.record_id.get_untracked() {
                    self.update_run_soon(id, |r| {
                        if r.status == RunStatus::Training {
                            r.status = RunStatus::Stopped;
                        }
                    });
                }
                self.next_sweep_run();
            }
            FromWorker::ImagePrediction {
                request,
                probabilities,
                input,
            } if request == latest_request => {
                self.prediction_note.set(None);
                self.digit.set(Some(DigitGuess {
                    probabilities,
                    input,
                }));
            }
            FromWorker::ReviewPrediction {
                request,
                positive,
                unknown,
                tokens,
            } if request == latest_request => {
                self.prediction_note.set(None);
                self.review.set(Some(ReviewGuess {
                    positive,
                    unknown,
                    tokens,
                }));
            }
            FromWorker::PredictionUnavailable { request, message } if request == latest_request => {
                self.prediction_note.set(Some(message));
            }
            FromWorker::Crashed { message } => {
                self.error.set(Some(format!(
                    "The training worker crashed ({message}). Reload the page to go on."
                )));
                self.phase.set(Phase::Idle);
                self.worker_ready.set(false);
                if let Some(id) = self.record_id.get_untracked() {
                    self.update_run_soon(id, |r| {
                        if r.status == RunStatus::Training {
                            r.status = RunStatus::Interrupted;
                        }
                    });
                }
            }
            _ => {}
        }
    }
}

/// Loads the stored runs (a run still marked as training was cut off by a closed tab: it
/// becomes interrupted), then opens the run of a share link in the address, if any.
fn load_runs_and_link(session: Session) {
    wasm_bindgen_futures::spawn_local(async move {
        match crate::store::load_runs().await {
            Ok(mut runs) => {
                for r in runs.iter_mut().filter(|r| r.status == RunStatus::Training) {
                    r.status = RunStatus::Interrupted;
                    session.persist(r.clone());
                }
                session.runs.update(|all| {
                    let shared: Vec<RunRecord> = all.drain(..).filter(|r| r.shared).collect();
                    *all = runs;
                    all.extend(shared);
                });
            }
            Err(e) => session
                .error
                .set(Some(format!("Your earlier runs could not be read: {e}"))),
        }
    });
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if hash.contains("run=") {
        match decode_link(&hash) {
            Ok(mut run) => {
                run.id = session.new_run_id();
                if run.name.trim().is_empty() {
                    run.name = "shared run".into();
                }
                let id = run.id;
                session.runs.update(|r| r.push(run));
                session.selected.set(vec![id]);
                session.notice.set(Some(
                    "Opened a shared run: it is listed under Runs, read-only; press Reproduce to train it again here."
                        .into(),
                ));
            }
            Err(e) => session
                .error
                .set(Some(format!("The run link in the address cannot be opened: {e}. Your stored runs are unchanged."))),
        }
    }
}

/// The session provided to every component.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

fn start_worker(session: Session) {
    let worker = match Worker::new("./worker_loader.js") {
        Ok(w) => w,
        Err(e) => {
            session.error.set(Some(format!(
                "This browser cannot start the training worker ({e:?}); Kindling needs Web Workers."
            )));
            return;
        }
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some((text, bytes)) = crate::transport::incoming(event.data()) {
            let started = js_sys::Date::now();
            match FromWorker::decode(&text) {
                Ok(message) => session.receive(match bytes {
                    Some(bytes) => message.attach(bytes),
                    None => message,
                }),
                Err(e) => web_sys::console::warn_1(&e.into()),
            }
            // Effects run in microtasks queued behind this one: it sees the whole handling.
            let kind: String = text.chars().skip(2).take_while(|c| *c != '"').collect();
            wasm_bindgen_futures::spawn_local(async move {
                let took = js_sys::Date::now() - started;
                if took > SLOW_MESSAGE_MS {
                    web_sys::console::warn_1(
                        &format!("kindling: handling a {kind} message took {took:.0} ms").into(),
                    );
                }
            });
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error =
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            session.error.set(Some(format!(
                "The training worker failed: {}. Reload the page.",
                event.message()
            )));
            session.phase.set(Phase::Idle);
        });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    WORKER.with(|w| *w.borrow_mut() = Some(worker));
}

fn device_label(device: DeviceChoice) -> &'static str {
    match device {
        DeviceChoice::Wgpu => "WebGPU",
        DeviceChoice::Cpu => "CPU (wasm SIMD)",
        DeviceChoice::Ndarray => "CPU (ndarray)",
    }
}

/// The header: name, device picker and what the current run trains on.
#[component]
fn Header() -> impl IntoView {
    let s = use_session();
    view! {
        <header class="top">
            <div class="brand">
                <svg class="logo" viewBox="0 0 64 64" width="22" height="22" aria-hidden="true">
                    <path d="M32 4c4 10 16 16 16 32a16 16 0 0 1-32 0c0-8 4-12 8-16 0 6 2 10 6 12-2-10 2-20 2-28z" fill="#f26b1d"></path>
                    <path d="M32 30c2 6 8 8 8 16a8 8 0 0 1-16 0c0-5 3-7 5-9 0 3 1 5 3 6-1-5 0-9 0-13z" fill="#ffc04d"></path>
                </svg>
                <h1>"Kindling"</h1>
                <span class="tagline">"train real neural networks in your browser"</span>
            </div>
            <div class="device-box">
                <label for="device">"Device"</label>
                <select
                    id="device"
                    data-testid="device"
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        s.device.set(DeviceChoice::parse(&value).unwrap_or_default());
                    }
                >
                    <option
                        value="wgpu"
                        selected=move || s.device.get() == DeviceChoice::Wgpu
                        disabled=move || s.webgpu.get() != Some(true)
                    >
                        {move || match s.webgpu.get() {
                            Some(false) => "WebGPU (not available here)",
                            _ => "WebGPU",
                        }}
                    </option>
                    <option value="cpu" selected=move || s.device.get() == DeviceChoice::Cpu>
                        "CPU (wasm SIMD)"
                    </option>
                </select>
                <span class="device-status" data-testid="device-status">
                    {move || match (s.worker_ready.get(), s.device_used.get()) {
                        (false, _) => "starting the worker…".to_string(),
                        (true, Some(d)) => format!("last run on {}", device_label(d)),
                        (true, None) => match s.webgpu.get() {
                            Some(true) => "WebGPU adapter found".to_string(),
                            _ => "no WebGPU adapter: CPU only".to_string(),
                        },
                    }}
                </span>
            </div>
        </header>
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    start_worker(session);
    load_runs_and_link(session);
    view! {
        <Header />
        <main class="layout">
            <BuilderPanel />
            <TrainingPanel />
            <TryItPanel />
            <RunsPanel />
            <SweepPanel />
        </main>
        <footer class="foot">
            "Kindling · burn + leptos, compiled to WebAssembly · data never leaves this browser"
        </footer>
    }
}

/// Mounts the page on `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}
