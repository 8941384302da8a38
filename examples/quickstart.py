"""
Quick start: an autoencoder in place of PCA
===========================================

Fit :class:`~sk_autoencoder.AutoencoderTransformer` and scikit-learn's
:class:`~sklearn.decomposition.PCA` on the handwritten digits at the same number of
components, and compare what a user of PCA cares about: how well the test images
are reconstructed, how well a classifier does on the codes, and how long fitting
takes. A figure shows test digits next to both reconstructions.
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

OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)


def evaluate(model):
    """Fit ``model``; return test reconstruction MSE, accuracy on codes, fit time."""
    start = time.perf_counter()
    model.fit(X_train)
    fit_time = time.perf_counter() - start
    X_rebuilt = model.inverse_transform(model.transform(X_test))
    mse = np.mean((X_test - X_rebuilt) ** 2)
    classifier = LogisticRegression(max_iter=2000)
    classifier.fit(model.transform(X_train), y_train)
    accuracy = classifier.score(model.transform(X_test), y_test)
    return mse, accuracy, fit_time


rows = []
models = {}
for n_components in (2, 8):
    for name, model in (
        ("PCA", PCA(n_components=n_components, random_state=0)),
        (
            "AutoencoderTransformer",
            AutoencoderTransformer(n_components, random_state=0),
        ),
    ):
        rows.append((n_components, name, *evaluate(model)))
        models[name, n_components] = model

print(
    f"{'n_components':>12}  {'model':<24}{'test MSE':>9}{'accuracy':>10}{'fit (s)':>9}"
)
for n_components, name, mse, accuracy, fit_time in rows:
    print(f"{n_components:>12}  {name:<24}{mse:>9.2f}{accuracy:>10.3f}{fit_time:>9.2f}")

# originals, then each model's reconstruction at n_components=8
n_images = 8
panels = [("original", X_test[:n_images])]
for name in ("PCA", "AutoencoderTransformer"):
    model = models[name, 8]
    panels.append((name, model.inverse_transform(model.transform(X_test[:n_images]))))
fig, axes = plt.subplots(len(panels), n_images, figsize=(n_images, len(panels) + 0.5))
for row, (title, images) in enumerate(panels):
    for col in range(n_images):
        ax = axes[row, col]
        ax.imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[row, 0].set_ylabel(title.replace("Transformer", ""), fontsize=8)
fig.suptitle("Test digits and their reconstructions from 8 components")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "quickstart.png", dpi=120, bbox_inches="tight")
print(f"figure saved to {OUTPUT / 'quickstart.png'}")
