"""Reference throughput for `cargo xtask bench`: the same models and batch sizes as Kindling's
benchmark, in Keras 3 (JAX backend, CPU) or PyTorch (CPU), on random data of the right shapes.

Prints one JSON line per model: {"framework", "model", "samples_per_second", "windows": [...]}.
Samples/s are measured after warm-up steps, as the median of several timed windows; every
window ends with the loss read back, so queued work is counted.
"""

import argparse
import json
import os
import statistics
import time

import numpy as np

MODELS = ("mlp", "cnn", "lstm")
BATCH = {"mlp": 200, "cnn": 128, "lstm": 32}


def data(model, batch, rng):
    if model == "mlp":
        return rng.random((batch, 784), dtype=np.float32), rng.integers(0, 10, batch)
    if model == "cnn":
        return rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch)
    return rng.integers(1, 5000, (batch, 256)), rng.integers(0, 2, batch)


def timed(step, warmup, windows, batches, batch):
    for _ in range(warmup):
        step()
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(batches):
            loss = step()
        float(loss)
        rates.append(batches * batch / (time.perf_counter() - start))
    return rates


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


def run_keras(model, args, rng):
    net = keras_model(model)
    x, y = data(model, BATCH[model], rng)
    if model == "cnn":
        x = np.transpose(x, (0, 2, 3, 1))
    params = net.count_params()
    return params, timed(lambda: net.train_on_batch(x, y), args.warmup, args.windows,
                         args.batches, BATCH[model])


def run_torch(model, args, rng):
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
    x, y = data(model, BATCH[model], rng)
    x = torch.from_numpy(x)
    y = torch.from_numpy(y).float() if model == "lstm" else torch.from_numpy(y)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    params = sum(p.numel() for p in net.parameters())
    return params, timed(step, args.warmup, args.windows, args.batches, BATCH[model])


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
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    if args.framework == "peak":
        print(json.dumps({"framework": "peak", "model": "gemm",
                          "flops": gemm_peak(args.threads)}), flush=True)
        return
    for model in args.models.split(","):
        run = run_keras if args.framework == "keras" else run_torch
        params, rates = run(model, args, rng)
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
