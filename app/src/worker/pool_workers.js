// Starts the web workers of the threaded build's rayon pool (app/src/worker/threads.rs).
//
// Adapted from wasm-bindgen-rayon 1.3's workerHelpers.no-bundler.js (Copyright 2022 Google
// Inc., Apache License 2.0): the same start, but the Rust side builds a pool of its own
// (`rayon::ThreadPool`, not rayon's global one), so that the worker can train a run on these
// threads or on its own thread alone, whichever it measured faster.

function waitForMsgType(target, type) {
  return new Promise((resolve) => {
    target.addEventListener("message", function onMsg({ data }) {
      if (data == null || data.type !== type) return;
      target.removeEventListener("message", onMsg);
      resolve(data);
    });
  });
}

// This file is also the pool threads' own script: each waits for the module and the shared
// memory, loads the worker's module on them, says it is ready and runs its rayon thread.
waitForMsgType(self, "kindling_pool_thread_init").then(async (data) => {
  const pkg = await import(data.mainJS);
  await pkg.default({ module_or_path: data.module, memory: data.memory });
  postMessage({ type: "kindling_pool_thread_ready" });
  pkg.kindlingPoolThread(data.handoff);
});

// Kept so that no browser collects workers that share a memory but have no other root.
let poolWorkers = [];

/// Starts `starter.numThreads()` workers on this module and memory, then builds the pool.
export async function startWorkers(module, memory, starter) {
  const init = {
    type: "kindling_pool_thread_init",
    module,
    memory,
    handoff: starter.handoff(),
    mainJS: starter.mainJS(),
  };
  // The script is fetched as a blob, so that it starts even when served from elsewhere.
  const script = URL.createObjectURL(await fetch(import.meta.url).then((r) => r.blob()));
  try {
    poolWorkers = await Promise.all(
      Array.from({ length: starter.numThreads() }, async () => {
        const worker = new Worker(script, { type: "module" });
        worker.postMessage(init);
        await waitForMsgType(worker, "kindling_pool_thread_ready");
        return worker;
      }),
    );
  } finally {
    URL.revokeObjectURL(script);
  }
  starter.build();
}
