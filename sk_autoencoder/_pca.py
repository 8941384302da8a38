"""The PCA start: PCA's solution as the network's linear path, and PCA's model.

The autoencoders fit scikit-learn's :class:`~sklearn.decomposition.PCA` on X (in
X's own units) before training. Its solution becomes the linear path of the
network, written in the scaled coordinates the network sees, and its fitted
attributes are the estimators' PCA attributes.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA

from sk_autoencoder._data import data_range

# PCA's fitted attributes that the estimators expose, as PCA defines them
PCA_ATTRIBUTES = (
    "components_",
    "explained_variance_",
    "explained_variance_ratio_",
    "singular_values_",
    "mean_",
    "noise_variance_",
    "n_samples_",
)


# the covariance matrix of this many features takes 8 MB in float64
_COVARIANCE_MAX_FEATURES = 1000
# a mean this many times the largest standard deviation is removed before PCA
_CENTRE_ABOVE = 1e4


def fit_pca(X, estimator, seed, standard):
    """Fit the PCA start of ``estimator`` on X with the estimator's PCA arguments.

    ``svd_solver='auto'`` is ``'covariance_eigh'`` up to
    ``_COVARIANCE_MAX_FEATURES`` features: exact, it never copies X, and it gives
    the same start for a sparse X as for its dense equivalent (to float64
    rounding); above, it is PCA's own ``'auto'``. ``seed`` seeds the randomized
    and arpack solvers; ``standard`` is X's standard scaler (means and standard
    deviations). The arpack tolerance is PCA's default (machine precision): the
    estimators' ``tol`` is the training tolerance. X is never modified (``copy``
    is PCA's, but the estimators' inputs are validated copies or read-only views
    anyway).
    """
    n_components, most = estimator.n_components, min(X.shape)
    if isinstance(n_components, Integral) and n_components > most:
        raise ValueError(
            f"n_components={n_components} is more than the PCA start can have: "
            f"at most min(n_samples, n_features)={most}, and X has "
            f"{X.shape[0]} sample(s) and {X.shape[1]} feature(s)."
        )
    solver = estimator.svd_solver
    if solver == "auto" and X.shape[1] <= _COVARIANCE_MAX_FEATURES:
        solver = "covariance_eigh"
    # the covariance solver computes X.T @ X - n mean mean.T, which loses every
    # digit of the spread when the mean dwarfs it (timestamps, say): such data
    # is centred first, on a copy
    shift = None
    if not sp.issparse(X) and (
        np.max(np.abs(standard.offset)) / np.max(standard.scale) > _CENTRE_ABOVE
    ):
        shift = standard.offset
        X = X - shift.astype(X.dtype)
    factor = _exact_rescaling(X)
    pca = PCA(
        n_components=estimator.n_components,
        svd_solver=solver,
        iterated_power=estimator.iterated_power,
        n_oversamples=estimator.n_oversamples,
        power_iteration_normalizer=estimator.power_iteration_normalizer,
        whiten=estimator.whiten,
        copy=True,
        random_state=seed,
    )
    with np.errstate(invalid="ignore"):  # constant X: PCA's ratios are 0 / 0
        pca.fit(X if factor == 1.0 else X * factor)
    # constant X explains no variance (PCA itself leaves 0 / 0 there)
    pca.explained_variance_ratio_ = np.nan_to_num(pca.explained_variance_ratio_)
    if factor != 1.0:
        # back to X's units, exactly: the factor is a power of two (divided
        # twice rather than by its square, which may underflow)
        with np.errstate(over="ignore"):
            pca.mean_ = pca.mean_ / factor
            pca.explained_variance_ = pca.explained_variance_ / factor / factor
            pca.singular_values_ = pca.singular_values_ / factor
            pca.noise_variance_ = pca.noise_variance_ / factor / factor
        if not np.isfinite(pca.explained_variance_).all():
            raise ValueError(
                f"X holds values of magnitude up to {1 / factor:.3g}, whose "
                "variances (PCA's explained_variance_, in X's units) overflow "
                "float64. Divide X by a constant before fitting."
            )
    if shift is not None:
        pca.mean_ = pca.mean_ + shift
    return pca


def _exact_rescaling(X):
    """1, or the power of two that brings X's largest magnitude into [0.5, 1).

    PCA squares X; values whose squares would overflow (or underflow) X's float
    type are fitted on a rescaled copy, which a power of two makes exact. Only
    such data pays for the copy.
    """
    low, high = data_range(X)
    magnitude = max(abs(low), abs(high))
    info = np.finfo(X.dtype)
    if magnitude == 0 or 2 ** (info.minexp / 4) < magnitude < 2 ** (info.maxexp / 4):
        return 1.0
    return float(np.ldexp(1.0, -np.frexp(magnitude)[1]))


def code_unit(explained_variance):
    """Standard deviation of each PCA code, floored above zero: the factor from the
    PCA-anchored autoencoder's unit-scale codes to PCA's codes."""
    variance = np.asarray(explained_variance, dtype=np.float64)
    if not variance.max() > 0:  # constant data: every code is zero
        return np.ones_like(variance)
    return np.sqrt(np.maximum(variance, 1e-12 * variance.max()))


def linear_start(pca, scaler, feature_std):
    """PCA's solution as the network's linear layers, in the scaled coordinates.

    The network sees ``x_s = (x - offset) / scale`` (``scaler``) and outputs
    scaled values. PCA's whitened codes ``V (x - mean) / u`` (``u``:
    :func:`code_unit`) are then ``A x_s + a`` and its reconstruction
    ``V.T (u z) + mean`` is ``B z + b`` in scaled units; every weight is a ratio
    of scales, of order one whatever the units of X.

    Parameters
    ----------
    pca : fitted PCA
    scaler : Scaler
        The network's input scaling.
    feature_std : ndarray of shape (n_features,)
        Each feature's standard deviation in X's units (non-zero).

    Returns
    -------
    start : dict of ndarray (float64)
        ``encoder_weight`` (k, d), ``encoder_bias`` (k,), ``decoder_weight``
        (d, k), ``decoder_bias`` (d,), ``input_shift`` and ``input_scale``
        (d,: the residual encoder sees standardised features), ``code_std``
        (k,), ``output_scale`` (d,).
    """
    start, V, offset, scale, variance = _start_frame(pca, scaler, feature_std)
    # the module's codes are PCA's whitened scores: unit-sized whatever the
    # units of X (the estimator multiplies them by ``code_unit``)
    unit = code_unit(variance)
    start.update(
        encoder_weight=V * (scale / unit[:, None]),
        encoder_bias=(V @ (offset - pca.mean_)) / unit,
        decoder_weight=(V.T * unit) / scale[:, None],
        code_std=np.ones_like(variance),
    )
    return start


def probabilistic_start(pca, scaler, feature_std, min_variance):
    """Probabilistic PCA (Tipping and Bishop, 1999) as the VAE's linear layers.

    As :func:`linear_start`, for the linear-Gaussian model: with ``W = V.T (L -
    s2) ** 0.5``, the posterior of z given x is ``N((L - s2) ** 0.5 / L * V (x -
    mean), s2 / L)``, the decoder is ``W z + mean``, and the noise variance is
    ``s2`` in X's units. ``min_variance`` floors the noise variance in scaled
    units (the Gaussian likelihood's floor). The start also holds ``log_var``
    (k,), the posterior log-variance, and ``noise_log_var`` (d,), the
    likelihood's log-variance per scaled feature.
    """
    start, V, offset, scale, variance = _start_frame(pca, scaler, feature_std)
    # the likelihood's noise variance per scaled feature, floored where the
    # likelihood floors it, and the same floor in X's units for the codes
    noise = max(float(pca.noise_variance_), min_variance * float(np.max(scale)) ** 2)
    variance = np.maximum(variance, noise)
    loading = np.sqrt(variance - noise)  # the columns of W, in X's units
    posterior = loading / variance
    start.update(
        encoder_weight=posterior[:, None] * V * scale,
        encoder_bias=posterior * (V @ (offset - pca.mean_)),
        decoder_weight=(V.T * loading) / scale[:, None],
        # the posterior means' standard deviation over the training rows
        code_std=np.maximum(loading / np.sqrt(variance), np.finfo(np.float64).tiny),
        log_var=np.log(noise / variance),
        noise_log_var=np.log(np.maximum(noise / scale**2, min_variance)),
    )
    return start


def _start_frame(pca, scaler, feature_std):
    """What both starts share: the buffers and the decoder's bias, and PCA's
    components, the scaler's offset and scale and the variances (float64)."""
    offset, scale = scaler.offset, scaler.scale
    mean = pca.mean_.astype(np.float64)
    start = {
        "input_shift": (mean - offset) / scale,
        "input_scale": feature_std / scale,
        "output_scale": feature_std / scale,
        "decoder_bias": (mean - offset) / scale,
    }
    V = pca.components_.astype(np.float64)
    return start, V, offset, scale, pca.explained_variance_.astype(np.float64)


def pca_model(estimator):
    """A fitted :class:`~sklearn.decomposition.PCA` holding the estimator's PCA start.

    Built from the estimator's fitted PCA attributes, so that PCA's own methods
    (``get_covariance``, ``get_precision``, ``score_samples``) compute on them
    exactly as on the PCA the estimator started from.
    """
    pca = PCA(n_components=estimator.n_components_, whiten=estimator.whiten)
    for name in (*PCA_ATTRIBUTES, "n_components_", "n_features_in_"):
        setattr(pca, name, getattr(estimator, name))
    return pca
