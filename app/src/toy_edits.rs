//! What the toy sets' controls do to a [`RunConfig`], free of the DOM so it is tested
//! natively: the number of classes, the features a model reads of each point (the model's
//! inputs follow), points added with a click and removed with a shift-click, and the points
//! the boundary panel draws.

use kindling_core::data::toy::{
    AddedPoint, PlanePoints, ToyFeature, MAX_ADDED_POINTS, MAX_POINT_VALUE, MAX_REMOVED_POINTS,
    MAX_TOY_CLASSES,
};
use kindling_core::data::ToyConfig;
use kindling_core::{DatasetConfig, RunConfig};

use crate::builder::fit_model;

/// Generated points of each split the boundary panel draws (every added point besides): all
/// of a default toy set (1,000 points), and a bound on what a large one (up to 100,000) costs
/// the page to decode and draw (2,500 a split gave 52-120 ms main-thread tasks on a
/// 20,000-point set).
pub const SHOWN_POINTS_PER_SPLIT: usize = 1000;
use crate::protocol::ToyPoint;

fn toy_mut(config: &mut RunConfig) -> Option<&mut ToyConfig> {
    match &mut config.dataset {
        DatasetConfig::Toy(t) => Some(t),
        _ => None,
    }
}

/// Sets the classes of blobs or the spiral (2..=5), fitting the model's outputs; points
/// added of a class that no longer exists are dropped.
pub fn set_toy_classes(config: &mut RunConfig, classes: usize) {
    let Some(toy) = toy_mut(config) else { return };
    if !toy.kind.has_class_choice() {
        return;
    }
    let classes = classes.clamp(2, MAX_TOY_CLASSES);
    toy.classes = (classes != 2).then_some(classes);
    if let Some(added) = &mut toy.added {
        added.retain(|p| (p.label as usize) < classes);
    }
    fit_model(config);
}

/// Turns `feature` on or off, keeping the features in their listed order and at least one;
/// the model's inputs follow. False when the change is refused (the last feature).
pub fn set_feature(config: &mut RunConfig, feature: ToyFeature, on: bool) -> bool {
    let Some(toy) = toy_mut(config) else {
        return false;
    };
    let current = toy.features();
    let features: Vec<ToyFeature> = ToyFeature::ALL
        .into_iter()
        .filter(|f| {
            if *f == feature {
                on
            } else {
                current.contains(f)
            }
        })
        .collect();
    if features.is_empty() {
        return false;
    }
    toy.features = (features != [ToyFeature::X1, ToyFeature::X2]).then_some(features);
    fit_model(config);
    true
}

/// Adds a training point of class `label` at (x, y) (on a regression set, of `value` instead);
/// false when the class does not exist, the value is missing or out of range, the point lies
/// outside the allowed plane or the set has all the points it may get.
pub fn add_point(config: &mut RunConfig, x: f32, y: f32, label: u32, value: Option<f32>) -> bool {
    let Some(toy) = toy_mut(config) else {
        return false;
    };
    let limit = kindling_core::data::toy::MAX_POINT_COORDINATE;
    let classes = toy.classes();
    let regression = toy.kind.is_regression();
    let value_fits = match value {
        Some(v) => regression && v.is_finite() && v.abs() <= MAX_POINT_VALUE,
        None => !regression,
    };
    let added = toy.added.get_or_insert_with(Vec::new);
    if label as usize >= classes
        || !value_fits
        || !(x.is_finite() && y.is_finite() && x.abs() <= limit && y.abs() <= limit)
        || added.len() >= MAX_ADDED_POINTS
    {
        return false;
    }
    // Rounded to a thousandth of the sets' unit square: a link carries hundreds of them.
    let round = |v: f32| (v * 1000.0).round() / 1000.0;
    added.push(AddedPoint {
        x: round(x),
        y: round(y),
        label,
        value,
    });
    true
}

