"""Torch modules: MLP and convolutional autoencoders, the VAE's posterior."""

import math
from itertools import pairwise

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}

# the activation on the decoder's last layer, so that its output lives where the
# loss expects it: anywhere for squared error, in (0, 1) for cross-entropy
_OUTPUT_ACTIVATIONS = {"mse": nn.Identity, "bce": nn.Sigmoid}


def make_mlp(sizes, activation, dropout, final_activation=nn.Identity):
    """Stack Linear layers ``sizes[0] -> ... -> sizes[-1]``.

    Every hidden layer is followed by ``activation`` and, when ``dropout > 0``, by
    dropout; the last layer is followed by ``final_activation`` only.
    """
    layers = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    layers.append(final_activation())
    return nn.Sequential(*layers)


class AutoencoderModule(nn.Module):
    """An encoder and a decoder: ``encode(x) -> z`` and ``decode(z) -> x_recon``."""

    # the encoder's outputs per latent dimension
    CODES_PER_COMPONENT = 1

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


class GaussianHead(nn.Module):
    """Split a layer's output into the posterior mean and log-variance.

    The log-variance is clamped to ``[-30, 20]``: wide enough never to bind on a
    healthy model (so it cannot silence the KL term), narrow enough that ``exp``
    stays finite in float32 when training goes astray.
    """

    LOG_VAR_BOUNDS = (-30.0, 20.0)

    def forward(self, h):
        mu, log_var = h.chunk(2, dim=-1)
        return mu, log_var.clamp(*self.LOG_VAR_BOUNDS)


class VariationalModule(AutoencoderModule):
    """Autoencoder whose ``encode`` returns ``(mu, log_var)`` of q(z | x)."""

    CODES_PER_COMPONENT = 2

    def __init__(self, encoder, decoder):
        super().__init__(nn.Sequential(encoder, GaussianHead()), decoder)

    def forward(self, x):
        return self.decode(self.encode(x)[0])


def make_mlp_autoencoder(
    n_features,
    n_components,
    hidden_layer_sizes,
    *,
    activation="relu",
    dropout=0.0,
    loss="mse",
    module_class=AutoencoderModule,
):
    """Build an MLP autoencoder whose decoder mirrors the encoder."""
    widths = [n_features, *hidden_layer_sizes]
    n_codes = module_class.CODES_PER_COMPONENT * n_components
    encoder = make_mlp([*widths, n_codes], activation, dropout)
    output = _OUTPUT_ACTIVATIONS[loss]
    decoder = make_mlp([n_components, *reversed(widths)], activation, dropout, output)
    return module_class(encoder, decoder)


