//! Deterministic mutations of valid inputs, for the property tests of every decoder (share
//! links, CSV, idx with gzip, model files), natively (`core/tests/decoders.rs`) and in wasm32
//! (the app's `decoder_tests.rs`). Test support, not part of Kindling's API.
//!
//! [`mutants`] turns valid bytes and a seed into numbered mutants, each made by one to four
//! [`Mutation`]s: bit flips, bytes set to 0 or 0xff, truncation, a chunk duplicated, random
//! bytes inserted or a chunk removed, a length field rewritten (at a known position or a random
//! one, 1 to 8 bytes, either byte order) and a decimal number rewritten (for text formats).
//! A mutant is made from its seed and number alone ([`mutant`]), so a failure reported as
//! "mutant 17 of seed 3" is reproduced without the others.
//!
//! [`targets`] lists every decoder with a valid input, its length fields and what its decode
//! of a mutant must do; the native and the wasm32 tests run the same list.

use std::fmt;
use std::io::{Read, Write};

use base64::Engine as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::csv::MAX_CLASSES;
use crate::data::idx::encode_idx;
use crate::data::idx_images::MAX_IMAGES;
use crate::data::upload::{decode_upload, MAX_UPLOAD_BYTES};
use crate::link::{decode_link, encode_fragment};
use crate::model::weights::{load_weights, with_metadata};
use crate::record::{RunRecord, RunStatus, MAX_MODEL_FILE_BYTES, RUN_METADATA_KEY};
use crate::run::RunConfig;
use crate::train::{BatchPoint, EpochMetrics};

/// One change to a byte string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Flips bit `bit` of byte `at`.
    FlipBit {
        /// Byte offset.
        at: usize,
        /// Bit, 0 to 7.
        bit: u8,
    },
    /// Sets byte `at` to `value` (0, 0xff or random).
    SetByte {
        /// Byte offset.
        at: usize,
        /// The new value.
        value: u8,
    },
    /// Keeps the first `len` bytes.
    Truncate {
        /// Bytes kept.
        len: usize,
    },
    /// Copies `len` bytes from `from` and inserts them at `to`.
    Duplicate {
        /// Start of the copied chunk.
        from: usize,
        /// Its length.
        len: usize,
        /// Where the copy goes.
        to: usize,
    },
    /// Inserts `bytes` at `at`.
    Insert {
        /// Byte offset.
        at: usize,
        /// The inserted bytes.
        bytes: Vec<u8>,
    },
    /// Removes `len` bytes from `at`.
    Remove {
        /// Byte offset.
        at: usize,
        /// Bytes removed.
        len: usize,
    },
    /// Writes `value` as a `width`-byte integer at `at` (a length or count field).
    SetLength {
        /// Byte offset.
        at: usize,
        /// 1, 2, 4 or 8 bytes.
        width: u8,
        /// Big-endian (idx) or little-endian (burnpack, links).
        big_endian: bool,
        /// The value written (its low `width` bytes).
        value: u64,
    },
    /// Replaces the `len` ASCII digits at `at` with `text` (a number in CSV or JSON).
    SetNumber {
        /// Byte offset of the digits.
        at: usize,
        /// How many digits.
        len: usize,
        /// The replacement.
        text: String,
    },
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::FlipBit { at, bit } => write!(f, "flip bit {bit} of byte {at}"),
            Mutation::SetByte { at, value } => write!(f, "byte {at} = 0x{value:02x}"),
            Mutation::Truncate { len } => write!(f, "truncate to {len} bytes"),
            Mutation::Duplicate { from, len, to } => {
                write!(f, "copy {len} bytes from {from} to {to}")
            }
            Mutation::Insert { at, bytes } => write!(f, "insert {bytes:02x?} at {at}"),
            Mutation::Remove { at, len } => write!(f, "remove {len} bytes at {at}"),
            Mutation::SetLength {
                at,
                width,
                big_endian,
                value,
            } => write!(
                f,
                "write {value} as a {width}-byte {} integer at {at}",
                if *big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                }
            ),
            Mutation::SetNumber { at, len, text } => {
                write!(f, "replace the {len} digits at {at} with {text:?}")
            }
        }
    }
}

