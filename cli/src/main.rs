//! `kindling`: Kindling's command-line runner: model summaries and native training runs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kindling_core::data::loader::load_dataset;
use kindling_core::record::{downsample, RunRecord, RunStatus, MAX_CURVE_POINTS};
use kindling_core::run::PRESETS;
use kindling_core::train::throughput::BenchPlan;
use kindling_core::train::{StepOutcome, TrainerState, TrainingHistory, TrainingRun};
use kindling_core::{DeviceChoice, RunConfig};

mod bench;
mod export;

#[derive(Parser)]
#[command(name = "kindling", version, about = "Train Kindling's models natively")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct RunArgs {
    /// A preset named after a seed experiment (see `kindling presets`).
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// A RunConfig JSON file.
    #[arg(long, conflicts_with = "link")]
    config: Option<PathBuf>,
    /// A run shared from the playground: its link (or the `#run=...` part). The run is
    /// reproduced with the same config and seed, and compared with what the link recorded.
    #[arg(long, conflicts_with = "preset")]
    link: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the presets.
    Presets,
    /// Prints a run config as JSON (a starting point for `--config`).
    Show {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Prints a Keras-like summary of a model.
    Summary {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Measures training throughput (samples/s after warm-up, median of timed windows).
    Bench {
        #[command(flatten)]
        run: RunArgs,
        /// One of `cargo xtask bench`'s workloads (mlp, cnn, lstm; see `kindling workloads`)
        /// instead of a preset, config or link; its windows are the workload's batches.
        #[arg(long, conflicts_with_all = ["preset", "config", "link"])]
        workload: Option<String>,
        /// Device: cpu, ndarray or wgpu.
        #[arg(long, default_value = "cpu", conflicts_with = "devices")]
        device: DeviceChoice,
        /// Several devices (e.g. `cpu,cpu`): every batch split across them, data parallel
        /// (see `train --devices`).
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        devices: Vec<DeviceChoice>,
        /// Warm-up batches before timing.
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Timed windows.
        #[arg(long, default_value_t = 5)]
        windows: usize,
        /// Batches per timed window (default: the workload's, else 10).
        #[arg(long)]
        batches: Option<usize>,
        /// Folder of the converted datasets.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Also prints the result as one line of JSON (`cargo xtask bench` reads it): id, label,
        /// dataset, device, samples_per_second (the median), windows (each window's samples/s),
        /// batch_size, remeasured.
        #[arg(long)]
        json: bool,
    },
    /// Lists `cargo xtask bench`'s workloads: the models and batch sizes measured natively, in
    /// the reference frameworks and in the browser.
    Workloads {
        /// One line of JSON per workload instead: id, label, batches (per timed window) and
        /// config (the RunConfig).
        #[arg(long)]
        json: bool,
    },
    /// Measures the machine's f32 matmul rate with burn `flex` (the CPU device): the best of 4
    /// products of two random SIZE x SIZE matrices.
    GemmPeak {
        /// Matrix size.
        #[arg(long, default_value_t = 2048)]
        size: usize,
        /// Also prints the result as one line of JSON: size, flops (FLOP/s).
        #[arg(long)]
        json: bool,
    },
    /// Lists the GPU adapters wgpu finds on this machine (CPU and software adapters such as
    /// llvmpipe, lavapipe or SwiftShader left out): what `--device wgpu` can run on.
    Adapters {
        /// Prints one line of JSON instead: adapters, a list of "name (backend)".
        #[arg(long)]
        json: bool,
    },
    /// Exports a trained run for PyTorch and Keras 3: its weights as safetensors
    /// (`<run>.safetensors`), its examples' positions or the examples themselves
    /// (`<run>-data.safetensors`) and two scripts (`<run>-pytorch.py`, `<run>-keras.py`) that
    /// rebuild the model, load the weights and print `test accuracy: NN.NN%` (`--train`
    /// retrains it). Prints Kindling's own test accuracy of the weights to compare.
    Export {
        /// A model file: `kindling train --weights`, or the playground's "Download model".
        #[arg(long)]
        weights: PathBuf,
        /// Folder to write the files to (made when missing).
        #[arg(long)]
        out: PathBuf,
        /// Folder of the converted datasets (`cargo xtask data` makes it).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Also prints Kindling's test accuracy as one line of JSON: test_accuracy (a
        /// fraction), test_examples.
        #[arg(long)]
        json: bool,
    },
    /// Loads weights from safetensors (e.g. an export, or `safetensors.torch.save_file` of the
    /// exported PyTorch model's `state_dict()`) or a PyTorch state dict (`torch.save`, .pt or
    /// .pth) into a run's model, and writes a Kindling model file the playground imports.
    Import {
        #[command(flatten)]
        run: RunArgs,
        /// Take the run's config from this Kindling model file (e.g. the one that was
        /// exported) instead of --preset, --config or --link.
        #[arg(long, conflicts_with_all = ["preset", "config", "link"])]
        like: Option<PathBuf>,
        /// The weights: .safetensors, .pt or .pth, with the run's model's names and shapes.
        #[arg(long)]
        weights: PathBuf,
        /// The model file to write (`.bpk`).
        #[arg(long)]
        out: PathBuf,
        /// Folder of the converted datasets, for the test accuracy.
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
    },
    /// Trains a run and prints one line per epoch.
    Train {
        #[command(flatten)]
        run: RunArgs,
        /// Epochs (overrides the config).
        #[arg(long)]
        epochs: Option<usize>,
        /// Learning rate (overrides the config).
        #[arg(long)]
        lr: Option<f64>,
        /// Batch size (overrides the config).
        #[arg(long)]
        batch_size: Option<usize>,
        /// Seed (overrides the config).
        #[arg(long)]
        seed: Option<u64>,
        /// Training-set size of image and IMDB datasets (overrides the config).
        #[arg(long)]
        train_size: Option<usize>,
        /// Device: cpu, ndarray or wgpu (overrides the config).
        #[arg(long, conflicts_with = "devices")]
        device: Option<DeviceChoice>,
        /// Several devices, e.g. `cpu,cpu` or `wgpu,wgpu`: data parallel. Every batch is split
        /// into one shard per device, each trained on its own thread, and the gradients are
        /// summed on the first device before one optimizer step, so the curve is the
        /// single-device run's up to float summation order (dropout masks aside). A device may
        /// repeat: two shards on the CPU are two threads on it.
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        devices: Vec<DeviceChoice>,
        /// Folder of the converted datasets (`cargo xtask data` makes it).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Writes the run as JSON: config, history (per-epoch metrics and the batch curve),
        /// seconds (of training), epoch_seconds (from the start of training to the end of each
        /// epoch, its evaluation included), train_examples, test_examples (held-out examples)
        /// and stopped (why the run ended early, or null). Written for a stopped run too.
        #[arg(long)]
        metrics_json: Option<PathBuf>,
        /// Writes the per-epoch metrics as CSV.
        #[arg(long)]
        metrics_csv: Option<PathBuf>,
        /// Writes the trained model (e.g. `mnist.bpk`: burn's burnpack record, with the run in
        /// its metadata; the playground's "Import model" loads it) and the run as JSON beside it.
        #[arg(long)]
        weights: Option<PathBuf>,
    },
}

/// mimalloc keeps freed pages for reuse; glibc's malloc hands the large buffers burn
/// allocates per op back to the kernel, and training paid for the page faults again each
/// batch (measured in BENCHMARKS.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`kindling workloads --json | head`)
    // panicked in `println!`. The default action ends the program quietly, as Unix tools do.
    #[cfg(unix)]
    // SAFETY: sets a signal's action to the default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn load_config(args: &RunArgs) -> Result<RunConfig> {
    if let Some(link) = &args.link {
        let record = kindling_core::link::decode_link(link)?;
        return Ok(record.config);
    }
    match (&args.preset, &args.config) {
        (Some(name), _) => RunConfig::preset(name).with_context(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            format!("no preset named {name:?}; presets: {}", names.join(", "))
        }),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid run config", path.display()))
        }
        (None, None) => bail!("give --preset NAME, --config FILE or --link URL"),
    }
}

