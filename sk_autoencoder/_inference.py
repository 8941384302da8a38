"""Batched inference: the fitted network as one public call uses it."""

import copy
import functools

import numpy as np
import torch

from sk_autoencoder._data import RowSource, inference_chunk_rows, iter_chunks
from sk_autoencoder._device import host_to_device

TORCH_DTYPES = {
    np.dtype(np.float64): torch.float64,
    np.dtype(np.float32): torch.float32,
}


def _tensors(submodules):
    """The parameters and buffers of ``submodules``, in a fixed order."""
    return [
        tensor
        for submodule in submodules
        for tensors in (submodule.parameters, submodule.buffers)
        for tensor in tensors(recurse=False)
    ]


class Float64Copies:
    """float64 copies of float32 modules, refreshed from them at every use.

    float64 input is computed in float64, so that a row's result does not depend
    on which other rows share its batch. A copy's weights are copied from the
    live module each time it is asked for: weights edited in place (fine-tuning,
    pruning) show in the float64 results at once. Only the copy's structure is
    kept between calls, while the module is made of the same submodules.
    """

    def __init__(self):
        self._copies = {}

    def __call__(self, module):
        submodules = list(module.modules())
        live = _tensors(submodules)
        # the same submodules holding the same tensors: the copy's structure holds
        structure = (tuple(map(id, submodules)), tuple(map(id, live)))
        kept = self._copies.get(id(module))
        if kept is None or kept[0] != structure:
            target = copy.deepcopy(module).double()
            kept = (structure, target, _tensors(list(target.modules())))
            self._copies[id(module)] = kept
        _, target, copies = kept
        if copies:
            with torch.no_grad():
                torch._foreach_copy_(copies, live)  # one call for every tensor
        return target

    def __getstate__(self):
        return {}  # derived from the live modules, rebuilt on demand

    def __setstate__(self, state):
        self.__init__()


class Inference:
    """The fitted network, its scaler and device, for data of one dtype.

    Built once per public call: it holds the module in eval mode (a float64
    copy of its current weights for float64 data), the scaler's factors and the
    factor from the module's codes to ``transform``'s, and offers encoding and
    decoding in X's units and maps and sums over the batches of X.

    Parameters
    ----------
    module : torch.nn.Module
        The live module (``net_.module_``).
    scaler : Scaler
        The estimator's ``input_scaling``.
    device : torch.device or str
    dtype : numpy float dtype
        The dtype of the data and of every result.
    float64_copies : Float64Copies
        Where the float64 copies of ``module`` are kept.
    code_factor : callable or None
        ``code_factor(module)`` is the factor (a tensor, or None for 1) from
        the module's codes to ``transform``'s.
    """

    def __init__(
        self, module, scaler, device, dtype, *, float64_copies, code_factor=None
    ):
        self.dtype = np.dtype(dtype)
        self.torch_dtype = TORCH_DTYPES[self.dtype]
        self.device = torch.device(device)
        self.scaler = scaler
        self._copies = float64_copies
        self.module = self.in_dtype(module)
        self.factor = None if code_factor is None else code_factor(self.module)

    @functools.cached_property
    def offset(self):
        """The scaler's offset, a tensor: X = scaled * scale + offset."""
        return self.tensor(self.scaler.offset)

    @functools.cached_property
    def scale(self):
        return self.tensor(self.scaler.scale)

    def in_dtype(self, module):
        """``module`` in eval mode, computing in this call's dtype."""
        if module.training:  # eval() walks every submodule: only when needed
            module.eval()
        return self._copies(module) if self.dtype == np.float64 else module

    def tensor(self, values):
        """``values`` as a tensor of this call's dtype, on its device."""
        return torch.as_tensor(values, dtype=self.torch_dtype, device=self.device)

    # ---- the network, on scaled batches ------------------------------------------

    def encode(self, x):
        """Codes of a scaled batch, in ``transform``'s units."""
        return self.in_code_units(self.module.encode(x))

    def in_code_units(self, z):
        """The module's codes in ``transform``'s units."""
        return z if self.factor is None else z * self.factor

    def decode(self, codes):
        """Rows in X's units from codes in ``transform``'s units."""
        z = codes if self.factor is None else codes / self.factor
        return self.unscale(self.module.decode(z))

    def reconstruct(self, x):
        """The scaled reconstruction of a scaled batch."""
        return self.module.decode(self.module.encode(x))

    def codes_and_residuals(self, x):
        """From one encoder pass: the module's codes and the scaled residuals."""
        z = self.module.encode(x)
        return z, x - self.module.decode(z)

    def unscale(self, x):
        """Scaled values back in X's units."""
        return x * self.scale + self.offset

    # ---- batches of X ------------------------------------------------------------

    def chunks(self, X, scaled=True, width=None):
        """Yield ``(rows, x)``: consecutive row slices of X and their tensor.

        With ``scaled``, X is data and ``x`` is scaled; otherwise ``x`` is a
        copy of the rows (codes, say), which a module may overwrite. Runs under
        ``torch.inference_mode``; chunks are large enough to amortise torch's
        per-call cost and, on the CPU, small enough that a chunk and the first
        layers' activations stay in the caches (``inference_chunk_rows`` of
        ``width`` values a row, X's by default).
        """
        if scaled:
            source = RowSource(X, self.scaler, self.dtype)
            inverse, shift = (
                torch.from_numpy(f).to(self.device)
                for f in self.scaler.factors(self.dtype)
            )
        chunk = inference_chunk_rows(width or X.shape[1], self.device.type)
        with torch.inference_mode():
            for rows in iter_chunks(X.shape[0], chunk):
                if scaled:
                    x = host_to_device(source.raw(rows), self.device)  # pinned on CUDA
                    # scaling in torch (threaded, one pass) rather than numpy
                    x = torch.addcmul(shift, x, inverse)
                else:
                    # a copy: a module may write into its input
                    x = host_to_device(np.array(X[rows], order="C"), self.device)
                yield rows, x

    def map(self, X, fn, n_out, scaled=True):
        """Apply ``fn`` (batch tensor -> tensor) to X, batch by batch.

        Returns an array of this call's dtype with ``n_out`` columns, or one value
        per row when ``n_out`` is None; when ``fn`` returns a tuple, ``n_out`` is a
        tuple of such widths and so is the result.
        """
        widths = n_out if isinstance(n_out, tuple) else (n_out,)
        outs = [
            np.empty((X.shape[0],) if n is None else (X.shape[0], n), dtype=self.dtype)
            for n in widths
        ]
        # chunks sized by the widest of the input and the outputs
        width = max([X.shape[1], *(n for n in widths if n is not None)])
        for rows, x in self.chunks(X, scaled, width):
            values = fn(x) if len(outs) > 1 else (fn(x),)
            for out, value in zip(outs, values, strict=True):
                out[rows] = value.cpu().numpy()
        return tuple(outs) if isinstance(n_out, tuple) else outs[0]

    def sum(self, X, fn):
        """Sum over the rows of X of ``fn`` (scaled batch -> tensor), in float64."""
        total = 0.0
        for _, x in self.chunks(X):
            total = total + fn(x).sum(dim=0).double().cpu().numpy()
        return total
