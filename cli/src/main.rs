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
use kindling_core::train::throughput::{measure_throughput, BenchPlan};
use kindling_core::train::{StepOutcome, TrainerState, TrainingHistory, TrainingRun};
use kindling_core::{DeviceChoice, RunConfig};

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
        /// Device: cpu, ndarray or wgpu.
        #[arg(long, default_value = "cpu")]
        device: String,
        /// Warm-up batches before timing.
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Timed windows.
        #[arg(long, default_value_t = 5)]
        windows: usize,
        /// Batches per timed window.
        #[arg(long, default_value_t = 10)]
        batches: usize,
        /// Folder of the converted datasets.
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
        #[arg(long)]
        device: Option<String>,
        /// Folder of the converted datasets (`cargo xtask data` makes it).
        #[arg(long, default_value = "data")]
        data_dir: PathBuf,
        /// Writes the run's config and metrics as JSON.
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
            let names: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Presets => {
            for (name, description) in PRESETS {
                println!("{name:<16} {description}");
            }
            Ok(())
        }
        Command::Show { run } => {
            println!("{}", serde_json::to_string_pretty(&load_config(&run)?)?);
            Ok(())
        }
        Command::Summary { run } => {
            let config = load_config(&run)?;
            let summary = config.model.summary()?;
            print!("{summary}");
            Ok(())
        }
        Command::Bench {
            run,
            device,
            warmup,
            windows,
            batches,
            data_dir,
        } => {
            let mut config = load_config(&run)?;
            config.device = DeviceChoice::parse(&device)
                .with_context(|| format!("unknown device {device:?}"))?;
            bench(&config, &data_dir, warmup, windows, batches)
        }
        Command::Train {
            run,
            epochs,
            lr,
            batch_size,
            seed,
            train_size,
            device,
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
            if let Some(d) = device {
                config.device = DeviceChoice::parse(&d)
                    .with_context(|| format!("unknown device {d:?}: use cpu, ndarray or wgpu"))?;
            }
            let problems = config.problems();
            if !problems.is_empty() {
                let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
                bail!("the run config is invalid:\n{}", list.join("\n"));
            }
            let outputs = RunOutputs {
                metrics_json,
                metrics_csv,
                weights,
            };
            let history = train(&config, &data_dir, outputs)?;
            if let Some(link) = &run.link {
                let recorded = kindling_core::link::decode_link(link)?;
                compare_with_link(&recorded, &history);
            }
            Ok(())
        }
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
    data_dir: &std::path::Path,
    outputs: RunOutputs,
) -> Result<TrainingHistory> {
    let device = config.device.open()?;
    let data = load_dataset(&config.dataset, data_dir)?;
    println!(
        "{}: {} training and {} test examples; device {}; engine {:?}",
        config.dataset.name(),
        data.train.len(),
        data.eval.len(),
        config.device.name(),
        config.engine
    );
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
    let started = Instant::now();
    let mut last_epoch = Instant::now();
    let mut report = |outcome: &StepOutcome| {
        bar.inc(1);
        if let Some(p) = outcome.point {
            bar.set_message(format!("loss {:.4}", p.loss));
        }
        if let Some(m) = outcome.epoch_end {
            let line = format!(
                "epoch {:>3}/{}  {:>6.1}s  loss {:.4}  acc {:.4}  val_loss {:.4}  val_acc {:.4}",
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
        }
    };
    let mut run = TrainingRun::new(config, data, &device)?;
    while *run.state() == TrainerState::Running {
        let outcome = kindling_core::block_on(run.step())?;
        report(&outcome);
    }
    let (history, state) = (run.history().clone(), run.state().clone());
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    write_outputs(
        config,
        &history,
        seconds,
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

/// Trains `warmup` batches, then `windows` windows of `batches` batches, and prints the median
/// samples/s (the loss is read back at the end of each window, so the device work is counted).
fn bench(
    config: &RunConfig,
    data_dir: &std::path::Path,
    warmup: usize,
    windows: usize,
    batches: usize,
) -> Result<()> {
    let device = config.device.open()?;
    let data = load_dataset(&config.dataset, data_dir)?;
    let plan = BenchPlan {
        warmup,
        windows,
        batches,
    };
    let t = measure_throughput(config, data, &device, plan)?;
    let (min, max) = t
        .windows
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
    println!(
        "{} on {}: {:.0} samples/s (median of {windows} windows of {batches} batches of {}; min {min:.0}, max {max:.0})",
        config.dataset.name(),
        config.device.name(),
        t.median,
        t.batch_size,
    );
    let each: Vec<String> = t.windows.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "windows in order: {} ({} measured again: an epoch ended in them)",
        each.join(", "),
        t.remeasured
    );
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

fn write_outputs(
    config: &RunConfig,
    history: &TrainingHistory,
    seconds: f64,
    json: Option<PathBuf>,
    csv: Option<PathBuf>,
) -> Result<()> {
    if let Some(path) = json {
        let value = serde_json::json!({ "config": config, "history": history, "seconds": seconds });
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
