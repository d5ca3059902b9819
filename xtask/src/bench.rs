//! `cargo xtask bench`: training throughput of the same models and batch sizes in Kindling
//! (native CPU and GPU, browser), in the reference frameworks (Keras 3 on JAX, PyTorch; CPU)
//! and in TF.js, written to `BENCHMARKS.md`. `--smoke` is CI's one-minute check of the
//! command: Kindling only, tiny windows, nothing written. Kindling's native figures (and the
//! workloads, the matmul peak and the GPU adapters) come from the `kindling` CLI's `--json`
//! output (`cli/src/bench.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::root;

/// Where the generated section of BENCHMARKS.md starts and ends.
const START: &str = "<!-- xtask bench: start -->";
const END: &str = "<!-- xtask bench: end -->";

/// The chart beside the table, relative to the repository root.
const CHART: &str = "benchmarks/throughput.png";

/// How a column's ratio reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ratio {
    /// The Kindling column's figure over this one: Kindling against another framework (above
    /// 1.0x Kindling is faster), and the views open against closed.
    KindlingOverThis,
    /// This figure over its base column's: a variant of Kindling's own (its threads, a second
    /// visit), so the ratio is the variant's speed-up.
    ThisOverBase,
}

/// Every contender, in the table's order, with the Kindling contender its ratio compares to
/// and how. A contender with no figure and no note (Kindling native GPU on a machine without
/// one) gets no column.
const CONTENDERS: [(&str, &str, Ratio); 13] = [
    ("Kindling native CPU", "", Ratio::KindlingOverThis),
    ("Kindling native GPU (wgpu)", "", Ratio::KindlingOverThis),
    (
        "Keras 3 / JAX CPU",
        "Kindling native CPU",
        Ratio::KindlingOverThis,
    ),
    (
        "PyTorch CPU",
        "Kindling native CPU",
        Ratio::KindlingOverThis,
    ),
    ("Kindling wasm CPU", "", Ratio::KindlingOverThis),
    (
        "Kindling wasm CPU, threads",
        "Kindling wasm CPU",
        Ratio::ThisOverBase,
    ),
    (
        "Kindling wasm CPU, second visit",
        "Kindling wasm CPU",
        Ratio::ThisOverBase,
    ),
    (
        "Kindling wasm CPU, threads, second visit",
        "Kindling wasm CPU, second visit",
        Ratio::ThisOverBase,
    ),
    (
        "Kindling wasm CPU, views closed",
        "Kindling wasm CPU",
        Ratio::KindlingOverThis,
    ),
    ("TF.js wasm", "Kindling wasm CPU", Ratio::KindlingOverThis),
    (
        "TF.js wasm, threads",
        "Kindling wasm CPU, threads",
        Ratio::KindlingOverThis,
    ),
    ("Kindling WebGPU", "", Ratio::KindlingOverThis),
    ("TF.js WebGPU", "Kindling WebGPU", Ratio::KindlingOverThis),
];

/// One benchmarked model, as `kindling workloads --json` gives it.
#[derive(Deserialize, Debug, Clone)]
struct Workload {
    id: String,
    label: String,
    /// Batches per timed window natively and in the references (see `cli/src/bench.rs`).
    batches: usize,
    /// Its RunConfig, handed on as it is to the browser contenders.
    config: serde_json::Value,
}

/// The workloads, from the CLI (which defines them with kindling-core's presets).
fn workloads() -> Result<Vec<Workload>> {
    crate::kindling::run(&["workloads", "--json"], false)?
        .into_iter()
        .map(|value| serde_json::from_value(value).context("a workload from `kindling workloads`"))
        .collect()
}

/// Warm-up batches, then timed windows of batches.
#[derive(Debug, Clone, Copy)]
struct BenchPlan {
    warmup: usize,
    windows: usize,
    batches: usize,
}

/// A figure per (workload id, contender).
type Figures = Vec<(String, String, f64)>;

/// Why a (workload id, contender) has no figure or a partial one.
type Notes = Vec<(String, String, String)>;

