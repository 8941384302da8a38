"""Small data fixtures and the tiny settings every test trains with."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_digits

# tiny networks and few epochs: tests check behaviour, benchmarks check quality
FAST = dict(
    n_components=2,
    hidden_layer_sizes=(16,),
    max_epochs=5,
    batch_size=32,
    random_state=0,
)


@pytest.fixture(scope="session")
def digits():
    """300 rows of the digits images, float64, with their labels."""
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


@pytest.fixture(scope="session")
def X_digits(digits):
    return digits[0]


@pytest.fixture
def X_sparse(X_digits):
    return sp.csr_matrix(X_digits)


@pytest.fixture
def X_memmap(X_digits, tmp_path):
    path = tmp_path / "X.dat"
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=X_digits.shape)
    X[:] = X_digits
    X.flush()
    return np.memmap(path, dtype=np.float32, mode="r", shape=X_digits.shape)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Train on one torch thread for the module's tests, then restore the count.

    Where the cores are shared with other work, torch's intra-op threads wait on
    each other at every small matrix product, and the tiny fits of the tests run
    up to a hundred times slower than on one thread. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


class LinearModule(torch.nn.Module):
    """A user module of two linear maps, for tests that alter one of them."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = torch.nn.Linear(n_features, n_components)
        self.decoder = torch.nn.Linear(n_components, n_features)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)
