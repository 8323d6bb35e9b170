"""Turning a ``Translation`` into things a person can read, independent of any UI.

* subword pieces merged into words, with the attention matrix merged to match;
* the attention matrix as CSV or JSON text;
* one decoding step told in plain sentences, with the model's own numbers;
* summaries of ``metrics.json`` and ``length_analysis.json``, including a
  paragraph about attention and sentence length generated from the measurements.

Everything returns plain text (never HTML): the caller escapes it for its medium.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .translator import Translation

WORD_START = "\u2581"  # SentencePiece's "▁": the piece begins a new word
SPECIAL_PIECES = ("</s>", "<s>")  # always a word of their own


# --- pieces -> words ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionView:
    """What a heatmap shows: row labels (target), column labels (source) and the matrices.

    ``weights`` and ``scores`` have shape (len(target), len(source)); ``None`` for a model without attention.
    """

    source: list[str]
    target: list[str]
    weights: np.ndarray | None
    scores: np.ndarray | None
    unit: str  # "pieces" or "words"


def word_groups(pieces: list[str]) -> list[list[int]]:
    """Indices of the pieces that make up each word: a word starts at a piece beginning with "▁".

    End-of-sentence markers stay words of their own; pieces before the first "▁" form the first word.
    """
    groups: list[list[int]] = []
    for index, piece in enumerate(pieces):
        previous_special = bool(groups) and pieces[groups[-1][-1]] in SPECIAL_PIECES
        if not groups or piece.startswith(WORD_START) or piece in SPECIAL_PIECES or previous_special:
            groups.append([index])
        else:
            groups[-1].append(index)
    return groups


def word_label(pieces: list[str], group: list[int]) -> str:
    """The word the pieces spell, without SentencePiece's space marker ("▁" alone stays visible)."""
    text = "".join(pieces[i] for i in group)
    return text.replace(WORD_START, "") or WORD_START


def merge_matrix(
    matrix: np.ndarray, row_groups: list[list[int]], column_groups: list[list[int]], columns: str
) -> np.ndarray:
    """Rows of a word's target pieces are averaged; its source-piece columns are summed or averaged.

    Summing columns keeps each row of an attention matrix summing to 1 (weight on a word = weight on its pieces);
    averaging suits raw scores, which are not a distribution.
    """
    reduce_columns = np.sum if columns == "sum" else np.mean
    rows = np.stack([matrix[group].mean(axis=0) for group in row_groups]) if row_groups else matrix[:0]
    merged = [reduce_columns(rows[:, group], axis=1) for group in column_groups]
    return np.stack(merged, axis=1).astype(np.float32) if merged else np.zeros((len(row_groups), 0), np.float32)


def attention_view(translation: Translation, merge_words: bool = False) -> AttentionView:
    """The heatmap's data, per piece or per word.

    Per word: attention rows of a word's target pieces are averaged and columns of a word's source pieces summed,
    so rows still sum to 1; raw scores are averaged both ways.
    """
    source, target = translation.source_tokens, translation.target_tokens
    if not merge_words:
        return AttentionView(list(source), list(target), translation.attention, translation.scores, "pieces")
    source_groups, target_groups = word_groups(source), word_groups(target)
    weights, scores = translation.attention, translation.scores
    return AttentionView(
        source=[word_label(source, g) for g in source_groups],
        target=[word_label(target, g) for g in target_groups],
        weights=None if weights is None else merge_matrix(weights, target_groups, source_groups, "sum"),
        scores=None if scores is None else merge_matrix(scores, target_groups, source_groups, "mean"),
        unit="words",
    )


# --- exports -----------------------------------------------------------------------------------------------


