"""What the page's events call: plain functions of a translator and the inputs, returning component values.

The tests call them directly; app.py binds them to one translator in build_demo.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go

from model import Translation, Translator, explain, plots
from model.words import word_groups, word_label

from . import texts

EXPORT_DIR = Path(tempfile.gettempdir()) / "translator-exports"
GREEDY, BEAM = "Greedy", "Beam search"
BEAM_SIZES = range(2, 11)  # the page's slider; docs/page.md lists the same ranges
MIN_LENGTH = 5  # shortest output limit, in pieces
PAGE_OUTPUTS = 8  # what page() returns

try:  # ZeroGPU on Hugging Face Spaces: GPU work must run inside spaces.GPU; elsewhere nothing changes
    import spaces

    gpu = spaces.GPU
except ImportError:

    def gpu(function):
        return function


@gpu
def run_translation(
    translator: Translator, text: str, beam_size: int = 1, max_length: int | None = None, details: bool = False
) -> Translation:
    """All model work goes through here (the one function ZeroGPU needs to wrap)."""
    return translator.translate(str(text or ""), beam_size=beam_size, max_length=max_length, details=details)


def notes_of(translation: Translation) -> list[str]:
    if not translation.source_tokens:
        return [texts.TYPE_SOMETHING]
    return list(translation.notes)


def checked_search(translator: Translator, decoding: str, beam_size: float, max_length: float | None) -> dict:
    """The search an API client or the page asked for, as translate's keyword arguments.

    Values outside the page's own ranges (docs/page.md, "The API") raise gr.Error: the client reads the message,
    and the server log stays free of tracebacks.
    """
    cap = translator.config.max_target_tokens
    if decoding not in (GREEDY, BEAM):
        raise gr.Error(f"decoding must be {GREEDY!r} or {BEAM!r}, not {decoding!r}.", print_exception=False)
    beam = _whole_number("beam_size", beam_size, BEAM_SIZES)
    limit = cap if max_length is None else _whole_number("max_length", max_length, range(MIN_LENGTH, cap + 1))
    return {"beam_size": beam if decoding == BEAM else 1, "max_length": None if limit >= cap else limit}


def _whole_number(name: str, value, allowed: range) -> int:
    number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if number and value == int(value) and int(value) in allowed:
        return int(value)
    raise gr.Error(
        f"{name} must be a whole number from {allowed.start} to {allowed.stop - 1}, not {value!r}.",
        print_exception=False,
    )


def translate(
    translator: Translator,
    text: str,
    decoding: str = GREEDY,
    beam_size: float = 5,
    max_length: float | None = None,
    details: bool = True,
) -> tuple[str, dict, Translation]:
    """The /translate API endpoint: Spanish text, the answer's JSON (docs/page.md), and the Translation itself."""
    if text is not None and not isinstance(text, str):
        raise gr.Error(f"text must be a string, not {type(text).__name__}.", print_exception=False)
    result = run_translation(
        translator, text, **checked_search(translator, decoding, beam_size, max_length), details=details
    )
    return result.text, {**result.to_dict(), "notes": notes_of(result)}, result


def notice_html(translation: Translation | None) -> str:
    notes = notes_of(translation) if translation is not None else []
    return "".join(f'<div class="notice">{html.escape(note)}</div>' for note in notes)


def chips_html(title: str, pieces: list[str]) -> str:
    """Token chips; every piece is escaped, so typed HTML shows as text."""
    chips = "".join(f'<span class="chip">{html.escape(piece)}</span>' for piece in pieces) or "<span>—</span>"
    return f'<div class="chips"><span class="chips-title">{html.escape(title)}</span>{chips}</div>'


def write_export(text: str, name: str) -> str:
    """A download file in a folder named by its content: repeated requests reuse it, old folders are pruned."""
    folder = EXPORT_DIR / hashlib.sha1(text.encode()).hexdigest()[:16]
    path = folder / name
    if path.exists():  # reused: now as young as a new one, or the next request's pruning could delete it
        os.utime(folder)
    else:
        prune_exports()
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.{threading.get_ident()}"
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)  # atomic: a concurrent request never serves half a file
    return str(path)


