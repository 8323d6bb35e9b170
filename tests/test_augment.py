"""model/augment.py: concatenation augmentation keeps both sides aligned and survives odd pairs."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from model.augment import concatenated_pairs

PAIRS = [(f"I see {i} dogs.", f"Veo {i} perros.") for i in range(50)]


def test_joins_two_or_three_pairs_on_both_sides_in_the_same_order():
    augmented = concatenated_pairs(PAIRS, 0.2, random.Random(0), max_chars=300)
    assert len(augmented.pairs) == 10 and not augmented.skipped
    for en, es in augmented.pairs:
        numbers_en = [word for word in en.split() if word.isdigit()]
        numbers_es = [word for word in es.split() if word.isdigit()]
        assert numbers_en == numbers_es and 2 <= len(numbers_en) <= 3


def test_same_seed_same_pairs_and_zero_share_adds_none():
    first = concatenated_pairs(PAIRS, 0.3, random.Random(7), 300).pairs
    assert first == concatenated_pairs(PAIRS, 0.3, random.Random(7), 300).pairs
    assert concatenated_pairs(PAIRS, 0.0, random.Random(7), 300).pairs == []


def test_odd_pairs_are_counted_never_fatal():
    odd = [("", "Vacío."), ("Empty.", " "), ("x" * 200, "y" * 200), ("Ok.", "Vale."), ("canciÃ³n", "canción")]
    augmented = concatenated_pairs(odd, 1.0, random.Random(1), max_chars=300)
    assert augmented.skipped["empty side"] == 2
    assert all(len(en) <= 300 and len(es) <= 300 for en, es in augmented.pairs)
    assert sum(augmented.skipped.values()) + len(augmented.pairs) == 5 + 2  # every join accounted for
    assert concatenated_pairs([("Solo.", "Solo.")], 1.0, random.Random(1), 300).pairs == []  # too few to join


@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=40)), max_size=20), st.floats(0, 1))
def test_any_pairs_any_share_never_crash(pairs, share):
    augmented = concatenated_pairs(pairs, share, random.Random(3), max_chars=60)
    assert all(len(en) <= 60 and len(es) <= 60 for en, es in augmented.pairs)
