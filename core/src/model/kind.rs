//! The kinds of model and of CNN layer, as types instead of strings, with what each can read
//! and the layer a new one of a kind starts as.

use serde::{Deserialize, Serialize};

use super::activation::{Activation, Padding};
use super::cnn::CnnLayerConfig;
use super::recurrent::RecurrentKind;
use super::{InputKind, ModelConfig};

/// A kind of model.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Dense layers over a flat input.
    Mlp,
    /// A convolutional stack over images.
    Cnn,
    /// Embedding + LSTM over token sequences.
    Lstm,
    /// Embedding + GRU over token sequences.
    Gru,
}

impl ModelKind {
    /// Every kind.
    pub const ALL: [ModelKind; 4] = [
        ModelKind::Mlp,
        ModelKind::Cnn,
        ModelKind::Lstm,
        ModelKind::Gru,
    ];

    /// Short id (a form value).
    pub fn id(self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
            ModelKind::Lstm => "lstm",
            ModelKind::Gru => "gru",
        }
    }

    /// The kind with id `id`.
    pub fn parse(id: &str) -> Option<ModelKind> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// What the model picker shows.
    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Mlp => "MLP (dense layers)",
            ModelKind::Cnn => "CNN (conv stack)",
            ModelKind::Lstm => "Embedding + LSTM",
            ModelKind::Gru => "Embedding + GRU",
        }
    }

    /// The kind of a model config.
    pub fn of(model: &ModelConfig) -> ModelKind {
        match model {
            ModelConfig::Mlp(_) => ModelKind::Mlp,
            ModelConfig::Cnn(_) => ModelKind::Cnn,
            ModelConfig::Sequence(s) => match s.cell {
                RecurrentKind::Lstm => ModelKind::Lstm,
                RecurrentKind::Gru => ModelKind::Gru,
            },
        }
    }

    /// The recurrent cell of a sequence kind.
    pub fn cell(self) -> Option<RecurrentKind> {
        match self {
            ModelKind::Lstm => Some(RecurrentKind::Lstm),
            ModelKind::Gru => Some(RecurrentKind::Gru),
            ModelKind::Mlp | ModelKind::Cnn => None,
        }
    }

    /// Whether a model of this kind can read examples of `input` (sizes aside): an MLP reads
    /// flat features and images as their pixels, a CNN images, LSTM and GRU token sequences.
    pub fn reads(self, input: InputKind) -> bool {
        matches!(
            (self, input),
            (
                ModelKind::Mlp,
                InputKind::Features(_) | InputKind::Image([1, _, _])
            ) | (ModelKind::Cnn, InputKind::Image(_))
                | (ModelKind::Lstm | ModelKind::Gru, InputKind::Tokens(_))
        )
    }
}

/// A kind of CNN stack layer.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CnnLayerKind {
    /// 2-D convolution.
    Conv2d,
    /// 2-D max pooling.
    MaxPool2d,
    /// Dropout.
    Dropout,
    /// Flattens the feature maps.
    Flatten,
    /// A dense layer.
    Dense,
}

impl CnnLayerKind {
    /// Every kind.
    pub const ALL: [CnnLayerKind; 5] = [
        CnnLayerKind::Conv2d,
        CnnLayerKind::MaxPool2d,
        CnnLayerKind::Dropout,
        CnnLayerKind::Flatten,
        CnnLayerKind::Dense,
    ];

    /// Short id (a form value; Keras's layer name).
    pub fn id(self) -> &'static str {
        match self {
            CnnLayerKind::Conv2d => "conv2d",
            CnnLayerKind::MaxPool2d => "max_pool2d",
            CnnLayerKind::Dropout => "dropout",
            CnnLayerKind::Flatten => "flatten",
            CnnLayerKind::Dense => "dense",
        }
    }

    /// The kind with id `id`.
    pub fn parse(id: &str) -> Option<CnnLayerKind> {
        Self::ALL.into_iter().find(|k| k.id() == id)
    }

    /// A new layer of this kind with usual settings.
    pub fn new_layer(self) -> CnnLayerConfig {
        match self {
            CnnLayerKind::Conv2d => CnnLayerConfig::Conv2d {
                filters: 16,
                kernel: 3,
                stride: 1,
                padding: Padding::Same,
                activation: Activation::Relu,
            },
            CnnLayerKind::MaxPool2d => CnnLayerConfig::MaxPool2d { pool: 2, stride: 2 },
            CnnLayerKind::Dropout => CnnLayerConfig::Dropout { rate: 0.25 },
            CnnLayerKind::Flatten => CnnLayerConfig::Flatten,
            CnnLayerKind::Dense => CnnLayerConfig::Dense {
                units: 64,
                activation: Activation::Relu,
                l2: 0.0,
            },
        }
    }
}

impl CnnLayerConfig {
    /// The layer's kind.
    pub fn kind(&self) -> CnnLayerKind {
        match self {
            CnnLayerConfig::Conv2d { .. } => CnnLayerKind::Conv2d,
            CnnLayerConfig::MaxPool2d { .. } => CnnLayerKind::MaxPool2d,
            CnnLayerConfig::Dropout { .. } => CnnLayerKind::Dropout,
            CnnLayerConfig::Flatten => CnnLayerKind::Flatten,
            CnnLayerConfig::Dense { .. } => CnnLayerKind::Dense,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_ids() {
        for kind in ModelKind::ALL {
            assert_eq!(ModelKind::parse(kind.id()), Some(kind));
        }
        for kind in CnnLayerKind::ALL {
            assert_eq!(CnnLayerKind::parse(kind.id()), Some(kind));
            assert_eq!(kind.new_layer().kind(), kind);
        }
        assert_eq!(ModelKind::parse("transformer"), None);
    }

    #[test]
    fn each_kind_reads_its_inputs() {
        assert!(ModelKind::Mlp.reads(InputKind::Features(2)));
        assert!(ModelKind::Mlp.reads(InputKind::Image([1, 28, 28])));
        assert!(!ModelKind::Mlp.reads(InputKind::Tokens(10)));
        assert!(ModelKind::Cnn.reads(InputKind::Image([1, 14, 14])));
        assert!(!ModelKind::Cnn.reads(InputKind::Features(784)));
        assert!(ModelKind::Gru.reads(InputKind::Tokens(200)));
        assert!(!ModelKind::Lstm.reads(InputKind::Features(2)));
    }
}
