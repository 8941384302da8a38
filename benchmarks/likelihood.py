"""Average test log-likelihood of VAETransformer against PCA and GaussianMixture.

All three are densities of the same X in the same units (nats per row of the
digits, pixels on their 0..16 scale), so their ``score`` values compare directly:
``VAETransformer.score`` is the mean ELBO (a lower bound), ``log_likelihood`` its
importance-weighted estimate (a tighter bound), ``PCA.score`` the exact
log-likelihood of probabilistic PCA, ``GaussianMixture.score`` that of a mixture.
One stratified 75/25 split; the VAE uses its default settings and random_state=0.

Run with ``python benchmarks/likelihood.py`` (a few minutes). Writes
benchmarks/results/likelihood.md.
"""

import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from sk_autoencoder import VAETransformer

RESULTS = Path(__file__).parent / "results" / "likelihood.md"
N_COMPONENTS = (2, 8, 16)
MIXTURES = [(10, "full"), (10, "diag"), (30, "diag")]


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)[
        :2
    ]
    lines = [
        "Digits, average test log-likelihood in nats per row (higher is better; "
        "the same units for every model). VAETransformer at default settings, "
        "random_state=0; ELBO from `score`, importance-weighted bound from "
        "`log_likelihood(X, n_samples=200)`. Command: "
        "`python benchmarks/likelihood.py`.",
        "",
        "| model | n_components | test log-likelihood (nats/row) |",
        "|---|---:|---:|",
    ]
    for n_components in N_COMPONENTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            vae = VAETransformer(n_components, random_state=0).fit(X_train)
        rows = [
            ("VAETransformer, ELBO", vae.score(X_test)),
            (
                "VAETransformer, importance-weighted",
                float(np.mean(vae.log_likelihood(X_test, n_samples=200))),
            ),
            ("PCA (probabilistic)", PCA(n_components).fit(X_train).score(X_test)),
        ]
        for name, value in rows:
            print(f"{name:38s} {n_components:3d} {value:10.1f}")
            lines.append(f"| {name} | {n_components} | {value:.1f} |")
    for n_mixtures, covariance in MIXTURES:
        gmm = GaussianMixture(n_mixtures, covariance_type=covariance, random_state=0)
        value = gmm.fit(X_train).score(X_test)
        name = f"GaussianMixture ({n_mixtures}, {covariance})"
        print(f"{name:38s} {'-':>3s} {value:10.1f}")
        lines.append(f"| {name} | - | {value:.1f} |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
