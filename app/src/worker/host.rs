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

thread_local! {
    /// The channel [`yield_now`] sends itself a message through.
    static YIELD_CHANNEL: Option<web_sys::MessageChannel> = web_sys::MessageChannel::new().ok();
}

/// Gives the worker's event loop a turn (so queued messages are delivered), and goes on in a
/// task of its own: a message the worker sends itself through a `MessageChannel`, not a
/// zero-delay timer, which browsers hold back at least 4 ms once timers nest 5 deep. Between
/// every slice of a run that was 4 ms idle, a tenth of a 40 ms slice.
pub(super) async fn yield_now() {
    let turn = YIELD_CHANNEL.with(|channel| {
        let channel = channel.as_ref()?;
        Some(js_sys::Promise::new(&mut |resolve, _reject| {
            // Setting `onmessage` starts the port; each turn answers the latest promise.
            channel.port1().set_onmessage(Some(&resolve));
            if channel.port2().post_message(&JsValue::NULL).is_err() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }))
    });
    match turn {
        Some(turn) => {
            let _ = wasm_bindgen_futures::JsFuture::from(turn).await;
        }
        None => gloo_timers::future::TimeoutFuture::new(0).await,
    }
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
