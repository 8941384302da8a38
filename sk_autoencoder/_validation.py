"""Checks validate_data cannot make; the one importer of scikit-learn private API."""

import math
from numbers import Integral

import numpy as np
import torch

# scikit-learn's private helpers are imported here only, and re-exported, so that a
# change of their location touches one file
# (fit_context: the decorator of fit methods, which validates the parameters once)
from sklearn.base import _fit_context as fit_context  # noqa: F401  (re-exported)
from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    HasMethods,
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted  # noqa: F401  (re-exported)
from sklearn.utils.validation import validate_data as _sklearn_validate_data

from sk_autoencoder._data import data_range

# the dtypes the estimators compute in; other input is converted to float64
FLOAT_DTYPES = [np.float64, np.float32]

# the network trains in float32: unscaled inputs beyond its range become inf
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def validate_data(estimator, X, **kwargs):
    """scikit-learn's ``validate_data``, reporting missing values as such.

    A pandas object column holding ``pd.NA`` or ``None`` fails scikit-learn's
    conversion to float with a ``TypeError`` about ``float()``; this says what
    is wrong instead, with a ``ValueError`` as for NaN.
    """
    try:
        return _sklearn_validate_data(estimator, X, **kwargs)
    except TypeError as error:
        if not (hasattr(X, "isna") and hasattr(X, "columns")):
            raise
        has_missing = np.asarray(X.isna().any(axis=0))
        columns = [c for c, bad in zip(X.columns, has_missing, strict=True) if bad]
        if not columns:
            raise
        raise ValueError(
            f"Input X contains missing values (pd.NA or None) in columns "
            f"{columns!r}. {type(estimator).__name__} does not accept missing "
            "values; impute them first, for example with "
            "sklearn.impute.SimpleImputer."
        ) from error


def check_hidden_layer_sizes(hidden_layer_sizes, architecture="mlp"):
    """Return ``hidden_layer_sizes`` as a tuple of positive ints."""
    sizes = tuple(hidden_layer_sizes)
    if architecture == "conv" and not sizes:
        raise ValueError(
            "architecture='conv' needs at least one convolution: "
            "hidden_layer_sizes holds the channel counts, got ()."
        )
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers, got "
            f"{hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def check_loss_and_data(loss, input_scaling, X):
    """What the network's input needs: [0, 1] for ``loss='bce'``, float32's range.

    With ``input_scaling=None`` X reaches the network unscaled, in float32, so
    values beyond float32's largest would become infinite.
    """
    if loss == "bce" and input_scaling == "standard":
        raise ValueError(
            "loss='bce' needs inputs in [0, 1], which input_scaling='standard' "
            "does not give; use input_scaling='minmax', or input_scaling=None "
            "with X already in [0, 1]."
        )
    if input_scaling is not None:
        return
    low, high = data_range(X)
    if loss != "bce" and max(-low, high) > _FLOAT32_MAX:
        raise ValueError(
            f"X ranges over [{low:g}, {high:g}], which overflows float32 "
            f"(largest {_FLOAT32_MAX:g}), the precision the network trains "
            "in, when input_scaling=None; use input_scaling='standard' or "
            "'minmax'."
        )
    if loss == "bce" and (low < 0 or high > 1):
        raise ValueError(
            "loss='bce' with input_scaling=None needs X in [0, 1], but X "
            f"ranges over [{low:g}, {high:g}]; use input_scaling='minmax'."
        )


def check_image_shape(architecture, image_shape, n_features):
    """Return ``image_shape`` as ``(C, H, W)`` after checking it against X."""
    if architecture != "conv":
        return None
    if image_shape is None:
        raise ValueError(
            "architecture='conv' needs image_shape=(C, H, W) or (H, W); got None."
        )
    shape = tuple(image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or not all(isinstance(s, Integral) and s > 0 for s in shape):
        raise ValueError(
            f"image_shape must be (C, H, W) or (H, W) of positive integers, got "
            f"{image_shape!r}."
        )
    n_pixels = math.prod(shape)
    if n_pixels != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} holds {n_pixels} values but X has "
            f"{n_features} features."
        )
    return tuple(int(s) for s in shape)


