"""Outlier detection on ADBench's classical data sets, ADBench's unsupervised protocol.

For each data set and seed: a stratified 70/30 split, a MinMaxScaler fitted on
the training rows, every detector fitted on the training rows without their
labels (the anomalies left in), and the ROC-AUC and average precision (AP) of
its anomaly score on the test rows. The data sets are ``<id>_<name>.npz`` files
holding ``X`` and ``y`` (1 = anomaly), as ADBench ships them; the development
subset of twelve lives in ``../shared/data/adbench`` next to the repository
(its README gives the files). The package never needs them.

Detectors: AutoencoderOutlierDetector at its default, and around each of the
three transformers at the default's configuration (the parameters all three
take, such as n_components and hidden_layer_sizes, from the default; the rest,
such as the denoiser's noise, at each class's own defaults); IsolationForest;
LocalOutlierFactor(novelty=True); PCA reconstruction error (the components for
90% of the variance); and PyOD's KNN, ECOD, AutoEncoder and VAE at their
defaults when pyod is installed (an optional benchmark dependency,
``pip install pyod``). For the AutoencoderOutlierDetector rows, the share of
test rows that ``contamination='auto'`` flags is given next to the true share.

The table gives, per detector, each data set's ROC-AUC and AP (means over the
seeds), their means over the data sets, the mean rank by ROC-AUC (1 is best;
ties share their mean rank), and the fit and score time summed over all data
sets and seeds.

Run with ``python benchmarks/outliers_adbench.py`` (``--data-dir DIR`` for
other files, ``--seeds N``, ``--quick`` for three small data sets and one seed;
``--cache-dir DIR`` keeps the results of the detectors that are not ours, which
do not change between runs). Writes benchmarks/results/outliers_adbench.md.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _cache import Cache, cached_times_note
from scipy.stats import rankdata
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_limits

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)
from sk_autoencoder._outlier import default_estimator

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "adbench"
RESULTS = Path(__file__).parent / "results" / "outliers_adbench.md"
QUICK_DATASETS = ("42_WBC", "18_Ionosphere", "38_thyroid")
TEST_SIZE = 0.3
DEFAULT = "ours, default"
REFERENCE = "IsolationForest"
SHOWN_PARAMS = (
    "n_components",
    "hidden_layer_sizes",
    "max_epochs",
    "batch_size",
    "noise",
    "noise_level",
)


# ---- data --------------------------------------------------------------------


def load_datasets(data_dir, names=None):
    """``{name: (X, y)}`` of the ``.npz`` files in ``data_dir``, in ADBench's order."""
    paths = sorted(
        Path(data_dir).glob("*.npz"), key=lambda p: int(p.stem.split("_")[0])
    )
    if not paths:
        raise SystemExit(f"no .npz data sets in {data_dir}")
    found = {}
    for path in paths:
        if names is None or path.stem in names:
            with np.load(path, allow_pickle=False) as data:
                found[path.stem] = (data["X"].astype(np.float64), data["y"] > 0)
    return found


