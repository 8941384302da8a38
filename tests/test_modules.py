"""Torch modules: shapes, mirrored decoders, odd image sizes, the Gaussian head."""

import math

import pytest
import torch
from torch import nn

from sk_autoencoder._modules import (
    ACTIVATIONS,
    AutoencoderModule,
    GaussianHead,
    VariationalModule,
    conv_feature_shape,
    make_conv_autoencoder,
    make_mlp_autoencoder,
)


def _rows(n_rows, n_features, seed=0):
    return torch.rand(n_rows, n_features, generator=torch.Generator().manual_seed(seed))


def _linear_shapes(module):
    return [
        (m.in_features, m.out_features)
        for m in module.modules()
        if isinstance(m, nn.Linear)
    ]


@pytest.mark.parametrize("n_rows", [1, 5])
def test_mlp_autoencoder_shapes(n_rows):
    module = make_mlp_autoencoder(10, 3, (8, 4))
    x = _rows(n_rows, 10)
    z = module.encode(x)
    assert isinstance(module, AutoencoderModule)
    assert z.shape == (n_rows, 3)
    assert module.decode(z).shape == (n_rows, 10)
    torch.testing.assert_close(module(x), module.decode(z), rtol=0, atol=0)


def test_mlp_decoder_mirrors_the_encoder():
    module = make_mlp_autoencoder(10, 3, (8, 4))
    assert _linear_shapes(module.encoder) == [(10, 8), (8, 4), (4, 3)]
    assert _linear_shapes(module.decoder) == [(3, 4), (4, 8), (8, 10)]


def test_mlp_without_hidden_layers_is_one_linear_map_each_way():
    module = make_mlp_autoencoder(6, 2, (), activation="relu")
    assert _linear_shapes(module) == [(6, 2), (2, 6)]
    assert not any(isinstance(m, nn.ReLU) for m in module.modules())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_uses_the_activation_between_hidden_layers(activation):
    module = make_mlp_autoencoder(6, 2, (5, 4), activation=activation)
    act = ACTIVATIONS[activation]
    # the codes and the squared-error reconstruction have no activation
    expected = [nn.Linear, act, nn.Linear, act, nn.Linear, nn.Identity]
    assert [type(m) for m in module.encoder] == expected
    assert [type(m) for m in module.decoder] == expected
    assert module(_rows(3, 6)).shape == (3, 6)


