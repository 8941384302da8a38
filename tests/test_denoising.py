"""DenoisingAutoencoder: corruption in training only, and it earns its name."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from sk_autoencoder import AutoencoderTransformer, DenoisingAutoencoder
from sk_autoencoder._denoising import (
    Corruption,
    corrupt_gaussian,
    corrupt_masking,
    corrupt_salt_pepper,
)

from conftest import FAST


@pytest.fixture(scope="module")
def digits_split():
    X, _ = load_digits(return_X_y=True)
    return X[:1200], X[1200:]


def test_reconstruct_removes_gaussian_noise_better_than_plain_autoencoder(
    digits_split,
):
    X_train, X_test = digits_split
    settings = dict(
        n_components=16, hidden_layer_sizes=(64,), max_epochs=30, random_state=0
    )
    dae = DenoisingAutoencoder(noise="gaussian", noise_level=1.0, **settings)
    ae = AutoencoderTransformer(**settings)
    dae.fit(X_train)
    ae.fit(X_train)
    # the same noise as in training: one standard deviation of each feature
    rng = np.random.default_rng(0)
    noisy = X_test + X_train.std(axis=0) * rng.normal(size=X_test.shape)

    def mse(X):
        return np.mean((X - X_test) ** 2)

    denoised = mse(dae.reconstruct(noisy))
    # measured: noisy 18.7, denoised 8.2, plain autoencoder 11.1
    assert denoised < 0.6 * mse(noisy)
    assert denoised < 0.85 * mse(ae.reconstruct(noisy))


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_pepper"])
def test_transform_reconstruct_and_score_never_add_noise(X_digits, noise):
    dae = DenoisingAutoencoder(noise=noise, noise_level=0.5, **FAST).fit(X_digits)
    for method in ("transform", "reconstruct", "score_samples"):
        first = getattr(dae, method)(X_digits)
        np.testing.assert_array_equal(first, getattr(dae, method)(X_digits))


def test_noise_changes_the_trained_model(X_digits):
    # every epoch kept: early stopping could keep the PCA start of both
    settings = {**FAST, "early_stopping": False}
    clean = AutoencoderTransformer(**settings).fit(X_digits)
    noisy = DenoisingAutoencoder(noise_level=0.5, **settings).fit(X_digits)
    assert not np.allclose(clean.transform(X_digits), noisy.transform(X_digits))


def test_zero_noise_level_equals_plain_autoencoder(X_digits):
    clean = AutoencoderTransformer(**FAST).fit(X_digits)
    dae = DenoisingAutoencoder(noise_level=0.0, **FAST).fit(X_digits)
    np.testing.assert_allclose(
        clean.transform(X_digits), dae.transform(X_digits), rtol=1e-6, atol=1e-6
    )


def test_corruption_is_seeded_by_random_state(X_digits):
    fits = [DenoisingAutoencoder(**FAST).fit(X_digits) for _ in range(2)]
    np.testing.assert_array_equal(
        fits[0].transform(X_digits), fits[1].transform(X_digits)
    )


def test_corrupt_gaussian_has_requested_spread():
    torch.manual_seed(0)
    x = torch.zeros(20000, 5)
    noisy = corrupt_gaussian(x, 0.3, None, None)
    assert noisy.std().item() == pytest.approx(0.3, rel=0.02)


def test_corrupt_masking_zeroes_requested_fraction():
    torch.manual_seed(0)
    x = torch.ones(20000, 5)
    noisy = corrupt_masking(x, 0.25, None, None)
    assert set(noisy.unique().tolist()) == {0.0, 1.0}
    assert (noisy == 0).float().mean().item() == pytest.approx(0.25, abs=0.01)


def test_corrupt_salt_pepper_uses_feature_extremes():
    torch.manual_seed(0)
    x = torch.full((20000, 2), 0.5)
    low, high = torch.tensor([-1.0, -2.0]), torch.tensor([3.0, 4.0])
    noisy = corrupt_salt_pepper(x, 0.2, low, high)
    changed = noisy != 0.5
    assert changed.float().mean().item() == pytest.approx(0.2, abs=0.01)
    for j in range(2):
        values = set(noisy[:, j].unique().tolist())
        assert values == {0.5, low[j].item(), high[j].item()}


def test_salt_pepper_bounds_are_training_extremes_in_scaled_units(X_digits):
    dae = DenoisingAutoencoder(noise="salt_pepper", **FAST).fit(X_digits)
    corruption = dae.net_.corrupt
    assert isinstance(corruption, Corruption)
    scaler = dae._scaler
    expected_high = (X_digits.max(axis=0) - scaler.offset) / scaler.scale
    np.testing.assert_allclose(corruption.high, expected_high, rtol=1e-6)


def test_fraction_noise_level_above_one_is_rejected(X_digits):
    with pytest.raises(ValueError, match="at most 1"):
        DenoisingAutoencoder(noise="masking", noise_level=1.5, **FAST).fit(X_digits)