def resolve_device(device):
    """Turn ``device`` into the torch device name to train on."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but torch finds no CUDA device; use "
            "device='auto' or 'cpu', or install a CUDA build of torch."
        )
    return device


def check_codes(codes, n_rows, n_components=None):
    """What a module's ``encode`` returned for ``n_rows`` rows: a tensor of shape
    ``(n_rows, n_components)``, returned. Raises ``ValueError`` naming what came
    back."""
    if not isinstance(codes, torch.Tensor):
        raise ValueError(
            "module.encode must return one tensor of codes; got "
            f"{type(codes).__name__}."
        )
    rows_ok = codes.ndim == 2 and len(codes) == n_rows
    if not rows_ok or n_components not in (None, codes.shape[1]):
        width = "n_components" if n_components is None else n_components
        raise ValueError(
            f"module.encode returned codes of shape {tuple(codes.shape)} for "
            f"{n_rows} rows; expected ({n_rows}, {width})"
            + ("." if n_components is None else f" for n_components={width}.")
        )
    return codes


def check_posterior(posterior, n_rows, n_components=None):
    """What a VAE module's ``encode`` returned: ``(mu, log_var)``, two tensors of
    codes (:func:`check_codes`); returns ``mu``."""
    if not (
        isinstance(posterior, (tuple, list))
        and len(posterior) == 2
        and all(isinstance(part, torch.Tensor) for part in posterior)
    ):
        raise ValueError(
            "A VAETransformer module's encode must return (mu, log_var), two "
            f"tensors; got {type(posterior).__name__}."
        )
    for part in posterior:
        check_codes(part, n_rows, n_components)
    return posterior[0]


def check_decoded(x_recon, shape):
    """What a module's ``decode`` returned: a tensor of the input's ``shape``."""
    if not isinstance(x_recon, torch.Tensor):
        got = f"a {type(x_recon).__name__}"
    elif x_recon.shape != shape:
        got = f"shape {tuple(x_recon.shape)}"
    else:
        return
    raise ValueError(
        f"module.decode returned {got} for {shape[0]} rows; expected a tensor "
        f"of shape {tuple(shape)}, the shape of the batch of X."
    )


def module_failure(error, shape):
    """A user module's error on a batch, as the ``ValueError`` that names it."""
    return ValueError(
        f"The module failed on a batch of shape {tuple(shape)}: "
        f"{type(error).__name__}: {error}"
    )


def check_module_shapes(module, n_features, n_components, encode=None, codes=None):
    """Run a user's module on two rows and check what encode and decode return.

    ``encode`` (default ``module.encode``) gives what ``codes`` (default
    :func:`check_codes`) checks and turns into the codes ``decode`` takes.
    """
    x = torch.zeros(2, n_features)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            z = (codes or check_codes)((encode or module.encode)(x), 2, n_components)
            check_decoded(module.decode(z), x.shape)
    except (RuntimeError, AttributeError, TypeError) as error:
        raise module_failure(error, x.shape) from error
    finally:
        module.train(was_training)


def check_param_types(estimator, integer_params):
    """What scikit-learn's parameter constraints let through but training cannot use.

    Raises ``InvalidParameterError`` (a ``ValueError``) for a bool given as an
    integer parameter (``True`` is an ``int`` to Python), an ``optimizer`` class
    that is not a ``torch.optim.Optimizer``, and ``callbacks`` entries that are
    not skorch callbacks or ``(name, callback)`` pairs.
    """
    from skorch.callbacks import Callback

    name = type(estimator).__name__
    for param in integer_params:
        value = getattr(estimator, param)
        if isinstance(value, bool):
            raise InvalidParameterError(
                f"The {param!r} parameter of {name} must be an int, not a bool; "
                f"got {value!r}."
            )
    optimizer = estimator.optimizer
    if isinstance(optimizer, type) and not issubclass(optimizer, torch.optim.Optimizer):
        raise InvalidParameterError(
            f"The 'optimizer' parameter of {name} must be one of the names or a "
            f"torch.optim.Optimizer subclass; got {optimizer!r}."
        )
    for entry in estimator.callbacks or ():
        pair = isinstance(entry, tuple) and len(entry) == 2
        callback = entry[1] if pair else entry
        named = not isinstance(entry, tuple) or (pair and isinstance(entry[0], str))
        if not (named and isinstance(callback, (Callback, type))) or (
            isinstance(callback, type) and not issubclass(callback, Callback)
        ):
            raise InvalidParameterError(
                f"The 'callbacks' parameter of {name} must hold skorch callbacks "
                f"or (name, callback) pairs; got {entry!r}."
            )


def check_positive_count(value, name):
    """``value`` is a positive int (not a bool): a count of samples or draws."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")
