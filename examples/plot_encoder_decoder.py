"""
A 32-dimensional autoencoder: encoder and decoder used apart
=============================================================

The classic first autoencoder compresses each image to 32 numbers and rebuilds it.
Here the two halves are used separately, as in that tutorial: ``transform`` is
the encoder (images to codes), ``inverse_transform`` the decoder (codes to
images). The codes can be stored, shipped or edited, and decoded later; the
figure shows test digits, their 32 codes, and the images decoded from them.
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

# max_epochs is a ceiling: early stopping ends the fit before it
autoencoder = AutoencoderTransformer(
    n_components=32, hidden_layer_sizes=(64,), max_epochs=500, random_state=0
).fit(X_train)

codes = autoencoder.transform(X_test)  # the encoder: 64 pixels -> 32 codes
decoded = autoencoder.inverse_transform(codes)  # the decoder: 32 codes -> 64 pixels
print(f"codes: {codes.shape}, decoded images: {decoded.shape}")
print(f"test reconstruction MSE (pixel units): {np.mean((X_test - decoded) ** 2):.2f}")
print(f"epochs run: {autoencoder.n_iter_}")

n_images = 6
# one colour scale for all code maps, centred on 0, so that codes compare
code_limit = np.abs(codes[:n_images]).max()
fig, axes = plt.subplots(3, n_images, figsize=(n_images * 1.3 + 1, 4.2))
for col in range(n_images):
    axes[0, col].imshow(X_test[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    code_map = axes[1, col].imshow(
        codes[col].reshape(4, 8), cmap="coolwarm", vmin=-code_limit, vmax=code_limit
    )
    axes[2, col].imshow(decoded[col].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
for row, title in enumerate(["input", "32 codes", "decoded"]):
    axes[row, 0].set_ylabel(title, fontsize=9)
fig.colorbar(code_map, ax=axes[1, :], label="code value", shrink=0.9)
fig.suptitle(
    "transform (encoder) and inverse_transform (decoder)\n"
    f"test reconstruction MSE {np.mean((X_test - decoded) ** 2):.2f} (pixel units)"
)
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "encoder_decoder.png", dpi=120, bbox_inches="tight")
print("figure saved to output/encoder_decoder.png, next to this script")
