"""model/search.py: greedy and beam search."""

from __future__ import annotations

import pytest
import torch
from conftest import SMALL, padded_batch

from model.config import ModelConfig
from model.inference import Inference
from model.search import beam_search, greedy_search
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
