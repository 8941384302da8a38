"""What verbose fits report on stderr: the bar, why training stopped, the losses."""

import re

import pytest
from skorch.callbacks import Callback

from sk_autoencoder import AutoencoderTransformer, VAETransformer

from conftest import FAST

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

# a coarse tol stops the fit after a few epochs, well before max_epochs
# from random weights, whose first epochs improve on the start
STOPS_EARLY = {
    **FAST,
    "init": "random",
    "max_epochs": 200,
    "n_iter_no_change": 2,
    "tol": 0.05,
}


class _InterruptAtEpoch(Callback):
    """Raise KeyboardInterrupt in the middle of epoch ``epoch``, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("verbose", [1, 2])
def test_early_stopping_reports_its_epoch_and_the_restored_weights(
    X_digits, capfd, verbose
):
    ae = AutoencoderTransformer(**{**STOPS_EARLY, "verbose": verbose}).fit(X_digits)
    _, err = capfd.readouterr()
    stopping = dict(ae.net_.callbacks_)["stopping"]
    assert ae.n_iter_ < STOPS_EARLY["max_epochs"]
    best = stopping.best_epoch_
    assert re.search(
        rf"Early stopping at epoch {ae.n_iter_}: valid_loss did not improve by "
        rf"tol=0.05 for 2 epochs; the weights of epoch {best} \(valid_loss=",
        err,
    )
    assert best == ae.n_iter_ - 2


def test_the_report_says_when_the_start_is_kept(X_digits, capfd):
    # a learning rate too small for any epoch to beat the PCA start
    AutoencoderTransformer(
        **{**FAST, "learning_rate": 1e-12, "n_iter_no_change": 2, "verbose": 2}
    ).fit(X_digits)
    _, err = capfd.readouterr()
    assert "no epoch beat the starting weights, which are restored" in err


def test_progress_bar_counts_the_epoch_that_stopped_training(X_digits, capfd):
    ae = AutoencoderTransformer(**{**STOPS_EARLY, "verbose": 1}).fit(X_digits)
    _, err = capfd.readouterr()
    assert re.search(rf"\b{ae.n_iter_}/200 .*valid_loss=", err)


def test_reaching_max_epochs_is_reported(X_digits, capfd):
    AutoencoderTransformer(**{**FAST, "verbose": 1}).fit(X_digits)
    _, err = capfd.readouterr()
    assert "reached max_epochs=5 (epoch 5) before valid_loss stopped improving" in err


def test_an_interrupted_fit_says_so(X_digits, capfd):
    interrupt = [("interrupt", _InterruptAtEpoch(3))]
    ae = AutoencoderTransformer(**{**FAST, "verbose": 1, "callbacks": interrupt})
    ae.fit(X_digits)
    _, err = capfd.readouterr()
    assert "Training interrupted during epoch 3" in err
    assert "Early stopping" not in err


def test_partial_fit_reports_the_epochs_it_ran(X_digits, capfd):
    ae = AutoencoderTransformer(**{**FAST, "verbose": 2}).fit(X_digits)
    capfd.readouterr()
    ae.partial_fit(X_digits)
    _, err = capfd.readouterr()
    assert "Trained 1 epoch(s), up to epoch 6." in err


@pytest.mark.parametrize("verbose", [1, 2])
def test_the_report_says_what_the_losses_measure(X_digits, capfd, verbose):
    AutoencoderTransformer(**{**FAST, "verbose": verbose}).fit(X_digits)
    out, err = capfd.readouterr()
    assert out == ""
    assert "Losses are the mean squared reconstruction error per value" in err
    assert "in X's units" in err


def test_the_vae_report_names_its_elbo(X_digits, capfd):
    VAETransformer(**{**FAST, "verbose": 2}).fit(X_digits)
    _, err = capfd.readouterr()
    assert "Losses are the negative ELBO per feature, in nats" in err
