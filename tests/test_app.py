"""app.py's handlers called as plain functions, on a real model (see web_support for which)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
from sentences import FOUNDING, HOSTILE

pytest_plugins = ["web_support"]


def heatmap_of(rendered: tuple) -> go.Figure:
    return rendered[3]


def download_path(button: gr.DownloadButton) -> Path:
    return Path(button.value["path"])


def is_message(figure: go.Figure) -> bool:
    return not figure.data and len(figure.layout.annotations) == 1 and figure.layout.height > 0


def shipped_was_distilled(app) -> bool:
    """Read straight from the model folder's metrics.json, not through the app."""
    metrics_file = Path(app.TRANSLATOR.path) / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    return bool(metrics.get("config", {}).get("distill_from"))


def test_translate_returns_text_json_and_state(app):
    text, data, translation = app.translate("Let's go.")
    assert text == translation.text == data["translation"]
    assert data["source_tokens"] == translation.source_tokens and data["source_tokens"][-1] == "</s>"
    rows, columns = len(data["target_tokens"]), len(data["source_tokens"])
    assert np.array(data["attention"]).shape == (rows, columns) == np.array(data["scores"]).shape
    assert len(data["steps"]) == rows and data["notes"] == []
    json.dumps(data)  # what the API returns must be JSON


def test_render_builds_chips_heatmap_downloads_and_slider(app):
    _, _, translation = app.translate(FOUNDING)
    notice, source_chips, target_chips, heatmap, csv_button, json_button, slider = app.render(translation, False)
    assert notice == ""
    assert source_chips.count('class="chip"') == len(translation.source_tokens)
    assert target_chips.count('class="chip"') == len(translation.target_tokens)
    assert np.asarray(heatmap.data[0].z).shape == translation.attention.shape
    assert slider.maximum == max(len(translation.target_tokens), 2) and slider.value == 1
    assert csv_button.interactive and json_button.interactive
    rows = list(csv.reader(download_path(csv_button).read_text(encoding="utf-8").splitlines()))
    assert len(rows) == len(translation.target_tokens) + 1 and len(rows[0]) == len(translation.source_tokens) + 1
    assert json.loads(download_path(json_button).read_text(encoding="utf-8"))["unit"] == "pieces"
    assert download_path(csv_button).name == "attention-pieces.csv"


def test_downloads_reuse_files_and_old_ones_are_pruned(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "EXPORT_DIR", tmp_path)
    first = Path(app.write_export("a,b\n", "attention.csv"))
    assert first.read_text() == "a,b\n" and Path(app.write_export("a,b\n", "attention.csv")) == first
    os.utime(first.parent, (0, 0))  # an hour-old download folder
    second = Path(app.write_export("c,d\n", "attention.csv"))
    assert second.exists() and not first.exists() and [p.name for p in second.parent.iterdir()] == ["attention.csv"]
    os.utime(second.parent, (0, 0))
    assert Path(app.write_export("c,d\n", "attention.csv")) == second  # reused, so young again:
    app.write_export("e,f\n", "attention.csv")  # the next new file's pruning keeps it
    assert second.exists()


def test_merging_into_words_keeps_rows_summing_to_one(app):
    _, _, translation = app.translate(FOUNDING)
    figure, csv_button, _ = app.show_heatmap(translation, True)
    z = np.asarray(figure.data[0].z)
    assert z.shape[1] == len(FOUNDING.split()) + 1  # words plus </s>
    np.testing.assert_allclose(z.sum(axis=1), 1.0, atol=1e-4)
    assert download_path(csv_button).name == "attention-words.csv"


def test_show_step_draws_the_three_charts_and_a_story(app):
    _, _, translation = app.translate("I would like a cup of coffee, please.")
    scores, weights, candidates, story = app.show_step(translation, 2)
    assert len(scores.data[0].y) == len(weights.data[0].y) == len(translation.source_tokens)
    assert list(weights.data[0].y) == pytest.approx(translation.attention[1].tolist())
    assert len(candidates.data[0].y) == len(translation.steps[1])
    assert story.startswith("<p>Step 2 of")
    assert app.show_step(translation, 999)[3].startswith(f"<p>Step {len(translation.target_tokens)} of")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_empty_input_gets_a_friendly_message_and_no_error(app, blank):
    text, data, translation = app.translate(blank)
    assert text == "" and data["notes"] == ["Type an English sentence, then press Translate."]
    rendered = app.render(translation, True)
    assert "Type an English sentence" in rendered[0] and is_message(heatmap_of(rendered))
    assert rendered[4].interactive is False and rendered[6].interactive is False
    assert all(is_message(figure) for figure in app.show_step(translation, 1)[:3])
    assert is_message(app.render(None, False)[3])  # before any translation


