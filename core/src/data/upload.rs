//! The user's own data: a CSV file (numeric feature columns and a label column) or a pair of
//! MNIST-style idx files (images and labels, raw or gzip). A run names its upload by file name
//! and sha256, so it trains only on the very same bytes.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use super::csv::decode_csv;
use super::dataset::{Dataset, ExampleShape, TrainingData};
use super::idx::idx_bytes;
use super::idx_images::images_from_idx;
use super::manifest::sha256_hex_of_parts;
use super::DataError;

/// Most bytes of an upload (a full MNIST training set is 47 MB as idx).
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

/// Reads an upload: one CSV file, or an idx pair (images and labels, in either order). Every
/// problem comes back as an error naming the file and where in it (line and column for CSV);
/// nothing is partly loaded.
pub fn decode_upload(files: &[(&str, &[u8])]) -> Result<(UploadedData, Dataset), DataError> {
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let first = files
        .first()
        .map(|(n, _)| n.to_string())
        .unwrap_or_default();
    if total > MAX_UPLOAD_BYTES {
        return Err(DataError::Malformed {
            file: first,
            position: 0,
            message: format!(
                "{} MB is more than the {} MB an upload may have",
                total / (1024 * 1024),
                MAX_UPLOAD_BYTES / (1024 * 1024)
            ),
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
            let (a_raw, b_raw) = (idx_bytes(a_bytes, a)?, idx_bytes(b_bytes, b)?);
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
}
