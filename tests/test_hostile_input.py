"""Property tests: whatever text arrives, the translator answers sanely.

Profiles: ``ci`` (default, 500 examples per property) and ``thorough``
(10,000), chosen with ``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import os

import numpy as np
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


@given(text=hostile_text, beam=st.sampled_from([1, 1, 3]))
def test_translate_never_raises_and_stays_bounded(tiny_translator, text, beam):
    assert_sane(tiny_translator.translate(text, beam_size=beam), tiny_translator)


@given(texts=st.lists(hostile_text, max_size=6))
def test_translate_batch_answers_each_input_in_order(tiny_translator, texts):
    results = tiny_translator.translate_batch(texts)
    assert len(results) == len(texts)
    for text, result in zip(texts, results):
        assert_sane(result, tiny_translator)
        assert result.text == tiny_translator.translate(text).text
