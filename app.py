"""Web page: English -> Spanish with an LSTM encoder-decoder, and its attention on show.

    python app.py                     # http://127.0.0.1:7860
    python app.py --port 8000 --share # temporary public link (needs network)

UI only: the layout and its events. Texts, handlers and CSS live in model/web/; translation and figures in model/.
Environment: TRANSLATOR_MODEL_DIR (default assets/en-es), TRANSLATOR_BASELINE_DIR (default assets/en-es-noattn),
TRANSLATOR_LENGTH_ANALYSIS (default assets/length_analysis.json), TRANSLATOR_THREADS (torch threads, default 1).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: never call home
# gradio keeps a record of the last N requests for its monitoring page (default 10,000, ~5 KB each): 1,000 is plenty
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

from model.web.gradio_import import skip_stub_writing

skip_stub_writing()  # before gradio is first imported: half of its import time (model/web/gradio_import.py)

import gradio as gr  # noqa: E402
import torch  # noqa: E402

from model import ModelLoadError, Translator, explain, plots  # noqa: E402
from model.malloc import few_arenas  # noqa: E402
from model.web import handlers, texts  # noqa: E402

ROOT = Path(__file__).resolve().parent
MODEL_DIR = Path(os.environ.get("TRANSLATOR_MODEL_DIR") or ROOT / "assets" / "en-es")
BASELINE_DIR = Path(os.environ.get("TRANSLATOR_BASELINE_DIR") or ROOT / "assets" / "en-es-noattn")
LENGTH_ANALYSIS = Path(os.environ.get("TRANSLATOR_LENGTH_ANALYSIS") or ROOT / "assets" / "length_analysis.json")
CSS = (ROOT / "model" / "web" / "style.css").read_text(encoding="utf-8")
STEP_PANEL = (ROOT / "model" / "web" / "step_panel.js").read_text(encoding="utf-8")
LAUNCH_OPTIONS = dict(theme=gr.themes.Default(), css=CSS)


def build_demo(
    translator: Translator, baseline: Translator | None, length_analysis: Path = LENGTH_ANALYSIS
) -> gr.Blocks:
    """The whole page for one attention model and an optional no-attention baseline (the "Why attention?" tab)."""
    series = explain.length_series(explain.read_json(length_analysis))
    max_length = translator.config.max_target_tokens
    with gr.Blocks(title=texts.TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(texts.INTRO)
        last = gr.State(None, time_to_live=3600)  # API sessions never close a tab: expire their last translation
        with gr.Tab("Translate"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=280):
                    source = gr.Textbox(
                        label="English", placeholder="Type a sentence and press Enter", lines=1, max_lines=4,
                        elem_id="source",
                    )  # fmt: skip
                    translate_button = gr.Button("Translate", variant="primary")
                    with gr.Accordion("Decoding options", open=False):
                        decoding = gr.Radio([handlers.GREEDY, handlers.BEAM], value=handlers.GREEDY, label="Search")
                        beam_size = gr.Slider(2, 10, value=5, step=1, label="Beam size", info="Used by beam search.")
                        length = gr.Slider(
                            5, max_length, value=max_length, step=1, label="Maximum output length (pieces)"
                        )
                with gr.Column(scale=1, min_width=280):
                    spanish = gr.Textbox(
                        label="Spanish", interactive=False, lines=2, buttons=["copy"], elem_id="spanish"
                    )
                    notice = gr.HTML(elem_id="notice")
            examples = gr.Examples(
                [[e] for e in texts.EXAMPLES], inputs=[source], label="Examples", api_visibility="private"
            )
            source_chips = gr.HTML(handlers.chips_html("English pieces", []), elem_id="source-pieces")
            target_chips = gr.HTML(handlers.chips_html("Spanish pieces", []), elem_id="target-pieces")
            merge = gr.Checkbox(label="Merge pieces into words", value=False, info=texts.MERGE_INFO, elem_id="merge")
            # Drawn once at load; each translation's figures are then drawn into them by step_panel.js.
            with gr.Row(equal_height=False):
                gr.Plot(
                    plots.message_figure(texts.TRANSLATE_FIRST), label="Attention", elem_id="attention-plot", scale=3
                )
                gr.Plot(
                    plots.message_figure(texts.TRANSLATE_FIRST), label=texts.COVERAGE_LABEL, elem_id="coverage-plot",
                    scale=1, min_width=260,
                )  # fmt: skip
            with gr.Row():
                csv_button = gr.DownloadButton("Download CSV", interactive=False, size="sm")
                json_button = gr.DownloadButton("Download JSON", interactive=False, size="sm")
            with gr.Accordion("What is </s>?", open=False):
                gr.Markdown(texts.end_marker_markdown())
            gr.Markdown(texts.STEP_INTRO)
            panel = gr.HTML(None, html_template='<div class="sp"></div>', js_on_load=STEP_PANEL, elem_id="step-panel")
            details = gr.JSON(label="translation details", visible=False)  # the API answer, for API clients only

        with gr.Tab("Why attention?"):
            gr.Markdown(f"{texts.LENGTH_CAPTION}\n\n{explain.length_story(series)}")
            length_plot = gr.Plot(handlers.length_figure(series), label="BLEU by sentence length")
            compare_source = gr.Textbox(label="Your sentence", value=texts.EXAMPLES[1], lines=1, max_lines=4)
            compare_button = gr.Button("Translate with both models", variant="primary")
            with gr.Row():
                attended_text = gr.Textbox(
                    label=f"With attention ({translator.config.attention})", interactive=False, lines=2
                )
                baseline_text = gr.Textbox(label="Without attention", interactive=False, lines=2)
            gr.Markdown(texts.budget_note(translator, baseline))

        with gr.Tab("About"):
            gr.Markdown(texts.about_markdown(translator))

        def translate(text: str, decoding: str, beam_size: float, max_length: float) -> tuple[str, dict]:
            return handlers.translate(translator, text, decoding, beam_size, max_length)[:2]

        def show(text: str, decoding: str, beam_size: float, max_length: float, merge_words: bool) -> Iterator[tuple]:
            yield from handlers.streamed_page(translator, text, decoding, beam_size, max_length, merge_words)

        def compare(text: str) -> tuple:
            return handlers.compare(translator, baseline, series, text)

        page_inputs = [source, decoding, beam_size, length, merge]
        page_outputs = [spanish, panel, notice, source_chips, target_chips, csv_button, json_button]
        private = dict(api_visibility="private", show_progress="hidden")  # no status overlay: it flashed over the plots
        # One event draws the whole tab; the step panel and the pieces/words switch then work in the browser. A new
        # search re-translates.
        show_triggers = [translate_button.click, source.submit, decoding.change, beam_size.release, length.release]
        gr.on(show_triggers, show, page_inputs, [*page_outputs, last], **private)
        examples.load_input_event.then(show, page_inputs, [*page_outputs, last], **private)
        merge.change(handlers.downloads, [last, merge], [csv_button, json_button], **private)  # heatmap: browser-side
        # API clients only (no trigger on the page); preprocess=False: checked_search reports bad values itself
        gr.on([], translate, page_inputs[:4], [spanish, details], api_name="translate", preprocess=False)
        gr.on(
            [compare_button.click, compare_source.submit], compare, [compare_source],
            [length_plot, attended_text, baseline_text], api_name="compare",
        )  # fmt: skip
    # status_update_rate: queue positions every 5 s instead of a broadcast to every waiting client after each 30 ms job.
    return demo.queue(default_concurrency_limit=4, max_size=64, status_update_rate=5)


def load_baseline() -> Translator | None:
    """The optional no-attention model for "Why attention?"; None (with a warning) if absent or broken."""
    if not BASELINE_DIR.is_dir() or BASELINE_DIR.resolve() == MODEL_DIR.resolve():
        return None
    try:
        return Translator.load(BASELINE_DIR, device="auto")
    except ModelLoadError as error:
        print(f"warning: no-attention comparison disabled: {error}", file=sys.stderr)
        return None


def load_models() -> tuple[Translator, Translator | None]:
    """The attention model (ModelLoadError if broken) and the baseline, loaded side by side: most of a load is
    checksums and int8 packing, which release the GIL, so on two cores the second load costs little start-up time."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        baseline = pool.submit(load_baseline)
        return Translator.load(MODEL_DIR, device="auto"), baseline.result()


