//! Sweeps: a base run and one or more fields with lists of values; the grid is every
//! combination. The presets reproduce the seed notebooks' sweeps.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::model::ModelConfig;
use crate::run::{ConfigError, RunConfig};
use crate::DatasetConfig;

/// Most runs one sweep may queue.
pub const MAX_SWEEP_RUNS: usize = 200;

/// A config field a sweep can vary.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum SweepField {
    /// The optimizer's learning rate.
    LearningRate,
    /// Units of hidden layer N (MLP), or the recurrent units (LSTM/GRU).
    Units(usize),
    /// Dropout after hidden layer N (MLP), or after the embedding (LSTM/GRU).
    Dropout(usize),
    /// L2 penalty of hidden layer N (MLP).
    L2(usize),
    /// Batch size.
    BatchSize,
    /// Epochs.
    Epochs,
    /// Training seed.
    Seed,
    /// IMDB dictionary size (dataset and model together).
    DictSize,
    /// IMDB example length (dataset and model together).
    ExampleLen,
    /// Embedding length.
    EmbeddingLen,
    /// Training-set size.
    TrainSize,
}

impl SweepField {
    /// Every field, for pickers (layer fields for the first two layers).
    pub const ALL: [SweepField; 14] = [
        SweepField::LearningRate,
        SweepField::Units(0),
        SweepField::Units(1),
        SweepField::Dropout(0),
        SweepField::Dropout(1),
        SweepField::L2(0),
        SweepField::L2(1),
        SweepField::BatchSize,
        SweepField::Epochs,
        SweepField::Seed,
        SweepField::DictSize,
        SweepField::ExampleLen,
        SweepField::EmbeddingLen,
        SweepField::TrainSize,
    ];

    /// A short name, e.g. `learning_rate` or `units[1]`.
    pub fn name(&self) -> String {
        match self {
            SweepField::LearningRate => "learning_rate".into(),
            SweepField::Units(i) => format!("units[{i}]"),
            SweepField::Dropout(i) => format!("dropout[{i}]"),
            SweepField::L2(i) => format!("l2[{i}]"),
            SweepField::BatchSize => "batch_size".into(),
            SweepField::Epochs => "epochs".into(),
            SweepField::Seed => "seed".into(),
            SweepField::DictSize => "dict_size".into(),
            SweepField::ExampleLen => "example_len".into(),
            SweepField::EmbeddingLen => "embedding_len".into(),
            SweepField::TrainSize => "train_size".into(),
        }
    }

    /// Parses [`SweepField::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .or_else(|| {
                let (head, rest) = name.split_once('[')?;
                let i: usize = rest.strip_suffix(']')?.parse().ok()?;
                match head {
                    "units" => Some(SweepField::Units(i)),
                    "dropout" => Some(SweepField::Dropout(i)),
                    "l2" => Some(SweepField::L2(i)),
                    _ => None,
                }
            })
    }

    /// Sets this field of `config` to `value`; an error when the config has no such field.
    pub fn apply(&self, config: &mut RunConfig, value: f64) -> Result<(), String> {
        let missing = || format!("{} does not exist in this model", self.name());
        let count = value.max(0.0).round() as usize;
        match (self, &mut config.model) {
            (SweepField::LearningRate, _) => config.training.optimizer.learning_rate = value,
            (SweepField::BatchSize, _) => config.training.batch_size = count,
            (SweepField::Epochs, _) => config.training.epochs = count,
            (SweepField::Seed, _) => config.training.seed = count as u64,
            (SweepField::TrainSize, _) => config.dataset.set_train_size(count),
            (SweepField::Units(i), ModelConfig::Mlp(m)) => {
                m.hidden.get_mut(*i).ok_or_else(missing)?.units = count
            }
            (SweepField::Dropout(i), ModelConfig::Mlp(m)) => {
                m.hidden.get_mut(*i).ok_or_else(missing)?.dropout = value
            }
            (SweepField::L2(i), ModelConfig::Mlp(m)) => {
                m.hidden.get_mut(*i).ok_or_else(missing)?.l2 = value
            }
            (SweepField::Units(0), ModelConfig::Sequence(s)) => s.units = count,
            (SweepField::Dropout(0), ModelConfig::Sequence(s)) => s.dropout = value,
            (SweepField::EmbeddingLen, ModelConfig::Sequence(s)) => s.embedding_len = count,
            (SweepField::DictSize, ModelConfig::Sequence(s)) => {
                s.dict_size = count;
                if let DatasetConfig::Imdb(d) = &mut config.dataset {
                    d.dict_size = count;
                }
            }
            (SweepField::ExampleLen, ModelConfig::Sequence(s)) => {
                s.example_len = count;
                if let DatasetConfig::Imdb(d) = &mut config.dataset {
                    d.example_len = count;
                }
            }
            _ => return Err(missing()),
        }
        Ok(())
    }
}

