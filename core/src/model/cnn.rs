//! Convolutional network: a Keras-like stack of Conv2d, MaxPool2d, Dropout, Flatten and
//! Dense layers, ending in a dense output layer.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, PaddingConfig2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::activation::{Activation, Padding, WeightInit};
use super::conv_ops;
use super::dense::dense_layer;
use super::dropout_ops;
use super::pool_ops;

/// One layer of a [`CnnConfig`] stack.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CnnLayerConfig {
    /// 2-D convolution with `filters` output channels and a square `kernel`.
    Conv2d {
        /// Output channels.
        filters: usize,
        /// Kernel side.
        kernel: usize,
        /// Stride in both directions.
        stride: usize,
        /// Valid or same padding.
        padding: Padding,
        /// Non-linearity after the convolution.
        activation: Activation,
    },
    /// Max pooling over `pool` x `pool` windows moved by `stride`.
    MaxPool2d {
        /// Window side.
        pool: usize,
        /// Step between windows.
        stride: usize,
    },
    /// Dropout with rate in [0, 1).
    Dropout {
        /// Fraction of activations zeroed while training.
        rate: f64,
    },
    /// Flattens [channels, height, width] into one feature vector.
    Flatten,
    /// Fully connected hidden layer (after a Flatten).
    Dense {
        /// Units.
        units: usize,
        /// Non-linearity.
        activation: Activation,
        /// L2 penalty of its weights.
        l2: f64,
    },
}

/// The shape of the activations between two layers (batch dimension left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureShape {
    /// Channels, height, width.
    Image([usize; 3]),
    /// A flat feature vector.
    Flat(usize),
}

impl FeatureShape {
    /// Number of values per example (for building layers: a validated config's shapes fit
    /// a 32-bit `usize`; saturates instead of wrapping when they do not).
    pub fn size(&self) -> usize {
        usize::try_from(self.size_u64()).unwrap_or(usize::MAX)
    }

    /// Number of values per example, in u64 (saturating), for sizes and memory figures.
    pub fn size_u64(&self) -> u64 {
        match self {
            FeatureShape::Image([c, h, w]) => (*c as u64)
                .saturating_mul(*h as u64)
                .saturating_mul(*w as u64),
            FeatureShape::Flat(n) => *n as u64,
        }
    }

    /// Keras's way of writing it: (None, height, width, channels) or (None, n).
    pub fn keras(&self) -> Vec<usize> {
        match self {
            FeatureShape::Image([c, h, w]) => vec![*h, *w, *c],
            FeatureShape::Flat(n) => vec![*n],
        }
    }
}

/// Why a CNN stack cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CnnShapeError {
    /// A window larger than its input, or a zero-sized layer.
    #[error("layer {index} ({kind}) does not fit its {input:?} input: {why}")]
    DoesNotFit {
        /// Position in the stack, from 0.
        index: usize,
        /// Layer kind.
        kind: &'static str,
        /// The input it was given.
        input: FeatureShape,
        /// What is wrong.
        why: String,
    },
}

/// A Keras-like CNN: image input, a layer stack, a dense output layer.
#[derive(Config, Debug, PartialEq)]
pub struct CnnConfig {
    /// Input [channels, height, width] (MNIST: [1, 28, 28]).
    pub input: [usize; 3],
    /// The stack, first to last; it must end flat (after a Flatten) before the output.
    pub layers: Vec<CnnLayerConfig>,
    /// Output units.
    pub outputs: usize,
    /// Output activation.
    #[config(default = "Activation::Softmax")]
    pub output_activation: Activation,
    /// L2 penalty of the output layer's weights.
    #[config(default = 0.0)]
    pub output_l2: f64,
    /// Weight initialisation.
    #[config(default = "WeightInit::GlorotUniform")]
    pub init: WeightInit,
}

fn conv_out(size: usize, kernel: usize, stride: usize, padding: Padding) -> Option<usize> {
    match padding {
        Padding::Same => Some(size.div_ceil(stride)),
        Padding::Valid => (size >= kernel).then(|| (size - kernel) / stride + 1),
    }
}

/// TensorFlow's "same" padding (before, after) of one dimension.
pub(crate) fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