/// `config` when it can be trained; otherwise every problem, one per line (the same list the
/// page shows, from the same checks).
fn checked(config: RunConfig) -> Result<RunConfig> {
    let problems = config.problems();
    if problems.is_empty() {
        return Ok(config);
    }
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    bail!("the run config is invalid:\n{}", list.join("\n"))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Presets => {
            for preset in PRESETS {
                println!("{:<16} {}", preset.name, preset.description);
            }
            Ok(())
        }
        Command::Show { run } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&checked(load_config(&run)?)?)?
            );
            Ok(())
        }
        Command::Summary { run } => {
            let config = checked(load_config(&run)?)?;
            let summary = config.model.summary()?;
            print!("{summary}");
            Ok(())
        }
        Command::Bench {
            run,
            workload,
            device,
            devices,
            warmup,
            windows,
            batches,
            data_dir,
            json,
        } => {
            let (mut config, workload) = match workload {
                Some(id) => {
                    let all = bench::workloads()?;
                    let ids: Vec<&str> = all.iter().map(|w| w.id).collect();
                    let w = all.into_iter().find(|w| w.id == id).with_context(|| {
                        format!("no workload {id:?}; the workloads: {}", ids.join(", "))
                    })?;
                    (w.config.clone(), Some(w))
                }
                None => (load_config(&run)?, None),
            };
            let (device, others) = split_devices(device, &devices);
            config.device = device;
            let config = checked(config)?;
            let plan = BenchPlan {
                warmup,
                windows,
                batches: batches.unwrap_or(workload.as_ref().map_or(10, |w| w.batches)),
            };
            bench(&config, others, workload.as_ref(), &data_dir, plan, json)
        }
        Command::Workloads { json } => {
            for w in bench::workloads()? {
                if json {
                    println!("{}", serde_json::to_string(&w)?);
                } else {
                    println!("{:<5} {} (windows of {} batches)", w.id, w.label, w.batches);
                }
            }
            Ok(())
        }
        Command::GemmPeak { size, json } => {
            let flops = bench::gemm_peak(size)?;
            println!("burn flex f32 matmul {size}^3: {:.1} GFLOP/s", flops / 1e9);
            if json {
                println!("{}", serde_json::json!({ "size": size, "flops": flops }));
            }
            Ok(())
        }
        Command::Adapters { json } => {
            let adapters = bench::gpu_adapters();
            if json {
                println!("{}", serde_json::json!({ "adapters": adapters }));
            } else if adapters.is_empty() {
                println!("wgpu finds no GPU adapter (none but CPU or software adapters)");
            } else {
                for adapter in adapters {
                    println!("{adapter}");
                }
            }
            Ok(())
        }
        Command::Export {
            weights,
            out,
            data_dir,
            json,
        } => export::export(&weights, &out, &data_dir, json),
        Command::Import {
            run,
            like,
            weights,
            out,
            data_dir,
        } => {
            let config = match like {
                Some(path) => export::config_of_model_file(&path)?,
                None => load_config(&run)?,
            };
            export::import(checked(config)?, &weights, &out, &data_dir)
        }
        Command::Train {
            run,
            epochs,
            lr,
            batch_size,
            seed,
            train_size,
            device,
            devices,
            data_dir,
            metrics_json,
            metrics_csv,
            weights,
        } => {
            let mut config = load_config(&run)?;
            if let Some(e) = epochs {
                config.training.epochs = e;
            }
            if let Some(lr) = lr {
                config.training.optimizer.learning_rate = lr;
            }
            if let Some(b) = batch_size {
                config.training.batch_size = b;
            }
            if let Some(s) = seed {
                config.training.seed = s;
            }
            if let Some(n) = train_size {
                config.dataset.set_train_size(n);
            }
            if let Some(device) = device {
                config.device = device;
            }
            let (first, others) = split_devices(config.device, &devices);
            config.device = first;
            let config = checked(config)?;
            let outputs = RunOutputs {
                metrics_json,
                metrics_csv,
                weights,
            };
            let history = train(&config, others, &data_dir, outputs)?;
            if let Some(link) = &run.link {
                let recorded = kindling_core::link::decode_link(link)?;
                compare_with_link(&recorded, &history);
            }
            Ok(())
        }
    }
}

