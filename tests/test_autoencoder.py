"""Behaviour shared by the three transformers, and AutoencoderTransformer's own."""

import pickle
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from skorch.callbacks import Callback, LRScheduler
from torch import nn

from sk_autoencoder import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST

TRANSFORMERS = [AutoencoderTransformer, DenoisingAutoencoder, VAETransformer]
parametrize_transformers = pytest.mark.parametrize(
    "cls", TRANSFORMERS, ids=lambda c: c.__name__
)
SPARSE_FORMATS = ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"]


@parametrize_transformers
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_follow_input_dtype(cls, dtype, X_digits):
    X = X_digits.astype(dtype)
    est = cls(**FAST).fit(X)
    assert est.transform(X).dtype == dtype
    assert est.reconstruct(X).dtype == dtype
    assert est.score_samples(X).dtype == dtype
    assert est.inverse_transform(est.transform(X)).dtype == dtype


@parametrize_transformers
def test_same_random_state_gives_bit_identical_transform(cls, X_digits):
    first = cls(**{**FAST, "dropout": 0.1}).fit(X_digits).transform(X_digits)
    second = cls(**{**FAST, "dropout": 0.1}).fit(X_digits).transform(X_digits)
    np.testing.assert_array_equal(first, second)


@parametrize_transformers
def test_fitting_leaves_global_torch_rng_alone(cls, X_digits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    cls(**FAST).fit(X_digits)
    np.testing.assert_array_equal(torch.rand(3), expected)


@parametrize_transformers
def test_inverse_transform_of_transform_is_reconstruct(cls, X_digits):
    est = cls(**FAST).fit(X_digits)
    np.testing.assert_allclose(
        est.inverse_transform(est.transform(X_digits)),
        est.reconstruct(X_digits),
        rtol=1e-12,
    )


@pytest.mark.parametrize("cls", TRANSFORMERS[:2], ids=lambda c: c.__name__)
def test_score_samples_is_minus_mean_squared_error(cls, X_digits):
    est = cls(**FAST).fit(X_digits)
    expected = -np.mean((X_digits - est.reconstruct(X_digits)) ** 2, axis=1)
    np.testing.assert_allclose(est.score_samples(X_digits), expected, rtol=1e-10)
    assert est.score(X_digits) == pytest.approx(expected.mean())


@parametrize_transformers
@pytest.mark.parametrize("fmt", SPARSE_FORMATS)
def test_sparse_input_gives_the_dense_model(cls, fmt, X_digits):
    # dia stores every diagonal of the digits: slow to build, and scipy says so
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        X_sparse = sp.csr_matrix(X_digits).asformat(fmt)
    dense = cls(**FAST).fit(X_digits)
    sparse = cls(**FAST).fit(X_sparse)
    np.testing.assert_allclose(
        sparse.transform(X_sparse), dense.transform(X_digits), rtol=1e-6, atol=1e-6
    )


@parametrize_transformers
def test_read_only_and_memmap_inputs(cls, X_memmap):
    est = cls(**FAST).fit(X_memmap)
    assert est.transform(X_memmap).shape == (X_memmap.shape[0], 2)
    X = np.array(X_memmap)
    X.flags.writeable = False
    assert np.isfinite(est.fit(X).score_samples(X)).all()


@parametrize_transformers
def test_callers_arrays_are_never_modified(cls, X_digits):
    X = X_digits.copy()
    est = cls(**{**FAST, "input_scaling": "minmax"}).fit(X)
    Z = est.transform(X)
    Z_copy = Z.copy()
    est.score_samples(X)
    est.reconstruct(X)
    est.inverse_transform(Z)
    est.partial_fit(X)
    np.testing.assert_array_equal(X, X_digits)
    np.testing.assert_array_equal(Z, Z_copy)


@parametrize_transformers
def test_dataframe_feature_names_and_pandas_output(cls, X_digits):
    frame = pd.DataFrame(X_digits, columns=[f"px{i}" for i in range(64)])
    est = cls(**FAST).set_output(transform="pandas").fit(frame)
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns)
    out = est.transform(frame)
    assert isinstance(out, pd.DataFrame)
    prefix = cls.__name__.lower()
    assert list(out.columns) == [f"{prefix}0", f"{prefix}1"]


@parametrize_transformers
def test_warm_start_continues_and_counts(cls, X_digits):
    est = cls(**{**FAST, "warm_start": True}).fit(X_digits)
    weights = [p.detach().clone() for p in est.module_.parameters()]
    est.fit(X_digits)
    assert est.n_iter_ == 2 * FAST["max_epochs"]
    assert len(est.loss_curve_) == est.n_iter_
    # continued, not restarted: the loss keeps going down from where it was
    assert est.loss_curve_[FAST["max_epochs"]] < est.loss_curve_[0]
    assert any(
        not torch.equal(a, b)
        for a, b in zip(weights, est.module_.parameters(), strict=True)
    )


