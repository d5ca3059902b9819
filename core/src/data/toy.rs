//! Seeded 2-D toy sets in the spirit of TensorFlow Playground, and the homework's tinyTOY.
//! Points lie in [-1, 1]^2 (before noise); blobs and the spiral have 2 to 5 classes, the
//! other classification sets two, and the two regression sets (a plane, a Gaussian bump) give
//! each point a value to predict instead of a class. A run picks the features its model reads of each point (x1, x2, x1², x1·x2,
//! sin(πx1), ...) and may edit the set: points added (to the training split) and generated
//! points removed, so a share link carries the set a teacher shaped.

use burn::config::Config;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, ExampleShape, Examples, TrainingData};

/// Which toy set.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum ToyKind {
    /// The homework's two-class 2-D set: class 1 above a sine-shaped boundary.
    TinyToy,
    /// Class 1 inside a circle of radius 0.5, class 0 in a ring around it.
    Circle,
    /// Class 1 where x and y have the same sign.
    Xor,
    /// Two Gaussian clusters.
    Gaussians,
    /// Interleaved spiral arms, one per class.
    Spiral,
    /// Gaussian blobs around a circle, one per class.
    Blobs,
    /// Regression: the value of a tilted plane, (x1 + x2) / 2, in [-1, 1].
    Plane,
    /// Regression: a Gaussian bump at the centre, exp(-|x|² / 0.32), in (0, 1].
    GaussianBump,
}

impl ToyKind {
    /// Every toy set.
    pub const ALL: [ToyKind; 8] = [
        ToyKind::TinyToy,
        ToyKind::Circle,
        ToyKind::Xor,
        ToyKind::Gaussians,
        ToyKind::Spiral,
        ToyKind::Blobs,
        ToyKind::Plane,
        ToyKind::GaussianBump,
    ];

    /// Whether each point has a value to predict (regression) instead of a class.
    pub fn is_regression(&self) -> bool {
        matches!(self, ToyKind::Plane | ToyKind::GaussianBump)
    }

    /// Whether its number of classes can be chosen (else it has two).
    pub fn has_class_choice(&self) -> bool {
        matches!(self, ToyKind::Spiral | ToyKind::Blobs)
    }

    /// Display name.
    pub fn name(&self) -> &'static str {
        match self {
            ToyKind::TinyToy => "tinyTOY",
            ToyKind::Circle => "circle",
            ToyKind::Xor => "xor",
            ToyKind::Gaussians => "two gaussians",
            ToyKind::Spiral => "spiral",
            ToyKind::Blobs => "blobs",
            ToyKind::Plane => "plane",
            ToyKind::GaussianBump => "gaussian bump",
        }
    }
}

/// Most classes a toy set can have.
pub const MAX_TOY_CLASSES: usize = 5;
/// Most points a run may add to a toy set (a share link carries them all).
pub const MAX_ADDED_POINTS: usize = 500;
/// Most generated points a run may remove from a toy set.
pub const MAX_REMOVED_POINTS: usize = 1_000;
/// How far from the origin an added point may lie, per coordinate.
pub const MAX_POINT_COORDINATE: f32 = 10.0;
/// The largest value (in size) an added point of a regression set may have.
pub const MAX_POINT_VALUE: f32 = 10.0;

/// A feature a model reads of a 2-D point, as TensorFlow Playground offers them. The sines
/// take `π x`, one period over the sets' [-1, 1] (a sine of `x` alone would be nearly linear
/// there).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ToyFeature {
    /// x1.
    X1,
    /// x2.
    X2,
    /// x1².
    X1Squared,
    /// x2².
    X2Squared,
    /// x1·x2.
    X1TimesX2,
    /// sin(π x1).
    SinX1,
    /// sin(π x2).
    SinX2,
}

impl ToyFeature {
    /// Every feature, in the order a model reads them.
    pub const ALL: [ToyFeature; 7] = [
        ToyFeature::X1,
        ToyFeature::X2,
        ToyFeature::X1Squared,
        ToyFeature::X2Squared,
        ToyFeature::X1TimesX2,
        ToyFeature::SinX1,
        ToyFeature::SinX2,
    ];

