//! Sweeps: a base run and one or more fields with lists of values; the grid is every
//! combination (`mod.rs`); the values of an axis as typed (`values.rs`); the seed notebooks'
//! sweeps as one declarative table (`presets.rs`).

mod presets;
mod values;

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::checks::ConfigError;
use crate::data::config::DatasetConfig;
use crate::model::ModelConfig;
use crate::run::RunConfig;

pub use presets::{SweepPreset, SWEEP_PRESETS};
pub use values::parse_values;

/// Most runs one sweep may queue.
pub const MAX_SWEEP_RUNS: usize = 200;

/// Why a sweep axis cannot be applied or its values cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// The field is not in this run's model.
    #[error("{0} does not exist in this model")]
    NoSuchField(String),
    /// A value is not a number.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// A value is infinite or NaN.
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    /// A range lacks `step S` or `log N`.
    #[error("a range needs 'step S' or 'log N' after it, e.g. 1e-5..1 log 6")]
    RangeWithoutSpacing,
    /// A stepped range does not go up.
    #[error("a stepped range goes up by a positive step")]
    BadStep,
    /// A log range with a non-positive end or a bad count.
    #[error("a log range has positive ends and 2..={MAX_SWEEP_RUNS} values")]
    BadLogRange,
    /// Nothing was typed.
    #[error("no values")]
    NoValues,
    /// More values than a sweep may run.
    #[error("{0} values: at most {MAX_SWEEP_RUNS}")]
    TooManyValues(u64),
}

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
    pub fn apply(&self, config: &mut RunConfig, value: f64) -> Result<(), SweepError> {
        let missing = || SweepError::NoSuchField(self.name());
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
        // u64 and saturating: the same count (and message) on wasm32 as natively.
        let total = self
            .axes
            .iter()
            .fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64));
        if self.axes.is_empty() || total == 0 || total > MAX_SWEEP_RUNS as u64 {
            return Err(ConfigError {
                field: "sweep".into(),
                value: total.to_string(),
                message: format!(
                    "a sweep has 1..={MAX_SWEEP_RUNS} runs (every axis needs a value)"
                ),
            });
        }
        let total = total as usize;
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
                axis.field.apply(&mut config, v).map_err(|e| ConfigError {
                    field: format!("sweep.{}", axis.field.name()),
                    value: v.to_string(),
                    message: e.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_sweep_expands_to_valid_runs() {
        for preset in SWEEP_PRESETS {
            let (name, grid) = (preset.name, preset.grid());
            let points = grid.points().unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected: usize = grid.axes.iter().map(|a| a.values.len()).product();
            assert_eq!(points.len(), expected, "{name}");
        }
        let grid = SweepPreset::find("three-layer-grid").unwrap().grid();
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
