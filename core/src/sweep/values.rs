//! The values of a sweep axis as the user types them: a list (`1, 0.1, 0.01`), a stepped
//! range (`0.001..0.01 step 0.001`) or a log range (`1e-5..1 log 6`).

use super::{SweepError, MAX_SWEEP_RUNS};

/// Parses a list of values: `1, 0.1, 0.01`, a range `0.001..0.01 step 0.001`, or a log range
/// `1e-5..1 log 6` (6 values evenly spaced in log scale).
pub fn parse_values(text: &str) -> Result<Vec<f64>, SweepError> {
    let text = text.trim();
    let number = |s: &str| -> Result<f64, SweepError> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| SweepError::NotANumber(s.trim().to_string()))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(SweepError::NotFinite(v))
        }
    };
    if let Some((from, rest)) = text.split_once("..") {
        let from = number(from)?;
        let (to, how) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or(SweepError::RangeWithoutSpacing)?;
        let to = number(to)?;
        let how = how.trim();
        let values: Vec<f64> = if let Some(step) = how.strip_prefix("step") {
            let step = number(step)?;
            if step <= 0.0 || to < from {
                return Err(SweepError::BadStep);
            }
            // u64 (saturating): a huge range gives the same refusal on wasm32 as natively.
            let n = (((to - from) / step + 1e-9).floor() as u64).saturating_add(1);
            if n > MAX_SWEEP_RUNS as u64 {
                return Err(SweepError::TooManyValues(n));
            }
            let n = n as usize;
            (0..n)
                .map(|i| {
                    let v = from + i as f64 * step;
                    (v * 1e12).round() / 1e12
                })
                .collect()
        } else if let Some(n) = how.strip_prefix("log") {
            let n = number(n)? as usize;
            if from <= 0.0 || to <= 0.0 || !(2..=MAX_SWEEP_RUNS).contains(&n) {
                return Err(SweepError::BadLogRange);
            }
            let (a, b) = (from.log10(), to.log10());
            (0..n)
                .map(|i| {
                    let v = 10f64.powf(a + (b - a) * i as f64 / (n - 1) as f64);
                    let digits = 10f64.powi(6 - v.log10().floor() as i32);
                    (v * digits).round() / digits
                })
                .collect()
        } else {
            return Err(SweepError::RangeWithoutSpacing);
        };
        return Ok(values);
    }
    let values: Vec<f64> = text
        .split([',', ' ', ';'])
        .filter(|s| !s.trim().is_empty())
        .map(number)
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err(SweepError::NoValues);
    }
    if values.len() > MAX_SWEEP_RUNS {
        return Err(SweepError::TooManyValues(values.len() as u64));
    }
    Ok(values)
}
