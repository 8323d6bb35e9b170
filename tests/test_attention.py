"""model/attention.py: the score functions, masking, cosine scaling."""

from __future__ import annotations

import pytest
import torch

from model.attention import SCORES, Attention


@pytest.mark.parametrize("kind", sorted(SCORES))
def test_attention_rows_sum_to_one_and_padding_gets_zero(kind):
    torch.manual_seed(0)
    layer = Attention(kind, query_dim=24, key_dim=10)
    values = torch.randn(3, 7, 10)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3, [True] + [False] * 6])
    query = torch.randn(3, 5, 24)
    context, attention, scores = layer(query, layer.project_keys(values), values, mask)
    assert context.shape == (3, 5, 10)
    assert attention.shape == scores.shape == (3, 5, 7)
    torch.testing.assert_close(attention.sum(-1), torch.ones(3, 5))
    assert torch.all(attention[1, :, 4:] == 0) and torch.all(attention[2, :, 1:] == 0)
    torch.testing.assert_close(context[2], values[2, :1].expand(5, -1))  # one real token: all weight on it


def test_cosine_scores_are_scaled_cosines():
    attention = Attention("cosine", query_dim=8, key_dim=8)
    keys_in = torch.randn(1, 4, 8)
    query = torch.randn(1, 1, 8)
    _, _, scores = attention(query, attention.project_keys(keys_in), keys_in, torch.ones(1, 4, dtype=torch.bool))
    cosine = torch.nn.functional.cosine_similarity(query[0], keys_in[0], dim=-1)
    torch.testing.assert_close(scores[0, 0], 10.0 * cosine, rtol=1e-4, atol=1e-4)
