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

network = dict(n_components=16, hidden_layer_sizes=(64,), max_epochs=30)
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
print("test MSE against the clean digits (pixel values 0..16):")
for name, X_rebuilt in rebuilt.items():
    print(f"  {name:36s} {np.mean((X_rebuilt - X_test) ** 2):6.2f}")

n_images = 8
panels = [
    ("noisy", X_noisy),
    ("denoised", rebuilt["DenoisingAutoencoder.reconstruct"]),
    ("clean", X_test),
]
fig, axes = plt.subplots(len(panels), n_images, figsize=(n_images, 3.5))
for row, (title, images) in enumerate(panels):
    for col in range(n_images):
        axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(title, fontsize=9)
fig.suptitle("DenoisingAutoencoder on test digits with Gaussian noise")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "denoising.png", dpi=120, bbox_inches="tight")
print(f"figure saved to {OUTPUT / 'denoising.png'}")
