"""DenoisingAutoencoder and its corruption functions."""

from numbers import Real

import numpy as np
import torch

from sk_autoencoder._base import BaseAutoencoder, store_init_params
from sk_autoencoder._data import feature_range
from sk_autoencoder._docstrings import insert_shared_docs
from sk_autoencoder._engine import DenoisingNet
from sk_autoencoder._state import Array, ArrayPair, Field
from sk_autoencoder._validation import Interval, StrOptions


def corrupt_gaussian(x, level, low, high):
    """Add centred Gaussian noise of standard deviation ``level``."""
    return x + level * torch.randn_like(x)


def corrupt_masking(x, level, low, high):
    """Set a random fraction ``level`` of the entries to zero."""
    return x * (torch.rand_like(x) >= level)


def corrupt_salt_pepper(x, level, low, high):
    """Set a random fraction ``level`` of the entries to their feature's min or max.

    Half of the corrupted entries, on average, get the feature's smallest training
    value (pepper) and half its largest (salt).
    """
    hit = torch.rand_like(x) < level
    salt = torch.rand_like(x) < 0.5
    return torch.where(hit, torch.where(salt, high, low), x)


_CORRUPTIONS = {
    "gaussian": corrupt_gaussian,
    "masking": corrupt_masking,
    "salt_pepper": corrupt_salt_pepper,
}


class Corruption:
    """A picklable ``x -> x_noisy`` for the net: one corruption and its settings.

    ``low`` and ``high`` are the per-feature extremes of the scaled training data,
    used by salt-and-pepper noise.
    """

    def __init__(self, noise, level, low, high):
        self.noise = noise
        self.level = level
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        self._bounds = {}

    def __call__(self, x):
        if x.device not in self._bounds:
            self._bounds[x.device] = tuple(
                torch.from_numpy(b).to(x.device) for b in (self.low, self.high)
            )
        return _CORRUPTIONS[self.noise](x, self.level, *self._bounds[x.device])

    def __getstate__(self):
        # the bounds' tensors may live on a GPU; they are rebuilt on demand
        return {**self.__dict__, "_bounds": {}}


@insert_shared_docs
class DenoisingAutoencoder(BaseAutoencoder):
    """Autoencoder trained to rebuild clean rows from corrupted ones.

    During training each batch is corrupted afresh (Gaussian noise, masking or
    salt-and-pepper) and the network learns to reconstruct the clean batch. The
    codes are more robust than a plain autoencoder's, and ``reconstruct`` removes
    noise of the kind it was trained on. ``transform``, ``reconstruct`` and
    ``score_samples`` never add noise.

    Parameters
    ----------
    <<parameters>>

    noise : {'gaussian', 'masking', 'salt_pepper'}, default='gaussian'
        Corruption applied to training inputs, after ``input_scaling``.
        ``'gaussian'`` adds N(0, noise_level ** 2) noise; ``'masking'`` sets a
        fraction ``noise_level`` of the entries to 0 (the feature's mean under
        standard scaling); ``'salt_pepper'`` sets a fraction ``noise_level`` of
        the entries to their feature's training minimum or maximum.

    noise_level : float, default=0.3
        Standard deviation of the Gaussian noise, in units of each scaled feature
        (absolute units when ``input_scaling=None``), or the fraction of entries
        corrupted for ``'masking'`` and ``'salt_pepper'``.

    Attributes
    ----------
    <<attributes>>

    See Also
    --------
    AutoencoderTransformer : The same network trained on clean inputs.
    VAETransformer : Variational autoencoder, with sampling and a likelihood.
    sklearn.decomposition.PCA : Linear dimensionality reduction.

    Notes
    -----
    With corruption C, the encoder f and decoder g minimise the mean of
    ``loss(g(f(C(x))), x)``. Validation losses (with ``early_stopping``) are
    that denoising loss on the held-out rows, corrupted with the same draws at
    every epoch, so that the stopping rule (and the PCA start, one of its
    candidates) is judged on the objective the network trains for.

    References
    ----------
    .. [1] P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting
       and composing robust features with denoising autoencoders", ICML 2008.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import DenoisingAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> dae = DenoisingAutoencoder(n_components=8, noise="masking", max_epochs=2,
    ...                            random_state=0).fit(X[:200])
    >>> dae.reconstruct(X[:5]).shape
    (5, 64)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions(set(_CORRUPTIONS))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
    }
    _net_class = DenoisingNet

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
        noise="gaussian",
        noise_level=0.3,
    ):
        store_init_params(self, locals())

    def _fit_data_state(self, X):
        super()._fit_data_state(X)
        if self.noise != "gaussian" and self.noise_level > 1:
            raise ValueError(
                f"noise={self.noise!r} corrupts a fraction noise_level of the "
                f"entries, which must be at most 1; got {self.noise_level!r}."
            )
        # the extremes of each feature, in the scaled units the net sees, for
        # salt-and-pepper noise
        self._noise_bounds = tuple(self._scaler.transform(v) for v in feature_range(X))

    @classmethod
    def _state_fields(cls):
        bounds = Array(("n_features_in_",))
        pair = ArrayPair(bounds, bounds, to_pair=tuple, from_pair=lambda *b: b)
        return (*super()._state_fields(), Field("noise_bounds", "_noise_bounds", pair))

    def _net_params(self):
        corrupt = Corruption(self.noise, self.noise_level, *self._noise_bounds)
        return {"corrupt": corrupt}
