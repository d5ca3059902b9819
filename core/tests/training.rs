//! The trainer on small problems: every loss and optimizer learns, runs are reproducible, a
//! diverging run stops with a reason, and the hand-written engine matches autodiff.

use burn::tensor::{Device, Tensor};
use kindling_core::block_on;
use kindling_core::data::{ToyConfig, ToyKind, TrainingData};
use kindling_core::model::{
    Activation, BatchInput, DenseLayerConfig, MlpConfig, ModelConfig, WeightInit,
};
use kindling_core::train::{
    L2Mode, LossKind, OptimizerConfig, OptimizerKind, StopReason, Trainer, TrainerState,
    TrainingConfig,
};

fn gaussians() -> TrainingData {
    ToyConfig::new(ToyKind::Gaussians)
        .with_size(400)
        .with_noise(0.2)
        .generate()
}

fn mlp(outputs: usize, output_activation: Activation) -> ModelConfig {
    ModelConfig::Mlp(
        MlpConfig::new(
            2,
            vec![DenseLayerConfig::new(16).with_activation(Activation::Tanh)],
            outputs,
        )
        .with_output_activation(output_activation),
    )
}

/// Trains `epochs` and returns (first epoch's train loss, last epoch's train loss, last eval accuracy).
fn losses(model: &ModelConfig, training: &TrainingConfig, data: TrainingData) -> (f64, f64, f64) {
    let mut trainer = Trainer::new(model, training, data, &Device::flex()).unwrap();
    let history = block_on(trainer.run()).unwrap().clone();
    assert_eq!(*trainer.state(), TrainerState::Finished);
    let first = history.epochs.first().unwrap();
    let last = history.last().unwrap();
    (first.train_loss, last.train_loss, last.eval_accuracy)
}

#[test]
fn every_loss_falls() {
    let cases = [
        (LossKind::SoftmaxCrossEntropy, 2, Activation::Softmax),
        (LossKind::BinaryCrossEntropy, 1, Activation::Sigmoid),
        (LossKind::Quadratic, 2, Activation::Sigmoid),
        (LossKind::Quadratic, 2, Activation::Linear),
    ];
    for (loss, outputs, activation) in cases {
        let training = TrainingConfig::new(OptimizerConfig::adam(0.01), loss, 5, 16);
        let (first, last, acc) = losses(&mlp(outputs, activation), &training, gaussians());
        assert!(
            last < 0.8 * first,
            "{loss:?}/{activation:?}: loss {first} -> {last}"
        );
        assert!(acc > 0.9, "{loss:?}/{activation:?}: accuracy {acc}");
    }
}

#[test]
fn every_optimizer_learns() {
    let optimizers = [
        OptimizerConfig::sgd(0.1),
        OptimizerConfig::sgd(0.05).with_momentum(0.9),
        OptimizerConfig::sgd(0.05)
            .with_momentum(0.9)
            .with_nesterov(true),
        OptimizerConfig::adam(0.01),
        OptimizerConfig::new(OptimizerKind::RmsProp, 0.005),
    ];
    for optimizer in optimizers {
        let training = TrainingConfig::new(optimizer.clone(), LossKind::SoftmaxCrossEntropy, 5, 16);
        let (first, last, acc) = losses(&mlp(2, Activation::Softmax), &training, gaussians());
        assert!(last < 0.8 * first, "{optimizer:?}: loss {first} -> {last}");
        assert!(acc > 0.9, "{optimizer:?}: accuracy {acc}");
    }
}

