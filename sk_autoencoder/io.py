"""Safe persistence: save fitted estimators and load them without running code.

``pickle`` and ``joblib`` work with every estimator, but loading a pickle runs
whatever code the file names, so only load pickles you made yourself. For a model
received from someone else, use :func:`save` and :func:`load`: the file holds only
tensors, numbers, strings and containers of them, read back with
``torch.load(weights_only=True)``, whose unpickler refuses every other type, and
:func:`load` rebuilds only the package's own estimator classes.

:func:`load` treats the file as untrusted. Before it reads a single weight it
checks the archive (every record stored uncompressed, the sizes its index declares
within the file and within the limits below); the class must be one of the
package's and its parameters valid for it. The estimator then checks its fitted
state before it builds a network: keys, types, dtypes and shapes, the sizes
against the parameters, the stored weights against the network the parameters
describe, built on PyTorch's ``meta`` device, which allocates nothing. Anything
else is a ``ValueError`` saying what is wrong.

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

import os
import pickle
import re
import warnings
import zipfile

import torch

from sk_autoencoder._autoencoder import AutoencoderTransformer
from sk_autoencoder._denoising import DenoisingAutoencoder
from sk_autoencoder._outlier import AutoencoderOutlierDetector
from sk_autoencoder._state import check_keys, refuse
from sk_autoencoder._vae import VAETransformer
from sk_autoencoder._validation import check_is_fitted, validate_parameter_constraints

__all__ = ["load", "save"]

# 2: the layer widths and image shape are derived from the parameters, not stored;
# 3: the VAE's weights are those of its Variational wrapper (keys "module.*")
_FORMAT = "sk_autoencoder.io/3"
_EARLIER_FORMATS = ("sk_autoencoder.io/1", "sk_autoencoder.io/2")
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
    return _load_payload(payload, module, device, where)


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
            **estimator._save_state(),
            "estimator_": _dump(estimator.estimator_),
        }
    if not isinstance(params["optimizer"], str):
        raise ValueError(
            "sk_autoencoder.io.save stores optimizers by name only; got "
            f"optimizer={params['optimizer']!r}."
        )
    params = {k: v for k, v in params.items() if k not in _CODE_PARAMS}
    return {"class": name, "params": params, "state": estimator._save_state()}


# ---- load: the class and parameters here, the fitted state by the estimator ----


def _load_payload(payload, module, device, where="The file"):
    """The estimator a payload read from a file describes, checked and restored."""
    if isinstance(payload, dict) and payload.get("format") in _EARLIER_FORMATS:
        raise ValueError(
            f"{where} was written by an earlier version of sk_autoencoder.io.save "
            f"({payload['format']}), which this version does not read: fit the "
            "model again and save it."
        )
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"{where} is not a file written by sk_autoencoder.io.save.")
    if payload.get("class") == AutoencoderOutlierDetector.__name__:
        return _load_detector(payload, module, device)
    return _load_transformer(payload, module, device, "model", ("format",))


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
    check_keys(params, names - set(_CODE_PARAMS) - {"estimator"}, (), what)
    if "optimizer" in params and not isinstance(params["optimizer"], str):
        refuse(f"{what} 'optimizer'", "is not an optimizer's name")
    # the constraints' own messages, as fit would give them
    validate_parameter_constraints(
        cls._parameter_constraints, {**params, **extra}, caller_name=cls.__name__
    )


def _load_transformer(payload, module, device, what, extra_keys=()):
    name = payload.get("class") if isinstance(payload, dict) else None
    cls = _check_class(name, _TRANSFORMERS, what)
    check_keys(payload, {"class", "params", "state", *extra_keys}, (), what)
    params = payload["params"]
    _check_params(cls, params, f"{what} parameters", {"module": module})
    if device is not None:
        params = {**params, "device": device}
    return cls(**params, module=module)._restore_state(payload["state"], what)


_DETECTOR_KEYS = ("format", "class", "params", "estimator_", "default_estimator")


def _load_detector(payload, module, device):
    default = payload.get("default_estimator", False)
    if not isinstance(default, bool):
        refuse("detector 'default_estimator'", "is not a bool")
    inner_payload = payload.get("estimator_")
    if not isinstance(inner_payload, dict):
        refuse("detector 'estimator_'", "is not an estimator's entry")
    _check_class(
        inner_payload.get("class"), _TRANSFORMERS, "detector's inner estimator"
    )
    inner = _load_transformer(inner_payload, module, device, "inner estimator")
    params = payload.get("params")
    _check_params(
        AutoencoderOutlierDetector, params, "detector parameters", {"estimator": inner}
    )
    detector = AutoencoderOutlierDetector(None if default else inner, **params)
    state = {k: v for k, v in payload.items() if k not in _DETECTOR_KEYS}
    return detector._restore_state(state, inner)
