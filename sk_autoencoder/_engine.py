"""skorch engine: the reconstruction nets, their batch iterator and callbacks."""

import copy
import math
import sys
import threading
from contextlib import contextmanager

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, PrintLog
from skorch.dataset import ValidSplit
from skorch.utils import noop, to_tensor

from sk_autoencoder._data import iter_chunks
from sk_autoencoder._device import ResidentRows, StagedTransfer, choose_placement
from sk_autoencoder._distributed import (
    mean_across_processes,
    process_share,
    start_from_main_process,
    sum_gradients,
)
from sk_autoencoder._losses import gaussian_kl_per_dimension
from sk_autoencoder._validation import (
    check_codes,
    check_decoded,
    check_posterior,
    module_failure,
)

_GLOBAL_RNG = threading.RLock()


@contextmanager
def seeded(seed, device):
    """Seed torch's RNG inside a scope, restoring the caller's state after it.

    The scope holds a process-wide lock: dropout, weight initialisation and
    noise draw from torch's global generator, so seeded code in two threads at
    once would share one stream. Fits in threads are therefore serialised while
    they train, and each gives the result it gives alone.
    """
    device = torch.device(device)
    devices = [device] if device.type == "cuda" else []
    with _GLOBAL_RNG, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class RowDataset(torch.utils.data.Dataset):
    """A torch view of a row source: ``len`` and scaled rows as tensors.

    skorch's ``ValidSplit`` wraps it in ``torch.utils.data.Subset``;
    :class:`BatchIterator` reads whole batches from it instead of single rows.
    """

    def __init__(self, source):
        self.source = source
        self._placement = None

    def __len__(self):
        return len(self.source)

    def placement(self, device, forced=None):
        """``(placement, resident)``: how batches reach ``device``, decided once.

        ``placement`` is ``forced``, else ``choose_placement``'s; ``resident`` the
        rows' ``ResidentRows`` copy when they live on the device, else None.
        Decided and copied on first use, so that every epoch and the validation
        rows (a ``Subset`` of this dataset) share one copy, and the choice does
        not change once that copy takes memory.
        """
        if self._placement is None:
            placement = forced or choose_placement(self.source, device)
            resident = (
                ResidentRows(self.source, device) if placement == "resident" else None
            )
            self._placement = placement, resident
        return self._placement

    def __getitem__(self, i):
        row = torch.from_numpy(self.source.batch([i])[0])
        return row, row


class BatchIterator:
    """Yield ``(x, x)`` batches by slicing rows, not by collating single samples.

    Each epoch iterates once; with ``shuffle`` the order comes from a
    ``torch.Generator`` seeded with ``seed``, so it never touches the global RNG.
    Each batch is copied to ``device`` once and serves as input and target.
    Off the CPU the rows are kept on the device or streamed to it
    (``placement``, see ``_device.choose_placement``); kept there, they are
    shuffled by a generator on the device. With ``share=(index, count)``, a
    process among ``count`` reads rows ``index, index + count, ...`` of each
    batch of ``batch_size`` rows.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        *,
        shuffle=False,
        seed=0,
        device="cpu",
        placement=None,
        share=(0, 1),
    ):
        if isinstance(dataset, torch.utils.data.Subset):
            self.indices = np.asarray(dataset.indices)
            dataset = dataset.dataset
        else:
            self.indices = None
        self.source = dataset.source
        self.n_rows = len(self.source) if self.indices is None else len(self.indices)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)
        self.device = torch.device(device)
        placement, self.resident = dataset.placement(self.device, placement)
        if self.resident is not None:
            self.generator = torch.Generator(self.device).manual_seed(seed)
        self.transfer = StagedTransfer(self.device) if placement == "streamed" else None
        self.share = share

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def __iter__(self):
        if self.resident is not None:
            generator = self.generator if self.shuffle else None
            index, count = self.share
            batches = self.resident.batches(self.indices, self.batch_size, generator)
            batches = (x if count == 1 else x[index::count] for x in batches)
        elif self.transfer is not None:
            batches = self.transfer(self._host_batches())
        else:
            host = self._host_batches()
            batches = (torch.from_numpy(b).to(self.device) for b in host)
        for x in batches:
            yield x, x

    def _host_batches(self):
        """Yield the epoch's scaled batches as numpy arrays, read from the source."""
        if self.shuffle:
            order = torch.randperm(self.n_rows, generator=self.generator).numpy()
            order = order if self.indices is None else self.indices[order]
        else:
            order = self.indices
        index, count = self.share
        for chunk in iter_chunks(self.n_rows, self.batch_size):
            if count > 1:
                chunk = slice(chunk.start + index, chunk.stop, count)
            # a slice of consecutive rows is a view, cheaper than fancy indexing
            yield self.source.batch(chunk if order is None else order[chunk])


