//! `cargo xtask accuracy`: the seed notebooks' experiments trained natively on the full
//! datasets, with their test accuracy per epoch and time, written to `BENCHMARKS.md` with a
//! chart of the curves. Each experiment's result is kept in `benchmarks/accuracy/NAME.json`
//! (a few hundred bytes, committed with the report it backs), so experiments can be run one at
//! a time (`--only cnn-seed`), on any machine, and the report holds them all. The training is
//! the `kindling` CLI's (`kindling train --preset NAME --metrics-json FILE`, through
//! `cargo run -p kindling-cli`).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::{chart, report_file, root};

/// Where the generated section of BENCHMARKS.md starts and ends.
const START: &str = "<!-- xtask accuracy: start -->";
const END: &str = "<!-- xtask accuracy: end -->";

/// The chart beside the table, relative to the repository root.
const CHART: &str = "benchmarks/accuracy.png";

/// A seed experiment: its preset and the test accuracy the issue asks of it (percent).
struct Experiment {
    preset: &'static str,
    target: Option<f64>,
    seed_figure: &'static str,
}

const EXPERIMENTS: [Experiment; 7] = [
    Experiment {
        preset: "mlp-keras",
        target: Some(98.2),
        seed_figure: "98.0-98.3% (Keras MLP sweeps)",
    },
    Experiment {
        preset: "mlp-fast",
        target: Some(98.0),
        seed_figure: "mlp-keras's model: 98% after 10 epochs at a constant rate",
    },
    Experiment {
        preset: "mlp-3layer",
        target: Some(98.6),
        seed_figure: "98.0-98.6% (3-layer grid)",
    },
    Experiment {
        preset: "cnn-seed",
        target: Some(99.2),
        seed_figure: "over 98.5% (seed CNN table)",
    },
    Experiment {
        preset: "lstm-imdb",
        target: Some(88.5),
        seed_figure: "about 85-89% (IMDB sweeps)",
    },
    Experiment {
        preset: "gru-imdb",
        target: Some(88.5),
        seed_figure: "about 85-89% (IMDB sweeps)",
    },
    Experiment {
        preset: "tinymnist-hw1",
        target: None,
        seed_figure: "report (HW1 notebook)",
    },
];

/// One finished experiment, as kept in `benchmarks/accuracy/NAME.json`.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AccuracyResult {
    /// Preset name.
    pub preset: String,
    /// Test accuracy (percent) after each epoch.
    pub test_accuracy: Vec<f64>,
    /// Seconds from the start of training to the end of each epoch (evaluation included).
    pub seconds: Vec<f64>,
    /// Training examples per epoch.
    pub train_examples: usize,
    /// Held-out (test) examples.
    pub test_examples: usize,
    /// Why the run ended early, if it did.
    pub stopped: Option<String>,
    /// The commit and the machine it ran on.
    pub commit: String,
    /// CPU, cores and memory.
    pub machine: String,
}

/// What this report reads of `kindling train --metrics-json` (see its `--help`).
#[derive(Deserialize)]
struct TrainedRun {
    history: TrainedHistory,
    epoch_seconds: Vec<f64>,
    train_examples: usize,
    test_examples: usize,
    stopped: Option<String>,
}

#[derive(Deserialize)]
struct TrainedHistory {
    epochs: Vec<TrainedEpoch>,
}

#[derive(Deserialize)]
struct TrainedEpoch {
    eval_accuracy: f64,
}

fn result_path(preset: &str) -> PathBuf {
    root()
        .join("benchmarks")
        .join("accuracy")
        .join(format!("{preset}.json"))
}

/// The row the report already shows for `preset`, if it shows a measured one: results
/// measured before they were kept in the repository live only there, and a run of another
/// experiment must not wipe them.
fn earlier_row(report: &str, preset: &str) -> Option<String> {
    let start = report.find(START)?;
    let end = report[start..].find(END)? + start;
    let prefix = format!("| `{preset}` |");
    report[start..end]
        .lines()
        .find(|line| line.starts_with(&prefix) && !line.contains("not run yet"))
        .map(str::to_string)
}

