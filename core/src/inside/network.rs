//! The network view of a dense network: each layer's weights and biases, and on 2-D data each
//! unit's output over a grid of the input plane (TensorFlow Playground's neuron maps), the
//! output layer's maps being the decision boundary.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::toy::{plane_features, ToyFeature};
use crate::device::read_f32s;
use crate::model::Activation;

/// Weights of a layer sent at most (inputs x units): the edges of a layer as wide as a 2-D
/// set's networks or a small MLP's, not the 200,704 of an MNIST MLP's first layer (megabytes
/// a few times a second); a wider layer's edges are left out and the view says so.
pub const MAX_VIEW_WEIGHTS: usize = 16_384;

/// A dense layer as it computes: `activation(x · weights + bias)`.
#[derive(Debug, Clone)]
pub struct DenseParams {
    /// `[inputs, units]`.
    pub weights: Tensor<2>,
    /// `[units]`, when the layer has one.
    pub bias: Option<Tensor<1>>,
    /// Its non-linearity.
    pub activation: Activation,
}

/// One layer of the view.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LayerView {
    /// Units feeding it.
    pub inputs: usize,
    /// Its units.
    pub units: usize,
    /// Its activation, as Keras names it.
    pub activation: String,
    /// `[inputs][units]` row-major; empty when there are more than [`MAX_VIEW_WEIGHTS`].
    pub weights: Vec<f32>,
    /// `[units]` (zeros when the layer has no bias).
    pub biases: Vec<f32>,
}

/// One unit's output over the grid, quantised: cell value `low + c / 255 * (high - low)`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UnitMap {
    /// Smallest output over the grid.
    pub low: f32,
    /// Largest output over the grid.
    pub high: f32,
    /// `resolution²` levels, row-major from the top row (largest y).
    pub cells: Vec<u8>,
}

impl UnitMap {
    fn quantise(values: impl Iterator<Item = f32> + Clone) -> Self {
        let (low, high) = values
            .clone()
            .filter(|v| v.is_finite())
            .fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (low, high) = if low > high { (0.0, 0.0) } else { (low, high) };
        let span = high - low;
        let cells = values
            .map(|v| {
                if span > 0.0 && v.is_finite() {
                    ((v - low) / span * 255.0).round().clamp(0.0, 255.0) as u8
                } else {
                    0
                }
            })
            .collect();
        Self { low, high, cells }
    }

    /// The output at cell `i`.
    pub fn value(&self, i: usize) -> f32 {
        self.low + f32::from(self.cells[i]) / 255.0 * (self.high - self.low)
    }
}

/// Every unit's map over a grid of the input plane.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UnitMaps {
    /// Cells per side.
    pub resolution: usize,
    /// The plane shown: `[x_min, x_max, y_min, y_max]`.
    pub extent: [f32; 4],
    /// Per layer after the input, per unit.
    pub layers: Vec<Vec<UnitMap>>,
    /// Each input feature over the plane (x1 grows to the right, x1·x2 at the corners, ...).
    #[serde(default)]
    pub inputs: Vec<UnitMap>,
}

/// The network as the view draws it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NetworkView {
    /// Input units (features).
    pub inputs: usize,
    /// The layers after the input, first hidden to output.
    pub layers: Vec<LayerView>,
    /// Unit maps, on 2-D data.
    pub maps: Option<UnitMaps>,
    /// The inputs' names, when they are features of a plane's points (`x1`, `x1·x2`, ...).
    #[serde(default)]
    pub input_names: Vec<String>,
}

/// The incoming weights of each first-layer unit of a network that reads images, as images:
/// what each unit looks for (positive weights blue, negative orange).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct UnitImages {
    /// Side of the image (28 for MNIST, 14 for tinyMNIST).
    pub side: usize,
    /// First-layer units.
    pub units: usize,
    /// Per unit, the largest |weight|: level 0 is `-scale`, 255 is `+scale`.
    pub scales: Vec<f32>,
    /// Per unit, `side²` levels row-major (about 128 for a zero weight); they travel beside
    /// the JSON.
    #[serde(skip)]
    pub levels: Vec<u8>,
}

impl UnitImages {
    /// The levels of unit `u`.
    pub fn unit(&self, u: usize) -> &[u8] {
        let n = self.side * self.side;
        self.levels.get(u * n..(u + 1) * n).unwrap_or(&[])
    }
}