# ---- skorch internals this engine replaces, fenced ------------------------------
# skorch's documented extension points (infer, get_loss, train_step_single,
# validation_step, callbacks) are used as documented. The methods named below are
# skorch internals that this module replaces, or whose behaviour it relies on,
# for speed or for what skorch does not report; FencedNet holds the replaced
# NeuralNet methods. Each name maps to the SHA-256 digests (first 16 hex digits)
# of its source in the skorch releases this package is tested with, the range in
# pyproject.toml. tests/test_engine.py fails on a skorch whose source differs:
# review the override against the new code, then add the new digest here.
SKORCH_INTERNALS = {
    # FencedNet.notify: calls only the callback methods a callback overrides
    "NeuralNet.notify": {"0978c15227fec2fb"},
    # FencedNet._set_training: walks the modules only when the mode changes
    "NeuralNet._set_training": {"b0ed08de6e36e79d"},
    # FencedNet.on_epoch_begin: empties finished epochs' per-batch records
    "NeuralNet.on_epoch_begin": {"c6f604d445737641"},
    # FencedNet.fit_loop: skorch's partial_fit swallows a KeyboardInterrupt
    "NeuralNet.fit_loop": {"f8f54f9d44497687", "7fb96aa97bb91bea"},
    "NeuralNet.partial_fit": {"8ed1a81fbc504a3c", "0197dfa48daeafc8"},
    # ReconstructionNet.get_iterator: batches by slicing, not by collating rows
    "NeuralNet.get_iterator": {"5d6453e5664ecf91"},
    # BestEpochStopping: a relative threshold and the start as a candidate
    "EarlyStopping._calc_new_threshold": {"b69c6536737700fa"},
    "EarlyStopping.on_train_begin": {"13258e076e9ac7fe"},
    "EarlyStopping.on_epoch_end": {"a6d455ad8a645907"},
    "EarlyStopping.on_train_end": {"2ee89c6327619007"},
}


class FencedNet(NeuralNet):
    """NeuralNet with the skorch internals of ``SKORCH_INTERNALS`` replaced."""

    def notify(self, method_name, **cb_kwargs):
        # skorch notifies every callback three times a batch, and most callbacks
        # inherit Callback's empty methods there; calling only the methods a
        # callback overrides does the same work at a fraction of the per-batch cost
        getattr(self, method_name)(self, **cb_kwargs)
        empty = getattr(Callback, method_name, None)
        for _, callback in self.callbacks_:
            if getattr(type(callback), method_name, None) is not empty:
                getattr(callback, method_name)(self, **cb_kwargs)

    def _set_training(self, training=True):
        # ``Module.train`` walks every submodule on each call; skorch calls it every
        # batch, so walk only when the mode actually changes
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def fit_loop(self, *args, **kwargs):
        # skorch ends training quietly on a KeyboardInterrupt (and keeps the
        # weights reached); its early stopping raises one too. Remember an
        # interruption that was not the stopping rule, and in which epoch
        self.interrupted_in_ = None
        try:
            return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt:
            if not has_converged(self):
                self.interrupted_in_ = len(self.history)
            raise

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        # per-batch records of finished epochs grow without bound on big data
        # (hundreds of MB over a long fit); each epoch's summary stays
        if len(self.history) > 1:
            self.history[-2]["batches"] = []


