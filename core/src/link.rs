//! Share links: a run (config, seed, how it ended, its metrics and a downsampled curve) in a
//! URL fragment, `#run=k1.<base64url(deflate(payload))>`. Versioned, compact (a typical run is
//! well under 2,000 characters), and decoding never panics: a tampered, truncated, oversized
//! or unknown-version link gives a [`LinkError`] that says what is wrong.
//!
//! Payload of version `k1`: a u32 length and a JSON header (config, status, name, figures),
//! then the epochs (u16 count; per epoch four u16: train loss, train accuracy, held-out loss,
//! held-out accuracy) and the curve (u16 count; per point a varint step delta, u16 loss, u16
//! accuracy). Losses are quantised on a log scale (relative error under 0.03%), accuracies
//! linearly (absolute error under 1e-5); on a regression set the accuracy figure is R² (at most
//! 1, below 0 for a model worse than the mean), carried as 1 - R² on the losses' scale.

use std::io::{Read, Write};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::record::{downsample, RunRecord, RunStatus};
use crate::run::RunConfig;
use crate::train::{BatchPoint, EpochMetrics};

/// The version tag of links this build writes.
pub const LINK_VERSION: &str = "k1";
/// Longest link accepted, in characters.
pub const MAX_LINK_CHARS: usize = 16_384;
/// Largest decompressed payload accepted, in bytes.
pub const MAX_LINK_PAYLOAD_BYTES: u64 = 256 * 1024;
/// Curve points a link carries.
pub const LINK_CURVE_POINTS: usize = 80;
/// The fragment key.
const KEY: &str = "run=";

/// Why a link cannot be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinkError {
    /// No `#run=` part.
    #[error("this is not a Kindling run link: it has no '#run=' part")]
    NotALink,
    /// Another version than this build reads.
    #[error(
        "this link has version '{0}', which this Kindling cannot read (it reads '{LINK_VERSION}'): \
         open it with the Kindling that made it"
    )]
    UnknownVersion(String),
    /// Longer than [`MAX_LINK_CHARS`].
    #[error(
        "this link is {0} characters long, more than the {MAX_LINK_CHARS} a run link can have"
    )]
    Oversized(usize),
    /// Not decodable: changed or cut short.
    #[error("this link is damaged ({0}): was it changed, or cut short when copied?")]
    Damaged(String),
    /// Decodes, but its run is not one Kindling can train.
    #[error("this link's run is not valid: {0}")]
    InvalidRun(String),
}

#[derive(Serialize, Deserialize)]
struct Header {
    name: String,
    config: RunConfig,
    status: RunStatus,
    test_accuracy: Option<f64>,
    seconds: f64,
    samples_per_second: f64,
    batches_per_epoch: usize,
    created_ms: f64,
}

const LOG_MIN: f64 = -8.0;
const LOG_SPAN: f64 = 12.0;
const NON_FINITE: u16 = u16::MAX;

fn quantise_loss(loss: f64) -> u16 {
    if !loss.is_finite() {
        return NON_FINITE;
    }
    let l = (loss.max(1e-8).log10() - LOG_MIN) / LOG_SPAN;
    (l.clamp(0.0, 1.0) * (NON_FINITE - 1) as f64).round() as u16
}

fn loss_of(q: u16) -> f64 {
    if q == NON_FINITE {
        return f64::NAN;
    }
    10f64.powf(q as f64 / (NON_FINITE - 1) as f64 * LOG_SPAN + LOG_MIN)
}

fn quantise_accuracy(a: f64) -> u16 {
    (a.clamp(0.0, 1.0) * u16::MAX as f64).round() as u16
}

fn accuracy_of(q: u16) -> f64 {
    q as f64 / u16::MAX as f64
}

