"""Hostile or unlucky input: one table, each row a clear error or the right answer.

Every row fits an estimator on an input and asserts either the exception type and
a fragment of its message, or the correct result; in both cases the caller's data
is left as it was.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderTransformer, DenoisingAutoencoder, VAETransformer

from conftest import FAST, LinearModule

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
    return lambda: AutoencoderTransformer(**{**FAST, **params})


MINMAX = {"input_scaling": "minmax"}
BCE_RAW = {"loss": "bce", "input_scaling": None}

# (id, estimator, X, expectation)
BAD_INPUT = [
    # before: the scale overflowed to inf, every row got the same code and
    # reconstruct returned inf, silently. PCA's variances (in X's units) of
    # values past about 1e154 overflow float64: refused, naming the overflow;
    # below that, the PCA start is fitted on X rescaled by an exact power of two
    (
        "values-around-1e100",
        ae(),
        lambda: X_GOOD * 2.0**332,
        FitsLikeUnscaled(2.0**332),
    ),
    (
        "values-around-1e100-minmax",
        ae(**MINMAX),
        lambda: X_GOOD * 2.0**332,
        FitsLikeUnscaled(2.0**332),
    ),
    (
        "denoiser-values-around-1e100",
        lambda: DenoisingAutoencoder(**FAST),
        lambda: X_GOOD * 2.0**332,
        FitsLikeUnscaled(2.0**332),
    ),
    (
        "vae-values-around-1e100",
        lambda: VAETransformer(**FAST),
        lambda: X_GOOD * 2.0**332,
        FitsLikeUnscaled(2.0**332, codes_scale=False),
    ),
    (
        "values-around-1e157",
        ae(),
        lambda: X_GOOD * 2.0**522,
        Raises(ValueError, r"magnitude up to 1.37e\+157.* overflow float64"),
    ),
    (
        "values-around-1e307-minmax",
        ae(**MINMAX),
        lambda: X_GOOD * 2.0**1019,
        Raises(ValueError, r"overflow float64"),
    ),
    # before: "try a smaller learning_rate"
    (
        "range-overflowing-float64",
        ae(**MINMAX),
        lambda: with_column([-1e308, 1e308]),
        Raises(ValueError, r"cannot scale feature 0: .* overflows float64"),
    ),
    (
        "unscaled-beyond-float32",
        ae(input_scaling=None),
        lambda: with_column([1e39]),
        Raises(ValueError, r"overflows float32 .* input_scaling='standard'"),
    ),
    # before: TypeError "float() argument must be a string or a real number"
    (
        "object-column-with-pd.NA",
        ae(),
        frame_with_missing,
        Raises(ValueError, r"missing values \(pd.NA or None\) in columns \['b'\]"),
    ),
    # before: RuntimeError "all elements of target should be between 0 and 1"
    (
        "csr-duplicates-summing-beyond-1",
        ae(**BCE_RAW),
        csr_with_duplicates,
        Raises(ValueError, r"needs X in \[0, 1\], but X ranges over \[0, 1.4\]"),
    ),
]


def snapshot(X):
    """A copy of X and a function telling whether X still equals it, bit for bit."""
    if sp.issparse(X):
        arrays = (X.data.copy(), X.indices.copy(), X.indptr.copy())
        canonical = X.has_canonical_format
        return lambda: (
            canonical == X.has_canonical_format
            and all(
                np.array_equal(a, b)
                for a, b in zip(arrays, (X.data, X.indices, X.indptr), strict=True)
            )
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


# (id, make the estimator or call, expected exception, message fragment): values
# scikit-learn's parameter constraints let through and that failed deep in
# training, with an AttributeError, IndexError, TypeError or RuntimeError
BAD_PARAMETERS = [
    (
        "n_components-True",
        ae(n_components=True),
        ValueError,
        r"'n_components' parameter .* must be an int, not a bool",
    ),
    (
        "batch_size-True",
        ae(batch_size=True),
        ValueError,
        r"'batch_size' parameter .* not a bool",
    ),
    (
        "max_epochs-True",
        ae(max_epochs=True),
        ValueError,
        r"'max_epochs' parameter .* not a bool",
    ),
    (
        "optimizer-int",
        ae(optimizer=int),
        ValueError,
        r"'optimizer' .* torch.optim.Optimizer subclass; got <class 'int'>",
    ),
    (
        "optimizer-dict",
        ae(optimizer=dict),
        ValueError,
        r"'optimizer' .* torch.optim.Optimizer subclass; got <class 'dict'>",
    ),
    (
        "callback-name",
        ae(callbacks=["PrintLog"]),
        ValueError,
        r"'callbacks' .* skorch callbacks or \(name, callback\) pairs; got 'PrintLog'",
    ),
    ("callback-int", ae(callbacks=[5]), ValueError, r"'callbacks' .* got 5\."),
    (
        "callback-pair-of-int",
        ae(callbacks=[("extra", 5)]),
        ValueError,
        r"'callbacks' .* got \('extra', 5\)",
    ),
    (
        "callback-empty-tuple",
        ae(callbacks=[()]),
        ValueError,
        r"'callbacks' .* got \(\)\.",
    ),
    (
        "n_mc_samples-True",
        lambda: VAETransformer(**FAST, n_mc_samples=True),
        ValueError,
        r"'n_mc_samples' parameter .* not a bool",
    ),
    (
        "conv-without-layers",
        lambda: AutoencoderTransformer(
            **{
                **FAST,
                "architecture": "conv",
                "image_shape": (2, 2),
                "hidden_layer_sizes": (),
            }
        ),
        ValueError,
        r"architecture='conv' needs at least one convolution",
    ),
]


@pytest.mark.parametrize(
    "make, error, match",
    [row[1:] for row in BAD_PARAMETERS],
    ids=[row[0] for row in BAD_PARAMETERS],
)
def test_parameters_that_training_cannot_use_get_a_clear_error(make, error, match):
    X = X_GOOD.copy()
    with pytest.raises(error, match=match):
        make().fit(X)
    np.testing.assert_array_equal(X, X_GOOD)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda vae: vae.sample(-1), r"n_samples must be a positive int; got -1"),
        (
            lambda vae: vae.log_likelihood(X_GOOD, n_samples=0),
            r"n_samples \(importance samples per row\) must be a positive int; got 0",
        ),
    ],
    ids=["sample-minus-one", "log_likelihood-zero-draws"],
)
def test_vae_counts_must_be_positive(call, match):
    vae = VAETransformer(**FAST).fit(X_GOOD)
    with pytest.raises(ValueError, match=match):
        call(vae)


def test_a_failed_first_fit_leaves_the_estimator_unfitted():
    from sklearn.exceptions import NotFittedError

    # a learning rate that makes the loss diverge
    est = AutoencoderTransformer(
        **{**FAST, "init": "random", "learning_rate": 1e12, "optimizer": "sgd"}
    )
    with pytest.raises(ValueError, match="The loss became"):
        est.fit(X_GOOD)
    with pytest.raises(NotFittedError):
        est.transform(X_GOOD)


class _FailWhenArmed(Callback):
    """Raises at the end of an epoch once armed (a class flag: the estimator
    copies its callbacks)."""

    armed = False

    def on_epoch_end(self, net, **kwargs):
        if type(self).armed:
            raise RuntimeError("a failure during training")


@pytest.mark.parametrize("call", ["warm_fit", "partial_fit"])
def test_a_failed_later_fit_restores_the_previous_model(call):
    est = AutoencoderTransformer(
        **{**FAST, "init": "random", "warm_start": True, "early_stopping": False},
        callbacks=[_FailWhenArmed()],
    ).fit(X_GOOD)
    codes, n_iter = est.transform(X_GOOD), est.n_iter_
    _FailWhenArmed.armed = True
    try:
        with pytest.raises(RuntimeError, match="a failure during training"):
            est.fit(X_GOOD) if call == "warm_fit" else est.partial_fit(X_GOOD)
    finally:
        _FailWhenArmed.armed = False
    # the weights trained in place before the failure are put back
    np.testing.assert_array_equal(est.transform(X_GOOD), codes)
    assert est.n_iter_ == n_iter == len(est.loss_curve_)


class _NaNDecoder(LinearModule):
    """A user module whose decode returns NaN."""

    def decode(self, z):
        return self.decoder(z) * float("nan")


class _TupleEncoder(LinearModule):
    """encode returns a pair, as a VAE's does, for a plain autoencoder."""

    def encode(self, x):
        z = self.encoder(x)
        return z, z


