"""Scoring, length buckets and the no-attention model through the public interface."""

from __future__ import annotations

import json

import pytest
from conftest import SHIPPED_NOATTN, tiny_train_settings

from model.evaluate import (
    TARGET_EDGES,
    Bucket,
    has_repeat,
    make_buckets,
    repeat_share,
    score,
    score_by_length,
    short_share,
)


def test_buckets_cover_every_length_once():
    words = [1] * 200 + [7] * 200 + [12] * 150 + [18] * 120 + [25] * 110
    buckets = make_buckets(words)
    assert [b.label for b in buckets] == ["1-5", "6-10", "11-15", "16-20", "21+"]
    for n in range(1, 60):
        assert sum(b.holds(n) for b in buckets) == 1


def test_small_buckets_merge_into_their_neighbour():
    words = [3] * 300 + [8] * 300 + [13] * 150 + [17] * 40 + [30] * 20
    assert [b.label for b in make_buckets(words)] == ["1-5", "6-10", "11+"]
    assert [b.label for b in make_buckets([2] * 5 + [8] * 300 + [14] * 200)] == ["1-10", "11+"]


def test_bucket_labels():
    assert Bucket(21, None).label == "21+" and Bucket(6, 10).label == "6-10"


def test_score_by_length_aggregates_per_bucket():
    sources = ["a b c", "a b c d e f g"] * 3
    references = ["el gato come pescado", "el perro come carne todos los días"] * 3
    hypotheses = ["el gato come pescado", "un perro bebe agua"] * 3
    result = score_by_length(sources, hypotheses, references, min_count=1)
    assert result["overall"]["sentences"] == 6
    short, long = result["buckets"]
    assert (short["words"], short["sentences"], short["bleu"]) == ("1-5", 3, 100.0)
    assert long["words"] == "6+" and long["sentences"] == 3 and long["bleu"] < 20
    assert result["overall"]["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")


def test_score_matches_sacrebleu_defaults():
    perfect = score(["Hola, ¿cómo estás hoy, amigo mío?"], ["Hola, ¿cómo estás hoy, amigo mío?"])
    assert perfect["bleu"] == 100.0 and perfect["chrf"] == 100.0


def test_no_attention_model_trains_and_answers_the_same_interface(tiny_corpus, tmp_path):
    from model import Translator
    from model.config import TrainConfig
    from model.train import fit

    fit(TrainConfig(**tiny_train_settings(tiny_corpus, tmp_path, attention="none", max_epochs=2, final_beam=0)))
    translator = Translator.load(tmp_path / "model", device="cpu")
    assert not translator.has_attention
    for beam in (1, 3):
        result = translator.translate("I see the cat.", beam_size=beam)
        assert result.attention is None and result.scores is None
        assert len(result.steps) == len(result.target_tokens)
    assert json.loads(json.dumps(translator.translate("Hi.").to_dict()))["attention"] is None
    assert translator.translate("").text == ""


def test_shipped_no_attention_model_loads():
    from model import Translator

    if not (SHIPPED_NOATTN / "model.safetensors").exists():
        pytest.fail(f"missing {SHIPPED_NOATTN}")
    translator = Translator.load(SHIPPED_NOATTN, device="cpu")
    result = translator.translate("Let's go.")
    assert result.attention is None and result.text


def test_short_share_counts_translations_under_the_ratio():
    references = ["uno dos tres cuatro cinco", "uno dos tres cuatro cinco"]
    assert short_share(["uno dos tres", "uno dos tres cuatro"], references) == 0.5  # 3 < 0.7 * 5 <= 4


def test_repeat_share_finds_a_repeated_trigram_and_ignores_repeated_pairs():
    assert has_repeat("cuando visitamos a ella cuando visitamos a ella")
    assert not has_repeat("de la casa de la playa")  # "de la" twice is ordinary Spanish
    assert repeat_share(["a b c a b c", "a b c d"]) == 0.5


def test_target_buckets_are_fixed_and_carry_the_adequacy_figures():
    sources = ["a b", "a b c d e f g", "w " * 20]
    result = score_by_length(sources, ["x", "y", "z"], ["x", "y y", "z"], min_count=0, edges=TARGET_EDGES)
    assert [b["words"] for b in result["buckets"]] == ["1-5", "6-10", "11-15", "16+"]
    assert result["buckets"][2] == {"words": "11-15", "sentences": 0}
    assert result["overall"]["short_share"] == round(1 / 3, 4)
    assert {"repeat_share", "reference_repeat_share"} <= set(result["buckets"][3])
