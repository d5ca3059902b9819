//! Failing on purpose, for the browser tests of recovery ([`ToWorker::Fault`], which the page
//! sends only on a [`FAULT_EVENT`] a script dispatches): each fault happens the way the real
//! one does, so the tests see what a user would.
//!
//! [`ToWorker::Fault`]: crate::protocol::ToWorker::Fault

use crate::faults::{Fault, FAULT_EVENT};

/// Bytes asked for at a time when exhausting the memory: big steps reach the 4 GB a browser
/// allows in a few dozen allocations, none of which touches more than a page of memory.
const CHUNK_BYTES: usize = 256 << 20;

/// Fails as `fault` does; never returns.
pub(super) fn cause(fault: Fault) -> ! {
    web_sys::console::warn_1(&format!("kindling worker: failing on purpose ({fault:?})").into());
    match fault {
        Fault::Trap => core::arch::wasm32::unreachable(),
        Fault::OutOfMemory => exhaust_memory(),
        Fault::Panic => panic!("a panic caused on purpose ({FAULT_EVENT})"),
    }
}

/// Holds ever more memory until the allocator fails, which aborts (a trap) as a real
/// out-of-memory does, after the allocator's note (see [`super::allocator`]).
fn exhaust_memory() -> ! {
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::<u8>::with_capacity(CHUNK_BYTES);
        chunk.push(1);
        held.push(std::hint::black_box(chunk));
    }
}