/// The main device and the others of `--devices` (the first is the main one), or `device`
/// alone when none are listed.
fn split_devices(
    device: DeviceChoice,
    devices: &[DeviceChoice],
) -> (DeviceChoice, &[DeviceChoice]) {
    match devices.split_first() {
        Some((first, others)) => (*first, others),
        None => (device, &[]),
    }
}

/// Prints how a reproduced run compares with the run a link recorded.
fn compare_with_link(recorded: &kindling_core::record::RunRecord, history: &TrainingHistory) {
    let recorded_last = recorded.epochs.last().map(|e| e.eval_accuracy);
    let reproduced_last = history.last().map(|e| e.eval_accuracy);
    let mut worst: f64 = 0.0;
    for (a, b) in recorded.epochs.iter().zip(&history.epochs) {
        worst = worst.max((a.eval_accuracy - b.eval_accuracy).abs());
    }
    println!(
        "shared run \"{}\" recorded held-out accuracy {}; reproduced {}; largest per-epoch difference {:.4} over {} epochs (recorded on {})",
        recorded.name,
        recorded_last.map_or("-".into(), |a| format!("{:.2}%", a * 100.0)),
        reproduced_last.map_or("-".into(), |a| format!("{:.2}%", a * 100.0)),
        worst,
        recorded.epochs.len().min(history.epochs.len()),
        recorded.config.device.name(),
    );
}

