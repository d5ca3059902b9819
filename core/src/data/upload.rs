//! The user's own data: a CSV file (numeric feature columns and a label column) or a pair of
//! MNIST-style idx files (images and labels, raw or gzip). A run names its upload by file name
//! and sha256, so it trains only on the very same bytes.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use super::csv::decode_csv;
use super::dataset::{Dataset, ExampleShape, TrainingData};
use super::idx::{idx_bytes_within, size_text};
use super::idx_images::images_from_idx;
use super::manifest::sha256_hex_of_parts;
use super::DataError;

/// Most bytes of an upload (a full MNIST training set is 47 MB as idx), as chosen and, for
/// gzip-compressed idx files, once inflated (the two files together): inflation stops there.
/// The page checks the chosen files' sizes against it before it reads them.
pub const MAX_UPLOAD_BYTES: usize = 200 * 1024 * 1024;

/// What one example of an upload is.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UploadedInput {
    /// A row of this many numeric features (CSV).
    Features(usize),
    /// A grey image, height x width (idx).
    Image([usize; 2]),
}

/// Uploaded data as a run config names it.
#[derive(Config, Debug, PartialEq)]
pub struct UploadedData {
    /// The file name(s) as chosen ("iris.csv", or "images + labels" for idx).
    pub file: String,
    /// sha256 of the uploaded bytes (the files in the order read).
    pub sha256: String,
    /// What each example is.
    pub input: UploadedInput,
    /// Class names, in class-id order.
    pub class_names: Vec<String>,
    /// Examples in the upload.
    pub examples: usize,
    /// Share of the examples held out for testing (class-stratified, seeded).
    #[config(default = 0.2)]
    pub test_fraction: f64,
    /// Seed of the train/test draw.
    #[config(default = 1)]
    pub seed: u64,
}

impl UploadedData {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// Test examples of the split (at least 1, leaving at least 1 for training).
    pub fn test_size(&self) -> usize {
        super::split::held_out_size(self.examples, self.test_fraction)
    }

    /// Training examples of the split.
    pub fn train_size(&self) -> usize {
        self.examples.saturating_sub(self.test_size())
    }

    /// The run's data: the upload split into training and test examples.
    pub fn split(&self, all: &Dataset) -> TrainingData {
        let (test, train) = all.stratified_split(self.test_size(), self.seed);
        TrainingData {
            train,
            eval: test,
            validation: None,
        }
    }
}

/// The message of files (`total` bytes) that are more than `limit` bytes, the most an upload
/// may have: what the page says before reading them and [`decode_upload`] after.
pub fn too_big_message(total: u64, limit: u64) -> String {
    format!(
        "{:.1} MB is more than the {} an upload may have",
        total as f64 / (1024.0 * 1024.0),
        size_text(limit)
    )
}

/// Reads an upload: one CSV file, or an idx pair (images and labels, in either order). Every
/// problem comes back as an error naming the file and where in it (line and column for CSV);
/// nothing is partly loaded.
///
/// Bounded: at most [`MAX_UPLOAD_BYTES`] in all, chosen and inflated (gzip stops inflating
/// there), then the CSV limits ([`MAX_ROWS`](super::csv::MAX_ROWS),
/// [`MAX_FEATURES`](super::csv::MAX_FEATURES), [`MAX_VALUES`](super::csv::MAX_VALUES),
/// [`MAX_CLASSES`](super::csv::MAX_CLASSES)) or the idx images' ones
/// ([`MAX_IMAGES`](super::idx_images::MAX_IMAGES),
/// [`MAX_IMAGE_SIDE`](super::idx_images::MAX_IMAGE_SIDE)).
pub fn decode_upload(files: &[(&str, &[u8])]) -> Result<(UploadedData, Dataset), DataError> {
    decode_upload_within(files, MAX_UPLOAD_BYTES)
}

