//! The browser test harness: serves the trunk-built `dist/` on a free 127.0.0.1 port, starts
//! Debian's chromedriver with headless Chromium (a fresh profile per test, WebGPU on unless a
//! test asks otherwise), and drives the page through its `data-testid`s with fantoccini.
//! Every test ends with [`Page::finish`]: a screenshot under `target/e2e/` and a check that the
//! browser console logged no error.
//!
//! Needs `cargo xtask test` (or `trunk build --release` and `cargo xtask data`) first.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// The workspace root: from the `CARGO_MANIFEST_DIR` that `cargo test` sets when it runs the
/// tests (so two clones sharing a build folder each test their own `dist/`), else the path
/// compiled in.
pub fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// Serves the trunk-built `dist/` (or `$KINDLING_DIST`) on 127.0.0.1, one server per test
/// process; returns its base URL.
pub fn serve_dist() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| serve_folder(dist()))
}

/// [`serve_dist`] by a host that sends no cross-origin isolation headers: the page gets no
/// shared memory and its worker one thread.
pub fn serve_dist_not_isolated() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| serve_folder_with(dist(), false))
}

/// The trunk-built `dist/` (or `$KINDLING_DIST`).
fn dist() -> PathBuf {
    let dist = std::env::var_os("KINDLING_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("dist"));
    assert!(
        dist.join("index.html").exists(),
        "{} has no index.html: build the app first (`cargo xtask test` does)",
        dist.display()
    );
    dist
}

/// The headers that make a page cross-origin isolated (shared memory, so the worker's threaded
/// build), as `Trunk.toml` has `trunk serve` send them.
const ISOLATION: [(&str, &str); 2] = [
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
];

/// How the served files may be cached: kept, and revalidated on every use (`ETag`, answered
/// `304 Not Modified` while the file is unchanged), as `Trunk.toml` has `trunk serve` do. A
/// page visited before loads its WebAssembly from the browser's cache, where Chromium can also
/// keep the code it compiled while streaming; a rebuilt file is fetched anew.
pub const CACHE_CONTROL: &str = "no-cache";

/// A validator of a file's content: its length and modification time.
fn entity_tag(file: &std::fs::File) -> Option<String> {
    let meta = file.metadata().ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("\"{:x}-{:x}\"", meta.len(), modified.as_nanos()))
}

fn with_headers<R: std::io::Read>(
    mut response: tiny_http::Response<R>,
    headers: Vec<tiny_http::Header>,
) -> tiny_http::Response<R> {
    for h in headers {
        response.add_header(h);
    }
    response
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a header")
}

/// Serves the files of `dir` on a free 127.0.0.1 port (a thread for the life of the process),
/// cross-origin isolated as `trunk serve` serves them; returns its base URL.
pub fn serve_folder(dir: PathBuf) -> String {
    serve_folder_with(dir, true)
}

/// [`serve_folder`], cross-origin isolated or not.
fn serve_folder_with(dir: PathBuf, isolated: bool) -> String {
    let port = free_port();
    let server = tiny_http::Server::http(("127.0.0.1", port)).expect("an HTTP server");
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request
                .url()
                .split(['?', '#'])
                .next()
                .unwrap_or("/")
                .to_string();
            let rel = path.trim_start_matches('/');
            let rel = if rel.is_empty() { "index.html" } else { rel };
            let file = dir.join(rel);
            let safe = !rel.split('/').any(|part| part == "..");
            let response = match std::fs::File::open(&file) {
                Ok(f) if safe && file.is_file() => {
                    let etag = entity_tag(&f);
                    let mut headers = vec![
                        header("Content-Type", mime(&file)),
                        header("Cache-Control", CACHE_CONTROL),
                    ];
                    headers.extend(etag.as_deref().map(|tag| header("ETag", tag)));
                    headers.extend(
                        ISOLATION
                            .iter()
                            .filter(|_| isolated)
                            .map(|(name, value)| header(name, value)),
                    );
                    let unchanged = etag.as_deref().is_some_and(|tag| {
                        request.headers().iter().any(|h| {
                            h.field.equiv("If-None-Match")
                                && h.value.as_str().split(',').any(|t| t.trim() == tag)
                        })
                    });
                    if unchanged {
                        request.respond(with_headers(tiny_http::Response::empty(304), headers))
                    } else {
                        request.respond(with_headers(tiny_http::Response::from_file(f), headers))
                    }
                }
                _ => request
                    .respond(tiny_http::Response::from_string("not found").with_status_code(404)),
            };
            let _ = response;
        }
    });
    format!("http://127.0.0.1:{port}/")
}

