"""Behaviour of AutoencoderTransformer, and the contract its siblings share with it."""

import copy
import pickle
import pickletools
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import VarianceThreshold
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from skorch.callbacks import Callback, LRScheduler
from torch import nn

from sk_autoencoder import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST

# the transformers that share AutoencoderTransformer's contract
TRANSFORMERS = [AutoencoderTransformer, DenoisingAutoencoder, VAETransformer]
# score_samples is minus the mean squared reconstruction error for these (the
# VAE's is its ELBO, tested in test_vae.py)
SQUARED_ERROR_SCORED = [cls for cls in TRANSFORMERS if cls is not VAETransformer]

parametrize_transformers = pytest.mark.parametrize(
    "cls", TRANSFORMERS, ids=lambda cls: cls.__name__
)
pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPARSE_CONTAINERS = [
    getattr(sp, f"{fmt}_{kind}")
    for kind in ("matrix", "array")
    for fmt in ("csr", "csc", "coo", "lil", "dok", "bsr", "dia")
]


def _to_sparse(container, X):
    with warnings.catch_warnings():
        # DIA stores each of the digits' 358 diagonals; scipy warns that this is
        # a poor format for the data, which is beside the point here
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        return container(X)


def _weights(est):
    return [p.detach().clone() for p in est.module_.parameters()]


def _any_weight_changed(before, est):
    return any(
        not torch.equal(a, b)
        for a, b in zip(before, est.module_.parameters(), strict=True)
    )


@pytest.fixture(scope="module")
def fitted_on_dense(X_digits):
    """``cls(**FAST)`` fitted on the digits, one per class; tests only read it."""
    cache = {}

    def get(cls):
        if cls not in cache:
            cache[cls] = cls(**FAST).fit(X_digits)
        return cache[cls]

    return get


# ---- inputs and outputs ---------------------------------------------------------


@parametrize_transformers
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_follows_input_dtype(cls, dtype, X_digits):
    X = X_digits.astype(dtype)
    est = cls(**FAST).fit(X)
    Z = est.transform(X)
    assert Z.dtype == dtype
    assert est.inverse_transform(Z).dtype == dtype
    assert est.reconstruct(X).dtype == dtype
    assert est.score_samples(X).dtype == dtype
    assert isinstance(est.score(X), float)


@parametrize_transformers
def test_same_random_state_gives_bit_identical_transform(cls, X_digits):
    # dropout makes the training stochastic beyond the initial weights
    params = {**FAST, "dropout": 0.1}
    first = cls(**params).fit(X_digits).transform(X_digits)
    second = cls(**params).fit(X_digits).transform(X_digits)
    np.testing.assert_array_equal(first, second)


@parametrize_transformers
def test_fit_leaves_the_global_torch_rng_alone(cls, X_digits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    cls(**FAST).fit(X_digits)
    np.testing.assert_array_equal(torch.rand(3), expected)


@parametrize_transformers
def test_dataframe_sets_feature_names_and_pandas_output_names_codes(cls, X_digits):
    frame = pd.DataFrame(
        X_digits, columns=[f"px{i}" for i in range(64)], index=range(1000, 1300)
    )
    est = cls(**FAST).fit(frame)
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns)
    out = est.set_output(transform="pandas").transform(frame)
    assert isinstance(out, pd.DataFrame)
    prefix = cls.__name__.lower()
    assert list(out.columns) == [f"{prefix}0", f"{prefix}1"]
    pd.testing.assert_index_equal(out.index, frame.index)
    default = est.set_output(transform="default").transform(frame)
    np.testing.assert_array_equal(out.to_numpy(), default)


@parametrize_transformers
def test_list_input_gives_the_array_model(cls, X_digits, fitted_on_dense):
    X_list = X_digits.tolist()
    est = cls(**FAST).fit(X_list)
    np.testing.assert_array_equal(
        est.transform(X_list), fitted_on_dense(cls).transform(X_digits)
    )