/// Files a training run writes.
struct RunOutputs {
    metrics_json: Option<PathBuf>,
    metrics_csv: Option<PathBuf>,
    weights: Option<PathBuf>,
}

fn train(
    config: &RunConfig,
    others: &[DeviceChoice],
    data_dir: &std::path::Path,
    outputs: RunOutputs,
) -> Result<TrainingHistory> {
    let device = config.device.open()?;
    let other_devices = others
        .iter()
        .map(|d| d.open())
        .collect::<Result<Vec<_>, _>>()?;
    let data = load_dataset(&config.dataset, data_dir)?;
    let devices: Vec<&str> = std::iter::once(config.device.name())
        .chain(others.iter().map(|d| d.name()))
        .collect();
    println!(
        "{}: {} training and {} test examples; {} {}; engine {:?}",
        config.dataset.name(),
        data.train.len(),
        data.eval.len(),
        if devices.len() > 1 {
            "data parallel on devices"
        } else {
            "device"
        },
        devices.join(", "),
        config.engine
    );
    for change in config.training.steering.iter() {
        println!(
            "steered: after batch {}, {}",
            change.at_step,
            change.describe()
        );
    }
    let total_batches =
        data.train.len().div_ceil(config.training.batch_size) * config.training.epochs;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total_batches as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} batches  {per_sec}  eta {eta}  {msg}",
            )
            .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let examples = ExampleCounts {
        train: data.train.len(),
        test: data.eval.len(),
    };
    let mut run = TrainingRun::new(config, data, &device)?;
    run.set_data_parallel(&other_devices)?;
    let started = Instant::now();
    let mut last_epoch = Instant::now();
    let mut epoch_seconds = Vec::new();
    let mut report = |outcome: &StepOutcome| {
        bar.inc(1);
        if let Some(p) = outcome.point {
            bar.set_message(format!("loss {:.4}", p.loss));
        }
        if let Some(m) = outcome.epoch_end {
            // R² on a regression set, the share classified right on classes.
            let figure = if config.dataset.is_regression() {
                "r2"
            } else {
                "acc"
            };
            let line = format!(
                "epoch {:>3}/{}  {:>6.1}s  loss {:.4}  {figure} {:.4}  val_loss {:.4}  val_{figure} {:.4}",
                m.epoch,
                config.training.epochs,
                last_epoch.elapsed().as_secs_f64(),
                m.train_loss,
                m.train_accuracy,
                m.eval_loss,
                m.eval_accuracy
            );
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
            last_epoch = Instant::now();
            epoch_seconds.push(started.elapsed().as_secs_f64());
        }
    };
    while *run.state() == TrainerState::Running {
        let outcome = kindling_core::block_on(run.step())?;
        report(&outcome);
    }
    let (history, state) = (run.history().clone(), run.state().clone());
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let stopped = match &state {
        TrainerState::Stopped(reason) => Some(reason.to_string()),
        _ => None,
    };
    let times = Times {
        seconds,
        epoch_seconds,
    };
    write_outputs(
        config,
        &history,
        &times,
        examples,
        stopped,
        outputs.metrics_json,
        outputs.metrics_csv,
    )?;
    if let (Some(path), TrainerState::Finished) = (&outputs.weights, &state) {
        write_weights(path, config, &run, seconds)?;
    }
    match state {
        TrainerState::Stopped(reason) => bail!("the run stopped: {reason}"),
        _ => {
            let last = history.last().context("no epoch completed")?;
            println!(
                "final test accuracy {:.2}% (loss {:.4}) after {} epochs in {:.1}s",
                100.0 * last.eval_accuracy,
                last.eval_loss,
                last.epoch,
                seconds
            );
            Ok(history)
        }
    }
}

