"""Safe persistence: save fitted estimators and load them without running code.

``pickle`` and ``joblib`` work with every estimator, but loading a pickle runs
whatever code the file names, so only load pickles you made yourself. For a model
received from someone else, use :func:`save` and :func:`load`: the file holds only
tensors, numbers, strings and containers of them, read back with
``torch.load(weights_only=True)``, whose unpickler refuses every other type, and
:func:`load` rebuilds only the package's own estimator classes.

:func:`load` treats the file as untrusted. Before it reads a single weight or builds
any network it checks the archive (every record stored uncompressed, the sizes its
index declares within the file and within the limits below) and then the payload
against the schema of what :func:`save` writes (keys, types, dtypes and shapes, the
parameters against the estimator's constraints, the stored weights against the
network those parameters describe, built on PyTorch's ``meta`` device, which
allocates nothing). Anything else is a ``ValueError`` saying what is wrong.

Examples
--------
>>> import tempfile, os
>>> from sklearn.datasets import load_digits
>>> from sk_autoencoder import AutoencoderTransformer
>>> from sk_autoencoder import io
>>> X, _ = load_digits(return_X_y=True)
>>> ae = AutoencoderTransformer(n_components=4, max_epochs=2, random_state=0)
>>> ae = ae.fit(X[:200])
>>> path = os.path.join(tempfile.mkdtemp(), "model.skae")
>>> io.save(ae, path)
>>> loaded = io.load(path)
>>> bool((loaded.transform(X[:5]) == ae.transform(X[:5])).all())
True
"""

import json
import math
import os
import pickle
import re
import warnings
import zipfile
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.covariance import EmpiricalCovariance, MinCovDet
from skorch.history import History

from sk_autoencoder._autoencoder import AutoencoderTransformer
from sk_autoencoder._data import Scaler
from sk_autoencoder._denoising import DenoisingAutoencoder
from sk_autoencoder._outlier import AutoencoderOutlierDetector
from sk_autoencoder._vae import VAETransformer
from sk_autoencoder._validation import (
    check_hidden_layer_sizes,
    check_image_shape,
    check_is_fitted,
    validate_parameter_constraints,
)

__all__ = ["load", "save"]

_FORMAT = "sk_autoencoder.io/1"
_TRANSFORMERS = {
    cls.__name__: cls
    for cls in (AutoencoderTransformer, DenoisingAutoencoder, VAETransformer)
}
# parameters that may hold arbitrary Python objects: never stored (an accelerator
# is the process group of one launch, and loads as None)
_CODE_PARAMS = ("module", "callbacks", "accelerator")

# The limits load documents. A file over them is refused before anything is read:
# the pickle (read whole, and up to a few times larger once unpickled), all records
# together (mapped from the file, never inflated), and the network's weights.
_MAX_PICKLE_BYTES = 32 * 2**20
_MAX_ARCHIVE_BYTES = 4 * 2**30
_MAX_PARAMETERS = 2**28


def save(estimator, path):
    """Write a fitted estimator of this package to ``path`` in the safe format.

    Parameters
    ----------
    estimator : AutoencoderTransformer, DenoisingAutoencoder, VAETransformer \
or AutoencoderOutlierDetector
        A fitted estimator. Its ``module``, ``callbacks`` and ``accelerator``
        parameters are not stored (they are code, or the processes of one
        launch): pass the module again to :func:`load`, which gives
        ``accelerator=None``. The optimizer's state is stored, so that training
        continues after :func:`load` exactly as it would have without saving.

    path : str or path-like
        File to write.

    Raises
    ------
    NotFittedError
        If the estimator is not fitted.

    TypeError
        If the estimator is not one of the package's four classes.
    """
    torch.save({"format": _FORMAT, **_dump(estimator)}, path)


