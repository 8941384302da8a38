"""Training and inference on a CUDA device, and GPU-trained models on the CPU.

These tests need a CUDA device; on a machine without one they are skipped (the
CPU-only fallback of ``sk_autoencoder.io.load`` is tested in test_io.py). A
model trained on the GPU is loaded in a child process that sees no CUDA device,
as it would be on a CPU-only machine.
"""

import os
import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    io,
)
from sk_autoencoder._data import RowSource, fit_scaler
from sk_autoencoder._device import StagedTransfer, choose_placement, host_to_device
from sk_autoencoder._engine import BatchIterator, ReconstructionNet, RowDataset

from conftest import FAST

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"
)

CUDA_FAST = {**FAST, "device": "cuda"}
TRANSFORMERS = [
    AutoencoderTransformer(**CUDA_FAST),
    DenoisingAutoencoder(noise="masking", **CUDA_FAST),
    VAETransformer(**CUDA_FAST),
    AutoencoderTransformer(architecture="conv", image_shape=(8, 8), **CUDA_FAST),
]
IDS = ["autoencoder", "denoising", "vae", "conv"]


@pytest.mark.parametrize("estimator", TRANSFORMERS, ids=IDS)
def test_transformers_train_and_infer_on_cuda(estimator, X_digits):
    estimator.fit(X_digits)
    assert all(p.device.type == "cuda" for p in estimator.module_.parameters())
    for dtype in (np.float32, np.float64):
        X = X_digits.astype(dtype)
        Z = estimator.transform(X)
        assert isinstance(Z, np.ndarray) and Z.dtype == dtype
        assert Z.shape == (len(X), estimator.n_components_)
        assert estimator.inverse_transform(Z).dtype == dtype
        assert np.isfinite(estimator.score_samples(X)).all()
    # float64 runs on a float64 copy of the weights: the same map, finer rounding
    np.testing.assert_allclose(
        estimator.transform(X_digits),
        estimator.transform(X_digits.astype(np.float32)),
        rtol=1e-4,
        atol=1e-4,
    )
    n_iter = estimator.n_iter_
    estimator.partial_fit(X_digits)
    assert estimator.n_iter_ == n_iter + 1


def test_sparse_input_gives_the_dense_model_on_cuda(X_digits):
    dense = AutoencoderTransformer(**CUDA_FAST).fit(X_digits)
    sparse = AutoencoderTransformer(**CUDA_FAST).fit(sp.csr_matrix(X_digits))
    np.testing.assert_allclose(
        sparse.transform(X_digits), dense.transform(X_digits), rtol=1e-5, atol=1e-5
    )


def test_same_seed_gives_the_same_codes_on_cuda(X_digits):
    first = AutoencoderTransformer(**CUDA_FAST).fit(X_digits).transform(X_digits)
    second = AutoencoderTransformer(**CUDA_FAST).fit(X_digits).transform(X_digits)
    np.testing.assert_allclose(first, second, rtol=1e-6, atol=1e-6)


def _record_placements(monkeypatch):
    """The placements fits choose from now on, in order."""
    chosen = []

    def recording(source, device):
        chosen.append(choose_placement(source, device))
        return chosen[-1]

    monkeypatch.setattr("sk_autoencoder._engine.choose_placement", recording)
    return chosen


def test_dense_rows_stay_on_the_gpu_and_sparse_rows_stream(monkeypatch, X_digits):
    chosen = _record_placements(monkeypatch)
    AutoencoderTransformer(**CUDA_FAST).fit(X_digits)
    AutoencoderTransformer(**CUDA_FAST).fit(sp.csr_matrix(X_digits))
    # one choice per fit, kept for all its epochs
    assert chosen == ["resident", "streamed"]


def test_resident_batches_cover_every_row_once_on_the_gpu():
    X = np.repeat(np.arange(50, dtype=np.float64)[:, None], 3, axis=1)
    dataset = RowDataset(RowSource(X, fit_scaler(X, None), np.float32))

    def epochs(seed):
        iterator = BatchIterator(
            dataset, 8, shuffle=True, seed=seed, device="cuda", placement="resident"
        )
        return [torch.cat([x[:, 0] for x, _ in iterator]).cpu() for _ in range(2)]

    first, second = epochs(0)
    for order in (first, second):
        np.testing.assert_array_equal(np.sort(order.numpy()), np.arange(50))
    assert not torch.equal(first, second)
    # the device generator is seeded: the same seed, the same epochs
    assert all(
        torch.equal(a, b) for a, b in zip(epochs(0), (first, second), strict=True)
    )