/// [`decode_upload`] with at most `limit` bytes in all.
fn decode_upload_within(
    files: &[(&str, &[u8])],
    limit: usize,
) -> Result<(UploadedData, Dataset), DataError> {
    let total = files
        .iter()
        .fold(0u64, |sum, (_, b)| sum.saturating_add(b.len() as u64));
    let first = files
        .first()
        .map(|(n, _)| n.to_string())
        .unwrap_or_default();
    if total > limit as u64 {
        return Err(DataError::Malformed {
            file: first,
            position: 0,
            message: too_big_message(total, limit as u64),
        });
    }
    let parts: Vec<&[u8]> = files.iter().map(|(_, b)| *b).collect();
    let sha256 = sha256_hex_of_parts(&parts);
    match files {
        [(name, bytes)] => {
            let text = std::str::from_utf8(bytes).map_err(|e| DataError::Malformed {
                file: name.to_string(),
                position: e.valid_up_to(),
                message: "not UTF-8 text: upload a CSV file, or an idx images file together \
                          with its labels file"
                    .into(),
            })?;
            let (mut data, class_names) = decode_csv(text, name, None)?;
            data.name = name.to_string();
            let ExampleShape::Features(n) = data.shape else {
                unreachable!("CSV rows are features")
            };
            let upload = UploadedData::new(
                name.to_string(),
                sha256,
                UploadedInput::Features(n),
                class_names,
                data.len(),
            );
            Ok((upload, data))
        }
        [(a, a_bytes), (b, b_bytes)] => {
            // Both files inflate to at most `limit` bytes together.
            let a_raw = idx_bytes_within(a_bytes, a, limit as u64, "the limit of an upload")?;
            let left = limit.saturating_sub(a_raw.len());
            let b_raw = idx_bytes_within(
                b_bytes,
                b,
                left as u64,
                &format!(
                    "what is left of the {} an upload may have after {a} ({})",
                    size_text(limit as u64),
                    size_text(a_raw.len() as u64)
                ),
            )?;
            // The images file is the one with 3 dimensions (byte 3 of an idx header).
            let ((images, i_raw), (labels, l_raw)) = if a_raw.get(3) == Some(&3) {
                ((a, a_raw), (b, b_raw))
            } else {
                ((b, b_raw), (a, a_raw))
            };
            let name = format!("{images} + {labels}");
            let mut data = images_from_idx(i_raw, l_raw, &name, (images, labels))?;
            data.name = name.clone();
            let ExampleShape::Image([_, h, w]) = data.shape else {
                unreachable!("idx images are images")
            };
            if h != w {
                return Err(DataError::Malformed {
                    file: images.to_string(),
                    position: 8,
                    message: format!("images must be square, as MNIST's are; these are {h}x{w}"),
                });
            }
            let upload = UploadedData::new(
                name,
                sha256,
                UploadedInput::Image([h, w]),
                (0..10).map(|c| c.to_string()).collect(),
                data.len(),
            );
            Ok((upload, data))
        }
        _ => Err(DataError::Malformed {
            file: first,
            position: 0,
            message: format!(
                "{} files chosen: choose one CSV file, or two idx files (images and labels)",
                files.len()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::encode_idx;
    use crate::data::manifest::sha256_hex;

    fn csv(rows: usize) -> Vec<u8> {
        let mut text = String::from("x,y,label\n");
        for i in 0..rows {
            text += &format!(
                "{},{},{}\n",
                i as f32 / 10.0,
                (i % 7) as f32,
                ["a", "b"][i % 2]
            );
        }
        text.into_bytes()
    }

    #[test]
    fn a_csv_upload_splits_stratified_and_names_its_classes() {
        let (upload, data) = decode_upload(&[("points.csv", &csv(100))]).unwrap();
        assert_eq!(upload.input, UploadedInput::Features(2));
        assert_eq!(upload.class_names, vec!["a", "b"]);
        assert_eq!(
            (upload.examples, upload.test_size(), upload.train_size()),
            (100, 20, 80)
        );
        let split = upload.split(&data);
        assert_eq!(split.train.class_counts(), vec![40, 40]);
        assert_eq!(split.eval.class_counts(), vec![10, 10]);
        assert_eq!(upload.sha256, sha256_hex(&csv(100)));
    }

    #[test]
    fn an_idx_pair_loads_in_either_order_gzip_or_not() {
        let images = encode_idx(&[3, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let labels = encode_idx(&[3], &[1, 0, 9]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &images).unwrap();
        let images_gz = gz.finish().unwrap();
        let (upload, data) =
            decode_upload(&[("labels.idx1", &labels), ("images.idx3.gz", &images_gz)]).unwrap();
        assert_eq!(upload.input, UploadedInput::Image([2, 2]));
        assert_eq!(data.labels, vec![1, 0, 9]);
        assert_eq!(upload.classes(), 10);
    }

    #[test]
    fn bad_uploads_say_where() {
        let bad = b"x,y,label\n1,2,a\n3,oops,b\n".to_vec();
        let e = decode_upload(&[("bad.csv", &bad)]).unwrap_err().to_string();
        assert!(
            e.contains("line 3, column 2 (y)") && e.contains("bad.csv"),
            "{e}"
        );
        let e = decode_upload(&[("bin.csv", &[0xff, 0xfe, 0])]).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        let e = decode_upload(&[]).unwrap_err();
        assert!(e.to_string().contains("0 files"), "{e}");
        let images = encode_idx(&[3, 2, 2], &[0; 12]);
        let labels = encode_idx(&[2], &[1, 2]);
        let e = decode_upload(&[("i", &images), ("l", &labels)]).unwrap_err();
        assert!(e.to_string().contains("labels for 3 images"), "{e}");
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn uploads_beyond_the_limit_are_refused_with_it() {
        // Chosen bytes: the total, against a lowered limit of 1 MB.
        let limit = 1 << 20;
        let big = vec![b'1'; limit + 1];
        let e = decode_upload_within(&[("a.csv", &big)], limit).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.csv, byte 0: 1.0 MB is more than the 1 MB an upload may have"
        );
        // A gzip bomb: 3 MB of zeros in a few kB, an images file that claims them.
        let mut bomb = encode_idx(&[3, 1024, 1024], &[]);
        bomb.resize(8 + 4 * 3 + (3 << 20), 0);
        let bomb = gzip(&bomb);
        let labels = encode_idx(&[3], &[1, 2, 3]);
        let e =
            decode_upload_within(&[("bomb.idx3.gz", &bomb), ("l", &labels)], limit).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bomb.idx3.gz, byte 0: inflates to more than 1 MB, the limit of an upload"
        );
        // Two files that inflate to more than the limit together: the second is refused.
        let images = encode_idx(&[1, 512, 512], &vec![0; 512 * 512]);
        let rest = encode_idx(&[1, 1000, 1000], &vec![0; 1000 * 1000]);
        let e = decode_upload_within(&[("a.gz", &gzip(&images)), ("b.gz", &gzip(&rest))], limit)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "b.gz, byte 0: inflates to more than 786416 bytes, what is left of the 1 MB an \
             upload may have after a.gz (262160 bytes)"
        );
        // Within the limits, the same kinds of files load.
        let labels = encode_idx(&[1], &[7]);
        let (upload, _) =
            decode_upload_within(&[("a.gz", &gzip(&images)), ("l.gz", &gzip(&labels))], limit)
                .unwrap();
        assert_eq!(upload.input, UploadedInput::Image([512, 512]));
        assert_eq!(MAX_UPLOAD_BYTES, 200 << 20);
    }

    #[test]
    fn many_classes_and_large_images_are_refused_with_their_limits() {
        let classes: String = (0..1001).map(|c| format!("{c}.5,name{c}\n")).collect();
        let e = decode_upload(&[("many.csv", format!("x,y\n{classes}").as_bytes())])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("many.csv") && e.contains("than the 1000 classes a dataset may have"),
            "{e}"
        );
        let images = encode_idx(&[1, 513, 513], &vec![0; 513 * 513]);
        let labels = encode_idx(&[1], &[1]);
        let e = decode_upload(&[("big.idx3", &images), ("l", &labels)])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("big.idx3, byte 8: images are 513x513: the height must be 1 to 512"),
            "{e}"
        );
    }
}
