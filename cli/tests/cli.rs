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
    let (ok, text) = kindling(&["train", "--config", config.to_str().unwrap()]);
    assert!(
        !ok && text.contains("diverged") && text.contains("smaller learning rate"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