impl Mutation {
    /// Applies the change to `bytes` (positions past the end are clamped to it).
    pub fn apply(&self, bytes: &mut Vec<u8>) {
        let n = bytes.len();
        match *self {
            Mutation::FlipBit { at, bit } => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << (bit & 7);
                }
            }
            Mutation::SetByte { at, value } => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = value;
                }
            }
            Mutation::Truncate { len } => bytes.truncate(len),
            Mutation::Duplicate { from, len, to } => {
                let from = from.min(n);
                let chunk = bytes[from..(from + len).min(n)].to_vec();
                let to = to.min(n);
                bytes.splice(to..to, chunk);
            }
            Mutation::Insert {
                at,
                bytes: ref inserted,
            } => {
                let at = at.min(n);
                bytes.splice(at..at, inserted.iter().copied());
            }
            Mutation::Remove { at, len } => {
                let at = at.min(n);
                bytes.drain(at..(at + len).min(n));
            }
            Mutation::SetLength {
                at,
                width,
                big_endian,
                value,
            } => {
                let width = usize::from(width).min(8);
                let le = value.to_le_bytes();
                for i in 0..width {
                    let byte = if big_endian { le[width - 1 - i] } else { le[i] };
                    if let Some(b) = bytes.get_mut(at + i) {
                        *b = byte;
                    }
                }
            }
            Mutation::SetNumber { at, len, ref text } => {
                let at = at.min(n);
                bytes.splice(at..(at + len).min(n), text.bytes());
            }
        }
    }
}

/// A mutated copy of valid bytes, with how it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutant {
    /// The seed of the series.
    pub seed: u64,
    /// Its number in the series.
    pub index: usize,
    /// The changes, in the order applied.
    pub mutations: Vec<Mutation>,
    /// The mutated bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mutant {} of seed {} (", self.index, self.seed)?;
        for (i, m) in self.mutations.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{m}")?;
        }
        write!(f, ", {} bytes)", self.bytes.len())
    }
}

/// Values written into length fields: edges of 1, 2, 4 and 8-byte integers, and sizes near
/// the input's own.
fn length_value(rng: &mut ChaCha8Rng, len: usize) -> u64 {
    const EDGES: [u64; 14] = [
        0,
        1,
        2,
        0x7f,
        0x80,
        0xff,
        0x100,
        0xffff,
        0x1_0000,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        u64::MAX,
    ];
    match rng.random_range(0..4) {
        0 => (len as u64 + rng.random_range(0..3)).saturating_sub(1),
        1 => (len as u64).saturating_mul(rng.random_range(2..1000)),
        2 => rng.random(),
        _ => EDGES[rng.random_range(0..EDGES.len())],
    }
}

/// Numbers written over a decimal number of a text format.
const NUMBERS: [&str; 16] = [
    "0",
    "1",
    "-1",
    "2",
    "513",
    "1001",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "1e308",
    "-1e308",
    "1e-320",
    "NaN",
    "",
];

