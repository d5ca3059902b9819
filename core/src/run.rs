//! One serialisable config for a whole run (dataset, model, training, engine, device), its
//! validation with messages that name the field and the allowed range, and the presets named
//! after the seed notebooks' experiments.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::data::upload::{UploadedData, UploadedInput};
use crate::data::{ToyConfig, ToyKind};
use crate::device::DeviceChoice;
use crate::hw1::Hw1Config;
use crate::model::{
    Activation, CnnConfig, CnnLayerConfig, DenseLayerConfig, MlpConfig, ModelConfig, Padding,
    RecurrentKind, SequenceConfig, WeightInit,
};
use crate::train::{L2Mode, LossKind, OptimizerConfig, OptimizerKind, TrainingConfig};

/// Widest allowed layer.
pub const MAX_WIDTH: usize = 4096;
/// Most hidden layers (or CNN stack layers) allowed.
pub const MAX_DEPTH: usize = 16;
/// Most epochs allowed.
pub const MAX_EPOCHS: usize = 1000;
/// Largest model a run may build, in bytes of training memory (weights, gradients, optimizer
/// state and one batch of activations).
pub const MAX_TRAINING_BYTES: usize = 2 << 30;
/// Words in the IMDB vocabulary (Keras's `imdb_word_index` has 88,584) plus the 3 reserved ids.
pub const IMDB_MAX_DICT: usize = 88_587;
/// Longest IMDB review, in tokens, rounded up.
pub const IMDB_MAX_LEN: usize = 2_500;

/// Which dataset a run uses, with its options.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum DatasetConfig {
    /// A generated 2-D toy set.
    Toy(ToyConfig),
    /// MNIST digits, 28x28.
    Mnist(ImageSubset),
    /// MNIST averaged 2x2 to 14x14 (196 inputs), as in the homework.
    TinyMnist(ImageSubset),
    /// Fashion-MNIST, 28x28.
    FashionMnist(ImageSubset),
    /// IMDB reviews as token ids.
    Imdb(ImdbSubset),
    /// The user's own data (a CSV or idx upload in the playground).
    Uploaded(UploadedData),
}

/// How much of an image dataset a run uses (class-stratified, seeded subsets).
#[derive(Config, Debug, PartialEq)]
pub struct ImageSubset {
    /// Training examples, 1..=60000.
    #[config(default = 60000)]
    pub train_size: usize,
    /// Test examples, 1..=10000.
    #[config(default = 10000)]
    pub test_size: usize,
    /// Examples held out of the training set and evaluated after every epoch (0: the test
    /// set is evaluated instead). train_size + validation_size <= 60000.
    #[config(default = 0)]
    pub validation_size: usize,
    /// Seed of the subset draw.
    #[config(default = 1)]
    pub seed: u64,
}

/// How IMDB is tokenised and how much of it a run uses.
#[derive(Config, Debug, PartialEq)]
pub struct ImdbSubset {
    /// Vocabulary size (Keras `num_words`): rarer words become id 2.
    pub dict_size: usize,
    /// Tokens per example: pre-padded and pre-truncated to this length.
    pub example_len: usize,
    /// Training reviews, 1..=25000.
    #[config(default = 25000)]
    pub train_size: usize,
    /// Test reviews, 1..=25000.
    #[config(default = 25000)]
    pub test_size: usize,
    /// Reviews held out of the training set and evaluated after every epoch (0: the test set
    /// is evaluated instead). train_size + validation_size <= 25000.
    #[config(default = 0)]
    pub validation_size: usize,
    /// Seed of the subset draw.
    #[config(default = 1)]
    pub seed: u64,
}

impl DatasetConfig {
    /// Display name.
    pub fn name(&self) -> &'static str {
        match self {
            DatasetConfig::Toy(t) => t.kind.name(),
            DatasetConfig::Mnist(_) => "MNIST",
            DatasetConfig::TinyMnist(_) => "tinyMNIST",
            DatasetConfig::FashionMnist(_) => "Fashion-MNIST",
            DatasetConfig::Imdb(_) => "IMDB",
            DatasetConfig::Uploaded(_) => "your data",
        }
    }

    /// Training examples the run will use.
    pub fn train_size(&self) -> usize {
        match self {
            DatasetConfig::Toy(t) => {
                let test = ((t.size as f64 * t.test_fraction).round() as usize)
                    .clamp(1, t.size.max(2) - 1);
                t.size.saturating_sub(test)
            }
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => s.train_size,
            DatasetConfig::Imdb(s) => s.train_size,
            DatasetConfig::Uploaded(u) => u.train_size(),
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        match self {
            DatasetConfig::Toy(_) | DatasetConfig::Imdb(_) => 2,
            DatasetConfig::Uploaded(u) => u.classes(),
            _ => 10,
        }
    }
}

