"""The int8 decoding loops, compiled with TorchScript.

A decoding step is ~25 small PyTorch calls on vectors; from Python each costs
3-4 microseconds of interpreter and argument handling, more than the
arithmetic of most of them. TorchScript runs the same calls without Python
in between: measured on one core (bench/speed.py), greedy latency for a
10-word sentence fell from ~4.5 to ~3 ms. The maths is that of the eager code in
inference.py, which stays the reference: tests compare the two.

TorchScript is deprecated in favour of torch.compile, which needs a C++
compiler at run time and seconds of compiling at start-up: not an option for a
Space that must start in 5 s. If a future torch drops it, ``compiled()``
returns None and decoding runs the eager code, slower but identical.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

try:
    Packed = torch.classes.quantized.LinearPackedParamsBase  # fbgemm's packed int8 matrix
except (AttributeError, RuntimeError):  # a torch build without quantized kernels: int8 is off anyway
    Packed = Tensor


def _int8(x: Tensor, packed: Packed) -> Tensor:
    return torch.ops.quantized.linear_dynamic(x, packed)


def lstm_cell(gates: Tensor, c: Tensor, hidden: int) -> tuple[Tensor, Tensor]:
    """gates (..., 4H) ordered (i, f, o, g), c (..., H) -> new (h, c)."""
    ifo = gates[..., : 3 * hidden].sigmoid()
    new_c = torch.addcmul(ifo[..., hidden : 2 * hidden] * c, ifo[..., :hidden], gates[..., 3 * hidden :].tanh())
    return ifo[..., 2 * hidden :] * new_c.tanh(), new_c


def encoder_recurrence(
    gates_in: Tensor, recurrent: Packed, valid: Tensor | None, hidden: int
) -> tuple[Tensor, Tensor, Tensor]:
    """gates_in (S, B, D, 4H) input parts of the gates -> outputs (B, S, D, H), final h and c (B, D, H).

    ``recurrent`` is block-diagonal over the D directions; ``valid`` (S, B) marks
    real tokens (None: no padding), and padded steps leave the state unchanged.
    """
    length, batch, directions = gates_in.size(0), gates_in.size(1), gates_in.size(2)
    h = gates_in.new_zeros(batch, directions, hidden)
    c = torch.zeros_like(h)
    outputs: list[Tensor] = []
    for t in range(length):
        gates = gates_in[t] + _int8(h.view(batch, -1), recurrent).view(batch, directions, 4 * hidden)
        new_h, new_c = lstm_cell(gates, c, hidden)
        if valid is not None:
            keep = valid[t].view(batch, 1, 1)
            new_h, new_c = torch.where(keep, new_h, h), torch.where(keep, new_c, c)
        h, c = new_h, new_c
        outputs.append(h)
    return torch.stack(outputs, dim=1), h, c


def decoder_step(
    prev: Tensor,
    h: Tensor,
    c: Tensor,
    keys: Tensor,
    values: Tensor,
    blocked: Tensor | None,
    embedding: Tensor,
    lstm_layers: list[Packed],
    combine: Packed,
    output: Packed,
    normalize_query: bool,
    top_k: int,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """One step for B sentences with dot-product-style attention (cosine, dot, general).

    prev (B,), h and c (layers, B, H), keys (B, S, K) with any temperature folded
    in, values (B, S, E), blocked (B, 1, S) or None -> logits (B, V), h, c,
    weights (B, S), raw scores (B, S), and the top_k probabilities and ids (B, k) (empty if top_k is 0).
    """
    x = embedding[prev]
    hs: list[Tensor] = []
    cs: list[Tensor] = []
    hidden = h.size(2)
    for layer, packed in enumerate(lstm_layers):
        x, new_c = lstm_cell(_int8(torch.cat([x, h[layer]], dim=1), packed), c[layer], hidden)
        hs.append(x)
        cs.append(new_c)
    query = x.unsqueeze(1)
    if normalize_query:
        query = query / torch.linalg.vector_norm(query, dim=-1, keepdim=True).clamp_min(1e-12)
    scores = torch.bmm(query, keys.transpose(1, 2))
    masked = scores if blocked is None else scores.masked_fill(blocked, float("-inf"))
    weights = torch.softmax(masked, dim=-1)
    context = torch.bmm(weights, values)[:, 0]
    combined = torch.tanh(_int8(torch.cat([x, context], dim=1), combine))
    logits = _int8(combined, output)
    probs, ids = top_candidates(logits, top_k)
    return logits, torch.stack(hs), torch.stack(cs), weights[:, 0], scores[:, 0], probs, ids


def top_candidates(logits: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """logits (B, V) -> probabilities and ids of the k most probable tokens (B, k); empty for k = 0."""
    if k == 0:
        return logits.new_empty(0), torch.empty(0, dtype=torch.long)
    return torch.softmax(logits, dim=-1).topk(k, dim=-1)


_COMPILED: dict | None = None


def compiled() -> dict | None:
    """{"encoder_recurrence": ..., "decoder_step": ...} compiled once per process, or None without TorchScript."""
    global _COMPILED
    if _COMPILED is None:
        try:
            with warnings.catch_warnings():  # the deprecation notice: see the module docstring
                warnings.simplefilter("ignore")
                _COMPILED = {
                    "encoder_recurrence": torch.jit.script(encoder_recurrence),
                    "decoder_step": torch.jit.script(decoder_step),
                }
        except Exception:
            _COMPILED = {}
    return _COMPILED or None
