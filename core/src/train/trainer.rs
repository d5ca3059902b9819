//! The step-wise trainer: one call trains one batch, so a browser can interleave training with
//! its event loop (and a worker can report progress) while the CLI simply loops.

use burn::config::Config;
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::compute_pool::{self, SharedPool};
use super::loss::{l2_penalty, L2Mode, LossKind};
use super::lr_decay::LrDecay;
use super::metrics::{BatchPoint, EpochMetrics, EvalMetrics, StopReason, TrainingHistory};
use super::optimizer::OptimizerConfig;
use super::score::{accuracy_of, batch_score};
use super::steering::{Steer, Steering, SteeringCursor};
use crate::data::{Dataset, TrainingData};
use crate::device::with_device_rng;
use crate::model::{Activation, CnnShapeError, InputKind, Model, ModelConfig};

mod health;

/// How a model is trained: optimizer, loss, regularisation mode, schedule and seed.
#[derive(Config, Debug, PartialEq)]
pub struct TrainingConfig {
    /// Optimizer and learning rate.
    pub optimizer: OptimizerConfig,
    /// Cost function.
    pub loss: LossKind,
    /// How the layers' L2 coefficients act.
    #[config(default = "L2Mode::KerasLoss")]
    pub l2_mode: L2Mode,
    /// Passes over the training set, 1..=1000.
    pub epochs: usize,
    /// Examples per batch (1 = per-example SGD), 1..=training-set size.
    pub batch_size: usize,
    /// Seed of the initial weights, the shuffling and dropout.
    #[config(default = 1)]
    pub seed: u64,
    /// Read the loss back from the device every this many batches (and at each epoch's end):
    /// a read-back is a round trip, costly on a GPU. A non-finite loss is caught at read-back.
    #[config(default = 10)]
    pub readback_every: usize,
    /// Batch size of the held-out evaluation.
    #[config(default = 500)]
    pub eval_batch_size: usize,
    /// Hyper-parameters changed during the run, in batch order (see [`super::steering`]).
    #[config(default = "Steering::default()")]
    pub steering: Steering,
    /// Multiplies the learning rate at the end of every epoch, in (0, 1] (1: a constant
    /// rate): Keras's `ExponentialDecay` with `staircase=True` over an epoch's batches,
    /// PyTorch's `ExponentialLR` stepped once an epoch. A rate steered during the run is the
    /// rate from then on, and decays at the epochs' ends that follow.
    #[config(default = "LrDecay::NONE")]
    pub lr_decay: LrDecay,
}

/// Why a trainer cannot be built or cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// A model setting is out of range.
    #[error("{0}")]
    Config(#[from] crate::checks::ConfigError),
    /// The CNN stack does not fit its input.
    #[error("{0}")]
    Shape(#[from] CnnShapeError),
    /// The data does not fit the model, or is empty.
    #[error("{0}")]
    Data(String),
    /// The loss cannot train this output layer.
    #[error("{0}")]
    Loss(String),
    /// The device failed (lost GPU, failed read-back).
    #[error("the device failed: {0}")]
    Device(String),
}

/// Where a trainer is.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainerState {
    /// More batches to train.
    Running,
    /// Every epoch done.
    Finished,
    /// Ended early.
    Stopped(StopReason),
}

/// What one [`Trainer::step`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// A new point of the batch curve, when this step read the loss back.
    pub point: Option<BatchPoint>,
    /// The epoch's metrics, when this step ended an epoch.
    pub epoch_end: Option<EpochMetrics>,
    /// The trainer's state after the step.
    pub state: TrainerState,
}

/// How far a run has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Current epoch, from 1 (equals `epochs` when finished).
    pub epoch: usize,
    /// Epochs in all.
    pub epochs: usize,
    /// Batches done in the current epoch.
    pub batch: usize,
    /// Batches per epoch.
    pub batches_per_epoch: usize,
    /// Training examples processed so far in the whole run.
    pub samples_seen: usize,
    /// Training examples the whole run processes.
    pub samples_total: usize,
}

