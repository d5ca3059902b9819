//! Loads the dataset a [`DatasetConfig`] names: generated toy sets, or the converted MNIST-family
//! files that `cargo xtask data` writes under the data folder.

use std::path::Path;

use super::config::{DatasetConfig, ImageSubset};
use super::dataset::{train_validation_split, Dataset, ExampleShape, Examples, TrainingData};
use super::digit::downsample_2x2;
use super::idx_images::images_from_idx;
use super::imdb::{ReviewsDataset, TokenizedReviews, Vocabulary};
use super::DataError;

/// The command that makes the dataset files.
pub const DATA_COMMAND: &str = "cargo xtask data";

fn read(dir: &Path, dataset: &str, file: &str) -> Result<Vec<u8>, DataError> {
    let path = dir.join(file);
    std::fs::read(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing {
            dataset: dataset.to_string(),
            path: path.display().to_string(),
            command: DATA_COMMAND.to_string(),
        },
        _ => DataError::Io {
            file: path.display().to_string(),
            message: e.to_string(),
        },
    })
}

/// Averages 2x2 blocks of every image: MNIST becomes the homework's 14x14 tinyMNIST.
pub fn downsample_dataset(data: &Dataset) -> Dataset {
    let ExampleShape::Image([1, h, w]) = data.shape else {
        return data.clone();
    };
    let Examples::Pixels(pixels) = &data.examples else {
        return data.clone();
    };
    Dataset {
        name: data.name.replace("MNIST", "tinyMNIST"),
        shape: ExampleShape::Image([1, h / 2, w / 2]),
        examples: Examples::Pixels(
            pixels
                .chunks_exact(h * w)
                .flat_map(|image| downsample_2x2(image, w, h))
                .collect(),
        ),
        labels: data.labels.clone(),
        num_classes: data.num_classes,
        targets: None,
    }
}

/// Reads one data file by its path under the data folder (e.g. `mnist/t10k-labels-idx1-ubyte`);
/// the first argument names the dataset, for the message when the file is missing.
pub type FileReader<'a> = dyn FnMut(&str, &str) -> Result<Vec<u8>, DataError> + 'a;

fn image_family(
    read: &mut FileReader<'_>,
    folder: &str,
    name: &str,
    subset: &ImageSubset,
) -> Result<TrainingData, DataError> {
    let mut load = |split: &str| -> Result<Dataset, DataError> {
        let images_file = format!("{folder}/{split}-images-idx3-ubyte");
        let labels_file = format!("{folder}/{split}-labels-idx1-ubyte");
        let images = read(name, &images_file)?;
        let labels = read(name, &labels_file)?;
        images_from_idx(images, labels, name, (&images_file, &labels_file))
    };
    let train = load("train")?;
    let test = load("t10k")?;
    let split = pick(
        &train,
        &test,
        (subset.train_size, subset.validation_size, subset.test_size),
        subset.seed,
    );
    let name_of = |part: &str| format!("{name} ({part})");
    // Picked by position; all of a set is the set itself, moved rather than copied (a copy of
    // MNIST's 47 MB would stay in a browser worker's memory, which never shrinks).
    let take = |d: Dataset, positions: &[usize], part: &str| {
        if positions.len() == d.len() {
            // `pick` returns sorted, distinct positions: all of them are the set in order.
            Dataset {
                name: name_of(part),
                ..d
            }
        } else {
            d.select(positions, name_of(part))
        }
    };
    let validation = split
        .validation
        .as_deref()
        .map(|v| train.select(v, name_of("validation")));
    Ok(TrainingData {
        train: take(train, &split.train, "train"),
        eval: take(test, &split.test, "test"),
        validation,
    })
}

/// Where a run's examples are in its dataset's files: positions in the training file (its
/// training and validation examples) and in the test file, sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitPositions {
    /// Training examples.
    pub train: Vec<usize>,
    /// Validation examples (taken from the training file), when the run holds some out.
    pub validation: Option<Vec<usize>>,
    /// Test examples.
    pub test: Vec<usize>,
}

/// A dataset whose examples are their own positions, with `labels`: a subset of it lists the
/// positions a subset of the labelled set takes (positions below 2^24 are exact in f32).
fn position_index(labels: &[u32], num_classes: usize) -> Dataset {
    Dataset {
        name: "positions".into(),
        shape: ExampleShape::Features(1),
        examples: Examples::Dense((0..labels.len()).map(|i| i as f32).collect()),
        labels: labels.to_vec(),
        num_classes,
        targets: None,
    }
}