/// Which engine trains the model.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// burn autodiff with the configured optimizer (every model).
    #[default]
    Autodiff,
    /// The homework's hand-written backprop (sigmoid MLP, quadratic cost, SGD, weight decay).
    HandWritten,
}

/// A whole run: what a share link carries.
#[derive(Config, Debug, PartialEq)]
pub struct RunConfig {
    /// The dataset and its options.
    pub dataset: DatasetConfig,
    /// The model.
    pub model: ModelConfig,
    /// Optimizer, loss, schedule, seed.
    pub training: TrainingConfig,
    /// Autodiff or the hand-written backprop engine.
    #[config(default = "Engine::Autodiff")]
    pub engine: Engine,
    /// Device.
    #[config(default = "DeviceChoice::Cpu")]
    pub device: DeviceChoice,
}

/// A setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} = {value}: {message}")]
pub struct ConfigError {
    /// Path of the field, e.g. `model.hidden[1].units`.
    pub field: String,
    /// The value given.
    pub value: String,
    /// What is allowed.
    pub message: String,
}

struct Checker(Vec<ConfigError>);

impl Checker {
    fn fail(&mut self, field: impl Into<String>, value: impl ToString, message: impl Into<String>) {
        self.0.push(ConfigError {
            field: field.into(),
            value: value.to_string(),
            message: message.into(),
        });
    }

    fn range(&mut self, field: impl Into<String>, value: usize, lo: usize, hi: usize) {
        if !(lo..=hi).contains(&value) {
            self.fail(field, value, format!("must be in {lo}..={hi}"));
        }
    }

    fn unit(&mut self, field: impl Into<String>, value: f64, what: &str) {
        if !(value.is_finite() && (0.0..1.0).contains(&value)) {
            self.fail(field, value, format!("{what} must be in [0, 1)"));
        }
    }

    fn l2(&mut self, field: impl Into<String>, value: f64) {
        if !(value.is_finite() && (0.0..=10.0).contains(&value)) {
            self.fail(field, value, "L2 must be in [0, 10]");
        }
    }
}