@parametrize_transformers
@pytest.mark.parametrize(
    "container", SPARSE_CONTAINERS, ids=lambda container: container.__name__
)
def test_sparse_input_gives_the_dense_model(cls, container, X_digits, fitted_on_dense):
    X_sparse = _to_sparse(container, X_digits)
    dense = fitted_on_dense(cls)
    sparse = cls(**FAST).fit(X_sparse)
    # the same model: the same codes for the same dense rows. The PCA start of a
    # sparse X comes from a sparse product, whose sums run in another order than
    # the dense one's: the two starts agree to float64 rounding, and the float32
    # networks trained from them to float32 rounding (of the largest code)
    codes = dense.transform(X_digits)
    np.testing.assert_allclose(
        sparse.transform(X_digits), codes, rtol=1e-5, atol=1e-6 * np.abs(codes).max()
    )
    np.testing.assert_allclose(sparse.components_, dense.components_, atol=1e-12)
    # ...and sparse rows encode, decode and score like their dense equivalent
    np.testing.assert_allclose(
        dense.transform(X_sparse), dense.transform(X_digits), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        dense.reconstruct(X_sparse), dense.reconstruct(X_digits), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        dense.score_samples(X_sparse),
        dense.score_samples(X_digits),
        rtol=1e-10,
        atol=1e-12,
    )


@parametrize_transformers
def test_memmap_input_gives_the_array_model(cls, X_memmap):
    X = np.array(X_memmap)  # the same float32 values, in memory
    est = cls(**FAST).fit(X_memmap)
    expected = cls(**FAST).fit(X)
    np.testing.assert_array_equal(est.transform(X_memmap), expected.transform(X))
    np.testing.assert_array_equal(
        est.score_samples(X_memmap), expected.score_samples(X)
    )


@parametrize_transformers
def test_read_only_input_gives_the_writable_model(
    cls, X_digits, fitted_on_dense, monkeypatch
):
    X = X_digits.copy()
    X.flags.writeable = False
    expected = fitted_on_dense(cls)
    Z = expected.transform(X_digits)
    Z.flags.writeable = False
    # torch warns that a tensor over read-only memory is undefined behaviour, but
    # only once per process; catch its cause every time instead
    from_numpy = torch.from_numpy

    def from_writable_numpy(array):
        assert array.flags.writeable, "torch.from_numpy over read-only memory"
        return from_numpy(array)

    monkeypatch.setattr(torch, "from_numpy", from_writable_numpy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        # the few epochs of FAST do not converge, and say so
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = cls(**FAST).fit(X)
        np.testing.assert_array_equal(est.transform(X), Z)
        np.testing.assert_array_equal(
            est.reconstruct(X), expected.reconstruct(X_digits)
        )
        np.testing.assert_array_equal(
            est.score_samples(X), expected.score_samples(X_digits)
        )
        np.testing.assert_array_equal(
            est.inverse_transform(Z), expected.inverse_transform(Z.copy())
        )


@parametrize_transformers
@pytest.mark.parametrize("input_scaling", ["standard", "minmax", None])
@pytest.mark.parametrize("kind", ["float64", "float32", "csr"])
def test_callers_arrays_are_never_modified(cls, input_scaling, kind, X_digits):
    # float32 and float64 pass validation without a copy: X itself reaches the
    # batches, so only the package's own care keeps it intact
    X = {
        "float64": X_digits.copy(),
        "float32": X_digits.astype(np.float32),
        "csr": sp.csr_matrix(X_digits),
    }[kind]
    X_copy = X.copy()
    est = cls(**{**FAST, "input_scaling": input_scaling}).fit(X)
    Z = est.transform(X)
    Z_copy = Z.copy()
    est.score_samples(X)
    est.reconstruct(X)
    est.inverse_transform(Z)
    est.partial_fit(X)
    if kind == "csr":
        for part in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(X, part), getattr(X_copy, part))
    else:
        np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Z, Z_copy)


# ---- reconstruction and scores ------------------------------------------------


@parametrize_transformers
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_inverse_transform_of_transform_is_reconstruct(
    cls, dtype, rtol, X_digits, fitted_on_dense
):
    X = X_digits.astype(dtype)
    est = fitted_on_dense(cls)
    np.testing.assert_allclose(
        est.inverse_transform(est.transform(X)),
        est.reconstruct(X),
        rtol=rtol,
        atol=rtol * np.abs(X).max(),
    )


