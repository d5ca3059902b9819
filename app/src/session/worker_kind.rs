//! Which build of the training worker the page starts: the threaded one (the CPU device on
//! every core, no WebGPU: `public/threads/worker_start.js`) or the single-threaded one (the
//! CPU on one thread, and WebGPU: `public/worker_start.js`).
//!
//! The threaded build needs a cross-origin-isolated page (shared memory) and a site that
//! has it (`cargo xtask serve` and `test` build it). It cannot have WebGPU (wgpu's WebGPU
//! backend cannot be built for a shared memory), so a browser with a WebGPU adapter keeps the
//! single-threaded worker, whose WebGPU device may be the faster for a model. The header says
//! which, and why.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::browser_offers::{cross_origin_isolated, webgpu_adapter_exists};
use crate::protocol::CpuThreads;

/// The single-threaded worker's start script (it loads trunk's `worker_loader.js`).
const SINGLE_SCRIPT: &str = "./worker_start.js";
/// The threaded worker's start script (an ES module), and a file only its build has.
const THREADED_SCRIPT: &str = "./threads/worker_start.js";
const THREADED_WASM: &str = "./threads/worker_bg.wasm";

/// A build of the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum WorkerKind {
    /// Every core, no WebGPU.
    Threaded,
    /// One thread and WebGPU; `why` says why not the threaded one, when the page knows better
    /// than the worker (which sees only whether the page is isolated).
    Single { why: Option<CpuThreads> },
}

impl WorkerKind {
    /// Its start script, and whether it is an ES module.
    pub(super) fn script(&self) -> (&'static str, bool) {
        match self {
            WorkerKind::Threaded => (THREADED_SCRIPT, true),
            WorkerKind::Single { .. } => (SINGLE_SCRIPT, false),
        }
    }

    /// The build to start here: threaded when the page is isolated, the site has the threaded
    /// build and the browser has no WebGPU adapter.
    pub(super) async fn choose() -> WorkerKind {
        if !cross_origin_isolated() {
            // The worker says why itself.
            return WorkerKind::Single { why: None };
        }
        if !threaded_build_exists().await {
            return single(
                "no threaded build",
                "this site has no threaded build of the worker (`cargo xtask serve` makes it)",
            );
        }
        if webgpu_adapter_exists().await {
            return single(
                "keeps WebGPU",
                "this browser has a WebGPU adapter, which only the single-threaded worker can \
                 use (wgpu's WebGPU backend cannot be built for shared memory), and WebGPU may \
                 be the faster device for a model",
            );
        }
        WorkerKind::Threaded
    }
}

fn single(reason: &str, why: &str) -> WorkerKind {
    WorkerKind::Single {
        why: Some(CpuThreads::one(reason, why)),
    }
}

/// Whether the site serves the threaded build (a `HEAD` request for its WebAssembly).
async fn threaded_build_exists() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = web_sys::RequestInit::new();
    init.set_method("HEAD");
    let Ok(request) = web_sys::Request::new_with_str_and_init(THREADED_WASM, &init) else {
        return false;
    };
    match JsFuture::from(window.fetch_with_request(&request)).await {
        Ok(response) => response
            .dyn_into::<web_sys::Response>()
            .is_ok_and(|r| r.ok()),
        Err(_) => false,
    }
}
