//! What this browser offers Kindling: a WebGPU adapter and shared memory for threads. Asked by
//! the page (which worker build to start) and by the worker (its devices and their threads).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Whether `navigator.gpu.requestAdapter()` gives an adapter here (in the page or a worker).
pub async fn webgpu_adapter_exists() -> bool {
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

/// Whether this page or worker may share memory with others (`crossOriginIsolated`).
pub fn cross_origin_isolated() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}