@pytest.mark.parametrize("cls", SQUARED_ERROR_SCORED, ids=lambda cls: cls.__name__)
def test_score_samples_is_the_code_and_residual_log_density(
    cls, X_digits, fitted_on_dense
):
    est = fitted_on_dense(cls)
    residual = X_digits - est.reconstruct(X_digits)
    np.testing.assert_allclose(
        est.reconstruction_errors(X_digits), residual**2, rtol=1e-10
    )
    # by hand: a Gaussian of the codes (in PCA's units) and an isotropic
    # Gaussian of the residual in the n_features - n_components directions
    n_left = X_digits.shape[1] - est.n_components_
    code_part = multivariate_normal(est.latent_mean_, est.latent_covariance_).logpdf(
        est.transform(X_digits)
    )
    noise = est.reconstruction_noise_variance_
    residual_part = -0.5 * (
        n_left * np.log(2 * np.pi * noise) + (residual**2).sum(axis=1) / noise
    )
    np.testing.assert_allclose(
        est.score_samples(X_digits), code_part + residual_part, rtol=1e-6
    )


@parametrize_transformers
def test_score_is_the_mean_of_score_samples(cls, X_digits, fitted_on_dense):
    est = fitted_on_dense(cls)
    assert est.score(X_digits) == pytest.approx(
        est.score_samples(X_digits).mean(), rel=1e-12
    )


def test_linear_autoencoder_approaches_pca(X_digits):
    X = X_digits[:, X_digits.std(axis=0) > 0]
    ae = AutoencoderTransformer(
        n_components=4,
        hidden_layer_sizes=(),
        activation="identity",
        early_stopping=False,
        max_epochs=150,
        learning_rate=3e-3,
        random_state=0,
    ).fit(X)
    # input_scaling='standard' trains the network on standardised features, where
    # PCA's projection is the best rank-4 linear reconstruction: measure both there
    scale = X.std(axis=0)
    X_scaled = (X - X.mean(axis=0)) / scale
    pca = PCA(n_components=4).fit(X_scaled)
    pca_error = np.mean(
        (X_scaled - pca.inverse_transform(pca.transform(X_scaled))) ** 2
    )
    ae_error = np.mean(((X - ae.reconstruct(X)) / scale) ** 2)
    # no linear map beats PCA on its training data; enough training comes close
    assert pca_error * (1 - 1e-6) <= ae_error < 1.05 * pca_error


def test_relu_autoencoder_beats_pca_on_a_curve():
    # a one-dimensional curve bent through ten dimensions: one nonlinear code
    # describes it, one linear component does not
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, 600)
    curve = np.c_[t, t**2, np.sin(3 * t), np.cos(2 * t), t**3]
    X = curve @ rng.normal(size=(5, 10)) + 0.01 * rng.normal(size=(600, 10))
    ae = AutoencoderTransformer(
        n_components=1,
        hidden_layer_sizes=(32,),
        early_stopping=False,
        max_epochs=150,
        random_state=0,
    ).fit(X)
    pca = PCA(n_components=1).fit(X)
    pca_error = np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2)
    ae_error = np.mean((X - ae.reconstruct(X)) ** 2)
    assert ae_error < 0.7 * pca_error


# ---- input scaling and losses -------------------------------------------------


def _offset_and_scale(X, input_scaling):
    if input_scaling == "standard":
        return X.mean(axis=0), X.std(axis=0)
    if input_scaling == "minmax":
        return X.min(axis=0), X.max(axis=0) - X.min(axis=0)
    return np.zeros(X.shape[1]), np.ones(X.shape[1])


@pytest.mark.parametrize("input_scaling", ["standard", "minmax", None])
def test_network_sees_scaled_features_and_output_is_in_original_units(input_scaling):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 5)) * [1, 10, 100, 0.1, 3] + [0, -50, 1000, 2, 0]
    # a plain network (the PCA-anchored one reports codes in PCA's units)
    ae = AutoencoderTransformer(input_scaling=input_scaling, init="random", **FAST).fit(
        X
    )
    offset, scale = _offset_and_scale(X, input_scaling)
    module = copy.deepcopy(ae.module_).cpu().double().eval()
    with torch.no_grad():
        z = module.encode(torch.from_numpy((X - offset) / scale))
        x_recon = module.decode(z).numpy()
    np.testing.assert_allclose(ae.transform(X), z.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        ae.reconstruct(X), x_recon * scale + offset, rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize("input_scaling", ["standard", "minmax", None])
def test_input_scaling_round_trips_a_linear_autoencoder(input_scaling):
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 6))
    # offset 1000, scale 100 per feature; the network without input scaling gets
    # data of unit size, which it can fit without learning an offset of 1000
    X = signal * 100.0 + 1000.0 if input_scaling is not None else signal
    ae = AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(),
        activation="identity",
        input_scaling=input_scaling,
        early_stopping=False,
        max_epochs=150,
        learning_rate=1e-2,
        random_state=0,
    ).fit(X)
    # outputs left in scaled units would miss X by its offset, many times its
    # variance; a rank-2 fit of rank-2 data in original units leaves little
    relative_error = np.mean((X - ae.reconstruct(X)) ** 2) / X.var()
    assert relative_error < 0.1


