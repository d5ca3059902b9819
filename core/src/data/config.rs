//! Which dataset a run uses, with its options ([`DatasetConfig`]), the datasets the playground
//! offers ([`DatasetId`]), and the rules about them: their sizes, classes and class names,
//! what a model must read to train on them, and the ranges their options must be in.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use super::toy::{ToyConfig, ToyFeature, ToyKind, MAX_TOY_CLASSES};
use super::upload::{UploadedData, UploadedInput};
use crate::checks::Checker;
use crate::model::sequence::{MAX_EXAMPLE_LEN, MAX_VOCABULARY};
use crate::model::{InputKind, ModelKind};

/// Training (plus validation) images in MNIST and Fashion-MNIST.
pub const IMAGE_TRAIN_EXAMPLES: usize = 60_000;
/// Test images in MNIST and Fashion-MNIST.
pub const IMAGE_TEST_EXAMPLES: usize = 10_000;
/// Reviews in each of IMDB's training and test sets.
pub const IMDB_SPLIT_EXAMPLES: usize = 25_000;
/// Fewest and most points of a toy set.
pub const TOY_SIZES: (usize, usize) = (10, 100_000);
/// Longest class name of an upload, in characters (a label of a CSV file).
pub const MAX_CLASS_NAME_CHARS: usize = 200;

/// Which dataset a run uses, with its options.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum DatasetConfig {
    /// A generated 2-D toy set.
    Toy(ToyConfig),
    /// MNIST digits, 28x28.
    Mnist(ImageSubset),
    /// MNIST averaged 2x2 to 14x14 (196 inputs), as in the homework.
    TinyMnist(ImageSubset),
    /// Fashion-MNIST, 28x28.
    FashionMnist(ImageSubset),
    /// IMDB reviews as token ids.
    Imdb(ImdbSubset),
    /// The user's own data (a CSV or idx upload in the playground).
    Uploaded(UploadedData),
}

/// How much of an image dataset a run uses (class-stratified, seeded subsets).
#[derive(Config, Debug, PartialEq)]
pub struct ImageSubset {
    /// Training examples, 1..=60000.
    #[config(default = 60000)]
    pub train_size: usize,
    /// Test examples, 1..=10000.
    #[config(default = 10000)]
    pub test_size: usize,
    /// Examples held out of the training set and evaluated after every epoch (0: the test
    /// set is evaluated instead). train_size + validation_size <= 60000.
    #[config(default = 0)]
    pub validation_size: usize,
    /// Seed of the subset draw.
    #[config(default = 1)]
    pub seed: u64,
}

/// How IMDB is tokenised and how much of it a run uses.
#[derive(Config, Debug, PartialEq)]
pub struct ImdbSubset {
    /// Vocabulary size (Keras `num_words`): rarer words become id 2.
    pub dict_size: usize,
    /// Tokens per example: pre-padded and pre-truncated to this length.
    pub example_len: usize,
    /// Training reviews, 1..=25000.
    #[config(default = 25000)]
    pub train_size: usize,
    /// Test reviews, 1..=25000.
    #[config(default = 25000)]
    pub test_size: usize,
    /// Reviews held out of the training set and evaluated after every epoch (0: the test set
    /// is evaluated instead). train_size + validation_size <= 25000.
    #[config(default = 0)]
    pub validation_size: usize,
    /// Seed of the subset draw.
    #[config(default = 1)]
    pub seed: u64,
}

/// The datasets the playground offers (uploads included), as one type instead of strings.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetId {
    /// The homework's tinyTOY.
    TinyToy,
    /// Toy circle.
    Circle,
    /// Toy XOR.
    Xor,
    /// Two toy gaussians.
    Gaussians,
    /// Toy spiral.
    Spiral,
    /// Toy blobs.
    Blobs,
    /// Toy regression: a plane.
    Plane,
    /// Toy regression: a Gaussian bump.
    GaussianBump,
    /// MNIST averaged to 14x14.
    TinyMnist,
    /// MNIST.
    Mnist,
    /// Fashion-MNIST.
    FashionMnist,
    /// IMDB reviews.
    Imdb,
    /// The user's own data.
    Uploaded,
}

impl DatasetId {
    /// The datasets a run can be switched to (uploads come from a file instead).
    pub const OFFERED: [DatasetId; 12] = [
        DatasetId::TinyToy,
        DatasetId::Circle,
        DatasetId::Xor,
        DatasetId::Gaussians,
        DatasetId::Spiral,
        DatasetId::Blobs,
        DatasetId::Plane,
        DatasetId::GaussianBump,
        DatasetId::TinyMnist,
        DatasetId::Mnist,
        DatasetId::FashionMnist,
        DatasetId::Imdb,
    ];

