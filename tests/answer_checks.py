"""Checks of a /translate answer (Translation.to_dict) shared by the translator and hostile-input tests."""

from __future__ import annotations

import json
import math

import pytest

NEW_KEYS = {"score_function", "temperature", "search", "stop_reason", "unknown_pieces", "step_details", "coverage"}
STEP_KEYS = {"fed", "state", "similarity", "scores", "attention", "context", "combined", "top", "written"}


def check_step_details(answer: dict, config) -> None:
    """The step_details of a to_dict() answer against its target tokens and the model's sizes."""
    steps, sources = answer["step_details"], len(answer["source_tokens"])
    assert len(steps) == len(answer["target_tokens"])
    attends = config.attention != "none"
    for t, step in enumerate(steps):
        assert set(step) == STEP_KEYS | {"written_rank", "beam_note"}
        assert step["written"] == answer["target_tokens"][t]
        assert step["fed"] == ("<s>" if t == 0 else answer["target_tokens"][t - 1])
        assert len(step["state"]) == config.decoder_hidden and len(step["combined"]) == config.combine_dim
        assert [s["token"] for s in step["top"]] == [s["token"] for s in answer["steps"][t]]
        assert -1 <= step["written_rank"] < len(step["top"])
        if not attends:
            assert step["attention"] is step["scores"] is step["context"] is step["similarity"] is None
            continue
        assert len(step["attention"]) == len(step["scores"]) == sources
        assert sum(step["attention"]) == pytest.approx(1.0, abs=1e-4 + 5e-5 * sources)  # each value rounded to 4 places
        assert len(step["context"]) == config.encoder_output_dim
        if config.attention == "cosine":
            assert all(-1 <= s <= 1 for s in step["similarity"])
            scaled = [answer["temperature"] * s for s in step["similarity"]]
            assert scaled == pytest.approx(step["scores"], abs=2e-3 * answer["temperature"])
        else:
            assert step["similarity"] is None


def finite_numbers(value) -> bool:
    """Every float anywhere in a JSON-like value is finite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_numbers(v) for v in value)
    return True


def check_answer(answer: dict, config, details: bool) -> None:
    """A whole answer: JSON-safe, finite, every key, shapes consistent with the tokens and the model.

    ``details``: whether the translation was asked for step_details (else the key is null).
    """
    json.dumps(answer, allow_nan=False)
    assert finite_numbers(answer)
    assert NEW_KEYS | {"coverage_threshold"} <= set(answer)
    assert answer["stop_reason"] in ("eos", "length")
    assert answer["search"]["decoding"] in ("greedy", "beam") and answer["search"]["beam_size"] >= 1
    rows, columns = len(answer["target_tokens"]), len(answer["source_tokens"])
    if answer["attention"] is not None:
        assert len(answer["attention"]) == rows and all(len(row) == columns for row in answer["attention"])
    if details:
        check_step_details(answer, config)
    else:
        assert answer["step_details"] is None
    words = answer["coverage"]
    assert sorted(i for w in words for i in w["pieces"]) == (list(range(columns)) if words else [])
    assert sum(w["coverage"] for w in words) == pytest.approx(rows if words else 0, abs=1e-2 * max(1, rows))
    assert all(w["flagged"] <= w["content"] for w in words)
    for piece in answer["unknown_pieces"]:  # characters of the input the tokenizer cannot read, named as typed
        assert piece and piece in answer["source"]
