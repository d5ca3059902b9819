//! `cargo xtask exports`: trains a short MLP, CNN and LSTM run with the `kindling` CLI,
//! exports each (`kindling export`), runs the generated PyTorch and Keras scripts in the
//! bench's virtual environment and compares their test accuracy with Kindling's, then writes
//! the table to BENCHMARKS.md. Fails when a script's accuracy is more than 0.1 point off.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::root;

/// Largest difference between a script's test accuracy and Kindling's, in points.
const TOLERANCE_POINTS: f64 = 0.1;

/// A short run of each exported model kind.
struct Case {
    id: &'static str,
    what: &'static str,
    train: &'static [&'static str],
}

const CASES: [Case; 3] = [
    Case {
        id: "mlp",
        what: "MLP 784-500-300-10 (mlp-3layer), MNIST, 2 epochs on 10,000 images",
        train: &[
            "--preset",
            "mlp-3layer",
            "--epochs",
            "2",
            "--train-size",
            "10000",
        ],
    },
    Case {
        id: "cnn",
        what: "CNN (cnn-seed), MNIST, 1 epoch on 5,000 images",
        train: &[
            "--preset",
            "cnn-seed",
            "--epochs",
            "1",
            "--train-size",
            "5000",
        ],
    },
    Case {
        id: "lstm",
        what: "Embedding + LSTM (lstm-imdb), IMDB, 1 epoch on 2,000 reviews",
        train: &[
            "--preset",
            "lstm-imdb",
            "--epochs",
            "1",
            "--train-size",
            "2000",
        ],
    },
];

const START: &str = "<!-- exports:start -->";
const END: &str = "<!-- exports:end -->";

/// The `test accuracy: NN.NN%` a script printed, in percent.
fn printed_accuracy(output: &str, prefix: &str) -> Option<f64> {
    output
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix(prefix))
        .and_then(|rest| rest.split('%').next())
        .and_then(|n| n.trim().parse().ok())
}

fn run_script(python: &Path, script: &Path, data: &Path) -> Result<(f64, f64)> {
    println!("\n==> python {}", script.display());
    let start = std::time::Instant::now();
    let output = Command::new(python)
        .arg(script)
        .arg("--data")
        .arg(data)
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .env("TF_CPP_MIN_LOG_LEVEL", "2")
        .output()
        .with_context(|| format!("cannot run {}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    if !output.status.success() {
        bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let accuracy = printed_accuracy(&stdout, "test accuracy:")
        .with_context(|| format!("{} printed no `test accuracy:` line", script.display()))?;
    Ok((accuracy, start.elapsed().as_secs_f64()))
}

/// Runs the check and writes its table.
pub fn exports() -> Result<()> {
    let python = crate::bench::reference_venv()?;
    let scratch = root().join("target").join("exports");
    std::fs::create_dir_all(&scratch)?;
    let data = root().join("data");
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for case in CASES {
        let weights = scratch.join(format!("{}.bpk", case.id));
        let weights_arg = weights.display().to_string();
        let mut args = vec!["train"];
        args.extend_from_slice(case.train);
        args.extend(["--weights", &weights_arg]);
        crate::kindling::run(&args, false)?;
        let out = scratch.join(case.id);
        let out_arg = out.display().to_string();
        let reported = crate::kindling::run(
            &[
                "export",
                "--weights",
                &weights_arg,
                "--out",
                &out_arg,
                "--json",
            ],
            false,
        )?;
        let kindling = reported
            .first()
            .and_then(|v| v["test_accuracy"].as_f64())
            .context("`kindling export --json` gave no test accuracy")?
            * 100.0;
        let stem = case.id;
        let (torch, torch_s) = run_script(&python, &out.join(format!("{stem}-pytorch.py")), &data)?;
        let (keras, keras_s) = run_script(&python, &out.join(format!("{stem}-keras.py")), &data)?;
        for (framework, accuracy) in [("PyTorch", torch), ("Keras", keras)] {
            if (accuracy - kindling).abs() > TOLERANCE_POINTS {
                failures.push(format!(
                    "{}: {framework} {accuracy:.2}% against Kindling's {kindling:.2}%",
                    case.id
                ));
            }
        }
        rows.push(format!(
            "| {} | {kindling:.2}% | {torch:.2}% ({torch_s:.0} s) | {keras:.2}% ({keras_s:.0} s) |",
            case.what
        ));
    }
    let section = format!(
        "{START}\n`cargo xtask exports` trains each run with the CLI, exports it (`kindling export`: \
         weights as safetensors through burn-store, the data file, the two scripts) and runs \
         the scripts in the bench's virtual environment (PyTorch CPU, Keras 3 on JAX CPU). Each \
         script rebuilds the model, loads the weights and evaluates the same test set; the \
         check fails when one is more than {TOLERANCE_POINTS} point off Kindling's own test \
         accuracy of the weights. Times are the scripts' whole runs (reading the data \
         included).\n\n\
         | run | Kindling | PyTorch script | Keras script |\n|---|---|---|---|\n{}\n{END}\n",
        rows.join("\n")
    );
    crate::report_file::write_section(
        &root().join("BENCHMARKS.md"),
        START,
        END,
        "## Exports to PyTorch and Keras (`cargo xtask exports`)",
        &section,
    )?;
    if !failures.is_empty() {
        bail!(
            "exported scripts disagree with Kindling:\n  {}",
            failures.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_accuracy_is_read_from_the_last_line_that_has_it() {
        let out = "epoch 1/2: loss 0.3, test accuracy 90.00%\nrun: 10000 test examples\ntest accuracy: 97.31%\n";
        assert_eq!(printed_accuracy(out, "test accuracy:"), Some(97.31));
        assert_eq!(printed_accuracy("nothing", "test accuracy:"), None);
    }
}
