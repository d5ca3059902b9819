//! Predictions for the page's try-it panel: a drawn digit, a typed review, answered by the
//! current run's model or by a saved model the user chose (`UseModel`).

use kindling_core::data::digit::{to_tiny, SIDE};
use kindling_core::data::imdb::{review_words, Vocabulary};
use kindling_core::data::loader::{vocabulary_from_bytes, VOCABULARY_FILE};
use kindling_core::data::{Dataset, ExampleShape, Examples};
use kindling_core::inside::{ImageLayers, ReviewTrace};
use kindling_core::model::SavedModel;
use kindling_core::{DatasetConfig, RunConfig};

use super::error::WorkerError;
use super::fetch::{fetch_checked, fetch_manifest};
use super::host::post;
use super::training::CurrentRun;
use super::Actor;
use crate::protocol::{FromWorker, ImageExample};

/// Side of a tinyMNIST image: MNIST's, halved by [`to_tiny`]'s 2x2 averaging.
const TINY_SIDE: usize = SIDE / 2;

/// A saved model in use for predictions (until the next run starts).
pub(super) struct LoadedModel {
    config: RunConfig,
    model: SavedModel,
}

/// What answers the drawing and the review box: the current run's model, or a saved one.
enum Predictor<'a> {
    Run(&'a CurrentRun),
    Saved(&'a LoadedModel),
}

impl Predictor<'_> {
    /// The dataset the model was trained on.
    fn dataset(&self) -> &DatasetConfig {
        match self {
            Predictor::Run(c) => &c.config.dataset,
            Predictor::Saved(m) => &m.config.dataset,
        }
    }

    /// How the model reads a review word by word (`None`: not a recurrent model).
    async fn review_trace(
        &self,
        vocabulary: &Vocabulary,
        text: &str,
    ) -> Result<Option<ReviewTrace>, String> {
        match self {
            Predictor::Run(c) => c
                .run
                .review_trace(vocabulary, text)
                .await
                .map_err(|e| e.to_string()),
            Predictor::Saved(m) => m.model.review_trace(vocabulary, text).await,
        }
    }

    /// The class probabilities of each example of `data`, one row after another.
    async fn probabilities(&self, data: &Dataset) -> Result<Vec<f32>, String> {
        match self {
            Predictor::Run(c) => c.run.probabilities(data).await.map_err(|e| e.to_string()),
            Predictor::Saved(m) => m.model.probabilities(data).await,
        }
    }

    /// What every layer computes for the single image of `data` (`None`: a model without
    /// such layers).
    async fn image_layers(&self, data: &Dataset) -> Result<Option<ImageLayers>, String> {
        match self {
            Predictor::Run(c) => c.run.image_layers(data).await.map_err(|e| e.to_string()),
            Predictor::Saved(m) => m.model.image_layers(data).await,
        }
    }
}

/// Posts a prediction, or why none can be made.
fn post_prediction(request: u64, answer: Result<FromWorker, String>) {
    post(&answer.unwrap_or_else(|message| FromWorker::PredictionUnavailable { request, message }));
}

impl Actor {
    /// Answers `PredictImage`: what the model (`run_model`: the current run's) reads in a
    /// drawn digit or a test image.
    pub(super) async fn answer_drawing(&self, request: u64, pixels: Vec<u8>, run_model: bool) {
        post_prediction(
            request,
            self.predict_image(request, pixels, run_model).await,
        );
    }

    /// Answers `PredictReview`: how positive the model finds a typed review.
    pub(super) async fn answer_review(&self, request: u64, text: &str) {
        post_prediction(request, self.predict_review(request, text).await);
    }

    /// Answers `UseModel`: the saved model now answers predictions, or why it cannot.
    pub(super) async fn receive_model(
        &mut self,
        run_id: u64,
        name: String,
        config: RunConfig,
        weights: Vec<u8>,
    ) {
        post(&match self.use_model(run_id, config, weights).await {
            Ok(()) => FromWorker::ModelInUse { run_id, name },
            Err(e) => FromWorker::ModelRejected {
                run_id,
                message: e.to_string(),
            },
        });
    }

    /// Loads saved weights (on the CPU) for the drawing and the review box.
    async fn use_model(
        &mut self,
        run_id: u64,
        config: RunConfig,
        weights: Vec<u8>,
    ) -> Result<(), WorkerError> {
        config.validate().map_err(WorkerError::SavedConfig)?;
        if matches!(config.dataset, DatasetConfig::Imdb(_)) && self.vocabulary.is_none() {
            let manifest = fetch_manifest(config.dataset.name()).await?;
            let entry = manifest
                .file(VOCABULARY_FILE)
                .ok_or(WorkerError::NoVocabulary)?;
            let bytes = fetch_checked(Some(run_id), VOCABULARY_FILE, entry, 0, entry.bytes).await?;
            self.vocabulary = Some(vocabulary_from_bytes(bytes)?);
        }
        let model = SavedModel::load(&config.model, weights, &self.cpu)?;
        self.saved = Some(LoadedModel { config, model });
        Ok(())
    }

