"""What every benchmark shares: the sentence, timing, percentiles and the results table."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "I think we should leave before it starts to rain."  # 10 words
# Sentences a visitor might try, short to long (bench/load.py, bench/browser.py).
SENTENCES = [
    "Let's go.",
    "Where is the train station?",
    "I would like a cup of coffee, please.",
    "She has been reading the same book for three weeks.",
    "The children were playing in the garden when it started to rain.",
    "Don't smoke so often, it will have a strong effect on your lungs and lead to more serious complications.",
    "Tom said he would come back tomorrow.",
    "Can you tell me how to get to the museum?",
    "I have never seen such a beautiful sunset.",
    "We need to buy bread, milk and eggs before the shop closes.",
    "He doesn't like it when people are late.",
    "My sister lives in a small town near the sea.",
]


def time_calls(call, repeats: int, warmup: int = 5) -> list[float]:
    """Milliseconds of each of ``repeats`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def print_table(rows: list[tuple[str, str, str, bool | None]]) -> None:
    """metric | measured | target | ok."""
    width = max(len(name) for name, *_ in rows)
    print(f"{'metric':<{width}}  {'measured':>12}  {'target':>16}  ok")
    for name, measured, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {measured:>12}  {target:>16}  {mark}")
