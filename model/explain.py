"""Turning a ``Translation`` into things a person can read, independent of any UI.

* the attention matrix merged from subword pieces into words (model/words.py groups them);
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

import numpy as np

from .files import read_json  # noqa: F401  (explain.read_json: what the page calls)
from .translator import Translation
from .words import word_groups, word_label

# --- pieces -> words ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttentionView:
    """What a heatmap shows: row labels (target), column labels (source) and the matrices.

    ``attention`` and ``scores`` have shape (len(target), len(source)); ``None`` for a model without attention.
    """

    source: list[str]
    target: list[str]
    attention: np.ndarray | None
    scores: np.ndarray | None
    unit: str  # "pieces" or "words"


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
    attention, scores = translation.attention, translation.scores
    return AttentionView(
        source=[word_label(source, g) for g in source_groups],
        target=[word_label(target, g) for g in target_groups],
        attention=None if attention is None else merge_matrix(attention, target_groups, source_groups, "sum"),
        scores=None if scores is None else merge_matrix(scores, target_groups, source_groups, "mean"),
        unit="words",
    )


# --- exports -----------------------------------------------------------------------------------------------


def attention_csv(view: AttentionView) -> str:
    """One header row of source labels, then one row per target label with its attention. Plain text, not HTML."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["target \\ source", *view.source])
    if view.attention is not None:
        for label, row in zip(view.target, view.attention):
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
        "attention": rounded(view.attention),
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
    details = translation.step_details
    note = details.beam_note[step] if details is not None else None
    if token in candidates:
        wrote = f"It wrote “{token}” ({percent(candidates[token])})."
    else:
        wrote = f"It wrote “{token}”, outside the top {len(candidates)}: beam search picks the best whole sentence."
    if note:
        wrote = f"{wrote} {note}"
    if step == len(translation.target_tokens) - 1:
        if token == "</s>":
            return f"{wrote} That is the end-of-sentence marker: the translation is complete."
        if translation.stop_reason == "length":
            limit = translation.search.get("max_length")
            return f"{wrote} The length limit ({limit} pieces) stopped decoding here, before the model wrote </s>."
    return wrote


def _source_count(source: list[str]) -> str:
    """The source as the model read it, counted as the truncation note counts it (input pieces, then </s>)."""
    pieces = len(source) - 1 if source and source[-1] == "</s>" else len(source)
    return f"the {pieces} input piece{'s' if pieces != 1 else ''} and the end marker </s>"


def _range(values: np.ndarray, digits: int) -> str:
    return f"{float(values.min()):.{digits}f} to {float(values.max()):.{digits}f}"


def _attention_sentence(translation: Translation, step: int) -> str:
    """How the step's attention was formed: similarity, temperature and scores for cosine, the score otherwise."""
    source, details = translation.source_tokens, translation.step_details
    attention = translation.attention[step] if details is None else details.attention[step]
    scores = translation.scores[step] if details is None else details.scores[step]
    strongest = ", ".join(f"“{piece}” {percent(weight)}" for piece, weight in _strongest(source, attention, 2))
    compared = f"The decoder compared its state h with {_source_count(source)}"
    if details is not None and details.similarity is not None and translation.temperature is not None:
        formed = (
            f"{compared}: cosine similarity from {_range(details.similarity[step], 2)}; the learned temperature "
            f"×{translation.temperature:.1f} scales these into scores from {_range(scores, 1)}"
        )
    else:
        kind = "scaled cosine" if translation.score_function == "cosine" else translation.score_function
        formed = f"{compared} by its {kind} score (scores from {_range(scores, 2)})"
    parked = ""
    if source and int(np.argmax(attention)) == len(source) - 1 and source[-1] == "</s>":
        parked = " Most of the weight parks on </s>: the English holds nothing new for this piece."
    return f"{formed}; softmax turns the scores into attention summing to 100%: {strongest}.{parked}"


