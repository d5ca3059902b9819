//! The layers of one image: what every layer of an image model (a CNN, or an MLP reading
//! pixels) computes for it, in order, and the first convolution's filters, quantised to
//! levels for the page to draw (each layer's levels one after another, beside the message).

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::device::read_f32s;
use crate::model::cnn::LayerOutput;
use crate::model::{Activation, BatchInput, Model};

/// One layer's output for the image (or the filters), quantised: value `low + l / 255 *
/// (high - low)` for level `l`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LayerLevels {
    /// The layer's name, as the summary has it (`conv2d_1`, `max_pooling2d_1`, `dense_1`).
    pub name: String,
    /// Its output's shape for one image: `[channels, height, width]` for feature maps,
    /// `[units]` for a dense layer, `[filters, height, width]` for filters.
    pub shape: Vec<usize>,
    /// Smallest value.
    pub low: f32,
    /// Largest value.
    pub high: f32,
}

impl LayerLevels {
    /// Levels it has (the product of its shape).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every layer of an image model for one image, then its probabilities.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ImageLayers {
    /// The layers, input to last hidden, each with its levels in `levels` in this order.
    pub layers: Vec<LayerLevels>,
    /// The first convolution's filters (first input channel), after the layers' levels.
    pub filters: Option<LayerLevels>,
    /// Class probabilities.
    #[serde(deserialize_with = "crate::nan_json::f32s_or_nan")]
    pub probabilities: Vec<f32>,
    /// Every layer's levels, then the filters'; they travel beside the message.
    #[serde(skip)]
    pub levels: Vec<u8>,
}

impl ImageLayers {
    /// The levels of layer `i` (`layers.len()`: the filters).
    pub fn levels_of(&self, i: usize) -> &[u8] {
        let start: usize = self.layers.iter().take(i).map(LayerLevels::len).sum();
        let len = match self.layers.get(i) {
            Some(l) => l.len(),
            None => self.filters.as_ref().map_or(0, LayerLevels::len),
        };
        self.levels.get(start..start + len).unwrap_or(&[])
    }
}

/// Quantises `values` to levels, appending them to `levels`; returns (low, high).
fn quantise(values: &[f32], levels: &mut Vec<u8>) -> (f32, f32) {
    let (low, high) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (low, high) = if low > high { (0.0, 0.0) } else { (low, high) };
    let span = high - low;
    levels.extend(values.iter().map(|&v| {
        if span > 0.0 && v.is_finite() {
            ((v - low) / span * 255.0).round().clamp(0.0, 255.0) as u8
        } else {
            0
        }
    }));
    (low, high)
}

/// What `model` computes for one image (`input`, a batch of one), layer by layer, with its
/// output `activation` for the probabilities; `None` for a model that does not read images
/// as layers of maps or units (a recurrent one).
pub async fn image_layers(
    model: &Model,
    input: BatchInput,
    activation: Activation,
) -> Result<Option<ImageLayers>, String> {
    let (outputs, logits, filters) = match (model, input) {
        (Model::Cnn(cnn), BatchInput::Images(x)) => {
            let (outputs, logits) = cnn.layer_outputs(x);
            (outputs, logits, cnn.first_filters())
        }
        (Model::Mlp(mlp), BatchInput::Images(x)) => {
            let (outputs, logits) = mlp.layer_outputs(x.flatten(1, 3));
            (outputs, logits, None)
        }
        (Model::Mlp(mlp), BatchInput::Features(x)) => {
            let (outputs, logits) = mlp.layer_outputs(x);
            (outputs, logits, None)
        }
        _ => return Ok(None),
    };
    let mut out = ImageLayers::default();
    for (name, output) in outputs {
        let (shape, values) = match output {
            LayerOutput::Maps(t) => {
                let [_, c, h, w] = t.dims();
                (vec![c, h, w], read_f32s(t).await?)
            }
            LayerOutput::Units(t) => {
                let [_, units] = t.dims();
                (vec![units], read_f32s(t).await?)
            }
        };
        let (low, high) = quantise(&values, &mut out.levels);
        out.layers.push(LayerLevels {
            name,
            shape,
            low,
            high,
        });
    }
    if let Some(weights) = filters {
        let [count, _, kh, kw] = weights.dims();
        // The first input channel's kernels (grey images have one).
        let first: Tensor<4> = weights.narrow(1, 0, 1);
        let values = read_f32s(first).await?;
        let (low, high) = quantise(&values, &mut out.levels);
        out.filters = Some(LayerLevels {
            name: "filters".into(),
            shape: vec![count, kh, kw],
            low,
            high,
        });
    }
    out.probabilities = read_f32s(activation.apply(logits)).await?;
    // A model with no hidden layer has nothing to show but its probabilities.
    Ok((!out.layers.is_empty() || out.filters.is_some()).then_some(out))
}

/// What a dense network given by its layers (`layers`, first hidden to output: the
/// homework's hand-written network) computes for one flattened image `input` ([1, pixels]):
/// each hidden layer's units, then the output layer's activations as the probabilities.
pub async fn dense_layers(
    layers: &[super::DenseParams],
    input: Tensor<2>,
) -> Result<Option<ImageLayers>, String> {
    let Some((output, hidden)) = layers.split_last() else {
        return Ok(None);
    };
    let mut x = input.cast(output.weights.dtype());
    let mut out = ImageLayers::default();
    let apply = |x: Tensor<2>, layer: &super::DenseParams| {
        let z = x.matmul(layer.weights.clone());
        let z = match &layer.bias {
            Some(b) => z + b.clone().unsqueeze_dim::<2>(0),
            None => z,
        };
        layer.activation.apply(z)
    };
    for (i, layer) in hidden.iter().enumerate() {
        x = apply(x, layer);
        let values = read_f32s(x.clone()).await?;
        let (low, high) = quantise(&values, &mut out.levels);
        out.layers.push(LayerLevels {
            name: format!("dense_{}", i + 1),
            shape: vec![values.len()],
            low,
            high,
        });
    }
    let p = read_f32s(apply(x, output)).await?;
    // Sigmoid outputs, as the homework's network has, normalised to sum to 1.
    let sum: f32 = p.iter().sum();
    out.probabilities = p.iter().map(|v| v / sum.max(1e-12)).collect();
    Ok((!out.layers.is_empty()).then_some(out))
}