    /// Short id (a form value, a CLI word).
    pub fn id(self) -> &'static str {
        match self {
            DatasetId::TinyToy => "tinytoy",
            DatasetId::Circle => "circle",
            DatasetId::Xor => "xor",
            DatasetId::Gaussians => "gaussians",
            DatasetId::Spiral => "spiral",
            DatasetId::Blobs => "blobs",
            DatasetId::Plane => "plane",
            DatasetId::GaussianBump => "gaussian-bump",
            DatasetId::TinyMnist => "tinymnist",
            DatasetId::Mnist => "mnist",
            DatasetId::FashionMnist => "fashion-mnist",
            DatasetId::Imdb => "imdb",
            DatasetId::Uploaded => "upload",
        }
    }

    /// The dataset with id `id`.
    pub fn parse(id: &str) -> Option<DatasetId> {
        Self::OFFERED
            .into_iter()
            .chain([DatasetId::Uploaded])
            .find(|d| d.id() == id)
    }

    /// What the dataset picker shows.
    pub fn label(self) -> &'static str {
        match self {
            DatasetId::TinyToy => "tinyTOY (2-D, homework)",
            DatasetId::Circle => "Circle (2-D)",
            DatasetId::Xor => "XOR (2-D)",
            DatasetId::Gaussians => "Two gaussians (2-D)",
            DatasetId::Spiral => "Spiral (2-D, 2-5 classes)",
            DatasetId::Blobs => "Blobs (2-D, 2-5 classes)",
            DatasetId::Plane => "Plane (2-D regression)",
            DatasetId::GaussianBump => "Gaussian bump (2-D regression)",
            DatasetId::TinyMnist => "tinyMNIST 14x14",
            DatasetId::Mnist => "MNIST 28x28",
            DatasetId::FashionMnist => "Fashion-MNIST 28x28",
            DatasetId::Imdb => "IMDB reviews",
            DatasetId::Uploaded => "Your data",
        }
    }

    /// The toy set, for the toy datasets.
    pub fn toy_kind(self) -> Option<ToyKind> {
        Some(match self {
            DatasetId::TinyToy => ToyKind::TinyToy,
            DatasetId::Circle => ToyKind::Circle,
            DatasetId::Xor => ToyKind::Xor,
            DatasetId::Gaussians => ToyKind::Gaussians,
            DatasetId::Spiral => ToyKind::Spiral,
            DatasetId::Blobs => ToyKind::Blobs,
            DatasetId::Plane => ToyKind::Plane,
            DatasetId::GaussianBump => ToyKind::GaussianBump,
            _ => return None,
        })
    }

    /// Class names of a built-in dataset (an upload names its own).
    pub fn class_names(self) -> Vec<String> {
        let names: &[&str] = match self {
            DatasetId::FashionMnist => &[
                "T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                "Bag", "Boot",
            ],
            DatasetId::Imdb => &["negative", "positive"],
            DatasetId::Mnist | DatasetId::TinyMnist => {
                &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
            }
            DatasetId::Plane | DatasetId::GaussianBump => &["value"],
            _ => &["class 0", "class 1"],
        };
        names.iter().map(|s| s.to_string()).collect()
    }
}

impl DatasetConfig {
    /// Which dataset this is.
    pub fn id(&self) -> DatasetId {
        match self {
            DatasetConfig::Toy(t) => match t.kind {
                ToyKind::TinyToy => DatasetId::TinyToy,
                ToyKind::Circle => DatasetId::Circle,
                ToyKind::Xor => DatasetId::Xor,
                ToyKind::Gaussians => DatasetId::Gaussians,
                ToyKind::Spiral => DatasetId::Spiral,
                ToyKind::Blobs => DatasetId::Blobs,
                ToyKind::Plane => DatasetId::Plane,
                ToyKind::GaussianBump => DatasetId::GaussianBump,
            },
            DatasetConfig::Mnist(_) => DatasetId::Mnist,
            DatasetConfig::TinyMnist(_) => DatasetId::TinyMnist,
            DatasetConfig::FashionMnist(_) => DatasetId::FashionMnist,
            DatasetConfig::Imdb(_) => DatasetId::Imdb,
            DatasetConfig::Uploaded(_) => DatasetId::Uploaded,
        }
    }

