"""model/coverage.py: attention received per source word, content words, the flag."""

from __future__ import annotations

import numpy as np
import pytest

from model.coverage import content_key, is_content_word, word_coverage

SOURCE = ["▁Tom", "'", "s", "▁red", "▁house", ".", "</s>"]


@pytest.mark.parametrize(
    ("word", "content"),
    [("Tom's", True), ("house.", True), ("don't", False), ("can't", False), ("The", False), ("I", False)],
)
def test_content_words_skip_function_words(word, content):
    assert is_content_word(word) is content


def test_content_key_strips_punctuation_and_clitics():
    assert content_key("“Tom's,”") == "tom"
    assert content_key("won't") == "will"
    assert not is_content_word("...") and not is_content_word("—") and is_content_word("2011")


def test_coverage_sums_each_words_attention_over_all_steps():
    attention = np.array(
        [[0.7, 0.1, 0.0, 0.1, 0.0, 0.0, 0.1], [0.0, 0.0, 0.0, 0.1, 0.1, 0.1, 0.7], [0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.8]]
    )
    words = word_coverage(SOURCE, attention, threshold=0.5)
    assert [w.word for w in words] == ["Tom's", "red", "house.", "</s>"]
    assert [w.pieces for w in words] == [[0, 1, 2], [3], [4, 5], [6]]
    np.testing.assert_allclose([w.coverage for w in words], [0.8, 0.2, 0.4, 1.6])
    assert sum(w.coverage for w in words) == pytest.approx(len(attention))  # each step hands out 1
    assert [w.content for w in words] == [True, True, True, False]
    assert [w.flagged for w in words] == [False, True, True, False]  # </s> is never flagged
    assert not any(w.flagged for w in word_coverage(SOURCE, attention, threshold=None))


def test_unknown_pieces_are_not_content_words():
    words = word_coverage(["▁", "<unk>", "▁cat", "<unk>", "</s>"], np.full((1, 5), 0.2), threshold=0.5)
    assert [(w.word, w.content, w.flagged) for w in words] == [
        ("<unk>", False, False),
        ("cat<unk>", True, True),
        ("</s>", False, False),
    ]


def test_coverage_without_attention_or_source_is_empty():
    assert word_coverage(SOURCE, None, 0.5) == []
    assert word_coverage([], np.zeros((0, 0)), 0.5) == []
    assert [w.coverage for w in word_coverage(SOURCE, np.zeros((0, len(SOURCE))), 0.5)] == [0.0] * 4


def test_word_coverage_dict_is_rounded():
    words = word_coverage(["▁go", "</s>"], np.array([[0.123456, 0.876544]]), 0.95)
    assert words[0].to_dict() == {"word": "go", "pieces": [0], "coverage": 0.1235, "content": True, "flagged": True}
