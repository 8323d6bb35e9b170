"""What the page's events call: plain functions of a translator and the inputs, returning component values.

The tests call them directly; app.py binds them to one translator in build_demo.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import plotly.graph_objects as go

from model import Translation, Translator, explain, plots

from . import texts

EXPORT_DIR = Path(tempfile.gettempdir()) / "translator-exports"
GREEDY, BEAM = "Greedy", "Beam search"

try:  # ZeroGPU on Hugging Face Spaces: GPU work must run inside spaces.GPU; elsewhere nothing changes
    import spaces

    gpu = spaces.GPU
except ImportError:

    def gpu(function):
        return function


@gpu
def run_translation(
    translator: Translator, text: str, beam_size: int = 1, max_length: int | None = None
) -> Translation:
    """All model work goes through here (the one function ZeroGPU needs to wrap)."""
    return translator.translate(str(text or ""), beam_size=beam_size, max_length=max_length, details=True)


def notes_of(translation: Translation) -> list[str]:
    if not translation.source_tokens:
        return [texts.TYPE_SOMETHING]
    return list(translation.notes)


def translate(
    translator: Translator, text: str, decoding: str = GREEDY, beam_size: float = 5, max_length: float | None = None
) -> tuple[str, dict, Translation]:
    """The API endpoint: Spanish text, JSON (tokens, attention, scores, steps, notes), and the page's Translation."""
    beam = int(beam_size) if decoding == BEAM else 1
    cap = translator.config.max_target_tokens
    limit = None if max_length is None or int(max_length) >= cap else max(1, int(max_length))
    result = run_translation(translator, text, beam, limit)
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


def show_heatmap(
    translation: Translation | None, merge_words: bool
) -> tuple[go.Figure, gr.DownloadButton, gr.DownloadButton]:
    """The attention heatmap (pieces or words) and its CSV/JSON downloads."""
    if translation is None or not translation.target_tokens:
        return without_heatmap(texts.TRANSLATE_FIRST)
    if translation.attention is None:
        return without_heatmap("This model has no attention, so there is nothing to draw.")
    view = explain.attention_view(translation, merge_words)
    figure = plots.attention_heatmap(view.weights, view.scores, view.source, view.target)
    csv_path = write_export(explain.attention_csv(view), f"attention-{view.unit}.csv")
    json_path = write_export(explain.attention_json(translation, view), f"attention-{view.unit}.json")
    return (
        figure,
        gr.DownloadButton(value=csv_path, interactive=True),
        gr.DownloadButton(value=json_path, interactive=True),
    )


def without_heatmap(message: str) -> tuple[go.Figure, gr.DownloadButton, gr.DownloadButton]:
    disabled = gr.DownloadButton(value=None, interactive=False)
    return plots.message_figure(message), disabled, disabled


def render(translation: Translation | None, merge_words: bool) -> tuple:
    """Everything on the Translate tab that follows from one translation, except the step panel."""
    source = translation.source_tokens if translation else []
    target = translation.target_tokens if translation else []
    steps = len(target)
    slider = gr.Slider(minimum=1, maximum=max(steps, 2), value=1, step=1, interactive=steps > 1)
    return (
        notice_html(translation),
        chips_html("English pieces", source),
        chips_html("Spanish pieces", target),
        *show_heatmap(translation, merge_words),
        slider,
    )


def show_step(
    translator: Translator, translation: Translation | None, step: float
) -> tuple[go.Figure, go.Figure, go.Figure, str]:
    """One decoding step: raw scores, softmax weights, top next-token probabilities, and a sentence on them."""
    no_step = plots.message_figure(texts.NO_STEP)
    if translation is None or not translation.target_tokens:
        return no_step, no_step, no_step, ""
    index = min(max(int(step) - 1, 0), len(translation.target_tokens) - 1)
    story = f"<p>{html.escape(explain.step_story(translation, index, translator.config.output_size))}</p>"
    candidates = plots.candidate_bars(translation.steps[index], translation.target_tokens[index])
    if translation.attention is None or translation.scores is None:
        no_attention = plots.message_figure("No attention in this model.")
        return no_attention, no_attention, candidates, story
    source = translation.source_tokens
    scores = plots.score_bars(source, translation.scores[index])
    weights = plots.weight_bars(source, translation.attention[index])
    return scores, weights, candidates, story


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
