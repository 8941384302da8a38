"""The saved state of fitted estimators: what a file holds, checked before use.

Each estimator declares its fitted state as :class:`Field` entries (a key in the
file, the attribute it restores, its kind) and saves and restores it itself
(``_save_state`` and ``_restore_state``); :mod:`sk_autoencoder.io` keeps the file
format. The kinds check a value from an untrusted file in two steps: ``check``
reads only metadata (types, dtypes, shapes against the sizes read so far), then
``check_values`` the values of small arrays (finite, scales positive). Every
problem is a ``ValueError`` that names the entry.
"""

import json
import math
from numbers import Real

import numpy as np
import torch

# the most weights io.load builds a network of (1 GiB of float32)
MAX_PARAMETERS = 2**28


def refuse(what, problem):
    raise ValueError(f"The file's {what} {problem}; refusing to load it.")


def check_tensor(value, what, dtype, shape, sizes):
    """Check a tensor's type, layout, device, dtype and shape: metadata only.

    ``shape`` holds ints, names of sizes of the state (``"n_features_in_"``) and
    ``None`` for any length.
    """
    if not isinstance(value, torch.Tensor):
        refuse(what, f"is a {type(value).__name__}, not a tensor")
    if value.layout != torch.strided:
        refuse(what, f"is a {value.layout} tensor; io.save writes dense ones")
    if value.device.type != "cpu":
        refuse(what, f"is a tensor on the {value.device.type!r} device, not the CPU")
    if value.dtype != dtype:
        refuse(what, f"has dtype {value.dtype}; expected {dtype}")
    expected = [sizes[d] if isinstance(d, str) else d for d in shape]
    if len(value.shape) != len(expected) or any(
        e is not None and n != e for n, e in zip(value.shape, expected, strict=True)
    ):
        refuse(what, f"has shape {tuple(value.shape)}; expected {tuple(expected)}")


def check_finite(value, what):
    """Values of a floating tensor: read now, after its metadata passed."""
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        refuse(what, "holds NaN or infinite values")


class Kind:
    """What a saved value is: ``check`` it (metadata), ``dump`` and ``restore`` it."""

    def dump(self, value):
        return value

    def restore(self, value):
        return value