class ReconstructionNet(FencedNet):
    """A skorch net trained to reconstruct its input: the target of ``x`` is ``x``.

    ``infer`` returns ``(x_recon, z)`` through the module's ``encode`` and
    ``decode``, so any module exposing those two methods can be trained.
    ``get_loss`` adds ``latent_l1`` times the mean absolute code to the
    criterion's loss. ``seed`` seeds each epoch's shuffling (with the epoch
    number added). With an ``accelerator`` of several processes, each trains on
    its share of every batch and the gradients are summed over them (see
    ``_distributed``).
    """

    # skorch pickles what these prefixes name apart, to map its tensors onto the
    # CPU when a GPU-trained net loads without CUDA. The module and criterion
    # instances the net is built with are module_ and criterion_ themselves, so
    # they go with them; by default they would be pickled plainly, on CUDA.
    cuda_dependent_attributes_ = ["module", "criterion"]

    # how training batches reach the device: None chooses (_device.choose_placement);
    # tests force 'resident' or 'streamed' to run those paths on the CPU
    _placement = None

    def __init__(
        self, module, criterion, *, seed=0, latent_l1=0.0, accelerator=None, **kwargs
    ):
        super().__init__(module, criterion, **kwargs)
        self.seed = seed
        self.latent_l1 = latent_l1
        self.accelerator = accelerator

    def get_iterator(self, dataset, training=False):
        # the epoch count makes every partial_fit call draw a fresh order; every
        # process validates on all the validation rows, so that the validation
        # losses, and the stopping rule's decisions, are the same in each
        return BatchIterator(
            dataset,
            self.batch_size,
            shuffle=training,
            seed=self.seed + len(self.history),
            device=self.device,
            placement=self._placement,
            share=process_share(self.accelerator) if training else (0, 1),
        )

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        start_from_main_process(self)

    def train_step_single(self, batch, **fit_params):
        if process_share(self.accelerator)[1] == 1:
            return super().train_step_single(batch, **fit_params)
        n_rows = len(batch[0])
        if n_rows:
            step = super().train_step_single(batch, **fit_params)
        else:  # a batch with fewer rows than processes leaves this one none
            step = {"loss": torch.zeros((), device=self.device), "y_pred": None}
        step["loss"], self._batch_rows = sum_gradients(self, step["loss"], n_rows)
        return step

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        if training and process_share(self.accelerator)[1] > 1:
            # skorch recorded this process's share; the epoch's loss weighs each
            # batch's (whole-batch) loss by it, and must weigh by the batch
            self.history.record_batch("train_batch_size", self._batch_rows)

    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        if process_share(self.accelerator)[1] > 1:
            # the VAE's samples differ between processes: their mean is the same
            # in every process
            step["loss"] = mean_across_processes(self, step["loss"])
        return step

    # the batch size whose outputs were last checked: the checks run on the
    # first batch and on each batch of another size (the last, smaller one)
    _checked_rows = None

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device)
        if len(x) == self._checked_rows:
            return self.forward_batch(x)
        try:
            y_pred = self.forward_batch(x, check=True)
        except torch.OutOfMemoryError:
            raise
        except (RuntimeError, AttributeError, TypeError) as error:
            raise module_failure(error, x.shape) from error
        self._checked_rows = len(x)
        return y_pred

    def forward_batch(self, x, check=False):
        """``(x_recon, z)`` for a batch; with ``check``, the outputs' shapes too."""
        z = self.module_.encode(x)
        if check:
            check_codes(z, len(x))
        x_recon = self.module_.decode(z)
        if check:
            check_decoded(x_recon, x.shape)
        return x_recon, z

    def loss_description(self):
        """What the recorded losses measure, for a user reading them."""
        if getattr(self.criterion_, "loss", "mse") == "bce":
            return "the binary cross-entropy per value of the scaled data"
        if getattr(self.criterion_, "weight", None) is None:
            return "the mean squared reconstruction error per value, in X's units"
        return (
            "the mean squared reconstruction error per value in X's units, divided "
            "by the mean squared input scale (with input_scaling='standard', X's "
            "mean feature variance: the share of the variance left unexplained)"
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        x_recon, z = y_pred
        loss = self.criterion_(x_recon, y_true)
        if self.latent_l1:
            loss = loss + self.latent_l1 * z.abs().mean()
        return loss

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        losses = self.history[-1, "batches", :, "train_loss"]
        bad = next((loss for loss in losses if not math.isfinite(loss)), None)
        if bad is None:
            return
        epoch = self.history[-1, "epoch"]
        if epoch == 1 and not math.isfinite(losses[0]):
            # before any update: the data or the module, not the step size
            raise ValueError(
                f"The loss was {bad} at the first training step, before any "
                "weight was updated: the network's output is not finite on the "
                "data as given (check X for values too large for float32, and a "
                "user module's encode and decode)."
            )
        raise ValueError(
            f"The loss became {bad} at epoch {epoch}; try a smaller "
            f"learning_rate (got {self.lr})."
        )

    def __getstate__(self):
        # an accelerator is the process group of one launch; a pickle loads in
        # another process, where the net trains alone
        return {**super().__getstate__(), "accelerator": None}


class DenoisingNet(ReconstructionNet):
    """Reconstruction net whose training inputs are corrupted afresh each batch.

    ``corrupt`` is a function ``x -> x_noisy`` drawing from torch's RNG, which
    the estimator scopes and seeds around training. Validation rows are
    corrupted too, with the same draws at every validation pass; inference
    sees clean inputs.
    """

    def __init__(self, module, criterion, *, corrupt, **kwargs):
        super().__init__(module, criterion, **kwargs)
        self.corrupt = corrupt

    def train_step_single(self, batch, **fit_params):
        x, target = batch
        return super().train_step_single((self.corrupt(x), target), **fit_params)

    def get_iterator(self, dataset, training=False):
        if not training:
            self._valid_batches = 0  # each validation pass draws the same noise
        return super().get_iterator(dataset, training=training)

    def validation_step(self, batch, **fit_params):
        # the validation loss is the denoising loss, on corruptions drawn from a
        # seed of each batch's own, so that every epoch (and the starting
        # weights) is judged on the same noisy rows
        x, target = batch
        with seeded(self.seed + self._valid_batches, x.device):
            noisy = self.corrupt(x)
        self._valid_batches += 1
        return super().validation_step((noisy, target), **fit_params)


class VariationalNet(ReconstructionNet):
    """Reconstruction net for a VAE: the loss is the negative ELBO per feature.

    The module's ``posterior`` returns ``(mu, log_var)`` (see
    :class:`~sk_autoencoder._modules.Variational`); ``infer`` draws one
    reparameterised code and returns ``(x_recon, mu, log_var)``. The criterion
    is a log-likelihood ``log p(x | x_recon)`` per sample. The KL term of each
    latent dimension, averaged over the epoch's training samples, is recorded
    in the history as ``'kl_per_dimension'`` so that collapsed dimensions show.

    Parameters
    ----------
    beta : float
        Weight of the KL term.
    """

    def __init__(self, module, criterion, *, beta=1.0, **kwargs):
        super().__init__(module, criterion, **kwargs)
        self.beta = beta

    def forward_batch(self, x, check=False):
        """``(x_recon, mu, log_var)``, decoding one reparameterised draw."""
        posterior = self.module_.posterior(x)
        if check:
            check_posterior(posterior, len(x))
        mu, log_var = posterior
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        x_recon = self.module_.decode(z)
        if check:
            check_decoded(x_recon, x.shape)
        return x_recon, mu, log_var

    def get_loss(self, y_pred, y_true, X=None, training=False):
        x_recon, mu, log_var = y_pred
        kl = gaussian_kl_per_dimension(mu, log_var)
        if training:
            self._kl_total += kl.detach().sum(dim=0)
            self._kl_count += len(kl)
        neg_elbo = self.beta * kl.sum(dim=1) - self.criterion_(x_recon, y_true)
        loss = neg_elbo.mean() / y_true.shape[1]
        if self.latent_l1:
            loss = loss + self.latent_l1 * mu.abs().mean()
        return loss

    def loss_description(self):
        return "the negative ELBO per feature, in nats, of the data after input_scaling"

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        self._kl_total, self._kl_count = 0.0, 0

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        kl = self._kl_total / max(self._kl_count, 1)
        self.history.record("kl_per_dimension", torch.as_tensor(kl).tolist())
        # a scratch tensor on the training device: a pickle of the net must not
        # hold one outside module_ and criterion_ (see cuda_dependent_attributes_)
        self._kl_total, self._kl_count = 0.0, 0


def _print_stderr(text):
    # a module-level function, not functools.partial(print, file=sys.stderr):
    # sys.stderr cannot be pickled, and the callback travels with the estimator
    print(text, file=sys.stderr, flush=True)


class StopReport(Callback):
    """At the end of a fit, say on stderr why training stopped and what the losses are.

    The reason is read from the stopping callback's state and from the epochs
    this fit ran: the stopping rule, ``max_epochs``, an interruption (an epoch
    that began and never ended), or the epochs a ``partial_fit`` asked for.
    """

    def __init__(self, total):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        self.first_epoch_ = len(net.history)
        self.n_epochs_, self.in_epoch_ = 0, False

    def on_epoch_begin(self, net, **kwargs):
        self.in_epoch_ = True

    def on_epoch_end(self, net, **kwargs):
        self.n_epochs_ += 1
        self.in_epoch_ = False

    def on_train_end(self, net, **kwargs):
        _print_stderr(self.message(net))

    def message(self, net):
        """Why the fit stopped, which weights it kept, and the losses' units."""
        stopping = dict(net.callbacks_)["stopping"]
        monitor = stopping.monitor
        epoch = net.history[-1, "epoch"]
        if has_converged(net):
            reason = (
                f"Early stopping at epoch {epoch}: {monitor} did not improve by "
                f"tol={stopping.threshold:g} for {stopping.patience} epochs"
            )
        elif self.in_epoch_:
            reason = f"Training interrupted during epoch {epoch}"
        elif self.n_epochs_ >= self.total:
            reason = (
                f"Training reached max_epochs={self.total} (epoch {epoch}) before "
                f"{monitor} stopped improving"
            )
        else:
            reason = f"Trained {self.n_epochs_} epoch(s), up to epoch {epoch}"
        best = stopping.best_epoch_
        if stopping.load_best and best < epoch:
            if best > self.first_epoch_:
                reason += (
                    f"; the weights of epoch {best} "
                    f"({monitor}={net.history[best - 1, monitor]:.4g}) are restored"
                )
            else:
                # a stopping rule may count the starting weights as a candidate
                reason += "; no epoch beat the starting weights, which are restored"
        return f"{reason}.\nLosses are {net.loss_description()}."


class EpochProgressBar(StopReport):
    """One tqdm bar over the epochs of a fit, showing the latest losses, on stderr.

    When training ends the bar closes and :class:`StopReport`'s message follows.
    """

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        super().on_train_begin(net, **kwargs)
        self.bar_ = tqdm(total=self.total, file=sys.stderr, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        losses = {
            key: f"{net.history[-1, key]:.4g}"
            for key in ("train_loss", "valid_loss")
            if key in net.history[-1]
        }
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
        self.bar_ = None
        super().on_train_end(net, **kwargs)

    def __getstate__(self):
        return {**self.__dict__, "bar_": None}


class BestEpochStopping(EarlyStopping):
    """skorch's early stopping with a relative tolerance and the start as a candidate.

    - An epoch improves on the best so far when its loss is lower by at least
      ``threshold`` times the best loss's magnitude (a relative tolerance that
      also holds for negative losses, such as a VAE's negative ELBO).
    - With ``baseline``, the loss of the weights the training starts from is
      measured on the validation set before the first epoch, and those weights
      are the first candidate: when no epoch beats them, they are restored, so
      that training never ends worse than it started (for the PCA start: never
      worse than PCA, up to validation noise).
    """

    def __init__(self, *, baseline=False, **kwargs):
        super().__init__(**kwargs)
        self.baseline = baseline

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_epoch_ = len(net.history)
        self._baseline_pending = self.baseline

    def on_epoch_begin(self, net, dataset_valid=None, **kwargs):
        if not self._baseline_pending:
            return
        self._baseline_pending = False
        if dataset_valid is None:
            return
        total, count = 0.0, 0
        for batch in net.get_iterator(dataset_valid, training=False):
            loss = net.validation_step(batch)["loss"]
            total += float(loss) * len(batch[0])
            count += len(batch[0])
        self.baseline_loss_ = total / count
        self.dynamic_threshold_ = self._calc_new_threshold(self.baseline_loss_)
        if self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())

    def _calc_new_threshold(self, score):
        change = self.threshold * abs(score)
        return score - change if self.lower_is_better else score + change


def make_callbacks(
    *, early_stopping, n_iter_no_change, tol, verbose, max_epochs, extra=()
):
    """The callbacks of a fit: the stopping rule, progress reporting, the user's.

    The stopping rule follows ``MLPRegressor``: training stops once the monitored
    loss (validation loss with ``early_stopping``, else training loss) has not
    improved by at least ``tol`` times its best value for ``n_iter_no_change``
    epochs; with ``early_stopping`` the weights of the best validation epoch
    are restored (with the stopping callback's ``baseline``, the starting
    weights are among the candidates).
    """
    # progress first: the stopping rule ends training by raising in its
    # on_epoch_end, and the last epoch must still reach the bar
    if verbose == 1:
        callbacks = [("progress", EpochProgressBar(max_epochs))]
    elif verbose >= 2:
        callbacks = [
            ("epoch_log", PrintLog(sink=_print_stderr)),
            ("stop_report", StopReport(max_epochs)),
        ]
    else:
        callbacks = []
    stopping = BestEpochStopping(
        monitor="valid_loss" if early_stopping else "train_loss",
        patience=n_iter_no_change,
        threshold=tol,
        # like MLPRegressor, keep the best validated weights
        load_best=early_stopping,
        sink=noop,
    )
    return [*callbacks, ("stopping", stopping), *extra]


def end_interrupted_epoch(net):
    """After an interrupted fit, drop the unfinished epoch and return a message
    naming it and the weights the model keeps; ``None`` if none was interrupted."""
    epoch = getattr(net, "interrupted_in_", None)
    if epoch is None:
        return None
    keys = ("train_loss", "valid_loss") if net.train_split else ("train_loss",)
    if net.history and not all(key in net.history[-1] for key in keys):
        del net.history[-1]
    stopping = dict(net.callbacks_)["stopping"]
    if stopping.load_best and stopping.best_model_weights_ is not None:
        best = stopping.best_epoch_
        kept = (
            f"the weights of the best validated epoch ({best})"
            if best
            else "the starting weights, which no epoch validated better than"
        )
    else:
        kept = f"the weights reached when it was interrupted, during epoch {epoch}"
    return (
        f"Training was interrupted during epoch {epoch}, which is not counted "
        f"(n_iter_={len(net.history)}); the model keeps {kept}."
    )


def has_converged(net):
    """Whether the last fit ended through its stopping rule, not ``max_epochs``."""
    stopping = dict(net.callbacks_)["stopping"]
    return stopping.misses_ >= stopping.patience


def make_valid_split(validation_fraction, seed):
    """skorch's split of a seeded validation set off the training data."""
    return ValidSplit(validation_fraction, random_state=seed)
