"""What a training batch is scored by: label-smoothed cross-entropy, plus an optional coverage regularizer."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .batching import Batch
from .seq2seq import Seq2Seq
from .tokenizer import PAD_ID


def batch_loss(
    model: Seq2Seq, batch: Batch, device, label_smoothing: float, coverage_weight: float = 0.0
) -> tuple[torch.Tensor, int]:
    """-> mean loss per target token, and the number of target tokens (for weighting the running average)."""
    src, lengths, prev, gold = (t.to(device) if i != 1 else t for i, t in enumerate(batch))
    output = model(src, lengths, prev)
    logits = output.logits
    columns = model.decoder.output_columns(gold)  # padding -> -100, ignored
    loss = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), columns.reshape(-1), ignore_index=-100, label_smoothing=label_smoothing
    )
    if coverage_weight and output.attention is not None:
        loss = loss + coverage_weight * under_coverage(output.attention, src != PAD_ID, gold != PAD_ID)
    return loss, int((gold != PAD_ID).sum())


def under_coverage(attention: torch.Tensor, source_mask: torch.Tensor, target_mask: torch.Tensor) -> torch.Tensor:
    """Mean over real source tokens of max(0, 1 - attention received over the real target steps)^2.

    attention (B, T, S), source_mask (B, S), target_mask (B, T) -> scalar. A source token no step attends to is
    the mark of an omission; only the shortfall is penalised, as one source word may rightly feed several
    target words. The attention itself is computed as before: this only adds a term to the loss.
    """
    received = (attention.float() * target_mask.unsqueeze(-1)).sum(1)  # (B, S)
    shortfall = (1 - received).clamp(min=0).pow(2)
    return (shortfall * source_mask).sum() / source_mask.sum().clamp(min=1)
