//! The current run: starting it, stepping its trainer in slices between messages, pausing and
//! stopping it, and the progress and epoch reports it sends while it trains.

use kindling_core::data::toy::ToyFeature;
use kindling_core::train::{
    speed_key, EpochMetrics, Steer, ThreadTrial, TrainError, TrainerState, TrainingRun,
};
use kindling_core::{DeviceChoice, RunConfig};

use super::error::WorkerError;
use super::host::{now_ms, post, wasm_memory_bytes};
use super::views::{plane_points, toy_extent};
use super::Actor;
use crate::protocol::{DevicePick, FromWorker, ProgressReport};

/// Milliseconds of training between two yields to the worker's event loop: short enough that
/// pause, stop and predictions are answered at once, long enough that yielding costs little.
pub(super) const SLICE_MS: f64 = 40.0;
/// Least milliseconds between two progress messages: a few a second keep the page's curves
/// live without the page redrawing them after every slice.
const PROGRESS_MS: f64 = 150.0;

/// The run the worker holds: training, paused, or ended and kept for predictions.
pub(super) struct CurrentRun {
    pub(super) run_id: u64,
    pub(super) config: RunConfig,
    pub(super) run: TrainingRun,
    /// The device it trains on (the CPU when the GPU asked for was not to be had).
    device: DeviceChoice,
    /// Still training (not ended).
    pub(super) active: bool,
    pub(super) paused: bool,
    /// Training milliseconds before the current stretch (pauses excluded).
    pub(super) trained_ms: f64,
    /// When the current stretch of training started.
    pub(super) stretch_start: f64,
    /// When the last progress message went.
    last_progress: f64,
    /// When the last decision-boundary map was made.
    pub(super) last_boundary: f64,
    /// Points of the batch curve already sent to the page.
    points_sent: usize,
    /// Extent of the toy set's points, for the boundary map.
    pub(super) extent: Option<[f32; 4]>,
    /// The features the model reads of each point of that plane.
    pub(super) plane_features: Vec<ToyFeature>,
    /// Whether the model has a network view (an MLP).
    pub(super) network_view: bool,
    /// Side of the square images an MLP reads (its first-layer units' weights are shown as
    /// images of it).
    pub(super) image_side: Option<usize>,
    /// When the last first-layer weight images were made.
    pub(super) last_unit_images: f64,
    /// When the last network view was made.
    pub(super) last_network: f64,
    /// When the last health probe was asked for.
    pub(super) last_health: f64,
    /// When the last epoch's end was probed.
    pub(super) last_epoch_health: f64,
    /// Each test example's predicted class and its probability, once the run ended.
    pub(super) test_predictions: Option<Vec<(u32, f32)>>,
    /// Its first batches' turns on one thread and on the pool, until it keeps the faster.
    pub(super) thread_trial: Option<ThreadTrial>,
}

impl CurrentRun {
    /// Whether the run wants training slices (started, not paused, not ended).
    pub(super) fn is_training(&self) -> bool {
        self.active && !self.paused
    }

    /// Seconds spent training, pauses excluded.
    fn seconds(&self) -> f64 {
        let running = if self.is_training() {
            now_ms() - self.stretch_start
        } else {
            0.0
        };
        (self.trained_ms + running) / 1000.0
    }

    /// Where the run is, for the page.
    pub(super) fn report(&self) -> ProgressReport {
        let mut p = self.run.progress();
        if *self.run.state() == TrainerState::Finished {
            p.batch = p.batches_per_epoch;
        }
        let seconds = self.seconds();
        ProgressReport {
            progress: p,
            samples_per_second: if seconds > 0.0 {
                p.samples_seen as f64 / seconds
            } else {
                0.0
            },
            seconds,
        }
    }

    /// The points of the batch curve not sent yet, counted as sent.
    pub(super) fn take_new_points(&mut self) -> Vec<kindling_core::train::BatchPoint> {
        let points = self.run.history().batches[self.points_sent..].to_vec();
        self.points_sent += points.len();
        points
    }

    /// Steps the trainer until `slice_end` or the end of training: the metrics of the epochs
    /// that ended, and the error that stopped it early, if one did.
    async fn train_until(&mut self, slice_end: f64) -> (Vec<EpochMetrics>, Option<TrainError>) {
        let mut epochs = Vec::new();
        while now_ms() < slice_end && *self.run.state() == TrainerState::Running {
            match self.run.step().await {
                Ok(outcome) => epochs.extend(outcome.epoch_end),
                Err(e) => return (epochs, Some(e)),
            }
        }
        (epochs, None)
    }

