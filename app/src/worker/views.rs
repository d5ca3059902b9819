//! The live views of a run, sent to the page now and then while it trains: the decision-
//! boundary map of a 2-D toy set (the model's class-1 probability over a grid that covers the
//! set's points) and the network view of an MLP (its weights, and on 2-D data every unit's
//! map over the same plane).

use kindling_core::data::{Dataset, ExampleShape, Examples, TrainingData};
use kindling_core::inside::network::PlaneGrid;
use kindling_core::DatasetConfig;

use super::host::{now_ms, post};
use super::Actor;
use crate::protocol::{BoundaryMap, FromWorker, ToyPoint};

/// Least milliseconds between two updates of the views: each one is a forward pass over the
/// whole grid (and a read-back of the weights), so updates a few times a second would slow
/// training; this keeps them live enough.
const BOUNDARY_MS: f64 = 600.0;
/// Cells per side of each unit's map in the network view: small images, 256 levels each (the
/// page scales them up smoothly); 24 cells made a 76 KB message whose decoding alone took the
/// page 12-17 ms.
const UNIT_MAP_RESOLUTION: usize = 16;
/// Least milliseconds between two network views: less often than the boundary map, as each
/// one redraws dozens of units on the page.
const NETWORK_MS: f64 = 1200.0;
/// Least milliseconds between two sets of first-layer weight images: an MNIST MLP's are
/// 200,704 levels (bytes beside the message), so they come less often than the other views.
const UNIT_IMAGES_MS: f64 = 2000.0;
/// Cells per side of the decision-boundary map: smooth at the page's size, and a grid small
/// enough (2,304 cells) to predict in a few milliseconds.
const BOUNDARY_RESOLUTION: usize = 48;
/// Margin around the points, as a fraction of their extent, so that none sits on the edge.
const EXTENT_MARGIN: f32 = 0.08;

/// The points of a data set on the plane its boundary map covers, train then test: a toy
/// set's (x1, x2) before the features its model reads, 2-feature uploads as they are; none
/// for data without a map.
pub(super) fn plane_points(config: &DatasetConfig, data: &TrainingData) -> Vec<ToyPoint> {
    if !config.has_boundary_map() {
        return Vec::new();
    }
    if let DatasetConfig::Toy(toy) = config {
        return crate::toy_edits::toy_points(toy);
    }
    let mut points = Vec::new();
    for (set, test) in [(&data.train, false), (&data.eval, true)] {
        if let (Examples::Dense(v), ExampleShape::Features(2)) = (&set.examples, set.shape) {
            points.extend(v.chunks(2).zip(&set.labels).map(|(xy, &label)| ToyPoint {
                x: xy[0],
                y: xy[1],
                label,
                test,
                value: None,
            }));
        }
    }
    points
}

/// The extent of points on the plane, with a margin (`None` without points).
pub(super) fn toy_extent(points: &[ToyPoint]) -> Option<[f32; 4]> {
    if points.is_empty() {
        return None;
    }
    let mut extent = [f32::MAX, f32::MIN, f32::MAX, f32::MIN];
    for p in points {
        extent[0] = extent[0].min(p.x);
        extent[1] = extent[1].max(p.x);
        extent[2] = extent[2].min(p.y);
        extent[3] = extent[3].max(p.y);
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

impl Actor {
    /// Sends a new map when the run has one and the last is [`BOUNDARY_MS`] old, or the run
    /// `ended` (`now` is the slice's clock).
    pub(super) async fn post_boundary_if_due(&mut self, now: f64, ended: bool) {
        if !self.views_open {
            return;
        }
        let due = self.current.as_ref().is_some_and(|c| {
            (c.extent.is_some() || c.network_view)
                && (now - c.last_boundary >= BOUNDARY_MS || ended)
        });
        if due {
            self.post_boundary(ended).await;
        }
        let images_due = self.current.as_ref().is_some_and(|c| {
            c.image_side.is_some() && (now - c.last_unit_images >= UNIT_IMAGES_MS || ended)
        });
        if images_due {
            self.post_unit_images().await;
        }
    }

    /// Answers `Views`: closed, no view is computed from now on; opened, the current run's
    /// views are sent at once.
    pub(super) async fn set_views_open(&mut self, open: bool) {
        let reopened = open && !self.views_open;
        self.views_open = open;
        self.probe_next_step();
        if reopened && self.current.is_some() {
            self.post_boundary(true).await;
            self.post_unit_images().await;
        }
    }

    /// Sends the incoming weights of each first-layer unit as an image (an MLP on images).
    pub(super) async fn post_unit_images(&mut self) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let Some(side) = c.image_side else {
            return;
        };
        c.last_unit_images = now_ms();
        match c.run.first_layer_images(side).await {
            Ok(Some(images)) => post(&FromWorker::UnitWeights {
                run_id: c.run_id,
                images: Box::new(images),
            }),
            Ok(None) => c.image_side = None,
            Err(e) => web_sys::console::warn_1(&format!("no weight images: {e}").into()),
        }
    }

    /// Sends the current run's views: its decision-boundary map (when its data is a 2-D toy
    /// set) and its network view (when its model is an MLP, at most every [`NETWORK_MS`]
    /// unless `now_all`: a run's start, end or step).
    pub(super) async fn post_boundary(&mut self, now_all: bool) {
        let Some(c) = self.current.as_mut() else {
            return;
        };
        let now = now_ms();
        c.last_boundary = now;
        if c.network_view && (now_all || now - c.last_network >= NETWORK_MS) {
            c.last_network = now;
            let grid = c.extent.map(|extent| PlaneGrid {
                extent,
                resolution: UNIT_MAP_RESOLUTION,
                features: c.plane_features.clone(),
            });
            match c.run.network_view(grid.as_ref()).await {
                Ok(Some(view)) => post(&FromWorker::Network {
                    run_id: c.run_id,
                    view: Box::new(view),
                }),
                Ok(None) => c.network_view = false,
                Err(e) => web_sys::console::warn_1(&format!("no network view: {e}").into()),
            }
        }
        let Some(extent) = c.extent else {
            return;
        };
        let n = BOUNDARY_RESOLUTION;
        let plane = PlaneGrid {
            extent,
            resolution: n,
            features: c.plane_features.clone(),
        };
        let classes = c.config.dataset.classes().max(2);
        let grid = Dataset {
            name: "boundary grid".into(),
            shape: ExampleShape::Features(plane.features.len()),
            examples: Examples::Dense(plane.inputs()),
            labels: vec![0; n * n],
            num_classes: classes,
            targets: None,
        };
        // A regression model's one output is its value (the pairs are [1 - v, v]).
        let value_scale = c.run.data().train.targets.as_ref().map(|t| {
            t.iter()
                .filter(|v| v.is_finite())
                .fold(0.0f32, |m, v| m.max(v.abs()))
        });
        match c.run.probabilities(&grid).await {
            Ok(p) => post(&FromWorker::Boundary {
                run_id: c.run_id,
                map: match value_scale {
                    Some(scale) => BoundaryMap::of_values(
                        n,
                        extent,
                        p.chunks(2).map(|pair| pair[1]).collect(),
                        scale,
                    ),
                    None => BoundaryMap::of_probabilities(n, extent, &p, classes),
                },
            }),
            Err(e) => web_sys::console::warn_1(&format!("no boundary map: {e}").into()),
        }
    }
}