/// Runs the benchmark; `smoke` is CI's quick check, `native` measures Kindling native alone
/// and writes nothing, `only` names the workloads to run (all when empty).
pub fn bench(smoke: bool, native: bool, only: &[String]) -> Result<()> {
    if !(only.is_empty() || smoke || native) {
        bail!("--only goes with --native or --smoke: the full bench writes every workload");
    }
    let all = workloads()?;
    if let Some(unknown) = only.iter().find(|o| !all.iter().any(|w| &w.id == *o)) {
        let ids: Vec<&str> = all.iter().map(|w| w.id.as_str()).collect();
        bail!(
            "no workload {unknown}: the workloads are {}",
            ids.join(", ")
        );
    }
    let chosen = |id: &str| {
        if only.is_empty() {
            !smoke || id == "mlp"
        } else {
            only.iter().any(|o| o == id)
        }
    };
    let plan = if smoke {
        BenchPlan {
            warmup: 1,
            windows: 2,
            batches: 2,
        }
    } else {
        BenchPlan {
            warmup: 5,
            windows: 5,
            batches: 10,
        }
    };
    let load_before = load_average();
    let mut figures: Figures = Vec::new();
    measure_native(
        all.iter().filter(|w| chosen(&w.id)),
        "Kindling native CPU",
        "cpu",
        plan,
        !smoke,
        &mut figures,
    )?;
    if smoke || native {
        println!("bench {}: ok", if smoke { "smoke" } else { "native" });
        return Ok(());
    }
    let gpus = native_gpus()?;
    let gpu_line = if gpus.is_empty() {
        "\nKindling native GPU (wgpu): not measured, wgpu finds no GPU adapter on this machine \
         (none but CPU or software adapters).\n"
            .to_string()
    } else {
        // As the browser's WebGPU figures: fewer, shorter windows.
        let gpu_plan = BenchPlan {
            warmup: 2,
            windows: 3,
            batches: 5,
        };
        measure_native(
            all.iter(),
            "Kindling native GPU (wgpu)",
            "wgpu",
            gpu_plan,
            false,
            &mut figures,
        )?;
        format!(
            "\nKindling native GPU (wgpu) ran on {} (2 warm-up batches, 3 windows of 5 batches).\n",
            gpus.join(", ")
        )
    };
    let python = reference_venv()?;
    for (framework, name) in [("keras", "Keras 3 / JAX CPU"), ("torch", "PyTorch CPU")] {
        let lines = all
            .iter()
            .map(|w| run_reference(&python, framework, &[&w.id, &w.batches.to_string()]))
            .collect::<Result<Vec<_>>>()?;
        for line in lines.concat() {
            let value: serde_json::Value = serde_json::from_str(&line)
                .with_context(|| format!("unreadable line from reference.py: {line}"))?;
            let model = value["model"].as_str().unwrap_or_default().to_string();
            let rate = value["samples_per_second"].as_f64().unwrap_or(0.0);
            println!("{name}, {model}: {rate:.0} samples/s");
            figures.push((model, name.into(), rate));
        }
    }
    let mut notes: Notes = Vec::new();
    browser(&all, &plan, &mut figures, &mut notes)?;
    let flex_gemm = gemm_peak()?;
    let peak = run_reference(&python, "peak", &[])?
        .first()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["flops"].as_f64())
        .context("reference.py peak gave no figure")?;
    println!(
        "machine f32 matmul peak (torch / numpy): {:.1} GFLOP/s",
        peak / 1e9
    );
    let mlp_flops = figures
        .iter()
        .find(|(m, c, _)| m == "mlp" && c == "Kindling native CPU")
        .map(|f| f.2 * mlp_flops_per_sample());
    let load_after = load_average();
    let mut section = report(&all, &figures, &notes, &load_before, &load_after)?;
    if let Some(achieved) = mlp_flops {
        let line = format!(
            "\nThe MLP's training achieves {:.1} GFLOP/s (6 x 238,510 weights per sample: forward, \
             and two matmuls backward): {:.0}% of the machine's measured f32 matmul peak, \
             {:.1} GFLOP/s (the best of PyTorch and numpy on 2048 x 2048 x 2048). burn `flex` \
             itself reaches {:.1} GFLOP/s on that product.\n",
            achieved / 1e9,
            100.0 * achieved / peak,
            peak / 1e9,
            flex_gemm / 1e9
        );
        section = section.replace(END, &format!("{line}{END}"));
    }
    section = section.replace(END, &format!("{gpu_line}{END}"));
    let chart_line = match throughput_chart(&all, &figures, &notes) {
        Ok(()) => format!("\n![samples/s per contender]({CHART})\n"),
        Err(e) => {
            println!("no chart: {e:#}");
            String::new()
        }
    };
    section = section.replace(END, &format!("{chart_line}{END}"));
    println!("{section}");
    crate::report_file::write_section(
        &root().join("BENCHMARKS.md"),
        START,
        END,
        "## Throughput against Keras and PyTorch",
        &section,
    )
}

