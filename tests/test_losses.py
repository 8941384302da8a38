"""Losses against closed forms: numpy formulas and scipy.stats log-densities."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from sk_autoencoder._losses import (
    BernoulliLogLikelihood,
    GaussianLogLikelihood,
    ReconstructionLoss,
    elbo,
    gaussian_kl,
    gaussian_kl_per_dimension,
    importance_weighted_bound,
)

# float64 throughout, so that the torch values can be held to 1e-12 of the reference
RTOL = 1e-12


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _analytic_kl(mu, log_var):
    """KL(N(mu, S) || N(0, I)) for each row, S = diag(exp(log_var)).

    The general formula for two multivariate normals,
    0.5 * (tr(S) + mu'mu - k - log det S), with the trace and the determinant
    taken from the covariance matrix itself.
    """
    kl = []
    for m, lv in zip(mu, log_var, strict=True):
        cov = np.diag(np.exp(lv))
        _, log_det = np.linalg.slogdet(cov)
        kl.append(0.5 * (np.trace(cov) + m @ m - len(m) - log_det))
    return np.array(kl)


def test_gaussian_kl_matches_the_analytic_divergence(rng):
    mu = rng.normal(scale=2.0, size=(7, 3))
    log_var = rng.normal(scale=1.5, size=(7, 3))
    kl = gaussian_kl(torch.from_numpy(mu), torch.from_numpy(log_var))
    assert kl.shape == (7,)
    np.testing.assert_allclose(kl.numpy(), _analytic_kl(mu, log_var), rtol=RTOL)


def test_gaussian_kl_per_dimension_sums_to_the_kl(rng):
    mu = torch.from_numpy(rng.normal(size=(5, 4)))
    log_var = torch.from_numpy(rng.normal(size=(5, 4)))
    per_dimension = gaussian_kl_per_dimension(mu, log_var)
    assert per_dimension.shape == (5, 4)
    # each dimension is the univariate KL: log(1/sigma) + (sigma^2 + mu^2 - 1) / 2
    sigma = np.exp(0.5 * log_var.numpy())
    expected = -np.log(sigma) + (sigma**2 + mu.numpy() ** 2 - 1) / 2
    np.testing.assert_allclose(per_dimension.numpy(), expected, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(
        per_dimension.sum(dim=1).numpy(), gaussian_kl(mu, log_var).numpy(), rtol=RTOL
    )


def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere(rng):
    zeros = torch.zeros(3, 2, dtype=torch.float64)
    np.testing.assert_array_equal(gaussian_kl(zeros, zeros).numpy(), 0.0)
    mu = torch.from_numpy(rng.normal(size=(50, 2)))
    log_var = torch.from_numpy(rng.normal(size=(50, 2)))
    assert (gaussian_kl(mu, log_var) > 0).all()


def test_gaussian_log_likelihood_matches_scipy_norm(rng):
    x = rng.normal(size=(6, 5))
    x_recon = rng.normal(size=(6, 5))
    log_var = rng.normal(size=5)
    likelihood = GaussianLogLikelihood(5).double()
    with torch.no_grad():
        likelihood.log_var.copy_(torch.from_numpy(log_var))
        log_p = likelihood(torch.from_numpy(x_recon), torch.from_numpy(x))
    expected = stats.norm.logpdf(x, loc=x_recon, scale=np.exp(0.5 * log_var)).sum(
        axis=1
    )
    assert log_p.shape == (6,)
    np.testing.assert_allclose(log_p.numpy(), expected, rtol=RTOL)


def test_gaussian_log_likelihood_floors_the_variance(rng):
    x = rng.normal(size=(4, 3))
    x_recon = x + 1e-4 * rng.normal(size=(4, 3))
    min_variance = 1e-6
    likelihood = GaussianLogLikelihood(3, min_variance=min_variance).double()
    with torch.no_grad():
        likelihood.log_var.fill_(-50.0)  # variance e^-50, far below the floor
        log_p = likelihood(torch.from_numpy(x_recon), torch.from_numpy(x))
    expected = stats.norm.logpdf(x, loc=x_recon, scale=math.sqrt(min_variance)).sum(
        axis=1
    )
    np.testing.assert_allclose(log_p.numpy(), expected, rtol=RTOL)


def test_gaussian_log_likelihood_starts_at_unit_variance(rng):
    x, x_recon = rng.normal(size=(2, 3, 4))
    log_p = GaussianLogLikelihood(4).double()(
        torch.from_numpy(x_recon), torch.from_numpy(x)
    )
    expected = stats.norm.logpdf(x, loc=x_recon).sum(axis=1)
    np.testing.assert_allclose(log_p.detach().numpy(), expected, rtol=RTOL)


def test_bernoulli_log_likelihood_matches_scipy_bernoulli(rng):
    x = rng.integers(0, 2, size=(6, 5)).astype(np.float64)
    p = rng.uniform(0.01, 0.99, size=(6, 5))
    log_p = BernoulliLogLikelihood()(torch.from_numpy(p), torch.from_numpy(x))
    expected = stats.bernoulli.logpmf(x, p).sum(axis=1)
    assert log_p.shape == (6,)
    np.testing.assert_allclose(log_p.numpy(), expected, rtol=RTOL)


_MEAN_LOSSES = {
    "mse": lambda p, x: np.mean((x - p) ** 2),
    "bce": lambda p, x: -np.mean(x * np.log(p) + (1 - x) * np.log1p(-p)),
}


@pytest.mark.parametrize("loss", _MEAN_LOSSES)
def test_reconstruction_loss_is_the_mean_over_values(loss, rng):
    x = rng.uniform(size=(8, 3))  # soft targets in [0, 1], as minmax-scaled data
    p = rng.uniform(0.01, 0.99, size=(8, 3))
    total = ReconstructionLoss(loss)(torch.from_numpy(p), torch.from_numpy(x))
    assert total.shape == ()
    np.testing.assert_allclose(total.item(), _MEAN_LOSSES[loss](p, x), rtol=RTOL)


def _linear_gaussian(rng, n_features=3):
    """A one-code linear-Gaussian model, a row x, and the exact posterior of z."""
    w = torch.as_tensor(rng.normal(size=n_features))
    b = torch.as_tensor(rng.normal(size=n_features))
    noise = 0.3
    x = torch.as_tensor(rng.normal(size=(1, n_features)))
    # posterior of z ~ N(0, 1) given x = w z + b + N(0, noise I)
    precision = 1.0 + w @ w / noise
    mu = ((x - b) @ w / noise / precision).reshape(1, 1)
    log_var = torch.full((1, 1), -math.log(precision), dtype=torch.float64)
    likelihood = GaussianLogLikelihood(n_features, min_variance=1e-12).double()
    with torch.no_grad():
        likelihood.log_var.fill_(math.log(noise))
    covariance = np.outer(w, w) + noise * np.eye(n_features)
    log_px = stats.multivariate_normal(b.numpy(), covariance).logpdf(x.numpy()[0])
    return likelihood, (lambda z: b + z * w), x, mu, log_var, log_px


def test_elbo_of_the_exact_posterior_is_the_log_likelihood(rng):
    likelihood, decode, x, mu, log_var, log_px = _linear_gaussian(rng)
    # two antithetic draws: exact for a likelihood quadratic in z
    eps = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    bound = elbo(likelihood, decode, x, mu, log_var, eps)
    np.testing.assert_allclose(bound.detach().numpy(), [log_px], rtol=1e-12)


def test_elbo_of_a_wrong_posterior_is_below_the_log_likelihood(rng):
    likelihood, decode, x, mu, log_var, log_px = _linear_gaussian(rng)
    eps = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    assert elbo(likelihood, decode, x, mu + 0.5, log_var, eps).item() < log_px - 1e-3


def test_importance_weighted_bound_of_the_exact_posterior_is_exact(rng):
    # with q the exact posterior every importance weight is p(x): any draws
    likelihood, decode, x, mu, log_var, log_px = _linear_gaussian(rng)
    eps = torch.as_tensor(rng.normal(size=(5, 1)))
    bound = importance_weighted_bound(likelihood, decode, x, mu, log_var, eps)
    np.testing.assert_allclose(bound.detach().numpy(), [log_px], rtol=1e-12)


def test_importance_weighted_bound_tightens_with_draws(rng):
    likelihood, decode, x, mu, log_var, log_px = _linear_gaussian(rng)
    wrong = (mu + 1.0, log_var + 1.0)
    draws = torch.as_tensor(rng.normal(size=(4000, 1)))

    def bound(eps):
        return importance_weighted_bound(likelihood, decode, x, *wrong, eps).item()

    # a one-draw bound's expectation is the ELBO, below the many-draw bound
    one = np.mean([bound(draws[i : i + 1]) for i in range(1000)])
    many = bound(draws)
    assert one < many - 0.1
    assert abs(many - log_px) < 0.05
