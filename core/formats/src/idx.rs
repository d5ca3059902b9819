//! The idx format of MNIST and Fashion-MNIST, raw or gzip-compressed:
//! a big-endian header (two zero bytes, a type byte 0x08 for u8, the number of dimensions, then
//! each dimension as u32) followed by the values.

use crate::DataError;

/// A decoded idx file of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, e.g. [60000, 28, 28] for images, [60000] for labels.
    pub dims: Vec<usize>,
    /// Values in row-major order.
    pub values: Vec<u8>,
}

/// Decodes an idx file of u8 values. `file` names the file in errors.
pub fn decode_idx(bytes: &[u8], file: &str) -> Result<IdxArray, DataError> {
    let (dims, header) = idx_header(bytes, file)?;
    Ok(IdxArray {
        dims,
        values: bytes[header..].to_vec(),
    })
}

/// Decodes an idx file of u8 values in place: the values stay in `bytes`' buffer (a full
/// MNIST training set is not copied).
pub fn decode_idx_owned(mut bytes: Vec<u8>, file: &str) -> Result<IdxArray, DataError> {
    let (dims, header) = idx_header(&bytes, file)?;
    bytes.drain(..header);
    Ok(IdxArray {
        dims,
        values: bytes,
    })
}

/// Checks an idx header against the file's length: the dimensions and the header's length.
fn idx_header(bytes: &[u8], file: &str) -> Result<(Vec<usize>, usize), DataError> {
    let malformed = |position: usize, message: String| DataError::Malformed {
        file: file.to_string(),
        position,
        message,
    };
    if bytes.len() < 4 {
        return Err(malformed(
            0,
            format!("{} bytes is too short for an idx header", bytes.len()),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(malformed(
            0,
            format!(
                "wrong magic {:02x}{:02x}: an idx file starts with 0000",
                bytes[0], bytes[1]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(malformed(
            2,
            format!("value type 0x{:02x} is not unsigned byte (0x08)", bytes[2]),
        ));
    }
    let rank = bytes[3] as usize;
    if rank == 0 || rank > 4 {
        return Err(malformed(3, format!("{rank} dimensions; expected 1 to 4")));
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(malformed(
            bytes.len(),
            format!("truncated header: {rank} dimensions need {header} bytes"),
        ));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().expect("4 bytes")) as usize
        })
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| malformed(4, format!("dimensions {dims:?} overflow")))?;
    let body = bytes.len() - header;
    if body != count {
        return Err(malformed(
            header,
            format!("dimensions {dims:?} need {count} values but the file has {body}"),
        ));
    }
    Ok((dims, header))
}

/// Decodes an idx file that may be gzip-compressed (as Fashion-MNIST ships): gzip is
/// recognised by its magic bytes 1f 8b.
pub fn decode_idx_any(bytes: &[u8], file: &str) -> Result<IdxArray, DataError> {
    if is_gzip(bytes) {
        decode_idx_owned(gunzip(bytes, file)?, file)
    } else {
        decode_idx(bytes, file)
    }
}

/// Whether `bytes` are gzip-compressed (its magic bytes 1f 8b).
fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The bytes of an idx file that may be gzip-compressed, decompressed (not yet checked).
pub fn idx_bytes(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    if is_gzip(bytes) {
        gunzip(bytes, file)
    } else {
        Ok(bytes.to_vec())
    }
}

/// Decompresses gzip bytes; `file` names the file in errors.
pub fn gunzip(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Malformed {
            file: file.to_string(),
            position: 0,
            message: format!("not a valid gzip stream: {e}"),
        })?;
    Ok(out)
}

/// Encodes u8 values with `dims` as an idx file.
pub fn encode_idx(dims: &[usize], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let values: Vec<u8> = (0..24).collect();
        let bytes = encode_idx(&[2, 3, 4], &values);
        let idx = decode_idx(&bytes, "t").unwrap();
        assert_eq!(idx.dims, vec![2, 3, 4]);
        assert_eq!(idx.values, values);
    }

    #[test]
    fn malformed_files_are_named_with_a_position() {
        let good = encode_idx(&[2, 2], &[1, 2, 3, 4]);
        let mut wrong_magic = good.clone();
        wrong_magic[0] = 1;
        let mut wrong_type = good.clone();
        wrong_type[2] = 0x0d;
        let truncated = &good[..good.len() - 1];
        let cases: [(&[u8], &str); 5] = [
            (&wrong_magic, "magic"),
            (&wrong_type, "value type"),
            (truncated, "need 4 values"),
            (&good[..6], "truncated header"),
            (&[0, 0], "too short"),
        ];
        for (bytes, expected) in cases {
            let err = decode_idx(bytes, "x.idx").unwrap_err().to_string();
            assert!(err.contains("x.idx") && err.contains(expected), "{err}");
        }
    }

    #[test]
    fn gzip_files_decode_and_corrupt_gzip_is_an_error() {
        use std::io::Write;
        let raw = encode_idx(&[2, 2], &[1, 2, 3, 4]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            decode_idx_any(&gz, "a.gz").unwrap(),
            decode_idx(&raw, "a").unwrap()
        );
        assert_eq!(decode_idx_any(&raw, "a").unwrap().values, vec![1, 2, 3, 4]);
        let err = decode_idx_any(&gz[..gz.len() / 2], "a.gz")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.gz") && err.contains("gzip"), "{err}");
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let good = encode_idx(&[3, 5], &[7; 15]);
        for _ in 0..20_000 {
            let mut bytes = if rng.random::<bool>() {
                good.clone()
            } else {
                (0..rng.random_range(0..40)).map(|_| rng.random()).collect()
            };
            for _ in 0..rng.random_range(0..4) {
                if !bytes.is_empty() {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] = rng.random();
                }
            }
            if rng.random::<bool>() && !bytes.is_empty() {
                let cut = rng.random_range(0..bytes.len());
                bytes.truncate(cut);
            }
            let _ = decode_idx(&bytes, "fuzz");
            let _ = decode_idx_any(&bytes, "fuzz");
        }
    }
}