impl RunConfig {
    /// Every problem of this config, each naming its field and the allowed range (empty: valid).
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut c = Checker(Vec::new());
        self.check_dataset(&mut c);
        self.check_model(&mut c);
        self.check_training(&mut c);
        if c.0.is_empty() {
            self.check_fit(&mut c);
        }
        c.0
    }

    /// `Ok` when the config can be trained; otherwise its first problem.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    fn check_dataset(&self, c: &mut Checker) {
        match &self.dataset {
            DatasetConfig::Toy(t) => {
                c.range("dataset.size", t.size, 10, 100_000);
                if !(t.noise.is_finite() && (0.0..=1.0).contains(&t.noise)) {
                    c.fail("dataset.noise", t.noise, "must be in [0, 1]");
                }
                if !(t.test_fraction.is_finite() && t.test_fraction > 0.0 && t.test_fraction < 1.0)
                {
                    c.fail(
                        "dataset.test_fraction",
                        t.test_fraction,
                        "must be in (0, 1)",
                    );
                }
            }
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => {
                c.range("dataset.train_size", s.train_size, 1, 60_000);
                c.range("dataset.test_size", s.test_size, 1, 10_000);
                c.range(
                    "dataset.validation_size",
                    s.validation_size,
                    0,
                    60_000 - s.train_size.min(60_000),
                );
            }
            DatasetConfig::Imdb(s) => {
                c.range("dataset.dict_size", s.dict_size, 4, IMDB_MAX_DICT);
                c.range("dataset.example_len", s.example_len, 1, IMDB_MAX_LEN);
                c.range("dataset.train_size", s.train_size, 1, 25_000);
                c.range("dataset.test_size", s.test_size, 1, 25_000);
                c.range(
                    "dataset.validation_size",
                    s.validation_size,
                    0,
                    25_000 - s.train_size.min(25_000),
                );
            }
            DatasetConfig::Uploaded(u) => {
                c.range("dataset.examples", u.examples, 2, usize::MAX);
                c.range(
                    "dataset.classes",
                    u.classes(),
                    2,
                    crate::data::csv::MAX_CLASSES,
                );
                if !(u.test_fraction.is_finite() && u.test_fraction > 0.0 && u.test_fraction < 1.0)
                {
                    c.fail(
                        "dataset.test_fraction",
                        u.test_fraction,
                        "must be in (0, 1)",
                    );
                }
            }
        }
    }

    fn check_model(&self, c: &mut Checker) {
        c.0.extend(self.model.problems());
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
        c.range("training.epochs", t.epochs, 1, MAX_EPOCHS);
        let train = self.dataset.train_size().max(1);
        c.range("training.batch_size", t.batch_size, 1, train);
        c.range("training.readback_every", t.readback_every, 1, 10_000);
        c.range("training.eval_batch_size", t.eval_batch_size, 1, 10_000);
    }

    /// Cross-field checks, once every field is in range.
    fn check_fit(&self, c: &mut Checker) {
        let classes = self.dataset.classes();
        let outputs = self.model.outputs();
        if outputs != classes && !(outputs == 1 && classes == 2) {
            c.fail(
                "model.outputs",
                outputs,
                format!("{} has {classes} classes", self.dataset.name()),
            );
        }
        if let Some(why) = self
            .training
            .loss
            .incompatibility(outputs, self.model.output_activation())
        {
            c.fail("training.loss", self.training.loss.name(), why);
        }
        let expected = match &self.dataset {
            DatasetConfig::Toy(_) => "2 features",
            DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_) => {
                "28x28 images (784 features)"
            }
            DatasetConfig::TinyMnist(_) => "14x14 images (196 features)",
            DatasetConfig::Imdb(_) => "token sequences",
            DatasetConfig::Uploaded(u) => match u.input {
                UploadedInput::Features(_) => "feature rows",
                UploadedInput::Image(_) => "images",
            },
        };
        let fits = match (&self.dataset, &self.model) {
            (DatasetConfig::Toy(_), ModelConfig::Mlp(m)) => m.inputs == 2,
            (DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_), ModelConfig::Mlp(m)) => {
                m.inputs == 784
            }
            (DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_), ModelConfig::Cnn(m)) => {
                m.input == [1, 28, 28]
            }
            (DatasetConfig::TinyMnist(_), ModelConfig::Mlp(m)) => m.inputs == 196,
            (DatasetConfig::TinyMnist(_), ModelConfig::Cnn(m)) => m.input == [1, 14, 14],
            (DatasetConfig::Uploaded(u), ModelConfig::Mlp(m)) => match u.input {
                UploadedInput::Features(n) => m.inputs == n,
                UploadedInput::Image([h, w]) => m.inputs == h * w,
            },
            (DatasetConfig::Uploaded(u), ModelConfig::Cnn(m)) => {
                matches!(u.input, UploadedInput::Image([h, w]) if m.input == [1, h, w])
            }
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
                true
            }
            _ => false,
        };
        if !fits {
            c.fail(
                "model",
                self.model.input_kind_name(),
                format!("{} has {expected}", self.dataset.name()),
            );
        }
        if self.engine == Engine::HandWritten {
            if let Err(why) = self.hw1_config() {
                c.fail("engine", "hand_written", why);
            }
        }
        match self.model.summary() {
            Ok(summary) => {
                let bytes = summary.training_bytes(
                    self.training.batch_size,
                    self.training.optimizer.state_slots(),
                );
                if bytes > MAX_TRAINING_BYTES {
                    c.fail(
                        "model",
                        format!("{} parameters", summary.total_params),
                        format!(
                            "needs about {} to train; at most {} is allowed",
                            crate::model::summary::human_bytes(bytes),
                            crate::model::summary::human_bytes(MAX_TRAINING_BYTES)
                        ),
                    );
                }
            }
            Err(e) => c.fail("model.layers", "stack", e.to_string()),
        }
    }

    /// The hand-written engine's config, when the model is what it can train: a sigmoid MLP
    /// with a sigmoid output, the quadratic cost and plain SGD. L2 is the hidden layers' (all
    /// equal) coefficient, applied as weight decay.
    pub fn hw1_config(&self) -> Result<Hw1Config, String> {
        let ModelConfig::Mlp(m) = &self.model else {
            return Err("the hand-written engine trains MLPs only".into());
        };
        if m.hidden.iter().any(|l| l.activation != Activation::Sigmoid)
            || m.output_activation != Activation::Sigmoid
        {
            return Err("the hand-written engine has sigmoid layers only".into());
        }
        if m.hidden.iter().any(|l| l.dropout > 0.0) {
            return Err("the hand-written engine has no dropout".into());
        }
        if self.training.loss != LossKind::Quadratic {
            return Err("the hand-written engine minimises the quadratic cost".into());
        }
        if self.training.optimizer.kind != OptimizerKind::Sgd
            || self.training.optimizer.momentum > 0.0
        {
            return Err("the hand-written engine uses plain SGD".into());
        }
        let lams = m.l2_per_layer();
        let lam = lams[0];
        if lams.iter().any(|&l| l != lam) {
            return Err("the hand-written engine has one weight decay for all layers".into());
        }
        let mut sizes = vec![m.inputs];
        sizes.extend(m.hidden.iter().map(|l| l.units));
        sizes.push(m.outputs);
        Ok(Hw1Config::new(
            sizes,
            self.training.optimizer.learning_rate,
            self.training.epochs,
        )
        .with_lam(lam)
        .with_batch_size(self.training.batch_size)
        .with_seed(self.training.seed))
    }

    /// A preset by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Option<RunConfig> {
        Some(match name {
            "tinytoy-hw1" => hw1_preset(
                DatasetConfig::Toy(ToyConfig::new(ToyKind::TinyToy)),
                2,
                30,
                2,
                0.25,
                30,
            ),
            "tinymnist-hw1" => hw1_preset(
                DatasetConfig::TinyMnist(ImageSubset::new()),
                196,
                30,
                10,
                0.25,
                10,
            ),
            "mlp-keras" => keras_mlp(&[(300, 0.0)], 10),
            "mlp-3layer" => keras_mlp(&[(500, 0.2), (300, 0.2)], 30),
            "cnn-seed" => cnn_preset(false),
            "cnn-seed-2conv" => cnn_preset(true),
            "spiral-mlp" => {
                let data = ToyConfig::new(ToyKind::Spiral)
                    .with_size(1000)
                    .with_noise(0.1);
                let hidden = vec![
                    DenseLayerConfig::new(16).with_activation(Activation::Tanh),
                    DenseLayerConfig::new(16).with_activation(Activation::Tanh),
                ];
                RunConfig::new(
                    DatasetConfig::Toy(data),
                    ModelConfig::Mlp(MlpConfig::new(2, hidden, 2)),
                    TrainingConfig::new(
                        OptimizerConfig::adam(0.01),
                        LossKind::SoftmaxCrossEntropy,
                        100,
                        10,
                    ),
                )
            }
            "mnist-10k" => {
                let mut run = keras_mlp(&[(256, 0.0)], 10);
                if let ModelConfig::Mlp(m) = &mut run.model {
                    m.init = WeightInit::GlorotUniform;
                }
                run.dataset = DatasetConfig::Mnist(
                    ImageSubset::new()
                        .with_train_size(10_000)
                        .with_test_size(2_000),
                );
                run.training.batch_size = 32;
                run
            }
            "imdb-small" => {
                let mut run = sequence_preset(RecurrentKind::Gru, 5_000, 32);
                run.dataset = DatasetConfig::Imdb(
                    ImdbSubset::new(5_000, 200)
                        .with_train_size(5_000)
                        .with_test_size(2_000),
                );
                if let ModelConfig::Sequence(m) = &mut run.model {
                    m.example_len = 200;
                    m.embedding_len = 32;
                }
                run.training.batch_size = 64;
                run.training.epochs = 3;
                run
            }
            "lstm-imdb" => sequence_preset(RecurrentKind::Lstm, 10_000, 64),
            "gru-imdb" => sequence_preset(RecurrentKind::Gru, 20_000, 128),
            _ => return None,
        })
    }
}

