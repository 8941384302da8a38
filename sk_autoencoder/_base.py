"""BaseAutoencoder: what the three transformers share."""

import copy
import inspect
import json
import math
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from skorch.history import History

from sk_autoencoder._data import RowSource, Scaler, fit_scaler
from sk_autoencoder._distributed import main_process_seed, process_device
from sk_autoencoder._docstrings import insert_shared_docs
from sk_autoencoder._engine import (
    ReconstructionNet,
    RowDataset,
    end_interrupted_epoch,
    has_converged,
    make_callbacks,
    make_valid_split,
    seeded,
)
from sk_autoencoder._inference import Float64Copies, Inference
from sk_autoencoder._losses import ReconstructionLoss
from sk_autoencoder._modules import (
    ACTIVATIONS,
    AnchoredAutoencoder,
    AutoencoderModule,
    make_conv_autoencoder,
    make_mlp_autoencoder,
)
from sk_autoencoder._pca import (
    PCA_ATTRIBUTES,
    code_unit,
    fit_pca,
    linear_start,
    pca_model,
)
from sk_autoencoder._state import (
    MAX_PARAMETERS,
    Array,
    ArrayPair,
    Field,
    Float,
    Integer,
    Names,
    check_fields,
    check_history,
    check_keys,
    check_optimizer_entries,
    check_state_dict,
    cpu_tensors,
    dump_fields,
    load_optimizer_state,
    refuse,
    set_fields,
)
from sk_autoencoder._validation import (
    FLOAT_DTYPES,
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    check_hidden_layer_sizes,
    check_image_shape,
    check_is_fitted,
    check_loss_and_data,
    check_module_shapes,
    check_param_types,
    fit_context,
    resolve_device,
    validate_data,
)

