"""Checkpoint averaging (--average-last): the mean of the last epochs' weights smooths out the last updates' noise."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from .seq2seq import Seq2Seq


def snapshot_path(work: Path, epoch: int) -> Path:
    return work / f"epoch-{epoch}.pt"


def keep_snapshot(model: Seq2Seq, work: Path, epoch: int, keep: int) -> None:
    """This epoch's weights; only the last ``keep`` are kept."""
    torch.save(model.state_dict(), snapshot_path(work, epoch))
    snapshot_path(work, epoch - keep).unlink(missing_ok=True)


def average_weights(paths: list[Path], device) -> dict[str, torch.Tensor]:
    """The element-wise mean of saved state dicts (same architecture)."""
    states = [torch.load(path, map_location=device, weights_only=True) for path in paths]
    return {name: sum(state[name].float() for state in states) / len(states) for name in states[0]}


def averaged_model(model: Seq2Seq, work: Path, epochs: list[int], device) -> Seq2Seq | None:
    """A copy of ``model`` holding the mean of ``epochs``' snapshots (eval mode), or None when one is missing."""
    paths = [snapshot_path(work, epoch) for epoch in epochs]
    if len(epochs) < 2 or not all(path.exists() for path in paths):
        return None
    averaged = copy.deepcopy(model)
    averaged.load_state_dict(average_weights(paths, device))
    return averaged.eval()