/// Removes the drawn point (of [`shown_points`] with `per_split`) nearest (x, y) within
/// `radius` (in plane units): an added point is taken out of the list, a generated one is
/// recorded as removed. False when none is that near, the set has all the removals it may
/// record, or removing it would leave a split empty.
pub fn remove_point_near(
    config: &mut RunConfig,
    (x, y): (f32, f32),
    radius: f32,
    per_split: usize,
) -> bool {
    let Some(toy) = toy_mut(config) else {
        return false;
    };
    if toy
        .removed
        .as_ref()
        .is_some_and(|r| r.len() >= MAX_REMOVED_POINTS)
    {
        return false;
    }
    let points = toy.plane_points();
    let nearest = shown_indices(&points, per_split)
        .into_iter()
        .map(|i| (i, points.xy[i]))
        .map(|(i, p)| (i, (p[0] - x).powi(2) + (p[1] - y).powi(2)))
        .filter(|(_, d)| *d <= radius * radius)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let Some((i, _)) = nearest else {
        return false;
    };
    let mut edited = toy.clone();
    match points.generated[i] {
        Some(index) => edited.removed.get_or_insert_with(Vec::new).push(index),
        None => {
            // Added points follow the generated training points, in the order added.
            let first_added = points.generated.iter().take_while(|g| g.is_some()).count();
            if let Some(added) = &mut edited.added {
                added.remove(i - first_added);
            }
        }
    }
    if edited.train_size() == 0 || edited.test_size() == 0 {
        return false;
    }
    *toy = edited;
    true
}

/// Which points of a toy set the boundary panel draws: up to `per_split` generated points of
/// each split, and every added point (each can be seen, and removed).
fn shown_indices(points: &PlanePoints, per_split: usize) -> Vec<usize> {
    let mut train = 0;
    let mut test = 0;
    (0..points.xy.len())
        .filter(|&i| match (points.generated[i], points.test[i]) {
            (None, _) => true,
            (Some(_), false) => {
                train += 1;
                train <= per_split
            }
            (Some(_), true) => {
                test += 1;
                test <= per_split
            }
        })
        .collect()
}

/// The points `indices` of `p`, as the page draws them.
fn as_toy_points(p: &PlanePoints, indices: impl Iterator<Item = usize>) -> Vec<ToyPoint> {
    indices
        .map(|i| ToyPoint {
            x: p.xy[i][0],
            y: p.xy[i][1],
            label: p.labels[i],
            test: p.test[i],
            value: p.values.get(i).copied(),
        })
        .collect()
}

/// Every point of a toy set on the plane, edits applied: the training split, then the test
/// split.
pub fn toy_points(toy: &ToyConfig) -> Vec<ToyPoint> {
    let p = toy.plane_points();
    as_toy_points(&p, 0..p.xy.len())
}

/// The points the boundary panel draws of a toy set (see [`shown_indices`]), on the plane:
/// the training split, then the test split.
pub fn shown_points(toy: &ToyConfig, per_split: usize) -> Vec<ToyPoint> {
    let p = toy.plane_points();
    as_toy_points(&p, shown_indices(&p, per_split).into_iter())
}

/// Whether two toy configs make the same set before edits (so that a run's boundary map
/// still belongs under the other's points).
pub fn same_set(a: &ToyConfig, b: &ToyConfig) -> bool {
    let bare = |t: &ToyConfig| {
        let mut t = t.clone();
        t.added = None;
        t.removed = None;
        t
    };
    bare(a) == bare(b)
}

