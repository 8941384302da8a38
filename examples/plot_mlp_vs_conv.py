"""
Dense or convolutional autoencoder on digit images
===================================================

``architecture='conv'`` with ``image_shape=(8, 8)`` builds a convolutional
encoder (stride-2 convolutions with the channel counts of ``hidden_layer_sizes``)
and a transposed-convolution decoder; rows of X stay flattened, so nothing else
changes. This compares it with the dense network at the same number of
components, with parameter counts of the same order, on test reconstruction error.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer

OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)[:2]

models = {
    "mlp (64, 32)": AutoencoderTransformer(
        8, hidden_layer_sizes=(64, 32), max_epochs=100, random_state=0
    ),
    "conv (16, 32)": AutoencoderTransformer(
        8,
        architecture="conv",
        image_shape=(8, 8),
        hidden_layer_sizes=(16, 32),
        max_epochs=100,
        random_state=0,
    ),
}
rebuilt = {}
for name, model in models.items():
    model.fit(X_train)
    rebuilt[name] = model.reconstruct(X_test)
    n_parameters = sum(p.numel() for p in model.module_.parameters())
    mse = np.mean((X_test - rebuilt[name]) ** 2)
    print(
        f"{name:14s} parameters {n_parameters:6d}   test MSE {mse:5.2f}   "
        f"epochs {model.n_iter_}"
    )

n_images = 8
panels = [("original", X_test), *rebuilt.items()]
fig, axes = plt.subplots(len(panels), n_images, figsize=(n_images, 3.6))
for row, (title, images) in enumerate(panels):
    for col in range(n_images):
        axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(title, fontsize=8)
fig.suptitle("Test digits rebuilt from 8 components")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "mlp_vs_conv.png", dpi=120, bbox_inches="tight")
print(f"figure saved to {OUTPUT / 'mlp_vs_conv.png'}")
