"""Training on several processes with ``torch.distributed``: started by ``torchrun``, one process per CPU or GPU.

    torchrun --standalone --nproc_per_node=2 -m model.train ...

Every rank builds the same batches (same seed, same data) and takes every N-th row of each global batch, so an
optimizer step sees the same sentences whatever N is: the step count, the learning-rate schedule and the epochs do
not change with N. ``DistributedDataParallel`` averages the gradients; each rank's loss is weighted by its share of
the batch's target tokens, so the average is the gradient of the global batch's mean loss (what one process
computes). Rank 0 alone scores dev, writes checkpoints, exports and metrics.json, and tells the others what it
decided. Without torchrun (``python -m model.train``) every function here is a no-op for a world of one process.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .batching import Batch
from .tokenizer import PAD_ID

T = TypeVar("T")


class DistributedError(RuntimeError):
    """The process group could not be joined or the ranks disagree; the message says what to do."""


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start(device: torch.device, timeout_s: float) -> torch.device:
    """Join the process group when torchrun started several processes (gloo on CPU, NCCL on CUDA).

    -> this rank's device: ``cuda:LOCAL_RANK`` on CUDA, ``device`` otherwise. ``timeout_s`` bounds the wait for the
    other ranks, at the start (a rendezvous nobody else joins) and at every collective (a rank that hangs).
    """
    if not launched_by_torchrun() or dist.is_initialized():
        return device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s), device_id=_device_id(device))
    except (RuntimeError, ValueError, TimeoutError) as error:
        where = ", ".join(f"{key}={os.environ.get(key, '(unset)')}" for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR"))
        raise DistributedError(
            f"could not join the {backend} process group within {timeout_s:.0f} s ({where}): {error}. Start training "
            "with torchrun (docs/training.md), on every machine with the same --nnodes and --rdzv-endpoint."
        ) from error
    return device


def _device_id(device: torch.device) -> torch.device | None:
    return device if device.type == "cuda" else None


def peer_failed(error: RuntimeError) -> bool:
    """Whether ``error`` is a collective that failed because another rank died or hung (gloo raises a plain
    RuntimeError naming itself; NCCL and the store raise DistError)."""
    if isinstance(error, dist.DistError):
        return True
    return launched_by_torchrun() and any(word in str(error) for word in ("gloo", "NCCL", "Connection reset"))


def finish() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


@contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (it writes a shared file: tokenizers, a teacher's cache), the others after."""
    if not is_main():
        dist.barrier()
    yield
    if is_main() and dist.is_initialized():
        dist.barrier()


def from_main(value: T) -> T:
    """Rank 0's ``value`` on every rank (picklable), so that all take the same decisions."""
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def on_main(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` computed by rank 0 alone (dev scoring), its result given to every rank."""
    return from_main(function(*args) if is_main() else None)


def all_sum(*numbers: float) -> list[float]:
    """Each number summed over the ranks."""
    if not dist.is_initialized():
        return list(numbers)
    total = torch.tensor(numbers, dtype=torch.float64)
    dist.all_reduce(total)
    return total.tolist()


class DistributedModel(DistributedDataParallel):
    """DDP that also answers for its module's attributes (``model.decoder``), so training code takes either."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model to train with: DDP over the process group, or ``model`` itself in a world of one."""
    if not dist.is_initialized():
        return model
    device_ids = [model_device(model)] if model_device(model).type == "cuda" else None
    # No buffer sync at each forward: the only buffer (the output layer's piece ids) never changes in training.
    return DistributedModel(model, device_ids=device_ids, forward_sync_buffers=False)


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def shard(batch: Batch) -> tuple[Batch, float]:
    """This rank's rows of a global batch (every N-th), and the weight of its mean loss.

    The weight is N x (this rank's target tokens) / (the batch's target tokens): DDP averages the N gradients, so
    the result is the gradient of the whole batch's mean loss per token, as in one process. A rank with no row
    (a batch of fewer sentences than ranks) still runs the model, on row 0 with weight 0, because DDP needs every
    rank's backward pass.
    """
    size = world_size()
    if size == 1:
        return batch, 1.0
    src, lengths, prev, gold = batch
    rows = torch.arange(rank(), src.size(0), size)
    weight = 1.0
    if rows.numel() == 0:
        rows, weight = torch.zeros(1, dtype=torch.long), 0.0
    part = (src[rows], lengths[rows], prev[rows], gold[rows])
    tokens, local = int((gold != PAD_ID).sum()), int((part[3] != PAD_ID).sum())
    return part, weight * size * local / max(1, tokens)


def check_same_order(order: list[int]) -> None:
    """Every rank must step through the same batches, or a collective would wait forever: say so instead."""
    if dist.is_initialized():
        check_same(hashlib.sha256(repr(order).encode()).hexdigest(), "batch order")


def check_same_weights(model: torch.nn.Module) -> None:
    """Raise unless every rank holds exactly the same weights (DDP keeps them so; this proves it)."""
    if dist.is_initialized():
        digest = hashlib.sha256()
        for name, tensor in model.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().float().cpu().numpy().tobytes())
        check_same(digest.hexdigest(), "weights")


def check_same(value: str, what: str) -> None:
    values = [None] * world_size()
    dist.all_gather_object(values, value)
    if len(set(values)) > 1:
        raise DistributedError(f"the ranks hold different {what} ({values}); the run cannot go on in step")
