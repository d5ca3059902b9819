//! RunConfig validation: every preset is valid, every absurd value is named, and no config that
//! deserializes makes validation panic.

use kindling_core::model::ModelConfig;
use kindling_core::run::PRESETS;
use kindling_core::RunConfig;
use rand::{Rng, SeedableRng};

fn fields(config: &RunConfig) -> Vec<String> {
    config.problems().into_iter().map(|p| p.field).collect()
}

#[test]
fn every_preset_is_valid_and_round_trips_through_json() {
    for name in PRESETS.iter().map(|p| p.name) {
        let config = RunConfig::preset(name).unwrap();
        assert_eq!(config.problems(), vec![], "{name}");
        let json = serde_json::to_string(&config).unwrap();
        let back: RunConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config, "{name}");
    }
    assert!(RunConfig::preset("nope").is_none());
}

#[test]
fn absurd_values_name_their_field_and_range() {
    let mut c = RunConfig::preset("mlp-3layer").unwrap();
    c.training.optimizer.learning_rate = 0.0;
    c.training.epochs = 5000;
    c.training.batch_size = 0;
    if let ModelConfig::Mlp(m) = &mut c.model {
        m.hidden[0].units = 0;
        m.hidden[1].units = 5000;
        m.hidden[1].dropout = 1.0;
    }
    let problems = c.problems();
    let f = fields(&c);
    for expected in [
        "training.optimizer.learning_rate",
        "training.epochs",
        "training.batch_size",
        "model.hidden[0].units",
        "model.hidden[1].units",
        "model.hidden[1].dropout",
    ] {
        assert!(
            f.contains(&expected.to_string()),
            "{expected} missing from {f:?}"
        );
    }
    let lr = problems
        .iter()
        .find(|p| p.field == "training.optimizer.learning_rate")
        .unwrap();
    assert!(lr.to_string().contains("(0, 10]"), "{lr}");
    let width = problems
        .iter()
        .find(|p| p.field == "model.hidden[1].units")
        .unwrap();
    assert!(width.to_string().contains("1..=4096"), "{width}");
    assert!(c.validate().is_err());
}

#[test]
fn depth_nan_and_batch_larger_than_the_data_are_rejected() {
    let mut c = RunConfig::preset("mlp-keras").unwrap();
    if let ModelConfig::Mlp(m) = &mut c.model {
        m.hidden = vec![m.hidden[0].clone(); 17];
    }
    c.training.optimizer.learning_rate = f64::NAN;
    c.dataset.set_train_size(100);
    c.training.batch_size = 200;
    let f = fields(&c);
    assert!(f.contains(&"model.hidden".to_string()));
    assert!(f.contains(&"training.optimizer.learning_rate".to_string()));
    assert!(f.contains(&"training.batch_size".to_string()));
}

#[test]
fn imdb_dict_size_and_length_are_bounded_and_must_match_the_model() {
    let mut c = RunConfig::preset("lstm-imdb").unwrap();
    if let kindling_core::DatasetConfig::Imdb(d) = &mut c.dataset {
        d.dict_size = 5000;
    }
    assert_eq!(fields(&c), vec!["model.dict_size".to_string()]);
    if let ModelConfig::Sequence(m) = &mut c.model {
        m.dict_size = 1_000_000;
        m.example_len = 0;
    }
    let f = fields(&c);
    assert!(
        f.contains(&"model.dict_size".to_string()) && f.contains(&"model.example_len".to_string())
    );
}

#[test]
fn a_model_too_large_to_train_is_rejected() {
    let mut c = RunConfig::preset("mlp-keras").unwrap();
    if let ModelConfig::Mlp(m) = &mut c.model {
        for layer in 0..16 {
            let mut l = m.hidden[0].clone();
            l.units = 4096;
            if layer == 0 {
                m.hidden[0] = l
            } else {
                m.hidden.push(l)
            }
        }
    }
    let problems = c.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.field == "model" && p.message.contains("to train")),
        "{problems:?}"
    );
}

