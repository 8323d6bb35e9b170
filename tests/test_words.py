"""model/words.py: SentencePiece pieces grouped into words."""

from __future__ import annotations

from model.words import word_groups, word_label

SOURCE = ["▁the", "▁cat", "'", "s", "▁the", "▁", "toy", ".", "</s>"]  # "the cat's the toy." with a repeated "▁the"


def test_word_groups_follow_the_space_marker():
    assert word_groups(["▁Let", "'", "s", "▁go", ".", "</s>"]) == [[0, 1, 2], [3, 4], [5]]
    groups = word_groups(SOURCE)
    assert [word_label(SOURCE, g) for g in groups] == ["the", "cat's", "the", "toy.", "</s>"]


def test_word_groups_edge_cases():
    assert word_groups([]) == []
    assert word_groups(["ab", "c", "▁d"]) == [[0, 1], [2]]  # pieces before the first "▁" form a word
    assert word_groups(["▁a", "</s>", "b"]) == [[0], [1], [2]]  # nothing glues onto the end marker
    assert word_label(["▁"], [0]) == "▁"  # a lone marker stays visible instead of an empty label
