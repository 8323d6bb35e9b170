"""Web page: English -> Spanish with an LSTM encoder-decoder, and its attention on show.

    python app.py                     # http://127.0.0.1:7860
    python app.py --port 8000 --share # temporary public link (needs network)

UI only: translation, figures and texts come from model/. Environment:
TRANSLATOR_MODEL_DIR (default assets/en-es), TRANSLATOR_BASELINE_DIR (default assets/en-es-noattn),
TRANSLATOR_LENGTH_ANALYSIS (default assets/length_analysis.json), TRANSLATOR_THREADS (torch threads, default 1).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: never call home
# gradio keeps a record of the last N requests for its monitoring page (default 10,000, ~5 KB each): 1,000 is plenty
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

import gradio as gr
import plotly.graph_objects as go
import torch

from model import ModelLoadError, Translation, Translator, explain, plots
from model.malloc import few_arenas

few_arenas(2)  # before the server's threads start: see model/malloc.py

ROOT = Path(__file__).resolve().parent
MODEL_DIR = os.environ.get("TRANSLATOR_MODEL_DIR") or str(ROOT / "assets" / "en-es")
BASELINE_DIR = Path(os.environ.get("TRANSLATOR_BASELINE_DIR") or ROOT / "assets" / "en-es-noattn")
LENGTH_ANALYSIS = Path(os.environ.get("TRANSLATOR_LENGTH_ANALYSIS") or ROOT / "assets" / "length_analysis.json")
EXPORT_DIR = Path(tempfile.gettempdir()) / "translator-exports"
GREEDY, BEAM = "Greedy", "Beam search"
TRANSLATE_FIRST = "Translate a sentence to see where the model looks."
NO_STEP = plots.message_figure("No step to show yet.")
EXAMPLES = [
    "Let's go.",
    "Don't smoke so often, it will have a strong effect on your lungs and lead to more serious complications.",
    "I would like a cup of coffee, please.",
    "Where is the train station?",
    "She has been reading the same book for three weeks.",
    "The children were playing in the garden when it started to rain.",
]

# One thread per request: parallelism comes from concurrent requests (torch releases the GIL). Measured on 2 busy
# cores, a 10-word sentence took 22 ms with 1 thread and 590 ms (p50) with 2, which spin-waited on each other.
torch.set_num_threads(int(os.environ.get("TRANSLATOR_THREADS", "1")))

try:  # ZeroGPU on Hugging Face Spaces: GPU work must run inside spaces.GPU; elsewhere nothing changes
    import spaces

    gpu = spaces.GPU
except ImportError:

    def gpu(function):
        return function


def load_translators() -> tuple[Translator, Translator | None]:
    """The attention model (required: exit 1 with its message if broken) and the optional no-attention baseline."""
    try:
        main = Translator.load(MODEL_DIR, device="auto")
    except ModelLoadError as error:
        print(f"error: cannot start the translator: {error}", file=sys.stderr)
        sys.exit(1)
    if not BASELINE_DIR.is_dir() or BASELINE_DIR.resolve() == Path(MODEL_DIR).resolve():
        return main, None
    try:
        return main, Translator.load(BASELINE_DIR, device="auto")
    except ModelLoadError as error:
        print(f"warning: no-attention comparison disabled: {error}", file=sys.stderr)
        return main, None


TRANSLATOR, BASELINE = load_translators()
MAX_LENGTH = TRANSLATOR.config.max_target_tokens
LENGTH_SERIES = explain.length_series(explain.read_json(LENGTH_ANALYSIS))
LENGTH_CAPTION = (
    "Does attention matter more for long sentences? BLEU (higher is better) on held-out sentences, "
    "grouped by the English sentence's length in words, for models trained the same way with and without attention."
)


# --- handlers (plain functions: the tests call them directly) ---------------------------------------------


@gpu
def run_translation(
    text: str, beam_size: int = 1, max_length: int | None = None, baseline: bool = False
) -> Translation:
    """All model work goes through here (the one function ZeroGPU needs to wrap; arguments stay small to pickle)."""
    translator = BASELINE if baseline and BASELINE is not None else TRANSLATOR
    return translator.translate(str(text or ""), beam_size=beam_size, max_length=max_length)


def notes_of(translation: Translation) -> list[str]:
    if not translation.source_tokens:
        return ["Type an English sentence, then press Translate."]
    return list(translation.notes)


def translate(
    text: str, decoding: str = GREEDY, beam_size: float = 5, max_length: float | None = None
) -> tuple[str, dict, Translation]:
    """The API endpoint: Spanish text, JSON (tokens, attention, scores, steps, notes), and the page's Translation."""
    beam = int(beam_size) if decoding == BEAM else 1
    limit = None if max_length is None or int(max_length) >= MAX_LENGTH else max(1, int(max_length))
    result = run_translation(text, beam, limit)
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
        return without_heatmap(TRANSLATE_FIRST)
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


