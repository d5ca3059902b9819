//! Pieces of Python source shared by the PyTorch and Keras scripts: literals, the header, and
//! the data section that picks the run's examples the way Kindling does.

use crate::data::{DatasetConfig, ImageSubset};
use crate::model::{Activation, InputKind};
use crate::RunConfig;

/// A Python string literal of `text` (JSON's escapes are Python's too), so that a run's name
/// or a file's name can never break out of the string it is put in.
pub fn string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A Python float literal that reads back as `value` (`1e-07`, `0.001`, `2.0`).
pub fn float(value: f64) -> String {
    if value.is_finite() {
        let text = format!("{value:?}");
        if text.contains(['.', 'e', 'E']) {
            text
        } else {
            format!("{text}.0")
        }
    } else {
        "float(\"nan\")".into()
    }
}

/// How a script lays out a batch of the model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// [n, features]: MLPs (images flattened in channel, row, column order).
    Flat,
    /// [n, channels, height, width]: PyTorch's convolutions.
    ChannelsFirst,
    /// [n, height, width, channels]: Keras's convolutions.
    ChannelsLast,
    /// [n, length] token ids.
    Tokens,
}

impl InputLayout {
    /// The layout a model reading `input` takes in `framework`'s convention.
    pub fn of(input: InputKind, channels_last: bool) -> Self {
        match input {
            InputKind::Features(_) => InputLayout::Flat,
            InputKind::Image(_) if channels_last => InputLayout::ChannelsLast,
            InputKind::Image(_) => InputLayout::ChannelsFirst,
            InputKind::Tokens(_) => InputLayout::Tokens,
        }
    }
}

/// The module docstring and imports every script starts with.
pub fn header(framework: &str, file: &str, needs: &str, config: &RunConfig) -> String {
    let model = describe_model(config);
    format!(
        r#"#!/usr/bin/env python3
"""A Kindling run in {framework}: the same model, its trained weights, the same test set.

    python {file} --data DATA_DIR           evaluates the trained weights
    python {file} --data DATA_DIR --train   trains the model again from scratch with the
                                            run's settings, then evaluates it

DATA_DIR is Kindling's data folder (`cargo xtask data` makes it); nothing is downloaded.
Generated toy sets and uploads travel in the data file beside this script instead.
Needs: {needs} (pip install {needs}).

Model: {model}
"""
import argparse
import os
import struct

import numpy as np
from safetensors.numpy import load_file as load_arrays
"#
    )
}

/// One line on the model, for the docstring.
fn describe_model(config: &RunConfig) -> String {
    use crate::model::ModelConfig;
    match &config.model {
        ModelConfig::Mlp(m) => format!(
            "an MLP {}",
            m.layer_sizes()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" -> ")
        ),
        ModelConfig::Cnn(c) => format!(
            "a CNN of {} layers on {}x{}x{} images, {} outputs",
            c.layers.len(),
            c.input[0],
            c.input[1],
            c.input[2],
            c.outputs
        ),
        ModelConfig::Sequence(s) => format!(
            "Embedding({}, {}) -> {}({}) -> Dense({})",
            s.dict_size,
            s.embedding_len,
            s.cell.name(),
            s.units,
            s.outputs
        ),
    }
}

/// The constants naming the run and the files beside the script.
pub fn files(run_name: &str, weights_file: &str, data_file: &str) -> String {
    format!(
        r#"
RUN_NAME = {}
HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS_FILE = os.path.join(HERE, {})
DATA_FILE = os.path.join(HERE, {})
"#,
        string(run_name),
        string(weights_file),
        string(data_file)
    )
}

