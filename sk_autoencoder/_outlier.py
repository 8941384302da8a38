"""AutoencoderOutlierDetector: rows an autoencoder rebuilds badly, or codes far out."""

from numbers import Real

import numpy as np
from scipy.special import log_ndtr
from sklearn.base import BaseEstimator, OutlierMixin, clone

from sk_autoencoder._data import chunk_rows, iter_chunks
from sk_autoencoder._denoising import DenoisingAutoencoder
from sk_autoencoder._docstrings import insert_shared_docs
from sk_autoencoder._state import (
    Array,
    Covariance,
    Field,
    Float,
    Floats,
    check_fields,
    check_keys,
    dump_fields,
    set_fields,
)
from sk_autoencoder._validation import (
    FLOAT_DTYPES,
    HasMethods,
    Interval,
    StrOptions,
    check_is_fitted,
    fit_context,
    validate_data,
)

# contamination='auto': the rule of robust_offset, in robust standard deviations
_AUTO_THRESHOLD = 3.0
_MAD_TO_STD = 1.4826
# a feature's residual variance is at least this share of the features' mean, so
# that a feature the autoencoder rebuilds exactly does not divide by zero
_VARIANCE_FLOOR = 1e-3
# fit_scaled_chi2 leaves out this share of the largest values (maybe outliers)
_TRIMMED_SHARE = 0.1


def default_estimator():
    """The inner estimator ``estimator=None`` stands for (see the class's Notes)."""
    # the training settings it was measured with (benchmarks/outliers_adbench.py),
    # which are not the transformers' defaults
    return DenoisingAutoencoder(
        n_components=0.9,
        hidden_layer_sizes=(64,),
        noise="masking",
        noise_level=0.2,
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=30,
    )


def chi2_log_tail(statistic, dof):
    """``log P(chi2(dof) >= statistic)``, by the Wilson-Hilferty approximation.

    The cube root of a chi-squared variable is close to normal, so the tail is
    a normal tail, and ``scipy.special.log_ndtr`` keeps its logarithm finite and
    decreasing however far out the statistic lies (the exact tail underflows to
    zero, and its logarithm to -inf, for large statistics).
    """
    variance = 2.0 / (9.0 * dof)
    z = (np.cbrt(statistic / dof) - (1.0 - variance)) / np.sqrt(variance)
    return log_ndtr(-z)


def fit_scaled_chi2(statistic, dof):
    """``(scale, dof)`` of a scaled chi-squared law fitted to a statistic's values.

    Satterthwaite's approximation: a sum of squares with mean ``m`` and variance
    ``v`` is close in law to ``g * chi2(h)`` with ``g = v / (2 m)`` and
    ``h = 2 m ** 2 / v``, the two moments matched. They are taken over the
    values but for the largest ``_TRIMMED_SHARE``, which may be outliers. When
    the values kept do not vary, the law is ``chi2(dof)`` scaled to their mean.
    """
    statistic = np.sort(np.asarray(statistic, dtype=np.float64))
    n_kept = max(2, int(np.ceil((1.0 - _TRIMMED_SHARE) * statistic.size)))
    kept = statistic[:n_kept]
    mean, variance = kept.mean(), kept.var()
    if not (mean > 0 and variance > 0):
        return float(max(mean, np.finfo(np.float64).tiny) / dof), float(dof)
    return float(variance / (2.0 * mean)), float(2.0 * mean**2 / variance)


def robust_offset(scores, n_deviations=_AUTO_THRESHOLD):
    """The ``'auto'`` threshold on scores that are log tail probabilities.

    ``-2 * score`` is Fisher's statistic, whose cube root is close to normal
    for inliers (Wilson-Hilferty, as for any chi-squared variable). A row is an
    outlier when that cube root lies more than ``n_deviations`` robust
    standard deviations (1.4826 times the median absolute deviation) above its
    median over the training rows; the threshold is returned on the scale of
    the scores. At least one training row is always flagged, as scikit-learn's
    outlier detectors require: when the rule flags none, the threshold lies
    halfway between the lowest and the second-lowest score, clear of rounding
    noise.
    """
    roots = np.cbrt(-2.0 * np.asarray(scores, dtype=np.float64))
    median = np.median(roots)
    mad = np.median(np.abs(roots - median))
    offset = -0.5 * (median + n_deviations * _MAD_TO_STD * mad) ** 3
    lowest, second = np.partition(scores, 1)[:2]
    floor = (lowest + second) / 2 if second > lowest else np.nextafter(lowest, np.inf)
    return max(offset, floor)


