//! The worker's browser surroundings: its global scope, posting to the page, the clock, the
//! event loop and the size of its WebAssembly memory.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::DedicatedWorkerGlobalScope;

use crate::protocol::FromWorker;

/// The worker's global scope (`self` in JavaScript).
pub(super) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Sends a message to the page.
pub(super) fn post(message: &FromWorker) {
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
pub(super) fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

/// Milliseconds since the epoch, by the browser's clock.
pub(super) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Gives the worker's event loop a turn (so queued messages are delivered).
pub(super) async fn yield_now() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// The text of a JavaScript error (or of whatever was thrown).
pub(super) fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}
