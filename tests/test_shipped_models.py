"""assets/*: the shipped models are complete, small enough, and translate."""

from __future__ import annotations

import json

from conftest import ROOT, SHIPPED, check_translation

from model import Translator


def test_shipped_model_translates_lets_go(shipped):
    result = shipped.translate("Let's go.")
    assert result.text in {"Vamos.", "Vayamos.", "¡Vamos!", "Vámonos."}
    assert shipped.config.attention == "cosine"
    check_translation(result)


def test_the_larger_teacher_model_ships_complete():
    """assets/en-es-large: the larger model the default one was distilled from (README, Results)."""
    folder = ROOT / "assets" / "en-es-large"
    large = Translator.load(folder, device="cpu")
    assert large.translate("Let's go.").text in {"Vamos.", "Vayamos.", "¡Vamos!", "Vámonos."}
    assert large.config.decoder_hidden > Translator.load(device="cpu").config.decoder_hidden
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 25 * 1024 * 1024
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["scores_int8"]["greedy"]["tatoeba"]["overall"]["bleu"] >= 30
    default = json.loads((SHIPPED / "config.json").read_text())
    teacher = json.loads((folder / "config.json").read_text())
    assert teacher["weights_sha256"] in json.loads((SHIPPED / "metrics.json").read_text())["commit_note"]
    assert default["model"]["output_pieces"] < teacher["model"]["output_pieces"]


def test_shipped_model_size_and_metrics():
    total = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert total <= 25 * 1024 * 1024
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    for key in ("corpus_sha256", "command", "commit", "hardware", "parameters", "data"):
        assert metrics[key]
    assert metrics.get("training_minutes_total") or metrics["training_minutes"]  # a continued model: its lineage
    assert metrics["scores"]["greedy"]["tatoeba"]["overall"]["bleu"] >= 30
    assert metrics["config"]["distill_from"] and metrics["config"]["distill_beam"] == 5  # README, Results
