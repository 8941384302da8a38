"""Autoencoder against PCA at equal n_components on the digits.

For n_components in {2, 8, 16, 32}: test reconstruction MSE in pixel units
(mean over test rows and pixels of ``(X - inverse_transform(transform(X))) ** 2``),
accuracy of a ``LogisticRegression`` trained on the training codes and scored on
the test codes, and fit time, for ``AutoencoderTransformer`` with its default
settings (``random_state=0``) and for ``PCA``. One stratified 75/25 split.

Run with ``python benchmarks/pca_quality.py`` (a minute or two). Writes
benchmarks/results/pca_quality.md.
"""

import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

RESULTS = Path(__file__).parent / "results" / "pca_quality.md"
N_COMPONENTS = (2, 8, 16, 32)


def evaluate(model, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
    fit_time = time.perf_counter() - start
    mse = np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2)
    classifier = LogisticRegression(max_iter=5000)
    classifier.fit(model.transform(X_train), y_train)
    return mse, classifier.score(model.transform(X_test), y_test), fit_time


def main():
    X, y = load_digits(return_X_y=True)
    split = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    lines = [
        "Digits (1,347 training and 450 test rows, 64 pixels in 0..16): test "
        "reconstruction MSE in pixel units, LogisticRegression accuracy on the "
        "codes, fit time. AutoencoderTransformer with default settings "
        "(hidden_layer_sizes=(128, 64), relu, Adam 1e-3, batch 64, up to 200 "
        "epochs, early stopping on 10% held out), random_state=0. Command: "
        "`python benchmarks/pca_quality.py`.",
        "",
        "| n_components | AE test MSE | PCA test MSE | AE accuracy | PCA accuracy "
        "| AE fit (s) | PCA fit (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n_components in N_COMPONENTS:
        ae = evaluate(AutoencoderTransformer(n_components, random_state=0), *split)
        pca = evaluate(PCA(n_components, random_state=0), *split)
        print(
            f"n_components={n_components:2d}: MSE AE {ae[0]:6.2f} PCA {pca[0]:6.2f} | "
            f"accuracy AE {ae[1]:.3f} PCA {pca[1]:.3f} | "
            f"fit AE {ae[2]:5.2f}s PCA {pca[2]:5.3f}s"
        )
        lines.append(
            f"| {n_components} | {ae[0]:.2f} | {pca[0]:.2f} | {ae[1]:.3f} | "
            f"{pca[1]:.3f} | {ae[2]:.2f} | {pca[2]:.3f} |"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
