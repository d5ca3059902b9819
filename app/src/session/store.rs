//! Runs kept in the browser's IndexedDB (through rexie): one object store of [`RunRecord`]s as
//! JSON and one of their models' weights (burnpack bytes), both keyed by run id. Errors (a full
//! quota, a private window without storage) come back as messages for the page; nothing is
//! dropped silently.
//!
//! Several tabs share the store, so a write never replaces a whole record with a copy that may
//! be stale: it is a change (a closure that sets the fields it is about) applied to the record
//! as stored, read and written back in one transaction. A rename in one tab and a training
//! tab's epochs therefore both land. Weights and the record that names them are written in one
//! transaction too, and the clean-up of orphaned weights reads the runs in the same transaction
//! as it deletes, so no tab deletes weights another tab has just saved. Every write is then
//! announced to the other tabs ([`super::tabs`]). Writes wait in a queue where a run's writes
//! join into one ([`crate::write_queue`]), so a fast run's epochs never pile up behind each other.

use std::rc::Rc;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use kindling_core::record::RunRecord;
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

const DB: &str = "kindling";
const RUNS: &str = "runs";
const WEIGHTS: &str = "weights";
/// Version 2 added the weights store.
const VERSION: u32 = 2;

type Opening = Shared<LocalBoxFuture<'static, Result<Rc<Rexie>, String>>>;

thread_local! {
    /// The database, opened once: every caller awaits the same opening.
    static DATABASE: std::cell::RefCell<Option<Opening>> = const { std::cell::RefCell::new(None) };
}

fn describe(e: rexie::Error) -> String {
    let text = format!("{e:?}");
    if text.contains("Quota") {
        "the browser's storage for this site is full (quota exceeded): delete some runs".into()
    } else {
        format!("the browser's run storage failed: {text}")
    }
}