impl CnnConfig {
    /// The output shape of every layer of the stack, in order, then of the output layer.
    pub fn shapes(&self) -> Result<Vec<FeatureShape>, CnnShapeError> {
        let mut shape = FeatureShape::Image(self.input);
        let mut shapes = Vec::with_capacity(self.layers.len() + 1);
        for (index, layer) in self.layers.iter().enumerate() {
            let unfit = |kind: &'static str, why: &str| CnnShapeError::DoesNotFit {
                index,
                kind,
                input: shape,
                why: why.to_string(),
            };
            shape = match (layer, shape) {
                (
                    CnnLayerConfig::Conv2d {
                        filters,
                        kernel,
                        stride,
                        padding,
                        ..
                    },
                    FeatureShape::Image([_, h, w]),
                ) => {
                    if *filters == 0 || *kernel == 0 || *stride == 0 {
                        return Err(unfit("Conv2d", "filters, kernel and stride must be >= 1"));
                    }
                    match (
                        conv_out(h, *kernel, *stride, *padding),
                        conv_out(w, *kernel, *stride, *padding),
                    ) {
                        (Some(oh), Some(ow)) => FeatureShape::Image([*filters, oh, ow]),
                        _ => return Err(unfit("Conv2d", "the kernel is larger than the image")),
                    }
                }
                (CnnLayerConfig::MaxPool2d { pool, stride }, FeatureShape::Image([c, h, w])) => {
                    if *pool == 0 || *stride == 0 {
                        return Err(unfit("MaxPool2d", "pool and stride must be >= 1"));
                    }
                    match (
                        conv_out(h, *pool, *stride, Padding::Valid),
                        conv_out(w, *pool, *stride, Padding::Valid),
                    ) {
                        (Some(oh), Some(ow)) => FeatureShape::Image([c, oh, ow]),
                        _ => return Err(unfit("MaxPool2d", "the window is larger than the image")),
                    }
                }
                (CnnLayerConfig::Dropout { .. }, shape) => shape,
                (CnnLayerConfig::Flatten, shape) => FeatureShape::Flat(shape.size()),
                (CnnLayerConfig::Dense { units, .. }, FeatureShape::Flat(_)) => {
                    if *units == 0 {
                        return Err(unfit("Dense", "units must be >= 1"));
                    }
                    FeatureShape::Flat(*units)
                }
                (CnnLayerConfig::Dense { .. }, FeatureShape::Image(_)) => {
                    return Err(unfit("Dense", "add a Flatten layer before it"))
                }
                (CnnLayerConfig::Conv2d { .. }, FeatureShape::Flat(_)) => {
                    return Err(unfit("Conv2d", "it needs an image, not flat features"))
                }
                (CnnLayerConfig::MaxPool2d { .. }, FeatureShape::Flat(_)) => {
                    return Err(unfit("MaxPool2d", "it needs an image, not flat features"))
                }
            };
            shapes.push(shape);
        }
        if let FeatureShape::Image(_) = shape {
            return Err(CnnShapeError::DoesNotFit {
                index: self.layers.len(),
                kind: "Dense (output)",
                input: shape,
                why: "add a Flatten layer before the output".into(),
            });
        }
        shapes.push(FeatureShape::Flat(self.outputs));
        Ok(shapes)
    }

    /// Builds the network on `device`. Call [`CnnConfig::shapes`] first: a stack that does not
    /// fit its input is reported there, and this returns the same error.
    pub fn init(&self, device: &Device) -> Result<Cnn, CnnShapeError> {
        let shapes = self.shapes()?;
        let mut input = FeatureShape::Image(self.input);
        let mut layers = Vec::with_capacity(self.layers.len());
        for (layer, &output) in self.layers.iter().zip(&shapes) {
            layers.push(match layer {
                CnnLayerConfig::Conv2d {
                    filters,
                    kernel,
                    stride,
                    padding,
                    activation,
                } => {
                    let FeatureShape::Image([c, h, w]) = input else {
                        unreachable!("shapes() checked conv inputs")
                    };
                    let pairs = match padding {
                        Padding::Valid => [(0, 0), (0, 0)],
                        Padding::Same => [
                            same_padding(h, *kernel, *stride),
                            same_padding(w, *kernel, *stride),
                        ],
                    };
                    let [(top, bottom), (left, right)] = pairs;
                    let padding = PaddingConfig2d::Explicit(top, left, bottom, right);
                    let options =
                        ConvOptions::new_with_padding([*stride, *stride], pairs, [1, 1], 1);
                    let mut conv = Conv2dConfig::new([c, *filters], [*kernel, *kernel])
                        .with_stride([*stride, *stride])
                        .with_padding(padding)
                        .with_initializer(self.init.weight())
                        .with_bias(false)
                        .init(device);
                    let fan_in = c * kernel * kernel;
                    conv.bias = Some(self.init.bias().init_with(
                        [*filters],
                        Some(fan_in),
                        Some(filters * kernel * kernel),
                        device,
                    ));
                    CnnLayer::Conv(ConvBlock {
                        conv,
                        options,
                        activation: *activation,
                    })
                }
                CnnLayerConfig::MaxPool2d { pool, stride } => CnnLayer::Pool(
                    MaxPool2dConfig::new([*pool, *pool])
                        .with_strides([*stride, *stride])
                        .init(),
                ),
                CnnLayerConfig::Dropout { rate } => {
                    CnnLayer::Dropout(DropoutConfig::new(*rate).init())
                }
                CnnLayerConfig::Flatten => CnnLayer::Flatten(Flatten),
                CnnLayerConfig::Dense {
                    units, activation, ..
                } => CnnLayer::Dense(DenseBlock {
                    linear: dense_layer(input.size(), *units, self.init, device),
                    activation: *activation,
                }),
            });
            input = output;
        }
        Ok(Cnn {
            layers,
            output: dense_layer(input.size(), self.outputs, self.init, device),
        })
    }

    /// The L2 coefficient of every dense layer (hidden dense layers, then the output).
    pub fn l2_per_layer(&self) -> Vec<f64> {
        self.layers
            .iter()
            .filter_map(|layer| match layer {
                CnnLayerConfig::Dense { l2, .. } => Some(*l2),
                _ => None,
            })
            .chain(std::iter::once(self.output_l2))
            .collect()
    }
}