/// What the edits did: "1,000 points (3 added, 1 removed)".
pub fn point_count_text(toy: &ToyConfig) -> String {
    let total = toy.train_size() + toy.test_size();
    let added = toy.added.as_ref().map_or(0, Vec::len);
    let removed = toy.removed.as_ref().map_or(0, Vec::len);
    let count = kindling_core::model::summary::thousands(total as u64);
    if added + removed == 0 {
        format!("{count} points")
    } else {
        format!("{count} points ({added} added, {removed} removed)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_core::data::ToyKind;
    use kindling_core::model::ModelConfig;

    fn toy(config: &RunConfig) -> &ToyConfig {
        match &config.dataset {
            DatasetConfig::Toy(t) => t,
            _ => panic!("a toy set"),
        }
    }

    fn inputs_outputs(config: &RunConfig) -> (usize, usize) {
        match &config.model {
            ModelConfig::Mlp(m) => (m.inputs, m.outputs),
            _ => panic!("an MLP"),
        }
    }

    #[test]
    fn classes_and_features_reshape_the_model_and_stay_trainable() {
        let mut config = RunConfig::preset("spiral-mlp").unwrap();
        set_toy_classes(&mut config, 3);
        assert_eq!(toy(&config).classes(), 3);
        assert_eq!(inputs_outputs(&config), (2, 3));
        assert!(set_feature(&mut config, ToyFeature::X1TimesX2, true));
        assert!(set_feature(&mut config, ToyFeature::SinX1, true));
        assert_eq!(
            toy(&config).features(),
            [
                ToyFeature::X1,
                ToyFeature::X2,
                ToyFeature::X1TimesX2,
                ToyFeature::SinX1
            ]
        );
        assert_eq!(inputs_outputs(&config), (4, 3));
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        for f in [
            ToyFeature::X1,
            ToyFeature::X2,
            ToyFeature::SinX1,
            ToyFeature::X1TimesX2,
        ] {
            set_feature(&mut config, f, false);
        }
        assert_eq!(
            toy(&config).features(),
            [ToyFeature::X1TimesX2],
            "the last stays"
        );
        assert!(!set_feature(&mut config, ToyFeature::X1TimesX2, false));
        assert_eq!(inputs_outputs(&config), (1, 3));
        // Sets of two classes keep them.
        let mut xor = RunConfig::preset("spiral-mlp").unwrap();
        crate::builder::switch_dataset(&mut xor, kindling_core::data::DatasetId::Xor);
        set_toy_classes(&mut xor, 4);
        assert_eq!(toy(&xor).classes(), 2);
    }

    #[test]
    fn a_click_adds_a_training_point_and_a_shift_click_removes_the_nearest() {
        let mut config = RunConfig::preset("spiral-mlp").unwrap();
        let before = (toy(&config).train_size(), toy(&config).test_size());
        assert!(add_point(&mut config, 0.25, -0.5, 1, None));
        assert!(
            !add_point(&mut config, 0.0, 0.0, 2, None),
            "no class 2 in a 2-class set"
        );
        assert!(!add_point(&mut config, f32::NAN, 0.0, 0, None));
        assert_eq!(toy(&config).train_size(), before.0 + 1);
        let data = toy(&config).generate();
        assert_eq!(data.train.len(), before.0 + 1);
        assert_eq!(data.train.labels.last(), Some(&1));
        // The added point is the nearest to where it was put: removing it undoes the add.
        assert!(remove_point_near(&mut config, (0.26, -0.5), 0.05, 100));
        assert_eq!(toy(&config).added.as_deref(), Some(&[][..]));
        // A generated point is recorded as removed, and the others do not move.
        let points = toy(&config).plane_points();
        let [x, y] = points.xy[0];
        assert!(remove_point_near(&mut config, (x, y), 1e-4, 100));
        assert_eq!(toy(&config).removed.as_deref(), Some(&[0][..]));
        let after = toy(&config).plane_points();
        assert_eq!(after.xy[..], points.xy[1..]);
        assert!(
            !remove_point_near(&mut config, (50.0, 50.0), 0.1, 100),
            "nothing near"
        );
        // Only drawn points are removed: the 101st training point is not drawn.
        let hidden = toy(&config).plane_points().xy[100];
        assert!(!remove_point_near(
            &mut config,
            (hidden[0], hidden[1]),
            1e-6,
            100
        ));
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        // The edited set survives a link.
        let record = kindling_core::record::RunRecord::started(1, "x".into(), config.clone(), 0.0);
        let link = kindling_core::link::encode_link("http://x/", &record);
        let back = kindling_core::link::decode_link(&link).unwrap();
        assert_eq!(back.config.dataset, config.dataset);
        assert_eq!(
            point_count_text(toy(&config)),
            "999 points (0 added, 1 removed)"
        );
    }

    #[test]
    fn the_panel_draws_each_split_up_to_its_bound_and_knows_the_same_set() {
        let t = ToyConfig::new(ToyKind::Blobs).with_size(200);
        let points = shown_points(&t, 50);
        assert_eq!(
            points.len(),
            90,
            "50 of 160 training points, 40 test points"
        );
        assert!(points[..50].iter().all(|p| !p.test));
        let mut edited = t.clone();
        edited.added = Some(vec![AddedPoint {
            x: 0.0,
            y: 0.0,
            label: 0,
            value: None,
        }]);
        assert!(same_set(&t, &edited));
        assert!(!same_set(&t, &t.clone().with_seed(2)));
    }
}
