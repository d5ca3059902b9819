//! The end of a run: its last progress, the `Ended` message with the test report (accuracy,
//! confusion matrix, misclassified examples), then the trained weights for the page to keep.

use kindling_core::record::RunStatus;
use kindling_core::train::{argmax, shown_confusion, TrainerState};

use super::data::{image_example, review_example};
use super::host::{now_ms, post};
use super::Actor;
use crate::protocol::{FromWorker, TestReport};

/// Misclassified test examples looked at for the report: a screenful of images.
const WRONG_EXAMPLES: usize = 24;
/// Misclassified reviews shown at most: whole texts, so fewer than images fit.
const WRONG_REVIEWS: usize = 6;
/// Test images sent for a cell of the confusion matrix.
const CELL_EXAMPLES: usize = 12;

impl Actor {
    /// After the last step: the test report and the `Ended` message.
    pub(super) async fn finish_if_ended(&mut self) {
        // A run that ends during its thread trial (stopped, or ended by a step) tells the page
        // the threads it trained on last.
        self.count_trial_turn(0, 0.0);
        let Some(c) = self.current.as_mut() else {
            return;
        };
        if !c.active || *c.run.state() == TrainerState::Running {
            return;
        }
        if !c.paused {
            c.trained_ms += now_ms() - c.stretch_start;
        }
        c.active = false;
        let end = match RunStatus::of_trainer(c.run.state()) {
            // As before the split: a run ended while its trainer still runs counts as finished.
            RunStatus::Training => RunStatus::Finished,
            status => status,
        };
        let points = c.take_new_points();
        let run_id = c.run_id;
        let progress = c.report();
        if !points.is_empty() {
            post(&FromWorker::Progress {
                run_id,
                progress,
                points,
            });
        }
        let keep_weights = !end.diverged() && !c.run.history().epochs.is_empty();
        let report = if keep_weights {
            self.report_or_warn().await
        } else {
            None
        };
        post(&FromWorker::Ended {
            run_id,
            end,
            report,
            progress,
        });
        if keep_weights {
            self.post_weights(run_id).await;
        }
    }

    /// The test report, or `None` with a warning in the console; the test predictions are
    /// kept for the page's questions about a cell of the matrix.
    async fn report_or_warn(&mut self) -> Option<Box<TestReport>> {
        match self.test_report().await {
            Ok((r, predictions)) => {
                if let Some(c) = self.current.as_mut() {
                    c.test_predictions = Some(predictions);
                }
                Some(Box::new(r))
            }
            Err(e) => {
                web_sys::console::warn_1(&format!("no test report: {e}").into());
                None
            }
        }
    }

    /// Sends the trained weights of the current run (a warning in the console if they cannot
    /// be read).
    async fn post_weights(&self, run_id: u64) {
        if let Some(c) = self.current.as_ref() {
            match c.run.weights().await {
                Ok(weights) => post(&FromWorker::Weights { run_id, weights }),
                Err(e) => web_sys::console::warn_1(&format!("no weights kept: {e}").into()),
            }
        }
    }

    /// The current run's model on the test split: accuracy, confusion, misclassified
    /// examples; and each test example's predicted class with its probability.
    async fn test_report(&self) -> Result<(TestReport, Vec<(u32, f32)>), String> {
        let c = self.current.as_ref().ok_or("no run")?;
        let test = &c.run.data().eval;
        if test.is_regression() {
            // Values, not classes: R² on the test set, and no matrix or mistakes.
            let metrics = c.run.evaluate(test).await.map_err(|e| e.to_string())?;
            let report = TestReport {
                accuracy: metrics.accuracy,
                examples: test.len(),
                confusion: Vec::new(),
                matrix_classes: Vec::new(),
                matrix_others: false,
                class_names: c.config.dataset.class_names(),
                wrong_images: Vec::new(),
                wrong_reviews: Vec::new(),
            };
            return Ok((report, Vec::new()));
        }
        let classes = test.num_classes;
        let probabilities = c.run.probabilities(test).await.map_err(|e| e.to_string())?;
        let guesses: Vec<(u32, f32)> = probabilities
            .chunks(classes.max(2))
            .map(|row| {
                let best = argmax(row);
                (best, row[best as usize])
            })
            .collect();
        let predicted: Vec<u32> = guesses.iter().map(|g| g.0).collect();
        let correct = predicted
            .iter()
            .zip(&test.labels)
            .filter(|(p, t)| p == t)
            .count();
        let wrong: Vec<usize> = (0..test.len())
            .filter(|&i| predicted[i] != test.labels[i])
            .take(WRONG_EXAMPLES)
            .collect();
        let mut wrong_images = Vec::new();
        let mut wrong_reviews = Vec::new();
        for &i in &wrong {
            if let Some(mut image) = image_example(test, i) {
                image.predicted = Some(predicted[i]);
                wrong_images.push(image);
            } else if let Some(mut review) = review_example(test, i, self.vocabulary.as_ref()) {
                review.predicted = Some(predicted[i]);
                if wrong_reviews.len() < WRONG_REVIEWS {
                    wrong_reviews.push(review);
                }
            }
        }
        let matrix = shown_confusion(&test.labels, &predicted, classes);
        let report = TestReport {
            accuracy: correct as f64 / test.len().max(1) as f64,
            examples: test.len(),
            confusion: matrix.counts,
            matrix_classes: matrix.classes,
            matrix_others: matrix.others,
            class_names: c.config.dataset.class_names(),
            wrong_images,
            wrong_reviews,
        };
        Ok((report, guesses))
    }

    /// Answers `CellExamples`: the test images of true class `truth` predicted as
    /// `predicted` (the first [`CELL_EXAMPLES`]), each with the probability it was given.
    pub(super) fn answer_cell(&self, truth: u32, predicted: u32) {
        let Some(c) = self.current.as_ref() else {
            return;
        };
        let Some(guesses) = c.test_predictions.as_ref() else {
            return;
        };
        let test = &c.run.data().eval;
        let matching: Vec<usize> = (0..test.len().min(guesses.len()))
            .filter(|&i| test.labels[i] == truth && guesses[i].0 == predicted)
            .collect();
        let images = matching
            .iter()
            .take(CELL_EXAMPLES)
            .filter_map(|&i| {
                let mut image = image_example(test, i)?;
                image.predicted = Some(guesses[i].0);
                Some((image, guesses[i].1))
            })
            .collect();
        post(&FromWorker::CellExamples {
            run_id: c.run_id,
            truth,
            predicted,
            total: matching.len(),
            images,
        });
    }
}
