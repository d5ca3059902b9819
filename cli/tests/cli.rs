//! The `kindling` command as a user runs it.

use std::process::Command;

fn kindling(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(args)
        .output()
        .expect("kindling runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn summaries_show_the_seed_parameter_counts() {
    for (preset, expected) in [
        ("cnn-seed", "Total params: 4,619,842"),
        ("cnn-seed-2conv", "Total params: 1,087,106"),
    ] {
        let (ok, text) = kindling(&["summary", "--preset", preset]);
        assert!(ok && text.contains(expected), "{preset}: {text}");
    }
    let (_, text) = kindling(&["summary", "--preset", "lstm-imdb"]);
    assert!(
        text.lines()
            .any(|l| l.contains("(LSTM)") && l.contains("49,408")),
        "{text}"
    );
    let (_, text) = kindling(&["summary", "--preset", "gru-imdb"]);
    assert!(
        text.lines()
            .any(|l| l.contains("(GRU)") && l.contains("98,688")),
        "{text}"
    );
}

#[test]
fn tinytoy_hw1_trains_to_95_percent_and_writes_metrics() {
    let dir = std::env::temp_dir().join(format!("kindling-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("run.json");
    let csv = dir.join("run.csv");
    let (ok, text) = kindling(&[
        "train",
        "--preset",
        "tinytoy-hw1",
        "--metrics-json",
        json.to_str().unwrap(),
        "--metrics-csv",
        csv.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("epoch")).count(),
        30,
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("final test accuracy"))
        .expect("a final line");
    let accuracy: f64 = line
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(accuracy >= 95.0, "{line}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(metrics["history"]["epochs"].as_array().unwrap().len(), 30);
    // What `cargo xtask accuracy` reads besides the history.
    let epoch_seconds = metrics["epoch_seconds"].as_array().unwrap();
    assert_eq!(epoch_seconds.len(), 30);
    assert!(epoch_seconds
        .windows(2)
        .all(|w| w[0].as_f64().unwrap() <= w[1].as_f64().unwrap()));
    assert!(metrics["train_examples"].as_u64().unwrap() > 0);
    assert!(metrics["test_examples"].as_u64().unwrap() > 0);
    assert!(metrics["stopped"].is_null());
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 31);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_gets_a_clear_message_not_a_panic() {
    let (ok, text) = kindling(&["train", "--preset", "tinytoy-hw1", "--lr", "0"]);
    assert!(
        !ok && text.contains("training.optimizer.learning_rate") && text.contains("(0, 10]"),
        "{text}"
    );
    let (ok, text) = kindling(&["train", "--preset", "nope"]);
    assert!(!ok && text.contains("no preset named"), "{text}");
    let (ok, text) = kindling(&[
        "train",
        "--preset",
        "mlp-keras",
        "--data-dir",
        "/nonexistent",
    ]);
    assert!(!ok && text.contains("cargo xtask data"), "{text}");
    let (ok, text) = kindling(&["train", "--preset", "tinytoy-hw1", "--device", "tpu"]);
    assert!(!ok && text.contains("unknown device"), "{text}");
    assert!(!text.contains("panicked"));
}

#[test]
fn a_diverging_run_says_why() {
    let dir = std::env::temp_dir().join(format!("kindling-cli-div-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("run.json");
    let mut run: serde_json::Value =
        serde_json::from_str(&kindling(&["show", "--preset", "tinytoy-hw1"]).1).unwrap();
    run["engine"] = "autodiff".into();
    run["model"]["output_activation"] = "Linear".into();
    run["training"]["optimizer"]["learning_rate"] = 10.0.into();
    std::fs::write(&config, run.to_string()).unwrap();
    let metrics = dir.join("metrics.json");
    let (ok, text) = kindling(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--metrics-json",
        metrics.to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("diverged") && text.contains("smaller learning rate"),
        "{text}"
    );
    // The metrics of a stopped run are written too, with the reason.
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert!(
        metrics["stopped"].as_str().unwrap().contains("diverged"),
        "{metrics}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The JSON lines of `kindling ARGS` (what `cargo xtask bench` reads).
fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let (ok, text) = kindling(args);
    assert!(ok, "{text}");
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_benchmark_measures_through_json() {
    let workloads = json_lines(&["workloads", "--json"]);
    let ids: Vec<&str> = workloads
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mlp", "cnn", "lstm"]);
    for w in &workloads {
        assert!(w["batches"].as_u64().unwrap() > 0 && w["label"].is_string());
        assert!(w["config"]["model"].is_object(), "{w}");
    }
    // A toy set (generated, so no data files needed), tiny windows.
    let result = json_lines(&[
        "bench",
        "--preset",
        "spiral-mlp",
        "--warmup",
        "1",
        "--windows",
        "2",
        "--batches",
        "2",
        "--json",
    ]);
    assert_eq!(result.len(), 1);
    assert!(result[0]["samples_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(result[0]["windows"].as_array().unwrap().len(), 2);
    assert_eq!(result[0]["device"], "cpu");
    let (ok, text) = kindling(&["bench", "--workload", "nope"]);
    assert!(!ok && text.contains("no workload"), "{text}");
    let peak = json_lines(&["gemm-peak", "--size", "64", "--json"]);
    assert!(peak[0]["flops"].as_f64().unwrap() > 0.0);
    // Most machines that run the tests have no GPU: the list may be empty, but it is a list.
    let adapters = json_lines(&["adapters", "--json"]);
    assert!(adapters[0]["adapters"].is_array());
}

/// The configs whose memory would wrap a 32-bit `usize` (core/tests/configs/) are refused by
/// every command that reads a config, with the refusal core's tests and the browser's wasm32
/// tests expect (core/tests/configs/refusals.json).
#[test]
fn every_command_refuses_configs_whose_memory_wraps_32_bits() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/configs");
    let refusals: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("refusals.json")).unwrap()).unwrap();
    assert_eq!(refusals.len(), 3);
    for (file, refusal) in refusals {
        let path = dir.join(&file);
        for command in ["summary", "show", "bench", "train"] {
            let (ok, text) = kindling(&[command, "--config", path.to_str().unwrap()]);
            assert!(!ok, "{command} {file} was accepted: {text}");
            for line in &refusal {
                assert!(text.contains(line), "{command} {file}: {text}");
            }
            assert!(!text.contains("panicked"), "{command} {file}: {text}");
        }
    }
}

/// A size far beyond any limit (it overflowed the debug build's parameter count) is named
/// with its range, without a panic.
#[test]
fn a_huge_input_count_is_refused_without_a_panic() {
    let dir = std::env::temp_dir().join(format!("kindling-cli-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_, shown) = kindling(&["show", "--preset", "mlp-keras"]);
    let mut config: serde_json::Value = serde_json::from_str(&shown).unwrap();
    config["model"]["inputs"] = serde_json::json!(1_000_000_000_000_000_000u64);
    config["model"]["hidden"][0]["units"] = serde_json::json!(1_000_000_000_000u64);
    let path = dir.join("huge.json");
    std::fs::write(&path, config.to_string()).unwrap();
    for command in ["summary", "show", "bench", "train"] {
        let (ok, text) = kindling(&[command, "--config", path.to_str().unwrap()]);
        assert!(!ok && !text.contains("panicked"), "{command}: {text}");
        assert!(
            text.contains("model.inputs = 1000000000000000000: must be in 1..=100000"),
            "{command}: {text}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_run_exports_to_safetensors_and_scripts_and_imports_back() {
    let dir = std::env::temp_dir().join(format!("kindling-cli-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let weights = dir.join("spiral.bpk");
    let weights_arg = weights.to_str().unwrap();
    let (ok, text) = kindling(&[
        "train",
        "--preset",
        "spiral-mlp",
        "--epochs",
        "3",
        "--weights",
        weights_arg,
    ]);
    assert!(ok, "{text}");
    let out = dir.join("out");
    let (ok, text) = kindling(&[
        "export",
        "--weights",
        weights_arg,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{text}");
    for file in [
        "spiral.safetensors",
        "spiral-data.safetensors",
        "spiral-pytorch.py",
        "spiral-keras.py",
    ] {
        assert!(out.join(file).is_file(), "{file} missing: {text}");
    }
    let reported: serde_json::Value = text
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .expect("a JSON line");
    let exported_accuracy = reported["test_accuracy"].as_f64().unwrap();
    // The exported safetensors back into Kindling: the same test accuracy.
    let back = dir.join("back.bpk");
    let (ok, text) = kindling(&[
        "import",
        "--like",
        weights_arg,
        "--weights",
        out.join("spiral.safetensors").to_str().unwrap(),
        "--out",
        back.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("test accuracy {:.2}%", 100.0 * exported_accuracy)),
        "{text}"
    );
    // Another model's weights are refused, naming what does not fit.
    let (ok, text) = kindling(&[
        "import",
        "--preset",
        "tinytoy-hw1",
        "--weights",
        out.join("spiral.safetensors").to_str().unwrap(),
        "--out",
        dir.join("bad.bpk").to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("do not fit") && !text.contains("panicked"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
