"""model/search.py: greedy and beam search."""

from __future__ import annotations

import pytest
import torch
from conftest import SMALL, padded_batch

from model import search
from model.config import ModelConfig
from model.inference import Inference
from model.search import beam_search, coverage_penalty, greedy_search
from model.seq2seq import Seq2Seq


@pytest.mark.parametrize("kind", ["cosine", "none"])
def test_beam_one_equals_greedy(kind):
    torch.manual_seed(1)
    model = Seq2Seq(ModelConfig(**SMALL, attention=kind)).eval()
    for length in (3, 6, 9):
        src, lengths = padded_batch([length])
        greedy = greedy_search(Inference(model), src, lengths, max_len=12)[0]
        beam = beam_search(Inference(model), src, lengths, beam_size=1, max_len=12)
        assert beam.tokens == greedy.tokens
        if kind != "none":
            torch.testing.assert_close(beam.attention, greedy.attention)


def test_beam_search_returns_attention_of_the_chosen_hypothesis():
    torch.manual_seed(2)
    model = Seq2Seq(ModelConfig(**SMALL)).eval()
    src, lengths = padded_batch([6])
    hypothesis = beam_search(Inference(model), src, lengths, beam_size=4, max_len=9)
    steps = len(hypothesis.tokens)
    assert hypothesis.attention.shape == (steps, 6) and hypothesis.scores.shape == (steps, 6)
    assert hypothesis.top_probs.shape == (steps, 5)
    torch.testing.assert_close(hypothesis.attention.sum(-1), torch.ones(steps))
    # the recorded history is this hypothesis's own: replaying its tokens gives the same attention
    prev = torch.tensor([[2, *hypothesis.tokens[:-1]]])
    replay = model(src, lengths, prev)
    torch.testing.assert_close(replay.attention[0], hypothesis.attention, rtol=1e-4, atol=1e-5)


def test_batched_greedy_matches_one_by_one():
    torch.manual_seed(3)
    model = Seq2Seq(ModelConfig(**SMALL)).eval()
    src, lengths = padded_batch([7, 2, 5])
    together = greedy_search(Inference(model), src, lengths, max_len=8)
    for row in range(3):
        alone = greedy_search(Inference(model), src[row : row + 1, : lengths[row]], lengths[row : row + 1], max_len=8)[
            0
        ]
        assert alone.tokens == together[row].tokens
        torch.testing.assert_close(alone.attention, together[row].attention, rtol=1e-4, atol=1e-5)


def test_coverage_penalty_is_zero_when_every_source_token_is_read():
    attention = torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 1.0]])  # each column sums to >= 1
    assert coverage_penalty(attention, beta=0.4) == 0.0
    assert coverage_penalty(None, beta=0.4) == 0.0


def test_coverage_penalty_grows_with_the_attention_a_token_missed():
    read_once = torch.tensor([[0.9, 0.1], [0.9, 0.1]])  # the second token received 0.2 in all
    never_read = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert coverage_penalty(read_once, beta=1.0) == pytest.approx(torch.tensor(0.2).log().item())
    assert coverage_penalty(never_read, beta=1.0) < coverage_penalty(read_once, beta=1.0) < 0
    assert coverage_penalty(read_once, beta=0.0) == 0.0


def test_beam_with_a_coverage_penalty_still_returns_one_finished_hypothesis():
    torch.manual_seed(4)
    model = Seq2Seq(ModelConfig(**SMALL)).eval()
    src, lengths = padded_batch([6])
    plain = beam_search(Inference(model), src, lengths, beam_size=4, max_len=9, beta=0.0)
    covered = beam_search(Inference(model), src, lengths, beam_size=4, max_len=9, beta=5.0)
    assert len(covered.attention) == len(covered.tokens) <= 9
    strength = coverage_penalty(covered.attention, 5.0) - coverage_penalty(plain.attention, 5.0)
    assert strength >= 0  # the chosen hypothesis covers the source at least as well


def test_alpha_and_beta_only_reorder_what_the_search_finished(monkeypatch):
    """bench/quality.py scores many (alpha, beta) from one search: each must equal a search of its own."""
    torch.manual_seed(5)
    model = Seq2Seq(ModelConfig(**SMALL)).eval()
    with torch.no_grad():  # an untrained model rarely ends a sentence: make </s> likely, so hypotheses finish
        model.decoder.output.bias[model.config.eos_id] = 2.5
    src, lengths = padded_batch([7])
    finished = []
    original = search.best_finished
    monkeypatch.setattr(search, "best_finished", lambda h, a, b: finished.append(list(h)) or original(h, a, b))
    beam_search(Inference(model), src, lengths, beam_size=4, max_len=10)
    monkeypatch.setattr(search, "best_finished", original)
    for alpha, beta in [(0.0, 0.0), (1.0, 0.5), (2.0, 3.0)]:
        alone = beam_search(Inference(model), src, lengths, beam_size=4, max_len=10, alpha=alpha, beta=beta)
        assert original(finished[0], alpha, beta).tokens == alone.tokens
    assert len(finished[0]) > 1 and len({tuple(h.tokens) for h in finished[0]}) > 1  # there was a choice
