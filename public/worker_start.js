// Starts Kindling's training worker (app/src/worker, built by trunk into worker_loader.js,
// worker.js and worker_bg.wasm), after worker_faults.js has made every way it can fail reach
// the page.
"use strict";

importScripts("./worker_faults.js", "./worker_loader.js");
