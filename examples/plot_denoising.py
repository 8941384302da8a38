"""
Denoising digits
================

Train :class:`~sk_autoencoder.DenoisingAutoencoder` on clean digits with Gaussian
noise added to each training batch, then hand it test digits corrupted by the same
kind of noise: ``reconstruct`` returns cleaner images than the noisy input, and
cleaner than a plain :class:`~sk_autoencoder.AutoencoderTransformer` of the same
size manages. The noise is one standard deviation of each pixel, the level the
denoiser was trained with (``noise_level`` is in units of each standardised
feature).
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_autoencoder import AutoencoderTransformer, DenoisingAutoencoder

OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, stratify=y, random_state=0)[:2]

settings = dict(
    n_components=16, hidden_layer_sizes=(64,), max_epochs=30, random_state=0
)
denoiser = DenoisingAutoencoder(noise="gaussian", noise_level=1.0, **settings)
plain = AutoencoderTransformer(**settings)
denoiser.fit(X_train)
plain.fit(X_train)

rng = np.random.default_rng(0)
X_noisy = X_test + X_train.std(axis=0) * rng.normal(size=X_test.shape)
X_denoised = denoiser.reconstruct(X_noisy)


def mse(X_rebuilt):
    return np.mean((X_rebuilt - X_test) ** 2)


print("test MSE against the clean digits (pixel units, 0..16):")
print(f"  noisy input                       {mse(X_noisy):6.2f}")
print(f"  DenoisingAutoencoder.reconstruct  {mse(X_denoised):6.2f}")
print(f"  AutoencoderTransformer.reconstruct {mse(plain.reconstruct(X_noisy)):6.2f}")

n_images = 8
fig, axes = plt.subplots(3, n_images, figsize=(n_images, 3.5))
for row, (title, images) in enumerate(
    [("noisy", X_noisy), ("denoised", X_denoised), ("clean", X_test)]
):
    for col in range(n_images):
        axes[row, col].imshow(images[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel(title, fontsize=9)
fig.suptitle("DenoisingAutoencoder on test digits with Gaussian noise")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "denoising.png", dpi=120, bbox_inches="tight")
print(f"figure saved to {OUTPUT / 'denoising.png'}")