def attention_csv(view: AttentionView) -> str:
    """One header row of source labels, then one row per target label with its weights. Plain text, not HTML."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["target \\ source", *view.source])
    if view.weights is not None:
        for label, row in zip(view.target, view.weights):
            writer.writerow([label, *(f"{value:.5f}" for value in row)])
    return buffer.getvalue()


def attention_json(translation: Translation, view: AttentionView) -> str:
    """The shown matrix with its labels, plus the sentence pair it belongs to."""

    def rounded(matrix: np.ndarray | None) -> list | None:
        return None if matrix is None else np.round(matrix.astype(float), 5).tolist()

    data = {
        "source": translation.source_text,
        "translation": translation.text,
        "unit": view.unit,
        "source_labels": view.source,
        "target_labels": view.target,
        "attention": rounded(view.weights),
        "scores": rounded(view.scores),
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


# --- one decoding step in words ----------------------------------------------------------------------------


def percent(value: float) -> str:
    return f"{100 * value:.0f}%" if value >= 0.01 else f"{100 * value:.1f}%"


def _strongest(labels: list[str], values: np.ndarray, count: int = 2) -> list[tuple[str, float]]:
    order = np.argsort(-values, kind="stable")[:count]
    return [(labels[i], float(values[i])) for i in order]


def _written_token(translation: Translation, step: int) -> str:
    token = translation.target_tokens[step]
    candidates = dict(translation.steps[step]) if step < len(translation.steps) else {}
    if token in candidates:
        return f"It wrote “{token}” ({percent(candidates[token])})."
    return f"It wrote “{token}”, outside the top {len(candidates)}: beam search picks the best whole sentence."


def step_story(translation: Translation, step: int, vocabulary: int) -> str:
    """Two or three sentences on what happened at output step ``step`` (0-based), with the model's numbers."""
    if not translation.target_tokens:
        return "Translate a sentence to step through its decoding."
    step = min(max(step, 0), len(translation.target_tokens) - 1)
    top = translation.steps[step][:3] if step < len(translation.steps) else []
    candidates = ", ".join(f"“{piece}” {percent(p)}" for piece, p in top)
    head = f"Step {step + 1} of {len(translation.target_tokens)}."
    ending = (
        f"A fully connected layer turns that into probabilities over the {vocabulary:,} pieces it can write "
        f"(top: {candidates}). {_written_token(translation, step)}"
    )
    if translation.attention is None or translation.scores is None:
        return f"{head} This model has no attention: its decoder state alone passes through tanh(W·h). {ending}"
    scores, weights, source = translation.scores[step], translation.attention[step], translation.source_tokens
    strongest = ", ".join(f"“{piece}” {percent(weight)}" for piece, weight in _strongest(source, weights, 2))
    attention = (
        f"The decoder compared its state with each of the {len(source)} source pieces (raw scores "
        f"{float(scores.min()):.2f} to {float(scores.max()):.2f}); softmax turned them into weights summing to 100%: "
        f"{strongest}."
    )
    combine = (
        "The weighted sum of the encoder outputs (the context) is combined with the decoder state by tanh(W·[h; c])."
    )
    return f"{head} {attention} {combine} {ending}"


# --- metrics.json and length_analysis.json ----------------------------------------------------------------


