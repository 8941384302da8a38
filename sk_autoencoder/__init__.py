"""Autoencoders for scikit-learn: PCA's interface, PyTorch's networks.

The four estimators are importable from here; :mod:`sk_autoencoder.io` saves and
loads fitted estimators safely.
"""

from sk_autoencoder._autoencoder import AutoencoderTransformer
from sk_autoencoder._denoising import DenoisingAutoencoder
from sk_autoencoder._outlier import AutoencoderOutlierDetector
from sk_autoencoder._vae import VAETransformer

__version__ = "0.1.0"

__all__ = [
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "DenoisingAutoencoder",
    "VAETransformer",
    "__version__",
    "io",
]


def __getattr__(name):
    # io brings in sklearn.covariance, which only saving and loading a detector
    # needs; ``sk_autoencoder.io`` imports it on first use
    if name == "io":
        import importlib

        return importlib.import_module("sk_autoencoder.io")
    raise AttributeError(f"module 'sk_autoencoder' has no attribute {name!r}")
