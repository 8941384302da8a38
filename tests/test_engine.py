"""The skorch engine: batch iterator, training history and the stopping rule."""

import copy
import hashlib
import inspect
import math

import numpy as np
import pytest
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from torch.nn import functional as F
from torch.utils.data import Subset

from sk_autoencoder._data import RowSource, fit_scaler
from sk_autoencoder._engine import (
    SKORCH_INTERNALS,
    BatchIterator,
    ReconstructionNet,
    RowDataset,
    has_converged,
    make_callbacks,
    make_valid_split,
)
from sk_autoencoder._losses import ReconstructionLoss
from sk_autoencoder._modules import make_mlp_autoencoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _numbered_rows(n_rows, n_features=3):
    """A dataset whose row i holds the value i in every feature, unscaled."""
    X = np.repeat(np.arange(n_rows, dtype=np.float64)[:, None], n_features, axis=1)
    return RowDataset(RowSource(X, fit_scaler(X, None), np.float32))


def _epoch_rows(iterator):
    """The row numbers of one pass over ``iterator``, in the order seen."""
    return np.concatenate([x[:, 0].numpy() for x, _ in iterator]).astype(int)


# ---- BatchIterator ------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 7, 50, 64])
def test_batch_iterator_covers_every_row_exactly_once_per_epoch(shuffle, batch_size):
    iterator = BatchIterator(_numbered_rows(50), batch_size, shuffle=shuffle, seed=0)
    for _ in range(3):
        np.testing.assert_array_equal(np.sort(_epoch_rows(iterator)), np.arange(50))


def test_batch_iterator_without_shuffle_keeps_row_order():
    iterator = BatchIterator(_numbered_rows(20), 6, shuffle=False)
    np.testing.assert_array_equal(_epoch_rows(iterator), np.arange(20))


@pytest.mark.parametrize(
    "n_rows, batch_size, sizes",
    [(10, 3, [3, 3, 3, 1]), (9, 3, [3, 3, 3]), (5, 32, [5]), (1, 1, [1])],
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_iterator_batch_sizes(n_rows, batch_size, sizes, shuffle):
    iterator = BatchIterator(_numbered_rows(n_rows), batch_size, shuffle=shuffle)
    assert len(iterator) == len(sizes)
    assert [len(x) for x, _ in iterator] == sizes


def test_batch_iterator_yields_float_rows_as_their_own_target():
    dataset = _numbered_rows(8, n_features=4)
    for x, target in BatchIterator(dataset, 3, shuffle=True, seed=1):
        assert x.dtype == torch.float32 and x.shape[1] == 4
        assert target is x


def test_shuffled_order_differs_between_epochs():
    iterator = BatchIterator(_numbered_rows(50), 8, shuffle=True, seed=0)
    first, second = _epoch_rows(iterator), _epoch_rows(iterator)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))


