"""Outlier detection: ROC-AUC and average precision against common detectors.

Data sets, all built from shipped or generated data, each with outliers worth 5%
of the inliers' count mixed in. Every detector is fitted on the contaminated rows
and scores the same rows (the unsupervised setting):

- digits: one class as inliers, rows of the other classes as outliers, averaged
  over the ten classes;
- breast cancer: benign rows as inliers, a malignant subsample as outliers;
- wine: one class as inliers, rows of the other two as outliers (one-vs-rest),
  averaged over the three classes;
- manifold: 600 points near a circle embedded nonlinearly (tanh of a random
  linear map) in 10-D, with outliers drawn uniformly from the inliers' bounding
  box.

Detectors: AutoencoderOutlierDetector at its default, and around each of the
three autoencoders at the default's configuration (random_state set; the
settings are written with the results) and around a masking denoiser
(noise_level=0.5), IsolationForest,
LocalOutlierFactor (negative_outlier_factor_ of the training rows),
OneClassSVM (standardised, nu=0.1), PCA reconstruction error (standardised, the
components for 90% of the variance, as the default detector keeps), the
standardised distance to the mean (a model-free reference), and PyOD's
AutoEncoder and VAE at their defaults when pyod is installed (an optional
benchmark dependency, ``pip install pyod``).

Each repeat draws new outliers and seeds every detector anew; the tables give the
mean and standard deviation over repeats of each data set's score, and for the
AutoencoderOutlierDetector rows the share of rows ``contamination='auto'`` flags.

Run with ``python benchmarks/outliers.py`` (``--quick`` for one repeat and three
digit classes; ``--cache-dir DIR`` keeps the results of the detectors that are
not ours, which do not change between runs). Writes
benchmarks/results/outliers.md.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _cache import Cache, cached_times_note
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_limits

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)
from sk_autoencoder._outlier import default_estimator

RESULTS = Path(__file__).parent / "results" / "outliers.md"
OUTLIER_SHARE = 0.05
REFERENCE = "AE detector (default)"
# the detectors the default must match or beat on mean ROC-AUC
RIVALS = ("IsolationForest", "LocalOutlierFactor")
# the inner estimators' settings worth writing next to the results
SHOWN_PARAMS = (
    "n_components",
    "hidden_layer_sizes",
    "input_scaling",
    "max_epochs",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "batch_size",
    "learning_rate",
    "noise",
    "noise_level",
    "beta",
)
SHOWN_PYOD_PARAMS = (
    "hidden_neuron_list",
    "encoder_neuron_list",
    "latent_dim",
    "epoch_num",
    "batch_size",
    "lr",
    "dropout_rate",
    "batch_norm",
    "preprocessing",
)


# ---- data sets ---------------------------------------------------------------


def mix(inliers, candidates, rng):
    """Inliers plus ``OUTLIER_SHARE`` of their count drawn from ``candidates``."""
    n_outliers = max(1, round(OUTLIER_SHARE * len(inliers)))
    picked = rng.choice(len(candidates), n_outliers, replace=False)
    X = np.vstack([inliers, candidates[picked]])
    return X, np.r_[np.zeros(len(inliers)), np.ones(n_outliers)]


def one_class_tasks(X, y, classes, rng):
    """One task per class: that class as inliers, the others as outlier candidates."""
    return [mix(X[y == c], X[y != c], rng) for c in classes]


def manifold_task(rng, n_samples=600, n_features=10):
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    circle = np.c_[np.cos(angle), np.sin(angle)]
    embedding = rng.normal(size=(2, n_features))
    inliers = np.tanh(circle @ embedding)
    inliers += 0.02 * rng.normal(size=inliers.shape)
    candidates = rng.uniform(
        inliers.min(axis=0), inliers.max(axis=0), size=(n_samples, n_features)
    )
    return mix(inliers, candidates, rng)


def make_tasks(seed, n_digit_classes):
    """Data set name -> list of (X, is_outlier) tasks, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    digits, cancer, wine = load_digits(), load_breast_cancer(), load_wine()
    benign = cancer.data[cancer.target == 1]
    malignant = cancer.data[cancer.target == 0]
    return {
        "digits": one_class_tasks(
            digits.data, digits.target, range(n_digit_classes), rng
        ),
        "breast cancer": [mix(benign, malignant, rng)],
        "wine": one_class_tasks(wine.data, wine.target, range(3), rng),
        "manifold": [manifold_task(rng)],
    }


# ---- detectors: (X, seed) -> outlyingness, higher is more abnormal -----------


