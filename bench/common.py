"""What every benchmark shares: the sentence, percentiles and the results table."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "I think we should leave before it starts to rain."  # 10 words


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