# One thread per request: parallelism comes from concurrent requests (torch releases the GIL); two threads per
# request spin-wait on each other on 2 cores (docs/performance.md, "The page and load").
torch.set_num_threads(int(os.environ.get("TRANSLATOR_THREADS", "1")))
few_arenas(2)  # before the server's threads start: see model/malloc.py
try:  # Spaces (and `gradio app.py`) look for a module-level `demo`; a broken model is reported by main()
    TRANSLATOR, BASELINE = load_models()
    LOAD_ERROR = None
    demo = build_demo(TRANSLATOR, BASELINE)
except ModelLoadError as error:
    TRANSLATOR = BASELINE = demo = None
    LOAD_ERROR = error


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="English -> Spanish translation with attention, as a web page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 on Hugging Face Spaces)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    args = parser.parse_args(argv)
    if demo is None:
        sys.exit(f"error: cannot start the translator: {LOAD_ERROR}")
    host = "0.0.0.0" if os.environ.get("SPACE_ID") else args.host
    demo.launch(server_name=host, server_port=args.port, share=args.share, prevent_thread_lock=True, **LAUNCH_OPTIONS)
    handlers.warm_up(TRANSLATOR)  # while the first visitor's browser loads the page, not in their first translation
    demo.block_thread()


if __name__ == "__main__":
    main()
