"""The page: its handlers (model/web/handlers.py) called as plain functions, and app.build_demo's wiring, on a real
model (see web_support for which). The browser side (step_panel.js) is covered by tests/test_browser.py."""

from __future__ import annotations

import base64
import csv
import json
import math
import os
import re
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
from sentences import FOUNDING, HOSTILE

from model import Translator, explain
from model.web import handlers, texts

pytest_plugins = ["web_support"]

ROOT = Path(__file__).resolve().parent.parent
PAGE_OUTPUTS = ("text", "view", "notice", "source", "target", "csv", "json", "translation")


@pytest.fixture(scope="module")
def translator(web_setup) -> Translator:
    return Translator.load(web_setup.model, device="cpu")


@pytest.fixture(scope="module")
def baseline(web_setup) -> Translator:
    return Translator.load(web_setup.baseline, device="cpu")


@pytest.fixture(scope="module")
def series(web_setup) -> list:
    return explain.length_series(json.loads(web_setup.length_analysis.read_text()))


@pytest.fixture(scope="module")
def demo(translator, baseline, web_setup) -> gr.Blocks:
    import app  # builds no page of its own for the tests: they pass their models to build_demo

    return app.build_demo(translator, baseline, web_setup.length_analysis)


def show(translator: Translator, text: str, merge: bool = False, **search) -> dict:
    """handlers.page's outputs by name; the browser's view (JSON text) parsed: "heatmap" is the view's heatmap in
    the unit ``merge`` asks for, "panel" the step panel's data with its step vectors unpacked (as step_panel.js)."""
    values = handlers.page(
        translator, text, search.get("decoding", handlers.GREEDY), search.get("beam_size", 5),
        search.get("max_length", translator.config.max_target_tokens), merge,
    )  # fmt: skip
    outputs = dict(zip(PAGE_OUTPUTS, values, strict=True))
    assert "<" not in outputs["view"]  # user text cannot open a tag, even in JSON
    view = json.loads(outputs["view"])
    return {
        **outputs,
        "view": view,
        "heatmap": view["heatmap_words" if merge else "heatmap_pieces"],
        "coverage": view["coverage"],
        "panel": unpacked(view["panel"]),
    }


def unpacked(panel: dict | None) -> dict | None:
    """step_panel.js's unpacking of handlers.packed_steps, in Python."""
    for detail in (panel or {"answer": {"step_details": []}})["answer"]["step_details"]:
        for name in handlers.PACKED_VECTORS:
            if isinstance(detail[name], str):
                whole = np.frombuffer(base64.b64decode(detail[name]), dtype="<i2")
                detail[name] = [int(value) / handlers.PACKING_SCALE for value in whole]
    return panel


def z_of(figure: dict) -> np.ndarray:
    """A heatmap's z from plotly's JSON: a list of rows, or a typed array ({"dtype", "bdata", "shape"})."""
    z = figure["data"][0]["z"]
    if isinstance(z, dict):
        shape = [int(n) for n in str(z["shape"]).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z, dtype=float)


def download_path(button: gr.DownloadButton) -> Path:
    return Path(button.value["path"])


def is_message(figure: go.Figure | dict) -> bool:
    if isinstance(figure, dict):  # as the browser gets it
        layout = figure["layout"]
        return not figure["data"] and len(layout["annotations"]) == 1 and layout["height"] > 0
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
    assert len(data["steps"]) == rows == len(data["step_details"]) and data["notes"] == []
    json.dumps(data, allow_nan=False)  # what the API returns must be JSON


def test_one_answer_draws_the_whole_tab(translator):
    page = show(translator, FOUNDING)
    translation = page["translation"]
    assert page["text"] == translation.text and page["notice"] == ""
    assert page["source"].count('class="chip"') == len(translation.source_tokens)
    assert page["target"].count('class="chip"') == len(translation.target_tokens)
    assert z_of(page["heatmap"]).shape == translation.attention.shape
    assert len(page["coverage"]["data"][0]["y"]) == len(translation.coverage) > 0
    rows = list(csv.reader(download_path(page["csv"]).read_text(encoding="utf-8").splitlines()))
    assert len(rows) == len(translation.target_tokens) + 1 and len(rows[0]) == len(translation.source_tokens) + 1
    assert json.loads(download_path(page["json"]).read_text(encoding="utf-8"))["unit"] == "pieces"
    assert download_path(page["csv"]).name == "attention-pieces.csv"


def test_the_step_panel_gets_every_step_once(translator):
    """What step_panel.js draws from: the API answer, a story per step, and each piece's word row."""
    page = show(translator, "I would like a cup of coffee, please.")
    translation, panel = page["translation"], page["panel"]
    steps = len(translation.target_tokens)
    assert panel["answer"]["target_tokens"] == translation.target_tokens
    assert len(panel["answer"]["step_details"]) == len(panel["stories"]) == len(panel["word_row"]) == steps
    assert panel["stories"][1].startswith(f"Step 2 of {steps}.")
    assert panel["word_row"] == sorted(panel["word_row"]) and panel["word_row"][-1] == len(panel["words"]) - 1
    detail = panel["answer"]["step_details"][1]
    assert (
        len(detail["attention"]) == len(translation.source_tokens) and detail["written"] == translation.target_tokens[1]
    )
    json.dumps(panel, allow_nan=False)