/// One swept field and its values.
#[derive(Config, Debug, PartialEq)]
pub struct SweepAxis {
    /// The field.
    pub field: SweepField,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// A base run and the axes of the grid.
#[derive(Config, Debug, PartialEq)]
pub struct SweepGrid {
    /// The run every grid point starts from.
    pub base: RunConfig,
    /// The fields varied (the grid is every combination of their values).
    pub axes: Vec<SweepAxis>,
}

/// One run of a sweep: its values (one per axis) and its config.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// The value of each axis.
    pub values: Vec<f64>,
    /// The run.
    pub config: RunConfig,
}

impl SweepPoint {
    /// A label such as `learning_rate=0.01 units[0]=300`.
    pub fn label(&self, axes: &[SweepAxis]) -> String {
        axes.iter()
            .zip(&self.values)
            .map(|(a, v)| format!("{}={}", a.field.name(), v))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl SweepGrid {
    /// Every combination, first axis slowest; each config validated (the first problem is
    /// returned, naming the grid point).
    pub fn points(&self) -> Result<Vec<SweepPoint>, ConfigError> {
        let total = self
            .axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .unwrap_or(usize::MAX);
        if self.axes.is_empty() || total == 0 || total > MAX_SWEEP_RUNS {
            return Err(ConfigError {
                field: "sweep".into(),
                value: total.to_string(),
                message: format!(
                    "a sweep has 1..={MAX_SWEEP_RUNS} runs (every axis needs a value)"
                ),
            });
        }
        let mut out = Vec::with_capacity(total);
        for index in 0..total {
            let mut rest = index;
            let mut values = vec![0.0; self.axes.len()];
            for (k, axis) in self.axes.iter().enumerate().rev() {
                values[k] = axis.values[rest % axis.values.len()];
                rest /= axis.values.len();
            }
            let mut config = self.base.clone();
            for (axis, &v) in self.axes.iter().zip(&values) {
                axis.field
                    .apply(&mut config, v)
                    .map_err(|message| ConfigError {
                        field: format!("sweep.{}", axis.field.name()),
                        value: v.to_string(),
                        message,
                    })?;
            }
            let point = SweepPoint { values, config };
            point.config.validate().map_err(|e| ConfigError {
                message: format!("{} (at {})", e.message, point.label(&self.axes)),
                ..e
            })?;
            out.push(point);
        }
        Ok(out)
    }
}

/// Parses a list of values: `1, 0.1, 0.01`, a range `0.001..0.01 step 0.001`, or a log range
/// `1e-5..1 log 6` (6 values evenly spaced in log scale).
pub fn parse_values(text: &str) -> Result<Vec<f64>, String> {
    let text = text.trim();
    let number = |s: &str| -> Result<f64, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{:?} is not a number", s.trim()))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("{v} is not a finite number"))
        }
    };
    if let Some((from, rest)) = text.split_once("..") {
        let from = number(from)?;
        let (to, how) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or("a range needs 'step S' or 'log N' after it, e.g. 1e-5..1 log 6")?;
        let to = number(to)?;
        let how = how.trim();
        let values: Vec<f64> = if let Some(step) = how.strip_prefix("step") {
            let step = number(step)?;
            if step <= 0.0 || to < from {
                return Err("a stepped range goes up by a positive step".into());
            }
            let n = ((to - from) / step + 1e-9).floor() as usize + 1;
            if n > MAX_SWEEP_RUNS {
                return Err(format!("{n} values: at most {MAX_SWEEP_RUNS}"));
            }
            (0..n)
                .map(|i| {
                    let v = from + i as f64 * step;
                    (v * 1e12).round() / 1e12
                })
                .collect()
        } else if let Some(n) = how.strip_prefix("log") {
            let n = number(n)? as usize;
            if from <= 0.0 || to <= 0.0 || !(2..=MAX_SWEEP_RUNS).contains(&n) {
                return Err("a log range has positive ends and 2..=200 values".into());
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
            return Err("after a range write 'step S' or 'log N'".into());
        };
        return Ok(values);
    }
    let values: Vec<f64> = text
        .split([',', ' ', ';'])
        .filter(|s| !s.trim().is_empty())
        .map(number)
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err("no values".into());
    }
    if values.len() > MAX_SWEEP_RUNS {
        return Err(format!("{} values: at most {MAX_SWEEP_RUNS}", values.len()));
    }
    Ok(values)
}