#[test]
fn both_l2_modes_shrink_the_weights() {
    let norm = |l2: f64, mode: L2Mode| {
        let model = ModelConfig::Mlp(
            MlpConfig::new(2, vec![DenseLayerConfig::new(16).with_l2(l2)], 2).with_output_l2(l2),
        );
        let training = TrainingConfig::new(
            OptimizerConfig::sgd(0.1),
            LossKind::SoftmaxCrossEntropy,
            5,
            16,
        )
        .with_l2_mode(mode);
        let mut trainer = Trainer::new(&model, &training, gaussians(), &Device::flex()).unwrap();
        block_on(trainer.run()).unwrap();
        trainer
            .model()
            .dense_weights()
            .into_iter()
            .map(|w| (w.clone() * w).sum().into_scalar::<f32>() as f64)
            .sum::<f64>()
    };
    let free = norm(0.0, L2Mode::KerasLoss);
    assert!(norm(0.05, L2Mode::KerasLoss) < 0.7 * free);
    assert!(norm(0.05, L2Mode::WeightDecay) < 0.8 * free);
    // Keras's penalty has twice the gradient of weight decay with the same coefficient.
    assert!(norm(0.05, L2Mode::KerasLoss) < norm(0.05, L2Mode::WeightDecay));
}

#[test]
fn same_seed_same_curve_other_seed_other_curve() {
    let model = ModelConfig::Mlp(MlpConfig::new(
        2,
        vec![DenseLayerConfig::new(16).with_dropout(0.3)],
        2,
    ));
    let run = |seed| {
        let training = TrainingConfig::new(
            OptimizerConfig::adam(0.01),
            LossKind::SoftmaxCrossEntropy,
            3,
            16,
        )
        .with_seed(seed)
        .with_readback_every(1);
        let mut trainer = Trainer::new(&model, &training, gaussians(), &Device::flex()).unwrap();
        block_on(trainer.run()).unwrap().clone()
    };
    let a = run(7);
    let b = run(7);
    let c = run(8);
    assert_eq!(a.batches.len(), 3 * 20);
    assert_eq!(a, b, "the same seed must give the same curve");
    assert_ne!(a.batches, c.batches, "another seed must give another curve");
}

#[test]
fn same_seed_same_curve_while_other_threads_draw_from_the_generator() {
    // Other threads building models and training dropout runs draw from the same process-wide
    // CPU generator; a seeded run must not see their draws.
    let model = ModelConfig::Mlp(MlpConfig::new(
        2,
        vec![DenseLayerConfig::new(16).with_dropout(0.3)],
        2,
    ));
    let training = |seed| {
        TrainingConfig::new(
            OptimizerConfig::adam(0.01),
            LossKind::SoftmaxCrossEntropy,
            2,
            16,
        )
        .with_seed(seed)
        .with_readback_every(1)
    };
    let run = |seed| {
        let mut trainer =
            Trainer::new(&model, &training(seed), gaussians(), &Device::flex()).unwrap();
        block_on(trainer.run()).unwrap().clone()
    };
    let quiet = run(7);
    let done = std::sync::atomic::AtomicBool::new(false);
    let noisy = std::thread::scope(|scope| {
        for other_seed in [100, 200] {
            let (model, done, training) = (&model, &done, &training);
            scope.spawn(move || {
                let device = Device::flex();
                let mut trainer =
                    Trainer::new(model, &training(other_seed), gaussians(), &device).unwrap();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    // A model built and used at once, and a dropout run's training steps.
                    let input = Tensor::<2>::zeros([4, 2], &device);
                    model
                        .init(&device)
                        .unwrap()
                        .forward(BatchInput::Features(input));
                    let outcome = block_on(trainer.step()).unwrap();
                    if outcome.state != TrainerState::Running {
                        trainer = Trainer::new(model, &training(other_seed), gaussians(), &device)
                            .unwrap();
                    }
                }
            });
        }
        let runs: Vec<_> = (0..6).map(|_| run(7)).collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        runs
    });
    for history in noisy {
        assert_eq!(history, quiet, "other threads' draws changed a seeded run");
    }
}

