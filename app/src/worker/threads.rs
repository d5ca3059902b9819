//! The CPU device's threads. burn's CPU backend (flex) and Kindling's own kernels spread their
//! large operations over rayon's current pool. In the worker's threaded build
//! (`--features threads`: std rebuilt with atomics, a shared WebAssembly memory; see
//! xtask/src/threads.rs) the worker starts a pool of web-worker threads on its memory
//! (`pool_workers.js`) and keeps it beside its own thread, which alone is a pool of one (rayon's
//! global pool, since a browser has no `std::thread`). Each run trains inside the pool or on
//! the worker's thread alone, whichever the worker measured faster for the model
//! (`device.rs`): two threads lose to one on small products and on a first visit, while V8
//! still runs its baseline code. In the single-threaded build everything runs on the worker's
//! own thread.

use kindling_core::train::SharedPool;

use crate::protocol::CpuThreads;

/// The most threads the pool starts (a tab should leave the machine some cores, and flex's
/// products stop gaining well before this).
#[cfg(feature = "threads")]
const MOST_THREADS: u32 = 8;
/// How long the pool's workers may take to start before the worker goes on with one thread.
#[cfg(feature = "threads")]
const POOL_START_MS: u32 = 20_000;

/// Starts the pool (threaded build: one thread per core the browser reports, at most
/// [`MOST_THREADS`]) and says how many threads the CPU device may use, and why; never fails:
/// without a pool the CPU device has one thread, and the note says why.
pub(super) async fn start() -> (CpuThreads, Option<SharedPool>) {
    #[cfg(feature = "threads")]
    {
        let cores = hardware_concurrency().clamp(1, MOST_THREADS);
        if cores < 2 {
            return (
                CpuThreads::one("one core", "the browser reports a single core"),
                None,
            );
        }
        let started = wasm_bindgen_futures::JsFuture::from(pool::start(cores as usize));
        let timeout = gloo_timers::future::TimeoutFuture::new(POOL_START_MS);
        futures_util::pin_mut!(started);
        let failure = match futures_util::future::select(started, timeout).await {
            futures_util::future::Either::Left((Ok(_), _)) => match pool::built() {
                Ok(pool) => {
                    let threads = CpuThreads {
                        available: cores,
                        reason: "cross-origin isolated".into(),
                        note: format!(
                            "up to {cores} threads: this page is cross-origin isolated, so the \
                             CPU device shares its memory with {cores} rayon workers, one per \
                             core the browser reports; each model trains on them or on one \
                             thread, whichever measured faster"
                        ),
                    };
                    return (threads, Some(pool));
                }
                Err(why) => format!("the thread pool did not start ({why})"),
            },
            futures_util::future::Either::Left((Err(e), _)) => format!(
                "the thread pool did not start ({})",
                super::host::js_error(e)
            ),
            futures_util::future::Either::Right(_) => format!(
                "the thread pool's workers did not start within {} s",
                POOL_START_MS / 1000
            ),
        };
        (CpuThreads::one("the thread pool failed", &failure), None)
    }
    #[cfg(not(feature = "threads"))]
    {
        let threads = if crate::browser_offers::cross_origin_isolated() {
            CpuThreads::one(
                "single-threaded build",
                "this is the single-threaded build of the worker (the threaded one is missing \
                 or failed to start)",
            )
        } else {
            CpuThreads::one(
                "not cross-origin isolated",
                "this page is not cross-origin isolated (its server sends no \
                 Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), so the \
                 browser gives it no shared memory for threads",
            )
        };
        (threads, None)
    }
}

/// `navigator.hardwareConcurrency` in this worker (1 when the browser does not say).
#[cfg(feature = "threads")]
fn hardware_concurrency() -> u32 {
    let cores = super::host::scope().navigator().hardware_concurrency();
    if cores.is_finite() && cores >= 1.0 {
        cores.min(u32::MAX as f64) as u32
    } else {
        1
    }
}

