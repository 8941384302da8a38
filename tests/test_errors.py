"""Bad input: one table of clear errors, and the caller's arrays left untouched."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST

RNG = np.random.default_rng(0)


def fast(cls, **params):
    """The estimator with the tests' tiny settings, plus ``params``."""
    return cls(**{**FAST, **params})


X_GOOD = RNG.uniform(size=(30, 4))


def with_value(value, at=(0, 0)):
    X = X_GOOD.copy()
    X[at] = value
    return X


class NoDecode(nn.Module):
    def encode(self, x):
        return x


class WrongCodes(nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components + 1)
        self.decoder = nn.Linear(n_components + 1, n_features)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


class NotAPair(WrongCodes):
    def __init__(self, n_features, n_components):
        super().__init__(n_features, n_components - 1)


# (estimator, X given to fit, exception, message)
FIT_ERRORS = [
    (fast(AutoencoderTransformer), with_value(np.nan), ValueError, "NaN"),
    (fast(AutoencoderTransformer), with_value(np.inf), ValueError, "infinity"),
    (fast(AutoencoderTransformer), np.empty((0, 4)), ValueError, "0 sample"),
    (fast(AutoencoderTransformer), X_GOOD[:1], ValueError, "1 sample"),
    (
        fast(AutoencoderTransformer),
        np.array([["a", "b"], ["c", "d"]]),
        ValueError,
        "float",
    ),
    (
        fast(AutoencoderTransformer, loss="bce"),
        X_GOOD,
        ValueError,
        "loss='bce' needs inputs in \\[0, 1\\].*input_scaling='minmax'",
    ),
    (
        fast(AutoencoderTransformer, loss="bce", input_scaling=None),
        with_value(3.0),
        ValueError,
        "X in \\[0, 1\\].*ranges over \\[0.*, 3\\]",
    ),
    (
        fast(AutoencoderTransformer, module=NoDecode()),
        X_GOOD,
        ValueError,
        "'module' parameter .* must be an object implementing 'encode' and 'decode'",
    ),
    (
        fast(AutoencoderTransformer, module=WrongCodes),
        X_GOOD,
        ValueError,
        "module.encode returned codes of shape \\(2, 3\\).*expected \\(2, 2\\)",
    ),
    (
        fast(VAETransformer, module=NotAPair),
        X_GOOD,
        ValueError,
        "encode must return \\(mu, log_var\\)",
    ),
    (
        fast(AutoencoderTransformer, architecture="conv"),
        X_GOOD,
        ValueError,
        "architecture='conv' needs image_shape",
    ),
    (
        fast(AutoencoderTransformer, architecture="conv", image_shape=(3, 3)),
        X_GOOD,
        ValueError,
        "image_shape=\\(3, 3\\) holds 9 values but X has 4 features",
    ),
    (
        fast(AutoencoderTransformer, hidden_layer_sizes=(8, 0)),
        X_GOOD,
        ValueError,
        "hidden_layer_sizes must hold positive integers",
    ),
    (
        fast(DenoisingAutoencoder, noise="masking", noise_level=2.0),
        X_GOOD,
        ValueError,
        "noise_level.*at most 1",
    ),
    (
        fast(AutoencoderTransformer, loss="mse", learning_rate=1e4, optimizer="sgd"),
        X_GOOD * 1e6,
        ValueError,
        "loss became .* try a smaller learning_rate \\(got 10000.0\\)",
    ),
    (
        AutoencoderOutlierDetector(fast(AutoencoderTransformer), contamination=0.7),
        X_GOOD,
        ValueError,
        "'contamination' parameter",
    ),
]
if not torch.cuda.is_available():
    FIT_ERRORS.append(
        (
            fast(AutoencoderTransformer, device="cuda"),
            X_GOOD,
            ValueError,
            "no CUDA device",
        )
    )


@pytest.mark.parametrize("estimator, X, exception, message", FIT_ERRORS)
def test_fit_errors_name_the_problem_and_leave_X_alone(
    estimator, X, exception, message
):
    X_before = np.array(X, copy=True)
    if isinstance(estimator, AutoencoderOutlierDetector):
        estimator.set_params(estimator=AutoencoderTransformer(**FAST))
    else:
        estimator.set_params(
            **{
                k: v
                for k, v in FAST.items()
                if k != "hidden_layer_sizes"
                or estimator.hidden_layer_sizes == (128, 64)
            }
        )
    with pytest.raises(exception, match=message):
        estimator.fit(X)
    np.testing.assert_array_equal(np.asarray(X), X_before)


@pytest.fixture(scope="module")
def fitted():
    return AutoencoderTransformer(**FAST).fit(X_GOOD)


@pytest.mark.parametrize(
    "method, X, message",
    [
        ("transform", RNG.uniform(size=(5, 3)), "X has 3 features.*expecting 4"),
        ("reconstruct", RNG.uniform(size=(5, 5)), "X has 5 features.*expecting 4"),
        ("score_samples", with_value(np.nan), "NaN"),
        (
            "inverse_transform",
            RNG.uniform(size=(5, 4)),
            "X has 4 columns.*n_components_=2",
        ),
    ],
)
def test_method_errors_name_the_problem(fitted, method, X, message):
    X_before = X.copy()
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(X)
    np.testing.assert_array_equal(X, X_before)  # NaN compares equal here


@pytest.mark.parametrize(
    "estimator",
    [AutoencoderTransformer(), VAETransformer(), AutoencoderOutlierDetector()],
    ids=lambda e: type(e).__name__,
)
def test_methods_before_fit_raise_not_fitted(estimator):
    method = "score_samples"
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(estimator, method)(X_GOOD)
