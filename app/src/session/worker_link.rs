//! The link to the training worker: starting it, sending it messages (held back until it is
//! ready), handing what it sends to [`Session::receive`], and noticing when it dies.
//!
//! The signs of a dead worker: an `error` event on its `Worker` (a trap, running out of
//! memory, a panic's abort, a script that would not load: `public/worker_faults.js` makes every
//! failure inside the worker end there), a `messageerror` (a message from it could not be
//! read), and what it says itself before dying (`Crashed` for a panic, `OutOfMemory`). Each goes
//! to [`Session::worker_died`] (`recovery.rs`), which recovers once per worker. Each worker is
//! numbered: events from one that was replaced are ignored.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent, Worker};

use super::worker_kind::WorkerKind;
use super::{Messages, Session};
use crate::faults::{Fault, WorkerDeath, WorkerWatch, FAULT_EVENT};
use crate::protocol::{CpuThreads, FromWorker, ToWorker};

/// Handling a worker message for longer than this is reported on the console (a long task).
const SLOW_MESSAGE_MS: f64 = 40.0;

thread_local! {
    static LINK: RefCell<Link> = RefCell::new(Link::default());
}

/// The worker the page talks to, and what waits for it.
#[derive(Default)]
struct Link {
    /// The worker running now, if one is.
    connection: Option<Connection>,
    /// Which worker that is, whether it started, and the signs of its death.
    watch: WorkerWatch,
    /// Messages sent before the worker was ready (it reads none until its WebAssembly runs).
    outbox: Vec<ToWorker>,
    /// The build of the worker this page runs (chosen once, before the first starts).
    kind: Option<WorkerKind>,
}

/// A started worker and the handlers that listen to it (dropped with it).
struct Connection {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    _on_message_error: Closure<dyn FnMut(MessageEvent)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.set_onmessageerror(None);
        self.worker.terminate();
    }
}

/// The worker as the page sees it (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct WorkerLink {
    /// Whether WebGPU exists here (None until the first worker says).
    pub webgpu: RwSignal<Option<bool>>,
    /// The CPU device's threads, and why (None until the first worker says).
    pub threads: RwSignal<Option<CpuThreads>>,
    /// The worker is up.
    pub ready: RwSignal<bool>,
    /// Where a failure to reach it is told.
    messages: Messages,
}

impl WorkerLink {
    pub(super) fn new(messages: Messages) -> Self {
        Self {
            webgpu: RwSignal::new(None),
            threads: RwSignal::new(None),
            ready: RwSignal::new(false),
            messages,
        }
    }

    /// The threads the worker's CPU device may use (1 until it says).
    pub fn cpu_threads_available(&self) -> u32 {
        self.threads
            .with_untracked(|t| t.as_ref().map_or(1, |t| t.available))
    }

    /// Sends a message to the worker (bytes it carries are transferred, not copied). While a
    /// worker starts (or a fresh one replaces a dead one), the message waits for it.
    pub fn send(&self, message: &ToWorker) {
        let failure = LINK.with(|link| {
            let mut link = link.borrow_mut();
            let ready = link.watch.has_started() && !link.watch.is_dying();
            match &link.connection {
                Some(connection) if ready => post(&connection.worker, message).err(),
                Some(_) => {
                    link.outbox.push(message.clone());
                    None
                }
                None => Some("the training worker is not running: reload the page".into()),
            }
        });
        if let Some(failure) = failure {
            self.messages.fail(failure);
        }
    }

    /// Queues `message` ahead of every waiting one (for a worker not started yet).
    pub(super) fn send_first(&self, message: &ToWorker) {
        LINK.with(|link| link.borrow_mut().outbox.insert(0, message.clone()));
    }

    /// The worker said it is ready: sends what waited for it.
    pub(super) fn started(&self) {
        let waiting = LINK.with(|link| {
            let mut link = link.borrow_mut();
            link.watch.started();
            std::mem::take(&mut link.outbox)
        });
        self.ready.set(true);
        for message in &waiting {
            self.send(message);
        }
    }

    /// Keeps what the worker said that would explain its death (see [`WorkerWatch`]).
    pub(super) fn last_words(&self, words: WorkerDeath) {
        LINK.with(|link| link.borrow_mut().watch.last_words(words));
    }

    /// A sign that worker `generation` died: true for the first one of the worker running now
    /// (then the page stops sending to it and recovers).
    pub(super) fn died(&self, generation: Option<u64>, sign: WorkerDeath) -> bool {
        let first = LINK.with(|link| {
            let mut link = link.borrow_mut();
            let current = generation.is_none_or(|g| link.watch.is_current(g));
            current && link.connection.is_some() && link.watch.died(sign)
        });
        if first {
            self.ready.set(false);
        }
        first
    }

    /// Ends the dead worker (terminated, its handlers dropped): what killed it, and whether it
    /// had started; None if it is not dead.
    pub(super) fn bury(&self) -> Option<(WorkerDeath, bool)> {
        LINK.with(|link| {
            let mut link = link.borrow_mut();
            let account = link.watch.account()?;
            link.connection = None;
            Some(account)
        })
    }

