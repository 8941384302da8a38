"""Row batches from dense, sparse and memmap X, and the scaling fitted inside."""

import numpy as np
import scipy.sparse as sp

# Values per chunk when X is read in chunks (statistics, transform): bounded memory
# for memmaps and wide sparse matrices (8 MiB in float64), and the same chunks
# whatever the input format, so a sparse X gives bit-identical statistics to its
# dense equivalent.
_CHUNK_VALUES = 2**20


def take_rows(X, rows, dtype):
    """Return ``X[rows]`` as a new dense C-contiguous array of ``dtype``.

    ``rows`` is a slice or an integer index array. The result never shares memory
    with ``X``, so callers may modify it in place.
    """
    batch = X[rows]
    if sp.issparse(batch):
        return batch.toarray().astype(dtype, copy=False)
    if isinstance(rows, slice):
        # a slice is a view of X: copy it
        return np.array(batch, dtype=dtype, order="C", copy=True)
    # fancy indexing already made a copy; cast or reorder only if needed
    return np.ascontiguousarray(batch, dtype=dtype)


def chunk_rows(n_features):
    """Rows per chunk for a chunk of about ``_CHUNK_VALUES`` values."""
    return max(1, _CHUNK_VALUES // max(n_features, 1))


# Values per chunk when the network maps X (transform, scoring): small enough that
# a chunk's scaled copy and the first layers' activations stay in the CPU's
# caches (measured: 10,000 rows of 64 features encode about 20% faster in chunks of
# 2,048 rows than in one chunk), large enough to amortise torch's per-call cost.
_INFERENCE_CHUNK_VALUES = 2**17
# On a GPU each chunk costs a copy to the device, kernel launches and a wait for
# the result, and caches do not matter: chunks of 16 MB of float32.
_CUDA_INFERENCE_CHUNK_VALUES = 2**22


def inference_chunk_rows(n_features, device_type="cpu"):
    """Rows per chunk when the network maps X on a device of ``device_type``."""
    cuda = device_type == "cuda"
    values = _CUDA_INFERENCE_CHUNK_VALUES if cuda else _INFERENCE_CHUNK_VALUES
    return max(1, values // max(n_features, 1))


def iter_chunks(n_rows, size):
    """Yield consecutive slices of ``size`` rows covering ``range(n_rows)``."""
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


class Scaler:
    """Affine feature scaling ``(X - offset) / scale``, applied batch by batch.

    ``offset`` and ``scale`` are float64 arrays, one value per feature; ``scale``
    has no zeros.
    """

    def __init__(self, offset, scale):
        self.offset = offset
        self.scale = scale
        self.is_identity = not offset.any() and bool(np.all(scale == 1))
        self._cast = {}

    def factors(self, dtype):
        """``(1 / scale, -offset / scale)`` in ``dtype``: scaled = X * f0 + f1."""
        # computed in float64 and cast once per dtype: the hot path then makes
        # one multiply (into a new array) and one in-place add
        dtype = np.dtype(dtype)
        if dtype not in self._cast:
            inverse = 1.0 / self.scale
            self._cast[dtype] = (
                inverse.astype(dtype),
                (-self.offset * inverse).astype(dtype),
            )
        return self._cast[dtype]

    def transform(self, rows, dtype=np.float64, in_place=False):
        """Return the scaled ``rows`` as an array of ``dtype``.

        ``rows`` (an array or a view of X) is only read, and the result is a new
        array, unless ``in_place``: then ``rows`` is a copy the caller owns, and
        when it already has ``dtype`` it is scaled in place and returned. The
        arithmetic runs in the wider of the two dtypes and is cast at the end:
        float64 data with a large offset (timestamps, say) would lose its signal
        if cast to float32 before the offset is removed.
        """
        dtype = np.dtype(dtype)
        if in_place and rows.dtype == dtype:
            if not self.is_identity:
                inverse, shift = self.factors(dtype)
                rows *= inverse
                rows += shift
            return rows
        if self.is_identity:
            return np.array(rows, dtype=dtype, order="C", copy=True)
        inverse, shift = self.factors(np.result_type(rows.dtype, dtype))
        scaled = rows * inverse
        scaled += shift
        return scaled.astype(dtype, copy=False)

    @property
    def log_abs_det(self):
        """Log-determinant of the map from scaled to original units, summed."""
        return float(np.sum(np.log(self.scale)))

    def __getstate__(self):
        return {"offset": self.offset, "scale": self.scale}

    def __setstate__(self, state):
        self.__init__(state["offset"], state["scale"])


def _nonzero_scale(scale):
    """Replace a zero (constant feature) scale by 1, as scikit-learn's scalers do."""
    scale = scale.copy()
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return scale


def _ranged_chunks(X):
    """X's chunks in float64, and each feature's smallest and largest value.

    Returns ``(chunks, low, high)``: iterating ``chunks`` updates the arrays
    ``low`` and ``high`` in place, to the range of the chunks seen so far.
    """
    n_rows, n_features = X.shape
    low = np.full(n_features, np.inf)
    high = np.full(n_features, -np.inf)

    def chunks():
        for rows in iter_chunks(n_rows, chunk_rows(n_features)):
            chunk = take_rows(X, rows, np.float64)
            np.minimum(low, chunk.min(axis=0), out=low)
            np.maximum(high, chunk.max(axis=0), out=high)
            yield chunk

    return chunks(), low, high


def feature_range(X):
    """Return the smallest and largest value of each feature, chunk by chunk."""
    chunks, low, high = _ranged_chunks(X)
    for _ in chunks:
        pass
    return low, high


def _exact_factor(low, high):
    """Per feature, the power of two ``f`` with ``max(|low|, |high|) * f`` in [0.5, 1).

    Multiplying by a power of two is exact in floating point, so statistics of
    ``X * f`` are those of X times ``f``, bit for bit, and cannot overflow.
    """
    _, exponent = np.frexp(np.maximum(np.abs(low), np.abs(high)))
    return np.ldexp(1.0, -exponent)


def _check_representable(spread, kind, low, high):
    """Refuse features whose spread overflows float64, where no scale can hold it."""
    bad = np.flatnonzero(~np.isfinite(spread))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"input_scaling={kind!r} cannot scale feature {j}: its values span "
            f"[{low[j]:g}, {high[j]:g}], a range that overflows float64. Divide X "
            "by a constant (or take logarithms) before fitting."
        )


def fit_scaler(X, kind):
    """Fit the scaling named by ``input_scaling`` on X, chunk by chunk.

    The statistics are computed on each feature multiplied by a power of two that
    brings its largest magnitude into [0.5, 1), and scaled back: the same bits as
    on X itself, but sums and squares of values up to float64's largest cannot
    overflow. A feature whose range itself overflows float64 is refused.
    """
    n_rows, n_features = X.shape
    if kind is None:
        return Scaler(np.zeros(n_features), np.ones(n_features))
    if kind == "minmax":
        low, high = feature_range(X)
        factor = _exact_factor(low, high)
        with np.errstate(over="ignore"):  # an overflow is refused just below
            spread = (high * factor - low * factor) / factor
        _check_representable(spread, kind, low, high)
        return Scaler(low, _nonzero_scale(spread))
    # two passes (mean, then squared deviations) are stable where the
    # sum-of-squares shortcut loses every digit on data with a large offset; the
    # first also finds each feature's factor, rescaling its running sum (exactly)
    # whenever a chunk holds a larger magnitude
    total = np.zeros(n_features)
    factor = np.ones(n_features)
    chunks, low, high = _ranged_chunks(X)
    for chunk in chunks:
        new_factor = np.minimum(factor, _exact_factor(low, high))
        total *= new_factor / factor
        factor = new_factor
        chunk *= factor
        total += chunk.sum(axis=0)
    scaled_mean = total / n_rows
    squares = np.zeros(n_features)
    for rows in iter_chunks(n_rows, chunk_rows(n_features)):
        chunk = take_rows(X, rows, np.float64)
        chunk *= factor
        chunk -= scaled_mean
        squares += np.einsum("ij,ij->j", chunk, chunk)
    with np.errstate(over="ignore"):  # an overflow is refused just below
        std = np.sqrt(squares / n_rows) / factor
    _check_representable(std, kind, low, high)
    return Scaler(scaled_mean / factor, _nonzero_scale(std))


def data_range(X):
    """Return the smallest and largest value of X, chunk by chunk."""
    low, high = np.inf, -np.inf
    for rows in iter_chunks(X.shape[0], chunk_rows(X.shape[1])):
        chunk = X[rows]
        if sp.issparse(chunk):
            if not chunk.has_canonical_format:
                # duplicate entries add up when densified: range over their sums,
                # on a copy, as the caller's matrix is never modified
                chunk = chunk.copy()
                chunk.sum_duplicates()
            values = chunk.data
            if chunk.nnz < chunk.shape[0] * chunk.shape[1]:
                low, high = min(low, 0.0), max(high, 0.0)
            if values.size == 0:
                continue
        else:
            values = np.asarray(chunk)
        low, high = min(low, float(values.min())), max(high, float(values.max()))
    return low, high


class RowSource:
    """Scaled row batches of X (dense, memmap or sparse CSR) in ``dtype``, on demand."""

    def __init__(self, X, scaler, dtype):
        self.X = X
        self.scaler = scaler
        self.dtype = np.dtype(dtype)

    def __len__(self):
        return self.X.shape[0]

    def raw(self, rows):
        """Return the unscaled rows ``X[rows]``: dense, C-contiguous, writable.

        A view of X when it already is all that (a slice of a dense array).
        """
        batch = self.X[rows]
        if sp.issparse(batch):
            return batch.toarray().astype(self.dtype, copy=False)
        if not batch.flags.writeable:
            return np.array(batch, dtype=self.dtype, order="C")
        return np.ascontiguousarray(batch, dtype=self.dtype)

    def batch(self, rows):
        """Return the scaled rows ``X[rows]`` as a new array."""
        X = self.X
        if sp.issparse(X):
            batch, owned = X[rows].toarray(), True
        elif isinstance(rows, slice):
            batch, owned = X[rows], False  # a view of X: only read
        else:
            # the training hot path: a shuffled batch is a fresh copy (np.take
            # makes it quickest), which can be scaled in place
            batch, owned = np.take(X, rows, axis=0), True
        return self.scaler.transform(batch, self.dtype, in_place=owned)