#[test]
fn a_diverging_run_stops_with_a_reason() {
    let model = ModelConfig::Mlp(
        MlpConfig::new(
            2,
            vec![DenseLayerConfig::new(32).with_activation(Activation::Relu)],
            2,
        )
        .with_output_activation(Activation::Linear)
        .with_init(WeightInit::NielsenRandn),
    );
    let training = TrainingConfig::new(OptimizerConfig::sgd(10.0), LossKind::Quadratic, 50, 8)
        .with_readback_every(1);
    let data = ToyConfig::new(ToyKind::Circle).with_size(400).generate();
    let mut trainer = Trainer::new(&model, &training, data, &Device::flex()).unwrap();
    let history = block_on(trainer.run()).unwrap().clone();
    match trainer.state() {
        TrainerState::Stopped(reason @ StopReason::NonFiniteLoss { learning_rate, .. }) => {
            assert_eq!(*learning_rate, 10.0);
            assert!(reason.to_string().contains("smaller learning rate"));
        }
        other => panic!("expected a non-finite-loss stop, got {other:?}"),
    }
    assert!(history.epochs.len() < 50);
    // Stepping a stopped trainer does nothing and does not panic.
    let again = block_on(trainer.step()).unwrap();
    assert!(again.point.is_none());
}

#[test]
fn stop_ends_a_run() {
    let model = mlp(2, Activation::Softmax);
    let training = TrainingConfig::new(
        OptimizerConfig::adam(0.01),
        LossKind::SoftmaxCrossEntropy,
        5,
        16,
    );
    let mut trainer = Trainer::new(&model, &training, gaussians(), &Device::flex()).unwrap();
    block_on(trainer.step()).unwrap();
    trainer.stop();
    assert_eq!(*trainer.state(), TrainerState::Stopped(StopReason::Stopped));
    assert_eq!(trainer.progress().batch, 1);
}

#[test]
fn mismatched_data_and_losses_are_errors() {
    let training = TrainingConfig::new(
        OptimizerConfig::adam(0.01),
        LossKind::SoftmaxCrossEntropy,
        1,
        16,
    );
    let wrong_inputs = ModelConfig::Mlp(MlpConfig::new(3, vec![], 2));
    assert!(Trainer::new(&wrong_inputs, &training, gaussians(), &Device::flex()).is_err());
    let sigmoid_out = mlp(2, Activation::Sigmoid);
    let err = Trainer::new(&sigmoid_out, &training, gaussians(), &Device::flex())
        .err()
        .unwrap();
    assert!(err.to_string().contains("softmax"), "{err}");
}

#[test]
fn a_trainer_refuses_out_of_range_models_instead_of_panicking() {
    let training = TrainingConfig::new(
        OptimizerConfig::adam(0.01),
        LossKind::SoftmaxCrossEntropy,
        1,
        16,
    );
    let model = ModelConfig::Mlp(MlpConfig::new(
        2,
        vec![DenseLayerConfig::new(4).with_dropout(1.5)],
        2,
    ));
    let err = Trainer::new(&model, &training, gaussians(), &Device::flex())
        .err()
        .unwrap();
    assert!(err.to_string().contains("model.hidden[0].dropout"), "{err}");
}

#[test]
fn epochs_are_measured_on_the_validation_set_when_there_is_one() {
    let mut data = gaussians();
    // A validation set whose labels are all wrong: a well-trained model scores near 0 on it.
    let mut flipped = data.eval.clone();
    flipped.labels.iter_mut().for_each(|l| *l = 1 - *l);
    data.validation = Some(flipped);
    let training = TrainingConfig::new(
        OptimizerConfig::adam(0.01),
        LossKind::SoftmaxCrossEntropy,
        5,
        16,
    );
    let mut trainer = Trainer::new(
        &mlp(2, Activation::Softmax),
        &training,
        data,
        &Device::flex(),
    )
    .unwrap();
    let last = *block_on(trainer.run()).unwrap().last().unwrap();
    assert!(
        last.eval_accuracy < 0.1,
        "validation accuracy {}",
        last.eval_accuracy
    );
    let test = block_on(trainer.evaluate(&trainer.data().eval.clone())).unwrap();
    assert!(test.accuracy > 0.9, "test accuracy {}", test.accuracy);
}
