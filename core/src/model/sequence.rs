//! Sequence classifier of the IMDB notebooks:
//! Embedding(dict_size, embedding_len) -> Dropout -> LSTM(units) or GRU(units) -> Dense.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear};
use burn::tensor::{Device, Int, Tensor};

use super::activation::{Activation, WeightInit};
use super::dense::dense_layer;
use super::dropout_ops;
use super::recurrent::{Recurrent, RecurrentKind};

/// Largest vocabulary: the words of Keras's `imdb_word_index` (88,584) plus the 3 reserved ids.
pub const MAX_VOCABULARY: usize = 88_587;
/// Longest example in tokens (the longest IMDB review, rounded up).
pub const MAX_EXAMPLE_LEN: usize = 2_500;

/// An Embedding + LSTM/GRU text classifier.
#[derive(Config, Debug, PartialEq)]
pub struct SequenceConfig {
    /// Vocabulary size (Keras `num_words`): token ids are < dict_size.
    pub dict_size: usize,
    /// Length of every (padded/truncated) example.
    pub example_len: usize,
    /// Embedding vector length.
    pub embedding_len: usize,
    /// Dropout after the embedding, in [0, 1).
    #[config(default = 0.2)]
    pub dropout: f64,
    /// LSTM or GRU.
    #[config(default = "RecurrentKind::Lstm")]
    pub cell: RecurrentKind,
    /// Recurrent units.
    pub units: usize,
    /// Output units: 1 (sentiment).
    #[config(default = 1)]
    pub outputs: usize,
    /// Output activation: sigmoid for binary sentiment.
    #[config(default = "Activation::Sigmoid")]
    pub output_activation: Activation,
    /// L2 penalty of the output layer's weights.
    #[config(default = 0.0)]
    pub output_l2: f64,
}

/// The model built from a [`SequenceConfig`].
#[derive(Module, Debug)]
pub struct SequenceClassifier {
    embedding: Embedding,
    dropout: Dropout,
    recurrent: Recurrent,
    output: Linear,
}

impl SequenceConfig {
    /// Builds the model on `device`; the embedding starts uniform in [-0.05, 0.05] as in Keras.
    pub fn init(&self, device: &Device) -> SequenceClassifier {
        SequenceClassifier {
            embedding: EmbeddingConfig::new(self.dict_size, self.embedding_len)
                .with_initializer(Initializer::Uniform {
                    min: -0.05,
                    max: 0.05,
                })
                .init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            recurrent: Recurrent::new(self.cell, self.embedding_len, self.units, device),
            output: dense_layer(self.units, self.outputs, WeightInit::GlorotUniform, device),
        }
    }
}

impl SequenceClassifier {
    /// Sets the embedding dropout's rate.
    pub fn set_dropout(&mut self, rate: f64) {
        self.dropout.prob = rate;
    }

    /// Output pre-activations (logits).
    ///
    /// `tokens`: [batch, example_len] token ids -> [batch, outputs]
    pub fn forward(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        let x = self.embedding.forward(tokens); // [batch, example_len, embedding_len]
        let x = dropout_ops::dropout(&self.dropout, x);
        let h = self.recurrent.forward(x); // [batch, units]
        self.output.forward(h)
    }

    /// The recurrent layer's last state (what the output layer reads), without dropout.
    ///
    /// `tokens`: [batch, example_len] -> [batch, units]
    pub fn recurrent_output(&self, tokens: Tensor<2, Int>) -> Tensor<2> {
        self.recurrent.forward(self.embedding.forward(tokens))
    }

    /// What the model reads in one example, step by step: the recurrent state after every
    /// token, and the output logits of the zero state and of each of those states (the
    /// verdict had the example ended there; the last row is [`Self::forward`]'s).
    ///
    /// `tokens`: [1, example_len] -> ([example_len, units], [example_len + 1, outputs])
    pub fn word_states(&self, tokens: Tensor<2, Int>) -> (Tensor<2>, Tensor<2>) {
        let x = self.embedding.forward(tokens); // [1, example_len, embedding_len]
        let states = self.recurrent.forward_states(x); // [1, example_len, units]
        let [_, time, units] = states.dims();
        let states = states.reshape([time, units]);
        let zero = Tensor::<2>::zeros([1, units], &states.device());
        let logits = self
            .output
            .forward(Tensor::cat(vec![zero, states.clone()], 0)); // [time + 1, outputs]
        (states, logits)
    }

    /// The output layer's weights, for its L2 penalty.
    pub fn dense_weights(&self) -> Vec<Tensor<2>> {
        vec![self.output.weight.val()]
    }
}