def step_story(translation: Translation, step: int, vocabulary: int) -> str:
    """A few sentences on what happened at output step ``step`` (0-based), with the model's numbers.

    With ``translation.step_details`` (``translate(..., details=True)``) it names the piece fed in, the
    vector sizes, the cosine similarity, the temperature and the scaled scores; without, the decoded scores.
    """
    if not translation.target_tokens:
        return "Translate a sentence to step through its decoding."
    step = min(max(step, 0), len(translation.target_tokens) - 1)
    details = translation.step_details
    top = translation.steps[step][:3] if step < len(translation.steps) else []
    candidates = ", ".join(f"“{piece}” {percent(p)}" for piece, p in top)
    head = f"Step {step + 1} of {len(translation.target_tokens)}."
    if details is not None:
        fed = "the start marker <s>" if step == 0 else f"“{details.fed[step]}” (the piece it wrote one step before)"
        head += f" The decoder was fed {fed} and updated its state h ({details.state.shape[1]} numbers)."
    ending = (
        f"A fully connected layer turns that into probabilities over the {vocabulary:,} pieces it can write "
        f"(top: {candidates}). {_written_token(translation, step)}"
    )
    if translation.attention is None or translation.scores is None:
        return f"{head} This model has no attention: its decoder state alone passes through tanh(W·h). {ending}"
    sizes = ""
    if details is not None and details.context is not None:
        sizes = f" ({details.context.shape[1]} numbers; the combined vector: {details.combined.shape[1]})"
    combine = (
        f"The attention-weighted sum of the encoder outputs, the context c{sizes}, is combined with h by "
        "tanh(W·[h; c])."
    )
    return f"{head} {_attention_sentence(translation, step)} {combine} {ending}"


# --- the end-of-sentence marker ----------------------------------------------------------------------------

EOS_EXPLANATION = (
    "</s> is the end-of-sentence marker. The tokenizer appends it to every English sentence, and the decoder "
    "writes it to say its translation is complete. Attention must always hand out 100% of its weight at every "
    "step, even when the next Spanish piece needs nothing new from the English: while the decoder spells out the "
    "rest of a word (“mos” after “Vaya”), writes a piece that Spanish grammar alone decides, or finishes the "
    "sentence. Then no English word matches the decoder's state better than the others, and the model has learned "
    "to park the weight on </s>, a position that is in every sentence and stands for no word in particular. A lot "
    "of weight on </s> means “nothing in the English is new for this piece”, not that the model is looking at the "
    "end of the sentence."
)


def end_marker_summary(report: dict | None) -> str:
    """One sentence with the measured share of attention on </s> (bench/coverage.py's JSON); "" if not measured."""
    measured = (report or {}).get("end_marker_test")
    if not isinstance(measured, dict) or "mean_attention_on_end" not in measured:
        return ""
    share, strongest = measured["mean_attention_on_end"], measured.get("share_of_steps_end_strongest", 0.0)
    return (
        f"Measured on {measured.get('steps', 0):,} output steps of held-out sentences: {percent(share)} of all "
        f"attention went to </s>, and </s> received the most weight at {percent(strongest)} of the steps."
    )


# --- coverage: the attention each English word received ---------------------------------------------------

COVERAGE_EXPLANATION = (
    "Coverage is the attention each English word received, added up over every step of the translation (all words "
    "together get one unit per step). A content word that the decoder hardly looked at may have been left out, so "
    "words under the threshold are marked “possibly untranslated”. It is a hint, not a verdict: attention shows "
    "where the decoder looked, not whether it translated the word well, and most marked words are in fact "
    "translated."
)


def coverage_summary(report: dict | None) -> str:
    """One sentence on how well the flag finds real omissions (bench/coverage.py's JSON); "" if not measured."""
    measured = (report or {}).get("hand_missing")
    if not isinstance(measured, dict) or not measured.get("flagged") or not measured.get("missing"):
        return ""
    return (
        f"Checked by hand on {measured.get('words', 0)} English content words of held-out sentences: "
        f"{measured['flagged_and_missing']} of the {measured['flagged']} marked words were really left out, and "
        f"{measured['flagged_and_missing']} of the {measured['missing']} left-out words were marked."
    )


# --- metrics.json and length_analysis.json ----------------------------------------------------------------


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
