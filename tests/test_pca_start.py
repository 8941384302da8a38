"""The PCA start (init='pca'): equality with PCA before training, PCA's interface."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sk_autoencoder import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
)

from conftest import FAST, LinearModule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DETERMINISTIC = [AutoencoderTransformer, DenoisingAutoencoder]
ALL = [*DETERMINISTIC, VAETransformer]

# a learning rate so small that no epoch improves the validation loss by tol:
# the stopping rule keeps the start, so the fitted model is PCA itself
AT_START = dict(FAST, learning_rate=1e-12, max_epochs=3, n_iter_no_change=1)


def at_start(cls, **params):
    return cls(**{**AT_START, **params})


@pytest.mark.parametrize("cls", DETERMINISTIC)
@pytest.mark.parametrize("whiten", [False, True])
def test_the_start_is_pca(cls, whiten, X_digits):
    est = at_start(cls, n_components=5, whiten=whiten).fit(X_digits)
    pca = PCA(5, whiten=whiten).fit(X_digits)
    codes = est.transform(X_digits)
    # the weights are float32: equal to PCA's to float32 rounding
    np.testing.assert_allclose(codes, pca.transform(X_digits), atol=1e-4)
    np.testing.assert_allclose(
        est.inverse_transform(codes), pca.inverse_transform(codes), atol=1e-4
    )
    reconstruction = pca.inverse_transform(pca.transform(X_digits))
    np.testing.assert_allclose(est.reconstruct(X_digits), reconstruction, atol=1e-4)
    np.testing.assert_allclose(
        est.reconstruction_errors(X_digits), (X_digits - reconstruction) ** 2, atol=1e-4
    )
    # the log-density is probabilistic PCA's (whitening, which changes PCA's
    # own score, left out)
    ppca = PCA(5).fit(X_digits)
    np.testing.assert_allclose(
        est.score_samples(X_digits), ppca.score_samples(X_digits), rtol=1e-5
    )
    assert isinstance(est.score(X_digits), float)
    np.testing.assert_allclose(
        est.latent_covariance_, np.diag(ppca.explained_variance_), rtol=1e-5, atol=1e-4
    )
    np.testing.assert_allclose(
        est.reconstruction_noise_variance_, ppca.noise_variance_, rtol=1e-5
    )
    np.testing.assert_allclose(
        est.reconstruction_explained_variance_ratio_,
        pca.explained_variance_ratio_.sum(),
        rtol=1e-6,
    )


def test_the_conv_start_is_pca(X_digits):
    est = at_start(
        AutoencoderTransformer,
        n_components=4,
        architecture="conv",
        image_shape=(8, 8),
        hidden_layer_sizes=(4,),
    ).fit(X_digits)
    pca = PCA(4).fit(X_digits)
    np.testing.assert_allclose(
        est.transform(X_digits), pca.transform(X_digits), atol=1e-4
    )


def test_cross_entropy_start_is_pca_clipped_into_the_unit_interval(X_digits):
    X = X_digits / 16.0
    est = at_start(
        AutoencoderTransformer, n_components=6, loss="bce", input_scaling="minmax"
    ).fit(X)
    pca = PCA(6).fit(X)
    expected = np.clip(pca.inverse_transform(pca.transform(X)), 1e-6, 1 - 1e-6)
    np.testing.assert_allclose(est.reconstruct(X), expected, atol=1e-4)


@pytest.mark.parametrize("whiten", [False, True])
def test_the_vae_starts_at_probabilistic_pca(whiten, X_digits):
    est = at_start(VAETransformer, n_components=5, whiten=whiten).fit(X_digits)
    pca = PCA(5, whiten=whiten).fit(X_digits)
    # the ELBO of the exact posterior is PPCA's log-likelihood (whitening, which
    # changes PCA.score, is left out of the comparison)
    ppca = PCA(5).fit(X_digits)
    np.testing.assert_allclose(
        est.score_samples(X_digits), ppca.score_samples(X_digits), rtol=1e-5
    )
    if whiten:
        np.testing.assert_allclose(
            est.transform(X_digits), pca.transform(X_digits), atol=1e-4
        )


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("n_components", [3, None, 0.8, "mle"])
def test_n_components_is_taken_as_pca_takes_it(cls, n_components, X_digits):
    est = cls(**{**FAST, "n_components": n_components, "max_epochs": 1}).fit(X_digits)
    expected = PCA(n_components).fit(X_digits).n_components_
    assert est.n_components_ == expected
    assert est.transform(X_digits[:4]).shape == (4, expected)
    assert est.get_params()["n_components"] == n_components


@pytest.mark.parametrize("cls", ALL)
def test_pca_attributes_are_those_of_the_pca_start(cls, X_digits):
    est = cls(**{**FAST, "n_components": 6, "max_epochs": 1}).fit(X_digits)
    pca = PCA(6).fit(X_digits)
    for name in (
        "components_",
        "explained_variance_",
        "explained_variance_ratio_",
        "singular_values_",
        "mean_",
        "noise_variance_",
    ):
        np.testing.assert_allclose(
            getattr(est, name), getattr(pca, name), rtol=1e-7, atol=1e-9, err_msg=name
        )
    assert est.n_samples_ == pca.n_samples_
    np.testing.assert_allclose(est.get_covariance(), pca.get_covariance(), atol=1e-8)
    np.testing.assert_allclose(
        est.get_precision(), pca.get_precision(), rtol=1e-6, atol=1e-8
    )
    assert 0 < est.reconstruction_explained_variance_ratio_ <= 1


@pytest.mark.parametrize("solver", ["full", "randomized", "arpack"])
def test_svd_solver_arguments_configure_the_pca_start(solver, X_digits):
    params = dict(n_components=4, svd_solver=solver, iterated_power=3, n_oversamples=5)
    est = at_start(AutoencoderTransformer, **params).fit(X_digits)
    pca = PCA(**params, random_state=est._seed).fit(X_digits)
    np.testing.assert_allclose(est.components_, pca.components_, atol=1e-8)


def test_training_improves_on_pca():
    X, _ = load_digits(return_X_y=True)
    est = AutoencoderTransformer(
        n_components=4, max_epochs=20, random_state=0, hidden_layer_sizes=(32,)
    ).fit(X)
    assert (
        est.reconstruction_explained_variance_ratio_
        > est.explained_variance_ratio_.sum()
    )


def test_whiten_needs_the_pca_start(X_digits):
    with pytest.raises(ValueError, match="whiten=True .* needs init='pca'"):
        AutoencoderTransformer(**FAST, init="random", whiten=True).fit(X_digits)


def test_whitened_codes_have_unit_variance_at_the_start(X_digits):
    est = at_start(AutoencoderTransformer, n_components=5, whiten=True).fit(X_digits)
    np.testing.assert_allclose(
        est.transform(X_digits).std(axis=0, ddof=1), 1, atol=1e-4
    )


def test_random_init_is_a_plain_network(X_digits):
    est = AutoencoderTransformer(**FAST, init="random").fit(X_digits)
    assert not hasattr(est.module_, "residual")
    pca = PCA(2).fit(X_digits)
    np.testing.assert_allclose(est.components_, pca.components_, atol=1e-8)


def test_partial_fit_refuses_a_changed_n_components(X_digits):
    est = AutoencoderTransformer(**FAST).partial_fit(X_digits)
    est.set_params(n_components=3)
    with pytest.raises(ValueError, match="n_components=2 -> 3"):
        est.partial_fit(X_digits)


def test_warm_start_refuses_a_changed_architecture(X_digits):
    est = AutoencoderTransformer(**FAST, warm_start=True).fit(X_digits)
    est.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(16,\) -> \(8,\)"):
        est.fit(X_digits)


def test_warm_start_trains_with_the_current_settings(X_digits):
    est = AutoencoderTransformer(**FAST, warm_start=True).fit(X_digits)
    n_iter = est.n_iter_
    est.set_params(learning_rate=0.05, batch_size=4, max_epochs=1)
    est.fit(X_digits)
    assert est.net_.batch_size == 4
    assert est.net_.optimizer_.param_groups[0]["lr"] == 0.05
    assert est.n_iter_ == n_iter + 1


def test_pca_idioms_run_unchanged(digits):
    """Code written for PCA, with the class swapped."""
    X, y = digits
    Estimator = AutoencoderTransformer  # was: PCA
    fast = dict(max_epochs=2, hidden_layer_sizes=(16,), random_state=0)

    # k-means initialised at the principal axes
    reduced = Estimator(n_components=4, **fast).fit(X)
    KMeans(n_clusters=4, init=reduced.components_, n_init=1).fit(X)

    # the explained variance curve, and the number of components for 90% of it
    full = Estimator(**fast).fit(X)
    cumulative = np.cumsum(full.explained_variance_ratio_)
    assert full.n_components_ == min(X.shape)
    assert np.isclose(cumulative[-1], 1.0)
    n_90 = int(np.searchsorted(cumulative, 0.9) + 1)
    assert Estimator(n_components=0.9, **fast).fit(X).n_components_ == n_90

    # PCA(svd_solver="randomized", whiten=True) in a pipeline
    pipe = make_pipeline(
        Estimator(n_components=8, svd_solver="randomized", whiten=True, **fast),
        LogisticRegression(max_iter=200),
    )
    assert pipe.fit(X, y).score(X, y) > 0.5
    clone(pipe).set_params(autoencodertransformer__n_components=4).fit(X, y)


class _InPlaceDecoder(LinearModule):
    """A user module whose decode writes into its input, as ``relu_`` does."""

    def decode(self, z):
        return self.decoder(z.relu_())


def test_inverse_transform_leaves_the_callers_codes_alone(X_digits):
    est = AutoencoderTransformer(**FAST, module=_InPlaceDecoder).fit(X_digits)
    codes = est.transform(X_digits)
    assert (codes < 0).any()
    before = codes.copy()
    est.inverse_transform(codes)
    np.testing.assert_array_equal(codes, before)
