"""Reference throughput for `cargo xtask bench`: the same models and batch sizes as Kindling's
benchmark, in Keras 3 (JAX backend, CPU) or PyTorch (CPU), trained as their users train them
and as the seed notebooks did, on the real data Kindling trains (MNIST, IMDB, from the data
folder `cargo xtask data` makes):

- Keras: `model.fit()` over the training set (shuffled batches, the compiled step run back to
  back), a window being one fit() over its batches;
- PyTorch: a plain training loop over a `DataLoader` (shuffled batches of a `TensorDataset`,
  each gathered at once).

Prints one JSON line per model: {"framework", "model", "samples_per_second", "windows": [...]}.
Samples/s are measured after warm-up steps, as the median of several timed windows; every
window ends with the loss read back, so queued work is counted.
"""

import argparse
import json
import os
import statistics
import struct
import time

import numpy as np

MODELS = ("mlp", "cnn", "lstm")
BATCH = {"mlp": 200, "cnn": 128, "lstm": 32}


DICT_SIZE = 5000  # the benchmark's IMDB: ids >= 5000 become 2 (unknown), as Keras's num_words
EXAMPLE_LEN = 256  # tokens per review, pre-truncated and pre-padded with 0


def read_idx(path):
    """An idx file (MNIST's format): magic, dimensions (u32 big-endian), then u8 values."""
    with open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack_from(">" + "I" * dims, data, 4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_reviews(path):
    """Kindling's token file: b"KTK1", the review count (u32), then per review its label (u8),
    its length (u32) and its word ids (u32), little-endian; each review as the model reads it."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"KTK1":
        raise SystemExit(f"{path} is not a Kindling token file")
    (count,) = struct.unpack_from("<I", data, 4)
    x = np.zeros((count, EXAMPLE_LEN), dtype=np.int32)
    y = np.zeros(count, dtype=np.int64)
    pos = 8
    for i in range(count):
        y[i] = data[pos]
        (length,) = struct.unpack_from("<I", data, pos + 1)
        ids = np.frombuffer(data, dtype="<u4", count=length, offset=pos + 5)
        ids = np.where(ids >= DICT_SIZE, 2, ids)[-EXAMPLE_LEN:]
        x[i, EXAMPLE_LEN - len(ids):] = ids
        pos += 5 + 4 * length
    return x, y


def data(model, data_dir):
    """The training set of `model`'s workload: MNIST images (x / 255) with their digits, or IMDB
    reviews with their sentiment."""
    if model == "lstm":
        return read_reviews(os.path.join(data_dir, "imdb", "train.tokens"))
    images = read_idx(os.path.join(data_dir, "mnist", "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, "mnist", "train-labels-idx1-ubyte")).astype(np.int64)
    x = images.astype(np.float32) / 255.0
    if model == "mlp":
        return x.reshape(len(x), 784), labels
    return x.reshape(len(x), 1, 28, 28), labels


class Windows:
    """Times windows of `batches` batches after `warmup` batches: `batch_ended(loss)` is called
    at each batch's end with its loss (read back at each window's end, so queued work is
    counted); `done` once every window is timed."""

    def __init__(self, warmup, windows, batches, batch):
        self.warmup, self.windows, self.batches, self.batch = warmup, windows, batches, batch
        self.seen = 0
        self.start = None
        self.rates = []

    def batch_ended(self, loss):
        self.seen += 1
        after_warmup = self.seen - self.warmup
        if after_warmup < 0 or after_warmup % self.batches != 0:
            return
        float(loss)
        now = time.perf_counter()
        if self.start is not None:
            self.rates.append(self.batches * self.batch / (now - self.start))
        self.start = now

    @property
    def done(self):
        return len(self.rates) >= self.windows


def keras_model(model):
    import keras
    from keras import layers

    if model == "mlp":
        net = keras.Sequential([keras.Input((784,)), layers.Dense(300, activation="relu"),
                                layers.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    elif model == "cnn":
        net = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 5, activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(64, 5, activation="relu"), layers.MaxPooling2D(2),
            layers.Flatten(), layers.Dense(1000, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
        loss = "sparse_categorical_crossentropy"
    else:
        net = keras.Sequential([keras.Input((256,), dtype="int32"), layers.Embedding(5000, 64),
                                layers.LSTM(128), layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    net.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    return net


def run_keras(model, args):
    net = keras_model(model)
    x, y = data(model, args.data)
    if model == "cnn":
        x = np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))  # Keras wants channels last
    batch = BATCH[model]

    def fit(first, batches):
        """fit() as the seeds call it, over `batches` batches of the training set from batch
        `first` (a view, not a copy), shuffled; it returns once the last loss is read back."""
        assert batches * batch <= len(x), "a window fits in the training set"
        start = (first * batch) % max(len(x) - batches * batch, 1)
        end = start + batches * batch
        net.fit(x[start:end], y[start:end], batch_size=batch, epochs=1, shuffle=True,
                verbose=0)

    # A window is one fit() over its batches: the compiled step runs back to back, as in the
    # seeds' fit() over an epoch (a fit() call itself costs 2-4 ms, under 4% of a window).
    fit(0, args.warmup)
    rates = []
    for w in range(args.windows):
        started = time.perf_counter()
        fit(args.warmup + w * args.batches, args.batches)
        rates.append(args.batches * batch / (time.perf_counter() - started))
    return net.count_params(), rates


def run_torch(model, args):
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    if model == "mlp":
        net = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 10))
        loss_fn = nn.CrossEntropyLoss()
    elif model == "cnn":
        net = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1024, 1000), nn.ReLU(), nn.Linear(1000, 10),
        )
        loss_fn = nn.CrossEntropyLoss()
    else:
        class Lstm(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(5000, 64)
                self.lstm = nn.LSTM(64, 128, batch_first=True)
                self.out = nn.Linear(128, 1)

            def forward(self, x):
                _, (h, _) = self.lstm(self.embedding(x))
                return self.out(h[-1]).squeeze(1)

        net = Lstm()
        loss_fn = nn.BCEWithLogitsLoss()
    x, y = data(model, args.data)
    x = torch.from_numpy(x).long() if model == "lstm" else torch.from_numpy(x)
    y = torch.from_numpy(y).float() if model == "lstm" else torch.from_numpy(y)
    # Shuffled batches of the training set, each gathered in one indexing of the tensors (a
    # BatchSampler: the default loader's per-example collate would cost the MLP two thirds of
    # its speed, which is not what the frameworks are compared on).
    dataset = torch.utils.data.TensorDataset(x, y)
    batches = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(dataset),
                                            batch_size=BATCH[model], drop_last=False)
    loader = torch.utils.data.DataLoader(dataset, sampler=batches, batch_size=None)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    windows = Windows(args.warmup, args.windows, args.batches, BATCH[model])
    # A plain training loop over the loader, epoch after epoch until every window is timed.
    while not windows.done:
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            windows.batch_ended(loss.detach())
            if windows.done:
                break
    params = sum(p.numel() for p in net.parameters())
    return params, windows.rates


def gemm_peak(threads):
    """The machine's f32 matmul rate: the best of torch (oneDNN/MKL) and numpy (OpenBLAS)."""
    import torch

    torch.set_num_threads(threads)
    n = 2048
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        (a @ b)[0, 0].item()
        best = max(best, 2 * n**3 / (time.perf_counter() - start))
    x = np.random.default_rng(1).random((n, n), dtype=np.float32)
    for _ in range(3):
        start = time.perf_counter()
        float((x @ x)[0, 0])
        best = max(best, 2 * n**3 / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("framework", choices=("keras", "torch", "peak"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data"),
                        help="the data folder `cargo xtask data` makes (MNIST, IMDB)")
    args = parser.parse_args()
    if args.framework == "peak":
        print(json.dumps({"framework": "peak", "model": "gemm",
                          "flops": gemm_peak(args.threads)}), flush=True)
        return
    for model in args.models.split(","):
        run = run_keras if args.framework == "keras" else run_torch
        params, rates = run(model, args)
        print(json.dumps({
            "framework": args.framework,
            "model": model,
            "batch": BATCH[model],
            "parameters": params,
            "samples_per_second": statistics.median(rates),
            "windows": rates,
        }), flush=True)


if __name__ == "__main__":
    main()