    /// How it is written.
    pub fn name(&self) -> &'static str {
        match self {
            ToyFeature::X1 => "x1",
            ToyFeature::X2 => "x2",
            ToyFeature::X1Squared => "x1²",
            ToyFeature::X2Squared => "x2²",
            ToyFeature::X1TimesX2 => "x1·x2",
            ToyFeature::SinX1 => "sin(πx1)",
            ToyFeature::SinX2 => "sin(πx2)",
        }
    }

    /// Its value at the point (x1, x2).
    pub fn of(&self, x1: f32, x2: f32) -> f32 {
        use std::f32::consts::PI;
        match self {
            ToyFeature::X1 => x1,
            ToyFeature::X2 => x2,
            ToyFeature::X1Squared => x1 * x1,
            ToyFeature::X2Squared => x2 * x2,
            ToyFeature::X1TimesX2 => x1 * x2,
            ToyFeature::SinX1 => (PI * x1).sin(),
            ToyFeature::SinX2 => (PI * x2).sin(),
        }
    }
}

/// The features `features` of each point of `points` (x1, x2 pairs), point after point.
pub fn plane_features(features: &[ToyFeature], points: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(points.len() / 2 * features.len());
    for xy in points.chunks_exact(2) {
        out.extend(features.iter().map(|f| f.of(xy[0], xy[1])));
    }
    out
}

/// A point added to a toy set (to its training split).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct AddedPoint {
    /// x1.
    pub x: f32,
    /// x2.
    pub y: f32,
    /// Its class (0 on a regression set).
    pub label: u32,
    /// Its value, on a regression set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f32>,
}

/// A toy set's points as drawn on the plane: coordinates, labels (or values), and which are
/// held out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanePoints {
    /// (x1, x2) of each point.
    pub xy: Vec<[f32; 2]>,
    /// Class of each point (0 on a regression set).
    pub labels: Vec<u32>,
    /// Value of each point on a regression set (empty on a classification set).
    pub values: Vec<f32>,
    /// Whether each point is a test point.
    pub test: Vec<bool>,
    /// Which generated point each is (`None`: added), for removing it.
    pub generated: Vec<Option<usize>>,
}

/// A generated toy set: which one, how many points, how noisy, which seed.
#[derive(Config, Debug, PartialEq)]
pub struct ToyConfig {
    /// Which set.
    pub kind: ToyKind,
    /// Number of points in all (train + test), 10..=100000.
    #[config(default = 1000)]
    pub size: usize,
    /// Noise level in [0, 1]: standard deviation of the jitter, relative to the set's scale.
    #[config(default = 0.0)]
    pub noise: f64,
    /// Fraction of the points held out for testing, in (0, 1).
    #[config(default = 0.2)]
    pub test_fraction: f64,
    /// Seed of the points (independent of the training seed).
    #[config(default = 1)]
    pub seed: u64,
    /// Classes of blobs and the spiral, 2..=5 (`None`: 2).
    pub classes: Option<usize>,
    /// The features the model reads of each point, in [`ToyFeature::ALL`]'s order (`None`:
    /// x1 and x2).
    pub features: Option<Vec<ToyFeature>>,
    /// Points added to the training split.
    pub added: Option<Vec<AddedPoint>>,
    /// Generated points removed (their indices, `0..size`).
    pub removed: Option<Vec<usize>>,
}

/// A standard normal draw (Box-Muller), from a seeded generator.
pub fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller transform.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

impl ToyConfig {
    /// Generated points held out for testing (at least 1, leaving at least 1 for training).
    fn generated_test(&self) -> usize {
        super::split::held_out_size(self.size, self.test_fraction)
    }

    /// Generated points of the training split (the first ones).
    fn generated_train(&self) -> usize {
        self.size - self.generated_test()
    }

    /// Removed generated points of the training split and of the test split (each index
    /// counted once; indices out of range are not counted).
    fn removed_counts(&self) -> (usize, usize) {
        let mut removed: Vec<usize> = self.removed.clone().unwrap_or_default();
        removed.sort_unstable();
        removed.dedup();
        let train = self.generated_train();
        let in_train = removed.iter().filter(|&&i| i < train).count();
        let in_test = removed
            .iter()
            .filter(|&&i| i >= train && i < self.size)
            .count();
        (in_train, in_test)
    }

    /// Test points (generated, less those removed).
    pub fn test_size(&self) -> usize {
        self.generated_test() - self.removed_counts().1
    }

    /// Training points (generated, less those removed, and those added).
    pub fn train_size(&self) -> usize {
        self.generated_train() - self.removed_counts().0 + self.added.as_ref().map_or(0, Vec::len)
    }

    /// Its classes: 2, or the chosen number for blobs and the spiral (1 on a regression set:
    /// the model has one output, the value).
    pub fn classes(&self) -> usize {
        match self.classes {
            _ if self.kind.is_regression() => 1,
            Some(k) if self.kind.has_class_choice() => k,
            _ => 2,
        }
    }

