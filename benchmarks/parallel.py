"""Speed-up of a grid search with two worker processes instead of one.

A 4-candidate, 3-fold grid over ``n_components`` and ``learning_rate`` of
:class:`AutoencoderTransformer` on the digits, run with ``n_jobs=1`` and
``n_jobs=2`` (joblib's default process workers, each limited to
``cores // n_jobs`` torch threads), alternately, three times each. The table
reports the median wall time and the speed-up. With 2 cores, a perfect speed-up is
2.0; with ``n_jobs=1`` torch already uses both cores inside each fit, so the gain
measures how much better whole fits in parallel use them than threads inside one
small fit.

Run with ``python benchmarks/parallel.py`` (a few minutes). Writes
benchmarks/results/parallel.md.
"""

import os
import statistics
import time
import warnings
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sk_autoencoder import AutoencoderTransformer

RESULTS = Path(__file__).parent / "results" / "parallel.md"
GRID = {"n_components": [4, 8], "learning_rate": [1e-3, 3e-3]}
SETTINGS = dict(hidden_layer_sizes=(64,), max_epochs=20, random_state=0)


def time_search(X, n_jobs):
    search = GridSearchCV(AutoencoderTransformer(**SETTINGS), GRID, cv=3, n_jobs=n_jobs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # fixed epoch budgets: reaching them is expected, and the table reports it
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X)
    return time.perf_counter() - start


def main():
    X, _ = load_digits(return_X_y=True)
    time_search(X[:200], 2)  # start the worker processes once
    times = {1: [], 2: []}
    for _ in range(3):
        for n_jobs in (1, 2):
            times[n_jobs].append(time_search(X, n_jobs))
    serial, parallel = (statistics.median(times[k]) for k in (1, 2))
    print(
        f"n_jobs=1: {serial:.1f} s   n_jobs=2: {parallel:.1f} s   "
        f"speed-up {serial / parallel:.2f}x   ({os.cpu_count()} cores)"
    )
    table = [
        f"Grid search of AutoencoderTransformer on the digits: {len(GRID)} "
        f"parameters, 4 candidates x 3 folds, settings {SETTINGS}; median of 3 "
        f"runs on {os.cpu_count()} cores. Command: `python benchmarks/parallel.py`.",
        "",
        "| n_jobs | wall time (s) | speed-up |",
        "|---:|---:|---:|",
        f"| 1 | {serial:.1f} | 1.00 |",
        f"| 2 | {parallel:.1f} | {serial / parallel:.2f} |",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(table) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
