//! The page when things go wrong outside its control: a worker killed mid-run (a WebAssembly
//! trap, running out of memory) and a share link pasted into a tab that is already open. Run by
//! `cargo xtask test` after it has built the app and the data (ignored by a plain `cargo test`).
//!
//! The worker is made to fail on purpose by the `kindling-test-fault` event (see
//! `app/src/faults.rs`): it traps, or allocates until its allocator fails, as a real fault does.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use kindling_core::link::encode_link;
use kindling_core::record::{RunRecord, RunStatus};
use kindling_core::train::EpochMetrics;
use kindling_core::RunConfig;
use kindling_e2e::{serve_dist, BrowserOptions, Page};
use serde_json::json;

/// What a fault may log in the console as an error: the panic (its hook logs it); a trap is
/// handled by the page and logs none.
const FAULT_LOGS: [&str; 1] = ["a panic caused on purpose"];

/// Makes the worker fail as `fault` (`trap`, `oom` or `panic`) does.
async fn fail_worker(page: &Page, fault: &str) -> anyhow::Result<()> {
    page.client
        .execute(
            "window.dispatchEvent(new CustomEvent('kindling-test-fault', { detail: arguments[0] })); return true;",
            vec![json!(fault)],
        )
        .await?;
    Ok(())
}

/// The text of the progress line.
async fn progress(page: &Page) -> String {
    page.text("progress").await.unwrap_or_default()
}

/// Waits until the current run has completed `epochs` epochs and still trains.
async fn wait_for_epochs(page: &mut Page, epochs: usize) -> anyhow::Result<()> {
    page.wait_until("the run to train", Duration::from_secs(120), |p| {
        Box::pin(async move {
            let text = progress(p).await;
            Ok(text.starts_with("epoch ") && p.epoch_accuracies().await?.len() >= epochs)
        })
    })
    .await
}

/// Waits until the page says the worker stopped and was restarted, and the fresh worker is up;
/// returns the message and how long the page took from the fault to the fresh worker.
async fn wait_for_restart(page: &mut Page, started: Instant) -> anyhow::Result<(String, f64)> {
    page.wait_until(
        "the page to restart the worker",
        Duration::from_secs(60),
        |p| {
            Box::pin(async move {
                let error = p.text("error").await.unwrap_or_default();
                let status = p.text("device-status").await.unwrap_or_default();
                Ok(error.contains("It was restarted") && !status.contains("starting"))
            })
        },
    )
    .await?;
    Ok((page.text("error").await?, started.elapsed().as_secs_f64()))
}

/// The status and the completed epochs of the kept runs, newest first.
async fn kept_runs(page: &Page) -> anyhow::Result<Vec<(String, usize)>> {
    let mut out = Vec::new();
    for row in page.run_rows().await? {
        let status = row.attr("data-status").await?.unwrap_or_default();
        let epochs = row
            .find(Locator::Css("[data-testid='run-epochs']"))
            .await?
            .attr("data-epochs")
            .await?
            .and_then(|e| e.parse().ok())
            .unwrap_or(0);
        out.push((status, epochs));
    }
    Ok(out)
}

