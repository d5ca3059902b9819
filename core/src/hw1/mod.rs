//! The homework's network (HW1, after Nielsen's `nn.py`) as its own engine: sigmoid layers,
//! quadratic cost, mini-batch (or per-example) SGD with L2 weight decay, written as explicit
//! forward and backward equations on burn tensors, without autodiff.
//!
//! With `a_0 = x`, `z_l = a_{l-1} W_l + b_l`, `a_l = sigmoid(z_l)` and cost
//! `C = 1/(2m) sum ||a_L - y||^2` over a batch of m examples:
//! - `delta_L = (a_L - y) * sigmoid'(z_L)`
//! - `delta_l = (delta_{l+1} W_{l+1}^T) * sigmoid'(z_l)`
//! - `dC/dW_l = a_{l-1}^T delta_l / m`, `dC/db_l = sum_rows(delta_l) / m`
//! - update: `W -= eta*dW + eta*lam*W`, `b -= eta*db`.

use burn::config::Config;
use burn::tensor::activation::sigmoid;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::toy::gaussian;
use crate::data::{Dataset, TrainingData};
use crate::model::InputKind;
use crate::train::{
    BatchPoint, EpochMetrics, EvalMetrics, LrDecay, Steer, Steering, SteeringCursor, StepOutcome,
    StopReason, TrainerState, TrainingHistory,
};

/// The homework network and its SGD schedule.
#[derive(Config, Debug, PartialEq)]
pub struct Hw1Config {
    /// Layer sizes, input first: `[2, 30, 2]` for tinyTOY, `[196, h, 10]` for tinyMNIST.
    pub sizes: Vec<usize>,
    /// Learning rate eta.
    pub eta: f64,
    /// L2 weight decay lam.
    #[config(default = 0.0)]
    pub lam: f64,
    /// Examples per SGD step (1 = per-example, as the homework).
    #[config(default = 1)]
    pub batch_size: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Seed of the initial weights and the shuffling.
    #[config(default = 1)]
    pub seed: u64,
    /// Learning rate and weight decay changed during the run, in batch order (momentum and
    /// dropout have no place here).
    #[config(default = "Steering::default()")]
    pub steering: Steering,
    /// Multiplies eta at the end of every epoch (1: a constant eta; see
    /// [`crate::train::TrainingConfig::lr_decay`]).
    #[config(default = "LrDecay::NONE")]
    pub lr_decay: LrDecay,
}

/// Gradients of the cost with respect to every weight matrix and bias vector.
#[derive(Debug, Clone)]
pub struct Hw1Gradients {
    /// dC/dW_l, each [inputs, outputs].
    pub weights: Vec<Tensor<2>>,
    /// dC/db_l, each [outputs].
    pub biases: Vec<Tensor<1>>,
}

/// The network: weights W_l [inputs, outputs] and biases b_l [outputs], N(0, 1) as in `nn.py`.
#[derive(Debug, Clone)]
pub struct Hw1Network {
    /// Weight matrices, first layer first.
    pub weights: Vec<Tensor<2>>,
    /// Bias vectors.
    pub biases: Vec<Tensor<1>>,
    dtype: DType,
}

impl Hw1Network {
    /// A network of `sizes` with N(0, 1) weights and biases drawn from `seed`, in f32.
    pub fn new(sizes: &[usize], seed: u64, device: &Device) -> Self {
        Self::with_dtype(sizes, seed, device, DType::F32)
    }

