"""VAETransformer: posterior means, sampling, and an ELBO in the units of X."""

import copy
import math

import numpy as np
import pytest
import torch

from sk_autoencoder import VAETransformer
from sk_autoencoder._losses import gaussian_kl

from conftest import FAST


@pytest.fixture(scope="module")
def vae(X_digits):
    return VAETransformer(**{**FAST, "n_components": 4}).fit(X_digits)


def _cpu_float64_module(vae):
    """The float64 network the VAE infers with, on the CPU, for sums by hand."""
    return copy.deepcopy(vae.module_).double().cpu().eval()


def test_transform_is_the_posterior_mean(vae, X_digits):
    x = torch.as_tensor(vae._scaler.transform(X_digits))
    mu, _ = _cpu_float64_module(vae).encode(x)
    np.testing.assert_allclose(vae.transform(X_digits), mu.detach().numpy())


def test_score_samples_matches_elbo_computed_by_hand(vae, X_digits):
    X = X_digits[:20]
    scaler = vae._scaler
    x = torch.as_tensor(scaler.transform(X))
    module = _cpu_float64_module(vae)
    log_var_x = vae.net_.criterion_.log_var.detach().cpu().double()
    log_var_x = log_var_x.clamp(min=math.log(1e-6))
    # the scorer's fixed draws: antithetic pairs, each dimension's mean square 1
    generator = torch.Generator().manual_seed(vae._seed)
    half = torch.randn(
        (vae.n_mc_samples // 2, 4), generator=generator, dtype=torch.float64
    )
    eps = torch.cat([half, -half])
    eps = eps / eps.square().mean(dim=0).sqrt()
    with torch.no_grad():
        mu, log_var = module.encode(x)
        expected_log_px = 0.0
        for e in eps:
            x_mean = module.decode(mu + e * torch.exp(0.5 * log_var))
            log_density = -0.5 * (
                math.log(2 * math.pi)
                + log_var_x
                + (x - x_mean) ** 2 / torch.exp(log_var_x)
            )
            expected_log_px = expected_log_px + log_density.sum(dim=1)
        expected = expected_log_px / len(eps) - gaussian_kl(mu, log_var)
    # a density of X, not of the scaled X: subtract the log-Jacobian of scaling
    expected = expected.numpy() - np.sum(np.log(scaler.scale))
    np.testing.assert_allclose(vae.score_samples(X), expected, rtol=1e-10)


def test_rescaling_X_shifts_score_by_log_jacobian(X_digits):
    X = X_digits[:, X_digits.std(axis=0) > 0]
    c = 7.0
    base = VAETransformer(**{**FAST, "n_components": 3}).fit(X)
    scaled = VAETransformer(**{**FAST, "n_components": 3}).fit(c * X)
    # the standardised data are the same, so the two networks (nearly) agree;
    # the density of c * X is that of X divided by c ** d
    shift = -X.shape[1] * math.log(c)
    np.testing.assert_allclose(
        scaled.score_samples(c * X), base.score_samples(X) + shift, atol=1e-3
    )


def test_importance_weighted_bound_is_tighter_than_elbo(vae, X_digits):
    elbo = vae.score_samples(X_digits).mean()
    iwae = vae.log_likelihood(X_digits, n_samples=64).mean()
    assert iwae > elbo


def test_sample_is_reproducible_and_in_units_of_X(X_digits):
    vae = VAETransformer(**{**FAST, "n_components": 2, "max_epochs": 30}).fit(X_digits)
    first = vae.sample(500, random_state=1)
    np.testing.assert_array_equal(first, vae.sample(500, random_state=1))
    assert first.shape == (500, X_digits.shape[1])
    assert not np.array_equal(first, vae.sample(500, random_state=2))
    # generated pixels live on the data's 0..16 scale, not the standardised one
    assert abs(first.mean() - X_digits.mean()) < 1.0
    assert first.max() > 8


def test_kl_per_dimension_is_recorded_every_epoch(vae):
    assert vae.kl_per_dimension_.shape == (4,)
    assert np.all(vae.kl_per_dimension_ >= 0)
    curve = vae.history_[:, "kl_per_dimension"]
    assert len(curve) == vae.n_iter_


def test_large_beta_collapses_the_posterior(X_digits):
    settings = {**FAST, "n_components": 4, "max_epochs": 30}
    loose = VAETransformer(beta=0.1, **settings).fit(X_digits)
    tight = VAETransformer(beta=50.0, **settings).fit(X_digits)
    assert tight.kl_per_dimension_.sum() < 0.2 * loose.kl_per_dimension_.sum()


def test_bernoulli_likelihood_for_unit_interval_data(X_digits):
    X = X_digits / 16.0
    vae = VAETransformer(loss="bce", input_scaling=None, **FAST).fit(X)
    samples = vae.sample(50, random_state=0)
    assert samples.min() >= 0 and samples.max() <= 1
    # a Bernoulli log-probability is never positive
    assert np.all(vae.score_samples(X) <= 0)


def test_score_samples_is_subset_invariant(vae, X_digits):
    full = vae.score_samples(X_digits)
    part = vae.score_samples(X_digits[10:20])
    np.testing.assert_allclose(full[10:20], part, rtol=1e-12)


class _GaussianLinear(torch.nn.Module):
    """A user VAE module: a linear posterior ``(mu, log_var)`` and decoder."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, 2 * n_components)
        self.decoder = torch.nn.Linear(n_components, n_features)

    def encode(self, x):
        return tuple(self.encoder(x).chunk(2, dim=1))

    def decode(self, z):
        return self.decoder(z)


def test_a_user_module_is_module_and_the_wrapper_reads_its_posterior(X_digits):
    # the VAE wraps the module it trains; module_ stays the user's module, and
    # transform, the density and scoring read it through the wrapper
    vae = VAETransformer(**FAST, module=_GaussianLinear).fit(X_digits)
    assert isinstance(vae.module_, _GaussianLinear)
    assert vae.net_.module_.module is vae.module_
    x = torch.as_tensor(vae._scaler.transform(X_digits))
    mu, _ = _cpu_float64_module(vae).encode(x)
    np.testing.assert_allclose(vae.transform(X_digits), mu.detach().numpy())
    assert np.isfinite(vae.score_samples(X_digits)).all()
    assert np.isfinite(vae.latent_covariance_).all()
    # a weight edited in place shows in both dtypes
    with torch.no_grad():
        vae.module_.encoder.bias.add_(1.0)
    codes = vae.transform(X_digits[:5])
    np.testing.assert_allclose(codes, mu.detach().numpy()[:5] + 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        vae.transform(X_digits[:5].astype(np.float32)), codes, rtol=1e-4, atol=1e-4
    )
