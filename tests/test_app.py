"""The page's handlers (model/web/handlers.py) called as plain functions, and app.build_demo, on a real model
(see web_support for which)."""

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

from model import Translator
from model.web import handlers, texts

pytest_plugins = ["web_support"]


@pytest.fixture(scope="module")
def translator(web_setup) -> Translator:
    return Translator.load(web_setup.model, device="cpu")


@pytest.fixture(scope="module")
def baseline(web_setup) -> Translator:
    return Translator.load(web_setup.baseline, device="cpu")


@pytest.fixture(scope="module")
def series(web_setup):
    return handlers.explain.length_series(json.loads(web_setup.length_analysis.read_text()))


def heatmap_of(rendered: tuple) -> go.Figure:
    return rendered[3]


def download_path(button: gr.DownloadButton) -> Path:
    return Path(button.value["path"])


def is_message(figure: go.Figure) -> bool:
    return not figure.data and len(figure.layout.annotations) == 1 and figure.layout.height > 0


def shipped_was_distilled(translator) -> bool:
    """Read straight from the model folder's metrics.json, not through the app."""
    metrics_file = Path(translator.path) / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    return bool(metrics.get("config", {}).get("distill_from"))


def test_translate_returns_text_json_and_state(translator):
    text, data, translation = handlers.translate(translator, "Let's go.")
    assert text == translation.text == data["translation"]
    assert data["source_tokens"] == translation.source_tokens and data["source_tokens"][-1] == "</s>"
    rows, columns = len(data["target_tokens"]), len(data["source_tokens"])
    assert np.array(data["attention"]).shape == (rows, columns) == np.array(data["scores"]).shape
    assert len(data["steps"]) == rows and data["notes"] == []
    json.dumps(data)  # what the API returns must be JSON


def test_render_builds_chips_heatmap_downloads_and_slider(translator):
    _, _, translation = handlers.translate(translator, FOUNDING)
    notice, source_chips, target_chips, heatmap, csv_button, json_button, slider = handlers.render(translation, False)
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


def test_downloads_reuse_files_and_old_ones_are_pruned(translator, tmp_path, monkeypatch):
    monkeypatch.setattr(handlers, "EXPORT_DIR", tmp_path)
    first = Path(handlers.write_export("a,b\n", "attention.csv"))
    assert first.read_text() == "a,b\n" and Path(handlers.write_export("a,b\n", "attention.csv")) == first
    os.utime(first.parent, (0, 0))  # an hour-old download folder
    second = Path(handlers.write_export("c,d\n", "attention.csv"))
    assert second.exists() and not first.exists() and [p.name for p in second.parent.iterdir()] == ["attention.csv"]
    os.utime(second.parent, (0, 0))
    assert Path(handlers.write_export("c,d\n", "attention.csv")) == second  # reused, so young again:
    handlers.write_export("e,f\n", "attention.csv")  # the next new file's pruning keeps it
    assert second.exists()


def test_merging_into_words_keeps_rows_summing_to_one(translator):
    _, _, translation = handlers.translate(translator, FOUNDING)
    figure, csv_button, _ = handlers.show_heatmap(translation, True)
    z = np.asarray(figure.data[0].z)
    assert z.shape[1] == len(FOUNDING.split()) + 1  # words plus </s>
    np.testing.assert_allclose(z.sum(axis=1), 1.0, atol=1e-4)
    assert download_path(csv_button).name == "attention-words.csv"


def test_show_step_draws_the_three_charts_and_a_story(translator):
    _, _, translation = handlers.translate(translator, "I would like a cup of coffee, please.")
    scores, weights, candidates, story = handlers.show_step(translator, translation, 2)
    assert len(scores.data[0].y) == len(weights.data[0].y) == len(translation.source_tokens)
    assert list(weights.data[0].y) == pytest.approx(translation.attention[1].tolist())
    assert len(candidates.data[0].y) == len(translation.steps[1])
    assert story.startswith("<p>Step 2 of")
    assert handlers.show_step(translator, translation, 999)[3].startswith(
        f"<p>Step {len(translation.target_tokens)} of"
    )


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_empty_input_gets_a_friendly_message_and_no_error(translator, blank):
    text, data, translation = handlers.translate(translator, blank)
    assert text == "" and data["notes"] == ["Type an English sentence, then press Translate."]
    rendered = handlers.render(translation, True)
    assert "Type an English sentence" in rendered[0] and is_message(heatmap_of(rendered))
    assert rendered[4].interactive is False and rendered[6].interactive is False
    assert all(is_message(figure) for figure in handlers.show_step(translator, translation, 1)[:3])
    assert is_message(handlers.render(None, False)[3])  # before any translation