/// The configs of `core/tests/configs/` (each needs more memory than a 32-bit `usize` holds, so
/// wrapping arithmetic would let them train) with the refusals of `refusals.json`: the browser's
/// tests (app/src/browser_tests.rs, in wasm32) and the CLI's check the same files.
fn wrapping_configs() -> Vec<(String, RunConfig, Vec<String>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    let refusals: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("refusals.json")).unwrap()).unwrap();
    refusals
        .into_iter()
        .map(|(file, refusal)| {
            let text = std::fs::read_to_string(dir.join(&file)).unwrap();
            (file, serde_json::from_str(&text).unwrap(), refusal)
        })
        .collect()
}

#[test]
fn configs_whose_memory_wraps_32_bits_are_refused_with_their_stated_figures() {
    let configs = wrapping_configs();
    assert_eq!(configs.len(), 3);
    for (file, config, refusal) in configs {
        let problems: Vec<String> = config.problems().iter().map(|p| p.to_string()).collect();
        assert_eq!(problems, refusal, "{file}");
        let (_, bytes) = config.memory_estimate().unwrap();
        assert!(bytes > u32::MAX as u64, "{file}: {bytes} fits 32 bits");
    }
}

#[test]
fn the_memory_of_16_layers_of_4096_at_batch_1000_is_counted_by_hand() {
    let (_, config, _) = wrapping_configs()
        .into_iter()
        .find(|(f, ..)| f.starts_with("mlp-16x4096"))
        .unwrap();
    let (summary, bytes) = config.memory_estimate().unwrap();
    let params = (784 * 4096 + 4096) + 15 * (4096 * 4096 + 4096) + (4096 * 10 + 10);
    assert_eq!(summary.total_params, params);
    // Adam: weights, gradients and two moments; activations and their gradients at batch 1000.
    let activations = 4 * (16 * 4096 + 10);
    assert_eq!(bytes, 4 * params * 4 + 2 * 1000 * activations);
    assert_eq!(bytes, 4_603_984_160);
    // What a 32-bit usize made of it, and let train: about 309 MB.
    assert_eq!(bytes % (1 << 32), 309_016_864);
}

#[test]
fn dataset_and_model_must_fit() {
    let mut c = RunConfig::preset("cnn-seed").unwrap();
    c.dataset = RunConfig::preset("tinytoy-hw1").unwrap().dataset;
    assert!(fields(&c).contains(&"model".to_string()));
}

/// Mutates numbers in the presets' JSON at random; whatever still deserializes must validate
/// without panicking (and summaries must not panic either).
#[test]
fn mutated_configs_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let specials = [
        "0",
        "-1",
        "1e308",
        "4097",
        "0.9999",
        "1",
        "3",
        "100000",
        "18446744073709551615",
        "NaN",
    ];
    let mut deserialized = 0;
    for _ in 0..3000 {
        let name = PRESETS[rng.random_range(0..PRESETS.len())].name;
        let json = serde_json::to_string(&RunConfig::preset(name).unwrap()).unwrap();
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut numbers = Vec::new();
        collect_numbers(&mut value, &mut numbers);
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..numbers.len());
            let pick = specials[rng.random_range(0..specials.len())];
            numbers[i] = pick.to_string();
        }
        let mut k = 0;
        replace_numbers(&mut value, &numbers, &mut k);
        let text = value.to_string();
        if let Ok(config) = serde_json::from_str::<RunConfig>(&text) {
            deserialized += 1;
            let problems = config.problems();
            if problems.is_empty() {
                let _ = config.model.summary();
            }
        }
    }
    assert!(
        deserialized > 1000,
        "only {deserialized} mutated configs deserialized"
    );
}

fn collect_numbers(v: &mut serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Number(n) => out.push(n.to_string()),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| collect_numbers(x, out)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| collect_numbers(x, out)),
        _ => {}
    }
}

fn replace_numbers(v: &mut serde_json::Value, values: &[String], k: &mut usize) {
    match v {
        serde_json::Value::Number(_) => {
            let text = &values[*k];
            *k += 1;
            *v = serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.clone()));
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_numbers(x, values, k)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| replace_numbers(x, values, k)),
        _ => {}
    }
}
