"""Row batches and scaling from dense, sparse and memmap X (the numpy/scipy layer)."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sk_autoencoder import _data
from sk_autoencoder._data import (
    RowSource,
    Scaler,
    chunk_rows,
    data_range,
    feature_range,
    fit_scaler,
    iter_chunks,
    take_rows,
)

SCALINGS = ["standard", "minmax", None]


@pytest.fixture
def X_mixed():
    """40 x 7 float64 with negative values, zeros (implicit when sparse), a constant
    feature and a large offset in one feature."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 7)) * [1, 2, 3, 4, 5, 6, 7]
    X[rng.uniform(size=X.shape) < 0.4] = 0.0
    X[:, 3] = 2.5
    X[:, 5] += 1e6
    return X


@pytest.fixture(params=[False, True], ids=["one_chunk", "many_chunks"])
def chunking(request, monkeypatch):
    """Read X in one chunk, or in chunks of 3 rows (21 values of 7 features)."""
    if request.param:
        monkeypatch.setattr(_data, "_CHUNK_VALUES", 21)
    return request.param


def _memmap(X, tmp_path):
    path = tmp_path / "X.dat"
    X_map = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    X_map[:] = X
    X_map.flush()
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _containers(X, tmp_path):
    """X as the estimators hand it to this layer: validate_data turns every
    sparse format into CSR."""
    return {
        "csr_matrix": sp.csr_matrix(X),
        "csr_array": sp.csr_array(X),
        "memmap": _memmap(X, tmp_path),
        "fortran": np.asfortranarray(X),
    }


# ---- fit_scaler ---------------------------------------------------------------


@pytest.mark.parametrize("kind", SCALINGS)
def test_fit_scaler_gives_identical_statistics_for_dense_sparse_and_memmap(
    kind, X_mixed, chunking, tmp_path
):
    reference = fit_scaler(X_mixed, kind)
    for name, X in _containers(X_mixed, tmp_path).items():
        scaler = fit_scaler(X, kind)
        np.testing.assert_array_equal(scaler.offset, reference.offset, err_msg=name)
        np.testing.assert_array_equal(scaler.scale, reference.scale, err_msg=name)


def test_fit_scaler_on_float32_memmap_equals_the_float32_array(X_memmap):
    X = np.array(X_memmap)
    for kind in SCALINGS:
        expected, scaler = fit_scaler(X, kind), fit_scaler(X_memmap, kind)
        np.testing.assert_array_equal(scaler.offset, expected.offset)
        np.testing.assert_array_equal(scaler.scale, expected.scale)
        assert scaler.offset.dtype == scaler.scale.dtype == np.float64


def test_standard_scaler_statistics_match_sklearn(X_mixed, chunking):
    scaler = fit_scaler(sp.csr_matrix(X_mixed), "standard")
    reference = StandardScaler().fit(X_mixed)
    np.testing.assert_allclose(scaler.offset, reference.mean_, rtol=1e-12)
    # the constant feature gets scale 1, as in scikit-learn
    np.testing.assert_allclose(scaler.scale, reference.scale_, rtol=1e-9)
    assert scaler.scale[3] == 1.0


def test_minmax_scaler_statistics_match_sklearn(X_mixed, chunking):
    scaler = fit_scaler(sp.csr_matrix(X_mixed), "minmax")
    reference = MinMaxScaler().fit(X_mixed)
    np.testing.assert_array_equal(scaler.offset, reference.data_min_)
    # MinMaxScaler's scale_ is 1 / range, and 1 for the constant feature
    np.testing.assert_allclose(scaler.scale, 1 / reference.scale_, rtol=1e-12)
    assert scaler.scale[3] == 1.0


def test_standard_deviation_survives_a_large_offset(chunking):
    # the one-pass sum-of-squares formula returns 0 or garbage here
    rng = np.random.default_rng(0)
    X = 1e9 + rng.normal(size=(60, 7))
    scaler = fit_scaler(X, "standard")
    np.testing.assert_allclose(scaler.scale, X.std(axis=0), rtol=1e-6)


def test_no_scaling_is_the_identity():
    scaler = fit_scaler(np.arange(12.0).reshape(4, 3), None)
    assert scaler.is_identity
    np.testing.assert_array_equal(scaler.offset, 0.0)
    np.testing.assert_array_equal(scaler.scale, 1.0)


