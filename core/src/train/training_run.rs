//! One run of either engine behind one type: what a browser worker or the CLI drives step by
//! step without caring whether burn's autodiff or the homework's hand-written backprop trains.

use burn::tensor::Device;

use super::compute_pool::SharedPool;
use super::metrics::TrainingHistory;
use super::steering::{LiveSettings, Steer};
use super::trainer::{Progress, StepOutcome, TrainError, Trainer, TrainerState};
use crate::checks::ConfigError;
use crate::data::{Dataset, TrainingData};
use crate::hw1::Hw1Trainer;
use crate::inside::network::PlaneGrid;
use crate::inside::{first_layer_images, network_view, ImageLayers, NetworkView, UnitImages};
use crate::model::weights::{tensor_values, weights_from_values, weights_of, WeightsError};
use crate::run::{Engine, RunConfig};

/// The engine training a run.
enum RunTrainer {
    Autodiff(Box<Trainer>),
    HandWritten(Box<Hw1Trainer>),
}

/// A run in progress: built from a [`RunConfig`] and its data, trained one batch per
/// [`TrainingRun::step`].
pub struct TrainingRun {
    engine: RunTrainer,
    /// The run's config, with the changes steered so far.
    config: RunConfig,
}

impl TrainingRun {
    /// Validates `config` and builds the run's trainer on `device`.
    pub fn new(
        config: &RunConfig,
        data: TrainingData,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let engine = match config.engine {
            Engine::Autodiff => RunTrainer::Autodiff(Box::new(Trainer::new(
                &config.model,
                &config.training,
                data,
                device,
            )?)),
            Engine::HandWritten => {
                let hw1 = config
                    .hw1_config()
                    .map_err(|e| TrainError::Data(e.to_string()))?;
                RunTrainer::HandWritten(Box::new(
                    Hw1Trainer::new(&hw1, data, device).map_err(TrainError::Data)?,
                ))
            }
        };
        Ok(Self {
            engine,
            config: config.clone(),
        })
    }

    /// Runs the tensor work inside `pool` (see [`Trainer::set_pool`]); false, and nothing
    /// changes, for the hand-written engine, which trains on the calling thread.
    pub fn set_pool(&mut self, pool: Option<SharedPool>) -> bool {
        match &mut self.engine {
            RunTrainer::Autodiff(t) => {
                t.set_pool(pool);
                true
            }
            RunTrainer::HandWritten(_) => false,
        }
    }

    /// The run's config, with every change steered so far in `training.steering`.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// Changes hyper-parameters from the next batch on, recording the change at the batches
    /// trained so far (its `at_step` is set here): the returned change is what a replay of
    /// the run applies. Refused, with the field and the allowed range, when a value is out
    /// of range, the model or engine has no such setting, or the run has no batch left.
    pub fn steer(&mut self, mut change: Steer) -> Result<Steer, ConfigError> {
        change.at_step = match &self.engine {
            RunTrainer::Autodiff(t) => t.steps_done(),
            RunTrainer::HandWritten(t) => t.steps_done(),
        };
        let mut config = self.config.clone();
        // A change replaces those recorded for later batches (a reproduced run's plan).
        config
            .training
            .steering
            .retain(|c| c.at_step <= change.at_step);
        config.training.steering.push(change);
        config.validate()?;
        self.config = config;
        match &mut self.engine {
            RunTrainer::Autodiff(t) => t.push_steer(change),
            RunTrainer::HandWritten(t) => t.push_steer(change),
        }
        Ok(change)
    }

    /// The hyper-parameters the next batch trains with.
    pub fn settings(&self) -> LiveSettings {
        let trained = match &self.engine {
            RunTrainer::Autodiff(t) => t.steps_done(),
            RunTrainer::HandWritten(t) => t.steps_done(),
        };
        self.config
            .settings_at(trained, self.progress().batches_per_epoch)
    }

    /// Splits every batch across the run's device and `others` (see
    /// [`Trainer::set_data_parallel`]); the hand-written engine trains on one device only.
    #[cfg(not(target_family = "wasm"))]
    pub fn set_data_parallel(&mut self, others: &[Device]) -> Result<(), TrainError> {
        match &mut self.engine {
            RunTrainer::Autodiff(t) => {
                t.set_data_parallel(others);
                Ok(())
            }
            RunTrainer::HandWritten(_) if others.is_empty() => Ok(()),
            RunTrainer::HandWritten(_) => Err(TrainError::Data(
                "the hand-written backprop engine trains on one device; several devices need \
                 the autodiff engine"
                    .into(),
            )),
        }
    }