/// Device-side sums of a read-back window.
struct Window {
    loss_sum: Tensor<1>,
    /// Examples classified right, or the squared errors on a regression set.
    score: Tensor<1>,
    /// On a regression set, the squared distances of its values from the training mean.
    spread: f64,
    examples: usize,
    batches: usize,
}

/// Trains a model one batch at a time, evaluating on the held-out set after each epoch.
pub struct Trainer {
    model_config: ModelConfig,
    config: TrainingConfig,
    data: TrainingData,
    input: InputKind,
    activation: Activation,
    l2: Vec<f64>,
    /// Whether the forward pass draws random numbers (dropout), and so needs its own seed.
    stochastic: bool,
    device: Device,
    /// With data parallelism, the devices a batch is split across (the first is `device`).
    parallel: Vec<Device>,
    model: Option<Model>,
    optimizer: ModuleOptimizer,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    epoch: usize,
    batch: usize,
    batches_per_epoch: usize,
    samples_seen: usize,
    window: Option<Window>,
    epoch_loss_sum: f64,
    /// The epoch's score and spread so far (see [`Window`]).
    epoch_score: f64,
    epoch_spread: f64,
    epoch_examples: usize,
    /// On a regression set, the mean of the training values: the baseline of the training
    /// curve's R² (a window's few values have no mean of their own worth comparing with). A
    /// held-out set's R² is measured against its own mean, as R² usually is.
    target_mean: f64,
    history: TrainingHistory,
    state: TrainerState,
    /// The next of `config.steering` to apply.
    steering: SteeringCursor,
    /// Whether the next step is probed for a health report.
    health_requested: bool,
    /// Whether each epoch's last step is probed.
    health_per_epoch: bool,
    /// The probed steps' reports, until taken.
    health: Vec<crate::inside::health::HealthReport>,
    /// The pool the tensor work runs inside, when the host chose one ([`Trainer::set_pool`]).
    pool: Option<SharedPool>,
}

impl Trainer {
    /// A trainer for `model_config` on `data`, on `device` (autodiff is added here).
    /// Run `RunConfig::validate` first for messages that name fields; this checks only what
    /// training itself cannot do without.
    pub fn new(
        model_config: &ModelConfig,
        config: &TrainingConfig,
        data: TrainingData,
        device: &Device,
    ) -> Result<Self, TrainError> {
        if let Some(problem) = model_config.problems().into_iter().next() {
            return Err(TrainError::Config(problem));
        }
        let input = model_config.input_kind();
        for set in [&data.train, &data.eval]
            .into_iter()
            .chain(data.validation.as_ref())
        {
            if set.is_empty() {
                return Err(TrainError::Data(format!(
                    "the dataset {} is empty",
                    set.name
                )));
            }
            if !set.fits(input) {
                return Err(TrainError::Data(format!(
                    "the dataset {} has examples of shape {:?}, but the model reads {:?}",
                    set.name, set.shape, input
                )));
            }
        }
        let outputs = model_config.outputs();
        let classes = data.train.num_classes;
        if !crate::model::validation::outputs_fit_classes(outputs, classes) {
            return Err(TrainError::Data(format!(
                "the model has {outputs} outputs but {} has {classes} classes",
                data.train.name
            )));
        }
        let activation = model_config.output_activation();
        if let Some(why) =
            config
                .loss
                .incompatibility(outputs, activation, data.train.is_regression())
        {
            return Err(TrainError::Loss(why));
        }
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(TrainError::Data(
                "batch size and epochs must be at least 1".into(),
            ));
        }
        let device = device.clone().autodiff();
        let model = model_config.init_seeded(&device, config.seed)?;
        let batches_per_epoch = data.train.len().div_ceil(config.batch_size);
        let target_mean = data.train.target_mean();
        Ok(Self {
            model_config: model_config.clone(),
            config: config.clone(),
            input,
            activation,
            l2: model_config.l2_per_layer(),
            stochastic: model_config.has_dropout(),
            device,
            parallel: Vec::new(),
            model: Some(model),
            optimizer: config.optimizer.init(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            order: (0..data.train.len()).collect(),
            data,
            epoch: 0,
            batch: 0,
            batches_per_epoch,
            samples_seen: 0,
            window: None,
            epoch_loss_sum: 0.0,
            epoch_score: 0.0,
            epoch_spread: 0.0,
            epoch_examples: 0,
            target_mean,
            history: TrainingHistory::default(),
            state: TrainerState::Running,
            steering: SteeringCursor::default(),
            health_requested: false,
            health_per_epoch: false,
            health: Vec::new(),
            pool: None,
        })
    }