fn positions(index: &Dataset) -> Vec<usize> {
    match &index.examples {
        Examples::Dense(v) => v.iter().map(|&p| p as usize).collect(),
        _ => unreachable!("position_index builds dense positions"),
    }
}

/// The seeded, class-stratified picks of every file-backed dataset: `sizes` are (train,
/// validation, test) as the run's subset names them.
fn pick(
    train: &Dataset,
    test: &Dataset,
    sizes: (usize, usize, usize),
    seed: u64,
) -> SplitPositions {
    let (train_size, validation_size, test_size) = sizes;
    let (picked, validation) = train_validation_split(
        position_index(&train.labels, train.num_classes),
        train_size,
        validation_size,
        seed,
    );
    let test =
        position_index(&test.labels, test.num_classes).into_subset(test_size, seed.wrapping_add(1));
    SplitPositions {
        train: positions(&picked),
        validation: validation.as_ref().map(positions),
        test: positions(&test),
    }
}

/// [`split_positions`] with the files read from the data folder `dir`.
pub fn split_positions_in(
    config: &DatasetConfig,
    dir: &Path,
) -> Result<Option<SplitPositions>, DataError> {
    split_positions(config, &mut |dataset, file| read(dir, dataset, file))
}

/// The positions in the data folder's files of the examples `config` uses (the MNIST family
/// and IMDB; `None` for generated and uploaded sets, which have no files): what an exported
/// script needs to pick the run's examples itself.
pub fn split_positions(
    config: &DatasetConfig,
    read: &mut FileReader<'_>,
) -> Result<Option<SplitPositions>, DataError> {
    let images = |read: &mut FileReader<'_>, folder: &str, name: &str, s: &ImageSubset| {
        let mut labels = |split: &str| -> Result<Dataset, DataError> {
            let file = format!("{folder}/{split}-labels-idx1-ubyte");
            let bytes = read(name, &file)?;
            let array = kindling_formats::idx::decode_idx_owned(bytes, &file)?;
            if let Some(i) = array.values.iter().position(|&l| l > 9) {
                return Err(DataError::Malformed {
                    file,
                    position: i,
                    message: format!("label {} is not a digit class 0..=9", array.values[i]),
                });
            }
            Ok(position_index(
                &array
                    .values
                    .iter()
                    .map(|&l| u32::from(l))
                    .collect::<Vec<_>>(),
                10,
            ))
        };
        let (train, test) = (labels("train")?, labels("t10k")?);
        Ok::<_, DataError>(pick(
            &train,
            &test,
            (s.train_size, s.validation_size, s.test_size),
            s.seed,
        ))
    };
    Ok(match config {
        DatasetConfig::Toy(_) | DatasetConfig::Uploaded(_) => None,
        DatasetConfig::Mnist(s) | DatasetConfig::TinyMnist(s) => {
            Some(images(read, "mnist", "MNIST", s)?)
        }
        DatasetConfig::FashionMnist(s) => Some(images(read, "fashion-mnist", "Fashion-MNIST", s)?),
        DatasetConfig::Imdb(s) => {
            let mut reviews = |file: &str| -> Result<Dataset, DataError> {
                let path = format!("imdb/{file}");
                Ok(review_index(&TokenizedReviews::decode(
                    &read("IMDB", &path)?,
                    &path,
                )?))
            };
            let (train, test) = (reviews("train.tokens")?, reviews("test.tokens")?);
            Some(pick(
                &train,
                &test,
                (s.train_size, s.validation_size, s.test_size),
                s.seed,
            ))
        }
    })
}

/// Reads the IMDB vocabulary (`imdb/vocab.txt`, one word a line, most frequent first).
pub fn load_vocabulary(dir: &Path) -> Result<Vocabulary, DataError> {
    vocabulary_from_bytes(read(dir, "IMDB", VOCABULARY_FILE)?)
}

/// The IMDB vocabulary's path under the data folder.
pub const VOCABULARY_FILE: &str = "imdb/vocab.txt";

/// Parses the IMDB vocabulary file (one word a line, most frequent first).
pub fn vocabulary_from_bytes(bytes: Vec<u8>) -> Result<Vocabulary, DataError> {
    let text = String::from_utf8(bytes).map_err(|e| DataError::Malformed {
        file: "imdb/vocab.txt".into(),
        position: e.utf8_error().valid_up_to(),
        message: "not UTF-8".into(),
    })?;
    Ok(Vocabulary::from_words(
        text.lines().map(str::to_string).collect(),
    ))
}

