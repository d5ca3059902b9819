//! Layer shapes and parameter counts of every model kind, against the seed notebooks' tables.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use kindling_core::model::{
    Activation, BatchInput, CnnConfig, CnnLayerConfig, DenseLayerConfig, MlpConfig, ModelConfig,
    Padding, RecurrentKind, SequenceConfig,
};
use kindling_core::RunConfig;

fn summary_of(preset: &str) -> kindling_core::model::ModelSummary {
    RunConfig::preset(preset).unwrap().model.summary().unwrap()
}

#[test]
fn seed_cnn_tables_are_reproduced() {
    let s = summary_of("cnn-seed");
    let shapes: Vec<Vec<usize>> = s.rows.iter().map(|r| r.output_shape.clone()).collect();
    assert_eq!(
        shapes,
        vec![
            vec![24, 24, 32],
            vec![12, 12, 32],
            vec![12, 12, 32],
            vec![4608],
            vec![1000],
            vec![1000],
            vec![10]
        ]
    );
    let params: Vec<u64> = s.rows.iter().map(|r| r.params).collect();
    assert_eq!(params, vec![832, 0, 0, 0, 4_609_000, 0, 10_010]);
    assert_eq!(s.total_params, 4_619_842);

    let s = summary_of("cnn-seed-2conv");
    assert_eq!(s.total_params, 1_087_106);
    assert_eq!(s.rows[3].output_shape, vec![8, 8, 64]);
    assert_eq!(s.rows[3].params, 51_264);
    assert_eq!(s.rows[6].output_shape, vec![1024]);
}

#[test]
fn recurrent_layers_count_like_keras() {
    let s = summary_of("lstm-imdb");
    let lstm = s.rows.iter().find(|r| r.layer == "LSTM").unwrap();
    assert_eq!(lstm.params, 49_408);
    assert_eq!(s.rows[0].params, 1_280_000);
    assert_eq!(s.rows.last().unwrap().params, 65);
    let s = summary_of("gru-imdb");
    let gru = s.rows.iter().find(|r| r.layer == "GRU").unwrap();
    assert_eq!(gru.params, 98_688);
    assert_eq!(s.rows[0].params, 2_560_000);
    assert_eq!(s.rows.last().unwrap().params, 129);
}

#[test]
fn summary_text_is_keras_like() {
    let text = summary_of("cnn-seed").to_string();
    assert!(text.contains("conv2d_1 (Conv2D)"), "{text}");
    assert!(text.contains("(None, 24, 24, 32)"), "{text}");
    assert!(text.contains("Total params: 4,619,842"), "{text}");
}

#[test]
fn built_models_have_the_summarised_parameter_counts() {
    let device = Device::flex();
    for preset in [
        "mlp-keras",
        "mlp-3layer",
        "cnn-seed-2conv",
        "lstm-imdb",
        "gru-imdb",
        "tinytoy-hw1",
    ] {
        let config = RunConfig::preset(preset).unwrap().model;
        let model = config.init(&device).unwrap();
        assert_eq!(
            model.num_params() as u64,
            config.summary().unwrap().total_params,
            "{preset}"
        );
    }
}

#[test]
fn mlp_forward_shapes() {
    let device = Device::flex();
    let config = ModelConfig::Mlp(MlpConfig::new(
        5,
        vec![
            DenseLayerConfig::new(7).with_activation(Activation::Tanh),
            DenseLayerConfig::new(3)
                .with_activation(Activation::LeakyRelu)
                .with_dropout(0.5),
        ],
        4,
    ));
    let model = config.init(&device).unwrap();
    let out = model.forward(BatchInput::Features(Tensor::zeros([6, 5], &device)));
    assert_eq!(out.dims(), [6, 4]);
}

#[test]
fn cnn_same_padding_and_strides_shapes() {
    let device = Device::flex();
    let cnn = CnnConfig::new(
        [1, 28, 28],
        vec![
            CnnLayerConfig::Conv2d {
                filters: 8,
                kernel: 3,
                stride: 2,
                padding: Padding::Same,
                activation: Activation::Relu,
            },
            CnnLayerConfig::Conv2d {
                filters: 4,
                kernel: 4,
                stride: 1,
                padding: Padding::Same,
                activation: Activation::Sigmoid,
            },
            CnnLayerConfig::MaxPool2d { pool: 3, stride: 2 },
            CnnLayerConfig::Flatten,
            CnnLayerConfig::Dense {
                units: 16,
                activation: Activation::Relu,
                l2: 0.0,
            },
        ],
        10,
    );
    let shapes = cnn.shapes().unwrap();
    use kindling_core::model::FeatureShape::*;
    assert_eq!(
        shapes,
        vec![
            Image([8, 14, 14]),
            Image([4, 14, 14]),
            Image([4, 6, 6]),
            Flat(144),
            Flat(16),
            Flat(10)
        ]
    );
    let model = ModelConfig::Cnn(cnn).init(&device).unwrap();
    let out = model.forward(BatchInput::Images(Tensor::zeros([2, 1, 28, 28], &device)));
    assert_eq!(out.dims(), [2, 10]);
}

