"""Decoding: batched greedy search and beam search, both recording every step.

Each step keeps what the page shows: the scores fed to softmax, the
attention (softmax weights over the source), and the top-k next-token probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .inference import Inference


@dataclass
class Hypothesis:
    """One decoded sentence. T = emitted tokens (EOS included if emitted), S = source length."""

    tokens: list[int]
    log_prob: float
    attention: Tensor | None  # (T, S)
    scores: Tensor | None  # (T, S)
    top_ids: Tensor  # (T, k)
    top_probs: Tensor  # (T, k)


@dataclass
class _StepRecord:
    """What one greedy step computed for the sentences still decoding (``rows``, in batch order)."""

    rows: list[int]
    top_ids: Tensor  # (b, k); column 0 is the emitted token
    top_probs: Tensor  # (b, k)
    attention: Tensor | None  # (b, S)
    scores: Tensor | None  # (b, S)


def _hypotheses(records: list[_StepRecord], lengths: list[int]) -> list[Hypothesis]:
    """Regroup step-major records into one history per sentence, with a handful of tensor calls."""
    one = len(lengths) == 1  # a single sentence's records are in order already (the app's case: ~40 us saved)
    if not one:
        rows = [row for record in records for row in record.rows]
        order = sorted(range(len(rows)), key=rows.__getitem__)  # stable: each sentence's steps stay in order
        counts = [0] * len(lengths)
        for row in rows:
            counts[row] += 1
        index = torch.tensor(order, device=records[0].top_ids.device)

    def per_sentence(name: str) -> list[Tensor] | list[None]:
        parts = [getattr(record, name) for record in records]
        if parts[0] is None:
            return [None] * len(lengths)
        joined = torch.cat(parts)
        return [joined] if one else list(joined.index_select(0, index).split(counts))

    top_ids, top_probs = per_sentence("top_ids"), per_sentence("top_probs")
    attention, scores = per_sentence("attention"), per_sentence("scores")
    return [
        Hypothesis(
            tokens=top_ids[b][:, 0].tolist(),
            log_prob=float(top_probs[b][:, 0].log().sum()),
            attention=None if attention[b] is None else attention[b][:, : lengths[b]],
            scores=None if scores[b] is None else scores[b][:, : lengths[b]],
            top_ids=top_ids[b],
            top_probs=top_probs[b],
        )
        for b in range(len(lengths))
    ]


@torch.inference_mode()
def greedy_search(
    inference: Inference, src: Tensor, lengths: Tensor, max_len: int | Tensor, top_k: int = 5
) -> list[Hypothesis]:
    """Emit the most probable token at every step, for a whole batch at once.

    src (B, S) ids, lengths (B,). ``max_len`` is one step limit or one per
    sentence (B,), so a sentence decodes the same alone or in any batch.
    Sentences that emit EOS or reach their limit leave the batch, so the
    remaining steps compute only what is still being written. With int8
    decoding and TorchScript the whole loop runs compiled (kernels.greedy_loop);
    otherwise step by step here, with plain Python lists for the bookkeeping.
    Both give the same tokens (tested).
    """
    limits = torch.as_tensor(max_len).expand(src.size(0)).clamp(min=1)
    memory, state = inference.encode(src, lengths)
    prev = torch.full((src.size(0),), inference.config.bos_id, dtype=torch.long, device=src.device)
    if inference.compiled_greedy is not None and top_k > 0:
        rows, *outputs = inference.greedy_steps(prev, state, memory, limits.to(src.device), top_k)
        records = [_StepRecord(r.tolist(), *step) for r, *step in zip(rows, *outputs)]
    else:
        records = _greedy_records(inference, prev, state, memory, limits.tolist(), top_k)
    return _hypotheses(records, lengths.tolist())


def _greedy_records(inference: Inference, prev: Tensor, state, memory, limits: list[int], top_k: int):
    """The greedy loop step by step in Python: float32, additive attention, no attention, or no TorchScript."""
    eos = inference.config.eos_id
    active = list(range(prev.size(0)))  # batch rows still decoding
    records: list[_StepRecord] = []
    for step in range(max(limits)):
        out = inference.step(prev, state, memory, max(top_k, 1))
        records.append(_StepRecord(active, out.top_ids, out.top_probs, out.attention, out.scores))
        emitted = out.top_ids[:, 0]
        going = [j for j, token in enumerate(emitted.tolist()) if token != eos and limits[active[j]] > step + 1]
        if not going:
            break
        state, prev = out.state, emitted
        if len(going) < len(active):
            keep = torch.tensor(going, device=prev.device)
            active = [active[j] for j in going]
            memory, prev = memory.index_select(keep), prev[keep]
            state = (state[0][:, keep], state[1][:, keep])
    return records


# The beam's coverage penalty weight, chosen on dev (docs/results.md#coverage-penalty): 0.1 kept dev BLEU (44.05
# against 44.01 without) and lifted BLEU on long inputs made of three dev sentences from 12.2 to 16.0.
COVERAGE_BETA = 0.1


def length_penalty(length: int, alpha: float) -> float:
    """GNMT length penalty ((5 + length) / 6) ** alpha; alpha = 0 ranks by raw log-probability."""
    return ((5.0 + length) / 6.0) ** alpha


def coverage_penalty(attention: Tensor | None, beta: float) -> float:
    """GNMT coverage penalty (Wu et al. 2016): beta * sum over source tokens of log(min(attention received, 1)).

    attention (T, S). It is 0 when every source token received a total attention of at least 1 and more negative
    the more a token was left unread, so a finished hypothesis that skipped part of the source ranks lower.
    """
    if attention is None or beta == 0.0:
        return 0.0
    received = attention.float().sum(0).clamp(min=1e-6, max=1.0)  # clamp: a token never read costs log(1e-6)
    return beta * float(received.log().sum())


def rank(hypothesis: Hypothesis, alpha: float, beta: float) -> float:
    """What finished hypotheses are ranked by: log-probability / length_penalty + coverage_penalty."""
    length = length_penalty(len(hypothesis.tokens), alpha)
    return hypothesis.log_prob / length + coverage_penalty(hypothesis.attention, beta)


def best_finished(finished: list[Hypothesis], alpha: float, beta: float) -> Hypothesis:
    """The best-ranked finished hypothesis (the first of equals). alpha and beta only reorder what the search found,
    so bench/quality.py scores many of them from one search."""
    return max(finished, key=lambda hypothesis: rank(hypothesis, alpha, beta))


@dataclass
class _Beams:
    """The alive hypotheses of one sentence; every tensor has the beam as first dimension."""

    tokens: Tensor  # (k, t)
    log_probs: Tensor  # (k,)
    attention: Tensor | None  # (k, t, S)
    scores: Tensor | None
    top_ids: Tensor  # (k, t, top_k)
    top_probs: Tensor

    def extend(self, origin: Tensor, token: Tensor, log_prob: Tensor, step) -> _Beams:
        """Continue beams ``origin`` with ``token``; ``step`` holds this step's (k, ...) records."""
        attention, scores, top_ids, top_probs = step

        def grow(history: Tensor | None, new: Tensor | None) -> Tensor | None:
            return None if history is None else torch.cat([history[origin], new[origin].unsqueeze(1)], 1)

        return _Beams(
            torch.cat([self.tokens[origin], token.unsqueeze(1)], 1),
            log_prob,
            grow(self.attention, attention),
            grow(self.scores, scores),
            grow(self.top_ids, top_ids),
            grow(self.top_probs, top_probs),
        )

    def hypothesis(self, i: int) -> Hypothesis:
        return Hypothesis(
            tokens=self.tokens[i].tolist(),
            log_prob=float(self.log_probs[i]),
            attention=None if self.attention is None else self.attention[i],
            scores=None if self.scores is None else self.scores[i],
            top_ids=self.top_ids[i],
            top_probs=self.top_probs[i],
        )


