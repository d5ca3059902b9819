//! Steering: hyper-parameters changed between batches are recorded in the run's config, and
//! training that config from the start replays the run batch for batch, on both engines; out
//! of place changes are refused with the field named; links carry the changes.

use burn::tensor::Device;
use kindling_core::block_on;
use kindling_core::link::{decode_link, encode_link};
use kindling_core::record::RunRecord;
use kindling_core::train::{LrDecay, OptimizerConfig, Steer, TrainingRun};
use kindling_core::{DatasetConfig, RunConfig};

fn toy_data(config: &RunConfig) -> kindling_core::data::TrainingData {
    let DatasetConfig::Toy(toy) = &config.dataset else {
        panic!("a toy preset")
    };
    toy.generate()
}

/// spiral-mlp on SGD with momentum, reading the loss back after every batch.
fn sgd_spiral() -> RunConfig {
    let mut config = RunConfig::preset("spiral-mlp").unwrap();
    config.training.optimizer = OptimizerConfig::sgd(0.1).with_momentum(0.5);
    config.training.readback_every = 1;
    config
}

fn train(run: &mut TrainingRun, batches: usize) {
    for _ in 0..batches {
        block_on(run.step()).unwrap();
    }
}

fn losses(run: &TrainingRun) -> Vec<f64> {
    run.history().batches.iter().map(|p| p.loss).collect()
}

/// The model's outputs on the held-out set (equal outputs: equal weights, as far as a
/// model's behaviour goes).
fn outputs(run: &TrainingRun) -> Vec<f32> {
    block_on(run.probabilities(run.data().held_out())).unwrap()
}

#[test]
fn a_steered_run_replays_batch_for_batch_from_its_config() {
    let device = Device::flex();
    let config = sgd_spiral();
    let mut live = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    train(&mut live, 7);
    let first = live
        .steer(Steer {
            learning_rate: Some(0.02),
            momentum: Some(0.9),
            l2: Some(0.001),
            dropout: Some(0.1),
            ..Steer::default()
        })
        .unwrap();
    assert_eq!(first.at_step, 7, "recorded at the batches trained");
    let settings = live.settings();
    assert_eq!(
        (
            settings.learning_rate,
            settings.momentum,
            settings.l2,
            settings.dropout
        ),
        (0.02, 0.9, 0.001, 0.1)
    );
    train(&mut live, 5);
    live.steer(Steer {
        momentum: Some(0.0),
        dropout: Some(0.0),
        ..Steer::default()
    })
    .unwrap();
    train(&mut live, 4);
    let recorded = live.config().clone();
    assert_eq!(recorded.training.steering.len(), 2);
    assert_eq!(recorded.training.steering[1].at_step, 12);

    let mut replay = TrainingRun::new(&recorded, toy_data(&recorded), &device).unwrap();
    train(&mut replay, 16);
    assert_eq!(
        losses(&replay),
        losses(&live),
        "the replay's curve is the run's"
    );
    assert_eq!(outputs(&replay), outputs(&live), "and so are its weights");

    // The changes did change the run: without them, the curves part after batch 7.
    let mut plain = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    train(&mut plain, 16);
    let (a, b) = (losses(&plain), losses(&live));
    assert_eq!(a[..7], b[..7], "same run up to the change");
    assert!(
        a[8..].iter().zip(&b[8..]).all(|(x, y)| x != y),
        "a smaller learning rate moves every later loss"
    );
}