    /// Trains one batch (evaluating the held-out set at an epoch's end).
    pub async fn step(&mut self) -> Result<StepOutcome, TrainError> {
        match &mut self.engine {
            RunTrainer::Autodiff(t) => t.step().await,
            RunTrainer::HandWritten(t) => t.step().await.map_err(TrainError::Device),
        }
    }

    /// The state after the last step.
    pub fn state(&self) -> &TrainerState {
        match &self.engine {
            RunTrainer::Autodiff(t) => t.state(),
            RunTrainer::HandWritten(t) => t.state(),
        }
    }

    /// Everything measured so far.
    pub fn history(&self) -> &TrainingHistory {
        match &self.engine {
            RunTrainer::Autodiff(t) => t.history(),
            RunTrainer::HandWritten(t) => t.history(),
        }
    }

    /// How far the run has come.
    pub fn progress(&self) -> Progress {
        match &self.engine {
            RunTrainer::Autodiff(t) => t.progress(),
            RunTrainer::HandWritten(t) => t.progress(),
        }
    }

    /// The data it trains and evaluates on.
    pub fn data(&self) -> &TrainingData {
        match &self.engine {
            RunTrainer::Autodiff(t) => t.data(),
            RunTrainer::HandWritten(t) => t.data(),
        }
    }

    /// Ends the run.
    pub fn stop(&mut self) {
        match &mut self.engine {
            RunTrainer::Autodiff(t) => t.stop(),
            RunTrainer::HandWritten(t) => t.stop(),
        }
    }

    /// Loss and accuracy (R² on a regression set) of the current model on `data`.
    pub async fn evaluate(&self, data: &Dataset) -> Result<super::EvalMetrics, TrainError> {
        match &self.engine {
            RunTrainer::Autodiff(t) => t.evaluate(data).await,
            RunTrainer::HandWritten(t) => t.evaluate(data).await.map_err(TrainError::Device),
        }
    }

    /// Class probabilities of every example of `data`, row-major `[examples, classes]`.
    pub async fn probabilities(&self, data: &Dataset) -> Result<Vec<f32>, TrainError> {
        match &self.engine {
            RunTrainer::Autodiff(t) => t.probabilities(data).await,
            RunTrainer::HandWritten(t) => t.probabilities(data).await.map_err(TrainError::Device),
        }
    }

    /// The network view of a dense model (an MLP, or the homework's network; `None` for
    /// others): its weights and biases, and with a `grid` (a 2-D input plane the model reads
    /// features of) every unit's map over it.
    pub async fn network_view(
        &self,
        grid: Option<&PlaneGrid>,
    ) -> Result<Option<NetworkView>, TrainError> {
        let (layers, device) = match &self.engine {
            RunTrainer::Autodiff(t) => match t.dense_params() {
                Some(dense) => dense,
                None => return Ok(None),
            },
            RunTrainer::HandWritten(t) => (t.network().dense_params(), t.device().clone()),
        };
        network_view(&layers, grid, &device)
            .await
            .map(Some)
            .map_err(TrainError::Device)
    }

    /// The incoming weights of each first-layer unit as a `side` x `side` image, when the
    /// model is a dense network reading such images (an MLP, or the homework's network).
    pub async fn first_layer_images(&self, side: usize) -> Result<Option<UnitImages>, TrainError> {
        let layers = match &self.engine {
            RunTrainer::Autodiff(t) => match t.dense_params() {
                Some((layers, _)) => layers,
                None => return Ok(None),
            },
            RunTrainer::HandWritten(t) => t.network().dense_params(),
        };
        first_layer_images(&layers, side)
            .await
            .map_err(TrainError::Device)
    }

    /// The trained model's weights (burnpack bytes of the run's [`crate::model::ModelConfig`]; the
    /// hand-written network becomes the sigmoid MLP it is). Read asynchronously.
    pub async fn weights(&self) -> Result<Vec<u8>, WeightsError> {
        match &self.engine {
            RunTrainer::Autodiff(t) => weights_of(&t.model(), &self.config.model).await,
            RunTrainer::HandWritten(t) => {
                let network = t.network();
                let weights = tensor_values(network.weights.clone()).await?;
                let biases = tensor_values(network.biases.clone()).await?;
                let values = weights
                    .into_iter()
                    .zip(biases)
                    .flat_map(|(w, b)| [w, b])
                    .collect();
                weights_from_values(&self.config.model, values)
            }
        }
    }