/// The accuracy figure of a run on `regression` data, quantised: a share, or R² (as 1 - R² on
/// the losses' log scale, which keeps R² near 1 precise and any R² below 0).
fn quantise_figure(a: f64, regression: bool) -> u16 {
    if regression {
        quantise_loss(1.0 - a)
    } else {
        quantise_accuracy(a)
    }
}

fn figure_of(q: u16, regression: bool) -> f64 {
    if regression {
        1.0 - loss_of(q)
    } else {
        accuracy_of(q)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A bounds-checked reader of the payload.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], LinkError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| LinkError::Damaged(format!("it ends early, at byte {}", self.at)))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u16(&mut self) -> Result<u16, LinkError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, LinkError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn varint(&mut self) -> Result<u64, LinkError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(LinkError::Damaged("a number is too long".into()))
    }
}

/// The fragment (`run=k1....`, without `#`) that carries `record`.
pub fn encode_fragment(record: &RunRecord) -> String {
    let header = Header {
        name: record.name.clone(),
        config: record.config.clone(),
        status: record.status.clone(),
        test_accuracy: record.test_accuracy,
        seconds: record.seconds,
        samples_per_second: record.samples_per_second,
        batches_per_epoch: record.batches_per_epoch,
        created_ms: record.created_ms,
    };
    let json = serde_json::to_vec(&header).expect("a run header always serialises");
    let mut payload = Vec::with_capacity(json.len() + 1024);
    payload.extend((json.len() as u32).to_le_bytes());
    payload.extend(&json);
    let regression = record.config.dataset.is_regression();
    let epochs = &record.epochs[..record.epochs.len().min(u16::MAX as usize)];
    payload.extend((epochs.len() as u16).to_le_bytes());
    for e in epochs {
        for q in [
            quantise_loss(e.train_loss),
            quantise_figure(e.train_accuracy, regression),
            quantise_loss(e.eval_loss),
            quantise_figure(e.eval_accuracy, regression),
        ] {
            payload.extend(q.to_le_bytes());
        }
    }
    let curve = downsample(&record.curve, LINK_CURVE_POINTS);
    payload.extend((curve.len() as u16).to_le_bytes());
    let mut previous = 0usize;
    for p in &curve {
        put_varint(&mut payload, p.step.saturating_sub(previous) as u64);
        previous = p.step;
        payload.extend(quantise_loss(p.loss).to_le_bytes());
        payload.extend(quantise_figure(p.accuracy, regression).to_le_bytes());
    }
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate
        .write_all(&payload)
        .expect("writing to memory cannot fail");
    let compressed = deflate.finish().expect("writing to memory cannot fail");
    format!(
        "{KEY}{LINK_VERSION}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed)
    )
}

/// A full link: `base` (the page's address, any fragment dropped) with the run's fragment.
pub fn encode_link(base: &str, record: &RunRecord) -> String {
    let base = base.split('#').next().unwrap_or(base);
    format!("{base}#{}", encode_fragment(record))
}