class _TwoRowDecoder(LinearModule):
    """decode is right for two rows only (the shape check at build time)."""

    def decode(self, z):
        return self.decoder(z)[:2]


class _PairedRowsEncoder(LinearModule):
    """encode views the batch as two rows: only a batch of 2 works."""

    def encode(self, x):
        return self.encoder(x.view(2, -1))


@pytest.mark.parametrize(
    "make, match",
    [
        # before: AttributeError "'tuple' object has no attribute 'shape'"
        (
            ae(module=_TupleEncoder),
            r"module.encode must return one tensor of codes; got tuple",
        ),
        # before: a raw RuntimeError from the loss, after the check on 2 rows
        (
            ae(module=_TwoRowDecoder),
            r"module.decode returned shape \(2, 4\) for 27 rows; expected a tensor "
            r"of shape \(27, 4\)",
        ),
        (
            ae(module=_PairedRowsEncoder),
            r"The module failed on a batch of shape \(27, 4\): RuntimeError",
        ),
        # before: "try a smaller learning_rate"
        (
            ae(module=_NaNDecoder),
            r"at the first training step, before any weight was updated",
        ),
        # before: scikit-learn's train_test_split message about test_size
        (
            ae(validation_fraction=0.99),
            r"validation_fraction=0.99 of 30 rows holds out 30 .* none to train on",
        ),
    ],
    ids=[
        "tuple-encode",
        "decode-right-for-two-rows-only",
        "encode-right-for-two-rows-only",
        "nan-decode",
        "validation-fraction-leaving-no-rows",
    ],
)
def test_errors_name_the_real_cause(make, match):
    X = X_GOOD.copy()
    with pytest.raises(ValueError, match=match):
        make().fit(X)
    np.testing.assert_array_equal(X, X_GOOD)


