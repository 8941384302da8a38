"""Outlier detection: ROC-AUC and average precision against common detectors.

Data sets, all built from shipped or generated data, each a few percent of
outliers mixed into inliers; every detector is fitted on the contaminated rows
and scores the same rows (the unsupervised setting):

- digits: one class as inliers, 5% rows of the other classes as outliers,
  averaged over the ten classes;
- breast cancer: benign rows as inliers, 5% malignant rows as outliers;
- wine: one class as inliers, 5% rows of the other classes, averaged over classes;
- manifold: points near a circle embedded nonlinearly in 10-D, 5% uniform outliers.

Detectors: AutoencoderOutlierDetector with each of the three autoencoders at
default settings (random_state set), IsolationForest, LocalOutlierFactor,
OneClassSVM (standardised, nu=0.1), PCA reconstruction error (standardised, 2
components, as the autoencoders' default n_components), and PyOD's AutoEncoder and
VAE at their defaults when pyod is installed (an optional benchmark dependency).

Run with ``python benchmarks/outliers.py`` (several minutes; ``--quick`` for one
repeat and three digit classes). Writes benchmarks/results/outliers.md.
"""

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

RESULTS = Path(__file__).parent / "results" / "outliers.md"
OUTLIER_SHARE = 0.05


def mix(inliers, candidates, rng):
    """Inliers plus OUTLIER_SHARE of their count drawn from ``candidates``."""
    n_out = max(1, round(OUTLIER_SHARE * len(inliers)))
    outliers = candidates[rng.choice(len(candidates), n_out, replace=False)]
    X = np.vstack([inliers, outliers])
    return X, np.r_[np.zeros(len(inliers)), np.ones(n_out)]


def one_class_tasks(X, y, classes, rng):
    return [mix(X[y == c], X[y != c], rng) for c in classes]


def manifold_task(rng, n=600):
    angle = rng.uniform(0, 2 * np.pi, n)
    circle = np.c_[np.cos(angle), np.sin(angle)]
    embed = rng.normal(size=(2, 10))
    inliers = np.tanh(circle @ embed) + 0.02 * rng.normal(size=(n, 10))
    candidates = rng.uniform(inliers.min(0), inliers.max(0), size=(n, 10))
    return mix(inliers, candidates, rng)


def make_tasks(seed, n_digit_classes):
    rng = np.random.default_rng(seed)
    digits = load_digits()
    cancer = load_breast_cancer()
    wine = load_wine()
    benign, malignant = cancer.data[cancer.target == 1], cancer.data[cancer.target == 0]
    return {
        "digits": one_class_tasks(
            digits.data, digits.target, range(n_digit_classes), rng
        ),
        "breast cancer": [mix(benign, malignant, rng)],
        "wine": one_class_tasks(wine.data, wine.target, range(3), rng),
        "manifold": [manifold_task(rng)],
    }


def autoencoder_detector(cls):
    def score(X, seed):
        detector = AutoencoderOutlierDetector(cls(), random_state=seed).fit(X)
        return -detector.score_samples(X)

    return score


def isolation_forest(X, seed):
    return -IsolationForest(random_state=seed).fit(X).score_samples(X)


def local_outlier_factor(X, seed):
    return -LocalOutlierFactor().fit(X).negative_outlier_factor_


def one_class_svm(X, seed):
    model = make_pipeline(StandardScaler(), OneClassSVM(nu=0.1)).fit(X)
    return -model.decision_function(X)


def pca_error(X, seed):
    Xs = StandardScaler().fit_transform(X)
    pca = PCA(n_components=2, random_state=seed).fit(Xs)
    return np.mean((Xs - pca.inverse_transform(pca.transform(Xs))) ** 2, axis=1)


def pyod_detector(name):
    def score(X, seed):
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE

        cls = {"AutoEncoder": AutoEncoder, "VAE": VAE}[name]
        return cls(random_state=seed, verbose=0).fit(X).decision_scores_

    return score


def detectors():
    found = {
        "AE detector (AutoencoderTransformer)": autoencoder_detector(
            AutoencoderTransformer
        ),
        "AE detector (DenoisingAutoencoder)": autoencoder_detector(
            DenoisingAutoencoder
        ),
        "AE detector (VAETransformer)": autoencoder_detector(VAETransformer),
        "IsolationForest": isolation_forest,
        "LocalOutlierFactor": local_outlier_factor,
        "OneClassSVM": one_class_svm,
        "PCA reconstruction error": pca_error,
    }
    try:
        import pyod  # noqa: F401
    except ImportError:
        print("pyod is not installed: PyOD's AutoEncoder and VAE are left out")
    else:
        found["PyOD AutoEncoder"] = pyod_detector("AutoEncoder")
        found["PyOD VAE"] = pyod_detector("VAE")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args()
    repeats, n_digit_classes = (1, 3) if args.quick else (3, 10)
    methods = detectors()
    # scores[method][dataset] -> list over repeats of (mean AUC, mean AP)
    scores = {m: {} for m in methods}
    seconds = dict.fromkeys(methods, 0.0)
    for seed in range(repeats):
        for dataset, tasks in make_tasks(seed, n_digit_classes).items():
            for method, score in methods.items():
                aucs, aps = [], []
                for X, is_outlier in tasks:
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        outlyingness = score(X, seed)
                    seconds[method] += time.perf_counter() - start
                    aucs.append(roc_auc_score(is_outlier, outlyingness))
                    aps.append(average_precision_score(is_outlier, outlyingness))
                scores[method].setdefault(dataset, []).append(
                    (np.mean(aucs), np.mean(aps))
                )
            print(f"repeat {seed}: {dataset} done")
    datasets = list(next(iter(scores.values())))
    header = (
        "| detector | "
        + " | ".join(f"{d} ROC-AUC | {d} AP" for d in datasets)
        + " | mean ROC-AUC | mean AP | fit+score time (s) |"
    )
    lines = [
        f"Outlier detection, {OUTLIER_SHARE:.0%} outliers, fit and scored on the "
        f"contaminated data; mean ± std over {repeats} repeats (different outlier "
        "draws and seeds). Command: `python benchmarks/outliers.py"
        + (" --quick" if args.quick else "")
        + "`.",
        "",
        header,
        "|---|" + "---:|" * (2 * len(datasets) + 3),
    ]
    print()
    for method in methods:
        cells, mean_auc, mean_ap = [], [], []
        for dataset in datasets:
            aucs = [auc for auc, _ in scores[method][dataset]]
            aps = [ap for _, ap in scores[method][dataset]]
            spread = statistics.pstdev
            cells.append(f"{np.mean(aucs):.3f} ± {spread(aucs):.3f}")
            cells.append(f"{np.mean(aps):.3f} ± {spread(aps):.3f}")
            mean_auc.append(np.mean(aucs))
            mean_ap.append(np.mean(aps))
        lines.append(
            f"| {method} | "
            + " | ".join(cells)
            + f" | **{np.mean(mean_auc):.3f}** | {np.mean(mean_ap):.3f} | "
            f"{seconds[method]:.1f} |"
        )
        print(
            f"{method:40s} mean ROC-AUC {np.mean(mean_auc):.3f}  "
            f"mean AP {np.mean(mean_ap):.3f}  time {seconds[method]:.1f}s"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