def prune_exports(max_age_s: float = 3600) -> None:
    """Gradio serves its own cached copy (cleaned by delete_cache), so ours can go after an hour."""
    now = time.time()
    for folder in EXPORT_DIR.glob("*"):
        try:
            if now - folder.stat().st_mtime > max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:  # pruned by a concurrent request
            pass


def heatmap_figure(translation: Translation | None, merge_words: bool) -> go.Figure:
    """The attention heatmap, in pieces or in words; a message figure when there is nothing to draw."""
    if translation is None or not translation.target_tokens:
        return plots.message_figure(texts.TRANSLATE_FIRST)
    if translation.attention is None:
        return plots.message_figure("This model has no attention, so there is nothing to draw.")
    view = explain.attention_view(translation, merge_words)
    return plots.attention_heatmap(view.attention, view.scores, view.source, view.target, selected=0)


def downloads(translation: Translation | None, merge_words: bool) -> tuple[gr.DownloadButton, gr.DownloadButton]:
    """The heatmap's matrix as CSV and JSON files (pieces or words); disabled when there is none."""
    if translation is None or not translation.target_tokens or translation.attention is None:
        disabled = gr.DownloadButton(value=None, interactive=False)
        return disabled, disabled
    view = explain.attention_view(translation, merge_words)
    csv_path = write_export(explain.attention_csv(view), f"attention-{view.unit}.csv")
    json_path = write_export(explain.attention_json(translation, view), f"attention-{view.unit}.json")
    return gr.DownloadButton(value=csv_path, interactive=True), gr.DownloadButton(value=json_path, interactive=True)


def page(
    translator: Translator, text: str, decoding: str, beam_size: float, max_length: float, merge_words: bool
) -> tuple:
    """Everything the Translate tab shows for one sentence, from one translation, in one answer.

    -> (Spanish text, the browser's view as JSON text (browser_view), notices, English chips, Spanish chips,
    CSV download, JSON download, the Translation kept for "Merge pieces into words").
    """
    _, answer, translation = translate(translator, text, decoding, beam_size, max_length)
    return tab_outputs(translator, translation, answer, merge_words)


def streamed_page(
    translator: Translator, text: str, decoding: str, beam_size: float, max_length: float, merge_words: bool
) -> Iterator[tuple]:
    """page() for the page's event: the Spanish text goes out as soon as it exists (gr.skip() leaves every other
    output as it is), then everything; both within one server event, so no second round trip. The last yield
    changes nothing: Gradio repeats a generator's last output in its closing message, and 100-360 KB of step data
    sent twice cost the browser a second update (docs/performance.md)."""
    _, answer, translation = translate(translator, text, decoding, beam_size, max_length)
    unchanged = [gr.skip()] * (PAGE_OUTPUTS - 1)
    yield translation.text, *unchanged
    yield tab_outputs(translator, translation, answer, merge_words)
    yield gr.skip(), *unchanged


def tab_outputs(translator: Translator, translation: Translation, answer: dict, merge_words: bool) -> tuple:
    return (
        translation.text,
        browser_view(translator, translation, answer),
        notice_html(translation),
        chips_html("English pieces", translation.source_tokens),
        chips_html("Spanish pieces", translation.target_tokens),
        *downloads(translation, merge_words),
        translation,
    )


