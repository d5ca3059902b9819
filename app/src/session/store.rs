//! Runs kept in the browser's IndexedDB (through rexie): one object store of [`RunRecord`]s as
//! JSON and one of their models' weights (burnpack bytes), both keyed by run id. Errors (a full quota, a private window without storage) come back as
//! messages for the page; nothing is dropped silently.

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

/// A write to the store.
enum Write {
    Save(Box<RunRecord>),
    SaveWeights(u64, Vec<u8>),
    Delete(u64),
}

/// A queued write and what to do if it fails.
type Job = (Write, Box<dyn Fn(String)>);

thread_local! {
    static QUEUE: std::cell::RefCell<Option<futures_channel::mpsc::UnboundedSender<Job>>> =
        const { std::cell::RefCell::new(None) };
}

/// Queues a write; writes happen one after another in the order queued (so a run's final
/// state is never overwritten by an older one). `on_error` gets the message of a failure.
fn enqueue(write: Write, on_error: Box<dyn Fn(String)>) {
    QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        if q.is_none() {
            let (sender, mut receiver) = futures_channel::mpsc::unbounded::<Job>();
            wasm_bindgen_futures::spawn_local(async move {
                use futures_util::StreamExt;
                while let Some((write, on_error)) = receiver.next().await {
                    let result = match write {
                        Write::Save(run) => save_now(&run).await,
                        Write::SaveWeights(id, bytes) => save_weights_now(id, &bytes).await,
                        Write::Delete(id) => delete_now(id).await,
                    };
                    if let Err(e) = result {
                        on_error(e);
                    }
                }
            });
            *q = Some(sender);
        }
        if let Some(sender) = q.as_ref() {
            let _ = sender.unbounded_send((write, on_error));
        }
    });
}

/// Saves a run (queued after earlier writes).
pub fn save_run(run: &RunRecord, on_error: impl Fn(String) + 'static) {
    enqueue(Write::Save(Box::new(run.clone())), Box::new(on_error));
}

/// Keeps a run's weights (queued after earlier writes).
pub fn save_weights(id: u64, bytes: Vec<u8>, on_error: impl Fn(String) + 'static) {
    enqueue(Write::SaveWeights(id, bytes), Box::new(on_error));
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
    enqueue(Write::Delete(id), Box::new(on_error));
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
    let kept: Vec<u64> = runs.iter().map(|r| r.id).collect();
    if let Err(e) = delete_orphan_weights(&kept).await {
        web_sys::console::warn_1(&format!("kindling: old weights not cleared: {e}").into());
    }
    Ok(runs)
}

async fn save_now(run: &RunRecord) -> Result<(), String> {
    let db = database().await?;
    let tx = db
        .transaction(&[RUNS], TransactionMode::ReadWrite)
        .map_err(describe)?;
    let store = tx.store(RUNS).map_err(describe)?;
    let json = serde_json::to_string(run).map_err(|e| e.to_string())?;
    store
        .put(
            &JsValue::from_str(&json),
            Some(&JsValue::from_f64(run.id as f64)),
        )
        .await
        .map_err(describe)?;
    tx.done().await.map_err(describe)?;
    Ok(())
}

async fn save_weights_now(id: u64, bytes: &[u8]) -> Result<(), String> {
    let db = database().await?;
    let tx = db
        .transaction(&[WEIGHTS], TransactionMode::ReadWrite)
        .map_err(describe)?;
    let store = tx.store(WEIGHTS).map_err(describe)?;
    store
        .put(
            &js_sys::Uint8Array::from(bytes).into(),
            Some(&JsValue::from_f64(id as f64)),
        )
        .await
        .map_err(describe)?;
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
/// page load, so that Undo brings the run back whole.)
async fn delete_orphan_weights(kept: &[u64]) -> Result<(), String> {
    let db = database().await?;
    let tx = db
        .transaction(&[WEIGHTS], TransactionMode::ReadWrite)
        .map_err(describe)?;
    let store = tx.store(WEIGHTS).map_err(describe)?;
    for key in store.get_all_keys(None, None).await.map_err(describe)? {
        let orphan = key.as_f64().is_some_and(|id| !kept.contains(&(id as u64)));
        if orphan {
            store.delete(key).await.map_err(describe)?;
        }
    }
    tx.done().await.map_err(describe)?;
    Ok(())
}
