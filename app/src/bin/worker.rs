//! The training worker. The single-threaded build is started by the page as `worker_start.js`
//! (public/), which loads trunk's `worker_loader.js`, and starts here. The threaded build
//! (`--features threads`, xtask/src/threads.rs) is started by `threads/worker_start.js`, which
//! calls [`kindling_app::worker::start_threaded`]: its `main` does nothing, because every
//! rayon thread loads the same module and must not start a second worker in itself.

/// The system allocator, telling the page when memory runs out (the worker only: the page's
/// own module keeps the plain one).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: kindling_app::worker::ReportingAllocator =
    kindling_app::worker::ReportingAllocator;

#[cfg(all(target_arch = "wasm32", not(feature = "threads")))]
fn main() {
    kindling_app::worker::start();
}

#[cfg(all(target_arch = "wasm32", feature = "threads"))]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the training worker runs in a browser: `cargo xtask serve`");
}