def autoencoder_detector(estimator):
    def score(X, seed):
        detector = AutoencoderOutlierDetector(estimator, random_state=seed).fit(X)
        scores = detector.score_samples(X)
        return -scores, np.mean(scores < detector.offset_)

    return score


def isolation_forest(X, seed):
    return -IsolationForest(random_state=seed).fit(X).score_samples(X)


def local_outlier_factor(X, seed):
    return -LocalOutlierFactor().fit(X).negative_outlier_factor_


def one_class_svm(X, seed):
    model = make_pipeline(StandardScaler(), OneClassSVM(nu=0.1)).fit(X)
    return -model.decision_function(X)


def pca_error(X, seed):
    X_scaled = StandardScaler().fit_transform(X)
    pca = PCA(n_components=0.9, random_state=seed).fit(X_scaled)
    X_rebuilt = pca.inverse_transform(pca.transform(X_scaled))
    return np.mean((X_scaled - X_rebuilt) ** 2, axis=1)


def distance_to_mean(X, seed):
    return np.mean(StandardScaler().fit_transform(X) ** 2, axis=1)


def pyod_detector(cls):
    def score(X, seed):
        return cls(random_state=seed, verbose=0).fit(X).decision_scores_

    return score


def describe(params, names):
    return ", ".join(f"{k}={params[k]!r}" for k in names if k in params)


def detectors():
    """Detector name -> (scoring function, settings worth noting)."""
    default = default_estimator()
    found = {
        REFERENCE: (
            autoencoder_detector(None),
            "`AutoencoderOutlierDetector()`, its inner estimator "
            f"`{type(default).__name__}`: "
            + describe(default.get_params(), SHOWN_PARAMS),
        )
    }
    # the parameters all three take; each keeps its own defaults for the rest
    names = AutoencoderTransformer().get_params()
    shared = {k: v for k, v in default.get_params().items() if k in names}
    for cls in (AutoencoderTransformer, DenoisingAutoencoder, VAETransformer):
        estimator = cls(**shared)
        found[f"AE detector ({cls.__name__})"] = (
            autoencoder_detector(estimator),
            f"`{cls.__name__}` at the default's configuration: "
            + describe(estimator.get_params(), SHOWN_PARAMS),
        )
    # the setting the user guide suggests for small tabular data
    masking = DenoisingAutoencoder(**{**shared, "noise": "masking", "noise_level": 0.5})
    found["AE detector (DenoisingAutoencoder, masking 0.5)"] = (
        autoencoder_detector(masking),
        "`DenoisingAutoencoder(noise='masking', noise_level=0.5)`, other "
        "parameters at the default's configuration",
    )
    found["IsolationForest"] = (isolation_forest, "defaults")
    found["LocalOutlierFactor"] = (
        local_outlier_factor,
        "defaults (n_neighbors=20), `negative_outlier_factor_`",
    )
    found["OneClassSVM"] = (one_class_svm, "StandardScaler, nu=0.1, gamma='scale'")
    found["PCA reconstruction error"] = (
        pca_error,
        "StandardScaler, the components for 90% of the variance",
    )
    found["distance to the mean"] = (
        distance_to_mean,
        "no model: mean squared standardised value of the row",
    )
    try:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE
    except ImportError:
        print("pyod is not installed: PyOD's AutoEncoder and VAE are left out")
    else:
        for name, cls in (("PyOD AutoEncoder", AutoEncoder), ("PyOD VAE", VAE)):
            params = cls().get_params()
            found[name] = (
                pyod_detector(cls),
                "defaults: " + describe(params, SHOWN_PYOD_PARAMS),
            )
    return found


# ---- the run -----------------------------------------------------------------


