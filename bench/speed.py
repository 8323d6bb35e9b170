"""Translator speed and memory, each figure printed next to its target.

    python bench/speed.py                      # shipped model, torch's default threads
    python bench/speed.py --threads 2 --model assets/en-es-noattn

Single-sentence latency (greedy, beam 5) for a 10-word sentence, batched
greedy throughput on real Tatoeba English, load time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from model import Translator  # noqa: E402

SENTENCE = "I think we should leave before it starts to rain."  # 10 words
BENCHMARK = ROOT.parent / "shared" / "data" / "tatoeba-test" / "eng-spa.tsv"
FALLBACK = [
    "Tom is here.",
    "Where is the station?",
    "I don't know what you want me to do.",
    "She has been studying English for three years.",
    "Can you help me carry these boxes upstairs, please?",
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def time_calls(call, repeats: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def batch_sentences(count: int) -> list[str]:
    if BENCHMARK.is_file():
        lines = BENCHMARK.read_text(encoding="utf-8").splitlines()[:count]
        return [line.split("\t")[0] for line in lines]
    return (FALLBACK * (count // len(FALLBACK) + 1))[:count]


def row(name: str, value: float, unit: str, target: str = "", ok: bool | None = None) -> dict:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"{name:34s} {value:10.2f} {unit:10s} {target:14s} {verdict}")
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target, "ok": ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--batch-sentences", type=int, default=2000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    translator = Translator.load(args.model, device="cpu")
    load_s = time.perf_counter() - start
    result = translator.translate(SENTENCE)
    tokens = len(result.target_tokens)
    print(
        f"model {translator.path} ({translator.config.attention}), {torch.get_num_threads()} threads, "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}"
    )
    print(f"sentence: {SENTENCE!r} -> {result.text!r} ({tokens} target tokens)\n")

    greedy = time_calls(lambda: translator.translate(SENTENCE), args.repeats)
    beam = time_calls(lambda: translator.translate(SENTENCE, beam_size=5), max(20, args.repeats // 2))
    sentences = batch_sentences(args.batch_sentences)
    translator.translate_batch(sentences[:64])  # warm-up
    start = time.perf_counter()
    translator.translate_batch(sentences)
    throughput = len(sentences) / (time.perf_counter() - start)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    figures = [
        row("load time", load_s * 1000, "ms", "<= 2000", load_s <= 2),
        row("greedy latency p50", statistics.median(greedy), "ms", "<= 5", statistics.median(greedy) <= 5),
        row("greedy latency p95", percentile(greedy, 95), "ms"),
        row(
            "greedy ms per 16 tokens",
            statistics.median(greedy) * 16 / tokens,
            "ms",
            "<= 4.6 (Joey/5)",
            statistics.median(greedy) * 16 / tokens <= 23 / 5,
        ),
        row("beam-5 latency p50", statistics.median(beam), "ms", "<= 20", statistics.median(beam) <= 20),
        row("beam-5 latency p95", percentile(beam, 95), "ms"),
        row(f"batched greedy ({len(sentences)} sentences)", throughput, "sent/s", ">= 500", throughput >= 500),
        row("peak RSS", peak_rss_mb, "MB"),
    ]
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": torch.get_num_threads(), "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
