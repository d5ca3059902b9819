//! Layer health: a probed step reports every layer with parameters (histograms of weights,
//! gradients and outputs, norms, the update ratio, dead ReLU units), each epoch's last step is
//! probed when asked, and a learning rate of 10 is flagged as exploding before the loss is NaN.

use burn::tensor::Device;
use kindling_core::block_on;
use kindling_core::data::{Dataset, ExampleShape, Examples, TrainingData};
use kindling_core::inside::health::{HealthWarning, BINS, HISTOGRAM_SAMPLE};
use kindling_core::train::{OptimizerConfig, TrainerState, TrainingRun};
use kindling_core::{DatasetConfig, RunConfig};

fn toy_data(config: &RunConfig) -> TrainingData {
    let DatasetConfig::Toy(toy) = &config.dataset else {
        panic!("a toy preset")
    };
    toy.generate()
}

/// Random 28x28 digits with random labels: enough for a CNN to step on.
fn images(n: usize, seed: u32) -> Dataset {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    Dataset {
        name: "noise".into(),
        shape: ExampleShape::Image([1, 28, 28]),
        examples: Examples::Pixels((0..n * 784).map(|_| (next() % 256) as u8).collect()),
        labels: (0..n).map(|_| next() % 10).collect(),
        num_classes: 10,
        targets: None,
    }
}

#[test]
fn a_probed_step_reports_every_dense_layer() {
    let device = Device::flex();
    let config = RunConfig::preset("spiral-mlp").unwrap(); // 2-16-16-2 tanh, Adam 0.01
    let mut run = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    block_on(run.step()).unwrap();
    assert!(run.take_health().is_empty(), "nothing is read unasked");
    run.request_health();
    block_on(run.step()).unwrap();
    let report = run
        .take_health()
        .pop()
        .expect("the step after the request is probed");
    assert_eq!(report.step, 2);
    assert_eq!(report.epoch, 1);
    let names: Vec<&str> = report.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["dense_1", "dense_2", "dense_3"]);
    // Weights and biases of each layer: 2*16+16, 16*16+16, 16*2+2.
    let counts: Vec<u32> = report
        .layers
        .iter()
        .map(|l| l.weights.counts.iter().sum())
        .collect();
    assert_eq!(counts, [48, 272, 34]);
    for layer in &report.layers {
        assert_eq!(layer.weights.counts.len(), BINS);
        assert_eq!(
            layer.gradients.counts.iter().sum::<u32>(),
            layer.weights.counts.iter().sum::<u32>()
        );
        assert!(layer.gradient_norm > 0.0 && layer.weight_norm > 0.0);
        // Adam at 0.01 moves each weight by about 0.01: a small fraction of the weights.
        assert!(
            layer.update_ratio > 1e-4 && layer.update_ratio < 0.1,
            "{}: {}",
            layer.name,
            layer.update_ratio
        );
        assert_eq!(layer.warning, None, "{}: {:?}", layer.name, layer.note);
        // tanh layers have no dead units to count.
        assert_eq!(layer.dead_share, None);
    }
    // The hidden layers' outputs are read (tanh: within [-1, 1]); the output layer's are not.
    let hidden = report.layers[0].activations.as_ref().unwrap();
    assert!(hidden.low >= -1.0 && hidden.high <= 1.0);
    assert_eq!(hidden.counts.iter().sum::<u32>(), 10 * 16, "a batch of 10");
    assert!(report.layers[2].activations.is_none());
    assert!(run.take_health().is_empty(), "taken once");
    block_on(run.step()).unwrap();
    assert!(run.take_health().is_empty(), "one request, one report");
}

#[test]
fn each_epochs_last_step_is_probed_when_asked() {
    let device = Device::flex();
    let mut config = RunConfig::preset("spiral-mlp").unwrap();
    config.training.epochs = 2;
    let mut run = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    run.request_health();
    run.set_health_per_epoch(true);
    let mut reports = Vec::new();
    while *run.state() == TrainerState::Running {
        block_on(run.step()).unwrap();
        for r in run.take_health() {
            reports.push((r.step, r.epoch, r.epoch_end));
        }
    }
    let per_epoch = run.progress().batches_per_epoch;
    assert_eq!(
        reports,
        [
            (1, 1, false),
            (per_epoch, 1, true),
            (2 * per_epoch, 2, true)
        ]
    );
}

#[test]
fn a_cnn_reports_dead_relu_units_of_its_convolutions() {
    let device = Device::flex();
    let mut config = RunConfig::preset("cnn-seed").unwrap();
    config.training.batch_size = 16;
    let data = TrainingData {
        train: images(32, 1),
        eval: images(16, 2),
        validation: None,
    };
    let mut run = TrainingRun::new(&config, data, &device).unwrap();
    run.request_health();
    block_on(run.step()).unwrap();
    let report = run.take_health().pop().unwrap();
    let names: Vec<&str> = report.layers.iter().map(|l| l.name.as_str()).collect();
    assert!(
        names[0] == "conv2d_1" && names.last() == Some(&"dense_2"),
        "{names:?}"
    );
    let conv = &report.layers[0];
    let dead = conv
        .dead_share
        .expect("a ReLU convolution counts its dead channels");
    assert!((0.0..=1.0).contains(&dead));
    let maps = conv.activations.as_ref().unwrap();
    assert!(maps.low >= 0.0, "ReLU outputs");
    // A large layer's histogram counts an even sample of its weights (and its biases); its
    // norms count all.
    let dense = report.layers.iter().find(|l| l.name == "dense_1").unwrap();
    let counted: u32 = dense.weights.counts.iter().sum();
    assert!(
        (60_000..=HISTOGRAM_SAMPLE as u32 + 1_024).contains(&counted),
        "{counted}"
    );
    assert!(dense.weight_norm > 1.0 && dense.gradient_norm > 0.0);
}

#[test]
fn a_learning_rate_of_10_is_flagged_as_exploding_before_the_loss_is_nan() {
    let device = Device::flex();
    let mut config = RunConfig::preset("spiral-mlp").unwrap();
    config.training.optimizer = OptimizerConfig::adam(10.0);
    config.training.readback_every = 1;
    let mut run = TrainingRun::new(&config, toy_data(&config), &device).unwrap();
    run.request_health();
    block_on(run.step()).unwrap();
    let losses: Vec<f64> = run.history().batches.iter().map(|p| p.loss).collect();
    assert!(
        losses.iter().all(|l| l.is_finite()),
        "not diverged yet: {losses:?}"
    );
    let report = run.take_health().pop().unwrap();
    let exploding: Vec<&str> = report
        .layers
        .iter()
        .filter(|l| l.warning == Some(HealthWarning::Exploding))
        .map(|l| l.name.as_str())
        .collect();
    assert!(!exploding.is_empty(), "{report:?}");
    let note = report.layers[0].note.as_deref().unwrap_or_default();
    assert!(note.contains("learning rate 10"), "{note}");
}
