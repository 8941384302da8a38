"""VAETransformer: the variational autoencoder, its sampling and its ELBO."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state

from sk_autoencoder._base import BaseAutoencoder, store_init_params
from sk_autoencoder._docstrings import insert_shared_docs
from sk_autoencoder._engine import VariationalNet
from sk_autoencoder._losses import (
    BernoulliLogLikelihood,
    GaussianLogLikelihood,
    elbo,
    importance_weighted_bound,
)
from sk_autoencoder._modules import (
    AnchoredVariationalAutoencoder,
    Variational,
    VariationalModule,
)
from sk_autoencoder._pca import probabilistic_start
from sk_autoencoder._validation import (
    Interval,
    check_is_fitted,
    check_module_shapes,
    check_positive_count,
    check_posterior,
)


def _standard_normal(seed, shape, dtype):
    """Draws of N(0, 1) from a generator of their own, as a tensor of ``dtype``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)


def _balanced_normal(seed, shape, dtype):
    """``shape[0]`` draws of N(0, I) whose first two moments are exact per dimension.

    Antithetic pairs (``e`` and ``-e``, and a zero draw when the count is odd),
    each dimension scaled so that its mean square over the draws is 1. A Monte
    Carlo average over them is exact for any function of z that is quadratic
    along each dimension with no cross terms, such as the Gaussian
    log-likelihood of a linear decoder with orthogonal columns: the ELBO of the
    probabilistic PCA start is then computed exactly.
    """
    n_draws, n_dims = shape
    if n_draws < 2:
        return _standard_normal(seed, shape, dtype)
    half = _standard_normal(seed, (n_draws // 2, n_dims), torch.float64)
    draws = torch.cat([half, -half, torch.zeros(n_draws % 2, n_dims, dtype=half.dtype)])
    draws = draws / draws.square().mean(dim=0).sqrt()
    return draws.to(dtype)


@insert_shared_docs
class VAETransformer(BaseAutoencoder):
    """Variational autoencoder: latent codes, new samples and a likelihood.

    The encoder gives a Gaussian posterior q(z | x) over ``n_components`` latent
    dimensions and the decoder a likelihood p(x | z): Gaussian with a learned
    variance per feature (``loss='mse'``) or Bernoulli (``loss='bce'``, data in
    [0, 1]). ``transform`` returns the posterior mean, ``sample`` generates new
    rows, and ``score_samples`` is each row's evidence lower bound (ELBO), a
    lower bound of its log-likelihood comparable with ``PCA.score_samples`` and
    ``GaussianMixture.score_samples``.

    Parameters
    ----------
    <<parameters>>

    beta : float, default=1.0
        Weight of the KL term in the training loss (a beta-VAE when not 1).
        ``score_samples`` always uses the true ELBO, with weight 1.

    n_mc_samples : int, default=16
        Monte Carlo draws of z per row in ``score_samples``. The draws are fixed
        by the fitted seed and shared by all rows, so scores are deterministic
        and a row's score does not depend on the other rows.

    Attributes
    ----------
    <<attributes>>

    kl_per_dimension_ : ndarray of shape (n_components,)
        KL divergence of each latent dimension in the last epoch, in nats,
        averaged over training rows. Dimensions near 0 are unused (collapsed);
        the whole curve is in ``history_[:, 'kl_per_dimension']``.

    See Also
    --------
    AutoencoderTransformer : Deterministic autoencoder.
    sklearn.decomposition.PCA : Probabilistic PCA, whose ``score`` is comparable.
    sklearn.mixture.GaussianMixture : Density model with a comparable ``score``.

    Notes
    -----
    Training minimises the negative ELBO per feature,
    ``(beta * KL(q(z|x) || N(0, I)) - E_q[log p(x|z)]) / n_features``, with one
    reparameterised draw of z per row. Likelihoods are computed on the scaled
    features; for ``loss='mse'`` the log-determinant of ``input_scaling`` is
    subtracted so that ``score_samples`` is a log-density of the original X (in
    nats). For ``loss='bce'`` it is a Bernoulli log-probability of the scaled
    values, which are expected in [0, 1].

    References
    ----------
    .. [1] D. P. Kingma and M. Welling, "Auto-encoding variational Bayes",
       ICLR 2014.
    .. [2] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance weighted
       autoencoders", ICLR 2016.

    Examples
    --------
    <<vae_example>>
    >>> vae.fit(X[:200]).transform(X[:5]).shape
    (5, 2)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    >>> vae.score_samples(X[:5]).shape
    (5,)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_mc_samples": [Interval(Integral, 1, None, closed="left")],
    }
    _net_class = VariationalNet
    _INTEGER_PARAMS = (*BaseAutoencoder._INTEGER_PARAMS, "n_mc_samples")
    _module_classes = (VariationalModule, AnchoredVariationalAutoencoder)
    # squared errors below this share of a scaled feature's variance are noise
    # (the floor of the Gaussian likelihood)
    _MIN_VARIANCE = 1e-6

    def __init__(
        self,
        n_components=None,
        *,
        init="pca",
        svd_solver="auto",
        iterated_power="auto",
        n_oversamples=10,
        power_iteration_normalizer="auto",
        whiten=False,
        copy=True,
        hidden_layer_sizes=(256, 128),
        activation="gelu",
        architecture="mlp",
        image_shape=None,
        loss="mse",
        input_scaling="standard",
        dropout=0.0,
        latent_l1=0.0,
        optimizer="adam",
        learning_rate=4e-3,
        weight_decay=1e-4,
        batch_size=256,
        max_epochs=200,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
        module=None,
        accelerator=None,
        beta=1.0,
        n_mc_samples=16,
    ):
        store_init_params(self, locals())

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each row, in nats, in the units of X.

        ``E_q[log p(x | z)] - KL(q(z | x) || p(z))``, estimated with
        ``n_mc_samples`` fixed draws of z per row. Higher means more likely.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score: one ELBO per row.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
            ELBO of each row, a lower bound of its log-likelihood.

        Examples
        --------
        <<vae_example>>
        >>> vae.fit(X[:200]).score_samples(X[:3]).shape
        (3,)
        """
        return super().score_samples(X)

    def log_likelihood(self, X, n_samples=100):
        """Importance-weighted estimate of each row's log-likelihood, in nats.

        A tighter lower bound than the ELBO that approaches ``log p(x)`` as
        ``n_samples`` grows [1]_. Draws are fixed by the fitted seed.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        n_samples : int, default=100
            Importance samples of z per row.

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
            Estimated log-density of each row in the units of X.

        References
        ----------
        .. [1] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance weighted
           autoencoders", ICLR 2016.

        Examples
        --------
        <<vae_example>>
        >>> vae.fit(X[:200]).log_likelihood(X[:3], n_samples=10).shape
        (3,)
        """
        check_is_fitted(self)
        check_positive_count(n_samples, "n_samples (importance samples per row)")
        X = self._validate_fitted(X)
        inference = self._inference(X.dtype)
        scorer = self._batch_scorer(inference, n_draws=n_samples, weighted=True)
        return inference.map(X, scorer, None)

    def sample(self, n_samples=1, random_state=None):
        """Generate rows from the model: decode draws of z from the prior.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws of z.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Decoder means p(x | z) for z ~ N(0, I), in the units of the original
            X (probabilities for ``loss='bce'`` before rescaling).

        Examples
        --------
        <<vae_example>>
        >>> vae.fit(X[:200]).sample(5, random_state=0).shape
        (5, 64)
        """
        check_is_fitted(self)
        check_positive_count(n_samples, "n_samples")
        seed = int(check_random_state(random_state).randint(2**31 - 1))
        z = _standard_normal(seed, (n_samples, self.n_components_), torch.float64)
        inference = self._inference(np.float64)
        with torch.inference_mode():
            return inference.decode(z.to(inference.device)).cpu().numpy()

    @property
    def module_(self):
        # the module whose encode gives (mu, log_var): the built-in one or the
        # user's, inside the net's Variational wrapper
        return self.net_.module_.module

    @property
    def kl_per_dimension_(self):
        return np.asarray(self.net_.history[-1, "kl_per_dimension"])

    def _make_criterion(self, n_features):
        if self.loss == "bce":
            return BernoulliLogLikelihood()
        return GaussianLogLikelihood(n_features, min_variance=self._MIN_VARIANCE)

    def _make_module(self, n_features):
        # the variational part: the net, the density and the detector read the
        # wrapper's posterior means as codes; training and scoring its posterior
        return Variational(super()._make_module(n_features))

    def _check_module(self, module, n_features):
        check_module_shapes(
            module, n_features, self.n_components_, module.posterior, check_posterior
        )

    def _code_unit(self, module):
        return None  # the posterior means are codes in their own units

    def _code_factor(self, module):
        return 1.0 / module.module.code_std if self.whiten else None

    def _start_at(self, pca, feature_std):
        start = probabilistic_start(pca, self._scaler, feature_std, self._MIN_VARIANCE)
        self.module_.start_at(start)
        if self.loss == "mse":
            # probabilistic PCA's noise variance, per scaled feature
            noise_log_var = torch.as_tensor(start["noise_log_var"])
            with torch.no_grad():
                self.net_.criterion_.log_var.copy_(noise_log_var)

    def _net_params(self):
        return {"beta": self.beta}

    def _batch_scorer(self, inference, n_draws=None, weighted=False):
        """A function of a scaled batch giving its ELBO (or importance-weighted bound).

        The ``n_draws`` standard-normal draws are the same for every row, so a
        row's score depends on that row alone.
        """
        n_draws = self.n_mc_samples if n_draws is None else n_draws
        module = inference.module
        log_likelihood = inference.in_dtype(self.net_.criterion_)
        draws = _standard_normal if weighted else _balanced_normal
        bound = importance_weighted_bound if weighted else elbo
        eps = draws(self._seed, (n_draws, self.n_components_), inference.torch_dtype)
        eps = eps.to(inference.device)
        # density of the scaled features -> density of the original X
        log_det = self._scaler.log_abs_det if self.loss == "mse" else 0.0

        def score(x):
            mu, log_var = module.posterior(x)
            return bound(log_likelihood, module.decode, x, mu, log_var, eps) - log_det

        return score