#[test]
fn the_hand_written_engine_replays_learning_rate_and_weight_decay_changes() {
    let device = Device::flex();
    let mut config = RunConfig::preset("tinytoy-hw1").unwrap();
    config.training.batch_size = 10;
    let mut live = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    train(&mut live, 3);
    live.steer(Steer {
        learning_rate: Some(0.5),
        l2: Some(0.01),
        ..Steer::default()
    })
    .unwrap();
    // Momentum and dropout are not the homework engine's.
    let refused = live
        .steer(Steer {
            momentum: Some(0.9),
            ..Steer::default()
        })
        .unwrap_err();
    assert_eq!(refused.field, "training.steering[1].momentum");
    assert_eq!(
        live.config().training.steering.len(),
        1,
        "a refused change is not kept"
    );
    let per_epoch = toy_data(&config).train.len().div_ceil(10);
    train(&mut live, 2 * per_epoch - 3);
    let mut replay = TrainingRun::new(live.config(), toy_data(&config), &device).unwrap();
    train(&mut replay, 2 * per_epoch);
    assert_eq!(losses(&replay), losses(&live));
    assert_eq!(outputs(&replay), outputs(&live));
}

#[test]
fn changes_out_of_place_are_refused_with_their_field() {
    let device = Device::flex();
    let config = RunConfig::preset("spiral-mlp").unwrap(); // Adam: no momentum
    let mut run = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    train(&mut run, 2);
    let cases = [
        (
            Steer {
                momentum: Some(0.9),
                ..Steer::default()
            },
            "training.steering[0].momentum",
        ),
        (
            Steer {
                learning_rate: Some(-1.0),
                ..Steer::default()
            },
            "training.steering[0].learning_rate",
        ),
        (Steer::default(), "training.steering[0]"),
    ];
    for (change, field) in cases {
        assert_eq!(run.steer(change).unwrap_err().field, field);
    }
    // A config whose changes are out of batch order, or past the run's end, is not trained.
    let mut bad = config.clone();
    let lr = |at_step| Steer {
        at_step,
        learning_rate: Some(0.1),
        ..Steer::default()
    };
    bad.training.steering = vec![lr(5), lr(3)].into();
    let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
    assert_eq!(fields, ["training.steering[1].at_step"]);
    bad.training.steering = vec![lr(usize::MAX)].into();
    assert!(TrainingRun::new(&bad, toy_data(&bad), &device).is_err());
}

#[test]
fn links_carry_the_changes_and_older_links_without_them_still_open() {
    let mut config = sgd_spiral();
    config.training.steering = vec![Steer {
        at_step: 40,
        learning_rate: Some(0.01),
        ..Steer::default()
    }]
    .into();
    let record = RunRecord::started(1, "steered".into(), config.clone(), 0.0);
    let back = decode_link(&encode_link("http://x/", &record)).unwrap();
    assert_eq!(back.config.training.steering, config.training.steering);
    assert_eq!(config.settings_at(39, 90).learning_rate, 0.1);
    assert_eq!(config.settings_at(40, 90).learning_rate, 0.01);

    // A config written before steering existed has none.
    let mut json: serde_json::Value = serde_json::to_value(sgd_spiral()).unwrap();
    json["training"].as_object_mut().unwrap().remove("steering");
    let old: RunConfig = serde_json::from_value(json)
        .map_err(|e| e.to_string())
        .unwrap();
    assert!(old.training.steering.is_empty());
}

#[test]
fn a_change_in_a_replayed_run_replaces_the_changes_planned_after_it() {
    let device = Device::flex();
    let mut config = sgd_spiral();
    let lr = |at_step, v| Steer {
        at_step,
        learning_rate: Some(v),
        ..Steer::default()
    };
    config.training.steering = vec![lr(1, 0.05), lr(5, 0.01)].into();
    let mut run = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    train(&mut run, 3);
    let change = run.steer(lr(0, 0.2)).unwrap();
    assert_eq!(change.at_step, 3);
    assert_eq!(
        run.config().training.steering.0,
        [lr(1, 0.05), lr(3, 0.2)],
        "the change planned for batch 5 gave way"
    );
    train(&mut run, 4);
    assert_eq!(
        run.settings().learning_rate,
        0.2,
        "and is not applied at batch 5"
    );
}

/// `preset` with `epochs` epochs, its rate multiplied by `decay` at every epoch's end.
fn decayed(preset: &str, epochs: usize, decay: f64) -> RunConfig {
    let mut config = RunConfig::preset(preset).unwrap();
    config.training.epochs = epochs;
    config.training.lr_decay = LrDecay(decay);
    config
}

