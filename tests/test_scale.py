"""Data larger than memory, and searches across processes and machines."""

import numpy as np
import pytest
import scipy.sparse as sp
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
    # same data, same number of steps: the losses end up close, and both learn
    untrained = AutoencoderTransformer(**{**FAST, "max_epochs": 1}).partial_fit(
        X_digits
    )
    assert chunked.score(X_digits) > untrained.score(X_digits)
    assert chunked.score(X_digits) == pytest.approx(full.score(X_digits), rel=0.25)


def test_fit_on_memmap_equals_fit_on_array(X_memmap):
    in_memory = np.array(X_memmap)
    from_disk = AutoencoderTransformer(**FAST).fit(X_memmap)
    from_ram = AutoencoderTransformer(**FAST).fit(in_memory)
    np.testing.assert_array_equal(
        from_disk.transform(X_memmap), from_ram.transform(in_memory)
    )


def test_sparse_matrix_larger_than_memory_streams_in_batches():
    # 40,000 x 100,000 is 32 GB as a dense float64 array (16 GB in float32): more
    # than fits next to the suite on a 24 GB machine, so densifying it whole
    # fails; one epoch still has to decode all 4e9 values, which takes a while
    n_rows, n_features, nnz = 40_000, 100_000, 20_000
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
        batch_size=1024,
        max_epochs=1,
        random_state=0,
    )
    codes = ae.fit(X).transform(X)
    assert codes.shape == (n_rows, 2)
    assert codes.dtype == np.float32
    assert np.isfinite(codes).all()


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


def test_grid_search_on_a_local_dask_cluster(X_digits):
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
        distributed.Client(cluster),
        parallel_backend("dask"),
    ):
        search = GridSearchCV(
            AutoencoderTransformer(**FAST), {"n_components": [2, 8]}, cv=2, n_jobs=-1
        ).fit(X_digits)
    assert search.best_params_ == {"n_components": 8}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
