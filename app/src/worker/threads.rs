//! The CPU device's threads. burn's CPU backend (flex) spreads its large matrix products
//! and reductions over rayon's thread pool. In the worker's threaded build
//! (`--features threads`: std rebuilt with atomics, a shared WebAssembly memory; see
//! xtask/src/threads.rs) that pool is real: `wasm-bindgen-rayon` starts one nested worker per
//! thread on this worker's memory. In the single-threaded build rayon runs everything on this
//! worker's own thread.
//!
//! The pool's size is fixed for the worker's life (rayon's global pool cannot be resized,
//! and a thread once made part of a pool of its own stays in it), so every run trains on all
//! of its threads. Choosing the count per run, by measuring, needs local rayon pools with
//! the whole training step run inside one; that is not done yet.

use crate::protocol::CpuThreads;

/// The most threads the pool starts (a tab should leave the machine some cores, and flex's
/// products stop gaining well before this).
#[cfg(feature = "threads")]
const MOST_THREADS: u32 = 8;
/// How long the pool's workers may take to start before the worker goes on with one thread.
#[cfg(feature = "threads")]
const POOL_START_MS: u32 = 20_000;

/// Starts the pool (threaded build: one thread per core the browser reports, at most
/// [`MOST_THREADS`]) and says how many threads the CPU device has, and why; never fails:
/// without threads the CPU device has one, and the note says why.
pub(super) async fn start() -> CpuThreads {
    #[cfg(feature = "threads")]
    {
        let cores = hardware_concurrency().clamp(1, MOST_THREADS);
        if cores < 2 {
            return CpuThreads::one("one core", "the browser reports a single core");
        }
        let pool = wasm_bindgen_futures::JsFuture::from(wasm_bindgen_rayon::init_thread_pool(
            cores as usize,
        ));
        let timeout = gloo_timers::future::TimeoutFuture::new(POOL_START_MS);
        futures_util::pin_mut!(pool);
        match futures_util::future::select(pool, timeout).await {
            futures_util::future::Either::Left((Ok(_), _)) => CpuThreads {
                available: cores,
                reason: "cross-origin isolated".into(),
                note: format!(
                    "{cores} threads: this page is cross-origin isolated, so the CPU device \
                     shares its memory with {cores} rayon workers, one per core the browser \
                     reports"
                ),
            },
            futures_util::future::Either::Left((Err(e), _)) => CpuThreads::one(
                "the thread pool failed",
                &format!(
                    "the thread pool did not start ({})",
                    super::host::js_error(e)
                ),
            ),
            futures_util::future::Either::Right(_) => CpuThreads::one(
                "the thread pool failed",
                &format!(
                    "the thread pool's workers did not start within {} s",
                    POOL_START_MS / 1000
                ),
            ),
        }
    }
    #[cfg(not(feature = "threads"))]
    {
        if crate::browser_offers::cross_origin_isolated() {
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
        }
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
