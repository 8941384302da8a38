"""Safe persistence: sk_autoencoder.io round trips and refuses foreign files."""

import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    io,
)

from conftest import FAST

FITTED = [
    AutoencoderTransformer(**FAST),
    DenoisingAutoencoder(noise="salt_pepper", **FAST),
    VAETransformer(**FAST),
    AutoencoderTransformer(architecture="conv", image_shape=(8, 8), **FAST),
]


@pytest.mark.parametrize("estimator", FITTED, ids=lambda e: type(e).__name__)
def test_save_load_round_trip_gives_identical_outputs(estimator, X_digits, tmp_path):
    estimator.fit(X_digits)
    path = tmp_path / "model.skae"
    io.save(estimator, path)
    loaded = io.load(path)
    assert type(loaded) is type(estimator)
    assert loaded.get_params() == estimator.get_params()
    for method in ("transform", "reconstruct", "score_samples"):
        # equal on the CPU; on CUDA, cuDNN may pick another convolution algorithm
        # for the loaded copy, which rounds differently in the last bit
        np.testing.assert_allclose(
            getattr(loaded, method)(X_digits),
            getattr(estimator, method)(X_digits),
            rtol=1e-12,
            atol=0,
        )
    assert loaded.n_iter_ == estimator.n_iter_
    assert loaded.loss_curve_ == estimator.loss_curve_


def test_loaded_model_keeps_training(X_digits, tmp_path):
    ae = AutoencoderTransformer(**FAST).fit(X_digits)
    io.save(ae, tmp_path / "m.skae")
    loaded = io.load(tmp_path / "m.skae")
    loaded.partial_fit(X_digits)
    assert loaded.n_iter_ == ae.n_iter_ + 1


def test_detector_round_trip(X_digits, tmp_path):
    detector = AutoencoderOutlierDetector(
        VAETransformer(**FAST), contamination=0.1
    ).fit(X_digits)
    io.save(detector, tmp_path / "d.skae")
    loaded = io.load(tmp_path / "d.skae")
    assert loaded.offset_ == detector.offset_
    np.testing.assert_array_equal(
        loaded.score_samples(X_digits), detector.score_samples(X_digits)
    )
    np.testing.assert_array_equal(loaded.predict(X_digits), detector.predict(X_digits))


def test_feature_names_survive(X_digits, tmp_path):
    frame = pd.DataFrame(X_digits, columns=[f"px{i}" for i in range(64)])
    ae = AutoencoderTransformer(**FAST).fit(frame)
    io.save(ae, tmp_path / "m.skae")
    loaded = io.load(tmp_path / "m.skae")
    np.testing.assert_array_equal(loaded.feature_names_in_, ae.feature_names_in_)


class TinyModule(nn.Module):
    def __init__(self, n_features, n_components):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_components)
        self.decoder = nn.Linear(n_components, n_features)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def test_user_module_weights_are_stored_and_code_is_passed_at_load(X_digits, tmp_path):
    ae = AutoencoderTransformer(module=TinyModule, **FAST).fit(X_digits)
    io.save(ae, tmp_path / "m.skae")
    loaded = io.load(tmp_path / "m.skae", module=TinyModule)
    np.testing.assert_array_equal(loaded.transform(X_digits), ae.transform(X_digits))


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_file_with_code_is_refused(tmp_path):
    path = tmp_path / "evil.skae"
    torch.save({"format": "sk_autoencoder.io/3", "class": _Exploit()}, path)
    with pytest.raises(ValueError, match="refusing to load"):
        io.load(path)


# torch warns that the weights-only unpickler meets a newer pickle protocol; that
# file is exactly the foreign input this test feeds it
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_plain_pickle_is_refused(tmp_path, X_digits):
    path = tmp_path / "model.pkl"
    with open(path, "wb") as f:
        pickle.dump(AutoencoderTransformer(**FAST).fit(X_digits), f)
    with pytest.raises(ValueError, match="refusing to load|not a file written"):
        io.load(path)


def test_unknown_class_is_refused(tmp_path):
    path = tmp_path / "other.skae"
    torch.save({"format": "sk_autoencoder.io/3", "class": "Popen", "params": {}}, path)
    with pytest.raises(ValueError, match="not one of the package's estimators"):
        io.load(path)


@pytest.mark.parametrize("version", [1, 2])
def test_a_file_of_an_earlier_format_is_refused_as_such(tmp_path, X_digits, version):
    # format 3 stores the VAE's weights under its Variational wrapper's keys
    path = tmp_path / "old.skae"
    io.save(VAETransformer(**FAST).fit(X_digits), path)
    payload = torch.load(path, weights_only=True)
    state = payload["state"]
    # an earlier file's VAE weights: the wrapped module's keys, unprefixed
    state["module"] = {k.removeprefix("module."): v for k, v in state["module"].items()}
    torch.save({**payload, "format": f"sk_autoencoder.io/{version}"}, path)
    with pytest.raises(
        ValueError, match=rf"earlier version .*\(sk_autoencoder.io/{version}\)"
    ):
        io.load(path)


def test_other_file_format_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a file written by"):
        io.load(path)


def test_detector_with_constant_codes_round_trip(tmp_path):
    # constant rows: the codes' covariance is zero
    X = np.ones((30, 5))
    with warnings.catch_warnings():
        # FAST's five epochs end at max_epochs; nothing else warns
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST)).fit(X)
    io.save(detector, tmp_path / "d.skae")
    loaded = io.load(tmp_path / "d.skae")
    assert type(loaded.code_covariance_) is type(detector.code_covariance_)
    np.testing.assert_array_equal(loaded.score_samples(X), detector.score_samples(X))


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the fallback of a machine without CUDA"
)
def test_model_saved_for_cuda_loads_on_cpu_with_a_warning(X_digits, tmp_path):
    # what a GPU-trained model's file holds: device='cuda' among its parameters
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST)).fit(X_digits)
    detector.estimator_.set_params(device="cuda")
    io.save(detector, tmp_path / "gpu.skae")
    with pytest.warns(UserWarning, match="saved with device='cuda'") as record:
        loaded = io.load(tmp_path / "gpu.skae")
    assert record[0].filename == __file__
    assert loaded.estimator_.device == "cpu"
    np.testing.assert_array_equal(
        loaded.score_samples(X_digits), detector.score_samples(X_digits)
    )


def test_load_puts_the_model_on_the_device_asked_for(X_digits, tmp_path):
    ae = AutoencoderTransformer(**FAST, device="auto").fit(X_digits)
    io.save(ae, tmp_path / "m.skae")
    loaded = io.load(tmp_path / "m.skae", device="cpu")
    assert loaded.device == "cpu"
    assert loaded.net_.device == "cpu"
    np.testing.assert_allclose(
        loaded.transform(X_digits), ae.transform(X_digits), rtol=1e-5, atol=1e-5
    )
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda'"):
        io.load(tmp_path / "m.skae", device="gpu")


def test_detector_file_of_an_earlier_version_is_refused_clearly(X_digits, tmp_path):
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(**FAST)).fit(X_digits)
    io.save(detector, tmp_path / "d.skae")
    payload = torch.load(tmp_path / "d.skae", weights_only=True)
    del payload["residual_law_"], payload["code_law_"]  # not saved before
    torch.save(payload, tmp_path / "old.skae")
    with pytest.raises(ValueError, match=r"earlier version .*'residual_law_'"):
        io.load(tmp_path / "old.skae")
