//! Export: an MLP, a CNN, an LSTM and a GRU run out to safetensors and back with equal
//! outputs; the file's names and layouts are PyTorch's; the scripts name only weights the file
//! has and are valid Python; the data file holds what the scripts read.

use burn::tensor::{Device, Distribution, Int, Tensor};
use kindling_core::data::loader::SplitPositions;
use kindling_core::data::{DatasetConfig, ImdbSubset, ToyConfig, ToyKind};
use kindling_core::export::{export_run, model_from_safetensors, safetensors_of, ExportData};
use kindling_core::model::{
    Activation, BatchInput, CnnConfig, CnnLayerConfig, DenseLayerConfig, MlpConfig, ModelConfig,
    Padding, RecurrentKind, SequenceConfig, WeightsError,
};
use kindling_core::record::RunRecord;
use kindling_core::train::{LossKind, LrDecay, OptimizerConfig, TrainingConfig};
use kindling_core::RunConfig;
use safetensors::SafeTensors;

fn mlp() -> ModelConfig {
    ModelConfig::Mlp(MlpConfig::new(
        2,
        vec![
            DenseLayerConfig::new(8).with_activation(Activation::Tanh),
            DenseLayerConfig::new(5).with_dropout(0.2).with_l2(0.001),
        ],
        3,
    ))
}

fn cnn() -> ModelConfig {
    ModelConfig::Cnn(CnnConfig::new(
        [1, 12, 12],
        vec![
            CnnLayerConfig::Conv2d {
                filters: 4,
                kernel: 3,
                stride: 2,
                padding: Padding::Same,
                activation: Activation::Relu,
            },
            CnnLayerConfig::MaxPool2d { pool: 2, stride: 2 },
            CnnLayerConfig::Dropout { rate: 0.25 },
            CnnLayerConfig::Flatten,
            CnnLayerConfig::Dense {
                units: 6,
                activation: Activation::LeakyRelu,
                l2: 0.01,
            },
        ],
        10,
    ))
}

fn sequence(cell: RecurrentKind) -> ModelConfig {
    ModelConfig::Sequence(SequenceConfig::new(50, 7, 4, 3).with_cell(cell))
}

