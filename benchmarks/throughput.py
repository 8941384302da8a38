"""Training and transform throughput of AutoencoderTransformer, on CPU or CUDA.

Training: ``AutoencoderTransformer.fit`` against a typical hand-written PyTorch
loop on the same module, data and batch size. The estimator receives the raw
data and scales it itself; the hand-written loop standardises the data once
into a float32 tensor, then per epoch shuffles with ``torch.randperm``, slices
batches, steps Adam and logs ``loss.item()``. The loop runs twice: with torch's
fused Adam, the optimizer the estimator uses (the like-for-like comparison, and
the promise), and with torch's default Adam, as a typical loop is written. All
timings cover everything a user waits for: building the module and optimizer,
scaling and training. Runs alternate (ours, fused loop, default loop, ours,
...) after one warm-up run of each, so that drifts in the load of a shared
machine hit all alike.

Transform: ``transform`` of 10,000 float32 rows against ``module.encode`` on the
already scaled tensor under ``torch.inference_mode()``, and the latency of
``transform`` on one row. On CUDA also against a hand-written host-to-host
function (copy the scaled numpy rows to the GPU, encode, copy the codes back),
since a user's data starts and ends on the host.

Realistic size (``--rows``; always on CUDA, on the CPU only when asked):
200,000 x 784 float32 rows of rank-32 structure plus noise and an MLP
784-512-256-32, the estimator against the loop (fused Adam) at batch 32 and 256,
on the CPU and on the GPU side by side in one run. The CPU trains on the first
``--cpu-rows`` rows only, to keep the run short: rows per second do not depend
on the number of rows there. Rates are given per training epoch (the last epoch
of each run, the steady state) and per whole fit (setup included: scaling, the
PCA of the estimator, the copy to the device).

On CUDA, ``torch.cuda.synchronize()`` runs before every clock read, each
measurement has warm-up runs, and every figure is a median.

Run from the repository root::

    python benchmarks/throughput.py
    python benchmarks/throughput.py --device cuda
    python benchmarks/throughput.py --rows 2000 --cpu-rows 1000 --repeats 1 \
        --output /tmp/smoke.md      # a quick run of the realistic case on a CPU

The table is printed and written to ``benchmarks/results/throughput.md``
(``throughput_cuda.md`` with ``--device cuda``). On CUDA the hand-written loop
keeps the whole standardised data set on the GPU and draws its batches there,
the fastest way to write it; so does the estimator when the scaled rows fit in
half the free GPU memory (else it streams them through pinned buffers).
``--profile`` also prints where the time of one ``fit`` goes (cProfile).
"""

import argparse
import cProfile
import io
import pstats
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.exceptions import ConvergenceWarning

from sk_autoencoder import AutoencoderTransformer
from sk_autoencoder._modules import make_mlp_autoencoder

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.md"

N_SAMPLES = 20_000
N_FEATURES = 64
N_COMPONENTS = 8
HIDDEN_LAYER_SIZES = (128, 64)
LEARNING_RATE = 1e-3
SEED = 0
# epochs per timed run: about a second each on one core of a 2-core machine
EPOCHS = {32: 2, 256: 8}
N_TRANSFORM_ROWS = 10_000
# the realistic case: MNIST-sized rows, a wider network
REALISTIC_ROWS = 200_000
REALISTIC_FEATURES = 784
REALISTIC_RANK = 32
REALISTIC_HIDDEN = (512, 256)
REALISTIC_COMPONENTS = 32
REALISTIC_EPOCHS = {32: 1, 256: 2}


def make_data(n_samples, n_features, seed):
    """Rows near a curved 8-dimensional manifold, with uneven feature scales."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, N_COMPONENTS))
    mixing = rng.standard_normal((N_COMPONENTS, n_features))
    X = np.tanh(latent @ mixing / np.sqrt(N_COMPONENTS))
    X += 0.1 * rng.standard_normal((n_samples, n_features))
    X = X * rng.uniform(0.5, 20.0, n_features) + rng.uniform(-50, 50, n_features)
    return X.astype(np.float32)


def make_low_rank_data(n_samples, n_features, rank, seed):
    """Rows of rank ``rank`` plus Gaussian noise, float32."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, rank), dtype=np.float32)
    mixing = rng.standard_normal((rank, n_features), dtype=np.float32)
    X = latent @ (mixing / np.float32(np.sqrt(rank)))
    X += np.float32(0.1) * rng.standard_normal(X.shape, dtype=np.float32)
    return X


