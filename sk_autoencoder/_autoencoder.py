"""AutoencoderTransformer: the deterministic autoencoder, a drop-in for PCA."""

from sk_autoencoder._base import BaseAutoencoder, store_init_params
from sk_autoencoder._docstrings import insert_shared_docs


@insert_shared_docs
class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder for nonlinear dimensionality reduction, with PCA's interface.

    An encoder network maps each row of X to ``n_components`` latent values and a
    decoder maps them back; both are trained to make the reconstruction close to
    X. Use it where ``PCA`` would go, in a Pipeline or a search, when the
    structure of the data is not linear. The training loop runs on skorch and
    PyTorch.

    Parameters
    ----------
    <<parameters>>

    Attributes
    ----------
    <<attributes>>

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    DenoisingAutoencoder : Autoencoder trained on corrupted inputs.
    VAETransformer : Variational autoencoder, with sampling and a likelihood.
    AutoencoderOutlierDetector : Outlier detection from reconstruction error.

    Notes
    -----
    The encoder f and decoder g minimise the mean over rows and features of
    ``loss(g(f(x)), x)`` on the scaled features, plus ``latent_l1 * mean|f(x)|``.
    With ``activation='identity'`` and squared error, the optimum spans the
    same subspace as PCA.

    References
    ----------
    .. [1] G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
       data with neural networks", Science 313(5786), 2006.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sk_autoencoder import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=2, random_state=0)
    >>> X_new = ae.fit_transform(X[:200])
    >>> X_new.shape
    (200, 8)
    >>> ae.inverse_transform(X_new).shape
    (200, 64)
    """

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
    ):
        store_init_params(self, locals())