@pytest.mark.parametrize("input_scaling", ["standard", "minmax"])
def test_large_offset_in_float64_X_is_scaled_away(input_scaling):
    # Unix timestamps in seconds: float64 holds them to a microsecond, float32
    # spaces them 128 apart; scaling must happen before the network's float32
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 6))
    X = 1.7e9 + signal
    ae = AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(),
        activation="identity",
        input_scaling=input_scaling,
        early_stopping=False,
        max_epochs=150,
        learning_rate=1e-2,
        random_state=0,
    ).fit(X)
    relative_error = np.mean((X - ae.reconstruct(X)) ** 2) / signal.var()
    assert relative_error < 0.1


def test_bce_with_minmax_scaling_trains_and_stays_in_the_training_range(X_digits):
    ae = AutoencoderTransformer(
        loss="bce", input_scaling="minmax", **{**FAST, "max_epochs": 10}
    ).fit(X_digits)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    X_rebuilt = ae.reconstruct(X_digits)
    # sigmoid outputs in (0, 1), minmax-undone: inside each pixel's range (a
    # constant pixel is scaled by 1, as scikit-learn's scalers do)
    low, high = X_digits.min(axis=0), X_digits.max(axis=0)
    high = np.where(high > low, high, low + 1)
    assert (X_rebuilt >= low - 1e-9).all() and (X_rebuilt <= high + 1e-9).all()


def test_bce_without_scaling_trains_on_data_in_the_unit_interval(X_digits):
    X = X_digits / 16.0
    ae = AutoencoderTransformer(
        loss="bce", input_scaling=None, **{**FAST, "max_epochs": 10}
    ).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    X_rebuilt = ae.reconstruct(X)
    assert X_rebuilt.min() >= 0 and X_rebuilt.max() <= 1


def test_latent_l1_makes_codes_sparser(X_digits):
    settings = {**FAST, "n_components": 8, "max_epochs": 20}
    plain = AutoencoderTransformer(**settings).fit(X_digits)
    sparse = AutoencoderTransformer(latent_l1=1.0, **settings).fit(X_digits)
    assert (
        np.abs(sparse.transform(X_digits)).mean()
        < 0.5 * np.abs(plain.transform(X_digits)).mean()
    )


# ---- training: epochs, warm start, stopping -------------------------------------


@parametrize_transformers
def test_loss_curve_has_one_entry_per_epoch(cls, X_digits, fitted_on_dense):
    est = fitted_on_dense(cls)
    assert est.n_iter_ == FAST["max_epochs"]
    assert len(est.loss_curve_) == est.n_iter_
    assert len(est.history_) == est.n_iter_
    assert all(np.isfinite(est.loss_curve_))


@parametrize_transformers
def test_warm_start_continues_and_n_iter_keeps_counting(cls, X_digits):
    # without early stopping, which could keep the starting weights of the
    # second fit when none of its epochs validates better
    est = cls(**{**FAST, "warm_start": True, "early_stopping": False}).fit(X_digits)
    weights = _weights(est)
    est.fit(X_digits)
    assert est.n_iter_ == 2 * FAST["max_epochs"]
    assert len(est.loss_curve_) == est.n_iter_
    # continued, not restarted: the second fit starts below where the first began
    assert est.loss_curve_[FAST["max_epochs"]] < est.loss_curve_[0]
    assert _any_weight_changed(weights, est)


@parametrize_transformers
def test_fit_without_warm_start_starts_over(cls, X_digits, fitted_on_dense):
    est = cls(**FAST).fit(X_digits).fit(X_digits)
    assert est.n_iter_ == FAST["max_epochs"]
    np.testing.assert_array_equal(
        est.transform(X_digits), fitted_on_dense(cls).transform(X_digits)
    )