def load(path, *, module=None, device=None):
    """Read an estimator written by :func:`save`, running no code from the file.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save`.

    module : torch.nn.Module class or instance, default=None
        The user module the estimator was trained with, if any; the file holds
        its weights but not its code.

    device : {'auto', 'cpu', 'cuda'}, default=None
        Where to put the loaded model; it becomes the estimator's ``device``
        parameter. ``None`` keeps the saved one, except that a model saved with
        ``device='cuda'`` loads with ``device='cpu'``, and a warning, on a
        machine without CUDA.

    Returns
    -------
    estimator : estimator object
        The fitted estimator, on the device its ``device`` parameter selects
        here (``'auto'``: CUDA when available, else the CPU), with the
        optimizer's state it was saved with.

    Raises
    ------
    ValueError
        If the file is not one :func:`save` writes: not a torch archive (empty,
        truncated, text), an archive with compressed or unexpected records, a
        class that is not one of the package's estimators, any other type of
        object, a missing or unknown entry or parameter, a parameter its
        estimator would refuse, values that are not finite, weights or scaling
        that do not match the declared shapes, or a model trained with a user
        module loaded without ``module=``.

    Notes
    -----
    The file is checked before any weight is read or any network is built, and
    refused over these limits: the pickled structure over 32 MiB, all records
    over 4 GiB, or a network over 2**28 (about 268 million) parameters, 1 GiB in
    float32. Records are mapped from the file rather than read, and copied once
    into the network, so loading needs about the file's size in memory.
    """
    where = repr(str(path))
    _check_archive(path, where)
    payload = _read_archive(path, where)
    if device is None:
        device = _default_device(payload)
    elif device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}.")
    estimator = _check_payload(payload, module, device, where)
    _build_networks(estimator, payload)
    return estimator


# ---- the archive: checked from its index, before torch reads anything ---------

# what torch.save writes under the archive's one folder
_TORCH_RECORDS = re.compile(
    r"data\.pkl|data/\d+|version|byteorder|\.format_version|\.storage_alignment"
    r"|\.data/version|\.data/serialization_id"
)


def _check_archive(path, where):
    """Refuse a file that is not a torch archive of plain, bounded records."""
    size = os.path.getsize(path)
    try:
        with zipfile.ZipFile(path) as archive:
            records = archive.infolist()
    except (PermissionError, IsADirectoryError):
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise ValueError(
            f"{where} is not a file written by sk_autoencoder.io.save: it is not "
            f"a zip archive as torch.save writes ({size} bytes; empty, truncated "
            f"or another kind of file: {error})."
        ) from None
    names = [r.filename for r in records]
    folders = {name.split("/", 1)[0] for name in names}
    folder = folders.pop() if len(folders) == 1 else None
    is_unique = len(set(names)) == len(names)
    if folder in (None, "", ".", "..") or "\\" in folder or not is_unique:
        raise ValueError(
            f"{where} is not a file written by sk_autoencoder.io.save: its records "
            f"do not sit in one folder under unique names ({names[:5]!r}...)."
        )
    for record in records:
        name = record.filename[len(folder) + 1 :]
        if not _TORCH_RECORDS.fullmatch(name):
            raise ValueError(
                f"{where} holds a record {record.filename!r} that torch.save never "
                "writes; refusing to load it."
            )
        if record.compress_type != zipfile.ZIP_STORED or record.flag_bits & 1:
            # a deflated record can inflate a thousandfold when read
            raise ValueError(
                f"{where} holds the compressed or encrypted record "
                f"{record.filename!r}; io.save writes every record as plain bytes, "
                "so refusing to load it."
            )
        if (
            record.file_size != record.compress_size
            or record.header_offset + record.compress_size > size
        ):
            raise ValueError(
                f"{where} declares a record {record.filename!r} of "
                f"{record.file_size} bytes that the {size}-byte file cannot hold; "
                "it is truncated or altered."
            )
    if f"{folder}/data.pkl" not in names:
        raise ValueError(f"{where} is not a file written by sk_autoencoder.io.save.")
    pickle_bytes = next(r.file_size for r in records if r.filename.endswith(".pkl"))
    total = sum(r.file_size for r in records)
    if pickle_bytes > _MAX_PICKLE_BYTES or total > _MAX_ARCHIVE_BYTES or total > size:
        raise ValueError(
            f"{where} declares {pickle_bytes} bytes of structure and {total} bytes "
            f"in all in a {size}-byte file; io.load reads at most "
            f"{_MAX_PICKLE_BYTES} and {_MAX_ARCHIVE_BYTES} bytes, and no more than "
            "the file holds."
        )


def _read_archive(path, where):
    """The payload, its tensors mapped from the file rather than read into memory."""
    try:
        return torch.load(path, weights_only=True, map_location="cpu", mmap=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{where} holds objects other than tensors, numbers and strings, "
            "so it was not written by sk_autoencoder.io.save or has been tampered "
            f"with; refusing to load it ({error})."
        ) from None
    except (Exception, RecursionError) as error:
        # the archive is well formed and bounded; what torch's reader still
        # refuses (a record of the wrong size, a tensor beyond its storage, a
        # sparse tensor breaking its invariants) is a fault of the file
        raise ValueError(
            f"{where} is not a file written by sk_autoencoder.io.save: torch "
            f"cannot read it ({type(error).__name__}: {error})."
        ) from None