/// Trains each workload natively on `device` (a `kindling bench --device` name) and adds its
/// samples/s under `contender`; `full_windows` gives each workload windows of its own batches
/// (see [`Workload::batches`]) instead of the plan's.
fn measure_native<'a>(
    workloads: impl Iterator<Item = &'a Workload>,
    contender: &str,
    device: &str,
    plan: BenchPlan,
    full_windows: bool,
    figures: &mut Figures,
) -> Result<()> {
    let data_dir = root().join("data").display().to_string();
    for w in workloads {
        let batches = if full_windows {
            w.batches
        } else {
            plan.batches
        };
        let (warmup, windows, batches) = (
            plan.warmup.to_string(),
            plan.windows.to_string(),
            batches.to_string(),
        );
        let rate = crate::kindling::run(
            &[
                "bench",
                "--workload",
                &w.id,
                "--device",
                device,
                "--warmup",
                &warmup,
                "--windows",
                &windows,
                "--batches",
                &batches,
                "--data-dir",
                &data_dir,
                "--json",
            ],
            false,
        )?
        .first()
        .and_then(|v| v["samples_per_second"].as_f64())
        .context("`kindling bench --json` gave no figure")?;
        println!("{contender}, {}: {rate:.0} samples/s", w.label);
        figures.push((w.id.clone(), contender.into(), rate));
    }
    Ok(())
}

/// The GPU adapters wgpu finds natively (`kindling adapters`: CPU and software adapters left
/// out, their figures would say nothing of a GPU).
fn native_gpus() -> Result<Vec<String>> {
    let values = crate::kindling::run(&["adapters", "--json"], false)?;
    let adapters = values
        .first()
        .and_then(|v| v["adapters"].as_array())
        .context("`kindling adapters --json` gave no list")?;
    Ok(adapters
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect())
}

/// The contenders that have a figure or a note.
fn contenders_measured(
    figures: &Figures,
    notes: &Notes,
) -> Vec<(&'static str, &'static str, Ratio)> {
    CONTENDERS
        .iter()
        .copied()
        .filter(|(name, _, _)| {
            figures.iter().any(|(_, c, _)| c == name) || notes.iter().any(|(_, c, _)| c == name)
        })
        .collect()
}

/// FLOPs of one training sample of the MLP 784-300-10: a multiply-add per weight forward
/// (2 FLOPs), and twice that backward (input and weight gradients).
fn mlp_flops_per_sample() -> f64 {
    let weights = (784 * 300 + 300 * 10) as f64;
    6.0 * weights
}

/// The machine's f32 matmul rate with burn `flex` (`kindling gemm-peak`: the best of a few
/// 2048^3 products), in FLOP/s.
fn gemm_peak() -> Result<f64> {
    crate::kindling::run(&["gemm-peak", "--json"], false)?
        .first()
        .and_then(|v| v["flops"].as_f64())
        .context("`kindling gemm-peak --json` gave no figure")
}

/// The throwaway virtual environment of the reference frameworks (made once, under target/).
pub(crate) fn reference_venv() -> Result<PathBuf> {
    let venv = root().join("target").join("bench-venv");
    let python = venv.join("bin").join("python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import keras, jax, torch, numpy, safetensors"])
            .env("KERAS_BACKEND", "jax")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
    if !ready {
        crate::say(&format!(
            "making {} (pip: keras, jax[cpu], torch, numpy, safetensors; a few GB, 5-10 minutes, once)",
            venv.display()
        ));
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("cannot run python3 -m venv")?;
        if !status.success() {
            bail!("python3 -m venv failed ({status})");
        }
        let status = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "keras",
                "jax[cpu]",
                "torch",
                "numpy",
                "safetensors",
            ])
            .status()
            .context("cannot run pip")?;
        if !status.success() {
            bail!("pip install keras jax[cpu] torch numpy safetensors failed ({status})");
        }
    }
    Ok(python)
}