    /// The features a model reads of each point.
    pub fn features(&self) -> Vec<ToyFeature> {
        self.features
            .clone()
            .unwrap_or_else(|| vec![ToyFeature::X1, ToyFeature::X2])
    }

    /// Whether points were added or removed.
    pub fn is_edited(&self) -> bool {
        self.added.as_ref().is_some_and(|a| !a.is_empty())
            || self.removed.as_ref().is_some_and(|r| !r.is_empty())
    }

    /// The set's points on the plane, edits applied: the training split (generated, then
    /// added), then the test split.
    pub fn plane_points(&self) -> PlanePoints {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let removed: std::collections::HashSet<usize> =
            self.removed.iter().flatten().copied().collect();
        let train = self.generated_train();
        let mut out = PlanePoints::default();
        let mut test = PlanePoints::default();
        for i in 0..self.size {
            // Every point is drawn, removed or not, so that the others do not move.
            let (x, y, label, value) = self.point(i, &mut rng);
            if removed.contains(&i) {
                continue;
            }
            let to = if i < train { &mut out } else { &mut test };
            to.xy.push([x as f32, y as f32]);
            to.labels.push(label);
            if self.kind.is_regression() {
                to.values.push(value as f32);
            }
            to.test.push(i >= train);
            to.generated.push(Some(i));
        }
        for p in self.added.iter().flatten() {
            out.xy.push([p.x, p.y]);
            out.labels.push(p.label);
            if self.kind.is_regression() {
                out.values.push(p.value.unwrap_or(0.0));
            }
            out.test.push(false);
            out.generated.push(None);
        }
        out.xy.extend(test.xy);
        out.labels.extend(test.labels);
        out.values.extend(test.values);
        out.test.extend(test.test);
        out.generated.extend(test.generated);
        out
    }

    /// The points as the model reads them (its features of each), split as
    /// [`ToyConfig::plane_points`] lists them.
    pub fn generate(&self) -> TrainingData {
        let points = self.plane_points();
        let flat: Vec<f32> = points.xy.iter().flatten().copied().collect();
        let features = self.features();
        let all = Dataset {
            name: self.kind.name().to_string(),
            shape: ExampleShape::Features(features.len()),
            examples: Examples::Dense(plane_features(&features, &flat)),
            labels: points.labels,
            num_classes: self.classes(),
            targets: self.kind.is_regression().then_some(points.values),
        };
        let train = points.test.iter().filter(|t| !**t).count();
        let n = points.test.len();
        let train_idx: Vec<usize> = (0..train).collect();
        let test_idx: Vec<usize> = (train..n).collect();
        TrainingData {
            train: all.select(&train_idx, format!("{} (train)", self.kind.name())),
            eval: all.select(&test_idx, format!("{} (test)", self.kind.name())),
            validation: None,
        }
    }

    /// Records every out-of-range option (fields prefixed `dataset.`).
    pub(crate) fn check(&self, c: &mut crate::checks::Checker) {
        if let Some(k) = self.classes {
            if !self.kind.has_class_choice() && k != 2 {
                c.fail(
                    "dataset.classes",
                    k,
                    format!("{} has 2 classes", self.kind.name()),
                );
            } else {
                c.range("dataset.classes", k, 2, MAX_TOY_CLASSES);
            }
        }
        if let Some(features) = &self.features {
            let ordered = ToyFeature::ALL
                .iter()
                .filter(|f| features.contains(f))
                .count()
                == features.len()
                && features.windows(2).all(|w| {
                    let at = |f: &ToyFeature| ToyFeature::ALL.iter().position(|a| a == f);
                    at(&w[0]) < at(&w[1])
                });
            if features.is_empty() || !ordered {
                c.fail(
                    "dataset.features",
                    format!("{} features", features.len()),
                    "pick at least one feature, each once, in the listed order",
                );
            }
        }
        if let Some(added) = &self.added {
            if added.len() > MAX_ADDED_POINTS {
                c.fail(
                    "dataset.added",
                    format!("{} points", added.len()),
                    format!("at most {MAX_ADDED_POINTS} points can be added"),
                );
            }
            let classes = self.classes() as u32;
            let regression = self.kind.is_regression();
            if let Some((i, p)) = added.iter().enumerate().find(|(_, p)| {
                !(p.x.is_finite()
                    && p.y.is_finite()
                    && p.x.abs() <= MAX_POINT_COORDINATE
                    && p.y.abs() <= MAX_POINT_COORDINATE
                    && if regression {
                        p.label == 0
                            && p.value
                                .is_some_and(|v| v.is_finite() && v.abs() <= MAX_POINT_VALUE)
                    } else {
                        p.label < classes && p.value.is_none()
                    })
            }) {
                let (what, rule) = if regression {
                    (
                        format!("({}, {}) value {:?}", p.x, p.y, p.value),
                        format!("its value is within ±{MAX_POINT_VALUE}"),
                    )
                } else {
                    (
                        format!("({}, {}) class {}", p.x, p.y, p.label),
                        format!("its class is below {classes} (and it has no value)"),
                    )
                };
                c.fail(
                    format!("dataset.added[{i}]"),
                    what,
                    format!("a point lies within ±{MAX_POINT_COORDINATE} and {rule}"),
                );
            }
        }
        if let Some(removed) = &self.removed {
            if removed.len() > MAX_REMOVED_POINTS {
                c.fail(
                    "dataset.removed",
                    format!("{} points", removed.len()),
                    format!("at most {MAX_REMOVED_POINTS} points can be removed"),
                );
            }
            if let Some(&i) = removed.iter().find(|&&i| i >= self.size) {
                c.fail(
                    "dataset.removed",
                    i,
                    format!("the set has points 0..{}", self.size),
                );
            }
        }
        if self.train_size() == 0 || self.test_size() == 0 {
            c.fail(
                "dataset.removed",
                format!(
                    "{} points removed",
                    self.removed.as_ref().map_or(0, Vec::len)
                ),
                "leave at least one training and one test point",
            );
        }
    }

