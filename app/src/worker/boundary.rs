//! The decision-boundary map of a 2-D toy set: the model's class-1 probability over a grid
//! that covers the set's points, sent to the page now and then while the run trains.

use kindling_core::data::{Dataset, ExampleShape, Examples, TrainingData};
use kindling_core::DatasetConfig;

use super::host::{now_ms, post};
use super::Actor;
use crate::protocol::{BoundaryMap, FromWorker};

/// Least milliseconds between two decision-boundary maps: each one is a forward pass over the
/// whole grid, so a map a few times a second would slow training; this keeps it live enough.
const BOUNDARY_MS: f64 = 600.0;
/// Cells per side of the decision-boundary map: smooth at the page's size, and a grid small
/// enough (2,304 cells) to predict in a few milliseconds.
const BOUNDARY_RESOLUTION: usize = 48;
/// Margin around the points, as a fraction of their extent, so that none sits on the edge.
const EXTENT_MARGIN: f32 = 0.08;

/// The data extent of a 2-D toy set, with a margin.
pub(super) fn toy_extent(config: &DatasetConfig, data: &TrainingData) -> Option<[f32; 4]> {
    if !config.has_boundary_map() {
        return None;
    }
    let mut extent = [f32::MAX, f32::MIN, f32::MAX, f32::MIN];
    for set in [&data.train, &data.eval] {
        let Examples::Dense(v) = &set.examples else {
            return None;
        };
        for xy in v.chunks(2) {
            extent[0] = extent[0].min(xy[0]);
            extent[1] = extent[1].max(xy[0]);
            extent[2] = extent[2].min(xy[1]);
            extent[3] = extent[3].max(xy[1]);
        }
    }
    let mx = (extent[1] - extent[0]).max(1e-3) * EXTENT_MARGIN;
    let my = (extent[3] - extent[2]).max(1e-3) * EXTENT_MARGIN;
    Some([
        extent[0] - mx,
        extent[1] + mx,
        extent[2] - my,
        extent[3] + my,
    ])
}

/// The centres of a `n` x `n` grid over `extent`, row by row from the top, as (x, y) features.
fn grid_features(extent: [f32; 4], n: usize) -> Vec<f32> {
    let [x0, x1, y0, y1] = extent;
    let mut features = Vec::with_capacity(n * n * 2);
    for row in 0..n {
        let y = y1 - (row as f32 + 0.5) / n as f32 * (y1 - y0);
        for col in 0..n {
            let x = x0 + (col as f32 + 0.5) / n as f32 * (x1 - x0);
            features.push(x);
            features.push(y);
        }
    }
    features
}

impl Actor {
    /// Sends a new map when the run has one and the last is [`BOUNDARY_MS`] old, or the run
    /// `ended` (`now` is the slice's clock).
    pub(super) async fn post_boundary_if_due(&mut self, now: f64, ended: bool) {
        let due = self
            .current
            .as_ref()
            .is_some_and(|c| c.extent.is_some() && (now - c.last_boundary >= BOUNDARY_MS || ended));
        if due {
            self.post_boundary().await;
        }
    }

    /// Sends the current run's decision-boundary map (when its data is a 2-D toy set).
    pub(super) async fn post_boundary(&mut self) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let Some(extent) = c.extent else {
            return;
        };
        c.last_boundary = now_ms();
        let n = BOUNDARY_RESOLUTION;
        let grid = Dataset {
            name: "boundary grid".into(),
            shape: ExampleShape::Features(2),
            examples: Examples::Dense(grid_features(extent, n)),
            labels: vec![0; n * n],
            num_classes: 2,
        };
        match c.run.probabilities(&grid).await {
            Ok(p) => post(&FromWorker::Boundary {
                run_id: c.run_id,
                map: BoundaryMap {
                    resolution: n,
                    extent,
                    class1: p.chunks(2).map(|pair| pair[1]).collect(),
                },
            }),
            Err(e) => web_sys::console::warn_1(&format!("no boundary map: {e}").into()),
        }
    }
}
