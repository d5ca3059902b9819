//! Seeded 2-D toy sets in the spirit of TensorFlow Playground, and the homework's tinyTOY.
//! Points lie in [-1, 1]^2 (before noise); every set has two classes.

use burn::config::Config;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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
    /// Two interleaved spirals.
    Spiral,
}

impl ToyKind {
    /// Every toy set.
    pub const ALL: [ToyKind; 5] = [
        ToyKind::TinyToy,
        ToyKind::Circle,
        ToyKind::Xor,
        ToyKind::Gaussians,
        ToyKind::Spiral,
    ];

    /// Display name.
    pub fn name(&self) -> &'static str {
        match self {
            ToyKind::TinyToy => "tinyTOY",
            ToyKind::Circle => "circle",
            ToyKind::Xor => "xor",
            ToyKind::Gaussians => "two gaussians",
            ToyKind::Spiral => "spiral",
        }
    }
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
}

/// A standard normal draw (Box-Muller), from a seeded generator.
pub fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller transform.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

impl ToyConfig {
    /// Test points of the split (at least 1, leaving at least 1 for training).
    pub fn test_size(&self) -> usize {
        super::split::held_out_size(self.size, self.test_fraction)
    }

    /// Training points of the split.
    pub fn train_size(&self) -> usize {
        self.size - self.test_size()
    }

    /// Generates the points: the first `size * (1 - test_fraction)` train, the rest test.
    pub fn generate(&self) -> TrainingData {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut xs = Vec::with_capacity(self.size * 2);
        let mut labels = Vec::with_capacity(self.size);
        for i in 0..self.size {
            let (x, y, label) = self.point(i, &mut rng);
            xs.push(x as f32);
            xs.push(y as f32);
            labels.push(label);
        }
        let all = Dataset {
            name: self.kind.name().to_string(),
            shape: ExampleShape::Features(2),
            examples: Examples::Dense(xs),
            labels,
            num_classes: 2,
        };
        let test = self.test_size();
        let train_idx: Vec<usize> = (0..self.size - test).collect();
        let test_idx: Vec<usize> = (self.size - test..self.size).collect();
        TrainingData {
            train: all.select(&train_idx, format!("{} (train)", self.kind.name())),
            eval: all.select(&test_idx, format!("{} (test)", self.kind.name())),
            validation: None,
        }
    }

    fn point(&self, i: usize, rng: &mut ChaCha8Rng) -> (f64, f64, u32) {
        let noise = self.noise;
        match self.kind {
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
                let label = (i % 2) as u32;
                let t: f64 = rng.random_range(0.0..1.0);
                let r = 0.05 + 0.95 * t;
                let angle = 1.75 * t * std::f64::consts::TAU + label as f64 * std::f64::consts::PI;
                (
                    r * angle.sin() + noise * 0.1 * gaussian(rng),
                    r * angle.cos() + noise * 0.1 * gaussian(rng),
                    label,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_toy_set_has_two_balanced_classes_and_the_requested_size() {
        for kind in ToyKind::ALL {
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
}
