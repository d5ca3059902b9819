//! IMDB reviews tokenised as Keras's `imdb.load_data` did it, and the token asset format.
//!
//! Words: lower-cased text, `<br />` removed, Keras's punctuation filter
//! (`!"#$%&()*+,-./:;<=>?@[\]^_`{|}~` and tabs/newlines) replaced by spaces, split on
//! whitespace. Ids: 0 pad, 1 start, 2 unknown, 3 unused, then words ranked by frequency on the
//! training split (ties in alphabetical order) from 4 (`index_from=3`). `num_words` (the
//! dict_size) maps every id >= num_words to 2; examples are pre-truncated and pre-padded.

use std::collections::HashMap;

use crate::DataError;

/// Padding id.
pub const PAD: u32 = 0;
/// Start-of-review id.
pub const START: u32 = 1;
/// Unknown (out-of-vocabulary or rarer than `num_words`) id.
pub const UNKNOWN: u32 = 2;
/// The first word's id (Keras `index_from=3` plus one).
pub const FIRST_WORD: u32 = 4;

const FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// The words of a review, as Keras's `text_to_word_sequence` splits them.
pub fn words(text: &str) -> Vec<String> {
    let text = text.replace("<br />", " ").to_lowercase();
    let cleaned: String = text
        .chars()
        .map(|c| if FILTERS.contains(c) { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().map(str::to_string).collect()
}

/// How a review shown as words marks a word the model does not know (as [`Vocabulary::word`]
/// names the unknown id).
pub const UNKNOWN_MARK: &str = "<unk>";

/// The words of a typed review: as [`words`] splits them, with each [`UNKNOWN_MARK`] kept as a
/// word of its own (one no vocabulary has), so that a review shown with its unknown words
/// marked reads as it was read.
pub fn review_words(text: &str) -> Vec<String> {
    const HELD: &str = "\u{fffd}";
    words(&text.replace(UNKNOWN_MARK, &format!(" {HELD} ")))
        .into_iter()
        .map(|w| {
            if w == HELD {
                UNKNOWN_MARK.to_string()
            } else {
                w
            }
        })
        .collect()
}

/// Words ranked by frequency: word `i` of `words` has id `FIRST_WORD + i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    /// Words, most frequent first.
    pub words: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
    /// Ranks the words of `texts` by frequency (ties alphabetical).
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for text in texts {
            for w in words(text) {
                *counts.entry(w).or_insert(0) += 1;
            }
        }
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Self::from_words(ranked.into_iter().map(|(w, _)| w).collect())
    }

    /// A vocabulary from words already ranked (as stored in `vocab.txt`).
    pub fn from_words(words: Vec<String>) -> Self {
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), FIRST_WORD + i as u32))
            .collect();
        Self { words, index }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether it has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Id of a word, if known.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// The word of an id (`<pad>`, `<start>`, `<unk>` for the reserved ones).
    pub fn word(&self, id: u32) -> &str {
        match id {
            PAD => "<pad>",
            START => "<start>",
            UNKNOWN | 3 => "<unk>",
            _ => self
                .words
                .get((id - FIRST_WORD) as usize)
                .map(String::as_str)
                .unwrap_or("<unk>"),
        }
    }

    /// Full-vocabulary ids of a review: the start id, then each word's id (UNKNOWN if unseen,
    /// or marked [`UNKNOWN_MARK`]).
    pub fn ids(&self, text: &str) -> Vec<u32> {
        std::iter::once(START)
            .chain(
                review_words(text)
                    .iter()
                    .map(|w| self.id(w).unwrap_or(UNKNOWN)),
            )
            .collect()
    }

    /// Whether a model with a vocabulary of `num_words` ids knows `word`.
    pub fn knows(&self, word: &str, num_words: usize) -> bool {
        self.id(word).is_some_and(|id| (id as usize) < num_words)
    }

    /// A review as a model reads it, with the words the model does not know (unseen, or
    /// rarer than `num_words`).
    pub fn encode(
        &self,
        text: &str,
        num_words: usize,
        example_len: usize,
    ) -> (Vec<u32>, Vec<String>) {
        let ids = self.ids(text);
        let unknown = review_words(text)
            .into_iter()
            .filter(|w| !self.knows(w, num_words))
            .collect();
        (fit(&ids, num_words, example_len), unknown)
    }
}

