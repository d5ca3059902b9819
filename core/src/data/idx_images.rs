//! Labelled images from an idx pair (an images file and its labels file, as MNIST ships them):
//! what the MNIST-family loaders and the playground's idx uploads both read.

use super::dataset::{Dataset, ExampleShape, Examples};
use super::idx::decode_idx_owned;
use super::DataError;

/// Largest height and width of an idx image (512): the largest image a CNN reads
/// (`model.input.height` and `width`).
pub const MAX_IMAGE_SIDE: usize = crate::model::validation::MAX_SIDE;

/// Most images of an idx file (MNIST's training set has 60,000).
pub const MAX_IMAGES: usize = 1_000_000;

/// Reads an images file and its labels file (idx) into a dataset of [1, h, w] u8 images: at
/// most [`MAX_IMAGES`] of at most [`MAX_IMAGE_SIDE`] x [`MAX_IMAGE_SIDE`] pixels, each
/// labelled with a digit class 0..=9.
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
    let [count, height, width] = [images.dims[0], images.dims[1], images.dims[2]];
    if count > MAX_IMAGES {
        return Err(DataError::Malformed {
            file: files.0.into(),
            position: 4,
            message: format!("{count} images; at most {MAX_IMAGES}"),
        });
    }
    for (position, side, what) in [(8, height, "height"), (12, width, "width")] {
        if !(1..=MAX_IMAGE_SIDE).contains(&side) {
            return Err(DataError::Malformed {
                file: files.0.into(),
                position,
                message: format!(
                    "images are {height}x{width}: the {what} must be 1 to {MAX_IMAGE_SIDE} \
                     (the largest image a CNN reads is {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE})"
                ),
            });
        }
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
        shape: ExampleShape::Image([1, height, width]),
        examples: Examples::Pixels(images.values),
        labels: labels.values.into_iter().map(u32::from).collect(),
        num_classes: 10,
        targets: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::encode_idx;

    fn pair(dims: [usize; 3]) -> Result<Dataset, DataError> {
        let images = encode_idx(&dims, &vec![0; dims.iter().product()]);
        let labels = encode_idx(&[dims[0]], &vec![3; dims[0]]);
        images_from_idx(images, labels, "t", ("i.idx", "l.idx"))
    }

    #[test]
    fn images_within_the_limits_load() {
        let d = pair([2, MAX_IMAGE_SIDE, 3]).unwrap();
        assert_eq!(d.shape, ExampleShape::Image([1, MAX_IMAGE_SIDE, 3]));
        assert_eq!(d.labels, vec![3, 3]);
    }

    #[test]
    fn images_beyond_the_limits_are_refused_with_the_limit() {
        let cases = [
            (
                [1, MAX_IMAGE_SIDE + 1, 4],
                "i.idx, byte 8: images are 513x4: the height must be 1 to 512",
            ),
            (
                [1, 4, 600],
                "i.idx, byte 12: images are 4x600: the width must be 1 to 512",
            ),
            (
                [3, 0, 4],
                "i.idx, byte 8: images are 0x4: the height must be 1 to 512",
            ),
            (
                [MAX_IMAGES + 1, 1, 1],
                "i.idx, byte 4: 1000001 images; at most 1000000",
            ),
        ];
        for (dims, expected) in cases {
            let e = pair(dims).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{dims:?}: {e}");
        }
    }
}