    /// Forgets the messages waiting for a worker (none will start).
    pub(super) fn drop_waiting(&self) {
        LINK.with(|link| link.borrow_mut().outbox.clear());
    }
}

/// Posts `message` to `worker`; the browser's reason if it cannot.
fn post(worker: &Worker, message: &ToWorker) -> Result<(), String> {
    let (value, transfer) = crate::transport::outgoing(message.encode(), message.attachment());
    let sent = match transfer {
        Some(transfer) => worker.post_message_with_transfer(&value, &transfer),
        None => worker.post_message(&value),
    };
    sent.map_err(|e| format!("cannot reach the training worker: {e:?}"))
}

/// The `message` of an error event (empty when the event has none: a script that failed to
/// load fires a plain `Event`).
fn error_text(event: &Event) -> String {
    js_sys::Reflect::get(event, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default()
}

/// Chooses the build of the worker this page runs ([`WorkerKind::choose`]), then starts the
/// first worker.
pub(super) fn start_first_worker(session: Session) {
    wasm_bindgen_futures::spawn_local(async move {
        let kind = WorkerKind::choose().await;
        LINK.with(|link| link.borrow_mut().kind = Some(kind));
        let _ = start_worker(session);
    });
}

/// Why the CPU device has the threads it has, when the page knows better than the worker
/// (a single-threaded worker in an isolated page: the page chose it).
pub(super) fn threads_note() -> Option<CpuThreads> {
    LINK.with(|link| match &link.borrow().kind {
        Some(WorkerKind::Single { why }) => why.clone(),
        _ => None,
    })
}

/// Starts a worker and routes its messages and the signs of its death to `session`; false
/// (and the page says why) if the browser cannot start one.
pub(super) fn start_worker(session: Session) -> bool {
    let kind = LINK.with(|link| link.borrow().kind.clone());
    let (script, module) = kind.unwrap_or(WorkerKind::Single { why: None }).script();
    let started = if module {
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        Worker::new_with_options(script, &options)
    } else {
        Worker::new(script)
    };
    let worker = match started {
        Ok(w) => w,
        Err(e) => {
            session.messages.fail(format!(
                "This browser cannot start the training worker ({e:?}); Kindling needs Web Workers."
            ));
            return false;
        }
    };
    let generation = LINK.with(|link| link.borrow_mut().watch.new_worker());
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if LINK.with(|link| !link.borrow().watch.is_current(generation)) {
            return;
        }
        if let Some((text, bytes)) = crate::transport::incoming(event.data()) {
            let started = js_sys::Date::now();
            let decoded = FromWorker::decode(&text);
            let decoding = js_sys::Date::now() - started;
            match decoded {
                Ok(message) => session.receive(match bytes {
                    Some(bytes) => message.attach(bytes),
                    None => message,
                }),
                Err(e) => web_sys::console::warn_1(&e.to_string().into()),
            }
            // Effects run in microtasks queued behind this one: it sees the whole handling.
            let kind: String = text.chars().skip(2).take_while(|c| *c != '"').collect();
            let size = text.len();
            wasm_bindgen_futures::spawn_local(async move {
                let took = js_sys::Date::now() - started;
                if took > SLOW_MESSAGE_MS {
                    web_sys::console::warn_1(
                        &format!(
                            "kindling: handling a {kind} message took {took:.0} ms \
                             ({decoding:.0} ms decoding its {size} bytes)"
                        )
                        .into(),
                    );
                }
            });
        }
    });
    let on_error = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        // Handled here: the worker's console already shows the error.
        event.prevent_default();
        session.worker_died(Some(generation), WorkerDeath::Uncaught(error_text(&event)));
    });
    let on_message_error = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
        session.worker_died(Some(generation), WorkerDeath::UnreadableMessage);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    worker.set_onmessageerror(Some(on_message_error.as_ref().unchecked_ref()));
    session.worker.ready.set(false);
    LINK.with(|link| {
        link.borrow_mut().connection = Some(Connection {
            worker,
            _on_message: on_message,
            _on_error: on_error,
            _on_message_error: on_message_error,
        })
    });
    true
}

/// Lets a script make the worker fail on purpose: a [`FAULT_EVENT`] on `window` (detail
/// `trap`, `oom` or `panic`) sends [`ToWorker::Fault`]. For the browser tests of recovery; no
/// control of the page dispatches it.
pub(super) fn listen_for_test_faults(worker: WorkerLink) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_fault = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
        let detail = js_sys::Reflect::get(&event, &"detail".into())
            .ok()
            .and_then(|d| d.as_string())
            .unwrap_or_default();
        match Fault::parse(&detail) {
            // Never held back for a worker that is starting: it would kill that one.
            Some(fault) if worker.ready.get_untracked() => worker.send(&ToWorker::Fault { fault }),
            Some(_) => {
                web_sys::console::warn_1(&"kindling: no worker is ready to fail on purpose".into())
            }
            None => web_sys::console::warn_1(
                &format!("kindling: no fault \"{detail}\" (trap, oom or panic)").into(),
            ),
        }
    });
    if window
        .add_event_listener_with_callback(FAULT_EVENT, on_fault.as_ref().unchecked_ref())
        .is_ok()
    {
        // Listens for the page's lifetime.
        on_fault.forget();
    }
}
