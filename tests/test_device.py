"""Device-side training batches, run on the CPU: the fits-in-memory rule, rows
kept on the device, the staged (pinned on CUDA) transfer, and whole fits through
each path. The same paths on a CUDA device are tested in test_cuda.py.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from torch.utils.data import Subset

from sk_autoencoder import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    _device,
)
from sk_autoencoder._data import RowSource, fit_scaler
from sk_autoencoder._device import (
    RESIDENT_MEMORY_FRACTION,
    ResidentRows,
    StagedTransfer,
    can_pin_memory,
    choose_placement,
    fits_in_device_memory,
    host_to_device,
)
from sk_autoencoder._engine import BatchIterator, ReconstructionNet, RowDataset

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _source(X, kind="standard"):
    return RowSource(X, fit_scaler(X, kind), np.float32)


@pytest.fixture
def X_offset():
    """float64 rows with a large offset: float32 batches must be centred first."""
    rng = np.random.default_rng(0)
    return rng.normal(loc=1e4, scale=3.0, size=(37, 5))


# ---- the fits-in-memory rule ------------------------------------------------


@pytest.mark.parametrize(
    "n_bytes, free_bytes, fraction, fits",
    [
        (500, 1000, 0.5, True),  # exactly the fraction
        (501, 1000, 0.5, False),
        (0, 0, 0.5, True),
        (1, 0, 0.5, False),
        (900, 1000, 0.9, True),
        (901, 1000, 0.9, False),
    ],
)
def test_fits_in_device_memory_compares_with_a_fraction_of_free_memory(
    n_bytes, free_bytes, fraction, fits
):
    assert fits_in_device_memory(n_bytes, free_bytes, fraction) is fits


def test_the_default_fraction_is_half_the_free_memory():
    assert RESIDENT_MEMORY_FRACTION == 0.5
    assert fits_in_device_memory(50, 100) and not fits_in_device_memory(51, 100)


def test_the_cpu_keeps_its_host_batches(X_offset):
    assert choose_placement(_source(X_offset), "cpu") == "host"


@pytest.mark.parametrize(
    "free_bytes, sparse, placement",
    [
        # 37 rows x 5 features x 4 bytes of float32 = 740 bytes
        (1480, False, "resident"),
        (1479, False, "streamed"),
        (None, False, "streamed"),  # a device that cannot say
        (10**9, True, "streamed"),  # sparse X is densified batch by batch only
    ],
)
def test_rows_stay_on_an_accelerator_only_when_dense_and_small_enough(
    monkeypatch, X_offset, free_bytes, sparse, placement
):
    monkeypatch.setattr(_device, "free_device_memory", lambda device: free_bytes)
    X = sp.csr_matrix(X_offset) if sparse else X_offset
    assert choose_placement(_source(X), torch.device("cuda")) == placement


def test_memory_is_never_pinned_without_cuda():
    assert not can_pin_memory("cpu")
    assert can_pin_memory("cuda") == torch.cuda.is_available()
    assert not StagedTransfer("cpu").pin


# ---- rows kept on the device ------------------------------------------------


def test_resident_rows_are_the_host_batches_bit_for_bit(X_offset):
    source = _source(X_offset)
    resident = ResidentRows(source, "cpu")
    assert resident.rows.dtype == torch.float32
    np.testing.assert_array_equal(resident.rows.numpy(), source.batch(slice(None)))


def test_resident_rows_are_copied_chunk_by_chunk(monkeypatch, X_offset):
    # three rows per chunk: the host never holds more than one scaled chunk
    monkeypatch.setattr(_device, "chunk_rows", lambda n_features: 3)
    source = _source(X_offset)
    np.testing.assert_array_equal(
        ResidentRows(source, "cpu").rows.numpy(), source.batch(slice(None))
    )


def test_resident_batches_are_new_tensors(X_offset):
    resident = ResidentRows(_source(X_offset), "cpu")
    before = resident.rows.clone()
    for x in resident.batches(None, 8):
        x.fill_(0.0)
    for x in resident.batches(None, 8, torch.Generator().manual_seed(0)):
        x.fill_(0.0)
    assert torch.equal(resident.rows, before)


def _batches(dataset, placement, batch_size=8, shuffle=True, seed=3):
    iterator = BatchIterator(
        dataset, batch_size, shuffle=shuffle, seed=seed, placement=placement
    )
    return [[x.clone() for x, _ in iterator] for _ in range(2)]  # two epochs


@pytest.mark.parametrize("placement", ["resident", "streamed"])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("subset", [False, True])
def test_device_paths_give_the_host_batches_on_the_cpu(
    X_offset, placement, shuffle, subset
):
    # a generator on the CPU device draws the host path's permutations, so both
    # paths see the same batches, in the same order, epoch after epoch
    def dataset():
        rows = RowDataset(_source(X_offset))
        return Subset(rows, [30, 2, 9, 4, 0, 13, 36, 21, 7]) if subset else rows

    host = _batches(dataset(), None, shuffle=shuffle)
    other = _batches(dataset(), placement, shuffle=shuffle)
    assert [len(epoch) for epoch in other] == [len(epoch) for epoch in host]
    for host_epoch, epoch in zip(host, other, strict=True):
        for a, b in zip(host_epoch, epoch, strict=True):
            assert torch.equal(a, b)
    if shuffle:
        assert not torch.equal(torch.cat(other[0]), torch.cat(other[1]))


def test_the_placement_is_decided_and_copied_once_per_dataset(monkeypatch, X_offset):
    copies = []
    real = _device.ResidentRows

    def counting(source, device):
        copies.append(device)
        return real(source, device)

    monkeypatch.setattr("sk_autoencoder._engine.ResidentRows", counting)
    dataset = RowDataset(_source(X_offset))
    train, valid = Subset(dataset, range(30)), Subset(dataset, range(30, 37))
    for _ in range(3):  # three epochs of training and validation
        _batches(train, "resident")
        _batches(valid, "resident", shuffle=False)
    assert len(copies) == 1


# ---- the staged transfer ----------------------------------------------------


def test_staged_transfer_yields_every_batch_intact():
    rng = np.random.default_rng(0)
    # a shorter last batch, then a longer one and another dtype: the buffers
    # are reused when they can be and replaced when they cannot
    shapes = [(4, 3), (4, 3), (2, 3), (4, 3), (6, 3), (6, 3)]
    batches = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    batches.append(rng.normal(size=(5, 3)))  # float64
    received = list(StagedTransfer("cpu")(iter(batches)))
    # kept until the end: a batch sharing a staging buffer would have been
    # overwritten by the batches staged after it
    assert len(received) == len(batches)
    for x, batch in zip(received, batches, strict=True):
        assert x.dtype == torch.from_numpy(batch).dtype
        np.testing.assert_array_equal(x.numpy(), batch)
        assert not np.shares_memory(x.numpy(), batch)


@pytest.mark.parametrize("lookahead", [1, 2])
def test_staged_transfer_sends_each_batch_ahead_of_its_use(lookahead):
    pulled = []

    def host_batches():
        for i in range(5):
            pulled.append(i)
            yield np.full((2, 3), i, dtype=np.float32)

    for i, x in enumerate(StagedTransfer("cpu", lookahead)(host_batches())):
        assert x[0, 0].item() == i
        # the next batches are already on their way, and no more
        assert len(pulled) == min(i + 1 + lookahead, 5)


def test_host_to_device_on_the_cpu_makes_no_copy():
    array = np.arange(6.0).reshape(2, 3)
    x = host_to_device(array, "cpu")
    assert np.shares_memory(x.numpy(), array)


# ---- whole fits through each path, on the CPU --------------------------------

ESTIMATORS = [
    AutoencoderTransformer(**FAST),
    AutoencoderTransformer(**FAST, early_stopping=True, validation_fraction=0.2),
    DenoisingAutoencoder(noise="masking", **FAST),
    VAETransformer(**FAST),
]
IDS = ["autoencoder", "early_stopping", "denoising", "vae"]


def _fitted_clone(estimator, X):
    return clone(estimator).fit(X)


@pytest.mark.parametrize("placement", ["resident", "streamed"])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_device_paths_train_the_host_model_on_the_cpu(
    monkeypatch, estimator, placement, X_digits
):
    host = _fitted_clone(estimator, X_digits)
    monkeypatch.setattr(ReconstructionNet, "_placement", placement)
    forced = _fitted_clone(estimator, X_digits)
    again = _fitted_clone(estimator, X_digits)
    assert forced.history_[:, "train_loss"] == host.history_[:, "train_loss"]
    np.testing.assert_array_equal(forced.transform(X_digits), host.transform(X_digits))
    np.testing.assert_array_equal(again.transform(X_digits), host.transform(X_digits))
