"""The decoding step's maths, written once, and its TorchScript compilation (the speed path).

``decoder_step`` is one output step for B sentences: the decoder LSTM, the
attention, the combination layer, the output layer and the top-k candidates.
inference.py runs it as plain Python (float32 or int8 matrices, every score
function, and the step anatomy the page shows); ``compiled()`` compiles the
same function with TorchScript for int8 decoding, along with ``greedy_loop``
(the whole greedy search) and ``bridge``. One source, two ways to run it:
docs/architecture.md, "Where the decoding step lives".

Why compile: a step is ~25 small PyTorch calls on vectors; from Python each
costs microseconds of interpreter and argument handling, more than the
arithmetic of most of them (docs/performance.md has the figures).

TorchScript is deprecated in favour of torch.compile, which needs a C++
compiler at run time and seconds of compiling at start-up: not an option for a
Space that must start in 5 s. If compiling fails, ``compiled()`` returns None,
warns with the reason (``fallback_reason()``) and decoding runs the same
functions from Python: slower, the same numbers. The tests fail in that case
wherever TorchScript exists (tests/test_kernels.py).
"""

# No "from __future__ import annotations": TorchScript reads the NamedTuples' field types at run time.
import functools
import warnings
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from .attention import additive_scores, attend, unit

try:
    Packed = torch.classes.quantized.LinearPackedParamsBase  # fbgemm's packed int8 matrix
except (AttributeError, RuntimeError):  # a torch build without quantized kernels: int8 is off anyway
    Packed = Tensor


def linear(x: Tensor, weight: Packed) -> Tensor:
    """x (B, in) -> x @ W.T + b (B, out).

    Compiled, ``weight`` is an fbgemm packed int8 matrix. From Python it is any
    callable (inference.StepLinear: float32 or int8), so one step function serves both.
    """
    if torch.jit.is_scripting():  # a constant when compiled: the branch costs nothing there
        return torch.ops.quantized.linear_dynamic(x, weight)
    return _call(x, weight)


@torch.jit.unused
def _call(x: Tensor, weight: Packed) -> Tensor:
    return weight(x)


class StepWeights(NamedTuple):
    """A model's decoder matrices prepared for one-row products (Inference builds them)."""

    input_gates: Tensor  # (V, 4H) layer 0's W_ih e + b per target token, gate rows (i, f, o, g)
    lstm_layers: list[Packed]  # per layer: W_hh (layer 0), [W_ih W_hh] with the bias (layers above)
    combine: Packed  # W of tanh(W [h_t; c_t])
    output: Packed  # the output layer's rows for the pieces it scores
    output_pieces: Tensor | None  # (V_out,) piece id of each logits column; None: all pieces
    scoring: str  # "cosine" (keys unit length times the temperature), "dot" (dot, general), "additive", "none"
    query_layer: Optional[Packed]  # noqa: UP045 (Packed is a TorchScript class: no `|`). Additive only: W_q
    energy: Tensor | None  # additive only: v (1, A)


class StepOutput(NamedTuple):
    """Everything one step computed; attention fields are None for a model without attention."""

    query: Tensor  # (B, H) h_t, the top LSTM layer's output
    scores: Tensor | None  # (B, S) fed to softmax
    attention: Tensor | None  # (B, S) softmax weights
    context: Tensor | None  # (B, E)
    combined: Tensor  # (B, C)
    logits: Tensor  # (B, V_out)
    h: Tensor  # (layers, B, H)
    c: Tensor  # (layers, B, H)
    top_probs: Tensor  # (B, k), empty for k = 0
    top_ids: Tensor  # (B, k) piece ids


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
    if len(lstm_layers) == 1:  # the shipped models: no lists, and views instead of stacked copies
        x, new_c = lstm_cell(linear(h[0], lstm_layers[0]) + input_gates.index_select(0, prev), c[0], hidden)
        return x, x.unsqueeze(0), new_c.unsqueeze(0)
    x = h[0]  # x carries each layer's output to the next
    hs: list[Tensor] = []
    cs: list[Tensor] = []
    for layer, weight in enumerate(lstm_layers):
        if layer == 0:  # index_select: much cheaper than input_gates[prev]
            gates = linear(h[0], weight) + input_gates.index_select(0, prev)  # float32 + bf16 -> float32
        else:
            gates = linear(torch.cat([x, h[layer]], dim=1), weight)
        x, new_c = lstm_cell(gates, c[layer], hidden)
        hs.append(x)
        cs.append(new_c)
    return x, torch.stack(hs), torch.stack(cs)


def attention_scores(query: Tensor, keys: Tensor, weights: StepWeights) -> Tensor:
    """query (B, H), keys (B, S, K) as Inference.encode prepared them -> scores (B, 1, S)."""
    if weights.scoring == "additive":
        query_layer, energy = weights.query_layer, weights.energy
        assert query_layer is not None and energy is not None
        return additive_scores(linear(query, query_layer).unsqueeze(1), keys, energy)
    if weights.scoring == "cosine":  # the keys are unit vectors times the temperature already
        query = unit(query)
    return torch.bmm(query.unsqueeze(1), keys.transpose(1, 2))