    /// Trains one batch: the metrics of the epoch it ended, if it did, and its failure.
    async fn train_one(&mut self) -> (Vec<EpochMetrics>, Option<TrainError>) {
        if *self.run.state() != TrainerState::Running {
            return (Vec::new(), None);
        }
        match self.run.step().await {
            Ok(outcome) => (outcome.epoch_end.into_iter().collect(), None),
            Err(e) => (Vec::new(), Some(e)),
        }
    }
}

impl Actor {
    /// Answers `Start`: ends the run held (and drops a saved model), then starts the new one.
    pub(super) async fn start_run(
        &mut self,
        run_id: u64,
        config: RunConfig,
        pick: DevicePick,
        paused: bool,
    ) {
        if let Some(c) = self.current.as_mut() {
            if c.active {
                c.run.stop();
                c.active = false;
            }
        }
        self.current = None;
        self.saved = None;
        if let Err(e) = self.start(run_id, config, pick).await {
            post(&FromWorker::Failed {
                run_id,
                message: e.to_string(),
            });
            return;
        }
        if paused {
            self.set_paused(true);
        }
    }

    /// Answers `Pause` (`pause` true) and `Resume`: a change is confirmed with `Paused`.
    pub(super) fn set_paused(&mut self, pause: bool) {
        let Some(c) = self.current.as_mut().filter(|c| c.active) else {
            return;
        };
        if c.paused == pause {
            return;
        }
        if pause {
            c.trained_ms += now_ms() - c.stretch_start;
            // The page learns exactly where the run paused (the batch a change is recorded at).
            c.last_progress = now_ms();
            post(&FromWorker::Progress {
                run_id: c.run_id,
                points: c.take_new_points(),
                progress: c.report(),
            });
        } else {
            c.stretch_start = now_ms();
        }
        c.paused = pause;
        post(&FromWorker::Paused {
            run_id: c.run_id,
            paused: pause,
        });
    }