class _Unflatten(nn.Module):
    """Reshape flat rows to images, or images back to rows."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


class _CropOrPad(nn.Module):
    """Cut (or zero-pad) the decoder's image to the input's exact height and width."""

    def __init__(self, height, width):
        super().__init__()
        self.height, self.width = height, width

    def forward(self, x):
        dh, dw = self.height - x.shape[-2], self.width - x.shape[-1]
        if dh or dw:
            x = nn.functional.pad(x, (0, max(dw, 0), 0, max(dh, 0)))
            x = x[..., : self.height, : self.width]
        return x


def conv_feature_shape(image_shape, channels):
    """Shape ``(C, H, W)`` after one stride-2 convolution per entry of ``channels``."""
    _, height, width = image_shape
    for _ in channels:
        height, width = math.ceil(height / 2), math.ceil(width / 2)
    return (channels[-1], height, width)


def make_conv_autoencoder(
    image_shape,
    n_components,
    channels,
    *,
    activation="relu",
    dropout=0.0,
    loss="mse",
    module_class=AutoencoderModule,
):
    """Build a convolutional autoencoder over flattened ``(C, H, W)`` rows.

    Each entry of ``channels`` is a 3x3 stride-2 convolution (halving the image,
    rounding up); a linear layer maps the last feature map to the codes. The
    decoder mirrors it with transposed convolutions and crops the result to the
    exact input size, so any height and width work.
    """
    n_channels, height, width = image_shape
    feature_shape = conv_feature_shape(image_shape, channels)
    n_flat = math.prod(feature_shape)
    act = ACTIVATIONS[activation]

    def maybe_dropout():
        return [nn.Dropout(dropout)] if dropout > 0 else []

    down = [_Unflatten(image_shape)]
    for c_in, c_out in pairwise([n_channels, *channels]):
        down += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), act()]
        down += maybe_dropout()
    n_codes = module_class.CODES_PER_COMPONENT * n_components
    down += [nn.Flatten(), nn.Linear(n_flat, n_codes)]

    up = [nn.Linear(n_components, n_flat), act(), _Unflatten(feature_shape)]
    for i, (c_in, c_out) in enumerate(pairwise([*reversed(channels), n_channels])):
        up.append(
            nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
        )
        if i < len(channels) - 1:
            up += [act(), *maybe_dropout()]
    up += [_CropOrPad(height, width), nn.Flatten(), _OUTPUT_ACTIVATIONS[loss]()]

    return module_class(nn.Sequential(*down), nn.Sequential(*up))


def _zero_last_layer(network):
    """Zero the weights and bias of the last layer of ``network`` that has them.

    A residual branch built this way adds nothing at the start, so the anchored
    module starts exactly at its linear path, and gradients still reach every
    layer from the first step on (the last layer's gradient is not zero).
    """
    last = [m for m in network.modules() if getattr(m, "weight", None) is not None]
    for name in ("weight", "bias"):
        if getattr(last[-1], name, None) is not None:
            nn.init.zeros_(getattr(last[-1], name))


class AnchoredAutoencoder(nn.Module):
    """A linear path plus a nonlinear residual in each direction.

    ``encode(x) = encoder(x) + residual.encode(normalised x)`` and
    ``decode(z) = decoder(z) + output_scale * residual.decode(z)``, then the
    output activation. The codes are on a unit scale (PCA's whitened scores, at
    the start), so the residual's codes need no scaling. ``encoder`` and
    ``decoder`` are ``nn.Linear`` layers, started at a linear solution (PCA's
    projection and reconstruction, by :meth:`start_at`); the residual branches'
    last layers start at zero, so at the start the module computes exactly the
    linear solution, and training adds to it. Every part trains.

    Parameters
    ----------
    residual : AutoencoderModule
        The nonlinear branches (MLP or convolutional, identity output); their
        last layers are set to zero here.
    n_features, n_components : int
    output : {'identity', 'sigmoid'}
        With ``'sigmoid'`` (cross-entropy loss) the decoder's sum is taken in
        logits, ``sigmoid(logit(clip(linear)) + residual)``, which starts at the
        linear reconstruction clipped into (0, 1).

    Buffers set by :meth:`start_at`: ``input_shift`` and ``input_scale`` (the
    residual encoder sees ``(x - input_shift) / input_scale``, standardised
    features whatever scaling the input has), ``code_std`` (each code's standard
    deviation at the start, by which ``whiten=True`` divides the codes) and
    ``output_scale`` (the typical size of each output feature, multiplying the
    residual decoder).
    """

    _CLIP = 1e-6
    _BUFFERS = ("input_shift", "input_scale", "code_std", "output_scale")

    def __init__(self, residual, n_features, n_components, output="identity"):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)
        self.residual = residual
        _zero_last_layer(residual.encoder)
        _zero_last_layer(residual.decoder)
        self.output = output
        for name in self._BUFFERS:
            n = n_components if name == "code_std" else n_features
            self.register_buffer(name, torch.ones(n))

    @torch.no_grad()
    def start_at(self, start):
        """Set the linear paths and the buffers from a dict of arrays (see
        :func:`sk_autoencoder._pca.linear_start`)."""

        def copy(target, name):
            target.copy_(torch.as_tensor(start[name], dtype=target.dtype))

        copy(self.encoder.weight, "encoder_weight")
        copy(self.encoder.bias, "encoder_bias")
        copy(self.decoder.weight, "decoder_weight")
        copy(self.decoder.bias, "decoder_bias")
        for name in self._BUFFERS:
            copy(getattr(self, name), name)
        return self

    def encode(self, x):
        nonlinear = self.residual.encode((x - self.input_shift) / self.input_scale)
        return self.encoder(x) + nonlinear

    def decode(self, z):
        linear = self.decoder(z)
        nonlinear = self.output_scale * self.residual.decode(z)
        if self.output == "sigmoid":
            return torch.sigmoid(
                torch.logit(linear.clamp(self._CLIP, 1 - self._CLIP)) + nonlinear
            )
        return linear + nonlinear

    def forward(self, x):
        return self.decode(self.encode(x))


class AnchoredVariationalAutoencoder(AnchoredAutoencoder):
    """:class:`AnchoredAutoencoder` whose ``encode`` returns ``(mu, log_var)``.

    ``residual`` is a :class:`VariationalModule`. ``mu`` is the linear path plus
    the residual's mean; ``log_var`` a learned per-dimension ``log_var`` plus
    the residual's log-variance. Started at probabilistic PCA, ``mu`` is its
    posterior mean and ``log_var`` its posterior log-variance: the exact
    posterior of the linear-Gaussian model, whose ELBO is then probabilistic
    PCA's log-likelihood.
    """

    def __init__(self, residual, n_features, n_components, output="identity"):
        super().__init__(residual, n_features, n_components, output)
        self.log_var = nn.Parameter(torch.zeros(n_components))

    @torch.no_grad()
    def start_at(self, start):
        self.log_var.copy_(torch.as_tensor(start["log_var"]))
        return super().start_at(start)

    def encode(self, x):
        mu, log_var = self.residual.encode((x - self.input_shift) / self.input_scale)
        mu = self.encoder(x) + mu
        log_var = (self.log_var + log_var).clamp(*GaussianHead.LOG_VAR_BOUNDS)
        return mu, log_var

    def forward(self, x):
        return self.decode(self.encode(x)[0])


class Variational(nn.Module):
    """The VAE's module: a module whose ``encode`` gives q(z | x), as an autoencoder.

    ``module.encode(x)`` returns ``(mu, log_var)`` (the built-in VAE modules'
    and a user's VAE module's contract). ``posterior(x)`` is that pair, for
    training and the likelihoods; ``encode(x)`` is the posterior mean, the
    codes for everything else (``transform``, the density, the detector), so
    that nothing outside the VAE's training and scoring knows it is variational.
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def posterior(self, x):
        return self.module.encode(x)

    def encode(self, x):
        return self.module.encode(x)[0]

    def decode(self, z):
        return self.module.decode(z)

    def forward(self, x):
        return self.decode(self.encode(x))