def test_the_panels_packed_vectors_are_the_answers_numbers(translator):
    """handlers.packed_steps loses nothing of the API answer's 4-decimal numbers."""
    _, answer, translation = handlers.translate(translator, FOUNDING)
    page = show(translator, FOUNDING)
    assert page["panel"]["answer"] == json.loads(json.dumps(answer))
    packed = json.loads(handlers.browser_view(translator, translation, answer))["panel"]["answer"]["step_details"]
    assert all(isinstance(step[name], str) for step in packed for name in handlers.PACKED_VECTORS)
    out_of_range = [{"state": [4.0, -0.5], "context": None, "combined": []}]
    assert handlers.packed_steps(out_of_range) == out_of_range  # left as lists


def test_the_browser_draws_every_figure_with_its_labels_unmeasured(translator):
    """Each figure of the view: plotly's JSON with the figure's own config, and tick labels allowed to overflow."""
    page = show(translator, FOUNDING)
    for name in ("heatmap_pieces", "heatmap_words", "coverage"):
        figure = page["view"][name]
        assert figure["config"]["displayModeBar"] is False and figure["layout"]["dragmode"] is False
        layout = figure["layout"]
        assert layout["xaxis"]["ticklabeloverflow"] == layout["yaxis"]["ticklabeloverflow"] == "allow"


def test_downloads_reuse_files_and_old_ones_are_pruned(tmp_path, monkeypatch):
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
    page = show(translator, FOUNDING, merge=True)
    z = z_of(page["heatmap"])
    assert z.shape == (len(page["panel"]["words"]), len(FOUNDING.split()) + 1)  # words plus </s>
    np.testing.assert_allclose(z.sum(axis=1), 1.0, atol=1e-4)
    assert download_path(page["csv"]).name == "attention-words.csv"
    assert z_of(page["view"]["heatmap_pieces"]).shape == page["translation"].attention.shape  # both units sent
    csv_button, _ = handlers.downloads(page["translation"], False)  # the checkbox turned off again
    assert download_path(csv_button).name == "attention-pieces.csv"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", None])
def test_empty_input_gets_a_friendly_message_and_no_error(translator, blank):
    page = show(translator, blank, merge=True)
    assert page["text"] == "" and page["panel"] is None and "Type an English sentence" in page["notice"]
    assert is_message(page["heatmap"]) and is_message(page["coverage"]) and page["csv"].interactive is False
    assert handlers.translate(translator, blank)[1]["notes"] == [texts.TYPE_SOMETHING]
    assert is_message(handlers.heatmap_figure(None, False))  # before any translation
    assert not handlers.downloads(None, True)[0].interactive


def test_html_input_stays_text_everywhere(translator):
    page = show(translator, HOSTILE)
    for html in (page["notice"], page["source"], page["target"]):
        assert "<img" not in html and "<b>" not in html and "onerror=alert(1)>" not in html
    assert "&lt;/s&gt;" in page["source"]  # even the end marker is escaped, not parsed as a closing tag
    assert page["panel"]["answer"]["source"] == HOSTILE  # JSON for the panel script, which sets textContent only
    for axis in (page["heatmap"]["layout"]["xaxis"], page["heatmap"]["layout"]["yaxis"]):
        assert all("<" not in label for label in axis["ticktext"])


def test_the_page_event_streams_text_first_then_everything_once(translator):
    first, everything, last = handlers.streamed_page(translator, "Let's go.", handlers.GREEDY, 5, 100, False)
    assert first[0] == everything[0] and first[0]
    assert all(isinstance(value, dict) and value.get("__type__") == "update" for value in first[1:])  # gr.skip()
    assert everything[1] and all(isinstance(value, dict) and value.get("__type__") == "update" for value in last)


