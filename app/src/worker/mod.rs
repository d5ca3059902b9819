//! The training worker: owns the devices, the data, the user's uploads, a saved model in use
//! and the current [`TrainingRun`](kindling_core::train::TrainingRun); talks to the page only
//! through [`crate::protocol`] messages ([`ToWorker`] in, [`FromWorker`] out). It trains in
//! slices of about 40 ms and yields to its event loop between them, so pause, stop and
//! predictions are answered mid-run.
//!
//! One job per file: this one starts the worker and hands each message to the method of its
//! concern; `training` steps the run and reports its progress, `views` makes the live views,
//! `ending` reports the end of a run, `prediction` answers drawings, reviews and saved models,
//! `export` makes the downloads that take a run elsewhere, `data` loads a run's data, uploads
//! and previews, `fetch` downloads assets through the dataset cache, `device` opens the device
//! a run asks for (and measures which trains its model faster),
//! `threads` holds the CPU device's rayon threads, and `host` is the worker's browser scope
//! (posting, the clock). `allocator` tells the page when memory runs out, and `fault` fails on
//! purpose for the browser tests of the page's recovery.
//!
//! When the worker dies (a panic, a trap, out of memory), the page notices, fails the run and
//! starts a fresh worker (see [`crate::faults`]); nothing here tries to go on after one.

mod allocator;
mod data;
mod device;
mod ending;
mod error;
mod export;
mod fault;
mod fetch;
mod health;
mod host;
mod prediction;
mod threads;
mod training;
mod views;

use std::cell::Cell;
use std::collections::HashMap;

use burn::tensor::Device;
use futures_channel::mpsc;
use futures_util::StreamExt;
use kindling_core::data::imdb::Vocabulary;
use kindling_core::data::Dataset;
use kindling_core::train::SharedPool;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

use crate::protocol::{CpuThreads, FromWorker, ToWorker};
use host::{post, scope, yield_now};
use prediction::LoadedModel;
use training::CurrentRun;

pub use allocator::ReportingAllocator;

/// Reads one data file through the dataset cache (re-exported for the browser tests).
#[cfg(test)]
pub(crate) use fetch::fetch_checked;

thread_local! {
    /// Whether a panic was already reported (the page hears of the first one only: the panic
    /// aborts, and the worker is dead).
    static CRASHED: Cell<bool> = const { Cell::new(false) };
}

/// Starts the threaded build's worker (`public/threads/worker_start.js` calls it once the
/// module is loaded): sizes the rayon pool of the CPU device, then starts as [`start`] does.
#[cfg(feature = "threads")]
#[wasm_bindgen(js_name = startThreaded)]
pub fn start_threaded() {
    start();
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
            Err(e) => web_sys::console::warn_1(&e.to_string().into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    wasm_bindgen_futures::spawn_local(async move {
        let (threads, pool) = threads::start().await;
        let webgpu = device::webgpu_adapter_exists().await;
        post(&FromWorker::Ready {
            webgpu,
            threads: threads.clone(),
        });
        Actor::new(inbox, webgpu, threads, pool).run().await;
    });
}

/// Everything the worker holds between messages; one task owns it, so no locks.
struct Actor {
    inbox: mpsc::UnboundedReceiver<ToWorker>,
    /// The user's uploaded datasets, newest last, by the sha256 of their bytes.
    uploads: Vec<(String, Dataset)>,
    /// A saved model the user chose for predictions.
    saved: Option<LoadedModel>,
    /// Whether the browser offers a WebGPU adapter.
    webgpu: bool,
    cpu: Device,
    /// The WebGPU device, once a run opened it.
    gpu: Option<Device>,
    /// Why WebGPU failed, once it did (later runs go to the CPU).
    gpu_failure: Option<String>,
    current: Option<CurrentRun>,
    /// The IMDB vocabulary, once a run or a saved model needed it.
    vocabulary: Option<Vocabulary>,
    /// A note for the next run's `Started` message (a GPU fallback).
    pending_note: Option<String>,
    /// Whether the page shows the live views (else none is computed).
    views_open: bool,
    /// The CPU device's threads, and why that many.
    threads: CpuThreads,
    /// The pool of all those threads (threaded build), beside this worker's own thread.
    pool: Option<SharedPool>,
    /// The CPU's threads measured fastest per model shape this session (`speed_key`).
    thread_choices: HashMap<String, u32>,
}

impl Actor {
    fn new(
        inbox: mpsc::UnboundedReceiver<ToWorker>,
        webgpu: bool,
        threads: CpuThreads,
        pool: Option<SharedPool>,
    ) -> Self {
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
            views_open: true,
            threads,
            pool,
            thread_choices: HashMap::new(),
        }
    }

    /// Answers every queued message, then trains a slice (or waits for a message when no run
    /// is training); returns when the page closes the inbox.
    async fn run(mut self) {
        loop {
            loop {
                match self.inbox.try_recv() {
                    Ok(message) => self.handle(message).await,
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Closed) => return,
                }
            }
            if self.current.as_ref().is_some_and(CurrentRun::is_training) {
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

    /// Hands one message to the method of its concern.
    async fn handle(&mut self, message: ToWorker) {
        match message {
            ToWorker::Start {
                run_id,
                config,
                pick,
                paused,
            } => self.start_run(run_id, *config, pick, paused).await,
            ToWorker::Step => self.step_once().await,
            ToWorker::Steer { change } => self.steer(change),
            ToWorker::Views { open } => self.set_views_open(open).await,
            ToWorker::CellExamples { truth, predicted } => self.answer_cell(truth, predicted),
            ToWorker::Pause => self.set_paused(true),
            ToWorker::Resume => self.set_paused(false),
            ToWorker::Stop => self.stop().await,
            ToWorker::PredictImage {
                request,
                pixels,
                run_model,
            } => self.answer_drawing(request, pixels, run_model).await,
            ToWorker::PredictReview { request, text } => self.answer_review(request, &text).await,
            ToWorker::UploadData {
                request,
                names,
                sizes,
                bytes,
            } => self.receive_upload(request, names, sizes, bytes),
            ToWorker::UseModel {
                run_id,
                name,
                config,
                weights,
            } => self.receive_model(run_id, name, *config, weights).await,
            ToWorker::Export {
                record,
                format,
                weights,
            } => self.answer_export(*record, format, weights).await,
            ToWorker::Fault { fault } => fault::cause(fault),
        }
    }
}
