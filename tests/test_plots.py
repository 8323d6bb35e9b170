"""model.plots: figures match their data, escape every label, and always have a height."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from model import plots

SOURCE = ["▁the", "▁cat", "▁the", "<b>x</b>", "</s>"]
TARGET = ["▁el", "▁gato", "&amp;", "</s>"]


def weights(rows: int, columns: int) -> np.ndarray:
    matrix = np.random.default_rng(1).random((rows, columns)).astype(np.float32)
    return matrix / matrix.sum(axis=1, keepdims=True)


def all_strings(figure: go.Figure) -> list[str]:
    """Every piece of text plotly will render: tick labels, hover data, annotations, trace names."""
    layout = figure.layout
    texts = [*(layout.xaxis.ticktext or ()), *(layout.yaxis.ticktext or ())]
    texts += [a.text for a in layout.annotations]
    for trace in figure.data:
        texts += (
            [str(v) for v in np.asarray(trace.customdata, dtype=object).ravel()] if trace.customdata is not None else []
        )
        texts += [trace.name] if trace.name else []
        texts += [str(v) for v in trace.x] if isinstance(trace, go.Scatter) else []
    return texts


def test_heatmap_shape_and_axes_follow_the_tokens():
    figure = plots.attention_heatmap(weights(4, 5), weights(4, 5) * 3, SOURCE, TARGET)
    heatmap = figure.data[0]
    assert np.asarray(heatmap.z).shape == (4, 5)
    assert list(figure.layout.xaxis.tickvals) == [0, 1, 2, 3, 4]  # numeric positions: both "▁the" columns survive
    assert len(figure.layout.xaxis.ticktext) == 5 and len(figure.layout.yaxis.ticktext) == 4
    assert figure.layout.xaxis.side == "top" and figure.layout.yaxis.autorange == "reversed"
    assert np.asarray(heatmap.customdata).shape == (4, 5, 3)
    assert heatmap.colorbar is not None and heatmap.zmin == 0 and heatmap.zmax == 1


def test_heatmap_hover_shows_tokens_weight_and_score():
    scores = np.arange(20, dtype=np.float32).reshape(4, 5)
    heatmap = plots.attention_heatmap(weights(4, 5), scores, SOURCE, TARGET).data[0]
    assert "%{z:.1%}" in heatmap.hovertemplate and "customdata[2]" in heatmap.hovertemplate
    custom = np.asarray(heatmap.customdata, dtype=object)
    assert tuple(custom[1, 3]) == ("&lt;b&gt;x&lt;/b&gt;", "▁gato", "8.000")
    no_scores = plots.attention_heatmap(weights(4, 5), None, SOURCE, TARGET).data[0]
    assert np.asarray(no_scores.customdata, dtype=object)[0, 0, 2] == "n/a"


def test_every_label_is_escaped():
    figures = [
        plots.attention_heatmap(weights(4, 5), None, SOURCE, TARGET),
        plots.bar_chart(SOURCE, [0.1] * 5, "<i>weight</i>", ".0%"),
        plots.candidate_bars([("<img src=x>", 0.5), ("▁a", 0.2)], "<img src=x>"),
        plots.message_figure("<b>x</b> & more"),
        plots.length_chart(["<b>m</b>"], [["1-5", "<6>"]], [[1.0, 2.0]], highlight="<6>"),
    ]
    for figure in figures:
        for text in all_strings(figure):
            assert "<" not in text and ">" not in text, text
    assert "&amp;amp;" in plots.attention_heatmap(weights(4, 5), None, SOURCE, TARGET).layout.yaxis.ticktext[2]


def test_heatmap_height_grows_with_rows_and_is_explicit():
    short = plots.attention_heatmap(weights(2, 3), None, SOURCE[:3], TARGET[:2])
    long = plots.attention_heatmap(weights(30, 3), None, SOURCE[:3], ["▁x"] * 30)
    assert 0 < short.layout.height < long.layout.height
    assert long.layout.height >= 30 * plots.ROW_HEIGHT


def test_dark_mode_friendly_layout():
    figure = plots.attention_heatmap(weights(2, 3), None, SOURCE[:3], TARGET[:2])
    assert figure.layout.paper_bgcolor == "rgba(0,0,0,0)" and figure.layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert figure.layout.font.color == plots.FONT_COLOUR


def test_bars_follow_their_data_and_highlight_one_bar():
    scores = np.array([0.5, 2.0, -1.0, 0.3, 0.1], dtype=np.float32)
    figure = plots.score_bars(SOURCE, scores)
    assert list(figure.data[0].y) == pytest.approx(scores.tolist())
    assert len(figure.layout.xaxis.ticktext) == 5
    colours = figure.data[0].marker.color
    assert colours[1].endswith(",1.0)") and all(c.endswith(",0.45)") for i, c in enumerate(colours) if i != 1)
    assert plots.weight_bars(SOURCE, weights(1, 5)[0]).layout.yaxis.tickformat == ".0%"


def test_candidate_bars_mark_the_written_token():
    figure = plots.candidate_bars([("▁Vamos", 0.7), ("▁Va", 0.2), ("▁Ir", 0.1)], "▁Va")
    assert list(figure.data[0].y) == [0.7, 0.2, 0.1]
    assert figure.data[0].marker.color[1].endswith(",1.0)")
    outside = plots.candidate_bars([("▁Vamos", 0.7)], "▁otro")  # beam search wrote a token outside the list
    assert outside.data[0].marker.color[0].endswith(",0.45)")


def test_length_chart_has_one_line_per_model_and_marks_a_bucket():
    figure = plots.length_chart(["attention", "no attention"], [["1-5", "6+"]] * 2, [[30, 25], [28, 12]], "6+")
    assert [trace.name for trace in figure.data] == ["attention", "no attention"]
    assert len(figure.layout.shapes) == 1 and figure.layout.height > 0
    assert len(plots.length_chart(["a"], [["1-5"]], [[3.0]]).layout.shapes) == 0


def test_message_figure_has_height_and_no_axes():
    figure = plots.message_figure("nothing yet")
    assert figure.layout.height > 0 and figure.layout.annotations[0].text == "nothing yet"
    assert figure.layout.xaxis.visible is False and not figure.data