    /// What every layer of the model computes for the single image of `data`, and its first
    /// filters (see [`crate::inside::image_layers`]); `None` for models that are not read as
    /// layers of maps or units.
    pub async fn image_layers(&self, data: &Dataset) -> Result<Option<ImageLayers>, TrainError> {
        match &self.engine {
            RunTrainer::Autodiff(t) => crate::inside::image_layers_of(
                &t.model(),
                &self.config.model,
                data,
                &t.device().clone().inner(),
            )
            .await
            .map_err(TrainError::Device),
            RunTrainer::HandWritten(t) => {
                if data.is_empty() {
                    return Ok(None);
                }
                let batch = data.batch(&[0], self.config.model.input_kind(), t.device());
                let crate::model::BatchInput::Features(x) = batch.input else {
                    return Ok(None);
                };
                crate::inside::layers::dense_layers(&t.network().dense_params(), x)
                    .await
                    .map_err(TrainError::Device)
            }
        }
    }

    /// Asks for a health report of the next step; the hand-written engine has none.
    pub fn request_health(&mut self) {
        if let RunTrainer::Autodiff(t) = &mut self.engine {
            t.request_health();
        }
    }

    /// Whether each epoch's last step is probed too.
    pub fn set_health_per_epoch(&mut self, on: bool) {
        if let RunTrainer::Autodiff(t) = &mut self.engine {
            t.set_health_per_epoch(on);
        }
    }

    /// Probes no more steps (the views are closed), a request not yet served included.
    pub fn stop_health(&mut self) {
        if let RunTrainer::Autodiff(t) = &mut self.engine {
            t.stop_health();
        }
    }

    /// The health reports of the steps probed since the last call, in order (see
    /// [`crate::inside::health`]).
    pub fn take_health(&mut self) -> Vec<crate::inside::health::HealthReport> {
        match &mut self.engine {
            RunTrainer::Autodiff(t) => t.take_health(),
            RunTrainer::HandWritten(_) => Vec::new(),
        }
    }

    /// How the model reads a review word by word (see [`crate::inside::review_trace`]);
    /// `None` for models that do not read text.
    pub async fn review_trace(
        &self,
        vocabulary: &crate::data::imdb::Vocabulary,
        text: &str,
    ) -> Result<Option<crate::inside::ReviewTrace>, TrainError> {
        match &self.engine {
            RunTrainer::Autodiff(t) => crate::inside::review_trace(
                &t.model(),
                &self.config.model,
                vocabulary,
                text,
                &t.device().clone().inner(),
            )
            .await
            .map_err(TrainError::Device),
            RunTrainer::HandWritten(_) => Ok(None),
        }
    }

    /// The predicted class of every example of `data` (argmax of [`TrainingRun::probabilities`]).
    pub async fn predictions(&self, data: &Dataset) -> Result<Vec<u32>, TrainError> {
        let classes = data.num_classes.max(2);
        let p = self.probabilities(data).await?;
        Ok(p.chunks(classes).map(argmax).collect())
    }
}

/// Index of the largest value (the first of equals; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// Counts of (true class, predicted class) pairs: `matrix[true][predicted]`.
pub fn confusion_matrix(labels: &[u32], predicted: &[u32], classes: usize) -> Vec<Vec<usize>> {
    let mut matrix = vec![vec![0; classes]; classes];
    for (&t, &p) in labels.iter().zip(predicted) {
        if (t as usize) < classes && (p as usize) < classes {
            matrix[t as usize][p as usize] += 1;
        }
    }
    matrix
}

/// Most classes a confusion matrix shows one by one; with more (an upload may have up to a
/// thousand), the rest share one "other" row and column, so the matrix stays small to send,
/// draw and read.
pub const MAX_MATRIX_CLASSES: usize = 20;

/// A confusion matrix small enough to show: the classes it shows one by one and, when there
/// were more than [`MAX_MATRIX_CLASSES`], one last row and column for all the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownConfusion {
    /// The class ids of the rows (and columns), ascending; the most frequent test classes.
    pub classes: Vec<u32>,
    /// Whether a last row and column counts every other class.
    pub others: bool,
    /// `counts[true][predicted]`, over `classes` (then the others).
    pub counts: Vec<Vec<usize>>,
}

