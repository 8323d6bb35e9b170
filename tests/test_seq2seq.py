"""model/seq2seq.py: the training network's shapes and that it learns."""

from __future__ import annotations

import pytest
import torch
from conftest import SMALL, padded_batch

from model.config import ModelConfig
from model.inference import Inference
from model.search import greedy_search
from model.seq2seq import Seq2Seq


@pytest.mark.parametrize("kind", ["cosine", "dot", "general", "additive", "none"])
def test_forward_shapes(kind):
    model = Seq2Seq(ModelConfig(**SMALL, attention=kind))
    src, lengths = padded_batch([5, 3, 7])
    prev = torch.randint(4, 40, (3, 6))
    out = model(src, lengths, prev)
    assert out.logits.shape == (3, 6, 40)
    if kind == "none":
        assert out.attention is None and out.scores is None
    else:
        assert out.attention.shape == out.scores.shape == (3, 6, 7)
        assert torch.all(out.attention[1, :, 3:] == 0)


def test_tiny_model_overfits_one_batch():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(**SMALL, dropout=0.0))
    src, lengths = padded_batch([6, 4, 5, 6])
    gold = torch.randint(4, 40, (4, 5))
    gold[:, -1] = 3
    prev = torch.cat([torch.full((4, 1), 2), gold[:, :-1]], 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = torch.nn.functional.cross_entropy(model(src, lengths, prev).logits.reshape(-1, 40), gold.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    model.eval()
    hypotheses = greedy_search(Inference(model), src, lengths, max_len=10)
    assert [h.tokens for h in hypotheses] == gold.tolist()
