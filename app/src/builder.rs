//! What the builder's controls do to a [`RunConfig`], free of the DOM so it is tested natively:
//! switching dataset or model kind keeps the config trainable (input and output sizes follow
//! the data; a model that cannot read the data is replaced by that family's usual one).

use kindling_core::data::upload::{UploadedData, UploadedInput};
use kindling_core::data::ToyConfig;
use kindling_core::data::{DatasetId, ImageSubset};
use kindling_core::model::{
    Activation, CnnConfig, CnnLayerConfig, DenseLayerConfig, MlpConfig, ModelConfig, ModelKind,
    Padding, RecurrentKind, SequenceConfig,
};
use kindling_core::train::{LossKind, OptimizerConfig, TrainingConfig};
use kindling_core::{DatasetConfig, Engine, RunConfig};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Trains on uploaded data from now on, fitting the model to it.
pub fn use_upload(config: &mut RunConfig, upload: UploadedData) {
    config.dataset = DatasetConfig::Uploaded(upload);
    fit_or_replace_model(config);
}

/// Switches the dataset to `id`, keeping subset sizes where they carry over and fitting the
/// model to it.
pub fn switch_dataset(config: &mut RunConfig, id: DatasetId) {
    let from_regression = config.dataset.is_regression();
    let old_images = config.dataset.image_subset().cloned();
    let toy = |kind| {
        let mut t = ToyConfig::new(kind);
        if let DatasetConfig::Toy(old) = &config.dataset {
            t.size = old.size;
            t.noise = old.noise;
            t.test_fraction = old.test_fraction;
            t.seed = old.seed;
            // The model reads the same features of the new set's points, and blobs and the
            // spiral keep each other's classes (edits belong to the old set's points).
            t.features = old.features.clone();
            if kind.has_class_choice() {
                t.classes = old.classes;
            }
        }
        DatasetConfig::Toy(t)
    };
    let images = old_images.unwrap_or_else(|| {
        ImageSubset::new()
            .with_train_size(10_000)
            .with_test_size(2_000)
    });
    config.dataset = match id {
        DatasetId::TinyMnist => DatasetConfig::TinyMnist(images),
        DatasetId::Mnist => DatasetConfig::Mnist(images),
        DatasetId::FashionMnist => DatasetConfig::FashionMnist(images),
        DatasetId::Imdb => match &config.dataset {
            DatasetConfig::Imdb(s) => DatasetConfig::Imdb(s.clone()),
            _ => RunConfig::preset("imdb-small").expect("a preset").dataset,
        },
        DatasetId::Uploaded => return,
        toy_set => match toy_set.toy_kind() {
            Some(kind) => toy(kind),
            None => return,
        },
    };
    fit_or_replace_model(config);
    fit_task(config, from_regression);
}

/// Fits the model to the dataset, or replaces it by a usual one when its kind cannot read it.
fn fit_or_replace_model(config: &mut RunConfig) {
    if config.dataset.offers(ModelKind::of(&config.model)) {
        fit_model(config);
    } else {
        let usual = match config.dataset {
            DatasetConfig::Imdb(_) => ModelKind::Gru,
            _ => ModelKind::Mlp,
        };
        switch_model_kind(config, usual);
    }
}

/// Replaces the model by a usual one of `kind` for the current dataset (and its usual loss).
pub fn switch_model_kind(config: &mut RunConfig, kind: ModelKind) {
    if !config.dataset.offers(kind) || ModelKind::of(&config.model) == kind {
        if let (ModelConfig::Sequence(s), Some(cell)) = (&mut config.model, kind.cell()) {
            s.cell = cell;
        }
        return;
    }
    let keep_schedule = (config.training.epochs, config.training.seed);
    match kind {
        ModelKind::Mlp => {
            let (hidden, training) = if matches!(config.dataset, DatasetConfig::Toy(_)) {
                (
                    vec![
                        DenseLayerConfig::new(16).with_activation(Activation::Tanh),
                        DenseLayerConfig::new(16).with_activation(Activation::Tanh),
                    ],
                    TrainingConfig::new(
                        OptimizerConfig::adam(0.01),
                        LossKind::SoftmaxCrossEntropy,
                        100,
                        10,
                    ),
                )
            } else {
                (
                    vec![DenseLayerConfig::new(128)],
                    TrainingConfig::new(
                        OptimizerConfig::adam(1e-3),
                        LossKind::SoftmaxCrossEntropy,
                        5,
                        64,
                    ),
                )
            };
            config.model = ModelConfig::Mlp(MlpConfig::new(2, hidden, 2));
            config.training = training;
        }
        ModelKind::Cnn => {
            config.model = small_cnn();
            config.training = TrainingConfig::new(
                OptimizerConfig::adam(1e-3),
                LossKind::SoftmaxCrossEntropy,
                3,
                64,
            );
        }
        ModelKind::Lstm | ModelKind::Gru => {
            let mut model = SequenceConfig::new(5_000, 200, 32, 32);
            model.cell = kind.cell().unwrap_or(RecurrentKind::Gru);
            config.model = ModelConfig::Sequence(model);
            config.training = TrainingConfig::new(
                OptimizerConfig::adam(1e-3),
                LossKind::BinaryCrossEntropy,
                3,
                64,
            );
        }
    }
    if !matches!(config.dataset, DatasetConfig::Toy(_)) {
        config.training.epochs = keep_schedule.0.min(config.training.epochs.max(1));
    }
    config.training.seed = keep_schedule.1;
    config.engine = Engine::Autodiff;
    fit_model(config);
}

