"""The inference path and the detector's contract.

Regression tests of two defects: float64 results computed from a cached copy of
the weights that went stale when ``module_`` was edited in place, and a detector
that accepted any estimator with ``reconstruct`` and then reached into private
helpers it lacked.
"""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import InvalidParameterError

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize(
    "cls", [AutoencoderTransformer, DenoisingAutoencoder, VAETransformer]
)
def test_weights_edited_in_place_show_in_both_dtypes(cls, X_digits):
    est = cls(**FAST).fit(X_digits)
    before = {
        dtype: est.transform(X_digits.astype(dtype))
        for dtype in (np.float32, np.float64)
    }
    with torch.no_grad():  # as a user pruning or fine-tuning would
        for parameter in est.module_.parameters():
            parameter.mul_(0.5)
    for dtype in (np.float32, np.float64):
        after = est.transform(X_digits.astype(dtype))
        assert not np.allclose(after, before[dtype])
    # and the two dtypes still agree on the edited weights
    np.testing.assert_allclose(
        est.transform(X_digits.astype(np.float32)),
        est.transform(X_digits),
        rtol=1e-4,
        atol=1e-4,
    )


def test_a_replaced_submodule_shows_in_float64(X_digits):
    est = AutoencoderTransformer(**FAST, init="random").fit(X_digits)
    before = est.reconstruct(X_digits)
    first = est.module_.decoder[0]
    replacement = torch.nn.Linear(first.in_features, first.out_features)
    with torch.no_grad():
        replacement.weight.copy_(2 * first.weight)
        replacement.bias.copy_(first.bias)
    est.module_.decoder[0] = replacement
    after = est.reconstruct(X_digits)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(
        est.reconstruct(X_digits.astype(np.float32)), after, rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize(
    "cls", [AutoencoderTransformer, DenoisingAutoencoder, VAETransformer]
)
def test_residuals_and_codes_are_scaled_residuals_and_transform(cls, X_digits):
    est = cls(**FAST).fit(X_digits)
    residuals, codes = est.residuals_and_codes(X_digits)
    np.testing.assert_array_equal(codes, est.transform(X_digits))
    # the squared errors in X's units are the scaled ones times a scale per feature
    varying = np.abs(residuals).min(axis=0) > 1e-6
    ratio = est.reconstruction_errors(X_digits)[:, varying] / residuals[:, varying] ** 2
    np.testing.assert_allclose(ratio / ratio[0], 1.0, rtol=1e-5)
    unscaled = cls(**FAST, input_scaling=None).fit(X_digits)
    residuals, _ = unscaled.residuals_and_codes(X_digits)
    np.testing.assert_allclose(
        residuals, X_digits - unscaled.reconstruct(X_digits), atol=1e-10
    )


class _PCAWithReconstruct(PCA):
    """A PCA with ``reconstruct``: what the detector's old check let through."""

    def reconstruct(self, X):
        return self.inverse_transform(self.transform(X))


class _PCAWithContract(PCA):
    """A PCA that honours the detector's contract."""

    def residuals_and_codes(self, X):
        codes = self.transform(X)
        return X - self.inverse_transform(codes), codes


def test_the_detector_checks_its_contract_at_the_door(X_digits):
    # before: AttributeError "'_PCAWithReconstruct' object has no attribute
    # '_squared_errors_fn'", from deep inside fit
    detector = AutoencoderOutlierDetector(_PCAWithReconstruct(4))
    with pytest.raises(InvalidParameterError, match=r"residuals_and_codes"):
        detector.fit(X_digits)


def test_any_estimator_with_the_contract_serves_the_detector(X_digits):
    detector = AutoencoderOutlierDetector(_PCAWithContract(4)).fit(X_digits)
    scores = detector.score_samples(X_digits)
    assert scores.shape == (len(X_digits),) and np.isfinite(scores).all()
    # each feature's mean relative error is 1, but where the variance is floored
    errors = detector.reconstruction_errors(X_digits).mean(axis=0)
    unfloored = detector.residual_variance_ > detector.residual_variance_.min()
    assert unfloored.sum() > 40
    np.testing.assert_allclose(errors[unfloored], 1.0, rtol=1e-6)
