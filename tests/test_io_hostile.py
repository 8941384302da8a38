"""io.load on hostile or broken files: one table of clear errors, bounded memory.

Every row makes a bad file from a good one and asserts that ``io.load`` raises the
error type with a message naming what is wrong, and leaves the file untouched.
The memory bombs are loaded in a child process whose peak resident memory is
read from ``resource``.
"""

import hashlib
import json
import pickle
import subprocess
import sys
import textwrap
import zipfile

import _hostile_files
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    io,
)

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyModule(nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


MODELS = {
    "ae": lambda: AutoencoderTransformer(**FAST),
    "vae": lambda: VAETransformer(**FAST),
    "denoiser": lambda: DenoisingAutoencoder(**FAST),
    "detector": lambda: AutoencoderOutlierDetector(AutoencoderTransformer(**FAST)),
    "user_module": lambda: AutoencoderTransformer(module=TinyModule, **FAST),
}


@pytest.fixture(scope="module")
def good_files(X_digits, tmp_path_factory):
    """One saved file per model of ``MODELS``, fitted on 100 digits rows."""
    folder = tmp_path_factory.mktemp("good")
    paths = {}
    for name, make in MODELS.items():
        paths[name] = folder / f"{name}.skae"
        with pytest.warns(Warning):  # five epochs do not converge
            io.save(make().fit(X_digits[:100]), paths[name])
    return paths


# ---- ways to spoil a good file ---------------------------------------------------


def edit(change):
    """A maker that loads the payload, applies ``change`` to it and saves it."""

    def make(good, path):
        payload = torch.load(good, weights_only=True)
        change(payload)
        torch.save(payload, path)

    return make


def write_bytes(data):
    def make(good, path):
        path.write_bytes(data(good.read_bytes()) if callable(data) else data)

    return make


def rename_records(good, path):
    """Every record moved out of the archive's folder, as a path traversal would."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            out.writestr("../" + info.filename, source.read(info))


def drop_pickle(good, path):
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            if not info.filename.endswith("data.pkl"):
                out.writestr(info, source.read(info))


def deflate_bomb(good, path):
    _hostile_files.deflate_bomb(good, path, record_mib=16)


def layers(sizes):
    return lambda good, path: _hostile_files.declared_layers_file(good, path, sizes)


def set_in(*keys, value):
    def change(payload):
        entry = payload
        for key in keys[:-1]:
            entry = entry[key]
        entry[keys[-1]] = value(entry[keys[-1]]) if callable(value) else value

    return edit(change)


def delete(*keys):
    def change(payload):
        entry = payload
        for key in keys[:-1]:
            entry = entry[key]
        del entry[keys[-1]]

    return edit(change)


def relabel_vae_as_ae(payload):
    payload["class"] = "AutoencoderTransformer"
    del payload["params"]["beta"], payload["params"]["n_mc_samples"]


def nest_detector(payload):
    payload["estimator_"] = {k: v for k, v in payload.items() if k != "format"}


def fewer_features(payload):
    state = payload["state"]
    state["n_features_in_"] = 10
    state["scaler"] = [t[:10].clone() for t in state["scaler"]]


def zero_scale(scaler):
    scale = scaler[1].clone()
    scale[3] = 0.0
    return [scaler[0], scale]


def first_weight(change):
    def change_module(module):
        key = next(iter(module))
        return {**module, key: change(module[key])}

    return change_module


def wrong_optimizer_shape(optimizer):
    return {**optimizer, 0: {**optimizer[0], "exp_avg": torch.zeros(3)}}


WEIGHT = "encoder.0.weight"

# (id, good file, maker, exception, message fragment)
BAD_FILES = [
    ("zero-byte", "ae", write_bytes(b""), ValueError, "not a zip archive"),
    (
        "truncated",
        "ae",
        write_bytes(lambda b: b[: len(b) // 2]),
        ValueError,
        "not a zip archive",
    ),
    ("text", "ae", write_bytes(b"n_components=2\n"), ValueError, "not a zip archive"),
    (
        "zip-path-traversal",
        "ae",
        rename_records,
        ValueError,
        "records do not sit in one folder|torch.save never writes",
    ),
    (
        "archive-without-its-pickle",
        "ae",
        drop_pickle,
        ValueError,
        "not a file written by",
    ),
    (
        "deflated-record",
        "ae",
        deflate_bomb,
        ValueError,
        "compressed or encrypted record",
    ),
    (
        "relabelled-with-its-parameters",
        "vae",
        set_in("class", value="AutoencoderTransformer"),
        ValueError,
        r"holds \['beta'",
    ),
    (
        "relabelled-as-a-sibling",
        "vae",
        edit(relabel_vae_as_ae),
        ValueError,
        "do not fit the network its parameters describe",
    ),
    (
        "weights-inconsistent-with-n_features",
        "ae",
        edit(fewer_features),
        ValueError,
        "do not fit the network|expected",
    ),
    (
        "missing-key",
        "ae",
        delete("state", "seed"),
        ValueError,
        r"earlier version .*\['seed'\] missing",
    ),
    (
        "missing-parameter",
        "ae",
        delete("params", "loss"),
        ValueError,
        r"\['loss'\] missing",
    ),
    (
        "unknown-parameter",
        "ae",
        set_in("params", "colour", value="red"),
        ValueError,
        r"holds \['colour'\]",
    ),
    (
        "string-callbacks",
        "ae",
        set_in("params", "callbacks", value="PrintLog"),
        ValueError,
        r"\['callbacks'\], which io.save never stores",
    ),
    (
        "unknown-optimizer",
        "ae",
        set_in("params", "optimizer", value="lbfgs"),
        InvalidParameterError,
        "'optimizer' parameter",
    ),
    (
        "unknown-activation",
        "ae",
        set_in("params", "activation", value="swish"),
        InvalidParameterError,
        "'activation' parameter",
    ),
    (
        "device-meta",
        "ae",
        set_in("params", "device", value="meta"),
        InvalidParameterError,
        "'device' parameter",
    ),
    (
        "bfloat16-weights",
        "ae",
        set_in("state", "module", value=first_weight(lambda w: w.bfloat16())),
        ValueError,
        "dtype torch.bfloat16",
    ),
    (
        "meta-tensor",
        "ae",
        set_in("state", "module", value=first_weight(lambda w: w.to("meta"))),
        ValueError,
        "'meta' device, not",
    ),
    (
        "sparse-tensor",
        "ae",
        set_in("state", "module", value=first_weight(lambda w: w.to_sparse())),
        ValueError,
        "sparse_coo tensor",
    ),
    (
        "nan-weights",
        "ae",
        set_in("state", "module", value=first_weight(lambda w: w * np.nan)),
        ValueError,
        "NaN or infinite",
    ),
    (
        "deeply-nested-history",
        "ae",
        set_in("state", "history", value="[" * 100_000 + "]" * 100_000),
        ValueError,
        "not JSON",
    ),
    (
        "nested-history",
        "ae",
        set_in(
            "state",
            "history",
            value=json.dumps([{"epoch": 1, "train_loss": 1.0, "x": [[[[1]]]]}]),
        ),
        ValueError,
        "nests deeper",
    ),
    (
        "nested-detector",
        "detector",
        edit(nest_detector),
        ValueError,
        "inner estimator, which is not one of the package's estimators",
    ),
    (
        "unhashable-class-name",
        "ae",
        set_in("class", value=["AutoencoderTransformer"]),
        ValueError,
        r"names class \[",
    ),
    (
        "scaler-of-the-wrong-length",
        "ae",
        set_in("state", "scaler", value=lambda s: [t[:10].clone() for t in s]),
        ValueError,
        r"has shape \(10,\); expected \(64,\)",
    ),
    (
        "zero-scale",
        "ae",
        set_in("state", "scaler", value=zero_scale),
        ValueError,
        "zeros or negative",
    ),
    (
        "complex-scaler",
        "ae",
        set_in("state", "scaler", value=lambda s: [t.to(torch.complex128) for t in s]),
        ValueError,
        "dtype torch.complex128",
    ),
    (
        "inconsistent-n_components_",
        "ae",
        set_in("state", "n_components_", value=3),
        ValueError,
        r"'components_' has shape \(2, 64\); expected \(3, 64\)",
    ),
    (
        "hidden-layers-of-6000",
        "ae",
        layers((6000, 6000)),
        ValueError,
        "do not fit the network its parameters describe",
    ),
    (
        "hidden-layers-of-100000",
        "ae",
        layers((100000, 100000)),
        ValueError,
        "over io.load's limit",
    ),
    (
        "hidden-layers-unlike-the-parameters",
        "ae",
        set_in("state", "hidden_layer_sizes", value=(8,)),
        ValueError,
        r"holds \['hidden_layer_sizes'\] in its model state, which this version",
    ),
    (
        "user-module-without-module=",
        "user_module",
        lambda g, p: _copy(g, p),
        ValueError,
        r"pass it again, as io.load\(path, module=",
    ),
    (
        "user-module-of-an-earlier-save",
        "user_module",
        delete("state", "user_module"),
        ValueError,
        r"earlier version .*\['user_module'\] missing",
    ),
    (
        "optimizer-state-of-the-wrong-shape",
        "ae",
        set_in("state", "optimizer", value=wrong_optimizer_shape),
        ValueError,
        r"'exp_avg'.* has shape \(3,\)",
    ),
    (
        "denoiser-without-noise-bounds",
        "denoiser",
        delete("state", "noise_bounds"),
        ValueError,
        r"\['noise_bounds'\] missing",
    ),
    (
        "detector-nan-residual-variance",
        "detector",
        set_in("residual_variance_", value=lambda v: v * np.nan),
        ValueError,
        "NaN or infinite",
    ),
    (
        "detector-covariance-of-the-wrong-shape",
        "detector",
        set_in(
            "code_covariance_",
            "precision_",
            value=torch.zeros(3, 3, dtype=torch.float64),
        ),
        ValueError,
        r"has shape \(3, 3\); expected \(2, 2\)",
    ),
    (
        "detector-unknown-covariance",
        "detector",
        set_in("code_covariance_", "class", value="OAS"),
        ValueError,
        "never fits",
    ),
]


def _copy(good, path):
    _hostile_files.copy(good, path)


@pytest.mark.parametrize(
    "model, make, error, match",
    [row[1:] for row in BAD_FILES],
    ids=[row[0] for row in BAD_FILES],
)
def test_bad_file_is_refused_with_a_clear_error(
    model, make, error, match, good_files, tmp_path
):
    path = tmp_path / "bad.skae"
    make(good_files[model], path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(error, match=match):
        io.load(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_every_bad_file_error_is_a_value_error():
    # InvalidParameterError, the constraints' own error, is a ValueError too
    assert all(issubclass(row[3], ValueError) for row in BAD_FILES)


@pytest.mark.parametrize("model", list(MODELS))
def test_good_files_load(model, good_files):
    module = TinyModule if model == "user_module" else None
    assert io.load(good_files[model], module=module) is not None


def test_module_given_for_a_model_without_one_is_refused(good_files):
    with pytest.raises(ValueError, match="load it without module="):
        io.load(good_files["ae"], module=TinyModule)


@pytest.mark.parametrize("make", list(MODELS.values()), ids=list(MODELS))
def test_save_of_an_unfitted_estimator_raises_not_fitted(make, tmp_path):
    with pytest.raises(NotFittedError):
        io.save(make(), tmp_path / "m.skae")
    assert not (tmp_path / "m.skae").exists()


@pytest.mark.parametrize("name", ["ae", "vae", "denoiser"])
def test_partial_fit_after_load_equals_partial_fit_of_a_pickled_copy(
    name, X_digits, tmp_path
):
    estimator = MODELS[name]()
    with pytest.warns(Warning):
        estimator.fit(X_digits[:100])
    io.save(estimator, tmp_path / "m.skae")
    loaded = io.load(tmp_path / "m.skae")
    copied = pickle.loads(pickle.dumps(estimator))
    loaded.partial_fit(X_digits[100:])
    copied.partial_fit(X_digits[100:])
    np.testing.assert_array_equal(
        loaded.transform(X_digits), copied.transform(X_digits)
    )
    assert loaded.loss_curve_ == copied.loss_curve_


# peak memory of loading each bomb, measured in a child so that nothing the test
# process holds counts; the baseline is taken after loading a good file, so that
# lazily imported modules are in it
_PEAK_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    from sk_autoencoder import io

    io.load(sys.argv[1])
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = []
    for path in sys.argv[2:]:
        try:
            io.load(path)
            outcomes.append("loaded")
        except ValueError as error:
            outcomes.append(str(error))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_kib": peak - baseline, "outcomes": outcomes}))
    """
)