/// Reads the run out of a link, a fragment (`#run=...` or `run=...`) or the bare `k1....`
/// code. The run comes back with id 0, `shared` set and the epochs' batch points placed.
pub fn decode_link(text: &str) -> Result<RunRecord, LinkError> {
    let text = text.trim();
    if text.len() > MAX_LINK_CHARS {
        return Err(LinkError::Oversized(text.len()));
    }
    let code = if let Some(at) = text.find(KEY) {
        let rest = &text[at + KEY.len()..];
        rest.split('&').next().unwrap_or(rest)
    } else if text.starts_with("k") && text.contains('.') && !text.contains('/') {
        text
    } else {
        return Err(LinkError::NotALink);
    };
    let (version, data) = code
        .split_once('.')
        .ok_or_else(|| LinkError::Damaged("no version tag".into()))?;
    if version != LINK_VERSION {
        let shown: String = version.chars().take(12).collect();
        return Err(LinkError::UnknownVersion(shown));
    }
    let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .map_err(|e| LinkError::Damaged(format!("not base64url: {e}")))?;
    let mut payload = Vec::new();
    flate2::read::DeflateDecoder::new(compressed.as_slice())
        .take(MAX_LINK_PAYLOAD_BYTES + 1)
        .read_to_end(&mut payload)
        .map_err(|e| LinkError::Damaged(format!("not a compressed run: {e}")))?;
    if payload.len() as u64 > MAX_LINK_PAYLOAD_BYTES {
        return Err(LinkError::Oversized(text.len()));
    }
    let mut c = Cursor {
        bytes: &payload,
        at: 0,
    };
    let json_len = c.u32()? as usize;
    let header: Header = serde_json::from_slice(c.take(json_len)?)
        .map_err(|e| LinkError::Damaged(format!("its run description does not read: {e}")))?;
    header
        .config
        .validate()
        .map_err(|e| LinkError::InvalidRun(e.to_string()))?;
    for (what, v) in [
        ("seconds", header.seconds),
        ("samples per second", header.samples_per_second),
        ("creation time", header.created_ms),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(LinkError::InvalidRun(format!("{what} is {v}")));
        }
    }
    let regression = header.config.dataset.is_regression();
    if let Some(a) = header.test_accuracy {
        if !((0.0..=1.0).contains(&a) || (regression && a <= 1.0)) {
            return Err(LinkError::InvalidRun(format!("test accuracy is {a}")));
        }
    }
    let n_epochs = c.u16()? as usize;
    if n_epochs > header.config.training.epochs {
        return Err(LinkError::InvalidRun(format!(
            "{n_epochs} epochs recorded for a run of {}",
            header.config.training.epochs
        )));
    }
    let mut epochs = Vec::with_capacity(n_epochs);
    for i in 0..n_epochs {
        epochs.push(EpochMetrics {
            epoch: i + 1,
            train_loss: loss_of(c.u16()?),
            train_accuracy: figure_of(c.u16()?, regression),
            eval_loss: loss_of(c.u16()?),
            eval_accuracy: figure_of(c.u16()?, regression),
        });
    }
    let n_points = c.u16()? as usize;
    let mut curve = Vec::with_capacity(n_points.min(LINK_CURVE_POINTS * 4));
    let mut step = 0u64;
    let per_epoch = header.batches_per_epoch.max(1) as u64;
    for _ in 0..n_points {
        step = step
            .checked_add(c.varint()?)
            .filter(|&s| s <= u32::MAX as u64)
            .ok_or_else(|| LinkError::Damaged("a curve step is out of range".into()))?;
        curve.push(BatchPoint {
            step: step as usize,
            epoch: (step.saturating_sub(1) / per_epoch + 1) as usize,
            loss: loss_of(c.u16()?),
            accuracy: figure_of(c.u16()?, regression),
        });
    }
    if c.at != payload.len() {
        return Err(LinkError::Damaged(format!(
            "{} unexpected bytes at its end",
            payload.len() - c.at
        )));
    }
    let record = RunRecord {
        id: 0,
        name: header
            .name
            .chars()
            .take(crate::record::MAX_RUN_NAME_CHARS)
            .collect(),
        notes: String::new(),
        config: header.config,
        status: header.status,
        epochs,
        curve,
        batches_per_epoch: header.batches_per_epoch,
        test_accuracy: header.test_accuracy,
        seconds: header.seconds,
        samples_per_second: header.samples_per_second,
        created_ms: header.created_ms,
        shared: true,
        has_weights: false,
    };
    // As strict as an imported model file's run: epochs, batches and curve consistent with
    // the config.
    record.check_imported().map_err(LinkError::InvalidRun)?;
    Ok(record)
}

