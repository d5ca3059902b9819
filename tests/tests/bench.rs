//! The browser side of `cargo xtask bench`: Kindling's playground (wasm CPU and WebGPU) and
//! TF.js (wasm and webgpu backends) training the bench's models in headless Chromium.
//!
//! Not part of the test suite: `cargo xtask bench` writes a plan (the models' run configs and
//! how long to measure) to a JSON file, runs this with `KINDLING_BENCH_PLAN` pointing at it,
//! and reads the figures back from the file the plan names.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kindling_core::link::encode_link;
use kindling_core::record::{RunRecord, RunStatus};
use kindling_core::{DeviceChoice, RunConfig};
use kindling_e2e::{serve_dist, serve_folder, BrowserOptions, Page};
use serde::{Deserialize, Serialize};

/// What to measure, written by `cargo xtask bench`.
#[derive(Deserialize)]
struct Plan {
    workloads: Vec<Workload>,
    /// A folder holding `index.html` (xtask/bench/tfjs.html) and TF.js's `node_modules`, or
    /// none to leave TF.js out.
    tfjs: Option<PathBuf>,
    /// Where the figures go.
    out: PathBuf,
    /// Only these contenders ("Kindling WebGPU", "TF.js wasm", ...); all when empty. For
    /// profiling one of them (BENCHMARKS.md says how).
    #[serde(default)]
    contenders: Vec<String>,
}

#[derive(Deserialize)]
struct Workload {
    id: String,
    config: RunConfig,
    warmup: usize,
    windows: usize,
    batches: usize,
    /// Most seconds of measuring per contender (after warm-up) before taking what was seen.
    budget_seconds: f64,
}

/// The contender of the page's threaded worker (a browser without WebGPU, so the page runs
/// it), on every thread the browser reports.
const THREADED: &str = "Kindling wasm CPU, threads";
/// The contender of the page trained with its live views closed.
const VIEWS_CLOSED: &str = "Kindling wasm CPU, views closed";
/// Added to a CPU contender's name for its second visit: the same page opened again in the
/// same browser profile, after the first visit's run.
const SECOND_VISIT: &str = ", second visit";
/// TF.js's threaded wasm build, on the same isolated page as Kindling's threaded worker.
const TFJS_THREADED: &str = "TF.js wasm, threads";
/// The pseudo-contender whose note is the page's longest main-thread task while training.
const MAIN_THREAD: &str = "main thread";

/// One figure, or why there is none.
#[derive(Serialize)]
struct Figure {
    model: String,
    contender: String,
    samples_per_second: Option<f64>,
    note: String,
}

/// Watches the page's main thread while a run trains: its long tasks (over 50 ms), and the
/// long animation frame that blocked longest (where its time went: scripts or rendering).
/// `window.__mainThread()` returns a [`MainThread`].
const WATCH_MAIN_THREAD: &str = "
    window.__longTasks = [];
    window.__worstFrame = null;
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
    if (PerformanceObserver.supportedEntryTypes.includes('long-animation-frame')) {
      new PerformanceObserver(list => {
        for (const e of list.getEntries()) {
          const worst = window.__worstFrame;
          if (e.blockingDuration <= 0 || (worst && worst.blocking >= e.blockingDuration)) continue;
          const longest = e.scripts.reduce((a, s) => (a && a.duration >= s.duration ? a : s), null);
          window.__worstFrame = {
            blocking: e.blockingDuration,
            scripts: e.scripts.length,
            script_ms: e.scripts.reduce((sum, s) => sum + s.duration, 0),
            longest_script_ms: longest ? longest.duration : 0,
            longest_script: longest ? longest.invoker : '',
            rendering_ms: e.renderStart > 0 ? e.startTime + e.duration - e.renderStart : 0,
          };
        }
      }).observe({ type: 'long-animation-frame', buffered: false });
    }
    window.__mainThread = () => ({
      longest_task_ms: Math.max(0, ...window.__longTasks),
      frame: window.__worstFrame,
    });
    return true;";