def show_step(translation: Translation | None, step: float) -> tuple[go.Figure, go.Figure, go.Figure, str]:
    """One decoding step: raw scores, softmax weights, top next-token probabilities, and a sentence on them."""
    if translation is None or not translation.target_tokens:
        return NO_STEP, NO_STEP, NO_STEP, ""
    index = min(max(int(step) - 1, 0), len(translation.target_tokens) - 1)
    story = f"<p>{html.escape(explain.step_story(translation, index, TRANSLATOR.config.output_size))}</p>"
    candidates = plots.candidate_bars(translation.steps[index], translation.target_tokens[index])
    if translation.attention is None or translation.scores is None:
        no_attention = plots.message_figure("No attention in this model.")
        return no_attention, no_attention, candidates, story
    source = translation.source_tokens
    scores = plots.score_bars(source, translation.scores[index])
    weights = plots.weight_bars(source, translation.attention[index])
    return scores, weights, candidates, story


def length_figure(words: int | None = None) -> go.Figure:
    """BLEU by sentence length for each measured model, marking the bucket of a ``words``-word sentence."""
    if not LENGTH_SERIES:
        return plots.message_figure("Not measured yet: python -m model.evaluate writes assets/length_analysis.json.")
    highlight = None
    if words:
        index = explain.bucket_index(LENGTH_SERIES[0].buckets, words)
        highlight = None if index is None else LENGTH_SERIES[0].buckets[index]
    return plots.length_chart(
        [s.label for s in LENGTH_SERIES], [s.buckets for s in LENGTH_SERIES], [s.bleu for s in LENGTH_SERIES], highlight
    )


def compare(text: str) -> tuple[go.Figure, str, str]:
    """The visitor's sentence through both models, and the length chart marking where it falls."""
    attended = run_translation(text)
    if not attended.source_tokens:
        return length_figure(), "Type an English sentence first.", ""
    baseline = (
        run_translation(text, baseline=True).text if BASELINE else "(the no-attention model is not available here)"
    )
    return length_figure(len(attended.source_text.split())), attended.text, baseline


def model_metrics(translator: Translator) -> dict:
    """The model folder's metrics.json, or {} where it has none."""
    return explain.read_json(Path(translator.path) / "metrics.json") or {}


def was_distilled(metrics: dict) -> bool:
    """Trained on a larger model's translations (python -m model.train --distill-from)."""
    return bool((metrics.get("config") or {}).get("distill_from"))


def budget_note(translator: Translator, baseline: Translator | None) -> str:
    """How long each side-by-side model trained, from its metrics.json, so the comparison is read fairly."""

    def epochs(model: Translator) -> str:
        metrics = model_metrics(model)
        count = metrics.get("epochs_total", metrics.get("epochs"))
        budget = f"{count} epochs" if count is not None else "an unrecorded budget"
        if was_distilled(metrics):
            budget += ", learning from a larger model's translations"
        return budget

    if baseline is None:
        return ""
    return (
        f"The attention model here is the shipped one ({epochs(translator)}); the no-attention model trained "
        f"{epochs(baseline)}. The chart above compares models that all trained the same number of epochs."
    )


# --- static texts -------------------------------------------------------------------------------------------


TEST_SETS = {
    "test_split": "held-out corpus sentences",
    "tatoeba": "Tatoeba-Challenge test",
    "tatoeba_unseen": "Tatoeba-Challenge, English unseen in training",
}


def scores_markdown(metrics: dict | None, int8: bool = False) -> str:
    lines = explain.score_lines(metrics, int8)
    if not lines:
        return "Not measured yet: the scores appear when training finishes and writes metrics.json."
    rows = [
        f"| {s.decoding} | {TEST_SETS.get(s.test_set, s.test_set)} | {s.bleu:.1f} | {s.chrf:.1f} | {s.sentences:,} |"
        for s in lines
    ]
    header = ["| decoding | test set | BLEU | chrF | sentences |", "|---|---|---|---|---|"]
    decoding = "int8 decoding, as this page runs" if int8 else "float32 decoding"
    note = f"BLEU and chrF by sacreBLEU with its default settings ({decoding}); higher is better."
    return "\n".join([*header, *rows, "", note])


