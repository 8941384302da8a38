"""Fits in threads: each gives its serial result and the global RNG is left alone."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from sk_autoencoder import AutoencoderTransformer, DenoisingAutoencoder, VAETransformer

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# every random stream of a fit: dropout masks, corruption noise, the VAE's draws
RANDOM_FITS = [
    AutoencoderTransformer(**FAST, dropout=0.2),
    DenoisingAutoencoder(**FAST),
    VAETransformer(**FAST),
]


@pytest.mark.parametrize("estimator", RANDOM_FITS, ids=lambda e: type(e).__name__)
def test_fits_in_threads_equal_the_serial_fit(estimator, X_digits):
    X = X_digits[:120]
    serial = estimator.fit(X).transform(X)
    state = torch.random.get_rng_state()
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(
            pool.map(
                lambda _: estimator.__sklearn_clone__().fit(X).transform(X), range(4)
            )
        )
    for threaded in codes:
        np.testing.assert_array_equal(threaded, serial)
    assert torch.equal(torch.random.get_rng_state(), state)