/// How far apart two curves are: the largest relative difference of their losses at the same
/// steps (points only one curve has are ignored), and the largest absolute difference of their
/// accuracies. What "the reproduced curve matches" is measured with.
pub fn curve_distance(a: &[BatchPoint], b: &[BatchPoint]) -> (f64, f64) {
    let mut loss: f64 = 0.0;
    let mut accuracy: f64 = 0.0;
    for p in a {
        if let Some(q) = b.iter().find(|q| q.step == p.step) {
            if p.loss.is_finite() && q.loss.is_finite() {
                loss = loss.max((p.loss - q.loss).abs() / p.loss.abs().max(1e-12));
            }
            accuracy = accuracy.max((p.accuracy - q.accuracy).abs());
        }
    }
    (loss, accuracy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::PRESETS;

    fn record(preset: &str, epochs: usize, batches: usize) -> RunRecord {
        let mut config = RunConfig::preset(preset).unwrap();
        config.training.epochs = config.training.epochs.max(epochs);
        let epochs: Vec<EpochMetrics> = (1..=epochs)
            .map(|e| EpochMetrics {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_accuracy: 1.0 - 0.5 / e as f64,
                eval_loss: 1.1 / e as f64,
                eval_accuracy: 0.98 - 0.4 / e as f64,
            })
            .collect();
        let curve: Vec<BatchPoint> = (1..=batches)
            .map(|s| BatchPoint {
                step: s,
                epoch: (s - 1) / 100 + 1,
                loss: 2.3 / (1.0 + s as f64 / 10.0),
                accuracy: (s as f64 / batches as f64).min(0.99),
            })
            .collect();
        RunRecord {
            id: 7,
            name: format!("{preset} run"),
            notes: "not shared".into(),
            config,
            status: RunStatus::Finished,
            epochs,
            curve: downsample(&curve, crate::record::MAX_CURVE_POINTS),
            batches_per_epoch: 100,
            test_accuracy: Some(0.9731),
            seconds: 12.5,
            samples_per_second: 14000.0,
            created_ms: 1.7e12,
            shared: false,
            has_weights: false,
        }
    }

    /// "Run natively" copies a command whose quoted link decodes to the run's config, and
    /// whose weights file is named after the run.
    #[test]
    fn the_native_command_carries_the_run() {
        let mut r = record("mlp-keras", 3, 300);
        r.name = "My run: lr 0.1!".into();
        let link = encode_link("http://127.0.0.1:8080/", &r);
        let command = r.native_command(&link);
        let prefix = "cargo run --release -p kindling-cli -- train --link '";
        assert!(command.starts_with(prefix), "{command}");
        let quoted = &command[prefix.len()..command.rfind('\'').unwrap()];
        assert_eq!(quoted, link);
        assert_eq!(decode_link(quoted).unwrap().config, r.config);
        assert!(
            command.ends_with(
                "' --weights my-run--lr-0-1.bpk && cargo run --release -p kindling-cli -- \
                 export --weights my-run--lr-0-1.bpk --out my-run--lr-0-1"
            ),
            "{command}"
        );
        r.name = "???".into();
        assert!(r.native_command("x'y").contains("'x'\\''y'"));
        assert!(r
            .native_command("x")
            .ends_with("--weights kindling-run.bpk --out kindling-run"));
    }

    #[test]
    fn links_round_trip_and_stay_short() {
        for preset in PRESETS.iter().map(|p| p.name) {
            let r = record(preset, 30, 3000);
            let fragment = encode_fragment(&r);
            let link = format!("http://127.0.0.1:8080/#{fragment}");
            assert!(link.len() < 2000, "{preset}: {} characters", link.len());
            let back = decode_link(&link).unwrap();
            assert_eq!(back.config, r.config);
            assert_eq!(back.test_accuracy, r.test_accuracy);
            assert_eq!(back.status, r.status);
            assert_eq!(back.epochs.len(), 30);
            assert!(back.shared && back.notes.is_empty());
            for (a, b) in back.epochs.iter().zip(&r.epochs) {
                assert!((a.eval_accuracy - b.eval_accuracy).abs() < 1e-4);
                assert!((a.train_loss - b.train_loss).abs() / b.train_loss < 1e-3);
            }
            let shown = downsample(&r.curve, LINK_CURVE_POINTS);
            let (dl, da) = curve_distance(&shown, &back.curve);
            assert!(dl < 1e-3 && da < 1e-4, "{dl} {da}");
            assert_eq!(back.curve.len(), shown.len());
        }
    }

    /// A regression run's R² (negative in its first batches) comes back through a link, and
    /// through the checks an imported model file's run goes through.
    #[test]
    fn a_regression_run_s_r2_below_0_survives_a_link() {
        let mut r = record("spiral-mlp", 5, 200);
        r.config.dataset = crate::DatasetConfig::Toy(crate::data::ToyConfig::new(
            crate::data::ToyKind::GaussianBump,
        ));
        if let crate::model::ModelConfig::Mlp(m) = &mut r.config.model {
            m.outputs = 1;
            m.output_activation = crate::model::Activation::Linear;
        }
        r.config.training.loss = crate::train::LossKind::MeanSquaredError;
        for (i, p) in r.curve.iter_mut().enumerate() {
            p.accuracy = -3.0 + i as f64 * 0.02;
        }
        r.epochs[0].eval_accuracy = -0.25;
        r.test_accuracy = Some(-0.125);
        assert!(r.check_imported().is_ok(), "{:?}", r.check_imported());
        let back = decode_link(&encode_link("http://x/", &r)).unwrap();
        assert_eq!(back.test_accuracy, Some(-0.125));
        assert!((back.epochs[0].eval_accuracy + 0.25).abs() < 1e-3);
        let shown = downsample(&r.curve, LINK_CURVE_POINTS);
        let (_, da) = curve_distance(&shown, &back.curve);
        assert!(da < 2e-3, "{da}");
        // R² above 1 cannot be.
        r.test_accuracy = Some(1.5);
        assert!(r.check_imported().is_err());
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        let good = encode_link("http://x/", &record("mlp-keras", 10, 50));
        assert_eq!(decode_link("http://x/#nothing"), Err(LinkError::NotALink));
        assert!(matches!(
            decode_link(&good.replace("run=k1.", "run=k9.")),
            Err(LinkError::UnknownVersion(v)) if v == "k9"
        ));
        let cut = &good[..good.len() - 40];
        assert!(
            matches!(decode_link(cut), Err(LinkError::Damaged(_))),
            "{:?}",
            decode_link(cut)
        );
        let long = format!("{good}{}", "A".repeat(MAX_LINK_CHARS));
        assert!(matches!(decode_link(&long), Err(LinkError::Oversized(_))));
        // A decodable link with an absurd config is refused as invalid.
        let mut absurd = record("mlp-keras", 10, 50);
        absurd.config.training.optimizer.learning_rate = 1e9;
        assert!(matches!(
            decode_link(&encode_link("http://x/", &absurd)),
            Err(LinkError::InvalidRun(_))
        ));
    }

    #[test]
    fn mutated_links_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let good = encode_fragment(&record("cnn-seed", 12, 400));
        let alphabet: Vec<char> =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=%#&"
                .chars()
                .collect();
        for _ in 0..3000 {
            let mut chars: Vec<char> = good.chars().collect();
            for _ in 0..rng.random_range(1..6) {
                let i = rng.random_range(0..chars.len());
                match rng.random_range(0..3) {
                    0 => chars[i] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        chars.remove(i);
                    }
                    _ => chars.insert(i, alphabet[rng.random_range(0..alphabet.len())]),
                }
            }
            let text: String = chars.into_iter().collect();
            if let Ok(r) = decode_link(&text) {
                assert!(r.config.validate().is_ok());
            }
        }
        for _ in 0..2000 {
            let len = rng.random_range(0..300);
            let text: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let _ = decode_link(&format!("run=k1.{text}"));
            let _ = decode_link(&text);
        }
    }
}