/// A small CNN that fits 28x28 and 14x14 images: conv 8 5x5, pool, dense 64.
fn small_cnn() -> ModelConfig {
    ModelConfig::Cnn(CnnConfig::new(
        [1, 28, 28],
        vec![
            CnnLayerConfig::Conv2d {
                filters: 8,
                kernel: 5,
                stride: 1,
                padding: Padding::Valid,
                activation: Activation::Relu,
            },
            CnnLayerConfig::MaxPool2d { pool: 2, stride: 2 },
            CnnLayerConfig::Flatten,
            CnnLayerConfig::Dense {
                units: 64,
                activation: Activation::Relu,
                l2: 0.0,
            },
        ],
        10,
    ))
}

/// Makes the model's input and output sizes (and IMDB's dictionary and length) those of the
/// dataset, and the engine one that can train the model.
pub fn fit_model(config: &mut RunConfig) {
    let classes = config.dataset.classes();
    match (&mut config.model, &mut config.dataset) {
        (ModelConfig::Mlp(m), DatasetConfig::Toy(t)) => {
            m.inputs = t.features().len();
            if m.outputs != 1 || classes != 2 {
                m.outputs = classes;
            }
        }
        (ModelConfig::Mlp(m), DatasetConfig::Uploaded(u)) => {
            m.inputs = match u.input {
                UploadedInput::Features(n) => n,
                UploadedInput::Image([h, w]) => h * w,
            };
            if m.outputs != 1 || classes != 2 {
                m.outputs = classes;
            }
        }
        (ModelConfig::Mlp(m), d) => {
            if let Some([h, w]) = d.image_size() {
                m.inputs = h * w;
            }
            m.outputs = classes;
        }
        (ModelConfig::Cnn(c), d) => {
            if let Some([h, w]) = d.image_size() {
                c.input = [1, h, w];
            }
            c.outputs = classes;
            if config.model.summary().is_err() {
                // The stack does not fit the smaller images: start from one that does.
                let [h, w] = config.dataset.image_size().unwrap_or([28, 28]);
                config.model = small_cnn();
                if let ModelConfig::Cnn(c) = &mut config.model {
                    c.input = [1, h, w];
                    c.outputs = classes;
                }
            }
        }
        (ModelConfig::Sequence(s), DatasetConfig::Imdb(d)) => {
            d.dict_size = s.dict_size;
            d.example_len = s.example_len;
        }
        _ => {}
    }
    fit_task(config, false);
    if config.engine == Engine::HandWritten && config.hw1_config().is_err() {
        config.engine = Engine::Autodiff;
    }
}

/// Makes an MLP's output layer and loss those of the data's task: values to predict need a
/// linear output and mean squared error; classes, when the data was a regression set until now
/// (`from_regression`), a softmax over an output per class and cross-entropy, as a
/// classification set starts (a loss chosen on classes is left as it is).
fn fit_task(config: &mut RunConfig, from_regression: bool) {
    let ModelConfig::Mlp(m) = &mut config.model else {
        return;
    };
    let loss = &mut config.training.loss;
    if config.dataset.is_regression() {
        if matches!(
            m.output_activation,
            Activation::Softmax | Activation::Sigmoid
        ) {
            m.output_activation = Activation::Linear;
        }
        if matches!(
            loss,
            LossKind::SoftmaxCrossEntropy | LossKind::BinaryCrossEntropy
        ) {
            *loss = LossKind::MeanSquaredError;
        }
    } else if from_regression {
        m.outputs = config.dataset.classes();
        m.output_activation = Activation::Softmax;
        *loss = LossKind::SoftmaxCrossEntropy;
    }
}

