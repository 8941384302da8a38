"""Training and transform speed against hand-written PyTorch.

Training: ``AutoencoderTransformer.fit`` against a typical hand-written loop on the
same module (built by the same function under the same seed), the same data and
the same batch size. The loop gets the data already standardised as one float32
tensor, shuffles with ``torch.randperm`` each epoch, slices batches, and does
zero_grad / MSE / backward / Adam step, accumulating ``loss.item()`` as any real
loop logs its loss. The estimator gets the raw data and does its own scaling,
batching, history and stopping checks. Runs alternate (ours, reference, ...)
after a warm-up of each, and the table reports medians; the ratio is reference
time / our time, so 1.0 means as fast as the hand-written loop.

Transform: ``transform`` of 10,000 float32 rows against a bare ``module.encode``
forward pass on the already standardised tensor under ``torch.inference_mode``,
and the latency of ``transform`` on one row.

Run with ``python benchmarks/throughput.py`` (about three minutes). Writes
benchmarks/results/throughput.md.
"""

import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from sk_autoencoder import AutoencoderTransformer
from sk_autoencoder._modules import make_mlp_autoencoder

RESULTS = Path(__file__).parent / "results" / "throughput.md"
N_ROWS, N_FEATURES, N_COMPONENTS, HIDDEN = 20_000, 64, 8, (128, 64)
EPOCHS = {32: 3, 256: 12}
REPEATS = 5


def make_data():
    rng = np.random.default_rng(0)
    # correlated features with an offset and a scale, so scaling is real work
    mixing = rng.normal(size=(N_FEATURES, N_FEATURES))
    return (rng.normal(size=(N_ROWS, N_FEATURES)) @ mixing * 3.0 + 5.0).astype(
        np.float32
    )


def time_estimator(X, batch_size, epochs):
    ae = AutoencoderTransformer(
        N_COMPONENTS,
        hidden_layer_sizes=HIDDEN,
        batch_size=batch_size,
        max_epochs=epochs,
        early_stopping=False,  # train on every row, as the reference loop does
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    elapsed = time.perf_counter() - start
    assert ae.n_iter_ == epochs
    return elapsed


def time_reference(X_scaled, batch_size, epochs):
    torch.manual_seed(0)
    module = make_mlp_autoencoder(N_FEATURES, N_COMPONENTS, HIDDEN)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X_scaled))
        total = 0.0
        for i in range(0, len(X_scaled), batch_size):
            x = X_scaled[order[i : i + batch_size]]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(module(x), x)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
    return time.perf_counter() - start


def training_rows(X):
    mean, std = X.mean(axis=0), X.std(axis=0)
    X_scaled = torch.from_numpy(((X - mean) / std).astype(np.float32))
    rows = []
    for batch_size, epochs in EPOCHS.items():
        time_estimator(X[:2000], batch_size, 1)  # warm-up: lazy imports, threads
        time_reference(X_scaled[:2000], batch_size, 1)
        ours, reference = [], []
        for _ in range(REPEATS):
            ours.append(time_estimator(X, batch_size, epochs))
            reference.append(time_reference(X_scaled, batch_size, epochs))
        ratios = [r / o for r, o in zip(reference, ours, strict=True)]
        samples = N_ROWS * epochs
        rows.append(
            (
                batch_size,
                samples / statistics.median(ours),
                samples / statistics.median(reference),
                statistics.median(ratios),
                min(ratios),
                max(ratios),
            )
        )
        print(
            f"batch {batch_size:4d}: ours {rows[-1][1]:9.0f} rows/s, "
            f"hand-written {rows[-1][2]:9.0f} rows/s, ratio {rows[-1][3]:.3f} "
            f"(range {rows[-1][4]:.3f}-{rows[-1][5]:.3f})"
        )
    return rows


def transform_rows(X):
    ae = AutoencoderTransformer(
        N_COMPONENTS, hidden_layer_sizes=HIDDEN, max_epochs=2, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X[:5000])
    X_test = X[:10_000]
    x_scaled = torch.from_numpy(ae._scaler.transform(X_test, np.float32))
    module = ae.module_.eval()

    def bare():
        with torch.inference_mode():
            return module.encode(x_scaled).numpy()

    def ours():
        return ae.transform(X_test)

    def median_time(fn, number):
        fn()
        times = []
        for _ in range(REPEATS * 3):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number)
        return statistics.median(times)

    ratios, ours_t, bare_t = [], [], []
    for _ in range(REPEATS):
        b, o = median_time(bare, 20), median_time(ours, 20)
        bare_t.append(b)
        ours_t.append(o)
        ratios.append(b / o)
    one_row = median_time(lambda: ae.transform(X_test[:1]), 200)
    one_row_64 = median_time(lambda: ae.transform(X_test[:1].astype(np.float64)), 200)
    print(
        f"transform 10,000 rows: ours {statistics.median(ours_t) * 1e3:.2f} ms, "
        f"bare encode {statistics.median(bare_t) * 1e3:.2f} ms, ratio "
        f"{statistics.median(ratios):.3f}; one row {one_row * 1e6:.0f} us "
        f"(float32), {one_row_64 * 1e6:.0f} us (float64)"
    )
    return (
        statistics.median(ours_t),
        statistics.median(bare_t),
        ratios,
        one_row,
        one_row_64,
    )


def main():
    torch.set_num_threads(torch.get_num_threads())
    X = make_data()
    train = training_rows(X)
    ours, bare, ratios, one_row, one_row_64 = transform_rows(X)
    lines = [
        f"Training throughput, MLP {N_FEATURES}-{'-'.join(map(str, HIDDEN))}-"
        f"{N_COMPONENTS} (mirrored decoder), Adam, {N_ROWS:,} float32 rows, "
        f"{torch.get_num_threads()} torch threads, median of {REPEATS} alternating "
        "runs. Ratio = hand-written time / our time (>= 0.9 is the promise). "
        "Command: `python benchmarks/throughput.py`.",
        "",
        "| batch size | ours (rows/s) | hand-written (rows/s) | ratio | range |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {b} | {o:,.0f} | {r:,.0f} | {m:.3f} | {lo:.3f}-{hi:.3f} |"
        for b, o, r, m, lo, hi in train
    ]
    lines += [
        "",
        "Transform of 10,000 float32 rows against a bare `module.encode` on the "
        "already scaled tensor (ratio = bare time / our time), and one-row latency.",
        "",
        "| transform 10,000 rows (ms) | bare encode (ms) | ratio | one row, float32 "
        "(us) | one row, float64 (us) |",
        "|---:|---:|---:|---:|---:|",
        f"| {ours * 1e3:.2f} | {bare * 1e3:.2f} | {statistics.median(ratios):.3f} | "
        f"{one_row * 1e6:.0f} | {one_row_64 * 1e6:.0f} |",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
