//! Runs the `kindling` CLI for the commands that need burn (`bench`, `accuracy`): xtask itself
//! has no burn, so it builds in seconds. `cargo run -p kindling-cli` builds the CLI in the dev
//! profile, as the workspace's tests do, so the CLI, the tests and these commands share one
//! build of burn's dependency tree (kindling-core's Cargo.toml gives its dependencies the
//! features the whole workspace gives them; a test in main.rs checks it).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};

use crate::root;

/// Whether this process already ran the CLI (and so built it).
static BUILT: AtomicBool = AtomicBool::new(false);

/// Runs `kindling ARGS` with `cargo run -p kindling-cli` in the workspace root. Cargo's
/// progress and the CLI's own (stderr) show as they come, and so does every line the CLI prints
/// that is not JSON; the lines that are (a JSON object each, from `--json`) are returned.
/// `allow_failure` returns them even when the CLI fails (a training run that stopped early
/// still writes its metrics), after saying so.
pub fn run(args: &[&str], allow_failure: bool) -> Result<Vec<serde_json::Value>> {
    if !BUILT.swap(true, Ordering::Relaxed) {
        crate::say(
            "building the kindling CLI (dev profile, the same build of burn as the native tests: \
             about 15 minutes on 2 cores the first time, seconds after)",
        );
    }
    println!("\n==> kindling {}", args.join(" "));
    let start = std::time::Instant::now();
    let mut child = Command::new("cargo")
        .args(["run", "-p", "kindling-cli", "--"])
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo")?;
    let stdout = child.stdout.take().expect("piped");
    let mut values = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        match line
            .starts_with('{')
            .then(|| serde_json::from_str::<serde_json::Value>(&line))
        {
            Some(Ok(value)) => values.push(value),
            _ => println!("{line}"),
        }
    }
    let status = child.wait()?;
    if !status.success() {
        if !allow_failure {
            bail!("`kindling {}` failed ({status})", args.join(" "));
        }
        println!("`kindling {}` failed ({status})", args.join(" "));
    }
    crate::took(start);
    Ok(values)
}
