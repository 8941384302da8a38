"""Model selection with the autoencoder in place of PCA: grid search wall time.

scikit-learn's "pipelining: chaining a PCA and a logistic regression" search on
the digits, run with PCA and with ``AutoencoderTransformer`` (its defaults) in
the same run: ``StandardScaler -> reducer -> LogisticRegression``,
``GridSearchCV`` over the reducer's ``n_components`` and the classifier's ``C``,
5 folds, ``n_jobs=2``. Each search runs with and without ``Pipeline(memory=)``
caching, which fits each transformer once per fold and ``n_components`` instead
of once per grid point.

It also times single fits on the digits, as CPU seconds on one torch thread:
the default fit (``init='pca'``) against ``init='random'`` with the previous
release's training settings (``hidden_layer_sizes=(128, 64)``,
``activation='relu'``, ``learning_rate=1e-3``, ``weight_decay=0``,
``batch_size=64``), side by side.

Run from the repository root::

    python benchmarks/search.py

The tables are printed and written to ``benchmarks/results/search.md``.
"""

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_autoencoder import AutoencoderTransformer

RESULTS = Path(__file__).resolve().parent / "results" / "search.md"
GRID = {
    "reducer__n_components": [5, 15, 30, 45, 60],
    "logistic__C": np.logspace(-4, 4, 4),
}
PREVIOUS = dict(
    init="random",
    hidden_layer_sizes=(128, 64),
    activation="relu",
    learning_rate=1e-3,
    weight_decay=0.0,
    batch_size=64,
)


def search(reducer, X, y, memory):
    pipe = Pipeline(
        [
            ("scaler", StandardScaler()),
            ("reducer", reducer),
            ("logistic", LogisticRegression(max_iter=10000, tol=0.1)),
        ],
        memory=memory,
    )
    start = time.perf_counter()
    fitted = GridSearchCV(pipe, GRID, cv=5, n_jobs=2).fit(X, y)
    return time.perf_counter() - start, fitted.best_score_, fitted.best_params_


def searches(X, y):
    # start the worker processes once, outside the timings
    search(PCA(), X, y, None)
    rows = []
    for cached in (False, True):
        for name, reducer in (
            ("PCA", PCA()),
            ("AutoencoderTransformer", AutoencoderTransformer(random_state=0)),
        ):
            with tempfile.TemporaryDirectory() as cache:
                seconds, score, params = search(
                    reducer, X, y, cache if cached else None
                )
            rows.append((name, cached, seconds, score, params["reducer__n_components"]))
            print(rows[-1], flush=True)
    return rows


def fit_times(X, sizes, repeats):
    """Median CPU seconds of single fits, alternating the two settings."""
    rows = []
    for k in sizes:
        times = {"pca": [], "previous": []}
        for seed in range(repeats):
            for key, params in (("pca", {}), ("previous", PREVIOUS)):
                start = time.process_time()
                with warnings.catch_warnings():
                    # the previous settings may stop at max_epochs: their time is
                    # what is measured, not their convergence
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    AutoencoderTransformer(k, random_state=seed, **params).fit(X)
                times[key].append(time.process_time() - start)
        rows.append(
            (k, statistics.median(times["pca"]), statistics.median(times["previous"]))
        )
        print(rows[-1], flush=True)
    return rows


def format_tables(search_rows, fit_rows, repeats):
    pca_time = {cached: s for name, cached, s, _, _ in search_rows if name == "PCA"}
    lines = [
        "Grid search on the digits (1,797 rows): `StandardScaler -> reducer -> "
        "LogisticRegression(max_iter=10000, tol=0.1)`, `GridSearchCV` over "
        f"n_components in {GRID['reducer__n_components']} and C in "
        "logspace(-4, 4, 4), 5 folds, `n_jobs=2`; the reducer is `PCA()` or "
        "`AutoencoderTransformer(random_state=0)` with its defaults. "
        "*memory*: `Pipeline(memory=)` caching. Wall seconds of one search each, "
        "in the same run. Command: `python benchmarks/search.py`.",
        "",
        "| reducer | memory | wall s | x PCA's | best CV accuracy "
        "| best n_components |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, cached, seconds, score, k in search_rows:
        lines.append(
            f"| {name} | {'yes' if cached else 'no'} | {seconds:.1f} "
            f"| {seconds / pca_time[cached]:.1f} | {score:.3f} | {k} |"
        )
    lines += [
        "",
        "Single fits on the digits: median CPU seconds over "
        f"{repeats} seeds on one torch thread, the default (`init='pca'`) and "
        "`init='random'` with the previous release's settings "
        "(`hidden_layer_sizes=(128, 64)`, `activation='relu'`, "
        "`learning_rate=1e-3`, `weight_decay=0`, `batch_size=64`), alternating.",
        "",
        "| n_components | default (s) | init='random', previous (s) | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for k, ours, previous in fit_rows:
        lines.append(f"| {k} | {ours:.2f} | {previous:.2f} | {ours / previous:.2f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # one torch thread per fit: the search runs two fits side by side
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    fit_rows = fit_times(X, (2, 8, 16, 32, 48), args.repeats)
    search_rows = searches(X, y)
    table = format_tables(search_rows, fit_rows, args.repeats)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table)


if __name__ == "__main__":
    main()
