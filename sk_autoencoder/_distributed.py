"""Data-parallel training over the processes of a Hugging Face ``Accelerator``.

Every process of a launch (``torchrun``, ``accelerate launch``) fits the same
estimator on the same X. Each global batch of ``batch_size`` rows is split
between the processes, each computes the gradient of its share, and one
all-reduce per step turns those into the gradient of the whole batch's mean
loss, which every process applies. The optimizer's trajectory is therefore the
one-process trajectory, up to the order of floating-point sums.

skorch's ``AccelerateMixin`` does not fit this engine: it relies on
``Accelerator.prepare`` to shard a ``DataLoader`` (the batch iterator slices
rows and is not one, so every process would train on every row), and it wraps
the module in ``DistributedDataParallel``, which synchronises gradients only
through ``forward`` while the nets train through the module's ``encode`` and
``decode``. The accelerator here supplies the process group, each process's
index and device, and the collectives.
"""

import numpy as np
import torch


def process_share(accelerator):
    """``(index, count)``: this process's index among the processes training."""
    if accelerator is None:
        return 0, 1
    return accelerator.process_index, accelerator.num_processes


def process_device(accelerator):
    """The accelerator's device for this process: ``'cuda:1'``, say, or ``'cpu'``.

    Accelerate names the CPU ``cpu:0`` in its multi-process mode, which torch
    cannot map a pickle's tensors back onto.
    """
    device = torch.device(accelerator.device)
    return "cpu" if device.type == "cpu" else str(device)


def check_accelerator(accelerator):
    """The accelerator's settings that this data parallelism does not apply."""
    settings = {"mixed_precision": "no", "gradient_accumulation_steps": 1}
    for name, supported in settings.items():
        value = getattr(accelerator, name, supported)
        if str(value) != str(supported):
            raise ValueError(
                f"The accelerator has {name}={value!r}; the autoencoders use its "
                f"processes and devices only and train with {name}={supported!r}. "
                f"Create it with Accelerator({name}={supported!r})."
            )


def main_process_seed(accelerator, seed):
    """The seed drawn on the main process, so that every process draws the same.

    With ``random_state=None`` each process would otherwise draw its own seed,
    and start from other weights, shuffle into other batches and hold out other
    validation rows.
    """
    if process_share(accelerator)[1] == 1:
        return seed
    from accelerate.utils import broadcast_object_list

    return int(broadcast_object_list([seed], from_process=0)[0])


def start_from_main_process(net):
    """Give every process the main process's weights, and a noise stream of its own.

    Called as training begins. The weights agree already when each process
    computed the same start; copying them as ``DistributedDataParallel`` does
    when it wraps a module keeps that true across machines whose arithmetic
    differs in the last bits. Dropout, corruption noise and the VAE's samples
    are drawn from torch's RNG, which the estimator seeds alike in every
    process: each process other than the main one moves to a stream of its
    own, so that the shares of a batch do not get the same noise.
    """
    if net.accelerator is None:
        return
    check_accelerator(net.accelerator)
    index, count = process_share(net.accelerator)
    if count == 1:
        return
    from accelerate.utils import broadcast

    states = [
        tensor
        for part in (net.module_, net.criterion_)
        for tensor in part.state_dict().values()
    ]
    # broadcast copies into each tensor, which shares memory with its parameter
    broadcast(states, from_process=0)
    if index > 0:
        stream = np.random.SeedSequence([torch.initial_seed(), index])
        torch.manual_seed(int(stream.generate_state(1)[0]))


def sum_gradients(net, loss, n_rows):
    """Turn each process's gradient of its share into that of the whole batch.

    ``loss`` is the mean loss of this process's ``n_rows`` rows, and the
    gradients are those of it. One all-reduce sums ``n_rows`` times each over
    the processes; dividing by the batch's rows gives the gradient of the
    batch's mean loss. Returns that mean loss and the batch's rows.
    """
    parameters = [p for _, p in net.get_all_learnable_params()]
    grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in parameters]
    # the loss and a count travel in the same all-reduce as the gradients
    counted = torch.stack([loss.detach(), torch.ones_like(loss)]).to(grads[0])
    flat = torch.cat([g.reshape(-1).to(counted.dtype) for g in grads] + [counted])
    total = net.accelerator.reduce(flat * n_rows, reduction="sum")
    batch_rows = total[-1].item()
    total /= batch_rows
    offset = 0
    for p, g in zip(parameters, grads, strict=True):
        p.grad = total[offset : offset + g.numel()].view_as(g).to(g.dtype)
        offset += g.numel()
    return total[-2], round(batch_rows)


def mean_across_processes(net, loss):
    """The mean of ``loss`` over the processes, the same value in each of them."""
    _, count = process_share(net.accelerator)
    return net.accelerator.reduce(loss.detach(), reduction="sum") / count
