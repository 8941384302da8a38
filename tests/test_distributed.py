"""Data-parallel fits: two processes launched by torchrun on 127.0.0.1, gloo backend."""

import os
import pickle
import socket
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import sk_autoencoder
from sk_autoencoder import AutoencoderTransformer, io

from _distributed_fit import CASES
from conftest import FAST

pytest.importorskip(
    "accelerate", reason="accelerate is the optional 'distributed' extra"
)
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)

N_PROCESSES = 2
HELPER = Path(__file__).with_name("_distributed_fit.py")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """The directory the two processes of one torchrun launch wrote their fits to."""
    out = tmp_path_factory.mktemp("distributed")
    root = str(Path(sk_autoencoder.__file__).parents[1])
    env = {
        **os.environ,
        # the processes import this checkout, whatever the script's folder
        "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "torch.distributed.run",
        f"--nproc_per_node={N_PROCESSES}",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(HELPER), str(out),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def _rows(name):
    return load_digits(return_X_y=True)[0][: CASES[name][2]]


def _per_process(launched, name, what):
    return [np.load(launched / f"{name}_{what}_{i}.npy") for i in range(N_PROCESSES)]


@pytest.mark.parametrize("name", ["early_stopping", "empty_share"])
def test_two_process_fit_equals_one_process_fit(launched, name):
    # the same batch_size is the same global batch: every step applies the
    # gradient of the same rows' mean loss, summed in another order (float32)
    cls, params, _ = CASES[name]
    X = _rows(name)
    with warnings.catch_warnings():
        # tiny fits of a few epochs: reaching max_epochs is expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        alone = cls(**{**FAST, **params}).fit(X)
    codes = np.load(launched / f"{name}_codes.npy")
    expected = alone.transform(X)
    np.testing.assert_allclose(
        codes, expected, rtol=0, atol=1e-5 * np.abs(expected).max()
    )
    losses = _per_process(launched, name, "loss")[0]
    np.testing.assert_allclose(losses, alone.loss_curve_, rtol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_each_process_trains_on_its_share_of_every_batch(launched, name):
    cls, params, n_rows = CASES[name]
    early_stopping = params.get("early_stopping", True)
    n_train = n_rows - (int(np.ceil(0.1 * n_rows)) if early_stopping else 0)
    n_batches = int(np.ceil(n_train / FAST["batch_size"]))
    rows = _per_process(launched, name, "rows")
    assert (sum(rows) == n_train).all()
    assert (np.abs(rows[0] - rows[1]) <= n_batches).all()


@pytest.mark.parametrize("name", list(CASES))
def test_processes_end_with_the_same_model(launched, name):
    # with random_state=None too: the seed is the main process's, which the
    # randomized PCA start of "vae_unseeded" would show
    for what in ("weights", "loss", "components"):
        first, *others = _per_process(launched, name, what)
        for other in others:
            np.testing.assert_array_equal(other, first)


@pytest.mark.parametrize("name", list(CASES))
def test_distributed_fit_pickles_and_loads_in_a_plain_process(launched, name):
    X = _rows(name)
    codes = np.load(launched / f"{name}_codes.npy")
    unpickled = pickle.loads((launched / f"{name}.pkl").read_bytes())
    loaded = io.load(launched / f"{name}.skae")
    for estimator in (unpickled, loaded):
        assert estimator.accelerator is None
        np.testing.assert_array_equal(estimator.transform(X), codes)
    assert unpickled.net_.accelerator is None
    unpickled.partial_fit(X)  # trains on, in this process alone
    assert unpickled.n_iter_ == len(np.load(launched / f"{name}_loss_0.npy")) + 1


def test_one_process_accelerator_trains_as_without_one(X_digits):
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    estimator = AutoencoderTransformer(**FAST, accelerator=accelerator)
    assert clone(estimator).accelerator is accelerator  # Accelerator copies as itself
    with warnings.catch_warnings():
        # tiny fits of a few epochs: reaching max_epochs is expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes = estimator.fit(X_digits).transform(X_digits)
        alone = AutoencoderTransformer(**FAST).fit(X_digits).transform(X_digits)
    np.testing.assert_array_equal(codes, alone)


@pytest.mark.parametrize(
    "setting", [{"mixed_precision": "bf16"}, {"gradient_accumulation_steps": 2}]
)
def test_accelerator_settings_not_applied_are_refused(X_digits, setting):
    # a stand-in: accelerate keeps these settings in process-wide state, which a
    # real Accelerator made with them would change for the rest of the session
    accelerator = types.SimpleNamespace(
        process_index=0,
        num_processes=1,
        device=torch.device("cpu"),
        mixed_precision="no",
        gradient_accumulation_steps=1,
        reduce=lambda tensor, reduction: tensor,
        wait_for_everyone=lambda: None,
    )
    vars(accelerator).update(setting)
    ((name, value),) = setting.items()
    estimator = AutoencoderTransformer(**FAST, accelerator=accelerator)
    with pytest.raises(ValueError, match=f"has {name}={value!r}"):
        estimator.fit(X_digits)
    assert not hasattr(estimator, "net_")
