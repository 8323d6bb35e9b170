"""model/steps.py: every step's numbers replayed, the written piece's rank, the beam's reason."""

from __future__ import annotations

import numpy as np
import torch

from model.steps import beam_note, replay, written_ranks

CANDIDATES = [("▁diera", 0.395), ("▁dé", 0.32), ("▁da", 0.1)]


def test_written_ranks_find_the_written_piece_among_the_candidates():
    steps = [CANDIDATES, CANDIDATES, CANDIDATES]
    assert written_ranks(["▁diera", "▁dé", "▁x"], steps) == [0, 1, -1]


def test_beam_note_says_why_a_lower_candidate_was_written():
    assert beam_note("▁diera", 0, CANDIDATES, 5) is None
    note = beam_note("▁dé", 1, CANDIDATES, 5)
    assert "“▁dé” (32.0%, candidate 2)" in note and "“▁diera” (39.5%)" in note
    assert "5 most probable partial translations" in note and "length penalty" in note
    assert "outside this step's top 3" in beam_note("▁x", -1, CANDIDATES, 4)


def test_replay_reproduces_greedy_decoding(tiny_translator_exact):
    """Feeding the written pieces back gives each step's attention and the written piece as the top logit."""
    translator = tiny_translator_exact
    result = translator.translate("I have the big book.")
    source_ids = [*translator.source.encode(result.source_text), translator.config.eos_id]
    written = translator.target.sp.piece_to_id(result.target_tokens)
    parts = replay(translator.inference, source_ids, [translator.config.bos_id, *written[:-1]])
    attention = torch.cat([part.attention for part in parts]).numpy()
    np.testing.assert_allclose(attention, result.attention, atol=1e-5)
    columns = [int(part.logits.argmax()) for part in parts]
    assert translator.inference.pieces(torch.tensor(columns)).tolist() == written