    /// As [`Hw1Network::new`] with the given float type (f64 for gradient checks).
    pub fn with_dtype(sizes: &[usize], seed: u64, device: &Device, dtype: DType) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for pair in sizes.windows(2) {
            let (n_in, n_out) = (pair[0], pair[1]);
            let w: Vec<f64> = (0..n_in * n_out).map(|_| gaussian(&mut rng)).collect();
            let b: Vec<f64> = (0..n_out).map(|_| gaussian(&mut rng)).collect();
            weights.push(Tensor::from_data(
                TensorData::new(w, [n_in, n_out]),
                (device, dtype),
            ));
            biases.push(Tensor::from_data(
                TensorData::new(b, [n_out]),
                (device, dtype),
            ));
        }
        Self {
            weights,
            biases,
            dtype,
        }
    }

    /// The float type of its tensors.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Pre-activations z_l and activations a_l of every layer (a_0 = x first).
    ///
    /// `x`: [batch, sizes[0]] -> (zs: L tensors [batch, sizes[l]], activations: L+1 tensors)
    pub fn forward(&self, x: Tensor<2>) -> (Vec<Tensor<2>>, Vec<Tensor<2>>) {
        let mut zs = Vec::with_capacity(self.weights.len());
        let mut activations = vec![x];
        for (w, b) in self.weights.iter().zip(&self.biases) {
            let a = activations.last().expect("starts with x").clone();
            let z = a.matmul(w.clone()) + b.clone().unsqueeze_dim::<2>(0);
            activations.push(sigmoid(z.clone()));
            zs.push(z);
        }
        (zs, activations)
    }

    /// Every layer as it computes (sigmoid units throughout): what the network view shows.
    pub fn dense_params(&self) -> Vec<crate::inside::DenseParams> {
        self.weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| crate::inside::DenseParams {
                weights: w.clone(),
                bias: Some(b.clone()),
                activation: crate::model::Activation::Sigmoid,
            })
            .collect()
    }

    /// The network's outputs a_L. `x`: [batch, inputs] -> [batch, outputs]
    pub fn output(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward(x).1.pop().expect("at least the input")
    }

    /// Quadratic cost 1/(2m) sum ||a_L - y||^2 of a batch. `y`: one-hot [batch, outputs].
    pub fn cost(&self, x: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
        let [m, _] = x.dims();
        let diff = self.output(x) - y;
        (diff.clone() * diff).sum().mul_scalar(0.5 / m as f64)
    }

    /// Gradients of [`Hw1Network::cost`] by backpropagation.
    pub fn backprop(&self, x: Tensor<2>, y: Tensor<2>) -> Hw1Gradients {
        let [m, _] = x.dims();
        let (zs, activations) = self.forward(x);
        let layers = self.weights.len();
        let sigmoid_prime = |z: &Tensor<2>| {
            let s = sigmoid(z.clone());
            s.clone() * (s.neg() + 1.0)
        };
        let mut delta = (activations[layers].clone() - y) * sigmoid_prime(&zs[layers - 1]);
        let mut weights = vec![None; layers];
        let mut biases = vec![None; layers];
        for l in (0..layers).rev() {
            weights[l] = Some(
                activations[l]
                    .clone()
                    .transpose()
                    .matmul(delta.clone())
                    .div_scalar(m as f64),
            );
            biases[l] = Some(delta.clone().sum_dim(0).reshape([-1]).div_scalar(m as f64));
            if l > 0 {
                delta =
                    delta.matmul(self.weights[l].clone().transpose()) * sigmoid_prime(&zs[l - 1]);
            }
        }
        Hw1Gradients {
            weights: weights
                .into_iter()
                .map(|w| w.expect("every layer"))
                .collect(),
            biases: biases
                .into_iter()
                .map(|b| b.expect("every layer"))
                .collect(),
        }
    }

    /// One SGD step on a batch: `W -= eta*dW + eta*lam*W`, `b -= eta*db`.
    pub fn sgd_step(&mut self, x: Tensor<2>, y: Tensor<2>, eta: f64, lam: f64) {
        let grads = self.backprop(x, y);
        for (w, dw) in self.weights.iter_mut().zip(grads.weights) {
            *w = w.clone() - dw.mul_scalar(eta) - w.clone().mul_scalar(eta * lam);
        }
        for (b, db) in self.biases.iter_mut().zip(grads.biases) {
            *b = b.clone() - db.mul_scalar(eta);
        }
    }
}

/// One-hot targets of `labels` with `classes` columns.
pub fn one_hot(labels: &[u32], classes: usize, device: &Device, dtype: DType) -> Tensor<2> {
    let mut values = vec![0.0f64; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        values[i * classes + l as usize] = 1.0;
    }
    Tensor::from_data(
        TensorData::new(values, [labels.len(), classes]),
        (device, dtype),
    )
}

/// Trains a [`Hw1Network`] step by step, with the same outcomes as the autodiff trainer.
pub struct Hw1Trainer {
    config: Hw1Config,
    data: TrainingData,
    device: Device,
    network: Hw1Network,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    epoch: usize,
    batch: usize,
    batches_per_epoch: usize,
    history: TrainingHistory,
    state: TrainerState,
    /// The next of `config.steering` to apply.
    steering: SteeringCursor,
}