@parametrize_transformers
def test_partial_fit_adds_one_epoch_per_call(cls, X_digits):
    est = cls(**FAST)
    for i in range(1, 4):
        est.partial_fit(X_digits)
        assert est.n_iter_ == i


def test_fit_without_warm_start_starts_over(X_digits):
    est = AutoencoderTransformer(**FAST).fit(X_digits)
    first = est.transform(X_digits)
    est.fit(X_digits)
    assert est.n_iter_ == FAST["max_epochs"]
    np.testing.assert_array_equal(est.transform(X_digits), first)


def test_early_stopping_records_validation_and_stops():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))  # pure noise: nothing to learn from validation
    est = AutoencoderTransformer(
        n_components=1,
        hidden_layer_sizes=(8,),
        early_stopping=True,
        n_iter_no_change=3,
        tol=1.0,
        max_epochs=50,
        random_state=0,
    ).fit(X)
    assert est.n_iter_ < 50
    assert len(est.validation_loss_curve_) == est.n_iter_
    assert AutoencoderTransformer(**FAST).fit(X).validation_loss_curve_ is None


def test_hitting_max_epochs_warns(X_digits):
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        AutoencoderTransformer(**{**FAST, "max_epochs": 2, "tol": 0.0}).fit(X_digits)


def test_linear_autoencoder_approaches_pca(X_digits):
    X = X_digits[:, X_digits.std(axis=0) > 0]
    ae = AutoencoderTransformer(
        n_components=4,
        hidden_layer_sizes=(),
        activation="identity",
        max_epochs=150,
        learning_rate=3e-3,
        random_state=0,
    ).fit(X)
    # PCA of the standardised data is the optimum of a linear autoencoder
    # trained on that data, which input_scaling='standard' gives it
    scale = X.std(axis=0)
    Xs = (X - X.mean(axis=0)) / scale
    pca = PCA(n_components=4).fit(Xs)
    pca_error = np.mean((Xs - pca.inverse_transform(pca.transform(Xs))) ** 2)
    ae_error = np.mean(((X - ae.reconstruct(X)) / scale) ** 2)
    assert pca_error * (1 - 1e-6) <= ae_error < 1.1 * pca_error


def test_nonlinear_autoencoder_beats_pca_on_a_curve():
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, 600)
    curve = np.c_[t, t**2, np.sin(3 * t), np.cos(2 * t), t**3]
    X = curve @ rng.normal(size=(5, 10)) + 0.01 * rng.normal(size=(600, 10))
    ae = AutoencoderTransformer(
        n_components=1, hidden_layer_sizes=(32,), max_epochs=150, random_state=0
    ).fit(X)
    pca = PCA(n_components=1).fit(X)
    pca_error = np.mean((X - pca.inverse_transform(pca.transform(X))) ** 2)
    ae_error = np.mean((X - ae.reconstruct(X)) ** 2)
    assert ae_error < 0.7 * pca_error


@pytest.mark.parametrize("scaling", ["standard", "minmax", None])
def test_input_scaling_is_undone_on_the_way_out(scaling):
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(300, 2))
    X = latent @ rng.normal(size=(2, 6)) * 100.0 + 1000.0
    ae = AutoencoderTransformer(
        n_components=2,
        hidden_layer_sizes=(),
        activation="identity",
        input_scaling=scaling,
        max_epochs=150,
        learning_rate=1e-2,
        random_state=0,
    ).fit(X if scaling is not None else (X - 1000.0) / 100.0)
    X_in = X if scaling is not None else (X - 1000.0) / 100.0
    relative_error = np.mean((X_in - ae.reconstruct(X_in)) ** 2) / X_in.var()
    # outputs left in scaled units would miss X (offset 1000, scale 100) by far
    # more than its variance; a rank-2 fit in original units leaves little
    assert relative_error < 0.1


def test_bce_with_minmax_scaling_trains(X_digits):
    ae = AutoencoderTransformer(loss="bce", input_scaling="minmax", **FAST)
    X_rebuilt = ae.fit(X_digits).reconstruct(X_digits)
    # a sigmoid output, minmax-undone: inside each pixel's training range
    assert X_rebuilt.min() >= 0 and X_rebuilt.max() <= 16