/// Trains the selected experiments (all when `only` is empty) and rewrites the report from
/// every result kept so far. `epochs` overrides the presets' epochs (a quick check).
pub fn accuracy(only: &[String], epochs: Option<usize>) -> Result<()> {
    for name in only {
        if !EXPERIMENTS.iter().any(|e| e.preset == name) {
            let names: Vec<_> = EXPERIMENTS.iter().map(|e| e.preset).collect();
            bail!(
                "no experiment {name}; the experiments: {}",
                names.join(", ")
            );
        }
    }
    let data_dir = root().join("data").display().to_string();
    let scratch = root().join("target").join("accuracy");
    std::fs::create_dir_all(&scratch)?;
    let epochs = epochs.map(|e| e.to_string());
    for experiment in EXPERIMENTS
        .iter()
        .filter(|e| only.is_empty() || only.iter().any(|o| o == e.preset))
    {
        let last_time = std::fs::read_to_string(result_path(experiment.preset))
            .ok()
            .and_then(|text| serde_json::from_str::<AccuracyResult>(&text).ok())
            .map_or(String::new(), |r| {
                format!(
                    "; its last run: {} epochs in {} on {}",
                    r.test_accuracy.len(),
                    duration(r.seconds.last().copied().unwrap_or(0.0)),
                    r.machine
                )
            });
        crate::say(&format!(
            "{}: {} on the full data, natively on the CPU{last_time}",
            experiment.preset,
            match epochs.as_deref() {
                None => "the preset's epochs".to_string(),
                Some("1") => "1 epoch".to_string(),
                Some(e) => format!("{e} epochs"),
            }
        ));
        let metrics = scratch.join(format!("{}.json", experiment.preset));
        let _ = std::fs::remove_file(&metrics);
        let metrics_arg = metrics.display().to_string();
        let mut args = vec![
            "train",
            "--preset",
            experiment.preset,
            "--device",
            "cpu",
            "--data-dir",
            &data_dir,
            "--metrics-json",
            &metrics_arg,
        ];
        if let Some(epochs) = &epochs {
            args.extend(["--epochs", epochs]);
        }
        // A run that stopped early (diverged) fails the CLI but still writes its metrics.
        crate::kindling::run(&args, true)?;
        let text = std::fs::read_to_string(&metrics).with_context(|| {
            format!(
                "`kindling train --preset {}` wrote no metrics (see its output above)",
                experiment.preset
            )
        })?;
        let run: TrainedRun = serde_json::from_str(&text)
            .with_context(|| format!("{} is not what kindling train writes", metrics.display()))?;
        let result = AccuracyResult {
            preset: experiment.preset.into(),
            test_accuracy: run
                .history
                .epochs
                .iter()
                .map(|e| 100.0 * e.eval_accuracy)
                .collect(),
            seconds: run.epoch_seconds,
            train_examples: run.train_examples,
            test_examples: run.test_examples,
            stopped: run.stopped,
            commit: commit(),
            machine: crate::bench::machine(),
        };
        let path = result_path(experiment.preset);
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        std::fs::write(&path, serde_json::to_string_pretty(&result)?)?;
        println!("kept {}", path.display());
    }
    write_report()
}

/// The commit being measured (with "+changes" when the work tree differs from it; the
/// reports these commands write themselves do not count).
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let head = git(&["rev-parse", "--short", "HEAD"]);
    let dirty = !git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":!BENCHMARKS.md",
        ":!benchmarks",
    ])
    .is_empty();
    if dirty {
        format!("{head}+changes")
    } else {
        head
    }
}