/// A convolution followed by its activation.
#[derive(Module, Debug)]
pub struct ConvBlock {
    conv: Conv2d,
    /// Stride and padding (TensorFlow's "same" padding may differ before and after).
    #[module(skip)]
    options: ConvOptions<2>,
    #[module(skip)]
    activation: Activation,
}

impl ConvBlock {
    /// The convolution (through [`conv_ops::conv2d`], one autodiff node whose backward pass
    /// runs as matrix products on the CPU device) and its activation.
    ///
    /// `x`: [batch, channels, height, width] -> [batch, filters, oh, ow]
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let conv = &self.conv;
        let bias = match &conv.bias {
            Some(bias) => bias.val(),
            None => Tensor::zeros([conv.weight.dims()[0]], &x.device()),
        };
        self.activation.apply(conv_ops::conv2d(
            x,
            conv.weight.val(),
            bias,
            self.options.clone(),
        ))
    }
}

/// A hidden dense layer followed by its activation.
#[derive(Module, Debug)]
pub struct DenseBlock {
    linear: Linear,
    #[module(skip)]
    activation: Activation,
}

/// Flattens [batch, c, h, w] into [batch, c*h*w].
#[derive(Module, Debug, Default)]
pub struct Flatten;

/// One built layer of a [`Cnn`].
#[derive(Module, Debug)]
pub enum CnnLayer {
    /// Convolution + activation.
    Conv(ConvBlock),
    /// Max pooling.
    Pool(MaxPool2d),
    /// Dropout.
    Dropout(Dropout),
    /// Flatten.
    Flatten(Flatten),
    /// Dense + activation.
    Dense(DenseBlock),
}

/// What one layer of a model computed for a batch.
#[derive(Debug, Clone)]
pub enum LayerOutput {
    /// Feature maps, [batch, channels, height, width].
    Maps(Tensor<4>),
    /// Units, [batch, units].
    Units(Tensor<2>),
}

/// The activations flowing through a [`Cnn`]: images until a Flatten, then vectors.
enum Features {
    Image(Tensor<4>),
    Flat(Tensor<2>),
}

/// The CNN built from a [`CnnConfig`].
#[derive(Module, Debug)]
pub struct Cnn {
    layers: Vec<CnnLayer>,
    output: Linear,
}

