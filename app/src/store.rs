//! Runs kept in the browser's IndexedDB (through rexie): one object store of [`RunRecord`]s as
//! JSON, keyed by id. Errors (a full quota, a private window without storage) come back as
//! messages for the page; nothing is dropped silently.

use std::rc::Rc;

use kindling_core::record::RunRecord;
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::JsValue;

const DB: &str = "kindling";
const RUNS: &str = "runs";

thread_local! {
    static DATABASE: std::cell::RefCell<Option<Rc<Rexie>>> = const { std::cell::RefCell::new(None) };
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
    if let Some(db) = DATABASE.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    let db = Rexie::builder(DB)
        .version(1)
        .add_object_store(ObjectStore::new(RUNS))
        .build()
        .await
        .map_err(describe)?;
    let db = Rc::new(db);
    DATABASE.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

/// A write to the store.
enum Write {
    Save(Box<RunRecord>),
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