def test_html_input_stays_text_everywhere(translator):
    _, data, translation = handlers.translate(translator, HOSTILE)
    rendered = handlers.render(translation, False)
    html_outputs = [rendered[0], rendered[1], rendered[2], handlers.show_step(translator, translation, 1)[3]]
    for html in html_outputs:
        assert "<img" not in html and "<b>" not in html and "onerror=alert(1)>" not in html
    assert "&lt;/s&gt;" in rendered[1]  # even the end marker is escaped, not parsed as a closing tag
    assert data["source"] == HOSTILE  # the API returns the text itself; JSON is not HTML
    for axis in (heatmap_of(rendered).layout.xaxis, heatmap_of(rendered).layout.yaxis):
        assert all("<" not in label for label in axis.ticktext)


def test_long_input_is_truncated_with_a_visible_notice(translator):
    _, data, translation = handlers.translate(translator, "word " * 400)
    assert translation.truncated and len(translation.source_tokens) == translator.max_input_tokens + 1
    assert any("truncated" in note for note in data["notes"])
    assert "truncated" in handlers.render(translation, False)[0]
    assert handlers.translate(translator, "a" * 1_000_000)[2].truncated  # a pasted book is cut before tokenizing


def test_any_unicode(translator):
    for text in ["مرحبا بالعالم", "日本語のテキスト", "👩‍👩‍👧‍👦🙂", "\x00\x1b[31m", "e\u0301\u0302"]:
        _, data, translation = handlers.translate(translator, text)
        handlers.render(translation, True)
        handlers.show_step(translator, translation, 1)
        json.dumps(data)


def test_decoding_options(translator):
    _, greedy, _ = handlers.translate(translator, FOUNDING, handlers.GREEDY, 5, translator.config.max_target_tokens)
    _, beam, _ = handlers.translate(translator, FOUNDING, handlers.BEAM, 3, translator.config.max_target_tokens)
    assert np.array(beam["attention"]).shape == (len(beam["target_tokens"]), len(beam["source_tokens"]))
    _, short, _ = handlers.translate(translator, FOUNDING, handlers.GREEDY, 5, 3)
    assert len(short["target_tokens"]) <= 3 and short["target_tokens"] == greedy["target_tokens"][:3]


def test_no_attention_model_is_handled(baseline):
    _, data, translation = handlers.translate(baseline, "Where is the train station?")
    assert data["attention"] is None and translation.attention is None
    heatmap, csv_button, json_button = handlers.show_heatmap(translation, True)
    assert is_message(heatmap) and not csv_button.interactive and not json_button.interactive
    scores, weights, candidates, story = handlers.show_step(baseline, translation, 1)
    assert is_message(scores) and is_message(weights) and candidates.data and "no attention" in story


def test_why_attention_compares_both_models(translator, baseline, series):
    sentence = "The children were playing in the garden when it started to rain."
    figure, attended, other = handlers.compare(translator, baseline, series, sentence)
    assert isinstance(figure, go.Figure) and len(figure.data) == 2 and len(figure.layout.shapes) == 1
    assert attended == handlers.translate(translator, sentence)[0]
    assert other and other == baseline.translate(sentence).text


def test_why_attention_without_data_or_baseline(translator):
    figure, attended, other = handlers.compare(translator, None, [], "Let's go.")
    assert is_message(figure) and attended and "not available" in other
    blank = handlers.compare(translator, None, [], "  ")
    assert is_message(blank[0]) and blank[1].startswith("Type")


def test_about_reports_scores_or_not_measured_yet(translator):
    about = texts.about_markdown(translator)
    assert f"{translator.model.parameter_count():,}" in about and translator.config.attention in about
    assert "tatoeba.org" in about and "manythings.org/anki" in about and "CC-BY 2.0" in about
    assert "the last 0 minutes" not in about  # a run that only converted its model trained for no time
    if translator.config.output_pieces:
        assert f"scores the {translator.config.output_pieces:,} pieces" in about
    distilled = shipped_was_distilled(translator)
    assert ("knowledge distillation" in about) == distilled
    assert "Not measured yet" in texts.scores_markdown(None)
    metrics = {"scores": {"greedy": {"test_split": {"overall": {"bleu": 41.25, "chrf": 60.0, "sentences": 9}}}}}
    assert "| greedy | held-out corpus sentences | 41.2 | 60.0 | 9 |" in texts.scores_markdown(metrics)


def test_budget_note_names_each_models_training(translator, baseline):
    """The side-by-side's fine print: epochs from each metrics.json, and distillation where the model had it."""
    assert texts.budget_note(translator, None) == ""
    note = texts.budget_note(translator, baseline)
    assert note.startswith("The attention model here is the shipped one (") and "epochs" in note
    distilled = shipped_was_distilled(translator)
    assert ("learning from a larger model's translations" in note) == distilled


def test_only_translate_and_compare_are_public_api(translator, baseline, web_setup):
    import app

    demo = app.build_demo(translator, baseline, web_setup.length_analysis)
    assert isinstance(demo, gr.Blocks)
    dependencies = demo.get_config_file()["dependencies"]
    public = sorted(d["api_name"] for d in dependencies if d["api_visibility"] == "public")
    assert public == ["compare", "translate"]
