"""Torch losses: reconstruction errors, log-likelihoods and the Gaussian KL divergence.

Functions and likelihoods return one value per sample (shape ``(n_samples,)``);
:class:`ReconstructionLoss` is the scalar training loss.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

_LOG_2PI = math.log(2 * math.pi)


class ReconstructionLoss(nn.Module):
    """Training loss of an autoencoder: ``'mse'`` or ``'bce'`` averaged over values.

    The mean over values of the squared error (or of the binary cross-entropy),
    by torch's fused loss functions. With ``weight`` (one value per
    feature, squared error only), each feature's squared error is multiplied by
    its weight: with the squared scales of the input scaling as weights, the
    loss of scaled values is the squared error in the units of the original X.
    """

    _LOSSES = {"mse": F.mse_loss, "bce": F.binary_cross_entropy}

    def __init__(self, loss="mse", weight=None):
        super().__init__()
        self.loss = loss
        self.register_buffer("weight", weight)
        # derived from weight, so not saved with it
        root = None if weight is None else weight.sqrt()
        self.register_buffer("_root", root, persistent=False)

    def forward(self, x_recon, x):
        if self.weight is None:
            return self._LOSSES[self.loss](x_recon, x)
        # the fused loss of both sides times sqrt(weight): two fewer autograd
        # nodes than weighting the squares, which counts at small batches
        root = self._root
        return F.mse_loss(x_recon * root, x * root)


class GaussianLogLikelihood(nn.Module):
    """log N(x; x_recon, diag(exp(log_var))) summed over features, per sample.

    ``log_var`` is one learned parameter per feature. It is floored at
    ``log(min_variance)``: a constant feature is reconstructed exactly, and without a
    floor its variance (and the likelihood) would run off to infinity, the same
    degeneracy that ``GaussianMixture`` prevents with ``reg_covar``.
    """

    def __init__(self, n_features, min_variance=1e-6):
        super().__init__()
        self.log_var = nn.Parameter(torch.zeros(n_features))
        self.min_log_var = math.log(min_variance)

    def forward(self, x_recon, x):
        log_var = self.log_var.clamp(min=self.min_log_var)
        sq = (x - x_recon).square() * torch.exp(-log_var)
        return -0.5 * (_LOG_2PI + log_var + sq).sum(dim=1)


class BernoulliLogLikelihood(nn.Module):
    """log Bernoulli(x; x_recon) summed over features, per sample (x in [0, 1])."""

    def forward(self, x_recon, x):
        return -F.binary_cross_entropy(x_recon, x, reduction="none").sum(dim=1)


def gaussian_kl_per_dimension(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, 1)) for each latent dimension, per sample."""
    return 0.5 * (mu.square() + torch.exp(log_var) - 1.0 - log_var)


def gaussian_kl(mu, log_var):
    """KL(N(mu, diag(exp(log_var))) || N(0, I)), per sample."""
    return gaussian_kl_per_dimension(mu, log_var).sum(dim=1)


def elbo(log_likelihood, decode, x, mu, log_var, eps):
    """Evidence lower bound of each row, averaged over fixed draws.

    ``E_q[log p(x | z)] - KL(q(z | x) || p(z))`` with q = N(mu, diag(exp(log_var)))
    and p = N(0, I); the expectation is the mean over the draws
    ``z = mu + eps[i] * std`` of ``log_likelihood(decode(z), x)``, the KL term
    exact. ``eps`` has shape ``(n_draws, n_components)``.
    """
    std = torch.exp(0.5 * log_var)
    log_px = torch.stack([log_likelihood(decode(mu + e * std), x) for e in eps])
    return log_px.mean(dim=0) - gaussian_kl(mu, log_var)


def importance_weighted_bound(log_likelihood, decode, x, mu, log_var, eps):
    """Importance-weighted lower bound of each row's log-likelihood (Burda et al.).

    ``log mean_i p(x, z_i) / q(z_i | x)`` over the draws ``z_i = mu + eps[i] * std``
    of q: tighter than :func:`elbo`, and ``log p(x)`` in the limit of many draws.
    """
    std = torch.exp(0.5 * log_var)
    terms = []
    for e in eps:
        z = mu + e * std
        # log p(z) - log q(z | x); the 2*pi terms cancel
        log_ratio = 0.5 * (-z.square() + e.square() + log_var).sum(dim=1)
        terms.append(log_likelihood(decode(z), x) + log_ratio)
    return torch.logsumexp(torch.stack(terms), dim=0) - math.log(len(eps))
