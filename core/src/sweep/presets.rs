//! The seed notebooks' sweeps as one declarative table ([`SWEEP_PRESETS`]): name,
//! description, the run they start from, and each axis with its values.

use super::{SweepAxis, SweepField, SweepGrid};
use crate::run::RunConfig;

/// A named sweep to start from.
#[derive(Debug, Clone, Copy)]
pub struct SweepPreset {
    /// Its name.
    pub name: &'static str,
    /// One line on what it varies.
    pub description: &'static str,
    /// Builds the run every grid point starts from.
    pub base: fn() -> RunConfig,
    /// The fields varied, each with its values (the grid is every combination).
    pub axes: &'static [(SweepField, &'static [f64])],
}

impl SweepPreset {
    /// The grid of this sweep.
    pub fn grid(&self) -> SweepGrid {
        SweepGrid::new(
            (self.base)(),
            self.axes
                .iter()
                .map(|(field, values)| SweepAxis::new(*field, values.to_vec()))
                .collect(),
        )
    }

    /// The sweep named `name`.
    pub fn find(name: &str) -> Option<&'static SweepPreset> {
        SWEEP_PRESETS.iter().find(|p| p.name == name)
    }
}

/// A preset's run; the presets named below exist (a test builds every sweep).
fn preset(name: &str) -> RunConfig {
    RunConfig::preset(name).expect("a preset of the table")
}

/// The seed's MLP 784-300-10 (Keras, Adam 1e-3, 10 epochs).
fn mlp_keras() -> RunConfig {
    preset("mlp-keras")
}

/// The seed's MLP 784-300-10 trained 30 epochs (its dropout sweep).
fn mlp_keras_30_epochs() -> RunConfig {
    let mut config = preset("mlp-keras");
    config.training.epochs = 30;
    config
}

/// The seed's MLP 784-500-300-10.
fn mlp_3layer() -> RunConfig {
    preset("mlp-3layer")
}

/// The seed's IMDB table: an LSTM with dict 5000, length 512, batch 32, embedding 64, 128
/// units.
fn imdb_lstm() -> RunConfig {
    let mut config = preset("lstm-imdb");
    for (field, value) in [
        (SweepField::DictSize, 5000.0),
        (SweepField::ExampleLen, 512.0),
        (SweepField::BatchSize, 32.0),
        (SweepField::EmbeddingLen, 64.0),
        (SweepField::Units(0), 128.0),
    ] {
        field
            .apply(&mut config, value)
            .expect("an LSTM has these fields");
    }
    config
}

/// Every sweep preset, in the order the page lists them.
pub const SWEEP_PRESETS: &[SweepPreset] = &[
    SweepPreset {
        name: "learning-rates",
        description: "MLP 784-300-10: learning rates 1 .. 1e-5 (seed Part 2.1)",
        base: mlp_keras,
        axes: &[(
            SweepField::LearningRate,
            &[1.0, 0.1, 0.01, 0.001, 0.0001, 0.00001],
        )],
    },
    SweepPreset {
        name: "learning-rates-fine",
        description: "MLP 784-300-10: learning rates 0.001 .. 0.009 (the seed's interpolation)",
        base: mlp_keras,
        axes: &[(
            SweepField::LearningRate,
            &[
                0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009,
            ],
        )],
    },
    SweepPreset {
        name: "hidden-sizes",
        description: "MLP 784-M-10: hidden sizes 10 .. 2000",
        base: mlp_keras,
        axes: &[(
            SweepField::Units(0),
            &[10.0, 50.0, 100.0, 300.0, 1000.0, 2000.0],
        )],
    },
    SweepPreset {
        name: "l2",
        description: "MLP 784-300-10 with L2 on the hidden layer: 0, 0.0005, 0.001, 0.002, 0.005",
        base: mlp_keras,
        axes: &[(SweepField::L2(0), &[0.0, 0.0005, 0.001, 0.002, 0.005])],
    },
    SweepPreset {
        name: "dropout",
        description: "MLP 784-300-10, 30 epochs: dropout 0.1 .. 0.9",
        base: mlp_keras_30_epochs,
        axes: &[(
            SweepField::Dropout(0),
            &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        )],
    },
    SweepPreset {
        name: "three-layer-grid",
        description:
            "MLP 784-M-N-10: M in {300, 500}, N in {150, 300}, dropouts in {0, 0.1, 0.2} each",
        base: mlp_3layer,
        axes: &[
            (SweepField::Units(0), &[300.0, 500.0]),
            (SweepField::Units(1), &[150.0, 300.0]),
            (SweepField::Dropout(0), &[0.0, 0.1, 0.2]),
            (SweepField::Dropout(1), &[0.0, 0.1, 0.2]),
        ],
    },
    SweepPreset {
        name: "imdb-example-len",
        description: "IMDB LSTM: example length 128 .. 1024",
        base: imdb_lstm,
        axes: &[(
            SweepField::ExampleLen,
            &[128.0, 256.0, 512.0, 768.0, 1024.0],
        )],
    },
    SweepPreset {
        name: "imdb-dict-size",
        description: "IMDB LSTM: dictionary size 1000 .. 10000",
        base: imdb_lstm,
        axes: &[(
            SweepField::DictSize,
            &[1000.0, 2500.0, 5000.0, 7500.0, 10000.0],
        )],
    },
    SweepPreset {
        name: "imdb-embedding-len",
        description: "IMDB LSTM: embedding length 16 .. 256",
        base: imdb_lstm,
        axes: &[(SweepField::EmbeddingLen, &[16.0, 32.0, 64.0, 128.0, 256.0])],
    },
    SweepPreset {
        name: "imdb-batch-size",
        description: "IMDB LSTM: batch size 16 .. 256",
        base: imdb_lstm,
        axes: &[(SweepField::BatchSize, &[16.0, 32.0, 64.0, 128.0, 256.0])],
    },
    SweepPreset {
        name: "imdb-units",
        description: "IMDB LSTM: units 64 .. 256",
        base: imdb_lstm,
        axes: &[(SweepField::Units(0), &[64.0, 96.0, 128.0, 192.0, 256.0])],
    },
];