@parametrize_transformers
def test_partial_fit_adds_exactly_one_epoch_per_call(cls, X_digits):
    est = cls(**FAST)
    for i in range(1, 4):
        weights = _weights(est) if i > 1 else None
        est.partial_fit(X_digits[i * 50 : i * 50 + 100])
        assert est.n_iter_ == i
        assert len(est.loss_curve_) == i
        if weights is not None:
            assert _any_weight_changed(weights, est)


@parametrize_transformers
def test_partial_fit_after_fit_keeps_counting(cls, X_digits):
    est = cls(**FAST).fit(X_digits)
    weights = _weights(est)
    est.partial_fit(X_digits)
    assert est.n_iter_ == FAST["max_epochs"] + 1
    assert len(est.loss_curve_) == est.n_iter_
    assert _any_weight_changed(weights, est)


def test_early_stopping_fills_validation_curve_and_stops_a_model_that_cannot_improve(
    X_digits,
):
    # a learning rate of 1e-12 leaves the weights where they start: no epoch
    # improves on the starting weights' validation loss by tol, so training
    # stops after n_iter_no_change epochs without improvement
    ae = AutoencoderTransformer(
        early_stopping=True,
        n_iter_no_change=3,
        optimizer="sgd",
        learning_rate=1e-12,
        **{**FAST, "max_epochs": 50},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae.fit(X_digits)
    assert ae.n_iter_ == 3
    assert len(ae.validation_loss_curve_) == ae.n_iter_ == len(ae.loss_curve_)
    assert all(np.isfinite(ae.validation_loss_curve_))


def test_no_validation_curve_without_early_stopping(X_digits):
    ae = AutoencoderTransformer(early_stopping=False, **FAST).fit(X_digits)
    assert ae.validation_loss_curve_ is None
    assert len(ae.loss_curve_) == ae.n_iter_


def test_hitting_max_epochs_raises_convergence_warning(X_digits):
    # n_iter_no_change=10 cannot be reached in 2 epochs
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        AutoencoderTransformer(**{**FAST, "max_epochs": 2}).fit(X_digits)


@pytest.mark.parametrize(
    "optimizer", ["adam", "adamw", "sgd", "rmsprop", torch.optim.Adagrad]
)
def test_every_optimizer_trains(optimizer, X_digits):
    # from random weights: the PCA start is already the best linear model, which
    # a few epochs of plain SGD on 300 rows need not improve
    ae = AutoencoderTransformer(
        optimizer=optimizer, init="random", **{**FAST, "max_epochs": 10}
    )
    ae.fit(X_digits)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    expected = optimizer if isinstance(optimizer, type) else None
    if expected is not None:
        assert isinstance(ae.net_.optimizer_, expected)


# ---- scikit-learn composition ---------------------------------------------------


def test_clone_get_params_and_set_params(X_digits):
    ae = AutoencoderTransformer(**FAST).fit(X_digits)
    cloned = clone(ae)
    assert cloned.get_params() == ae.get_params()
    assert not hasattr(cloned, "net_") and not hasattr(cloned, "n_components_")
    cloned.set_params(n_components=3, hidden_layer_sizes=(8,))
    assert cloned.fit(X_digits).transform(X_digits).shape == (len(X_digits), 3)
    assert cloned.n_components_ == 3
    pipe = make_pipeline(AutoencoderTransformer(**FAST))
    pipe.set_params(autoencodertransformer__n_components=5)
    assert pipe.get_params()["autoencodertransformer__n_components"] == 5


def test_grid_search_uses_score_without_scoring(X_digits):
    pipe = make_pipeline(VarianceThreshold(), AutoencoderTransformer(**FAST))
    grid = {"autoencodertransformer__n_components": [1, 8]}
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X_digits)
    # eight codes reconstruct better than one: a higher (less negative) score
    assert search.best_params_ == {"autoencodertransformer__n_components": 8}
    # each split's score is the pipeline's score, the mean of score_samples
    for i, (train, test) in enumerate(KFold(2).split(X_digits)):
        for j, params in enumerate(search.cv_results_["params"]):
            fitted = clone(pipe).set_params(**params).fit(X_digits[train])
            np.testing.assert_allclose(
                search.cv_results_[f"split{i}_test_score"][j],
                fitted.score(X_digits[test]),
                rtol=1e-6,
            )