def split(X, y, seed):
    """ADBench's split: stratified 70/30, MinMaxScaler fitted on the training rows."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=seed
    )
    scaler = MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# ---- detectors: (X_train, X_test, seed) -> (outlyingness of X_test, flags) ----
# flags: the test rows the detector's own threshold flags, or None


def ours(estimator):
    def score(X_train, X_test, seed):
        detector = AutoencoderOutlierDetector(estimator, random_state=seed)
        scores = detector.fit(X_train).score_samples(X_test)
        return -scores, scores < detector.offset_

    return score


def isolation_forest(X_train, X_test, seed):
    return -IsolationForest(random_state=seed).fit(X_train).score_samples(X_test), None


def local_outlier_factor(X_train, X_test, seed):
    model = LocalOutlierFactor(novelty=True).fit(X_train)
    return -model.score_samples(X_test), None


def pca_error(X_train, X_test, seed):
    pca = PCA(n_components=0.9, random_state=seed).fit(X_train)
    X_rebuilt = pca.inverse_transform(pca.transform(X_test))
    return np.sum((X_test - X_rebuilt) ** 2, axis=1), None


def pyod_detector(cls, seeded):
    def score(X_train, X_test, seed):
        params = {"random_state": seed, "verbose": 0} if seeded else {}
        return cls(**params).fit(X_train).decision_function(X_test), None

    return score


def shared_params(estimator):
    """The parameters of ``estimator`` that all three transformers take.

    The rows of each transformer take these from the default and keep their
    own defaults for the rest (the denoiser's noise, the VAE's beta).
    """
    shared = AutoencoderTransformer().get_params()
    return {k: v for k, v in estimator.get_params().items() if k in shared}


def describe(estimator):
    params = estimator.get_params()
    shown = ", ".join(f"{k}={params[k]!r}" for k in SHOWN_PARAMS if k in params)
    return f"`{type(estimator).__name__}({shown})`, other parameters at defaults"


def detectors():
    """Name -> (scoring function, settings, is ours: never cached)."""
    default = default_estimator()
    found = {
        DEFAULT: (
            ours(None),
            f"`AutoencoderOutlierDetector()`, whose inner estimator is "
            f"{describe(default)}",
            True,
        )
    }
    for cls in (AutoencoderTransformer, DenoisingAutoencoder, VAETransformer):
        inner = cls(**shared_params(default))
        found[f"ours, {cls.__name__}"] = (ours(inner), describe(inner), True)
    found["IsolationForest"] = (isolation_forest, "defaults", False)
    found["LocalOutlierFactor"] = (
        local_outlier_factor,
        "novelty=True, n_neighbors=20",
        False,
    )
    found["PCA reconstruction error"] = (
        pca_error,
        "components for 90% of the variance, squared error summed over features",
        False,
    )
    try:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.ecod import ECOD
        from pyod.models.knn import KNN
        from pyod.models.vae import VAE
    except ImportError:
        print("pyod is not installed: PyOD's detectors are left out")
    else:
        for name, cls, seeded in (
            ("PyOD KNN", KNN, False),
            ("PyOD ECOD", ECOD, False),
            ("PyOD AutoEncoder", AutoEncoder, True),
            ("PyOD VAE", VAE, True),
        ):
            found[name] = (pyod_detector(cls, seeded), "defaults", False)
    return found


# ---- the run -----------------------------------------------------------------


def evaluate(score, X_train, X_test, y_test, seed):
    start = time.perf_counter()
    with warnings.catch_warnings():
        # some fits reach max_epochs; scores are what is measured
        warnings.simplefilter("ignore", ConvergenceWarning)
        outlyingness, flags = score(X_train, X_test, seed)
    seconds = time.perf_counter() - start
    return {
        "auc": float(roc_auc_score(y_test, outlyingness)),
        "ap": float(average_precision_score(y_test, outlyingness)),
        "seconds": seconds,
        "flagged": None if flags is None else float(np.mean(flags)),
    }


def run(methods, datasets, seeds, cache):
    """``{method: {data set: [result per seed]}}``."""
    results = {method: {} for method in methods}
    for name, (X, y) in datasets.items():
        for seed in range(seeds):
            X_train, X_test, _, y_test = split(X, y, seed)
            for method, (score, _, is_ours) in methods.items():
                key = f"{name}/{seed}"
                result = None if is_ours else cache.get(method, key)
                if result is None:
                    result = evaluate(score, X_train, X_test, y_test, seed)
                    if not is_ours:
                        cache.put(method, key, result)
                results[method].setdefault(name, []).append(result)
        line = ", ".join(
            f"{m} {np.mean([r['auc'] for r in results[m][name]]):.3f}" for m in methods
        )
        print(f"{name}: {line}", flush=True)
    return results


# ---- the report --------------------------------------------------------------


def summarise(results, datasets):
    """Per method: ROC-AUC and AP per data set, their means, mean rank, time."""
    methods = list(results)

    def means(key):
        return np.array(
            [
                [np.mean([r[key] for r in results[m][d]]) for d in datasets]
                for m in methods
            ]
        )

    auc, ap = means("auc"), means("ap")
    ranks = np.apply_along_axis(rankdata, 0, -auc)  # 1 is the best on a data set
    seconds = [
        sum(r["seconds"] for d in datasets for r in results[m][d]) for m in methods
    ]
    return {
        m: {
            "auc": auc[i],
            "ap": ap[i],
            "mean_auc": auc[i].mean(),
            "mean_ap": ap[i].mean(),
            "mean_rank": ranks[i].mean(),
            "seconds": seconds[i],
        }
        for i, m in enumerate(methods)
    }


def flagged_shares(results, datasets):
    """Per method with its own threshold: (flagged %, true %) per data set."""
    shares = {}
    for method, per_dataset in results.items():
        if per_dataset[datasets[0]][0]["flagged"] is None:
            continue
        shares[method] = {
            d: 100 * np.mean([r["flagged"] for r in per_dataset[d]]) for d in datasets
        }
    return shares


def format_report(
    methods, results, datasets, true_shares, seeds, command, threads, cached
):
    names = list(datasets)
    summary = summarise(results, names)
    short = [d.split("_", 1)[1] for d in names]
    lines = [
        f"ADBench's unsupervised protocol on {len(names)} classical data sets: "
        f"stratified 70/30 split per seed ({seeds} seed(s)), MinMaxScaler fitted "
        "on the training rows, detectors fitted on the training rows with their "
        "anomalies, ROC-AUC and AP of the anomaly score on the test rows (means "
        "over seeds). Mean rank: by ROC-AUC per data set, 1 the best, ties "
        "sharing their mean rank. Time: fit and score summed over all data sets "
        f"and seeds, {threads} thread(s)"
        + cached_times_note(cached)
        + f". Command: `{command}`.",
        "",
        "| detector | mean ROC-AUC | mean AP | mean rank | time (s) | "
        + " | ".join(f"{d} ROC-AUC" for d in short)
        + " | "
        + " | ".join(f"{d} AP" for d in short)
        + " |",
        "|---|" + "---:|" * (4 + 2 * len(names)),
    ]
    for method in methods:
        s = summary[method]
        lines.append(
            f"| {method} | **{s['mean_auc']:.3f}** | {s['mean_ap']:.3f} | "
            f"{s['mean_rank']:.2f} | {s['seconds']:.1f} | "
            + " | ".join(f"{v:.3f}" for v in s["auc"])
            + " | "
            + " | ".join(f"{v:.3f}" for v in s["ap"])
            + " |"
        )
    shares = flagged_shares(results, names)
    if shares:
        lines += [
            "",
            "Share of test rows flagged by `contamination='auto'` (%), against the "
            "true share of anomalies:",
            "",
            "| detector | mean | " + " | ".join(short) + " |",
            "|---|" + "---:|" * (1 + len(names)),
            "| true share | "
            + f"{np.mean([true_shares[d] for d in names]):.1f} | "
            + " | ".join(f"{true_shares[d]:.1f}" for d in names)
            + " |",
        ]
        for method, per_dataset in shares.items():
            lines.append(
                f"| {method} | {np.mean(list(per_dataset.values())):.1f} | "
                + " | ".join(f"{per_dataset[d]:.1f}" for d in names)
                + " |"
            )
    lines += ["", "Settings:", ""]
    lines += [f"- {method}: {note}" for method, (_, note, _) in methods.items()]
    best_rank = min(s["mean_rank"] for s in summary.values())
    ours_, reference = summary[DEFAULT], summary[REFERENCE]
    met = (
        ours_["mean_auc"] >= reference["mean_auc"] + 0.01
        and ours_["mean_rank"] == best_rank
    )
    lines += [
        "",
        f"Project bar (the default's mean ROC-AUC at least {REFERENCE}'s + 0.01, "
        f"and the best mean rank): {ours_['mean_auc']:.3f} against "
        f"{reference['mean_auc']:.3f}, rank {ours_['mean_rank']:.2f} against the "
        f"best {best_rank:.2f}: {'met' if met else 'not met'}.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help=f"{', '.join(QUICK_DATASETS)}; one seed"
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="keep the results of the detectors that are not ours here",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--output", default=None, help=f"the Markdown table (default {RESULTS})"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = 1 if args.quick else args.seeds
    datasets = load_datasets(args.data_dir, QUICK_DATASETS if args.quick else None)
    true_shares = {d: 100 * split(X, y, 0)[3].mean() for d, (X, y) in datasets.items()}
    methods = detectors()
    with threadpool_limits(args.threads):
        results = run(methods, datasets, seeds, Cache(args.cache_dir))
    command = "python benchmarks/outliers_adbench.py" + (
        " --quick" if args.quick else f" --seeds {seeds}"
    )
    report = format_report(
        methods,
        results,
        datasets,
        true_shares,
        seeds,
        command,
        args.threads,
        cached=args.cache_dir is not None,
    )
    print(report)
    output = Path(args.output) if args.output else RESULTS
    if not args.quick or args.output:
        output.parent.mkdir(exist_ok=True)
        output.write_text(report)
        print(f"written to {output}")


if __name__ == "__main__":
    main()
