//! A run's data: the user's uploads (kept for runs on them), the files a built-in dataset needs
//! (fetched and checked), and the data preview the page shows when a run starts.

use std::collections::HashMap;

use kindling_core::data::imdb::{Vocabulary, PAD, START};
use kindling_core::data::loader::{
    load_dataset_with, required_files, vocabulary_from_bytes, VOCABULARY_FILE,
};
use kindling_core::data::upload::{decode_upload, UploadedData};
use kindling_core::data::{Dataset, ExampleShape, Examples, TrainingData};
use kindling_core::DatasetConfig;

use super::error::WorkerError;
use super::fetch::{fetch_checked, fetch_manifest, missing_file};
use super::host::post;
use super::Actor;
use crate::protocol::{DataPreview, FromWorker, ImageExample, ReviewExample, ToyPoint};

/// Uploads kept at most (the newest ones): each holds a whole dataset in wasm memory.
const KEPT_UPLOADS: usize = 3;
/// Images of each class in the preview: a few per class show its variety in one small grid.
const PREVIEW_IMAGES_PER_CLASS: usize = 3;
/// Images in the preview at most: three of each of MNIST's ten classes; an upload of a
/// thousand classes shows its first classes, not three thousand images.
const PREVIEW_IMAGES: usize = 30;
/// Reviews in the preview: enough to show what the texts are like, few enough to read.
const PREVIEW_REVIEWS: usize = 4;
/// Points of a 2-D set drawn per split (see [`crate::toy_edits::SHOWN_POINTS_PER_SPLIT`]).
const PREVIEW_POINTS_PER_SPLIT: usize = crate::toy_edits::SHOWN_POINTS_PER_SPLIT;

impl Actor {
    /// Answers `UploadData`: the dataset and its preview, or why the files are refused.
    pub(super) fn receive_upload(
        &mut self,
        request: u64,
        names: Vec<String>,
        sizes: Vec<usize>,
        bytes: Vec<u8>,
    ) {
        post(&match self.upload(names, sizes, bytes) {
            Ok((data, preview)) => FromWorker::DataUploaded {
                request,
                data,
                preview: Box::new(preview),
            },
            Err(e) => FromWorker::UploadRejected {
                request,
                message: e.to_string(),
            },
        });
    }

    /// Reads the user's files and keeps the data for runs on it.
    fn upload(
        &mut self,
        names: Vec<String>,
        sizes: Vec<usize>,
        bytes: Vec<u8>,
    ) -> Result<(UploadedData, DataPreview), WorkerError> {
        if names.len() != sizes.len() || sizes.iter().sum::<usize>() != bytes.len() {
            return Err(WorkerError::IncompleteUpload);
        }
        let mut files: Vec<(&str, &[u8])> = Vec::with_capacity(names.len());
        let mut rest = bytes.as_slice();
        for (name, size) in names.iter().zip(sizes) {
            let (file, tail) = rest.split_at(size);
            files.push((name, file));
            rest = tail;
        }
        let (data, dataset) = decode_upload(&files)?;
        drop(files);
        drop(bytes);
        let preview = self.preview(
            &DatasetConfig::Uploaded(data.clone()),
            &data.split(&dataset),
        );
        self.uploads.retain(|(sha, _)| *sha != data.sha256);
        self.uploads.push((data.sha256.clone(), dataset));
        if self.uploads.len() > KEPT_UPLOADS {
            self.uploads.remove(0);
        }
        Ok((data, preview))
    }

    /// Fetches (or reads from the cache) every file the dataset needs, checks each against the
    /// manifest, and builds the run's data; progress goes to the page as the run `progress_of`'s
    /// (none: not for a starting run).
    pub(super) async fn load_data(
        &mut self,
        progress_of: Option<u64>,
        dataset: &DatasetConfig,
    ) -> Result<TrainingData, WorkerError> {
        if let DatasetConfig::Uploaded(u) = dataset {
            return self
                .uploads
                .iter()
                .find(|(sha, _)| *sha == u.sha256)
                .map(|(_, all)| u.split(all))
                .ok_or_else(|| WorkerError::UploadGone(u.file.clone()));
        }
        let mut files = required_files(dataset);
        if matches!(dataset, DatasetConfig::Imdb(_)) && self.vocabulary.is_none() {
            files.push(VOCABULARY_FILE.to_string());
        }
        let mut contents = fetch_files(progress_of, dataset, &files).await?;
        if let Some(bytes) = contents.remove(VOCABULARY_FILE) {
            self.vocabulary = Some(vocabulary_from_bytes(bytes)?);
        }
        load_dataset_with(dataset, &mut |name, file| {
            contents
                .remove(file)
                .ok_or_else(|| missing_file(name, file))
        })
        .map_err(WorkerError::from)
    }