/// Options of one browser.
#[derive(Clone, Debug)]
pub struct BrowserOptions {
    /// Start Chromium with `--enable-unsafe-webgpu` (a SwiftShader adapter here).
    pub webgpu: bool,
    /// Window size.
    pub size: (u32, u32),
    /// Profile folder (fresh when None).
    pub profile: Option<PathBuf>,
    /// Served cross-origin isolated (shared memory: the threaded worker where it is chosen).
    pub isolated: bool,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        Self {
            webgpu: true,
            size: (1280, 800),
            profile: None,
            isolated: true,
        }
    }
}

/// A page of the playground in its own browser.
pub struct Page {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    driver_url: String,
    session: String,
    /// Console messages seen so far (level, text).
    pub console: Vec<(String, String)>,
    /// Where the browser saves downloads.
    pub downloads: PathBuf,
    name: String,
    _profile: Option<TempDir>,
    /// From navigating to the page until the worker was up, on opening (a fresh profile:
    /// nothing cached, the cold load).
    pub first_load: Duration,
}

/// A folder removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("kindling-e2e-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    TempDir(dir)
}

/// The folder of screenshots.
pub fn shots_dir() -> PathBuf {
    let dir = root().join("target").join("e2e");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

impl Page {
    /// Opens the playground in a new headless Chromium; `name` names the test's screenshots.
    pub async fn open(name: &str, options: BrowserOptions) -> Result<Page> {
        let base = if options.isolated {
            serve_dist()
        } else {
            serve_dist_not_isolated()
        };
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver (apt-get install chromium-driver; cargo xtask test does)")?;
        let driver_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpListener::bind(("127.0.0.1", port)).is_ok() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (profile_dir, owned) = match &options.profile {
            Some(p) => (p.clone(), None),
            None => {
                let t = temp_dir(name);
                (t.0.clone(), Some(t))
            }
        };
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            format!("--user-data-dir={}", profile_dir.display()),
            format!("--window-size={},{}", options.size.0, options.size.1),
        ];
        // Extra Chromium flags, for measuring (`--js-flags=--no-liftoff`: V8's optimised wasm
        // code from the start, the steady state of a page visited before).
        if let Ok(extra) = std::env::var("KINDLING_CHROMIUM_ARGS") {
            args.extend(extra.split_whitespace().map(String::from));
        }
        if options.webgpu {
            args.push("--enable-unsafe-webgpu".into());
            args.push("--enable-features=Vulkan".into());
        } else {
            args.push("--disable-gpu".into());
        }
        let mut caps = serde_json::Map::new();
        let downloads = profile_dir.join("downloads");
        std::fs::create_dir_all(&downloads)?;
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .context("cannot open a WebDriver session")?;
        let session = client
            .session_id()
            .await?
            .ok_or_else(|| anyhow!("no session id"))?;
        client
            .set_window_size(options.size.0, options.size.1)
            .await?;
        let navigated = Instant::now();
        client.goto(base).await?;
        let mut page = Page {
            client,
            driver,
            driver_url,
            session,
            console: Vec::new(),
            downloads,
            name: name.to_string(),
            _profile: owned,
            first_load: Duration::ZERO,
        };
        page.wait_for_ready().await?;
        page.first_load = navigated.elapsed();
        Ok(page)
    }

    /// Waits until the worker has started (the device status leaves "starting").
    pub async fn wait_for_ready(&mut self) -> Result<()> {
        self.wait_until("the worker to start", Duration::from_secs(60), |p| {
            Box::pin(async move {
                Ok(p.text("device-status")
                    .await
                    .map(|t| !t.contains("starting"))
                    .unwrap_or(false))
            })
        })
        .await
    }

    /// Opens `url` (e.g. a share link) in this browser and waits for the page.
    pub async fn goto(&mut self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        // A fragment-only change does not reload: force it.
        self.client.refresh().await?;
        self.wait_for_ready().await
    }

    /// The ids of the rows of the runs table.
    pub async fn run_rows(&self) -> Result<Vec<fantoccini::elements::Element>> {
        Ok(self
            .client
            .find_all(Locator::Css("[data-testid='run-row']"))
            .await?)
    }

    /// Waits for a downloaded file named `name` and returns its text.
    pub async fn downloaded(&self, name: &str) -> Result<String> {
        Ok(String::from_utf8(self.downloaded_bytes(name).await?)?)
    }

    /// Waits for a downloaded file named `name` (complete: Chromium writes a `.crdownload`
    /// first) and returns its bytes.
    pub async fn downloaded_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.downloads.join(name);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(bytes) = std::fs::read(&path) {
                if !bytes.is_empty() {
                    return Ok(bytes);
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let there: Vec<String> = std::fs::read_dir(&self.downloads)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let error = self.text("error").await.unwrap_or_default();
        bail!(
            "no download {} appeared (the folder holds {there:?}; page error: {error:?})",
            path.display()
        )
    }

    /// Chooses the file at `path` in the file input with test id `id`.
    pub async fn upload(&self, id: &str, path: &std::path::Path) -> Result<()> {
        self.by_id(id)
            .await?
            .send_keys(&path.display().to_string())
            .await
            .with_context(|| format!("cannot choose {} in {id}", path.display()))
    }

    /// Reloads the page and waits for it.
    pub async fn reload(&mut self) -> Result<()> {
        self.client.refresh().await?;
        self.wait_for_ready().await
    }

    /// The element with `data-testid` = `id`.
    pub async fn by_id(&self, id: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .find(Locator::Css(&format!("[data-testid='{id}']")))
            .await
            .with_context(|| format!("no element [data-testid='{id}']"))
    }

    /// Whether an element with that test id exists.
    pub async fn exists(&self, id: &str) -> bool {
        self.client
            .find_all(Locator::Css(&format!("[data-testid='{id}']")))
            .await
            .map(|v| !v.is_empty())
            .unwrap_or(false)
    }

    /// Clicks it.
    pub async fn click(&self, id: &str) -> Result<()> {
        self.by_id(id).await?.click().await?;
        Ok(())
    }

    /// Its visible text.
    pub async fn text(&self, id: &str) -> Result<String> {
        Ok(self.by_id(id).await?.text().await?)
    }

    /// One of its attributes.
    pub async fn attr(&self, id: &str, name: &str) -> Result<Option<String>> {
        Ok(self.by_id(id).await?.attr(name).await?)
    }

    /// Chooses an option of a select by value.
    pub async fn select(&self, id: &str, value: &str) -> Result<()> {
        self.by_id(id).await?.select_by_value(value).await?;
        Ok(())
    }

    /// Replaces an input's value (a number, or a text such as sweep values) and commits it
    /// (change event).
    pub async fn set_number(&self, id: &str, value: &str) -> Result<()> {
        let script = "const el = document.querySelector(`[data-testid='${arguments[0]}']`); \
                      el.value = arguments[1]; el.dispatchEvent(new Event('change', {bubbles: true})); \
                      return el.value;";
        self.client
            .execute(script, vec![json!(id), json!(value)])
            .await?;
        Ok(())
    }

    /// Runs a script in the page.
    pub async fn eval(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Runs a script in the page with `arguments`.
    pub async fn eval_with(&self, script: &str, arguments: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, arguments).await?)
    }

    /// Polls `check` until it is true or `timeout` passes (then fails naming `what`, with a
    /// screenshot).
    pub async fn wait_until<F>(&mut self, what: &str, timeout: Duration, mut check: F) -> Result<()>
    where
        F: for<'a> FnMut(
            &'a Page,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + 'a>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if check(self).await? {
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.screenshot("timeout").await;
                let error = self.text("error").await.unwrap_or_default();
                bail!(
                    "timed out after {:?} waiting for {what}; page error: {error:?}; console: {:?}",
                    timeout,
                    self.console_messages().await.unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the current run ends (finished, stopped or diverged), or an error shows.
    pub async fn wait_for_run_end(&mut self, timeout: Duration) -> Result<String> {
        self.wait_until("the run to end", timeout, |p| {
            Box::pin(async move {
                let progress = p.text("progress").await.unwrap_or_default();
                Ok(progress.starts_with("Finished")
                    || progress.starts_with("Stopped")
                    || progress.starts_with("Diverged")
                    || p.exists("error").await)
            })
        })
        .await?;
        self.text("progress").await
    }

    /// The held-out accuracy of every epoch so far, from the epoch table.
    pub async fn epoch_accuracies(&self) -> Result<Vec<f64>> {
        let rows = self
            .client
            .find_all(Locator::Css("[data-testid='epoch-metrics'] tbody tr"))
            .await?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(a) = row.attr("data-eval-accuracy").await? {
                out.push(a.parse()?);
            }
        }
        Ok(out)
    }

    /// Resizes the browser's window to `width` x `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.client.set_window_size(width, height).await?;
        Ok(())
    }

    /// Saves a screenshot as `target/e2e/<test>-<label>.png`.
    pub async fn screenshot(&self, label: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = shots_dir().join(format!("{}-{label}.png", self.name));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Reads the browser's console log (page and workers) since the last read.
    pub async fn console_messages(&mut self) -> Result<Vec<(String, String)>> {
        let url = format!("{}/session/{}/se/log", self.driver_url, self.session);
        let body: Value = ureq::post(&url)
            .send_json(json!({ "type": "browser" }))?
            .body_mut()
            .read_json()?;
        let entries = body["value"].as_array().cloned().unwrap_or_default();
        for e in entries {
            let level = e["level"].as_str().unwrap_or("").to_string();
            let text = e["message"].as_str().unwrap_or("").to_string();
            self.console.push((level, text));
        }
        Ok(self.console.clone())
    }

    /// Error-level console messages so far.
    pub async fn console_errors(&mut self) -> Result<Vec<String>> {
        Ok(self
            .console_messages()
            .await?
            .into_iter()
            .filter(|(level, _)| level == "SEVERE")
            .map(|(_, text)| text)
            .collect())
    }

    /// Ends the test: a screenshot of the last state, then fails on any console error.
    pub async fn finish(self) -> Result<()> {
        self.finish_allowing(&[]).await
    }

    /// As [`Page::finish`], for a test that breaks the page on purpose: console errors that
    /// contain one of `expected` (what the fault logs) are allowed; any other fails the test.
    /// [`Page::finish`] is this with nothing allowed.
    pub async fn finish_allowing(mut self, expected: &[&str]) -> Result<()> {
        let shot = self.screenshot("last").await?;
        let errors: Vec<String> = self
            .console_errors()
            .await?
            .into_iter()
            .filter(|e| !expected.iter().any(|x| e.contains(x)))
            .collect();
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        if !errors.is_empty() {
            bail!(
                "the browser console logged errors (screenshot {}): {errors:#?}",
                shot.display()
            );
        }
        Ok(())
    }

    /// Ends a session without the console check (for pages other than the playground's).
    pub async fn close(mut self) -> Result<()> {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        Ok(())
    }

    /// Draws strokes on the drawing pad: each stroke a list of points in canvas fractions
    /// (0..1 of its width and height).
    pub async fn draw(&self, strokes: &[Vec<(f64, f64)>]) -> Result<()> {
        let pad = self.by_id("draw-canvas").await?;
        let (_, _, w, h) = pad.rectangle().await?;
        let mut mouse = MouseActions::new("pen".into());
        let at = |(x, y): (f64, f64)| PointerAction::MoveToElement {
            element: pad.clone(),
            duration: Some(Duration::from_millis(1)),
            x: ((x - 0.5) * w).round(),
            y: ((y - 0.5) * h).round(),
        };
        for stroke in strokes {
            let Some(&first) = stroke.first() else {
                continue;
            };
            mouse = mouse.then(at(first)).then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
            for &p in &stroke[1..] {
                mouse = mouse.then(at(p));
            }
            mouse = mouse.then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        }
        self.client.perform_actions(mouse).await?;
        Ok(())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // Ends the WebDriver session (which quits its Chromium) even when a test failed before
        // `finish`; killing chromedriver alone leaves the browser running.
        let _ = ureq::delete(&format!("{}/session/{}", self.driver_url, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// MNIST test images from the data folder: (28x28 pixels, label) for the first `n`.
pub fn mnist_test_digits(n: usize) -> Result<Vec<(Vec<u8>, u8)>> {
    let data = root().join("data").join("mnist");
    let images = std::fs::read(data.join("t10k-images-idx3-ubyte"))
        .context("MNIST is missing: cargo xtask data")?;
    let labels = std::fs::read(data.join("t10k-labels-idx1-ubyte"))?;
    let count = u32::from_be_bytes(images[4..8].try_into()?) as usize;
    Ok((0..n.min(count))
        .map(|i| {
            (
                images[16 + i * 784..16 + (i + 1) * 784].to_vec(),
                labels[8 + i],
            )
        })
        .collect())
}

/// [`strokes_along`] drawn `scale` times as large, moved by `offset` (canvas fractions): a
/// digit drawn small, off-centre.
pub fn strokes_scaled(pixels: &[u8], scale: f64, offset: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    strokes_along(pixels)
        .into_iter()
        .map(|stroke| {
            stroke
                .into_iter()
                .map(|(x, y)| (offset.0 + scale * x, offset.1 + scale * y))
                .collect()
        })
        .collect()
}

/// Strokes that trace an MNIST digit: every run of inked pixels of every row becomes one
/// horizontal pen stroke, in canvas fractions, with the digit filling the middle of the pad.
pub fn strokes_along(pixels: &[u8]) -> Vec<Vec<(f64, f64)>> {
    let mut strokes = Vec::new();
    let cell = |v: usize| (v as f64 + 0.5) / 28.0;
    for y in 0..28 {
        let mut x = 0;
        while x < 28 {
            if pixels[y * 28 + x] > 100 {
                let start = x;
                while x + 1 < 28 && pixels[y * 28 + x + 1] > 100 {
                    x += 1;
                }
                strokes.push(vec![(cell(start), cell(y)), (cell(x), cell(y))]);
            }
            x += 1;
        }
    }
    strokes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GET of `url`, with `If-None-Match: tag` when given: (status, ETag, Cache-Control).
    fn get(url: &str, tag: Option<&str>) -> (u16, Option<String>, Option<String>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut request = agent.get(url);
        if let Some(tag) = tag {
            request = request.header("If-None-Match", tag);
        }
        let response = request.call().expect("the server answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (
            response.status().as_u16(),
            header("ETag"),
            header("Cache-Control"),
        )
    }

    #[test]
    fn the_server_lets_browsers_keep_files_and_revalidate_them() {
        let dir = temp_dir("cache");
        std::fs::write(dir.0.join("worker_bg.wasm"), b"\0asm one").unwrap();
        let url = format!("{}worker_bg.wasm", serve_folder(dir.0.clone()));
        let (status, tag, cache) = get(&url, None);
        assert_eq!(status, 200);
        assert_eq!(cache.as_deref(), Some(CACHE_CONTROL));
        let tag = tag.expect("an ETag");
        assert_eq!(get(&url, Some(&tag)).0, 304, "unchanged: not sent again");
        assert_eq!(get(&url, Some("\"other\"")).0, 200);
        // A rebuilt file (another length) is sent anew.
        std::fs::write(dir.0.join("worker_bg.wasm"), b"\0asm two, longer").unwrap();
        let (status, new_tag, _) = get(&url, Some(&tag));
        assert_eq!(status, 200);
        assert_ne!(new_tag.as_deref(), Some(tag.as_str()));
    }
}