def synchronize(device):
    """Wait for the device's queued work, so that a clock read sees it done."""
    if device == "cuda":
        torch.cuda.synchronize()


def make_estimator(
    batch_size,
    epochs,
    device,
    n_components=N_COMPONENTS,
    hidden_layer_sizes=HIDDEN_LAYER_SIZES,
):
    return AutoencoderTransformer(
        n_components,
        # the reference loop's network: a plain MLP from random weights, with
        # make_mlp_autoencoder's default activation
        init="random",
        activation="relu",
        hidden_layer_sizes=hidden_layer_sizes,
        learning_rate=LEARNING_RATE,
        weight_decay=0.0,  # the loop's Adam has none
        batch_size=batch_size,
        max_epochs=epochs,
        # train on every row, as the reference loop does, for exactly max_epochs
        early_stopping=False,
        tol=0.0,
        device=device,
        random_state=SEED,
    )


def fit_ours(X, batch_size, epochs, device, **network):
    """One ``fit`` of the estimator on the raw X: seconds, and the last epoch's."""
    estimator = make_estimator(batch_size, epochs, device, **network)
    synchronize(device)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # fixed epoch budgets: reaching them is expected, and the table reports it
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    synchronize(device)
    # skorch times each epoch; every step reads its loss, which waits for the GPU
    return time.perf_counter() - start, estimator.history_[-1, "dur"]


def time_ours(X, batch_size, epochs, device):
    """Seconds of one ``fit`` of the estimator on the raw X."""
    return fit_ours(X, batch_size, epochs, device)[0]


def train_reference(
    X,
    batch_size,
    epochs,
    fused,
    device="cpu",
    n_components=N_COMPONENTS,
    hidden_layer_sizes=HIDDEN_LAYER_SIZES,
    epoch_seconds=None,
):
    """A hand-written training loop; returns the trained module and epoch losses.

    With ``epoch_seconds`` (a list), the seconds of each epoch are appended to it.
    """
    torch.manual_seed(SEED)
    module = make_mlp_autoencoder(X.shape[1], n_components, hidden_layer_sizes)
    module = module.to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=LEARNING_RATE, fused=fused)
    x_all = torch.from_numpy(X).to(device)
    x_all = ((x_all - x_all.mean(dim=0)) / x_all.std(dim=0)).contiguous()
    n_rows = len(x_all)
    epoch_losses = []
    module.train()
    for _ in range(epochs):
        synchronize(device)
        epoch_start = time.perf_counter()
        perm = torch.randperm(n_rows, device=device)
        total = 0.0
        for start in range(0, n_rows, batch_size):
            x = x_all[perm[start : start + batch_size]]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(module(x), x)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        epoch_losses.append(total / n_rows)
        synchronize(device)
        if epoch_seconds is not None:
            epoch_seconds.append(time.perf_counter() - epoch_start)
    return module, epoch_losses


def fit_reference(X, batch_size, epochs, fused, device, **network):
    """Seconds of one run of the loop, and of its last epoch."""
    epoch_seconds = []
    synchronize(device)
    start = time.perf_counter()
    train_reference(
        X, batch_size, epochs, fused, device, epoch_seconds=epoch_seconds, **network
    )
    synchronize(device)
    return time.perf_counter() - start, epoch_seconds[-1]


def time_reference(X, batch_size, epochs, fused, device):
    return fit_reference(X, batch_size, epochs, fused, device)[0]


def measure_training(X, batch_size, repeats, device):
    """Alternate ours and the two loops; return rates and per-run ratios."""
    epochs = EPOCHS[batch_size]
    runs = {
        "ours": lambda: time_ours(X, batch_size, epochs, device),
        "fused": lambda: time_reference(X, batch_size, epochs, True, device),
        "default": lambda: time_reference(X, batch_size, epochs, False, device),
    }
    time_ours(X, batch_size, 1, device)  # warm-up
    time_reference(X, batch_size, 1, True, device)
    time_reference(X, batch_size, 1, False, device)
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(run())
    rows_trained = len(X) * epochs
    row = {"batch_size": batch_size, "epochs": epochs}
    for name in runs:
        row[f"{name}_rate"] = rows_trained / statistics.median(times[name])
    for name in ("fused", "default"):
        ratios = [r / o for r, o in zip(times[name], times["ours"], strict=True)]
        row[f"{name}_ratio"] = statistics.median(ratios)
        row[f"{name}_range"] = (min(ratios), max(ratios))
    # the fastest run of each: other processes only ever add time, so the
    # fastest runs are the least disturbed (the reading timeit recommends)
    row["best_ratio"] = min(times["fused"]) / min(times["ours"])
    return row


