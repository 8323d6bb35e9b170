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


def decoder_lstm(
    prev: Tensor, h: Tensor, c: Tensor, input_gates: Tensor, lstm_layers: list[Packed]
) -> tuple[Tensor, Tensor, Tensor]:
    """The decoder LSTM's step: prev (B,), h and c (layers, B, H) -> top layer's output (B, H), new h, new c.

    input_gates (V, 4H) holds layer 0's W_ih e + b per token (see Inference._prepare_decoder_lstm).
    """
    hidden = h.size(2)
    if len(lstm_layers) == 1:  # the shipped model: no lists, and views instead of stacked copies (~5 us a step)
        x, new_c = lstm_cell(_int8(h[0], lstm_layers[0]) + input_gates.index_select(0, prev), c[0], hidden)
        return x, x.unsqueeze(0), new_c.unsqueeze(0)
    x = h[0]  # x carries each layer's output to the next
    hs: list[Tensor] = []
    cs: list[Tensor] = []
    for layer, packed in enumerate(lstm_layers):
        if layer == 0:  # index_select: 1-2 us, where input_gates[prev] takes 5-10
            gates = _int8(h[0], packed) + input_gates.index_select(0, prev)  # float32 + bf16 -> float32
        else:
            gates = _int8(torch.cat([x, h[layer]], dim=1), packed)
        x, new_c = lstm_cell(gates, c[layer], hidden)
        hs.append(x)
        cs.append(new_c)
    return x, torch.stack(hs), torch.stack(cs)


def decoder_step(
    prev: Tensor,
    h: Tensor,
    c: Tensor,
    keys: Tensor,
    values: Tensor,
    blocked: Tensor | None,
    input_gates: Tensor,
    lstm_layers: list[Packed],
    combine: Packed,
    output: Packed,
    output_pieces: Tensor | None,
    normalize_query: bool,
    top_k: int,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """One step for B sentences with dot-product-style attention (cosine, dot, general).

    prev (B,), h and c (layers, B, H), keys (B, S, K) with any temperature folded
    in, values (B, S, E), blocked (B, 1, S) or None, input_gates (V, 4H) layer 0's
    W_ih e + b per token (see Inference._prepare_decoder_lstm), output_pieces (V_out,) the
    piece id of each logits column or None for all -> logits (B, V_out), h, c, attention (B, S),
    scores (B, S), and the top_k probabilities and piece ids (B, k) (empty if top_k is 0).
    """
    x, new_h, new_cs = decoder_lstm(prev, h, c, input_gates, lstm_layers)
    query = x.unsqueeze(1)
    if normalize_query:
        query = query / torch.linalg.vector_norm(query, dim=-1, keepdim=True).clamp_min(1e-12)
    scores = torch.bmm(query, keys.transpose(1, 2))
    masked = scores if blocked is None else scores.masked_fill(blocked, float("-inf"))
    attention = torch.softmax(masked, dim=-1)
    context = torch.bmm(attention, values)[:, 0]
    combined = torch.tanh(_int8(torch.cat([x, context], dim=1), combine))
    logits = _int8(combined, output)
    probs, ids = top_pieces(logits, top_k, output_pieces)
    return logits, new_h, new_cs, attention[:, 0], scores[:, 0], probs, ids


def greedy_loop(
    prev: Tensor,
    h: Tensor,
    c: Tensor,
    keys: Tensor,
    values: Tensor,
    blocked: Tensor | None,
    input_gates: Tensor,
    lstm_layers: list[Packed],
    combine: Packed,
    output: Packed,
    output_pieces: Tensor | None,
    normalize_query: bool,
    top_k: int,
    limits: Tensor,
    eos: int,
) -> tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor], list[Tensor]]:
    """Greedy decoding of B sentences with ``decoder_step``, the loop compiled too (search.py's Python loop, step
    for step: at batch 1 its bookkeeping cost as much as a third of the step).

    limits (B,) steps allowed per sentence (>= 1); a sentence leaves the batch after EOS or its limit.
    -> per step: the batch rows still decoding (b,), top_ids (b, k) (column 0 emitted), top_probs (b, k),
    attention (b, S), scores (b, S).
    """
    rows = torch.arange(prev.size(0))
    row_limits = limits
    limit = int(limits[0])  # for a batch of one
    kept_rows: list[Tensor] = []
    top_ids: list[Tensor] = []
    top_probs: list[Tensor] = []
    all_attention: list[Tensor] = []
    all_scores: list[Tensor] = []
    for step in range(int(limits.max())):
        _, h, c, attention, scores, probs, ids = decoder_step(
            prev,
            h,
            c,
            keys,
            values,
            blocked,
            input_gates,
            lstm_layers,
            combine,
            output,
            output_pieces,
            normalize_query,
            top_k,
        )
        kept_rows.append(rows)
        top_ids.append(ids)
        top_probs.append(probs)
        all_attention.append(attention)
        all_scores.append(scores)
        prev = ids[:, 0]
        if prev.size(0) == 1:  # one sentence (the app's case): two scalar tests instead of five calls
            if int(prev[0]) == eos or step + 1 >= limit:
                break
            continue
        going = (prev != eos) & (row_limits > step + 1)
        still = int(going.sum())
        if still == 0:
            break
        if still < going.size(0):
            keep = going.nonzero().view(-1)
            rows, row_limits, prev, keys, values = rows[keep], row_limits[keep], prev[keep], keys[keep], values[keep]
            h, c = h.index_select(1, keep), c.index_select(1, keep)
            if blocked is not None:
                blocked = blocked[keep]
    return kept_rows, top_ids, top_probs, all_attention, all_scores