def test_streamed_batches_reach_the_gpu_intact():
    rng = np.random.default_rng(0)
    batches = [
        rng.normal(size=(n, 16)).astype(np.float32) for n in [64] * 40 + [17, 64]
    ]
    transfer = StagedTransfer("cuda")
    received = list(transfer(iter(batches)))
    torch.cuda.synchronize()
    assert transfer.pin and all(b.is_pinned() for b in transfer._buffers)
    for x, batch in zip(received, batches, strict=True):
        assert x.device.type == "cuda"
        np.testing.assert_array_equal(x.cpu().numpy(), batch)
    x = host_to_device(batches[0], "cuda")
    np.testing.assert_array_equal(x.cpu().numpy(), batches[0])


def test_streaming_trains_the_model_of_per_batch_copies_on_cuda(monkeypatch, X_digits):
    # both read the host's shuffled order; only the way to the GPU differs
    codes = {}
    for placement in ("host", "streamed"):
        monkeypatch.setattr(ReconstructionNet, "_placement", placement)
        codes[placement] = (
            AutoencoderTransformer(**CUDA_FAST).fit(X_digits).transform(X_digits)
        )
    np.testing.assert_allclose(codes["streamed"], codes["host"], rtol=1e-5, atol=1e-5)


def test_vae_samples_on_cuda(X_digits):
    vae = VAETransformer(**CUDA_FAST).fit(X_digits)
    samples = vae.sample(7, random_state=0)
    assert samples.shape == (7, X_digits.shape[1])
    np.testing.assert_array_equal(samples, vae.sample(7, random_state=0))
    assert np.isfinite(vae.log_likelihood(X_digits[:20], n_samples=4)).all()


def test_detector_on_cuda(X_digits):
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(device="cuda"), random_state=0
    ).set_params(estimator__max_epochs=5, estimator__hidden_layer_sizes=(16,))
    labels = detector.fit_predict(X_digits)
    assert set(np.unique(labels)) <= {-1, 1}
    errors = detector.reconstruction_errors(X_digits)
    assert errors.shape == X_digits.shape and (errors >= 0).all()


def _run_without_cuda(code, tmp_path):
    """Run ``code`` in a child Python process that sees no CUDA device."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    tests_dir = os.path.dirname(__file__)
    env["PYTHONPATH"] = os.pathsep.join(
        [tests_dir, os.path.dirname(tests_dir), env.get("PYTHONPATH", "")]
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("device", ["cuda", "auto"])
def test_gpu_trained_models_run_on_a_cpu_only_machine(device, X_digits, tmp_path):
    ae = AutoencoderTransformer(**{**FAST, "device": device}).fit(X_digits)
    detector = AutoencoderOutlierDetector(
        VAETransformer(**{**FAST, "device": device}), contamination=0.1
    ).fit(X_digits)
    np.save(tmp_path / "X.npy", X_digits)
    np.save(tmp_path / "codes.npy", ae.transform(X_digits))
    np.save(tmp_path / "scores.npy", detector.score_samples(X_digits))
    with open(tmp_path / "ae.pkl", "wb") as f:
        pickle.dump(ae, f)
    joblib.dump(detector, tmp_path / "detector.joblib")
    io.save(ae, tmp_path / "ae.skae")
    io.save(detector, tmp_path / "detector.skae")

    _run_without_cuda(
        """
        import pickle, warnings
        import joblib, numpy as np, torch
        from sk_autoencoder import io

        assert not torch.cuda.is_available()
        X = np.load("X.npy")
        codes, scores = np.load("codes.npy"), np.load("scores.npy")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open("ae.pkl", "rb") as f:
                ae = pickle.load(f)
            detector = joblib.load("detector.joblib")
            ae_io = io.load("ae.skae")
            detector_io = io.load("detector.skae")
        # the nets were on CUDA: loading says that it maps them onto the CPU
        assert any("CUDA" in str(w.message) for w in caught), caught
        for model in (ae, ae_io):
            np.testing.assert_allclose(model.transform(X), codes, rtol=1e-4, atol=1e-4)
        for model in (detector, detector_io):
            np.testing.assert_allclose(
                model.score_samples(X), scores, rtol=1e-4, atol=1e-3
            )
            model.predict(X)
        # and they keep training, on the CPU
        ae.partial_fit(X)
        ae_io.partial_fit(X)
        """,
        tmp_path,
    )