def seconds(fn, device="cpu"):
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def median_seconds(fn, repeats, device="cpu"):
    return statistics.median(seconds(fn, device) for _ in range(repeats))


def measure_transform(X, repeats, device):
    """Transform of many rows against a bare encode, and one-row latencies."""
    estimator = make_estimator(batch_size=256, epochs=1, device=device)
    with warnings.catch_warnings():
        # fixed epoch budgets: reaching them is expected, and the table reports it
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    X_new = X[:N_TRANSFORM_ROWS]
    module = estimator.module_.eval()
    mean, std = X.mean(axis=0), X.std(axis=0)
    X_scaled = ((X_new - mean) / std).astype(np.float32)
    x_scaled = torch.from_numpy(X_scaled).to(device)

    def bare_encode(x=x_scaled):
        # on CUDA the input is already on the GPU; the codes come back to the host
        with torch.inference_mode():
            return module.encode(x).cpu().numpy()

    def host_to_host_encode(X=X_scaled):
        # what a user's own function does: numpy in, to the GPU, encode, numpy out
        with torch.inference_mode():
            return module.encode(torch.from_numpy(X).to(device)).cpu().numpy()

    def transform_assuming_finite():
        # scikit-learn's switch that skips the NaN/inf scan of validate_data
        with sklearn.config_context(assume_finite=True):
            return estimator.transform(X_new)

    runs = {
        "ours": lambda: estimator.transform(X_new),
        "bare": bare_encode,
        "assume_finite": transform_assuming_finite,
    }
    if device == "cuda":
        runs["host_to_host"] = host_to_host_encode
    for run in runs.values():  # warm-up
        run()
    # many short runs, alternating, so that a busy moment hits all three alike
    times = {name: [] for name in runs}
    for _ in range(20 * repeats):
        for name, run in runs.items():
            times[name].append(seconds(run, device))

    def median_ratio(name, reference="bare"):
        return statistics.median(
            b / o for b, o in zip(times[reference], times[name], strict=True)
        )

    one_row = X_new[:1]
    one_row_64 = one_row.astype(np.float64)
    estimator.transform(one_row_64)  # builds the cached float64 copy of the net
    n_calls = 100 * repeats
    result = {
        "ours_ms": 1e3 * statistics.median(times["ours"]),
        "bare_ms": 1e3 * statistics.median(times["bare"]),
        "ratio": median_ratio("ours"),
        "assume_finite_ratio": median_ratio("assume_finite"),
        "one_row_us": 1e6
        * median_seconds(lambda: estimator.transform(one_row), n_calls, device),
        "one_row_64_us": 1e6
        * median_seconds(lambda: estimator.transform(one_row_64), n_calls, device),
        "bare_one_row_us": 1e6
        * median_seconds(lambda: bare_encode(x_scaled[:1]), n_calls, device),
    }
    if device == "cuda":
        result["host_to_host_ms"] = 1e3 * statistics.median(times["host_to_host"])
        result["host_to_host_ratio"] = median_ratio("ours", "host_to_host")
        result["host_to_host_one_row_us"] = 1e6 * median_seconds(
            lambda: host_to_host_encode(X_scaled[:1]), n_calls, device
        )
    return result


def measure_realistic(n_rows, cpu_rows, repeats, devices):
    """The estimator against the loop on the 784-wide case, per device and batch."""
    X = make_low_rank_data(n_rows, REALISTIC_FEATURES, REALISTIC_RANK, SEED)
    network = {
        "n_components": REALISTIC_COMPONENTS,
        "hidden_layer_sizes": REALISTIC_HIDDEN,
    }
    rows = []
    for device in devices:
        X_device = X[:cpu_rows] if device == "cpu" else X
        # warm-up: allocators, kernels, the CUDA context
        fit_ours(X_device, 256, 1, device, **network)
        fit_reference(X_device, 256, 1, True, device, **network)
        for batch_size, epochs in REALISTIC_EPOCHS.items():
            runs = {"ours": [], "loop": []}
            for _ in range(repeats):
                runs["ours"].append(
                    fit_ours(X_device, batch_size, epochs, device, **network)
                )
                runs["loop"].append(
                    fit_reference(X_device, batch_size, epochs, True, device, **network)
                )
            row = {
                "device": device,
                "batch_size": batch_size,
                "epochs": epochs,
                "n_rows": len(X_device),
            }
            # each run gives (fit seconds, last epoch seconds); ratios per round
            for column, kind in enumerate(("fit", "epoch")):
                ours = [run[column] for run in runs["ours"]]
                loop = [run[column] for run in runs["loop"]]
                n_trained = len(X_device) * (epochs if kind == "fit" else 1)
                row[f"ours_{kind}_rate"] = n_trained / statistics.median(ours)
                row[f"loop_{kind}_rate"] = n_trained / statistics.median(loop)
                row[f"{kind}_ratio"] = statistics.median(
                    b / a for a, b in zip(ours, loop, strict=True)
                )
            rows.append(row)
            print(row, flush=True)
    return rows


