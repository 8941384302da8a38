"""Documentation shared by the estimators: parameters, attributes, examples."""

import textwrap

_SHARED = {
    "parameters": """\
n_components : int, float, 'mle' or None, default=None
        Size of the latent code, the number of columns ``transform`` returns,
        taken as :class:`~sklearn.decomposition.PCA` takes it: an int; None for
        ``min(n_samples, n_features)``; a float in (0, 1) for the smallest size
        whose PCA start explains that fraction of the variance; ``'mle'`` for
        Minka's estimate. The size found is ``n_components_``.

    init : {'pca', 'random'}, default='pca'
        Where training starts. ``'pca'``: the network is PCA's projection and
        reconstruction plus a nonlinear residual branch in each direction whose
        last layer starts at zero, so before training ``transform``,
        ``inverse_transform`` and ``reconstruct`` equal PCA's; with
        ``early_stopping`` that start is kept unless training improves the
        validation loss, so the reconstruction is never worse than PCA's, up
        to validation noise. The VAE starts at probabilistic PCA. ``'random'``:
        a plain network with random weights. A user ``module`` is trained as
        given.

    svd_solver : {'auto', 'full', 'covariance_eigh', 'arpack', 'randomized'}, \
default='auto'
        Solver of the PCA start, as in :class:`~sklearn.decomposition.PCA`,
        except that ``'auto'`` is ``'covariance_eigh'`` up to 1,000 features
        (exact, without a copy of X, and the same start, to float64 rounding,
        for sparse X as for its dense equivalent) and PCA's ``'auto'`` above.

    iterated_power : int or 'auto', default='auto'
        Power iterations of the randomized solver of the PCA start.

    n_oversamples : int, default=10
        Oversampling of the randomized solver of the PCA start.

    power_iteration_normalizer : {'auto', 'QR', 'LU', 'none'}, default='auto'
        Normaliser of the randomized solver's power iterations.

    whiten : bool, default=False
        Whether ``transform`` divides each code by its standard deviation at
        the PCA start (``sqrt(explained_variance_)``, as PCA whitens; for the
        VAE the posterior means' standard deviation), and
        ``inverse_transform`` multiplies it back. Needs ``init='pca'``.

    copy : bool, default=True
        Accepted for PCA's signature; X is never modified either way.

    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder mirrors them. With
        ``architecture='conv'``, the channel counts of the stride-2 convolutions.

    activation : {'relu', 'tanh', 'sigmoid', 'gelu', 'elu', 'leaky_relu', \
'identity'}, default='gelu'
        Activation of the hidden layers.

    architecture : {'mlp', 'conv'}, default='mlp'
        ``'conv'`` builds a convolutional encoder and a transposed-convolution
        decoder over images of ``image_shape``; rows of X stay flattened.

    image_shape : tuple of int, default=None
        ``(C, H, W)`` or ``(H, W)`` of the images in the rows of X, with
        ``architecture='conv'``; C * H * W must equal the number of features.

    loss : {'mse', 'bce'}, default='mse'
        Reconstruction loss: squared error, or binary cross-entropy for data in
        [0, 1] (use it with ``input_scaling='minmax'`` or ``None``).

    input_scaling : {'standard', 'minmax'} or None, default='standard'
        Scaling of the features fitted inside the estimator and undone on the way
        out: outputs of ``inverse_transform``, ``reconstruct`` and
        ``score_samples`` are in the units of the original X.

    dropout : float, default=0.0
        Dropout probability after each hidden layer, during training only.

    latent_l1 : float, default=0.0
        Weight of an L1 penalty on the codes (a sparse autoencoder): the mean
        absolute code value is added to the loss.

    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop'} or torch optimizer class, \
default='adam'
        Optimizer of the network's weights. ``'sgd'`` uses Nesterov momentum 0.9.

    learning_rate : float, default=0.004
        Step size of the optimizer.

    weight_decay : float, default=1e-4
        L2 penalty on the weights, applied by the optimizer. With the PCA start
        it keeps the residual branches from fitting what held-out rows do not
        share (measured on the PCA-quality benchmark, with ``batch_size`` and
        ``learning_rate``).

    batch_size : int, default=256
        Rows per training step.

    max_epochs : int, default=200
        Most passes over the data that ``fit`` makes.

    early_stopping : bool, default=True
        Whether to hold out ``validation_fraction`` of the rows and stop when the
        validation loss stops improving, restoring the best weights. When False,
        all rows train and training stops when the training loss stops
        improving. Unlike ``MLPRegressor``, the default is True: a network that
        trains to convergence on few rows memorises them, outliers included,
        which costs generalisation and makes reconstruction error a poor outlier
        score.

    validation_fraction : float, default=0.1
        Fraction of the rows held out with ``early_stopping``.

    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before training stops.

    tol : float, default=1e-4
        Smallest decrease of the monitored loss counted as an improvement.

    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where to train and infer; ``'auto'`` uses CUDA when torch finds it.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, the validation split, dropout
        and noise. Pass an int for results that repeat bit for bit on CPU.

    verbose : int, default=0
        0 is silent; 1 shows a progress bar with the loss on stderr; 2 writes
        one line per epoch to stderr.

    warm_start : bool, default=False
        Whether ``fit`` continues from the fitted weights instead of starting
        anew; ``n_iter_`` keeps counting.

    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks run during training.

    module : torch.nn.Module class or instance, default=None
        A network of your own exposing ``encode(x)`` and ``decode(z)``, trained
        in place of the built-in one (an instance is copied, never modified). A
        class is instantiated with ``n_features`` and ``n_components`` where its
        constructor takes them.

    accelerator : accelerate.Accelerator, default=None
        Data-parallel training over the processes of a launch (``torchrun``,
        ``accelerate launch``): every process calls ``fit`` on the same X, each
        trains on its share of every batch of ``batch_size`` rows, and the
        gradients are summed over the processes at each step, so the model is
        the one-process model up to rounding (and to other draws of dropout and
        noise). Training runs on the accelerator's device, in place of
        ``device``; its ``mixed_precision`` and ``gradient_accumulation_steps``
        must be left at their defaults. ``random_state`` is drawn once, on the
        main process. The accelerator is neither pickled nor saved: a copy
        loads with ``accelerator=None``. None trains in this process alone.""",
    "attributes": """\
n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when X has string column names.

    n_components_ : int
        Size of the latent code, as resolved from ``n_components``.

    components_ : ndarray of shape (`n_components_`, `n_features_in_`)
        Principal axes of the PCA start (PCA fitted on the training X), the
        encoder's linear path before training. Training changes the network,
        not this attribute.

    explained_variance_ : ndarray of shape (`n_components_`,)
        Variance of the training X along each axis of the PCA start.

    explained_variance_ratio_ : ndarray of shape (`n_components_`,)
        Share of the total variance along each axis of the PCA start. Their sum
        is what the PCA start's reconstruction explains; the trained network's
        own figure is ``reconstruction_explained_variance_ratio_``.

    singular_values_ : ndarray of shape (`n_components_`,)
        Singular values of the centred training X, of the PCA start.

    mean_ : ndarray of shape (n_features,)
        Per-feature mean of the training X.

    noise_variance_ : float
        Noise variance of the PCA start's probabilistic model (the mean of the
        variances left out), as in PCA.

    n_samples_ : int
        Number of rows the PCA start was fitted on.

    latent_mean_ : ndarray of shape (`n_components_`,)
        Mean of the training codes (before whitening), of the density behind
        ``score_samples``.

    latent_covariance_ : ndarray of shape (`n_components_`, `n_components_`)
        Covariance of the training codes (before whitening). At the PCA start it
        is ``diag(explained_variance_)``.

    reconstruction_noise_variance_ : float
        Mean squared reconstruction error of the training rows per direction
        left to the residual, ``sum((X - reconstruct(X)) ** 2) / ((n_samples -
        1) * (n_features - n_components_))``: the trained network's counterpart
        of ``noise_variance_``, which it equals at the PCA start.

    reconstruction_explained_variance_ratio_ : float
        Share of the training X's variance that the trained network's
        reconstruction explains: ``1 - sum((X - reconstruct(X)) ** 2) /
        sum((X - mean_) ** 2)`` over the rows of the last ``fit`` (or
        ``partial_fit``) call. At the PCA start it equals
        ``explained_variance_ratio_.sum()``.

    net_ : skorch.NeuralNet
        The skorch net that owns the trained module, optimizer and history.

    module_ : torch.nn.Module
        The trained network (a view of ``net_.module_``; for the VAE, of the
        module the net's ``Variational`` wrapper holds, whose ``encode``
        returns ``(mu, log_var)``).

    history_ : skorch.History
        Per-epoch record of training (``'train_loss'``, ``'valid_loss'``,
        durations), a view of ``net_.history``.

    loss_curve_ : list of float
        Training loss of each epoch.

    validation_loss_curve_ : list of float or None
        Validation loss of each epoch with ``early_stopping``, else None.

    n_iter_ : int
        Number of epochs run, over all calls of ``fit`` (with ``warm_start``)
        and ``partial_fit``.""",
}


