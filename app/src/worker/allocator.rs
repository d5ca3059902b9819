//! The worker's memory allocator: the system one (dlmalloc over the WebAssembly memory), which
//! tells the page when it fails. A failed allocation aborts the worker (a trap the page sees as
//! an uncaught error, with no reason); the [`FromWorker::OutOfMemory`] note sent first lets the
//! page say that the worker ran out of memory, and how much it held.
//!
//! The note is written from inside the allocator, so it allocates nothing: its JSON goes into a
//! buffer on the stack, and the size of the memory is read with a WebAssembly instruction. It
//! is sent once: a failure that its caller handles (`try_reserve`) is no death, and the page
//! uses the note only to explain one.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

use wasm_bindgen::JsValue;

use super::host::scope;
use crate::protocol::{FromWorker, OUT_OF_MEMORY_NOTE_BYTES};

/// Bytes in a WebAssembly memory page.
const PAGE_BYTES: u64 = 65_536;

/// Whether the note was sent.
static NOTED: AtomicBool = AtomicBool::new(false);

/// The system allocator, telling the page when it fails (the worker binary's
/// `#[global_allocator]`).
pub struct ReportingAllocator;

// SAFETY: every call goes to `System` unchanged; a null result is only noted on the way back.
unsafe impl GlobalAlloc for ReportingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        noted(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        noted(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        noted(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// `ptr`, after telling the page if it is null (an allocation of `size` bytes failed).
fn noted(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() && !NOTED.swap(true, Ordering::Relaxed) {
        note_out_of_memory(size);
    }
    ptr
}

/// Posts [`FromWorker::OutOfMemory`] without allocating.
fn note_out_of_memory(requested: usize) {
    let memory = core::arch::wasm32::memory_size::<0>() as u64 * PAGE_BYTES;
    let note = FromWorker::OutOfMemory {
        requested: requested as u64,
        memory,
    };
    let mut buffer = [0u8; OUT_OF_MEMORY_NOTE_BYTES];
    let mut rest = &mut buffer[..];
    if serde_json::to_writer(&mut rest, &note).is_err() {
        return;
    }
    let written = OUT_OF_MEMORY_NOTE_BYTES - rest.len();
    if let Ok(text) = std::str::from_utf8(&buffer[..written]) {
        let _ = scope().post_message(&JsValue::from_str(text));
    }
}