/// Trains `plan.warmup` batches, then `plan.windows` windows of `plan.batches` batches, and
/// prints the median samples/s (the loss is read back at the end of each window, so the device
/// work is counted); with `json`, the result as one line of JSON too.
fn bench(
    config: &RunConfig,
    others: &[DeviceChoice],
    workload: Option<&bench::Workload>,
    data_dir: &std::path::Path,
    plan: BenchPlan,
    json: bool,
) -> Result<()> {
    let t = bench::measure(config, others, data_dir, plan)?;
    let device = std::iter::once(config.device.name())
        .chain(others.iter().map(|d| d.name()))
        .collect::<Vec<_>>()
        .join(",");
    let (min, max) = t
        .windows
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
    println!(
        "{} on {}: {:.0} samples/s (median of {} windows of {} batches of {}; min {min:.0}, max {max:.0})",
        workload.map_or(config.dataset.name(), |w| w.label),
        device,
        t.median,
        plan.windows,
        plan.batches,
        t.batch_size,
    );
    let each: Vec<String> = t.windows.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "windows in order: {} ({} measured again: an epoch ended in them)",
        each.join(", "),
        t.remeasured
    );
    if json {
        let value = serde_json::json!({
            "id": workload.map(|w| w.id),
            "label": workload.map(|w| w.label),
            "dataset": config.dataset.name(),
            "device": device,
            "samples_per_second": t.median,
            "windows": t.windows,
            "batch_size": t.batch_size,
            "remeasured": t.remeasured,
        });
        println!("{value}");
    }
    Ok(())
}

/// Writes the model file (weights with the run record in their metadata) to `path` and the
/// run record beside it (`.json`).
fn write_weights(
    path: &std::path::Path,
    config: &RunConfig,
    run: &TrainingRun,
    seconds: f64,
) -> Result<()> {
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0);
    let progress = run.progress();
    let history = run.history();
    let record = RunRecord {
        id: created_ms as u64,
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "CLI run".into()),
        notes: format!("trained by the kindling CLI on {}", config.device.name()),
        config: config.clone(),
        status: RunStatus::Finished,
        epochs: history.epochs.clone(),
        curve: downsample(&history.batches, MAX_CURVE_POINTS),
        batches_per_epoch: progress.batches_per_epoch,
        test_accuracy: history.last().map(|e| e.eval_accuracy),
        seconds,
        samples_per_second: progress.samples_seen as f64 / seconds.max(1e-9),
        created_ms,
        shared: false,
        has_weights: true,
    };
    let file = record.model_file(kindling_core::block_on(run.weights())?)?;
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot make {}", folder.display()))?;
    }
    std::fs::write(path, &file).with_context(|| format!("cannot write {}", path.display()))?;
    let json_path = path.with_extension("json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    println!(
        "wrote the weights to {} ({} bytes) and the run to {}",
        path.display(),
        file.len(),
        json_path.display()
    );
    Ok(())
}

/// How long a run trained: in all, and to the end of each epoch (seconds).
struct Times {
    seconds: f64,
    epoch_seconds: Vec<f64>,
}

/// A run's training and held-out example counts.
#[derive(Clone, Copy)]
struct ExampleCounts {
    train: usize,
    test: usize,
}

/// Writes `--metrics-json` and `--metrics-csv` (see their help for what they hold).
fn write_outputs(
    config: &RunConfig,
    history: &TrainingHistory,
    times: &Times,
    examples: ExampleCounts,
    stopped: Option<String>,
    json: Option<PathBuf>,
    csv: Option<PathBuf>,
) -> Result<()> {
    if let Some(path) = json {
        let value = serde_json::json!({
            "config": config,
            "history": history,
            "seconds": times.seconds,
            "epoch_seconds": times.epoch_seconds,
            "train_examples": examples.train,
            "test_examples": examples.test,
            "stopped": stopped,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&value)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = csv {
        let mut text = String::from("epoch,train_loss,train_accuracy,eval_loss,eval_accuracy\n");
        for m in &history.epochs {
            text += &format!(
                "{},{},{},{},{}\n",
                m.epoch, m.train_loss, m.train_accuracy, m.eval_loss, m.eval_accuracy
            );
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