impl ModelConfig {
    /// Every out-of-range setting of the model (fields prefixed `model.`); empty when it can
    /// be built.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut checker = Checker(Vec::new());
        let c = &mut checker;
        match self {
            ModelConfig::Mlp(m) => {
                c.range("model.inputs", m.inputs, 1, 100_000);
                if m.hidden.len() > MAX_DEPTH {
                    c.fail(
                        "model.hidden",
                        m.hidden.len(),
                        format!("at most {MAX_DEPTH} hidden layers"),
                    );
                }
                for (i, layer) in m.hidden.iter().enumerate() {
                    c.range(
                        format!("model.hidden[{i}].units"),
                        layer.units,
                        1,
                        MAX_WIDTH,
                    );
                    c.unit(
                        format!("model.hidden[{i}].dropout"),
                        layer.dropout,
                        "dropout",
                    );
                    c.l2(format!("model.hidden[{i}].l2"), layer.l2);
                    if layer.activation == Activation::Softmax {
                        c.fail(
                            format!("model.hidden[{i}].activation"),
                            "softmax",
                            "softmax is for the output layer only",
                        );
                    }
                }
                c.range("model.outputs", m.outputs, 1, MAX_WIDTH);
                c.l2("model.output_l2", m.output_l2);
            }
            ModelConfig::Cnn(m) => {
                let [ch, h, w] = m.input;
                c.range("model.input.channels", ch, 1, 4);
                c.range("model.input.height", h, 1, 512);
                c.range("model.input.width", w, 1, 512);
                if m.layers.len() > 4 * MAX_DEPTH {
                    c.fail(
                        "model.layers",
                        m.layers.len(),
                        format!("at most {} layers", 4 * MAX_DEPTH),
                    );
                }
                for (i, layer) in m.layers.iter().enumerate() {
                    match layer {
                        CnnLayerConfig::Conv2d {
                            filters,
                            kernel,
                            stride,
                            ..
                        } => {
                            c.range(format!("model.layers[{i}].filters"), *filters, 1, 1024);
                            c.range(format!("model.layers[{i}].kernel"), *kernel, 1, 15);
                            c.range(format!("model.layers[{i}].stride"), *stride, 1, 8);
                        }
                        CnnLayerConfig::MaxPool2d { pool, stride } => {
                            c.range(format!("model.layers[{i}].pool"), *pool, 1, 8);
                            c.range(format!("model.layers[{i}].stride"), *stride, 1, 8);
                        }
                        CnnLayerConfig::Dropout { rate } => {
                            c.unit(format!("model.layers[{i}].rate"), *rate, "dropout")
                        }
                        CnnLayerConfig::Flatten => {}
                        CnnLayerConfig::Dense { units, l2, .. } => {
                            c.range(format!("model.layers[{i}].units"), *units, 1, MAX_WIDTH);
                            c.l2(format!("model.layers[{i}].l2"), *l2);
                        }
                    }
                }
                c.range("model.outputs", m.outputs, 1, MAX_WIDTH);
                c.l2("model.output_l2", m.output_l2);
                if c.0.is_empty() {
                    if let Err(e) = m.shapes() {
                        c.fail("model.layers", "stack", e.to_string());
                    }
                }
            }
            ModelConfig::Sequence(m) => {
                c.range("model.dict_size", m.dict_size, 4, IMDB_MAX_DICT);
                c.range("model.example_len", m.example_len, 1, IMDB_MAX_LEN);
                c.range("model.embedding_len", m.embedding_len, 1, 1024);
                c.range("model.units", m.units, 1, 1024);
                c.unit("model.dropout", m.dropout, "dropout");
                c.range("model.outputs", m.outputs, 1, 2);
                c.l2("model.output_l2", m.output_l2);
            }
        }
        checker.0
    }
}