def format_tables(training, transform, n_threads, repeats, device):
    architecture = "-".join(map(str, [N_FEATURES, *HIDDEN_LAYER_SIZES, N_COMPONENTS]))
    if device == "cuda":
        where = (
            f"on CUDA ({torch.cuda.get_device_name()}); the loop keeps the data "
            "on the GPU, and so does the estimator when the scaled rows fit in "
            "half the free GPU memory (they do here)"
        )
        command = "python benchmarks/throughput.py --device cuda"
        promise = "the promise of >= 0.9 is for the CPU"
    else:
        where = f"on CPU, `torch.set_num_threads({n_threads})`"
        command = "python benchmarks/throughput.py"
        promise = ">= 0.9 is the promise"
    lines = [
        f"Training throughput {where}: "
        f"`AutoencoderTransformer.fit` on {N_SAMPLES:,} x {N_FEATURES} raw float32 "
        "rows against a hand-written PyTorch loop on pre-standardised data; MLP "
        f"{architecture} with a mirrored decoder, Adam (learning rate "
        f"{LEARNING_RATE}), early_stopping=False, tol=0. The estimator uses "
        "torch's fused Adam; the loop runs with the same fused Adam (like for "
        "like: the promise) and with torch's default Adam (as a typical loop is "
        f"written). Medians of {repeats} alternating runs after a warm-up of each. "
        f"Ratio = loop time / our time, per round of runs ({promise}); "
        "'fastest' divides the fastest run of each, the runs other processes "
        f"disturbed least. Command: `{command}`.",
        "",
        "| batch size | epochs per run | ours (rows/s) | loop, fused Adam (rows/s) "
        "| ratio | ratio range | ratio, fastest runs | loop, default Adam (rows/s) "
        "| ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in training:
        low, high = row["fused_range"]
        lines.append(
            f"| {row['batch_size']} | {row['epochs']} | {row['ours_rate']:,.0f} "
            f"| {row['fused_rate']:,.0f} | **{row['fused_ratio']:.3f}** "
            f"| {low:.3f}-{high:.3f} | {row['best_ratio']:.3f} "
            f"| {row['default_rate']:,.0f} "
            f"| {row['default_ratio']:.3f} |"
        )
    lines += [
        "",
        f"`transform` of {N_TRANSFORM_ROWS:,} float32 rows against a bare "
        "`module.encode` of the same rows already scaled, under "
        "`torch.inference_mode()`; ratio = bare time / our time, median of "
        f"{20 * repeats} alternating pairs. The last column runs `transform` "
        "inside `sklearn.config_context(assume_finite=True)`, which skips the "
        "NaN/inf scan of the input.",
        "",
        "| ours (ms) | bare encode (ms) | ratio | ratio, assume_finite=True |",
        "|---:|---:|---:|---:|",
        f"| {transform['ours_ms']:.2f} | {transform['bare_ms']:.2f} "
        f"| {transform['ratio']:.3f} | {transform['assume_finite_ratio']:.3f} |",
        "",
        "Latency of `transform` on one row (median of "
        f"{100 * repeats} calls), against a bare `module.encode` of one scaled row.",
        "",
        "| float32 row (us) | float64 row (us) | bare encode (us) |",
        "|---:|---:|---:|",
        f"| {transform['one_row_us']:.0f} | {transform['one_row_64_us']:.0f} "
        f"| {transform['bare_one_row_us']:.0f} |",
    ]
    if device == "cuda":
        lines += [
            "",
            f"`transform` of {N_TRANSFORM_ROWS:,} float32 rows against a "
            "hand-written host-to-host function: the scaled numpy rows copied to "
            "the GPU, encoded, the codes copied back (a user's data starts and "
            "ends on the host); ratio = its time / our time, median of "
            f"{20 * repeats} alternating pairs; one row: median of "
            f"{100 * repeats} calls.",
            "",
            "| ours (ms) | host-to-host (ms) | ratio | ours, one row (us) "
            "| host-to-host, one row (us) |",
            "|---:|---:|---:|---:|---:|",
            f"| {transform['ours_ms']:.2f} | {transform['host_to_host_ms']:.2f} "
            f"| **{transform['host_to_host_ratio']:.3f}** "
            f"| {transform['one_row_us']:.0f} "
            f"| {transform['host_to_host_one_row_us']:.0f} |",
        ]
    return "\n".join(lines) + "\n"


def format_realistic(rows, n_threads, repeats):
    """The table of the realistic-size case, one line per device and batch size."""
    architecture = "-".join(
        map(str, [REALISTIC_FEATURES, *REALISTIC_HIDDEN, REALISTIC_COMPONENTS])
    )
    names = {
        "cpu": f"CPU ({n_threads} torch threads)",
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else "",
    }
    lines = [
        "",
        f"Realistic size: float32 rows of rank {REALISTIC_RANK} plus noise, "
        f"{REALISTIC_FEATURES} features, MLP {architecture} with a mirrored "
        "decoder, the estimator (raw rows) against the loop (fused Adam, "
        "pre-standardised rows, on the device). 'epoch' is the last epoch of "
        "each run (the steady state); 'fit' is the whole run, setup included "
        "(scaling; for the estimator also its PCA and the copy of the rows to "
        f"the device). Medians of {repeats} alternating runs after a warm-up of "
        "each; ratio = loop time / our time, per round.",
        "",
        "| device | rows | batch size | epochs per run | ours, epoch (rows/s) "
        "| loop, epoch (rows/s) | ratio | ours, fit (rows/s) | loop, fit (rows/s) "
        "| ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {names[row['device']]} | {row['n_rows']:,} | {row['batch_size']} "
            f"| {row['epochs']} | {row['ours_epoch_rate']:,.0f} "
            f"| {row['loop_epoch_rate']:,.0f} | **{row['epoch_ratio']:.3f}** "
            f"| {row['ours_fit_rate']:,.0f} | {row['loop_fit_rate']:,.0f} "
            f"| {row['fit_ratio']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def profile_fit(X, batch_size, device, n_lines=25):
    """Print the functions that take the most time in one ``fit``."""
    estimator = make_estimator(batch_size, EPOCHS[batch_size], device)
    profiler = cProfile.Profile()
    with warnings.catch_warnings():
        # fixed epoch budgets: reaching them is expected, and the table reports it
        warnings.simplefilter("ignore", ConvergenceWarning)
        profiler.runcall(estimator.fit, X)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats("tottime")
    stats.print_stats(n_lines)
    print(f"\nProfile of one fit, batch_size={batch_size}:\n{stream.getvalue()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    # one thread by default: on a shared machine, torch's OpenMP threads wait on
    # each other whenever a core is taken, which swamps what is measured here
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help=f"rows of the realistic case (default {REALISTIC_ROWS:,} with "
        "--device cuda, where it runs on the CPU and the GPU; with --device cpu "
        "it runs, on the CPU only, when this is given)",
    )
    parser.add_argument(
        "--cpu-rows",
        type=int,
        default=4_000,
        help="rows the CPU trains on in the realistic case",
    )
    parser.add_argument("--realistic-repeats", type=int, default=3)
    parser.add_argument(
        "--output", type=Path, default=None, help="where to write the table"
    )
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        # never write a CPU table under the GPU's name
        parser.error("--device cuda needs a CUDA device, and torch sees none")

    torch.set_num_threads(args.threads)
    X = make_data(N_SAMPLES, N_FEATURES, SEED)
    training = [measure_training(X, bs, args.repeats, args.device) for bs in EPOCHS]
    transform = measure_transform(X, args.repeats, args.device)
    table = format_tables(training, transform, args.threads, args.repeats, args.device)
    n_rows = args.rows
    if n_rows is None and args.device == "cuda":
        n_rows = REALISTIC_ROWS
    if n_rows:
        devices = ["cpu", "cuda"] if args.device == "cuda" else ["cpu"]
        realistic = measure_realistic(
            n_rows, min(args.cpu_rows, n_rows), args.realistic_repeats, devices
        )
        table += format_realistic(realistic, args.threads, args.realistic_repeats)
    print(table)
    results = args.output
    if results is None:
        results = (
            RESULTS.with_stem("throughput_cuda") if args.device == "cuda" else RESULTS
        )
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(table)
    if args.profile:
        for batch_size in EPOCHS:
            profile_fit(X, batch_size, args.device)


if __name__ == "__main__":
    main()