/// What [`WATCH_MAIN_THREAD`] saw.
#[derive(Deserialize)]
struct MainThread {
    /// The longest task, 0 when none took over 50 ms.
    longest_task_ms: f64,
    /// The frame whose long tasks blocked the page longest, when one did.
    frame: Option<LongFrame>,
}

/// A long animation frame (Chromium's `PerformanceLongAnimationFrameTiming`).
#[derive(Deserialize)]
struct LongFrame {
    /// Its long tasks' time beyond 50 ms each, its rendering counted in its last task (so a
    /// task of 40 ms of script and 20 ms of rendering blocks 10 ms).
    blocking: f64,
    scripts: usize,
    script_ms: f64,
    longest_script_ms: f64,
    longest_script: String,
    rendering_ms: f64,
}

impl MainThread {
    /// "longest main-thread task 64 ms (the frame that blocked longest, 14 ms: 3 scripts, 47 ms,
    /// the longest TimerHandler:setTimeout 26 ms; rendering 38 ms)". The long-task figure counts
    /// each task alone; the frame's blocking counts its rendering with its last task.
    fn describe(&self) -> String {
        let mut text = format!("longest main-thread task {:.0} ms", self.longest_task_ms);
        if let Some(f) = &self.frame {
            text.push_str(&format!(
                " (the frame that blocked longest, {:.0} ms: {} script{}, {:.0} ms, the longest {} \
                 {:.0} ms; rendering {:.0} ms)",
                f.blocking,
                f.scripts,
                if f.scripts == 1 { "" } else { "s" },
                f.script_ms,
                f.longest_script,
                f.longest_script_ms,
                f.rendering_ms
            ));
        }
        text
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by `cargo xtask bench` with a plan in KINDLING_BENCH_PLAN"]
async fn browser_bench_kindling_and_tfjs() -> Result<()> {
    let plan_path = std::env::var("KINDLING_BENCH_PLAN").context("KINDLING_BENCH_PLAN unset")?;
    let plan: Plan = serde_json::from_str(&std::fs::read_to_string(&plan_path)?)?;
    let mut figures = Vec::new();
    let chosen = |contender: &str| {
        plan.contenders.is_empty() || plan.contenders.iter().any(|c| c == contender)
    };
    for w in &plan.workloads {
        // Every model has live views (layer health; MLPs also the network view, first-layer
        // weights and the boundary map): their cost is the CPU figure with them open against
        // one with them closed.
        let has_views = true;
        for (device, views, threaded, contender) in [
            (DeviceChoice::Cpu, true, false, "Kindling wasm CPU"),
            (DeviceChoice::Cpu, true, true, THREADED),
            (DeviceChoice::Cpu, false, false, VIEWS_CLOSED),
            (DeviceChoice::Wgpu, true, false, "Kindling WebGPU"),
        ] {
            if !chosen(contender) || (!views && !has_views) {
                continue;
            }
            // The CPU contenders train a second time in the same browser profile (a page
            // visited before: its WebAssembly and compiled code from the browser's cache).
            let revisit = device == DeviceChoice::Cpu && views;
            let profile = revisit.then(|| {
                std::env::temp_dir().join(format!(
                    "kindling-bench-{}-{}-{threaded}",
                    std::process::id(),
                    w.id
                ))
            });
            let measured = kindling(w, device, views, threaded, profile.as_deref()).await;
            if let (Ok((_, _, Some(main))), true) = (&measured, views && has_views) {
                // The page's longest main-thread task while it trained with the views open.
                let figure = Figure {
                    model: w.id.clone(),
                    contender: MAIN_THREAD.into(),
                    samples_per_second: None,
                    note: format!("{contender}: {}", main.describe()),
                };
                report(&figure);
                figures.push(figure);
            }
            let first_ok = measured.is_ok();
            let figure = Figure::of(&w.id, contender, measured.map(|(r, n, _)| (r, n)));
            report(&figure);
            figures.push(figure);
            if let Some(profile) = profile {
                if first_ok {
                    let again = kindling(w, device, views, threaded, Some(&profile)).await;
                    let contender = format!("{contender}{SECOND_VISIT}");
                    let figure = Figure::of(&w.id, &contender, again.map(|(r, n, _)| (r, n)));
                    report(&figure);
                    figures.push(figure);
                }
                let _ = std::fs::remove_dir_all(&profile);
            }
        }
        if let Some(dir) = &plan.tfjs {
            for (backend, threaded, contender) in [
                ("wasm", false, "TF.js wasm"),
                ("wasm", true, TFJS_THREADED),
                ("webgpu", false, "TF.js WebGPU"),
            ] {
                if !chosen(contender) {
                    continue;
                }
                let figure = Figure::of(&w.id, contender, tfjs(dir, w, backend, threaded).await);
                report(&figure);
                figures.push(figure);
            }
        }
    }
    std::fs::write(&plan.out, serde_json::to_string_pretty(&figures)?)?;
    Ok(())
}

impl Figure {
    /// A measurement's figure and note, or its error as the note.
    fn of(model: &str, contender: &str, measured: Result<(Option<f64>, String)>) -> Figure {
        let (samples_per_second, note) = match measured {
            Ok(measured) => measured,
            Err(e) => (None, format!("{e:#}")),
        };
        Figure {
            model: model.into(),
            contender: contender.into(),
            samples_per_second,
            note,
        }
    }
}

fn report(f: &Figure) {
    match f.samples_per_second {
        Some(rate) => println!(
            "{}, {}: {rate:.1} samples/s {}",
            f.contender, f.model, f.note
        ),
        None => println!("{}, {}: no figure: {}", f.contender, f.model, f.note),
    }
}

/// Kindling in the playground: the workload's config opened as a share link, trained with
/// Reproduce on `device` with the live views open or closed; samples/s read from the progress
/// bar's exact figures (the worker's own count of samples and training seconds), and the
/// longest main-thread task meanwhile (none over 50 ms: 0). In a fresh browser profile, or in
/// `profile` (kept, so a second call is a second visit).
async fn kindling(
    w: &Workload,
    device: DeviceChoice,
    views: bool,
    threaded: bool,
    profile: Option<&Path>,
) -> Result<(Option<f64>, String, Option<MainThread>)> {
    let mut config = w.config.clone();
    config.device = device;
    // Enough examples that warm-up and every window fit in the first epoch (an epoch's end
    // evaluates the test set, which is not training).
    let batch = config.training.batch_size;
    // Twice the batches measured: windows end on progress messages, not on batch counts. A
    // preset's larger set is kept: a fast model's windows last MIN_WINDOW_SECONDS, which can
    // be many more batches.
    let needed = 2 * (w.warmup + w.windows * w.batches + 2) * batch;
    if needed > config.dataset.train_size() {
        config.dataset.set_train_size(needed);
    }
    config.training.epochs = 1;
    let record = RunRecord {
        id: 1,
        name: format!("bench {}", w.id),
        notes: String::new(),
        config,
        status: RunStatus::Finished,
        epochs: Vec::new(),
        curve: Vec::new(),
        batches_per_epoch: 1,
        test_accuracy: None,
        seconds: 0.0,
        samples_per_second: 0.0,
        created_ms: 0.0,
        shared: false,
        has_weights: false,
    };
    let mut page = Page::open(
        &format!("bench-{}-{:?}-threads-{threaded}", w.id, device),
        BrowserOptions {
            profile: profile.map(Path::to_path_buf),
            ..worker_browser(threaded)
        },
    )
    .await?;
    let link = encode_link(serve_dist(), &record);
    page.goto(&link).await?;
    // The shared run (a second visit also lists the first visit's run, which has no
    // Reproduce).
    page.wait_until("the bench run", Duration::from_secs(20), |p| {
        Box::pin(async move { Ok(p.exists("reproduce").await) })
    })
    .await?;
    if !views {
        page.click("views-open").await?;
    }
    page.eval(WATCH_MAIN_THREAD).await?;
    page.click("reproduce").await?;
    let status = page.text("device-status").await.unwrap_or_default();
    // (samples seen, training seconds) as the worker reports them.
    let mut points: Vec<(usize, f64)> = Vec::new();
    let warm = w.warmup * batch;
    let window = w.batches * batch;
    let mut deadline: Option<Instant> = None;
    let load_deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if page.exists("error").await {
            bail!("{}", page.text("error").await?);
        }
        let (seen, seconds) = progress_figures(&page).await?;
        if seen >= warm && points.last().is_none_or(|p| p.0 != seen) {
            points.push((seen, seconds));
            deadline
                .get_or_insert_with(|| Instant::now() + Duration::from_secs_f64(w.budget_seconds));
        }
        let windows = rates(&points, window);
        let text = page.text("progress").await.unwrap_or_default();
        let ended = text.starts_with("Finished") || text.starts_with("Stopped");
        if windows.len() >= w.windows || ended || deadline.is_some_and(|d| Instant::now() > d) {
            let _ = page.click("stop").await;
            let device_used = device_used(&page).await;
            let longest = page
                .eval("return window.__mainThread();")
                .await
                .ok()
                .and_then(|v| serde_json::from_value::<MainThread>(v).ok());
            page.close().await?;
            if windows.is_empty() {
                bail!(
                    "no whole window of {} batches in {:.0} s ({} samples seen after warm-up)",
                    w.batches,
                    w.budget_seconds,
                    points.last().map_or(0, |p| p.0.saturating_sub(warm))
                );
            }
            let note = if windows.len() < w.windows {
                format!(
                    "({} of {} windows before the run ended or its time budget ran out)",
                    windows.len(),
                    w.windows
                )
            } else {
                String::new()
            };
            let device_note = if device == DeviceChoice::Wgpu && !status.contains("WebGPU") {
                format!(" [device: {status}]")
            } else if threaded {
                // The run's thread count.
                format!(" [{device_used}]")
            } else {
                String::new()
            };
            return Ok((
                Some(median(windows)),
                format!("{note}{device_note}"),
                longest,
            ));
        }
        if deadline.is_none() && Instant::now() > load_deadline {
            bail!("training did not start within 5 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A browser whose page runs the single-threaded worker (`threaded` false: with a WebGPU
/// adapter the page keeps it) or the threaded one (without an adapter, the page cross-origin
/// isolated).
fn worker_browser(threaded: bool) -> BrowserOptions {
    BrowserOptions {
        webgpu: !threaded,
        ..Default::default()
    }
}

/// The device the page's last run used, as its device status says it ("CPU (wasm SIMD), 2
/// threads, ..."), without the status's "last run on ".
async fn device_used(page: &Page) -> String {
    let status = page.text("device-status").await.unwrap_or_default();
    status.trim_start_matches("last run on ").to_string()
}

/// The worker's count of samples trained and training seconds, as the progress bar carries them.
async fn progress_figures(page: &Page) -> Result<(usize, f64)> {
    let progress = page.by_id("progress").await?;
    let seen = progress
        .attr("data-samples-seen")
        .await?
        .unwrap_or_default();
    let seconds = progress.attr("data-seconds").await?.unwrap_or_default();
    Ok((seen.parse().unwrap_or(0), seconds.parse().unwrap_or(0.0)))
}

/// The shortest window, in training seconds: two of the worker's progress messages (150 ms
/// apart), so a fast model's window is not one message's worth of batches.
const MIN_WINDOW_SECONDS: f64 = 0.3;

/// Throughput of consecutive windows of at least `window` samples and MIN_WINDOW_SECONDS
/// between progress points.
fn rates(points: &[(usize, f64)], window: usize) -> Vec<f64> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, p) in points.iter().enumerate() {
        let (s0, t0) = points[start];
        if p.0 - s0 >= window && p.1 - t0 >= MIN_WINDOW_SECONDS {
            out.push((p.0 - s0) as f64 / (p.1 - t0));
            start = i;
        }
    }
    out
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// TF.js on `backend` in the same headless Chromium, its page served from `dir` (cross-origin
/// isolated, as Kindling's): on wasm, its threaded build when `threaded` (the thread count it
/// used is printed), else its single-threaded one.
async fn tfjs(
    dir: &Path,
    w: &Workload,
    backend: &str,
    threaded: bool,
) -> Result<(Option<f64>, String)> {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let base = URL.get_or_init(|| serve_folder(dir.to_path_buf()));
    let mut page = Page::open(
        &format!("bench-tfjs-{}-{backend}-threaded-{threaded}", w.id),
        BrowserOptions::default(),
    )
    .await?;
    page.client.goto(base).await?;
    page.wait_until("TF.js", Duration::from_secs(60), |p| {
        Box::pin(async move {
            Ok(p.eval("return typeof window.kindlingBench === 'function'")
                .await?
                .as_bool()
                .unwrap_or(false))
        })
    })
    .await?;
    let script = format!(
        "window.__bench = null; window.kindlingBench('{backend}', '{}', {}, {}, {}, {}, {threaded}).then(r => window.__bench = r); return true;",
        w.id, w.warmup, w.windows, w.batches, w.budget_seconds
    );
    page.eval(&script).await?;
    let budget = Duration::from_secs_f64(w.budget_seconds + 180.0);
    page.wait_until("the TF.js bench", budget, |p| {
        Box::pin(async move { Ok(!p.eval("return window.__bench").await?.is_null()) })
    })
    .await?;
    let result: serde_json::Value = serde_json::from_str(
        page.eval("return window.__bench")
            .await?
            .as_str()
            .unwrap_or("{}"),
    )?;
    page.close().await?;
    let windows = result["windows"].as_u64().unwrap_or(0) as usize;
    let note = match result["error"].as_str() {
        Some(error) => error.to_string(),
        None if windows < w.windows => {
            format!("({windows} of {} windows in the time budget)", w.windows)
        }
        None => String::new(),
    };
    if let Some(used) = result["threads"].as_u64() {
        println!("TF.js {backend}, {}: {used} thread(s)", w.id);
    }
    Ok((result["samples_per_second"].as_f64(), note))
}

/// The preset timed to 98% MNIST: the seed's MLP with a decaying rate (98% after 3 epochs;
/// `mlp-keras`, the same model at a constant rate, needs 10).
const TIME_TO_98_PRESET: &str = "mlp-fast";

/// Time to 98% MNIST test accuracy in the playground: [`TIME_TO_98_PRESET`] on the CPU
/// device, from pressing Train (data loading included) and in training seconds, on the
/// single-threaded worker (a browser with WebGPU) and on the threaded one (a browser without,
/// the page cross-origin isolated). Writes a list of both results to
/// `$KINDLING_BENCH_TIME_OUT`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by `cargo xtask bench`"]
async fn browser_bench_time_to_98_percent_mnist() -> Result<()> {
    let out = std::env::var("KINDLING_BENCH_TIME_OUT").context("KINDLING_BENCH_TIME_OUT unset")?;
    let mut results = Vec::new();
    for threaded in [false, true] {
        let mut result = match time_to_98_percent(threaded).await {
            Ok(result) => result,
            Err(e) => serde_json::json!({ "error": format!("{e:#}") }),
        };
        result["worker"] = (if threaded { "threads" } else { "one thread" }).into();
        println!("time to 98%: {result}");
        results.push(result);
    }
    std::fs::write(out, serde_json::Value::Array(results).to_string())?;
    Ok(())
}

/// Keeps every text of the progress line with when the page showed it, and when Train was
/// pressed (`performance.now()` milliseconds): the page's own clock, not the polling's.
const WATCH_STAGES: &str = "
    window.__progressTexts = [];
    window.__pressed = null;
    const line = document.querySelector('[data-testid=\"progress\"]');
    new MutationObserver(() => window.__progressTexts.push([line.textContent, performance.now()]))
      .observe(line, { subtree: true, childList: true, characterData: true });
    document.querySelector('[data-testid=\"train\"]').addEventListener(
      'click', () => { window.__pressed = performance.now(); }, { capture: true });
";

/// When each stage of the run began, in seconds after Train was pressed, from what
/// [`WATCH_STAGES`] kept.
async fn stages(page: &Page) -> Result<Vec<(String, f64)>> {
    let watched = page
        .eval("return [window.__pressed, window.__progressTexts];")
        .await?;
    let pressed = watched[0].as_f64().context("Train's press was not seen")?;
    let mut stages: Vec<(String, f64)> = Vec::new();
    for shown in watched[1].as_array().into_iter().flatten() {
        let (Some(text), Some(at)) = (shown[0].as_str(), shown[1].as_f64()) else {
            continue;
        };
        let stage = progress_stage(text);
        if !stage.is_empty() && stages.last().is_none_or(|(last, _)| last != stage) {
            stages.push((stage.to_string(), (at - pressed) / 1000.0));
        }
    }
    Ok(stages)
}

/// The stage of a run the playground's progress line names: "downloading", "reading the
/// cache", "preparing the data", "measuring" or "training" (empty before the run starts).
fn progress_stage(text: &str) -> &'static str {
    if text.starts_with("Downloading") {
        "downloading"
    } else if text.starts_with("Reading from the cache") {
        "reading the cache"
    } else if text.starts_with("Preparing") {
        "preparing the data"
    } else if text.starts_with("Measuring") {
        "measuring"
    } else if text.contains("epoch ") {
        "training"
    } else {
        ""
    }
}

/// One measurement of [`browser_bench_time_to_98_percent_mnist`], in a fresh browser profile.
async fn time_to_98_percent(threaded: bool) -> Result<serde_json::Value> {
    let page = Page::open(
        &format!("bench-time-to-98-threads-{threaded}"),
        worker_browser(threaded),
    )
    .await?;
    let cold_load = page.first_load;
    page.select("preset", TIME_TO_98_PRESET).await?;
    page.select("device", "cpu").await?;
    page.eval(WATCH_STAGES).await?;
    let pressed = Instant::now();
    page.click("train").await?;
    let deadline = pressed + Duration::from_secs(600);
    let mut result = loop {
        if page.exists("error").await {
            bail!("{}", page.text("error").await?);
        }
        let text = page.text("progress").await.unwrap_or_default();
        let accuracies = page.epoch_accuracies().await?;
        if let Some(epoch) = accuracies.iter().position(|a| *a >= 0.98) {
            let wall = pressed.elapsed().as_secs_f64();
            let (_, seconds) = progress_figures(&page).await?;
            break serde_json::json!({
                "epoch": epoch + 1,
                "accuracy": accuracies[epoch],
                "seconds_from_train": wall,
                "training_seconds": seconds,
                "cold_load_seconds": cold_load.as_secs_f64(),
            });
        }
        if text.starts_with("Finished") || Instant::now() > deadline {
            break serde_json::json!({
                "epoch": null,
                "best": accuracies.iter().copied().fold(0.0, f64::max),
                "seconds_from_train": pressed.elapsed().as_secs_f64(),
                "cold_load_seconds": cold_load.as_secs_f64(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    result["device"] = device_used(&page).await.into();
    result["preset"] = TIME_TO_98_PRESET.into();
    result["stages"] = serde_json::json!(stages(&page).await?);
    let _ = page.click("stop").await;
    page.finish().await?;
    Ok(result)
}