def test_identity_activation_makes_an_affine_network():
    module = make_mlp_autoencoder(6, 2, (5, 4), activation="identity").double()
    a, b = _rows(4, 6, seed=1).double(), _rows(4, 6, seed=2).double()
    zero = torch.zeros(4, 6, dtype=torch.float64)
    # f(a) + f(b) = f(a + b) + f(0) holds for f(x) = Ax + c only
    torch.testing.assert_close(
        module(a) + module(b), module(a + b) + module(zero), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("dropout, n_dropout", [(0.0, 0), (0.3, 4)])
def test_mlp_adds_dropout_after_each_hidden_layer(dropout, n_dropout):
    module = make_mlp_autoencoder(6, 2, (5, 4), dropout=dropout)
    layers = [m for m in module.modules() if isinstance(m, nn.Dropout)]
    assert len(layers) == n_dropout
    assert all(layer.p == dropout for layer in layers)


@pytest.mark.parametrize("make", ["mlp", "conv"])
def test_bce_output_lies_in_the_unit_interval(make):
    if make == "mlp":
        module = make_mlp_autoencoder(16, 2, (8,), loss="bce")
    else:
        module = make_conv_autoencoder((1, 4, 4), 2, (4,), loss="bce")
    with torch.no_grad():
        z = 100.0 * torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
        x_recon = module.decode(z)
    assert x_recon.min() >= 0 and x_recon.max() <= 1


@pytest.mark.parametrize("n_rows", [1, 5])
def test_variational_mlp_encode_returns_mean_and_log_variance(n_rows):
    module = make_mlp_autoencoder(10, 3, (8,), module_class=VariationalModule)
    assert isinstance(module, VariationalModule)
    x = _rows(n_rows, 10)
    mu, log_var = module.encode(x)
    assert mu.shape == log_var.shape == (n_rows, 3)
    assert module.decode(mu).shape == (n_rows, 10)
    # forward is the deterministic reconstruction from the posterior mean
    torch.testing.assert_close(module(x), module.decode(mu), rtol=0, atol=0)


@pytest.mark.parametrize(
    "image_shape, channels, expected",
    [
        ((1, 8, 8), (4,), (4, 4, 4)),
        ((1, 8, 8), (4, 8), (8, 2, 2)),
        ((1, 7, 9), (4, 8), (8, 2, 3)),
        ((3, 5, 5), (4,), (4, 3, 3)),
        ((1, 13, 1), (4, 8, 16), (16, 2, 1)),
    ],
)
def test_conv_feature_shape_halves_rounding_up(image_shape, channels, expected):
    assert conv_feature_shape(image_shape, channels) == expected


@pytest.mark.parametrize(
    "image_shape",
    [(1, 8, 8), (1, 7, 9), (3, 5, 5), (1, 13, 1), (2, 1, 1), (1, 2, 15)],
)
@pytest.mark.parametrize("channels", [(4,), (4, 8)])
@pytest.mark.parametrize("n_rows", [1, 3])
def test_conv_autoencoder_reconstructs_exactly_the_input_shape(
    image_shape, channels, n_rows
):
    n_features = math.prod(image_shape)
    module = make_conv_autoencoder(image_shape, 2, channels)
    x = _rows(n_rows, n_features)
    z = module.encode(x)
    assert z.shape == (n_rows, 2)
    assert module.decode(z).shape == (n_rows, n_features)
    torch.testing.assert_close(module(x), module.decode(z), rtol=0, atol=0)


def test_variational_conv_encode_returns_mean_and_log_variance():
    module = make_conv_autoencoder((1, 7, 9), 3, (4, 8), module_class=VariationalModule)
    mu, log_var = module.encode(_rows(5, 63))
    assert mu.shape == log_var.shape == (5, 3)
    assert module.decode(mu).shape == (5, 63)


@pytest.mark.parametrize("dropout, n_dropout", [(0.0, 0), (0.2, 3)])
def test_conv_adds_dropout_after_each_hidden_convolution(dropout, n_dropout):
    module = make_conv_autoencoder((1, 8, 8), 2, (4, 8), dropout=dropout)
    # after both encoder convolutions and the decoder's first transposed one; the
    # last transposed convolution produces the image and has none
    layers = [m for m in module.modules() if isinstance(m, nn.Dropout)]
    assert len(layers) == n_dropout


def test_gaussian_head_clamps_log_variance_to_its_bounds():
    low, high = GaussianHead.LOG_VAR_BOUNDS
    assert (low, high) == (-30.0, 20.0)
    mu = torch.tensor([[1e6, -1e6, 0.5, -2.0, 3.0, 0.0]])
    log_var = torch.tensor([[-1e3, -30.0, -29.5, 0.0, 19.5, 1e3]])
    out_mu, out_log_var = GaussianHead()(torch.cat([mu, log_var], dim=1))
    # the mean is never clamped; the log-variance only outside [-30, 20]
    torch.testing.assert_close(out_mu, mu, rtol=0, atol=0)
    torch.testing.assert_close(
        out_log_var,
        torch.tensor([[-30.0, -30.0, -29.5, 0.0, 19.5, 20.0]]),
        rtol=0,
        atol=0,
    )


def test_gaussian_head_bounds_keep_the_variance_finite_and_positive_in_float32():
    low, high = GaussianHead.LOG_VAR_BOUNDS
    bounds = torch.tensor([low, high], dtype=torch.float32)
    variance = torch.exp(bounds)
    assert torch.isfinite(variance).all() and (variance > 0).all()
    # and the KL term's exp(log_var) * n_features stays finite at the top bound
    assert torch.isfinite(variance[1] * 1e6)


def test_gaussian_head_passes_gradients_inside_the_bounds():
    h = torch.tensor([[0.3, -1.0]], requires_grad=True)
    mu, log_var = GaussianHead()(h)
    (mu + log_var).sum().backward()
    torch.testing.assert_close(h.grad, torch.ones_like(h), rtol=0, atol=0)
