"""Training rows on an accelerator: kept on the device when they fit, else streamed.

On the CPU, batches are scaled where they are used (``_engine.BatchIterator``) and
nothing here runs. On a CUDA device a fit's dense training rows are scaled once
into a float32 tensor on the device when it fits a share of the free device memory
(``RESIDENT_MEMORY_FRACTION``); batches are then index-selected on the device, in
the order of a device generator. Rows that do not fit, and sparse X, are streamed:
each batch is scaled (densified) on the host, staged in page-locked memory and
copied without blocking, one batch ahead of the step that uses it.
"""

from collections import deque

import numpy as np
import scipy.sparse as sp
import torch

from sk_autoencoder._data import chunk_rows, iter_chunks

# The scaled float32 training rows move to the device when they take at most
# this share of its free memory; the rest is left to the weights, the optimizer's
# state, the activations of a batch and torch's caching allocator.
RESIDENT_MEMORY_FRACTION = 0.5


def fits_in_device_memory(n_bytes, free_bytes, fraction=RESIDENT_MEMORY_FRACTION):
    """Whether ``n_bytes`` of data take at most ``fraction`` of ``free_bytes``."""
    return n_bytes <= fraction * free_bytes


def free_device_memory(device):
    """Free bytes on a CUDA ``device``, or None for a device that cannot say."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    free, _ = torch.cuda.mem_get_info(device)
    return free


def can_pin_memory(device):
    """Whether host memory can be page-locked for copies to ``device`` (CUDA)."""
    return torch.device(device).type == "cuda" and torch.cuda.is_available()


def choose_placement(source, device):
    """How a fit's training batches reach ``device``: ``'host'`` on the CPU, else
    ``'resident'`` for dense rows whose scaled copy fits, and ``'streamed'`` for
    the others and for sparse X, which is densified batch by batch, never whole.
    """
    device = torch.device(device)
    if device.type == "cpu":
        return "host"
    if sp.issparse(source.X):
        return "streamed"
    free = free_device_memory(device)
    n_bytes = source.X.shape[0] * source.X.shape[1] * source.dtype.itemsize
    if free is not None and fits_in_device_memory(n_bytes, free):
        return "resident"
    return "streamed"


def _torch_dtype(dtype):
    return torch.from_numpy(np.empty(0, dtype=dtype)).dtype


class ResidentRows:
    """The scaled rows of a ``RowSource``, copied once into one tensor on a device.

    The copy is made chunk by chunk (``_data.chunk_rows``), so the host holds one
    scaled chunk at a time; each row is scaled exactly as ``source.batch`` scales
    it, so the batches equal those of the host path, bit for bit.
    """

    def __init__(self, source, device):
        n_rows, n_features = source.X.shape
        self.rows = torch.empty(
            (n_rows, n_features), dtype=_torch_dtype(source.dtype), device=device
        )
        for chunk in iter_chunks(n_rows, chunk_rows(n_features)):
            self.rows[chunk].copy_(torch.from_numpy(source.batch(chunk)))

    def batches(self, indices, batch_size, generator=None):
        """Yield batches, new tensors, of the rows at ``indices`` (all when None).

        With ``generator`` (on the rows' device) they come in a fresh permutation
        drawn from it; without, in the order of ``indices``.
        """
        device = self.rows.device
        n_rows = len(self.rows) if indices is None else len(indices)
        if indices is not None:
            indices = torch.as_tensor(indices, dtype=torch.int64, device=device)
        order = indices
        if generator is not None:
            order = torch.randperm(n_rows, generator=generator, device=device)
            order = order if indices is None else indices[order]
        for chunk in iter_chunks(n_rows, batch_size):
            yield (
                self.rows[chunk].clone() if order is None else self.rows[order[chunk]]
            )


class StagedTransfer:
    """Copy host batches to a device through a ring of staging buffers, ahead of use.

    Each numpy batch is copied into the next of ``lookahead + 1`` host buffers
    (page-locked when the device is CUDA, see :func:`can_pin_memory`), then to the
    device without blocking, on a side stream when the device has streams, so that
    the copy of the next batch overlaps the step on the current one. A buffer is
    written again only once its last copy has finished; a consumer's stream waits
    for a batch's copy before using it. On the CPU the same logic runs with plain
    buffers and synchronous copies, which is how it is tested.
    """

    def __init__(self, device, lookahead=1):
        self.device = torch.device(device)
        self.lookahead = lookahead
        self.pin = can_pin_memory(self.device)
        self.stream = torch.cuda.Stream(self.device) if self.pin else None
        self._buffers = [None] * (lookahead + 1)
        self._copied = [None] * (lookahead + 1)  # the event of each buffer's copy
        self._slot = 0

    def __call__(self, host_batches):
        """Yield each array of ``host_batches`` as a tensor on the device, in order."""
        in_flight = deque()
        for batch in host_batches:
            in_flight.append(self._send(batch))
            if len(in_flight) > self.lookahead:
                yield self._receive(*in_flight.popleft())
        while in_flight:
            yield self._receive(*in_flight.popleft())

    def _staging_buffer(self, batch):
        """The next buffer of the ring, free to write, with room for ``batch``."""
        slot = self._slot
        self._slot = (slot + 1) % len(self._buffers)
        if self._copied[slot] is not None:
            self._copied[slot].synchronize()
        buffer = self._buffers[slot]
        dtype = _torch_dtype(batch.dtype)
        if (
            buffer is None
            or buffer.dtype != dtype
            or buffer.shape[0] < batch.shape[0]
            or buffer.shape[1:] != batch.shape[1:]
        ):
            buffer = torch.empty(batch.shape, dtype=dtype, pin_memory=self.pin)
            self._buffers[slot] = buffer
        return slot, buffer[: batch.shape[0]]

    def _send(self, batch):
        slot, staged = self._staging_buffer(batch)
        staged.numpy()[...] = batch
        x = torch.empty(staged.shape, dtype=staged.dtype, device=self.device)
        if self.stream is None:
            x.copy_(staged)
            return x, None
        with torch.cuda.stream(self.stream):
            x.copy_(staged, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record(self.stream)
        self._copied[slot] = copied
        return x, copied

    def _receive(self, x, copied):
        if copied is not None:
            stream = torch.cuda.current_stream(self.device)
            stream.wait_event(copied)
            # x was allocated on the side stream: keep its memory until the
            # consumer's stream is done with it
            x.record_stream(stream)
        return x


# Arrays smaller than this go to the GPU from pageable memory: pinning one costs
# a host copy and an allocator call, which a row or two cannot pay back (a first
# guess, for the GPU benchmark's one-row latency to confirm or move).
_PIN_MIN_BYTES = 2**16


def host_to_device(array, device):
    """A numpy ``array`` as a tensor on ``device``: pinned and non-blocking on CUDA.

    On the CPU, ``torch.from_numpy(array)`` itself (shared memory, no copy).
    """
    x = torch.from_numpy(array)
    if array.nbytes < _PIN_MIN_BYTES or not can_pin_memory(device):
        return x.to(device)
    return x.pin_memory().to(device, non_blocking=True)