/// A worker that traps mid-run: the run ends as failed with the reason (kept, with its
/// completed epochs, across a reload), the page says the worker was restarted, and a new run
/// trains to its end in the same page. Then a worker that panics while no run trains: it is
/// replaced too, and the finished run stays finished.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_worker_that_traps_mid_run_fails_the_run_and_a_fresh_one_trains(
) -> anyhow::Result<()> {
    let mut page = Page::open("fault-trap", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    page.set_number("epochs", "1000").await?;
    page.click("train").await?;
    wait_for_epochs(&mut page, 2).await?;
    let started = Instant::now();
    fail_worker(&page, "trap").await?;
    let (message, took) = wait_for_restart(&mut page, started).await?;
    println!("after a trap ({took:.2} s to a fresh worker): {message}");
    assert!(
        message.contains("WebAssembly trap") && message.contains("failed"),
        "{message}"
    );
    let line = progress(&page).await;
    assert!(line.starts_with("Failed"), "{line}");
    page.wait_until("the failed run to be kept", Duration::from_secs(10), |p| {
        Box::pin(async move {
            Ok(kept_runs(p)
                .await?
                .first()
                .is_some_and(|(s, e)| s == "failed" && *e >= 2))
        })
    })
    .await?;
    let reason = page.attr("run-status", "title").await?.unwrap_or_default();
    assert!(reason.contains("trap"), "the table says why: {reason}");
    page.screenshot("after-trap").await?;

    // The same page trains again, without a reload.
    page.set_number("epochs", "3").await?;
    page.wait_until("Train to be enabled", Duration::from_secs(30), |p| {
        Box::pin(async move { Ok(p.by_id("train").await?.is_enabled().await?) })
    })
    .await?;
    page.click("train").await?;
    let end = page.wait_for_run_end(Duration::from_secs(120)).await?;
    assert!(end.starts_with("Finished"), "{end}");

    // A panic while nothing trains: a fresh worker too, and no run is touched.
    let started = Instant::now();
    fail_worker(&page, "panic").await?;
    let (message, took) = wait_for_restart(&mut page, started).await?;
    println!("after a panic ({took:.2} s to a fresh worker): {message}");
    assert!(
        message.contains("it panicked") && message.contains("Press Train"),
        "{message}"
    );
    assert!(!message.contains("kept as failed"), "{message}");

    // The failed run was saved like any ended run, epochs and reason included.
    page.reload().await?;
    page.wait_until("the stored runs", Duration::from_secs(10), |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == 2) })
    })
    .await?;
    let kept = kept_runs(&page).await?;
    println!("kept after a reload: {kept:?}");
    assert_eq!(kept[0].0, "finished");
    assert!(kept[1].0 == "failed" && kept[1].1 >= 2, "{kept:?}");
    page.finish_allowing(&FAULT_LOGS).await
}

/// A sweep whose worker runs out of memory during its first run: that run is kept as failed
/// with the reason, and the sweep goes on with its other runs on a fresh worker.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_sweep_goes_on_after_its_worker_runs_out_of_memory() -> anyhow::Result<()> {
    let mut page = Page::open("fault-oom-sweep", BrowserOptions::default()).await?;
    page.select("preset", "spiral-mlp").await?;
    page.select("device", "cpu").await?;
    // Three runs by their number of epochs: a long one (killed), then shorter ones (the
    // second long enough that the message about the first is read before the third starts).
    page.client
        .find(Locator::Css("[data-testid='sweep-axis-0'] select"))
        .await?
        .select_by_value("epochs")
        .await?;
    page.set_number("sweep-values", "1000, 20, 2").await?;
    let label = page.text("run-sweep").await?;
    assert!(label.contains("3 runs"), "{label}");
    page.click("run-sweep").await?;
    wait_for_epochs(&mut page, 1).await?;
    let started = Instant::now();
    fail_worker(&page, "oom").await?;
    let (message, took) = wait_for_restart(&mut page, started).await?;
    println!("after running out of memory ({took:.2} s to a fresh worker): {message}");
    assert!(
        message.contains("out of memory") && message.contains("sweep goes on"),
        "{message}"
    );
    page.wait_until("the sweep to finish", Duration::from_secs(180), |p| {
        Box::pin(async move {
            let mut statuses = Vec::new();
            for row in p
                .client
                .find_all(Locator::Css("[data-testid='sweep-row']"))
                .await?
            {
                statuses.push(row.attr("data-status").await?.unwrap_or_default());
            }
            Ok(statuses == ["failed", "finished", "finished"])
        })
    })
    .await?;
    page.screenshot("sweep-after-oom").await?;
    let kept = kept_runs(&page).await?;
    assert_eq!(kept.len(), 3, "every sweep run is kept: {kept:?}");
    assert_eq!(kept[2].0, "failed", "{kept:?}");
    let why = page
        .client
        .find(Locator::Css("[data-testid='sweep-row'] td[title]"))
        .await?
        .attr("title")
        .await?
        .unwrap_or_default();
    assert!(why.contains("out of memory"), "the sweep says why: {why}");
    page.finish_allowing(&FAULT_LOGS).await
}