fn input(config: &ModelConfig, device: &Device) -> BatchInput {
    match config {
        ModelConfig::Mlp(m) => {
            BatchInput::Features(Tensor::random([5, m.inputs], Distribution::Default, device))
        }
        ModelConfig::Cnn(c) => {
            let [ch, h, w] = c.input;
            BatchInput::Images(Tensor::random([5, ch, h, w], Distribution::Default, device))
        }
        ModelConfig::Sequence(s) => BatchInput::Tokens(
            Tensor::<2, Int>::from_ints(
                [
                    [0, 1, 4, 9, 49, 2, 3],
                    [1, 1, 1, 1, 1, 1, 1],
                    [48, 47, 0, 0, 5, 6, 7],
                ],
                device,
            )
            .slice([0..3, 0..s.example_len]),
        ),
    }
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn names_and_shapes(bytes: &[u8]) -> Vec<(String, Vec<usize>)> {
    let file = SafeTensors::deserialize(bytes).unwrap();
    let mut names: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    names.sort();
    names
}

#[test]
fn every_model_kind_comes_back_from_safetensors_with_equal_outputs() {
    let device = Device::flex();
    for config in [
        mlp(),
        cnn(),
        sequence(RecurrentKind::Lstm),
        sequence(RecurrentKind::Gru),
    ] {
        let model = config.init_seeded(&device, 7).unwrap();
        let bytes = safetensors_of(&model).unwrap();
        let back = model_from_safetensors(&config, bytes, &device).unwrap();
        let fresh = config.init_seeded(&device, 8).unwrap();
        let x = input(&config, &device);
        let (a, b) = (
            values(model.forward(x.clone())),
            values(back.forward(x.clone())),
        );
        assert_eq!(a, b, "{config:?}");
        // Not a model that merely starts alike: another seed's outputs differ.
        assert_ne!(a, values(fresh.forward(x)), "{config:?}");
    }
}

#[test]
fn safetensors_use_pytorch_names_and_layouts() {
    let device = Device::flex();
    let names = |config: ModelConfig| {
        names_and_shapes(&safetensors_of(&config.init(&device).unwrap()).unwrap())
    };
    let s = |n: &str, shape: &[usize]| (n.to_string(), shape.to_vec());
    assert_eq!(
        names(mlp()),
        vec![
            s("hidden.0.linear.bias", &[8]),
            s("hidden.0.linear.weight", &[8, 2]),
            s("hidden.1.linear.bias", &[5]),
            s("hidden.1.linear.weight", &[5, 8]),
            s("output.bias", &[3]),
            s("output.weight", &[3, 5]),
        ]
    );
    // 12x12 -> conv stride 2 same -> 6x6x4 -> pool -> 3x3x4 = 36.
    assert_eq!(
        names(cnn()),
        vec![
            s("layers.0.conv.bias", &[4]),
            s("layers.0.conv.weight", &[4, 1, 3, 3]),
            s("layers.4.linear.bias", &[6]),
            s("layers.4.linear.weight", &[6, 36]),
            s("output.bias", &[10]),
            s("output.weight", &[10, 6]),
        ]
    );
    assert_eq!(
        names(sequence(RecurrentKind::Lstm)),
        vec![
            s("embedding.weight", &[50, 4]),
            s("output.bias", &[1]),
            s("output.weight", &[1, 3]),
            s("recurrent.bias", &[12]),
            s("recurrent.kernel", &[4, 12]),
            s("recurrent.recurrent_kernel", &[3, 12]),
        ]
    );
}

#[test]
fn weights_of_another_model_are_refused() {
    let device = Device::flex();
    let bytes = safetensors_of(&mlp().init(&device).unwrap()).unwrap();
    let wider = ModelConfig::Mlp(MlpConfig::new(2, vec![DenseLayerConfig::new(9)], 3));
    let err = model_from_safetensors(&wider, bytes.clone(), &device).unwrap_err();
    assert!(matches!(err, WeightsError::Mismatch(_)), "{err:?}");
    assert!(err.to_string().contains("hidden.0.linear.weight"), "{err}");
    let err = model_from_safetensors(&cnn(), bytes, &device).unwrap_err();
    assert!(matches!(err, WeightsError::Mismatch(_)), "{err:?}");
    let err = model_from_safetensors(&mlp(), b"not safetensors".to_vec(), &device).unwrap_err();
    assert!(matches!(err, WeightsError::Foreign { .. }), "{err:?}");
}

fn record(dataset: DatasetConfig, model: ModelConfig, loss: LossKind) -> RunRecord {
    let config = RunConfig::new(
        dataset,
        model,
        TrainingConfig::new(OptimizerConfig::adam(0.001), loss, 3, 32),
    );
    RunRecord::started(1, "My \"run\"\nof 'today'".into(), config, 0.0)
}

/// Writes the script `file` into `dir` and asserts that Python compiles it.
fn assert_compiles(dir: &std::path::Path, file: &kindling_core::export::ExportFile) {
    let path = dir.join(&file.name);
    std::fs::write(&path, &file.bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "py_compile"])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}: {}\n{}",
        file.name,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&file.bytes)
    );
}

