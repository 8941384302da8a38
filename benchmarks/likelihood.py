"""Test log-likelihoods against PCA and GaussianMixture, and choosing n_components.

All the models are densities of the same X in the same units (nats per row of the
digits, pixels on their 0..16 scale), so their ``score`` values compare directly:
``VAETransformer.score`` is the mean ELBO (a lower bound of the log-likelihood),
``VAETransformer.log_likelihood`` the importance-weighted bound (tighter),
``AutoencoderTransformer.score`` its log-density (probabilistic PCA's at the PCA
start), ``PCA.score`` the exact log-likelihood of probabilistic PCA and
``GaussianMixture.score`` that of a Gaussian mixture. The latent models run at
n_components 2 to 48; the mixtures at a few component counts and covariance
types, with scikit-learn's default ``reg_covar`` and larger ones, and one mixture
whose ``reg_covar`` and component count are chosen by 3-fold cross-validation on
the training rows. One stratified 75/25 split; the models at their default
settings with ``random_state=0``.

A last table chooses ``n_components`` by a grid search without ``scoring=``, on
low-rank-plus-noise data of known rank and on the digits.

Run with ``python benchmarks/likelihood.py`` (several minutes). Writes
benchmarks/results/likelihood.md.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from threadpoolctl import threadpool_limits

from sk_autoencoder import AutoencoderTransformer, VAETransformer

RESULTS = Path(__file__).parent / "results" / "likelihood.md"
N_COMPONENTS = (2, 4, 8, 16, 32, 48)
N_IMPORTANCE_SAMPLES = 200
ACTIVE_KL = 0.1  # nats: a latent dimension with less KL is unused (collapsed)
MIXTURES = [(1, "full"), (5, "full"), (10, "full"), (10, "diag"), (30, "diag")]
REG_COVARS = (1e-6, 1e-4, 1e-2, 1.0)  # 1e-6 is scikit-learn's default
MIXTURE_GRID = {
    "n_components": [1, 5, 10, 20],
    "reg_covar": [1e-4, 1e-3, 1e-2, 1e-1, 1],
}


def latent_model_rows(X_train, X_test):
    """Test log-likelihoods of the VAE (two bounds) and PCA at each n_components.

    Also counts the VAE's latent dimensions in use, from ``kl_per_dimension_``.
    """
    rows = {
        "VAETransformer, ELBO (`score`)": [],
        "VAETransformer, importance-weighted (`log_likelihood`)": [],
        "PCA, probabilistic (`score`)": [],
        "AutoencoderTransformer, log-density (`score`)": [],
        f"VAETransformer, latent dimensions in use (KL > {ACTIVE_KL} nats)": [],
    }
    for n_components in N_COMPONENTS:
        with warnings.catch_warnings():
            # some fits reach max_epochs; the scores are what this suite measures
            warnings.simplefilter("ignore", ConvergenceWarning)
            vae = VAETransformer(n_components, random_state=0).fit(X_train)
            ae = AutoencoderTransformer(n_components, random_state=0).fit(X_train)
        bound = vae.log_likelihood(X_test, n_samples=N_IMPORTANCE_SAMPLES)
        values = [
            vae.score(X_test),
            float(np.mean(bound)),
            PCA(n_components).fit(X_train).score(X_test),
            ae.score(X_test),
            int(np.sum(vae.kl_per_dimension_ > ACTIVE_KL)),
        ]
        for name, value in zip(rows, values, strict=True):
            rows[name].append(value)
    return rows


def low_rank_data(rank, n_samples=1500, n_features=50, seed=0):
    """Rank-``rank`` Gaussian data plus isotropic noise, split 2:1."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n_samples, rank)) @ rng.normal(size=(rank, n_features))
    X = signal + rng.normal(size=(n_samples, n_features))
    return X[: 2 * n_samples // 3], X[2 * n_samples // 3 :]


SELECTION_GRID = [2, 5, 10, 15, 20, 25, 30]
SELECTION_ESTIMATORS = {
    "PCA": lambda: PCA(),
    "AutoencoderTransformer": lambda: AutoencoderTransformer(random_state=0),
    "VAETransformer": lambda: VAETransformer(random_state=0),
}


def selection_rows():
    """n_components chosen by a search without ``scoring=`` (the estimator's score).

    ``GridSearchCV(estimator, {"n_components": grid}, cv=3)`` on the training
    rows, for low-rank data of three true ranks and for the digits; the chosen
    size and the chosen model's held-out score.
    """
    X, y = load_digits(return_X_y=True)
    digits_train, digits_test, _, _ = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    tasks = {
        f"rank {r} + noise (50 features)": (low_rank_data(r), SELECTION_GRID, r)
        for r in (5, 10, 20)
    }
    tasks["digits"] = ((digits_train, digits_test), [4, 8, 16, 32], None)
    rows = []
    for name, ((X_train, X_test), grid, rank) in tasks.items():
        row = {"task": name, "grid": grid, "rank": rank}
        for estimator, make in SELECTION_ESTIMATORS.items():
            with warnings.catch_warnings():
                # some fits of the search reach max_epochs; the choice is measured
                warnings.simplefilter("ignore", ConvergenceWarning)
                search = GridSearchCV(make(), {"n_components": grid}, cv=3).fit(X_train)
            row[estimator] = (search.best_params_["n_components"], search.score(X_test))
        rows.append(row)
        print(row, flush=True)
    return rows


def format_selection(rows):
    names = list(SELECTION_ESTIMATORS)
    lines = [
        "",
        "Choosing n_components without `scoring=`: `GridSearchCV(estimator, "
        "{'n_components': grid}, cv=3)` on the training rows uses each "
        "estimator's own `score` (PCA's and the autoencoder's held-out "
        "log-density, the VAE's ELBO), as in scikit-learn's PCA vs FA model "
        "selection example. Low-rank data: 1,500 rows of rank-r Gaussian signal "
        "in 50 features plus unit noise, 1,000 for the search and 500 to test, grid "
        f"{SELECTION_GRID}; digits: the split above, grid [4, 8, 16, 32]. Each "
        "cell: the n_components chosen, and the chosen model's test score in nats "
        "per row.",
        "",
        "| data | true rank | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for row in rows:
        cells = " | ".join(f"{row[n][0]} ({row[n][1]:.1f})" for n in names)
        rank = "-" if row["rank"] is None else row["rank"]
        lines.append(f"| {row['task']} | {rank} | {cells} |")
    return "\n".join(lines) + "\n"


def mixture_rows(X_train, X_test):
    """Mixtures' test log-likelihoods per ``reg_covar``, and the one CV chooses."""
    rows = {}
    for n_mixtures, covariance in MIXTURES:
        name = f"GaussianMixture({n_mixtures}, covariance_type={covariance!r})"
        rows[name] = [
            GaussianMixture(
                n_mixtures,
                covariance_type=covariance,
                reg_covar=reg_covar,
                random_state=0,
            )
            .fit(X_train)
            .score(X_test)
            for reg_covar in REG_COVARS
        ]
    search = GridSearchCV(
        GaussianMixture(covariance_type="full", random_state=0), MIXTURE_GRID, cv=3
    ).fit(X_train)
    chosen = {
        **search.best_params_,
        "cv_score": search.best_score_,
        "test_score": search.score(X_test),
    }
    return rows, chosen


def format_value(value):
    """A count as it is, a log-likelihood to one decimal."""
    return str(value) if isinstance(value, int) else f"{value:.1f}"


def format_tables(latent_rows, mixtures, chosen, seconds, n_threads):
    header = " | ".join(f"n_components={n}" for n in N_COMPONENTS)
    lines = [
        "Digits (1797 rows, 64 pixels on a 0..16 scale), one stratified 75/25 split: "
        "average test log-likelihood in nats per row, higher is better. Every model "
        "is a density of the same X in the same units, so all the numbers compare. "
        "VAETransformer and AutoencoderTransformer at their default settings (the "
        "PCA start), random_state=0; the "
        "importance-weighted bound uses "
        f"`log_likelihood(X, n_samples={N_IMPORTANCE_SAMPLES})`. "
        f"{n_threads} thread(s); run time {seconds:.0f} s. "
        "Command: `python benchmarks/likelihood.py`.",
        "",
        f"| model | {header} |",
        "|---|" + "---:|" * len(N_COMPONENTS),
    ]
    for name, values in latent_rows.items():
        lines.append(f"| {name} | " + " | ".join(map(format_value, values)) + " |")
    regs = " | ".join(f"reg_covar={r:g}" for r in REG_COVARS)
    lines += [
        "",
        "Gaussian mixtures on the same split (`GaussianMixture.score`, "
        f"random_state=0), for several `reg_covar` ({REG_COVARS[0]:g} is "
        "scikit-learn's default; the unit is a squared pixel). With the default, a "
        "component whose training pixels are (nearly) constant gets a near-zero "
        "variance there, and a test digit with a little ink in such a pixel pays "
        "thousands of nats.",
        "",
        f"| model | {regs} |",
        "|---|" + "---:|" * len(REG_COVARS),
    ]
    for name, values in mixtures.items():
        lines.append(f"| {name} | " + " | ".join(map(format_value, values)) + " |")
    lines += [
        "",
        "Choosing the mixture on the training rows alone (full covariance, 3-fold "
        f"cross-validated log-likelihood over {MIXTURE_GRID}) picks "
        f"n_components={chosen['n_components']}, reg_covar={chosen['reg_covar']:g}: "
        f"cross-validated {chosen['cv_score']:.1f}, test {chosen['test_score']:.1f} "
        "nats per row.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of torch and of the BLAS/OpenMP pools (default 1: these "
        "small models gain nothing from more, and on a busy machine extra "
        "threads slow them down)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, _, _ = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    start = time.perf_counter()
    with threadpool_limits(args.threads):  # BLAS and OpenMP pools too
        latent_rows = latent_model_rows(X_train, X_test)
        mixtures, chosen = mixture_rows(X_train, X_test)
        selection = selection_rows()
    seconds = time.perf_counter() - start
    table = format_tables(latent_rows, mixtures, chosen, seconds, args.threads)
    table += format_selection(selection)
    print(table)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(table)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
