"""model.explain: pieces to words, exports, the step story, and the metrics summaries. No model needed."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from model import Translation, explain
from model.steps import StepDetails

SOURCE = ["▁the", "▁cat", "'", "s", "▁the", "▁", "toy", ".", "</s>"]  # "the cat's the toy." with a repeated "▁the"
TARGET = ["▁el", "▁jugu", "ete", "▁del", "▁gato", ".", "</s>"]


def softmax_rows(rows: int, columns: int, seed: int = 0) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(size=(rows, columns))
    weights = np.exp(logits)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def make_translation(attention: bool = True, source=SOURCE, target=TARGET) -> Translation:
    weights = softmax_rows(len(target), len(source)) if attention else None
    scores = np.log(weights) + 1.5 if attention else None
    steps = [[(piece, 0.6), ("▁otro", 0.2), ("▁más", 0.1)] for piece in target]
    return Translation("the cat's the toy.", "el juguete del gato.", list(source), list(target), weights, scores, steps)


def test_merged_attention_rows_still_sum_to_one():
    view = explain.attention_view(make_translation(), merge_words=True)
    assert view.unit == "words"
    assert view.attention.shape == (len(view.target), len(view.source)) == (5, 5)
    np.testing.assert_allclose(view.attention.sum(axis=1), 1.0, atol=1e-5)


def test_merge_averages_target_rows_and_sums_source_columns():
    translation = make_translation()
    view = explain.attention_view(translation, merge_words=True)
    weights = translation.attention
    # target word 1 = pieces 1..2 ("▁jugu", "ete"); source word 1 = pieces 1..3 ("▁cat", "'", "s")
    expected = weights[1:3, 1:4].sum(axis=1).mean()
    assert view.attention[1, 1] == pytest.approx(expected, rel=1e-5)
    expected_score = translation.scores[1:3, 1:4].mean()
    assert view.scores[1, 1] == pytest.approx(expected_score, rel=1e-5)


def test_piece_view_keeps_repeated_tokens_apart():
    view = explain.attention_view(make_translation(), merge_words=False)
    assert view.source == SOURCE and view.source.count("▁the") == 2
    assert view.attention.shape == (len(TARGET), len(SOURCE))


def test_views_of_empty_and_attention_free_translations():
    empty = Translation("", "", [], [], np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32), [])
    for merge in (False, True):
        assert explain.attention_view(empty, merge).attention.shape == (0, 0)
        assert explain.attention_view(make_translation(attention=False), merge).attention is None


def test_csv_export_is_plain_text_with_one_row_per_target_label():
    hostile = make_translation(source=["▁<b>x</b>", "</s>"], target=["▁=1+1", "</s>"])
    view = explain.attention_view(hostile)
    rows = list(csv.reader(io.StringIO(explain.attention_csv(view))))
    assert rows[0] == ["target \\ source", "▁<b>x</b>", "</s>"]  # not HTML-escaped: CSV is plain text
    assert [r[0] for r in rows[1:]] == ["▁=1+1", "</s>"]
    np.testing.assert_allclose(np.array([r[1:] for r in rows[1:]], dtype=float), view.attention, atol=1e-5)


def test_json_export_matches_the_view():
    translation = make_translation()
    view = explain.attention_view(translation, merge_words=True)
    data = json.loads(explain.attention_json(translation, view))
    assert data["unit"] == "words" and data["source_labels"] == view.source and data["target_labels"] == view.target
    assert np.array(data["attention"]).shape == view.attention.shape
    assert data["translation"] == translation.text


def test_step_story_uses_the_models_numbers():
    translation = make_translation()
    story = explain.step_story(translation, 3, vocabulary=8000)
    strongest = SOURCE[int(np.argmax(translation.attention[3]))]
    assert story.startswith("Step 4 of 7.")
    assert f"“{strongest}”" in story and "8,000 pieces it can write" in story
    assert f"{translation.scores[3].min():.2f}" in story and "softmax" in story and "“▁del” (60%)" in story


def test_step_story_clamps_the_step_and_handles_special_cases():
    assert explain.step_story(make_translation(), 99, 100).startswith("Step 7 of 7.")
    assert "no attention" in explain.step_story(make_translation(attention=False), 0, 100)
    empty = Translation("", "", [], [], None, None, [])
    assert "Translate a sentence" in explain.step_story(empty, 0, 100)
    beam = make_translation()
    beam.steps[0] = [("▁la", 0.5)]  # beam search may write a token outside this step's top list
    assert "outside the top 1" in explain.step_story(beam, 0, 100)


def with_details(translation: Translation, temperature: float = 10.0, beam_note: str | None = None) -> Translation:
    """Step details as a cosine model's replay would give them: scores = temperature * similarity."""
    rows = len(translation.target_tokens)
    similarity = np.clip(translation.scores / 8.0, -1, 1)
    translation.score_function, translation.temperature = "cosine", temperature
    translation.step_details = StepDetails(
        fed=["<s>", *translation.target_tokens[:-1]],
        state=np.zeros((rows, 24), np.float32),
        similarity=similarity,
        scores=temperature * similarity,
        attention=translation.attention,
        context=np.zeros((rows, 12), np.float32),
        combined=np.zeros((rows, 16), np.float32),
        written_rank=[0] * rows,
        beam_note=[beam_note] + [None] * (rows - 1),
    )
    return translation


