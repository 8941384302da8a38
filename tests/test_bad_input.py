"""Hostile or unlucky input: one table, each row a clear error or the right answer.

Every row fits an estimator on an input and asserts either the exception type and
a fragment of its message, or the correct result; in both cases the caller's data
is left as it was.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sk_autoencoder import AutoencoderTransformer, DenoisingAutoencoder, VAETransformer

from conftest import FAST

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RNG = np.random.default_rng(0)
X_GOOD = RNG.uniform(0.05, 0.95, size=(30, 4))


class Raises:
    """The row's fit raises ``error`` with a message matching ``match``."""

    def __init__(self, error, match):
        self.error, self.match = error, match

    def check(self, make, X):
        with pytest.raises(self.error, match=self.match):
            make().fit(X)


class FitsLikeUnscaled:
    """X is X_GOOD times a power of two: the model must be that of X_GOOD, exactly.

    Scaling is exact for powers of two, so the network sees the same inputs bit
    for bit: the codes (PCA's, in X's units) and the reconstructions are those of
    X_GOOD scaled by ``factor``.
    """

    def __init__(self, factor, codes_scale=True):
        self.factor = factor
        # a VAE's codes are posterior means on the prior's scale, not in X's units
        self.code_factor = factor if codes_scale else 1.0

    def check(self, make, X):
        with pytest.warns(Warning):  # five epochs do not converge
            model, reference = make().fit(X), make().fit(X_GOOD)
        np.testing.assert_array_equal(
            model.transform(X), reference.transform(X_GOOD) * self.code_factor
        )
        reconstruction = model.reconstruct(X)
        assert np.isfinite(reconstruction).all()
        np.testing.assert_array_equal(
            reconstruction, reference.reconstruct(X_GOOD) * self.factor
        )


def with_column(values, column=0):
    X = X_GOOD.copy()
    X[: len(values), column] = values
    return X


def frame_with_missing():
    frame = pd.DataFrame(X_GOOD, columns=list("abcd")).astype({"b": object})
    frame.loc[3, "b"] = pd.NA
    return frame


def csr_with_duplicates():
    """Canonical in every entry but one, stored twice: 0.7 + 0.7 = 1.4."""
    X = sp.csr_matrix(X_GOOD)
    data = np.concatenate([[0.7, 0.7], X.data[X.indptr[1] :]])
    indices = np.concatenate([[0, 0], X.indices[X.indptr[1] :]])
    indptr = np.concatenate([[0], X.indptr[1:] - X.indptr[1] + 2])
    X = sp.csr_matrix((data, indices, indptr), shape=X_GOOD.shape)
    assert not X.has_canonical_format
    return X


def ae(**params):
    return lambda: AutoencoderTransformer(**params, **FAST)


MINMAX = {"input_scaling": "minmax"}
BCE_RAW = {"loss": "bce", "input_scaling": None}

# (id, estimator, X, expectation)
BAD_INPUT = [
    # before: the scale overflowed to inf, every row got the same code and
    # reconstruct returned inf, silently. PCA's variances (in X's units) of
    # values past about 1e154 overflow float64: refused, naming the overflow;
    # below that, the PCA start is fitted on X rescaled by an exact power of two
    ("values-around-1e100", ae(), lambda: X_GOOD * 2.0**332,
     FitsLikeUnscaled(2.0**332)),
    ("values-around-1e100-minmax", ae(**MINMAX), lambda: X_GOOD * 2.0**332,
     FitsLikeUnscaled(2.0**332)),
    ("denoiser-values-around-1e100", lambda: DenoisingAutoencoder(**FAST),
     lambda: X_GOOD * 2.0**332, FitsLikeUnscaled(2.0**332)),
    ("vae-values-around-1e100", lambda: VAETransformer(**FAST),
     lambda: X_GOOD * 2.0**332, FitsLikeUnscaled(2.0**332, codes_scale=False)),
    ("values-around-1e157", ae(), lambda: X_GOOD * 2.0**522,
     Raises(ValueError, r"magnitude up to 1.37e\+157.* overflow float64")),
    ("values-around-1e307-minmax", ae(**MINMAX), lambda: X_GOOD * 2.0**1019,
     Raises(ValueError, r"overflow float64")),
    # before: "try a smaller learning_rate"
    ("range-overflowing-float64", ae(**MINMAX), lambda: with_column([-1e308, 1e308]),
     Raises(ValueError, r"cannot scale feature 0: .* overflows float64")),
    ("unscaled-beyond-float32", ae(input_scaling=None), lambda: with_column([1e39]),
     Raises(ValueError, r"overflows float32 .* input_scaling='standard'")),
    # before: TypeError "float() argument must be a string or a real number"
    ("object-column-with-pd.NA", ae(), frame_with_missing,
     Raises(ValueError, r"missing values \(pd.NA or None\) in columns \['b'\]")),
    # before: RuntimeError "all elements of target should be between 0 and 1"
    ("csr-duplicates-summing-beyond-1", ae(**BCE_RAW), csr_with_duplicates,
     Raises(ValueError, r"needs X in \[0, 1\], but X ranges over \[0, 1.4\]")),
]


def snapshot(X):
    """A copy of X and a function telling whether X still equals it, bit for bit."""
    if sp.issparse(X):
        arrays = (X.data.copy(), X.indices.copy(), X.indptr.copy())
        canonical = X.has_canonical_format
        return lambda: canonical == X.has_canonical_format and all(
            np.array_equal(a, b) for a, b in zip(arrays, (X.data, X.indices, X.indptr))
        )
    if isinstance(X, pd.DataFrame):
        copy = X.copy(deep=True)
        return lambda: copy.equals(X) and (copy.dtypes == X.dtypes).all()
    copy = X.copy()
    return lambda: np.array_equal(copy, X)


@pytest.mark.parametrize(
    "make, make_X, expectation",
    [row[1:] for row in BAD_INPUT],
    ids=[row[0] for row in BAD_INPUT],
)
def test_bad_input_gets_a_clear_error_or_the_right_answer(make, make_X, expectation):
    X = make_X()
    unchanged = snapshot(X)
    expectation.check(make, X)
    assert unchanged()