/// A dataset whose examples are the reviews' indices, with their labels: subsets of it are
/// class-stratified subsets of the reviews.
fn review_index(reviews: &TokenizedReviews) -> Dataset {
    Dataset {
        name: "IMDB".into(),
        shape: ExampleShape::Features(1),
        examples: Examples::Dense((0..reviews.reviews.len()).map(|i| i as f32).collect()),
        labels: reviews.labels.iter().map(|&l| l as u32).collect(),
        num_classes: 2,
        targets: None,
    }
}

/// The files (paths under the data folder) that loading `config` reads: what a browser fetches
/// before calling [`load_dataset_with`].
pub fn required_files(config: &DatasetConfig) -> Vec<String> {
    let images = |folder: &str| {
        ["train", "t10k"]
            .into_iter()
            .flat_map(|split| {
                [
                    format!("{folder}/{split}-images-idx3-ubyte"),
                    format!("{folder}/{split}-labels-idx1-ubyte"),
                ]
            })
            .collect()
    };
    match config {
        DatasetConfig::Toy(_) => vec![],
        DatasetConfig::Mnist(_) | DatasetConfig::TinyMnist(_) => images("mnist"),
        DatasetConfig::FashionMnist(_) => images("fashion-mnist"),
        DatasetConfig::Imdb(_) => vec!["imdb/train.tokens".into(), "imdb/test.tokens".into()],
        DatasetConfig::Uploaded(_) => vec![],
    }
}

/// The files (paths under the data folder) that [`split_positions`] reads: the label files of
/// the MNIST family (not their images), IMDB's token files; none for generated and uploaded
/// sets. What a browser fetches before exporting a run.
pub fn position_files(config: &DatasetConfig) -> Vec<String> {
    required_files(config)
        .into_iter()
        .filter(|f| !f.ends_with("-images-idx3-ubyte"))
        .collect()
}

/// Loads (or generates) the data of `config`; `dir` is the data folder.
pub fn load_dataset(config: &DatasetConfig, dir: &Path) -> Result<TrainingData, DataError> {
    load_dataset_with(config, &mut |dataset, file| read(dir, dataset, file))
}