/// One random mutation of `bytes`; `length_fields` are offsets of known length fields (they
/// get most length rewrites).
fn random_mutation(rng: &mut ChaCha8Rng, bytes: &[u8], length_fields: &[usize]) -> Mutation {
    let n = bytes.len();
    let at = |rng: &mut ChaCha8Rng| rng.random_range(0..n.max(1));
    // Small chunks mostly, now and then up to the whole input.
    let chunk = |rng: &mut ChaCha8Rng| {
        if rng.random_range(0..4) == 0 {
            rng.random_range(1..=n.max(1))
        } else {
            rng.random_range(1..=16.min(n.max(1)))
        }
    };
    match rng.random_range(0..10) {
        0 | 1 => Mutation::FlipBit {
            at: at(rng),
            bit: rng.random_range(0..8),
        },
        2 => Mutation::SetByte {
            at: at(rng),
            value: [0, 0xff, rng.random()][rng.random_range(0..3)],
        },
        3 => Mutation::Truncate {
            len: rng.random_range(0..=n),
        },
        4 => Mutation::Duplicate {
            from: at(rng),
            len: chunk(rng),
            to: rng.random_range(0..=n),
        },
        5 => Mutation::Insert {
            at: rng.random_range(0..=n),
            bytes: (0..rng.random_range(1..=16))
                .map(|_| rng.random())
                .collect(),
        },
        6 => Mutation::Remove {
            at: at(rng),
            len: chunk(rng),
        },
        7 | 8 => {
            let at = if !length_fields.is_empty() && rng.random_range(0..3) > 0 {
                length_fields[rng.random_range(0..length_fields.len())]
            } else {
                at(rng)
            };
            Mutation::SetLength {
                at,
                width: [1, 2, 4, 8][rng.random_range(0..4)],
                big_endian: rng.random(),
                value: length_value(rng, n),
            }
        }
        _ => {
            // A run of digits (a number of a text format), else a bit flip.
            let start = at(rng);
            let Some(first) = (start..n)
                .chain(0..start)
                .find(|&i| bytes[i].is_ascii_digit())
            else {
                return Mutation::FlipBit {
                    at: at(rng),
                    bit: rng.random_range(0..8),
                };
            };
            let begin = (0..first)
                .rev()
                .take_while(|&i| bytes[i].is_ascii_digit())
                .last()
                .unwrap_or(first);
            let len = bytes[begin..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            Mutation::SetNumber {
                at: begin,
                len,
                text: NUMBERS[rng.random_range(0..NUMBERS.len())].to_string(),
            }
        }
    }
}

/// Mutant number `index` of the series `seed` of `valid`: one to four mutations, applied in
/// turn. `length_fields` are offsets of the format's length fields, if known.
pub fn mutant(valid: &[u8], length_fields: &[usize], seed: u64, index: usize) -> Mutant {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    let mut bytes = valid.to_vec();
    let mutations: Vec<Mutation> = (0..rng.random_range(1..=4))
        .map(|_| {
            let m = random_mutation(&mut rng, &bytes, length_fields);
            m.apply(&mut bytes);
            m
        })
        .collect();
    Mutant {
        seed,
        index,
        mutations,
        bytes,
    }
}

/// The first `count` mutants of the series `seed` of `valid` (see [`mutant`]).
pub fn mutants<'a>(
    valid: &'a [u8],
    length_fields: &'a [usize],
    seed: u64,
    count: usize,
) -> impl Iterator<Item = Mutant> + 'a {
    (0..count).map(move |i| mutant(valid, length_fields, seed, i))
}

/// `bytes` gzip-compressed (fast level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("writing to memory cannot fail");
    gz.finish().expect("writing to memory cannot fail")
}

/// `header` and then `zeros` zero bytes, gzip-compressed a megabyte at a time (no buffer of
/// `zeros` bytes): a gzip bomb of `zeros / 1000` bytes or so.
pub fn gzip_of_zeros(header: &[u8], zeros: usize) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(header).expect("writing to memory cannot fail");
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len());
        gz.write_all(&chunk[..n])
            .expect("writing to memory cannot fail");
        left -= n;
    }
    gz.finish().expect("writing to memory cannot fail")
}

/// The payload of a share link's code (`run=k1.<base64url(deflate(payload))>`, or a whole
/// link): what [`crate::link::decode_link`] reads after base64 and inflation. None when the
/// text is not such a code.
pub fn link_payload(link: &str) -> Option<Vec<u8>> {
    let code = &link[link.find("run=k1.")? + "run=k1.".len()..];
    let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(code)
        .ok()?;
    let mut payload = Vec::new();
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(1 << 24)
        .read_to_end(&mut payload)
        .ok()?;
    Some(payload)
}

/// The fragment (`run=k1....`) that carries `payload`, as [`crate::link::encode_fragment`]
/// packs one: for mutating a link below its compression.
pub fn link_of_payload(payload: &[u8]) -> String {
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate
        .write_all(payload)
        .expect("writing to memory cannot fail");
    let compressed = deflate.finish().expect("writing to memory cannot fail");
    format!(
        "run=k1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed)
    )
}

/// Offsets of the length fields of a link's payload: the header's length (u32), the number
/// of epochs (u16, after the header) and the number of curve points (u16, after the epochs).
pub fn link_length_fields(payload: &[u8]) -> Vec<usize> {
    let Some(json) = payload.get(..4) else {
        return Vec::new();
    };
    let json = u32::from_le_bytes([json[0], json[1], json[2], json[3]]) as usize;
    let epochs_at = 4 + json;
    let epochs = payload
        .get(epochs_at..epochs_at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as usize);
    vec![0, epochs_at, epochs_at + 2 + 8 * epochs]
}