    /// Display name.
    pub fn name(&self) -> &'static str {
        match self {
            DatasetConfig::Toy(t) => t.kind.name(),
            DatasetConfig::Mnist(_) => "MNIST",
            DatasetConfig::TinyMnist(_) => "tinyMNIST",
            DatasetConfig::FashionMnist(_) => "Fashion-MNIST",
            DatasetConfig::Imdb(_) => "IMDB",
            DatasetConfig::Uploaded(_) => "your data",
        }
    }

    /// The subset options of an image dataset.
    pub fn image_subset(&self) -> Option<&ImageSubset> {
        match self {
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => Some(s),
            _ => None,
        }
    }

    /// The subset options of an image dataset, to change.
    pub fn image_subset_mut(&mut self) -> Option<&mut ImageSubset> {
        match self {
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => Some(s),
            _ => None,
        }
    }

    /// Training examples the run will use.
    pub fn train_size(&self) -> usize {
        match self {
            DatasetConfig::Toy(t) => t.train_size(),
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => s.train_size,
            DatasetConfig::Imdb(s) => s.train_size,
            DatasetConfig::Uploaded(u) => u.train_size(),
        }
    }

    /// Sets the training-set size of image and IMDB datasets (toy sets and uploads keep
    /// theirs).
    pub fn set_train_size(&mut self, n: usize) {
        match self {
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => s.train_size = n,
            DatasetConfig::Imdb(s) => s.train_size = n,
            DatasetConfig::Toy(_) | DatasetConfig::Uploaded(_) => {}
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        match self {
            DatasetConfig::Toy(t) => t.classes(),
            DatasetConfig::Uploaded(u) => u.classes(),
            _ => self.id().class_names().len(),
        }
    }

    /// Whether each example has a value to predict (regression) instead of a class.
    pub fn is_regression(&self) -> bool {
        matches!(self, DatasetConfig::Toy(t) if t.kind.is_regression())
    }

    /// Class names, for labels (a regression set's one output is its "value").
    pub fn class_names(&self) -> Vec<String> {
        match self {
            DatasetConfig::Toy(t) if t.kind.is_regression() => vec!["value".into()],
            DatasetConfig::Toy(t) => (0..t.classes()).map(|k| format!("class {k}")).collect(),
            DatasetConfig::Uploaded(u) => u.class_names.clone(),
            _ => self.id().class_names(),
        }
    }

    /// What a model must read to train on this data, per example.
    pub fn input(&self) -> InputKind {
        match self {
            DatasetConfig::Toy(t) => InputKind::Features(t.features().len()),
            DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_) => {
                InputKind::Image([1, 28, 28])
            }
            DatasetConfig::TinyMnist(_) => InputKind::Image([1, 14, 14]),
            DatasetConfig::Imdb(s) => InputKind::Tokens(s.example_len),
            DatasetConfig::Uploaded(u) => match u.input {
                UploadedInput::Features(n) => InputKind::Features(n),
                UploadedInput::Image([h, w]) => InputKind::Image([1, h, w]),
            },
        }
    }

    /// The input in words, for messages ("28x28 images (784 features)").
    pub fn input_description(&self) -> String {
        let text = match self {
            DatasetConfig::Toy(t) => {
                let features = t.features();
                let names: Vec<&str> = features.iter().map(|f| f.name()).collect();
                return format!("{} features ({})", features.len(), names.join(", "));
            }
            DatasetConfig::Mnist(_) | DatasetConfig::FashionMnist(_) => {
                "28x28 images (784 features)"
            }
            DatasetConfig::TinyMnist(_) => "14x14 images (196 features)",
            DatasetConfig::Imdb(_) => "token sequences",
            DatasetConfig::Uploaded(u) => match u.input {
                UploadedInput::Features(_) => "feature rows",
                UploadedInput::Image(_) => "images",
            },
        };
        text.to_string()
    }

    /// Whether a model reading `input` can train on this data: the same input, or an image
    /// read as a flat vector of its pixels by an MLP.
    pub fn accepts(&self, input: InputKind) -> bool {
        match (self.input(), input) {
            (InputKind::Image([1, h, w]), InputKind::Features(n)) => {
                n as u64 == h as u64 * w as u64
            }
            (own, other) => own == other,
        }
    }

    /// Whether a model of `kind` can be built to train on this data (sizes follow the data).
    pub fn offers(&self, kind: ModelKind) -> bool {
        kind.reads(self.input())
    }

    /// Height and width of an image dataset's examples.
    pub fn image_size(&self) -> Option<[usize; 2]> {
        match self.input() {
            InputKind::Image([_, h, w]) => Some([h, w]),
            _ => None,
        }
    }

    /// The side of its images when they are square and grey (MNIST's 28, tinyMNIST's 14, an
    /// uploaded idx set's): one of them can be read by a model layer by layer.
    pub fn square_image_side(&self) -> Option<usize> {
        match self.input() {
            InputKind::Image([1, h, w]) if h == w => Some(h),
            _ => None,
        }
    }

    /// Whether runs on this data show a decision-boundary map over a plane: the toy sets
    /// (whatever features their models read of each point), or uploaded 2-feature data of at
    /// most [`MAX_TOY_CLASSES`] classes.
    pub fn has_boundary_map(&self) -> bool {
        match self {
            DatasetConfig::Toy(_) => true,
            _ => self.input() == InputKind::Features(2) && self.classes() <= MAX_TOY_CLASSES,
        }
    }

    /// The features a model reads of each point of the plane the boundary map covers.
    pub fn plane_features(&self) -> Vec<ToyFeature> {
        match self {
            DatasetConfig::Toy(t) => t.features(),
            _ => vec![ToyFeature::X1, ToyFeature::X2],
        }
    }

    /// Records every out-of-range option (fields prefixed `dataset.`).
    pub(crate) fn check(&self, c: &mut Checker) {
        match self {
            DatasetConfig::Toy(t) => {
                c.range("dataset.size", t.size, TOY_SIZES.0, TOY_SIZES.1);
                if !(t.noise.is_finite() && (0.0..=1.0).contains(&t.noise)) {
                    c.fail("dataset.noise", t.noise, "must be in [0, 1]");
                }
                c.open_unit("dataset.test_fraction", t.test_fraction);
                t.check(c);
            }
            DatasetConfig::Mnist(s)
            | DatasetConfig::TinyMnist(s)
            | DatasetConfig::FashionMnist(s) => {
                check_split(
                    c,
                    (s.train_size, s.validation_size, s.test_size),
                    IMAGE_TRAIN_EXAMPLES,
                    IMAGE_TEST_EXAMPLES,
                );
            }
            DatasetConfig::Imdb(s) => {
                c.range("dataset.dict_size", s.dict_size, 4, MAX_VOCABULARY);
                c.range("dataset.example_len", s.example_len, 1, MAX_EXAMPLE_LEN);
                check_split(
                    c,
                    (s.train_size, s.validation_size, s.test_size),
                    IMDB_SPLIT_EXAMPLES,
                    IMDB_SPLIT_EXAMPLES,
                );
            }
            DatasetConfig::Uploaded(u) => {
                // The most examples either kind of upload can hold (the same bound on wasm32).
                let most = super::csv::MAX_ROWS.max(super::idx_images::MAX_IMAGES);
                c.range("dataset.examples", u.examples, 2, most);
                c.range("dataset.classes", u.classes(), 2, super::csv::MAX_CLASSES);
                if let Some(long) = u
                    .class_names
                    .iter()
                    .find(|n| n.chars().count() > MAX_CLASS_NAME_CHARS)
                {
                    c.fail(
                        "dataset.class_names",
                        long.chars().take(20).collect::<String>() + "…",
                        format!("a class name has at most {MAX_CLASS_NAME_CHARS} characters"),
                    );
                }
                c.open_unit("dataset.test_fraction", u.test_fraction);
            }
        }
    }
}

