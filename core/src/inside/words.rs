//! Words that move the verdict: what a recurrent text model reads in one review, word by word.
//! The positive probability had the review ended after each word (the output layer on the
//! recurrent state there: the last one is the model's verdict), how far each word moved it,
//! which words the model does not know, and the recurrent state after each word, quantised
//! for the page to draw as a heat map (units by words).

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::imdb::{fit, review_words, Vocabulary, PAD, START};
use crate::device::read_f32s;
use crate::model::{Model, ModelConfig};

/// One word of the review as the model read it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ReadWord {
    /// The word as tokenised (lower case, punctuation gone; an unknown mark as `<unk>`).
    pub word: String,
    /// Whether the model's vocabulary has it (else it reads as "unknown").
    pub known: bool,
    /// The positive probability after this word.
    #[serde(deserialize_with = "crate::nan_json::f32_or_nan")]
    pub positive: f32,
    /// How far this word moved it (the probability after it less the one before).
    #[serde(deserialize_with = "crate::nan_json::f32_or_nan")]
    pub delta: f32,
}

/// A review read word by word (see the module's documentation).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct ReviewTrace {
    /// The words read, in order.
    pub words: Vec<ReadWord>,
    /// Words at the start that were not read (a review longer than the model's examples is
    /// read from its end, as Keras truncates).
    pub cut: usize,
    /// The positive probability before the first word read.
    #[serde(deserialize_with = "crate::nan_json::f32_or_nan")]
    pub before: f32,
    /// Recurrent units: the heat map's rows.
    pub units: usize,
    /// The largest state in magnitude (both cells' states lie in [-1, 1]): the levels' scale.
    pub scale: f32,
    /// The recurrent state after each word read, word after word (`units` values each), as
    /// levels from `-scale` (0) to `scale` (255), 0 at 127.5. They travel beside the message.
    #[serde(skip)]
    pub levels: Vec<u8>,
}

impl ReviewTrace {
    /// The positive probability after the last word (the model's verdict).
    pub fn positive(&self) -> f32 {
        self.words.last().map_or(self.before, |w| w.positive)
    }

    /// The recurrent state after word `i`, as levels (`units` of them).
    pub fn state_levels(&self, i: usize) -> &[u8] {
        self.levels
            .get(i * self.units..(i + 1) * self.units)
            .unwrap_or(&[])
    }
}

/// The level of a state value in [-scale, scale].
fn level(v: f32, scale: f32) -> u8 {
    if v.is_finite() {
        ((v / scale).clamp(-1.0, 1.0) * 127.5 + 127.5).round() as u8
    } else {
        127
    }
}

