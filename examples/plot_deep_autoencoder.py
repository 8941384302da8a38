"""
A deeper autoencoder: 128-64-32
===============================

Stacking layers is one parameter: ``hidden_layer_sizes=(128, 64, 32)`` builds an
encoder 64 -> 128 -> 64 -> 32 -> codes and a decoder that mirrors it. This example
compares it with a one-layer network and with PCA at the same 8 components on the
digits, and plots the training and validation loss curves the estimators record.
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

# max_epochs is a ceiling: early stopping ends both fits before it
models = {
    "shallow (64,)": AutoencoderTransformer(
        8, hidden_layer_sizes=(64,), max_epochs=500, random_state=0
    ),
    "deep (128, 64, 32)": AutoencoderTransformer(
        8, hidden_layer_sizes=(128, 64, 32), max_epochs=500, random_state=0
    ),
    "PCA": PCA(n_components=8),
}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    mse = np.mean((X_test - model.inverse_transform(model.transform(X_test))) ** 2)
    print(f"{name:20s} test MSE {mse:5.2f}   fit {seconds:5.2f} s")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
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
ax.set_ylabel("loss (MSE of standardised pixels)")
ax.set_yscale("log")
ax.legend()
ax.set_title("Loss curves of a shallow and a deep autoencoder")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "deep_autoencoder.png", dpi=120, bbox_inches="tight")
print("figure saved to output/deep_autoencoder.png, next to this script")