_OPTIMIZERS = {
    # fused kernels: one pass over all parameters instead of a loop over tensors,
    # the same update (to rounding), and most of the engine's speed on CPU
    "adam": (torch.optim.Adam, {"fused": True}),
    "adamw": (torch.optim.AdamW, {"fused": True}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (torch.optim.RMSprop, {}),
}

_LOG_2PI = math.log(2 * math.pi)


def store_init_params(estimator, params):
    """Store the arguments of ``__init__`` (its ``locals()``) as attributes.

    The concrete classes spell out their full signatures, which ``get_params``
    reads; this keeps their bodies to one line without hiding a parameter.
    """
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


def _same_param(a, b):
    """Whether two values of a parameter are the same setting."""
    if a is b:
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tuple(a) == tuple(b)
    try:
        return bool(type(a) is type(b) and a == b)
    except (TypeError, ValueError):
        return False


@insert_shared_docs
class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Fitting, transforming, scoring, tags and feature names of the autoencoders.

    Subclasses differ through hooks: ``_make_module`` and ``_module_classes``
    (the network), ``_start_at`` (its PCA start), ``_fit_data_state`` (what the
    network needs from X besides weights), ``_net_class`` and ``_net_params``
    (the skorch net that trains it), ``_make_criterion`` and ``_code_factor``.
    """

    _parameter_constraints = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            StrOptions({"mle"}),
            None,
        ],
        "init": [StrOptions({"pca", "random"})],
        "svd_solver": [
            StrOptions({"auto", "full", "covariance_eigh", "arpack", "randomized"})
        ],
        "iterated_power": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_oversamples": [Interval(Integral, 1, None, closed="left")],
        "power_iteration_normalizer": [StrOptions({"auto", "QR", "LU", "none"})],
        "whiten": ["boolean"],
        "copy": ["boolean"],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "architecture": [StrOptions({"mlp", "conv"})],
        "image_shape": [tuple, None],
        "loss": [StrOptions({"mse", "bce"})],
        "input_scaling": [StrOptions({"standard", "minmax"}), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "latent_l1": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, tuple, None],
        "module": [HasMethods(["encode", "decode"]), None],
        "accelerator": [HasMethods(["reduce", "wait_for_everyone"]), None],
    }

    _net_class = ReconstructionNet
    # the built-in network's classes, plain and PCA-anchored
    _module_classes = (AutoencoderModule, AnchoredAutoencoder)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct X.

        If training raises (a diverging loss, say), the estimator is left as it
        was: unfitted before its first fit, the previous fitted model (weights
        included) after one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices are densified one batch at a time.

        <<y_ignored>>

        Returns
        -------
        self : object
            Fitted estimator.

        Examples
        --------
        <<ae_example>>
        >>> ae.fit(X[:200]).n_iter_ <= 2
        True
        """
        is_warm = self.warm_start and hasattr(self, "net_")
        with self._restored_on_failure(continues=is_warm):
            X = self._validate_training_data(X, reset=not is_warm)
            if is_warm:
                self._check_architecture_unchanged()
                self._rebuild_net()
            else:
                self._initialize(X)
            # the PCA start, or the fitted model a warm fit continues, is a
            # candidate of the stopping rule; random weights are not
            self._train(X, epochs=self.max_epochs, baseline=is_warm or self._anchored)
            self._fit_density(X)
        if self.net_.interrupted_in_ is None and not has_converged(self.net_):
            warnings.warn(
                f"{type(self).__name__} reached max_epochs={self.max_epochs} "
                "without converging; increase max_epochs or tol.",
                ConvergenceWarning,
                stacklevel=3,  # past scikit-learn's fit wrapper, to the caller
            )
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train one more epoch on X, keeping the weights and optimizer state.

        The first call initialises the model (and fits ``input_scaling`` on that
        first X); later calls continue it, and ``n_iter_`` keeps counting. Use it
        to train on data that does not fit in memory, one chunk at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.

        <<y_ignored>>

        Returns
        -------
        self : object
            The estimator, trained one more epoch.

        Examples
        --------
        <<ae_example>>
        >>> for chunk in (X[:100], X[100:200]):
        ...     ae = ae.partial_fit(chunk)
        >>> ae.n_iter_
        2
        """
        is_first = not hasattr(self, "net_")
        with self._restored_on_failure(continues=not is_first):
            X = self._validate_training_data(X, reset=is_first)
            if is_first:
                self._initialize(X)
            else:
                self._check_architecture_unchanged()
            self._train(X, epochs=1, baseline=False)
            self._fit_density(X)
        return self

    def transform(self, X):
        """Encode X into latent codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Latent codes, of X's float dtype.

        Examples
        --------
        <<ae_example>>
        >>> ae.fit(X[:200]).transform(X[:3]).shape
        (3, 4)
        """
        X = self._validate_fitted(X)
        inference = self._inference(X.dtype)
        return inference.map(X, inference.encode, self.n_components_)

    def inverse_transform(self, X):
        """Decode latent codes back to the space of the original X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Latent codes, such as the output of ``transform``.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Decoded rows in the units of the original X.

        Examples
        --------
        <<ae_example>>
        >>> codes = ae.fit(X[:200]).transform(X[:3])
        >>> ae.inverse_transform(codes).shape
        (3, 64)
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=FLOAT_DTYPES)
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} columns but {type(self).__name__} has "
                f"n_components_={self.n_components_}; inverse_transform takes "
                "latent codes."
            )
        inference = self._inference(Z.dtype)
        # the codes' chunks are copies: a module may decode in place (relu_), and
        # Z may be the caller's array
        return inference.map(Z, inference.decode, self.n_features_in_, scaled=False)

    def reconstruct(self, X):
        """Encode and decode X: ``inverse_transform(transform(X))``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode, then decode.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
            Reconstruction in the units of the original X.

        Examples
        --------
        <<ae_example>>
        >>> X_hat = ae.fit(X[:200]).reconstruct(X[:3])
        >>> X_hat.shape
        (3, 64)
        """
        X = self._validate_fitted(X)
        inference = self._inference(X.dtype)
        return inference.map(
            X, lambda x: inference.unscale(inference.reconstruct(x)), X.shape[1]
        )

    def score_samples(self, X):
        """Log-density of each row under the fitted model, in nats, in X's units.

        As :meth:`sklearn.decomposition.PCA.score_samples`, and equal to it at
        the PCA start: the log-density of the code ``z = transform(X)`` (before
        whitening) under a Gaussian fitted to the training codes
        (``latent_mean_``, ``latent_covariance_``), plus that of the residual
        ``X - reconstruct(X)`` under an isotropic Gaussian of variance
        ``reconstruction_noise_variance_`` in ``n_features - n_components_``
        dimensions. Higher means more likely; :meth:`score` averages it, so a
        search without ``scoring=`` can choose ``n_components`` as with PCA.
        For the squared reconstruction error, see :meth:`reconstruction_errors`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score under the fitted model.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Log-density of each row.

        Notes
        -----
        Probabilistic PCA's density factorises this way: its covariance has the
        eigenvalues ``explained_variance_`` along the principal axes and
        ``noise_variance_`` across them, and the map from x to its code and
        residual is a rotation, so the two log-densities add up to that of x.
        The estimator keeps the construction for the trained network: it
        assumes the codes are Gaussian and the residuals isotropic, with as many
        free directions as the linear case leaves. Once the encoder and decoder
        are nonlinear, the map from x to (code, residual) is no longer a
        rotation, and the score leaves out its Jacobian: it is then a model
        score for comparing fits on held-out data (in nats, on PCA's scale),
        not an exact normalised density. :class:`VAETransformer` gives a proper
        lower bound of the likelihood (its ELBO).

        Examples
        --------
        <<ae_example>>
        >>> ae.fit(X[:200]).score_samples(X[:3]).shape
        (3,)
        """
        X = self._validate_fitted(X)
        inference = self._inference(X.dtype)
        return inference.map(X, self._batch_scorer(inference), None)

    def reconstruction_errors(self, X):
        """Squared reconstruction error of every feature of every row, in X's units.

        ``(X - reconstruct(X)) ** 2``; its mean over features is each row's mean
        squared error, the score of the previous releases' ``score_samples``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct, feature by feature.

        Returns
        -------
        errors : ndarray of shape (n_samples, n_features)
            Squared error of each feature, in the squared units of X.

        Examples
        --------
        >>> import numpy as np
        <<ae_example>>
        >>> ae = ae.fit(X[:200])
        >>> errors = ae.reconstruction_errors(X[:3])
        >>> bool(np.allclose(errors, (X[:3] - ae.reconstruct(X[:3])) ** 2))
        True
        """
        X = self._validate_fitted(X)
        inference = self._inference(X.dtype)
        return inference.map(
            X,
            lambda x: ((x - inference.reconstruct(x)) * inference.scale).square(),
            X.shape[1],
        )

    def residuals_and_codes(self, X):
        """Per row: the residual in the scaled units, and the code.

        The detector's contract: :class:`AutoencoderOutlierDetector` reads an
        inner estimator through this one method. From one encoder pass,
        ``residuals`` is ``(X - reconstruct(X)) / scale`` with ``scale`` each
        feature's scale from ``input_scaling`` (the units the network trains
        in, where features are of order one), and ``codes`` is ``transform(X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct and encode, in one encoder pass.

        Returns
        -------
        residuals : ndarray of shape (n_samples, n_features)
            Scaled reconstruction residuals.

        codes : ndarray of shape (n_samples, `n_components_`)
            Latent codes, as ``transform`` returns them.

        Examples
        --------
        <<ae_example>>
        >>> residuals, codes = ae.fit(X[:200]).residuals_and_codes(X[:3])
        >>> residuals.shape, codes.shape
        ((3, 64), (3, 4))
        """
        X = self._validate_fitted(X)
        inference = self._inference(X.dtype)

        def residuals_and_codes(x):
            z, residuals = inference.codes_and_residuals(x)
            return residuals, inference.in_code_units(z)

        return inference.map(X, residuals_and_codes, (X.shape[1], self.n_components_))

    def score(self, X, y=None):
        """Mean of ``score_samples`` over X, so that higher is better.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Held-out data to score.

        <<y_ignored>>

        Returns
        -------
        score : float
            Mean per-sample score.

        Examples
        --------
        <<ae_example>>
        >>> isinstance(ae.fit(X[:200]).score(X[:50]), float)
        True
        """
        return float(np.mean(self.score_samples(X)))

    def get_covariance(self):
        """Data covariance under the probabilistic PCA model of the PCA start.

        ``components_.T @ diag(explained_variance_ - noise_variance_) @
        components_ + noise_variance_ * I``, computed by
        :meth:`sklearn.decomposition.PCA.get_covariance` on the PCA the
        estimator started from (fitted on the training X, whatever ``init``).
        It describes that linear model, not the trained network.

        Returns
        -------
        cov : ndarray of shape (n_features, n_features)
            Estimated covariance of the data.

        Examples
        --------
        <<ae_example>>
        >>> ae.fit(X[:200]).get_covariance().shape
        (64, 64)
        """
        check_is_fitted(self)
        return pca_model(self).get_covariance()

    def get_precision(self):
        """Data precision (inverse covariance) of the PCA start's model.

        The inverse of :meth:`get_covariance`, by
        :meth:`sklearn.decomposition.PCA.get_precision`.

        Returns
        -------
        precision : ndarray of shape (n_features, n_features)
            Estimated precision of the data, ``inv(get_covariance())``.

        Examples
        --------
        >>> import numpy as np
        <<ae_example>>
        >>> ae = ae.fit(X[:200])
        >>> bool(np.allclose(ae.get_precision() @ ae.get_covariance(), np.eye(64)))
        True
        """
        check_is_fitted(self)
        return pca_model(self).get_precision()

    # ---- fitted attributes derived from the net -------------------------------

    @property
    def module_(self):
        return self.net_.module_

    @property
    def history_(self):
        return self.net_.history

    @property
    def loss_curve_(self):
        return [float(v) for v in self.net_.history[:, "train_loss"]]

    @property
    def validation_loss_curve_(self):
        if self.net_.train_split is None:
            return None
        return [float(v) for v in self.net_.history[:, "valid_loss"]]

    @property
    def n_iter_(self):
        return len(self.net_.history)

    @property
    def _n_features_out(self):
        return self.n_components_

    # ---- private hooks, in the order fit calls them ---------------------------

    @contextmanager
    def _restored_on_failure(self, continues):
        """On an exception, leave the estimator as it was before the call.

        A call that ``continues`` the fitted network (a warm fit, ``partial_fit``)
        trains its weights in place, so they, the criterion's, the optimizer's
        state and the history's length are kept aside and put back. A
        ``KeyboardInterrupt`` during training is not a failure: skorch ends
        training there, and ``_train`` reports the weights kept.
        """
        attributes = dict(self.__dict__)
        net = getattr(self, "net_", None) if continues else None
        if net is not None:
            parts = (net.module_, net.criterion_, net.optimizer_)
            saved = [copy.deepcopy(part.state_dict()) for part in parts]
            n_epochs = len(net.history)
        try:
            yield
        except BaseException:  # an interrupt outside training too
            self.__dict__.clear()
            self.__dict__.update(attributes)
            if net is not None:
                for part, state in zip(parts, saved, strict=True):
                    part.load_state_dict(state)
                del net.history[n_epochs:]
            raise

    _INTEGER_PARAMS = (
        "n_components",
        "batch_size",
        "max_epochs",
        "n_iter_no_change",
        "iterated_power",
        "n_oversamples",
    )

    def _validate_params(self):
        super()._validate_params()
        check_param_types(self, self._INTEGER_PARAMS)

    def _validate_training_data(self, X, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=FLOAT_DTYPES,
            ensure_min_samples=2,
        )
        check_loss_and_data(self.loss, self.input_scaling, X)
        return X

    def _initialize(self, X):
        """Draw the seed, fit the PCA start, build the network there."""
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self._seed = main_process_seed(self.accelerator, seed)
        self._fit_data_state(X)
        standard = self._scaler  # X's standard scaler, for the PCA start
        if self.input_scaling != "standard":
            standard = fit_scaler(X, "standard")
        pca = fit_pca(X, self, self._seed, standard)
        for name in PCA_ATTRIBUTES:
            setattr(self, name, getattr(pca, name))
        self.n_components_ = int(pca.n_components_)
        if self.whiten and not self._anchored:
            raise ValueError(
                "whiten=True divides the codes by their standard deviation at the "
                "PCA start, so it needs init='pca' and the built-in module; got "
                f"init={self.init!r}"
                + (" and a user module." if self.module is not None else ".")
            )
        self._build_network(X.shape[1])
        if self._anchored:
            self._start_at(pca, standard.scale)

    @property
    def _anchored(self):
        """Whether the network is the PCA-anchored module (``init='pca'``)."""
        return self.init == "pca" and self.module is None

    def _start_at(self, pca, feature_std):
        """Put the network at PCA's solution (``feature_std``: X's, non-zero)."""
        self.module_.start_at(linear_start(pca, self._scaler, feature_std))

    # parameters that fix the network's structure or its PCA start: a warm fit
    # or a later partial_fit cannot change them
    _ARCHITECTURE_PARAMS = (
        "n_components",
        "init",
        "svd_solver",
        "iterated_power",
        "n_oversamples",
        "power_iteration_normalizer",
        "whiten",
        "hidden_layer_sizes",
        "activation",
        "architecture",
        "image_shape",
        "loss",
        "input_scaling",
        "dropout",
        "module",
    )

    def _check_architecture_unchanged(self):
        changed = [
            f"{name}={self._architecture[name]!r} -> {getattr(self, name)!r}"
            for name in self._ARCHITECTURE_PARAMS
            if not _same_param(self._architecture[name], getattr(self, name))
        ]
        if changed:
            raise ValueError(
                f"{type(self).__name__} was fitted with other values of parameters "
                f"that fix the network ({', '.join(changed)}); a warm_start fit and "
                "partial_fit continue the fitted network, so they cannot change "
                "them. Fit a new estimator (or set warm_start=False)."
            )

    def _fit_data_state(self, X):
        """Learn from X what the network needs besides weights: shapes, scaling."""
        self._set_shapes()
        self._scaler = fit_scaler(X, self.input_scaling)

    def _build_network(self, n_features):
        if self.accelerator is None:
            device = resolve_device(self.device)
        else:
            device = process_device(self.accelerator)
        self._float64_copies = Float64Copies()
        self._architecture = {
            name: getattr(self, name) for name in self._ARCHITECTURE_PARAMS
        }
        with seeded(self._seed, device):
            module = self._make_module(n_features)
            if self.module is not None:
                self._check_module(module, n_features)
            self.net_ = self._build_net(
                module, self._make_criterion(n_features), device
            )

    def _rebuild_net(self):
        """A new net from the current parameters, around the fitted module.

        A warm fit keeps the weights (and the criterion's), the history and,
        for the same optimizer, its running state, and trains with the current
        optimizer, learning rate, weight decay, batch size and stopping
        settings, as ``MLPRegressor`` does.
        """
        old = self.net_
        with seeded(self._seed, old.device):
            self.net_ = self._build_net(old.module_, old.criterion_, old.device)
        self.net_.history = old.history
        optimizer = self.net_.optimizer_
        if type(optimizer) is type(old.optimizer_):
            # the same optimizer keeps its running state (Adam's moments, say),
            # with the current learning rate and weight decay
            settings = [
                {k: v for k, v in group.items() if k != "params"}
                for group in optimizer.param_groups
            ]
            optimizer.load_state_dict(old.optimizer_.state_dict())
            for group, setting in zip(optimizer.param_groups, settings, strict=True):
                group.update(setting)

    def _make_module(self, n_features):
        if self.module is not None:
            if isinstance(self.module, torch.nn.Module):
                return copy.deepcopy(self.module)
            # a class: called with the sizes its constructor accepts
            params = inspect.signature(self.module).parameters
            sizes = {"n_features": n_features, "n_components": self.n_components_}
            return self.module(**{k: v for k, v in sizes.items() if k in params})
        options = dict(
            activation=self.activation,
            dropout=self.dropout,
            # an anchored module applies the output activation itself
            loss="mse" if self._anchored else self.loss,
            module_class=self._module_classes[0],
        )
        if self.architecture == "conv":
            make, shape = make_conv_autoencoder, self._image_shape
        else:
            make, shape = make_mlp_autoencoder, n_features
        network = make(shape, self.n_components_, self._hidden_layer_sizes, **options)
        if not self._anchored:
            return network
        output = "sigmoid" if self.loss == "bce" else "identity"
        return self._module_classes[1](network, n_features, self.n_components_, output)

    def _check_module(self, module, n_features):
        """Run a user's module on two rows: what encode and decode return."""
        check_module_shapes(module, n_features, self.n_components_)

    def _make_criterion(self, n_features):
        # squared error weighted by the squared scales, which makes the loss of
        # the scaled values the network sees the squared error in X's units
        # (PCA's objective), divided by the mean squared scale so that it stays
        # of order one (in float32) whatever the units of X
        weight = None
        if self.loss == "mse" and not self._scaler.is_identity:
            # the ratios first: squares of huge scales overflow
            squares = (self._scaler.scale / self._scaler.scale.max()) ** 2
            weight = torch.as_tensor(squares / squares.mean(), dtype=torch.float32)
        return ReconstructionLoss(self.loss, weight)

    def _net_params(self):
        """Keyword arguments of ``_net_class`` beyond the shared ones."""
        return {}

    def _build_net(self, module, criterion, device):
        """Translate the estimator's parameters into its skorch net, initialised."""
        optimizer, options = _OPTIMIZERS.get(self.optimizer, (self.optimizer, {}))
        if self.weight_decay:
            options = {**options, "weight_decay": self.weight_decay}
        train_split = None
        if self.early_stopping:
            train_split = make_valid_split(self.validation_fraction, self._seed)
        callbacks = make_callbacks(
            early_stopping=self.early_stopping,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            verbose=self.verbose,
            max_epochs=self.max_epochs,
            extra=copy.deepcopy(list(self.callbacks or ())),
        )
        return self._net_class(
            module,
            criterion,
            seed=self._seed,
            latent_l1=self.latent_l1,
            accelerator=self.accelerator,
            optimizer=optimizer,
            lr=self.learning_rate,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            train_split=train_split,
            callbacks=callbacks,
            device=device,
            verbose=0,
            **{f"optimizer__{k}": v for k, v in options.items()},
            **self._net_params(),
        ).initialize()

    def _train(self, X, epochs, baseline):
        """Run ``epochs`` epochs of the net on X, inside the estimator's seed.

        With ``baseline``, the starting weights are a candidate of the stopping
        rule: they are kept when no epoch validates better.
        """
        if self.net_.train_split is not None:
            n_rows = X.shape[0]
            n_valid = math.ceil(self.validation_fraction * n_rows)
            if n_valid >= n_rows:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} of {n_rows} "
                    f"rows holds out {n_valid} of them and leaves none to train "
                    "on; use a smaller validation_fraction, more rows, or "
                    "early_stopping=False."
                )
        dataset = RowDataset(RowSource(X, self._scaler, np.float32))
        dict(self.net_.callbacks_)["stopping"].baseline = baseline
        # every call draws from a seed of its own, so that partial_fit's epochs
        # do not repeat the same dropout masks and noise
        with seeded(self._seed + len(self.net_.history), self.net_.device):
            self.net_.partial_fit(dataset, epochs=epochs)
        interrupted = end_interrupted_epoch(self.net_)
        if interrupted is not None:
            # past _train and fit (or partial_fit) and scikit-learn's wrapper
            warnings.warn(interrupted, ConvergenceWarning, stacklevel=4)

    # ---- inference ------------------------------------------------------------

    def _validate_fitted(self, X):
        """X checked for a fitted estimator's public method: dense or CSR floats."""
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, accept_sparse="csr", dtype=FLOAT_DTYPES
        )

    def _inference(self, dtype):
        """The fitted network for one public call on data of ``dtype``."""
        return Inference(
            self.net_.module_,
            self._scaler,
            self.net_.device,
            dtype,
            float64_copies=self._float64_copies,
            code_factor=self._code_factor,
        )

    def _code_unit(self, module):
        """The factor from the module's codes to PCA's units, or None for 1.

        The PCA-anchored autoencoder's module computes unit-sized codes (PCA's
        whitened scores at the start); ``transform`` reports them in PCA's
        units, multiplied by ``code_unit(explained_variance_)``.
        """
        if not self._anchored:
            return None
        return module.code_std.new_tensor(code_unit(self.explained_variance_))

    def _code_factor(self, module):
        """The factor from the module's codes to ``transform``'s, or None for 1."""
        if self.whiten:
            return 1.0 / module.code_std
        return self._code_unit(module)

    def _fit_density(self, X):
        """Fit the density behind ``score_samples`` on the training X, in one pass.

        One sum over the rows of X gives every moment; the variances divide by
        ``n - 1``, as PCA's do.
        """
        inference = self._inference(X.dtype)
        code_and_error = self._code_and_error_fn(inference)
        mean = inference.tensor(self.mean_)

        def sums(x):
            z, error = code_and_error(x)
            deviation = (inference.unscale(x) - mean).square().sum(dim=1)
            outer = (z[:, :, None] * z[:, None, :]).flatten(1)
            return torch.cat([error[:, None], deviation[:, None], z, outer], dim=1)

        k, n = self.n_components_, X.shape[0]
        totals = inference.sum(X, sums)
        error, deviation = totals[0], totals[1]
        code_sum, code_outer = totals[2 : 2 + k], totals[2 + k :].reshape(k, k)
        self.reconstruction_explained_variance_ratio_ = (
            float(1.0 - error / deviation) if deviation > 0 else 1.0
        )
        self.latent_mean_ = code_sum / n
        self.latent_covariance_ = (
            code_outer - n * np.outer(self.latent_mean_, self.latent_mean_)
        ) / (n - 1)
        n_left = self.n_features_in_ - k
        self.reconstruction_noise_variance_ = (
            float(error / ((n - 1) * n_left)) if n_left > 0 else 0.0
        )

    def _code_and_error_fn(self, inference):
        """A function of a scaled batch giving, from one encoder pass, its codes
        (in PCA's units for the PCA-anchored autoencoder) and each row's summed
        squared reconstruction error in X's units: what the density reads."""
        unit = self._code_unit(inference.module)

        def code_and_error(x):
            z, residual = inference.codes_and_residuals(x)
            error = (residual * inference.scale).square().sum(dim=1)
            return (z if unit is None else z * unit), error

        return code_and_error

    def _batch_scorer(self, inference):
        """A function of a scaled batch giving ``score_samples`` of its rows."""
        code_and_error = self._code_and_error_fn(inference)
        k, n_left = self.n_components_, self.n_features_in_ - self.n_components_
        covariance = np.asarray(self.latent_covariance_, dtype=np.float64)
        # a ridge far below any real spread keeps collapsed codes invertible
        ridge = 1e-12 * max(np.trace(covariance) / k, np.finfo(np.float64).tiny)
        covariance = covariance + ridge * np.eye(k)
        _, log_det = np.linalg.slogdet(covariance)
        precision = inference.tensor(np.linalg.inv(covariance))
        code_mean = inference.tensor(self.latent_mean_)
        constant = -0.5 * (k * _LOG_2PI + log_det)
        noise = max(self.reconstruction_noise_variance_, np.finfo(np.float64).tiny)
        if n_left > 0:
            constant -= 0.5 * n_left * (_LOG_2PI + np.log(noise))

        def log_density(x):
            z, residual = code_and_error(x)
            centred = z - code_mean
            code_term = ((centred @ precision) * centred).sum(dim=1)
            if n_left == 0:
                return constant - 0.5 * code_term
            return constant - 0.5 * (code_term + residual / noise)

        return log_density

    # ---- persistence: the fitted state io.save writes and io.load restores ------

    @classmethod
    def _state_fields(cls):
        """What a saved file holds of this class's fitted attributes, and their kinds.

        Sizes (ints) come first, as shapes name them. Subclasses extend it.
        """
        features, codes = ("n_features_in_",), ("n_components_",)
        scaler = ArrayPair(
            Array(features),
            Array(features, positive=True),
            to_pair=lambda scaler: (scaler.offset, scaler.scale),
            from_pair=Scaler,
        )
        return (
            Field("n_features_in_", "n_features_in_", Integer(1, MAX_PARAMETERS)),
            Field("n_components_", "n_components_", Integer(1, MAX_PARAMETERS)),
            Field("seed", "_seed", Integer(0, 2**32 - 1)),
            Field("scaler", "_scaler", scaler),
            Field("feature_names_in_", "feature_names_in_", Names(), required=False),
            # the PCA start
            Field("n_samples_", "n_samples_", Integer(2, 2**63 - 1)),
            Field("components_", "components_", Array(codes + features)),
            *(
                Field(name, name, Array(codes))
                for name in (
                    "explained_variance_",
                    "explained_variance_ratio_",
                    "singular_values_",
                    "latent_mean_",
                )
            ),
            Field("mean_", "mean_", Array(features)),
            Field("latent_covariance_", "latent_covariance_", Array(codes * 2)),
            *(
                Field(name, name, Float())
                for name in (
                    "noise_variance_",
                    "reconstruction_noise_variance_",
                    "reconstruction_explained_variance_ratio_",
                )
            ),
        )

    # what the net holds, saved from and restored into it
    _NET_STATE = ("module", "criterion", "history", "optimizer", "user_module")

    def _save_state(self):
        """The fitted state :func:`sk_autoencoder.io.save` writes: plain values."""
        net = self.net_
        return {
            **dump_fields(self, self._state_fields()),
            "module": cpu_tensors(net.module_.state_dict()),
            "criterion": cpu_tensors(net.criterion_.state_dict()),
            "optimizer": {
                index: cpu_tensors(entry)
                for index, entry in net.optimizer_.state_dict()["state"].items()
            },
            "history": json.dumps(net.history.to_list()),
            "user_module": self.module is not None,
        }

    def _restore_state(self, state, what="model"):
        """Check a state read from an untrusted file, then restore it.

        Every entry is checked against :meth:`_state_fields` and this
        estimator's parameters, and the stored weights against the network the
        parameters describe (built on the ``meta`` device, which allocates
        nothing), before the network is built and the weights copied into it.
        """
        fields = self._state_fields()
        check_keys(
            state,
            {f.key for f in fields} | set(self._NET_STATE),
            {f.key for f in fields if not f.required},
            f"{what} state",
        )
        check_fields(state, fields, {}, f"{what} state")
        self._check_saved_against_params(state, f"{what} state")
        set_fields(self, state, fields)
        self._set_shapes()
        self._check_saved_network(state, f"{what} state")
        self._build_network(self.n_features_in_)
        net = self.net_
        try:
            net.module_.load_state_dict(state["module"])
        except RuntimeError as error:  # a user module whose shapes were not checked
            raise ValueError(
                "The file's module weights do not fit the module given as "
                f"module=: {error}"
            ) from None
        net.criterion_.load_state_dict(state["criterion"])
        load_optimizer_state(net.optimizer_, state["optimizer"], self.optimizer)
        net.history = History(json.loads(state["history"]))
        return self

    def _set_shapes(self):
        """The image shape and layer widths the parameters give for X's width."""
        self._image_shape = check_image_shape(
            self.architecture, self.image_shape, self.n_features_in_
        )
        self._hidden_layer_sizes = check_hidden_layer_sizes(
            self.hidden_layer_sizes, self.architecture
        )

    def _check_saved_against_params(self, state, what):
        """The saved sizes and module flag agree with the parameters."""
        saved = state["n_components_"]
        if isinstance(self.n_components, Integral) and saved != self.n_components:
            refuse(
                f"{what} 'n_components_'",
                f"is {saved} but its parameters say n_components={self.n_components!r}",
            )
        user_module = state["user_module"]
        if not isinstance(user_module, bool):
            refuse(f"{what} 'user_module'", "is not a bool")
        if user_module and self.module is None:
            raise ValueError(
                "The model was trained with a user module, whose code the file does "
                "not hold: pass it again, as io.load(path, module=YourModule)."
            )
        if not user_module and self.module is not None:
            raise ValueError(
                "module= was given, but the model was trained with the package's "
                "own network; load it without module=."
            )

    def _check_saved_network(self, state, what):
        """The stored weights, optimizer state and history fit the network."""
        hint = ""
        if self.module is None:
            hint = "; if the model was trained with a user module, pass it as module="
        with torch.device("meta"):  # the shapes only: nothing is allocated
            expected_criterion = self._make_criterion(self.n_features_in_).state_dict()
            try:
                expected = self._make_module(self.n_features_in_).state_dict()
            except Exception:
                if self.module is None:
                    raise
                expected = None  # a user module that cannot be built without memory
        if expected is not None:
            n_parameters = sum(t.numel() for t in expected.values())
            if n_parameters > MAX_PARAMETERS:
                raise ValueError(
                    f"The file's parameters describe a network of {n_parameters} "
                    f"weights, over io.load's limit of {MAX_PARAMETERS}; refusing "
                    "to load it."
                )
        check_state_dict(state["module"], expected, f"{what} 'module'", hint)
        check_state_dict(
            state["criterion"], expected_criterion, f"{what} 'criterion'", hint
        )
        check_optimizer_entries(state["optimizer"], f"{what} 'optimizer'")
        check_history(state["history"], f"{what} 'history'")

    def __getstate__(self):
        # an accelerator is the process group of one launch, absent where a
        # pickle loads
        return {**super().__getstate__(), "accelerator": None}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