    /// The `i`-th generated point: (x1, x2, its class, its value on a regression set).
    fn point(&self, i: usize, rng: &mut ChaCha8Rng) -> (f64, f64, u32, f64) {
        let noise = self.noise;
        let classes = self.classes();
        let (x, y, label) = match self.kind {
            ToyKind::TinyToy => {
                let x: f64 = rng.random_range(-1.0..1.0);
                let y: f64 = rng.random_range(-1.0..1.0);
                let label = (y > 0.4 * (std::f64::consts::PI * x).sin()) as u32;
                (
                    x + noise * 0.3 * gaussian(rng),
                    y + noise * 0.3 * gaussian(rng),
                    label,
                )
            }
            ToyKind::Circle => {
                let label = (i % 2) as u32;
                let r = if label == 1 {
                    rng.random_range(0.0..0.5)
                } else {
                    rng.random_range(0.7..1.0)
                };
                let angle = rng.random_range(0.0..std::f64::consts::TAU);
                (
                    r * angle.cos() + noise * 0.3 * gaussian(rng),
                    r * angle.sin() + noise * 0.3 * gaussian(rng),
                    label,
                )
            }
            ToyKind::Xor => {
                let pad = 0.05;
                let coord = |rng: &mut ChaCha8Rng| {
                    let v: f64 = rng.random_range(pad..1.0);
                    if rng.random::<bool>() {
                        v
                    } else {
                        -v
                    }
                };
                let x = coord(rng);
                let y = coord(rng);
                let label = (x * y > 0.0) as u32;
                (
                    x + noise * 0.3 * gaussian(rng),
                    y + noise * 0.3 * gaussian(rng),
                    label,
                )
            }
            ToyKind::Gaussians => {
                let label = (i % 2) as u32;
                let centre = if label == 1 { 0.5 } else { -0.5 };
                let spread = 0.15 + noise * 0.35;
                (
                    centre + spread * gaussian(rng),
                    centre + spread * gaussian(rng),
                    label,
                )
            }
            ToyKind::Spiral => {
                let label = (i % classes) as u32;
                let t: f64 = rng.random_range(0.0..1.0);
                let r = 0.05 + 0.95 * t;
                // One arm per class, evenly turned (two classes: opposite arms).
                let angle = 1.75 * t * std::f64::consts::TAU
                    + label as f64 * std::f64::consts::TAU / classes as f64;
                (
                    r * angle.sin() + noise * 0.1 * gaussian(rng),
                    r * angle.cos() + noise * 0.1 * gaussian(rng),
                    label,
                )
            }
            ToyKind::Blobs => {
                let label = (i % classes) as u32;
                let angle = std::f64::consts::FRAC_PI_4
                    + label as f64 * std::f64::consts::TAU / classes as f64;
                let spread = 0.12 + noise * 0.3;
                (
                    0.6 * angle.cos() + spread * gaussian(rng),
                    0.6 * angle.sin() + spread * gaussian(rng),
                    label,
                )
            }
            ToyKind::Plane | ToyKind::GaussianBump => {
                // As TensorFlow Playground's regression sets: the value is that of the point
                // drawn, and noise moves the point (the value stays).
                let x: f64 = rng.random_range(-1.0..1.0);
                let y: f64 = rng.random_range(-1.0..1.0);
                let value = regression_value(self.kind, x, y);
                return (
                    x + noise * 0.3 * gaussian(rng),
                    y + noise * 0.3 * gaussian(rng),
                    0,
                    value,
                );
            }
        };
        (x, y, label, 0.0)
    }
}

