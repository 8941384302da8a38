"""
Quick start: an autoencoder in place of PCA
===========================================

``AutoencoderTransformer`` is used exactly like ``PCA``: ``fit``, ``transform``
and ``inverse_transform``. This example fits both on the handwritten digits with
the same number of components (2 and 8) and compares them on held-out digits: how
well each rebuilds a digit from its codes (mean squared error in pixel units),
how well a logistic regression classifies the digits from the codes, and how long
each takes to fit. A figure shows a few test digits next to both reconstructions.
"""

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

plt.switch_backend("agg")
OUTPUT = Path(__file__).resolve().parent / "output"

# %%
# Data: 8 x 8 images of digits, one row of 64 pixels (0..16) per image. The
# estimators scale the pixels themselves, so the raw values go in.

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# %%
# Fit both at each number of components, with the autoencoder's default network
# and training settings. The reconstruction is ``inverse_transform(transform(X))``
# for both.

results = []
reconstructions = {}
for n_components in (2, 8):
    models = {
        "PCA": PCA(n_components=n_components),
        "autoencoder": AutoencoderTransformer(n_components, random_state=0),
    }
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train)
        fit_seconds = time.perf_counter() - start
        codes_test = model.transform(X_test)
        X_rebuilt = model.inverse_transform(codes_test)
        classifier = LogisticRegression(max_iter=2000)
        classifier.fit(model.transform(X_train), y_train)
        results.append(
            {
                "n_components": n_components,
                "model": name,
                "mse": np.mean((X_test - X_rebuilt) ** 2),
                "accuracy": classifier.score(codes_test, y_test),
                "fit_seconds": fit_seconds,
            }
        )
        reconstructions[name, n_components] = X_rebuilt

print(
    f"{'n_components':>12}  {'model':<12}{'test MSE':>9}  {'accuracy':>8}  "
    f"{'fit (s)':>7}"
)
for row in results:
    print(
        f"{row['n_components']:>12}  {row['model']:<12}{row['mse']:>9.2f}  "
        f"{row['accuracy']:>8.3f}  {row['fit_seconds']:>7.2f}"
    )

# %%
# The first test digits, then what each model rebuilds from 2 and from 8 codes.

n_digits = 8
test_mse = {(row["model"], row["n_components"]): row["mse"] for row in results}
panels = [("original", X_test)] + [
    (
        f"{name}, {n} codes\ntest MSE {test_mse[name, n]:.2f}",
        reconstructions[name, n],
    )
    for n in (2, 8)
    for name in ("PCA", "autoencoder")
]
fig, axes = plt.subplots(
    len(panels),
    n_digits,
    figsize=(n_digits * 0.9 + 1.5, len(panels) * 1.0),
    layout="constrained",
)
for (label, images), row_axes in zip(panels, axes, strict=True):
    for image, ax in zip(images[:n_digits], row_axes, strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle("Test digits and their reconstructions (MSE over all test digits)")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "quickstart.png", dpi=120, bbox_inches="tight")
print("figure saved to output/quickstart.png, next to this script")