@pytest.mark.parametrize("kind", SCALINGS)
def test_fit_scaler_leaves_X_untouched(kind, X_mixed, chunking):
    X = X_mixed.copy()
    X_sparse = sp.csr_matrix(X)
    sparse_data = X_sparse.data.copy()
    fit_scaler(X, kind)
    fit_scaler(X_sparse, kind)
    np.testing.assert_array_equal(X, X_mixed)
    np.testing.assert_array_equal(X_sparse.data, sparse_data)


# ---- Scaler -------------------------------------------------------------------


@pytest.mark.parametrize("kind", SCALINGS)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_scaler_round_trip_returns_the_original_rows(kind, dtype, rtol, X_mixed):
    X = X_mixed.astype(dtype)
    X_before = X.copy()
    scaler = fit_scaler(X, kind)
    scaled = scaler.transform(X, dtype)
    assert scaled.dtype == dtype
    assert not np.shares_memory(scaled, X)
    np.testing.assert_array_equal(X, X_before)
    # undoing the scaling the way the estimators do: X = scaled * scale + offset
    np.testing.assert_allclose(
        scaled * scaler.scale + scaler.offset, X, rtol=rtol, atol=rtol * 1e6
    )


def test_scaler_transform_is_the_affine_map(X_mixed):
    scaler = fit_scaler(X_mixed, "standard")
    expected = (X_mixed - scaler.offset) / scaler.scale
    np.testing.assert_allclose(scaler.transform(X_mixed), expected, rtol=1e-9)
    inverse, shift = scaler.factors(np.float64)
    np.testing.assert_allclose(X_mixed * inverse + shift, expected, rtol=1e-9)
    assert scaler.log_abs_det == pytest.approx(np.sum(np.log(scaler.scale)), rel=1e-12)


def test_identity_scaler_returns_a_new_array():
    X = np.arange(12.0).reshape(4, 3)
    scaler = Scaler(np.zeros(3), np.ones(3))
    assert scaler.is_identity
    for dtype in (np.float64, np.float32):
        scaled = scaler.transform(X, dtype)
        assert not np.shares_memory(scaled, X)
        np.testing.assert_array_equal(scaled, X.astype(dtype))


def test_scaler_survives_pickling(X_mixed):
    scaler = fit_scaler(X_mixed, "minmax")
    scaler.factors(np.float32)  # fill the cache that pickling drops
    restored = pickle.loads(pickle.dumps(scaler))
    np.testing.assert_array_equal(restored.offset, scaler.offset)
    np.testing.assert_array_equal(restored.scale, scaler.scale)
    np.testing.assert_array_equal(
        restored.transform(X_mixed, np.float32), scaler.transform(X_mixed, np.float32)
    )


# ---- take_rows ----------------------------------------------------------------

ROWS = [slice(None), slice(2, 9), np.array([5, 0, 5, 3]), np.arange(40)]


