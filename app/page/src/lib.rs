//! The playground page's entry point, built by trunk as a cdylib.
//!
//! Not a binary on purpose: a wasm32 binary is a "command" module, whose every export re-runs
//! all static constructors (burn's dependencies register hundreds with `inventory`) each time
//! JavaScript calls into wasm; measured in headless Chromium, that made each event handler of
//! the page cost 100-400 ms. A cdylib has no such wrappers. (The worker stays a binary: its
//! WebGPU path needs those registrations, and it calls into wasm rarely.)

/// Starts the page when the module is initialised.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    kindling_app::page::mount();
}