/// The seed notebooks' sweeps: (name, description, grid).
pub fn sweep_presets() -> Vec<(&'static str, &'static str, SweepGrid)> {
    let preset = |name: &str| RunConfig::preset(name).expect("a preset");
    let axis = |field, values: &[f64]| SweepAxis::new(field, values.to_vec());
    let imdb = || {
        // The seed's IMDB table: dict 5000, length 512, batch 32, embedding 64, 128 units.
        let mut c = preset("lstm-imdb");
        for (f, v) in [
            (SweepField::DictSize, 5000.0),
            (SweepField::ExampleLen, 512.0),
            (SweepField::BatchSize, 32.0),
            (SweepField::EmbeddingLen, 64.0),
            (SweepField::Units(0), 128.0),
        ] {
            f.apply(&mut c, v).expect("a sequence model");
        }
        c
    };
    let mut dropout = preset("mlp-keras");
    dropout.training.epochs = 30;
    let mut l2 = preset("mlp-keras");
    l2.training.epochs = 10;
    vec![
        (
            "learning-rates",
            "MLP 784-300-10: learning rates 1 .. 1e-5 (seed Part 2.1)",
            SweepGrid::new(
                preset("mlp-keras"),
                vec![axis(
                    SweepField::LearningRate,
                    &[1.0, 0.1, 0.01, 0.001, 0.0001, 0.00001],
                )],
            ),
        ),
        (
            "learning-rates-fine",
            "MLP 784-300-10: learning rates 0.001 .. 0.009 (the seed's interpolation)",
            SweepGrid::new(
                preset("mlp-keras"),
                vec![axis(
                    SweepField::LearningRate,
                    &[
                        0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009,
                    ],
                )],
            ),
        ),
        (
            "hidden-sizes",
            "MLP 784-M-10: hidden sizes 10 .. 2000",
            SweepGrid::new(
                preset("mlp-keras"),
                vec![axis(
                    SweepField::Units(0),
                    &[10.0, 50.0, 100.0, 300.0, 1000.0, 2000.0],
                )],
            ),
        ),
        (
            "l2",
            "MLP 784-300-10 with L2 on the hidden layer: 0, 0.0005, 0.001, 0.002, 0.005",
            SweepGrid::new(
                l2,
                vec![axis(SweepField::L2(0), &[0.0, 0.0005, 0.001, 0.002, 0.005])],
            ),
        ),
        (
            "dropout",
            "MLP 784-300-10, 30 epochs: dropout 0.1 .. 0.9",
            SweepGrid::new(
                dropout,
                vec![axis(
                    SweepField::Dropout(0),
                    &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                )],
            ),
        ),
        (
            "three-layer-grid",
            "MLP 784-M-N-10: M in {300, 500}, N in {150, 300}, dropouts in {0, 0.1, 0.2} each",
            SweepGrid::new(
                preset("mlp-3layer"),
                vec![
                    axis(SweepField::Units(0), &[300.0, 500.0]),
                    axis(SweepField::Units(1), &[150.0, 300.0]),
                    axis(SweepField::Dropout(0), &[0.0, 0.1, 0.2]),
                    axis(SweepField::Dropout(1), &[0.0, 0.1, 0.2]),
                ],
            ),
        ),
        (
            "imdb-example-len",
            "IMDB LSTM: example length 128 .. 1024",
            SweepGrid::new(
                imdb(),
                vec![axis(
                    SweepField::ExampleLen,
                    &[128.0, 256.0, 512.0, 768.0, 1024.0],
                )],
            ),
        ),
        (
            "imdb-dict-size",
            "IMDB LSTM: dictionary size 1000 .. 10000",
            SweepGrid::new(
                imdb(),
                vec![axis(
                    SweepField::DictSize,
                    &[1000.0, 2500.0, 5000.0, 7500.0, 10000.0],
                )],
            ),
        ),
        (
            "imdb-embedding-len",
            "IMDB LSTM: embedding length 16 .. 256",
            SweepGrid::new(
                imdb(),
                vec![axis(
                    SweepField::EmbeddingLen,
                    &[16.0, 32.0, 64.0, 128.0, 256.0],
                )],
            ),
        ),
        (
            "imdb-batch-size",
            "IMDB LSTM: batch size 16 .. 256",
            SweepGrid::new(
                imdb(),
                vec![axis(
                    SweepField::BatchSize,
                    &[16.0, 32.0, 64.0, 128.0, 256.0],
                )],
            ),
        ),
        (
            "imdb-units",
            "IMDB LSTM: units 64 .. 256",
            SweepGrid::new(
                imdb(),
                vec![axis(
                    SweepField::Units(0),
                    &[64.0, 96.0, 128.0, 192.0, 256.0],
                )],
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_sweep_expands_to_valid_runs() {
        for (name, _, grid) in sweep_presets() {
            let points = grid.points().unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected: usize = grid.axes.iter().map(|a| a.values.len()).product();
            assert_eq!(points.len(), expected, "{name}");
        }
        let (_, _, grid) = sweep_presets()
            .into_iter()
            .find(|(n, _, _)| *n == "three-layer-grid")
            .unwrap();
        let points = grid.points().unwrap();
        assert_eq!(points.len(), 36);
        let ModelConfig::Mlp(m) = &points[35].config.model else {
            panic!()
        };
        assert_eq!((m.hidden[0].units, m.hidden[1].units), (500, 300));
        assert_eq!((m.hidden[0].dropout, m.hidden[1].dropout), (0.2, 0.2));
        assert_eq!(
            points[1].label(&grid.axes),
            "units[0]=300 units[1]=150 dropout[0]=0 dropout[1]=0.1"
        );
    }

    #[test]
    fn values_parse_as_lists_and_ranges() {
        assert_eq!(parse_values("1, 0.1 0.01").unwrap(), vec![1.0, 0.1, 0.01]);
        assert_eq!(
            parse_values("0.001..0.005 step 0.001").unwrap(),
            vec![0.001, 0.002, 0.003, 0.004, 0.005]
        );
        assert_eq!(
            parse_values("1e-5..1 log 6").unwrap(),
            vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
        );
        for bad in [
            "",
            "a, b",
            "1..2",
            "1..2 step -1",
            "0..1 log 3",
            "1..2 log 1000",
            "nan",
        ] {
            assert!(parse_values(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_sweep_names_the_field_that_does_not_fit() {
        let grid = SweepGrid::new(
            RunConfig::preset("mlp-keras").unwrap(),
            vec![SweepAxis::new(SweepField::Units(3), vec![10.0])],
        );
        let e = grid.points().unwrap_err();
        assert!(e.field.contains("units[3]"), "{e}");
        let grid = SweepGrid::new(
            RunConfig::preset("mlp-keras").unwrap(),
            vec![SweepAxis::new(SweepField::LearningRate, vec![0.01, 1e6])],
        );
        let e = grid.points().unwrap_err();
        assert!(e.to_string().contains("learning_rate=1000000"), "{e}");
        assert_eq!(SweepField::parse("units[1]"), Some(SweepField::Units(1)));
        assert_eq!(SweepField::parse("seed"), Some(SweepField::Seed));
    }
}
