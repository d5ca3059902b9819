//! Fetching dataset assets: the manifest (always from the network), then each file through the
//! Cache API store (checked against the manifest), with `Loading` progress to the page.

use kindling_core::data::loader::DATA_COMMAND;
use kindling_core::data::manifest::{AssetFile, Manifest, MANIFEST_FILE};
use kindling_core::data::DataError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::error::WorkerError;
use super::host::{js_error, now_ms, post, scope};
use crate::protocol::FromWorker;

/// Name of the Cache API store of dataset files; bump it when the asset format changes.
const CACHE_NAME: &str = "kindling-data-v1";
/// Least milliseconds between two `Loading` messages while a file downloads: often enough for
/// a smooth progress bar, rarely enough not to flood the page with messages.
const LOADING_PROGRESS_MS: f64 = 100.0;

/// Where the site's `data/` folder is, relative to this worker's script. The threaded build
/// is served from the site's `threads/` folder (xtask/src/threads.rs), and a worker resolves
/// relative URLs against its own script, not the page.
#[cfg(feature = "threads")]
const DATA_FOLDER: &str = "../data";
#[cfg(not(feature = "threads"))]
const DATA_FOLDER: &str = "data";

/// The URL of `file` of the data folder, for this worker's fetches and its cache.
fn data_url(file: &str) -> String {
    format!("{DATA_FOLDER}/{file}")
}

/// The error for a file of `dataset` the data folder lacks, naming the command that makes it.
pub(super) fn missing_file(dataset: &str, file: &str) -> DataError {
    DataError::Missing {
        dataset: dataset.into(),
        path: format!("data/{file}"),
        command: DATA_COMMAND.into(),
    }
}

/// The manifest, always from the network (it is small and says what the files must be).
pub(super) async fn fetch_manifest(dataset: &str) -> Result<Manifest, WorkerError> {
    let missing = || WorkerError::Data(missing_file(dataset, MANIFEST_FILE));
    let response = fetch(&data_url(MANIFEST_FILE))
        .await
        .map_err(|_| missing())?;
    if !response.ok() {
        return Err(missing());
    }
    let bytes = read_body(&response, 0, |_| {}).await?;
    // A server that answers every path with the page (trunk serve does) gives HTML here.
    Manifest::parse(&bytes).map_err(|_| missing())
}

/// One data file: from the cache if it holds the manifest's bytes, else from the network (then
/// cached). Progress goes to the page as `Loading` messages of the run `progress_of` (none
/// when the file is not for a starting run), counting `before` bytes of the `total` as already
/// loaded.
pub(crate) async fn fetch_checked(
    progress_of: Option<u64>,
    file: &str,
    entry: &AssetFile,
    before: u64,
    total: u64,
) -> Result<Vec<u8>, WorkerError> {
    let loading = |loaded: u64, cached: bool| {
        if let Some(run_id) = progress_of {
            post(&FromWorker::Loading {
                run_id,
                file: file.into(),
                loaded: before + loaded,
                total,
                cached,
            })
        }
    };
    let url = data_url(file);
    let cache = open_cache().await;
    if let Some(cache) = &cache {
        if let Some(bytes) = cached_file(cache, &url, entry).await? {
            loading(bytes.len() as u64, true);
            return Ok(bytes);
        }
    }
    let response = fetch(&url)
        .await
        .map_err(|reason| WorkerError::Unreachable {
            file: file.into(),
            reason,
        })?;
    if !response.ok() {
        return Err(WorkerError::NotServed {
            file: file.into(),
            status: response.status(),
        });
    }
    // The cache gets a copy of the response (kept by the browser, not in wasm memory).
    let for_cache = response.clone().ok();
    let mut last_post = 0.0;
    let bytes = read_body(&response, entry.bytes as usize, |loaded| {
        let now = now_ms();
        if now - last_post > LOADING_PROGRESS_MS {
            last_post = now;
            loading(loaded, false);
        }
    })
    .await?;
    entry.check(&bytes).map_err(WorkerError::Damaged)?;
    loading(bytes.len() as u64, false);
    if let (Some(cache), Some(stored)) = (&cache, for_cache) {
        // Not awaited: the browser writes the copy while the run starts (MNIST's first load in
        // headless Chromium: 2.38-2.50 s from Train to training, against 2.59-2.88 s awaiting
        // it). A copy not written in time (a reload) only means the file is downloaded again.
        let writing = JsFuture::from(cache.put_with_str(&url, &stored));
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = writing.await {
                web_sys::console::warn_2(&"kindling: cannot cache a data file".into(), &e);
            }
        });
    }
    Ok(bytes)
}

/// The cached copy of `url` when it holds the manifest's bytes; a stale or damaged copy is
/// dropped (and `None` returned, so the file is downloaded again).
async fn cached_file(
    cache: &web_sys::Cache,
    url: &str,
    entry: &AssetFile,
) -> Result<Option<Vec<u8>>, WorkerError> {
    let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await else {
        return Ok(None);
    };
    let Ok(response) = hit.dyn_into::<web_sys::Response>() else {
        return Ok(None);
    };
    let bytes = read_body(&response, entry.bytes as usize, |_| {}).await?;
    if entry.check(&bytes).is_ok() {
        return Ok(Some(bytes));
    }
    let _ = JsFuture::from(cache.delete_with_str(url)).await;
    Ok(None)
}

/// The Cache API store of dataset files, where the browser offers one.
async fn open_cache() -> Option<web_sys::Cache> {
    let caches = scope().caches().ok()?;
    let cache = JsFuture::from(caches.open(CACHE_NAME)).await.ok()?;
    cache.dyn_into().ok()
}

/// A GET of `url` (relative to the page).
async fn fetch(url: &str) -> Result<web_sys::Response, String> {
    let promise = scope().fetch_with_str(url);
    let value = JsFuture::from(promise).await.map_err(js_error)?;
    value.dyn_into().map_err(js_error)
}

/// Reads a response's body chunk by chunk into one buffer of `expected` bytes (grown only if
/// the body is longer: no doubling copies of a 47 MB file), calling `progress` with the bytes
/// read so far.
async fn read_body(
    response: &web_sys::Response,
    expected: usize,
    mut progress: impl FnMut(u64),
) -> Result<Vec<u8>, WorkerError> {
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|o: js_sys::Object| WorkerError::Browser(js_error(o.into())))?;
    let mut bytes = Vec::with_capacity(expected);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| WorkerError::Browser(js_error(e)))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into())
            .map_err(|e| WorkerError::Browser(js_error(e)))?;
        let array = js_sys::Uint8Array::new(&value);
        let start = bytes.len();
        bytes.resize(start + array.length() as usize, 0);
        array.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64);
    }
    Ok(bytes)
}
