//! Several tabs of the playground at once. Each tab that trains holds a Web Lock named after
//! its run for as long as it trains (the browser releases it when the tab closes or crashes),
//! so a tab that opens can tell a run another tab is training from one a closed tab left
//! behind. Every write to the run store is announced on a `BroadcastChannel`; the other tabs
//! read that run again, so their tables show what was renamed, trained or deleted elsewhere.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The channel every tab of this origin listens on.
const CHANNEL: &str = "kindling-runs";

/// The lock a tab holds while it trains run `id`.
fn lock_name(id: u64) -> String {
    format!("kindling-run-{id}")
}

thread_local! {
    /// The channel (a `BroadcastChannel`), opened once per tab (None where the browser has
    /// none). Reached through `Reflect`, as `navigator.locks` is: web-sys features would
    /// rebuild burn's WebGPU stack for two calls.
    static BROADCAST: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// Releases of the locks this tab holds, by run id.
    static HELD: RefCell<HashMap<u64, Function>> = RefCell::new(HashMap::new());
}

/// `navigator.locks`, where the browser has the Web Locks API.
fn lock_manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// Holds run `id`'s lock until [`release_run`]: other tabs see the run as live meanwhile.
pub fn hold_run(id: u64) {
    let Some(locks) = lock_manager() else {
        return;
    };
    let Ok(request) = Reflect::get(&locks, &"request".into()) else {
        return;
    };
    let Ok(request) = request.dyn_into::<Function>() else {
        return;
    };
    // The lock is held until the promise the callback returns settles: its resolve function
    // is kept, and called by `release_run`.
    let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        Promise::new(&mut |resolve, _reject| {
            HELD.with(|h| h.borrow_mut().insert(id, resolve));
        })
    });
    if let Err(e) = request.call2(&locks, &lock_name(id).into(), &callback) {
        web_sys::console::warn_2(&"kindling: the run's lock was not taken".into(), &e);
    }
}

/// Lets go of run `id`'s lock (the run has ended in this tab).
pub fn release_run(id: u64) {
    if let Some(resolve) = HELD.with(|h| h.borrow_mut().remove(&id)) {
        let _ = resolve.call0(&JsValue::NULL);
    }
}

/// The runs some tab is training now (their locks are held). None where the browser has no
/// Web Locks: then no run can be known to be live.
pub async fn live_runs() -> Option<Vec<u64>> {
    let locks = lock_manager()?;
    let query: Function = Reflect::get(&locks, &"query".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: Promise = query.call0(&locks).ok()?.dyn_into().ok()?;
    let snapshot = JsFuture::from(promise).await.ok()?;
    let held = js_sys::Array::from(&Reflect::get(&snapshot, &"held".into()).ok()?);
    Some(
        held.iter()
            .filter_map(|lock| Reflect::get(&lock, &"name".into()).ok()?.as_string())
            .filter_map(|name| name.strip_prefix("kindling-run-")?.parse().ok())
            .collect(),
    )
}

/// Tells the other tabs that run `id` changed (or was deleted) in the store.
pub fn announce_change(id: u64) {
    BROADCAST.with(|b| {
        if let Some(channel) = b.borrow().as_ref() {
            let post = Reflect::get(channel, &"postMessage".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok());
            if let Some(post) = post {
                // A run id (below 2^53) is exact as a JS number.
                let _ = post.call1(channel, &JsValue::from_f64(id as f64));
            }
        }
    });
}

/// Listens for the other tabs' changes: `changed(id)` runs for each (on the main thread).
pub fn listen(changed: impl Fn(u64) + 'static) {
    let constructor = Reflect::get(&js_sys::global(), &"BroadcastChannel".into())
        .ok()
        .and_then(|c| c.dyn_into::<Function>().ok());
    let Some(constructor) = constructor else {
        return;
    };
    let Ok(channel) = Reflect::construct(&constructor, &js_sys::Array::of1(&CHANNEL.into())) else {
        return;
    };
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(id) = e.data().as_f64() {
                changed(id as u64);
            }
        });
    let _ = Reflect::set(&channel, &"onmessage".into(), on_message.as_ref());
    on_message.forget();
    BROADCAST.with(|b| *b.borrow_mut() = Some(channel));
}
