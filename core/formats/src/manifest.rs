//! `manifest.json`: what `cargo xtask data` converted (datasets, split sizes, shapes, and each
//! file's size and sha256), read back by the browser to check what it downloaded or cached.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::DataError;

/// The manifest's path under the data folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One converted file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AssetFile {
    /// Path under the data folder.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// sha256 of the file.
    pub sha256: String,
}

/// One dataset in the manifest.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AssetEntry {
    /// Dataset name.
    pub name: String,
    /// Split sizes, e.g. {"train": 60000, "test": 10000}.
    pub splits: Vec<(String, usize)>,
    /// Shape of one example.
    pub shape: Vec<usize>,
    /// Files.
    pub files: Vec<AssetFile>,
}

/// `data/manifest.json`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    /// Datasets converted.
    pub datasets: Vec<AssetEntry>,
}

impl Manifest {
    /// Parses `manifest.json`.
    pub fn parse(bytes: &[u8]) -> Result<Self, DataError> {
        serde_json::from_slice(bytes).map_err(|e| DataError::Malformed {
            file: MANIFEST_FILE.into(),
            position: e.column(),
            message: format!("line {}: {e}", e.line()),
        })
    }

    /// The entry of the file at `path` (under the data folder).
    pub fn file(&self, path: &str) -> Option<&AssetFile> {
        self.datasets
            .iter()
            .flat_map(|d| &d.files)
            .find(|f| f.path == path)
    }
}

impl AssetFile {
    /// Checks that `bytes` are this file: its size, then its sha256.
    pub fn check(&self, bytes: &[u8]) -> Result<(), DataError> {
        if bytes.len() as u64 != self.bytes {
            return Err(DataError::Malformed {
                file: self.path.clone(),
                position: bytes.len(),
                message: format!(
                    "{} bytes, but the manifest says {}: the download was cut short or the data changed",
                    bytes.len(),
                    self.bytes
                ),
            });
        }
        let digest = sha256_hex(bytes);
        if digest != self.sha256 {
            return Err(DataError::Malformed {
                file: self.path.clone(),
                position: 0,
                message: format!(
                    "sha256 {digest} differs from the manifest's {}",
                    self.sha256
                ),
            });
        }
        Ok(())
    }
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_hex_of_parts(&[bytes])
}

/// Bytes hashed per call of the hasher. In the browser, a WebAssembly function runs its
/// baseline (Liftoff) code until V8's optimised code for it is ready, which a call already
/// running never switches to: MNIST's 47 MB of training images hashed in one call took 1,988 ms
/// on a first visit, its 7.8 MB of test images right after 28 ms. Calls of 64 KiB get the
/// optimised code after the first few.
const HASHED_PER_CALL: usize = 1 << 16;

/// Lowercase hex sha256 of `parts` one after another (as if concatenated, without copying).
pub fn sha256_hex_of_parts(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        for piece in part.chunks(HASHED_PER_CALL) {
            hasher.update(piece);
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_fed_in_pieces_is_the_digest_of_the_whole() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Parts and pieces that straddle HASHED_PER_CALL's boundaries.
        let bytes: Vec<u8> = (0..3 * HASHED_PER_CALL + 77)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let whole: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sha256_hex(&bytes), whole);
        let (a, b) = bytes.split_at(HASHED_PER_CALL + 5);
        assert_eq!(sha256_hex_of_parts(&[a, b]), whole);
    }

    #[test]
    fn files_are_checked_by_size_and_digest() {
        let file = AssetFile {
            path: "x/y".into(),
            bytes: 3,
            sha256: sha256_hex(b"abc"),
        };
        assert!(file.check(b"abc").is_ok());
        assert!(file
            .check(b"ab")
            .unwrap_err()
            .to_string()
            .contains("cut short"));
        assert!(file
            .check(b"abd")
            .unwrap_err()
            .to_string()
            .contains("sha256"));
        let manifest = Manifest {
            datasets: vec![AssetEntry {
                name: "X".into(),
                splits: vec![("train".into(), 1)],
                shape: vec![1],
                files: vec![file.clone()],
            }],
        };
        let text = serde_json::to_vec(&manifest).unwrap();
        let back = Manifest::parse(&text).unwrap();
        assert_eq!(back.file("x/y"), Some(&file));
        assert!(Manifest::parse(b"{ nope").is_err());
    }
}
