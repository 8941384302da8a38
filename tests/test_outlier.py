"""AutoencoderOutlierDetector: scikit-learn's outlier conventions and explanations."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)
from sk_autoencoder._outlier import robust_offset

from conftest import FAST

INNER = [AutoencoderTransformer, DenoisingAutoencoder, VAETransformer]


def make_ring_with_outliers(n_inliers=400, n_outliers=20, seed=0):
    """Points near a circle in 5-D (a nonlinear manifold) and scattered outliers."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n_inliers)
    ring = np.c_[np.cos(angle), np.sin(angle), np.zeros((n_inliers, 3))]
    inliers = ring + 0.02 * rng.normal(size=ring.shape)
    outliers = rng.uniform(-1.5, 1.5, size=(n_outliers, 5))
    X = np.vstack([inliers, outliers])
    is_outlier = np.r_[np.zeros(n_inliers), np.ones(n_outliers)]
    return X, is_outlier


@pytest.mark.parametrize("inner", INNER, ids=lambda c: c.__name__)
def test_outliers_score_lower_than_inliers(inner):
    X, is_outlier = make_ring_with_outliers()
    settings = {**FAST, "max_epochs": 60, "hidden_layer_sizes": (32,)}
    detector = AutoencoderOutlierDetector(inner(n_components=1, **settings))
    detector.fit(X[is_outlier == 0])
    assert roc_auc_score(is_outlier, -detector.score_samples(X)) > 0.9


def test_default_estimator_is_an_autoencoder_transformer(X_digits):
    detector = AutoencoderOutlierDetector(random_state=0)
    detector.set_params(estimator=None)
    detector.fit(X_digits[:60])
    assert type(detector.estimator_) is AutoencoderTransformer


def test_estimator_is_cloned_not_fitted_in_place(X_digits):
    inner = AutoencoderTransformer(**FAST)
    detector = AutoencoderOutlierDetector(inner).fit(X_digits)
    assert not hasattr(inner, "net_")
    assert detector.estimator_ is not inner


def test_random_state_seeds_the_inner_estimator(X_digits):
    inner = AutoencoderTransformer(**{**FAST, "random_state": None})
    fits = [
        AutoencoderOutlierDetector(inner, random_state=3).fit(X_digits)
        for _ in range(2)
    ]
    assert fits[0].estimator_.random_state == 3
    np.testing.assert_array_equal(
        fits[0].score_samples(X_digits), fits[1].score_samples(X_digits)
    )


def test_nested_parameters_reach_the_inner_estimator(X_digits):
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST))
    detector.set_params(estimator__n_components=3)
    assert detector.get_params()["estimator__n_components"] == 3
    assert clone(detector).estimator.n_components == 3
    assert detector.fit(X_digits).estimator_.n_components_ == 3


@pytest.mark.parametrize("contamination", [0.02, 0.1, 0.25])
def test_float_contamination_flags_that_fraction_of_training_rows(
    X_digits, contamination
):
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(**FAST), contamination=contamination
    )
    labels = detector.fit_predict(X_digits)
    assert np.mean(labels == -1) == pytest.approx(contamination, abs=1 / 300)


def test_auto_contamination_is_the_robust_rule(X_digits):
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST))
    detector.fit(X_digits)
    scores = detector.score_samples(X_digits)
    median = np.median(scores)
    mad = np.median(np.abs(scores - median))
    lowest, second = np.sort(scores)[:2]
    expected = max(median - 3 * 1.4826 * mad, (lowest + second) / 2)
    assert detector.offset_ == pytest.approx(expected)
    assert np.sum(detector.predict(X_digits) == -1) >= 1


def test_robust_offset_flags_at_least_one_row():
    scores = np.array([0.0, 0.0, 0.0, 0.0, -1e-9])
    assert np.sum(scores < robust_offset(scores)) == 1
    scores = np.r_[np.zeros(50), -100.0, -200.0]
    assert np.sum(scores < robust_offset(scores)) == 2


def test_decision_function_and_predict_follow_offset(X_digits):
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(**FAST), contamination=0.1
    ).fit(X_digits)
    scores = detector.score_samples(X_digits)
    decision = detector.decision_function(X_digits)
    np.testing.assert_allclose(decision, scores - detector.offset_)
    np.testing.assert_array_equal(
        detector.predict(X_digits), np.where(decision < 0, -1, 1)
    )


@pytest.mark.parametrize("inner", INNER, ids=lambda c: c.__name__)
def test_reconstruction_errors_explain_the_corrupted_feature(X_digits, inner):
    detector = AutoencoderOutlierDetector(inner(**{**FAST, "max_epochs": 20})).fit(
        X_digits
    )
    row = X_digits[:1].copy()
    row[0, 36] = 60.0  # a pixel far beyond the 0..16 range
    errors = detector.reconstruction_errors(row)
    assert errors.shape == (1, X_digits.shape[1])
    assert np.all(errors >= 0)
    assert np.argmax(errors[0]) == 36


def test_reconstruction_errors_average_to_minus_score(X_digits):
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST))
    detector.fit(X_digits)
    errors = detector.reconstruction_errors(X_digits)
    np.testing.assert_allclose(
        errors.mean(axis=1), -detector.score_samples(X_digits), rtol=1e-10
    )