def test_step_story_names_cosine_temperature_and_sizes():
    translation = with_details(make_translation(), temperature=18.2)
    story = explain.step_story(translation, 1, vocabulary=8000)
    assert "fed “▁el”" in story and "state h (24 numbers)" in story and "context c (12 numbers" in story
    assert "cosine similarity from" in story and "temperature ×18.2" in story
    assert f"{translation.step_details.scores[1].min():.1f}" in story
    assert "the 8 input pieces and the end marker </s>" in story  # as the truncation note counts: </s> apart
    assert "start marker <s>" in explain.step_story(translation, 0, 8000)
    assert "translation is complete" in explain.step_story(translation, 6, 8000)


def test_step_story_explains_beam_choices_and_length_stops():
    translation = with_details(make_translation(), beam_note="Beam search wrote X rather than Y.")
    assert "Beam search wrote X rather than Y." in explain.step_story(translation, 0, 100)
    cut = make_translation(target=TARGET[:-1])
    cut.stop_reason, cut.search = "length", {"decoding": "greedy", "beam_size": 1, "max_length": 6}
    assert "length limit (6 pieces) stopped decoding" in explain.step_story(cut, 5, 100)


def test_step_story_says_when_attention_parks_on_the_end_marker():
    translation = make_translation()
    translation.attention[2] = np.eye(len(SOURCE))[-1]
    assert "parks on </s>" in explain.step_story(translation, 2, 100)
    translation.attention[1] = np.eye(len(SOURCE))[0]
    assert "parks on </s>" not in explain.step_story(translation, 1, 100)


def test_end_marker_text_and_measurement():
    assert "</s>" in explain.EOS_EXPLANATION and "<" not in explain.EOS_EXPLANATION.replace("</s>", "")
    measured = {"steps": 19124, "mean_attention_on_end": 0.2942, "share_of_steps_end_strongest": 0.3251}
    report = {"end_marker_test": measured}
    assert explain.end_marker_summary(report) == (
        "Measured on 19,124 output steps of held-out sentences: 29% of all attention went to </s>, "
        "and </s> received the most weight at 33% of the steps."
    )
    assert explain.end_marker_summary(None) == explain.end_marker_summary({"end_marker_test": "x"}) == ""


def test_coverage_texts():
    assert "possibly untranslated" in explain.COVERAGE_EXPLANATION
    measured = {"words": 330, "missing": 21, "flagged": 80, "flagged_and_missing": 12}
    assert explain.coverage_summary({"hand_missing": measured}) == (
        "Checked by hand on 330 English content words of held-out sentences: 12 of the 80 marked words were really "
        "left out, and 12 of the 21 left-out words were marked."
    )
    assert explain.coverage_summary(None) == explain.coverage_summary({"hand_missing": {"flagged": 0}}) == ""


def test_read_json_tolerates_missing_and_broken_files(tmp_path):
    assert explain.read_json(tmp_path / "absent.json") is None
    (tmp_path / "broken.json").write_text("{not json")
    assert explain.read_json(tmp_path / "broken.json") is None
    (tmp_path / "list.json").write_text("[1, 2]")
    assert explain.read_json(tmp_path / "list.json") is None


def test_score_lines_read_metrics_json():
    overall = {"bleu": 41.2, "chrf": 60.1, "sentences": 2391}
    metrics = {"scores": {"greedy": {"test_split": {"overall": overall, "buckets": []}, "seconds": 3.0}}}
    assert explain.score_lines(metrics) == [explain.ScoreLine("greedy", "test_split", 41.2, 60.1, 2391)]
    assert explain.score_lines(None) == [] and explain.score_lines({"scores": {}}) == []


def analysis(noattn_bleu: list[float], attention_bleu: list[float] | None = None) -> dict:
    labels = ["1-5", "6-10", "11-15", "16+"]

    def report(kind: str, bleu: list[float]) -> dict:
        buckets = [{"words": w, "bleu": b, "chrf": 50.0, "sentences": 200} for w, b in zip(labels, bleu)]
        return {"attention": kind, "test_split": {"overall": {"bleu": 30.0}, "buckets": buckets}}

    return {"models": {"en-es-noattn": report("none", noattn_bleu), "en-es": report("cosine", attention_bleu or [])}}


def test_length_series_puts_attention_models_first():
    series = explain.length_series(analysis([30, 20, 15, 10], [35, 30, 28, 25]))
    assert [s.attention for s in series] == ["cosine", "none"]
    assert series[1].label == "no attention" and series[0].buckets == ["1-5", "6-10", "11-15", "16+"]
    assert explain.length_series(None) == [] and explain.length_series({"models": {}}) == []


def test_bucket_index():
    buckets = ["1-5", "6-10", "11-20", "21+"]
    assert [explain.bucket_index(buckets, n) for n in (1, 5, 6, 20, 21, 80)] == [0, 0, 1, 2, 3, 3]
    assert explain.bucket_index(["3-5"], 1) is None


def test_length_story_tells_a_growing_gap_with_the_numbers():
    story = explain.length_story(explain.length_series(analysis([30, 20, 15, 10], [35, 30, 28, 25])))
    assert "+5.0" in story and "+15.0" in story and "grows" in story and "16+" in story


def test_length_story_does_not_force_the_textbook_story():
    same = explain.length_story(explain.length_series(analysis([30, 25, 20, 15], [35, 30, 25, 20.5])))
    assert "stays about the same" in same and "grows" not in same
    worse = explain.length_story(explain.length_series(analysis([30, 25, 20, 15], [29, 24, 19, 14])))
    assert "not ahead" in worse
    catches_up = explain.length_story(explain.length_series(analysis([30, 25, 20, 15], [36, 28, 21, 14])))
    assert "catches up" in catches_up


def test_length_story_without_data_or_without_a_baseline():
    assert "Not measured yet" in explain.length_story([])
    only_noattn = explain.length_series(analysis([30, 20, 15, 10]))
    assert "Only the no attention model" in explain.length_story(only_noattn)
