"""The learning-rate schedule: linear warm-up, then cosine decay over the steps the budget allows."""

from __future__ import annotations

import math

from .config import TrainConfig

BUDGET_MARGIN = 1.08  # epochs are sized from the first one's time, with room for dev scoring and noise


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to ``min_lr`` over the steps that fit the budget."""
    warmup = config.warmup_steps
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def budget_steps(config: TrainConfig, epoch_seconds: float, batches_per_epoch: int) -> int:
    """Total steps of the schedule, fixed after the first epoch: --max-steps, or the epochs that fit --max-minutes."""
    if config.max_steps:
        return config.max_steps
    fitting = int(config.max_minutes * 60 // max(epoch_seconds * BUDGET_MARGIN, 1e-9))
    return max(1, min(config.max_epochs, fitting)) * batches_per_epoch
