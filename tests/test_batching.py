"""model/batching.py and model/objective.py: batches per epoch with the techniques, and the coverage term."""

from __future__ import annotations

import torch

from model.batching import epoch_batches, make_batches, varies_by_epoch
from model.config import TrainConfig
from model.objective import under_coverage
from model.tokenizer import EOS_ID, PAD_ID


def _pairs():
    from conftest import synthetic_pairs

    return synthetic_pairs()[:60]


def _tokenizers(tiny_model):
    from model.checkpoint import load_model

    _, source, target, _ = load_model(tiny_model)
    return source, target


def test_batches_hold_every_pair_once_with_eos_and_respect_the_token_budget(tiny_model):
    source, target = _tokenizers(tiny_model)
    batches = make_batches(_pairs(), source, target, batch_tokens=200, max_len=100)
    assert sum(src.size(0) for src, *_ in batches) == 60
    for src, lengths, prev, gold in batches:
        assert gold.numel() <= 200 or gold.size(0) == 1
        assert (gold.gather(1, (gold != PAD_ID).sum(1, keepdim=True) - 1) == EOS_ID).all()
        assert not (prev == EOS_ID).any() and torch.equal(lengths, (src != PAD_ID).sum(1))


def test_techniques_vary_batches_by_epoch_reproducibly(tiny_model):
    source, target = _tokenizers(tiny_model)
    config = TrainConfig(concat_share=0.5, subword_alpha=0.1, batch_tokens=400, seed=5)
    assert varies_by_epoch(config) and not varies_by_epoch(TrainConfig())
    allowed = frozenset(range(4, len(target)))
    first, stats = epoch_batches(config, _pairs(), source, target, 0, 100, allowed)
    again, _ = epoch_batches(config, _pairs(), source, target, 0, 100, allowed)
    other, _ = epoch_batches(config, _pairs(), source, target, 1, 100, allowed)
    assert stats["concatenated"] == 30 and sum(src.size(0) for src, *_ in first) == 90
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[3], b[3]) for a, b in zip(first, again))
    assert any(a[0].shape != b[0].shape or not torch.equal(a[0], b[0]) for a, b in zip(first, other))


def test_sampled_targets_keep_to_the_pieces_the_output_layer_can_write(tiny_model):
    target = _tokenizers(tiny_model)[1]
    text = "Nosotros tenemos el perro grande."
    allowed = frozenset(target.encode(text))
    for _ in range(20):
        assert set(target.encode_sampled(text, 0.01, allowed)) <= allowed
    assert target.decode(target.encode_sampled(text, 0.01)) == text


def test_under_coverage_penalises_only_source_tokens_left_unattended():
    attention = torch.tensor([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])  # (B=1, T=2, S=3): token 1 never attended
    source_mask = torch.tensor([[True, True, False]])  # token 2 is padding
    target_mask = torch.tensor([[True, True]])
    assert under_coverage(attention, source_mask, target_mask).item() == 0.5  # (0 + 1) / 2 real tokens
    spread = torch.tensor([[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]])
    assert under_coverage(spread, source_mask, target_mask).item() == 0.0
