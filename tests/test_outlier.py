"""AutoencoderOutlierDetector: scikit-learn's outlier conventions and explanations."""

import numpy as np
import pytest
from scipy.stats import chi2
from sklearn.base import clone
from sklearn.covariance import EmpiricalCovariance
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    io,
)
from sk_autoencoder._outlier import (
    chi2_log_tail,
    default_estimator,
    fit_scaled_chi2,
    robust_offset,
)

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
    detector = AutoencoderOutlierDetector(inner(**{**settings, "n_components": 1}))
    detector.fit(X[is_outlier == 0])
    assert roc_auc_score(is_outlier, -detector.score_samples(X)) > 0.9


def test_default_estimator_is_the_documented_masking_denoiser(X_digits):
    detector = AutoencoderOutlierDetector(random_state=0).fit(X_digits)
    inner = detector.estimator_
    assert type(inner) is DenoisingAutoencoder
    expected = {**default_estimator().get_params(), "random_state": 0}
    assert inner.get_params() == expected
    assert (inner.n_components, inner.noise, inner.noise_level) == (
        0.9,
        "masking",
        0.2,
    )
    # a variance fraction of the PCA start: as many codes as PCA keeps for 90 %
    pca = PCA(n_components=0.9).fit(X_digits)
    assert inner.n_components_ == pca.n_components_
    assert detector.estimator is None  # the parameter is left as given


def test_default_detector_round_trips_through_io(X_digits, tmp_path):
    detector = AutoencoderOutlierDetector(random_state=0).fit(X_digits)
    io.save(detector, tmp_path / "d.skae")
    loaded = io.load(tmp_path / "d.skae")
    assert type(loaded.estimator_) is DenoisingAutoencoder
    assert loaded.estimator_.get_params() == detector.estimator_.get_params()
    # the parameter stays the default's None, as it was fitted
    assert loaded.estimator is None
    assert loaded.get_params(deep=False) == detector.get_params(deep=False)
    np.testing.assert_array_equal(
        loaded.score_samples(X_digits), detector.score_samples(X_digits)
    )
    np.testing.assert_array_equal(loaded.predict(X_digits), detector.predict(X_digits))


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
    # the rule on the cube root of Fisher's statistic, mapped back to scores
    roots = np.cbrt(-2 * scores)
    median = np.median(roots)
    mad = np.median(np.abs(roots - median))
    lowest, second = np.sort(scores)[:2]
    expected = max(-0.5 * (median + 3 * 1.4826 * mad) ** 3, (lowest + second) / 2)
    assert detector.offset_ == pytest.approx(expected)
    flagged = np.sum(detector.predict(X_digits) == -1)
    assert 1 <= flagged < 0.2 * len(X_digits)


def test_robust_offset_flags_at_least_one_row():
    scores = np.array([-1.0, -1.0, -1.0, -1.0, -1.0 - 1e-9])
    assert np.sum(scores < robust_offset(scores)) == 1
    scores = np.r_[np.full(50, -1.0), -100.0, -200.0]
    assert np.sum(scores < robust_offset(scores)) == 2


def test_chi2_log_tail_approximates_the_exact_tail():
    for dof in (1, 2, 8, 64):
        statistic = chi2.ppf([0.5, 0.9, 0.99, 0.999999], dof)
        exact = chi2.logsf(statistic, dof)
        approx = chi2_log_tail(statistic, dof)
        # Wilson-Hilferty: close in the body, within 15 % out at p = 1e-6
        np.testing.assert_allclose(approx[:2], exact[:2], atol=0.1)
        np.testing.assert_allclose(approx, exact, rtol=0.15)
    # finite and decreasing where the exact tail underflows to log(0) = -inf
    far = chi2_log_tail(np.array([1e4, 1e6, 1e8]), 2)
    assert np.all(np.isfinite(far)) and np.all(np.diff(far) < 0)


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


