//! The answers the worker gives for the drawing pad and the review box.

use leptos::prelude::*;

use kindling_core::data::imdb::review_to_read;
use kindling_core::inside::{ImageLayers, ReviewTrace};

use crate::protocol::{ImageExample, ToWorker};

/// The latest prediction for the drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitGuess {
    /// Probability per class.
    pub probabilities: Vec<f32>,
    /// What the model read.
    pub input: ImageExample,
    /// What each of its layers computed, when the model has such layers.
    pub layers: Option<ImageLayers>,
}

/// The latest answer for the review box.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewGuess {
    /// Probability of a positive review.
    pub positive: f32,
    /// Words the model does not know.
    pub unknown: Vec<String>,
    /// Words read.
    pub tokens: usize,
    /// How it read the review word by word (a recurrent model).
    pub trace: Option<ReviewTrace>,
}

/// Prediction state (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct Predictions {
    /// Latest request id of a prediction (older answers are ignored).
    pub request: RwSignal<u64>,
    /// The drawing's prediction.
    pub digit: RwSignal<Option<DigitGuess>>,
    /// The review's prediction.
    pub review: RwSignal<Option<ReviewGuess>>,
    /// The review in the box, as typed (or as clicked in a gallery).
    pub review_text: RwSignal<String>,
    /// Whether only the review's end is read (it is longer than
    /// [`kindling_core::data::imdb::MAX_REVIEW_CHARS`]).
    pub review_cut: RwSignal<bool>,
    /// Why no prediction could be made.
    pub note: RwSignal<Option<String>>,
    /// The saved model the drawing and the review box use (its run's name), when not the
    /// current run's.
    pub model_in_use: RwSignal<Option<String>>,
}

impl Predictions {
    pub(super) fn new() -> Self {
        Self {
            request: RwSignal::new(0),
            digit: RwSignal::new(None),
            review: RwSignal::new(None),
            review_text: RwSignal::new(String::new()),
            review_cut: RwSignal::new(false),
            note: RwSignal::new(None),
            model_in_use: RwSignal::new(None),
        }
    }

    /// Asks for a new request id (older answers are then ignored).
    pub fn next_request(&self) -> u64 {
        let id = self.request.get_untracked() + 1;
        self.request.set(id);
        id
    }

    /// Forgets both answers (a new model answers differently).
    pub(super) fn clear(&self) {
        self.digit.set(None);
        self.review.set(None);
    }
}

/// The worker's answers for the drawing and the review box.
impl super::Session {
    /// Puts `text` in the review box and asks the model how it reads it.
    pub fn read_review(&self, text: String) {
        // A pasted book is read from its end, as a model reads a review's last words.
        let (read, was_cut) = review_to_read(&text);
        self.predictions.review_cut.set(was_cut);
        if read.trim().is_empty() {
            self.predictions.review.set(None);
        } else {
            let request = self.predictions.next_request();
            self.worker.send(&ToWorker::PredictReview {
                request,
                text: read.to_string(),
            });
        }
        self.predictions.review_text.set(text);
    }

    pub(super) fn on_image_prediction(
        &self,
        request: u64,
        probabilities: Vec<f32>,
        input: ImageExample,
        layers: Option<Box<ImageLayers>>,
    ) {
        if self.is_latest_request(request) {
            self.predictions.note.set(None);
            self.predictions.digit.set(Some(DigitGuess {
                probabilities,
                input,
                layers: layers.map(|l| *l),
            }));
        }
    }

    pub(super) fn on_review_prediction(&self, request: u64, guess: ReviewGuess) {
        if self.is_latest_request(request) {
            self.predictions.note.set(None);
            self.predictions.review.set(Some(guess));
        }
    }

    pub(super) fn on_prediction_unavailable(&self, request: u64, message: String) {
        if self.is_latest_request(request) {
            // The last answer was for something else: it no longer shows as this one's.
            self.predictions.digit.set(None);
            self.predictions.note.set(Some(message));
        }
    }

    /// Whether `request` is the latest prediction request.
    fn is_latest_request(&self, request: u64) -> bool {
        request == self.predictions.request.get_untracked()
    }
}
