"""Bad input: one table of clear errors, and the caller's arrays left untouched.

Invalid values of single parameters are covered by scikit-learn's
``check_param_validation`` in test_common.py; this table holds what depends on
the data, on several parameters together, or on the fitted state.
"""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from sk_autoencoder import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RNG = np.random.default_rng(0)
X_GOOD = RNG.uniform(0.05, 0.95, size=(30, 4))


def with_value(value, at=(0, 0)):
    """X_GOOD with one entry replaced by ``value``."""
    X = X_GOOD.copy()
    X[at] = value
    return X


class NoDecode(nn.Module):
    def encode(self, x):
        return x


class WrongCodes(nn.Module):
    """Encodes to one code too many."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components + 1)
        self.decoder = nn.Linear(n_components + 1, n_features)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


class NotAPair(WrongCodes):
    """Encodes to one tensor, where a VAE's encode returns (mu, log_var)."""

    def __init__(self, n_features, n_components):
        super().__init__(n_features, n_components - 1)


def case(
    params,
    X,
    message,
    *,
    id,
    method="fit",
    fitted=None,
    cls=AutoencoderTransformer,
    exception=ValueError,
    marks=(),
):
    """One row: ``cls(**FAST, **params)``, fitted on X_GOOD first when ``fitted``
    (by default, for every method but fit), then ``method(X)`` raises."""
    fitted = method != "fit" if fitted is None else fitted
    return pytest.param(
        cls, params, fitted, method, X, exception, message, id=id, marks=marks
    )


NOT_FITTED = r"This AutoencoderTransformer instance is not fitted yet"
DIVERGED = (
    r"The loss became (nan|-?inf) at epoch \d+; try a smaller learning_rate "
    r"\(got 1000000\.0\)"
)

