"""Attention: compare the decoder state with every encoder output, softmax, weighted sum.

Every score function splits its work in two:

* ``project_keys`` runs once per sentence over the encoder outputs (the part of
  the score that does not depend on the decoder state);
* ``score`` runs at every output step and compares the query with those keys.

The functions ``unit``, ``additive_scores`` and ``attend`` hold the maths that
the decoding step (model/kernels.py) shares with these training modules, so
it is written once; they are TorchScript-compatible because that step is compiled.

Shapes: B = batch, S = source length, T = target steps, E = encoder output
size, H = decoder hidden size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def unit(x: Tensor) -> Tensor:
    """x / |x| along the last dimension (F.normalize's numbers, with fewer calls: it runs at every decoding step)."""
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True).clamp_min(1e-12)


def additive_scores(query: Tensor, keys: Tensor, energy: Tensor) -> Tensor:
    """Bahdanau: query (B, T, A) already through W_q, keys (B, S, A), energy v (1, A) -> v·tanh(q + k) (B, T, S)."""
    # (B, T, 1, A) + (B, 1, S, A) -> (B, T, S, A) -> (B, T, S)
    return F.linear(torch.tanh(query.unsqueeze(2) + keys.unsqueeze(1)), energy).squeeze(-1)


def attend(scores: Tensor, values: Tensor, blocked: Tensor | None) -> tuple[Tensor, Tensor]:
    """scores (B, T, S), values (B, S, E), blocked (B, 1, S) True on padding (or None: no padding)
    -> context (B, T, E), attention (B, T, S): softmax weights, rows summing to 1, exactly 0 on padding.
    """
    masked = scores if blocked is None else scores.masked_fill(blocked, float("-inf"))
    attention = torch.softmax(masked, dim=-1)
    return torch.bmm(attention, values), attention


class ScoreFunction(nn.Module):
    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        """(B, S, E) -> keys (B, S, K). Called once per sentence."""
        raise NotImplementedError

    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        """query (B, T, H), keys (B, S, K) -> raw scores (B, T, S)."""
        raise NotImplementedError


class DotScore(ScoreFunction):
    """Luong's dot score q·k. Needs H == E; otherwise the keys get a linear map to H."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        self.key_map = nn.Identity() if query_dim == key_dim else nn.Linear(key_dim, query_dim, bias=False)

    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        return self.key_map(encoder_outputs)

    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(query, keys.transpose(1, 2))


class CosineScore(DotScore):
    """Cosine similarity times a learned temperature.

    Cosine lies in [-1, 1]; softmax over values that close together is almost
    flat, so a learned scale, the temperature (initialised at 10), lets the model
    sharpen it. It is stored as its logarithm (``log_scale``) to stay positive.
    """

    def __init__(self, query_dim: int, key_dim: int, initial_scale: float = 10.0):
        super().__init__(query_dim, key_dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(initial_scale)))

    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        return unit(self.key_map(encoder_outputs))

    @property
    def temperature(self) -> Tensor:
        return self.log_scale.exp()

    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        similarity = torch.bmm(unit(query), keys.transpose(1, 2))
        return self.temperature * similarity


class GeneralScore(ScoreFunction):
    """Luong's bilinear score q·W·k; W·k is computed once per sentence."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        self.bilinear = nn.Linear(key_dim, query_dim, bias=False)

    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        return self.bilinear(encoder_outputs)

    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(query, keys.transpose(1, 2))


class AdditiveScore(ScoreFunction):
    """Bahdanau's score v·tanh(W_q q + W_k k); W_k k is computed once per sentence."""

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int | None = None):
        super().__init__()
        attention_dim = attention_dim or query_dim
        self.key_layer = nn.Linear(key_dim, attention_dim, bias=False)
        self.query_layer = nn.Linear(query_dim, attention_dim, bias=False)
        self.energy = nn.Linear(attention_dim, 1, bias=False)

    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        return self.key_layer(encoder_outputs)

    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        return additive_scores(self.query_layer(query), keys, self.energy.weight)


SCORES: dict[str, type[ScoreFunction]] = {
    "cosine": CosineScore,
    "dot": DotScore,
    "general": GeneralScore,
    "additive": AdditiveScore,
}


class Attention(nn.Module):
    """score -> masked softmax -> context = weighted sum of encoder outputs."""

    def __init__(self, kind: str, query_dim: int, key_dim: int):
        super().__init__()
        if kind not in SCORES:
            raise ValueError(f"unknown score function {kind!r}; choose from {sorted(SCORES)}")
        self.kind = kind
        self.score_function = SCORES[kind](query_dim, key_dim)

    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        return self.score_function.project_keys(encoder_outputs)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Attend from every query step to the source.

        Args:
            query: decoder states (B, T, H).
            keys: output of ``project_keys`` (B, S, K).
            values: encoder outputs (B, S, E).
            mask: (B, S) bool, True on real tokens, False on padding.

        Returns:
            context (B, T, E), attention (B, T, S): softmax weights with rows
            summing to 1 and exactly 0 on padding, and the scores (B, T, S) fed to softmax.
        """
        scores = self.score_function.score(query, keys)
        context, attention = attend(scores, values, ~mask.unsqueeze(1))
        return context, attention, scores