    /// Runs every step's and evaluation's tensor work inside `pool` from now on (`None`: on
    /// the calling thread, in rayon's current pool). Kindling's own kernels cut their work by
    /// shape, never by the number of threads; burn flex's parallel reductions may sum in
    /// another order, so the curve matches within float summation, not bit for bit.
    pub fn set_pool(&mut self, pool: Option<SharedPool>) {
        self.pool = pool;
    }

    /// Batches trained so far in the whole run.
    pub fn steps_done(&self) -> usize {
        self.epoch * self.batches_per_epoch + self.batch
    }

    /// Records a change of hyper-parameters at this batch; it applies before the next batch
    /// trains, as it would replaying the run from its config. `change.at_step` must be
    /// [`Trainer::steps_done`] (a [`crate::RunConfig`] validates the values first).
    pub fn push_steer(&mut self, change: Steer) {
        debug_assert_eq!(change.at_step, self.steps_done());
        // Changes recorded for later batches (none applied yet) give way to this one.
        self.config.steering.retain(|c| c.at_step <= change.at_step);
        self.config.steering.push(change);
    }

    /// Applies a change (due before this batch).
    fn apply_steer(&mut self, change: &Steer) {
        let optimizer = &mut self.config.optimizer;
        if let Some(lr) = change.learning_rate {
            optimizer.learning_rate = lr;
        }
        if let Some(momentum) = change.momentum {
            let before = optimizer.momentum;
            optimizer.momentum = momentum;
            let fresh = optimizer.init();
            // The velocity carries over from momentum to momentum; from none, it starts as
            // the first gradient (as at the start of a run); to none, it is dropped.
            self.optimizer = if before > 0.0 && momentum > 0.0 {
                fresh.load_record(self.optimizer.to_record())
            } else {
                fresh
            };
        }
        if let Some(l2) = change.l2 {
            self.l2.iter_mut().for_each(|v| *v = l2);
        }
        if let Some(rate) = change.dropout {
            if let Some(model) = self.model.as_mut() {
                model.set_dropout(rate);
            }
            // Masks are drawn from the batch's own seed from now on.
            self.stochastic |= rate > 0.0;
        }
    }

    /// Splits every batch from now on into one shard per device of `others` and the
    /// trainer's own device (`others` lists the extra devices; a device may repeat: two shards
    /// on the CPU are two threads), each trained on its own thread, the gradients summed on the
    /// trainer's device before one optimizer step (see [`super::data_parallel`]).
    #[cfg(not(target_family = "wasm"))]
    pub fn set_data_parallel(&mut self, others: &[Device]) {
        self.parallel = if others.is_empty() {
            Vec::new()
        } else {
            std::iter::once(self.device.clone())
                .chain(others.iter().map(|d| d.clone().autodiff()))
                .collect()
        };
    }

    /// How many devices share each batch (1 without data parallelism).
    pub fn devices(&self) -> usize {
        self.parallel.len().max(1)
    }

    /// The state after the last step.
    pub fn state(&self) -> &TrainerState {
        &self.state
    }

    /// Everything measured so far.
    pub fn history(&self) -> &TrainingHistory {
        &self.history
    }

    /// The model's config.
    pub fn model_config(&self) -> &ModelConfig {
        &self.model_config
    }

    /// The training config.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// The data it trains and evaluates on.
    pub fn data(&self) -> &TrainingData {
        &self.data
    }

