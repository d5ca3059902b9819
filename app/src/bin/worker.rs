//! The training worker: started by the page as `worker_start.js` (public/), which loads
//! trunk's `worker_loader.js`.

/// The system allocator, telling the page when memory runs out (the worker only: the page's
/// own module keeps the plain one).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: kindling_app::worker::ReportingAllocator =
    kindling_app::worker::ReportingAllocator;

#[cfg(target_arch = "wasm32")]
fn main() {
    kindling_app::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the training worker runs in a browser: `cargo xtask serve`");
}
