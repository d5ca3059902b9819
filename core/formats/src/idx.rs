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

/// The bytes of an idx file that may be gzip-compressed, decompressed (not yet checked); gzip
/// inflates to at most [`MAX_INFLATED_BYTES`].
pub fn idx_bytes(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    idx_bytes_within(bytes, file, MAX_INFLATED_BYTES, "the limit of a gzip file")
}

/// [`idx_bytes`] with gzip inflating to at most `limit` bytes (see [`gunzip_within`]).
pub fn idx_bytes_within(
    bytes: &[u8],
    file: &str,
    limit: u64,
    limit_is: &str,
) -> Result<Vec<u8>, DataError> {
    if is_gzip(bytes) {
        gunzip_within(bytes, file, limit, limit_is)
    } else {
        Ok(bytes.to_vec())
    }
}

/// Most bytes a gzip-compressed file may inflate to (200 MB, as much as an upload may hold; a
/// full MNIST training set is 47 MB as idx). Inflation stops there: a gzip bomb (a few hundred
/// kB that inflate to gigabytes) is refused without being inflated whole.
pub const MAX_INFLATED_BYTES: u64 = 200 * 1024 * 1024;

/// The most bytes deflate inflates one byte to (its longest match, 258 bytes, in about 2
/// bits, rounded up).
const MAX_DEFLATE_RATIO: usize = 1032;

/// `bytes` in words: whole megabytes ("200 MB", 1 MB = 2^20 bytes) or bytes ("1000 bytes").
pub fn size_text(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Decompresses gzip bytes, at most [`MAX_INFLATED_BYTES`] of them; `file` names the file in
/// errors.
pub fn gunzip(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    gunzip_within(bytes, file, MAX_INFLATED_BYTES, "the limit of a gzip file")
}

/// Decompresses gzip bytes, refusing (with a message naming `limit` and, after it, `limit_is`,
/// e.g. "the limit of an upload") a stream that inflates to more than `limit` bytes. Never
/// holds more than `limit + 1` inflated bytes: the buffer grows (from the size the stream's
/// trailer announces, at most `limit`) up to `limit + 1` and no further.
pub fn gunzip_within(
    bytes: &[u8],
    file: &str,
    limit: u64,
    limit_is: &str,
) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let malformed = |position: usize, message: String| DataError::Malformed {
        file: file.to_string(),
        position,
        message,
    };
    // The most bytes the buffer may hold: the limit and one more (which tells "too big").
    let cap = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    // A gzip trailer ends with the inflated size (mod 2^32): a hint, untrusted beyond `limit`
    // and beyond what deflate can make of these bytes (at most 1,032 bytes a byte), so that a
    // cut or changed trailer cannot make a small file reserve much.
    let announced = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .min(bytes.len().saturating_mul(MAX_DEFLATE_RATIO));
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(announced.min(cap.saturating_sub(1)))
        .map_err(|_| {
            malformed(
                0,
                format!("cannot hold {} inflated", size_text(announced as u64)),
            )
        })?;
    let mut decoder = flate2::read::GzDecoder::new(bytes);
    const CHUNK: usize = 64 * 1024;
    const PROBE: usize = 4096;
    let mut probe = [0u8; PROBE];
    loop {
        if out.len() >= cap {
            return Err(malformed(
                0,
                format!("inflates to more than {}, {limit_is}", size_text(limit)),
            ));
        }
        let read = if out.len() < out.capacity() {
            // Inflate straight into the buffer's spare room, a chunk at a time (zeroed first:
            // safe code only; a chunk, not all the room, so that zeroing stays linear).
            let at = out.len();
            let room = (out.capacity() - at).min(cap - at).min(CHUNK);
            out.resize(at + room, 0);
            let n = decoder.read(&mut out[at..]);
            out.truncate(at + *n.as_ref().unwrap_or(&0));
            n
        } else {
            // Full: read a little first, so that a buffer of the exact size never grows.
            let n = decoder.read(&mut probe[..PROBE.min(cap - out.len())]);
            if let Ok(n) = n {
                if n > 0 {
                    let grow = out.capacity().max(PROBE).min(cap - out.len());
                    out.try_reserve_exact(grow).map_err(|_| {
                        malformed(
                            0,
                            format!(
                                "cannot hold {} inflated",
                                size_text((out.len() + grow) as u64)
                            ),
                        )
                    })?;
                    out.extend_from_slice(&probe[..n]);
                }
            }
            n
        };
        match read {
            Ok(0) => return Ok(out),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(malformed(0, format!("not a valid gzip stream: {e}"))),
        }
    }
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

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn inflation_stops_at_its_limit() {
        // A small bomb: 4 MB of zeros in about 20 kB, against a limit of 1 MB.
        let zeros = vec![0u8; 4 << 20];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < 40_000, "{}", bomb.len());
        let err = gunzip_within(&bomb, "bomb.gz", 1 << 20, "the limit of a test")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "bomb.gz, byte 0: inflates to more than 1 MB, the limit of a test"
        );
        // Exactly the limit inflates; one byte more does not.
        let exact = gzip(&zeros[..1000]);
        assert_eq!(
            gunzip_within(&exact, "e.gz", 1000, "x").unwrap().len(),
            1000
        );
        let err = gunzip_within(&exact, "e.gz", 999, "x").unwrap_err();
        assert!(err.to_string().contains("more than 999 bytes, x"), "{err}");
        // A trailer that lies about the size changes nothing but the first allocation.
        let mut lying = bomb.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = gunzip_within(&lying, "l.gz", 1 << 20, "x").unwrap_err();
        assert!(err.to_string().contains("more than 1 MB"), "{err}");
        // Below the limit, flate2 checks the trailer: a wrong size is a damaged stream.
        lying[n - 4..].copy_from_slice(&1u32.to_le_bytes());
        let err = gunzip_within(&lying, "l.gz", 8 << 20, "x").unwrap_err();
        assert!(err.to_string().contains("not a valid gzip stream"), "{err}");
        // The idx readers go through the same limit.
        let idx = gzip(&encode_idx(&[4], &[1, 2, 3, 4]));
        assert!(idx_bytes_within(&idx, "i.gz", 5, "x").is_err());
        assert_eq!(idx_bytes_within(&idx, "i.gz", 12, "x").unwrap().len(), 12);
        assert_eq!(MAX_INFLATED_BYTES, 200 << 20);
        assert_eq!(size_text(MAX_INFLATED_BYTES), "200 MB");
    }

    #[test]
    fn the_buffer_never_grows_past_the_limit() {
        // Inflated sizes around the limit and around the first chunk sizes, with a trailer
        // that is right, too small or absent: the bytes are the same and the capacity stays
        // within limit + 1.
        for size in [0usize, 1, 4095, 4096, 4097, 65_536, 70_000, 200_000] {
            let raw: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let gz = gzip(&raw);
            for limit in [size as u64, size as u64 + 1, 2 * size as u64 + 10] {
                let out = gunzip_within(&gz, "g", limit, "x").unwrap();
                assert_eq!(out, raw);
                assert!(out.capacity() as u64 <= limit + 1, "{size} {limit}");
            }
            let mut small = gz.clone();
            let n = small.len();
            small[n - 4..].copy_from_slice(&0u32.to_le_bytes());
            // A wrong trailer is a gzip error (flate2 checks it), never a larger buffer.
            let _ = gunzip_within(&small, "g", size as u64, "x");
            if size > 0 {
                assert!(gunzip_within(&gz, "g", size as u64 - 1, "x").is_err());
            }
        }
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