def decoder_step(
    prev: Tensor,
    h: Tensor,
    c: Tensor,
    keys: Tensor,
    values: Tensor,
    blocked: Tensor | None,
    weights: StepWeights,
    top_k: int,
) -> StepOutput:
    """One step for B sentences (the recipe in decoder.py, one token at a time).

    prev (B,) the pieces just written, h and c (layers, B, H), keys (B, S, K),
    values (B, S, E), blocked (B, 1, S) True on padding or None -> StepOutput,
    with the top_k probabilities and piece ids (empty if top_k is 0).
    """
    query, new_h, new_c = decoder_lstm(prev, h, c, weights.input_gates, weights.lstm_layers)
    scores: Tensor | None = None
    attention: Tensor | None = None
    context: Tensor | None = None
    if weights.scoring == "none":
        combined = torch.tanh(linear(query, weights.combine))
    else:
        step_scores = attention_scores(query, keys, weights)
        step_context, step_attention = attend(step_scores, values, blocked)
        scores, attention, context = step_scores[:, 0], step_attention[:, 0], step_context[:, 0]
        combined = torch.tanh(linear(torch.cat([query, context], dim=1), weights.combine))
    logits = linear(combined, weights.output)
    probs, ids = top_pieces(logits, top_k, weights.output_pieces)
    return StepOutput(query, scores, attention, context, combined, logits, new_h, new_c, probs, ids)


def decoder_step_tuple(
    prev: Tensor,
    h: Tensor,
    c: Tensor,
    keys: Tensor,
    values: Tensor,
    blocked: Tensor | None,
    weights: StepWeights,
    top_k: int,
) -> tuple[Tensor, Tensor, Tensor, Tensor | None, Tensor | None, Tensor, Tensor]:
    """``decoder_step`` as its compiled form returns it to Python: logits, h, c, attention, scores, top_probs, top_ids.

    A plain tuple, because TorchScript makes a new Python class for every NamedTuple it returns (docs/performance.md).
    """
    out = decoder_step(prev, h, c, keys, values, blocked, weights, top_k)
    return out.logits, out.h, out.c, out.attention, out.scores, out.top_probs, out.top_ids


def greedy_loop(
    prev: Tensor,
    h: Tensor,
    c: Tensor,
    keys: Tensor,
    values: Tensor,
    blocked: Tensor | None,
    weights: StepWeights,
    top_k: int,
    limits: Tensor,
    eos: int,
) -> tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor], list[Tensor]]:
    """Greedy decoding of B sentences with ``decoder_step``, the loop compiled too (search.py's Python loop, step
    for step: at batch 1 its bookkeeping cost as much as a third of the step). Models with attention only.

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
        out = decoder_step(prev, h, c, keys, values, blocked, weights, top_k)
        attention, scores = out.attention, out.scores
        assert attention is not None and scores is not None
        h, c = out.h, out.c
        kept_rows.append(rows)
        top_ids.append(out.top_ids)
        top_probs.append(out.top_probs)
        all_attention.append(attention)
        all_scores.append(scores)
        prev = out.top_ids[:, 0]
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


def _bridge_one(final: Tensor, weight: Packed, directions: int, layers: int) -> Tensor:
    """final (layers_enc * directions, B, H_enc) -> tanh(W [top layer's directions] + b) (layers, B, H_dec)."""
    batch = final.size(1)
    top = final[-directions:].transpose(0, 1).reshape(batch, -1)
    return torch.tanh(linear(top, weight)).view(batch, layers, -1).transpose(0, 1).contiguous()


def bridge(
    final_h: Tensor, final_c: Tensor, weight_h: Packed, weight_c: Packed, directions: int, layers: int
) -> tuple[Tensor, Tensor]:
    """Encoder.bridge for decoding: the encoder's final (h, c) -> the decoder's initial state.

    Once per sentence, but from Python its dozen calls cost several times the compiled version's time.
    """
    return _bridge_one(final_h, weight_h, directions, layers), _bridge_one(final_c, weight_c, directions, layers)


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


_fallback_reason: str | None = None


@functools.cache
def compiled() -> dict | None:
    """{"decoder_step", "greedy_loop", "bridge"} compiled once per process; None (with a warning) if that failed."""
    global _fallback_reason
    try:
        with warnings.catch_warnings():  # the deprecation notice: see the module docstring
            warnings.simplefilter("ignore")
            functions = {
                "decoder_step": torch.jit.script(decoder_step_tuple),
                "greedy_loop": torch.jit.script(greedy_loop),
                "bridge": torch.jit.script(bridge),
            }
    except Exception as error:  # any failure means: decode from Python, and say why
        _fallback_reason = f"TorchScript could not compile the decoding kernels ({type(error).__name__}: {error})"
        warnings.warn(f"{_fallback_reason}; int8 decoding runs them from Python (slower, same numbers)", stacklevel=2)
        return None
    _fallback_reason = None
    return functions


def fallback_reason() -> str | None:
    """Why ``compiled()`` returned None (None when it compiled, or before it was first called)."""
    return _fallback_reason
