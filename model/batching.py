"""Training pairs -> length-sorted batches of piece ids, rebuilt each epoch when a technique varies them."""

from __future__ import annotations

import random
from collections import Counter

import sentencepiece as spm
import torch

from .augment import concatenated_pairs
from .config import TrainConfig
from .data import Pair
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, Tokenizer

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # src (B, S), lengths (B,), prev, gold (B, T)


def make_batches(
    pairs: list[Pair],
    source: Tokenizer,
    target: Tokenizer,
    batch_tokens: int,
    max_len: int,
    alpha: float = 0.0,
    allowed: frozenset[int] | None = None,
) -> list[Batch]:
    """Length-sorted batches of about ``batch_tokens`` target tokens (little padding).

    With ``alpha`` > 0 each sentence gets a sampled segmentation (``Tokenizer.encode_sampled``); target samples
    keep to the ``allowed`` pieces, those the output layer can write.
    """
    if alpha:
        src_ids = [source.encode_sampled(en, alpha) for en, _ in pairs]
        tgt_ids = [target.encode_sampled(es, alpha, allowed) for _, es in pairs]
    else:
        src_ids = source.encode_batch([en for en, _ in pairs])
        tgt_ids = target.encode_batch([es for _, es in pairs])
    items = [([*s[: max_len - 1], EOS_ID], [*t[: max_len - 1], EOS_ID]) for s, t in zip(src_ids, tgt_ids) if s and t]
    items.sort(key=lambda st: (len(st[0]), len(st[1])))
    batches, current = [], []
    for item in items:
        longest = max([len(item[1])] + [len(t) for _, t in current])
        if current and longest * (len(current) + 1) > batch_tokens:
            batches.append(_collate(current))
            current = []
        current.append(item)
    if current:
        batches.append(_collate(current))
    return batches


def _collate(items) -> Batch:
    src = torch.full((len(items), max(len(s) for s, _ in items)), PAD_ID, dtype=torch.long)
    gold = torch.full((len(items), max(len(t) for _, t in items)), PAD_ID, dtype=torch.long)
    for row, (s, t) in enumerate(items):
        src[row, : len(s)] = torch.tensor(s)
        gold[row, : len(t)] = torch.tensor(t)
    prev = torch.cat([torch.full((len(items), 1), BOS_ID, dtype=torch.long), gold[:, :-1]], 1)
    prev = prev.masked_fill(prev == EOS_ID, PAD_ID)  # EOS is never an input
    return src, torch.tensor([len(s) for s, _ in items]), prev, gold


def seen_pieces(batches: list[Batch]) -> torch.Tensor:
    """The target piece ids that occur in the training targets (EOS included), sorted."""
    pieces = torch.cat([gold.flatten() for *_, gold in batches]).unique()
    return pieces[pieces != PAD_ID]


def varies_by_epoch(config: TrainConfig) -> bool:
    """Whether the batches differ from epoch to epoch (fresh joins, fresh segmentations)."""
    return bool(config.concat_share or config.subword_alpha)


def epoch_batches(
    config: TrainConfig,
    pairs: list[Pair],
    source: Tokenizer,
    target: Tokenizer,
    epoch: int,
    max_len: int,
    allowed: frozenset[int] | None,
) -> tuple[list[Batch], dict]:
    """The batches of ``epoch`` (0-based) with this run's techniques, and counts of what was added or skipped.

    Seeded by (seed, epoch) apart from the global generators, so a resumed run rebuilds the same batches and a
    run without techniques draws the same random numbers as before they existed.
    """
    stats: dict = {}
    if config.concat_share:
        rng = random.Random(f"{config.seed}/{epoch}")
        augmented = concatenated_pairs(pairs, config.concat_share, rng, config.max_chars)
        pairs = pairs + augmented.pairs
        stats = {"concatenated": len(augmented.pairs), "concat_skipped": dict(Counter(augmented.skipped))}
    if config.subword_alpha:
        spm.set_random_generator_seed(config.seed * 1000 + epoch)
    batches = make_batches(pairs, source, target, config.batch_tokens, max_len, config.subword_alpha, allowed)
    return batches, stats
