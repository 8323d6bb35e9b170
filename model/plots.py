"""Plotly figures for the web page: data in, ``go.Figure`` out, nothing else.

Styling works on light and dark pages alike: transparent backgrounds, a mid-grey font, and colours that fade
into the page for small values (alpha ramps) and stand out for large ones on either background.
Every label is escaped because plotly renders a subset of HTML in tick and hover text.
Every figure has an explicit height: Gradio 6 draws a plotly figure without one at zero height.
Every figure leaves one-finger swipes to the page (no drag zoom, fixed axes) and shows no plotly toolbar, so on a
phone a thumb that lands on a chart still scrolls, and no toolbar hides a label.
Figures are built from plain dicts without plotly's property validation, which cost more than the translation
itself (docs/performance.md); tests/test_plots.py validates every kind of figure instead.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

FONT_COLOUR = "#7c8595"  # mid grey: about 4:1 contrast on white and 5:1 on Gradio's dark background
GRID_COLOUR = "rgba(139,147,161,0.25)"
ACCENT = "249,115,22"  # orange, Gradio's default primary hue, as "r,g,b"
SECOND = "59,130,246"  # blue
MODEL_COLOURS = ("#f97316", "#3b82f6", "#a855f7", "#10b981", "#ef4444")
# Opacity rises fast at first so that attention of 10-30% are visible too, not only the peaks.
HEATMAP_COLOURSCALE = [
    [0.0, f"rgba({ACCENT},0.03)"],
    [0.1, f"rgba({ACCENT},0.3)"],
    [0.3, f"rgba({ACCENT},0.6)"],
    [1.0, f"rgba({ACCENT},1)"],
]
ROW_HEIGHT = 24  # px per heatmap row: keeps tick labels legible
COMPACT_ROW_HEIGHT = 13  # px per row of a long output: still fits a 10 px tick label
HEATMAP_TOP = 110  # px above the grid that heatmap_height allows for: source labels of up to ~12 characters
HEATMAP_TARGET_HEIGHT = 520  # px: a long sentence's heatmap leaves room for a thumb on an 844 px phone screen
FLAG_COLOUR = "239,68,68"  # red: a content word that received little attention
SELECTED_STEP = "selected step"  # name of the heatmap shape that outlines the selected output step
# plotly.js config carried inside the figure's JSON (gr.Plot has no config argument; its front end uses the
# figure's "config" key when there is one). No toolbar: on touch screens plotly shows it all the time, over labels.
PLOT_CONFIG = {"displayModeBar": False, "scrollZoom": False, "doubleClick": False, "responsive": True}
OUTLINE_ROOM = 0.1  # cells of room around the grid, so the outline of an edge row is not half cut off
SELECTED_LINE = dict(color=f"rgb({SECOND})", width=3)  # blue on the orange cells, light or dark page


class PageFigure(go.Figure):
    """A go.Figure whose JSON also carries PLOT_CONFIG, for gr.Plot (which serializes figures with to_json)."""

    def to_json(self, *args, **kwargs) -> str:
        kwargs.setdefault("validate", False)  # validation would reject the "config" key; to_dict() is valid already
        return pio.to_json({**self.to_dict(), "config": PLOT_CONFIG}, *args, **kwargs)


def _figure(data: list[dict], layout: dict) -> PageFigure:
    """Traces and layout as plain dicts (each trace with its "type") -> figure, without property validation."""
    return PageFigure({"data": data, "layout": layout}, _validate=False)


def escape_label(text: str) -> str:
    """Show text literally in plotly: it parses <b>, <br>, <a> ... in labels, and decodes &lt; &gt; &amp;."""
    return html.escape(str(text), quote=False)


def _layout(height: int, top: int = 10, left: int = 10, right: int = 10, bottom: int = 10, **extra) -> dict:
    """Shared layout; dragmode False leaves a one-finger swipe to the page instead of zooming the chart."""
    return dict(
        height=height,
        dragmode=False,
        autosize=True,
        margin=dict(l=left, r=right, t=top, b=bottom, autoexpand=True),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(color=FONT_COLOUR, size=12),
        hoverlabel=dict(font_size=13),
        **extra,
    )


def _text_width(texts: Sequence[str], size: int) -> int:
    """Pixels the longest of ``texts`` needs at font ``size``: a generous average glyph width.

    Margins are computed here, not by plotly's automargin, which redraws the figure in the browser until the
    labels fit: about three times the drawing time of a long sentence's heatmap (docs/performance.md)."""
    return round(0.62 * size * max((len(str(text)) for text in texts), default=0))


# By default plotly measures every tick label of a numeric axis (and of a colour bar) against the plot's edges to
# hide those past them, a good part of the heatmap's drawing time (docs/performance.md); the margins are sized to
# fit the labels already (_text_width), so nothing needs hiding.
UNMEASURED_LABELS = dict(ticklabeloverflow="allow")


