//! IMDB reviews tokenised as Keras's `imdb.load_data` did it: the tokenizer, the vocabulary
//! and the token files live in `kindling-formats` (re-exported here, so
//! `kindling_core::data::imdb::Vocabulary` and the rest keep their paths); this module adds
//! what needs core's datasets.

pub use kindling_formats::imdb::*;

use super::dataset::{Dataset, ExampleShape, Examples};

/// Tokenised reviews as a dataset a model trains on.
pub trait ReviewsDataset {
    /// A dataset of the reviews at `indices`, fitted to `num_words` and `example_len`.
    fn dataset(
        &self,
        indices: &[usize],
        num_words: usize,
        example_len: usize,
        name: &str,
    ) -> Dataset;
}

impl ReviewsDataset for TokenizedReviews {
    fn dataset(
        &self,
        indices: &[usize],
        num_words: usize,
        example_len: usize,
        name: &str,
    ) -> Dataset {
        let mut tokens = Vec::with_capacity(indices.len() * example_len);
        for &i in indices {
            tokens.extend(fit(&self.reviews[i], num_words, example_len));
        }
        Dataset {
            name: name.into(),
            shape: ExampleShape::Tokens(example_len),
            examples: Examples::Tokens(tokens),
            labels: indices.iter().map(|&i| self.labels[i] as u32).collect(),
            num_classes: 2,
            targets: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reviews_become_a_dataset_fitted_to_the_model() {
        let reviews = TokenizedReviews {
            reviews: vec![vec![START, 4, 9], vec![START]],
            labels: vec![1, 0],
        };
        let data = reviews.dataset(&[1, 0], 8, 3, "IMDB");
        assert_eq!(data.shape, ExampleShape::Tokens(3));
        assert_eq!(data.labels, vec![0, 1]);
        assert_eq!(
            data.examples,
            Examples::Tokens(vec![PAD, PAD, START, START, 4, UNKNOWN])
        );
    }
}