class Integer(Kind):
    """An int in ``[low, high]``."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def check(self, value, what, sizes):
        if not isinstance(value, int) or isinstance(value, bool):
            refuse(what, f"is a {type(value).__name__}, not an int")
        if not self.low <= value <= self.high:
            refuse(what, f"is {value}, outside [{self.low}, {self.high}]")

    def dump(self, value):
        return int(value)


class Float(Kind):
    """A finite float."""

    def check(self, value, what, sizes):
        if not isinstance(value, float) or not math.isfinite(value):
            refuse(what, f"is {value!r}, not a finite float")

    def dump(self, value):
        return float(value)


class Floats:
    """A tuple of ``n`` finite floats, saved as a list."""

    def __init__(self, n):
        self.n = n

    def check(self, value, what, sizes):
        if not isinstance(value, (list, tuple)) or len(value) != self.n:
            refuse(what, f"is not a list of {self.n} floats")
        for v in value:
            Float().check(v, what, sizes)

    def dump(self, value):
        return [float(v) for v in value]

    def restore(self, value):
        return tuple(value)


class Names:
    """One string per feature, restored as an object array."""

    def check(self, value, what, sizes):
        if (
            not isinstance(value, (list, tuple))
            or len(value) != sizes["n_features_in_"]
            or not all(isinstance(n, str) for n in value)
        ):
            refuse(what, "is not a list of one string per feature")

    def dump(self, value):
        return [str(n) for n in value]

    def restore(self, value):
        return np.asarray(value, dtype=object)


class Array:
    """An ndarray, saved as a tensor of ``dtype`` whose shape names state sizes."""

    def __init__(self, shape, dtype=torch.float64, positive=False):
        self.shape, self.dtype, self.positive = shape, dtype, positive

    def check(self, value, what, sizes):
        check_tensor(value, what, self.dtype, self.shape, sizes)

    def check_values(self, value, what):
        check_finite(value, what)
        if self.positive and not bool((value > 0).all()):
            refuse(what, "holds zeros or negative values where it divides")

    def dump(self, value):
        return torch.as_tensor(np.asarray(value)).to(self.dtype).cpu().clone()

    def restore(self, value):
        return value.numpy().copy()  # off the file's mapping


class ArrayPair:
    """Two arrays saved as a list of two tensors, restored by ``restore_pair``."""

    def __init__(self, first, second, *, to_pair, from_pair):
        self.arrays = (first, second)
        self.to_pair, self.from_pair = to_pair, from_pair

    def check(self, value, what, sizes):
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            refuse(what, "is not a list of two tensors")
        for array, v in zip(self.arrays, value, strict=True):
            array.check(v, what, sizes)

    def check_values(self, value, what):
        for array, v in zip(self.arrays, value, strict=True):
            array.check_values(v, what)

    def dump(self, value):
        return [
            a.dump(v) for a, v in zip(self.arrays, self.to_pair(value), strict=True)
        ]

    def restore(self, value):
        return self.from_pair(
            *(a.restore(v) for a, v in zip(self.arrays, value, strict=True))
        )


class Field:
    """One saved value: its key in the file, the estimator's attribute, its kind.

    ``required`` fields are in every file of this version; others (feature names,
    say) only when the estimator has the attribute.
    """

    def __init__(self, key, attribute, kind, required=True):
        self.key, self.attribute, self.kind = key, attribute, kind
        self.required = required


class Covariance:
    """The detector's fit of its codes (an ``EmpiricalCovariance``): its arrays."""

    _CLASS = "EmpiricalCovariance"
    _SQUARE = ("n_components_", "n_components_")
    _ARRAYS = {
        "location_": Array(("n_components_",)),
        "covariance_": Array(_SQUARE),
        "precision_": Array(_SQUARE),
    }

    def check(self, value, what, sizes):
        if not isinstance(value, dict) or not isinstance(value.get("class"), str):
            refuse(what, "is not a covariance fit")
        if value["class"] != self._CLASS:
            raise ValueError(
                f"The file names covariance class {value['class']!r}, which the "
                "detector never fits; refusing to load it."
            )
        check_keys(value, {"class", *self._ARRAYS}, set(), what)
        for key, array in self._ARRAYS.items():
            array.check(value[key], f"{what} {key!r}", sizes)

    def check_values(self, value, what):
        for key, array in self._ARRAYS.items():
            array.check_values(value[key], f"{what} {key!r}")

    def dump(self, covariance):
        arrays = {k: a.dump(getattr(covariance, k)) for k, a in self._ARRAYS.items()}
        return {"class": type(covariance).__name__, **arrays}

    def restore(self, value):
        from sklearn.covariance import EmpiricalCovariance

        covariance = EmpiricalCovariance()
        for key, array in self._ARRAYS.items():
            setattr(covariance, key, array.restore(value[key]))
        covariance.n_features_in_ = len(covariance.location_)
        return covariance


# the names of each optimizer's per-parameter state, as the package configures it
OPTIMIZER_STATE = {
    "adam": {"step", "exp_avg", "exp_avg_sq"},
    "adamw": {"step", "exp_avg", "exp_avg_sq"},
    "sgd": {"momentum_buffer"},
    "rmsprop": {"step", "square_avg"},
}


def cpu_tensors(tensors):
    """The tensors of a state dict, detached and on the CPU."""
    return {k: v.detach().cpu() for k, v in tensors.items() if torch.is_tensor(v)}


def check_keys(entries, allowed, optional, what):
    """``entries`` is a dict holding the keys ``allowed``, or all but ``optional``."""
    if not isinstance(entries, dict) or not all(isinstance(k, str) for k in entries):
        refuse(what, "is not a dict of named entries")
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


def check_fields(entries, fields, sizes, what):
    """Check ``entries`` against ``fields``; the sizes read go into ``sizes``."""
    for field in fields:
        if field.key not in entries:
            continue
        value = entries[field.key]
        field.kind.check(value, f"{what} {field.key!r}", sizes)
        if isinstance(field.kind, Integer):
            sizes[field.key] = value
    for field in fields:
        if field.key in entries and hasattr(field.kind, "check_values"):
            field.kind.check_values(entries[field.key], f"{what} {field.key!r}")