/// The serde name of an enum value (e.g. `Relu`), for a `<select>`'s value.
pub fn enum_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The enum value of a serde name (the inverse of [`enum_name`]).
pub fn parse_enum<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// Every value of a fieldless enum, by name: (name, value).
pub fn activations() -> Vec<(String, Activation)> {
    [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::LeakyRelu,
        Activation::Linear,
        Activation::Softmax,
    ]
    .into_iter()
    .map(|a| (enum_name(&a), a))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_core::run::PRESETS;

    #[test]
    fn a_regression_set_gets_a_linear_output_and_mse_and_classes_get_them_back() {
        let mut config = RunConfig::preset("spiral-mlp").unwrap();
        switch_dataset(&mut config, DatasetId::GaussianBump);
        let ModelConfig::Mlp(m) = &config.model else {
            panic!("an MLP")
        };
        assert_eq!((m.outputs, m.output_activation), (1, Activation::Linear));
        assert_eq!(config.training.loss, LossKind::MeanSquaredError);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        switch_dataset(&mut config, DatasetId::Spiral);
        let ModelConfig::Mlp(m) = &config.model else {
            panic!("an MLP")
        };
        assert_eq!((m.outputs, m.output_activation), (2, Activation::Softmax));
        assert_eq!(config.training.loss, LossKind::SoftmaxCrossEntropy);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        // Mean squared error chosen on classes stays when the classification set changes.
        if let ModelConfig::Mlp(m) = &mut config.model {
            m.output_activation = Activation::Linear;
        }
        config.training.loss = LossKind::MeanSquaredError;
        switch_dataset(&mut config, DatasetId::Xor);
        assert_eq!(config.training.loss, LossKind::MeanSquaredError);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
    }

    #[test]
    fn every_dataset_switch_keeps_every_preset_trainable() {
        for preset in PRESETS.iter().map(|p| p.name) {
            for id in DatasetId::OFFERED {
                let mut config = RunConfig::preset(preset).unwrap();
                switch_dataset(&mut config, id);
                assert_eq!(config.dataset.id(), id);
                assert!(
                    config.problems().is_empty(),
                    "{preset} -> {id:?}: {:?}",
                    config.problems()
                );
            }
        }
    }

    #[test]
    fn model_kind_switches_follow_the_data() {
        let mut config = RunConfig::preset("mnist-10k").unwrap();
        switch_model_kind(&mut config, ModelKind::Cnn);
        assert_eq!(ModelKind::of(&config.model), ModelKind::Cnn);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        switch_dataset(&mut config, DatasetId::TinyMnist);
        let ModelConfig::Cnn(c) = &config.model else {
            panic!("still a CNN")
        };
        assert_eq!(c.input, [1, 14, 14]);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        // A CNN cannot read 2-D points: the toy set gets an MLP.
        switch_dataset(&mut config, DatasetId::Xor);
        assert_eq!(ModelKind::of(&config.model), ModelKind::Mlp);
        // An LSTM is not offered for images.
        switch_dataset(&mut config, DatasetId::Mnist);
        switch_model_kind(&mut config, ModelKind::Lstm);
        assert_eq!(ModelKind::of(&config.model), ModelKind::Mlp);
        switch_dataset(&mut config, DatasetId::Imdb);
        switch_model_kind(&mut config, ModelKind::Lstm);
        assert_eq!(ModelKind::of(&config.model), ModelKind::Lstm);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
    }

    #[test]
    fn the_homework_engine_is_dropped_when_it_cannot_train_the_model() {
        let mut config = RunConfig::preset("tinytoy-hw1").unwrap();
        switch_dataset(&mut config, DatasetId::TinyMnist);
        assert_eq!(config.engine, Engine::HandWritten);
        assert!(config.problems().is_empty());
        switch_dataset(&mut config, DatasetId::Imdb);
        assert_eq!(config.engine, Engine::Autodiff);
    }

    #[test]
    fn uploaded_data_gets_a_model_that_reads_it() {
        let upload = |input, classes: usize| {
            UploadedData::new(
                "mine.csv".into(),
                "00".into(),
                input,
                (0..classes).map(|c| c.to_string()).collect(),
                500,
            )
        };
        let mut config = RunConfig::preset("spiral-mlp").unwrap();
        use_upload(&mut config, upload(UploadedInput::Features(4), 3));
        let ModelConfig::Mlp(m) = &config.model else {
            panic!("an MLP reads feature rows")
        };
        assert_eq!((m.inputs, m.outputs), (4, 3));
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        assert!(!config.dataset.has_boundary_map());
        use_upload(&mut config, upload(UploadedInput::Features(2), 2));
        assert!(config.dataset.has_boundary_map());
        assert_eq!(config.dataset.id(), DatasetId::Uploaded);

        let mut config = RunConfig::preset("mnist-10k").unwrap();
        switch_model_kind(&mut config, ModelKind::Cnn);
        use_upload(&mut config, upload(UploadedInput::Image([16, 16]), 10));
        let ModelConfig::Cnn(c) = &config.model else {
            panic!("a CNN reads images")
        };
        assert_eq!(c.input, [1, 16, 16]);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        // A CNN cannot read feature rows: an MLP replaces it.
        use_upload(&mut config, upload(UploadedInput::Features(8), 2));
        assert_eq!(ModelKind::of(&config.model), ModelKind::Mlp);
        assert!(config.problems().is_empty(), "{:?}", config.problems());
    }

    #[test]
    fn enum_names_round_trip() {
        for (name, a) in activations() {
            assert_eq!(parse_enum::<Activation>(&name), Some(a));
        }
        assert_eq!(parse_enum::<Activation>("nope"), None);
    }
}
