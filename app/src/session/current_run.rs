//! What the run in progress shows: where it is, its curves, epochs, boundary, preview and
//! test report.

use kindling_core::inside::health::HealthReport;
use kindling_core::inside::{NetworkView, UnitImages};
use kindling_core::train::DeviceSpeeds;
use kindling_core::train::{BatchPoint, EpochMetrics};
use kindling_core::{DeviceChoice, RunConfig};
use leptos::prelude::*;

use kindling_core::record::RunStatus;

use crate::protocol::{BoundaryMap, DataPreview, ProgressReport, TestReport};

/// Least milliseconds between two redraws of the curves while training.
const REDRAW_MS: f64 = 250.0;

thread_local! {
    static LAST_REDRAW: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Where the current run is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Nothing running.
    Idle,
    /// Downloading or reading the data.
    Loading {
        /// File being read.
        file: String,
        /// Bytes so far.
        loaded: u64,
        /// Bytes in all.
        total: u64,
        /// From the browser's cache.
        cached: bool,
    },
    /// Measuring which device trains the model faster.
    Measuring,
    /// Training.
    Training,
    /// Paused.
    Paused,
    /// Ended (finished, stopped or diverged).
    Ended,
}

impl Phase {
    /// Whether a run is loading, training or paused.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Phase::Loading { .. } | Phase::Measuring | Phase::Training | Phase::Paused
        )
    }
}

/// The test images of one cell of the confusion matrix, as the worker sent them.
#[derive(Clone, Debug, PartialEq)]
pub struct CellExamples {
    /// True class.
    pub truth: u32,
    /// Predicted class.
    pub predicted: u32,
    /// Test examples in the cell.
    pub total: usize,
    /// The first of them, with the probability given to the prediction.
    pub images: Vec<(crate::protocol::ImageExample, f32)>,
}

/// The run in progress (Copy: a bundle of signals).
#[derive(Clone, Copy)]
pub struct CurrentRun {
    /// The current run's id in the worker protocol (0: none yet).
    pub id: RwSignal<u64>,
    /// The config of the current run, as started.
    pub config: RwSignal<Option<RunConfig>>,
    /// Where it is.
    pub phase: RwSignal<Phase>,
    /// The device the current run trains on, and the CPU device's threads for it.
    pub device_used: RwSignal<Option<(DeviceChoice, u32)>>,
    /// The figures its device was picked by, when it asked for the faster one (for the header).
    pub device_speeds: RwSignal<Option<DeviceSpeeds>>,
    /// Its first batches take turns on one thread and on every thread of the worker's pool
    /// (until `ThreadsPicked`).
    pub trying_threads: RwSignal<bool>,
    /// Progress of the current run.
    pub progress: RwSignal<ProgressReport>,
    /// Its batch curve.
    pub points: RwSignal<Vec<BatchPoint>>,
    /// Its epochs.
    pub epochs: RwSignal<Vec<EpochMetrics>>,
    /// Its decision boundary (2-D sets).
    pub boundary: RwSignal<Option<BoundaryMap>>,
    /// Its network view (MLPs): weights, and on 2-D data every unit's map.
    pub network: RwSignal<Option<NetworkView>>,
    /// The incoming weights of each first-layer unit, as images (an MLP on images).
    pub unit_images: RwSignal<Option<UnitImages>>,
    /// The unit of the network view the user points at, `(layer, unit)` with layer 1 the first
    /// hidden layer: the boundary panel shows its map.
    pub focus: RwSignal<Option<(usize, usize)>>,
    /// What its data looks like.
    pub preview: RwSignal<Option<DataPreview>>,
    /// How it ended.
    pub end: RwSignal<Option<RunStatus>>,
    /// Its test report.
    pub report: RwSignal<Option<TestReport>>,
    /// The id of its kept record.
    pub record_id: RwSignal<Option<u64>>,
    /// Bumped (at most a few times a second) when the curves and tables should redraw.
    pub chart_tick: RwSignal<u64>,
    /// The test images of the confusion-matrix cell clicked last.
    pub cell: RwSignal<Option<CellExamples>>,
    /// The last health report of every layer (while the views are open).
    pub health: RwSignal<Option<HealthReport>>,
    /// The health reports of each epoch's last step, in order.
    pub health_epochs: RwSignal<Vec<HealthReport>>,
    /// The first health warning of the run: the batch, and the layers' notes then.
    pub first_warning: RwSignal<Option<(usize, String)>>,
    /// Whether the live views (network view, boundary map, first-layer weights) are open:
    /// the user's choice, kept across runs.
    pub views_open: RwSignal<bool>,
}

