"""Autoencoders for scikit-learn: PCA's interface, PyTorch's networks."""

from sk_autoencoder._autoencoder import AutoencoderTransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "__version__"]
