// Makes every way Kindling's training worker can fail reach the page, for both builds of the
// worker (public/worker_start.js loads it with importScripts, public/threads/worker_start.js
// imports it).
//
// The page learns of a dead worker from the `error` event on its Worker object, which the
// browser fires for an exception nothing in the worker caught: a WebAssembly trap in a message
// handler or a task, the abort of a panic or of running out of memory. It fails the run in
// progress and starts a fresh worker (app/src/session/worker_link.rs and recovery.rs).
//
// Two failures the browser keeps inside the worker: a promise rejected with no handler (a trap
// inside a promise callback; the WebAssembly failing to load or start, or the shared memory
// the threaded build asks for refused) and a message from the page that cannot be read (it
// would be lost, and the page would wait for its answer). Both are thrown again here as
// uncaught errors. Plain JavaScript on purpose: it must work when the WebAssembly instance is
// broken.
"use strict";

self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  const reason = event.reason;
  setTimeout(() => {
    throw reason instanceof Error ? reason : new Error(String(reason));
  });
});

self.addEventListener("messageerror", () => {
  throw new Error("a message from the page could not be read");
});