def browser_view(translator: Translator, translation: Translation, answer: dict) -> str:
    """What step_panel.js draws in the browser, as one JSON text: the heatmap in pieces and in words (the checkbox
    picks one there, with no round trip), the coverage chart, and the step panel's data (panel_data, its step
    vectors packed: packed_steps; null when nothing was translated).

    The figures are model/plots.py's, drawn by the script into the plot elements gr.Plot made at page load: sent
    through gr.Plot, each new figure got a new plot element and was drawn twice (docs/performance.md). JSON text,
    not an object: the browser parses it once, where an object value would be wrapped in Gradio's reactive proxies
    and cloned. "<" is escaped (it only occurs inside JSON strings), so no "<script" ever appears.
    """
    panel = panel_data(translator, translation, answer)
    if panel is not None:
        panel = {**panel, "answer": {**answer, "step_details": packed_steps(answer["step_details"])}}
    parts = {
        "heatmap_pieces": heatmap_figure(translation, False).to_json(),
        "heatmap_words": heatmap_figure(translation, True).to_json(),
        "coverage": coverage_figure(translation).to_json(),
        "panel": json.dumps(panel, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
    }
    return ("{" + ",".join(f'"{name}":{value}' for name, value in parts.items()) + "}").replace("<", "\\u003c")


PACKED_VECTORS = ("state", "context", "combined")  # the step details' long vectors (H, E and C numbers)
PACKING_SCALE = 10_000  # the answer rounds them to 4 decimals, so value x 10^4 is a whole number


def packed_steps(step_details: list[dict] | None) -> list[dict] | None:
    """The answer's step_details with each long vector as base64 text of little-endian int16 (value x 10^4):
    lossless for the answer's 4-decimal numbers and a third of the JSON's length; step_panel.js unpacks them to
    the same numbers. Most of the page's data is these vectors, and Gradio's front end handles the answer text
    several times before the script gets it (docs/performance.md). A vector outside int16's range stays a list."""
    if step_details is None:
        return None
    packed = []
    for detail in step_details:
        detail = dict(detail)
        for name in PACKED_VECTORS:
            if detail[name] is None:
                continue
            whole = np.rint(np.asarray(detail[name], dtype=float) * PACKING_SCALE)
            if whole.size and np.abs(whole).max() <= np.iinfo(np.int16).max:
                detail[name] = base64.b64encode(whole.astype("<i2").tobytes()).decode("ascii")
        packed.append(detail)
    return packed


def warm_up(translator: Translator) -> None:
    """One translation through the whole tab: the first visitor then finds every code path imported and warm."""
    page(translator, texts.EXAMPLES[2], GREEDY, 5, translator.config.max_target_tokens, False)


def panel_data(translator: Translator, translation: Translation, answer: dict) -> dict | None:
    """What the step panel (step_panel.js) draws from: the API answer, plus per step its story and the heatmap
    row it falls in when pieces are merged into words. None: nothing translated."""
    target = translation.target_tokens
    if not target:
        return None
    vocabulary = translator.config.output_size
    groups = word_groups(target)
    word_row = [row for row, group in enumerate(groups) for _ in group]
    return {
        "answer": answer,
        "stories": [explain.step_story(translation, step, vocabulary) for step in range(len(target))],
        "word_row": word_row,
        "words": [word_label(target, group) for group in groups],
        "vocabulary": vocabulary,
    }


def coverage_figure(translation: Translation) -> go.Figure:
    """Per English word, the attention it received over the whole translation; flagged words marked."""
    if not translation.target_tokens:
        return plots.message_figure(texts.TRANSLATE_FIRST)
    words = translation.coverage
    return plots.coverage_chart(
        [w.word for w in words], [w.coverage for w in words], [w.flagged for w in words], translation.coverage_threshold
    )


def length_figure(series: list[explain.LengthSeries], words: int | None = None) -> go.Figure:
    """BLEU by sentence length for each measured model, marking the bucket of a ``words``-word sentence."""
    if not series:
        return plots.message_figure("Not measured yet: python -m model.evaluate writes assets/length_analysis.json.")
    highlight = None
    if words:
        index = explain.bucket_index(series[0].buckets, words)
        highlight = None if index is None else series[0].buckets[index]
    return plots.length_chart(
        [s.label for s in series], [s.buckets for s in series], [s.bleu for s in series], highlight
    )


def compare(
    translator: Translator, baseline: Translator | None, series: list[explain.LengthSeries], text: str
) -> tuple[go.Figure, str, str]:
    """The visitor's sentence through both models, and the length chart marking where it falls."""
    attended = run_translation(translator, text)
    if not attended.source_tokens:
        return length_figure(series), "Type an English sentence first.", ""
    other = run_translation(baseline, text).text if baseline else "(the no-attention model is not available here)"
    return length_figure(series, len(attended.source_text.split())), attended.text, other
