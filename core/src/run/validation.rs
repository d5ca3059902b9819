//! Whether a run can be trained: every field in range (the dataset's and the model's own
//! checks, then training's), then the fields against each other (the model reads the data,
//! outputs match classes, the loss fits the output layer, the engine can train the model,
//! the memory it needs is allowed).

use super::{Engine, RunConfig};
use crate::checks::{Checker, ConfigError};
use crate::data::config::DatasetConfig;
use crate::model::summary::{human_bytes, thousands, ModelSummary};
use crate::model::validation::outputs_fit_classes;
use crate::model::CnnShapeError;
use crate::model::{ModelConfig, ModelKind};
use crate::train::{LiveSettings, OptimizerKind, MAX_STEERS};

/// Most epochs allowed.
pub const MAX_EPOCHS: usize = 1000;
/// Largest model a run may build, in bytes of training memory (weights, gradients, optimizer
/// state and one batch of activations, for training or for evaluation). A u64, as is every
/// figure compared with it: the same verdict on wasm32 (32-bit `usize`) as natively.
pub const MAX_TRAINING_BYTES: u64 = 2 << 30;
/// Most batches between two loss read-backs, and the largest evaluation batch.
pub const MAX_BATCH_SETTING: usize = 10_000;

impl RunConfig {
    /// Every problem of this config, each naming its field and the allowed range (empty: valid).
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut c = Checker::default();
        self.dataset.check(&mut c);
        c.0.extend(self.model.problems());
        self.check_training(&mut c);
        if c.0.is_empty() {
            self.check_fit(&mut c);
        }
        c.into_problems()
    }

    /// `Ok` when the config can be trained; otherwise its first problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// The model's summary and the bytes this run needs at most: while training (weights,
    /// gradients, optimizer state, a batch's activations for the backward pass) or while
    /// evaluating (a batch of `eval_batch_size`). The figure the page shows and the limit
    /// [`MAX_TRAINING_BYTES`] is checked against, in u64 on every target.
    pub fn memory_estimate(&self) -> Result<(ModelSummary, u64), CnnShapeError> {
        let summary = self.model.summary()?;
        let slots = self.training.optimizer.state_slots();
        let bytes = summary
            .training_bytes(self.training.batch_size, slots)
            .max(summary.evaluation_bytes(self.training.eval_batch_size, slots));
        Ok((summary, bytes))
    }

    fn check_training(&self, c: &mut Checker) {
        let t = &self.training;
        let o = &t.optimizer;
        if !(o.learning_rate.is_finite() && o.learning_rate > 0.0 && o.learning_rate <= 10.0) {
            c.fail(
                "training.optimizer.learning_rate",
                o.learning_rate,
                "must be in (0, 10]",
            );
        }
        c.unit("training.optimizer.momentum", o.momentum, "momentum");
        c.unit("training.optimizer.beta_1", o.beta_1, "beta_1");
        c.unit("training.optimizer.beta_2", o.beta_2, "beta_2");
        c.unit("training.optimizer.rho", o.rho, "rho");
        if !(o.epsilon.is_finite() && o.epsilon > 0.0 && o.epsilon <= 1.0) {
            c.fail("training.optimizer.epsilon", o.epsilon, "must be in (0, 1]");
        }
        let decay = t.lr_decay.0;
        if !(decay.is_finite() && decay > 0.0 && decay <= 1.0) {
            c.fail(
                "training.lr_decay",
                decay,
                "must be in (0, 1] (1 keeps the rate constant)",
            );
        }
        c.range("training.epochs", t.epochs, 1, MAX_EPOCHS);
        let train = self.dataset.train_size().max(1);
        c.range("training.batch_size", t.batch_size, 1, train);
        c.range(
            "training.readback_every",
            t.readback_every,
            1,
            MAX_BATCH_SETTING,
        );
        c.range(
            "training.eval_batch_size",
            t.eval_batch_size,
            1,
            MAX_BATCH_SETTING,
        );
        self.check_steering(c);
    }

    /// The changes made while it trained: in range, in batch order within the run, and of
    /// what this model, optimizer and engine have.
    fn check_steering(&self, c: &mut Checker) {
        let steering = &self.training.steering;
        if steering.len() > MAX_STEERS {
            c.fail(
                "training.steering",
                format!("{} changes", steering.len()),
                format!("a run records at most {MAX_STEERS} changes"),
            );
            return;
        }
        let batches = self
            .dataset
            .train_size()
            .div_ceil(self.training.batch_size.max(1))
            .saturating_mul(self.training.epochs);
        let sgd = self.training.optimizer.kind == OptimizerKind::Sgd;
        let hand_written = self.engine == Engine::HandWritten;
        let mut previous = 0;
        for (i, change) in steering.iter().enumerate() {
            let field = format!("training.steering[{i}]");
            change.check_values(&field, c);
            if change.at_step < previous || change.at_step >= batches.max(1) {
                c.fail(
                    format!("{field}.at_step"),
                    change.at_step,
                    format!(
                        "must be at least the previous change's ({previous}) and less than \
                         the run's {batches} batches"
                    ),
                );
            }
            previous = previous.max(change.at_step);
            if change.momentum.is_some() && (!sgd || hand_written) {
                c.fail(
                    format!("{field}.momentum"),
                    change.momentum.unwrap_or_default(),
                    "only SGD (with the autodiff engine) has a momentum",
                );
            }
            if change.dropout.is_some() && (hand_written || !self.model.has_dropout_layers()) {
                c.fail(
                    format!("{field}.dropout"),
                    change.dropout.unwrap_or_default(),
                    "this model has no dropout layer",
                );
            }
        }
    }

    /// The hyper-parameters it trains with after `trained` batches of `batches_per_epoch`
    /// each: the config's, then every change recorded up to then, the learning rate times
    /// [`crate::train::TrainingConfig::lr_decay`] at every epoch's end before it (a change at
    /// an epoch's boundary is applied after that epoch's decay, as the trainers do).
    pub fn settings_at(&self, trained: usize, batches_per_epoch: usize) -> LiveSettings {
        let o = &self.training.optimizer;
        let mut settings = LiveSettings {
            learning_rate: o.learning_rate,
            momentum: if o.kind == OptimizerKind::Sgd {
                o.momentum
            } else {
                0.0
            },
            l2: self.model.l2_per_layer().into_iter().fold(0.0, f64::max),
            dropout: self.model.max_dropout(),
        };
        let decay = self.training.lr_decay;
        let epoch_ends = if decay.is_none() {
            0
        } else {
            (trained / batches_per_epoch.max(1)).min(self.training.epochs)
        };
        let mut changes = self
            .training
            .steering
            .iter()
            .filter(|s| s.at_step <= trained)
            .peekable();
        for end in 1..=epoch_ends {
            let boundary = end * batches_per_epoch;
            while let Some(change) = changes.next_if(|s| s.at_step < boundary) {
                change.apply_to(&mut settings);
            }
            settings.learning_rate *= decay.0;
        }
        for change in changes {
            change.apply_to(&mut settings);
        }
        settings
    }

    /// Cross-field checks, once every field is in range.
    fn check_fit(&self, c: &mut Checker) {
        let classes = self.dataset.classes();
        let outputs = self.model.outputs();
        if !outputs_fit_classes(outputs, classes) {
            c.fail(
                "model.outputs",
                outputs,
                format!("{} has {classes} classes", self.dataset.name()),
            );
        }
        if let Some(why) = self.training.loss.incompatibility(
            outputs,
            self.model.output_activation(),
            self.dataset.is_regression(),
        ) {
            c.fail("training.loss", self.training.loss.name(), why);
        }
        match (&self.dataset, &self.model) {
            (DatasetConfig::Imdb(d), ModelConfig::Sequence(m)) => {
                if m.dict_size != d.dict_size {
                    c.fail(
                        "model.dict_size",
                        m.dict_size,
                        format!("must equal dataset.dict_size ({})", d.dict_size),
                    );
                }
                if m.example_len != d.example_len {
                    c.fail(
                        "model.example_len",
                        m.example_len,
                        format!("must equal dataset.example_len ({})", d.example_len),
                    );
                }
            }
            (dataset, model) => {
                let input = model.input_kind();
                if !(ModelKind::of(model).reads(input) && dataset.accepts(input)) {
                    c.fail(
                        "model",
                        model.input_description(),
                        format!("{} has {}", dataset.name(), dataset.input_description()),
                    );
                }
            }
        }
        if self.engine == Engine::HandWritten {
            if let Err(why) = self.hw1_config() {
                c.fail("engine", "hand_written", why.to_string());
            }
        }
        match self.memory_estimate() {
            Ok((summary, bytes)) => {
                if bytes > MAX_TRAINING_BYTES {
                    c.fail(
                        "model",
                        format!("{} parameters", thousands(summary.total_params)),
                        format!(
                            "needs about {} to train; at most {} is allowed",
                            human_bytes(bytes),
                            human_bytes(MAX_TRAINING_BYTES)
                        ),
                    );
                }
            }
            Err(e) => c.fail("model.layers", "stack", e.to_string()),
        }
    }
}
