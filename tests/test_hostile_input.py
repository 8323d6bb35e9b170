"""Property tests: whatever text arrives, the translator answers sanely.

Profiles: ``ci`` (default, 500 examples per property) and ``thorough``
(10,000), chosen with ``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import csv
import json
import os
import re

import numpy as np
from answer_checks import check_answer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "thorough", max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MARKUP = [
    "<img src=x onerror=alert(1)>",
    "<b>x</b>",
    "<script>alert('x')</script>",
    "javascript:alert(1)",
    "&lt;&amp;&#x3C;",
    '"><svg onload=alert(1)>',
    "{{7*7}} ${7*7}",
]
SCRIPTS = [
    "Tom is here.",
    "مرحبا بالعالم",
    "שלום",
    "日本語のテキスト",
    "e\u0301\u0302\u0303",
    "👩‍👩‍👧‍👦🙂",
    "\u202eevil\u202c",
    "\x00\x07\x1b[31m",
]

hostile_text = st.one_of(
    st.text(),  # any Unicode, control characters and NUL included
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.sampled_from(MARKUP + SCRIPTS),
    st.builds(
        lambda chunk, times: chunk * times, st.sampled_from(MARKUP + SCRIPTS + ["word ", "!?"]), st.integers(1, 400)
    ),
    st.text(alphabet=".,;:!?¿¡-—…'\"()[]", max_size=60),
)


def assert_sane(result, translator) -> None:
    rows, columns = len(result.target_tokens), len(result.source_tokens)
    assert columns <= translator.config.max_source_tokens
    assert rows <= translator.config.max_target_tokens
    assert len(result.steps) == rows
    assert result.attention.shape == result.scores.shape == (rows, columns)
    if rows:
        assert np.allclose(result.attention.sum(axis=1), 1.0, atol=1e-4)
        assert np.isfinite(result.scores).all()
    assert isinstance(result.text, str)


@given(text=hostile_text, beam=st.sampled_from([1, 1, 3]), max_length=st.sampled_from([None, None, 1, 3]))
def test_translate_never_raises_and_stays_bounded(tiny_translator, text, beam, max_length):
    result = tiny_translator.translate(text, beam_size=beam, max_length=max_length, details=True)
    assert_sane(result, tiny_translator)
    # the API answer's every field: JSON-safe, finite, shapes that agree with the tokens and the model's sizes
    check_answer(result.to_dict(), tiny_translator.config, details=True)


@given(texts=st.lists(hostile_text, max_size=6))
def test_translate_batch_answers_each_input_in_order(tiny_translator, tiny_translator_exact, texts):
    for translator in (tiny_translator, tiny_translator_exact):
        results = translator.translate_batch(texts)
        assert len(results) == len(texts)
        for result in results:
            assert_sane(result, translator)
            check_answer(result.to_dict(), translator.config, details=False)  # bulk translation skips the replay
    # float32 decoding is batch-independent: each sentence comes out as it does alone
    for text, result in zip(texts, tiny_translator_exact.translate_batch(texts)):
        assert result.text == tiny_translator_exact.translate(text).text


# --- the page's handlers: same inputs, and nothing typed may come out as markup -------------------------

pytest_plugins = ["web_support"]
OUR_TAGS = re.compile(r'</?(div|span|p)( class="[a-z-]+")?>')


def assert_no_markup(fragment: str) -> None:
    """Our own tags removed, no '<' may remain: every '<' the user typed must arrive as &lt;."""
    assert "<" not in OUR_TAGS.sub("", fragment), fragment


def figure_labels(figure) -> list[str]:
    """Every string plotly might render as HTML: tick texts, hover custom data, annotations, trace names."""
    labels = [a.text for a in figure.layout.annotations or []]
    for axis in (figure.layout.xaxis, figure.layout.yaxis):
        labels += list(axis.ticktext or [])
    for trace in figure.data:
        labels += (
            [str(v) for v in np.asarray(trace.customdata, dtype=object).ravel()] if trace.customdata is not None else []
        )
        labels += [str(v) for v in (trace.x if trace.type == "bar" and trace.x is not None else [])]
        labels.append(trace.name or "")
    return labels


@given(text=hostile_text, merge=st.booleans(), step=st.integers(0, 120))
def test_page_handlers_never_raise_and_never_emit_markup(app, text, merge, step):
    from model.web import handlers

    _, data, translation = handlers.translate(app.TRANSLATOR, text)
    assert_sane(translation, app.TRANSLATOR)
    check_answer(data, app.TRANSLATOR.config, details=True)  # the API answer carries every step's numbers
    page = handlers.page(app.TRANSLATOR, text, handlers.GREEDY, 5, app.TRANSLATOR.config.max_target_tokens, merge)
    _, view, notice, source_chips, target_chips, csv_button, _, _ = page
    heatmap, coverage = handlers.heatmap_figure(translation, merge), handlers.coverage_figure(translation)
    for fragment in (notice, source_chips, target_chips):
        assert_no_markup(fragment)
    if csv_button.value:  # plain text, read back as the same table: one row per target label plus the header
        with open(csv_button.value["path"], newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) - 1 == len(heatmap.layout.yaxis.ticktext)
    for figure in (heatmap, coverage):
        assert figure.layout.height and figure.layout.height > 0
        for label in figure_labels(figure):
            assert "<" not in label.replace("<br>", "").replace("<extra></extra>", ""), label
    assert "<" not in view  # the browser's view (JSON text): figures, and the step panel's data drawn as textContent
    panel = json.loads(view)["panel"]
    if panel is not None:  # one story per step
        assert len(panel["stories"]) == len(panel["answer"]["step_details"]) == len(translation.target_tokens)
        assert panel["stories"][min(step, len(panel["stories"]) - 1)].startswith("Step ")
