"""
Denoising digits
================

:class:`~sk_autoencoder.DenoisingAutoencoder` is trained on clean digits, each
training batch corrupted afresh with Gaussian noise, to rebuild the clean rows.
Test digits corrupted by the same kind of noise then go through ``reconstruct``;
the printed mean squared errors against the clean test digits compare the noisy
input, the denoiser's output and the output of a plain
:class:`~sk_autoencoder.AutoencoderTransformer` of the same size trained on clean
digits. The noise has one standard deviation of each pixel, the level the
denoiser was trained with (``noise_level`` is in units of each standardised
feature).
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer, DenoisingAutoencoder

matplotlib.use("Agg")
OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)[:2]

# max_epochs is a ceiling: early stopping ends both fits well before it
network = dict(n_components=16, hidden_layer_sizes=(64,), max_epochs=500)
denoiser = DenoisingAutoencoder(
    noise="gaussian", noise_level=1.0, random_state=0, **network
).fit(X_train)
plain = AutoencoderTransformer(random_state=0, **network).fit(X_train)

# the same kind of noise as in training: one training standard deviation per pixel
rng = np.random.default_rng(0)
X_noisy = X_test + X_train.std(axis=0) * rng.normal(size=X_test.shape)
rebuilt = {
    "noisy input": X_noisy,
    "DenoisingAutoencoder.reconstruct": denoiser.reconstruct(X_noisy),
    "AutoencoderTransformer.reconstruct": plain.reconstruct(X_noisy),
}
test_mse = {
    name: np.mean((X_rebuilt - X_test) ** 2) for name, X_rebuilt in rebuilt.items()
}
print("test MSE against the clean digits (pixel values 0..16):")
for name, mse in test_mse.items():
    print(f"  {name:36s} {mse:6.2f}")

n_images = 8
panels = [
    (f"noisy input\nMSE {test_mse['noisy input']:.2f}", X_noisy),
    *(
        (f"{name.split('.')[0]}\nMSE {test_mse[name]:.2f}", rebuilt[name])
        for name in (
            "DenoisingAutoencoder.reconstruct",
            "AutoencoderTransformer.reconstruct",
        )
    ),
    ("clean", X_test),
]
fig, axes = plt.subplots(
    len(panels), n_images, figsize=(n_images + 2, 4.6), layout="constrained"
)
for row, (title, images) in enumerate(panels):
    for col in range(n_images):
        axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
fig.suptitle(
    "Test digits with Gaussian noise, rebuilt\n"
    "(MSE against the clean digits, over all test digits)"
)
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "denoising.png", dpi=120, bbox_inches="tight")
print("figure saved to output/denoising.png, next to this script")
