"""Data larger than memory, and searches across processes and machines."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed, parallel_backend
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderTransformer

from conftest import FAST


def test_partial_fit_over_chunks_trains_like_fit(X_digits):
    chunked = AutoencoderTransformer(**FAST)
    for _ in range(FAST["max_epochs"]):
        for chunk in np.array_split(X_digits, 3):
            chunked.partial_fit(chunk)
    assert chunked.n_iter_ == 3 * FAST["max_epochs"]
    full = AutoencoderTransformer(**FAST).fit(X_digits)
    # same data, same number of steps: the scores end up close, and the chunked
    # model learns past where its first call left it (the PCA start of the
    # first chunk, one epoch on)
    first = AutoencoderTransformer(**FAST).partial_fit(np.array_split(X_digits, 3)[0])
    assert chunked.score(X_digits) > first.score(X_digits)
    assert chunked.score(X_digits) == pytest.approx(full.score(X_digits), rel=0.25)


def test_fit_on_memmap_equals_fit_on_array(X_memmap):
    in_memory = np.array(X_memmap)
    from_disk = AutoencoderTransformer(**FAST).fit(X_memmap)
    from_ram = AutoencoderTransformer(**FAST).fit(in_memory)
    np.testing.assert_array_equal(
        from_disk.transform(X_memmap), from_ram.transform(in_memory)
    )


# Run in a child process whose address space may grow by only half the dense
# size of X beyond what the interpreter, torch and X itself already hold: a fit
# or transform that densified X whole (or one float32 copy of it) would fail
# with MemoryError, while one that streams batches of rows stays far below.
_STREAMING_CHILD = """
import resource
import numpy as np, scipy.sparse as sp, torch
from sk_autoencoder import AutoencoderTransformer

torch.set_num_threads(1)
n_rows, n_features, nnz = 10_000, 20_000, 20_000
dense_bytes = n_rows * n_features * 4  # 800 MB as float32
rng = np.random.default_rng(0)
X = sp.csr_matrix(
    (
        rng.uniform(0.5, 1.0, nnz),
        (rng.integers(0, n_rows, nnz), rng.integers(0, n_features, nnz)),
    ),
    shape=(n_rows, n_features),
    dtype=np.float32,
)
ae = AutoencoderTransformer(
    n_components=2,
    hidden_layer_sizes=(2,),
    input_scaling=None,
    batch_size=256,
    max_epochs=1,
    random_state=0,
)
ae.fit(X[:300])  # warm up: torch's thread pools and allocator reserve once
with open("/proc/self/status") as status:
    line = next(line for line in status if line.startswith("VmSize:"))
size = int(line.split()[1]) * 1024
# measured: fit and transform below grow the address space by about 210 MB
limit = size + dense_bytes // 2
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
codes = ae.fit(X).transform(X)
assert codes.shape == (n_rows, 2), codes.shape
assert codes.dtype == np.float32, codes.dtype
assert np.isfinite(codes).all()
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and sets RLIMIT_AS"
)
def test_sparse_matrix_larger_than_memory_streams_in_batches():
    child = subprocess.run(
        [sys.executable, "-c", _STREAMING_CHILD],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr


class _RecordThreads(Callback):
    """Remember how many threads torch uses while the net trains."""

    def on_train_begin(self, net, **kwargs):
        self.n_threads_ = torch.get_num_threads()


def _threads_while_fitting(X):
    recorder = _RecordThreads()
    ae = AutoencoderTransformer(callbacks=[("threads", recorder)], **FAST).fit(X)
    return dict(ae.net_.callbacks_)["threads"].n_threads_


def test_parallel_workers_share_the_cores_instead_of_oversubscribing(X_digits):
    # joblib's default (loky) workers limit OpenMP to cores // n_jobs threads,
    # which torch reads at start-up: two workers on two cores use one each
    n_cores = torch.get_num_threads()
    threads = Parallel(n_jobs=2)(
        delayed(_threads_while_fitting)(X_digits) for _ in range(2)
    )
    assert all(n <= max(1, n_cores // 2) for n in threads)


def test_grid_search_with_n_jobs_uses_score_without_scoring(X_digits):
    search = GridSearchCV(
        AutoencoderTransformer(**FAST), {"n_components": [2, 8]}, cv=2, n_jobs=2
    ).fit(X_digits)
    # more codes reconstruct better, and score is minus the reconstruction error
    assert search.best_params_ == {"n_components": 8}


@pytest.fixture
def local_dask_client():
    """A client of a local Dask cluster of two single-threaded worker processes."""
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is the optional 'dask' extra"
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_grid_search_on_a_local_dask_cluster(X_digits, local_dask_client):
    with parallel_backend("dask"):
        search = GridSearchCV(
            AutoencoderTransformer(**FAST), {"n_components": [2, 8]}, cv=2, n_jobs=-1
        ).fit(X_digits)
    assert search.best_params_ == {"n_components": 8}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_dask_ml_incremental_over_a_dask_array_trains_like_partial_fit(
    X_digits, local_dask_client
):
    wrappers = pytest.importorskip(
        "dask_ml.wrappers", reason="dask-ml is the optional 'dask' extra"
    )
    import dask.array as da

    blocks = [X_digits[i : i + 100] for i in range(0, len(X_digits), 100)]
    # one partial_fit per block, in the array's order, on the workers
    incremental = wrappers.Incremental(
        AutoencoderTransformer(**FAST), shuffle_blocks=False
    ).fit(da.from_array(X_digits, chunks=(100, X_digits.shape[1])))
    codes = incremental.transform(da.from_array(X_digits, chunks=100)).compute()
    local = AutoencoderTransformer(**FAST)
    for block in blocks:
        local.partial_fit(block)
    assert incremental.estimator_.n_iter_ == len(blocks)
    np.testing.assert_array_equal(codes, local.transform(X_digits))