/// Loads (or generates) the data of `config`, reading its files through `read`.
pub fn load_dataset_with(
    config: &DatasetConfig,
    read: &mut FileReader<'_>,
) -> Result<TrainingData, DataError> {
    match config {
        DatasetConfig::Toy(toy) => Ok(toy.generate()),
        DatasetConfig::Uploaded(u) => Err(DataError::Missing {
            dataset: format!("the uploaded {}", u.file),
            path: u.file.clone(),
            command: "upload the file in the playground (Build -> Dataset -> Upload data)".into(),
        }),
        DatasetConfig::Mnist(s) => image_family(read, "mnist", "MNIST", s),
        DatasetConfig::FashionMnist(s) => image_family(read, "fashion-mnist", "Fashion-MNIST", s),
        DatasetConfig::TinyMnist(s) => {
            let data = image_family(read, "mnist", "MNIST", s)?;
            Ok(TrainingData {
                train: downsample_dataset(&data.train),
                eval: downsample_dataset(&data.eval),
                validation: data.validation.as_ref().map(downsample_dataset),
            })
        }
        DatasetConfig::Imdb(s) => {
            let mut reviews = |file: &str| -> Result<TokenizedReviews, DataError> {
                let path = format!("imdb/{file}");
                TokenizedReviews::decode(&read("IMDB", &path)?, &path)
            };
            let (train_reviews, test_reviews) = (reviews("train.tokens")?, reviews("test.tokens")?);
            let split = pick(
                &review_index(&train_reviews),
                &review_index(&test_reviews),
                (s.train_size, s.validation_size, s.test_size),
                s.seed,
            );
            let tokens = |reviews: &TokenizedReviews, picked: &[usize], name: &str| {
                reviews.dataset(picked, s.dict_size, s.example_len, name)
            };
            Ok(TrainingData {
                train: tokens(&train_reviews, &split.train, "IMDB (train)"),
                eval: tokens(&test_reviews, &split.test, "IMDB (test)"),
                validation: split
                    .validation
                    .as_deref()
                    .map(|v| tokens(&train_reviews, v, "IMDB (validation)")),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::encode_idx;
    use crate::data::{ToyConfig, ToyKind};

    #[test]
    fn downsampling_averages_blocks() {
        let mut image = vec![0u8; 28 * 28];
        image[0] = 100;
        image[1] = 100;
        image[28] = 100;
        image[29] = 96;
        image[27 * 28 + 27] = 255;
        let data = images_from_idx(
            encode_idx(&[1, 28, 28], &image),
            encode_idx(&[1], &[3]),
            "MNIST",
            ("a", "b"),
        )
        .unwrap();
        let tiny = downsample_dataset(&data);
        assert_eq!(tiny.shape, ExampleShape::Image([1, 14, 14]));
        let Examples::Pixels(p) = &tiny.examples else {
            panic!()
        };
        assert_eq!(p[0], 99);
        assert_eq!(p[14 * 14 - 1], 64);
        assert_eq!(tiny.labels, vec![3]);
    }

    #[test]
    fn missing_files_name_the_data_command() {
        let err = load_dataset(
            &DatasetConfig::Mnist(ImageSubset::new()),
            Path::new("/nonexistent"),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("cargo xtask data") && text.contains("MNIST"),
            "{text}"
        );
    }

    #[test]
    fn required_files_are_what_loading_reads() {
        for config in [
            DatasetConfig::TinyMnist(ImageSubset::new()),
            DatasetConfig::FashionMnist(ImageSubset::new()),
            DatasetConfig::Imdb(crate::data::config::ImdbSubset::new(100, 10)),
        ] {
            let mut asked = Vec::new();
            let _ = load_dataset_with(&config, &mut |_, file| {
                asked.push(file.to_string());
                Err(DataError::Io {
                    file: file.into(),
                    message: "stop".into(),
                })
            });
            let files = required_files(&config);
            assert_eq!(files.first(), asked.first(), "{config:?}");
            assert!(asked.iter().all(|f| files.contains(f)), "{asked:?}");
        }
        assert!(required_files(&DatasetConfig::Toy(ToyConfig::new(ToyKind::Xor))).is_empty());
    }

    #[test]
    fn labels_must_match_images() {
        let err = images_from_idx(
            encode_idx(&[2, 2, 2], &[0; 8]),
            encode_idx(&[3], &[1, 2, 3]),
            "M",
            ("i", "l"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("3] labels for 2 images"), "{err}");
        let err = images_from_idx(
            encode_idx(&[1, 2, 2], &[0; 4]),
            encode_idx(&[1], &[12]),
            "M",
            ("i", "l"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a digit"), "{err}");
    }

    #[test]
    fn split_positions_are_the_examples_loading_picks() {
        // 40 training and 30 test images of 2x2 pixels, each image's pixels its own position.
        let images = |n: usize| {
            let pixels: Vec<u8> = (0..n).flat_map(|i| [i as u8; 4]).collect();
            encode_idx(&[n, 2, 2], &pixels)
        };
        let labels = |n: usize| {
            encode_idx(
                &[n],
                &(0..n).map(|i| (i * 7 % 10) as u8).collect::<Vec<_>>(),
            )
        };
        let files = std::collections::HashMap::from([
            ("mnist/train-images-idx3-ubyte".to_string(), images(40)),
            ("mnist/train-labels-idx1-ubyte".to_string(), labels(40)),
            ("mnist/t10k-images-idx3-ubyte".to_string(), images(30)),
            ("mnist/t10k-labels-idx1-ubyte".to_string(), labels(30)),
        ]);
        let first_pixels = |d: &Dataset| -> Vec<usize> {
            let Examples::Pixels(p) = &d.examples else {
                panic!("images")
            };
            p.chunks(4).map(|c| c[0] as usize).collect()
        };
        for (train, validation, test, seed) in [(13, 0, 7, 1), (13, 5, 30, 4), (40, 0, 30, 2)] {
            let config = DatasetConfig::Mnist(
                ImageSubset::new()
                    .with_train_size(train)
                    .with_validation_size(validation)
                    .with_test_size(test)
                    .with_seed(seed),
            );
            let mut read = |_: &str, file: &str| Ok(files[file].clone());
            let data = load_dataset_with(&config, &mut read).unwrap();
            let needed = position_files(&config);
            assert_eq!(needed.len(), 2, "the two label files: {needed:?}");
            let split = split_positions(&config, &mut |_, file: &str| {
                assert!(needed.iter().any(|f| f == file), "{file} is not named");
                Ok(files[file].clone())
            })
            .unwrap()
            .unwrap();
            assert_eq!(first_pixels(&data.train), split.train);
            assert_eq!(first_pixels(&data.eval), split.test);
            assert_eq!(data.validation.as_ref().map(first_pixels), split.validation);
            assert_eq!(split.train.len(), train);
            assert_eq!(split.test.len(), test);
        }
        let toy = DatasetConfig::Toy(crate::data::ToyConfig::new(crate::data::ToyKind::Xor));
        assert_eq!(
            split_positions(&toy, &mut |_, _| unreachable!()).unwrap(),
            None
        );
    }
}
