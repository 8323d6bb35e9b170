"""model/translator.py: the public Translator interface."""

from __future__ import annotations

import json

import pytest
from conftest import check_translation


def test_public_interface(tiny_translator, tiny_translator_exact):
    result = tiny_translator.translate("I see the big cat.", beam_size=1)
    check_translation(result)
    assert result.source_tokens[-1] == "</s>" and result.target_tokens[-1] == "</s>"
    assert all(len(step) == 5 and step[0][1] >= step[-1][1] for step in result.steps)
    beam = tiny_translator.translate("I see the big cat.", beam_size=4)
    check_translation(beam)
    batch = tiny_translator_exact.translate_batch(["They have a red house.", "", "We see the book."], beam_size=1)
    assert [r.text for r in batch][1] == ""
    assert batch[0].text == tiny_translator_exact.translate("They have a red house.").text
    assert tiny_translator.int8 and not tiny_translator_exact.int8
    json.dumps(result.to_dict())


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "\x00", "<b>x</b>", "🙂🙂", "مرحبا بالعالم", "e\u0301\u0301", "?!..."]
)
def test_bad_input_never_raises(tiny_translator, text):
    result = tiny_translator.translate(text, beam_size=3)
    check_translation(result)
    if not text.strip() or text == "\x00":
        assert result.text == "" and result.target_tokens == []


@pytest.mark.parametrize("max_length", [-3, 0, 1, 2])
@pytest.mark.parametrize("beam_size", [1, 3])
def test_any_length_limit_is_safe(tiny_translator, max_length, beam_size):
    result = tiny_translator.translate("I see the cat.", beam_size=beam_size, max_length=max_length)
    check_translation(result)
    assert len(result.target_tokens) <= max(max_length, 1) or max_length == 0  # 0 means "the default"


def test_long_input_is_truncated_and_says_so(tiny_translator):
    result = tiny_translator.translate("I see the cat. " * 200)
    assert result.truncated and "truncated" in result.notes[0]
    assert len(result.source_tokens) == tiny_translator.max_input_tokens + 1
    check_translation(result)