    /// The model that answers predictions: a saved one the user chose, else the current run's.
    fn predictor(&self) -> Option<Predictor<'_>> {
        match (&self.saved, &self.current) {
            (Some(saved), _) => Some(Predictor::Saved(saved)),
            (None, Some(run)) => Some(Predictor::Run(run)),
            (None, None) => None,
        }
    }

    /// The class probabilities of a 28x28 drawing (halved for a tinyMNIST model).
    async fn predict_image(
        &self,
        request: u64,
        pixels: Vec<u8>,
        run_model: bool,
    ) -> Result<FromWorker, String> {
        let c = match (run_model, &self.current) {
            (true, Some(run)) => Some(Predictor::Run(run)),
            (true, None) => None,
            (false, _) => self.predictor(),
        }
        .ok_or("Train a model on MNIST (or tinyMNIST) first: then it reads your digit.")?;
        let tiny = pixels.len() == TINY_SIDE * TINY_SIDE;
        let uploaded = matches!(c.dataset(), DatasetConfig::Uploaded(_));
        if pixels.len() != SIDE * SIDE && !tiny && !uploaded {
            return Err(format!(
                "an image has {} pixels, not {} (or {} for tinyMNIST)",
                pixels.len(),
                SIDE * SIDE,
                TINY_SIDE * TINY_SIDE
            ));
        }
        let (side, pixels) = match c.dataset() {
            DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_) if !tiny => (SIDE, pixels),
            // A tinyMNIST test image comes as the model read it; a drawing is made 14x14.
            DatasetConfig::TinyMnist(_) if tiny => (TINY_SIDE, pixels),
            DatasetConfig::TinyMnist(_) => (TINY_SIDE, to_tiny(&pixels)),
            DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_) => {
                return Err("a 14x14 image is not for a 28x28 model".to_string())
            }
            // An uploaded image set's own images (and drawings, when its images are 28x28).
            uploaded @ DatasetConfig::Uploaded(_) => match uploaded.square_image_side() {
                Some(side) if pixels.len() == side * side => (side, pixels),
                Some(side) => {
                    return Err(format!(
                        "The current model reads {side}x{side} images: a drawing is 28x28."
                    ))
                }
                None => {
                    return Err(format!(
                        "The current model reads {}, not images: train one on MNIST to classify a drawing.",
                        uploaded.name()
                    ))
                }
            },
            other => {
                return Err(format!(
                "The current model reads {}, not images: train one on MNIST to classify a drawing.",
                other.name()
            ))
            }
        };
        let image = Dataset {
            name: "drawing".into(),
            shape: ExampleShape::Image([1, side, side]),
            examples: Examples::Pixels(pixels.clone()),
            labels: vec![0],
            num_classes: c.dataset().classes().max(2),
            targets: None,
        };
        // The layers come with their probabilities (one forward pass); other models answer
        // with the probabilities alone.
        let layers = c.image_layers(&image).await?;
        let probabilities = match &layers {
            Some(l) => l.probabilities.clone(),
            None => c.probabilities(&image).await?,
        };
        Ok(FromWorker::ImagePrediction {
            request,
            probabilities,
            layers: layers.map(Box::new),
            input: ImageExample {
                side,
                pixels,
                label: 0,
                predicted: None,
            },
        })
    }

    /// The probability that a typed review is positive, with its words the vocabulary lacks.
    async fn predict_review(&self, request: u64, text: &str) -> Result<FromWorker, String> {
        let c = self
            .predictor()
            .ok_or("Train a model on IMDB first: then it reads your review.")?;
        let DatasetConfig::Imdb(subset) = c.dataset() else {
            return Err(format!(
                "The current model reads {}: train one on IMDB to score a review.",
                c.dataset().name()
            ));
        };
        let vocabulary = self
            .vocabulary
            .as_ref()
            .ok_or("the IMDB vocabulary is not loaded")?;
        let (ids, unknown) = vocabulary.encode(text, subset.dict_size, subset.example_len);
        let tokens = review_words(text).len();
        // The verdict is the trace's last value (one forward pass gives both).
        let trace = c.review_trace(vocabulary, text).await?;
        let positive = match &trace {
            Some(trace) => trace.positive(),
            None => {
                let review = Dataset {
                    name: "review".into(),
                    shape: ExampleShape::Tokens(subset.example_len),
                    examples: Examples::Tokens(ids),
                    labels: vec![0],
                    num_classes: 2,
                    targets: None,
                };
                let p = c.probabilities(&review).await?;
                p.get(1).copied().unwrap_or(0.5)
            }
        };
        Ok(FromWorker::ReviewPrediction {
            request,
            positive,
            unknown,
            tokens,
            trace: trace.map(Box::new),
        })
    }
}
