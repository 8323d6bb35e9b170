"""Scoring with sacreBLEU, overall and by source length.

python -m model.evaluate --models assets/en-es assets/en-es-noattn --out assets/length_analysis.json
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import sacrebleu

from .data import Pair, normalize, read_pairs, split_by_english

LENGTH_EDGES = (5, 10, 15, 20)  # words: 1-5, 6-10, 11-15, 16-20, 21+
MIN_BUCKET = 100  # fewer sentences than this make BLEU too noisy to plot; merged into a neighbour
TARGET_EDGES = (5, 10, 15)  # issue 16's buckets, never merged: 1-5, 6-10, 11-15, 16+ words
SHORT_RATIO = 0.7  # a translation with fewer words than this share of its reference's probably left something out
REPEAT_N = 3  # a word trigram written twice: rare in references (0.3% of Tatoeba's), common in looping decoders
_WORD = re.compile(r"\w+")


def score(hypotheses: list[str], references: list[str]) -> dict:
    """Corpus BLEU and chrF with sacreBLEU's default settings, signatures included."""
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    return {
        "bleu": round(bleu.corpus_score(hypotheses, [references]).score, 2),
        "chrf": round(chrf.corpus_score(hypotheses, [references]).score, 2),
        "sentences": len(hypotheses),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def short_share(hypotheses: list[str], references: list[str], ratio: float = SHORT_RATIO) -> float:
    """Share of translations with fewer than ``ratio`` x their reference's words: a cheap omission signal."""
    short = sum(len(_WORD.findall(h)) < ratio * len(_WORD.findall(r)) for h, r in zip(hypotheses, references))
    return short / max(1, len(hypotheses))


def has_repeat(text: str, n: int = REPEAT_N) -> bool:
    """Whether some word n-gram (lowercased) occurs twice or more."""
    words = _WORD.findall(text.lower())
    return any(count > 1 for count in collections.Counter(zip(*(words[i:] for i in range(n)))).values())


def repeat_share(texts: list[str], n: int = REPEAT_N) -> float:
    """Share of texts with a repeated word n-gram: the decoder saying the same thing twice."""
    return sum(has_repeat(t, n) for t in texts) / max(1, len(texts))


def adequacy(hypotheses: list[str], references: list[str]) -> dict:
    """Omission and repetition figures beside BLEU (the reference's own repeat share is the floor)."""
    return {
        "short_share": round(short_share(hypotheses, references), 4),
        "repeat_share": round(repeat_share(hypotheses), 4),
        "reference_repeat_share": round(repeat_share(references), 4),
    }


def read_benchmark(path: str | Path) -> list[Pair]:
    """The Tatoeba-Challenge test file: EN<TAB>ES per line, normalised like the corpus."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            columns = line.rstrip("\n").split("\t")
            if len(columns) >= 2:
                pairs.append((normalize(columns[0]), normalize(columns[1])))
    return pairs


@dataclass(frozen=True)
class Bucket:
    low: int  # words, inclusive
    high: int | None  # inclusive; None = no upper bound

    @property
    def label(self) -> str:
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"

    def holds(self, words: int) -> bool:
        return words >= self.low and (self.high is None or words <= self.high)


def make_buckets(word_counts: list[int], edges=LENGTH_EDGES, min_count: int = MIN_BUCKET) -> list[Bucket]:
    """Fixed length buckets, then each too-small bucket merged into the one before it.

    Long sentences are rare in Tatoeba, so the top buckets are the ones that merge.
    A small first bucket merges into the next instead.
    """
    bounds = [1, *[e + 1 for e in edges]]
    buckets = [Bucket(lo, hi - 1) for lo, hi in itertools.pairwise(bounds)] + [Bucket(bounds[-1], None)]
    merged: list[Bucket] = []
    for bucket in buckets:
        count = sum(bucket.holds(n) for n in word_counts)
        if merged and count < min_count:
            merged[-1] = Bucket(merged[-1].low, bucket.high)
        else:
            merged.append(bucket)
    while len(merged) > 1 and sum(merged[0].holds(n) for n in word_counts) < min_count:
        merged[:2] = [Bucket(merged[0].low, merged[1].high)]
    return merged


def score_by_length(
    sources: list[str],
    hypotheses: list[str],
    references: list[str],
    min_count: int = MIN_BUCKET,
    edges: tuple[int, ...] = LENGTH_EDGES,
) -> dict:
    """Overall scores plus one entry per (merged) source-length bucket, each with its adequacy figures.

    ``min_count=0, edges=TARGET_EDGES`` gives issue 16's four fixed buckets.
    """
    words = [len(s.split()) for s in sources]
    buckets = make_buckets(words, edges=edges, min_count=min_count)
    result = {"overall": {**score(hypotheses, references), **adequacy(hypotheses, references)}, "buckets": []}
    for bucket in buckets:
        index = [i for i, n in enumerate(words) if bucket.holds(n)]
        chosen, wanted = [hypotheses[i] for i in index], [references[i] for i in index]
        entry = {**score(chosen, wanted), **adequacy(chosen, wanted)} if index else {"sentences": 0}
        entry.pop("bleu_signature", None)
        entry.pop("chrf_signature", None)
        result["buckets"].append({"words": bucket.label, **entry})
    return result


def translate_all(translator, sources: list[str], beam_size: int) -> list[str]:
    return [t.text for t in translator.translate_batch(sources, beam_size=beam_size)]


def evaluate_sets(translator, sets: dict[str, list[Pair]], beam_size: int) -> dict:
    """{set name: score_by_length(...)} for one model and one beam size."""
    report = {}
    for name, pairs in sets.items():
        sources = [en for en, _ in pairs]
        start = time.perf_counter()
        hypotheses = translate_all(translator, sources, beam_size)
        report[name] = score_by_length(sources, hypotheses, [es for _, es in pairs])
        report[name]["seconds"] = round(time.perf_counter() - start, 1)
    return report


def standard_sets(
    corpus: str, benchmark: str, dev_fraction: float = 0.02, test_fraction: float = 0.02
) -> dict[str, list[Pair]]:
    """The dev split (for tuning), the held-out test split, the full Tatoeba test, and its pairs whose English
    is not in the corpus."""
    pairs = read_pairs(corpus).pairs
    tatoeba = read_benchmark(benchmark)
    split = split_by_english(pairs, dev_fraction, test_fraction, {en for en, _ in tatoeba})
    corpus_english = {en for en, _ in pairs}
    return {
        "dev": split.dev,
        "test_split": split.test,
        "tatoeba": tatoeba,
        "tatoeba_unseen": [(en, es) for en, es in tatoeba if en not in corpus_english],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["assets/en-es"], help="model folders to compare")
    parser.add_argument("--corpus", default="../shared/data/spa-eng/spa.txt")
    parser.add_argument("--benchmark", default="../shared/data/tatoeba-test/eng-spa.tsv")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--sets", nargs="+", default=["test_split", "tatoeba_unseen"])
    parser.add_argument("--int8", action=argparse.BooleanOptionalAction, default=False, help="int8 decoding steps")
    parser.add_argument("--out", default="assets/length_analysis.json")
    args = parser.parse_args(argv)

    from .translator import Translator

    sets = {name: pairs for name, pairs in standard_sets(args.corpus, args.benchmark).items() if name in args.sets}
    report = {"beam_size": args.beam, "int8": args.int8, "min_bucket": MIN_BUCKET, "models": {}}
    for folder in args.models:
        translator = Translator.load(folder, device="cpu", int8=args.int8)
        name = Path(folder).name
        report["models"][name] = {
            "attention": translator.config.attention,
            **evaluate_sets(translator, sets, args.beam),
        }
        for set_name in sets:
            overall = report["models"][name][set_name]["overall"]
            print(f"{name:16s} {set_name:15s} BLEU {overall['bleu']:5.1f}  chrF {overall['chrf']:5.1f}")
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
