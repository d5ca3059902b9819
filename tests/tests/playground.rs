//! The playground in headless Chromium, used the way a person uses it: through its controls.
//! Run by `cargo xtask test` after it has built the app and the data (they are ignored by a
//! plain `cargo test`, which has neither).

use std::time::Duration;

use kindling_core::RunConfig;
use kindling_e2e::{mnist_test_digits, strokes_along, strokes_scaled, BrowserOptions, Page};

const NEEDS: &str = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`";

fn accuracy_of(report: Option<String>) -> f64 {
    report.and_then(|a| a.parse().ok()).unwrap_or(0.0)
}

/// Waits for the test report that follows a finished run, and returns its accuracy.
/// At a phone's width (390 x 844), with the element `selector` scrolled into view (`block`:
/// where), takes the screenshot `label` and asserts nothing on the page is wider than the
/// screen; then the window is back at 1280 x 800.
async fn assert_fits_a_phone(
    page: &Page,
    selector: &str,
    block: &str,
    label: &str,
) -> anyhow::Result<()> {
    page.resize(390, 844).await?;
    let overflow = page
        .eval_with(
            "document.querySelector(arguments[0]).scrollIntoView({ block: arguments[1] }); \
             return document.documentElement.scrollWidth - window.innerWidth;",
            vec![selector.into(), block.into()],
        )
        .await?;
    page.screenshot(label).await?;
    assert!(
        overflow.as_f64().unwrap_or(0.0) <= 1.0,
        "{label}: the page is {overflow} px wider than a 390 px screen"
    );
    page.resize(1280, 800).await
}

async fn test_accuracy(page: &mut Page) -> anyhow::Result<f64> {
    page.wait_until("the test report", Duration::from_secs(30), |p| {
        Box::pin(async move { Ok(p.exists("test-report").await) })
    })
    .await?;
    Ok(accuracy_of(
        page.attr("test-report", "data-accuracy").await?,
    ))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_page_loads_without_console_errors_at_desktop_and_phone_sizes() -> anyhow::Result<()>
{
    let _ = NEEDS;
    let page = Page::open("load-desktop", BrowserOptions::default()).await?;
    for id in [
        "dataset",
        "preset",
        "device",
        "train",
        "pause",
        "stop",
        "progress",
        "summary",
        "draw-canvas",
        "clear-canvas",
        "probabilities",
        "review-input",
    ] {
        assert!(page.exists(id).await, "no [data-testid={id}] on the page");
    }
    println!(
        "cold load to interactive (fresh profile, nothing cached): {:.2} s",
        page.first_load.as_secs_f64()
    );
    // Load to interactive again: a reload until the worker reports its device.
    let started = std::time::Instant::now();
    let mut page = page;
    page.reload().await?;
    println!(
        "load to interactive (reload, files cached by the browser): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let summary = page.text("summary").await?;
    assert!(
        summary.contains("Total params"),
        "the summary shows a Keras-like table: {summary}"
    );
    page.finish().await?;
    let phone = Page::open(
        "load-phone",
        BrowserOptions {
            size: (390, 844),
            ..Default::default()
        },
    )
    .await?;
    // Nothing is wider than the phone's screen.
    let overflow = phone
        .eval("return document.documentElement.scrollWidth - window.innerWidth;")
        .await?;
    assert!(
        overflow.as_f64().unwrap_or(0.0) <= 1.0,
        "the page scrolls sideways by {overflow} px on a phone"
    );
    phone.finish().await
}

/// Trains tinyTOY [2,30,2] as the homework did (hand-written backprop, per-example SGD) on the
/// CPU device.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_tinytoy_trains_to_95_percent_on_cpu() -> anyhow::Result<()> {
    let mut page = Page::open("tinytoy-cpu", BrowserOptions::default()).await?;
    page.select("preset", "tinytoy-hw1").await?;
    page.select("device", "cpu").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(240)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let accuracies = page.epoch_accuracies().await?;
    let last = *accuracies.last().expect("epochs ran");
    println!(
        "tinyTOY hw1 on CPU: {} epochs, test accuracy {:.2}% ({end})",
        accuracies.len(),
        last * 100.0
    );
    assert!(last >= 0.95, "tinyTOY reached only {last}");
    assert!(
        page.exists("boundary").await,
        "a 2-D set shows its decision boundary"
    );
    page.finish().await
}

/// The same network on WebGPU (SwiftShader here), with burn autodiff and mini-batches so that the
/// CPU-emulated GPU finishes in reasonable time.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_tinytoy_trains_to_95_percent_on_webgpu() -> anyhow::Result<()> {
    let mut page = Page::open("tinytoy-webgpu", BrowserOptions::default()).await?;
    let status = page.text("device-status").await?;
    assert!(
        status.contains("WebGPU"),
        "Chromium with --enable-unsafe-webgpu has an adapter: {status}"
    );
    page.select("preset", "tinytoy-hw1").await?;
    page.select("engine", "autodiff").await?;
    page.select("optimizer", "Adam").await?;
    page.set_number("learning-rate", "0.1").await?;
    page.set_number("batch-size", "100").await?;
    page.set_number("epochs", "20").await?;
    page.select("device", "wgpu").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(600)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let status = page.text("device-status").await?;
    assert!(status.contains("WebGPU"), "the run used WebGPU: {status}");
    let last = *page.epoch_accuracies().await?.last().expect("epochs ran");
    println!(
        "tinyTOY [2,30,2] Adam on WebGPU: test accuracy {:.2}% ({end})",
        last * 100.0
    );
    assert!(last >= 0.95, "tinyTOY on WebGPU reached only {last}");
    page.finish().await
}

/// A fresh profile opens the page and presses Train on the first preset (tinyTOY, per-example
/// SGD): the device is the faster one for this model, measured (the CPU here: WebGPU is a
/// CPU-emulated adapter), so it trains at CPU speed; the header gives both figures, and the
/// browser keeps them so the next run of the model is not measured again.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_the_default_device_is_the_faster_one_measured() -> anyhow::Result<()> {
    let mut page = Page::open("fastest-device", BrowserOptions::default()).await?;
    let device = page.by_id("device").await?.prop("value").await?;
    assert_eq!(
        device.as_deref(),
        Some("auto"),
        "the default: the faster device"
    );
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    let status = page.text("device-status").await?;
    println!("{status}");
    assert!(
        status.contains("last run on CPU") && status.contains("WebGPU: "),
        "the CPU, picked by both figures: {status}"
    );
    // A WebGPU adapter keeps the single-threaded worker (the threaded one has no WebGPU), and
    // the header says so.
    let threads = page.text("cpu-threads").await?;
    assert_eq!(threads, "CPU: 1 thread (keeps WebGPU)");
    let progress = page.by_id("progress").await?;
    let seen: f64 = progress
        .attr("data-samples-seen")
        .await?
        .unwrap_or_default()
        .parse()?;
    let seconds: f64 = progress
        .attr("data-seconds")
        .await?
        .unwrap_or_default()
        .parse()?;
    println!(
        "tinyTOY on the picked device: {:.0} samples/s",
        seen / seconds
    );
    assert!(
        seen / seconds > 1000.0,
        "trains at CPU speed (thousands of samples/s), not WebGPU's: {end}"
    );
    let kept = kept_device_speeds(&page).await?;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].fastest(), kindling_core::DeviceChoice::Cpu);
    // The same model again: the kept figures pick the device, nothing is measured.
    page.click("train").await?;
    let mut measured_again = false;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let text = page.text("progress").await.unwrap_or_default();
        measured_again |= text.contains("Measuring");
        if text.starts_with("Finished") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !measured_again,
        "the second run of the model was measured again"
    );
    assert!(page
        .text("device-status")
        .await?
        .contains("last run on CPU"));
    page.screenshot("picked").await?;
    page.finish().await
}

/// The MNIST MLP (784-256-10) on WebGPU (SwiftShader here: the GPU path, emulated on the CPU),
/// on a 2k subset for 2 epochs: it trains, and its throughput is printed.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_mnist_mlp_trains_on_webgpu() -> anyhow::Result<()> {
    let mut page = Page::open("mnist-webgpu", BrowserOptions::default()).await?;
    page.select("preset", "mnist-10k").await?;
    page.set_number("train-size", "2000").await?;
    page.set_number("test-size", "500").await?;
    page.set_number("batch-size", "128").await?;
    page.set_number("epochs", "2").await?;
    page.select("device", "wgpu").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(600)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let status = page.text("device-status").await?;
    assert!(status.contains("WebGPU"), "the run used WebGPU: {status}");
    let accuracy = test_accuracy(&mut page).await?;
    println!(
        "MNIST MLP 784-256-10 batch 128 on WebGPU (SwiftShader), 2k subset, 2 epochs: test accuracy {:.2}% ({end})",
        accuracy * 100.0
    );
    assert!(accuracy >= 0.8, "MNIST on WebGPU reached only {accuracy}");
    // Layer health is read on the GPU too: both dense layers, at each epoch's end.
    let health = page
        .eval(
            "return { layers: [...document.querySelectorAll('[data-testid=layer-health]')].map(l => l.dataset.layer), \
                      epochs: [...document.querySelectorAll('[data-testid=health-epoch] option')].map(o => o.textContent) };",
        )
        .await?;
    println!("layer health on WebGPU: {health}");
    assert_eq!(health["layers"], serde_json::json!(["dense_1", "dense_2"]));
    assert!(
        health["epochs"].to_string().contains("end of epoch 2"),
        "{health}"
    );
    page.finish().await
}

/// An MNIST MLP on a 10k subset, then digits drawn with the pointer along real MNIST test digits.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_mnist_mlp_trains_then_reads_drawn_digits() -> anyhow::Result<()> {
    let mut page = Page::open("mnist-draw", BrowserOptions::default()).await?;
    page.select("preset", "mnist-10k").await?;
    page.select("device", "cpu").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(300)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let accuracy = test_accuracy(&mut page).await?;
    println!(
        "MNIST 10k MLP in the browser: test accuracy {:.2}% ({end})",
        accuracy * 100.0
    );
    assert!(accuracy >= 0.95, "MNIST subset MLP reached only {accuracy}");
    assert!(page.exists("confusion-matrix").await && page.exists("mistakes").await);

    // 30 MNIST test digits drawn as strokes: filling the pad, then at half size in its
    // lower left. The pad redraws the strokes at MNIST's pen width, so both read alike.
    let digits = mnist_test_digits(30)?;
    let mut right = [0usize; 2];
    for (size, strokes_of) in [
        (
            0,
            Box::new(|p: &[u8]| strokes_along(p)) as Box<dyn Fn(&[u8]) -> _>,
        ),
        (1, Box::new(|p: &[u8]| strokes_scaled(p, 0.5, (0.05, 0.45)))),
    ] {
        for (i, (pixels, label)) in digits.iter().enumerate() {
            let (predicted, p) = read_strokes(&mut page, &strokes_of(pixels)).await?;
            println!(
                "drawn test digit {i} ({}): label {label}, read as {predicted} (p = {p:.3})",
                ["full size", "half size, off-centre"][size]
            );
            if predicted == *label as u32 {
                right[size] += 1;
            }
            if i == 0 {
                page.screenshot(["first-drawing", "first-drawing-small"][size])
                    .await?;
            }
        }
    }
    println!(
        "drawn MNIST test digits read correctly: {} of {} at full size, {} at half size off-centre",
        right[0],
        digits.len(),
        right[1]
    );
    assert!(
        right[0] * 10 >= digits.len() * 7,
        "only {} of {} drawn digits read correctly",
        right[0],
        digits.len()
    );
    assert!(
        right[0].abs_diff(right[1]) <= 2,
        "small off-centre digits read as well as large ones: {right:?}"
    );

    // After a reload the run's kept model reads drawings again (Runs -> Use).
    page.reload().await?;
    page.wait_until("the kept run", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.exists("use-model").await) })
    })
    .await?;
    page.click("use-model").await?;
    page.wait_until("the saved model in use", Duration::from_secs(20), |p| {
        Box::pin(async move { Ok(p.text("model-in-use").await?.contains("saved model")) })
    })
    .await?;
    let mut right_saved = 0;
    for (pixels, label) in digits.iter().take(10) {
        if read_drawn_digit(&mut page, pixels).await?.0 == *label as u32 {
            right_saved += 1;
        }
    }
    println!("with the kept model after a reload: {right_saved} of 10 drawn digits read correctly");
    assert!(
        right_saved >= 7,
        "the kept model read only {right_saved} of 10"
    );
    page.finish().await
}

/// A trained run's model downloads as one file that imports back (a new run in the table,
/// kept over a reload); a model file made natively (as `kindling train --weights` makes it)
/// imports too; a damaged file and another model's file are refused with a message and
/// nothing changes.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_model_files_export_and_import_and_bad_ones_are_refused() -> anyhow::Result<()> {
    let mut page = Page::open("weights", BrowserOptions::default()).await?;
    train_tinytoy(&mut page, "3").await?;
    page.wait_until("the kept weights", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.exists("export-weights").await) })
    })
    .await?;
    page.click("export-weights").await?;
    let file = page.downloaded_bytes("tinytoy-run-1.bpk").await?;
    println!("downloaded model file: {} bytes", file.len());
    let record = kindling_core::record::RunRecord::from_model_file(&file)?;
    assert_eq!(
        record.config.model,
        RunConfig::preset("tinytoy-hw1").unwrap().model
    );

    let folder = page.downloads.clone();
    let rows_before = page.run_rows().await?.len();
    // A damaged copy: refused, nothing added.
    let damaged = folder.join("damaged.bpk");
    std::fs::write(&damaged, &file[..file.len() / 2])?;
    page.upload("import-weights", &damaged).await?;
    page.wait_until("the damaged file's error", Duration::from_secs(10), |p| {
        Box::pin(async move {
            Ok(p.text("error")
                .await
                .unwrap_or_default()
                .contains("cannot be imported"))
        })
    })
    .await?;
    println!("damaged file: {}", page.text("error").await?);
    // Another model's weights under this run's record: the worker refuses them.
    let mut other = RunConfig::preset("tinytoy-hw1").unwrap();
    other.model = RunConfig::preset("spiral-mlp").unwrap().model;
    let device = kindling_core::DeviceChoice::Cpu.open()?;
    let wrong_weights = kindling_core::block_on(kindling_core::model::weights::weights_of(
        &other.model.init(&device)?,
        &other.model,
    ))?;
    let wrong = folder.join("wrong.bpk");
    std::fs::write(&wrong, record.model_file(wrong_weights)?)?;
    page.upload("import-weights", &wrong).await?;
    page.wait_until("the mismatch error", Duration::from_secs(10), |p| {
        Box::pin(async move {
            Ok(p.text("error")
                .await
                .unwrap_or_default()
                .contains("do not fit"))
        })
    })
    .await?;
    println!("another model's weights: {}", page.text("error").await?);
    assert_eq!(
        page.run_rows().await?.len(),
        rows_before,
        "nothing was added"
    );

    // The downloaded file imports back.
    let good = folder.join("tinytoy-run-1.bpk");
    page.upload("import-weights", &good).await?;
    page.wait_until("the imported run", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == rows_before + 1) })
    })
    .await?;
    assert!(page.text("notice").await?.contains("Imported"));
    assert!(page.text("model-in-use").await?.contains("saved model"));

    // A model file made natively, as the CLI makes it, imports as well.
    let mut native = record.clone();
    native.name = "native run".into();
    let mut run = kindling_core::train::TrainingRun::new(
        &native.config,
        match &native.config.dataset {
            kindling_core::DatasetConfig::Toy(toy) => toy.generate(),
            _ => unreachable!("a toy preset"),
        },
        &device,
    )?;
    for _ in 0..50 {
        kindling_core::block_on(run.step())?;
    }
    let native_file = folder.join("native.bpk");
    std::fs::write(
        &native_file,
        native.model_file(kindling_core::block_on(run.weights())?)?,
    )?;
    page.upload("import-weights", &native_file).await?;
    page.wait_until("the natively made run", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == rows_before + 2) })
    })
    .await?;

    page.reload().await?;
    page.wait_until("the kept runs", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == rows_before + 2) })
    })
    .await?;
    page.screenshot("imported").await?;
    page.finish().await
}

/// Draws strokes along an MNIST image on a cleared pad; returns the digit the page reads and
/// its probability (the answer to the last stroke).
async fn read_drawn_digit(page: &mut Page, pixels: &[u8]) -> anyhow::Result<(u32, f64)> {
    read_strokes(page, &strokes_along(pixels)).await
}

/// Draws `strokes` on a cleared pad and returns the digit read and its probability.
async fn read_strokes(page: &mut Page, strokes: &[Vec<(f64, f64)>]) -> anyhow::Result<(u32, f64)> {
    page.click("clear-canvas").await?;
    page.draw(strokes).await?;
    page.wait_until("a prediction", Duration::from_secs(20), |p| {
        Box::pin(async move {
            Ok(p.text("predicted-digit")
                .await?
                .trim()
                .parse::<u32>()
                .is_ok())
        })
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let predicted: u32 = page.text("predicted-digit").await?.trim().parse()?;
    let p: f64 = page
        .attr(&format!("digit-{predicted}"), "data-probability")
        .await?
        .unwrap_or_default()
        .parse()
        .unwrap_or(0.0);
    Ok((predicted, p))
}

/// A diverging run (SGD, learning rate 10, a linear hidden layer) is warned of by the layer
/// health panel before its loss is NaN, stops with a message, and the page still trains after
/// it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_diverging_run_stops_with_a_message_and_the_page_still_works(
) -> anyhow::Result<()> {
    let mut page = Page::open("diverge", BrowserOptions::default()).await?;
    page.select("preset", "mnist-10k").await?;
    page.select("device", "cpu").await?;
    page.client
        .find(fantoccini::Locator::Css(
            "[data-testid='layer-0'] select[title='activation']",
        ))
        .await?
        .select_by_value("Linear")
        .await?;
    page.select("optimizer", "Sgd").await?;
    page.set_number("learning-rate", "10").await?;
    page.click("train").await?;
    page.wait_for_run_end(Duration::from_secs(120)).await?;
    let error = page.text("error").await?;
    assert!(
        error.contains("diverged") && error.contains("learning rate"),
        "{error}"
    );
    // Layer health warned before the loss was NaN: its first probed step (the run's first)
    // saw the updates explode.
    let diverged_at: usize = error
        .split("batch ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("the message names the batch");
    let warned_at: usize = page
        .attr("health-first-warning", "data-step")
        .await?
        .unwrap_or_default()
        .parse()?;
    let first = page.text("health-first-warning").await?;
    println!("diverged at batch {diverged_at}; {first}");
    assert!(warned_at < diverged_at, "{first} / {error}");
    assert!(first.contains("dense_1 exploding"), "{first}");
    let notes = page
        .eval("return [...document.querySelectorAll('[data-testid=health-note]')].map(n => n.dataset.kind);")
        .await?;
    assert!(
        notes.as_array().is_some_and(|n| !n.is_empty()
            && n.iter().all(|k| ["exploding", "vanishing", "not_finite"]
                .contains(&k.as_str().unwrap_or_default()))),
        "the layers carry their notes, each of a known kind: {notes}"
    );
    page.eval("document.querySelector('[data-testid=histograms]').scrollIntoView({ block: 'start' }); return true;")
        .await?;
    page.screenshot("diverged-health").await?;
    page.eval("window.scrollTo(0, 0); return true;").await?;
    page.screenshot("diverged").await?;
    // The page goes on: a sane run trains after it.
    page.select("preset", "spiral-mlp").await?;
    page.set_number("epochs", "3").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    page.finish().await
}

/// While a run trains in the worker, the page's main thread never blocks for 50 ms or more.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_the_main_thread_stays_responsive_while_training() -> anyhow::Result<()> {
    let mut page = Page::open("responsive", BrowserOptions::default()).await?;
    page.eval(
        "window.__longTasks = []; new PerformanceObserver(list => { \
           for (const e of list.getEntries()) window.__longTasks.push(e.duration); \
         }).observe({ type: 'longtask', buffered: false }); \
         window.__frames = []; new PerformanceObserver(list => { \
           for (const e of list.getEntries()) if (e.blockingDuration > 0) window.__frames.push({ \
             duration: Math.round(e.duration), blocking: Math.round(e.blockingDuration), \
             render: Math.round(e.renderStart ? e.startTime + e.duration - e.renderStart : 0), \
             styleAndLayout: Math.round(e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0), \
             scripts: e.scripts.map(s => `${s.invokerType} ${s.invoker} ${Math.round(s.duration)} ms \
               (forced layout ${Math.round(s.forcedStyleAndLayoutDuration)} ms)`), \
             scriptDurations: e.scripts.map(s => s.duration) }); \
         }).observe({ type: 'long-animation-frame', buffered: false }); return true;",
    )
    .await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "30").await?;
    page.click("train").await?;
    page.wait_for_run_end(Duration::from_secs(180)).await?;
    let tasks = page.eval("return window.__longTasks;").await?;
    let longest = tasks
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).fold(0.0, f64::max))
        .unwrap_or(0.0);
    println!("long main-thread tasks while training: {tasks} (longest {longest:.0} ms)");
    // Which callbacks made the frames that blocked (Chromium's long-animation-frame entries).
    let frames = page.eval("return window.__frames;").await?;
    if longest > 0.0 {
        println!("blocking frames: {frames}");
    }
    for (_, text) in page.console_messages().await? {
        if text.contains(" took ") {
            println!("{text}");
        }
    }
    // The target is no task over 50 ms; the figures are printed, and a bench records them
    // (BENCHMARKS.md). On this 2-core machine the worker, Chromium's GPU process and the test
    // harness share the cores, and a task of 24-42 ms of script was seen to take 81-135 ms
    // with no layout or rendering in it (preempted), so what is asserted is what a fault of the
    // page's own would break: each script (the long-animation-frame attribution) under 100 ms
    // (plotters measuring each label through a page layout made 60 ms chart scripts), at most
    // 3 tasks over 50 ms and none over 500 ms (the ctor re-run bug gave dozens of 100-400 ms
    // tasks; a CI run saw one task of 187 ms holding 18 ms of script).
    let long: Vec<f64> = tasks
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default();
    let longest_script = page
        .eval("return Math.max(0, ...window.__frames.flatMap(f => f.scriptDurations));")
        .await?
        .as_f64()
        .unwrap_or(0.0);
    println!("longest script: {longest_script:.0} ms");
    assert!(
        long.len() <= 3 && longest < 500.0 && longest_script < 100.0,
        "main-thread tasks over 50 ms: {tasks}; blocking frames: {frames}"
    );
    page.finish().await
}

/// The device figures the page keeps in `localStorage`, one entry per model shape.
async fn kept_device_speeds(
    page: &Page,
) -> anyhow::Result<Vec<kindling_core::train::DeviceSpeeds>> {
    let kept = page
        .eval("return localStorage.getItem('kindling.device-speeds.v1')")
        .await?;
    Ok(serde_json::from_str(kept.as_str().unwrap_or("[]"))?)
}

/// Without WebGPU, in a cross-origin-isolated page, the page runs the worker's threaded
/// build: the header says so and why, and an MNIST run (its data fetched from the site's
/// data folder) takes turns on one thread and on every thread, goes on with the faster and
/// says so with the figures, which the page keeps for the next run of the model.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_without_webgpu_the_page_says_so_and_uses_the_cpu() -> anyhow::Result<()> {
    let mut page = Page::open(
        "no-webgpu",
        BrowserOptions {
            webgpu: false,
            ..Default::default()
        },
    )
    .await?;
    let status = page.text("device-status").await?;
    assert!(status.contains("no WebGPU"), "{status}");
    let cores = page
        .eval("return navigator.hardwareConcurrency")
        .await?
        .as_u64()
        .unwrap_or(1)
        .min(8);
    let threads = page.text("cpu-threads").await?;
    println!("{threads}: {:?}", page.attr("cpu-threads", "title").await?);
    if cores > 1 {
        assert_eq!(
            threads,
            format!("CPU: {cores} threads (cross-origin isolated)")
        );
    }
    // MNIST: the threaded worker (served from the site's threads/ folder) fetches the
    // site's data/ folder.
    page.select("preset", "mnist-10k").await?;
    // Long enough for the run's four turns (a second of training at least).
    page.set_number("train-size", "4000").await?;
    page.set_number("test-size", "500").await?;
    page.set_number("epochs", "3").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(300)).await?;
    let error = page.text("error").await.unwrap_or_default();
    assert!(end.starts_with("Finished"), "{end} {error}");
    let accuracy = test_accuracy(&mut page).await?;
    assert!(
        accuracy >= 0.8,
        "MNIST on the threaded CPU reached only {accuracy}"
    );
    let status = page.text("device-status").await?;
    println!("{status}; MNIST 2k subset, 2 epochs: test accuracy {accuracy:.4}");
    let threads_used = if cores > 1 {
        // Tried on one thread and on the pool: the run trains on the faster, named first in
        // the figures ("CPU, 2 threads: 1,234 samples/s · CPU, 1 thread: 987"), and the
        // figures are kept.
        let figures = status
            .split_once("the faster for its model (")
            .map(|(_, figures)| figures)
            .unwrap_or_default();
        assert!(
            figures.contains("CPU, 1 thread: ")
                && figures.contains(&format!("CPU, {cores} threads: ")),
            "{status}"
        );
        let kept = kept_device_speeds(&page).await?;
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0].speeds.len(), 2, "{kept:?}");
        let fastest = figures.split(':').next().unwrap_or_default();
        fastest.trim_start_matches("CPU, ").to_string()
    } else {
        "1 thread".into()
    };
    assert!(
        status.contains(&format!("last run on CPU (wasm SIMD), {threads_used}")),
        "{status}"
    );
    page.finish().await
}

/// A host that sends no cross-origin isolation headers gives the page no shared memory: the
/// worker trains on one thread, and the header says why.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_page_that_is_not_isolated_trains_on_one_thread_and_says_why(
) -> anyhow::Result<()> {
    let mut page = Page::open(
        "not-isolated",
        BrowserOptions {
            webgpu: false,
            isolated: false,
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(
        page.text("cpu-threads").await?,
        "CPU: 1 thread (not cross-origin isolated)"
    );
    let title = page.attr("cpu-threads", "title").await?.unwrap_or_default();
    assert!(title.contains("Cross-Origin-Embedder-Policy"), "{title}");
    page.select("preset", "spiral-mlp").await?;
    page.set_number("epochs", "1").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let status = page.text("device-status").await?;
    assert!(
        status.contains("last run on CPU (wasm SIMD), 1 thread"),
        "{status}"
    );
    page.finish().await
}

/// An IMDB GRU on a subset trains, then the review box answers as you type, word by word:
/// a token per word (the last value the verdict shown, the unknown word marked), a heat-map
/// column per word that names its word, and a test review clicked in the mistakes is read.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_an_imdb_model_trains_and_answers_the_review_box() -> anyhow::Result<()> {
    let mut page = Page::open("imdb", BrowserOptions::default()).await?;
    page.select("preset", "imdb-small").await?;
    page.select("device", "cpu").await?;
    page.set_number("train-size", "2000").await?;
    page.set_number("test-size", "1000").await?;
    page.set_number("epochs", "2").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(600)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let accuracy = test_accuracy(&mut page).await?;
    println!(
        "IMDB GRU(32), 2k reviews, 2 epochs: test accuracy {:.2}% ({end})",
        accuracy * 100.0
    );
    page.by_id("review-input")
        .await?
        .send_keys("A wonderful, moving film with brilliant acting. I loved it. Zorblaxian!")
        .await?;
    page.wait_until("the sentiment", Duration::from_secs(30), |p| {
        Box::pin(async move { Ok(p.text("sentiment").await?.contains("positive")) })
    })
    .await?;
    let sentiment = page.text("sentiment").await?;
    println!("review box: {sentiment}");
    assert!(
        sentiment.contains("zorblaxian"),
        "unknown words are listed: {sentiment}"
    );
    // Words that move the verdict: a token per word, the last value the verdict shown, the
    // unknown word marked, and a heat-map column per word.
    page.wait_until("the word trace", Duration::from_secs(30), |p| {
        Box::pin(
            async move { Ok(p.attr("token-trace", "data-words").await?.as_deref() == Some("11")) },
        )
    })
    .await?;
    let trace = page
        .eval(
            "const tokens = [...document.querySelectorAll('[data-testid=token]')]; \
             const states = document.querySelector('[data-testid=hidden-state]'); \
             return { words: tokens.map(t => t.textContent), \
                      deltas: tokens.map(t => Number(t.dataset.delta)), \
                      unknown: tokens.filter(t => t.classList.contains('unknown')).map(t => t.textContent), \
                      last: document.querySelector('[data-testid=token-trace]').dataset.last, \
                      shown: document.querySelector('[data-testid=sentiment]').dataset.positive, \
                      columns: states.width, rows: states.height, \
                      stateWords: states.dataset.words };",
        )
        .await?;
    println!("word trace: {trace}");
    assert_eq!(
        trace["words"],
        serde_json::json!([
            "a",
            "wonderful",
            "moving",
            "film",
            "with",
            "brilliant",
            "acting",
            "i",
            "loved",
            "it",
            "zorblaxian"
        ])
    );
    assert_eq!(trace["unknown"], serde_json::json!(["zorblaxian"]));
    assert_eq!(
        trace["last"], trace["shown"],
        "the trace ends at the verdict shown"
    );
    assert_eq!(trace["columns"], 11, "one heat-map column per word");
    assert_eq!(trace["rows"], 32, "one row per GRU unit");
    assert_eq!(trace["stateWords"], "11");
    let moved = trace["deltas"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter(|v| v.as_f64().unwrap_or(0.0).abs() > 1e-4)
                .count()
        })
        .unwrap_or(0);
    assert!(moved > 5, "most words move the verdict: {trace}");
    // Pointing at the fourth column names its word.
    page.eval(
        "const c = document.querySelector('[data-testid=hidden-state]'); c.scrollIntoView(); \
         const r = c.getBoundingClientRect(); \
         c.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + 3 * (r.width / 11) + 3, clientY: r.top + 3, bubbles: true })); \
         return true;",
    )
    .await?;
    page.wait_until("the pointed word", Duration::from_secs(5), |p| {
        Box::pin(async move {
            Ok(p.text("hidden-word")
                .await?
                .contains("“film” (word 4 of 11)"))
        })
    })
    .await?;
    page.eval(
        "document.querySelector('.word-trace').scrollIntoView({ block: 'start' }); return true;",
    )
    .await?;
    page.screenshot("word-trace").await?;
    // On a phone's width the trace wraps: nothing is wider than the screen.
    assert_fits_a_phone(&page, ".word-trace", "start", "word-trace-phone").await?;
    // A test review of the mistakes gallery, clicked, is read in the box word by word.
    let clicked = page
        .eval(
            "const all = [...document.querySelectorAll('[data-testid=read-review]')]; \
             const b = all[all.length - 1]; b.click(); return b.textContent.replace('…', '');",
        )
        .await?;
    let clicked = clicked.as_str().unwrap_or_default().to_string();
    page.wait_until("the clicked review", Duration::from_secs(30), |p| {
        let clicked = clicked.clone();
        Box::pin(async move {
            let value = p
                .by_id("review-input")
                .await?
                .prop("value")
                .await?
                .unwrap_or_default();
            let words: usize = p
                .attr("token-trace", "data-words")
                .await?
                .unwrap_or_default()
                .parse()
                .unwrap_or(0);
            Ok(value.starts_with(&clicked) && words > 11)
        })
    })
    .await?;
    page.finish().await
}

/// Trains tinyTOY (hand-written backprop, CPU) with `seed` and waits for the end.
async fn train_tinytoy(page: &mut Page, seed: &str) -> anyhow::Result<()> {
    page.select("preset", "tinytoy-hw1").await?;
    page.select("device", "cpu").await?;
    page.set_number("seed", seed).await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    Ok(())
}

/// Presses a kept run's Share (`row`: its row in the runs table) and reads the link.
async fn share_link(page: &Page, row: &fantoccini::elements::Element) -> anyhow::Result<String> {
    row.find(fantoccini::Locator::Css("[data-testid='share']"))
        .await?
        .click()
        .await?;
    Ok(page
        .by_id("share-link")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// Two runs survive a reload, overlay with a diff of what changed, and one shared as a link
/// opens in a fresh profile with the same accuracy; Reproduce retrains it to the same curve.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_runs_persist_overlay_share_and_reproduce() -> anyhow::Result<()> {
    let mut page = Page::open("runs", BrowserOptions::default()).await?;
    train_tinytoy(&mut page, "1").await?;
    train_tinytoy(&mut page, "2").await?;
    page.reload().await?;
    page.wait_until("the stored runs", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == 2) })
    })
    .await?;
    for row in page.run_rows().await? {
        assert_eq!(row.attr("data-status").await?.as_deref(), Some("finished"));
        row.find(fantoccini::Locator::Css("input[type='checkbox']"))
            .await?
            .click()
            .await?;
    }
    let diff = page.text("config-diff").await?;
    assert!(
        diff.contains("training.seed"),
        "the diff names the seed: {diff}"
    );
    assert!(page.exists("overlay-chart").await);
    page.screenshot("overlay").await?;

    // Share the first run (the table lists the newest first).
    let rows = page.run_rows().await?;
    let first = rows.last().expect("two rows");
    let accuracy = first
        .find(fantoccini::Locator::Css("[data-testid='run-accuracy']"))
        .await?
        .text()
        .await?;
    let link = share_link(&page, first).await?;
    println!("share link: {} characters", link.len());
    assert!(link.contains("#run=k1.") && link.len() < 2000, "{link}");
    page.finish().await?;

    let mut fresh = Page::open("shared", BrowserOptions::default()).await?;
    fresh.goto(&link).await?;
    fresh
        .wait_until("the shared run", Duration::from_secs(10), |p| {
            Box::pin(async move { Ok(p.run_rows().await?.len() == 1) })
        })
        .await?;
    let shown = fresh.text("run-accuracy").await?;
    assert_eq!(
        shown, accuracy,
        "the shared run shows the recorded accuracy"
    );
    fresh.click("reproduce").await?;
    fresh
        .wait_until("the reproduction", Duration::from_secs(120), |p| {
            Box::pin(async move { Ok(p.exists("reproduce-result").await) })
        })
        .await?;
    let text = fresh.text("reproduce-result").await?;
    println!("{text}");
    let acc_diff: f64 = fresh
        .attr("reproduce-result", "data-accuracy-difference")
        .await?
        .unwrap_or_default()
        .parse()?;
    let loss_diff: f64 = fresh
        .attr("reproduce-result", "data-loss-difference")
        .await?
        .unwrap_or_default()
        .parse()?;
    assert!(
        acc_diff < 1e-9,
        "same device, same seed: the same accuracy ({text})"
    );
    assert!(
        loss_diff < 1e-3,
        "the curve matches within the link's rounding ({text})"
    );
    fresh.finish().await
}

/// A tampered link shows what is wrong and leaves the stored runs as they were.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_tampered_link_shows_an_error_and_changes_nothing() -> anyhow::Result<()> {
    let profile = std::env::temp_dir().join(format!("kindling-e2e-tamper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let options = BrowserOptions {
        profile: Some(profile.clone()),
        ..Default::default()
    };
    let mut page = Page::open("tampered", options).await?;
    train_tinytoy(&mut page, "3").await?;
    let rows = page.run_rows().await?.len();
    let base = kindling_e2e::serve_dist();
    page.goto(&format!("{base}#run=k1.AAAAthis-is-not-a-run"))
        .await?;
    let error = page.text("error").await?;
    println!("tampered link: {error}");
    assert!(
        error.contains("damaged") && error.contains("unchanged"),
        "{error}"
    );
    page.wait_until("the stored runs", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == rows) })
    })
    .await?;
    page.goto(&format!("{base}#run=k7.abc")).await?;
    let error = page.text("error").await?;
    assert!(error.contains("version"), "{error}");
    let result = page.finish().await;
    let _ = std::fs::remove_dir_all(&profile);
    result
}

/// A 3-point learning-rate sweep on tinyTOY trains its runs one after another and exports a CSV
/// with one row per run.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_learning_rate_sweep_runs_and_exports_csv() -> anyhow::Result<()> {
    let mut page = Page::open("sweep", BrowserOptions::default()).await?;
    page.select("preset", "tinytoy-hw1").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "10").await?;
    page.set_number("sweep-values", "0.5, 0.25, 0.05").await?;
    let label = page.text("run-sweep").await?;
    assert!(label.contains("3 runs"), "{label}");
    page.click("run-sweep").await?;
    page.wait_until("the sweep to finish", Duration::from_secs(180), |p| {
        Box::pin(async move {
            let rows = p
                .client
                .find_all(fantoccini::Locator::Css(
                    "[data-testid='sweep-row'][data-status='finished']",
                ))
                .await?;
            Ok(rows.len() == 3)
        })
    })
    .await?;
    page.screenshot("sweep").await?;
    page.click("export-csv").await?;
    let csv = page.downloaded("kindling-sweep.csv").await?;
    println!("sweep CSV:\n{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "a header and 3 rows: {csv}");
    assert!(lines[0].starts_with("learning_rate,status,"));
    assert!(lines[1].starts_with("0.5,finished,"));
    assert_eq!(page.run_rows().await?.len(), 3, "every sweep run is kept");
    page.finish().await
}

/// The user's own data: a CSV with a bad cell is refused with its line and column and nothing
/// changes; a good 2-D CSV loads, trains and shows its decision boundary; MNIST-style idx files
/// (images and labels) load as images and train.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_uploaded_csv_and_idx_data_train_and_bad_files_say_where() -> anyhow::Result<()> {
    let mut page = Page::open("upload", BrowserOptions::default()).await?;
    let folder = page.downloads.clone();
    page.select("preset", "tinytoy-hw1").await?;
    page.select("device", "cpu").await?;

    let bad = folder.join("bad.csv");
    std::fs::write(&bad, "x,y,side\n0.5,1.0,left\n0.25,abc,right\n")?;
    page.upload("upload-data", &bad).await?;
    page.wait_until("the CSV error", Duration::from_secs(10), |p| {
        Box::pin(async move {
            Ok(p.text("error")
                .await
                .unwrap_or_default()
                .contains("Nothing was changed"))
        })
    })
    .await?;
    let error = page.text("error").await?;
    println!("bad CSV: {error}");
    assert!(
        error.contains("bad.csv") && error.contains("line 3, column 2 (y)"),
        "{error}"
    );
    assert_eq!(
        page.by_id("dataset").await?.prop("value").await?.as_deref(),
        Some("tinytoy")
    );

    // Two separated blobs, labelled by name.
    let mut text = String::from("x,y,side\n");
    for i in 0..400 {
        let t = i as f64 * 0.618;
        let (cx, label) = if i % 2 == 0 {
            (-1.5, "left")
        } else {
            (1.5, "right")
        };
        text += &format!(
            "{:.4},{:.4},{label}\n",
            cx + 0.6 * t.sin(),
            0.8 * (t * 1.7).cos()
        );
    }
    let good = folder.join("blobs.csv");
    std::fs::write(&good, text)?;
    page.upload("upload-data", &good).await?;
    page.wait_until("the uploaded data", Duration::from_secs(10), |p| {
        Box::pin(async move {
            Ok(p.text("upload-summary")
                .await
                .unwrap_or_default()
                .contains("400 examples"))
        })
    })
    .await?;
    println!("{}", page.text("upload-summary").await?);
    assert_eq!(
        page.by_id("dataset").await?.prop("value").await?.as_deref(),
        Some("upload")
    );
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let accuracy = test_accuracy(&mut page).await?;
    println!("uploaded 2-D CSV: test accuracy {:.2}%", accuracy * 100.0);
    assert!(accuracy >= 0.9, "separated blobs reached only {accuracy}");
    assert!(
        page.exists("boundary").await,
        "a 2-D, two-class upload shows its boundary"
    );
    page.screenshot("csv").await?;

    // MNIST-style idx: 300 test digits as an images file and a labels file.
    let digits = mnist_test_digits(300)?;
    let pixels: Vec<u8> = digits.iter().flat_map(|(p, _)| p.clone()).collect();
    let labels: Vec<u8> = digits.iter().map(|(_, l)| *l).collect();
    let images_path = folder.join("digits-images.idx3-ubyte");
    let labels_path = folder.join("digits-labels.idx1-ubyte");
    std::fs::write(
        &images_path,
        kindling_core::data::idx::encode_idx(&[300, 28, 28], &pixels),
    )?;
    std::fs::write(
        &labels_path,
        kindling_core::data::idx::encode_idx(&[300], &labels),
    )?;
    page.by_id("upload-data")
        .await?
        .send_keys(&format!(
            "{}\n{}",
            labels_path.display(),
            images_path.display()
        ))
        .await?;
    page.wait_until("the uploaded images", Duration::from_secs(10), |p| {
        Box::pin(async move {
            Ok(p.text("upload-summary")
                .await
                .unwrap_or_default()
                .contains("28x28 images"))
        })
    })
    .await?;
    println!("{}", page.text("upload-summary").await?);
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(180)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    let accuracy = test_accuracy(&mut page).await?;
    println!(
        "uploaded idx digits (240 train / 60 test): test accuracy {:.2}%",
        accuracy * 100.0
    );
    assert!(accuracy > 0.3, "the digits trained to only {accuracy}");
    page.screenshot("idx").await?;
    // One of the uploaded images, clicked, is read by the run's model layer by layer.
    page.eval(
        "document.querySelector('[data-testid=data-preview]').open = true; \
         document.querySelector('[data-testid=data-preview] [data-testid=open-layers]').click(); return true;",
    )
    .await?;
    page.wait_until(
        "the uploaded image's layers",
        Duration::from_secs(20),
        |p| {
            Box::pin(
                async move { Ok(p.exists("layer-view").await && p.exists("layer-bars").await) },
            )
        },
    )
    .await?;
    page.finish().await
}

/// The worker's memory as the data preview reports it, in bytes.
async fn worker_memory(page: &Page) -> anyhow::Result<f64> {
    Ok(page
        .attr("data-preview", "data-memory-bytes")
        .await?
        .unwrap_or_default()
        .parse::<f64>()
        .unwrap_or(0.0))
}

/// Full MNIST (60,000 + 10,000 images, kept as bytes) costs the worker less than 100 MB of
/// WebAssembly memory beyond what a toy run needs.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_full_mnist_costs_under_100_mb_of_worker_memory() -> anyhow::Result<()> {
    let mut page = Page::open("memory", BrowserOptions::default()).await?;
    train_tinytoy(&mut page, "1").await?;
    let toy = worker_memory(&page).await?;
    page.select("preset", "mnist-10k").await?;
    page.set_number("train-size", "60000").await?;
    page.set_number("test-size", "10000").await?;
    page.click("train").await?;
    page.wait_until("full MNIST loaded", Duration::from_secs(120), |p| {
        Box::pin(async move {
            Ok(p.text("data-preview")
                .await
                .unwrap_or_default()
                .contains("60,000 train"))
        })
    })
    .await?;
    let full = worker_memory(&page).await?;
    page.click("stop").await?;
    let mb = |b: f64| b / 1_048_576.0;
    println!(
        "worker memory: {:.0} MB after a toy run, {:.0} MB with full MNIST loaded: the data costs {:.0} MB",
        mb(toy),
        mb(full),
        mb(full - toy)
    );
    assert!(toy > 0.0 && full > toy, "memory figures: {toy} then {full}");
    assert!(
        mb(full - toy) < 100.0,
        "full MNIST costs {:.0} MB",
        mb(full - toy)
    );
    page.finish().await
}

/// The page runs under its Content-Security-Policy (a meta tag: only its own origin, and
/// WebAssembly), with no inline script, and trains without a violation; the About panel lists
/// every limit.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_the_page_runs_under_its_content_security_policy() -> anyhow::Result<()> {
    let mut page = Page::open("csp", BrowserOptions::default()).await?;
    page.eval(
        "window.__violations = []; document.addEventListener('securitypolicyviolation', \
         e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); return true;",
    )
    .await?;
    let policy = page
        .eval(
            "const m = document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]'); \
             return m ? m.content : null;",
        )
        .await?;
    let policy = policy.as_str().unwrap_or_default().to_string();
    println!("policy: {policy}");
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'")
            && policy.contains("default-src 'self'"),
        "{policy}"
    );
    let inline = page
        .eval("return document.querySelectorAll('script:not([src])').length;")
        .await?;
    assert_eq!(inline.as_u64(), Some(0), "inline scripts");
    train_tinytoy(&mut page, "5").await?;
    let violations = page.eval("return window.__violations;").await?;
    assert_eq!(violations, serde_json::json!([]), "CSP violations");

    page.eval("document.querySelector('details.about').open = true; return true;")
        .await?;
    let limits = page.text("limits").await?;
    println!("{limits}");
    for value in ["2.15 GB", "200 MB", "1,000,000", "16,384"] {
        assert!(limits.contains(value), "the limits list {value}: {limits}");
    }
    let rows = page
        .client
        .find_all(fantoccini::Locator::Css("[data-testid='limits'] tbody tr"))
        .await?;
    assert_eq!(rows.len(), kindling_core::limits::limits().len());
    page.screenshot("limits").await?;
    page.finish().await
}

/// The run row's stored epochs: their count and their numbers in order.
async fn stored_epochs(page: &Page) -> anyhow::Result<(String, Vec<usize>)> {
    // Read in one script: a training run's row is replaced as its epochs are saved, so an
    // element found first could be gone by the second read.
    let row = page
        .eval(
            "const r = document.querySelector('[data-testid=run-row]'); \
             return r ? [r.dataset.status || '', r.dataset.epochList || ''] : ['', ''];",
        )
        .await?;
    let status = row[0].as_str().unwrap_or_default().to_string();
    let list = row[1].as_str().unwrap_or_default().to_string();
    let epochs = list
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    Ok((status, epochs))
}

/// The status of every run in the page's IndexedDB store, as JSON (what a reload shows).
async fn statuses_in_store(page: &Page) -> anyhow::Result<Vec<String>> {
    let statuses = page
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             const opening = indexedDB.open('kindling'); \
             opening.onerror = () => done(null); \
             opening.onsuccess = () => { \
               const db = opening.result; \
               const all = db.transaction('runs', 'readonly').objectStore('runs').getAll(); \
               all.onerror = () => { db.close(); done(null); }; \
               all.onsuccess = () => { \
                 db.close(); \
                 done(all.result.map(text => JSON.stringify(JSON.parse(text).status))); \
               }; \
             };",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(statuses).unwrap_or_default())
}

/// tinyTOY's hand-written run at 400 epochs (about 20 s on the CPU), started.
async fn start_long_tinytoy(page: &mut Page) -> anyhow::Result<()> {
    page.select("preset", "tinytoy-hw1").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "400").await?;
    page.click("train").await?;
    Ok(())
}

/// Epochs shown in the epoch table so far.
async fn epochs_shown(page: &Page) -> anyhow::Result<usize> {
    Ok(page.epoch_accuracies().await?.len())
}

/// A reload mid-training keeps every epoch completed before it, in order (not only those a
/// checkpoint caught), and the run shows as interrupted.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_reload_mid_training_keeps_every_completed_epoch() -> anyhow::Result<()> {
    let mut page = Page::open("reload", BrowserOptions::default()).await?;
    start_long_tinytoy(&mut page).await?;
    page.wait_until("three epochs", Duration::from_secs(60), |p| {
        Box::pin(async move { Ok(epochs_shown(p).await? >= 3) })
    })
    .await?;
    let shown = epochs_shown(&page).await?;
    page.reload().await?;
    page.wait_until("the stored run", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == 1) })
    })
    .await?;
    let (status, epochs) = stored_epochs(&page).await?;
    println!(
        "shown before the reload: {shown}; kept: {} ({status})",
        epochs.len()
    );
    assert_eq!(status, "interrupted");
    assert!(
        epochs.len() >= shown,
        "{} of {shown} epochs kept",
        epochs.len()
    );
    assert_eq!(epochs, (1..=epochs.len()).collect::<Vec<_>>(), "in order");
    page.finish().await
}

/// Two tabs: one trains, a second opens (it sees the run training, not interrupted) and
/// closes; the run finishes with every epoch, and a reload shows it so.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_second_tab_opened_and_closed_loses_nothing() -> anyhow::Result<()> {
    let mut page = Page::open("two-tabs", BrowserOptions::default()).await?;
    start_long_tinytoy(&mut page).await?;
    page.wait_until("the first epochs", Duration::from_secs(60), |p| {
        Box::pin(async move { Ok(epochs_shown(p).await? >= 2) })
    })
    .await?;
    let first = page.client.window().await?;
    let second = page.client.new_window(true).await?;
    page.client.switch_to_window(second.handle.clone()).await?;
    page.client.goto(kindling_e2e::serve_dist()).await?;
    page.wait_for_ready().await?;
    page.wait_until("the run in the second tab", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == 1) })
    })
    .await?;
    let (status, _) = stored_epochs(&page).await?;
    println!("the second tab sees the run as {status}");
    assert_eq!(status, "training", "a live run is not interrupted");
    page.screenshot("second-tab").await?;
    page.client.close_window().await?;
    page.client.switch_to_window(first).await?;
    let end = page.wait_for_run_end(Duration::from_secs(180)).await?;
    assert!(end.starts_with("Finished"), "{end}");
    page.wait_until(
        "the finished run in the table",
        Duration::from_secs(10),
        |p| Box::pin(async move { Ok(stored_epochs(p).await?.0 == "finished") }),
    )
    .await?;
    // The table shows a run's end at once; the store takes it after the write in flight (a
    // run's waiting writes join into one: app/src/write_queue.rs). A reload before it lands
    // would show the run cut off, so wait for the store itself.
    let shown = std::time::Instant::now();
    page.wait_until(
        "the finished run in the store",
        Duration::from_secs(60),
        |p| Box::pin(async move { Ok(statuses_in_store(p).await? == ["\"Finished\""]) }),
    )
    .await?;
    println!(
        "the store had the run's end {:.1} s after the table showed it",
        shown.elapsed().as_secs_f64()
    );
    page.reload().await?;
    page.wait_until("the stored run", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == 1) })
    })
    .await?;
    let (status, epochs) = stored_epochs(&page).await?;
    assert_eq!(status, "finished");
    assert_eq!(epochs, (1..=400).collect::<Vec<_>>());
    page.finish().await
}

/// Hostile uploads are refused with their limit, before anything is read whole: a file larger
/// than an upload may be (by its size), a gzip bomb (idx images inflating past 200 MB), a CSV
/// of 1,001 classes.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_hostile_uploads_are_refused_with_their_limit() -> anyhow::Result<()> {
    use std::io::Write;
    let mut page = Page::open("hostile-uploads", BrowserOptions::default()).await?;
    let folder = page.downloads.clone();
    page.select("preset", "tinytoy-hw1").await?;

    async fn refusal(page: &mut Page) -> anyhow::Result<String> {
        page.wait_until("the refusal", Duration::from_secs(30), |p| {
            Box::pin(async move { Ok(p.exists("error").await) })
        })
        .await?;
        let error = page.text("error").await?;
        page.eval(
            "document.querySelector('[data-testid=\"error\"] button')?.click(); return true;",
        )
        .await?;
        Ok(error)
    }

    // 300 MB that the page must not read: a sparse file, refused by its size.
    let huge = folder.join("huge.csv");
    std::fs::File::create(&huge)?.set_len(300 * 1024 * 1024)?;
    page.upload("upload-data", &huge).await?;
    let error = refusal(&mut page).await?;
    println!("huge file: {error}");
    assert!(
        error.contains("huge.csv") && error.contains("200 MB"),
        "{error}"
    );
    std::fs::remove_file(&huge)?;

    // A gzip bomb: 300,000 blank 28x28 images (235 MB) in a few hundred KB.
    let images = folder.join("bomb-images.idx3-ubyte.gz");
    let mut gz =
        flate2::write::GzEncoder::new(std::fs::File::create(&images)?, flate2::Compression::best());
    gz.write_all(&[0, 0, 8, 3])?;
    for d in [300_000u32, 28, 28] {
        gz.write_all(&d.to_be_bytes())?;
    }
    let zeros = vec![0u8; 784 * 1000];
    for _ in 0..300 {
        gz.write_all(&zeros)?;
    }
    gz.finish()?;
    let labels = folder.join("bomb-labels.idx1-ubyte");
    let mut label_bytes = vec![0, 0, 8, 1];
    label_bytes.extend(300_000u32.to_be_bytes());
    label_bytes.extend(std::iter::repeat_n(0u8, 300_000));
    std::fs::write(&labels, label_bytes)?;
    println!("gzip bomb: {} bytes", std::fs::metadata(&images)?.len());
    page.by_id("upload-data")
        .await?
        .send_keys(&format!("{}\n{}", images.display(), labels.display()))
        .await?;
    let error = refusal(&mut page).await?;
    println!("gzip bomb: {error}");
    assert!(
        error.contains("inflates to more than") && error.contains("MB"),
        "{error}"
    );

    // 1,001 classes, one row each.
    let mut text = String::from("x,y,label\n");
    for i in 0..1001 {
        text += &format!("{},{},class-{i}\n", i % 7, i % 11);
    }
    let many = folder.join("many-classes.csv");
    std::fs::write(&many, text)?;
    page.upload("upload-data", &many).await?;
    let error = refusal(&mut page).await?;
    println!("many classes: {error}");
    assert!(
        error.contains("many-classes.csv") && error.contains("1000"),
        "{error}"
    );
    assert_eq!(
        page.by_id("dataset").await?.prop("value").await?.as_deref(),
        Some("tinytoy"),
        "nothing was loaded"
    );
    page.finish().await
}

/// "Run natively" gives the command that trains the run in a clone of Kindling: its quoted
/// link carries the run's config and seed, it writes the run's model file and exports it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_run_natively_gives_the_cli_command_of_the_run() -> anyhow::Result<()> {
    let mut page = Page::open("run-natively", BrowserOptions::default()).await?;
    train_tinytoy(&mut page, "7").await?;
    page.click("run-natively").await?;
    let command = page
        .by_id("native-command")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    println!("{command}");
    let prefix = "cargo run --release -p kindling-cli -- train --link '";
    assert!(command.starts_with(prefix), "{command}");
    let end = command.rfind('\'').expect("a quoted link");
    let run = kindling_core::link::decode_link(&command[prefix.len()..end])?;
    assert_eq!(run.config.training.seed, 7);
    assert_eq!(run.config.dataset.name(), "tinyTOY");
    assert!(command[end..].starts_with("' --weights "), "{command}");
    // Then the export of the trained model for PyTorch and Keras.
    let (_, export) = command[end..]
        .split_once(" && ")
        .expect("the export after the training");
    assert!(
        export.starts_with("cargo run --release -p kindling-cli -- export --weights ")
            && export.contains(".bpk --out "),
        "{command}"
    );
    page.screenshot("command").await?;
    page.finish().await
}

/// The files in a downloaded zip, by name.
fn unzip(bytes: Vec<u8>) -> anyhow::Result<std::collections::BTreeMap<String, Vec<u8>>> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents)?;
        files.insert(entry.name()?.into_owned(), contents);
    }
    Ok(files)
}

/// Whether two safetensors files hold the same tensors (their headers' metadata may come in
/// another order).
fn same_tensors(a: &[u8], b: &[u8]) -> anyhow::Result<bool> {
    let (a, b) = (
        safetensors::SafeTensors::deserialize(a)?,
        safetensors::SafeTensors::deserialize(b)?,
    );
    let mut names = a.names();
    names.sort();
    let mut other = b.names();
    other.sort();
    if names != other {
        return Ok(false);
    }
    for name in names {
        let (x, y) = (a.tensor(name)?, b.tensor(name)?);
        if x.shape() != y.shape() || x.dtype() != y.dtype() || x.data() != y.data() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Opens a run's export menu and downloads one of its exports.
async fn export(page: &Page, testid: &str, file: &str) -> anyhow::Result<Vec<u8>> {
    page.click("export-menu").await?;
    page.click(testid).await?;
    page.downloaded_bytes(file).await
}

/// A run's exports from the runs table: PyTorch and Keras zips (script, weights, data file)
/// and the bare safetensors, whose weights are the run's own (the same outputs as its model
/// file); a run on MNIST files names its examples' positions, a toy run carries its examples.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_run_exports_to_pytorch_keras_and_safetensors() -> anyhow::Result<()> {
    use kindling_core::export::model_from_safetensors;
    use kindling_core::model::SavedModel;

    let mut page = Page::open("exports", BrowserOptions::default()).await?;
    train_tinytoy(&mut page, "5").await?;
    page.wait_until("the kept weights", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.exists("export-menu").await) })
    })
    .await?;
    page.click("export-weights").await?;
    let model_file = page.downloaded_bytes("tinytoy-run-1.bpk").await?;
    let record = kindling_core::record::RunRecord::from_model_file(&model_file)?;

    let pytorch = unzip(export(&page, "export-pytorch", "tinytoy-run-1-pytorch.zip").await?)?;
    println!("PyTorch zip: {:?}", pytorch.keys().collect::<Vec<_>>());
    let script =
        String::from_utf8(pytorch["tinytoy-run-1-pytorch/tinytoy-run-1-pytorch.py"].clone())?;
    assert!(
        script.contains("import torch") && script.contains("test accuracy"),
        "{script}"
    );
    let data = safetensors::SafeTensors::deserialize(
        &pytorch["tinytoy-run-1-pytorch/tinytoy-run-1-data.safetensors"],
    )?;
    let train_x = data.tensor("train_x")?;
    assert_eq!(
        train_x.shape()[0],
        record.config.dataset.train_size(),
        "the toy run's training examples travel in the data file"
    );
    let weights = &pytorch["tinytoy-run-1-pytorch/tinytoy-run-1.safetensors"];

    let keras = unzip(export(&page, "export-keras", "tinytoy-run-1-keras.zip").await?)?;
    let keras_script =
        String::from_utf8(keras["tinytoy-run-1-keras/tinytoy-run-1-keras.py"].clone())?;
    assert!(keras_script.contains("import keras"), "{keras_script}");
    assert!(same_tensors(
        &keras["tinytoy-run-1-keras/tinytoy-run-1.safetensors"],
        weights
    )?);

    let bare = export(&page, "export-safetensors", "tinytoy-run-1.safetensors").await?;
    assert!(
        same_tensors(&bare, weights)?,
        "the same weights in every export"
    );
    // They are the run's weights: loaded back, the model answers as its model file does.
    let device = kindling_core::DeviceChoice::Cpu.open()?;
    let exported = SavedModel::from_model(
        &record.config.model,
        model_from_safetensors(&record.config.model, bare, &device)?,
        &device,
    );
    let saved = SavedModel::load(&record.config.model, model_file, &device)?;
    let test = kindling_core::data::loader::load_dataset(
        &record.config.dataset,
        &kindling_e2e::root().join("data"),
    )?
    .eval;
    let (a, b) = kindling_core::block_on(async {
        (
            exported.probabilities(&test).await,
            saved.probabilities(&test).await,
        )
    });
    assert_eq!(
        a.map_err(anyhow::Error::msg)?,
        b.map_err(anyhow::Error::msg)?
    );

    // A tinyMNIST run names where its examples are in the data folder's MNIST files.
    page.select("preset", "tinymnist-hw1").await?;
    page.set_number("epochs", "1").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(300)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    // The newest run's menu (the table lists it first or last, by the user's sort).
    page.eval(
        "const rows = [...document.querySelectorAll('[data-testid=run-row]')];\
         const newest = rows.find(r => r.textContent.includes('tinyMNIST'));\
         newest.querySelector('[data-testid=export-menu]').click();\
         newest.querySelector('[data-testid=export-pytorch]').click();",
    )
    .await?;
    let stem = "tinymnist-run-2";
    let mnist = unzip(
        page.downloaded_bytes(&format!("{stem}-pytorch.zip"))
            .await?,
    )?;
    let data = safetensors::SafeTensors::deserialize(
        &mnist[&format!("{stem}-pytorch/{stem}-data.safetensors")],
    )?;
    let tiny = RunConfig::preset("tinymnist-hw1").unwrap().dataset;
    let (train, test) = (tiny.train_size(), tiny.image_subset().unwrap().test_size);
    assert_eq!(data.tensor("train_positions")?.shape(), [train]);
    assert_eq!(data.tensor("test_positions")?.shape(), [test]);
    assert!(
        data.tensor("train_x").is_err(),
        "MNIST stays in the data folder"
    );
    page.screenshot("exported").await?;
    page.finish().await
}

/// The data-map fingerprints of the network view's units, by "layer:unit".
async fn neuron_maps(page: &Page) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let value = page
        .eval(
            "return [...document.querySelectorAll('[data-testid=neuron]')]\
               .map(n => [n.dataset.layer + ':' + n.dataset.unit, n.dataset.map]);",
        )
        .await?;
    let pairs: Vec<(String, String)> = serde_json::from_value(value)?;
    Ok(pairs.into_iter().collect())
}

/// spiral-mlp (2-16-16-2) shows its network: one `neuron` per hidden and output unit, each
/// with a map over the input plane that changes while it trains; pointing at a unit shows its
/// map in the boundary panel; pointing at an edge gives its weight.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_the_network_view_shows_every_unit_live() -> anyhow::Result<()> {
    let mut page = Page::open("network", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "300").await?;
    page.click("train").await?;
    page.wait_until("the network view", Duration::from_secs(30), |p| {
        Box::pin(async move { Ok(neuron_maps(p).await?.len() == 34) })
    })
    .await?;
    let first = neuron_maps(&page).await?;
    let per_layer = |layer: &str| first.keys().filter(|k| k.starts_with(layer)).count();
    assert_eq!(
        (per_layer("1:"), per_layer("2:"), per_layer("3:")),
        (16, 16, 2),
        "{first:?}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let later = neuron_maps(&page).await?;
    let changed = first
        .iter()
        .filter(|(k, v)| later.get(*k) != Some(v))
        .count();
    println!(
        "unit maps changed while training: {changed} of {}",
        first.len()
    );
    assert!(changed >= 30, "only {changed} of 34 maps changed");

    // Point at a unit: its map fills the boundary panel.
    page.eval(
        "document.querySelector('[data-testid=neuron][data-layer=\"1\"][data-unit=\"0\"]')\
           .dispatchEvent(new MouseEvent('mouseenter'));",
    )
    .await?;
    page.wait_until("the focused unit", Duration::from_secs(5), |p| {
        Box::pin(async move {
            Ok(p.text("neuron-focus")
                .await
                .unwrap_or_default()
                .contains("h1.1"))
        })
    })
    .await?;
    println!("{}", page.text("neuron-focus").await?);
    // Point at the middle of the edge from x1 to h1.1: its weight.
    page.eval(
        "const a = document.querySelector('[data-testid=network-input][data-unit=\"0\"]').getBoundingClientRect();\
         const b = document.querySelector('[data-testid=neuron][data-layer=\"1\"][data-unit=\"0\"]').getBoundingClientRect();\
         const x = (a.right + b.left) / 2, y = (a.top + a.bottom + b.top + b.bottom) / 4;\
         document.querySelector('.network-plot').dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true}));",
    )
    .await?;
    let weight = page.text("edge-weight").await?;
    println!("{weight}");
    assert!(weight.starts_with("weight x1 → h1.1: "), "{weight}");
    page.screenshot("spiral").await?;
    // On a phone's width the network still fits the screen.
    assert_fits_a_phone(&page, "[data-testid=network]", "start", "spiral-phone").await?;
    page.click("stop").await?;
    page.finish().await
}

/// An MLP on images (tinyMNIST, 196-30-10) shows what each first-layer unit looks for: one
/// `unit-weights` image of 14x14 per unit, live.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_first_layer_units_show_their_weights_as_images() -> anyhow::Result<()> {
    let mut page = Page::open("unit-weights", BrowserOptions::default()).await?;
    page.select("preset", "tinymnist-hw1").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "2").await?;
    page.click("train").await?;
    let painted = "return [...document.querySelectorAll('[data-testid=unit-weights]')]\
                   .map(c => c.width + 'x' + c.height);";
    page.wait_until("30 painted unit images", Duration::from_secs(120), |p| {
        Box::pin(async move {
            let sizes: Vec<String> = serde_json::from_value(p.eval(painted).await?)?;
            Ok(sizes.len() == 30 && sizes.iter().all(|s| s == "14x14"))
        })
    })
    .await?;
    let end = page.wait_for_run_end(Duration::from_secs(300)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    let title = page
        .eval(
            "const c = document.querySelector('[data-testid=unit-weights]');\
             c.dispatchEvent(new MouseEvent('mouseenter')); return c.title;",
        )
        .await?;
    println!("first unit: {title}");
    assert!(title
        .as_str()
        .unwrap_or("")
        .starts_with("unit 1: weights within ±"));
    page.eval("document.querySelector('.unit-weights').scrollIntoView();")
        .await?;
    page.screenshot("images").await?;
    page.finish().await
}

/// The samples the current run has trained on, as the progress line's data says.
async fn samples_seen(page: &Page) -> anyhow::Result<u64> {
    Ok(page
        .attr("progress", "data-samples-seen")
        .await?
        .unwrap_or_default()
        .parse()
        .unwrap_or(0))
}

/// Presses Step for the `nth` batch of a run of spiral-mlp's batch size (the first starts the
/// builder's run, paused) and waits for exactly `nth` batches; returns the batch size.
async fn step_spiral(page: &mut Page, nth: u64) -> anyhow::Result<u64> {
    let batch = RunConfig::preset("spiral-mlp").unwrap().training.batch_size as u64;
    page.click("step").await?;
    page.wait_until("the stepped batch", Duration::from_secs(30), |p| {
        Box::pin(async move {
            Ok(samples_seen(p).await? == nth * batch && p.text("pause").await? == "Resume")
        })
    })
    .await?;
    Ok(batch)
}

/// Step trains exactly one batch: from idle the run starts paused and trains its first batch,
/// each further Step adds one more (and nothing trains in between), every view is sent anew,
/// and Resume trains on.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_step_trains_exactly_one_batch() -> anyhow::Result<()> {
    let mut page = Page::open("step", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    let batch = step_spiral(&mut page, 1).await?;
    assert!(page.exists("network").await, "the views came with the step");
    step_spiral(&mut page, 2).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        samples_seen(&page).await?,
        2 * batch,
        "nothing trains between steps"
    );
    page.click("pause").await?; // Resume
    page.wait_until("training on", Duration::from_secs(20), |p| {
        Box::pin(async move { Ok(samples_seen(p).await? > 10 * batch) })
    })
    .await?;
    page.click("stop").await?;
    page.finish().await
}

/// Opens a run's share `link` in a fresh profile named `name`, presses Reproduce and waits for
/// the comparison; returns the page and the reproduction's accuracy difference.
async fn reproduce_link(name: &str, link: &str) -> anyhow::Result<(Page, f64)> {
    let mut fresh = Page::open(name, BrowserOptions::default()).await?;
    fresh.goto(link).await?;
    fresh
        .wait_until("the shared run", Duration::from_secs(10), |p| {
            Box::pin(async move { Ok(p.run_rows().await?.len() == 1) })
        })
        .await?;
    fresh.click("reproduce").await?;
    fresh
        .wait_until("the reproduction", Duration::from_secs(120), |p| {
            Box::pin(async move { Ok(p.exists("reproduce-result").await) })
        })
        .await?;
    let difference: f64 = fresh
        .attr("reproduce-result", "data-accuracy-difference")
        .await?
        .unwrap_or_default()
        .parse()?;
    Ok((fresh, difference))
}

/// How many elements carry `data-testid` `id`.
async fn count(page: &Page, id: &str) -> anyhow::Result<u64> {
    let script = format!("return document.querySelectorAll(\"[data-testid='{id}']\").length;");
    Ok(page.eval(&script).await?.as_u64().unwrap_or(0))
}

/// A learning-rate change while paused is recorded at its batch, marked on the curves, kept
/// with the run, carried by its share link and replayed by Reproduce to the same accuracy; an
/// out-of-range change is refused with its range and records nothing.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_change_while_paused_is_marked_shared_and_reproduced() -> anyhow::Result<()> {
    let mut page = Page::open("steer", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "4").await?;
    step_spiral(&mut page, 1).await?;
    step_spiral(&mut page, 2).await?;
    assert_eq!(
        page.by_id("live-lr").await?.prop("value").await?.as_deref(),
        Some("0.01"),
        "the paused run shows its learning rate"
    );
    page.set_number("live-lr", "0.002").await?;
    page.wait_until("the change's marker", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.exists("steer-marker").await) })
    })
    .await?;
    assert_eq!(
        page.attr("steer-marker", "data-step").await?.as_deref(),
        Some("2"),
        "recorded after the two batches trained"
    );
    let marker = page.text("steer-marker").await?;
    assert!(marker.contains("learning rate 0.002"), "{marker}");
    page.set_number("live-lr", "-1").await?;
    page.wait_until("the refusal", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.exists("error").await) })
    })
    .await?;
    let refusal = page.text("error").await?;
    assert!(refusal.contains("(0, 10]"), "names the range: {refusal}");
    assert_eq!(count(&page, "steer-marker").await?, 1, "nothing recorded");
    assert_eq!(
        page.by_id("live-lr").await?.prop("value").await?.as_deref(),
        Some("0.002"),
        "the refused value is put back"
    );
    page.screenshot("steer-paused").await?;
    assert_fits_a_phone(
        &page,
        "[data-testid=live-lr]",
        "center",
        "steer-paused-phone",
    )
    .await?;
    page.eval("document.querySelector(\"[data-testid='error'] button\").click();")
        .await?;
    page.click("pause").await?; // Resume
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    assert_eq!(count(&page, "steer-marker").await?, 1);
    page.screenshot("steer-finished").await?;

    page.click("share").await?;
    let link = page
        .by_id("share-link")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    page.finish().await?;

    let (fresh, acc_diff) = reproduce_link("steer-shared", &link).await?;
    let text = fresh.text("reproduce-result").await?;
    assert!(
        acc_diff < 1e-9,
        "the change replayed: the same accuracy ({text})"
    );
    assert_eq!(
        fresh.attr("steer-marker", "data-step").await?.as_deref(),
        Some("2"),
        "the reproduction marks the change where it was made"
    );
    fresh.finish().await
}

/// Ticks exactly the features `on` of a toy set (by their names, as the page writes them).
async fn choose_features(page: &Page, on: &[&str]) -> anyhow::Result<()> {
    let script = "const on = arguments[0]; \
        const boxes = [...document.querySelectorAll(\"[data-testid='feature-inputs'] input\")]; \
        for (const b of boxes) { if (on.includes(b.dataset.feature)) { if (!b.checked) b.click(); } } \
        for (const b of boxes) { if (!on.includes(b.dataset.feature) && b.checked) b.click(); } \
        return boxes.filter(b => b.checked).map(b => b.dataset.feature);";
    let ticked = page.eval_with(script, vec![serde_json::json!(on)]).await?;
    anyhow::ensure!(ticked == serde_json::json!(on), "ticked {ticked}");
    Ok(())
}

/// Three blobs train past 90% with a boundary of three colours; x1·x2 alone separates XOR
/// with no hidden layer; a click adds a point (the count shows it) and the run's link carries
/// the edited set to a fresh profile.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_toy_sets_of_several_classes_features_and_points_added_by_click(
) -> anyhow::Result<()> {
    let mut page = Page::open("toys", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.select("dataset", "blobs").await?;
    page.set_number("toy-classes", "3").await?;
    page.set_number("epochs", "10").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    let accuracy = test_accuracy(&mut page).await?;
    assert!(accuracy >= 0.9, "three blobs: {accuracy}");
    assert_eq!(
        page.attr("boundary", "data-classes-shown")
            .await?
            .as_deref(),
        Some("3"),
        "the boundary shows the three classes"
    );
    page.eval(
        "document.querySelector(\"[data-testid='boundary']\").scrollIntoView({block: 'center'});",
    )
    .await?;
    page.screenshot("blobs-3").await?;

    // XOR through x1·x2 alone, with no hidden layer.
    page.select("dataset", "xor").await?;
    choose_features(&page, &["x1·x2"]).await?;
    while page.exists("layer-0").await {
        page.eval("document.querySelector(\"[data-testid='layer-0'] button.icon\").click();")
            .await?;
    }
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    let accuracy = test_accuracy(&mut page).await?;
    assert!(accuracy >= 0.9, "XOR through x1·x2 alone: {accuracy}");
    page.eval(
        "document.querySelector(\"[data-testid='boundary']\").scrollIntoView({block: 'center'});",
    )
    .await?;
    page.screenshot("xor-product").await?;

    // A click adds a point of the chosen class; the next run trains on the edited set.
    let before = page.text("point-count").await?;
    page.select("point-class", "1").await?;
    page.click("boundary").await?;
    page.wait_until("the added point", Duration::from_secs(5), |p| {
        Box::pin(async move { Ok(p.text("point-count").await?.contains("1 added")) })
    })
    .await?;
    let after = page.text("point-count").await?;
    assert_ne!(before, after);
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    page.eval(
        "document.querySelector(\"[data-testid='boundary']\").scrollIntoView({block: 'center'});",
    )
    .await?;
    page.screenshot("xor-edited").await?;
    let rows = page.run_rows().await?;
    let link = share_link(&page, &rows[0]).await?;
    page.finish().await?;

    let (fresh, acc_diff) = reproduce_link("toys-shared", &link).await?;
    assert_eq!(
        fresh.text("point-count").await?,
        after,
        "the link carried the edited set"
    );
    assert!(acc_diff < 1e-9, "the same set, the same run");
    fresh.finish().await
}

/// A regression set (the Gaussian bump): the model gets one linear output and mean squared
/// error, trains to a test R² over 0.9, the map shows its predicted values, the tables name
/// R², and a click adds a point of the value chosen.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_regression_set_trains_to_an_r2_and_shows_its_surface() -> anyhow::Result<()> {
    let mut page = Page::open("regression", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.select("dataset", "gaussian-bump").await?;
    assert_eq!(
        page.by_id("loss").await?.prop("value").await?.as_deref(),
        Some("MeanSquaredError"),
        "values need mean squared error"
    );
    page.set_number("epochs", "30").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(180)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    let r2 = test_accuracy(&mut page).await?;
    let heading = page
        .eval("return document.querySelector('[data-testid=test-report] h3').textContent;")
        .await?;
    let header = page
        .eval("return [...document.querySelectorAll('[data-testid=epoch-metrics] th')].map(t => t.textContent).join(' | ');")
        .await?;
    println!("Gaussian bump, 30 epochs: test R² {r2:.4} ({heading}); epoch table: {header}");
    assert!(r2 > 0.9, "test R² {r2}");
    assert!(
        heading.as_str().unwrap_or_default().contains("R²"),
        "{heading}"
    );
    assert!(
        header.as_str().unwrap_or_default().contains("Train R²"),
        "{header}"
    );
    assert_eq!(
        page.attr("boundary", "data-map").await?.as_deref(),
        Some("values"),
        "the map shows predicted values"
    );
    // A click adds a point of the value chosen.
    page.set_number("point-value", "0.8").await?;
    page.click("boundary").await?;
    page.wait_until("the added point", Duration::from_secs(5), |p| {
        Box::pin(async move { Ok(p.text("point-count").await?.contains("1 added")) })
    })
    .await?;
    page.eval(
        "document.querySelector(\"[data-testid='boundary']\").scrollIntoView({block: 'center'});",
    )
    .await?;
    page.screenshot("bump").await?;
    page.resize(390, 844).await?;
    page.eval(
        "document.querySelector(\"[data-testid='boundary']\").scrollIntoView({block: 'center'});",
    )
    .await?;
    page.screenshot("bump-phone").await?;
    page.finish().await
}

/// Closing the live views stops them (the network view and the map go, training goes on);
/// opening them again brings them back at once.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_the_live_views_close_and_open_again() -> anyhow::Result<()> {
    let mut page = Page::open("views", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.click("train").await?;
    page.wait_until("the network view", Duration::from_secs(30), |p| {
        Box::pin(async move { Ok(p.exists("network").await) })
    })
    .await?;
    page.click("views-open").await?;
    page.wait_until("the views closed", Duration::from_secs(5), |p| {
        Box::pin(async move {
            Ok(!p.exists("network").await
                && p.attr("boundary", "data-classes-shown").await?.as_deref() == Some("0"))
        })
    })
    .await?;
    let seen = samples_seen(&page).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(samples_seen(&page).await? > seen, "training goes on");
    assert!(!page.exists("network").await, "no view comes while closed");
    page.click("views-open").await?;
    page.wait_until("the views again", Duration::from_secs(5), |p| {
        Box::pin(async move {
            Ok(p.exists("network").await
                && p.attr("boundary", "data-classes-shown").await?.as_deref() != Some("0"))
        })
    })
    .await?;
    page.click("stop").await?;
    page.finish().await
}

/// A short run of the seed CNN shows, for a drawn digit, every layer in order: 32 and then 64
/// feature maps (and their poolings), the dense layer's bars, and the 32 first-layer filters;
/// the maps change as the drawing does. A click on a cell of the confusion matrix shows that
/// (true, predicted) pair's test images, and a click on one opens its layers and prediction.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_cnn_shows_the_layers_of_a_drawn_digit() -> anyhow::Result<()> {
    let mut page = Page::open("layers", BrowserOptions::default()).await?;
    page.select("preset", "cnn-seed-2conv").await?;
    page.select("device", "cpu").await?;
    page.set_number("train-size", "2000").await?;
    page.set_number("test-size", "500").await?;
    page.set_number("epochs", "1").await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(300)).await?;
    anyhow::ensure!(end.starts_with("Finished"), "{end}");
    // Layer health after the first epoch: the epoch's report, a block per layer with
    // parameters, the convolutions' dead ReLU units counted.
    let health = page
        .eval(
            "const select = document.querySelector('[data-testid=health-epoch]'); \
             const epoch = [...select.options].find(o => o.textContent === 'end of epoch 1'); \
             select.value = epoch.value; select.dispatchEvent(new Event('change')); \
             return [...document.querySelectorAll('[data-testid=layer-health]')].map(l => ({ \
               layer: l.dataset.layer, figures: l.querySelector('.figures').textContent, \
               histograms: l.querySelectorAll('figure').length }));",
        )
        .await?;
    println!("layer health at the end of epoch 1: {health}");
    let layers = health.as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = layers.iter().filter_map(|l| l["layer"].as_str()).collect();
    assert_eq!(names.first(), Some(&"conv2d_1"), "{health}");
    assert!(names.contains(&"conv2d_2") && names.last().is_some_and(|n| n.starts_with("dense")));
    assert!(layers[0]["figures"]
        .as_str()
        .unwrap_or_default()
        .contains("dead ReLU units"));
    assert_eq!(layers[0]["histograms"], 3, "weights, gradients and outputs");
    let digits = mnist_test_digits(2)?;
    read_drawn_digit(&mut page, &digits[0].0).await?;
    page.wait_until("the layers", Duration::from_secs(20), |p| {
        Box::pin(async move { Ok(p.exists("layer-view").await) })
    })
    .await?;
    let maps_of = |layer: &str| {
        format!("return document.querySelectorAll(\"[data-testid='feature-map'][data-layer='{layer}']\").length;")
    };
    let per_layer: Vec<u64> = {
        let mut v = Vec::new();
        for layer in ["0", "1", "2", "3"] {
            v.push(page.eval(&maps_of(layer)).await?.as_u64().unwrap_or(0));
        }
        v
    };
    assert_eq!(per_layer, [32, 32, 64, 64], "conv, pool, conv, pool");
    assert_eq!(count(&page, "filter").await?, 32);
    assert_eq!(count(&page, "layer-bars").await?, 1, "the dense layer");
    let fingerprint = "const c = document.querySelector(\"[data-testid='feature-map'][data-layer='2']\"); \
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).join(',');";
    let first = page.eval(fingerprint).await?;
    page.eval("document.querySelector(\"[data-testid='layer-view']\").scrollIntoView();")
        .await?;
    page.screenshot("layers").await?;
    read_drawn_digit(&mut page, &digits[1].0).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_ne!(
        page.eval(fingerprint).await?,
        first,
        "another digit, other maps"
    );

    // A cell of the confusion matrix shows its test images; one of them opens its layers.
    let cell = page
        .eval(
            "const cells = [...document.querySelectorAll(\"[data-testid='matrix-cell']\")] \
               .filter(c => c.dataset.true !== undefined && c.dataset.true !== c.dataset.predicted \
                 && Number(c.textContent) > 0); \
             cells.sort((a, b) => Number(b.textContent) - Number(a.textContent)); \
             const c = cells[0]; c.click(); \
             return [Number(c.dataset.true), Number(c.dataset.predicted), Number(c.textContent)];",
        )
        .await?;
    let cell: Vec<u64> = serde_json::from_value(cell)?;
    println!(
        "the largest off-diagonal cell: true {}, predicted {}, {} images",
        cell[0], cell[1], cell[2]
    );
    let shown = cell[2].min(12);
    page.wait_until("the cell's images", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(count(p, "cell-example").await? == shown) })
    })
    .await?;
    let pairs = page
        .eval(
            "return [...document.querySelectorAll(\"[data-testid='cell-example']\")] \
               .map(e => [Number(e.dataset.true), Number(e.dataset.predicted)]);",
        )
        .await?;
    let pairs: Vec<Vec<u64>> = serde_json::from_value(pairs)?;
    assert!(
        pairs.iter().all(|p| p[..] == cell[..2]),
        "only that (true, predicted) pair: {pairs:?}"
    );
    page.eval("document.querySelector(\"[data-testid='cell-example']\").click();")
        .await?;
    let predicted = cell[1].to_string();
    page.wait_until("the image's own prediction", Duration::from_secs(10), |p| {
        let predicted = predicted.clone();
        Box::pin(async move { Ok(p.text("predicted-digit").await?.trim() == predicted) })
    })
    .await?;
    assert!(page.exists("layer-view").await, "its layers are open");
    page.eval("document.querySelector(\"[data-testid='cell-examples']\").scrollIntoView();")
        .await?;
    page.screenshot("matrix-cell").await?;
    // An image of the data preview opens the same way: the model reads it anew.
    let probabilities = "return [...document.querySelectorAll('[data-testid=probabilities] li')].map(l => l.dataset.probability).join(',');";
    let before = page.eval(probabilities).await?;
    page.eval(
        "document.querySelector('[data-testid=data-preview]').open = true; \
         document.querySelector('[data-testid=data-preview] [data-testid=open-layers]').click(); return true;",
    )
    .await?;
    page.wait_until(
        "the preview image's prediction",
        Duration::from_secs(20),
        |p| {
            let before = before.clone();
            Box::pin(async move { Ok(p.eval(probabilities).await? != before) })
        },
    )
    .await?;
    assert!(page.exists("layer-view").await, "its layers are open");
    page.finish().await
}

/// Whether the element `[data-<attribute>=value]` is shown (not hidden by a lesson).
async fn shown(page: &Page, attribute: &str, value: &str) -> anyhow::Result<bool> {
    let visible = page
        .eval_with(
            "const e = document.querySelector(`[data-${arguments[0]}=\"${arguments[1]}\"]`); \
             return e !== null && getComputedStyle(e).display !== 'none';",
            vec![attribute.into(), value.into()],
        )
        .await?;
    Ok(visible.as_bool().unwrap_or(false))
}

