"""
Generating digits with a variational autoencoder
=================================================

:class:`~sk_autoencoder.VAETransformer` learns a Gaussian posterior over two latent
dimensions and a Gaussian likelihood of the pixels. ``sample`` decodes draws from
the prior into new digits, ``transform`` gives each digit's posterior mean (a 2-D
map, coloured here by class), and ``score`` is the average evidence lower bound
(ELBO) of the test digits in nats, a lower bound of their log-likelihood that can
be compared with probabilistic PCA's ``score`` on the same data.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from sk_autoencoder import VAETransformer

matplotlib.use("Agg")
OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# the ELBO keeps creeping up by a fraction of a nat for hundreds of epochs; a
# tol of 1e-3 (per feature, 0.064 nats per digit) stops once the gains are that
# small, before max_epochs
vae = VAETransformer(n_components=2, max_epochs=400, tol=1e-3, random_state=0)
vae.fit(X_train)
ppca = PCA(n_components=2).fit(X_train)
iw_bound = vae.log_likelihood(X_test).mean()
print("average over the test digits, nats per row (higher is better):")
print(f"  VAETransformer ELBO (score)                    {vae.score(X_test):8.1f}")
print(f"  VAETransformer importance-weighted bound       {iw_bound:8.1f}")
print(f"  probabilistic PCA log-likelihood (PCA.score)   {ppca.score(X_test):8.1f}")
print(f"KL per latent dimension (nats): {vae.kl_per_dimension_.round(2)}")

samples = vae.sample(32, random_state=0)
fig, axes = plt.subplots(4, 8, figsize=(8, 4.3))
for ax, image in zip(axes.ravel(), samples, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Digits sampled from the VAE's prior")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "vae_samples.png", dpi=120, bbox_inches="tight")

# %%
# The axes span the central 96% of the codes on each axis, with a margin, so
# that a few digits encoded far out do not squash the clusters into a corner;
# the title says how many lie beyond.

codes = vae.transform(X_test)
low, high = np.percentile(codes, [2, 98], axis=0)
margin = 0.1 * (high - low)
low, high = low - margin, high + margin
n_outside = np.sum(np.any((codes < low) | (codes > high), axis=1))
fig, ax = plt.subplots(figsize=(6, 5))
points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=12)
fig.colorbar(points, ax=ax, label="digit")
ax.set_xlim(low[0], high[0])
ax.set_ylim(low[1], high[1])
ax.set_xlabel("latent 1 (posterior mean)")
ax.set_ylabel("latent 2 (posterior mean)")
ax.set_title(
    f"Test digits in the VAE's latent space\n({n_outside} of {len(codes)} "
    "lie beyond these axes)"
)
fig.savefig(OUTPUT / "vae_latent.png", dpi=120, bbox_inches="tight")
print("figures saved to output/vae_samples.png and output/vae_latent.png")
