"""Attention: compare the decoder state with every encoder output, softmax, weighted sum.

Every score function splits its work in two:

* ``project_keys`` runs once per sentence over the encoder outputs (the part of
  the score that does not depend on the decoder state);
* ``score`` runs at every output step and compares the query with those keys.

Shapes: B = batch, S = source length, T = target steps, E = encoder output
size, H = decoder hidden size.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


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
    flat, so a learned scale (initialised at 10) lets the model sharpen it.
    """

    def __init__(self, query_dim: int, key_dim: int, initial_scale: float = 10.0):
        super().__init__(query_dim, key_dim)
        self.log_scale = nn.Parameter(torch.tensor(math.log(initial_scale)))

    def project_keys(self, encoder_outputs: Tensor) -> Tensor:
        return F.normalize(self.key_map(encoder_outputs), dim=-1)

    def score(self, query: Tensor, keys: Tensor) -> Tensor:
        cosine = torch.bmm(F.normalize(query, dim=-1), keys.transpose(1, 2))
        return self.log_scale.exp() * cosine


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
        # (B, T, 1, A) + (B, 1, S, A) -> (B, T, S, A) -> (B, T, S)
        hidden = torch.tanh(self.query_layer(query).unsqueeze(2) + keys.unsqueeze(1))
        return self.energy(hidden).squeeze(-1)


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
        attention = torch.softmax(scores.masked_fill(~mask.unsqueeze(1), float("-inf")), dim=-1)
        context = torch.bmm(attention, values)
        return context, attention, scores