# the parameters and attributes above are written as they stand in a class
# docstring; every text is kept without its indentation
_SHARED = {name: textwrap.dedent("    " + text) for name, text in _SHARED.items()}

_SHARED.update(
    {
        # the set-ups of the methods' examples
        "ae_example": """\
>>> from sklearn.datasets import load_digits
>>> from sk_autoencoder import AutoencoderTransformer
>>> X, _ = load_digits(return_X_y=True)
>>> ae = AutoencoderTransformer(n_components=4, max_epochs=2, random_state=0)""",
        "vae_example": """\
>>> from sklearn.datasets import load_digits
>>> from sk_autoencoder import VAETransformer
>>> X, _ = load_digits(return_X_y=True)
>>> vae = VAETransformer(n_components=2, max_epochs=2, random_state=0)""",
        "detector_example": """\
>>> from sklearn.datasets import load_digits
>>> from sk_autoencoder import (
...     AutoencoderOutlierDetector, AutoencoderTransformer
... )
>>> X, _ = load_digits(return_X_y=True)
>>> detector = AutoencoderOutlierDetector(
...     AutoencoderTransformer(max_epochs=2), contamination=0.1, random_state=0
... )""",
        "y_ignored": """\
y : Ignored
    Not used, present for API consistency by convention.""",
    }
)


def _expand(doc):
    """``doc`` with each line ``<<name>>`` replaced by the shared text, indented
    as the line."""
    lines = []
    for line in doc.split("\n"):
        name = line.strip()
        if name.startswith("<<") and name.endswith(">>"):
            indent = line[: len(line) - len(line.lstrip())]
            text = _SHARED[name[2:-2]].split("\n")
            lines += [indent + part if part else part for part in text]
        else:
            lines.append(line)
    return "\n".join(lines)


def insert_shared_docs(cls):
    """Expand the ``<<name>>`` lines of the docstrings of ``cls`` and of the
    methods it defines (see ``_SHARED``)."""
    cls.__doc__ = _expand(cls.__doc__)
    for method in vars(cls).values():
        if callable(method) and "<<" in (method.__doc__ or ""):
            method.__doc__ = _expand(method.__doc__)
    return cls