/// How `model` (built from `config` on `device`: an Embedding + LSTM/GRU) reads `text` word
/// by word, its words given ids by `vocabulary`; `None` for other models.
pub async fn review_trace(
    model: &Model,
    config: &ModelConfig,
    vocabulary: &Vocabulary,
    text: &str,
    device: &Device,
) -> Result<Option<ReviewTrace>, String> {
    let (Model::Sequence(sequence), ModelConfig::Sequence(c)) = (model, config) else {
        return Ok(None);
    };
    let (dict_size, example_len) = (c.dict_size, c.example_len);
    if example_len == 0 {
        return Ok(None);
    }
    let words = review_words(text);
    let ids = vocabulary.ids(text); // the start id, then one per word
    let tokens = fit(&ids, dict_size, example_len);
    // The words read are the last ones: all of them with the start id before, or as many
    // as the example holds.
    let read = words.len().min(example_len);
    let first = example_len - read; // the position of the first word read
    let input = Tensor::<2, Int>::from_data(
        TensorData::new(
            tokens.iter().map(|&t| t as i64).collect::<Vec<_>>(),
            [1, example_len],
        ),
        device,
    );
    let (states, logits) = sequence.word_states(input); // [len, units], [len + 1, outputs]
    let [_, units] = states.dims();
    let outputs = logits.dims()[1];
    let probabilities = read_f32s(config.output_activation().apply(logits)).await?;
    // Row r is the verdict after position r - 1 (row 0: the zero state).
    let positive_after = |row: usize| -> f32 {
        let p = &probabilities[row * outputs..(row + 1) * outputs];
        if outputs == 1 {
            p[0]
        } else {
            p[1]
        }
    };
    let states = if read == 0 {
        Vec::new()
    } else {
        read_f32s(states.narrow(0, first, read)).await?
    };
    let scale = states
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    let before = positive_after(first);
    let mut last = before;
    let read_words = words[words.len() - read..]
        .iter()
        .enumerate()
        .map(|(k, word)| {
            let positive = positive_after(first + k + 1);
            let delta = positive - last;
            last = positive;
            ReadWord {
                word: word.clone(),
                known: vocabulary.knows(word, dict_size),
                positive,
                delta,
            }
        })
        .collect();
    debug_assert!(tokens[first..].iter().all(|&t| t != PAD));
    debug_assert!(first == 0 || tokens[first - 1] == START);
    Ok(Some(ReviewTrace {
        words: read_words,
        cut: words.len() - read,
        before,
        units,
        scale,
        levels: states.iter().map(|&v| level(v, scale)).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Dataset, ExampleShape, Examples};
    use crate::model::sequence::SequenceConfig;
    use crate::model::{ModelConfig, RecurrentKind};

    fn vocabulary() -> Vocabulary {
        Vocabulary::build([
            "a great film great acting",
            "a dull film bad acting",
            "the plot was great",
        ])
    }

    fn model(cell: RecurrentKind, device: &Device) -> (ModelConfig, Model) {
        let config = ModelConfig::Sequence(
            SequenceConfig::new(12, 8, 6, 5)
                .with_cell(cell)
                .with_dropout(0.0),
        );
        let model = config.init_seeded(device, 7).unwrap();
        (config, model)
    }

    /// The positive probability the model gives `text` as a whole, as predictions compute it.
    fn verdict(config: &ModelConfig, model: &Model, text: &str, device: &Device) -> f32 {
        let tokens = vocabulary().encode(text, 12, 8).0;
        let data = Dataset {
            name: "review".into(),
            shape: ExampleShape::Tokens(8),
            examples: Examples::Tokens(tokens),
            labels: vec![0],
            num_classes: 2,
            targets: None,
        };
        let batch = data.batch(&[0], config.input_kind(), device);
        let p = model.predict(batch.input, config.output_activation());
        p.into_data().try_into_vec_as::<f32>().unwrap()[0]
    }

    #[test]
    fn each_word_moves_the_verdict_and_the_last_value_is_the_verdict() {
        let device = Device::flex();
        for cell in [RecurrentKind::Lstm, RecurrentKind::Gru] {
            let (config, model) = model(cell, &device);
            let text = "A great film, zebra acting!";
            let trace =
                crate::block_on(review_trace(&model, &config, &vocabulary(), text, &device))
                    .unwrap()
                    .unwrap();
            let words: Vec<&str> = trace.words.iter().map(|w| w.word.as_str()).collect();
            assert_eq!(words, ["a", "great", "film", "zebra", "acting"]);
            assert_eq!(trace.cut, 0);
            // "zebra" is in no review; every other word is among the 12 ids.
            let known: Vec<bool> = trace.words.iter().map(|w| w.known).collect();
            assert_eq!(known, [true, true, true, false, true]);
            let whole = verdict(&config, &model, text, &device);
            assert!(
                (trace.positive() - whole).abs() < 1e-5,
                "{cell:?}: {} vs {whole}",
                trace.positive()
            );
            // The deltas add up from the probability before the first word to the verdict.
            let sum: f32 = trace.words.iter().map(|w| w.delta).sum();
            assert!((trace.before + sum - trace.positive()).abs() < 1e-5);
            // Each word's value is the verdict on the review cut after it.
            let prefix = verdict(&config, &model, "a great", &device);
            assert!((trace.words[1].positive - prefix).abs() < 0.05, "{cell:?}");
            assert_eq!(trace.units, 5);
            assert_eq!(trace.levels.len(), 5 * 5);
            // Scaled to the largest state: some state sits at an end of the levels.
            assert!(trace.scale > 0.0 && trace.scale <= 1.0);
            assert!(trace.levels.iter().any(|&l| l == 0 || l == 255));
            assert_ne!(trace.state_levels(0), trace.state_levels(1));
        }
    }

    #[test]
    fn a_long_review_is_read_from_its_end() {
        let device = Device::flex();
        let (config, model) = model(RecurrentKind::Gru, &device);
        let text = "the plot was great a dull film bad acting but great";
        let trace = crate::block_on(review_trace(&model, &config, &vocabulary(), text, &device))
            .unwrap()
            .unwrap();
        assert_eq!(trace.words.len(), 8);
        assert_eq!(trace.cut, 3);
        assert_eq!(trace.words[0].word, "great");
        assert_eq!(trace.words.last().unwrap().word, "great");
        let whole = verdict(&config, &model, text, &device);
        assert!((trace.positive() - whole).abs() < 1e-5);
        // No word at all: the verdict is the one before any word.
        let empty = crate::block_on(review_trace(&model, &config, &vocabulary(), "!?", &device))
            .unwrap()
            .unwrap();
        assert!(empty.words.is_empty() && empty.levels.is_empty());
        assert!((empty.positive() - verdict(&config, &model, "!?", &device)).abs() < 1e-5);
    }

    #[test]
    fn other_models_have_no_trace() {
        let device = Device::flex();
        let config = crate::RunConfig::preset("mlp-keras").unwrap().model;
        let model = config.init_seeded(&device, 1).unwrap();
        let trace = crate::block_on(review_trace(
            &model,
            &config,
            &vocabulary(),
            "great",
            &device,
        ))
        .unwrap();
        assert!(trace.is_none());
    }
}
