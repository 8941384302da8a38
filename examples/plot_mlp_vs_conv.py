"""
Dense or convolutional autoencoder on digit images
===================================================

``architecture='conv'`` with ``image_shape=(8, 8)`` builds a convolutional
encoder (stride-2 convolutions with the channel counts of ``hidden_layer_sizes``)
and a transposed-convolution decoder; rows of X stay flattened, so nothing else
in the user's code changes. This compares it with the default dense network at
the same number of components and a similar number of weights, on the test
reconstruction error of the digits, with PCA as a reference.
"""

import time
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

matplotlib.use("Agg")
OUTPUT = Path(__file__).resolve().parent / "output"
N_COMPONENTS = 8

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)[:2]

models = {
    "mlp (64, 32)": AutoencoderTransformer(
        N_COMPONENTS, hidden_layer_sizes=(64, 32), max_epochs=300, random_state=0
    ),
    "conv (16, 32)": AutoencoderTransformer(
        N_COMPONENTS,
        architecture="conv",
        image_shape=(8, 8),
        hidden_layer_sizes=(16, 32),
        max_epochs=300,
        random_state=0,
    ),
}
rebuilt = {}
test_mse = {}
fit_seconds = {}
print(f"test reconstruction MSE with {N_COMPONENTS} components (pixel values 0..16)")
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    seconds = fit_seconds[name] = time.perf_counter() - start
    rebuilt[name] = model.reconstruct(X_test)
    test_mse[name] = np.mean((X_test - rebuilt[name]) ** 2)
    n_parameters = sum(p.numel() for p in model.module_.parameters())
    print(
        f"  {name:14s} parameters {n_parameters:6d}   test MSE {test_mse[name]:5.2f}"
        f"   epochs {model.n_iter_:3d}   fit {seconds:4.1f} s"
    )
pca = PCA(N_COMPONENTS).fit(X_train)
pca_mse = np.mean((X_test - pca.inverse_transform(pca.transform(X_test))) ** 2)
pca_parameters = pca.components_.size + pca.mean_.size
print(f"  {'PCA':14s} parameters {pca_parameters:6d}   test MSE {pca_mse:5.2f}")
best = min(test_mse, key=test_mse.get)
print(f"lower test MSE: {best}")

# %%
# The first test digits, each model's reconstruction, and where each model errs:
# the squared error of every pixel, on one colour scale for both models.

n_images = 8
errors = {name: (X_test - images) ** 2 for name, images in rebuilt.items()}
largest_error = max(error[:n_images].max() for error in errors.values())
panels = [("original", X_test, None)]
panels += [
    (
        f"{name}\nMSE {test_mse[name]:.2f}, fit {fit_seconds[name]:.1f} s",
        images,
        None,
    )
    for name, images in rebuilt.items()
]
panels += [(f"{name}\nsquared error", error, "Reds") for name, error in errors.items()]
fig, axes = plt.subplots(
    len(panels),
    n_images,
    figsize=(n_images + 2, 1.1 * len(panels)),
    layout="constrained",
)
for row, (title, images, cmap) in enumerate(panels):
    for col in range(n_images):
        shown = axes[row, col].imshow(
            images[col].reshape(8, 8),
            cmap=cmap or "gray_r",
            vmin=0,
            vmax=largest_error if cmap else 16,
        )
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=8)
fig.colorbar(shown, ax=axes[-len(errors) :, :], label="squared error (pixel units)")
fig.suptitle(
    f"Test digits rebuilt from {N_COMPONENTS} components (MSE over all test digits)"
)
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "mlp_vs_conv.png", dpi=120, bbox_inches="tight")
print("figure saved to output/mlp_vs_conv.png, next to this script")
