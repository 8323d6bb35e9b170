"""Translator speed and memory, each figure printed next to its target.

    python bench/speed.py                      # shipped model, 1 torch thread (as the app runs it)
    python bench/speed.py --threads 2 --model assets/en-es-noattn
    python bench/speed.py --joey-python /tmp/joeyenv/bin/python   # Joey NMT timed here too (bench/joey.py)

Single-sentence latency (greedy, beam 5) for a 10-word sentence, batched
greedy throughput on real Tatoeba English, load time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from common import ROOT, SENTENCE, percentile, print_table, time_calls

sys.path.insert(0, str(ROOT))

import torch

from model import Translator

BENCHMARK = ROOT.parent / "shared" / "data" / "tatoeba-test" / "eng-spa.tsv"
FALLBACK = [
    "Tom is here.",
    "Where is the station?",
    "I don't know what you want me to do.",
    "She has been studying English for three years.",
    "Can you help me carry these boxes upstairs, please?",
]
JOEY_MS_PER_16_TOKENS = 23.0  # the figure: Joey NMT 2.3.0, prototype-sized LSTM, batch 1, on its machines
# For the Joey comparison: the sentence whose translation comes closest to 16 pieces is timed end to end.
LONGER = [
    "Tom said that he wanted to buy a new car and a house next year.",
    "She told me that she had never seen such a beautiful house in her life.",
    "My brother and I went to the beach last weekend because the weather was nice.",
    "I would like to know why you did not come to the party last night.",
]


def batch_sentences(count: int) -> list[str]:
    """Real, varied English: the Tatoeba test sentences if the corpus folder is there."""
    if BENCHMARK.is_file():
        lines = BENCHMARK.read_text(encoding="utf-8").splitlines()[:count]
        return [line.split("\t")[0] for line in lines]
    return (FALLBACK * (count // len(FALLBACK) + 1))[:count]


def sixteen_pieces(translator: Translator, repeats: int) -> dict:
    """Greedy latency of the sentence that decodes closest to 16 pieces, scaled to exactly 16."""
    pieces_of = {s: len(translator.translate(s).target_tokens) for s in LONGER}
    sentence = min(LONGER, key=lambda s: abs(pieces_of[s] - 16))
    pieces = pieces_of[sentence]
    p50 = statistics.median(time_calls(lambda: translator.translate(sentence), repeats))
    return {"joey_sentence": sentence, "joey_pieces": pieces, "joey_p50_ms": p50, "ms_per_16_pieces": p50 * 16 / pieces}


def joey_ms(python: str | None, threads: int) -> tuple[float, str]:
    """Joey's ms per 16 tokens: timed now by bench/joey.py under ``python``, or the issue's figure."""
    if not python:
        return JOEY_MS_PER_16_TOKENS, "the issue's figure"
    command = [python, str(ROOT / "bench" / "joey.py"), "--json", "--threads", str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["joey_ms_per_16_tokens"], "timed here"


def measure(translator: Translator, repeats: int, batch_count: int) -> dict:
    greedy = time_calls(lambda: translator.translate(SENTENCE), repeats)
    beam = time_calls(lambda: translator.translate(SENTENCE, beam_size=5), max(20, repeats // 2))
    sentences = batch_sentences(batch_count)
    translator.translate_batch(sentences[:64])  # warm-up
    start = time.perf_counter()
    translator.translate_batch(sentences)
    batch_seconds = time.perf_counter() - start  # read now: the 16-piece timing below must not count
    return {
        **sixteen_pieces(translator, repeats),
        "greedy_p50_ms": statistics.median(greedy),
        "greedy_p95_ms": percentile(greedy, 95),
        "beam5_p50_ms": statistics.median(beam),
        "beam5_p95_ms": percentile(beam, 95),
        "batch_sentences": len(sentences),
        "batch_source": str(BENCHMARK) if BENCHMARK.is_file() else "the 5 fallback sentences (no Tatoeba test file)",
        "batch_sentences_per_s": len(sentences) / batch_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app uses 1 per request)")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--batch-sentences", type=int, default=2000)
    parser.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True, help="int8 decoding steps")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--joey-python", help="a Python with joeynmt 2.3.0: time Joey here (bench/joey.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    translator = Translator.load(args.model, device="cpu", int8=args.int8)
    load_s = time.perf_counter() - start
    result = translator.translate(SENTENCE)
    tokens = len(result.target_tokens)
    decoding = "int8" if translator.int8 else "float32"
    threads = torch.get_num_threads()
    plural = "" if threads == 1 else "s"
    print(f"model {translator.path} ({translator.config.attention}), {decoding} decoding, {threads} thread{plural}")
    print(f"sentence: {SENTENCE!r} -> {result.text!r} ({tokens} target pieces)")
    figures = {
        "load_ms": load_s * 1000,
        "target_pieces": tokens,
        **measure(translator, args.repeats, args.batch_sentences),
    }
    per_16 = figures["ms_per_16_pieces"]
    joey, joey_source = joey_ms(args.joey_python, threads)  # after ours, so neither shares the cores
    figures["joey_ms_per_16_tokens"], figures["times_faster_than_joey"] = joey, joey / per_16
    print(f"batch: {figures['batch_sentences']} sentences from {figures['batch_source']}")
    print(f"Joey comparison: {figures['joey_sentence']!r} decodes {figures['joey_pieces']} pieces")
    print(f"Joey NMT, 16 tokens: {joey:.2f} ms ({joey_source}); the translator is {joey / per_16:.2f}x faster")
    joey_target = joey / 5
    print_table(
        [
            ("load time (ms)", f"{figures['load_ms']:.0f}", "<= 2000", figures["load_ms"] <= 2000),
            ("greedy latency p50 (ms)", f"{figures['greedy_p50_ms']:.2f}", "<= 5", figures["greedy_p50_ms"] <= 5),
            ("greedy latency p95 (ms)", f"{figures['greedy_p95_ms']:.2f}", "", None),
            (
                "greedy, 16 pieces end to end (ms)",
                f"{per_16:.2f}",
                f"<= {joey_target:.1f} (Joey/5)",
                per_16 <= joey_target,
            ),
            ("beam-5 latency p50 (ms)", f"{figures['beam5_p50_ms']:.2f}", "<= 20", figures["beam5_p50_ms"] <= 20),
            ("beam-5 latency p95 (ms)", f"{figures['beam5_p95_ms']:.2f}", "", None),
            (
                f"batched greedy, {figures['batch_sentences']} sentences (sent/s)",
                f"{figures['batch_sentences_per_s']:.0f}",
                ">= 500",
                figures["batch_sentences_per_s"] >= 500,
            ),
            ("peak RSS (MB)", f"{figures['peak_rss_mb']:.0f}", "", None),
        ]
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"threads": torch.get_num_threads(), **figures}, handle, indent=2)


if __name__ == "__main__":
    main()
