//! Keeping runs: saving them to IndexedDB (through [`super::store`]), loading them when the
//! page opens, and models in and out: using a kept model, downloading one as a file,
//! importing one.

use std::cell::RefCell;

use kindling_core::record::{downsample, RunRecord, RunStatus, MAX_CURVE_POINTS};
use kindling_core::train::BatchPoint;
use leptos::prelude::*;

use super::store;
use super::Session;
use crate::protocol::{ExportFormat, ProgressReport, ToWorker};

thread_local! {
    /// An imported model file waiting for the worker's check: its run and the file's bytes.
    static PENDING_IMPORT: RefCell<Option<(RunRecord, Vec<u8>)>> = const { RefCell::new(None) };
}

/// The import waiting for the worker's answer about `run_id`, if that is the one.
pub(super) fn take_pending_import(run_id: u64) -> Option<(RunRecord, Vec<u8>)> {
    PENDING_IMPORT.with(|p| {
        let mut p = p.borrow_mut();
        if p.as_ref().is_some_and(|(r, _)| r.id == run_id) {
            p.take()
        } else {
            None
        }
    })
}

/// Forgets an import waiting for the worker's answer (the worker that was to answer died).
pub(super) fn forget_pending_import() {
    PENDING_IMPORT.with(|p| p.borrow_mut().take());
}

/// Writes what a run has trained so far into its record: time, throughput and the curve.
pub(super) fn record_progress(
    record: &mut RunRecord,
    progress: &ProgressReport,
    points: &[BatchPoint],
) {
    record.batches_per_epoch = progress.progress.batches_per_epoch;
    record.seconds = progress.seconds;
    record.samples_per_second = progress.samples_per_second;
    record.curve = downsample(points, MAX_CURVE_POINTS);
}

impl Session {
    /// Saves a run whole to IndexedDB in the background (a new run, or one brought back by
    /// Undo); a failure shows as an error.
    pub fn persist(&self, run: RunRecord) {
        if run.shared {
            return;
        }
        store::save_run(&run, self.messages.reporter("This run could not be saved"));
    }

    /// Changes a kept run here and in the store: `change` sets only the fields it is about, and
    /// is applied to the record as stored, so another tab's edits to other fields stay.
    pub fn update_run(&self, id: u64, change: impl FnOnce(&mut RunRecord) + Clone + 'static) {
        let mut shared = None;
        let in_store = change.clone();
        self.kept.runs.update(|runs| {
            if let Some(r) = runs.iter_mut().find(|r| r.id == id) {
                change(r);
                shared = Some(r.shared);
            }
        });
        if shared == Some(false) {
            store::update_run(
                id,
                Box::new(in_store),
                self.messages.reporter("This run could not be saved"),
            );
        }
    }

    /// As [`Session::update_run`], in a main-thread task of its own (saving a run serialises it
    /// and redraws the runs table: kept out of the task that handles a worker message).
    pub fn update_run_soon(&self, id: u64, change: impl FnOnce(&mut RunRecord) + Clone + 'static) {
        let s = *self;
        crate::tasks::in_own_task("run save", move || s.update_run(id, change));
    }

    /// Reads run `id` again from the store after another tab changed it: the table shows
    /// the stored run (a run this tab is training keeps its own progress and takes only the
    /// name and notes); a run deleted there goes here too.
    pub(super) fn refresh_run(&self, id: u64) {
        let s = *self;
        wasm_bindgen_futures::spawn_local(async move {
            let stored = match store::load_run(id).await {
                Ok(stored) => stored,
                Err(_) => return,
            };
            let training_here = s.run.record_id.get_untracked() == Some(id)
                && !matches!(
                    s.run.phase.get_untracked(),
                    super::Phase::Ended | super::Phase::Idle
                );
            s.kept.runs.update(|runs| {
                let at = runs.iter().position(|r| r.id == id);
                match (stored, at) {
                    (Some(stored), Some(i)) if training_here => {
                        runs[i].name = stored.name;
                        runs[i].notes = stored.notes;
                    }
                    (Some(stored), Some(i)) => runs[i] = stored,
                    (Some(stored), None) => {
                        runs.push(stored);
                        runs.sort_by_key(|r| r.id);
                    }
                    (None, Some(i)) if !runs[i].shared && !training_here => {
                        runs.remove(i);
                    }
                    (None, _) => {}
                }
            });
        });
    }

    /// Deletes a kept run (and its weights) from the table and the browser.
    pub fn delete_run(&self, id: u64) {
        store::delete_run(id, self.messages.reporter("The run could not be deleted"));
    }

    /// Uses a kept run's stored weights for the drawing and the review box.
    pub fn use_stored_model(&self, id: u64) {
        let Some(run) = self.kept.get(id) else {
            return;
        };
        let session = *self;
        wasm_bindgen_futures::spawn_local(async move {
            match store::load_weights(id).await {
                Ok(Some(weights)) => session.worker.send(&ToWorker::UseModel {
                    run_id: id,
                    name: run.name,
                    config: Box::new(run.config),
                    weights,
                }),
                Ok(None) => session.messages.fail(format!(
                    "The weights of \"{}\" are not kept in this browser.",
                    run.name
                )),
                Err(e) => session.messages.fail(e),
            }
        });
    }