    /// Answers `Steer`: a paused run records the change (from its next batch on), or says
    /// why not. A run that is not paused (it ended, or a Resume crossed the change) refuses.
    pub(super) fn steer(&mut self, change: Steer) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let result = if c.active && c.paused {
            c.run.steer(change).map_err(|e| format!("Not changed: {e}"))
        } else {
            Err("Not changed: settings change while the run is paused".to_string())
        };
        if result.is_ok() {
            // A restart on the CPU (a failing GPU) replays the change too.
            c.config.training.steering = c.run.config().training.steering.clone();
        }
        post(&FromWorker::Steered {
            run_id: c.run_id,
            result,
        });
    }

    /// Answers `Stop`: stops the trainer (a paused run too) and ends the run.
    pub(super) async fn stop(&mut self) {
        if let Some(c) = self.current.as_mut().filter(|c| c.active) {
            if c.paused {
                c.paused = false;
                c.stretch_start = now_ms();
            }
            c.run.stop();
        }
        self.finish_if_ended().await;
    }

    /// Loads the data, picks and opens the device and builds the run; `Started` tells the
    /// page.
    async fn start(
        &mut self,
        run_id: u64,
        mut config: RunConfig,
        pick: DevicePick,
    ) -> Result<(), WorkerError> {
        config.validate()?;
        let data = self.load_data(Some(run_id), &config.dataset).await?;
        let speeds = match pick {
            DevicePick::AsConfigured => None,
            DevicePick::Fastest { known } => {
                let key = speed_key(&config, self.threads.available);
                let speeds = match known.filter(|k| k.key == key) {
                    Some(known) => known,
                    None => self.measure_devices(run_id, &config, &data).await,
                };
                config.device = speeds.fastest();
                Some(speeds)
            }
        };
        let (device, used, note) = self.device(config.device).await;
        let (pool, threads, thread_trial) = if used == DeviceChoice::Cpu {
            self.cpu_pool(&config, speeds.as_ref())
        } else {
            (None, 1, None)
        };
        let note = self.pending_note.take().or(note);
        let mut preview = self.preview(&config.dataset, &data);
        preview.memory_bytes = wasm_memory_bytes();
        let extent = toy_extent(&plane_points(&config.dataset, &data));
        let plane_features = config.dataset.plane_features();
        let network_view = matches!(config.model, kindling_core::model::ModelConfig::Mlp(_));
        let image_side = match config.dataset.image_size() {
            Some([h, w]) if h == w && network_view => Some(h),
            _ => None,
        };
        let mut run = TrainingRun::new(&config, data, &device)?;
        run.set_pool(pool);
        post(&FromWorker::Started {
            run_id,
            device: used,
            device_note: note,
            speeds: speeds.filter(|s| !s.speeds.is_empty()),
            cpu_threads: threads,
            trying_threads: thread_trial.is_some(),
            preview: Box::new(preview),
        });
        let now = now_ms();
        self.current = Some(CurrentRun {
            run_id,
            config,
            run,
            device: used,
            active: true,
            paused: false,
            trained_ms: 0.0,
            stretch_start: now,
            last_progress: now,
            last_boundary: 0.0,
            points_sent: 0,
            extent,
            plane_features,
            network_view,
            image_side,
            last_unit_images: 0.0,
            last_network: 0.0,
            last_health: now,
            last_epoch_health: f64::NEG_INFINITY,
            test_predictions: None,
            thread_trial,
        });
        // The first step is probed: a learning rate far too high shows before the loss is NaN.
        self.probe_next_step();
        if self.views_open {
            self.post_boundary(true).await;
        }
        Ok(())
    }

    /// Trains batches for about [`SLICE_MS`], then reports.
    pub(super) async fn train_slice(&mut self) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let (seen, started) = (c.run.progress().samples_seen, now_ms());
        let trained = c.train_until(started + SLICE_MS).await;
        let samples = c.run.progress().samples_seen.saturating_sub(seen);
        self.count_trial_turn(samples, now_ms() - started);
        self.report_trained(trained, false).await;
    }

    /// Answers `Step`: a paused run trains exactly one batch, and every view is sent anew.
    pub(super) async fn step_once(&mut self) {
        let Some(c) = self.current.as_mut().filter(|c| c.active && c.paused) else {
            return;
        };
        if self.views_open {
            c.run.request_health();
        }
        let started = now_ms();
        let trained = c.train_one().await;
        c.trained_ms += now_ms() - started;
        self.report_trained(trained, true).await;
    }

    /// Reports what a slice (or a step) trained: progress, ended epochs, the views when due
    /// (`at_once`: now), the run's end, or the failure that stopped it.
    async fn report_trained(
        &mut self,
        (epochs, failure): (Vec<EpochMetrics>, Option<TrainError>),
        at_once: bool,
    ) {
        if let Some(e) = failure {
            self.fail_run(e).await;
            return;
        }
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let now = now_ms();
        let ended = *c.run.state() != TrainerState::Running;
        if at_once || !epochs.is_empty() || ended || now - c.last_progress >= PROGRESS_MS {
            c.last_progress = now;
            post(&FromWorker::Progress {
                run_id: c.run_id,
                points: c.take_new_points(),
                progress: c.report(),
            });
        }
        for metrics in epochs {
            post(&FromWorker::Epoch {
                run_id: c.run_id,
                metrics,
            });
        }
        self.post_health(now);
        self.post_boundary_if_due(now, ended || at_once).await;
        self.finish_if_ended().await;
    }

    /// A step failed: a run on the GPU restarts on the CPU (saying so), another one fails.
    async fn fail_run(&mut self, e: TrainError) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        c.active = false;
        let run_id = c.run_id;
        if c.device != DeviceChoice::Wgpu {
            post(&FromWorker::Failed {
                run_id,
                message: format!("training failed: {e}"),
            });
            return;
        }
        // A lost or failing GPU: retrain on the CPU, saying so.
        self.gpu = None;
        self.gpu_failure = Some(e.to_string());
        self.pending_note = Some(format!(
            "The GPU failed during training ({e}): the run restarted on the CPU."
        ));
        let mut config = c.config.clone();
        config.device = DeviceChoice::Cpu;
        // A run being stepped stays paused on the CPU.
        let paused = c.paused;
        self.current = None;
        if let Err(e) = self.start(run_id, config, DevicePick::AsConfigured).await {
            post(&FromWorker::Failed {
                run_id,
                message: e.to_string(),
            });
            return;
        }
        if paused {
            self.set_paused(true);
        }
    }
}
