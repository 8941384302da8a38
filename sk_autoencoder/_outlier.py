"""AutoencoderOutlierDetector: outliers are the rows an autoencoder rebuilds worst."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone

from sk_autoencoder._autoencoder import AutoencoderTransformer
from sk_autoencoder._base import _FLOAT_DTYPES
from sk_autoencoder._validation import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)

# contamination='auto': a training row is an outlier when its score lies more than
# this many robust standard deviations (1.4826 * MAD) below the median score
_AUTO_THRESHOLD = 3.0
_MAD_TO_STD = 1.4826


def robust_offset(scores, n_deviations=_AUTO_THRESHOLD):
    """The ``'auto'`` threshold: ``median - n_deviations * 1.4826 * MAD`` of scores.

    For normally distributed scores this flags about 0.13% of rows; reconstruction
    errors have a long right tail, so in practice it flags the rows in that tail.
    At least one training row is always flagged, as scikit-learn's outlier
    detectors require: when the rule flags none, the threshold lies halfway
    between the lowest and the second-lowest score, clear of rounding noise.
    """
    median = np.median(scores)
    mad = np.median(np.abs(scores - median))
    offset = median - n_deviations * _MAD_TO_STD * mad
    lowest, second = np.partition(scores, 1)[:2]
    floor = (lowest + second) / 2 if second > lowest else np.nextafter(lowest, np.inf)
    return max(offset, floor)


class AutoencoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detection from the reconstruction error of an autoencoder.

    A meta-estimator: it fits a clone of ``estimator`` (by default an
    :class:`AutoencoderTransformer`) on the training rows and takes its
    ``score_samples`` (minus the reconstruction error, or the ELBO for a
    :class:`VAETransformer`) as the normality score. Rows the autoencoder
    rebuilds badly are outliers; :meth:`reconstruction_errors` shows which
    features made them so.

    Parameters
    ----------
    estimator : estimator object, default=None
        The autoencoder to fit: an :class:`AutoencoderTransformer`,
        :class:`DenoisingAutoencoder` or :class:`VAETransformer`. It is cloned,
        never fitted in place; None means ``AutoencoderTransformer()``.

    contamination : 'auto' or float, default='auto'
        The share of outliers expected in the training data, which sets
        ``offset_``. A float in (0, 0.5] flags that fraction of the training rows.
        ``'auto'`` flags the rows whose score lies more than 3 robust standard
        deviations (1.4826 times the median absolute deviation) below the median
        training score, and always at least one row.

    random_state : int, RandomState instance or None, default=None
        When not None, seeds the inner estimator (its ``random_state`` is set to
        this value); when None, the inner estimator's own ``random_state`` holds.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.

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
    AutoencoderTransformer : The default inner estimator.

    Notes
    -----
    The score of a row x is ``-mean_j ((x_j - g(f(x))_j) / s_j) ** 2``, with s_j
    feature j's scale from the inner estimator's ``input_scaling``, for the
    deterministic autoencoders, and the ELBO for the VAE.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import AutoencoderOutlierDetector, AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> detector = AutoencoderOutlierDetector(
    ...     AutoencoderTransformer(max_epochs=2), contamination=0.05, random_state=0
    ... )
    >>> labels = detector.fit_predict(X[:200])
    >>> sorted(np.unique(labels).tolist())
    [-1, 1]
    >>> detector.reconstruction_errors(X[:3]).shape
    (3, 64)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "score_samples", "reconstruct"]), None],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, contamination="auto", random_state=None):
        self.estimator = estimator
        self.contamination = contamination
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the autoencoder on X and set the threshold ``offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, mostly normal rows.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_autoencoder import (
        ...     AutoencoderOutlierDetector, AutoencoderTransformer
        ... )
        >>> X, _ = load_digits(return_X_y=True)
        >>> detector = AutoencoderOutlierDetector(
        ...     AutoencoderTransformer(max_epochs=2), contamination=0.1, random_state=0
        ... )
        >>> float(detector.fit(X[:200]).offset_) < 0
        True
        """
        X = validate_data(
            self, X, accept_sparse="csr", dtype=_FLOAT_DTYPES, ensure_min_samples=2
        )
        estimator = clone(
            AutoencoderTransformer() if self.estimator is None else self.estimator
        )
        if self.random_state is not None:
            estimator.set_params(random_state=self.random_state)
        self.estimator_ = estimator.fit(X)
        scores = self._score_samples(X)
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
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_autoencoder import (
        ...     AutoencoderOutlierDetector, AutoencoderTransformer
        ... )
        >>> X, _ = load_digits(return_X_y=True)
        >>> detector = AutoencoderOutlierDetector(
        ...     AutoencoderTransformer(max_epochs=2), contamination=0.1, random_state=0
        ... )
        >>> labels = detector.fit(X[:200]).predict(X[:200])
        >>> int((labels == -1).sum())
        20
        """
        decision = self.decision_function(X)
        return np.where(decision < 0, -1, 1)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            Signed distance to the threshold; lower is more abnormal.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_autoencoder import (
        ...     AutoencoderOutlierDetector, AutoencoderTransformer
        ... )
        >>> X, _ = load_digits(return_X_y=True)
        >>> detector = AutoencoderOutlierDetector(
        ...     AutoencoderTransformer(max_epochs=2), contamination=0.1, random_state=0
        ... )
        >>> decision = detector.fit(X[:200]).decision_function(X[:200])
        >>> int((decision < 0).sum())
        20
        """
        return self.score_samples(X) - self.offset_

    def score_samples(self, X):
        """Normality of each row: lower means more abnormal.

        Minus the mean over features of the squared reconstruction error, in the
        units the inner autoencoder trains in (after its ``input_scaling``: each
        feature in units of its training standard deviation by default), so that
        no feature dominates through its units alone. For a
        :class:`VAETransformer`, the ELBO.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the mean squared scaled reconstruction error (or the ELBO).

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_autoencoder import (
        ...     AutoencoderOutlierDetector, AutoencoderTransformer
        ... )
        >>> X, _ = load_digits(return_X_y=True)
        >>> detector = AutoencoderOutlierDetector(
        ...     AutoencoderTransformer(max_epochs=2), contamination=0.1, random_state=0
        ... )
        >>> detector.fit(X[:200]).score_samples(X[:3]).shape
        (3,)
        """
        return self._score_samples(self._validate(X))

    def reconstruction_errors(self, X):
        """Squared reconstruction error of every feature of every row.

        Large entries show which features made a row abnormal. Errors are in the
        units the inner autoencoder trains in (after its ``input_scaling``), so
        features of different units compare; their mean over features is minus
        ``score_samples`` for the deterministic autoencoders.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to explain.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            ``((X - reconstruct(X)) / scale) ** 2``, with ``scale`` each
            feature's scale from the inner estimator's ``input_scaling``.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sk_autoencoder import (
        ...     AutoencoderOutlierDetector, AutoencoderTransformer
        ... )
        >>> X, _ = load_digits(return_X_y=True)
        >>> detector = AutoencoderOutlierDetector(
        ...     AutoencoderTransformer(max_epochs=2), contamination=0.1, random_state=0
        ... )
        >>> errors = detector.fit(X[:200]).reconstruction_errors(X[:3])
        >>> errors.shape, bool((errors >= 0).all())
        ((3, 64), True)
        """
        X = self._validate(X)
        squared_errors = self.estimator_._squared_errors_fn(X.dtype, scaled=True)
        return self.estimator_._map_rows(X, squared_errors, X.shape[1])

    def _score_samples(self, X):
        scorer = self.estimator_._outlier_scorer(X.dtype)
        return self.estimator_._map_rows(X, scorer, None)

    def _validate(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, accept_sparse="csr", dtype=_FLOAT_DTYPES
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