/// The first layer's weights as one image per unit, when the network reads `side` x `side`
/// images (its first layer has `side²` inputs); `None` otherwise.
pub async fn first_layer_images(
    layers: &[DenseParams],
    side: usize,
) -> Result<Option<UnitImages>, String> {
    let Some(first) = layers.first() else {
        return Ok(None);
    };
    let [inputs, units] = first.weights.dims();
    if inputs != side * side || side == 0 {
        return Ok(None);
    }
    // [units, inputs]: each unit's weights in a row.
    let weights = read_f32s(first.weights.clone().transpose()).await?;
    let mut scales = Vec::with_capacity(units);
    let mut levels = Vec::with_capacity(units * inputs);
    for row in weights.chunks(inputs.max(1)) {
        let scale = row
            .iter()
            .filter(|w| w.is_finite())
            .fold(0.0f32, |m, w| m.max(w.abs()))
            .max(1e-12);
        scales.push(scale);
        levels.extend(row.iter().map(|&w| {
            if w.is_finite() {
                (127.5 + 127.5 * w / scale).round().clamp(0.0, 255.0) as u8
            } else {
                128
            }
        }));
    }
    Ok(Some(UnitImages {
        side,
        units,
        scales,
        levels,
    }))
}

/// The centres of a `n` x `n` grid over `extent`, row by row from the top, as (x, y) features.
pub fn grid_features(extent: [f32; 4], n: usize) -> Vec<f32> {
    let [x0, x1, y0, y1] = extent;
    let mut features = Vec::with_capacity(n * n * 2);
    for row in 0..n {
        let y = y1 - (row as f32 + 0.5) / n as f32 * (y1 - y0);
        for col in 0..n {
            let x = x0 + (col as f32 + 0.5) / n as f32 * (x1 - x0);
            features.push(x);
            features.push(y);
        }
    }
    features
}

/// A 2-D input plane the views cover: its extent (x from, x to, y from, y to), cells per side,
/// and the features a model reads of each point of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneGrid {
    /// x from, x to, y from, y to.
    pub extent: [f32; 4],
    /// Cells per side.
    pub resolution: usize,
    /// What the model reads of each point.
    pub features: Vec<ToyFeature>,
}

impl PlaneGrid {
    /// The model's inputs at the centre of every cell, row by row from the top:
    /// `[cells, features]`, row-major.
    pub fn inputs(&self) -> Vec<f32> {
        plane_features(&self.features, &grid_features(self.extent, self.resolution))
    }
}

