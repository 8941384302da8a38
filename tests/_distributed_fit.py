"""Run by ``torchrun`` from test_distributed.py: data-parallel fits, one per case.

Every process fits the same estimators on the same rows; each writes the
weights, losses and PCA axes it ended with and the training rows it read per
epoch, and the main process also pickles and saves its estimators and writes
their codes. Usage: ``torchrun ... _distributed_fit.py OUT_DIR``.
"""

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sk_autoencoder import (
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VAETransformer,
    io,
)

# case: (estimator class, parameters beyond FAST, rows of the digits)
CASES = {
    # the stopping rule on validation rows, from the PCA start
    "early_stopping": (AutoencoderTransformer, {}, 300),
    # 289 rows in batches of 32: the last batch has one row, and one process none
    "empty_share": (
        AutoencoderTransformer,
        {"early_stopping": False, "init": "random"},
        289,
    ),
    # a seed drawn in each process (which the randomized PCA start shows), and
    # samples drawn in each: they must agree
    "vae_unseeded": (
        VAETransformer,
        {"random_state": None, "svd_solver": "randomized"},
        300,
    ),
    "denoising": (DenoisingAutoencoder, {"dropout": 0.1}, 300),
}


class RowsRead(Callback):
    """The training rows this process read in each epoch."""

    def on_train_begin(self, net, **kwargs):
        self.rows_ = []

    def on_epoch_begin(self, net, **kwargs):
        self.rows_.append(0)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.rows_[-1] += len(batch[0])


def main(out):
    from accelerate import Accelerator
    from sklearn.datasets import load_digits

    from conftest import FAST

    accelerator = Accelerator(cpu=True)
    rank = accelerator.process_index
    X = load_digits(return_X_y=True)[0]
    for name, (cls, params, n_rows) in CASES.items():
        estimator = cls(
            **{**FAST, **params},
            callbacks=[("rows_read", RowsRead())],
            accelerator=accelerator,
        )
        with warnings.catch_warnings():
            # tiny fits of a few epochs: reaching max_epochs is expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X[:n_rows])
        weights = torch.cat(
            [t.reshape(-1).double() for t in estimator.module_.state_dict().values()]
        )
        np.save(out / f"{name}_weights_{rank}.npy", weights.numpy())
        np.save(out / f"{name}_loss_{rank}.npy", np.array(estimator.loss_curve_))
        np.save(out / f"{name}_components_{rank}.npy", estimator.components_)
        rows = dict(estimator.net_.callbacks_)["rows_read"].rows_
        np.save(out / f"{name}_rows_{rank}.npy", np.array(rows))
        if accelerator.is_main_process:
            np.save(out / f"{name}_codes.npy", estimator.transform(X[:n_rows]))
            (out / f"{name}.pkl").write_bytes(pickle.dumps(estimator))
            io.save(estimator, out / f"{name}.skae")
    accelerator.wait_for_everyone()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    # by its module name, so that the pickles name RowsRead where tests find it
    from _distributed_fit import main

    main(Path(sys.argv[1]))