def test_score_combines_residual_and_code_statistics(X_digits):
    inner = AutoencoderTransformer(**{**FAST, "n_components": 3})
    detector = AutoencoderOutlierDetector(inner).fit(X_digits)
    errors = detector.reconstruction_errors(X_digits)
    distance = detector.code_covariance_.mahalanobis(
        detector.estimator_.transform(X_digits)
    )
    (residual_scale, residual_dof), (code_scale, code_dof) = (
        detector.residual_law_,
        detector.code_law_,
    )
    expected = chi2_log_tail(
        errors.sum(axis=1) / residual_scale, residual_dof
    ) + chi2_log_tail(distance / code_scale, code_dof)
    np.testing.assert_allclose(detector.score_samples(X_digits), expected, rtol=1e-9)
    # each law matches the mean and variance of its statistic over the training
    # rows but the largest 10%
    for statistic, (scale, dof) in (
        (errors.sum(axis=1), detector.residual_law_),
        (distance, detector.code_law_),
    ):
        kept = np.sort(statistic)[: int(np.ceil(0.9 * len(statistic)))]
        np.testing.assert_allclose(scale * dof, kept.mean(), rtol=1e-6)
        np.testing.assert_allclose(2 * scale**2 * dof, kept.var(), rtol=1e-6)
    # errors are relative to each feature's mean training error, but for the
    # features rebuilt (almost) exactly, where the floor of residual_variance_
    # holds and the mean relative error is below 1
    mean_errors = errors.mean(axis=0)
    floored = mean_errors < 1 - 1e-6
    np.testing.assert_allclose(mean_errors[~floored], 1.0, rtol=1e-6)
    floor = detector.residual_variance_.min()
    np.testing.assert_allclose(detector.residual_variance_[floored], floor)


def test_code_statistic_flags_rows_rebuilt_well_but_far_out():
    # inliers along a line in 4-D; the outliers lie on the line too, far along it:
    # rebuilt exactly, only their code is abnormal
    rng = np.random.default_rng(0)
    direction = np.array([1.0, 2.0, -1.0, 0.5])
    t = np.r_[rng.normal(size=300), [8.0, -9.0, 10.0]]
    X = t[:, None] * direction + 0.01 * rng.normal(size=(303, 4))
    settings = {**FAST, "max_epochs": 30, "hidden_layer_sizes": (16,)}
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(**{**settings, "n_components": 1})
    ).fit(X)
    lowest = np.argsort(detector.score_samples(X))[:3]
    assert set(lowest) == {300, 301, 302}


def test_code_covariance_is_that_of_the_training_codes(X_digits):
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(**{**FAST, "n_components": 3})
    ).fit(X_digits)
    codes = detector.estimator_.transform(X_digits)
    reference = EmpiricalCovariance().fit(codes)
    assert type(detector.code_covariance_) is EmpiricalCovariance
    np.testing.assert_allclose(
        detector.code_covariance_.covariance_, reference.covariance_, rtol=1e-9
    )


def test_mostly_coinciding_rows_give_finite_scores():
    # more than half of the rows, and so of the codes, coincide: no robust
    # spread could be measured, the plain covariance still has one
    rng = np.random.default_rng(0)
    X = np.vstack([np.ones((25, 5)), rng.normal(size=(8, 5))])
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST)).fit(X)
    assert np.all(np.isfinite(detector.score_samples(X)))
    assert np.sum(detector.predict(X) == -1) >= 1


def test_scaled_chi2_law_of_constant_values_keeps_the_nominal_dof():
    scale, dof = fit_scaled_chi2(np.full(50, 6.0), 3)
    assert (scale, dof) == (2.0, 3.0)
    scale, dof = fit_scaled_chi2(np.zeros(50), 3)
    assert scale > 0 and dof == 3.0


def test_scaled_chi2_law_is_not_swayed_by_outliers_among_the_values():
    rng = np.random.default_rng(0)
    sample = 2.5 * rng.chisquare(7, size=20_000)  # mean 17.5
    sample[:1000] = 1e6  # 5% of huge values, which the trimmed moments leave out
    scale, dof = fit_scaled_chi2(sample, 1)
    # leaving out the top 10% also trims the inliers' own tail a little
    assert abs(scale * dof - 17.5) < 0.1 * 17.5
    assert 5.0 < dof < 12.0
