//! The homework's hand-written backprop: gradients against finite differences and burn
//! autodiff, and the tinyTOY result the homework asked for.

use burn::tensor::{DType, Device, Tensor, TensorData};
use kindling_core::block_on;
use kindling_core::data::{ToyConfig, ToyKind};
use kindling_core::hw1::{one_hot, Hw1Config, Hw1Network, Hw1Trainer};
use kindling_core::train::TrainerState;
use kindling_core::RunConfig;

fn values2(t: &Tensor<2>) -> Vec<f64> {
    t.clone().into_data().try_into_vec_as::<f64>().unwrap()
}

fn values1(t: &Tensor<1>) -> Vec<f64> {
    t.clone().into_data().try_into_vec_as::<f64>().unwrap()
}

fn batch(device: &Device) -> (Tensor<2>, Tensor<2>) {
    let x: Vec<f64> = (0..5 * 3)
        .map(|i| ((i * 7 % 11) as f64 / 11.0) - 0.5)
        .collect();
    let x = Tensor::from_data(TensorData::new(x, [5, 3]), (device, DType::F64));
    let y = one_hot(&[0, 1, 1, 0, 1], 2, device, DType::F64);
    (x, y)
}

fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-8)
}

#[test]
fn backprop_matches_finite_differences() {
    let device = Device::flex();
    let net = Hw1Network::with_dtype(&[3, 4, 2], 3, &device, DType::F64);
    let (x, y) = batch(&device);
    let grads = net.backprop(x.clone(), y.clone());
    let cost = |n: &Hw1Network| values1(&n.cost(x.clone(), y.clone()))[0];
    let eps = 1e-6;
    let mut checked = 0;
    for l in 0..net.weights.len() {
        let w = values2(&net.weights[l]);
        let dims = net.weights[l].dims();
        let analytic = values2(&grads.weights[l]);
        for i in 0..w.len() {
            let shifted = |delta: f64| {
                let mut v = w.clone();
                v[i] += delta;
                let mut n = net.clone();
                n.weights[l] = Tensor::from_data(TensorData::new(v, dims), (&device, DType::F64));
                cost(&n)
            };
            let numeric = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
            assert!(
                relative_error(numeric, analytic[i]) < 1e-4,
                "W{l}[{i}]: {numeric} vs {}",
                analytic[i]
            );
            checked += 1;
        }
        let b = values1(&net.biases[l]);
        let analytic = values1(&grads.biases[l]);
        for i in 0..b.len() {
            let shifted = |delta: f64| {
                let mut v = b.clone();
                v[i] += delta;
                let mut n = net.clone();
                n.biases[l] =
                    Tensor::from_data(TensorData::new(v, [b.len()]), (&device, DType::F64));
                cost(&n)
            };
            let numeric = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
            assert!(
                relative_error(numeric, analytic[i]) < 1e-4,
                "b{l}[{i}]: {numeric} vs {}",
                analytic[i]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * 4 + 4 + 4 * 2 + 2);
}

#[test]
fn backprop_matches_burn_autodiff() {
    let device = Device::flex();
    let net = Hw1Network::with_dtype(&[3, 4, 2], 5, &device, DType::F64);
    let (x, y) = batch(&device);
    let grads = net.backprop(x.clone(), y.clone());

    let ad = device.clone().autodiff();
    let to_ad2 = |t: &Tensor<2>| {
        Tensor::<2>::from_data(t.clone().into_data(), (&ad, DType::F64)).require_grad()
    };
    let to_ad1 = |t: &Tensor<1>| {
        Tensor::<1>::from_data(t.clone().into_data(), (&ad, DType::F64)).require_grad()
    };
    let mut tracked = net.clone();
    tracked.weights = net.weights.iter().map(to_ad2).collect();
    tracked.biases = net.biases.iter().map(to_ad1).collect();
    let x_ad = Tensor::<2>::from_data(x.into_data(), (&ad, DType::F64));
    let y_ad = Tensor::<2>::from_data(y.into_data(), (&ad, DType::F64));
    let auto = tracked.cost(x_ad, y_ad).backward();
    for l in 0..net.weights.len() {
        let expected = values2(&tracked.weights[l].grad(&auto).unwrap());
        for (a, e) in values2(&grads.weights[l]).iter().zip(&expected) {
            assert!(relative_error(*a, *e) < 1e-4, "W{l}: {a} vs {e}");
        }
        let expected = values1(&tracked.biases[l].grad(&auto).unwrap());
        for (a, e) in values1(&grads.biases[l]).iter().zip(&expected) {
            assert!(relative_error(*a, *e) < 1e-4, "b{l}: {a} vs {e}");
        }
    }
}

#[test]
fn weight_decay_follows_the_homework_update() {
    let device = Device::flex();
    let mut net = Hw1Network::with_dtype(&[3, 4, 2], 9, &device, DType::F64);
    let before = net.clone();
    let (x, y) = batch(&device);
    let grads = net.backprop(x.clone(), y.clone());
    net.sgd_step(x, y, 0.5, 0.1);
    let w0 = values2(&before.weights[0]);
    let dw = values2(&grads.weights[0]);
    for ((after, w), d) in values2(&net.weights[0]).iter().zip(&w0).zip(&dw) {
        let expected = w - 0.5 * d - 0.5 * 0.1 * w;
        assert!((after - expected).abs() < 1e-12);
    }
}

#[test]
fn tinytoy_reaches_95_percent() {
    let config = RunConfig::preset("tinytoy-hw1").unwrap();
    let hw1 = config.hw1_config().unwrap();
    assert_eq!(hw1.sizes, vec![2, 30, 2]);
    assert_eq!(hw1.eta, 0.25);
    let data = ToyConfig::new(ToyKind::TinyToy).generate();
    let mut trainer = Hw1Trainer::new(&hw1, data, &Device::flex()).unwrap();
    while *trainer.state() == TrainerState::Running {
        block_on(trainer.step()).unwrap();
    }
    assert_eq!(*trainer.state(), TrainerState::Finished);
    let accuracy = trainer.history().last().unwrap().eval_accuracy;
    assert!(accuracy >= 0.95, "tinyTOY test accuracy {accuracy}");
}

#[test]
fn hw1_config_rejects_models_it_cannot_train() {
    let mut config = RunConfig::preset("mlp-keras").unwrap();
    assert!(config
        .hw1_config()
        .unwrap_err()
        .to_string()
        .contains("sigmoid"));
    config.engine = kindling_core::Engine::HandWritten;
    assert!(config.problems().iter().any(|p| p.field == "engine"));
    let _ = Hw1Config::new(vec![2, 2], 0.1, 1);
}
