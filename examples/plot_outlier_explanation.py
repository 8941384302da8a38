"""
Which pixels make a digit an outlier
====================================

:class:`~sk_autoencoder.AutoencoderOutlierDetector` learns what the zeros of the
digits look like, from zeros mixed with a few other digits. It flags the rows it
rebuilds worst, and ``reconstruction_errors`` tells which features made them
abnormal: shown here as 8x8 heat maps next to each flagged image.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from sk_autoencoder import AutoencoderOutlierDetector

OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
zeros = X[y == 0]
others = X[y != 0][rng.choice(np.sum(y != 0), size=9, replace=False)]
X_mixed = np.vstack([zeros, others])
is_outlier = np.r_[np.zeros(len(zeros)), np.ones(len(others))]

detector = AutoencoderOutlierDetector(contamination=0.05, random_state=0)
labels = detector.fit_predict(X_mixed)
scores = detector.score_samples(X_mixed)
print(f"{len(others)} other digits among {len(zeros)} zeros")
print(
    f"flagged: {np.sum(labels == -1)} rows, of which true outliers: "
    f"{int(np.sum((labels == -1) & (is_outlier == 1)))}"
)
print(f"ROC-AUC of the score: {roc_auc_score(is_outlier, -scores):.3f}")

errors = detector.reconstruction_errors(X_mixed)
worst = np.argsort(scores)[:5]
fig, axes = plt.subplots(2, len(worst), figsize=(2 * len(worst), 4.4))
for col, row in enumerate(worst):
    axes[0, col].imshow(X_mixed[row].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    axes[0, col].set_title("other digit" if is_outlier[row] else "zero", fontsize=9)
    axes[1, col].imshow(errors[row].reshape(8, 8), cmap="Reds")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("image", fontsize=9)
axes[1, 0].set_ylabel("error per pixel", fontsize=9)
fig.suptitle("The five most abnormal rows and the pixels that made them so")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "outlier_explanation.png", dpi=120, bbox_inches="tight")
print(f"figure saved to {OUTPUT / 'outlier_explanation.png'}")