    /// How far the run has come.
    pub fn progress(&self) -> Progress {
        Progress {
            epoch: (self.epoch + 1).min(self.config.epochs),
            epochs: self.config.epochs,
            batch: self.batch,
            batches_per_epoch: self.batches_per_epoch,
            samples_seen: self.samples_seen,
            samples_total: self.data.train.len() * self.config.epochs,
        }
    }

    /// The model as it is now, without autodiff (for prediction or saving).
    /// The model's dense layers as they compute (an MLP's; `None` for a CNN or a recurrent
    /// model) and the device they are on: what the network view shows.
    pub fn dense_params(&self) -> Option<(Vec<crate::inside::DenseParams>, Device)> {
        match self.model() {
            Model::Mlp(m) => Some((m.dense_params(self.activation), self.device.clone().inner())),
            Model::Cnn(_) | Model::Sequence(_) => None,
        }
    }

    /// The device it trains on (with autodiff).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The model for inference (its autodiff graph left behind).
    pub fn model(&self) -> Model {
        self.model
            .as_ref()
            .expect("the model is always put back after a step")
            .valid()
    }

    /// Ends the run; the next step does nothing.
    pub fn stop(&mut self) {
        if self.state == TrainerState::Running {
            self.state = TrainerState::Stopped(StopReason::Stopped);
        }
    }

    /// Trains one batch. Reads the loss back (asynchronously) every `readback_every` batches
    /// and at the end of each epoch, when it also evaluates the held-out set.
    pub async fn step(&mut self) -> Result<StepOutcome, TrainError> {
        if self.state != TrainerState::Running {
            return Ok(self.outcome(None, None));
        }
        if let Some(change) = self.steering.due(&self.config.steering, self.steps_done()) {
            self.apply_steer(&change);
        }
        let n = self.data.train.len();
        if self.batch == 0 {
            self.order.shuffle(&mut self.rng);
        }
        let start = self.batch * self.config.batch_size;
        let end = (start + self.config.batch_size).min(n);
        // Dropout masks come from a seed of their own for every batch, so that the curve depends
        // only on the run's seed, whatever else runs in the process.
        let step = (self.epoch * self.batches_per_epoch + self.batch) as u64;
        let batch_seed = self
            .config
            .seed
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ step;
        let examples = end - start;
        let spread = super::score::spread(
            self.data
                .train
                .targets
                .as_ref()
                .map(|t| {
                    self.order[start..end]
                        .iter()
                        .map(|&i| t[i])
                        .collect::<Vec<_>>()
                })
                .as_deref(),
            self.target_mean,
        );
        let pool = self.pool.clone();
        let (loss_sum, score, probe) =
            compute_pool::within(pool.as_ref(), || self.train_batch(start..end, batch_seed));
        if let Some(probe) = probe {
            self.read_probe(probe).await?;
        }

        self.window = Some(match self.window.take() {
            None => Window {
                loss_sum,
                score,
                spread,
                examples,
                batches: 1,
            },
            Some(w) => Window {
                loss_sum: w.loss_sum + loss_sum,
                score: w.score + score,
                spread: w.spread + spread,
                examples: w.examples + examples,
                batches: w.batches + 1,
            },
        });
        self.batch += 1;
        self.samples_seen += examples;
        let epoch_done = self.batch == self.batches_per_epoch;
        let mut point = None;
        if epoch_done
            || self
                .window
                .as_ref()
                .is_some_and(|w| w.batches >= self.config.readback_every.max(1))
        {
            let p = self.read_window().await?;
            if !p.loss.is_finite() {
                self.state = TrainerState::Stopped(StopReason::NonFiniteLoss {
                    epoch: self.epoch + 1,
                    batch: self.batch,
                    value: format!("{}", p.loss),
                    learning_rate: self.config.optimizer.learning_rate,
                });
                return Ok(self.outcome(Some(p), None));
            }
            point = Some(p);
        }
        let mut epoch_end = None;
        if epoch_done {
            let eval = self.evaluate(self.data.held_out()).await?;
            let metrics = EpochMetrics {
                epoch: self.epoch + 1,
                train_loss: self.epoch_loss_sum / self.epoch_examples as f64,
                train_accuracy: accuracy_of(
                    self.epoch_score,
                    self.epoch_spread,
                    self.epoch_examples,
                    self.data.train.is_regression(),
                ),
                eval_loss: eval.loss,
                eval_accuracy: eval.accuracy,
            };
            self.history.epochs.push(metrics);
            epoch_end = Some(metrics);
            self.epoch += 1;
            self.batch = 0;
            self.epoch_loss_sum = 0.0;
            self.epoch_score = 0.0;
            self.epoch_spread = 0.0;
            self.epoch_examples = 0;
            if !eval.loss.is_finite() {
                self.state = TrainerState::Stopped(StopReason::NonFiniteLoss {
                    epoch: self.epoch,
                    batch: self.batches_per_epoch,
                    value: format!("{}", eval.loss),
                    learning_rate: self.config.optimizer.learning_rate,
                });
            } else if self.epoch == self.config.epochs {
                self.state = TrainerState::Finished;
            }
            // The next epoch's rate (a rate steered at this boundary replaces it before the
            // next batch trains).
            self.config.optimizer.learning_rate *= self.config.lr_decay.0;
        }
        Ok(self.outcome(point, epoch_end))
    }