def read_json(path: str | Path) -> dict | None:
    """The parsed file, or None when it is missing or unreadable (the page then says "not measured yet")."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class ScoreLine:
    decoding: str  # "greedy", "beam5"
    test_set: str  # "test_split", "tatoeba", "tatoeba_unseen"
    bleu: float
    chrf: float
    sentences: int


def score_lines(metrics: dict | None, int8: bool = False) -> list[ScoreLine]:
    """Overall BLEU/chrF per decoding and test set from metrics.json; [] when not measured yet.

    With ``int8`` the scores measured with int8 decoding are shown where metrics.json has them.
    """
    metrics = metrics or {}
    scores = (metrics.get("scores_int8") if int8 else None) or metrics.get("scores") or {}
    lines = []
    for decoding, sets in scores.items():
        for test_set, result in (sets or {}).items():
            overall = (result or {}).get("overall") if isinstance(result, dict) else None
            if isinstance(overall, dict) and "bleu" in overall:
                lines.append(
                    ScoreLine(
                        decoding,
                        test_set,
                        overall["bleu"],
                        overall.get("chrf", float("nan")),
                        overall.get("sentences", 0),
                    )
                )
    return lines


@dataclass(frozen=True)
class LengthSeries:
    """BLEU by source-length bucket for one model."""

    model: str  # folder name, e.g. "en-es-noattn"
    attention: str  # "cosine", "dot", "none", ...
    buckets: list[str]  # "1-5", "6-10", ..., "21+"
    bleu: list[float]
    sentences: list[int]

    @property
    def label(self) -> str:
        return "no attention" if self.attention == "none" else f"attention ({self.attention})"


def length_series(analysis: dict | None, test_set: str = "test_split") -> list[LengthSeries]:
    """One series per model in length_analysis.json with buckets for ``test_set``; attention models first."""
    series = []
    for name, report in ((analysis or {}).get("models") or {}).items():
        buckets = [b for b in ((report or {}).get(test_set) or {}).get("buckets", []) if "bleu" in b]
        if buckets:
            bleu, sentences = [b["bleu"] for b in buckets], [b.get("sentences", 0) for b in buckets]
            series.append(
                LengthSeries(name, report.get("attention", "?"), [b["words"] for b in buckets], bleu, sentences)
            )
    return sorted(series, key=lambda s: s.attention == "none")


def bucket_index(buckets: list[str], words: int) -> int | None:
    """Which bucket label ("6-10", "21+") holds a sentence of ``words`` words."""
    for index, label in enumerate(buckets):
        low, _, high = label.rstrip("+").partition("-")
        if words >= int(low) and (label.endswith("+") or words <= int(high or low)):
            return index
    return None


GAP_CHANGE = 1.0  # BLEU points: smaller changes in the gap are within noise for buckets of a few hundred sentences


def length_story(series: list[LengthSeries]) -> str:
    """A plain paragraph on what the measured BLEU-by-length curves show; it follows the data, whatever it says."""
    attended = next((s for s in series if s.attention != "none"), None)
    baseline = next((s for s in series if s.attention == "none"), None)
    if attended is None or baseline is None:
        return _single_model_story(attended or baseline)
    shared = [b for b in attended.buckets if b in baseline.buckets]
    if len(shared) < 2:
        return "The two models were measured on too few length buckets to compare short and long sentences."
    first, last = shared[0], shared[-1]
    gap_first, gap_last = (_gap(attended, baseline, b) for b in (first, last))
    numbers = (
        f"On the shortest sentences ({first} words) the attention model scores {_bleu(attended, first)} BLEU and the "
        f"no-attention model {_bleu(baseline, first)}, a gap of {gap_first:+.1f} points; on the longest ({last} words, "
        f"{_count(attended, last)} sentences) they score {_bleu(attended, last)} and {_bleu(baseline, last)}, "
        f"a gap of {gap_last:+.1f}."
    )
    return f"{numbers} {_gap_meaning(gap_first, gap_last)}"


def _gap(a: LengthSeries, b: LengthSeries, bucket: str) -> float:
    return a.bleu[a.buckets.index(bucket)] - b.bleu[b.buckets.index(bucket)]


def _bleu(series: LengthSeries, bucket: str) -> str:
    return f"{series.bleu[series.buckets.index(bucket)]:.1f}"


def _count(series: LengthSeries, bucket: str) -> int:
    return series.sentences[series.buckets.index(bucket)]


def _gap_meaning(gap_first: float, gap_last: float) -> str:
    """What the change of the gap from shortest to longest bucket means, without forcing the textbook story."""
    if gap_last <= 0 and gap_first <= 0:
        return (
            "The attention model is not ahead at either end here, so this measurement does not show attention helping."
        )
    if gap_last - gap_first >= GAP_CHANGE:
        return (
            "The gap grows with length: without attention the decoder must carry the whole English sentence in one "
            "fixed-size vector, and the longer the sentence, the more of it gets lost. Attention lets every step look "
            "back at all the source words."
        )
    if gap_first - gap_last >= GAP_CHANGE and gap_last <= 0:
        return (
            "On the longest sentences the no-attention model catches up: here attention's advantage is on short ones."
        )
    if gap_first - gap_last >= GAP_CHANGE:
        return "The gap shrinks on long sentences: in this measurement attention helps short sentences more."
    return (
        "The gap stays about the same from short to long sentences: attention helps, but in this measurement the "
        "no-attention model does not fall further behind as sentences get longer."
    )


def _single_model_story(series: LengthSeries | None) -> str:
    if series is None:
        return "Not measured yet: python -m model.evaluate writes assets/length_analysis.json."
    first, last = series.buckets[0], series.buckets[-1]
    return (
        f"Only the {series.label} model has been measured so far: {_bleu(series, first)} BLEU on {first}-word "
        f"sentences and {_bleu(series, last)} on {last}-word ones. The comparison appears once both are measured."
    )
