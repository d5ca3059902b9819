//! Kindling's playground: a leptos page (the `app` binary) and a training worker (the `worker`
//! binary), built for wasm32 by trunk. The message protocol and the builder's config logic are
//! plain Rust and tested natively; the page and the worker exist only in wasm32 builds.

pub mod builder;
pub mod faults;
pub mod network_view;
pub mod protocol;
pub mod runs;
pub mod toy_edits;
pub mod write_queue;

#[cfg(target_arch = "wasm32")]
pub mod browser_offers;
#[cfg(target_arch = "wasm32")]
pub mod charts;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod files;
#[cfg(target_arch = "wasm32")]
pub mod page;
#[cfg(target_arch = "wasm32")]
pub mod session;
#[cfg(target_arch = "wasm32")]
pub mod tasks;
#[cfg(target_arch = "wasm32")]
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod worker;

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
#[cfg(all(test, target_arch = "wasm32"))]
mod decoder_tests;
