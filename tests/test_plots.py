"""model.plots: figures match their data, escape every label, always have a height, and leave swipes to the page."""

from __future__ import annotations

import json

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
        texts += [str(v) for v in trace.text] if getattr(trace, "text", None) is not None else []
        texts += [str(v) for v in trace.x] if isinstance(trace, go.Scatter) else []
    return texts


def test_heatmap_shape_and_axes_follow_the_tokens():
    figure = plots.attention_heatmap(weights(4, 5), weights(4, 5) * 3, SOURCE, TARGET)
    heatmap = figure.data[0]
    assert np.asarray(heatmap.z).shape == (4, 5)
    assert list(figure.layout.xaxis.tickvals) == [0, 1, 2, 3, 4]  # numeric positions: both "▁the" columns survive
    assert len(figure.layout.xaxis.ticktext) == 5 and len(figure.layout.yaxis.ticktext) == 4
    assert figure.layout.xaxis.side == "top"
    (bottom, top), (left, right) = figure.layout.yaxis.range, figure.layout.xaxis.range  # first row on top
    assert bottom == pytest.approx(3.5 + plots.OUTLINE_ROOM) and top == pytest.approx(-0.5 - plots.OUTLINE_ROOM)
    assert left == pytest.approx(-0.5 - plots.OUTLINE_ROOM) and right == pytest.approx(4.5 + plots.OUTLINE_ROOM)
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
        plots.coverage_chart(["<img src=x>", "&"], [0.1, 0.9], [True, False], 0.2),
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
    assert long.layout.height >= 30 * plots.COMPACT_ROW_HEIGHT


def test_dark_mode_friendly_layout():
    figure = plots.attention_heatmap(weights(2, 3), None, SOURCE[:3], TARGET[:2])
    assert figure.layout.paper_bgcolor == "rgba(0,0,0,0)" and figure.layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert figure.layout.font.color == plots.FONT_COLOUR


def test_coverage_chart_marks_flagged_words_and_the_threshold():
    words, coverage = ["I", "love", "<b>cats</b>", "</s>"], [0.4, 0.1, 1.3, 2.2]
    figure = plots.coverage_chart(words, coverage, [False, True, False, False], 0.3)
    bars = figure.data[0]
    assert list(bars.x) == [0.4, 0.1, 1.3, 2.2] and bars.orientation == "h"
    assert list(figure.layout.yaxis.ticktext)[2] == "&lt;b&gt;cats&lt;/b&gt;"
    assert bars.marker.color[1].startswith(f"rgba({plots.FLAG_COLOUR}")
    assert list(bars.text)[1] == "possibly untranslated"
    assert [t for i, t in enumerate(bars.text) if i != 1] == ["", "", ""]
    assert len(figure.layout.shapes) == 1 and figure.layout.shapes[0].x0 == 0.3
    assert len(plots.coverage_chart(["a"], [1.0], [False]).layout.shapes) == 0
    assert not plots.coverage_chart([], [], []).data  # no attention: a message instead of an empty chart


def test_heatmap_outlines_the_selected_step_for_a_client_script():
    figure = plots.attention_heatmap(weights(4, 5), None, SOURCE, TARGET, selected=2)
    (shape,) = figure.layout.shapes  # the only shape: a client script addresses it as shapes[0]
    assert shape.name == plots.SELECTED_STEP and shape.visible is True
    assert (shape.y0, shape.y1, shape.x0, shape.x1) == (1.5, 2.5, -0.5, 4.5)
    hidden = plots.attention_heatmap(weights(4, 5), None, SOURCE, TARGET, selected=None).layout.shapes[0]
    assert hidden.visible is False
    assert plots.step_highlight(3, 5)["y0"] == 2.5


def test_long_output_heatmap_leaves_room_on_a_phone_screen():
    """A 25-piece output (the long example) stays well under an 844 px phone screen; rows stay legible."""
    assert plots.heatmap_height(25) <= plots.HEATMAP_TARGET_HEIGHT + 10
    assert (plots.heatmap_height(25) - 190) / 25 >= plots.COMPACT_ROW_HEIGHT
    assert plots.heatmap_height(3) == 190 + 3 * plots.ROW_HEIGHT


def every_figure() -> list[go.Figure]:
    return [
        plots.attention_heatmap(weights(4, 5), None, SOURCE, TARGET),
        plots.coverage_chart(["a", "b"], [0.5, 1.5], [True, False], 0.3),
        plots.message_figure("x"),
        plots.length_chart(["m"], [["1-5", "6+"]], [[1.0, 2.0]], highlight="6+"),
    ]


def test_every_figure_passes_plotly_validation():
    """The figures skip plotly's validation when they are built (it is slow): here every property is checked."""
    for figure in every_figure():
        go.Figure(figure.to_dict())  # raises ValueError on an unknown property or a bad value


def test_swipes_belong_to_the_page_and_no_toolbar_shows():
    """One-finger drags must scroll a phone's page, not zoom a chart; gr.Plot passes the JSON "config" to plotly."""
    for figure in every_figure():
        assert figure.layout.dragmode is False
        axes = [figure.layout[name] for name in figure.layout if name.startswith(("xaxis", "yaxis"))]
        assert axes and all(axis.fixedrange for axis in axes)
        sent = json.loads(figure.to_json())  # what gr.Plot's postprocess sends to the browser
        assert sent["config"] == plots.PLOT_CONFIG and sent["config"]["displayModeBar"] is False
        assert sent["layout"]["dragmode"] is False and sent["data"] == json.loads(go.Figure(figure).to_json())["data"]


def test_length_chart_has_one_line_per_model_and_marks_a_bucket():
    figure = plots.length_chart(["attention", "no attention"], [["1-5", "6+"]] * 2, [[30, 25], [28, 12]], "6+")
    assert [trace.name for trace in figure.data] == ["attention", "no attention"]
    assert len(figure.layout.shapes) == 1 and figure.layout.height > 0
    assert len(plots.length_chart(["a"], [["1-5"]], [[3.0]]).layout.shapes) == 0


def test_message_figure_has_height_and_no_axes():
    figure = plots.message_figure("nothing yet")
    assert figure.layout.height > 0 and figure.layout.annotations[0].text == "nothing yet"
    assert figure.layout.xaxis.visible is False and not figure.data