/// A finished run of the `tinytoy-hw1` preset with every epoch and a curve point per epoch:
/// what the link and model-file targets carry.
pub fn sample_run() -> RunRecord {
    let config = RunConfig::preset("tinytoy-hw1").expect("a preset");
    let epochs = config.training.epochs;
    let batches = config
        .dataset
        .train_size()
        .div_ceil(config.training.batch_size);
    RunRecord {
        id: 1,
        name: "toy".into(),
        notes: "a note".into(),
        status: RunStatus::Finished,
        epochs: (1..=epochs)
            .map(|e| EpochMetrics {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_accuracy: 0.5,
                eval_loss: 2.0 / e as f64,
                eval_accuracy: 0.25,
            })
            .collect(),
        curve: (1..=epochs)
            .map(|e| BatchPoint {
                step: e * batches,
                epoch: e,
                loss: 0.5 / e as f64,
                accuracy: 1.0,
            })
            .collect(),
        batches_per_epoch: batches,
        test_accuracy: Some(1.0),
        seconds: 3.5,
        samples_per_second: 10.0,
        created_ms: 1.7e12,
        shared: false,
        has_weights: true,
        config,
    }
}

/// A small CSV upload: a header, 40 rows of three numeric features (one quoted) and a named
/// label (one quoted with a comma).
pub fn sample_csv() -> Vec<u8> {
    let mut text = String::from("x,y,\"z\",label\n");
    for i in 0..40 {
        let label = ["cat", "dog", "\"bird, small\""][i % 3];
        text += &format!(
            "{},{},\"{}\",{label}\n",
            i as f32 / 8.0,
            i % 7,
            -(i as f32) * 1e-3
        );
    }
    text.into_bytes()
}

/// A small idx upload: 12 images of 6x6 pixels and their labels.
pub fn sample_idx_pair() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..12 * 36).map(|i| (i * 37 % 256) as u8).collect();
    let labels: Vec<u8> = (0..12).map(|i| i % 10).collect();
    (encode_idx(&[12, 6, 6], &pixels), encode_idx(&[12], &labels))
}

/// Decodes an input of a target: `Ok` when the decoder accepted it (and what it gave holds
/// together), `Err` with the decoder's message when it refused it. Panics only when a decoder
/// accepts something inconsistent, or panics itself.
pub type Decode = Box<dyn Fn(&[u8]) -> Result<(), String>>;

/// Makes the decoder's input of a mutant (for a link's payload: the link; for an idx file
/// behind gzip: the gzip file), outside what is measured.
pub type Prepare = Box<dyn Fn(&[u8]) -> Vec<u8>>;

/// One decoder under test: a valid input, the offsets of its length fields, how a mutant
/// becomes the decoder's input and the decode, with the most the decode may allocate.
pub struct Target {
    /// What is mutated and decoded ("link payload", "idx behind gzip", ...).
    pub name: &'static str,
    /// The valid input the mutants are made from.
    pub valid: Vec<u8>,
    /// Offsets of its length fields.
    pub length_fields: Vec<usize>,
    /// The decoder's input made of a mutant.
    pub prepare: Prepare,
    /// The decode of a prepared input.
    pub decode: Decode,
    /// The decoder's stated limit, in bytes: it never allocates more (native tests measure it).
    pub stated_limit: u64,
    /// Bytes the decode of a prepared input of this many bytes may allocate at most (native
    /// tests measure it): what keeps a header from making a small input allocate much.
    pub bound: fn(usize) -> u64,
}

/// Checks an accepted upload: its figures match its data and stay within the limits.
fn accepted_upload(files: &[(&str, &[u8])]) -> Result<(), String> {
    let (upload, data) = decode_upload(files).map_err(|e| e.to_string())?;
    assert_eq!(upload.examples, data.len(), "an accepted upload's count");
    assert!(data.len() <= MAX_IMAGES.max(crate::data::csv::MAX_ROWS));
    assert!((2..=MAX_CLASSES).contains(&upload.classes()));
    assert!(data.labels.iter().all(|&l| (l as usize) < data.num_classes));
    Ok(())
}

