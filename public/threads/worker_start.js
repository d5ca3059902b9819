// Starts the threaded build of Kindling's training worker (xtask/src/threads.rs builds it into
// this folder): a module worker, because the worker's rayon pool starts its thread workers
// from ES modules. The page starts it only when it is cross-origin isolated (shared memory) and this
// folder holds the build (app/src/session/worker_kind.rs). worker_faults.js, imported first,
// makes every way it can fail reach the page, as for the single-threaded worker.
import "../worker_faults.js";
import init, { startThreaded } from "./worker.js";

await init();
startThreaded();