impl CurrentRun {
    pub(super) fn new() -> Self {
        Self {
            id: RwSignal::new(0),
            views_open: RwSignal::new(true),
            cell: RwSignal::new(None),
            health: RwSignal::new(None),
            health_epochs: RwSignal::new(Vec::new()),
            first_warning: RwSignal::new(None),
            config: RwSignal::new(None),
            phase: RwSignal::new(Phase::Idle),
            device_used: RwSignal::new(None),
            device_speeds: RwSignal::new(None),
            trying_threads: RwSignal::new(false),
            progress: RwSignal::new(ProgressReport::default()),
            points: RwSignal::new(Vec::new()),
            epochs: RwSignal::new(Vec::new()),
            boundary: RwSignal::new(None),
            network: RwSignal::new(None),
            unit_images: RwSignal::new(None),
            focus: RwSignal::new(None),
            preview: RwSignal::new(None),
            end: RwSignal::new(None),
            report: RwSignal::new(None),
            record_id: RwSignal::new(None),
            chart_tick: RwSignal::new(0),
        }
    }

    /// Asks the curves to redraw: at once when `now`, else at most every [`REDRAW_MS`].
    pub fn redraw(&self, now: bool) {
        let t = js_sys::Date::now();
        if now || t - LAST_REDRAW.with(|c| c.get()) >= REDRAW_MS {
            LAST_REDRAW.with(|c| c.set(t));
            self.chart_tick.update(|n| *n += 1);
        }
    }

    /// Whether the run's data has values to predict (its accuracy figure is R²).
    pub fn regression(&self) -> bool {
        self.config
            .with(|c| c.as_ref().is_some_and(|c| c.dataset.is_regression()))
    }

    /// [`CurrentRun::regression`], untracked (for handlers and tasks).
    pub fn regression_untracked(&self) -> bool {
        self.config
            .with_untracked(|c| c.as_ref().is_some_and(|c| c.dataset.is_regression()))
    }

    /// Whether a run is loading, training or paused.
    pub fn busy(&self) -> bool {
        self.phase.with(Phase::is_busy)
    }

    /// [`CurrentRun::busy`], untracked (for handlers and actions).
    pub fn busy_untracked(&self) -> bool {
        self.phase.with_untracked(Phase::is_busy)
    }

    /// Clears what the last run showed, for a new run `id` of `config` (loading its data).
    pub(super) fn restart(&self, id: u64, config: RunConfig) {
        self.id.set(id);
        self.config.set(Some(config));
        self.phase.set(Phase::Loading {
            file: String::new(),
            loaded: 0,
            total: 0,
            cached: false,
        });
        self.end.set(None);
        self.report.set(None);
        self.points.set(Vec::new());
        self.epochs.set(Vec::new());
        self.boundary.set(None);
        self.network.set(None);
        self.unit_images.set(None);
        self.health.set(None);
        self.health_epochs.set(Vec::new());
        self.first_warning.set(None);
        self.cell.set(None);
        self.focus.set(None);
        self.preview.set(None);
        self.progress.set(ProgressReport::default());
        self.record_id.set(None);
        self.trying_threads.set(false);
        self.redraw(true);
    }
}
