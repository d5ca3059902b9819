//! Labelled images from an idx pair (an images file and its labels file, as MNIST ships them):
//! what the MNIST-family loaders and the playground's idx uploads both read.

use super::dataset::{Dataset, ExampleShape, Examples};
use super::idx::decode_idx_owned;
use super::DataError;

/// Reads an images file and its labels file (idx) into a dataset of [1, h, w] u8 images.
pub fn images_from_idx(
    images: Vec<u8>,
    labels: Vec<u8>,
    name: &str,
    files: (&str, &str),
) -> Result<Dataset, DataError> {
    let images = decode_idx_owned(images, files.0)?;
    let labels = decode_idx_owned(labels, files.1)?;
    if images.dims.len() != 3 {
        return Err(DataError::Malformed {
            file: files.0.into(),
            position: 3,
            message: format!("images need 3 dimensions, found {:?}", images.dims),
        });
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(DataError::Malformed {
            file: files.1.into(),
            position: 4,
            message: format!("{:?} labels for {} images", labels.dims, images.dims[0]),
        });
    }
    if let Some(i) = labels.values.iter().position(|&l| l > 9) {
        return Err(DataError::Malformed {
            file: files.1.into(),
            position: 8 + i,
            message: format!("label {} is not a digit class 0..=9", labels.values[i]),
        });
    }
    Ok(Dataset {
        name: name.to_string(),
        shape: ExampleShape::Image([1, images.dims[1], images.dims[2]]),
        examples: Examples::Pixels(images.values),
        labels: labels.values.into_iter().map(u32::from).collect(),
        num_classes: 10,
    })
}