def vocabulary_markdown(config) -> str:
    output = (
        f"; the output layer scores the {config.output_pieces:,} pieces that occur in the Spanish training text"
        if config.output_pieces
        else ""
    )
    if config.shared_embeddings:
        return (
            f"one SentencePiece vocabulary of {config.tgt_vocab_size:,} pieces for both languages, "
            f"with one embedding table shared by the encoder, the decoder and the output layer{output}"
        )
    sizes = f"{config.src_vocab_size:,} English and {config.tgt_vocab_size:,} Spanish pieces"
    return f"SentencePiece vocabularies of {sizes}{output}"


def about_markdown(translator: Translator) -> str:
    """Model facts from its config and metrics.json; numbers only, no user input."""
    config, metrics = translator.config, model_metrics(translator)
    data = metrics.get("data") or {}
    trained = f"{data['train']:,} sentence pairs" if "train" in data else "English–Spanish sentence pairs"
    hardware = metrics.get("hardware", "a CPU")
    if "training_minutes_total" in metrics:  # continued from an earlier model (python -m model.train --init-from)
        trained += f" in {metrics['training_minutes_total']:.0f} minutes over {metrics['epochs_total']} epochs"
        if metrics.get("epochs"):  # 0: the run only converted its starting model (e.g. --seen-output-only)
            trained += f" (the last {metrics['training_minutes']:.0f} minutes on {hardware})"
    elif "training_minutes" in metrics:
        trained += f" in {metrics['training_minutes']:.0f} minutes on {hardware}"
    if was_distilled(metrics):
        trained += ", their Spanish side translated by a larger model it learned from (knowledge distillation)"
    return f"""
### The model
An LSTM encoder–decoder with {config.attention} attention: {translator.model.parameter_count():,} parameters;
embeddings {config.embed_dim}, bidirectional encoder {config.encoder_hidden}×2, decoder {config.decoder_hidden},
combine layer {config.combine_dim}; {vocabulary_markdown(config)}; inputs longer than
{translator.max_input_tokens} pieces are truncated.
Trained on {trained}.

### Measured quality
{scores_markdown(metrics or None, translator.int8)}

### Data
Sentence pairs from the [Tatoeba Project](https://tatoeba.org), distributed by
[manythings.org/anki](https://www.manythings.org/anki/), licensed under
[CC-BY 2.0 (France)](https://creativecommons.org/licenses/by/2.0/fr/). Thanks to the Tatoeba contributors.

### More
How it was built, trained and measured: see the README in this Space's repository (Files tab).
"""


CSS = """
.chips {display: flex; flex-wrap: wrap; gap: 4px; align-items: center; margin: 2px 0;}
.chips-title {font-weight: 600; margin-right: 6px;}
.chip {font-family: var(--font-mono); font-size: 0.85em; padding: 1px 6px; border-radius: 6px; white-space: pre;
       border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);}
.notice {padding: 6px 10px; margin: 4px 0; border-left: 3px solid var(--color-accent);
         background: var(--background-fill-secondary); border-radius: 4px;}
/* A long sentence on a phone: the heatmap keeps a legible width and scrolls sideways inside its box. */
#attention-plot {overflow-x: auto !important;}
#attention-plot [data-testid="plotly"] {min-width: 480px;}
"""
LAUNCH_OPTIONS = dict(theme=gr.themes.Default(), css=CSS)
STEP_INTRO = """### One decoding step
Score every English piece → softmax → weighted sum (context) → combine with the decoder state → fully connected layer
→ next piece. Move the slider to pick the step."""
INTRO = """# English → Spanish, and why
An LSTM encoder–decoder translates your sentence; the heatmap shows, for every Spanish piece it wrote,
how much it looked at each English piece (its **attention**). Step through one decoding step below the heatmap."""


# --- layout ------------------------------------------------------------------------------------------------

