"""Quality of the autoencoder against PCA at equal n_components, on three data sets.

Each estimator is fitted on a training set and measured on a held-out test set:

- **digits** (``load_digits``, stratified 75/25 split), n_components 2 to 48:
  test reconstruction MSE in pixel units and the accuracy of
  ``LogisticRegression(max_iter=2000)`` trained on the training codes;
- **patches**: 8x8 grey patches of the two images of ``load_sample_images``,
  training patches from the left half of each image and test patches from the
  right half (another region, where an overfitted network shows), in grey
  levels 0..1, n_components 8, 16 and 32;
- **swiss roll** (``make_swiss_roll``, 3-D), n_components 2.

``AutoencoderTransformer`` is fitted with its defaults (``init='pca'``) and with
``init='random'``, each with several seeds: the table gives their mean and range.
PCA is deterministic. Fit times are CPU seconds on one torch thread.

Run from the repository root::

    python benchmarks/pca_quality.py

The table is printed and written to ``benchmarks/results/pca_quality.md``.
"""

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits, load_sample_images, make_swiss_roll
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

RESULTS = Path(__file__).resolve().parent / "results" / "pca_quality.md"
SEEDS = (0, 1, 2)


def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def patches(n_train=3000, n_test=1500):
    """8x8 grey patches: training ones from the left half of each image, test ones
    from the right half."""
    train, test = [], []
    for i, image in enumerate(load_sample_images().images):
        grey = image.mean(axis=2) / 255.0
        half = grey.shape[1] // 2
        for region, out, n in (
            (grey[:, :half], train, n_train),
            (grey[:, half:], test, n_test),
        ):
            found = extract_patches_2d(
                region, (8, 8), max_patches=n // 2, random_state=i
            )
            out.append(found.reshape(len(found), -1))
    return np.vstack(train), np.vstack(test), None, None


def swiss_roll(n_samples=2000):
    X, _ = make_swiss_roll(2 * n_samples, noise=0.5, random_state=0)
    return X[:n_samples], X[n_samples:], None, None


DATASETS = {
    "digits": (digits, (2, 4, 8, 16, 32, 48)),
    "patches": (patches, (8, 16, 32)),
    "swiss roll": (swiss_roll, (2,)),
}


def evaluate(estimator, X_train, X_test, y_train, y_test):
    """Fit; return test MSE, downstream accuracy (labelled data only), CPU time."""
    start = time.process_time()
    with warnings.catch_warnings():
        # init='random' may reach max_epochs at large n_components: its quality
        # at the default max_epochs is what the table compares
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X_train)
    seconds = time.process_time() - start
    codes_test = estimator.transform(X_test)
    result = {
        "mse": float(np.mean((X_test - estimator.inverse_transform(codes_test)) ** 2)),
        "seconds": seconds,
        "epochs": getattr(estimator, "n_iter_", 0),
        "accuracy": float("nan"),
    }
    if y_train is not None:
        classifier = LogisticRegression(max_iter=2000)
        with warnings.catch_warnings():
            # lbfgs may stop at max_iter on unscaled codes; the same for every
            # reducer, whose accuracy is what is compared
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifier.fit(estimator.transform(X_train), y_train)
        result["accuracy"] = classifier.score(codes_test, y_test)
    return result


def summarise(runs):
    return {
        key: (
            statistics.mean(r[key] for r in runs),
            min(r[key] for r in runs),
            max(r[key] for r in runs),
        )
        for key in runs[0]
    }


def fmt(summary, spec):
    mean, low, high = summary
    if np.isnan(mean):
        return "-"
    if low == high:
        return f"{mean:{spec}}"
    return f"{mean:{spec}} ({low:{spec}}-{high:{spec}})"


def run(seeds):
    rows = []
    for name, (load, sizes) in DATASETS.items():
        data = load()
        for k in sizes:
            row = {"data": name, "k": k, "PCA": summarise([evaluate(PCA(k), *data)])}
            for init in ("pca", "random"):
                row[init] = summarise(
                    [
                        evaluate(
                            AutoencoderTransformer(k, init=init, random_state=seed),
                            *data,
                        )
                        for seed in seeds
                    ]
                )
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


def format_row(row):
    pca, ae, random = row["PCA"], row["pca"], row["random"]
    return (
        f"| {row['data']} | {row['k']} | {fmt(ae['mse'], '.3g')} "
        f"| {fmt(random['mse'], '.3g')} | {fmt(pca['mse'], '.3g')} "
        f"| {ae['mse'][0] / pca['mse'][0]:.3f} "
        f"| {fmt(ae['accuracy'], '.3f')} | {fmt(random['accuracy'], '.3f')} "
        f"| {fmt(pca['accuracy'], '.3f')} "
        f"| {ae['seconds'][0]:.1f} | {random['seconds'][0]:.1f} "
        f"| {fmt(ae['epochs'], '.0f')} |"
    )


def format_table(rows, seeds):
    defaults = AutoencoderTransformer().get_params()
    settings = ", ".join(
        f"{name}={defaults[name]!r}"
        for name in (
            "hidden_layer_sizes",
            "activation",
            "learning_rate",
            "batch_size",
            "max_epochs",
            "validation_fraction",
            "n_iter_no_change",
            "tol",
        )
    )
    lines = [
        "Test reconstruction MSE (in X's units) and downstream "
        "`LogisticRegression` accuracy (digits only) of `AutoencoderTransformer` "
        f"with its defaults ({settings}; `init='pca'`) and with `init='random'`, "
        f"against PCA. Mean over random_state in {list(seeds)}, range in "
        "parentheses; *ratio* is the default's mean test MSE over PCA's; fit "
        "times are mean CPU seconds on one torch thread. Data: digits (stratified "
        "75/25 split), 8x8 grey patches of `load_sample_images` (training "
        "patches from the left half of each image, test patches from the right "
        "half, grey levels in [0, 1]), swiss roll (3-D, noise 0.5). "
        "Command: `python benchmarks/pca_quality.py`.",
        "",
        "| data | n_components | MSE, init='pca' | MSE, init='random' | MSE, PCA "
        "| ratio | accuracy, 'pca' | accuracy, 'random' | accuracy, PCA "
        "| fit s, 'pca' | fit s, 'random' | epochs, 'pca' |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [format_row(row) for row in rows]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=len(SEEDS))
    args = parser.parse_args()
    # one thread: fit times stay comparable on a shared machine
    torch.set_num_threads(1)
    seeds = tuple(range(args.seeds))
    table = format_table(run(seeds), seeds)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table)


if __name__ == "__main__":
    main()