/// Runs reference.py for one framework, on `model` with its batches per window when given
/// (`[id, batches]`); its JSON lines.
fn run_reference(python: &Path, framework: &str, model: &[&str]) -> Result<Vec<String>> {
    println!("\n==> reference.py {framework}");
    let keras_home = root().join("target").join("bench-keras");
    std::fs::create_dir_all(&keras_home)?;
    let output = Command::new(python)
        .arg(root().join("xtask").join("bench").join("reference.py"))
        .arg(framework)
        .arg("--data")
        .arg(root().join("data"))
        .args(match model {
            [id, batches] => vec!["--models", id, "--batches", batches],
            _ => Vec::new(),
        })
        .env("KERAS_BACKEND", "jax")
        .env("KERAS_HOME", &keras_home)
        .env("JAX_PLATFORMS", "cpu")
        .env("TF_CPP_MIN_LOG_LEVEL", "2")
        .output()
        .context("cannot run reference.py")?;
    if !output.status.success() {
        bail!(
            "reference.py {framework} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(str::to_string)
        .collect())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// CPU model, cores and memory of this machine.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("unknown memory".into(), |kb| {
            format!("{:.0} GiB", kb / 1_048_576.0)
        });
    format!("{cpu}, {cores} cores, {memory}")
}

/// The generated section: the table of samples/s with ratios to Kindling.
fn report(
    workloads: &[Workload],
    figures: &Figures,
    notes: &Notes,
    load_before: &str,
    load_after: &str,
) -> Result<String> {
    let find = |model: &str, contender: &str| {
        figures
            .iter()
            .find(|(m, c, _)| m == model && c == contender)
            .map(|f| f.2)
    };
    let mut out = String::new();
    writeln!(out, "{START}")?;
    writeln!(
        out,
        "Measured by `cargo xtask bench` on {} (load average {load_before} before, {load_after} after).",
        machine()
    )?;
    writeln!(
        out,
        "Samples/s after warm-up, median of timed windows (native and the references: 5 warm-up \
         batches, 5 windows of 50 MLP batches, 10 CNN or LSTM batches; browser: windows of 10 \
         batches, but 2 warm-up batches and 3 windows of 3 batches for \
         the LSTM, and a time budget of 90 s, 120 s for the LSTM: * marks a figure it cut short). Kindling and \
         the references train the real datasets, the references as their users train: Keras with \
         `fit()` (a window is one fit() over its batches, shuffled), PyTorch with a training loop \
         over a shuffled `DataLoader`. The browser \
         figures are headless Chromium 156 on this machine: Kindling's playground (share link of \
         the model, Reproduce; the worker's own count of samples and training seconds) and TF.js \
         4.22 (`trainOnBatch`), both pages cross-origin isolated: \"TF.js wasm\" is its \
         single-threaded wasm build, \"TF.js wasm, threads\" its threaded one (XNNPACK's pool, asked \
         for a thread per logical core) beside Kindling's threaded worker. WebGPU is SwiftShader, \
         a CPU emulation: it says nothing of a real GPU. Ratio: Kindling / other, on the same \
         platform; for Kindling's own variants, the variant / its base column: \"threads\" over \
         one thread (targets on 2 cores: MLP at least 1.6x, CNN at least 1.7x), \"second visit\" \
         over the first, \"threads, second visit\" over the one-thread second visit; for \
         \"views closed\" (the page's live views switched off: layer health, and for MLPs \
         the network view, first-layer weights and boundary map), \
         views open / closed: the share of its speed training keeps with the views open \
         (target at least 0.90x).\n"
    )?;
    let contenders = contenders_measured(figures, notes);
    let names: Vec<&str> = contenders.iter().map(|c| c.0).collect();
    writeln!(out, "| model | {} |", names.join(" | "))?;
    writeln!(out, "|---|{}", "---|".repeat(names.len()))?;
    for w in workloads {
        let cells: Vec<String> = contenders
            .iter()
            .map(|(name, against, ratio)| {
                let mark = if notes.iter().any(|(m, c, _)| *m == w.id && c == name) {
                    "*"
                } else {
                    ""
                };
                match (find(&w.id, name), find(&w.id, against)) {
                    (Some(rate), Some(k)) if rate > 0.0 && k > 0.0 => {
                        let ratio = match ratio {
                            Ratio::KindlingOverThis => k / rate,
                            Ratio::ThisOverBase => rate / k,
                        };
                        format!("{}{mark} ({ratio:.2}x)", figure(rate))
                    }
                    (Some(rate), _) => format!("{}{mark}", figure(rate)),
                    (None, _) if !mark.is_empty() => "n/a*".into(),
                    (None, _) => "–".into(),
                }
            })
            .collect();
        writeln!(out, "| {} | {} |", w.label, cells.join(" | "))?;
    }
    if !notes.is_empty() {
        writeln!(out)?;
        for (model, contender, note) in notes {
            if contender == "main thread" {
                writeln!(
                    out,
                    "Page responsiveness, {model} with the live views open: {note} (target: none over 50 ms).  "
                )?;
            } else if model != "mnist" {
                writeln!(out, "\\* {contender}, {model}: {note}  ")?;
            }
        }
    }
    let times: Vec<&str> = notes
        .iter()
        .filter(|(model, _, _)| model == "mnist")
        .map(|(_, _, note)| note.as_str())
        .collect();
    if !times.is_empty() {
        writeln!(
            out,
            "\n**Time to 98% MNIST in the browser** (target under 15 s):\n"
        )?;
        for note in times {
            writeln!(out, "- {note}.")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{END}")?;
    Ok(out)
}

/// The sentence of one of the bench's times to 98% MNIST (one worker's).
fn time_to_98_note(time: &serde_json::Value) -> String {
    let worker = time["worker"].as_str().unwrap_or("the worker");
    let device = time["device"].as_str().unwrap_or_default();
    // Results written before the bench named its preset timed `mlp-keras`.
    let preset = time["preset"].as_str().unwrap_or("mlp-keras");
    if let Some(error) = time["error"].as_str() {
        return format!("`{preset}` on the CPU device, {worker}: no figure ({error})");
    }
    match time["epoch"].as_u64() {
        Some(epoch) => format!(
            "`{preset}` on the CPU device in the playground, {worker} ({device}), reached {:.2}% \
             test accuracy after epoch {epoch}: {:.1} s after pressing Train ({:.1} s of \
             training, the epochs' evaluations included{}); the page's cold load took {:.2} s",
            100.0 * time["accuracy"].as_f64().unwrap_or(0.0),
            time["seconds_from_train"].as_f64().unwrap_or(0.0),
            time["training_seconds"].as_f64().unwrap_or(0.0),
            stages_text(time),
            time["cold_load_seconds"].as_f64().unwrap_or(0.0),
        ),
        None => format!(
            "`{preset}` in the playground, {worker}, did not reach 98% (best {:.2}%, {:.0} s)",
            100.0 * time["best"].as_f64().unwrap_or(0.0),
            time["seconds_from_train"].as_f64().unwrap_or(0.0)
        ),
    }
}

/// When each stage of the run began, as the progress line named it ("; from pressing Train:
/// downloading at 0.3 s, measuring at 2.1 s, training at 3.0 s"); empty without stages.
fn stages_text(time: &serde_json::Value) -> String {
    let stages: Vec<String> = time["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|stage| {
            let name = stage.get(0)?.as_str()?;
            let at = stage.get(1)?.as_f64()?;
            Some(format!("{name} at {at:.1} s"))
        })
        .collect();
    if stages.is_empty() {
        String::new()
    } else {
        format!("; from pressing Train: {}", stages.join(", "))
    }
}

/// A rate with precision that suits its size.
fn figure(rate: f64) -> String {
    if rate >= 100.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// Runs one test of tests/tests/bench.rs (the whole workspace selected, so that nothing is
/// rebuilt for other features), with `env` naming its input or output file.
fn run_bench_test(test: &str, env: (&str, &Path)) -> Result<()> {
    crate::run_tests(
        &format!(
            "{test} in headless Chromium (the browser tests' native build is the native tests'; \
             a few minutes)"
        ),
        &[
            "test",
            "--workspace",
            "--test",
            "bench",
            "--",
            "--ignored",
            "--nocapture",
            test,
        ],
        &[(env.0, &env.1.display().to_string())],
    )?;
    Ok(())
}

/// The bar chart of `figures` (log scale: the three models differ a thousandfold).
fn throughput_chart(workloads: &[Workload], figures: &Figures, notes: &Notes) -> Result<()> {
    let measured = contenders_measured(figures, notes);
    let rows: Vec<String> = workloads.iter().map(|w| w.id.to_uppercase()).collect();
    let values: Vec<Vec<Option<f64>>> = workloads
        .iter()
        .map(|w| {
            measured
                .iter()
                .map(|(c, _, _)| {
                    figures
                        .iter()
                        .find(|(m, name, _)| *m == w.id && name == c)
                        .map(|f| f.2)
                })
                .collect()
        })
        .collect();
    let contenders: Vec<String> = measured.iter().map(|c| c.0.to_string()).collect();
    crate::chart::bars(
        &root().join(CHART),
        "Training throughput, same models and batches",
        "samples/s (log scale)",
        &rows,
        &contenders,
        &values,
    )
}

/// The browser contenders: the trunk-built playground and TF.js (installed from npm under
/// target/bench-tfjs) in headless Chromium, through tests/tests/bench.rs.
fn browser(
    workloads: &[Workload],
    plan: &BenchPlan,
    figures: &mut Figures,
    notes: &mut Notes,
) -> Result<()> {
    crate::setup_browser()?;
    crate::build_app()?;
    let tfjs = root().join("target").join("bench-tfjs");
    let tf_script = tfjs.join("node_modules/@tensorflow/tfjs/dist/tf.min.js");
    if !tf_script.exists() {
        crate::run(
            "installing TF.js 4.22 from npm into target/bench-tfjs (a minute, once)",
            "npm",
            &[
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                &tfjs.display().to_string(),
                "@tensorflow/tfjs@4.22.0",
                "@tensorflow/tfjs-backend-wasm@4.22.0",
                "@tensorflow/tfjs-backend-webgpu@4.22.0",
            ],
        )?;
    }
    std::fs::copy(
        root().join("xtask").join("bench").join("tfjs.html"),
        tfjs.join("index.html"),
    )?;
    let out = root().join("target").join("bench-browser.json");
    let _ = std::fs::remove_file(&out);
    let workloads: Vec<serde_json::Value> = workloads
        .iter()
        .map(|w| {
            // The LSTM trains at a few samples/s in a browser: fewer, shorter windows and a
            // time budget keep it to minutes (a figure says how many windows it got).
            let (warmup, windows, batches, budget) = if w.id == "lstm" {
                (2, 3, 3, 120.0)
            } else {
                (plan.warmup, plan.windows, plan.batches, 90.0)
            };
            serde_json::json!({
                "id": w.id,
                "config": w.config,
                "warmup": warmup,
                "windows": windows,
                "batches": batches,
                "budget_seconds": budget,
            })
        })
        .collect();
    let plan_path = root().join("target").join("bench-plan.json");
    std::fs::write(
        &plan_path,
        serde_json::to_string_pretty(&serde_json::json!({
            "workloads": workloads,
            "tfjs": tfjs,
            "out": out,
        }))?,
    )?;
    run_bench_test(
        "browser_bench_kindling_and_tfjs",
        ("KINDLING_BENCH_PLAN", &plan_path),
    )?;
    let time_out = root().join("target").join("bench-time-to-98.json");
    let _ = std::fs::remove_file(&time_out);
    run_bench_test(
        "browser_bench_time_to_98_percent_mnist",
        ("KINDLING_BENCH_TIME_OUT", &time_out),
    )?;
    let times: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&time_out).context("the time to 98%")?)?;
    for time in times {
        notes.push(("mnist".into(), "time to 98%".into(), time_to_98_note(&time)));
    }
    let results: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(&out).context("the browser bench's figures")?,
    )?;
    for r in results {
        let model = r["model"].as_str().unwrap_or_default().to_string();
        let contender = r["contender"].as_str().unwrap_or_default().to_string();
        let note = r["note"].as_str().unwrap_or_default().trim().to_string();
        if let Some(rate) = r["samples_per_second"].as_f64() {
            figures.push((model.clone(), contender.clone(), rate));
        }
        if !note.is_empty() {
            notes.push((model, contender, note));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{report, time_to_98_note, Workload};

    #[test]
    fn ratios_read_as_kindling_over_other_frameworks_and_as_the_speed_up_of_its_variants() {
        let workload = Workload {
            id: "mlp".into(),
            label: "MLP".into(),
            batches: 50,
            config: serde_json::Value::Null,
        };
        let figures = [
            ("Kindling native CPU", 1000.0),
            ("PyTorch CPU", 500.0),
            ("Kindling wasm CPU", 200.0),
            ("Kindling wasm CPU, threads", 320.0),
            ("Kindling wasm CPU, views closed", 250.0),
        ]
        .map(|(c, rate)| ("mlp".to_string(), c.to_string(), rate))
        .to_vec();
        let table = report(&[workload], &figures, &Vec::new(), "0", "0").unwrap();
        let row = table.lines().find(|l| l.starts_with("| MLP |")).unwrap();
        assert_eq!(
            row,
            "| MLP | 1000 | 500 (2.00x) | 200 | 320 (1.60x) | 250 (0.80x) |"
        );
    }

    #[test]
    fn the_times_to_98_percent_come_under_one_heading_one_line_per_worker() {
        let workload = Workload {
            id: "mlp".into(),
            label: "MLP".into(),
            batches: 50,
            config: serde_json::Value::Null,
        };
        let figures = vec![("mlp".to_string(), "Kindling wasm CPU".to_string(), 100.0)];
        let notes = ["one thread: 54 s", "threads: 36 s"]
            .map(|n| {
                (
                    "mnist".to_string(),
                    "time to 98%".to_string(),
                    n.to_string(),
                )
            })
            .to_vec();
        let table = report(&[workload], &figures, &notes, "0", "0").unwrap();
        assert_eq!(table.matches("**Time to 98% MNIST").count(), 1, "{table}");
        assert!(
            table.contains("(target under 15 s):\n\n- one thread: 54 s.\n- threads: 36 s.\n"),
            "{table}"
        );
        assert!(!table.contains("\\* time to 98%"), "{table}");
    }

    #[test]
    fn a_time_to_98_percent_names_its_worker_device_and_figures() {
        let reached = serde_json::json!({
            "preset": "mlp-fast",
            "worker": "threads",
            "device": "CPU (wasm SIMD), 2 threads",
            "epoch": 7,
            "accuracy": 0.9812,
            "seconds_from_train": 21.04,
            "training_seconds": 18.5,
            "cold_load_seconds": 0.61,
            "stages": [["downloading", 0.24], ["training", 3.06]],
        });
        let note = time_to_98_note(&reached);
        assert!(note.starts_with("`mlp-fast` on the CPU device"), "{note}");
        assert!(
            note.contains(
                "(18.5 s of training, the epochs' evaluations included; from pressing Train: \
                 downloading at 0.2 s, training at 3.1 s)"
            ),
            "{note}"
        );
        assert!(
            note.contains("threads (CPU (wasm SIMD), 2 threads)"),
            "{note}"
        );
        assert!(
            note.contains("98.12% test accuracy after epoch 7"),
            "{note}"
        );
        assert!(
            note.contains("21.0 s after pressing Train (18.5 s of training"),
            "{note}"
        );
        assert!(note.contains("cold load took 0.61 s"), "{note}");

        let missed = serde_json::json!({
            "worker": "one thread", "epoch": null, "best": 0.9734, "seconds_from_train": 600.2,
        });
        let note = time_to_98_note(&missed);
        assert!(
            note.contains("one thread, did not reach 98% (best 97.34%, 600 s)"),
            "{note}"
        );

        let failed = serde_json::json!({ "worker": "threads", "error": "no worker" });
        assert_eq!(
            time_to_98_note(&failed),
            "`mlp-keras` on the CPU device, threads: no figure (no worker)"
        );
    }
}