/// Rewrites the accuracy section and chart from the kept results (and the earlier report's
/// rows of experiments with no kept result).
fn write_report() -> Result<()> {
    let report_path = root().join("BENCHMARKS.md");
    let earlier = std::fs::read_to_string(&report_path).unwrap_or_default();
    let results: Vec<(&Experiment, Option<AccuracyResult>)> = EXPERIMENTS
        .iter()
        .map(|e| {
            let kept = std::fs::read_to_string(result_path(e.preset))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok());
            (e, kept)
        })
        .collect();
    let mut out = String::new();
    writeln!(out, "{START}")?;
    writeln!(
        out,
        "Trained natively on the CPU device (burn `flex`), full datasets, the presets' own \
         settings and seed; test accuracy after the last epoch (best epoch in brackets). Rerun one \
         with `cargo xtask accuracy --only NAME`, all with `cargo xtask accuracy`.\n"
    )?;
    writeln!(
        out,
        "| preset | target | test accuracy | epochs | time | train / test examples | seed notebooks | run on |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---|---|")?;
    let mut carried = Vec::new();
    for (experiment, result) in &results {
        let target = experiment
            .target
            .map_or("report".into(), |t| format!(">= {t:.1}%"));
        match result {
            Some(r) => {
                let last = r.test_accuracy.last().copied().unwrap_or(0.0);
                let best = r.test_accuracy.iter().copied().fold(0.0, f64::max);
                let verdict = match experiment.target {
                    Some(t) if last >= t => " (met)",
                    Some(_) => " (**missed**)",
                    None => "",
                };
                let stopped = r
                    .stopped
                    .as_ref()
                    .map_or(String::new(), |s| format!("; stopped: {s}"));
                writeln!(
                    out,
                    "| `{}` | {target} | {last:.2}%{verdict} [{best:.2}%] | {} | {} | {} / {} | {} | {}{stopped} |",
                    experiment.preset,
                    r.test_accuracy.len(),
                    duration(r.seconds.last().copied().unwrap_or(0.0)),
                    r.train_examples,
                    r.test_examples,
                    experiment.seed_figure,
                    r.commit,
                )?;
            }
            None => match earlier_row(&earlier, experiment.preset) {
                Some(row) => {
                    carried.push(experiment.preset);
                    writeln!(out, "{row}")?
                }
                None => writeln!(
                    out,
                "| `{}` | {target} | not run yet | | | | {} | `cargo xtask accuracy --only {}` |",
                    experiment.preset, experiment.seed_figure, experiment.preset
                )?,
            },
        }
    }
    if !carried.is_empty() {
        let names: Vec<String> = carried.iter().map(|p| format!("`{p}`")).collect();
        writeln!(
            out,
            "\n{}: measured before results were kept in `benchmarks/accuracy/`; their rows are \
             carried over and the chart has no curve for them until they are run again.",
            names.join(", ")
        )?;
    }
    let series: Vec<chart::Series> = results
        .iter()
        .filter_map(|(e, r)| r.as_ref().map(|r| (e, r)))
        .map(|(e, r)| chart::Series {
            name: e.preset.to_string(),
            points: r
                .test_accuracy
                .iter()
                .enumerate()
                .map(|(i, a)| ((i + 1) as f64, *a))
                .collect(),
        })
        .collect();
    if !series.is_empty() {
        let path = root().join(CHART);
        match chart::lines(
            &path,
            "Test accuracy per epoch (native CPU, full data)",
            "epoch",
            "test accuracy (%)",
            &series,
        ) {
            Ok(()) => writeln!(out, "\n![test accuracy per epoch]({CHART})")?,
            Err(e) => println!("no chart: {e:#}"),
        }
    }
    writeln!(out, "{END}")?;
    println!("{out}");
    report_file::write_section(
        &report_path,
        START,
        END,
        "## Accuracy of the seed experiments (`cargo xtask accuracy`)",
        &out,
    )
}

fn duration(seconds: f64) -> String {
    if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{:.1} min", seconds / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_measured_row_is_found_and_a_placeholder_is_not() {
        let report = format!(
            "intro | `mlp-keras` | outside |\n{START}\n| preset | target |\n\
             | `mlp-keras` | >= 98.2% | 98.15% (**missed**) | 10 |\n\
             | `lstm-imdb` | >= 88.5% | not run yet | | |\n{END}\n| `gru-imdb` | after |\n"
        );
        assert_eq!(
            earlier_row(&report, "mlp-keras").as_deref(),
            Some("| `mlp-keras` | >= 98.2% | 98.15% (**missed**) | 10 |")
        );
        assert_eq!(earlier_row(&report, "lstm-imdb"), None);
        assert_eq!(
            earlier_row(&report, "gru-imdb"),
            None,
            "outside the section"
        );
        assert_eq!(earlier_row("no section", "mlp-keras"), None);
    }
}