def test_html_input_stays_text_everywhere(app):
    _, data, translation = app.translate(HOSTILE)
    rendered = app.render(translation, False)
    html_outputs = [rendered[0], rendered[1], rendered[2], app.show_step(translation, 1)[3]]
    for html in html_outputs:
        assert "<img" not in html and "<b>" not in html and "onerror=alert(1)>" not in html
    assert "&lt;/s&gt;" in rendered[1]  # even the end marker is escaped, not parsed as a closing tag
    assert data["source"] == HOSTILE  # the API returns the text itself; JSON is not HTML
    for axis in (heatmap_of(rendered).layout.xaxis, heatmap_of(rendered).layout.yaxis):
        assert all("<" not in label for label in axis.ticktext)


def test_long_input_is_truncated_with_a_visible_notice(app):
    _, data, translation = app.translate("word " * 400)
    assert translation.truncated and len(translation.source_tokens) == app.TRANSLATOR.max_input_tokens + 1
    assert any("truncated" in note for note in data["notes"])
    assert "truncated" in app.render(translation, False)[0]
    assert app.translate("a" * 1_000_000)[2].truncated  # a pasted book is cut before tokenizing


def test_any_unicode(app):
    for text in ["مرحبا بالعالم", "日本語のテキスト", "👩‍👩‍👧‍👦🙂", "\x00\x1b[31m", "e\u0301\u0302"]:
        _, data, translation = app.translate(text)
        app.render(translation, True)
        app.show_step(translation, 1)
        json.dumps(data)


def test_decoding_options(app):
    _, greedy, _ = app.translate(FOUNDING, app.GREEDY, 5, app.MAX_LENGTH)
    _, beam, _ = app.translate(FOUNDING, app.BEAM, 3, app.MAX_LENGTH)
    assert np.array(beam["attention"]).shape == (len(beam["target_tokens"]), len(beam["source_tokens"]))
    _, short, _ = app.translate(FOUNDING, app.GREEDY, 5, 3)
    assert len(short["target_tokens"]) <= 3 and short["target_tokens"] == greedy["target_tokens"][:3]


def test_no_attention_model_is_handled(app, web_setup, monkeypatch):
    monkeypatch.setattr(app, "TRANSLATOR", app.Translator.load(web_setup.baseline, device="cpu"))
    _, data, translation = app.translate("Where is the train station?")
    assert data["attention"] is None and translation.attention is None
    heatmap, csv_button, json_button = app.show_heatmap(translation, True)
    assert is_message(heatmap) and not csv_button.interactive and not json_button.interactive
    scores, weights, candidates, story = app.show_step(translation, 1)
    assert is_message(scores) and is_message(weights) and candidates.data and "no attention" in story


def test_why_attention_compares_both_models(app):
    figure, attended, baseline = app.compare("The children were playing in the garden when it started to rain.")
    assert isinstance(figure, go.Figure) and len(figure.data) == 2 and len(figure.layout.shapes) == 1
    assert attended == app.translate("The children were playing in the garden when it started to rain.")[0]
    assert (
        baseline
        and baseline == app.BASELINE.translate("The children were playing in the garden when it started to rain.").text
    )


def test_why_attention_without_data_or_baseline(app, monkeypatch):
    monkeypatch.setattr(app, "LENGTH_SERIES", [])
    monkeypatch.setattr(app, "BASELINE", None)
    figure, attended, baseline = app.compare("Let's go.")
    assert is_message(figure) and attended and "not available" in baseline
    assert is_message(app.compare("  ")[0]) and app.compare("  ")[1].startswith("Type")


def test_about_reports_scores_or_not_measured_yet(app):
    about = app.about_markdown(app.TRANSLATOR)
    assert f"{app.TRANSLATOR.model.parameter_count():,}" in about and app.TRANSLATOR.config.attention in about
    assert "tatoeba.org" in about and "manythings.org/anki" in about and "CC-BY 2.0" in about
    assert "the last 0 minutes" not in about  # a run that only converted its model trained for no time
    if app.TRANSLATOR.config.output_pieces:
        assert f"scores the {app.TRANSLATOR.config.output_pieces:,} pieces" in about
    distilled = shipped_was_distilled(app)
    assert ("knowledge distillation" in about) == distilled
    assert "Not measured yet" in app.scores_markdown(None)
    metrics = {"scores": {"greedy": {"test_split": {"overall": {"bleu": 41.25, "chrf": 60.0, "sentences": 9}}}}}
    assert "| greedy | held-out corpus sentences | 41.2 | 60.0 | 9 |" in app.scores_markdown(metrics)


def test_budget_note_names_each_models_training(app):
    """The side-by-side's fine print: epochs from each metrics.json, and distillation where the model had it."""
    if app.BASELINE is None:
        assert app.budget_note(app.TRANSLATOR, None) == ""
        return
    note = app.budget_note(app.TRANSLATOR, app.BASELINE)
    assert note.startswith("The attention model here is the shipped one (") and "epochs" in note
    distilled = shipped_was_distilled(app)
    assert ("learning from a larger model's translations" in note) == distilled


def test_only_translate_and_compare_are_public_api(app):
    dependencies = app.demo.get_config_file()["dependencies"]
    public = sorted(d["api_name"] for d in dependencies if d["api_visibility"] == "public")
    assert public == ["compare", "translate"]
    assert isinstance(app.demo, gr.Blocks)