/// [`image_layers`] of the single example of `data` (an image set), on `device`.
pub async fn image_layers_of(
    model: &Model,
    config: &crate::model::ModelConfig,
    data: &crate::data::Dataset,
    device: &Device,
) -> Result<Option<ImageLayers>, String> {
    if data.is_empty() {
        return Ok(None);
    }
    let batch = data.batch(&[0], config.input_kind(), device);
    image_layers(model, batch.input, config.output_activation()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, ExampleShape, Examples};
    use crate::model::ModelConfig;
    use crate::RunConfig;

    fn digit() -> Dataset {
        Dataset {
            name: "one".into(),
            shape: ExampleShape::Image([1, 28, 28]),
            examples: Examples::Pixels((0..784).map(|i| (i * 7 % 256) as u8).collect()),
            labels: vec![3],
            num_classes: 10,
            targets: None,
        }
    }

    #[test]
    fn a_cnn_shows_every_layer_in_order_with_the_first_filters() {
        let config = RunConfig::preset("cnn-seed-2conv").unwrap();
        let device = Device::flex();
        let model = config.model.init(&device).unwrap();
        let layers = crate::block_on(image_layers_of(&model, &config.model, &digit(), &device))
            .unwrap()
            .expect("a CNN has layers");
        let names: Vec<&str> = layers.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "conv2d_1",
                "max_pooling2d_1",
                "conv2d_2",
                "max_pooling2d_2",
                "dense_1"
            ],
            "as the seed's summary lists them"
        );
        let shapes: Vec<&[usize]> = layers.layers.iter().map(|l| &l.shape[..]).collect();
        assert_eq!(
            shapes,
            [
                &[32, 24, 24][..],
                &[32, 12, 12],
                &[64, 8, 8],
                &[64, 4, 4],
                &[1000]
            ]
        );
        let filters = layers.filters.as_ref().unwrap();
        assert_eq!(filters.shape, [32, 5, 5], "the seed's 5x5 kernels");
        let total: usize = layers.layers.iter().map(LayerLevels::len).sum::<usize>() + 800;
        assert_eq!(layers.levels.len(), total);
        assert_eq!(layers.levels_of(5).len(), 800, "the filters come last");
        assert_eq!(layers.probabilities.len(), 10);
        let sum: f32 = layers.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
        // The levels are the outputs: the ReLU maps' low is 0.
        assert_eq!(layers.layers[0].low, 0.0);
        let p = crate::block_on(crate::model::weights::model_probabilities(
            &model,
            config.model.input_kind(),
            config.model.output_activation(),
            &digit(),
            1,
            &device,
        ))
        .unwrap();
        for (a, b) in p.iter().zip(&layers.probabilities) {
            assert!(
                (a - b).abs() < 1e-5,
                "the same probabilities as a prediction"
            );
        }
    }

    #[test]
    fn an_mlp_on_images_shows_its_dense_layers_and_a_recurrent_model_none() {
        let config = RunConfig::preset("mnist-10k").unwrap();
        let device = Device::flex();
        let model = config.model.init(&device).unwrap();
        let layers = crate::block_on(image_layers_of(&model, &config.model, &digit(), &device))
            .unwrap()
            .unwrap();
        assert_eq!(layers.layers.len(), 1);
        assert_eq!(layers.layers[0].shape, [256]);
        assert!(layers.filters.is_none());
        let imdb = RunConfig::preset("imdb-small").unwrap();
        let ModelConfig::Sequence(sequence) = &imdb.model else {
            panic!("a recurrent preset")
        };
        let len = sequence.example_len;
        let model = imdb.model.init(&device).unwrap();
        let tokens = Dataset {
            name: "review".into(),
            shape: ExampleShape::Tokens(len),
            examples: Examples::Tokens(vec![1; len]),
            labels: vec![0],
            num_classes: 2,
            targets: None,
        };
        assert!(
            crate::block_on(image_layers_of(&model, &imdb.model, &tokens, &device))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_hand_written_network_shows_its_hidden_layer() {
        let config = RunConfig::preset("tinymnist-hw1").unwrap();
        let image = Dataset {
            name: "one".into(),
            shape: ExampleShape::Image([1, 14, 14]),
            examples: Examples::Pixels((0..196).map(|i| (i * 5 % 256) as u8).collect()),
            labels: vec![3],
            num_classes: 10,
            targets: None,
        };
        let data = crate::data::TrainingData {
            train: image.clone(),
            eval: image.clone(),
            validation: None,
        };
        let run = crate::train::TrainingRun::new(&config, data, &Device::flex()).unwrap();
        let layers = crate::block_on(run.image_layers(&image))
            .unwrap()
            .expect("the homework's network has a hidden layer");
        let ModelConfig::Mlp(mlp) = &config.model else {
            panic!("an MLP")
        };
        assert_eq!(layers.layers.len(), 1);
        assert_eq!(layers.layers[0].shape, [mlp.hidden[0].units]);
        assert_eq!(layers.probabilities.len(), 10);
        let sum: f32 = layers.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }
}