    /// Trains the batch `range` of this epoch's order: forward, backward and the optimizer's
    /// update (the tensor work of a step, run inside the run's pool when it has one); the
    /// batch's loss sum and score, and the probe when the step is probed.
    fn train_batch(
        &mut self,
        range: std::ops::Range<usize>,
        batch_seed: u64,
    ) -> (Tensor<1>, Tensor<1>, Option<health::Probe>) {
        let model = self
            .model
            .take()
            .expect("the model is always put back after a step");
        let examples = range.len();
        let (grads, loss_sum, score) = if self.parallel.len() > 1 {
            self.sharded_step(&model, range.clone(), batch_seed)
        } else {
            let batch = self
                .data
                .train
                .batch(&self.order[range.clone()], self.input, &self.device);
            let logits = if self.stochastic {
                with_device_rng(&self.device, Some(batch_seed), || {
                    model.forward(batch.input)
                })
            } else {
                model.forward(batch.input)
            };
            let mut loss = self.config.loss.forward(
                logits.clone(),
                &batch.label_values,
                batch.targets.as_deref(),
                self.activation,
            );
            if let Some(penalty) = l2_penalty(model.dense_weights(), &self.l2, self.config.l2_mode)
            {
                loss = loss + penalty;
            }
            let score = batch_score(
                logits.detach(),
                batch.labels,
                batch.targets.as_deref(),
                self.activation,
            );
            let loss_sum = loss.clone().detach().mul_scalar(examples as f64);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            (grads, loss_sum, score)
        };
        let probe = self.probe(&model, &grads, range);
        self.model = Some(
            self.optimizer
                .step(self.config.optimizer.learning_rate, model, grads),
        );
        (loss_sum, score, probe)
    }

    /// The batch `range` of this epoch's order trained in shards across the devices.
    #[cfg(not(target_family = "wasm"))]
    fn sharded_step(
        &self,
        model: &Model,
        range: std::ops::Range<usize>,
        batch_seed: u64,
    ) -> (GradientsParams, Tensor<1>, Tensor<1>) {
        let step = super::data_parallel::Shards {
            data: &self.data.train,
            input: self.input,
            loss: self.config.loss,
            activation: self.activation,
            l2: &self.l2,
            l2_mode: self.config.l2_mode,
            stochastic: self.stochastic,
            batch_seed,
        }
        .step(model, &self.order[range], &self.parallel);
        (step.grads, step.loss_sum, step.score)
    }

    /// Data parallelism is native only (threads): the browser trains on one device.
    #[cfg(target_family = "wasm")]
    fn sharded_step(
        &self,
        _model: &Model,
        _range: std::ops::Range<usize>,
        _batch_seed: u64,
    ) -> (GradientsParams, Tensor<1>, Tensor<1>) {
        unreachable!("set_data_parallel is native only, so `parallel` stays empty")
    }

