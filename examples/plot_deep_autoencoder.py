"""
Deeper networks from the PCA start
==================================

Stacking layers is one parameter: ``hidden_layer_sizes=(256, 128, 64)`` builds
an encoder 64 -> 256 -> 128 -> 64 -> codes beside PCA's projection, and a decoder
that mirrors it beside PCA's reconstruction. This example compares a shallow,
the default and a deeper network at the same 8 components on the digits, all
started at PCA's solution (``init='pca'``, the default), with PCA itself and with
the deeper network trained from random weights.

The point it makes: the PCA start puts every network at PCA's error before the
first epoch, so each one ends at or below PCA's test error, whatever its depth;
from random weights the same network has to find PCA's solution first. The loss
curves are in the units the estimators train in: the squared error in pixel
units divided by the mean pixel variance, the share of the variance left
unexplained.
"""

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)[:2]

# max_epochs is a ceiling: early stopping ends every fit before it
models = {
    "shallow (64,)": AutoencoderTransformer(
        8, hidden_layer_sizes=(64,), max_epochs=500, random_state=0
    ),
    "default (256, 128)": AutoencoderTransformer(8, max_epochs=500, random_state=0),
    "deep (256, 128, 64)": AutoencoderTransformer(
        8, hidden_layer_sizes=(256, 128, 64), max_epochs=500, random_state=0
    ),
    "deep, init='random'": AutoencoderTransformer(
        8,
        init="random",
        hidden_layer_sizes=(256, 128, 64),
        max_epochs=500,
        random_state=0,
    ),
    "PCA": PCA(n_components=8),
}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    mse = np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2)
    epochs = getattr(model, "n_iter_", "-")
    print(
        f"{name:22s} test MSE {mse:5.2f}   epochs {epochs!s:>4}   fit {seconds:5.2f} s"
    )

fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
pca_share = 1 - models["PCA"].explained_variance_ratio_.sum()
ax.axhline(pca_share, color="black", linewidth=1, label="PCA, training")
for name, model in models.items():
    if name == "PCA":
        continue
    (line,) = ax.plot(model.loss_curve_, label=f"{name}, training")
    ax.plot(
        model.validation_loss_curve_,
        linestyle="--",
        color=line.get_color(),
        label=f"{name}, validation",
    )
ax.set_xlabel("epoch")
ax.set_ylabel("loss: share of variance unexplained")
ax.set_yscale("log")
ax.legend(fontsize="small")
ax.set_title("Loss curves from the PCA start and from random weights")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "deep_autoencoder.png", dpi=120, bbox_inches="tight")
print("figure saved to output/deep_autoencoder.png, next to this script")