/// The confusion matrix of `classes` classes, at most [`MAX_MATRIX_CLASSES`] rows: the most
/// frequent true classes of the test set one by one (ties to the lower id), the rest merged.
pub fn shown_confusion(labels: &[u32], predicted: &[u32], classes: usize) -> ShownConfusion {
    if classes <= MAX_MATRIX_CLASSES {
        return ShownConfusion {
            classes: (0..classes as u32).collect(),
            others: false,
            counts: confusion_matrix(labels, predicted, classes),
        };
    }
    let mut frequency = vec![0usize; classes];
    for &t in labels {
        if let Some(n) = frequency.get_mut(t as usize) {
            *n += 1;
        }
    }
    let mut order: Vec<u32> = (0..classes as u32).collect();
    order.sort_by_key(|&c| (std::cmp::Reverse(frequency[c as usize]), c));
    let mut shown = order[..MAX_MATRIX_CLASSES - 1].to_vec();
    shown.sort_unstable();
    let other = shown.len();
    let mut row_of = vec![other; classes];
    for (row, &c) in shown.iter().enumerate() {
        row_of[c as usize] = row;
    }
    let mut counts = vec![vec![0; other + 1]; other + 1];
    for (&t, &p) in labels.iter().zip(predicted) {
        if let (Some(&r), Some(&c)) = (row_of.get(t as usize), row_of.get(p as usize)) {
            counts[r][c] += 1;
        }
    }
    ShownConfusion {
        classes: shown,
        others: true,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rayon pool that counts the work it is handed.
    #[cfg(not(target_arch = "wasm32"))]
    struct CountingPool {
        pool: rayon::ThreadPool,
        runs: std::sync::atomic::AtomicUsize,
    }

    #[cfg(not(target_arch = "wasm32"))]
    impl super::super::ComputePool for CountingPool {
        fn run(&self, work: &mut (dyn FnMut() + Send)) {
            self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.pool.install(work)
        }

        fn threads(&self) -> usize {
            self.pool.current_num_threads()
        }
    }

    /// The browser worker's threaded build trains a run inside its pool or on its own thread:
    /// every step and evaluation goes through the pool it is given, and the curve is the one
    /// trained without it (within float summation: reductions may split by threads).
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_run_given_a_pool_trains_inside_it_to_the_same_curve() {
        let mut config = RunConfig::preset("spiral-mlp").unwrap();
        config.training.epochs = 2;
        let crate::DatasetConfig::Toy(toy) = &config.dataset else {
            panic!("a toy preset")
        };
        let data = toy.generate();
        let counting = std::sync::Arc::new(CountingPool {
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap(),
            runs: 0.into(),
        });
        let train = |pool: Option<SharedPool>| {
            let mut run = TrainingRun::new(&config, data.clone(), &Device::flex()).unwrap();
            assert!(run.set_pool(pool), "the autodiff engine takes a pool");
            let mut steps = 0;
            while run.history().epochs.len() < 2 {
                crate::block_on(run.step()).unwrap();
                steps += 1;
            }
            (run.history().clone(), steps)
        };
        let (pooled, steps) = train(Some(counting.clone()));
        let runs = counting.runs.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            runs,
            steps + 2,
            "each step and each epoch's evaluation ran in the pool"
        );
        let (plain, _) = train(None);
        assert_eq!(pooled.batches.len(), plain.batches.len());
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * a.abs().max(1.0);
        for (a, b) in pooled.batches.iter().zip(&plain.batches) {
            assert!(close(a.loss, b.loss), "{a:?} vs {b:?}");
        }
        for (a, b) in pooled.epochs.iter().zip(&plain.epochs) {
            assert!(close(a.eval_loss, b.eval_loss), "{a:?} vs {b:?}");
            assert!(close(a.eval_accuracy, b.eval_accuracy), "{a:?} vs {b:?}");
        }
        let hand_written = RunConfig::preset("tinytoy-hw1").unwrap();
        let crate::DatasetConfig::Toy(toy) = &hand_written.dataset else {
            panic!("a toy preset")
        };
        let mut run = TrainingRun::new(&hand_written, toy.generate(), &Device::flex()).unwrap();
        assert!(
            !run.set_pool(Some(counting.clone())),
            "the hand-written engine trains on the calling thread"
        );
        crate::block_on(run.step()).unwrap();
        assert_eq!(
            counting.runs.load(std::sync::atomic::Ordering::SeqCst),
            runs
        );
    }

    #[test]
    fn the_network_views_output_maps_are_the_models_probabilities() {
        for preset in ["spiral-mlp", "tinytoy-hw1"] {
            let config = RunConfig::preset(preset).unwrap();
            let crate::DatasetConfig::Toy(toy) = &config.dataset else {
                panic!("a toy preset")
            };
            let device = Device::flex();
            let mut run = TrainingRun::new(&config, toy.generate(), &device).unwrap();
            for _ in 0..5 {
                crate::block_on(run.step()).unwrap();
            }
            let extent = [-1.0, 1.0, -1.0, 1.0];
            let grid = PlaneGrid {
                extent,
                resolution: 8,
                features: toy.features(),
            };
            let view = crate::block_on(run.network_view(Some(&grid)))
                .unwrap()
                .expect("an MLP has a network view");
            let crate::model::ModelConfig::Mlp(mlp) = &config.model else {
                panic!("an MLP preset")
            };
            let sizes = mlp.layer_sizes();
            assert_eq!(view.inputs, sizes[0], "{preset}");
            let units: Vec<usize> = view.layers.iter().map(|l| l.units).collect();
            assert_eq!(units, sizes[1..], "{preset}");
            let maps = view.maps.expect("2-D data has unit maps");
            let grid = Dataset {
                name: "grid".into(),
                shape: crate::data::ExampleShape::Features(2),
                examples: crate::data::Examples::Dense(crate::inside::network::grid_features(
                    extent, 8,
                )),
                labels: vec![0; 64],
                num_classes: 2,
                targets: None,
            };
            let p = crate::block_on(run.probabilities(&grid)).unwrap();
            // Each output unit's map is what it computes: softmax probabilities, or the
            // homework's two sigmoid units, which its probabilities normalise to sum to 1.
            let output = maps.layers.last().unwrap();
            let sigmoid = view.layers.last().unwrap().activation == "sigmoid";
            for (i, pair) in p.chunks(2).enumerate() {
                let (a, b) = (output[0].value(i), output[1].value(i));
                let shown = if sigmoid { b / (a + b) } else { b };
                assert!(
                    (shown - pair[1]).abs() < 0.02,
                    "{preset}: cell {i}: map {shown} vs probability {}",
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn a_thousand_classes_show_as_the_most_frequent_and_the_others() {
        let classes = 1000;
        // Class c appears c % 50 + 1 times; every prediction is the next class.
        let labels: Vec<u32> = (0..classes as u32)
            .flat_map(|c| std::iter::repeat_n(c, c as usize % 50 + 1))
            .collect();
        let predicted: Vec<u32> = labels.iter().map(|&c| (c + 1) % classes as u32).collect();
        let shown = shown_confusion(&labels, &predicted, classes);
        assert_eq!(shown.classes.len(), MAX_MATRIX_CLASSES - 1);
        assert!(shown.others);
        assert_eq!(shown.counts.len(), MAX_MATRIX_CLASSES);
        assert!(shown.counts.iter().all(|r| r.len() == MAX_MATRIX_CLASSES));
        // The most frequent classes (49 mod 50: 50 times each) come first, lowest ids.
        assert_eq!(&shown.classes[..3], &[49, 99, 149]);
        let total: usize = shown.counts.iter().flatten().sum();
        assert_eq!(total, labels.len(), "every example is counted once");
        // 49 -> 50 (not shown): row 0, the others' column.
        assert_eq!(shown.counts[0][MAX_MATRIX_CLASSES - 1], 50);
        let small = shown_confusion(&[0, 1, 1], &[0, 1, 0], 2);
        assert_eq!(small.classes, vec![0, 1]);
        assert!(!small.others);
        assert_eq!(small.counts, confusion_matrix(&[0, 1, 1], &[0, 1, 0], 2));
    }

    /// The hand-written network's weights load into the sigmoid MLP it is, which then predicts
    /// exactly what the network does.
    #[test]
    fn hand_written_weights_load_as_the_mlp() {
        let mut config = RunConfig::preset("tinytoy-hw1").expect("a preset");
        config.training.epochs = 1;
        let crate::DatasetConfig::Toy(toy) = &config.dataset else {
            panic!("tinytoy-hw1 is a toy set")
        };
        let data = toy.generate();
        let device = Device::flex();
        let mut run = TrainingRun::new(&config, data.clone(), &device).unwrap();
        for _ in 0..20 {
            crate::block_on(run.step()).unwrap();
        }
        let bytes = crate::block_on(run.weights()).unwrap();
        let saved = crate::model::SavedModel::load(&config.model, bytes, &device).unwrap();
        let from_run = crate::block_on(run.predictions(&data.eval)).unwrap();
        let p = crate::block_on(saved.probabilities(&data.eval)).unwrap();
        let from_saved: Vec<u32> = p.chunks(2).map(argmax).collect();
        assert_eq!(from_run, from_saved);
    }

    #[test]
    fn confusion_counts_pairs() {
        let m = confusion_matrix(&[0, 1, 1, 2, 9], &[0, 2, 1, 2, 0], 3);
        assert_eq!(m, vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert_eq!(argmax(&[0.1, 0.7, 0.7, 0.2]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
