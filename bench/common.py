"""What every benchmark shares: the sentence, timing, percentiles and the results table."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "I think we should leave before it starts to rain."  # 10 words


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