async fn database() -> Result<Rc<Rexie>, String> {
    let opening = DATABASE.with(|d| {
        d.borrow_mut()
            .get_or_insert_with(|| {
                async {
                    Rexie::builder(DB)
                        .version(VERSION)
                        .add_object_store(ObjectStore::new(RUNS))
                        .add_object_store(ObjectStore::new(WEIGHTS))
                        .build()
                        .await
                        .map(Rc::new)
                        .map_err(describe)
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    let result = opening.await;
    if result.is_err() {
        // Let a later call try again.
        DATABASE.with(|d| *d.borrow_mut() = None);
    }
    result
}

pub use crate::write_queue::Change;
use crate::write_queue::{Pending, RunWrites, WriteQueue};

thread_local! {
    /// The writes waiting, and whether a task is applying them.
    static QUEUE: std::cell::RefCell<(WriteQueue, bool)> =
        std::cell::RefCell::new((WriteQueue::default(), false));
}

/// Queues a write (through `push`); writes happen one after another in the order queued (so a
/// run's final state is never overwritten by an older one), a run's waiting writes joined into
/// one transaction ([`crate::write_queue`]): the store lags the page by at most one write per
/// run, however fast a run's epochs come.
fn enqueue(push: impl FnOnce(&mut WriteQueue)) {
    let start = QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        push(&mut q.0);
        !std::mem::replace(&mut q.1, true)
    });
    if start {
        wasm_bindgen_futures::spawn_local(async {
            // Taking an entry and marking the queue idle happen in one turn, with no await
            // between: a write queued meanwhile either is taken here or starts a new task.
            while let Some(entry) = QUEUE.with(|q| {
                let mut q = q.borrow_mut();
                let entry = q.0.pop();
                q.1 = entry.is_some();
                entry
            }) {
                match entry {
                    Pending::Run(mut run) => match update_now(&mut run).await {
                        Ok(()) => super::tabs::announce_change(run.id),
                        Err(e) => run.report(&e),
                    },
                    Pending::Delete { id, on_error } => match delete_now(id).await {
                        Ok(()) => super::tabs::announce_change(id),
                        Err(e) => on_error(e),
                    },
                }
            }
        });
    }
}

/// Saves a run whole: stored as it is when new, else every field replaced (queued after
/// earlier writes). For a run this tab made or brought back; edits go through [`update_run`].
pub fn save_run(run: &RunRecord, on_error: impl Fn(String) + 'static) {
    let whole = run.clone();
    let insert = Box::new(run.clone());
    enqueue(|q| {
        q.push_update(
            run.id,
            Box::new(move |r| *r = whole),
            Some(insert),
            None,
            Box::new(on_error),
        )
    });
}

/// Changes a stored run (queued after earlier writes): `change` is applied to the record as
/// stored, whatever other tabs wrote since this tab read it. A run no longer stored stays
/// deleted.
pub fn update_run(id: u64, change: Change, on_error: impl Fn(String) + 'static) {
    enqueue(|q| q.push_update(id, change, None, None, Box::new(on_error)));
}

/// Keeps a run's weights and applies `change` to its record in the same transaction (queued
/// after earlier writes); a record not stored yet is stored as `insert`: an imported run is
/// stored only with its weights.
pub fn save_weights(
    id: u64,
    bytes: Vec<u8>,
    change: Change,
    insert: Option<RunRecord>,
    on_error: impl Fn(String) + 'static,
) {
    enqueue(|q| {
        q.push_update(
            id,
            change,
            insert.map(Box::new),
            Some(bytes),
            Box::new(on_error),
        )
    });
}

/// One stored run, if it is stored (and readable).
pub async fn load_run(id: u64) -> Result<Option<RunRecord>, String> {
    let db = database().await?;
    let tx = db
        .transaction(&[RUNS], TransactionMode::ReadOnly)
        .map_err(describe)?;
    let store = tx.store(RUNS).map_err(describe)?;
    let value = store
        .get(JsValue::from_f64(id as f64))
        .await
        .map_err(describe)?;
    Ok(value
        .and_then(|v| v.as_string())
        .and_then(|t| serde_json::from_str(&t).ok()))
}

/// A run's stored weights, if any.
pub async fn load_weights(id: u64) -> Result<Option<Vec<u8>>, String> {
    let db = database().await?;
    let tx = db
        .transaction(&[WEIGHTS], TransactionMode::ReadOnly)
        .map_err(describe)?;
    let store = tx.store(WEIGHTS).map_err(describe)?;
    let value = store
        .get(JsValue::from_f64(id as f64))
        .await
        .map_err(describe)?;
    Ok(value
        .and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
        .map(|a| a.to_vec()))
}

/// Deletes a run (queued after earlier writes).
pub fn delete_run(id: u64, on_error: impl Fn(String) + 'static) {
    enqueue(|q| q.push_delete(id, Box::new(on_error)));
}

/// Every stored run (unreadable entries are skipped with a console warning).
pub async fn load_runs() -> Result<Vec<RunRecord>, String> {
    let db = database().await?;
    let tx = db
        .transaction(&[RUNS], TransactionMode::ReadOnly)
        .map_err(describe)?;
    let store = tx.store(RUNS).map_err(describe)?;
    let values = store.get_all(None, None).await.map_err(describe)?;
    let mut runs = Vec::new();
    for v in values {
        match v.as_string().map(|t| serde_json::from_str::<RunRecord>(&t)) {
            Some(Ok(r)) => runs.push(r),
            _ => web_sys::console::warn_1(&"kindling: skipped an unreadable stored run".into()),
        }
    }
    runs.sort_by_key(|r| r.id);
    if let Err(e) = delete_orphan_weights().await {
        web_sys::console::warn_1(&format!("kindling: old weights not cleared: {e}").into());
    }
    Ok(runs)
}

/// Reads a run, applies its waiting writes ([`RunWrites::resolve`]) and writes it back, with
/// weights when they come with it, all in one transaction: no other tab's write comes between
/// the read and the write.
async fn update_now(run: &mut RunWrites) -> Result<(), String> {
    let db = database().await?;
    let stores: &[&str] = if run.carries_weights() {
        &[RUNS, WEIGHTS]
    } else {
        &[RUNS]
    };
    let tx = db
        .transaction(stores, TransactionMode::ReadWrite)
        .map_err(describe)?;
    let runs = tx.store(RUNS).map_err(describe)?;
    let key = JsValue::from_f64(run.id as f64);
    let stored = runs
        .get(key.clone())
        .await
        .map_err(describe)?
        .and_then(|v| v.as_string())
        .and_then(|t| serde_json::from_str::<RunRecord>(&t).ok());
    let resolved = run.resolve(stored);
    if let Some(record) = resolved.record {
        let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        runs.put(&JsValue::from_str(&json), Some(&key))
            .await
            .map_err(describe)?;
        if let Some(bytes) = resolved.weights {
            let store = tx.store(WEIGHTS).map_err(describe)?;
            store
                .put(&js_sys::Uint8Array::from(&bytes[..]).into(), Some(&key))
                .await
                .map_err(describe)?;
        }
    }
    tx.done().await.map_err(describe)?;
    Ok(())
}

async fn delete_now(id: u64) -> Result<(), String> {
    let db = database().await?;
    let tx = db
        .transaction(&[RUNS], TransactionMode::ReadWrite)
        .map_err(describe)?;
    let store = tx.store(RUNS).map_err(describe)?;
    store
        .delete(JsValue::from_f64(id as f64))
        .await
        .map_err(describe)?;
    tx.done().await.map_err(describe)?;
    Ok(())
}

/// Deletes the weights of runs no longer kept. (A deleted run's weights stay until the next
/// page load, so that Undo brings the run back whole.) The runs are read in the same
/// transaction: weights saved with their record by another tab are never taken for orphans.
async fn delete_orphan_weights() -> Result<(), String> {
    let db = database().await?;
    let tx = db
        .transaction(&[RUNS, WEIGHTS], TransactionMode::ReadWrite)
        .map_err(describe)?;
    let kept: Vec<f64> = tx
        .store(RUNS)
        .map_err(describe)?
        .get_all_keys(None, None)
        .await
        .map_err(describe)?
        .iter()
        .filter_map(|k| k.as_f64())
        .collect();
    let store = tx.store(WEIGHTS).map_err(describe)?;
    for key in store.get_all_keys(None, None).await.map_err(describe)? {
        let orphan = key.as_f64().is_some_and(|id| !kept.contains(&id));
        if orphan {
            store.delete(key).await.map_err(describe)?;
        }
    }
    tx.done().await.map_err(describe)?;
    Ok(())
}