@pytest.mark.parametrize(
    "optimizer", ["adam", "adamw", "sgd", "rmsprop", torch.optim.Adagrad]
)
def test_every_optimizer_trains(optimizer, X_digits):
    ae = AutoencoderTransformer(optimizer=optimizer, **{**FAST, "max_epochs": 10})
    ae.fit(X_digits)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_pipeline_search_and_composition(X_digits, digits):
    from sklearn.model_selection import GridSearchCV

    y = digits[1]
    pipe = make_pipeline(AutoencoderTransformer(**FAST), LogisticRegression())
    search = GridSearchCV(
        pipe, {"autoencodertransformer__n_components": [2, 4]}, cv=2, n_jobs=2
    )
    assert search.fit(X_digits, y).best_params_
    assert len(cross_val_score(AutoencoderTransformer(**FAST), X_digits, cv=2)) == 2
    union = FeatureUnion(
        [("ae", AutoencoderTransformer(**FAST)), ("pca", PCA(n_components=3))]
    )
    assert union.fit_transform(X_digits).shape == (len(X_digits), 5)
    columns = ColumnTransformer([("ae", AutoencoderTransformer(**FAST), slice(0, 32))])
    assert columns.fit_transform(X_digits).shape == (len(X_digits), 2)
    assert clone(AutoencoderTransformer(**FAST)).get_params() == (
        AutoencoderTransformer(**FAST).get_params()
    )


@parametrize_transformers
def test_pickle_and_joblib_round_trip(cls, X_digits, tmp_path):
    est = cls(**FAST).fit(X_digits)
    expected = est.transform(X_digits)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(est)).transform(X_digits), expected
    )
    joblib.dump(est, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").transform(X_digits), expected
    )


@pytest.mark.parametrize(
    "verbose, stream, pattern",
    [(1, "err", r"\d+/5"), (2, "err", r"train_loss")],
)
def test_verbose_writes_progress_to_stderr(verbose, stream, pattern, X_digits, capfd):
    AutoencoderTransformer(**{**FAST, "verbose": verbose}).fit(X_digits)
    out, err = capfd.readouterr()
    assert out == ""
    assert re.search(pattern, err)
    if verbose == 2:
        # one line per epoch (after the header and its rule)
        assert (
            len([line for line in err.splitlines() if line.strip()[:1].isdigit()]) == 5
        )


def test_verbose_zero_is_silent(X_digits, capfd):
    AutoencoderTransformer(**FAST).fit(X_digits)
    assert capfd.readouterr() == ("", "")


class _CountEpochs(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def test_user_callbacks_run_and_appear_in_history(X_digits):
    ae = AutoencoderTransformer(
        callbacks=[
            ("count", _CountEpochs()),
            ("lr", LRScheduler("StepLR", step_size=1, gamma=0.5)),
        ],
        **FAST,
    ).fit(X_digits)
    assert dict(ae.net_.callbacks_)["count"].epochs_ == FAST["max_epochs"]
    assert ae.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(
        1e-3 * 0.5 ** FAST["max_epochs"]
    )
    assert "event_lr" in ae.history_[-1]


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


def test_user_module_class_and_instance(X_digits):
    from_class = AutoencoderTransformer(module=TinyModule, **FAST).fit(X_digits)
    assert isinstance(from_class.module_, TinyModule)
    instance = TinyModule(64, 2, hidden=4)
    before = [p.detach().clone() for p in instance.parameters()]
    from_instance = AutoencoderTransformer(module=instance, **FAST).fit(X_digits)
    assert from_instance.module_.encoder[0].out_features == 4
    # trained a copy: the instance passed is untouched
    for a, b in zip(before, instance.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("image_shape", [(8, 8), (1, 8, 8), (2, 4, 8)])
def test_conv_architecture_reconstructs_exact_shape(image_shape, X_digits):
    ae = AutoencoderTransformer(
        architecture="conv",
        image_shape=image_shape,
        **{**FAST, "hidden_layer_sizes": (4, 8)},
    ).fit(X_digits)
    assert ae.reconstruct(X_digits).shape == X_digits.shape


@pytest.mark.parametrize("image_shape", [(7, 9), (3, 5, 5), (1, 13, 1)])
def test_conv_architecture_on_odd_image_sizes(image_shape):
    n_features = int(np.prod(image_shape))
    X = np.random.default_rng(0).uniform(size=(40, n_features))
    ae = AutoencoderTransformer(
        architecture="conv",
        image_shape=image_shape,
        **{**FAST, "hidden_layer_sizes": (4,)},
    ).fit(X)
    assert ae.reconstruct(X).shape == X.shape


def test_latent_l1_makes_codes_sparser(X_digits):
    settings = {**FAST, "n_components": 8, "max_epochs": 20}
    plain = AutoencoderTransformer(**settings).fit(X_digits)
    sparse = AutoencoderTransformer(latent_l1=1.0, **settings).fit(X_digits)
    assert (
        np.abs(sparse.transform(X_digits)).mean()
        < 0.5 * np.abs(plain.transform(X_digits)).mean()
    )