impl ModelConfig {
    fn input_kind_name(&self) -> String {
        match self.input_kind() {
            crate::model::InputKind::Features(n) => format!("{n} inputs"),
            crate::model::InputKind::Image([c, h, w]) => format!("{c}x{h}x{w} images"),
            crate::model::InputKind::Tokens(n) => format!("{n} tokens"),
        }
    }
}

/// Preset names with a one-line description, after the seed notebooks' experiments.
pub const PRESETS: [(&str, &str); 11] = [
    ("tinytoy-hw1", "HW1: hand-written backprop, sigmoid [2,30,2], quadratic cost, per-example SGD eta 0.25, tinyTOY"),
    ("tinymnist-hw1", "HW1: hand-written backprop, sigmoid [196,30,10], per-example SGD eta 0.25, tinyMNIST 14x14"),
    ("mlp-keras", "Keras MLP 784-300-10 relu, normal init, Adam 1e-3, batch 200, 10 epochs, MNIST"),
    ("mlp-3layer", "Keras MLP 784-500-300-10 relu, dropout 0.2, Adam 1e-3, batch 200, 30 epochs, MNIST"),
    ("cnn-seed", "Seed CNN: conv 32 5x5, pool, dropout, dense 1000, 4,619,842 parameters, MNIST"),
    ("cnn-seed-2conv", "Seed CNN with a second conv 64 5x5: 1,087,106 parameters, MNIST"),
    ("spiral-mlp", "Playground: MLP 2-16-16-2 tanh, Adam 0.01, batch 10, on a noisy spiral"),
    ("mnist-10k", "Quick MNIST: MLP 784-256-10 relu, Adam 1e-3, batch 32, 10 epochs, 10k/2k subset"),
    ("imdb-small", "Quick IMDB: Embedding(5000,32) + GRU(32), example_len 200, 5k/2k reviews, 3 epochs"),
    ("lstm-imdb", "Embedding(10000,128) + LSTM(64) on IMDB, example_len 512"),
    ("gru-imdb", "Embedding(20000,128) + GRU(128) on IMDB, example_len 512"),
];

