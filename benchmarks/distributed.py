"""Data-parallel training: one fit on 1 and on 2 processes, launched by torchrun.

:class:`AutoencoderTransformer` is fitted on a synthetic data set of
``N_ROWS`` rows and 64 features (8 latent factors through a ``tanh``, plus
noise), stored once as a ``.npy`` file that every process memory-maps, for a
fixed number of epochs (``early_stopping=False``, no stopping rule reached).
Two set-ups, alternately, ``REPEATS`` times each, both launched by ``torchrun``
with ``accelerator=Accelerator(cpu=True)`` and one torch thread per process:

- 1 process: the reference;
- 2 processes (gloo on 127.0.0.1): each trains on half of every batch, with
  one all-reduce of the gradients per step.

One process of two torch threads is left out: where the cores are shared with
other work, torch's intra-op threads wait on each other at every small matrix
product (see ``one_torch_thread`` in tests/conftest.py), and a single such fit
took minutes here.

The table reports the median wall time of ``fit`` (the PCA start and the
density pass after training run whole in every process, so they do not scale)
and of the training epochs alone (the history's durations), with the speed-up
over one process, and the CPU time the main process spent in training: the
work each process does, which the wall time shows only where every process
has a core of its own. Run with ``python benchmarks/distributed.py`` (a few minutes
on 2 cores). Writes benchmarks/results/distributed.md.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from skorch.callbacks import Callback

N_ROWS = 100_000
N_FEATURES = 64
REPEATS = 3
BATCH_SIZES = (256, 1024)
SETTINGS = dict(
    n_components=8,
    hidden_layer_sizes=(256, 128),
    max_epochs=3,
    early_stopping=False,
    random_state=0,
)
RESULTS = Path(__file__).parent / "results" / "distributed.md"
# (label, processes, torch threads per process)
SETUPS = [("1 process", 1, 1), ("2 processes", 2, 1)]


class TrainingCpuTime(Callback):
    """CPU seconds this process spends from the start to the end of training."""

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.process_time()

    def on_train_end(self, net, **kwargs):
        self.seconds_ = time.process_time() - self.start_


def make_data(path):
    rng = np.random.default_rng(0)
    factors = rng.standard_normal((N_ROWS, 8), dtype=np.float32)
    mixing = rng.standard_normal((8, N_FEATURES), dtype=np.float32)
    X = np.tanh(factors @ mixing / 2) + 0.1 * rng.standard_normal(
        (N_ROWS, N_FEATURES), dtype=np.float32
    )
    np.save(path, X.astype(np.float32))


def worker(data, batch_size, out):
    """One process of a launch: fit, and on the main process write the times."""
    import torch
    from accelerate import Accelerator
    from sklearn.exceptions import ConvergenceWarning

    from sk_autoencoder import AutoencoderTransformer

    accelerator = Accelerator(cpu=True)
    X = np.load(data, mmap_mode="r")
    estimator = AutoencoderTransformer(
        **SETTINGS,
        batch_size=batch_size,
        device="cpu",
        callbacks=[("cpu_time", TrainingCpuTime())],
        accelerator=accelerator,
    )
    accelerator.wait_for_everyone()
    start = time.perf_counter()
    with warnings.catch_warnings():
        # a fixed budget of epochs without early stopping: reaching it is intended
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    accelerator.wait_for_everyone()
    wall = time.perf_counter() - start
    if accelerator.is_main_process:
        record = {
            "fit": wall,
            "epochs": float(sum(estimator.history_[:, "dur"])),
            "cpu": dict(estimator.net_.callbacks_)["cpu_time"].seconds_,
            "threads": torch.get_num_threads(),
            "loss": estimator.loss_curve_[-1],
        }
        Path(out).write_text(json.dumps(record))


def launch(data, batch_size, n_processes, n_threads, out):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = str(Path(__file__).resolve().parents[1])
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(n_threads),
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable, "-m", "torch.distributed.run",
        f"--nproc_per_node={n_processes}",
        "--master_addr=127.0.0.1", f"--master_port={port}",
        __file__, "--worker", str(data), str(batch_size), str(out),
    ]  # fmt: skip
    subprocess.run(command, env=env, check=True, capture_output=True)
    return json.loads(Path(out).read_text())


def main():
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "X.npy"
        make_data(data)
        for batch_size in BATCH_SIZES:
            runs = {label: [] for label, _, _ in SETUPS}
            for _ in range(REPEATS):
                for label, n_processes, n_threads in SETUPS:
                    record = launch(
                        data, batch_size, n_processes, n_threads, Path(tmp) / "t.json"
                    )
                    runs[label].append(record)
                    print(batch_size, label, record, flush=True)
            base = {
                key: statistics.median(r[key] for r in runs[SETUPS[0][0]])
                for key in ("fit", "epochs", "cpu")
            }
            for label, _, _ in SETUPS:
                fit = statistics.median(r["fit"] for r in runs[label])
                epochs = statistics.median(r["epochs"] for r in runs[label])
                cpu = statistics.median(r["cpu"] for r in runs[label])
                loss = statistics.median(r["loss"] for r in runs[label])
                rows.append(
                    f"| {batch_size} | {label} | {fit:.1f} | {base['fit'] / fit:.2f}x "
                    f"| {epochs:.1f} | {base['epochs'] / epochs:.2f}x "
                    f"| {cpu:.1f} | {cpu / base['cpu']:.2f} | {loss:.4f} |"
                )
    load_after = os.getloadavg()[0]
    table = [
        f"One fit of AutoencoderTransformer on {N_ROWS:,} synthetic rows of "
        f"{N_FEATURES} float32 features (memory-mapped), settings {SETTINGS}; "
        f"median of {REPEATS} runs on {os.cpu_count()} cores, launched by "
        "`torchrun` (gloo on 127.0.0.1), one torch thread per process. Command: "
        "`python benchmarks/distributed.py`.",
        "",
        "| batch_size | set-up | fit (s) | speed-up | training epochs (s) "
        "| speed-up | training CPU time per process (s) | share of 1 process "
        "| last training loss |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "The two processes train the same model as one (the same global batch; "
        "the last training loss agrees to rounding). The fit time includes the "
        "PCA start and the density pass after training, which every process runs "
        "whole on the full X. The CPU time per process is the work divided, plus "
        "the cost of one all-reduce of all the gradients per step, the same for "
        "any batch_size: larger batches amortise it. Two processes need two free "
        "cores: at every step each waits for the other's gradients. The machine's "
        "load average (1 "
        f"minute) was {load_before:.1f} before the runs and {load_after:.1f} after "
        "them, on its 2 cores shared with other work: the table says what one more "
        "process gave there, not what it gives on idle cores or on GPUs, where "
        "each process has a device of its own.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