/// A finished run as a share link would carry it.
fn shared_run() -> RunRecord {
    let mut config = RunConfig::preset("spiral-mlp").expect("a preset");
    config.training.epochs = 2;
    let epoch = |epoch, accuracy| EpochMetrics {
        epoch,
        train_loss: 0.5,
        train_accuracy: accuracy,
        eval_loss: 0.6,
        eval_accuracy: accuracy,
    };
    RunRecord {
        id: 1,
        name: "pasted spiral".into(),
        notes: String::new(),
        config,
        status: RunStatus::Finished,
        epochs: vec![epoch(1, 0.75), epoch(2, 0.875)],
        curve: Vec::new(),
        batches_per_epoch: 10,
        test_accuracy: Some(0.875),
        seconds: 1.5,
        samples_per_second: 1000.0,
        created_ms: 0.0,
        shared: false,
        has_weights: false,
    }
}

/// Changes the fragment of the open page, as pasting a link into its address bar does (the
/// page does not reload).
async fn set_fragment(page: &Page, fragment: &str) -> anyhow::Result<()> {
    page.client
        .execute(
            "location.hash = arguments[0]; return true;",
            vec![json!(fragment)],
        )
        .await?;
    Ok(())
}

/// Waits until `check` holds and asserts it took at most `limit` (the page answers the change
/// of its fragment at once: a poll every 250 ms, with room for a busy machine).
async fn at_once<F>(page: &mut Page, what: &str, check: F) -> anyhow::Result<f64>
where
    F: for<'a> FnMut(
        &'a Page,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = anyhow::Result<bool>> + 'a>,
    >,
{
    let started = Instant::now();
    page.wait_until(what, Duration::from_secs(10), check)
        .await?;
    let took = started.elapsed().as_secs_f64();
    assert!(took < 3.0, "{what} took {took:.2} s");
    Ok(took)
}

/// A share link set as the fragment of an open page (no reload) is shown at once, as in a
/// fresh tab; the same link again selects the run it listed; tampered links are refused at
/// once with the same message as at start, and the runs stay as they were.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the trunk-built app, the data and Chromium: run `cargo xtask test`"]
async fn browser_a_share_link_pasted_into_an_open_tab_opens_at_once() -> anyhow::Result<()> {
    let mut page = Page::open("link-in-open-tab", BrowserOptions::default()).await?;
    assert!(page.run_rows().await?.is_empty(), "a fresh profile");
    let link = encode_link(serve_dist(), &shared_run());
    let fragment = link.split_once('#').expect("a fragment").1.to_string();
    set_fragment(&page, &fragment).await?;
    let took = at_once(&mut page, "the shared run", |p| {
        Box::pin(async move { Ok(p.run_rows().await?.len() == 1) })
    })
    .await?;
    let notice = page.text("notice").await?;
    let accuracy = page.text("run-accuracy").await?;
    println!("a pasted link opened in {took:.2} s: {notice} ({accuracy})");
    assert!(notice.contains("Opened a shared run"), "{notice}");
    assert_eq!(accuracy, "87.50%");
    let status = page.text("run-status").await?;
    assert!(status.contains("(shared)"), "{status}");

    // Away and back to the same link: the run listed is selected, not listed twice.
    set_fragment(&page, "").await?;
    set_fragment(&page, &fragment).await?;
    at_once(&mut page, "the listed run selected", |p| {
        Box::pin(async move {
            Ok(p.text("notice")
                .await
                .unwrap_or_default()
                .contains("already listed"))
        })
    })
    .await?;
    assert_eq!(page.run_rows().await?.len(), 1);

    // Tampered links: refused at once, with the message a fresh tab gives.
    set_fragment(&page, "run=k1.AAAAthis-is-not-a-run").await?;
    at_once(&mut page, "the tampered link refused", |p| {
        Box::pin(async move {
            let error = p.text("error").await.unwrap_or_default();
            Ok(error.contains("damaged") && error.contains("unchanged"))
        })
    })
    .await?;
    set_fragment(&page, "run=k7.abc").await?;
    at_once(&mut page, "the unknown version refused", |p| {
        Box::pin(async move {
            Ok(p.text("error")
                .await
                .unwrap_or_default()
                .contains("version"))
        })
    })
    .await?;
    assert_eq!(page.run_rows().await?.len(), 1, "the runs are unchanged");
    page.finish().await
}