@torch.inference_mode()
def beam_search(
    inference: Inference,
    src: Tensor,
    lengths: Tensor,
    beam_size: int,
    max_len: int,
    alpha: float = 1.0,
    top_k: int = 5,
    beta: float = COVERAGE_BETA,
) -> Hypothesis:
    """Beam search for one sentence (src (1, S)); returns the best finished hypothesis.

    Each step takes the 2k best continuations: those among the k best that
    end in EOS are set aside as finished, the best k others stay alive. The search ends when k
    hypotheses have finished or after ``max_len`` steps; finished ones are
    ranked by log-probability / length_penalty(alpha) + coverage_penalty(beta).
    """
    config = inference.config
    memory, state = inference.encode(src, lengths)
    k = beam_size
    source_len = src.size(1)
    memory = memory.index_select(torch.zeros(k, dtype=torch.long, device=src.device))
    state = (state[0].expand(-1, k, -1).contiguous(), state[1].expand(-1, k, -1).contiguous())
    empty = src.new_zeros((k, 0))
    with_attention = inference.attention is not None
    history = (lambda: src.new_zeros((k, 0, source_len), dtype=torch.float)) if with_attention else (lambda: None)
    beams = _Beams(
        tokens=empty,
        # only the first beam is alive at the start, so the k beams do not repeat each other
        log_probs=torch.tensor([0.0] + [float("-inf")] * (k - 1), device=src.device),
        attention=history(),
        scores=history(),
        top_ids=src.new_zeros((k, 0, top_k)),
        top_probs=src.new_zeros((k, 0, top_k), dtype=torch.float),
    )
    prev = torch.full((k,), config.bos_id, dtype=torch.long, device=src.device)
    finished: list[Hypothesis] = []
    for _ in range(max_len):
        out = inference.step(prev, state, memory)
        log_probs = torch.log_softmax(out.logits, dim=-1)  # (k, V_out): columns, not yet piece ids
        probs, columns = log_probs.exp().topk(top_k, dim=-1)
        ids = inference.pieces(columns)
        step = (out.attention, out.scores, ids, probs)
        vocab = log_probs.size(-1)
        candidates = (beams.log_probs.unsqueeze(1) + log_probs).view(-1)
        best, flat = candidates.topk(2 * k)
        origin, token = flat // vocab, inference.pieces(flat % vocab)
        is_eos = token == config.eos_id
        # an EOS counts only among the k best candidates (so beam 1 is exactly greedy)
        for i in torch.nonzero(is_eos[:k] & torch.isfinite(best[:k])).flatten().tolist():
            finished.append(beams.extend(origin[i : i + 1], token[i : i + 1], best[i : i + 1], step).hypothesis(0))
        if len(finished) >= k:
            break
        keep = torch.nonzero(~is_eos).flatten()[:k]
        beams = beams.extend(origin[keep], token[keep], best[keep], step)
        state = (out.state[0][:, origin[keep]], out.state[1][:, origin[keep]])
        prev = token[keep]
    if not finished:  # length limit reached: the best alive hypothesis, unfinished
        return beams.hypothesis(0)
    return best_finished(finished, alpha, beta)