/// A teacher makes a lesson of a share link (hide the model and training settings, open on the
/// network view, a note); the learner's page (a phone's) shows the note, hides those controls,
/// trains the run with one button and outlines the network view; the controls come back on
/// request.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_lesson_link_hides_the_controls_it_names() -> anyhow::Result<()> {
    let mut page = Page::open("lesson-teacher", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "2").await?;
    page.click("train").await?;
    page.wait_for_run_end(Duration::from_secs(120)).await?;
    let rows = page.run_rows().await?;
    let run_link = share_link(&page, &rows[0]).await?;
    page.click("lesson-maker").await?;
    page.click("lesson-hide-model").await?;
    page.click("lesson-hide-training").await?;
    page.select("lesson-open", "network").await?;
    let note = "Train this, then watch the hidden units bend the boundary.";
    page.by_id("lesson-note-input")
        .await?
        .send_keys(note)
        .await?;
    let lesson_link = page
        .by_id("lesson-link")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert!(
        lesson_link.starts_with(&run_link) && lesson_link.contains("&lesson=l1."),
        "{lesson_link}"
    );
    page.screenshot("maker").await?;
    page.finish().await?;

    // The learner is on a phone.
    let mut learner = Page::open(
        "lesson-learner",
        BrowserOptions {
            size: (390, 844),
            ..Default::default()
        },
    )
    .await?;
    learner.goto(&lesson_link).await?;
    learner
        .wait_until("the lesson", Duration::from_secs(20), |p| {
            Box::pin(async move { Ok(p.exists("lesson-note").await) })
        })
        .await?;
    assert_eq!(learner.text("lesson-note").await?, note);
    assert!(
        !shown(&learner, "lesson", "model").await?,
        "the model is hidden"
    );
    assert!(
        !shown(&learner, "lesson", "training").await?,
        "the settings are hidden"
    );
    assert!(
        shown(&learner, "lesson", "dataset").await?,
        "the dataset is not"
    );
    learner.screenshot("opened").await?;
    learner.click("lesson-train").await?;
    learner.wait_for_run_end(Duration::from_secs(120)).await?;
    let outlined = learner
        .eval("return document.body.classList.contains('lesson-open-network') && getComputedStyle(document.querySelector('[data-panel=network]')).outlineStyle;")
        .await?;
    assert_eq!(outlined, "solid", "the network view is outlined");
    learner.click("lesson-go").await?;
    learner.screenshot("network").await?;
    learner
        .eval("document.querySelector('[data-testid=histograms]').scrollIntoView({ block: 'start' }); return true;")
        .await?;
    learner.screenshot("health").await?;
    learner.click("lesson-show-all").await?;
    assert!(
        shown(&learner, "lesson", "model").await?,
        "every control is back"
    );
    learner.finish().await
}