fn hw1_preset(
    dataset: DatasetConfig,
    inputs: usize,
    hidden: usize,
    outputs: usize,
    eta: f64,
    epochs: usize,
) -> RunConfig {
    let model = MlpConfig::new(
        inputs,
        vec![DenseLayerConfig::new(hidden).with_activation(Activation::Sigmoid)],
        outputs,
    )
    .with_output_activation(Activation::Sigmoid)
    .with_init(WeightInit::NielsenRandn);
    let training = TrainingConfig::new(OptimizerConfig::sgd(eta), LossKind::Quadratic, epochs, 1)
        .with_l2_mode(L2Mode::WeightDecay)
        .with_readback_every(100);
    RunConfig::new(dataset, ModelConfig::Mlp(model), training).with_engine(Engine::HandWritten)
}

fn keras_mlp(hidden: &[(usize, f64)], epochs: usize) -> RunConfig {
    let layers = hidden
        .iter()
        .map(|&(units, dropout)| DenseLayerConfig::new(units).with_dropout(dropout))
        .collect();
    let model = MlpConfig::new(784, layers, 10).with_init(WeightInit::KerasNormal);
    let training = TrainingConfig::new(
        OptimizerConfig::adam(1e-3),
        LossKind::SoftmaxCrossEntropy,
        epochs,
        200,
    );
    RunConfig::new(
        DatasetConfig::Mnist(ImageSubset::new()),
        ModelConfig::Mlp(model),
        training,
    )
}

fn cnn_preset(two_conv: bool) -> RunConfig {
    let conv = |filters| CnnLayerConfig::Conv2d {
        filters,
        kernel: 5,
        stride: 1,
        padding: Padding::Valid,
        activation: Activation::Relu,
    };
    let pool = CnnLayerConfig::MaxPool2d { pool: 2, stride: 2 };
    let mut layers = vec![
        conv(32),
        pool.clone(),
        CnnLayerConfig::Dropout { rate: 0.2 },
    ];
    if two_conv {
        layers.extend([conv(64), pool, CnnLayerConfig::Dropout { rate: 0.2 }]);
    }
    layers.extend([
        CnnLayerConfig::Flatten,
        CnnLayerConfig::Dense {
            units: 1000,
            activation: Activation::Relu,
            l2: 0.0,
        },
        CnnLayerConfig::Dropout { rate: 0.5 },
    ]);
    let model = CnnConfig::new([1, 28, 28], layers, 10);
    let training = TrainingConfig::new(
        OptimizerConfig::adam(1e-3),
        LossKind::SoftmaxCrossEntropy,
        12,
        128,
    );
    RunConfig::new(
        DatasetConfig::Mnist(ImageSubset::new()),
        ModelConfig::Cnn(model),
        training,
    )
}

fn sequence_preset(cell: RecurrentKind, dict_size: usize, units: usize) -> RunConfig {
    let model = SequenceConfig::new(dict_size, 512, 128, units).with_cell(cell);
    let training = TrainingConfig::new(
        OptimizerConfig::adam(1e-3),
        LossKind::BinaryCrossEntropy,
        3,
        32,
    );
    RunConfig::new(
        DatasetConfig::Imdb(ImdbSubset::new(dict_size, 512)),
        ModelConfig::Sequence(model),
        training,
    )
}

impl DatasetConfig {
    /// Sets the training-set size of image and IMDB datasets (toy sets keep theirs).
    pub fn set_train_size(&mut self, n: usize) {
        match self {
            DatasetConfig::Toy(_) => {}
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => s.train_size = n,
            DatasetConfig::Imdb(s) => s.train_size = n,
            DatasetConfig::Uploaded(_) => {}
        }
    }
}