/// The value of a regression set at (x1, x2) (0 for a classification set).
pub fn regression_value(kind: ToyKind, x1: f64, x2: f64) -> f64 {
    match kind {
        ToyKind::Plane => (x1 + x2) / 2.0,
        ToyKind::GaussianBump => (-(x1 * x1 + x2 * x2) / 0.32).exp(),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_toy_set_has_two_balanced_classes_and_the_requested_size() {
        for kind in ToyKind::ALL.into_iter().filter(|k| !k.is_regression()) {
            let data = ToyConfig::new(kind).with_size(500).generate();
            assert_eq!(data.train.len() + data.eval.len(), 500, "{kind:?}");
            assert_eq!(data.eval.len(), 100, "{kind:?}");
            let counts = data.train.class_counts();
            assert_eq!(counts.len(), 2);
            for c in counts {
                assert!((120..=280).contains(&c), "{kind:?}: unbalanced classes {c}");
            }
        }
    }

    #[test]
    fn same_seed_same_points_other_seed_other_points() {
        let a = ToyConfig::new(ToyKind::Spiral).with_noise(0.3).generate();
        let b = ToyConfig::new(ToyKind::Spiral).with_noise(0.3).generate();
        let c = ToyConfig::new(ToyKind::Spiral)
            .with_noise(0.3)
            .with_seed(2)
            .generate();
        assert_eq!(a, b);
        assert_ne!(a.train.examples, c.train.examples);
    }

    #[test]
    fn noise_moves_points() {
        let clean = ToyConfig::new(ToyKind::Xor).generate();
        let noisy = ToyConfig::new(ToyKind::Xor).with_noise(0.5).generate();
        assert_eq!(clean.train.labels, noisy.train.labels);
        assert_ne!(clean.train.examples, noisy.train.examples);
    }

    #[test]
    fn a_regression_set_gives_each_point_the_value_of_its_surface() {
        for kind in [ToyKind::Plane, ToyKind::GaussianBump] {
            let config = ToyConfig::new(kind).with_size(400);
            let data = config.generate();
            assert_eq!(data.train.num_classes, 1, "{kind:?}");
            let targets = data
                .train
                .targets
                .as_ref()
                .expect("a regression set has targets");
            assert_eq!(targets.len(), data.train.len());
            assert!(data.train.labels.iter().all(|&l| l == 0));
            // Without noise, each value is the surface's at the point.
            let Examples::Dense(xy) = &data.train.examples else {
                panic!("2-D points")
            };
            for (p, &v) in xy.chunks_exact(2).zip(targets) {
                let want = regression_value(kind, p[0] as f64, p[1] as f64) as f32;
                assert!((v - want).abs() < 1e-5, "{kind:?}: {v} at {p:?}");
            }
            let (low, high) = targets
                .iter()
                .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
            assert!(high - low > 0.5, "{kind:?}: values spread, {low}..{high}");
        }
    }

    #[test]
    fn a_point_added_to_a_regression_set_needs_a_value_and_a_class_set_none() {
        let point = |value| AddedPoint {
            x: 0.1,
            y: 0.2,
            label: 0,
            value,
        };
        let check = |kind, p: AddedPoint| {
            let mut c = crate::checks::Checker::default();
            ToyConfig::new(kind).with_added(Some(vec![p])).check(&mut c);
            c.into_problems().is_empty()
        };
        assert!(check(ToyKind::Plane, point(Some(0.5))));
        assert!(!check(ToyKind::Plane, point(None)));
        assert!(!check(ToyKind::Plane, point(Some(f32::NAN))));
        assert!(!check(ToyKind::Plane, point(Some(11.0))));
        assert!(check(ToyKind::Xor, point(None)));
        assert!(!check(ToyKind::Xor, point(Some(0.5))));
        let data = ToyConfig::new(ToyKind::Plane)
            .with_size(100)
            .with_added(Some(vec![point(Some(0.75))]))
            .generate();
        assert_eq!(
            data.train.targets.as_ref().and_then(|t| t.last()),
            Some(&0.75)
        );
    }
}