def test_cross_val_score_is_the_score_on_held_out_folds(X_digits):
    scores = cross_val_score(AutoencoderTransformer(**FAST), X_digits, cv=2)
    expected = [
        AutoencoderTransformer(**FAST).fit(X_digits[train]).score(X_digits[test])
        for train, test in KFold(2).split(X_digits)
    ]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert (scores < 0).all()


def test_column_transformer_encodes_its_columns(X_digits):
    columns = ColumnTransformer(
        [
            ("ae", AutoencoderTransformer(**FAST), slice(0, 32)),
            ("rest", "passthrough", slice(32, 64)),
        ]
    )
    out = columns.fit_transform(X_digits)
    assert out.shape == (len(X_digits), 2 + 32)
    alone = AutoencoderTransformer(**FAST).fit_transform(X_digits[:, :32])
    np.testing.assert_allclose(out[:, :2], alone, rtol=1e-12)
    np.testing.assert_array_equal(out[:, 2:], X_digits[:, 32:])
    names = columns.get_feature_names_out()
    assert list(names[:2]) == [
        "ae__autoencodertransformer0",
        "ae__autoencodertransformer1",
    ]


def test_feature_union_stacks_codes_beside_pca(X_digits):
    union = FeatureUnion(
        [("ae", AutoencoderTransformer(**FAST)), ("pca", PCA(n_components=3))]
    )
    out = union.fit_transform(X_digits)
    assert out.shape == (len(X_digits), 5)
    alone = AutoencoderTransformer(**FAST).fit_transform(X_digits)
    np.testing.assert_allclose(out[:, :2], alone, rtol=1e-12)
    assert list(union.get_feature_names_out()) == [
        "ae__autoencodertransformer0",
        "ae__autoencodertransformer1",
        "pca__pca0",
        "pca__pca1",
        "pca__pca2",
    ]


@parametrize_transformers
def test_pickle_and_joblib_round_trip_give_identical_transform(
    cls, X_digits, fitted_on_dense, tmp_path
):
    est = fitted_on_dense(cls)
    expected = est.transform(X_digits)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X_digits), expected)
    np.testing.assert_array_equal(
        restored.score_samples(X_digits), est.score_samples(X_digits)
    )
    assert restored.n_iter_ == est.n_iter_
    joblib.dump(est, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").transform(X_digits), expected
    )


def _plainly_pickled_tensors(obj):
    """Names in ``pickle.dumps(obj)`` that rebuild a tensor with plain pickle.

    skorch pickles the net's module_, criterion_ and optimizer_ apart, and loads
    them with a map to the CPU where CUDA is absent. A tensor pickled plainly
    anywhere else keeps its device, so a GPU-trained model holding one cannot be
    unpickled on a CPU-only machine.
    """
    names = set()
    for _, arg, _ in pickletools.genops(pickle.dumps(obj)):
        if isinstance(arg, str) and arg.startswith(("_rebuild_", "_load_from_bytes")):
            names.add(arg)
    return names


@pytest.mark.parametrize(
    "estimator",
    [
        AutoencoderTransformer(**FAST),
        AutoencoderTransformer(**FAST, early_stopping=False),
        AutoencoderTransformer(architecture="conv", image_shape=(8, 8), **FAST),
        DenoisingAutoencoder(noise="salt_pepper", **FAST),
        VAETransformer(**FAST),
        AutoencoderOutlierDetector(VAETransformer(**FAST)),
    ],
    ids=["ae", "ae-no-early-stopping", "conv", "denoising", "vae", "detector"],
)
def test_pickle_holds_tensors_only_where_they_map_to_the_cpu(estimator, X_digits):
    # what lets a model trained on a GPU load on a CPU-only machine
    estimator.fit(X_digits)
    estimator.score_samples(X_digits)  # inference builds caches of its own
    assert _plainly_pickled_tensors(estimator) == set()


# ---- verbosity and callbacks ----------------------------------------------------


def test_verbose_1_writes_a_progress_bar_to_stderr(X_digits, capfd):
    AutoencoderTransformer(**{**FAST, "verbose": 1}).fit(X_digits)
    out, err = capfd.readouterr()
    assert out == ""
    # stderr is not a terminal here, and the bar is written all the same
    assert re.search(r"5/5 .*train_loss=", err)