def evaluate(score, X, is_outlier, seed):
    """ROC-AUC, AP, seconds and the share flagged (or None) of one detector."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        # some fits reach max_epochs; scores are what is measured
        warnings.simplefilter("ignore", ConvergenceWarning)
        outlyingness = score(X, seed)
    seconds = time.perf_counter() - start
    share = None
    if isinstance(outlyingness, tuple):
        outlyingness, share = outlyingness
    return {
        "auc": float(roc_auc_score(is_outlier, outlyingness)),
        "ap": float(average_precision_score(is_outlier, outlyingness)),
        "seconds": seconds,
        "flagged": None if share is None else float(share),
    }


def run(methods, repeats, n_digit_classes, cache):
    """Return ``{method: {data set: [(auc, ap) per repeat]}}``, fit times and flags.

    Flags: per detector with its own threshold, the shares of rows it flagged.
    ``cache`` keeps the results of the detectors that are not ours.
    """
    results = {method: {} for method in methods}
    seconds = dict.fromkeys(methods, 0.0)
    flagged = {}
    for seed in range(repeats):
        for dataset, tasks in make_tasks(seed, n_digit_classes).items():
            for method, (score, _) in methods.items():
                aucs, aps = [], []
                for index, (X, is_outlier) in enumerate(tasks):
                    key = f"{dataset}/{seed}/{index}"
                    is_ours = method.startswith("AE detector")
                    entry = None if is_ours else cache.get(method, key)
                    if entry is None:
                        entry = evaluate(score, X, is_outlier, seed)
                        if not is_ours:
                            cache.put(method, key, entry)
                    seconds[method] += entry["seconds"]
                    if entry["flagged"] is not None:
                        flagged.setdefault(method, []).append(entry["flagged"])
                    aucs.append(entry["auc"])
                    aps.append(entry["ap"])
                results[method].setdefault(dataset, []).append(
                    (np.mean(aucs), np.mean(aps))
                )
        print(f"repeat {seed + 1} of {repeats} done", flush=True)
    return results, seconds, flagged


def mean_std(values):
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def format_report(
    methods, results, seconds, flagged, repeats, command, n_threads, cached
):
    datasets = list(next(iter(results.values())))
    lines = [
        f"Outlier detection with outliers worth {OUTLIER_SHARE:.0%} of the inliers, "
        "fitted on and scoring the same contaminated rows. Mean ± standard "
        f"deviation over {repeats} repeat(s) (new outliers, new seeds); digits and "
        "wine average their one-class tasks within each repeat; the mean columns "
        "average the data sets, equally weighted. Time: fit and score, summed over "
        f"all tasks and repeats, {n_threads} thread(s)"
        + cached_times_note(cached)
        + f". Command: `{command}`.",
        "",
        "| detector | "
        + " | ".join(f"{d} ROC-AUC" for d in datasets)
        + " | mean ROC-AUC | "
        + " | ".join(f"{d} AP" for d in datasets)
        + " | mean AP | time (s) |",
        "|---|" + "---:|" * (2 * len(datasets) + 3),
    ]
    mean_auc = {}
    for method in methods:
        per_dataset = results[method]
        aucs = np.array([[auc for auc, _ in per_dataset[d]] for d in datasets])
        aps = np.array([[ap for _, ap in per_dataset[d]] for d in datasets])
        mean_auc[method] = aucs.mean()
        lines.append(
            f"| {method} | "
            + " | ".join(mean_std(row) for row in aucs)
            + f" | **{mean_std(aucs.mean(axis=0))}** | "
            + " | ".join(mean_std(row) for row in aps)
            + f" | {mean_std(aps.mean(axis=0))} | {seconds[method]:.1f} |"
        )
    lines += ["", "Settings:", ""]
    lines += [f"- {method}: {note}" for method, (_, note) in methods.items()]
    true_share = 100 * OUTLIER_SHARE / (1 + OUTLIER_SHARE)
    lines += [
        "",
        "Share of rows flagged by `contamination='auto'` (mean over all tasks; "
        f"the true share of outliers is {true_share:.1f} %):",
        "",
    ]
    lines += [
        f"- {method}: {100 * np.mean(shares):.1f} %"
        for method, shares in flagged.items()
    ]
    others = [m for m in RIVALS if m in mean_auc]
    verdict = all(mean_auc[REFERENCE] >= mean_auc[m] for m in others)
    lines += [
        "",
        f"Project bar (mean ROC-AUC of {REFERENCE} at least that of "
        f"{' and '.join(others)}): "
        + ", ".join(f"{m} {mean_auc[m]:.3f}" for m in [REFERENCE, *others])
        + f": {'met' if verdict else 'not met'}.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="one repeat, three digit classes"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of torch and of the BLAS/OpenMP pools (default 1: these "
        "small models gain nothing from more, and on a busy machine extra "
        "threads slow them down)",
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="keep the results of the detectors that are not ours here",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats, n_digit_classes = (1, 3) if args.quick else (5, 10)
    methods = detectors()
    with threadpool_limits(args.threads):  # BLAS and OpenMP pools too
        results, seconds, flagged = run(
            methods, repeats, n_digit_classes, Cache(args.cache_dir)
        )
    command = "python benchmarks/outliers.py" + (" --quick" if args.quick else "")
    report = format_report(
        methods,
        results,
        seconds,
        flagged,
        repeats,
        command,
        args.threads,
        cached=args.cache_dir is not None,
    )
    print(report)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(report)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