def test_shuffled_order_is_reproducible_from_the_seed():
    def orders(seed):
        iterator = BatchIterator(_numbered_rows(50), 8, shuffle=True, seed=seed)
        return [_epoch_rows(iterator) for _ in range(3)]

    global_state = torch.random.get_rng_state()
    same = orders(7)
    for a, b in zip(same, orders(7), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(same[0], orders(8)[0])
    # the order comes from the iterator's own generator, never the global one
    assert torch.equal(torch.random.get_rng_state(), global_state)


@pytest.mark.parametrize("batch_size", [2, 5, 10])
def test_batch_iterator_respects_subset_indices(batch_size):
    indices = [7, 2, 9, 4, 0, 13]
    subset = Subset(_numbered_rows(15), indices)
    in_order = BatchIterator(subset, batch_size, shuffle=False)
    assert len(in_order) == math.ceil(len(indices) / batch_size)
    np.testing.assert_array_equal(_epoch_rows(in_order), indices)
    shuffled = BatchIterator(subset, batch_size, shuffle=True, seed=0)
    assert len(shuffled) == len(in_order)
    for _ in range(3):
        np.testing.assert_array_equal(np.sort(_epoch_rows(shuffled)), sorted(indices))


def test_batches_are_the_scaled_rows():
    X = np.random.default_rng(0).normal(loc=5.0, scale=3.0, size=(20, 4))
    scaler = fit_scaler(X, "standard")
    dataset = RowDataset(RowSource(X, scaler, np.float32))
    batches = [x.numpy() for x, _ in BatchIterator(dataset, 6)]
    expected = (X - X.mean(axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(np.concatenate(batches), expected, rtol=1e-6, atol=1e-6)


# ---- ReconstructionNet ----------------------------------------------------------


def _data(n_rows=64, n_features=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 2)) @ rng.normal(size=(2, n_features))
    X += 0.1 * rng.normal(size=(n_rows, n_features))
    return RowDataset(RowSource(X, fit_scaler(X, "standard"), np.float32))


def _module(n_features=8, seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return make_mlp_autoencoder(n_features, 2, (4,))


def _net(
    module=None,
    *,
    early_stopping=False,
    n_iter_no_change=100,
    tol=0.0,
    max_epochs=3,
    seed=0,
    **params,
):
    params = {
        "optimizer": torch.optim.Adam,
        "lr": 1e-2,
        "batch_size": 16,
        "train_split": (make_valid_split(0.25, seed) if early_stopping else None),
        **params,
    }
    return ReconstructionNet(
        _module() if module is None else module,
        ReconstructionLoss("mse"),
        seed=seed,
        max_epochs=max_epochs,
        callbacks=make_callbacks(
            early_stopping=early_stopping,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            verbose=0,
            max_epochs=max_epochs,
        ),
        verbose=0,
        **params,
    ).initialize()


def _mean_squared_error(module, dataset):
    """The mean over rows and features of (x - module(x))**2, a plain loop."""
    module.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, _ in BatchIterator(dataset, 7):
            total += (module(x) - x).square().sum().item()
            count += x.numel()
    return total / count


def test_history_records_train_loss_per_epoch():
    net = _net(max_epochs=4).fit(_data())
    assert len(net.history) == 4
    assert net.history[:, "epoch"] == [1, 2, 3, 4]
    losses = net.history[:, "train_loss"]
    assert all(math.isfinite(loss) for loss in losses)
    # the epoch's loss is the batch losses weighted by batch size, as skorch does
    batches = net.history[-1, "batches"]
    np.testing.assert_allclose(
        losses[-1],
        np.average(
            [b["train_loss"] for b in batches],
            weights=[b["train_batch_size"] for b in batches],
        ),
        rtol=1e-12,
    )
    assert "valid_loss" not in net.history[-1]


def test_train_loss_equals_the_plain_loop_loss_when_weights_stay_put():
    dataset = _data()
    module = _module()
    expected = _mean_squared_error(copy.deepcopy(module), dataset)
    net = _net(module, optimizer=torch.optim.SGD, lr=0.0, max_epochs=2).fit(dataset)
    np.testing.assert_allclose(net.history[:, "train_loss"], expected, rtol=1e-5)


def test_history_keeps_batch_records_of_the_last_epoch_only():
    net = _net(max_epochs=3).fit(_data())
    assert [len(net.history[i, "batches"]) for i in range(3)] == [0, 0, 4]


def test_get_loss_adds_the_latent_l1_penalty():
    rng = np.random.default_rng(0)
    x, x_recon = (torch.from_numpy(a) for a in rng.normal(size=(2, 5, 3)))
    z = torch.from_numpy(rng.normal(size=(5, 2)))
    net = _net(latent_l1=0.3)
    loss = net.get_loss((x_recon, z), x)
    expected = F.mse_loss(x_recon, x) + 0.3 * z.abs().mean()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)


def test_same_seed_gives_bit_identical_history():
    def losses(seed):
        net = _net(_module(), seed=seed, max_epochs=3).fit(_data())
        return net.history[:, "train_loss"]

    assert losses(0) == losses(0)
    # the seed drives the shuffling: another seed, another path
    assert losses(0) != losses(1)


def test_stopping_callback_ends_training_without_improvement():
    # a tolerance no loss can beat: every epoch after the first is a miss
    net = _net(n_iter_no_change=2, tol=1e9, max_epochs=20).fit(_data())
    assert len(net.history) == 3
    assert has_converged(net)


def test_training_that_reaches_max_epochs_has_not_converged():
    net = _net(n_iter_no_change=10, max_epochs=3).fit(_data())
    assert len(net.history) == 3
    assert not has_converged(net)


def test_early_stopping_monitors_validation_and_restores_the_best_weights():
    dataset = _data(n_rows=80)
    net = _net(early_stopping=True, n_iter_no_change=3, tol=1e9, max_epochs=20)
    net.fit(dataset)
    assert len(net.history) == 4
    assert has_converged(net)
    valid_losses = net.history[:, "valid_loss"]
    assert all(math.isfinite(loss) for loss in valid_losses)
    # the best validated epoch is the first (no later one beats it by tol); its
    # weights come back, not those of the last epoch
    _, valid = net.get_split_datasets(dataset)
    assert len(valid) == 20
    np.testing.assert_allclose(
        _mean_squared_error(net.module_, valid), valid_losses[0], rtol=1e-5
    )
    assert valid_losses[-1] != pytest.approx(valid_losses[0], rel=1e-3)


def test_a_non_finite_loss_stops_training_with_advice():
    X = 1e6 * np.random.default_rng(0).normal(size=(32, 8))
    dataset = RowDataset(RowSource(X, fit_scaler(X, None), np.float32))
    net = _net(optimizer=torch.optim.SGD, lr=1e6, max_epochs=5)
    with pytest.raises(ValueError, match=r"try a smaller learning_rate \(got 1000000"):
        net.fit(dataset)


def test_the_skorch_internals_the_engine_replaces_are_unchanged():
    # the engine replaces these skorch methods or relies on how they work (see
    # SKORCH_INTERNALS in _engine.py); a skorch release that changes one must
    # be reviewed against the override before it is accepted
    owners = {"NeuralNet": NeuralNet, "EarlyStopping": EarlyStopping}
    changed = []
    for name, digests in SKORCH_INTERNALS.items():
        owner, method = name.split(".")
        source = inspect.getsource(getattr(owners[owner], method))
        if hashlib.sha256(source.encode()).hexdigest()[:16] not in digests:
            changed.append(name)
    assert not changed, f"skorch changed {changed}: review the engine's overrides"