    /// Downloads a kept run's model: one `.bpk` file (burn's record of the weights, with the
    /// run record in its metadata) that "Import model" and native burn both load.
    pub fn export_model(&self, id: u64) {
        let Some(run) = self.kept.get(id) else {
            return;
        };
        let messages = self.messages;
        wasm_bindgen_futures::spawn_local(async move {
            let file = match store::load_weights(id).await {
                Ok(Some(weights)) => run.model_file(weights).map_err(|e| e.to_string()),
                Ok(None) => Err("its weights are not kept in this browser".into()),
                Err(e) => Err(e),
            };
            let saved = file.and_then(|file| {
                crate::files::download(
                    &format!(
                        "{}.{}",
                        run.file_stem(),
                        kindling_core::model::WEIGHTS_EXTENSION
                    ),
                    "application/octet-stream",
                    &file,
                )
            });
            if let Err(e) = saved {
                messages.fail(format!(
                    "The model of \"{}\" could not be saved: {e}",
                    run.name
                ));
            }
        });
    }

    /// Exports a kept run for `format` (a framework's zip, or the safetensors weights): the
    /// worker makes the file from the stored weights and the page downloads it
    /// ([`Self::on_exported`]).
    pub fn export_run(&self, id: u64, format: ExportFormat) {
        let Some(run) = self.kept.get(id) else {
            return;
        };
        let session = *self;
        wasm_bindgen_futures::spawn_local(async move {
            match store::load_weights(id).await {
                Ok(Some(weights)) => {
                    session.messages.tell(format!(
                        "Making the {} export of \"{}\"…",
                        format.label(),
                        run.name
                    ));
                    session.worker.send(&ToWorker::Export {
                        record: Box::new(run),
                        format,
                        weights,
                    });
                }
                Ok(None) => session.messages.fail(format!(
                    "The weights of \"{}\" are not kept in this browser: it cannot be exported.",
                    run.name
                )),
                Err(e) => session.messages.fail(e),
            }
        });
    }

    /// Downloads an export the worker made, and says how to run it.
    pub(super) fn on_exported(&self, name: String, bytes: Vec<u8>) {
        let zipped = name.ends_with(".zip");
        let mime = if zipped {
            "application/zip"
        } else {
            "application/octet-stream"
        };
        match crate::files::download(&name, mime, &bytes) {
            Ok(()) if zipped => self.messages.tell(format!(
                "Downloaded {name}: unzip it and run the script inside with Python (its first \
                 lines say how; file-backed datasets read Kindling's data folder)."
            )),
            Ok(()) => self.messages.tell(format!(
                "Downloaded {name}: the weights with PyTorch's names and layouts \
                 (safetensors.torch.load_file reads them)."
            )),
            Err(e) => self
                .messages
                .fail(format!("{name} could not be downloaded: {e}")),
        }
    }

    /// Imports a model file (from "Download model" or `kindling train --weights`): the worker
    /// checks it against its run's config; only then is the run added to the table.
    pub fn import_model(&self, file_name: &str, bytes: Vec<u8>) {
        let mut record = match RunRecord::from_model_file(&bytes) {
            Ok(r) => r,
            Err(e) => {
                self.messages.fail(format!(
                    "{file_name} cannot be imported: {e}. Nothing was changed."
                ));
                return;
            }
        };
        record.id = self.kept.new_id();
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
        self.messages.error.set(None);
        self.worker.send(&message);
    }

    /// Keeps an imported model that the worker accepted: its run joins the table; the store
    /// gets the record and its weights in one transaction (the record never names weights
    /// that are not there).
    pub(super) fn keep_import(&self, record: RunRecord, weights: Vec<u8>) {
        let run_id = record.id;
        self.kept.runs.update(|r| r.push(record.clone()));
        store::save_weights(
            run_id,
            weights,
            Box::new(|_| {}),
            Some(record),
            self.messages
                .reporter("The imported model could not be kept"),
        );
    }
}

/// Loads the stored runs (a run still marked as training that no open tab trains was cut off
/// by a closed tab or a reload: it becomes interrupted, with every epoch it completed); a
/// shared run opened meanwhile stays listed.
pub(super) fn load_runs(session: Session) {
    wasm_bindgen_futures::spawn_local(async move {
        match store::load_runs().await {
            Ok(mut runs) => {
                // A run still training is interrupted unless another tab trains it now.
                let live = super::tabs::live_runs().await.unwrap_or_default();
                for r in runs
                    .iter_mut()
                    .filter(|r| r.status == RunStatus::Training && !live.contains(&r.id))
                {
                    r.status = RunStatus::Interrupted;
                    store::update_run(
                        r.id,
                        Box::new(|r| {
                            if r.status == RunStatus::Training {
                                r.status = RunStatus::Interrupted;
                            }
                        }),
                        session.messages.reporter("This run could not be saved"),
                    );
                }
                session.kept.runs.update(|all| {
                    let shared: Vec<RunRecord> = all.drain(..).filter(|r| r.shared).collect();
                    *all = runs;
                    all.extend(shared);
                });
            }
            Err(e) => session
                .messages
                .fail(format!("Your earlier runs could not be read: {e}")),
        }
    });
}