/// Most characters of a typed review that are read: far more than the longest example a model
/// reads (2,500 words), few enough that each keystroke's work stays small whatever is pasted.
pub const MAX_REVIEW_CHARS: usize = 20_000;

/// The part of a typed review that is read: all of it, or its last [`MAX_REVIEW_CHARS`]
/// characters (a model reads a review's last words, as Keras truncates), and whether it was cut.
pub fn review_to_read(text: &str) -> (&str, bool) {
    match text.char_indices().rev().nth(MAX_REVIEW_CHARS - 1) {
        Some((start, _)) if start > 0 => (&text[start..], true),
        _ => (text, false),
    }
}

/// Maps ids >= `num_words` to UNKNOWN, keeps the last `example_len` ids and pre-pads with 0
/// (Keras `pad_sequences` with padding and truncating `'pre'`).
pub fn fit(ids: &[u32], num_words: usize, example_len: usize) -> Vec<u32> {
    let kept = &ids[ids.len().saturating_sub(example_len)..];
    let mut out = vec![PAD; example_len - kept.len()];
    out.extend(kept.iter().map(|&id| {
        if id as usize >= num_words {
            UNKNOWN
        } else {
            id
        }
    }));
    out
}

/// Reviews as full-vocabulary id lists with their labels (0 negative, 1 positive).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenizedReviews {
    /// Ids of each review (starting with START).
    pub reviews: Vec<Vec<u32>>,
    /// Label of each review.
    pub labels: Vec<u8>,
}

const MAGIC: &[u8; 4] = b"KTK1";