/// Every `w["..."]` the Keras loader reads, in order.
fn keras_keys(script: &str) -> Vec<String> {
    script
        .split("w[\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn scripts_read_only_weights_the_file_has_and_compile() {
    let device = Device::flex();
    let toy = ToyConfig::new(ToyKind::Spiral).with_size(40);
    let data = toy.generate();
    let positions = SplitPositions {
        train: vec![0, 2, 5],
        validation: None,
        test: vec![1, 3],
    };
    let mnist = DatasetConfig::TinyMnist(kindling_core::data::ImageSubset::new());
    let imdb = DatasetConfig::Imdb(ImdbSubset::new(50, 7));
    let cases = [
        (
            DatasetConfig::Toy(toy.clone()),
            mlp(),
            LossKind::SoftmaxCrossEntropy,
        ),
        (mnist, cnn(), LossKind::Quadratic),
        (
            imdb.clone(),
            sequence(RecurrentKind::Lstm),
            LossKind::BinaryCrossEntropy,
        ),
        (
            imdb,
            sequence(RecurrentKind::Gru),
            LossKind::BinaryCrossEntropy,
        ),
    ];
    let dir = std::env::temp_dir().join(format!("kindling-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (dataset, model_config, loss)) in cases.into_iter().enumerate() {
        let mut record = record(dataset, model_config.clone(), loss);
        // Every other script has a rate that decays (its schedule must compile too).
        let decays = i % 2 == 0;
        if decays {
            record.config.training.lr_decay = LrDecay(0.5);
        }
        let model = model_config.init(&device).unwrap();
        let data = match record.config.dataset {
            DatasetConfig::Toy(_) => ExportData::Carried {
                train: &data.train,
                test: &data.eval,
            },
            _ => ExportData::Positions(&positions),
        };
        let export = export_run(&record, &model, data).unwrap();
        assert_eq!(export.weights.name, "my--run--of--today.safetensors");
        assert_eq!(export.pytorch.name, "my--run--of--today-pytorch.py");
        let names: Vec<String> = names_and_shapes(&export.weights.bytes)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let keras = String::from_utf8(export.keras.bytes.clone()).unwrap();
        let mut read = keras_keys(&keras);
        read.sort();
        assert_eq!(read, names, "the Keras loader reads every weight once");
        let pytorch = String::from_utf8(export.pytorch.bytes.clone()).unwrap();
        assert!(pytorch.contains(r#"RUN_NAME = "My \"run\"\nof 'today'""#));
        assert_eq!(
            pytorch.contains("LR_DECAY = 0.5") && pytorch.contains("scheduler.step()"),
            decays,
            "PyTorch steps the schedule once an epoch when the rate decays"
        );
        assert_eq!(
            keras.contains("LR_DECAY = 0.5") && keras.contains("staircase=True"),
            decays,
            "Keras's schedule decays by epochs' worth of batches when the rate decays"
        );
        for file in [&export.pytorch, &export.keras] {
            assert_compiles(&dir, file);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_data_file_holds_positions_or_the_examples() {
    let toy = ToyConfig::new(ToyKind::Spiral).with_size(40).generate();
    let device = Device::flex();
    let model = mlp().init(&device).unwrap();
    let rec = record(
        DatasetConfig::Toy(ToyConfig::new(ToyKind::Spiral)),
        mlp(),
        LossKind::SoftmaxCrossEntropy,
    );
    let carried = export_run(
        &rec,
        &model,
        ExportData::Carried {
            train: &toy.train,
            test: &toy.eval,
        },
    )
    .unwrap();
    let file = SafeTensors::deserialize(&carried.data.bytes).unwrap();
    let test_x = file.tensor("test_x").unwrap();
    assert_eq!(test_x.shape(), [toy.eval.len(), 2]);
    let kindling_data::Examples::Dense(v) = &toy.eval.examples else {
        panic!("toy sets are dense")
    };
    let first: Vec<f32> = test_x.data()[..8]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(first, v[..2]);
    let labels = file.tensor("test_y").unwrap();
    assert_eq!(
        i64::from_le_bytes(labels.data()[..8].try_into().unwrap()),
        i64::from(toy.eval.labels[0])
    );
    let positions = SplitPositions {
        train: vec![0, 2, 59_999],
        validation: Some(vec![1, 4]),
        test: vec![7],
    };
    let picked = export_run(&rec, &model, ExportData::Positions(&positions)).unwrap();
    let file = SafeTensors::deserialize(&picked.data.bytes).unwrap();
    let train = file.tensor("train_positions").unwrap();
    let read: Vec<i64> = train
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(read, vec![0, 2, 59_999]);
    let validation = file.tensor("validation_positions").unwrap();
    assert_eq!(validation.shape(), [2]);
}

use kindling_core::data as kindling_data;

#[test]
fn a_saved_models_accuracy_counts_one_sigmoid_output_as_training_does() {
    use kindling_core::data::{Dataset, ExampleShape, Examples};
    use kindling_core::model::weights::weights_from_values;
    use kindling_core::model::SavedModel;
    let binary =
        ModelConfig::Mlp(MlpConfig::new(2, vec![], 1).with_output_activation(Activation::Sigmoid));
    // Zero weights and a bias of 1: sigmoid(1) > 0.5 predicts class 1 for every example.
    let bytes = weights_from_values(&binary, vec![vec![0.0, 0.0], vec![1.0]]).unwrap();
    let saved = SavedModel::load(&binary, bytes, &Device::flex()).unwrap();
    let data = Dataset {
        name: "four".into(),
        shape: ExampleShape::Features(2),
        examples: Examples::Dense(vec![0.5; 8]),
        labels: vec![1, 1, 0, 1],
        num_classes: 2,
        targets: None,
    };
    assert_eq!(
        kindling_core::block_on(saved.accuracy(&data)).unwrap(),
        0.75
    );
}

/// A regression run exports its values (f32) as the targets, mean squared error as the loss,
/// and R² as the figure both scripts report; the scripts are valid Python.
#[test]
fn a_regression_run_exports_its_values_its_loss_and_r2() {
    let toy = ToyConfig::new(ToyKind::GaussianBump).with_size(40);
    let data = toy.generate();
    let mut model_config = MlpConfig::new(
        2,
        vec![DenseLayerConfig::new(8).with_activation(Activation::Tanh)],
        1,
    );
    model_config.output_activation = Activation::Linear;
    let model_config = ModelConfig::Mlp(model_config);
    let rec = record(
        DatasetConfig::Toy(toy),
        model_config.clone(),
        LossKind::MeanSquaredError,
    );
    assert!(
        rec.config.problems().is_empty(),
        "{:?}",
        rec.config.problems()
    );
    let model = model_config.init(&Device::flex()).unwrap();
    let export = export_run(
        &rec,
        &model,
        ExportData::Carried {
            train: &data.train,
            test: &data.eval,
        },
    )
    .unwrap();
    let file = SafeTensors::deserialize(&export.data.bytes).unwrap();
    let values = file.tensor("test_y").unwrap();
    assert_eq!(values.dtype(), safetensors::Dtype::F32);
    let read: Vec<f32> = values
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(Some(&read), data.eval.targets.as_ref());
    let dir = std::env::temp_dir().join(format!("kindling-export-r2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, loss) in [
        (
            &export.pytorch,
            "((output_activation(logits) - targets(labels, logits.shape[1])) ** 2).mean()",
        ),
        (
            &export.keras,
            "ops.mean((output_activation(logits) - targets(labels, logits.shape[1])) ** 2, axis=1)",
        ),
    ] {
        let script = String::from_utf8(file.bytes.clone()).unwrap();
        assert!(script.contains(loss), "{}: {script}", file.name);
        assert!(
            script.contains(r#"print(f"test R²: {evaluate(model, x_test, y_test):.4f}")"#),
            "{}",
            file.name
        );
        assert!(script.contains("held-out R²"), "{}", file.name);
        assert!(!script.contains("test accuracy"), "{}", file.name);
        assert_compiles(&dir, file);
    }
    std::fs::remove_dir_all(&dir).ok();
}
