"""Quality of AutoencoderTransformer against PCA at equal n_components, on digits.

For each ``n_components`` both estimators are fitted on the same stratified
training split of ``load_digits`` and measured on the test split:

- reconstruction MSE in pixel units: the mean over test rows and pixels of
  ``(X - reconstruct(X)) ** 2`` (for PCA, ``inverse_transform(transform(X))``);
- accuracy of ``LogisticRegression(max_iter=2000)`` trained on the training codes
  and scored on the test codes;
- fit time.

The autoencoder uses its default settings, the same for every ``n_components``,
and is fitted with several seeds: the table gives their mean and range.

Run from the repository root::

    python benchmarks/pca_quality.py

The table is printed and written to ``benchmarks/results/pca_quality.md``.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

RESULTS = Path(__file__).resolve().parent / "results" / "pca_quality.md"

N_COMPONENTS = (2, 8, 16, 32)
SEEDS = (0, 1, 2)
SPLIT_SEED = 0


def reconstruction_mse(X, X_reconstructed):
    return float(np.mean((X - X_reconstructed) ** 2))


def evaluate(make_estimator, X_train, X_test, y_train, y_test, n_fits=1):
    """Fit an estimator; return its test MSE, downstream accuracy and fit time.

    With ``n_fits > 1`` the (deterministic) fit is repeated and the median time
    reported, for fits too short to time once.
    """
    fit_times = []
    for _ in range(n_fits):
        estimator = make_estimator()
        start = time.perf_counter()
        estimator.fit(X_train)
        fit_times.append(time.perf_counter() - start)
    fit_seconds = statistics.median(fit_times)
    codes_train = estimator.transform(X_train)
    codes_test = estimator.transform(X_test)
    classifier = LogisticRegression(max_iter=2000).fit(codes_train, y_train)
    return {
        "mse": reconstruction_mse(X_test, estimator.inverse_transform(codes_test)),
        "accuracy": classifier.score(codes_test, y_test),
        "fit_seconds": fit_seconds,
        "n_iter": getattr(estimator, "n_iter_", None),
    }


def summarise(runs, key):
    values = [run[key] for run in runs]
    return statistics.mean(values), min(values), max(values)


def compare(n_components, data, seeds):
    """PCA and the autoencoder (one fit per seed) at ``n_components``."""
    pca = evaluate(lambda: PCA(n_components, random_state=SPLIT_SEED), *data, n_fits=5)
    autoencoder_runs = [
        evaluate(
            lambda seed=seed: AutoencoderTransformer(n_components, random_state=seed),
            *data,
        )
        for seed in seeds
    ]
    return {
        "n_components": n_components,
        "pca": pca,
        "ae": {
            key: summarise(autoencoder_runs, key)
            for key in ("mse", "accuracy", "fit_seconds", "n_iter")
        },
    }


def format_range(summary, spec):
    mean, low, high = summary
    return f"{mean:{spec}} ({low:{spec}}-{high:{spec}})"


def format_table(rows, n_train, n_test, n_threads, seeds):
    defaults = AutoencoderTransformer().get_params()
    settings = ", ".join(
        f"{name}={defaults[name]!r}"
        for name in (
            "hidden_layer_sizes",
            "activation",
            "learning_rate",
            "batch_size",
            "max_epochs",
            "early_stopping",
            "validation_fraction",
            "n_iter_no_change",
            "tol",
        )
    )
    lines = [
        f"Digits ({n_train:,} training and {n_test:,} test rows, stratified split "
        f"with random_state={SPLIT_SEED}; 64 pixels in 0..16). Test reconstruction "
        "MSE in pixel units, accuracy of `LogisticRegression(max_iter=2000)` "
        "trained on the training codes, and fit time (PCA: median of 5 fits; "
        f"`torch.set_num_threads({n_threads})`). AutoencoderTransformer with its "
        f"default settings ({settings}), the same for every n_components; "
        f"mean over random_state in {list(seeds)}, range in parentheses; "
        f"an epoch count of {defaults['max_epochs']} means the stopping rule never "
        "fired. "
        "Command: `python benchmarks/pca_quality.py`.",
        "",
        "| n_components | AE test MSE | PCA test MSE | AE accuracy | PCA accuracy "
        "| AE fit (s) | PCA fit (s) | AE epochs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ae, pca = row["ae"], row["pca"]
        lines.append(
            f"| {row['n_components']} | {format_range(ae['mse'], '.2f')} "
            f"| {pca['mse']:.2f} | {format_range(ae['accuracy'], '.3f')} "
            f"| {pca['accuracy']:.3f} | {ae['fit_seconds'][0]:.2f} "
            f"| {pca['fit_seconds']:.3f} | {format_range(ae['n_iter'], '.0f')} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # one thread by default: fit times stay comparable on a shared machine
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=SPLIT_SEED
    )
    data = (X_train, X_test, y_train, y_test)
    rows = [compare(n, data, SEEDS) for n in N_COMPONENTS]
    table = format_table(rows, len(X_train), len(X_test), args.threads, SEEDS)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table)


if __name__ == "__main__":
    main()