    /// Trains until the run finishes or stops.
    pub async fn run(&mut self) -> Result<&TrainingHistory, TrainError> {
        while self.state == TrainerState::Running {
            self.step().await?;
        }
        Ok(&self.history)
    }

    /// Loss (with the L2 penalty) and accuracy of the current model on `data`.
    pub async fn evaluate(&self, data: &Dataset) -> Result<EvalMetrics, TrainError> {
        let model = self.model();
        let device = self.device.clone().inner();
        let penalty = l2_penalty(model.dense_weights(), &self.l2, self.config.l2_mode);
        let (loss_sum, score) = compute_pool::within(self.pool.as_ref(), || {
            let mut loss_sum: Option<Tensor<1>> = None;
            let mut score: Option<Tensor<1>> = None;
            let indices: Vec<usize> = (0..data.len()).collect();
            for chunk in indices.chunks(self.config.eval_batch_size.max(1)) {
                let batch = data.batch(chunk, self.input, &device);
                let logits = model.forward(batch.input);
                let loss = self
                    .config
                    .loss
                    .forward(
                        logits.clone(),
                        &batch.label_values,
                        batch.targets.as_deref(),
                        self.activation,
                    )
                    .mul_scalar(chunk.len() as f64);
                let c = batch_score(
                    logits,
                    batch.labels,
                    batch.targets.as_deref(),
                    self.activation,
                );
                loss_sum = Some(match loss_sum {
                    None => loss,
                    Some(s) => s + loss,
                });
                score = Some(match score {
                    None => c,
                    Some(s) => s + c,
                });
            }
            (loss_sum, score)
        });
        let n = data.len().max(1) as f64;
        let (Some(loss_sum), Some(score)) = (loss_sum, score) else {
            return Ok(EvalMetrics {
                loss: f64::NAN,
                accuracy: if data.is_regression() { f64::NAN } else { 0.0 },
                examples: 0,
            });
        };
        let mut loss = read_f64(loss_sum).await? / n;
        if let Some(p) = penalty {
            loss += read_f64(p).await?;
        }
        let spread = super::score::spread(data.targets.as_deref(), data.target_mean());
        let accuracy = accuracy_of(
            read_f64(score).await?,
            spread,
            data.len(),
            data.is_regression(),
        );
        Ok(EvalMetrics {
            loss,
            accuracy,
            examples: data.len(),
        })
    }

    /// Class probabilities of every example of `data` under the current model, row-major
    /// `[examples, classes]`: softmax rows, or `[1 - p, p]` for a single sigmoid output.
    pub async fn probabilities(&self, data: &Dataset) -> Result<Vec<f32>, TrainError> {
        crate::model::weights::model_probabilities(
            &self.model(),
            self.input,
            self.activation,
            data,
            self.config.eval_batch_size,
            &self.device.clone().inner(),
        )
        .await
        .map_err(TrainError::Device)
    }

    async fn read_window(&mut self) -> Result<BatchPoint, TrainError> {
        let w = self.window.take().expect("a window exists after a step");
        let loss_sum = read_f64(w.loss_sum).await?;
        let score = read_f64(w.score).await?;
        self.epoch_loss_sum += loss_sum;
        self.epoch_score += score;
        self.epoch_spread += w.spread;
        self.epoch_examples += w.examples;
        let point = BatchPoint {
            step: self.epoch * self.batches_per_epoch + self.batch,
            epoch: self.epoch + 1,
            loss: loss_sum / w.examples as f64,
            accuracy: accuracy_of(score, w.spread, w.examples, self.data.train.is_regression()),
        };
        self.history.batches.push(point);
        Ok(point)
    }

    fn outcome(&self, point: Option<BatchPoint>, epoch_end: Option<EpochMetrics>) -> StepOutcome {
        StepOutcome {
            point,
            epoch_end,
            state: self.state.clone(),
        }
    }
}

async fn read_f64(t: Tensor<1>) -> Result<f64, TrainError> {
    let data = t
        .into_data_async()
        .await
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    let values = data
        .try_into_vec_as::<f64>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    Ok(values.first().copied().unwrap_or(f64::NAN))
}