/// The view of `layers` (first hidden to output, on `device`); with a `grid` (a 2-D input
/// plane whose features the first layer reads) each unit's map over it.
pub async fn network_view(
    layers: &[DenseParams],
    grid: Option<&PlaneGrid>,
    device: &Device,
) -> Result<NetworkView, String> {
    let inputs = layers.first().map_or(0, |l| l.weights.dims()[0]);
    let mut views = Vec::with_capacity(layers.len());
    for layer in layers {
        let [layer_inputs, units] = layer.weights.dims();
        let weights = if layer_inputs * units <= MAX_VIEW_WEIGHTS {
            read_f32s(layer.weights.clone()).await?
        } else {
            Vec::new()
        };
        let biases = match &layer.bias {
            Some(b) => read_f32s(b.clone()).await?,
            None => vec![0.0; units],
        };
        views.push(LayerView {
            inputs: layer_inputs,
            units,
            activation: layer.activation.name().to_string(),
            weights,
            biases,
        });
    }
    let maps = match grid {
        Some(grid) if inputs == grid.features.len() => {
            let (extent, n) = (grid.extent, grid.resolution);
            let cells = n * n;
            let features = grid.inputs();
            let input_maps = (0..inputs)
                .map(|f| UnitMap::quantise(features.iter().skip(f).step_by(inputs).copied()))
                .collect();
            let mut x: Tensor<2> =
                Tensor::from_data(TensorData::new(features, [cells, inputs]), device);
            if let Some(first) = layers.first() {
                x = x.cast(first.weights.dtype());
            }
            let mut map_layers = Vec::with_capacity(layers.len());
            for layer in layers {
                let z = x.matmul(layer.weights.clone());
                let z = match &layer.bias {
                    Some(b) => z + b.clone().unsqueeze_dim::<2>(0),
                    None => z,
                };
                x = layer.activation.apply(z);
                let units = layer.weights.dims()[1];
                let values = read_f32s(x.clone()).await?;
                map_layers.push(
                    (0..units)
                        .map(|u| UnitMap::quantise(values.iter().skip(u).step_by(units).copied()))
                        .collect(),
                );
            }
            Some(UnitMaps {
                resolution: n,
                extent,
                layers: map_layers,
                inputs: input_maps,
            })
        }
        _ => None,
    };
    let input_names = match grid {
        Some(g) if g.features.len() == inputs => {
            g.features.iter().map(|f| f.name().to_string()).collect()
        }
        _ => Vec::new(),
    };
    Ok(NetworkView {
        inputs,
        layers: views,
        maps,
        input_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_maps_its_output_over_the_plane() {
        let device = Device::flex();
        // One hidden unit computing x (identity), one computing relu(y - 1); output: sigmoid
        // of their sum.
        let hidden = DenseParams {
            weights: Tensor::from_data(TensorData::new(vec![1.0, 0.0, 0.0, 1.0], [2, 2]), &device),
            bias: Some(Tensor::from_data(
                TensorData::new(vec![0.0, -1.0], [2]),
                &device,
            )),
            activation: Activation::Relu,
        };
        let output = DenseParams {
            weights: Tensor::from_data(TensorData::new(vec![1.0, 1.0], [2, 1]), &device),
            bias: None,
            activation: Activation::Sigmoid,
        };
        let extent = [0.0, 4.0, 0.0, 4.0];
        let grid = PlaneGrid {
            extent,
            resolution: 4,
            features: vec![ToyFeature::X1, ToyFeature::X2],
        };
        let view = crate::block_on(network_view(&[hidden, output], Some(&grid), &device)).unwrap();
        assert_eq!(view.inputs, 2);
        assert_eq!(view.layers.len(), 2);
        assert_eq!(view.layers[0].weights, [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(view.layers[0].biases, [0.0, -1.0]);
        assert_eq!(view.layers[1].biases, [0.0]);
        assert_eq!(view.layers[1].activation, "sigmoid");
        let maps = view.maps.unwrap();
        assert_eq!(maps.layers.len(), 2);
        assert_eq!(maps.layers[0].len(), 2);
        // Cell centres are 0.5, 1.5, 2.5, 3.5 along x (left to right) and y (top row first).
        let x_unit = &maps.layers[0][0];
        assert_eq!((x_unit.low, x_unit.high), (0.5, 3.5));
        assert!((x_unit.value(1) - 1.5).abs() < 0.01 && (x_unit.value(4) - 0.5).abs() < 0.01);
        let y_unit = &maps.layers[0][1];
        assert_eq!((y_unit.low, y_unit.high), (0.0, 2.5));
        assert!(
            (y_unit.value(0) - 2.5).abs() < 0.01,
            "the top row is y = 3.5"
        );
        assert_eq!(
            y_unit.value(12),
            0.0,
            "the bottom row (y = 0.5) is cut off by relu"
        );
        let out = &maps.layers[1][0];
        assert_eq!(out.cells.len(), 16);
        assert!(out.value(3) > out.value(12), "largest at the top right");
    }

    #[test]
    fn first_layer_weights_become_one_image_per_unit() {
        let device = Device::flex();
        // 4 inputs (a 2x2 image), 2 units: unit 0's weights 1, -1, 0.5, 0; unit 1's all 2.
        let layer = DenseParams {
            weights: Tensor::from_data(
                TensorData::new(vec![1.0, 2.0, -1.0, 2.0, 0.5, 2.0, 0.0, 2.0], [4, 2]),
                &device,
            ),
            bias: None,
            activation: Activation::Relu,
        };
        let images = crate::block_on(first_layer_images(std::slice::from_ref(&layer), 2))
            .unwrap()
            .unwrap();
        assert_eq!((images.side, images.units), (2, 2));
        assert_eq!(images.scales, [1.0, 2.0]);
        assert_eq!(images.unit(0), [255, 0, 191, 128]);
        assert_eq!(images.unit(1), [255; 4]);
        assert!(crate::block_on(first_layer_images(&[layer], 3))
            .unwrap()
            .is_none());
    }

    #[test]
    fn wide_layers_leave_their_weights_out_and_flat_maps_stay_finite() {
        let device = Device::flex();
        let wide = DenseParams {
            weights: Tensor::zeros([200, 100], &device),
            bias: None,
            activation: Activation::Tanh,
        };
        let view = crate::block_on(network_view(&[wide], None, &device)).unwrap();
        assert!(view.layers[0].weights.is_empty());
        assert_eq!(view.layers[0].biases.len(), 100);
        assert!(view.maps.is_none());
        let flat = UnitMap::quantise([0.3f32; 9].into_iter());
        assert_eq!((flat.low, flat.high), (0.3, 0.3));
        assert_eq!(flat.value(4), 0.3);
    }
}