#[test]
fn cnn_stacks_that_do_not_fit_are_errors_not_panics() {
    let too_big = CnnConfig::new(
        [1, 4, 4],
        vec![
            CnnLayerConfig::Conv2d {
                filters: 2,
                kernel: 5,
                stride: 1,
                padding: Padding::Valid,
                activation: Activation::Relu,
            },
            CnnLayerConfig::Flatten,
        ],
        10,
    );
    assert!(too_big
        .shapes()
        .unwrap_err()
        .to_string()
        .contains("larger than the image"));
    let unflattened = CnnConfig::new(
        [1, 4, 4],
        vec![CnnLayerConfig::Dense {
            units: 3,
            activation: Activation::Relu,
            l2: 0.0,
        }],
        10,
    );
    assert!(unflattened
        .shapes()
        .unwrap_err()
        .to_string()
        .contains("Flatten"));
    assert!(ModelConfig::Cnn(unflattened).init(&Device::flex()).is_err());
}

#[test]
fn sequence_models_read_token_batches() {
    let device = Device::flex();
    for cell in [RecurrentKind::Lstm, RecurrentKind::Gru] {
        let config = ModelConfig::Sequence(SequenceConfig::new(50, 7, 8, 5).with_cell(cell));
        let model = config.init(&device).unwrap();
        let tokens = Tensor::<2, Int>::from_data(
            TensorData::new((0..21).map(|i| i % 50).collect::<Vec<i32>>(), [3, 7]),
            &device,
        );
        let out = model.forward(BatchInput::Tokens(tokens));
        assert_eq!(out.dims(), [3, 1], "{cell:?}");
    }
}

/// Keras's LSTM and GRU (`reset_after=False`) equations written out with scalars, for one
/// unit on one input: the layers must compute exactly this.
#[test]
fn recurrent_maths_match_keras_equations() {
    use burn::module::Param;
    use kindling_core::model::Recurrent;
    let device = Device::flex();
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let xs = [0.5f64, -1.0, 2.0];
    let input = Tensor::<3>::from_data(
        TensorData::new(xs.iter().map(|&x| x as f32).collect::<Vec<_>>(), [1, 3, 1]),
        &device,
    );

    // LSTM gates i, f, c, o.
    let (w, u, b) = (
        [0.1f64, 0.2, 0.3, 0.4],
        [0.5f64, -0.6, 0.7, -0.8],
        [0.01f64, 1.0, -0.02, 0.03],
    );
    let mut lstm = Recurrent::new(RecurrentKind::Lstm, 1, 1, &device);
    lstm.kernel = Param::from_tensor(Tensor::from_data(
        TensorData::new(w.map(|v| v as f32).to_vec(), [1, 4]),
        &device,
    ));
    lstm.recurrent_kernel = Param::from_tensor(Tensor::from_data(
        TensorData::new(u.map(|v| v as f32).to_vec(), [1, 4]),
        &device,
    ));
    lstm.bias = Param::from_tensor(Tensor::from_data(
        TensorData::new(b.map(|v| v as f32).to_vec(), [4]),
        &device,
    ));
    let (mut h, mut c) = (0.0f64, 0.0f64);
    for &x in &xs {
        let g = |k: usize| w[k] * x + u[k] * h + b[k];
        let (i, f, cc, o) = (sig(g(0)), sig(g(1)), g(2).tanh(), sig(g(3)));
        c = f * c + i * cc;
        h = o * c.tanh();
    }
    let got = lstm
        .forward(input.clone())
        .into_data()
        .try_into_vec_as::<f64>()
        .unwrap()[0];
    assert!((got - h).abs() < 1e-5, "LSTM {got} vs {h}");

    // GRU gates z, r, h with the reset gate applied before the recurrent matmul.
    let (w, u, b) = (
        [0.3f64, -0.2, 0.9],
        [0.4f64, 0.6, -0.5],
        [0.05f64, -0.1, 0.2],
    );
    let mut gru = Recurrent::new(RecurrentKind::Gru, 1, 1, &device);
    gru.kernel = Param::from_tensor(Tensor::from_data(
        TensorData::new(w.map(|v| v as f32).to_vec(), [1, 3]),
        &device,
    ));
    gru.recurrent_kernel = Param::from_tensor(Tensor::from_data(
        TensorData::new(u.map(|v| v as f32).to_vec(), [1, 3]),
        &device,
    ));
    gru.bias = Param::from_tensor(Tensor::from_data(
        TensorData::new(b.map(|v| v as f32).to_vec(), [3]),
        &device,
    ));
    let mut h = 0.0f64;
    for &x in &xs {
        let z = sig(w[0] * x + b[0] + u[0] * h);
        let r = sig(w[1] * x + b[1] + u[1] * h);
        let candidate = (w[2] * x + b[2] + u[2] * (r * h)).tanh();
        h = z * h + (1.0 - z) * candidate;
    }
    let got = gru
        .forward(input)
        .into_data()
        .try_into_vec_as::<f64>()
        .unwrap()[0];
    assert!((got - h).abs() < 1e-5, "GRU {got} vs {h}");
}