impl Cnn {
    /// Sets every dropout layer's rate.
    pub fn set_dropout(&mut self, rate: f64) {
        for layer in &mut self.layers {
            if let CnnLayer::Dropout(d) = layer {
                d.prob = rate;
            }
        }
    }

    /// Output-layer pre-activations (logits).
    ///
    /// `images`: [batch, channels, height, width] -> [batch, outputs]
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = Features::Image(images);
        for layer in &self.layers {
            x = match (layer, x) {
                (CnnLayer::Conv(block), Features::Image(t)) => Features::Image(block.forward(t)),
                (CnnLayer::Pool(pool), Features::Image(t)) => {
                    Features::Image(pool_ops::max_pool2d(t, pool.kernel_size, pool.stride))
                }
                (CnnLayer::Dropout(dropout), Features::Image(t)) => {
                    Features::Image(dropout_ops::dropout(dropout, t))
                }
                (CnnLayer::Dropout(dropout), Features::Flat(t)) => {
                    Features::Flat(dropout_ops::dropout(dropout, t))
                }
                (CnnLayer::Flatten(_), Features::Image(t)) => Features::Flat(t.flatten(1, 3)),
                (CnnLayer::Flatten(_), flat) => flat,
                (CnnLayer::Dense(block), Features::Flat(t)) => {
                    Features::Flat(block.activation.apply(block.linear.forward(t)))
                }
                _ => unreachable!("CnnConfig::shapes() rejects stacks that do not fit"),
            };
        }
        match x {
            Features::Flat(t) => self.output.forward(t),
            Features::Image(t) => self.output.forward(t.flatten(1, 3)),
        }
    }

    /// Every layer's output for `images`, in order (convolutions after their activation,
    /// poolings, dense layers after their activation; dropout and flatten left out, as they
    /// change nothing at inference), each named as the summary names it, then the logits.
    ///
    /// `images`: [batch, channels, height, width]
    pub fn layer_outputs(&self, images: Tensor<4>) -> (Vec<(String, LayerOutput)>, Tensor<2>) {
        let mut outputs = Vec::new();
        let mut x = Features::Image(images);
        let (mut convs, mut pools, mut denses) = (0, 0, 0);
        for layer in &self.layers {
            x = match (layer, x) {
                (CnnLayer::Conv(block), Features::Image(t)) => {
                    convs += 1;
                    let y = block.forward(t);
                    outputs.push((format!("conv2d_{convs}"), LayerOutput::Maps(y.clone())));
                    Features::Image(y)
                }
                (CnnLayer::Pool(pool), Features::Image(t)) => {
                    pools += 1;
                    let y = pool_ops::max_pool2d(t, pool.kernel_size, pool.stride);
                    outputs.push((
                        format!("max_pooling2d_{pools}"),
                        LayerOutput::Maps(y.clone()),
                    ));
                    Features::Image(y)
                }
                (CnnLayer::Dropout(_), x) => x,
                (CnnLayer::Flatten(_), Features::Image(t)) => Features::Flat(t.flatten(1, 3)),
                (CnnLayer::Flatten(_), flat) => flat,
                (CnnLayer::Dense(block), Features::Flat(t)) => {
                    denses += 1;
                    let y = block.activation.apply(block.linear.forward(t));
                    outputs.push((format!("dense_{denses}"), LayerOutput::Units(y.clone())));
                    Features::Flat(y)
                }
                _ => unreachable!("CnnConfig::shapes() rejects stacks that do not fit"),
            };
        }
        let logits = match x {
            Features::Flat(t) => self.output.forward(t),
            Features::Image(t) => self.output.forward(t.flatten(1, 3)),
        };
        (outputs, logits)
    }

    /// The first convolution's kernels, [filters, in channels, kh, kw], if it has one.
    pub fn first_filters(&self) -> Option<Tensor<4>> {
        self.layers.iter().find_map(|layer| match layer {
            CnnLayer::Conv(block) => Some(block.conv.weight.val()),
            _ => None,
        })
    }

    /// The weight matrices of every dense layer (hidden, then output), for L2 penalties.
    pub fn dense_weights(&self) -> Vec<Tensor<2>> {
        self.layers
            .iter()
            .filter_map(|layer| match layer {
                CnnLayer::Dense(block) => Some(block.linear.weight.val()),
                _ => None,
            })
            .chain(std::iter::once(self.output.weight.val()))
            .collect()
    }
}