ERRORS = [
    # values X cannot hold
    case({}, with_value(np.nan), "Input X contains NaN", id="nan-fit"),
    case({}, with_value(np.inf), "Input X contains infinity", id="inf-fit"),
    case({}, with_value(-np.inf), "Input X contains infinity", id="minus-inf-fit"),
    case(
        {},
        with_value(np.nan),
        "Input X contains NaN",
        method="transform",
        id="nan-transform",
    ),
    case(
        {},
        with_value(np.inf, at=(3, 2)),
        "Input X contains infinity",
        method="score_samples",
        id="inf-score_samples",
    ),
    case(
        {},
        with_value(np.nan),
        "Input X contains NaN",
        method="partial_fit",
        id="nan-partial_fit",
    ),
    case(
        {},
        np.array([["a", "b"], ["c", "d"]]),
        "could not convert string to float",
        id="strings",
    ),
    case(
        {},
        np.array([[0.1, 0.2], [0.3, "x"]], dtype=object),
        "could not convert string to float: 'x'",
        id="string-among-numbers",
    ),
    # shapes
    case(
        {},
        np.empty((0, 4)),
        r"Found array with 0 sample\(s\) \(shape=\(0, 4\)\) while a minimum of 2 "
        "is required",
        id="empty",
    ),
    case(
        {},
        X_GOOD[:1],
        r"Found array with 1 sample\(s\) \(shape=\(1, 4\)\) while a minimum of 2 "
        "is required",
        id="one-row",
    ),
    case(
        {},
        X_GOOD[:, :3],
        "X has 3 features, but AutoencoderTransformer is expecting 4 features",
        method="transform",
        id="too-few-features-transform",
    ),
    case(
        {},
        np.c_[X_GOOD, X_GOOD[:, 0]],
        "X has 5 features, but AutoencoderTransformer is expecting 4 features",
        method="reconstruct",
        id="too-many-features-reconstruct",
    ),
    case(
        {},
        X_GOOD[:, :3],
        "X has 3 features, but AutoencoderTransformer is expecting 4 features",
        method="score_samples",
        id="too-few-features-score_samples",
    ),
    case(
        {},
        X_GOOD[:, :3],
        "X has 3 features, but AutoencoderTransformer is expecting 4 features",
        method="partial_fit",
        id="too-few-features-partial_fit",
    ),
    case(
        {"warm_start": True},
        X_GOOD[:, :3],
        "X has 3 features, but AutoencoderTransformer is expecting 4 features",
        fitted=True,
        id="too-few-features-warm-start-fit",
    ),
    case(
        {},
        X_GOOD,
        r"X has 4 columns but AutoencoderTransformer has n_components_=2; "
        "inverse_transform takes latent codes",
        method="inverse_transform",
        id="inverse_transform-of-X",
    ),
    # loss and data
    case(
        {"loss": "bce", "input_scaling": "standard"},
        X_GOOD,
        r"loss='bce' needs inputs in \[0, 1\], which input_scaling='standard' "
        r"does not give; use input_scaling='minmax'",
        id="bce-with-standard-scaling",
    ),
    case(
        {"loss": "bce", "input_scaling": None},
        with_value(3.0),
        r"loss='bce' with input_scaling=None needs X in \[0, 1\], but X ranges "
        r"over \[0\.0\d*, 3\]; use input_scaling='minmax'",
        id="bce-unscaled-above-1",
    ),
    case(
        {"loss": "bce", "input_scaling": None},
        with_value(-0.5),
        r"X ranges over \[-0\.5, 0\.9\d*\]",
        id="bce-unscaled-below-0",
    ),
    case(
        {"optimizer": "sgd", "learning_rate": 1e6, "input_scaling": None},
        X_GOOD * 1e6,
        DIVERGED,
        id="diverging-loss",
    ),
    # networks
    case(
        {"module": NoDecode()},
        X_GOOD,
        "The 'module' parameter of AutoencoderTransformer must be an object "
        "implementing 'encode' and 'decode'",
        id="module-instance-without-decode",
    ),
    case(
        {"module": NoDecode},
        X_GOOD,
        "The 'module' parameter of AutoencoderTransformer must be an object "
        "implementing 'encode' and 'decode'",
        id="module-class-without-decode",
    ),
    case(
        {"module": WrongCodes},
        X_GOOD,
        r"module.encode returned codes of shape \(2, 3\) for 2 rows; expected "
        r"\(2, 2\) for n_components=2",
        id="module-with-wrong-code-size",
    ),
    case(
        {"module": NotAPair},
        X_GOOD,
        r"A VAETransformer module's encode must return \(mu, log_var\)",
        cls=VAETransformer,
        id="vae-module-without-log-var",
    ),
    case(
        {"architecture": "conv"},
        X_GOOD,
        r"architecture='conv' needs image_shape=\(C, H, W\) or \(H, W\); got None",
        id="conv-without-image_shape",
    ),
    case(
        {"architecture": "conv", "image_shape": (3, 3)},
        X_GOOD,
        r"image_shape=\(3, 3\) holds 9 values but X has 4 features",
        id="conv-image_shape-too-large",
    ),
    case(
        {"architecture": "conv", "image_shape": (2, 1, 1)},
        X_GOOD,
        r"image_shape=\(2, 1, 1\) holds 2 values but X has 4 features",
        id="conv-image_shape-too-small",
    ),
    case(
        {"architecture": "conv", "image_shape": (1, 2, 2, 1)},
        X_GOOD,
        r"image_shape must be \(C, H, W\) or \(H, W\) of positive integers, got "
        r"\(1, 2, 2, 1\)",
        id="conv-image_shape-of-four-dimensions",
    ),
    case(
        {"hidden_layer_sizes": (8, 0)},
        X_GOOD,
        r"hidden_layer_sizes must hold positive integers, got \(8, 0\)",
        id="hidden-layer-of-size-0",
    ),
    case(
        {"noise": "masking", "noise_level": 2.0},
        X_GOOD,
        "noise='masking' corrupts a fraction noise_level of the entries, which must "
        "be at most 1; got 2.0",
        cls=DenoisingAutoencoder,
        id="masking-more-than-every-entry",
    ),
    case(
        {"device": "cuda"},
        X_GOOD,
        "device='cuda' was requested but torch finds no CUDA device",
        id="cuda-without-gpu",
        marks=pytest.mark.skipif(
            torch.cuda.is_available(),
            reason="a CUDA device is present, so device='cuda' is valid here",
        ),
    ),
    # fitted state
    *[
        case(
            {},
            X_GOOD,
            NOT_FITTED,
            method=method,
            fitted=False,
            exception=NotFittedError,
            id=f"{method}-before-fit",
        )
        for method in (
            "transform",
            "inverse_transform",
            "reconstruct",
            "score_samples",
            "score",
        )
    ],
]


@pytest.mark.parametrize("cls, params, fitted, method, X, exception, message", ERRORS)
def test_bad_input_raises_a_clear_error_and_leaves_X_alone(
    cls, params, fitted, method, X, exception, message
):
    est = cls(**{**FAST, **params})
    if fitted:
        est.fit(X_GOOD)
    X_before = X.copy()
    with pytest.raises(exception, match=message):
        getattr(est, method)(X)
    # NaN compares equal to NaN here
    np.testing.assert_array_equal(X, X_before)
