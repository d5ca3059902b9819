//! The answers the worker gives for the drawing pad and the review box.

use leptos::prelude::*;

use kindling_core::inside::ImageLayers;

use crate::protocol::ImageExample;

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
