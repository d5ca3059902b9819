//! The link to the training worker: starting it, sending it messages, and handing what it
//! sends to [`Session::receive`].

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use super::{Messages, Phase, Session};
use crate::protocol::{FromWorker, ToWorker};

/// The script that loads the worker's wasm (written by trunk's build, see index.html).
const WORKER_SCRIPT: &str = "./worker_loader.js";
/// Handling a worker message for longer than this is reported on the console (a long task).
const SLOW_MESSAGE_MS: f64 = 40.0;

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// The worker as the page sees it (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct WorkerLink {
    /// Whether WebGPU exists here (None until the worker says).
    pub webgpu: RwSignal<Option<bool>>,
    /// The worker is up.
    pub ready: RwSignal<bool>,
    /// Where a failure to reach it is told.
    messages: Messages,
}

impl WorkerLink {
    pub(super) fn new(messages: Messages) -> Self {
        Self {
            webgpu: RwSignal::new(None),
            ready: RwSignal::new(false),
            messages,
        }
    }

    /// Sends a message to the worker (bytes it carries are transferred, not copied).
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
                    self.messages
                        .fail(format!("cannot reach the training worker: {e:?}"));
                }
            }
            None => self
                .messages
                .fail("the training worker is not running: reload the page"),
        });
    }
}

/// Starts the worker and routes its messages to `session`.
pub(super) fn start_worker(session: Session) {
    let worker = match Worker::new(WORKER_SCRIPT) {
        Ok(w) => w,
        Err(e) => {
            session.messages.fail(format!(
                "This browser cannot start the training worker ({e:?}); Kindling needs Web Workers."
            ));
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
                Err(e) => web_sys::console::warn_1(&e.to_string().into()),
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
            session.messages.fail(format!(
                "The training worker failed: {}. Reload the page.",
                event.message()
            ));
            session.run.phase.set(Phase::Idle);
        });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    WORKER.with(|w| *w.borrow_mut() = Some(worker));
}
