"""Every decoding step's numbers for one translation: what the page's step panel draws.

The written pieces are fed again through ``Inference.step_parts`` (the eager step with its intermediates, the
same code and matrices as decoding), so no decoding loop pays for recording them; only a translation asked
``details=True`` replays (one extra eager pass, about as long as greedy decoding itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .inference import Inference, StepParts


@dataclass
class StepDetails:
    """Per output step t of one translation; T steps, S source pieces, H/E/C the model's sizes.

    ``fed[t]`` is the piece fed into step t (``<s>`` at step 0, then the piece written at step t-1). The
    attention matrices are ``None`` for a model without attention; ``similarity`` is ``None`` unless the score
    is cosine (then ``scores == temperature * similarity``).
    """

    fed: list[str]
    state: np.ndarray  # (T, H) decoder state h_t, the query that attends
    similarity: np.ndarray | None  # (T, S) cosine of h_t with each projected encoder output, in [-1, 1]
    scores: np.ndarray | None  # (T, S) the numbers fed to softmax
    attention: np.ndarray | None  # (T, S) softmax of scores, rows sum to 1
    context: np.ndarray | None  # (T, E) c_t = sum_i attention_i * enc_i
    combined: np.ndarray  # (T, C) tanh(W [h_t; c_t]), the output layer's input
    written_rank: list[int]  # rank of the written piece among the step's top-k (0 = top, -1 = not among them)
    beam_note: list[str | None]  # why beam search wrote a piece other than the step's top candidate


@torch.inference_mode()
def replay(inference: Inference, source_ids: list[int], fed: list[int]) -> list[StepParts]:
    """Feed ``fed`` (<s>, then each written piece but the last) through step_parts for one sentence."""
    device = next(inference.model.parameters()).device
    memory, state = inference.encode(torch.tensor([source_ids], device=device), torch.tensor([len(source_ids)]))
    parts = []
    for token in fed:
        part = inference.step_parts(torch.tensor([token], device=device), state, memory)
        parts.append(part)
        state = part.state
    return parts


def _rows(parts: list[StepParts], name: str, width: int, attends: bool = True) -> np.ndarray | None:
    """One intermediate of every step stacked -> (T, width); None where the model has none (no attention)."""
    if not attends:
        return None
    if not parts:
        return np.zeros((0, width), dtype=np.float32)
    return torch.cat([getattr(part, name) for part in parts]).float().cpu().numpy()


def written_ranks(target_tokens: list[str], steps: list[list[tuple[str, float]]]) -> list[int]:
    """The written piece's rank among each step's candidates (0 = top candidate, -1 = outside the top-k)."""
    ranks = []
    for token, candidates in zip(target_tokens, steps):
        pieces = [piece for piece, _ in candidates]
        ranks.append(pieces.index(token) if token in pieces else -1)
    return ranks


def beam_note(token: str, rank: int, candidates: list[tuple[str, float]], beam_size: int) -> str | None:
    """Plain text on why beam search wrote ``token`` at a step where it was not the top candidate."""
    if rank == 0 or not candidates:
        return None
    top, top_probability = candidates[0]
    if rank > 0:
        written = f"“{token}” ({100 * candidates[rank][1]:.1f}%, candidate {rank + 1})"
    else:
        written = f"“{token}”, outside this step's top {len(candidates)},"
    return (
        f"Beam search wrote {written} rather than this step's top candidate “{top}” ({100 * top_probability:.1f}%): "
        f"it follows the {beam_size} most probable partial translations at once, and the finished translation "
        f"through “{token}” scored best of all it finished (total log-probability divided by the length penalty, "
        "less a coverage penalty for English pieces it hardly attended to). "
        "A less probable piece here led to a more probable whole sentence."
    )


def step_details(
    inference: Inference,
    source_ids: list[int],
    written: list[int],
    pieces: Callable[[list[int]], list[str]],
    steps: list[list[tuple[str, float]]],
    beam_size: int,
) -> StepDetails:
    """One translation (its source ids, EOS included; its written ids) replayed -> its StepDetails.

    ``pieces`` names target ids; ``steps`` are the decoder's top-k candidates per step, as decoding recorded them.
    """
    fed = [inference.config.bos_id, *written[:-1]]
    parts = replay(inference, source_ids, fed) if written else []
    config, source_length = inference.config, len(source_ids)
    attends = inference.attention is not None
    cosine = inference.temperature is not None
    target_tokens = pieces(written)
    ranks = written_ranks(target_tokens, steps)
    return StepDetails(
        fed=pieces(fed) if written else [],
        state=_rows(parts, "query", config.decoder_hidden),
        similarity=_rows(parts, "similarity", source_length, cosine),
        scores=_rows(parts, "scores", source_length, attends),
        attention=_rows(parts, "attention", source_length, attends),
        context=_rows(parts, "context", config.encoder_output_dim, attends),
        combined=_rows(parts, "combined", config.combine_dim),
        written_rank=ranks,
        beam_note=[
            None if beam_size == 1 else beam_note(token, rank, candidates, beam_size)
            for token, rank, candidates in zip(target_tokens, ranks, steps)
        ],
    )