class _InterruptWhenArmed(Callback):
    """Raises KeyboardInterrupt at a batch's end once armed (a class flag)."""

    armed = False

    def on_batch_end(self, net, training=False, **kwargs):
        if type(self).armed and training:
            raise KeyboardInterrupt


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
@pytest.mark.parametrize("early_stopping", [True, False])
def test_an_interrupt_is_reported_and_the_unfinished_epoch_not_counted(
    call, early_stopping
):
    est = AutoencoderTransformer(
        **{**FAST, "init": "random", "early_stopping": early_stopping},
        callbacks=[_InterruptWhenArmed()],
    )
    # before: "reached max_epochs without converging", and n_iter_ counted
    # the unfinished epoch (2 against 1 loss after partial_fit)
    # a warm fit validates its starting weights (epoch 1's) before training;
    # partial_fit's one epoch has no candidate to go back to
    kept = (
        r"the model keeps the weights of the best validated epoch \(1\)"
        if early_stopping and call == "fit"
        else r"the model keeps the weights reached when it was interrupted, "
        r"during epoch 2"
    )
    est.partial_fit(X_GOOD)
    _InterruptWhenArmed.armed = True
    try:
        with pytest.warns(
            UserWarning,
            match=r"interrupted during epoch 2, which is not counted "
            r"\(n_iter_=1\); " + kept,
        ):
            if call == "fit":
                est.set_params(warm_start=True).fit(X_GOOD)
            else:
                est.partial_fit(X_GOOD)
    finally:
        _InterruptWhenArmed.armed = False
    assert est.n_iter_ == len(est.loss_curve_) == 1
    if early_stopping:
        assert len(est.validation_loss_curve_) == 1
    assert np.isfinite(est.transform(X_GOOD)).all()


def test_a_diverging_warm_fit_names_the_learning_rate_it_used():
    est = AutoencoderTransformer(
        **{**FAST, "init": "random", "optimizer": "sgd", "warm_start": True}
    )
    with pytest.warns(Warning):  # five epochs do not converge
        est.fit(X_GOOD)
    # before: the message named the first fit's learning rate, 0.001
    est.set_params(learning_rate=1e12)
    with pytest.raises(
        ValueError, match=r"smaller learning_rate \(got 1000000000000.0\)"
    ):
        est.fit(X_GOOD)
