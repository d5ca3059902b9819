//! The converted real datasets against known facts of MNIST, Fashion-MNIST and IMDB.
//! They need `cargo xtask data` (which `cargo xtask test` runs first), hence `#[ignore]`:
//! `cargo xtask test` runs them with `--include-ignored`.

use std::path::PathBuf;

use kindling_core::data::loader::{load_dataset, load_vocabulary};
use kindling_core::data::Examples;
use kindling_core::data::{ImageSubset, ImdbSubset};
use kindling_core::DatasetConfig;

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    assert!(
        dir.join("manifest.json").exists(),
        "no converted data in {}: run `cargo xtask data`",
        dir.display()
    );
    dir
}

#[test]
#[ignore = "needs `cargo xtask data`"]
fn mnist_counts_and_pixel_statistics() {
    let data = load_dataset(&DatasetConfig::Mnist(ImageSubset::new()), &data_dir()).unwrap();
    assert_eq!((data.train.len(), data.eval.len()), (60_000, 10_000));
    let Examples::Pixels(pixels) = &data.train.examples else {
        panic!("MNIST is u8 pixels")
    };
    let mean = pixels.iter().map(|&p| p as f64).sum::<f64>() / pixels.len() as f64;
    assert!((mean - 33.32).abs() < 0.05, "mean pixel {mean}");
    // Class counts of the real training set (5923 zeros, 6742 ones, ...).
    assert_eq!(data.train.class_counts()[0], 5923);
    assert_eq!(data.train.class_counts()[1], 6742);
    // The in-memory footprint stays u8: 47 MB for 60k images.
    assert_eq!(pixels.len(), 60_000 * 784);
}

#[test]
#[ignore = "needs `cargo xtask data`"]
fn subsets_are_stratified_and_tinymnist_is_14x14() {
    let subset = ImageSubset::new().with_train_size(1000).with_test_size(500);
    let data = load_dataset(&DatasetConfig::TinyMnist(subset), &data_dir()).unwrap();
    assert_eq!((data.train.len(), data.eval.len()), (1000, 500));
    assert_eq!(
        data.train.shape,
        kindling_core::data::ExampleShape::Image([1, 14, 14])
    );
    for count in data.train.class_counts() {
        assert!(
            (85..=115).contains(&count),
            "class count {count} in a stratified 1000"
        );
    }
    let fashion = load_dataset(
        &DatasetConfig::FashionMnist(ImageSubset::new()),
        &data_dir(),
    )
    .unwrap();
    assert_eq!((fashion.train.len(), fashion.eval.len()), (60_000, 10_000));
    assert!(fashion.train.class_counts().iter().all(|&c| c == 6000));
}

#[test]
#[ignore = "needs `cargo xtask data`"]
fn imdb_counts_classes_and_vocabulary() {
    let dir = data_dir();
    let data = load_dataset(&DatasetConfig::Imdb(ImdbSubset::new(10_000, 256)), &dir).unwrap();
    assert_eq!((data.train.len(), data.eval.len()), (25_000, 25_000));
    assert_eq!(data.train.class_counts(), vec![12_500, 12_500]);
    assert_eq!(data.eval.class_counts(), vec![12_500, 12_500]);
    let Examples::Tokens(tokens) = &data.train.examples else {
        panic!("IMDB is tokens")
    };
    assert!(tokens.iter().all(|&t| t < 10_000));
    let vocab = load_vocabulary(&dir).unwrap();
    assert_eq!(vocab.words[0], "the");
    assert_eq!(vocab.id("the"), Some(4));
    assert!(vocab.len() > 70_000, "vocabulary of {}", vocab.len());
}

#[test]
#[ignore = "needs `cargo xtask data`"]
fn validation_sets_are_disjoint_from_training_and_stratified() {
    let subset = ImageSubset::new()
        .with_train_size(2000)
        .with_validation_size(1000)
        .with_test_size(100);
    let data = load_dataset(&DatasetConfig::Mnist(subset), &data_dir()).unwrap();
    let validation = data.validation.as_ref().expect("a validation set");
    assert_eq!(
        (data.train.len(), validation.len(), data.eval.len()),
        (2000, 1000, 100)
    );
    let (Examples::Pixels(train), Examples::Pixels(val)) =
        (&data.train.examples, &validation.examples)
    else {
        panic!()
    };
    let train_images: std::collections::HashSet<&[u8]> = train.chunks(784).collect();
    let shared = val
        .chunks(784)
        .filter(|image| train_images.contains(image))
        .count();
    assert!(
        shared <= 2,
        "{shared} validation images also in training (MNIST has a few duplicates)"
    );
    for count in validation.class_counts() {
        assert!(
            (85..=115).contains(&count),
            "class count {count} in a stratified 1000"
        );
    }
    let imdb = load_dataset(
        &DatasetConfig::Imdb(
            ImdbSubset::new(5000, 64)
                .with_train_size(1000)
                .with_validation_size(500)
                .with_test_size(300),
        ),
        &data_dir(),
    )
    .unwrap();
    assert_eq!(
        imdb.validation.as_ref().unwrap().class_counts(),
        vec![250, 250]
    );
    assert_eq!(imdb.train.class_counts(), vec![500, 500]);
}