/// The same run with a constant rate, steered at every epoch's boundary to what the decay
/// makes of it.
fn steered_by_hand(decayed: &RunConfig, batches_per_epoch: usize) -> RunConfig {
    let mut config = decayed.clone();
    config.training.lr_decay = LrDecay::NONE;
    let start = config.training.optimizer.learning_rate;
    config.training.steering = (1..config.training.epochs)
        .map(|epoch| Steer {
            at_step: epoch * batches_per_epoch,
            learning_rate: Some(start * decayed.training.lr_decay.0.powi(epoch as i32)),
            ..Steer::default()
        })
        .collect::<Vec<_>>()
        .into();
    config
}

#[test]
fn a_decayed_rate_trains_as_the_same_schedule_steered_by_hand_on_both_engines() {
    let device = Device::flex();
    for config in [
        decayed("spiral-mlp", 3, 0.5),
        decayed("tinytoy-hw1", 3, 0.25),
    ] {
        let mut run = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
        let per_epoch = run.progress().batches_per_epoch;
        let by_hand = steered_by_hand(&config, per_epoch);
        let mut replay = TrainingRun::new(&by_hand, toy_data(&by_hand), &device).unwrap();
        let start = config.training.optimizer.learning_rate;
        train(&mut run, 2 * per_epoch + 1);
        train(&mut replay, 2 * per_epoch + 1);
        assert_eq!(losses(&run), losses(&replay), "{:?}", config.engine);
        assert_eq!(outputs(&run), outputs(&replay), "{:?}", config.engine);
        assert_eq!(run.settings().learning_rate, start * decay_squared(&config));
        assert_eq!(
            config.settings_at(per_epoch - 1, per_epoch).learning_rate,
            start,
            "no decay before the first epoch's end"
        );
        let mut constant = config.clone();
        constant.training.lr_decay = LrDecay::NONE;
        let mut undecayed = TrainingRun::new(&constant, toy_data(&constant), &device).unwrap();
        train(&mut undecayed, 2 * per_epoch + 1);
        assert_ne!(
            outputs(&run),
            outputs(&undecayed),
            "{:?}: the decay changes the run",
            config.engine
        );
    }
}

fn decay_squared(config: &RunConfig) -> f64 {
    config.training.lr_decay.0 * config.training.lr_decay.0
}

#[test]
fn a_rate_steered_at_a_boundary_replaces_the_decayed_one_and_decays_from_there() {
    let mut config = decayed("spiral-mlp", 5, 0.5);
    let start = config.training.optimizer.learning_rate;
    config.training.steering = vec![
        Steer {
            at_step: 100,
            learning_rate: Some(0.04),
            ..Steer::default()
        },
        Steer {
            at_step: 150,
            learning_rate: Some(0.03),
            ..Steer::default()
        },
    ]
    .into();
    let rate = |trained| config.settings_at(trained, 100).learning_rate;
    assert_eq!(rate(99), start);
    assert_eq!(rate(100), 0.04, "steered after the first epoch's decay");
    assert_eq!(rate(150), 0.03);
    assert_eq!(rate(200), 0.015);
    assert_eq!(rate(300), 0.0075);
    assert_eq!(
        rate(10_000),
        0.03 * 0.5f64.powi(4),
        "no decay past the last epoch"
    );
}

#[test]
fn a_decay_out_of_range_is_refused_and_configs_without_one_keep_their_rate() {
    for bad in [0.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
        let config = decayed("mlp-keras", 10, bad);
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("training.lr_decay"), "{bad}: {error}");
    }
    assert!(decayed("mlp-keras", 10, 1.0).validate().is_ok());
    let mut json: serde_json::Value = serde_json::to_value(sgd_spiral()).unwrap();
    json["training"].as_object_mut().unwrap().remove("lr_decay");
    let old: RunConfig = serde_json::from_value(json)
        .map_err(|e| e.to_string())
        .unwrap();
    assert_eq!(old.training.lr_decay, LrDecay::NONE);
}