with gr.Blocks(title="English → Spanish, with attention", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
    gr.Markdown(INTRO)
    last = gr.State(None, time_to_live=3600)  # API sessions never close a tab: expire their last translation
    with gr.Tab("Translate"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                source = gr.Textbox(
                    label="English",
                    placeholder="Type a sentence and press Enter",
                    lines=1,
                    max_lines=4,
                    elem_id="source",
                )
                translate_button = gr.Button("Translate", variant="primary")
                with gr.Accordion("Decoding options", open=False):
                    decoding = gr.Radio([GREEDY, BEAM], value=GREEDY, label="Search")
                    beam_size = gr.Slider(2, 10, value=5, step=1, label="Beam size", info="Used by beam search.")
                    max_length = gr.Slider(
                        5, MAX_LENGTH, value=MAX_LENGTH, step=1, label="Maximum output length (pieces)"
                    )
            with gr.Column(scale=1, min_width=280):
                spanish = gr.Textbox(label="Spanish", interactive=False, lines=2, buttons=["copy"], elem_id="spanish")
                notice = gr.HTML(elem_id="notice")
        examples = gr.Examples([[e] for e in EXAMPLES], inputs=[source], label="Examples", api_visibility="private")
        source_chips = gr.HTML(chips_html("English pieces", []), elem_id="source-pieces")
        target_chips = gr.HTML(chips_html("Spanish pieces", []), elem_id="target-pieces")
        merge = gr.Checkbox(
            label="Merge pieces into words",
            value=False,
            info="Pieces are SentencePiece subwords; ▁ starts a word. Merged: a word's rows are averaged, "
            "its columns summed, so each row still sums to 100%.",
        )
        heatmap = gr.Plot(plots.message_figure(TRANSLATE_FIRST), label="Attention", elem_id="attention-plot")
        with gr.Row():
            csv_button = gr.DownloadButton("Download CSV", interactive=False, size="sm")
            json_button = gr.DownloadButton("Download JSON", interactive=False, size="sm")
        gr.Markdown(STEP_INTRO)
        step = gr.Slider(1, 2, value=1, step=1, label="Output step", interactive=False, elem_id="step")
        story = gr.HTML(elem_id="step-story")
        with gr.Row():
            score_plot = gr.Plot(NO_STEP, label="1. Raw scores", scale=2, min_width=300)
            weight_plot = gr.Plot(NO_STEP, label="2. Softmax weights", scale=2, min_width=300)
            candidate_plot = gr.Plot(NO_STEP, label="3. Next piece", scale=1, min_width=220)
        with gr.Accordion("API answer (JSON)", open=False):
            api_json = gr.JSON(label="Client(url).predict(text, api_name='/translate')")

    with gr.Tab("Why attention?"):
        gr.Markdown(f"{LENGTH_CAPTION}\n\n{explain.length_story(LENGTH_SERIES)}")
        length_plot = gr.Plot(length_figure(), label="BLEU by sentence length")
        compare_source = gr.Textbox(label="Your sentence", value=EXAMPLES[1], lines=1, max_lines=4)
        compare_button = gr.Button("Translate with both models", variant="primary")
        with gr.Row():
            attended_text = gr.Textbox(
                label=f"With attention ({TRANSLATOR.config.attention})", interactive=False, lines=2
            )
            baseline_text = gr.Textbox(label="Without attention", interactive=False, lines=2)
        gr.Markdown(budget_note(TRANSLATOR, BASELINE))

    with gr.Tab("About"):
        gr.Markdown(about_markdown(TRANSLATOR))

    translate_inputs = [source, decoding, beam_size, max_length]
    translate_outputs = [spanish, api_json, last]
    render_outputs = [notice, source_chips, target_chips, heatmap, csv_button, json_button, step]
    step_outputs = [score_plot, weight_plot, candidate_plot, story]
    private = dict(api_visibility="private")

    def then_render(event):
        """After a translation: the rest of the tab, then the first decoding step."""
        event.then(render, [last, merge], render_outputs, **private).then(
            show_step, [last, step], step_outputs, **private
        )

    then_render(
        gr.on(
            [translate_button.click, source.submit],
            translate,
            translate_inputs,
            translate_outputs,
            api_name="translate",
        )
    )
    then_render(examples.load_input_event.then(translate, translate_inputs, translate_outputs, **private))
    merge.change(show_heatmap, [last, merge], [heatmap, csv_button, json_button], **private)
    # always_last: while one step is drawing, a quick drag still ends on the step the slider shows
    step.input(show_step, [last, step], step_outputs, trigger_mode="always_last", **private)
    gr.on(
        [compare_button.click, compare_source.submit],
        compare,
        [compare_source],
        [length_plot, attended_text, baseline_text],
        api_name="compare",
    )

# status_update_rate: queue positions every 5 s instead of a broadcast to every waiting client after each 30 ms job.
demo.queue(default_concurrency_limit=4, max_size=64, status_update_rate=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="English -> Spanish translation with attention, as a web page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 on Hugging Face Spaces)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    args = parser.parse_args(argv)
    host = "0.0.0.0" if os.environ.get("SPACE_ID") else args.host
    demo.launch(server_name=host, server_port=args.port, share=args.share, **LAUNCH_OPTIONS)


if __name__ == "__main__":
    main()
