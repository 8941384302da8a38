"""Safe persistence: save fitted estimators and load them without running code.

``pickle`` and ``joblib`` work with every estimator, but loading a pickle runs
whatever code the file names, so only load pickles you made yourself. For a model
received from someone else, use :func:`save` and :func:`load`: the file holds only
tensors, numbers, strings and containers of them, read back with
``torch.load(weights_only=True)``, whose unpickler refuses every other type, and
:func:`load` rebuilds only the package's own estimator classes.

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
import pickle
import warnings

import numpy as np
import torch
from sklearn.covariance import EmpiricalCovariance, MinCovDet
from skorch.history import History

from sk_autoencoder._autoencoder import AutoencoderTransformer
from sk_autoencoder._data import Scaler
from sk_autoencoder._denoising import DenoisingAutoencoder
from sk_autoencoder._outlier import AutoencoderOutlierDetector
from sk_autoencoder._vae import VAETransformer

__all__ = ["load", "save"]

_FORMAT = "sk_autoencoder.io/1"
_TRANSFORMERS = {
    cls.__name__: cls
    for cls in (AutoencoderTransformer, DenoisingAutoencoder, VAETransformer)
}
# parameters that may hold arbitrary Python objects: never stored
_CODE_PARAMS = ("module", "callbacks")


def save(estimator, path):
    """Write a fitted estimator of this package to ``path`` in the safe format.

    Parameters
    ----------
    estimator : AutoencoderTransformer, DenoisingAutoencoder, VAETransformer \
