"""model/translator.py: the public Translator interface."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from answer_checks import NEW_KEYS, check_step_details
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


# --- the API answer (CONTRACT item 2): every key, shapes that agree, numbers that are finite ------------------


@pytest.mark.parametrize("beam_size", [1, 3])
def test_api_answer_has_every_contract_key(tiny_translator, beam_size):
    result = tiny_translator.translate("I see the big cat.", beam_size=beam_size, details=True)
    answer = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert NEW_KEYS | {"coverage_threshold"} <= set(answer)
    assert answer["score_function"] == "cosine" and answer["temperature"] > 0
    assert answer["search"] == {
        "decoding": "greedy" if beam_size == 1 else "beam",
        "beam_size": beam_size,
        "max_length": 2 * len(answer["source_tokens"]) + 10,
    }
    assert answer["stop_reason"] == "eos" and answer["unknown_pieces"] == []
    check_step_details(answer, tiny_translator.config)
    if beam_size == 1:  # greedy writes the top candidate, so there is nothing to explain
        assert all(s["written_rank"] == 0 and s["beam_note"] is None for s in answer["step_details"])
    words = answer["coverage"]
    assert [w["word"] for w in words][-1] == "</s>"
    assert sum(w["coverage"] for w in words) == pytest.approx(len(answer["target_tokens"]), abs=1e-2)
    assert sorted(i for w in words for i in w["pieces"]) == list(range(len(answer["source_tokens"])))


def test_replayed_steps_are_the_decoded_ones(tiny_translator_exact):
    """step_details replays the written pieces: in float32 its attention is the decoding's own."""
    result = tiny_translator_exact.translate("We have the red house.", details=True)
    np.testing.assert_allclose(result.step_details.attention, result.attention, atol=1e-5)
    np.testing.assert_allclose(result.step_details.scores, result.scores, atol=1e-4)


def test_details_are_opt_in(tiny_translator):
    assert tiny_translator.translate("I see the cat.").to_dict()["step_details"] is None
    batch = tiny_translator.translate_batch(["I see the cat.", ""])
    assert all(r.step_details is None for r in batch)
    empty = tiny_translator.translate("", details=True).to_dict()
    assert empty["step_details"] == [] and empty["coverage"] == [] and empty["stop_reason"] == "eos"


def test_length_limit_is_reported(tiny_translator):
    result = tiny_translator.translate("I see the big cat.", max_length=2, details=True)
    assert result.stop_reason == "length" and result.target_tokens[-1] != "</s>"
    assert any("length limit of 2 pieces" in note for note in result.notes)
    assert result.to_dict()["search"]["max_length"] == 2
    assert len(result.to_dict()["step_details"]) == 2


def test_unknown_characters_are_named(tiny_translator):
    result = tiny_translator.translate("I see 🙂 the <b>cat</b> 日本.")
    assert {"🙂", "<", ">", "日本"} <= set(result.unknown_pieces)
    assert len(result.unknown_pieces) == len(set(result.unknown_pieces))
    assert any("<unk>" in note and "🙂" in note for note in result.notes)
    assert tiny_translator.translate("I see the cat.").notes == []


@pytest.mark.parametrize("kind", ["cosine", "dot", "general", "additive", "none"])
@pytest.mark.parametrize("int8", [True, False])
def test_step_details_for_every_score_function(tiny_translator, kind, int8):
    """Untrained networks of every attention kind, sized for the tiny tokenizers."""
    from model import Translator
    from model.config import ModelConfig
    from model.seq2seq import Seq2Seq

    torch.manual_seed(3)
    sizes = dict(embed_dim=16, encoder_hidden=12, decoder_hidden=24, combine_dim=20, shared_embeddings=False)
    config = ModelConfig(
        src_vocab_size=len(tiny_translator.source), tgt_vocab_size=len(tiny_translator.target), attention=kind, **sizes
    )
    translator = Translator(
        Seq2Seq(config), tiny_translator.source, tiny_translator.target, torch.device("cpu"), Path("."), int8=int8
    )
    for beam_size in (1, 3):
        answer = translator.translate("We see a red house.", beam_size=beam_size, max_length=6, details=True).to_dict()
        json.dumps(answer, allow_nan=False)
        assert answer["score_function"] == kind
        assert (answer["temperature"] is None) == (kind != "cosine")
        assert (answer["coverage_threshold"] is None) == (kind == "none")
        check_step_details(answer, config)