@pytest.mark.parametrize("rows", ROWS, ids=["all", "slice", "repeats", "arange"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "container", ["c", "fortran", "float32", "memmap", "csr_matrix", "csr_array"]
)
def test_take_rows_never_shares_memory_with_X(
    rows, dtype, container, X_mixed, tmp_path
):
    X = {
        "c": X_mixed,
        "fortran": np.asfortranarray(X_mixed),
        "float32": X_mixed.astype(np.float32),
        "memmap": _memmap(X_mixed, tmp_path),
        "csr_matrix": sp.csr_matrix(X_mixed),
        "csr_array": sp.csr_array(X_mixed),
    }[container]
    batch = take_rows(X, rows, dtype)
    storage = X.data if sp.issparse(X) else X
    assert not np.shares_memory(batch, storage)
    assert batch.dtype == dtype
    assert batch.flags.c_contiguous and batch.flags.writeable
    dense = X.toarray() if sp.issparse(X) else np.asarray(X)
    np.testing.assert_array_equal(batch, dense[rows].astype(dtype))


def test_iter_chunks_covers_every_row_once():
    for n_rows, size in [(0, 3), (1, 3), (9, 3), (10, 3), (5, 100)]:
        covered = np.concatenate(
            [np.arange(n_rows)[rows] for rows in iter_chunks(n_rows, size)] or [[]]
        )
        np.testing.assert_array_equal(covered, np.arange(n_rows))
    assert chunk_rows(10**9) == 1


# ---- RowSource ----------------------------------------------------------------


# float64 batches within 1e-9 of the exact scaled value (the offset of 1e6 in one
# feature costs a few digits); float32 batches within float32 rounding of it
BATCH_TOLERANCES = [(np.float64, 1e-9), (np.float32, 1e-6)]


@pytest.mark.parametrize("kind", SCALINGS)
@pytest.mark.parametrize("dtype, tol", BATCH_TOLERANCES)
@pytest.mark.parametrize("rows", ROWS, ids=["all", "slice", "repeats", "arange"])
def test_row_source_batches_are_the_scaled_rows(
    kind, dtype, tol, rows, X_mixed, tmp_path
):
    scaler = fit_scaler(X_mixed, kind)
    expected = (X_mixed[rows] - scaler.offset) / scaler.scale
    for name, X in {"dense": X_mixed, **_containers(X_mixed, tmp_path)}.items():
        source = RowSource(X, scaler, dtype)
        batch = source.batch(rows)
        assert len(source) == 40
        assert batch.dtype == dtype, name
        storage = X.data if sp.issparse(X) else X
        assert not np.shares_memory(batch, storage), name
        np.testing.assert_allclose(batch, expected, rtol=tol, atol=tol, err_msg=name)


def test_float32_batches_of_float64_X_are_centred_before_rounding():
    # timestamps in seconds: float32 spaces values near 1e9 by 64, so rounding
    # before centring would leave nothing of a unit-scale signal
    rng = np.random.default_rng(0)
    X = 1.7e9 + rng.normal(size=(50, 3))
    scaler = fit_scaler(X, "standard")
    batch = RowSource(X, scaler, np.float32).batch(slice(None))
    expected = (X - scaler.offset) / scaler.scale
    np.testing.assert_allclose(batch, expected, rtol=1e-6, atol=1e-6)


def test_row_source_raw_rows_are_unscaled_and_writable(X_mixed, tmp_path):
    scaler = fit_scaler(X_mixed, "standard")
    for name, X in {"dense": X_mixed, **_containers(X_mixed, tmp_path)}.items():
        raw = RowSource(X, scaler, np.float32).raw(slice(3, 11))
        assert raw.dtype == np.float32, name
        assert raw.flags.c_contiguous and raw.flags.writeable, name
        np.testing.assert_array_equal(raw, X_mixed[3:11].astype(np.float32))
    read_only = X_mixed.copy()
    read_only.flags.writeable = False
    raw = RowSource(read_only, scaler, np.float64).raw(slice(0, 5))
    assert raw.flags.writeable and not np.shares_memory(raw, read_only)


# ---- data_range and feature_range ---------------------------------------------


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([[0.0, 2.0], [3.0, 0.0]], (0.0, 3.0)),  # implicit zeros below the data
        ([[0.0, -2.0], [-3.0, 0.0]], (-3.0, 0.0)),  # implicit zeros above the data
        ([[1.0, 2.0], [3.0, 4.0]], (1.0, 4.0)),  # every entry stored: no zero
        ([[0.0, 0.0], [0.0, 0.0]], (0.0, 0.0)),  # nothing stored at all
        ([[0.0, 0.0], [0.5, 0.7]], (0.0, 0.7)),  # a row with nothing stored
    ],
)
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix])
def test_data_range_counts_implicit_zeros_of_sparse_X(
    rows, expected, container, monkeypatch
):
    X = container(np.array(rows))
    assert data_range(X) == expected
    # one row per chunk: a chunk may hold no stored value at all
    monkeypatch.setattr(_data, "_CHUNK_VALUES", 2)
    assert data_range(X) == expected


def test_data_range_of_sparse_equals_dense(X_mixed, chunking):
    for X in (X_mixed, X_mixed + 1.0, -np.abs(X_mixed)):
        expected = (X.min(), X.max())
        assert data_range(sp.csr_matrix(X)) == expected
        assert data_range(X) == expected


def test_feature_range_of_sparse_equals_dense(X_mixed, chunking):
    low, high = feature_range(sp.csr_matrix(np.abs(X_mixed)))
    np.testing.assert_array_equal(low, np.abs(X_mixed).min(axis=0))
    np.testing.assert_array_equal(high, np.abs(X_mixed).max(axis=0))