impl Hw1Trainer {
    /// A trainer of the homework network on `data` (features or images flattened).
    pub fn new(config: &Hw1Config, data: TrainingData, device: &Device) -> Result<Self, String> {
        let inputs = *config
            .sizes
            .first()
            .ok_or("the network needs at least 2 layer sizes")?;
        let outputs = *config
            .sizes
            .last()
            .ok_or("the network needs at least 2 layer sizes")?;
        if config.sizes.len() < 2 {
            return Err("the network needs at least 2 layer sizes".into());
        }
        if !data.train.fits(InputKind::Features(inputs))
            || !data.eval.fits(InputKind::Features(inputs))
        {
            return Err(format!(
                "{} does not have {inputs} features per example",
                data.train.name
            ));
        }
        if outputs != data.train.num_classes {
            return Err(format!(
                "the network has {outputs} outputs but {} has {} classes",
                data.train.name, data.train.num_classes
            ));
        }
        if data.train.is_empty() || data.eval.is_empty() || config.batch_size == 0 {
            return Err("empty data or a zero batch size".into());
        }
        Ok(Self {
            network: Hw1Network::new(&config.sizes, config.seed, device),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            order: (0..data.train.len()).collect(),
            batches_per_epoch: data.train.len().div_ceil(config.batch_size),
            config: config.clone(),
            data,
            device: device.clone(),
            epoch: 0,
            batch: 0,
            history: TrainingHistory::default(),
            state: TrainerState::Running,
            steering: SteeringCursor::default(),
        })
    }

    /// Batches trained so far in the whole run.
    pub fn steps_done(&self) -> usize {
        self.epoch * self.batches_per_epoch + self.batch
    }

    /// Records a change of learning rate or weight decay at this batch, applied before the
    /// next batch trains (as replaying the run from its config would).
    pub fn push_steer(&mut self, change: Steer) {
        debug_assert_eq!(change.at_step, self.steps_done());
        self.config.steering.retain(|c| c.at_step <= change.at_step);
        self.config.steering.push(change);
    }

    /// The device it trains on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The network as it is now.
    pub fn network(&self) -> &Hw1Network {
        &self.network
    }

    /// Everything measured so far.
    pub fn history(&self) -> &TrainingHistory {
        &self.history
    }

    /// The state after the last step.
    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    /// Ends the run.
    pub fn stop(&mut self) {
        if self.state == TrainerState::Running {
            self.state = TrainerState::Stopped(StopReason::Stopped);
        }
    }

    /// The data it trains and evaluates on.
    pub fn data(&self) -> &TrainingData {
        &self.data
    }

    /// How far the run has come.
    pub fn progress(&self) -> crate::train::Progress {
        let n = self.data.train.len();
        let done = self.epoch * n + (self.batch * self.config.batch_size).min(n);
        crate::train::Progress {
            epoch: (self.epoch + 1).min(self.config.epochs),
            epochs: self.config.epochs,
            batch: self.batch,
            batches_per_epoch: self.batches_per_epoch,
            samples_seen: done,
            samples_total: n * self.config.epochs,
        }
    }

    /// The network's outputs for every example of `data`, each row scaled to sum to 1 (the
    /// homework's sigmoid outputs are not a distribution), row-major `[examples, classes]`.
    pub async fn probabilities(&self, data: &Dataset) -> Result<Vec<f32>, String> {
        let inputs = self.config.sizes[0];
        let all: Vec<usize> = (0..data.len()).collect();
        let mut out = Vec::with_capacity(data.len() * data.num_classes);
        for chunk in all.chunks(1000) {
            let batch = data.batch(chunk, InputKind::Features(inputs), &self.device);
            let crate::model::BatchInput::Features(x) = batch.input else {
                unreachable!("features were asked for")
            };
            let outputs = self.network.output(x);
            let [_, width] = outputs.dims();
            let values = crate::device::read_f32s(outputs).await?;
            for row in values.chunks(width.max(1)) {
                let sum: f32 = row.iter().sum();
                out.extend(row.iter().map(|v| {
                    if sum > 0.0 {
                        v / sum
                    } else {
                        1.0 / width as f32
                    }
                }));
            }
        }
        Ok(out)
    }

    /// Epochs in all, batches per epoch and where the run is: (epoch from 1, batch in epoch).
    pub fn position(&self) -> (usize, usize, usize) {
        (
            (self.epoch + 1).min(self.config.epochs),
            self.batch,
            self.batches_per_epoch,
        )
    }