def _label_axis(labels: Sequence[str], title: str, **extra) -> dict:
    """Numeric axis with one tick per label, so repeated tokens (two "▁the") stay separate."""
    return dict(
        **UNMEASURED_LABELS,
        title=dict(text=title),
        tickmode="array",
        tickvals=list(range(len(labels))),
        ticktext=[escape_label(label) for label in labels],
        showgrid=False,
        zeroline=False,
        automargin=False,  # see _text_width
        fixedrange=True,
        **extra,
    )


def _tick_font(count: int) -> dict:
    return dict(size=12 if count <= 15 else 10)


def message_figure(message: str, height: int = 220) -> go.Figure:
    """An empty chart that says why it is empty (instead of an error or a blank box)."""
    note = dict(text=escape_label(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    hidden = dict(visible=False, fixedrange=True)
    return _figure([], _layout(height, annotations=[note], xaxis=hidden, yaxis=dict(hidden)))


def heatmap_height(rows: int) -> int:
    """Rows of ROW_HEIGHT px, narrowed (down to COMPACT_ROW_HEIGHT) so that a long output stays near
    HEATMAP_TARGET_HEIGHT, and room for the source labels on top (up to HEATMAP_TOP) and the colour bar below."""
    room = HEATMAP_TOP + 80
    row = min(ROW_HEIGHT, max(COMPACT_ROW_HEIGHT, (HEATMAP_TARGET_HEIGHT - room) / max(rows, 1)))
    return round(room + row * rows)


def step_highlight(row: int | None, columns: int) -> dict:
    """The outline of heatmap row ``row`` (the selected output step), as a layout shape named SELECTED_STEP.

    The heatmap holds it as its only shape (shapes[0]), spanning rows ``row`` - 0.5 to ``row`` + 0.5, so a client
    script can find it by name and move it to another row. ``row`` None: the shape is there but hidden.
    """
    shown = row if row is not None else 0
    return dict(
        type="rect",
        name=SELECTED_STEP,
        xref="x",
        yref="y",
        x0=-0.5,
        x1=columns - 0.5,
        y0=shown - 0.5,
        y1=shown + 0.5,
        line=SELECTED_LINE,
        fillcolor="rgba(0,0,0,0)",
        layer="above",
        visible=row is not None,
    )


def attention_heatmap(
    attention: np.ndarray,
    scores: np.ndarray | None,
    source: Sequence[str],
    target: Sequence[str],
    selected: int | None = 0,
) -> go.Figure:
    """Target tokens as rows, source tokens as columns (x axis on top); hover shows both tokens, weight and score.

    attention, scores: (rows, columns) = (len(target), len(source)). ``selected``: the row outlined as the selected
    output step (step_highlight; None: no outline shown). Clicking a cell reports its row as ``points[0].y``.
    """
    rows, columns = attention.shape
    shown = np.full((rows, columns), np.nan) if scores is None else np.asarray(scores, dtype=float)
    # Arrays, not nested lists: the figure copies its data once, and a numpy array copies in one piece.
    custom = np.empty((rows, columns, 3), dtype=object)
    custom[:, :, 0] = np.array([escape_label(s) for s in source], dtype=object)[None, :]
    custom[:, :, 1] = np.array([escape_label(t) for t in target], dtype=object)[:, None]
    custom[:, :, 2] = [["n/a" if np.isnan(value) else f"{value:.3f}" for value in line] for line in shown.tolist()]
    trace = dict(
        type="heatmap",
        z=np.asarray(attention, dtype=float),
        x=list(range(columns)),
        y=list(range(rows)),
        customdata=custom.astype(str),
        zmin=0.0,
        zmax=1.0,
        xgap=1,
        ygap=1,
        colorscale=HEATMAP_COLOURSCALE,
        # Horizontal, below the grid: on a phone a vertical colour bar would take a third of the width.
        colorbar=dict(
            title=dict(text="attention weight", side="top"),
            tickformat=".0%",
            orientation="h",
            x=0.5,
            xanchor="center",
            y=-0.02,
            yanchor="top",
            thickness=10,
            len=0.7,
            outlinewidth=0,
            **UNMEASURED_LABELS,
        ),
        hovertemplate=(
            "source: %{customdata[0]}<br>target: %{customdata[1]}<br>"
            "weight: %{z:.1%}<br>raw score: %{customdata[2]}<extra></extra>"
        ),
    )
    x_font, y_font = _tick_font(columns), _tick_font(rows)
    rotated = columns > 8  # many columns: labels at -60 degrees, rising to the right of their tick
    longest = _text_width(source, x_font["size"])
    labels_height = round(0.87 * longest + 0.5 * x_font["size"]) if rotated else x_font["size"]
    overhang = _text_width(source[-3:], x_font["size"]) // 2  # the last labels reach past the grid's right edge
    top = labels_height + 34  # and the axis title
    layout = _layout(
        heatmap_height(rows) + max(0, top - HEATMAP_TOP),  # very long source pieces: a taller figure, same grid
        top=top,
        left=_text_width(target, y_font["size"]) + 32,  # and the rotated axis title
        right=max(10, overhang),
        shapes=[step_highlight(selected, columns)],
        xaxis=_label_axis(
            source,
            "English (source)",
            side="top",
            tickangle=-60 if rotated else 0,
            tickfont=x_font,
            range=[-0.5 - OUTLINE_ROOM, columns - 0.5 + OUTLINE_ROOM],
        ),
        # Fixed ranges, not autorange: moving the outline (a shape, which autorange counts) must not shift the grid.
        yaxis=_label_axis(
            target,
            "Spanish (output)",
            tickfont=y_font,
            range=[rows - 0.5 + OUTLINE_ROOM, -0.5 - OUTLINE_ROOM],
        ),
    )
    return _figure([trace], layout)


def coverage_chart(
    words: Sequence[str], coverage: Sequence[float], flagged: Sequence[bool], threshold: float | None = None
) -> go.Figure:
    """Total attention each English word received over the whole translation, one bar per word, first on top.

    coverage[i] in [0, output steps]; flagged words (content words under ``threshold``, possibly untranslated)
    are red and say so beside their bar; ``threshold`` (None: not drawn) is a dotted line.
    """
    if not words:
        return message_figure("No coverage to show: this model has no attention.")
    count = len(words)
    trace = dict(
        type="bar",
        x=list(coverage),
        y=list(range(count)),
        orientation="h",
        marker=dict(color=[f"rgba({FLAG_COLOUR},0.9)" if flag else f"rgba({ACCENT},0.6)" for flag in flagged]),
        customdata=[escape_label(word) for word in words],
        text=["possibly untranslated" if flag else "" for flag in flagged],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{customdata}<br>total attention: %{x:.2f}<extra></extra>",
    )
    longest = max(*coverage, threshold or 0.0, 0.1)
    layout = _layout(
        max(220, 70 + 26 * count),
        top=34,  # room for Gradio's label
        left=_text_width(words, _tick_font(count)["size"]) + 14,
        bottom=50,  # the value axis's numbers and title
        bargap=0.3,
        yaxis=_label_axis(words, "", autorange="reversed", tickfont=_tick_font(count)),
        xaxis=dict(
            title=dict(text="total attention"),
            range=[0, longest * (1.7 if any(flagged) else 1.1)],  # room for the flag's words beside the bar
            **UNMEASURED_LABELS,
            gridcolor=GRID_COLOUR,
            zerolinecolor=GRID_COLOUR,
            fixedrange=True,
        ),
        shapes=[] if threshold is None else [_vertical_line(threshold, dict(color=FONT_COLOUR, dash="dot", width=1))],
    )
    return _figure([trace], layout)


def _vertical_line(x: float | str, line: dict) -> dict:
    """A line across the plot's whole height at ``x`` (a number, or a category's label)."""
    return dict(type="line", xref="x", x0=x, x1=x, yref="paper", y0=0, y1=1, line=line)


def length_chart(
    names: Sequence[str],
    buckets: Sequence[Sequence[str]],
    bleu: Sequence[Sequence[float]],
    highlight: str | None = None,
) -> go.Figure:
    """BLEU by source-length bucket, one line per model; ``highlight`` marks one bucket (the visitor's sentence)."""
    traces = [
        dict(
            type="scatter",
            x=[escape_label(label) for label in labels],
            y=list(values),
            name=escape_label(name),
            mode="lines+markers",
            line=dict(color=MODEL_COLOURS[index % len(MODEL_COLOURS)], width=3),
            hovertemplate="%{x} words: %{y:.1f} BLEU<extra>%{fullData.name}</extra>",
        )
        for index, (name, labels, values) in enumerate(zip(names, buckets, bleu))
    ]
    marks = {}
    if highlight is not None:
        bucket = escape_label(highlight)
        marks = dict(
            shapes=[_vertical_line(bucket, dict(color=FONT_COLOUR, dash="dot"))],
            annotations=[dict(x=bucket, y=1, yref="paper", text="your sentence", showarrow=False, yshift=10)],
        )
    layout = _layout(
        380,
        top=40,
        legend=dict(orientation="h", yanchor="top", y=-0.25, x=0),
        xaxis=dict(
            title=dict(text="source sentence length (words)"), type="category", gridcolor=GRID_COLOUR, fixedrange=True
        ),
        yaxis=dict(
            title=dict(text="BLEU"),
            gridcolor=GRID_COLOUR,
            zerolinecolor=GRID_COLOUR,
            rangemode="tozero",
            fixedrange=True,
        ),
        **marks,
    )
    return _figure(traces, layout)