    /// What the page shows of a run's data: sizes, class counts and a few examples.
    pub(super) fn preview(&self, config: &DatasetConfig, data: &TrainingData) -> DataPreview {
        let train = &data.train;
        let mut preview = DataPreview {
            name: config.name().into(),
            sizes: [
                train.len(),
                data.validation.as_ref().map_or(0, |v| v.len()),
                data.eval.len(),
            ],
            class_counts: train.class_counts(),
            class_names: config.class_names(),
            ..Default::default()
        };
        match &train.examples {
            Examples::Pixels(_) => {
                preview.images = preview_images(train);
            }
            Examples::Tokens(_) => {
                preview.reviews = (0..train.len().min(PREVIEW_REVIEWS))
                    .filter_map(|i| review_example(train, i, self.vocabulary.as_ref()))
                    .collect();
            }
            Examples::Dense(_) => {
                preview.points = preview_points(config, data);
            }
        }
        preview
    }
}

/// Fetches `files` of `dataset` (checked against its manifest), reporting the bytes loaded of
/// them all as the run `progress_of`'s; nothing is fetched (not even the manifest) when `files` is empty.
pub(super) async fn fetch_files(
    progress_of: Option<u64>,
    dataset: &DatasetConfig,
    files: &[String],
) -> Result<HashMap<String, Vec<u8>>, WorkerError> {
    let mut contents = HashMap::new();
    if files.is_empty() {
        return Ok(contents);
    }
    let manifest = fetch_manifest(dataset.name()).await?;
    let total: u64 = files
        .iter()
        .map(|f| manifest.file(f).map(|a| a.bytes).unwrap_or(0))
        .sum();
    let mut loaded = 0u64;
    for file in files {
        let entry = manifest
            .file(file)
            .ok_or_else(|| missing_file(dataset.name(), file))?;
        let bytes = fetch_checked(progress_of, file, entry, loaded, total).await?;
        loaded += bytes.len() as u64;
        contents.insert(file.clone(), bytes);
    }
    Ok(contents)
}

/// The first examples of each class in turn (so every class shows, up to
/// [`PREVIEW_IMAGES`]), found in one pass over the labels whatever the number of classes.
fn preview_images(train: &Dataset) -> Vec<ImageExample> {
    let classes = train.num_classes.min(PREVIEW_IMAGES);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    let mut full = 0;
    for (i, &label) in train.labels.iter().enumerate() {
        if let Some(picked) = by_class.get_mut(label as usize) {
            if picked.len() < PREVIEW_IMAGES_PER_CLASS {
                picked.push(i);
                if picked.len() == PREVIEW_IMAGES_PER_CLASS {
                    full += 1;
                }
            }
        }
        if full == classes {
            break;
        }
    }
    (0..PREVIEW_IMAGES_PER_CLASS)
        .flat_map(|round| by_class.iter().filter_map(move |c| c.get(round).copied()))
        .take(PREVIEW_IMAGES)
        .filter_map(|i| image_example(train, i))
        .collect()
}

/// The points of a 2-D set drawn in the preview: up to [`PREVIEW_POINTS_PER_SPLIT`] of each
/// split, train then test.
fn preview_points(config: &DatasetConfig, data: &TrainingData) -> Vec<ToyPoint> {
    if let DatasetConfig::Toy(toy) = config {
        return crate::toy_edits::shown_points(toy, PREVIEW_POINTS_PER_SPLIT);
    }
    let points = super::views::plane_points(config, data);
    let train = points.iter().filter(|p| !p.test).count();
    let (train_points, test_points) = points.split_at(train);
    train_points
        .iter()
        .take(PREVIEW_POINTS_PER_SPLIT)
        .chain(test_points.iter().take(PREVIEW_POINTS_PER_SPLIT))
        .copied()
        .collect()
}

/// Example `i` of an image set, for the page to draw; `None` for other sets.
pub(super) fn image_example(set: &Dataset, i: usize) -> Option<ImageExample> {
    let (Examples::Pixels(p), ExampleShape::Image([1, h, w])) = (&set.examples, set.shape) else {
        return None;
    };
    Some(ImageExample {
        side: w.max(h),
        pixels: p[i * h * w..(i + 1) * h * w].to_vec(),
        label: set.labels[i],
        predicted: None,
    })
}

/// Review `i` of a token set as words (`?` for each without a vocabulary); `None` for other
/// sets.
pub(super) fn review_example(
    set: &Dataset,
    i: usize,
    vocabulary: Option<&Vocabulary>,
) -> Option<ReviewExample> {
    let (Examples::Tokens(t), ExampleShape::Tokens(len)) = (&set.examples, set.shape) else {
        return None;
    };
    let ids = &t[i * len..(i + 1) * len];
    let words: Vec<&str> = ids
        .iter()
        .filter(|&&id| id > START)
        .map(|&id| vocabulary.map_or("?", |v| v.word(id)))
        .collect();
    Some(ReviewExample {
        text: words.join(" "),
        label: set.labels[i],
        tokens: ids.iter().filter(|&&id| id != PAD).count(),
        predicted: None,
    })
}
