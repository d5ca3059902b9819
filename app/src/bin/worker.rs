//! The training worker: started by the page as `worker_loader.js`.

#[cfg(target_arch = "wasm32")]
fn main() {
    kindling_app::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the training worker runs in a browser: `cargo xtask serve`");
}
