"""Autoencoders for scikit-learn: PCA's interface, PyTorch's networks.

The four estimators are importable from here; :mod:`sk_autoencoder.io` saves and
loads fitted estimators safely.
"""

from sk_autoencoder import io
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