def test_memory_bombs_are_refused_in_bounded_memory(good_files, tmp_path):
    good = good_files["ae"]
    bombs = [tmp_path / name for name in ("deflate.skae", "l6000.skae", "l1e5.skae")]
    _hostile_files.deflate_bomb(good, bombs[0], record_mib=256)  # 0.27 MB
    _hostile_files.declared_layers_file(good, bombs[1], (6000, 6000))
    _hostile_files.declared_layers_file(good, bombs[2], (100000, 100000))
    assert bombs[0].stat().st_size < 2**20
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(good), *map(str, bombs)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert [o != "loaded" for o in report["outcomes"]] == [True] * 3
    # each bomb asks for 256 MiB, 290 MB and 80 GB
    assert report["growth_kib"] < 32 * 1024, report


class _NumpyAtBuild(TinyModule):
    """A user module whose constructor needs real memory, so that io.load cannot
    build it on the meta device to check the file's weights against it."""

    def __init__(self, n_features, n_components):
        super().__init__(n_features, n_components)
        self.register_buffer("shift", torch.from_numpy(torch.zeros(3).numpy()))


def test_weights_of_a_module_built_at_load_only_are_checked_too(X_digits, tmp_path):
    path = tmp_path / "model.skae"
    with pytest.warns(Warning):  # five epochs do not converge
        model = AutoencoderTransformer(module=_NumpyAtBuild, **FAST).fit(X_digits)
    io.save(model, path)
    payload = torch.load(path, weights_only=True)
    payload["state"]["module"]["shift"] = "not a tensor"
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"'shift'.* is a str, not a tensor"):
        io.load(path, module=_NumpyAtBuild)