    /// Trains one batch; evaluates the held-out set at the end of an epoch.
    pub async fn step(&mut self) -> Result<StepOutcome, String> {
        if self.state != TrainerState::Running {
            return Ok(StepOutcome {
                point: None,
                epoch_end: None,
                state: self.state.clone(),
            });
        }
        if let Some(change) = self.steering.due(&self.config.steering, self.steps_done()) {
            if let Some(eta) = change.learning_rate {
                self.config.eta = eta;
            }
            if let Some(lam) = change.l2 {
                self.config.lam = lam;
            }
        }
        if self.batch == 0 {
            self.order.shuffle(&mut self.rng);
        }
        let n = self.data.train.len();
        let start = self.batch * self.config.batch_size;
        let end = (start + self.config.batch_size).min(n);
        let inputs = self.config.sizes[0];
        let classes = self.data.train.num_classes;
        let batch = self.data.train.batch(
            &self.order[start..end],
            InputKind::Features(inputs),
            &self.device,
        );
        let crate::model::BatchInput::Features(x) = batch.input else {
            unreachable!("features were asked for")
        };
        let y = one_hot(
            &batch.label_values,
            classes,
            &self.device,
            self.network.dtype,
        );
        self.network
            .sgd_step(x, y, self.config.eta, self.config.lam);
        self.batch += 1;
        let mut epoch_end = None;
        let mut point = None;
        if self.batch == self.batches_per_epoch {
            let train = self.evaluate(&self.data.train).await?;
            let eval = self.evaluate(self.data.held_out()).await?;
            self.epoch += 1;
            self.batch = 0;
            let p = BatchPoint {
                step: self.epoch * self.batches_per_epoch,
                epoch: self.epoch,
                loss: train.loss,
                accuracy: train.accuracy,
            };
            self.history.batches.push(p);
            point = Some(p);
            let metrics = EpochMetrics {
                epoch: self.epoch,
                train_loss: train.loss,
                train_accuracy: train.accuracy,
                eval_loss: eval.loss,
                eval_accuracy: eval.accuracy,
            };
            self.history.epochs.push(metrics);
            epoch_end = Some(metrics);
            if !train.loss.is_finite() {
                self.state = TrainerState::Stopped(StopReason::NonFiniteLoss {
                    epoch: self.epoch,
                    batch: self.batches_per_epoch,
                    value: format!("{}", train.loss),
                    learning_rate: self.config.eta,
                });
            } else if self.epoch == self.config.epochs {
                self.state = TrainerState::Finished;
            }
            self.config.eta *= self.config.lr_decay.0;
        }
        Ok(StepOutcome {
            point,
            epoch_end,
            state: self.state.clone(),
        })
    }

    /// Quadratic cost and accuracy (argmax of the outputs) on `data`.
    pub async fn evaluate(&self, data: &Dataset) -> Result<EvalMetrics, String> {
        let inputs = self.config.sizes[0];
        let all: Vec<usize> = (0..data.len()).collect();
        let mut cost = 0.0;
        let mut correct = 0usize;
        for chunk in all.chunks(1000) {
            let batch = data.batch(chunk, InputKind::Features(inputs), &self.device);
            let crate::model::BatchInput::Features(x) = batch.input else {
                unreachable!("features were asked for")
            };
            let y = one_hot(
                &batch.label_values,
                data.num_classes,
                &self.device,
                self.network.dtype,
            );
            let c = self.network.cost(x.clone(), y);
            let predicted = self.network.output(x).argmax(1).reshape([-1]);
            let c = c.into_data_async().await.map_err(|e| format!("{e:?}"))?;
            let p = predicted
                .into_data_async()
                .await
                .map_err(|e| format!("{e:?}"))?;
            cost +=
                c.try_into_vec_as::<f64>().map_err(|e| format!("{e:?}"))?[0] * chunk.len() as f64;
            let p = p.try_into_vec_as::<i64>().map_err(|e| format!("{e:?}"))?;
            correct += p
                .iter()
                .zip(&batch.label_values)
                .filter(|(a, b)| **a == **b as i64)
                .count();
        }
        let n = data.len().max(1) as f64;
        Ok(EvalMetrics {
            loss: cost / n,
            accuracy: correct as f64 / n,
            examples: data.len(),
        })
    }
}
