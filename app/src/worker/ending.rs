//! The end of a run: its last progress, the `Ended` message with the test report (accuracy,
//! confusion matrix, misclassified examples), then the trained weights for the page to keep.

use kindling_core::record::RunStatus;
use kindling_core::train::{shown_confusion, TrainerState};

use super::data::{image_example, review_example};
use super::host::{now_ms, post};
use super::Actor;
use crate::protocol::{FromWorker, TestReport};

/// Misclassified test examples looked at for the report: a screenful of images.
const WRONG_EXAMPLES: usize = 24;
/// Misclassified reviews shown at most: whole texts, so fewer than images fit.
const WRONG_REVIEWS: usize = 6;

impl Actor {
    /// After the last step: the test report and the `Ended` message.
    pub(super) async fn finish_if_ended(&mut self) {
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

    /// The test report, or `None` with a warning in the console.
    async fn report_or_warn(&self) -> Option<Box<TestReport>> {
        match self.test_report().await {
            Ok(r) => Some(Box::new(r)),
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

    /// The current run's model on the test split: accuracy, confusion, misclassified examples.
    async fn test_report(&self) -> Result<TestReport, String> {
        let c = self.current.as_ref().ok_or("no run")?;
        let test = &c.run.data().eval;
        let predicted = c.run.predictions(test).await.map_err(|e| e.to_string())?;
        let classes = test.num_classes;
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
        Ok(TestReport {
            accuracy: correct as f64 / test.len().max(1) as f64,
            examples: test.len(),
            confusion: matrix.counts,
            matrix_classes: matrix.classes,
            matrix_others: matrix.others,
            class_names: c.config.dataset.class_names(),
            wrong_images,
            wrong_reviews,
        })
    }
}