def _bridge_one(final: Tensor, packed: Packed, directions: int, layers: int) -> Tensor:
    """final (layers_enc * directions, B, H_enc) -> tanh(W [top layer's directions] + b) (layers, B, H_dec)."""
    batch = final.size(1)
    top = final[-directions:].transpose(0, 1).reshape(batch, -1)
    return torch.tanh(_int8(top, packed)).view(batch, layers, -1).transpose(0, 1).contiguous()


def bridge(
    final_h: Tensor, final_c: Tensor, packed_h: Packed, packed_c: Packed, directions: int, layers: int
) -> tuple[Tensor, Tensor]:
    """Encoder.bridge for h and c with int8 products, compiled.

    Once per sentence, but from Python its dozen calls took ~100 us (each fbgemm call pays ~17 us of argument
    checks there); compiled, ~35 us.
    """
    return _bridge_one(final_h, packed_h, directions, layers), _bridge_one(final_c, packed_c, directions, layers)


def top_candidates(logits: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """logits (B, V) -> probabilities and ids of the k most probable tokens (B, k); empty for k = 0."""
    if k == 0:
        return logits.new_empty(0), torch.empty(0, dtype=torch.long)
    return torch.softmax(logits, dim=-1).topk(k, dim=-1)


def top_pieces(logits: Tensor, k: int, output_pieces: Tensor | None) -> tuple[Tensor, Tensor]:
    """``top_candidates`` with the logits columns turned into piece ids (output_pieces[column])."""
    probs, columns = top_candidates(logits, k)
    if output_pieces is None or k == 0:
        return probs, columns
    return probs, output_pieces.index_select(0, columns.view(-1)).view(columns.size())


_COMPILED: dict | None = None


def compiled() -> dict | None:
    """{"decoder_step", "greedy_loop", "bridge"}: each compiled once per process; None without TorchScript."""
    global _COMPILED
    if _COMPILED is None:
        try:
            with warnings.catch_warnings():  # the deprecation notice: see the module docstring
                warnings.simplefilter("ignore")
                _COMPILED = {
                    "decoder_step": torch.jit.script(decoder_step),
                    "greedy_loop": torch.jit.script(greedy_loop),
                    "bridge": torch.jit.script(bridge),
                }
        except Exception:
            _COMPILED = {}
    return _COMPILED or None
