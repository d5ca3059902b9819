//! Data parallelism: a batch split across devices trains the single-device curve (up to float
//! summation order), with uneven shards, L2 penalties and every loss; dropout runs stay
//! reproducible; the hand-written engine refuses several devices.

use burn::tensor::Device;
use kindling_core::block_on;
use kindling_core::data::{ToyConfig, ToyKind, TrainingData};
use kindling_core::model::{Activation, DenseLayerConfig, MlpConfig, ModelConfig};
use kindling_core::train::{
    EpochMetrics, LossKind, OptimizerConfig, Trainer, TrainerState, TrainingConfig, TrainingRun,
};
use kindling_core::RunConfig;

/// Two noisy blobs of 290 points: batches of 20 leave a short last batch, and 3 devices get
/// uneven shards.
fn blobs() -> TrainingData {
    ToyConfig::new(ToyKind::Gaussians)
        .with_size(290)
        .with_noise(0.4)
        .generate()
}

fn model(dropout: f64, l2: f64, outputs: usize, activation: Activation) -> ModelConfig {
    ModelConfig::Mlp(
        MlpConfig::new(
            2,
            vec![
                DenseLayerConfig::new(12)
                    .with_activation(Activation::Tanh)
                    .with_l2(l2),
                DenseLayerConfig::new(8).with_dropout(dropout),
            ],
            outputs,
        )
        .with_output_activation(activation)
        .with_output_l2(l2),
    )
}

fn curve(model: &ModelConfig, training: &TrainingConfig, devices: usize) -> Vec<EpochMetrics> {
    let device = Device::flex();
    let mut trainer = Trainer::new(model, training, blobs(), &device).unwrap();
    let others = vec![device; devices - 1];
    trainer.set_data_parallel(&others);
    assert_eq!(trainer.devices(), devices);
    let history = block_on(trainer.run()).unwrap().clone();
    assert_eq!(*trainer.state(), TrainerState::Finished);
    history.epochs
}

fn assert_close(a: &[EpochMetrics], b: &[EpochMetrics], what: &str) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        for (p, q) in [
            (x.train_loss, y.train_loss),
            (x.eval_loss, y.eval_loss),
            (x.train_accuracy, y.train_accuracy),
            (x.eval_accuracy, y.eval_accuracy),
        ] {
            assert!(
                (p - q).abs() < 2e-4,
                "{what}: epoch {}: {p} against {q}",
                x.epoch
            );
        }
    }
}

#[test]
fn a_split_batch_trains_the_single_device_curve() {
    for (loss, outputs, activation, l2) in [
        (LossKind::SoftmaxCrossEntropy, 2, Activation::Softmax, 0.0),
        (LossKind::SoftmaxCrossEntropy, 2, Activation::Softmax, 0.01),
        (LossKind::BinaryCrossEntropy, 1, Activation::Sigmoid, 0.001),
        (LossKind::Quadratic, 2, Activation::Sigmoid, 0.0),
    ] {
        let model = model(0.0, l2, outputs, activation);
        let training = TrainingConfig::new(OptimizerConfig::adam(0.01), loss, 4, 20);
        let one = curve(&model, &training, 1);
        // It learns at all (so that equal curves mean something).
        assert!(
            one.last().unwrap().train_loss < one[0].train_loss * 0.95,
            "{loss:?}: {one:?}"
        );
        for devices in [2, 3] {
            assert_close(
                &one,
                &curve(&model, &training, devices),
                &format!("{loss:?} x{devices}"),
            );
        }
    }
}

#[test]
fn dropout_runs_on_several_devices_are_reproducible() {
    let model = model(0.3, 0.0, 2, Activation::Softmax);
    let training = TrainingConfig::new(
        OptimizerConfig::adam(0.01),
        LossKind::SoftmaxCrossEntropy,
        3,
        20,
    );
    let a = curve(&model, &training, 2);
    let b = curve(&model, &training, 2);
    assert_eq!(a, b);
}

#[test]
fn the_hand_written_engine_refuses_several_devices() {
    let config = RunConfig::preset("tinytoy-hw1").unwrap();
    let data = match &config.dataset {
        kindling_core::DatasetConfig::Toy(t) => t.generate(),
        _ => unreachable!("tinytoy-hw1 is a toy set"),
    };
    let mut run = TrainingRun::new(&config, data, &Device::flex()).unwrap();
    assert!(run.set_data_parallel(&[]).is_ok());
    let err = run.set_data_parallel(&[Device::flex()]).unwrap_err();
    assert!(err.to_string().contains("one device"), "{err}");
}