/// Every decoder with its valid input: share links (as text, and their payload below base64
/// and deflate), a CSV upload, an idx upload (raw images, raw labels, the idx behind gzip, and
/// the gzip bytes), and model files (their bytes, and the run record inside). `weights` are
/// the burnpack weights of [`sample_run`]'s model (made asynchronously, as a browser must).
pub fn targets(weights: Vec<u8>) -> Vec<Target> {
    let run = sample_run();
    let fragment = encode_fragment(&run);
    let payload = link_payload(&fragment).expect("a link carries a payload");
    let link_fields = link_length_fields(&payload);
    let (images, labels) = sample_idx_pair();
    let idx_fields = vec![3, 4, 8, 12];
    let model_file = run.model_file(weights.clone()).expect("a model file");
    // burnpack: the version (u16 at 4) and the metadata's length (u32 at 6).
    let model_fields = vec![4, 6];
    let record_json = serde_json::to_vec(&run).expect("a run serialises");
    let config = run.config.model.clone();
    // Links: at most 16,384 characters, inflated to at most 256 KiB; parsed, at most a few
    // times that.
    let link_limit = 4 << 20;
    // Uploads: the inflated files, and 4 bytes a label.
    let upload_limit = MAX_UPLOAD_BYTES as u64 + 4 * MAX_IMAGES as u64;
    let link = |bytes: &[u8]| -> Result<(), String> {
        let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        let run = decode_link(text).map_err(|e| e.to_string())?;
        assert_eq!(run.config.validate(), Ok(()), "an accepted link's config");
        Ok(())
    };
    let model = move |file: &[u8]| -> Result<(), String> {
        let device = burn::tensor::Device::flex();
        let loaded = load_weights(&config, file.to_vec(), &device).map(|_| ());
        let run = RunRecord::from_model_file(file).map_err(|e| e.to_string())?;
        assert_eq!(run.check_imported(), Ok(()), "an accepted model file's run");
        loaded.map_err(|e| e.to_string())
    };
    let model = std::rc::Rc::new(model);
    let model_of_record = model.clone();
    let same = || -> Prepare { Box::new(|bytes| bytes.to_vec()) };
    let with_labels = |labels: Vec<u8>| -> Decode {
        Box::new(move |images| {
            accepted_upload(&[("images.idx3.gz", images), ("labels.idx1", &labels)])
        })
    };
    vec![
        Target {
            name: "link text",
            valid: fragment.into_bytes(),
            length_fields: Vec::new(),
            prepare: Box::new(|bytes| String::from_utf8_lossy(bytes).into_owned().into_bytes()),
            decode: Box::new(link),
            stated_limit: link_limit,
            bound: |_| 4 << 20,
        },
        Target {
            name: "link payload",
            valid: payload,
            length_fields: link_fields,
            prepare: Box::new(|bytes| link_of_payload(bytes).into_bytes()),
            decode: Box::new(link),
            stated_limit: link_limit,
            bound: |_| 4 << 20,
        },
        Target {
            name: "CSV",
            valid: sample_csv(),
            length_fields: Vec::new(),
            prepare: same(),
            decode: Box::new(|bytes| accepted_upload(&[("data.csv", bytes)])),
            stated_limit: upload_limit,
            // Features (4 bytes a value of at least 2 bytes), a label index a row, the
            // header's names and the distinct labels; the csv crate's buffers.
            bound: |len| 32 * len as u64 + (256 << 10),
        },
        Target {
            name: "idx images",
            valid: images.clone(),
            length_fields: idx_fields.clone(),
            prepare: same(),
            decode: with_labels(labels.clone()),
            stated_limit: upload_limit,
            // A copy of each file (the labels' one is in the margin), 4 bytes a label.
            bound: |len| 8 * len as u64 + (64 << 10),
        },
        Target {
            name: "idx labels",
            valid: labels.clone(),
            length_fields: vec![3, 4],
            prepare: same(),
            decode: Box::new(move |labels| {
                accepted_upload(&[("images.idx3", &images), ("labels.idx1", labels)])
            }),
            stated_limit: upload_limit,
            bound: |len| 8 * len as u64 + (64 << 10),
        },
        Target {
            name: "idx behind gzip",
            valid: sample_idx_pair().0,
            length_fields: idx_fields,
            prepare: Box::new(gzip),
            decode: with_labels(labels.clone()),
            stated_limit: upload_limit,
            // Inflated: at most 1,032 bytes a byte; then as raw idx.
            bound: |len| 1100 * len as u64 + (128 << 10),
        },
        Target {
            name: "gzip bytes",
            valid: gzip(&sample_idx_pair().0),
            length_fields: Vec::new(),
            prepare: same(),
            decode: with_labels(labels),
            stated_limit: upload_limit,
            bound: |len| 1100 * len as u64 + (128 << 10),
        },
        Target {
            name: "model file",
            valid: model_file,
            length_fields: model_fields,
            prepare: same(),
            decode: Box::new(move |bytes| model(bytes)),
            stated_limit: MAX_MODEL_FILE_BYTES as u64,
            // Copies of the file (the metadata read, the record loaded), the model built and
            // its record's JSON.
            bound: |len| 8 * len as u64 + (1 << 20),
        },
        Target {
            name: "model file's run",
            valid: record_json,
            length_fields: Vec::new(),
            prepare: Box::new(move |json| {
                with_metadata(
                    weights.clone(),
                    RUN_METADATA_KEY,
                    &String::from_utf8_lossy(json),
                )
                .expect("weights take any metadata")
            }),
            decode: Box::new(move |bytes| model_of_record(bytes)),
            stated_limit: MAX_MODEL_FILE_BYTES as u64,
            bound: |len| 8 * len as u64 + (1 << 20),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_are_reproducible_and_varied() {
        let valid: Vec<u8> = (0..200u8).collect();
        let series: Vec<Mutant> = mutants(&valid, &[4, 8], 3, 300).collect();
        assert_eq!(series[17], mutant(&valid, &[4, 8], 3, 17));
        assert_ne!(series[17], mutant(&valid, &[4, 8], 4, 17));
        assert!(series.iter().all(|m| (1..=4).contains(&m.mutations.len())));
        assert!(series.iter().filter(|m| m.bytes != valid).count() > 280);
        let kinds =
            |f: fn(&Mutation) -> bool| series.iter().filter(|m| m.mutations.iter().any(f)).count();
        for (name, count) in [
            ("flip", kinds(|m| matches!(m, Mutation::FlipBit { .. }))),
            ("set", kinds(|m| matches!(m, Mutation::SetByte { .. }))),
            (
                "truncate",
                kinds(|m| matches!(m, Mutation::Truncate { .. })),
            ),
            (
                "duplicate",
                kinds(|m| matches!(m, Mutation::Duplicate { .. })),
            ),
            ("insert", kinds(|m| matches!(m, Mutation::Insert { .. }))),
            ("remove", kinds(|m| matches!(m, Mutation::Remove { .. }))),
            ("length", kinds(|m| matches!(m, Mutation::SetLength { .. }))),
            ("number", kinds(|m| matches!(m, Mutation::SetNumber { .. }))),
        ] {
            assert!(count > 10, "{name}: {count}");
        }
        let shown = series[0].to_string();
        assert!(shown.starts_with("mutant 0 of seed 3 ("), "{shown}");
    }

    #[test]
    fn mutations_do_what_they_say() {
        let mut b = vec![1, 2, 3, 4, 5];
        Mutation::SetLength {
            at: 1,
            width: 2,
            big_endian: true,
            value: 0x0a0b,
        }
        .apply(&mut b);
        assert_eq!(b, [1, 0x0a, 0x0b, 4, 5]);
        Mutation::Duplicate {
            from: 3,
            len: 9,
            to: 0,
        }
        .apply(&mut b);
        assert_eq!(b, [4, 5, 1, 0x0a, 0x0b, 4, 5]);
        let mut text = b"x,12,y".to_vec();
        Mutation::SetNumber {
            at: 2,
            len: 2,
            text: "1e308".into(),
        }
        .apply(&mut text);
        assert_eq!(text, b"x,1e308,y");
        // Positions past the end are clamped, never a panic.
        for m in [
            Mutation::Remove { at: 99, len: 9 },
            Mutation::Insert {
                at: 99,
                bytes: vec![7],
            },
            Mutation::FlipBit { at: 99, bit: 9 },
        ] {
            m.apply(&mut text);
        }
        assert_eq!(text.last(), Some(&7));
    }

    #[test]
    fn link_payloads_round_trip() {
        let payload = b"\x05\x00\x00\x00hello\x00\x00\x00\x00".to_vec();
        let fragment = link_of_payload(&payload);
        assert_eq!(link_payload(&fragment), Some(payload.clone()));
        assert_eq!(
            link_payload(&format!("http://x/#{fragment}")),
            Some(payload.clone())
        );
        assert_eq!(link_length_fields(&payload), vec![0, 9, 11]);
    }
}
