"""The page's words: fixed texts, and the About and side-by-side notes built from a model's config and metrics.

Plain Markdown with numbers from the model folder; never user input.
"""

from __future__ import annotations

import html
from pathlib import Path

from model import Translator, explain

TITLE = "English → Spanish, with attention"
INTRO = """# English → Spanish, and why
An LSTM encoder–decoder translates your sentence; the heatmap shows, for every Spanish piece it wrote,
how much it looked at each English piece (its **attention**). Step through one decoding step below the heatmap."""
STEP_INTRO = """### One decoding step
The decoder state h meets every English piece (scores) → softmax (attention weights) → weighted sum (context c)
→ tanh(W·[h; c]) → fully connected layer → next piece. Move the slider, or click a heatmap row, to pick the step."""
LENGTH_CAPTION = (
    "Does attention matter more for long sentences? BLEU (higher is better) on held-out sentences, "
    "grouped by the English sentence's length in words, for models trained the same way with and without attention."
)
MERGE_INFO = (
    "Pieces are SentencePiece subwords; ▁ starts a word. Merged: a word's rows are averaged, "
    "its columns summed, so each row still sums to 100%."
)
TRANSLATE_FIRST = "Translate a sentence to see where the model looks."
COVERAGE_LABEL = "Attention each English word received"
TYPE_SOMETHING = "Type an English sentence, then press Translate."
EXAMPLES = [
    "Let's go.",
    "Don't smoke so often, it will have a strong effect on your lungs and lead to more serious complications.",
    "I would like a cup of coffee, please.",
    "Where is the train station?",
    "She has been reading the same book for three weeks.",
    "The children were playing in the garden when it started to rain.",
]
TEST_SETS = {
    "test_split": "held-out corpus sentences",
    "tatoeba": "Tatoeba-Challenge test",
    "tatoeba_unseen": "Tatoeba-Challenge, English unseen in training",
}


COVERAGE_REPORT = Path(__file__).resolve().parents[2] / "assets" / "results" / "coverage.json"  # bench/coverage.py


def end_marker_markdown(report: Path = COVERAGE_REPORT) -> str:
    """What </s> is and why attention parks there, with the measured share where bench/coverage.py has run."""
    measured = explain.end_marker_summary(explain.read_json(report))
    return html.escape(f"{explain.EOS_EXPLANATION} {measured}".strip(), quote=False)


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


def training_markdown(translator: Translator, metrics: dict) -> str:
    """What the model trained on, for how long, and how."""
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
    return trained


def about_markdown(translator: Translator) -> str:
    """Model facts from its config and metrics.json; numbers only, no user input."""
    config, metrics = translator.config, model_metrics(translator)
    return f"""
### The model
An LSTM encoder–decoder with {config.attention} attention: {translator.model.parameter_count():,} parameters;
embeddings {config.embed_dim}, bidirectional encoder {config.encoder_hidden}×2, decoder {config.decoder_hidden},
combine layer {config.combine_dim}; {vocabulary_markdown(config)}; inputs longer than
{translator.max_input_tokens} pieces are truncated.
Trained on {training_markdown(translator, metrics)}.

### Measured quality
{scores_markdown(metrics or None, translator.int8)}

### Data and licences
Sentence pairs from the [Tatoeba Project](https://tatoeba.org), distributed by
[manythings.org/anki](https://www.manythings.org/anki/), licensed under
[CC-BY 2.0](https://creativecommons.org/licenses/by/2.0/). Thanks to the Tatoeba contributors.
The code is under the MIT licence.

### More
How it was built, trained and measured: README.md and the docs/ folder beside app.py (docs/page.md describes
this page and its API).
"""
