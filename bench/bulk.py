"""Bulk translation (``python -m model.translate``): sentences/s at 1 and 2 workers and peak memory, beside targets.

    python bench/bulk.py                        # 100,000 English lines of the corpus, shipped model
    python bench/bulk.py --lines 20000 --model assets/en-es-large

The lines are drawn (seed 0) from the English side of ../shared/data/spa-eng/spa.txt into a temporary file (never
kept). Each run is the real command, start-up included, reading the file on stdin; peak memory is the largest total
resident memory of the command and its worker processes, sampled every 200 ms. Sentences per CPU-second (user +
system time of the command and its workers) tell the code's cost apart from other processes' load on a shared
host. A 10,000-line run at 1 worker is the reference for "constant memory": 10x the input must not grow the peak
by more than a quarter.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, print_table

CORPUS = ROOT.parent / "shared" / "data" / "spa-eng" / "spa.txt"
PAGE_KB = 4


def english_lines(count: int, seed: int = 0) -> list[str]:
    english = [line.split("\t", 1)[0] for line in CORPUS.read_text(encoding="utf-8").splitlines() if "\t" in line]
    rng = random.Random(seed)
    return [rng.choice(english) for _ in range(count)]


def tree_rss_kb(root: int) -> int:
    """Resident memory (kB) of ``root`` and every process below it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent == frontier[-1]]
        frontier.pop()
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_translate(source: Path, output: Path, workers: int, model: str | None) -> tuple[float, float, float]:
    """-> (seconds, peak MB, CPU seconds) of one ``python -m model.translate`` over ``source``, workers included."""
    command = [sys.executable, "-m", "model.translate", "--workers", str(workers)]
    command += ["--model", model] if model else []
    peak, done = [0], threading.Event()
    cpu_before = _children_cpu_seconds()
    start = time.perf_counter()
    with source.open("rb") as stdin, output.open("wb") as stdout:
        process = subprocess.Popen(command, stdin=stdin, stdout=stdout, cwd=ROOT)

        def sample() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], tree_rss_kb(process.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        code = process.wait()
        done.set()
        sampler.join()
    seconds = time.perf_counter() - start
    if code != 0:
        sys.exit(f"python -m model.translate --workers {workers} failed with exit code {code}")
    return seconds, peak[0] / 1024, _children_cpu_seconds() - cpu_before


def _children_cpu_seconds() -> float:
    """User + system CPU time of the finished child processes and theirs (the workers, joined by their parent)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped assets/en-es)")
    args = parser.parse_args()
    if not CORPUS.is_file():
        sys.exit(f"{CORPUS}: corpus not found (the English lines are drawn from it)")
    reference_lines = min(10_000, args.lines)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        lines = english_lines(args.lines)
        (folder / "in.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        (folder / "small.txt").write_text("".join(line + "\n" for line in lines[:reference_lines]), encoding="utf-8")
        _, small_peak, _ = run_translate(folder / "small.txt", folder / "small.out", 1, args.model)
        results = {w: run_translate(folder / "in.txt", folder / f"out{w}.txt", w, args.model) for w in (1, 2)}
        outputs = [(folder / f"out{w}.txt").read_bytes() for w in (1, 2)]
    one, two = (args.lines / results[w][0] for w in (1, 2))
    one_cpu, two_cpu = (args.lines / results[w][2] for w in (1, 2))
    identical = outputs[0] == outputs[1] and outputs[0].count(b"\n") == args.lines
    rows = [
        (f"1 worker, {args.lines:,} lines (sentences/s)", f"{one:,.0f}", ">= 1,000", one >= 1000),
        (f"2 workers, {args.lines:,} lines (sentences/s)", f"{two:,.0f}", ">= 1 worker's", two >= one),
        ("1 worker, sentences per CPU-second", f"{one_cpu:,.0f}", "(load-independent)", None),
        ("2 workers, sentences per CPU-second", f"{two_cpu:,.0f}", "(load-independent)", None),
        ("peak memory, 1 worker (MB)", f"{results[1][1]:,.0f}", "<= 1,000", results[1][1] <= 1000),
        ("peak memory, 2 workers, all processes (MB)", f"{results[2][1]:,.0f}", "<= 1,500", results[2][1] <= 1500),
        (
            f"peak memory {args.lines:,} / {reference_lines:,} lines, 1 worker",
            f"{results[1][1] / small_peak:.2f}x",
            "<= 1.25x (constant)",
            results[1][1] <= 1.25 * small_peak,
        ),
        ("2 workers' output = 1 worker's, one line per line", "yes" if identical else "NO", "yes", identical),
    ]
    print(f"python -m model.translate over {args.lines:,} corpus lines; seconds include start-up")
    print_table(rows)


if __name__ == "__main__":
    main()