def test_the_panel_script_never_parses_text_as_html():
    script = (ROOT / "model" / "web" / "step_panel.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)


def test_long_input_is_truncated_with_a_visible_notice(translator):
    page = show(translator, "word " * 400)
    assert page["translation"].truncated
    assert len(page["translation"].source_tokens) == translator.max_input_tokens + 1
    assert "truncated" in page["notice"]
    assert handlers.translate(translator, "a" * 1_000_000)[2].truncated  # a pasted book is cut before tokenizing


def test_any_unicode(translator):
    for text in ["مرحبا بالعالم", "日本語のテキスト", "👩‍👩‍👧‍👦🙂", "\x00\x1b[31m", "e\u0301\u0302"]:
        page = show(translator, text, merge=True)
        json.dumps(page["panel"], allow_nan=False)


def test_decoding_options(translator):
    _, greedy, _ = handlers.translate(translator, FOUNDING, handlers.GREEDY, 5)
    _, beam, _ = handlers.translate(translator, FOUNDING, handlers.BEAM, 3)
    assert np.array(beam["attention"]).shape == (len(beam["target_tokens"]), len(beam["source_tokens"]))
    assert beam["search"]["decoding"] == "beam" and beam["search"]["beam_size"] == 3
    _, short, _ = handlers.translate(translator, FOUNDING, handlers.GREEDY, 5, 5)
    assert short["target_tokens"] == greedy["target_tokens"][:5] and short["stop_reason"] == "length"


@pytest.mark.parametrize(
    "search",
    [
        {"decoding": "Sampling"},
        {"beam_size": 1},
        {"beam_size": 11},
        {"beam_size": 2.5},
        {"beam_size": "5"},
        {"beam_size": math.nan},
        {"max_length": 4},
        {"max_length": 10_000},
        {"max_length": True},
    ],
)
def test_out_of_range_search_is_a_clear_error_without_a_traceback(translator, search):
    arguments = {"decoding": handlers.BEAM, "beam_size": 5, "max_length": 50, **search}
    with pytest.raises(gr.Error) as error:
        handlers.translate(translator, "Let's go.", **arguments)
    assert not error.value.print_exception and next(iter(search)) in error.value.message


def test_no_attention_model_is_handled(baseline):
    page = show(baseline, "Where is the train station?")
    assert page["panel"]["answer"]["attention"] is None and page["translation"].attention is None
    assert page["panel"]["answer"]["step_details"][0]["combined"]  # the panel still shows tanh(W h) and the top 5
    assert is_message(page["heatmap"]) and is_message(page["view"]["heatmap_words"]) and is_message(page["coverage"])
    assert not page["csv"].interactive and not page["json"].interactive


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


def test_about_reports_scores_licences_and_no_spaces_only_pointer(translator):
    about = texts.about_markdown(translator)
    assert f"{translator.model.parameter_count():,}" in about and translator.config.attention in about
    assert "tatoeba.org" in about and "manythings.org/anki" in about
    assert "CC-BY 2.0" in about and "MIT" in about and "Files tab" not in about  # as the README says
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "CC-BY 2.0" in readme and "MIT" in readme
    assert "the last 0 minutes" not in about  # a run that only converted its model trained for no time
    if translator.config.output_pieces:
        assert f"scores the {translator.config.output_pieces:,} pieces" in about
    assert ("knowledge distillation" in about) == shipped_was_distilled(translator)
    assert "Not measured yet" in texts.scores_markdown(None)
    metrics = {"scores": {"greedy": {"test_split": {"overall": {"bleu": 41.25, "chrf": 60.0, "sentences": 9}}}}}
    assert "| greedy | held-out corpus sentences | 41.2 | 60.0 | 9 |" in texts.scores_markdown(metrics)


def test_end_marker_is_explained_as_text(tmp_path):
    markdown = texts.end_marker_markdown(tmp_path / "not-measured.json")
    assert "&lt;/s&gt; is the end-of-sentence marker" in markdown and "</s>" not in markdown


def test_budget_note_names_each_models_training(translator, baseline):
    """The side-by-side's fine print: epochs from each metrics.json, and distillation where the model had it."""
    assert texts.budget_note(translator, None) == ""
    note = texts.budget_note(translator, baseline)
    assert note.startswith("The attention model here is the shipped one (") and "epochs" in note
    assert ("learning from a larger model's translations" in note) == shipped_was_distilled(translator)


def dependency(demo: gr.Blocks, api_name: str) -> dict:
    return next(d for d in demo.get_config_file()["dependencies"] if d["api_name"] == api_name)


def test_only_translate_and_compare_are_public_api(demo):
    dependencies = demo.get_config_file()["dependencies"]
    public = sorted(d["api_name"] for d in dependencies if d["api_visibility"] == "public")
    assert public == ["compare", "translate"]


def test_translate_endpoint_is_for_api_clients_with_named_outputs(demo):
    translate = dependency(demo, "translate")
    assert translate["targets"] == []  # the page itself draws everything with one private event instead
    labels = [block.label for block in demo.blocks.values() if block._id in translate["outputs"]]
    assert sorted(labels) == ["Spanish", "translation details"]


def test_one_event_per_translation_and_new_search_options_retranslate(demo):
    """Enter, the button, the search options and the examples each start one event that draws the whole tab; the
    charts are drawn in the browser from its view (no event outputs to them), "Merge pieces into words" only
    renames the downloads."""
    config = demo.get_config_file()
    names = {component["id"]: component["props"].get("label") for component in config["components"]}
    page_events = [d for d in config["dependencies"] if len(d["outputs"]) == len(PAGE_OUTPUTS)]
    triggers = {(names.get(target), event) for d in page_events for target, event in d["targets"]}
    assert {("English", "submit"), ("Search", "change"), ("Beam size", "release")} <= triggers
    assert all(not d.get("trigger_after") for d in page_events if d["targets"] != [])  # no translate -> render chain
    plots = {component["id"] for component in config["components"] if component["type"] == "plot"}
    charts = {names[i] for i in plots} - {"BLEU by sentence length"}
    assert charts == {"Attention", texts.COVERAGE_LABEL}
    assert not any(plots & set(d["outputs"]) for d in config["dependencies"] if d["api_name"] != "compare")