/// The pool of web-worker threads: a `rayon::ThreadPool` whose threads are handed, through a
/// channel in the shared memory, to workers that `pool_workers.js` starts on this module.
/// After wasm-bindgen-rayon's start (whose own builder makes rayon's global pool, which could
/// not be left for one thread).
#[cfg(feature = "threads")]
mod pool {
    use std::sync::{mpsc, Arc, Mutex, OnceLock};

    use js_sys::{JsString, Promise};
    use kindling_core::train::SharedPool;
    use rayon::{ThreadBuilder, ThreadPoolBuilder};
    use wasm_bindgen::prelude::*;

    /// Where the pool's threads take their rayon thread from (each locks it for one).
    type Handoff = Mutex<mpsc::Receiver<ThreadBuilder>>;

    /// The pool, once built, or why it could not be.
    static POOL: OnceLock<Result<SharedPool, String>> = OnceLock::new();

    #[wasm_bindgen(module = "/src/worker/pool_workers.js")]
    extern "C" {
        #[wasm_bindgen(js_name = startWorkers)]
        fn start_workers(module: JsValue, memory: JsValue, starter: PoolStarter) -> Promise;
    }

    #[wasm_bindgen]
    extern "C" {
        /// This module's own URL (worker.js), which the pool's workers load.
        #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
        static MODULE_URL: JsString;
    }

    /// What `pool_workers.js` needs to start the pool's workers and then build the pool.
    #[wasm_bindgen]
    pub struct PoolStarter {
        threads: usize,
        sender: mpsc::SyncSender<ThreadBuilder>,
        /// Leaked: the workers read it after `startWorkers` has let go of this starter.
        handoff: &'static Handoff,
    }

    #[wasm_bindgen]
    impl PoolStarter {
        /// Threads (workers) to start.
        #[wasm_bindgen(js_name = numThreads)]
        pub fn num_threads(&self) -> usize {
            self.threads
        }

        /// Where each worker takes its rayon thread from, as an address in the shared memory.
        pub fn handoff(&self) -> *const Handoff {
            self.handoff
        }

        /// The module the workers load.
        #[wasm_bindgen(js_name = mainJS)]
        pub fn main_js(&self) -> JsString {
            MODULE_URL.with(Clone::clone)
        }

        /// Builds the pool once every worker waits on the handoff: rayon hands each its thread.
        pub fn build(&mut self) {
            let sender = self.sender.clone();
            let built = ThreadPoolBuilder::new()
                .num_threads(self.threads)
                .thread_name(|i| format!("kindling pool thread {i}"))
                .spawn_handler(move |thread| {
                    sender
                        .send(thread)
                        .map_err(|_| std::io::Error::other("no pool worker is waiting"))
                })
                .build()
                .map(|pool| Arc::new(pool) as SharedPool)
                .map_err(|e| e.to_string());
            let _ = POOL.set(built);
        }
    }

    /// Starts `threads` workers and builds the pool on them; [`built`] says how it went once
    /// the promise resolves.
    pub(super) fn start(threads: usize) -> Promise {
        let (sender, receiver) = mpsc::sync_channel(threads);
        let starter = PoolStarter {
            threads,
            sender,
            handoff: Box::leak(Box::new(Mutex::new(receiver))),
        };
        start_workers(wasm_bindgen::module(), wasm_bindgen::memory(), starter)
    }

    /// The pool, once [`start`]'s promise has resolved.
    pub(super) fn built() -> Result<SharedPool, String> {
        POOL.get()
            .cloned()
            .unwrap_or_else(|| Err("the pool was not built".into()))
    }

    /// A pool worker's life: takes its rayon thread from the handoff and runs it (rayon's
    /// loop, until the pool ends). `pool_workers.js` calls it in each worker.
    #[wasm_bindgen(js_name = kindlingPoolThread)]
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn pool_thread(handoff: *const Handoff) {
        // SAFETY: `handoff` is the address `PoolStarter::handoff` gave out, of a leaked (so
        // never freed) `Handoff` in the memory this worker shares; a Mutex is Sync.
        let handoff = unsafe { &*handoff };
        let thread = handoff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        match thread {
            Ok(thread) => thread.run(),
            Err(_) => web_sys::console::error_1(&"kindling pool thread: no rayon thread".into()),
        }
    }
}
