//! What the page does with each message from the worker: one handler per [`FromWorker`]
//! variant, dispatched by an exhaustive match (a new message does not compile until it has a
//! handler). Messages about an older run than the current one, and answers to older
//! prediction requests, are ignored.

use kindling_core::record::{RunRecord, RunStatus};
use kindling_core::train::{BatchPoint, DeviceSpeeds, EpochMetrics, Steer};
use kindling_core::DeviceChoice;
use leptos::prelude::*;

use super::persistence::{record_progress, take_pending_import};
use super::{Phase, ReviewGuess, Session};
use crate::faults::WorkerDeath;
use crate::protocol::{
    BoundaryMap, CpuThreads, DataPreview, FromWorker, ProgressReport, TestReport, ToWorker,
};
use crate::tasks::in_own_task;

/// Least milliseconds between two saves of a training run.
const CHECKPOINT_MS: f64 = 5000.0;

thread_local! {
    static LAST_CHECKPOINT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

impl Session {
    /// Handles one message from the worker.
    pub(super) fn receive(&self, message: FromWorker) {
        match message {
            FromWorker::Ready { webgpu, threads } => self.on_ready(webgpu, threads),
            FromWorker::Loading {
                run_id,
                file,
                loaded,
                total,
                cached,
            } => self.on_loading(
                run_id,
                Phase::Loading {
                    file,
                    loaded,
                    total,
                    cached,
                },
            ),
            FromWorker::Started {
                run_id,
                device,
                device_note,
                speeds,
                cpu_threads,
                trying_threads,
                preview,
            } => self.on_started(
                run_id,
                device,
                device_note,
                speeds,
                (cpu_threads, trying_threads),
                *preview,
            ),
            FromWorker::ThreadsPicked {
                run_id,
                cpu_threads,
                speeds,
            } => self.on_threads_picked(run_id, cpu_threads, speeds),
            FromWorker::MeasuringDevices { run_id } => self.on_loading(run_id, Phase::Measuring),
            FromWorker::Progress {
                run_id,
                progress,
                points,
            } => self.on_progress(run_id, progress, points),
            FromWorker::Epoch { run_id, metrics } => self.on_epoch(run_id, metrics),
            FromWorker::Boundary { run_id, map } => self.on_boundary(run_id, map),
            FromWorker::UnitWeights { run_id, images } => {
                if self.is_current(run_id) && self.run.views_open.get_untracked() {
                    self.run.unit_images.set(Some(*images));
                }
            }
            FromWorker::Health { run_id, report } => self.on_health(run_id, *report),
            FromWorker::Network { run_id, view } => {
                if self.is_current(run_id) && self.run.views_open.get_untracked() {
                    self.run.network.set(Some(*view));
                }
            }
            FromWorker::Paused { run_id, paused } => self.on_paused(run_id, paused),
            FromWorker::Steered { run_id, result } => self.on_steered(run_id, result),
            FromWorker::CellExamples {
                run_id,
                truth,
                predicted,
                total,
                images,
            } => {
                if self.is_current(run_id) {
                    self.run.cell.set(Some(super::CellExamples {
                        truth,
                        predicted,
                        total,
                        images,
                    }));
                }
            }
            FromWorker::Ended {
                run_id,
                end,
                report,
                progress,
            } => self.on_ended(run_id, end, report, progress),
            FromWorker::Weights { run_id, weights } => self.on_weights(run_id, weights),
            FromWorker::ModelInUse { run_id, name } => self.on_model_in_use(run_id, name),
            FromWorker::ModelRejected { run_id, message } => {
                self.on_model_rejected(run_id, message)
            }
            FromWorker::DataUploaded {
                request,
                data,
                preview,
            } => self.on_data_uploaded(request, data, *preview),
            FromWorker::UploadRejected { request, message } => {
                self.on_upload_rejected(request, message)
            }
            FromWorker::Failed { run_id, message } => self.on_failed(run_id, message),
            FromWorker::ImagePrediction {
                request,
                probabilities,
                input,
                layers,
            } => self.on_image_prediction(request, probabilities, input, layers),
            FromWorker::ReviewPrediction {
                request,
                positive,
                unknown,
                tokens,
                trace,
            } => self.on_review_prediction(
                request,
                ReviewGuess {
                    positive,
                    unknown,
                    tokens,
                    trace: trace.map(|t| *t),
                },
            ),
            FromWorker::PredictionUnavailable { request, message } => {
                self.on_prediction_unavailable(request, message)
            }
            FromWorker::Exported { name, bytes, .. } => self.on_exported(name, bytes),
            FromWorker::ExportFailed { message, .. } => {
                self.messages.notice.set(None);
                self.messages.fail(message)
            }
            FromWorker::Crashed { message } => self.on_crashed(message),
            FromWorker::OutOfMemory { requested, memory } => {
                self.on_out_of_memory(requested, memory)
            }
        }
    }

    /// Whether `run_id` is the run in progress (messages about older runs are ignored).
    pub(super) fn is_current(&self, run_id: u64) -> bool {
        run_id == self.run.id.get_untracked()
    }

    fn on_ready(&self, webgpu: bool, threads: CpuThreads) {
        // The device stays the user's choice (by default the faster, measured per model).
        self.worker.webgpu.set(Some(webgpu));
        self.worker
            .threads
            .set(Some(super::worker_link::threads_note().unwrap_or(threads)));
        // A new worker computes the views until told otherwise: told first, before the
        // messages that waited for it (a sweep's next run).
        if !self.run.views_open.get_untracked() {
            self.worker.send_first(&ToWorker::Views { open: false });
        }
        self.worker.started();
    }

    fn on_loading(&self, run_id: u64, phase: Phase) {
        if self.is_current(run_id) {
            self.run.phase.set(phase);
        }
    }

    fn on_started(
        &self,
        run_id: u64,
        device: DeviceChoice,
        device_note: Option<String>,
        speeds: Option<DeviceSpeeds>,
        (cpu_threads, trying_threads): (u32, bool),
        preview: DataPreview,
    ) {
        // Kept even for a run stopped meanwhile: the model need not be measured again.
        if let Some(speeds) = &speeds {
            super::device_speeds::remember(speeds);
        }
        if !self.is_current(run_id) {
            return;
        }
        self.run.device_used.set(Some((device, cpu_threads)));
        self.run.device_speeds.set(speeds);
        self.run.trying_threads.set(trying_threads);
        if device_note.is_some() {
            self.messages.notice.set(device_note);
        }
        // The preview (and the boundary's points) renders in a task of its own.
        let preview_signal = self.run.preview;
        in_own_task("data preview", move || preview_signal.set(Some(preview)));
        self.run.phase.set(Phase::Training);
        let Some(mut config) = self.run.config.get_untracked() else {
            return;
        };
        let id = self.kept.new_id();
        let count = self.kept.runs.with_untracked(|r| r.len()) + 1;
        let preset = self.builder.preset.get_untracked();
        let name = if let Some(label) = self.sweeps.current_label() {
            format!("sweep {label}")
        } else if preset.is_empty() {
            format!("{} run {count}", config.dataset.name())
        } else {
            format!("{preset} run {count}")
        };
        config.device = device;
        let record = RunRecord::started(id, name, config, js_sys::Date::now());
        self.run.record_id.set(Some(id));
        // Other tabs see the run as live (not interrupted) while this tab holds its lock.
        super::tabs::hold_run(id);
        LAST_CHECKPOINT.with(|c| c.set(js_sys::Date::now()));
        self.sweeps.started_as(id);
        // Listed, then saved, in tasks of their own (before any later update of the run: those
        // are deferred the same way, and timers run in order).
        let s = *self;
        let listed = record.clone();
        in_own_task("run listing", move || {
            s.kept.runs.update(|r| r.push(listed))
        });
        in_own_task("run save", move || s.persist(record));
    }

    /// The run's turns on one thread and on the pool are over: the header names the threads
    /// it kept and the figures (kept for the next run of the model, as measured ones are).
    fn on_threads_picked(&self, run_id: u64, cpu_threads: u32, speeds: Option<DeviceSpeeds>) {
        if let Some(speeds) = &speeds {
            super::device_speeds::remember(speeds);
        }
        if !self.is_current(run_id) {
            return;
        }
        self.run.trying_threads.set(false);
        self.run
            .device_used
            .set(Some((DeviceChoice::Cpu, cpu_threads)));
        if speeds.is_some() {
            self.run.device_speeds.set(speeds);
        }
    }

    fn on_progress(&self, run_id: u64, progress: ProgressReport, points: Vec<BatchPoint>) {
        if !self.is_current(run_id) {
            return;
        }
        self.run.progress.set(progress);
        if !points.is_empty() {
            self.run.points.update(|p| p.extend(points));
        }
        self.run.redraw(false);
    }

    fn on_epoch(&self, run_id: u64, metrics: EpochMetrics) {
        if !self.is_current(run_id) {
            return;
        }
        self.run.epochs.update(|e| e.push(metrics));
        self.run.redraw(false);
        let Some(id) = self.run.record_id.get_untracked() else {
            return;
        };
        // Every epoch reaches the store, so a reload keeps them all, in order; the runs table
        // is redrawn with them at most every CHECKPOINT_MS.
        let due = js_sys::Date::now() - LAST_CHECKPOINT.with(|c| c.get()) >= CHECKPOINT_MS;
        if due {
            LAST_CHECKPOINT.with(|c| c.set(js_sys::Date::now()));
        }
        let epochs = self.run.epochs.get_untracked();
        let progress = self.run.progress.get_untracked();
        if due {
            let points = self.run.points.get_untracked();
            self.update_run_soon(id, move |r| {
                r.epochs = epochs;
                record_progress(r, &progress, &points);
            });
        } else {
            // Between checkpoints only the epochs (and the time): the curve, which can hold
            // many points, is copied at checkpoints and at the end.
            let on_error = self.messages.reporter("This run could not be saved");
            in_own_task("epoch save", move || {
                super::store::update_run(
                    id,
                    Box::new(move |r| {
                        r.epochs = epochs;
                        r.batches_per_epoch = progress.progress.batches_per_epoch;
                        r.seconds = progress.seconds;
                    }),
                    on_error,
                )
            });
        }
    }

    fn on_boundary(&self, run_id: u64, map: BoundaryMap) {
        // Views already on their way when the user closed them are dropped.
        if self.is_current(run_id) && self.run.views_open.get_untracked() {
            self.run.boundary.set(Some(map));
        }
    }

    /// A change of the paused run's hyper-parameters: recorded in the run's config (the curves
    /// mark it, and the kept run, its link and Reproduce carry it), or refused.
    fn on_steered(&self, run_id: u64, result: Result<Steer, String>) {
        if !self.is_current(run_id) {
            return;
        }
        let change = match result {
            Ok(change) => change,
            Err(message) => return self.messages.fail(message),
        };
        self.messages.error.set(None);
        // As the worker records it: changes planned for later batches give way to this one.
        let record = move |steering: &mut kindling_core::train::Steering| {
            steering.retain(|c| c.at_step <= change.at_step);
            steering.push(change);
        };
        self.run.config.update(|c| {
            if let Some(c) = c {
                record(&mut c.training.steering);
            }
        });
        self.run.redraw(true);
        if let Some(id) = self.run.record_id.get_untracked() {
            self.update_run_soon(id, move |r| record(&mut r.config.training.steering));
        }
    }

    fn on_paused(&self, run_id: u64, paused: bool) {
        if self.is_current(run_id) {
            self.run.phase.set(if paused {
                Phase::Paused
            } else {
                Phase::Training
            });
        }
    }

    fn on_ended(
        &self,
        run_id: u64,
        end: RunStatus,
        report: Option<Box<TestReport>>,
        progress: ProgressReport,
    ) {
        if !self.is_current(run_id) {
            return;
        }
        self.run.progress.set(progress);
        if let RunStatus::Diverged(why) = &end {
            self.messages.fail(format!("Training stopped: {why}"));
        }
        if let Some(id) = self.run.record_id.get_untracked() {
            let points = self.run.points.get_untracked();
            let epochs = self.run.epochs.get_untracked();
            let test_accuracy = report.as_ref().map(|r| r.accuracy);
            let status = end.clone();
            // Saved (and the runs table redrawn) in a task of its own.
            let s = *self;
            in_own_task("run end save", move || {
                s.update_run(id, move |r| {
                    r.status = status;
                    r.epochs = epochs;
                    record_progress(r, &progress, &points);
                    r.test_accuracy = test_accuracy;
                });
                super::tabs::release_run(id);
                if let Some(record) = s.kept.get(id) {
                    s.finish_reproduction(&record);
                }
            });
        }
        self.run.end.set(Some(end));
        self.run.phase.set(Phase::Ended);
        self.run.redraw(true);
        // The report (confusion matrix, mistakes) renders in a task of its own.
        let report_signal = self.run.report;
        in_own_task("test report", move || report_signal.set(report.map(|r| *r)));
        self.next_sweep_run();
    }

    fn on_weights(&self, run_id: u64, weights: Vec<u8>) {
        if !self.is_current(run_id) {
            return;
        }
        if let Some(id) = self.run.record_id.get_untracked() {
            // The weights and the record's mark of them, in one transaction.
            super::store::save_weights(
                id,
                weights,
                Box::new(|r| r.has_weights = true),
                None,
                self.messages
                    .reporter("This run's weights could not be kept"),
            );
            let kept = self.kept;
            in_own_task("weights mark", move || {
                kept.runs.update(|runs| {
                    if let Some(r) = runs.iter_mut().find(|r| r.id == id) {
                        r.has_weights = true;
                    }
                })
            });
        }
    }

    fn on_model_in_use(&self, run_id: u64, name: String) {
        if let Some((record, bytes)) = take_pending_import(run_id) {
            self.keep_import(record, bytes);
            self.messages.tell(format!(
                "Imported \"{name}\": it is listed under Runs, and the drawing and the review box now use it."
            ));
        } else {
            self.messages.tell(format!(
                "The drawing and the review box now use \"{name}\"."
            ));
        }
        self.predictions.model_in_use.set(Some(name));
        self.predictions.note.set(None);
        self.predictions.clear();
    }

    fn on_model_rejected(&self, run_id: u64, message: String) {
        self.messages.fail(match take_pending_import(run_id) {
            Some((record, _)) => format!(
                "The model \"{}\" cannot be imported: {message}. Nothing was changed.",
                record.name
            ),
            None => format!("That model cannot be used: {message}"),
        });
    }

    fn on_data_uploaded(
        &self,
        request: u64,
        data: kindling_core::data::upload::UploadedData,
        preview: DataPreview,
    ) {
        if self.builder.pending_upload.get_untracked() != Some(request) {
            return;
        }
        self.builder.pending_upload.set(None);
        self.messages.tell(format!(
            "Loaded {}: {} examples, {} classes. The model now reads them; press Train.",
            data.file,
            data.examples,
            data.classes()
        ));
        self.builder.edit(|c| crate::builder::use_upload(c, data));
        self.run.preview.set(Some(preview));
    }

    fn on_upload_rejected(&self, request: u64, message: String) {
        if self.builder.pending_upload.get_untracked() != Some(request) {
            return;
        }
        self.builder.pending_upload.set(None);
        self.messages.notice.set(None);
        self.messages.fail(format!(
            "Your data could not be loaded: {message}. Nothing was changed."
        ));
    }

    fn on_failed(&self, run_id: u64, message: String) {
        if !self.is_current(run_id) {
            return;
        }
        self.fail_current_run(message.clone());
        self.next_sweep_run();
        // Told last: starting a sweep's next run clears the messages.
        self.messages.fail(message);
    }

    /// The worker panicked: it is dead (the panic aborts it); the page recovers.
    fn on_crashed(&self, message: String) {
        self.worker_died(None, WorkerDeath::Panicked(message));
    }

    /// The worker's allocator failed: kept to explain the death that usually follows.
    fn on_out_of_memory(&self, requested: u64, memory: u64) {
        self.worker
            .last_words(WorkerDeath::OutOfMemory { requested, memory });
    }
}