impl TokenizedReviews {
    /// The asset format: `KTK1`, review count (u32 LE), then per review its label (u8), its
    /// length (u32 LE) and its ids (u32 LE).
    pub fn encode(&self) -> Vec<u8> {
        let total: usize = self.reviews.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(8 + 5 * self.reviews.len() + 4 * total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.reviews.len() as u32).to_le_bytes());
        for (ids, &label) in self.reviews.iter().zip(&self.labels) {
            out.push(label);
            out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
            for id in ids {
                out.extend_from_slice(&id.to_le_bytes());
            }
        }
        out
    }

    /// Decodes the asset format; `file` names the file in errors.
    pub fn decode(bytes: &[u8], file: &str) -> Result<Self, DataError> {
        let err = |position: usize, message: String| DataError::Malformed {
            file: file.into(),
            position,
            message,
        };
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(err(0, "not a Kindling token file (magic KTK1)".into()));
        }
        let count = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) as usize;
        let mut pos = 8;
        let mut out = TokenizedReviews::default();
        for i in 0..count {
            if bytes.len() < pos + 5 {
                return Err(err(
                    pos,
                    format!("truncated: review {i} of {count} has no header"),
                ));
            }
            let label = bytes[pos];
            if label > 1 {
                return Err(err(pos, format!("label {label} is not 0 or 1")));
            }
            let len =
                u32::from_le_bytes(bytes[pos + 1..pos + 5].try_into().expect("4 bytes")) as usize;
            pos += 5;
            let end = len
                .checked_mul(4)
                .and_then(|b| b.checked_add(pos))
                .filter(|&e| e <= bytes.len());
            let Some(end) = end else {
                return Err(err(pos, format!("truncated: review {i} needs {len} ids")));
            };
            out.reviews.push(
                bytes[pos..end]
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect(),
            );
            out.labels.push(label);
            pos = end;
        }
        if pos != bytes.len() {
            return Err(err(
                pos,
                format!(
                    "{} bytes after the last of {count} reviews",
                    bytes.len() - pos
                ),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_review_is_read_from_its_end() {
        assert_eq!(review_to_read("short"), ("short", false));
        let exact = "é".repeat(MAX_REVIEW_CHARS);
        assert_eq!(review_to_read(&exact), (exact.as_str(), false));
        let long = format!("start {}", "ü".repeat(MAX_REVIEW_CHARS));
        let (read, cut) = review_to_read(&long);
        assert!(cut);
        assert_eq!(read.chars().count(), MAX_REVIEW_CHARS);
        assert!(long.ends_with(read));
    }

    #[test]
    fn words_follow_keras_text_to_word_sequence() {
        assert_eq!(
            words("This movie was GREAT!<br /><br />Really, it's the best-ever."),
            vec!["this", "movie", "was", "great", "really", "it's", "the", "best", "ever"]
        );
    }

    #[test]
    fn ids_rank_by_frequency_with_alphabetical_ties() {
        let vocab = Vocabulary::build(["b a a c", "c a d"]);
        // a: 3, c: 2, b: 1, d: 1 (b before d).
        assert_eq!(vocab.words, vec!["a", "c", "b", "d"]);
        assert_eq!(vocab.id("a"), Some(4));
        assert_eq!(vocab.ids("a d zebra"), vec![START, 4, 7, UNKNOWN]);
        assert_eq!(vocab.word(5), "c");
    }

    #[test]
    fn a_review_shown_with_unknown_marks_reads_as_it_was_read() {
        let vocab = Vocabulary::build(["b a a c", "c a d", "unk"]);
        assert!(vocab.id("unk").is_some());
        assert_eq!(review_words("A <unk>, d."), vec!["a", UNKNOWN_MARK, "d"]);
        // The mark is an unknown word, not "unk" (which this vocabulary has).
        assert_eq!(
            vocab.ids("a <unk> d"),
            vec![START, 4, UNKNOWN, vocab.id("d").unwrap()]
        );
        let shown: Vec<&str> = vocab.ids("a <unk> d")[1..]
            .iter()
            .map(|&id| vocab.word(id))
            .collect();
        assert_eq!(vocab.ids(&shown.join(" ")), vocab.ids("a <unk> d"));
        assert!(vocab.knows("a", 6) && !vocab.knows("d", 6) && !vocab.knows(UNKNOWN_MARK, 100));
    }

    #[test]
    fn num_words_and_example_len_behave_as_keras() {
        let vocab = Vocabulary::build(["b a a c", "c a d"]);
        // num_words 6 keeps ids < 6 (a, c); pre-padding to 6.
        let (ids, unknown) = vocab.encode("a b c d", 6, 6);
        assert_eq!(ids, vec![0, START, 4, UNKNOWN, 5, UNKNOWN]);
        assert_eq!(unknown, vec!["b", "d"]);
        // Pre-truncation keeps the end of the review.
        assert_eq!(fit(&[1, 4, 5, 6, 7], 100, 3), vec![5, 6, 7]);
    }

    #[test]
    fn token_files_round_trip_and_reject_corruption() {
        let reviews = TokenizedReviews {
            reviews: vec![vec![1, 4, 9], vec![1]],
            labels: vec![1, 0],
        };
        let bytes = reviews.encode();
        assert_eq!(TokenizedReviews::decode(&bytes, "t").unwrap(), reviews);
        assert!(TokenizedReviews::decode(&bytes[..bytes.len() - 2], "t")
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        let mut bad = bytes.clone();
        bad[8] = 7;
        assert!(TokenizedReviews::decode(&bad, "t")
            .unwrap_err()
            .to_string()
            .contains("label 7"));
        let mut long = bytes.clone();
        long.push(0);
        assert!(TokenizedReviews::decode(&long, "t").is_err());
        assert!(TokenizedReviews::decode(b"nope", "t").is_err());
    }

    #[test]
    fn random_token_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let good = TokenizedReviews {
            reviews: vec![vec![1, 4, 9], vec![1, 5]],
            labels: vec![1, 0],
        }
        .encode();
        for _ in 0..20_000 {
            let mut bytes = good.clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..bytes.len());
                bytes[i] = rng.random();
            }
            bytes.truncate(rng.random_range(0..=bytes.len()));
            let _ = TokenizedReviews::decode(&bytes, "fuzz");
        }
    }
}