/// The data section: `load_data(data_dir)` returning `(x_train, y_train, x_test, y_test)` as
/// numpy arrays in `layout`, exactly the examples (and values) Kindling trained and tested on.
pub fn data_section(dataset: &DatasetConfig, layout: InputLayout) -> String {
    let arrange = match layout {
        InputLayout::Flat => "    return x.reshape(len(x), -1)  # channel, row, column order\n",
        InputLayout::ChannelsFirst => "    return x\n",
        InputLayout::ChannelsLast => {
            "    return x.transpose(0, 2, 3, 1)  # Keras wants channels last\n"
        }
        InputLayout::Tokens => "    return x\n",
    };
    let arrange_fn = format!(
        "\n\ndef arrange(x):\n    \"\"\"Examples [n, channels, height, width] (or [n, features]) as the model reads them.\"\"\"\n    if x.ndim == 2:\n        return x\n{arrange}"
    );
    match dataset {
        DatasetConfig::Mnist(s) => images_section("mnist", false, s, &arrange_fn),
        DatasetConfig::TinyMnist(s) => images_section("mnist", true, s, &arrange_fn),
        DatasetConfig::FashionMnist(s) => images_section("fashion-mnist", false, s, &arrange_fn),
        DatasetConfig::Imdb(s) => format!(
            r#"
DICT_SIZE = {dict}  # Keras num_words: rarer words become id 2 (unknown)
EXAMPLE_LEN = {len}  # tokens per review: pre-padded with 0 and pre-truncated, as Keras's pad_sequences


def read_reviews(path):
    """Kindling's token file: b"KTK1", the review count (u32), then per review its label (u8),
    its length (u32) and its word ids (u32), little-endian."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"KTK1":
        raise SystemExit(f"{{path}} is not a Kindling token file")
    (count,) = struct.unpack_from("<I", data, 4)
    reviews, labels, pos = [], [], 8
    for _ in range(count):
        labels.append(data[pos])
        (length,) = struct.unpack_from("<I", data, pos + 1)
        reviews.append(np.frombuffer(data, dtype="<u4", count=length, offset=pos + 5))
        pos += 5 + 4 * length
    return reviews, np.array(labels, dtype=np.int64)


def fit(ids):
    """One review as the model reads it: ids >= DICT_SIZE become 2, the last EXAMPLE_LEN
    tokens kept, zeros in front."""
    ids = np.where(ids >= DICT_SIZE, 2, ids)[-EXAMPLE_LEN:]
    out = np.zeros(EXAMPLE_LEN, dtype=np.int64)
    out[EXAMPLE_LEN - len(ids):] = ids
    return out


def load_data(data_dir):
    """The run's training and test reviews: the positions Kindling's seeded, class-stratified
    draw picked ({train} training and {test} test reviews, seed {seed}) are in the data file."""
    positions = load_arrays(DATA_FILE)

    def part(file, picked):
        reviews, labels = read_reviews(os.path.join(data_dir, "imdb", file))
        return np.stack([fit(reviews[i]) for i in picked]), labels[picked]

    x_train, y_train = part("train.tokens", positions["train_positions"])
    x_test, y_test = part("test.tokens", positions["test_positions"])
    return x_train, y_train, x_test, y_test
"#,
            dict = s.dict_size,
            len = s.example_len,
            train = s.train_size,
            test = s.test_size,
            seed = s.seed
        ),
        DatasetConfig::Toy(_) | DatasetConfig::Uploaded(_) => format!(
            r#"
def load_data(data_dir):
    """The run's training and test examples, carried in the data file (Kindling generated
    them, or they came from an upload): nothing to read from data_dir."""
    arrays = load_arrays(DATA_FILE)
    return (
        arrange(arrays["train_x"]),
        arrays["train_y"],
        arrange(arrays["test_x"]),
        arrays["test_y"],
    )
{arrange_fn}"#
        ),
    }
}

fn images_section(folder: &str, tiny: bool, subset: &ImageSubset, arrange_fn: &str) -> String {
    let tiny_fn = if tiny {
        r#"

def tiny(images):
    """tinyMNIST: every 2x2 block averaged (rounding half up), 28x28 -> 14x14, as Kindling does."""
    n, h, w = images.shape
    sums = images.astype(np.uint32).reshape(n, h // 2, 2, w // 2, 2).sum(axis=(2, 4))
    return ((sums + 2) // 4).astype(np.uint8)
"#
    } else {
        ""
    };
    let shrink = if tiny { "tiny(images)" } else { "images" };
    format!(
        r#"

def read_idx(path):
    """An idx file (MNIST's format): a magic whose 4th byte counts the dimensions, the
    dimensions (big-endian u32), then the u8 values."""
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
{tiny_fn}

def load_data(data_dir):
    """The run's training and test images from {folder}/ in data_dir: the positions Kindling's
    seeded, class-stratified draw picked ({train} training and {test} test images, seed {seed})
    are in the data file. Pixels become float32 in [0, 1] (p / 255), as in Kindling."""
    positions = load_arrays(DATA_FILE)

    def part(split, picked):
        images = read_idx(os.path.join(data_dir, {folder_literal}, f"{{split}}-images-idx3-ubyte"))[picked]
        labels = read_idx(os.path.join(data_dir, {folder_literal}, f"{{split}}-labels-idx1-ubyte"))[picked]
        images = {shrink}
        x = images[:, None, :, :].astype(np.float32) / np.float32(255.0)
        return arrange(x), labels.astype(np.int64)

    x_train, y_train = part("train", positions["train_positions"])
    x_test, y_test = part("t10k", positions["test_positions"])
    return x_train, y_train, x_test, y_test
{arrange_fn}"#,
        train = subset.train_size,
        test = subset.test_size,
        seed = subset.seed,
        folder_literal = string(folder),
    )
}

/// The script's `main`: reads the data, builds the model with `build`, then trains it
/// (`train`, with `--train`) or loads the exported weights (`load`), and prints the test
/// accuracy. `seed` seeds the framework's generators.
pub fn main_fn(seed: &str, build: &str, train: &str, load: &str) -> String {
    format!(
        r#"

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data", help="Kindling's data folder")
    parser.add_argument("--train", action="store_true",
                        help="train from scratch with the run's settings instead of loading its weights")
    args = parser.parse_args()
    {seed}
    x_train, y_train, x_test, y_test = load_data(args.data)
    model = {build}
    if args.train:
{train}
    else:
        {load}
    print(f"{{RUN_NAME}}: {{len(x_test)}} test examples")
    print(f"test accuracy: {{100 * evaluate(model, x_test, y_test):.2f}}%")


if __name__ == "__main__":
    main()
"#
    )
}

/// Whether the output layer has one unit (a probability thresholded at 0.5) or several
/// (argmax of the logits): how Kindling counts a prediction as correct.
pub fn accuracy_rule(outputs: usize, activation: Activation) -> &'static str {
    match (outputs, activation) {
        (1, _) => "one output: its activation > 0.5 predicts class 1",
        _ => "several outputs: the largest logit is the predicted class",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_back_in_python() {
        assert_eq!(string("a \"b\"\n\\"), r#""a \"b\"\n\\""#);
        assert_eq!(float(0.001), "0.001");
        assert_eq!(float(1e-7), "1e-7");
        assert_eq!(float(2.0), "2.0");
        assert_eq!(float(10.0), "10.0");
    }
}