/// Checks (train, validation, test) sizes against a dataset's training and test examples.
fn check_split(
    c: &mut Checker,
    (train, validation, test): (usize, usize, usize),
    train_examples: usize,
    test_examples: usize,
) {
    c.range("dataset.train_size", train, 1, train_examples);
    c.range("dataset.test_size", test, 1, test_examples);
    c.range(
        "dataset.validation_size",
        validation,
        0,
        train_examples - train.min(train_examples),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_ids_round_trip_and_name_their_classes() {
        for id in DatasetId::OFFERED.into_iter().chain([DatasetId::Uploaded]) {
            assert_eq!(DatasetId::parse(id.id()), Some(id));
        }
        assert_eq!(DatasetId::parse("cifar"), None);
        let fashion = DatasetConfig::FashionMnist(ImageSubset::new());
        assert_eq!(fashion.class_names()[9], "Boot");
        assert_eq!(fashion.classes(), 10);
        assert_eq!(DatasetConfig::Imdb(ImdbSubset::new(100, 10)).classes(), 2);
    }

    #[test]
    fn images_are_read_as_images_or_as_their_pixels() {
        let mnist = DatasetConfig::Mnist(ImageSubset::new());
        assert!(mnist.accepts(InputKind::Features(784)));
        assert!(mnist.accepts(InputKind::Image([1, 28, 28])));
        assert!(!mnist.accepts(InputKind::Features(196)));
        assert!(!mnist.accepts(InputKind::Tokens(784)));
        let toy = DatasetConfig::Toy(ToyConfig::new(ToyKind::Xor));
        assert!(toy.accepts(InputKind::Features(2)));
        assert!(toy.has_boundary_map());
        assert!(!mnist.has_boundary_map());
    }
}