def test_verbose_2_writes_one_line_per_epoch_to_stderr(X_digits, capfd):
    AutoencoderTransformer(**{**FAST, "verbose": 2}).fit(X_digits)
    out, err = capfd.readouterr()
    assert out == ""
    assert "train_loss" in err
    epoch_lines = [line for line in err.splitlines() if re.match(r"\s*\d+\s", line)]
    assert [int(line.split()[0]) for line in epoch_lines] == [1, 2, 3, 4, 5]


def test_verbose_0_writes_nothing(X_digits, capfd):
    ae = AutoencoderTransformer(**FAST).fit(X_digits)
    ae.transform(X_digits)
    ae.partial_fit(X_digits)
    assert capfd.readouterr() == ("", "")


class _CountEpochs(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def test_user_callbacks_run(X_digits):
    ae = AutoencoderTransformer(
        callbacks=[
            ("count", _CountEpochs()),
            ("lr", LRScheduler("StepLR", step_size=1, gamma=0.5)),
        ],
        **FAST,
    ).fit(X_digits)
    assert dict(ae.net_.callbacks_)["count"].epochs_ == FAST["max_epochs"]
    assert ae.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(
        ae.learning_rate * 0.5 ** FAST["max_epochs"]
    )
    assert "event_lr" in ae.history_[-1]


class _CountBatches(Callback):
    def initialize(self):
        self.batches_, self.gradients_ = 0, 0
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        self.batches_ += training

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.gradients_ += 1


def test_user_per_batch_callbacks_run_every_batch(X_digits):
    # the engine skips the empty methods callbacks inherit, never overridden ones
    settings = {**FAST, "early_stopping": False, "batch_size": 50}
    ae = AutoencoderTransformer(callbacks=[("count", _CountBatches())], **settings)
    ae.fit(X_digits)
    count = dict(ae.net_.callbacks_)["count"]
    expected = FAST["max_epochs"] * int(np.ceil(len(X_digits) / 50))
    assert count.batches_ == count.gradients_ == expected


# ---- user modules and the convolutional architecture ----------------------------


class TinyModule(nn.Module):
    def __init__(self, n_features, n_components, hidden=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_components)
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_components, hidden), nn.ReLU(), nn.Linear(hidden, n_features)
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


def test_user_module_class_is_built_to_the_data_and_trains(X_digits):
    ae = AutoencoderTransformer(module=TinyModule, **{**FAST, "max_epochs": 10})
    ae.fit(X_digits)
    assert isinstance(ae.module_, TinyModule)
    assert ae.module_.encoder[0].in_features == 64
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.transform(X_digits).shape == (len(X_digits), 2)


def test_user_module_instance_trains_a_copy_and_is_left_alone(X_digits):
    instance = TinyModule(64, 2, hidden=4)
    state = copy.deepcopy(instance.state_dict())
    ae = AutoencoderTransformer(module=instance, **{**FAST, "max_epochs": 10})
    ae.fit(X_digits)
    assert ae.module_ is not instance
    assert ae.module_.encoder[0].out_features == 4
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    for name, value in instance.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert instance.training


@pytest.mark.parametrize("image_shape", [(8, 8), (1, 8, 8), (2, 4, 8)])
def test_conv_architecture_trains_on_digits(image_shape, X_digits):
    ae = AutoencoderTransformer(
        architecture="conv",
        image_shape=image_shape,
        **{**FAST, "hidden_layer_sizes": (4, 8), "max_epochs": 10},
    ).fit(X_digits)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.transform(X_digits).shape == (len(X_digits), 2)
    assert ae.reconstruct(X_digits).shape == X_digits.shape


@pytest.mark.parametrize("image_shape", [(7, 9), (3, 5, 5), (1, 13, 1)])
def test_conv_architecture_reconstructs_odd_image_sizes_exactly(image_shape):
    n_features = int(np.prod(image_shape))
    X = np.random.default_rng(0).uniform(size=(40, n_features))
    ae = AutoencoderTransformer(
        architecture="conv",
        image_shape=image_shape,
        **{**FAST, "hidden_layer_sizes": (4,)},
    ).fit(X)
    assert ae.reconstruct(X).shape == X.shape
    assert ae.inverse_transform(ae.transform(X)).shape == X.shape