@insert_shared_docs
class AutoencoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detection from the reconstruction error and the code of an autoencoder.

    A meta-estimator: it fits a clone of ``estimator`` (by default a small
    masking :class:`DenoisingAutoencoder` that keeps the components for 90% of
    the variance; see Notes) on the training rows. A row is abnormal
    when the autoencoder rebuilds it badly (it lies off the learned manifold)
    or when its code lies far from the training codes (it lies on the
    manifold, but in an empty region of it); :meth:`reconstruction_errors`
    shows which features made a row abnormal.

    Parameters
    ----------
    estimator : estimator object, default=None
        The autoencoder to fit: an :class:`AutoencoderTransformer`,
        :class:`DenoisingAutoencoder` or :class:`VAETransformer`, or any
        estimator with ``fit`` and the detector's contract,
        ``residuals_and_codes(X)`` (see
        :meth:`AutoencoderTransformer.residuals_and_codes`). It is cloned,
        never fitted in place. None means the detector's default,
        ``DenoisingAutoencoder(n_components=0.9, hidden_layer_sizes=(64,),
        noise='masking', noise_level=0.2, learning_rate=1e-3, weight_decay=0.0,
        batch_size=64, max_epochs=30)``: the codes keep the
        components for 90% of the variance of the PCA start, and training moves
        the network off PCA's solution only where rebuilding masked entries
        improves the validation loss (see Notes for why).

    contamination : 'auto' or float, default='auto'
        The share of outliers expected in the training data, which sets
        ``offset_``. A float in (0, 0.5] flags that fraction of the training rows.
        ``'auto'`` is a robust rule on the training scores: it flags the rows
        whose Fisher statistic ``-2 * score``, on a cube-root scale where it is
        close to normal, lies more than 3 robust standard deviations (1.4826
        times the median absolute deviation) above its median, and always at
        least one row.

    random_state : int, RandomState instance or None, default=None
        When not None, seeds the inner estimator (its ``random_state`` is set to
        this value); when None, the inner estimator's own ``random_state`` holds.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.

    residual_variance_ : ndarray of shape (n_features,)
        Mean over the training rows of each feature's squared reconstruction
        error, in the inner estimator's scaled units (floored at 1e-3 times
        the mean over features).

    code_covariance_ : sklearn.covariance.EmpiricalCovariance
        Mean and covariance of the training rows' codes (the inner estimator's
        ``transform``).

    residual_law_ : tuple of float
        ``(scale, dof)``: the residual statistic divided by ``scale`` follows
        approximately a chi-squared law with ``dof`` degrees of freedom (see
        Notes).

    code_law_ : tuple of float
        ``(scale, dof)``, likewise for the code statistic.

    offset_ : float
        Threshold on ``score_samples``: ``decision_function = score_samples -
        offset_``, and rows with a negative decision are outliers.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection from random partitions.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection from local density.
    DenoisingAutoencoder : The default inner estimator.
    AutoencoderTransformer : An inner estimator without corruption.

    Notes
    -----
    Two statistics describe a row x with code z = f(x) and reconstruction
    g(z), both fitted on the training rows: the residual statistic
    ``Q = sum_j r_j ** 2 / v_j``, with r_j feature j's reconstruction error in
    the inner estimator's scaled units and v_j its mean over the training rows
    (``residual_variance_``), and the code statistic ``T``, the squared
    Mahalanobis distance of z under the mean and covariance of the training
    codes (``code_covariance_``). They are the squared
    prediction error and Hotelling's T-squared of multivariate process
    monitoring with PCA, here with a nonlinear encoder and decoder. Errors
    are neither Gaussian nor independent across features, so each statistic's
    law is approximated as in process monitoring by a scaled chi-squared law
    ``g * chi2(h)`` whose mean and variance match those of the statistic over
    the training rows, leaving out the largest 10% of its values (which may be
    outliers): ``g = v / (2 m)`` and ``h = 2 m ** 2 / v`` (Satterthwaite's
    approximation; ``residual_law_`` and ``code_law_``). The score is the sum of
    the logarithms of the two tail probabilities (Fisher's method), each by the
    Wilson-Hilferty approximation. A row that is abnormal either way gets a low
    score, and neither statistic dominates through its spread alone.

    On the outlier benchmark of the project (``benchmarks/outliers.py``), the
    code statistic is what catches outliers that lie along the directions of
    the inliers, which reconstruction error alone misses.

    The default inner estimator was chosen by measurement, with no setting
    tuned per data set, on ``benchmarks/outliers_adbench.py`` (twelve classical
    data sets of ADBench, its unsupervised protocol) and on
    ``benchmarks/outliers.py``; the user guide gives the numbers. Keeping the
    components for 90% of the variance, rather than a fixed small code, leaves
    the residual statistic the part of a row the inliers' main directions do
    not explain; the masking denoiser starts at PCA's solution and leaves it
    only where rebuilding masked entries improves the validation loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import AutoencoderOutlierDetector
    >>> X, _ = load_digits(return_X_y=True)
    >>> detector = AutoencoderOutlierDetector(contamination=0.05, random_state=0)
    >>> labels = detector.fit_predict(X[:200])
    >>> sorted(np.unique(labels).tolist())
    [-1, 1]
    >>> detector.reconstruction_errors(X[:3]).shape
    (3, 64)
    >>> type(detector.estimator_).__name__
    'DenoisingAutoencoder'
    """

    _parameter_constraints = {
        # the contract: an inner estimator is read through residuals_and_codes
        "estimator": [HasMethods(["fit", "residuals_and_codes"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, contamination="auto", random_state=None):
        self.estimator = estimator
        self.contamination = contamination
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the autoencoder on X and set the threshold ``offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, mostly normal rows.

        <<y_ignored>>

        Returns
        -------
        self : object
            The fitted detector, with its threshold ``offset_``.

        Examples
        --------
        <<detector_example>>
        >>> float(detector.fit(X[:200]).offset_) < 0
        True
        """
        # imported here: sklearn.covariance brings in linear_model and svm, which
        # importing the package has no use for
        from sklearn.covariance import EmpiricalCovariance

        X = validate_data(
            self, X, accept_sparse="csr", dtype=FLOAT_DTYPES, ensure_min_samples=2
        )
        estimator = clone(
            default_estimator() if self.estimator is None else self.estimator
        )
        if self.random_state is not None:
            estimator.set_params(random_state=self.random_state)
        self.estimator_ = estimator.fit(X)
        # two passes over X: the mean errors first, which the residual statistic
        # divides by, then both statistics, whose codes the covariance is fitted on
        squares = sum(
            np.square(residuals, dtype=np.float64).sum(axis=0)
            for residuals, _ in self._residuals_and_codes(X)
        )
        mean_errors = squares / X.shape[0]
        # in the scaled units the errors are in, where features are of order
        # one: rows rebuilt exactly (constant data) must not divide by ~0
        floor = _VARIANCE_FLOOR * max(mean_errors.mean(), np.finfo(np.float32).eps)
        self.residual_variance_ = np.maximum(mean_errors, floor)
        residual, codes = self._statistics(X)
        # the plain covariance, not a robust one: the minimum covariance
        # determinant fit leaves out half of the rows, and its distances then
        # flag the inliers' own tails (mean ROC-AUC 0.828 against 0.846 on the
        # ADBench development sets, benchmarks/outliers_adbench.py)
        self.code_covariance_ = EmpiricalCovariance().fit(codes)
        distance = self.code_covariance_.mahalanobis(codes)
        self.residual_law_ = fit_scaled_chi2(residual, X.shape[1])
        self.code_law_ = fit_scaled_chi2(distance, codes.shape[1])
        scores = self._combine(residual, distance)
        if self.contamination == "auto":
            self.offset_ = robust_offset(scores)
        else:
            self.offset_ = np.percentile(scores, 100.0 * self.contamination)
        return self

    def predict(self, X):
        """Label each row: +1 for an inlier, -1 for an outlier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to label: inliers or outliers.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.

        Examples
        --------
        <<detector_example>>
        >>> labels = detector.fit(X[:200]).predict(X[:200])
        >>> int((labels == -1).sum())
        20
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score against the threshold ``offset_``.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Signed distance to the threshold; lower is more abnormal.

        Examples
        --------
        <<detector_example>>
        >>> decision = detector.fit(X[:200]).decision_function(X[:200])
        >>> int((decision < 0).sum())
        20
        """
        return self.score_samples(X) - self.offset_

    def score_samples(self, X):
        """Normality of each row: lower means more abnormal.

        The sum of two log tail probabilities (Fisher's method): that of the
        row's residual statistic ``reconstruction_errors(X).sum(axis=1)`` under
        the scaled chi-squared law ``residual_law_``, and that of the squared
        robust Mahalanobis distance of its code,
        ``code_covariance_.mahalanobis(estimator_.transform(X))``, under
        ``code_law_`` (see Notes of the class).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score; lower is more abnormal.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Log tail probability of the row's two statistics, at most 0.

        Examples
        --------
        <<detector_example>>
        >>> detector.fit(X[:200]).score_samples(X[:3]).shape
        (3,)
        """
        residual, codes = self._statistics(self._validate(X))
        return self._combine(residual, self.code_covariance_.mahalanobis(codes))

    def reconstruction_errors(self, X):
        """Squared reconstruction error of every feature of every row, relative.

        Large entries show which features made a row abnormal. Each feature's
        squared error, in the units the inner autoencoder trains in (after its
        ``input_scaling``), is divided by its mean over the training rows
        (``residual_variance_``): 1 is a typical error for that feature, and
        features of different units and different difficulty compare. A row's
        sum over features is the residual statistic of ``score_samples``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to explain, feature by feature, with ``estimator_``.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            ``((X - reconstruct(X)) / scale) ** 2 / residual_variance_``, with
            ``scale`` each feature's scale from the inner estimator's
            ``input_scaling``.

        Examples
        --------
        <<detector_example>>
        >>> errors = detector.fit(X[:200]).reconstruction_errors(X[:3])
        >>> errors.shape, bool((errors >= 0).all())
        ((3, 64), True)
        """
        X = self._validate(X)
        residuals, _ = self.estimator_.residuals_and_codes(X)
        return (np.square(residuals) / self.residual_variance_).astype(X.dtype)

    def _residuals_and_codes(self, X):
        for rows in iter_chunks(X.shape[0], chunk_rows(X.shape[1])):
            yield self.estimator_.residuals_and_codes(X[rows])

    def _statistics(self, X):
        """Per row of X: the residual statistic, and the code (both in float64)."""
        statistics, codes = [], []
        for residuals, z in self._residuals_and_codes(X):
            squares = np.square(residuals, dtype=np.float64)
            statistics.append((squares / self.residual_variance_).sum(axis=1))
            codes.append(z)
        return np.concatenate(statistics), np.concatenate(codes).astype(np.float64)

    def _combine(self, residual, distance):
        """The score: the two statistics' log tail probabilities, summed."""
        scale, dof = self.residual_law_
        residual_tail = chi2_log_tail(residual / scale, dof)
        scale, dof = self.code_law_
        return residual_tail + chi2_log_tail(distance / scale, dof)

    def _validate(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, accept_sparse="csr", dtype=FLOAT_DTYPES
        )

    # ---- persistence: the fitted state io.save writes and io.load restores ------

    _STATE_FIELDS = (
        Field("offset_", "offset_", Float()),
        Field(
            "residual_variance_",
            "residual_variance_",
            Array(("n_features_in_",), positive=True),
        ),
        Field("code_covariance_", "code_covariance_", Covariance()),
        Field("residual_law_", "residual_law_", Floats(2)),
        Field("code_law_", "code_law_", Floats(2)),
    )

    def _save_state(self):
        """The detector's own fitted state (its inner estimator saves its own)."""
        return dump_fields(self, self._STATE_FIELDS)

    def _restore_state(self, state, estimator_):
        """Check a state read from an untrusted file against the fitted inner
        estimator ``estimator_``, then restore it."""
        sizes = {
            "n_features_in_": estimator_.n_features_in_,
            "n_components_": estimator_.n_components_,
        }
        check_keys(state, {f.key for f in self._STATE_FIELDS}, (), "detector")
        check_fields(state, self._STATE_FIELDS, sizes, "detector")
        self.estimator_ = estimator_
        set_fields(self, state, self._STATE_FIELDS)
        self.n_features_in_ = estimator_.n_features_in_
        if hasattr(estimator_, "feature_names_in_"):
            self.feature_names_in_ = estimator_.feature_names_in_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