or AutoencoderOutlierDetector
        A fitted estimator. Its ``module`` and ``callbacks`` parameters are not
        stored (they are code): pass the module again to :func:`load`.

    path : str or path-like
        File to write.
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
        here (``'auto'``: CUDA when available, else the CPU).

    Raises
    ------
    ValueError
        If the file is not in this format, names a class that is not one of the
        package's estimators, or holds any other type of object.
    """
    try:
        payload = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{str(path)!r} holds objects other than tensors, numbers and strings, "
            "so it was not written by sk_autoencoder.io.save or has been tampered "
            f"with; refusing to load it ({error})."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(
            f"{str(path)!r} is not a file written by sk_autoencoder.io.save."
        )
    if device is None:
        transformer = payload.get("estimator_", payload)
        saved = transformer.get("params", {}).get("device")
        if saved == "cuda" and not torch.cuda.is_available():
            warnings.warn(
                "The model was saved with device='cuda' but torch finds no CUDA "
                "device here, so it is loaded with device='cpu'.",
                UserWarning,
                stacklevel=2,
            )
            device = "cpu"
    elif device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}.")
    return _restore(payload, module, device)


# the detector's fit of the codes, and what each holds besides its parameters
_COVARIANCES = {
    "MinCovDet": (
        MinCovDet,
        (
            "location_",
            "covariance_",
            "precision_",
            "support_",
            "dist_",
            "raw_location_",
            "raw_covariance_",
            "raw_support_",
        ),
    ),
    "EmpiricalCovariance": (
        EmpiricalCovariance,
        ("location_", "covariance_", "precision_"),
    ),
}


def _dump_covariance(covariance):
    name = type(covariance).__name__
    _, attributes = _COVARIANCES[name]
    return {
        "class": name,
        **{a: torch.as_tensor(getattr(covariance, a)) for a in attributes},
    }


def _restore_covariance(payload, inner):
    name = payload["class"]
    if name not in _COVARIANCES:
        raise ValueError(
            f"The file names covariance class {name!r}, which the detector never "
            "fits; refusing to load it."
        )
    cls, attributes = _COVARIANCES[name]
    covariance = cls(random_state=inner._seed) if cls is MinCovDet else cls()
    for attribute in attributes:
        setattr(covariance, attribute, payload[attribute].numpy())
    covariance.n_features_in_ = inner.n_components_
    return covariance


# what a detector's entry holds besides its parameters and inner estimator
_DETECTOR_STATE = (
    "offset_",
    "residual_variance_",
    "code_covariance_",
    "residual_law_",
    "code_law_",
)


def _dump(estimator):
    name = type(estimator).__name__
    params = estimator.get_params(deep=False)
    if isinstance(estimator, AutoencoderOutlierDetector):
        inner = estimator.estimator_
        return {
            "class": name,
            "params": {k: v for k, v in params.items() if k != "estimator"},
            "offset_": float(estimator.offset_),
            "residual_variance_": torch.as_tensor(estimator.residual_variance_),
            "code_covariance_": _dump_covariance(estimator.code_covariance_),
            "residual_law_": [float(v) for v in estimator.residual_law_],
            "code_law_": [float(v) for v in estimator.code_law_],
            "estimator_": _dump(inner),
        }
    if name not in _TRANSFORMERS:
        raise TypeError(f"sk_autoencoder.io.save cannot store a {name}.")
    if not isinstance(params["optimizer"], str):
        raise ValueError(
            "sk_autoencoder.io.save stores optimizers by name only; got "
            f"optimizer={params['optimizer']!r}."
        )
    params = {k: v for k, v in params.items() if k not in _CODE_PARAMS}
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # the fitted seed below is what matters
    net = estimator.net_
    state = {
        "n_features_in_": int(estimator.n_features_in_),
        "n_components_": int(estimator.n_components_),
        "seed": int(estimator._seed),
        "scaler": [
            torch.as_tensor(estimator._scaler.offset),
            torch.as_tensor(estimator._scaler.scale),
        ],
        "image_shape": estimator._image_shape,
        "hidden_layer_sizes": estimator._hidden_layer_sizes,
        "module": {k: v.cpu() for k, v in net.module_.state_dict().items()},
        "criterion": {k: v.cpu() for k, v in net.criterion_.state_dict().items()},
        "history": json.dumps(net.history.to_list()),
    }
    if hasattr(estimator, "feature_names_in_"):
        state["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    if hasattr(estimator, "_noise_bounds"):
        state["noise_bounds"] = [torch.as_tensor(b) for b in estimator._noise_bounds]
    return {"class": name, "params": params, "state": state}


def _restore(payload, module, device):
    name = payload.get("class")
    if name == AutoencoderOutlierDetector.__name__:
        missing = [key for key in _DETECTOR_STATE if key not in payload]
        if missing:
            raise ValueError(
                f"The file holds a detector saved by an earlier version of "
                f"sk_autoencoder, without {missing}; fit it again and save it."
            )
        inner = _restore(payload["estimator_"], module, device)
        detector = AutoencoderOutlierDetector(inner, **payload["params"])
        detector.estimator_ = inner
        detector.offset_ = payload["offset_"]
        detector.residual_variance_ = payload["residual_variance_"].numpy()
        detector.residual_law_ = tuple(payload["residual_law_"])
        detector.code_law_ = tuple(payload["code_law_"])
        detector.code_covariance_ = _restore_covariance(
            payload["code_covariance_"], inner
        )
        detector.n_features_in_ = inner.n_features_in_
        if hasattr(inner, "feature_names_in_"):
            detector.feature_names_in_ = inner.feature_names_in_
        return detector
    if name not in _TRANSFORMERS:
        raise ValueError(
            f"The file names class {name!r}, which is not one of the package's "
            f"estimators {sorted(_TRANSFORMERS)}; refusing to load it."
        )
    params = payload["params"]
    if device is not None:
        params = {**params, "device": device}
    estimator = _TRANSFORMERS[name](**params, module=module)
    state = payload["state"]
    estimator.n_features_in_ = state["n_features_in_"]
    if "feature_names_in_" in state:
        estimator.feature_names_in_ = np.asarray(state["feature_names_in_"], object)
    estimator.n_components_ = state["n_components_"]
    estimator._seed = state["seed"]
    estimator._scaler = Scaler(*(t.numpy() for t in state["scaler"]))
    estimator._image_shape = state["image_shape"]
    estimator._hidden_layer_sizes = state["hidden_layer_sizes"]
    if "noise_bounds" in state:
        estimator._noise_bounds = tuple(t.numpy() for t in state["noise_bounds"])
    estimator._build_network(state["n_features_in_"])
    estimator.net_.module_.load_state_dict(state["module"])
    estimator.net_.criterion_.load_state_dict(state["criterion"])
    estimator.net_.history = History(json.loads(state["history"]))
    return estimator