def _default_device(payload):
    """The saved device, or the CPU, with a warning, for CUDA on a machine without."""
    if not isinstance(payload, dict):
        return None
    transformer = payload.get("estimator_", payload)
    params = transformer.get("params") if isinstance(transformer, dict) else None
    saved = params.get("device") if isinstance(params, dict) else None
    if saved == "cuda" and not torch.cuda.is_available():
        warnings.warn(
            "The model was saved with device='cuda' but torch finds no CUDA "
            "device here, so it is loaded with device='cpu'.",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    return None


# ---- the schema: what a file holds, how it is checked, saved and restored -----


def _refuse(what, problem):
    raise ValueError(f"The file's {what} {problem}; refusing to load it.")


def _check_tensor(value, what, dtype, shape, sizes):
    """Check a tensor's type, layout, device, dtype and shape: metadata only.

    ``shape`` holds ints, names of sizes of the state (``"n_features_in_"``) and
    ``None`` for any length.
    """
    if not isinstance(value, torch.Tensor):
        _refuse(what, f"is a {type(value).__name__}, not a tensor")
    if value.layout != torch.strided:
        _refuse(what, f"is a {value.layout} tensor; io.save writes dense ones")
    if value.device.type != "cpu":
        _refuse(what, f"is a tensor on the {value.device.type!r} device, not the CPU")
    if value.dtype != dtype:
        _refuse(what, f"has dtype {value.dtype}; expected {dtype}")
    expected = [sizes[d] if isinstance(d, str) else d for d in shape]
    if len(value.shape) != len(expected) or any(
        e is not None and n != e for n, e in zip(value.shape, expected)
    ):
        _refuse(what, f"has shape {tuple(value.shape)}; expected {tuple(expected)}")


def _check_finite(value, what):
    """Values of a floating tensor: read now, after its metadata passed."""
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        _refuse(what, "holds NaN or infinite values")


class _Integer:
    """An int in ``[low, high]``."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def check(self, value, what, sizes):
        if not isinstance(value, int) or isinstance(value, bool):
            _refuse(what, f"is a {type(value).__name__}, not an int")
        if not self.low <= value <= self.high:
            _refuse(what, f"is {value}, outside [{self.low}, {self.high}]")

    def dump(self, value):
        return int(value)

    def restore(self, value):
        return value


class _Float:
    """A finite float."""

    def check(self, value, what, sizes):
        if not isinstance(value, float) or not math.isfinite(value):
            _refuse(what, f"is {value!r}, not a finite float")

    def dump(self, value):
        return float(value)

    def restore(self, value):
        return value


class _Floats:
    """A tuple of ``n`` finite floats, saved as a list."""

    def __init__(self, n):
        self.n = n

    def check(self, value, what, sizes):
        if not isinstance(value, (list, tuple)) or len(value) != self.n:
            _refuse(what, f"is not a list of {self.n} floats")
        for v in value:
            _Float().check(v, what, sizes)

    def dump(self, value):
        return [float(v) for v in value]

    def restore(self, value):
        return tuple(value)


class _Sizes:
    """A tuple of positive ints (or ``None`` when ``none_ok``)."""

    def __init__(self, none_ok=False):
        self.none_ok = none_ok

    def check(self, value, what, sizes):
        if value is None and self.none_ok:
            return
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in value
        ):
            _refuse(what, f"is {value!r}, not a tuple of positive ints")

    def dump(self, value):
        return value if value is None else tuple(int(s) for s in value)

    def restore(self, value):
        return value if value is None else tuple(value)


class _Names:
    """One string per feature, restored as an object array."""

    def check(self, value, what, sizes):
        if (
            not isinstance(value, (list, tuple))
            or len(value) != sizes["n_features_in_"]
            or not all(isinstance(n, str) for n in value)
        ):
            _refuse(what, "is not a list of one string per feature")

    def dump(self, value):
        return [str(n) for n in value]

    def restore(self, value):
        return np.asarray(value, dtype=object)


class _Array:
    """An ndarray, saved as a tensor of ``dtype`` whose shape names state sizes."""

    def __init__(self, shape, dtype=torch.float64, positive=False):
        self.shape, self.dtype, self.positive = shape, dtype, positive

    def check(self, value, what, sizes):
        _check_tensor(value, what, self.dtype, self.shape, sizes)

    def check_values(self, value, what):
        _check_finite(value, what)
        if self.positive and not bool((value > 0).all()):
            _refuse(what, "holds zeros or negative values where it divides")

    def dump(self, value):
        return torch.as_tensor(np.asarray(value)).to(self.dtype).cpu().clone()

    def restore(self, value):
        return value.numpy().copy()  # off the file's mapping


class _ArrayPair:
    """Two arrays saved as a list of two tensors, restored by ``restore_pair``."""

    def __init__(self, first, second, *, to_pair, from_pair):
        self.arrays = (first, second)
        self.to_pair, self.from_pair = to_pair, from_pair

    def check(self, value, what, sizes):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            _refuse(what, "is not a list of two tensors")
        for array, v in zip(self.arrays, value):
            array.check(v, what, sizes)

    def check_values(self, value, what):
        for array, v in zip(self.arrays, value):
            array.check_values(v, what)

    def dump(self, value):
        return [a.dump(v) for a, v in zip(self.arrays, self.to_pair(value))]

    def restore(self, value):
        return self.from_pair(*(a.restore(v) for a, v in zip(self.arrays, value)))


class _Field:
    """One saved value: its key in the file, the estimator's attribute, its kind.

    ``required`` fields are in every file of this version; others (feature names,
    say) only when the estimator has the attribute.
    """

    def __init__(self, key, attribute, kind, required=True):
        self.key, self.attribute, self.kind = key, attribute, kind
        self.required = required


_FEATURES = ("n_features_in_",)
_CODES = ("n_components_",)

# What a transformer's file holds besides its parameters and its net. A new fitted
# attribute is one line here; sizes (ints) come first, as shapes name them.
_TRANSFORMER_STATE = (
    _Field("n_features_in_", "n_features_in_", _Integer(1, _MAX_PARAMETERS)),
    _Field("n_components_", "n_components_", _Integer(1, _MAX_PARAMETERS)),
    _Field("seed", "_seed", _Integer(0, 2**32 - 1)),
    _Field(
        "scaler",
        "_scaler",
        _ArrayPair(
            _Array(_FEATURES),
            _Array(_FEATURES, positive=True),
            to_pair=lambda scaler: (scaler.offset, scaler.scale),
            from_pair=Scaler,
        ),
    ),
    _Field("image_shape", "_image_shape", _Sizes(none_ok=True)),
    _Field("hidden_layer_sizes", "_hidden_layer_sizes", _Sizes()),
    _Field("feature_names_in_", "feature_names_in_", _Names(), required=False),
    # the PCA start
    _Field("n_samples_", "n_samples_", _Integer(2, 2**63 - 1)),
    _Field("components_", "components_", _Array(("n_components_", "n_features_in_"))),
    _Field("explained_variance_", "explained_variance_", _Array(_CODES)),
    _Field("explained_variance_ratio_", "explained_variance_ratio_", _Array(_CODES)),
    _Field("singular_values_", "singular_values_", _Array(_CODES)),
    _Field("mean_", "mean_", _Array(_FEATURES)),
    _Field("noise_variance_", "noise_variance_", _Float()),
    _Field("latent_mean_", "latent_mean_", _Array(_CODES)),
    _Field("latent_covariance_", "latent_covariance_", _Array(_CODES * 2)),
    _Field(
        "reconstruction_noise_variance_", "reconstruction_noise_variance_", _Float()
    ),
    _Field(
        "reconstruction_explained_variance_ratio_",
        "reconstruction_explained_variance_ratio_",
        _Float(),
    ),
)
# what a class holds besides the shared state
_CLASS_STATE = {
    "DenoisingAutoencoder": (
        _Field(
            "noise_bounds",
            "_noise_bounds",
            _ArrayPair(
                _Array(_FEATURES),
                _Array(_FEATURES),
                to_pair=tuple,
                from_pair=lambda *bounds: bounds,
            ),
        ),
    ),
}
# what the transformer's net_ owns, saved from and restored into the net
_NET_STATE = ("module", "criterion", "history", "optimizer", "user_module")
_OPTIONAL_NET_STATE = ("optimizer", "user_module")  # not in files of earlier saves

# the detector's fit of the codes, and the shapes of what each holds
_CODES = ("n_components_",)
_SQUARE = ("n_components_", "n_components_")
_COVARIANCES = {
    "MinCovDet": (
        MinCovDet,
        {
            "location_": _Array(_CODES),
            "covariance_": _Array(_SQUARE),
            "precision_": _Array(_SQUARE),
            "support_": _Array((None,), torch.bool),
            "dist_": _Array((None,)),
            "raw_location_": _Array(_CODES),
            "raw_covariance_": _Array(_SQUARE),
            "raw_support_": _Array((None,), torch.bool),
        },
    ),
    "EmpiricalCovariance": (
        EmpiricalCovariance,
        {
            "location_": _Array(_CODES),
            "covariance_": _Array(_SQUARE),
            "precision_": _Array(_SQUARE),
        },
    ),
}


class _Covariance:
    """A fitted covariance estimator of the codes: its class name and arrays."""

    def check(self, value, what, sizes):
        if not isinstance(value, dict) or not isinstance(value.get("class"), str):
            _refuse(what, "is not a covariance fit")
        name = value["class"]
        if name not in _COVARIANCES:
            raise ValueError(
                f"The file names covariance class {name!r}, which the detector "
                "never fits; refusing to load it."
            )
        _, arrays = _COVARIANCES[name]
        _check_keys(value, {"class", *arrays}, set(), what)
        for key, array in arrays.items():
            array.check(value[key], f"{what} {key!r}", sizes)

    def check_values(self, value, what):
        _, arrays = _COVARIANCES[value["class"]]
        for key, array in arrays.items():
            array.check_values(value[key], f"{what} {key!r}")

    def dump(self, covariance):
        name = type(covariance).__name__
        _, arrays = _COVARIANCES[name]
        return {
            "class": name,
            **{k: a.dump(getattr(covariance, k)) for k, a in arrays.items()},
        }

    def restore(self, value):
        cls, arrays = _COVARIANCES[value["class"]]
        covariance = cls()
        for key, array in arrays.items():
            setattr(covariance, key, array.restore(value[key]))
        return covariance


# what a detector's file holds besides its parameters and inner estimator
_DETECTOR_STATE = (
    _Field("offset_", "offset_", _Float()),
    _Field(
        "residual_variance_",
        "residual_variance_",
        _Array(_FEATURES, positive=True),
    ),
    _Field("code_covariance_", "code_covariance_", _Covariance()),
    _Field("residual_law_", "residual_law_", _Floats(2)),
    _Field("code_law_", "code_law_", _Floats(2)),
)

# the names of each optimizer's per-parameter state, as the package configures it
_OPTIMIZER_STATE = {
    "adam": {"step", "exp_avg", "exp_avg_sq"},
    "adamw": {"step", "exp_avg", "exp_avg_sq"},
    "sgd": {"momentum_buffer"},
    "rmsprop": {"step", "square_avg"},
}


def _check_keys(entries, allowed, optional, what):
    """``entries`` is a dict holding the keys ``allowed``, or all but ``optional``."""
    if not isinstance(entries, dict) or not all(isinstance(k, str) for k in entries):
        _refuse(what, "is not a dict of named entries")
    missing = sorted(set(allowed) - set(optional) - set(entries))
    if missing:
        raise ValueError(
            "The file was saved by an earlier version of sk_autoencoder or "
            f"altered: {missing} missing from its {what}; fit the model again and "
            "save it."
        )
    unknown = sorted(set(entries) - set(allowed))
    if unknown:
        raise ValueError(
            f"The file holds {unknown} in its {what}, which this version of "
            "sk_autoencoder never saves (a newer version, or an altered file); "
            "refusing to load it."
        )


def _check_fields(entries, fields, sizes, what):
    """Check ``entries`` against ``fields``; the sizes read go into ``sizes``."""
    for field in fields:
        if field.key not in entries:
            continue
        value = entries[field.key]
        field.kind.check(value, f"{what} {field.key!r}", sizes)
        if isinstance(field.kind, _Integer):
            sizes[field.key] = value
    for field in fields:
        if field.key in entries and hasattr(field.kind, "check_values"):
            field.kind.check_values(entries[field.key], f"{what} {field.key!r}")


def _set_fields(estimator, entries, fields):
    for field in fields:
        if field.key in entries:
            setattr(estimator, field.attribute, field.kind.restore(entries[field.key]))


def _dump_fields(estimator, fields):
    return {
        field.key: field.kind.dump(getattr(estimator, field.attribute))
        for field in fields
        if field.required or hasattr(estimator, field.attribute)
    }


# ---- save ----------------------------------------------------------------------


def _dump(estimator):
    name = type(estimator).__name__
    if name != AutoencoderOutlierDetector.__name__ and name not in _TRANSFORMERS:
        raise TypeError(f"sk_autoencoder.io.save cannot store a {name}.")
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # the fitted seed is what matters
    if isinstance(estimator, AutoencoderOutlierDetector):
        return {
            "class": name,
            "params": {k: v for k, v in params.items() if k != "estimator"},
            # estimator=None (the detector's default) loads as None again
            "default_estimator": params["estimator"] is None,
            **_dump_fields(estimator, _DETECTOR_STATE),
            "estimator_": _dump(estimator.estimator_),
        }
    if not isinstance(params["optimizer"], str):
        raise ValueError(
            "sk_autoencoder.io.save stores optimizers by name only; got "
            f"optimizer={params['optimizer']!r}."
        )
    net = estimator.net_
    state = {
        **_dump_fields(estimator, _TRANSFORMER_STATE + _CLASS_STATE.get(name, ())),
        "module": _cpu_tensors(net.module_.state_dict()),
        "criterion": _cpu_tensors(net.criterion_.state_dict()),
        "optimizer": {
            index: _cpu_tensors(entry)
            for index, entry in net.optimizer_.state_dict()["state"].items()
        },
        "history": json.dumps(net.history.to_list()),
        "user_module": estimator.module is not None,
    }
    params = {k: v for k, v in params.items() if k not in _CODE_PARAMS}
    return {"class": name, "params": params, "state": state}


def _cpu_tensors(tensors):
    return {k: v.detach().cpu() for k, v in tensors.items() if torch.is_tensor(v)}


# ---- load, step 1: check the payload against the schema, build nothing ---------


def _check_payload(payload, module, device, where="The file"):
    """Check a payload read from a file; return the estimator it describes, unbuilt.

    Every entry is checked against the schema above: metadata (types, dtypes,
    shapes) first, then the values of the small arrays (finite, scales positive);
    the parameters against the estimator's constraints and against the fitted
    state; the stored weights against the network the parameters describe, built
    on the ``meta`` device, which allocates nothing. The estimator returned has
    its parameters and fitted attributes, but no network yet.
    """
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"{where} is not a file written by sk_autoencoder.io.save.")
    if payload.get("class") == AutoencoderOutlierDetector.__name__:
        return _check_detector(payload, module, device)
    return _check_transformer(payload, module, device, "model", ("format",))


def _check_class(name, classes, what):
    if not isinstance(name, str) or name not in classes:
        raise ValueError(
            f"The file names class {name!r} for its {what}, which is not one of "
            f"the package's estimators {sorted(classes)}; refusing to load it."
        )
    return classes[name]


def _check_params(cls, params, what, extra):
    """The saved parameters are exactly the class's, and each one is valid."""
    names = set(cls().get_params(deep=False))
    code = sorted(set(_CODE_PARAMS) & set(params)) if isinstance(params, dict) else []
    if code:
        raise ValueError(
            f"The file's {what} hold {code}, which io.save never stores (they are "
            "code, or the processes of one launch); refusing to load it."
        )
    _check_keys(params, names - set(_CODE_PARAMS) - {"estimator"}, (), what)
    if "optimizer" in params and not isinstance(params["optimizer"], str):
        _refuse(f"{what} 'optimizer'", "is not an optimizer's name")
    # the constraints' own messages, as fit would give them
    validate_parameter_constraints(
        cls._parameter_constraints, {**params, **extra}, caller_name=cls.__name__
    )


def _check_transformer(payload, module, device, what, extra_keys=()):
    name = payload.get("class") if isinstance(payload, dict) else None
    cls = _check_class(name, _TRANSFORMERS, what)
    _check_keys(payload, {"class", "params", "state", *extra_keys}, (), what)
    params = payload["params"]
    _check_params(cls, params, f"{what} parameters", {"module": module})
    fields = _TRANSFORMER_STATE + _CLASS_STATE.get(name, ())
    state = payload["state"]
    _check_keys(
        state,
        {f.key for f in fields} | set(_NET_STATE),
        {f.key for f in fields if not f.required} | set(_OPTIONAL_NET_STATE),
        f"{what} state",
    )
    _check_fields(state, fields, {}, f"{what} state")
    _check_state_against_params(state, params, module, f"{what} state")
    if device is not None:
        params = {**params, "device": device}
    estimator = cls(**params, module=module)
    _set_fields(estimator, state, fields)
    _check_net_state(estimator, state, module, f"{what} state")
    return estimator


def _check_state_against_params(state, params, module, what):
    """What fit derives from the parameters agrees with them."""
    n_features = state["n_features_in_"]
    sizes = check_hidden_layer_sizes(
        params["hidden_layer_sizes"], params["architecture"]
    )
    if tuple(state["hidden_layer_sizes"]) != sizes:
        _refuse(
            f"{what} 'hidden_layer_sizes'",
            f"is {state['hidden_layer_sizes']!r} but its parameters say {sizes!r}",
        )
    shape = check_image_shape(params["architecture"], params["image_shape"], n_features)
    saved = state["image_shape"]
    if (saved if saved is None else tuple(saved)) != shape:
        _refuse(
            f"{what} 'image_shape'", f"is {saved!r} but its parameters say {shape!r}"
        )
    n_components = params["n_components"]
    if isinstance(n_components, Integral) and state["n_components_"] != n_components:
        _refuse(
            f"{what} 'n_components_'",
            f"is {state['n_components_']} but its parameters say "
            f"n_components={n_components!r}",
        )
    user_module = state.get("user_module")
    if user_module is not None and not isinstance(user_module, bool):
        _refuse(f"{what} 'user_module'", "is not a bool")
    if user_module and module is None:
        raise ValueError(
            "The model was trained with a user module, whose code the file does "
            "not hold: pass it again, as io.load(path, module=YourModule)."
        )
    if user_module is False and module is not None:
        raise ValueError(
            "module= was given, but the model was trained with the package's own "
            "network; load it without module=."
        )


def _check_net_state(estimator, state, module, what):
    """The stored weights, optimizer state and history fit the described network."""
    n_features = estimator.n_features_in_
    hint = (
        "; if the model was trained with a user module, pass it as module="
        if module is None
        else ""
    )
    try:
        with torch.device("meta"):  # the shapes only: nothing is allocated
            expected = estimator._make_module(n_features).state_dict()
    except Exception:
        if module is None:
            raise
        expected = None  # a user module that cannot be built without memory
    with torch.device("meta"):
        expected_criterion = estimator._make_criterion(n_features).state_dict()
    if expected is not None:
        n_parameters = sum(t.numel() for t in expected.values())
        if n_parameters > _MAX_PARAMETERS:
            raise ValueError(
                f"The file's parameters describe a network of {n_parameters} "
                f"weights, over io.load's limit of {_MAX_PARAMETERS}; refusing to "
                "load it."
            )
    _check_state_dict(state["module"], expected, f"{what} 'module'", hint)
    _check_state_dict(
        state["criterion"], expected_criterion, f"{what} 'criterion'", hint
    )
    if "optimizer" in state:
        _check_optimizer_entries(state["optimizer"], f"{what} 'optimizer'")
    _check_history(state["history"], f"{what} 'history'")


def _check_state_dict(stored, expected, what, hint):
    if not isinstance(stored, dict) or not all(isinstance(k, str) for k in stored):
        _refuse(what, "is not a dict of named tensors")
    if expected is not None and set(stored) != set(expected):
        missing = sorted(set(expected) - set(stored))
        unknown = sorted(set(stored) - set(expected))
        raise ValueError(
            f"The weights in the file's {what} do not fit the network its "
            "parameters describe: "
            f"it lacks {missing[:4]} and holds {unknown[:4]}{hint}."
        )
    n_weights = 0
    for key, value in stored.items():
        if expected is not None:
            reference = expected[key]
            _check_tensor(
                value, f"{what} {key!r}", reference.dtype, reference.shape, {}
            )
        else:
            _check_tensor(value, f"{what} {key!r}", value.dtype, value.shape, {})
        n_weights += value.numel()
    if n_weights > _MAX_PARAMETERS:
        _refuse(what, f"holds {n_weights} weights, over the limit of {_MAX_PARAMETERS}")
    for key, value in stored.items():
        _check_finite(value, f"{what} {key!r}")


def _check_optimizer_entries(entries, what):
    """Per-parameter tensors; their shapes are checked against the built network."""
    if not isinstance(entries, dict) or not all(
        isinstance(i, int) and isinstance(e, dict) for i, e in entries.items()
    ):
        _refuse(what, "is not a dict of per-parameter states")
    for entry in entries.values():
        for key, value in entry.items():
            if not isinstance(key, str) or not torch.is_tensor(value):
                _refuse(what, "holds entries other than named tensors")
            _check_tensor(value, f"{what} {key!r}", value.dtype, value.shape, {})
            if not value.is_floating_point():
                _refuse(f"{what} {key!r}", f"has dtype {value.dtype}")


# epochs, their batches, each batch's values: skorch's History nests no deeper
_HISTORY_DEPTH = 3


def _check_history(text, what):
    if not isinstance(text, str):
        _refuse(what, "is not a JSON string")
    try:
        epochs = json.loads(text)
    except (ValueError, RecursionError) as error:
        _refuse(what, f"is not JSON skorch's History reads ({type(error).__name__})")
    if not isinstance(epochs, list) or not all(isinstance(e, dict) for e in epochs):
        _refuse(what, "is not a list of one record per epoch")
    for epoch in epochs:
        if not isinstance(epoch.get("epoch"), int) or not isinstance(
            epoch.get("train_loss"), Real
        ):
            _refuse(what, "holds an epoch without its number or train_loss")
    # iteratively, so that a deep nesting cannot exhaust the stack
    stack = [(epochs, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > _HISTORY_DEPTH:
                _refuse(what, f"nests deeper than {_HISTORY_DEPTH} levels")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)


def _check_detector(payload, module, device):
    fields = {f.key for f in _DETECTOR_STATE}
    _check_keys(
        payload,
        {"format", "class", "params", "estimator_", "default_estimator", *fields},
        ("default_estimator",),  # files of earlier versions lack it
        "detector",
    )
    default = payload.get("default_estimator", False)
    if not isinstance(default, bool):
        _refuse("detector 'default_estimator'", "is not a bool")
    inner_payload = payload["estimator_"]
    inner_name = inner_payload.get("class") if isinstance(inner_payload, dict) else None
    _check_class(inner_name, _TRANSFORMERS, "detector's inner estimator")
    inner = _check_transformer(inner_payload, module, device, "inner estimator")
    params = payload["params"]
    _check_params(
        AutoencoderOutlierDetector, params, "detector parameters", {"estimator": inner}
    )
    sizes = {
        "n_features_in_": inner.n_features_in_,
        "n_components_": inner.n_components_,
    }
    _check_fields(payload, _DETECTOR_STATE, sizes, "detector")
    detector = AutoencoderOutlierDetector(None if default else inner, **params)
    detector.estimator_ = inner
    _set_fields(detector, payload, _DETECTOR_STATE)
    covariance = detector.code_covariance_
    if isinstance(covariance, MinCovDet):
        covariance.random_state = inner._seed
    covariance.n_features_in_ = inner.n_components_
    detector.n_features_in_ = inner.n_features_in_
    if hasattr(inner, "feature_names_in_"):
        detector.feature_names_in_ = inner.feature_names_in_
    return detector


# ---- load, step 2: build the networks the checked payload describes ------------


def _build_networks(estimator, payload):
    if isinstance(estimator, AutoencoderOutlierDetector):
        _build_networks(estimator.estimator_, payload["estimator_"])
        return
    state = payload["state"]
    estimator._build_network(estimator.n_features_in_)
    net = estimator.net_
    try:
        net.module_.load_state_dict(state["module"])
    except RuntimeError as error:  # a user module whose shapes were not checked
        raise ValueError(
            f"The file's module weights do not fit the module given as module=: "
            f"{error}"
        ) from None
    net.criterion_.load_state_dict(state["criterion"])
    if "optimizer" in state:
        _load_optimizer_state(
            net.optimizer_, state["optimizer"], estimator.optimizer
        )
    net.history = History(json.loads(state["history"]))


def _load_optimizer_state(optimizer, entries, name):
    """Load saved per-parameter state, keeping the estimator's hyperparameters.

    Only the tensors come from the file: learning rate and the other settings
    are those of the estimator's parameters, so a file cannot set them.
    """
    what = "optimizer state"
    params = [p for group in optimizer.param_groups for p in group["params"]]
    names = _OPTIMIZER_STATE.get(name)
    for index, entry in entries.items():
        if not 0 <= index < len(params):
            _refuse(what, f"holds a state for parameter {index} of {len(params)}")
        if names is not None and set(entry) != names:
            _refuse(what, f"holds {sorted(entry)}; {name!r} keeps {sorted(names)}")
        for key, value in entry.items():
            shape = () if key == "step" else params[index].shape
            if tuple(value.shape) != tuple(shape):
                _refuse(
                    f"{what} {key!r}",
                    f"has shape {tuple(value.shape)} for a parameter of shape "
                    f"{tuple(params[index].shape)}",
                )
            _check_finite(value, f"{what} {key!r}")
    state = optimizer.state_dict()
    state["state"] = {
        index: {key: value.clone() for key, value in entry.items()}
        for index, entry in entries.items()
    }
    optimizer.load_state_dict(state)