def set_fields(estimator, entries, fields):
    for field in fields:
        if field.key in entries:
            setattr(estimator, field.attribute, field.kind.restore(entries[field.key]))


def dump_fields(estimator, fields):
    return {
        field.key: field.kind.dump(getattr(estimator, field.attribute))
        for field in fields
        if field.required or hasattr(estimator, field.attribute)
    }


def check_state_dict(stored, expected, what, hint):
    if not isinstance(stored, dict) or not all(isinstance(k, str) for k in stored):
        refuse(what, "is not a dict of named tensors")
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
        # without the network (a user module not built before loading), any
        # tensor's dtype and shape; load_state_dict compares them
        reference = value if expected is None else expected[key]
        dtype, shape = (
            getattr(reference, "dtype", None),
            getattr(reference, "shape", ()),
        )
        check_tensor(value, f"{what} {key!r}", dtype, shape, {})
        n_weights += value.numel()
    if n_weights > MAX_PARAMETERS:
        refuse(what, f"holds {n_weights} weights, over the limit of {MAX_PARAMETERS}")
    for key, value in stored.items():
        check_finite(value, f"{what} {key!r}")


def check_optimizer_entries(entries, what):
    """Per-parameter tensors; their shapes are checked against the built network."""
    if not isinstance(entries, dict) or not all(
        isinstance(i, int) and isinstance(e, dict) for i, e in entries.items()
    ):
        refuse(what, "is not a dict of per-parameter states")
    for entry in entries.values():
        for key, value in entry.items():
            if not isinstance(key, str) or not torch.is_tensor(value):
                refuse(what, "holds entries other than named tensors")
            check_tensor(value, f"{what} {key!r}", value.dtype, value.shape, {})
            if not value.is_floating_point():
                refuse(f"{what} {key!r}", f"has dtype {value.dtype}")


# epochs, their batches, each batch's values: skorch's History nests no deeper
_HISTORY_DEPTH = 3


def check_history(text, what):
    if not isinstance(text, str):
        refuse(what, "is not a JSON string")
    try:
        epochs = json.loads(text)
    except (ValueError, RecursionError) as error:
        refuse(what, f"is not JSON skorch's History reads ({type(error).__name__})")
    if not isinstance(epochs, list) or not all(isinstance(e, dict) for e in epochs):
        refuse(what, "is not a list of one record per epoch")
    for epoch in epochs:
        if not isinstance(epoch.get("epoch"), int) or not isinstance(
            epoch.get("train_loss"), Real
        ):
            refuse(what, "holds an epoch without its number or train_loss")
    # iteratively, so that a deep nesting cannot exhaust the stack
    stack = [(epochs, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > _HISTORY_DEPTH:
                refuse(what, f"nests deeper than {_HISTORY_DEPTH} levels")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)


def load_optimizer_state(optimizer, entries, name):
    """Load saved per-parameter state, keeping the estimator's hyperparameters.

    Only the tensors come from the file: learning rate and the other settings
    are those of the estimator's parameters, so a file cannot set them.
    """
    what = "optimizer state"
    params = [p for group in optimizer.param_groups for p in group["params"]]
    names = OPTIMIZER_STATE.get(name)
    for index, entry in entries.items():
        if not 0 <= index < len(params):
            refuse(what, f"holds a state for parameter {index} of {len(params)}")
        if names is not None and set(entry) != names:
            refuse(what, f"holds {sorted(entry)}; {name!r} keeps {sorted(names)}")
        for key, value in entry.items():
            shape = () if key == "step" else params[index].shape
            if tuple(value.shape) != tuple(shape):
                refuse(
                    f"{what} {key!r}",
                    f"has shape {tuple(value.shape)} for a parameter of shape "
                    f"{tuple(params[index].shape)}",
                )
            check_finite(value, f"{what} {key!r}")
    state = optimizer.state_dict()
    state["state"] = {
        index: {key: value.clone() for key, value in entry.items()}
        for index, entry in entries.items()
    }
    optimizer.load_state_dict(state)
