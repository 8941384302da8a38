"""
Which pixels make a digit an outlier
====================================

:class:`~sk_autoencoder.AutoencoderOutlierDetector` learns what the zeros of the
digits data set look like, from the zeros with a few other digits mixed in. It
flags the rows it rebuilds worst or encodes farthest from the rest, and
``reconstruction_errors`` tells which features made each of them abnormal: here,
for the most abnormal rows, the image, its reconstruction, and every pixel's
squared error relative to that pixel's mean error over the training rows, as an
8x8 heat map. A pixel that no zero inks is rebuilt almost exactly in training,
so ink there stands out.
"""

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from sk_autoencoder import AutoencoderOutlierDetector, AutoencoderTransformer

matplotlib.use("Agg")
OUTPUT = Path(__file__).resolve().parent / "output"

X, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
is_zero = y == 0
picked = rng.choice(np.flatnonzero(~is_zero), size=9, replace=False)
X_mixed = np.vstack([X[is_zero], X[picked]])
y_mixed = np.r_[y[is_zero], y[picked]]
is_outlier = y_mixed != 0

# a plain autoencoder with four codes, whose per-pixel errors the figure shows
detector = AutoencoderOutlierDetector(
    AutoencoderTransformer(n_components=4), contamination=0.05, random_state=0
)
labels = detector.fit_predict(X_mixed)
scores = detector.score_samples(X_mixed)
is_flagged = labels == -1
print(f"{is_outlier.sum()} other digits mixed into {np.sum(~is_outlier)} zeros")
print(
    f"flagged {is_flagged.sum()} rows (contamination=0.05), "
    f"{np.sum(is_flagged & is_outlier)} of them other digits"
)
print(f"ROC-AUC of score_samples: {roc_auc_score(is_outlier, -scores):.3f}")

errors = detector.reconstruction_errors(X_mixed)
reconstructions = detector.estimator_.reconstruct(X_mixed)
most_abnormal = np.argsort(scores)[:6]
print("most abnormal rows: digit, score, the three pixels (row, col) with most error")
for row in most_abnormal:
    worst_pixels = [divmod(int(i), 8) for i in np.argsort(errors[row])[::-1][:3]]
    print(f"  digit {y_mixed[row]}  score {scores[row]:8.2f}  pixels {worst_pixels}")

# the six most abnormal rows, then the most typical one for comparison
shown = [*most_abnormal, np.argsort(scores)[len(scores) // 2]]
titles = [f"{'other' if is_outlier[row] else 'zero'}: {y_mixed[row]}" for row in shown]
titles[-1] = f"typical {titles[-1]}"
largest_error = errors[shown].max()
fig, axes = plt.subplots(
    3, len(shown), figsize=(1.7 * len(shown) + 1, 5.6), layout="constrained"
)
for col, row in enumerate(shown):
    axes[0, col].imshow(X_mixed[row].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    axes[0, col].set_title(titles[col], fontsize=9)
    axes[1, col].imshow(
        reconstructions[row].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16
    )
    error_map = axes[2, col].imshow(
        errors[row].reshape(8, 8), cmap="Reds", vmin=0, vmax=largest_error
    )
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
row_names = ["image", "reconstruction", "relative error"]
for ax, name in zip(axes[:, 0], row_names, strict=True):
    ax.set_ylabel(name, fontsize=9)
fig.colorbar(
    error_map,
    ax=axes[2, :],
    label="squared error / the pixel's\nmean over training rows",
)
fig.suptitle("The most abnormal rows and the pixels that made them so")
OUTPUT.mkdir(exist_ok=True)
fig.savefig(OUTPUT / "outlier_explanation.png", dpi=120, bbox_inches="tight")
print("figure saved to output/outlier_explanation.png, next to this script")
