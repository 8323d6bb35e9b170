"""Joint or separate SentencePiece vocabularies? Measure what each costs the model.

    python bench/vocab.py [--corpus ../shared/data/spa-eng/spa.txt]

For each choice: pieces per sentence on each side (decoder steps are the
latency; encoder steps the memory), how many of the target softmax's rows
Spanish actually uses, and the unknown rate on the Tatoeba test English.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.data import read_pairs, split_by_english  # noqa: E402
from model.evaluate import read_benchmark  # noqa: E402
from model.tokenizer import UNK_ID, Tokenizer, train_sentencepiece  # noqa: E402


def describe(name: str, source: Tokenizer, target: Tokenizer, dev, test_english) -> None:
    src = source.encode_batch([en for en, _ in dev])
    tgt = target.encode_batch([es for _, es in dev])
    used = len({i for ids in target.encode_batch([es for _, es in dev]) for i in ids})
    unk = sum(ids.count(UNK_ID) for ids in source.encode_batch(test_english))
    pieces = sum(len(ids) for ids in source.encode_batch(test_english))
    print(
        f"{name:22s} src pieces/sent {statistics.mean(map(len, src)):5.2f}  tgt pieces/sent "
        f"{statistics.mean(map(len, tgt)):5.2f}  softmax rows {len(target):5d}  "
        f"rows used by dev Spanish {used:5d}  unk on Tatoeba-test EN {100 * unk / pieces:.3f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/data/spa-eng/spa.txt"))
    parser.add_argument("--benchmark", default=str(ROOT.parent / "shared/data/tatoeba-test/eng-spa.tsv"))
    parser.add_argument("--size", type=int, default=8000)
    args = parser.parse_args()
    benchmark = read_benchmark(args.benchmark)
    split = split_by_english(read_pairs(args.corpus).pairs, 0.02, 0.02, {en for en, _ in benchmark})
    test_english = [en for en, _ in benchmark]
    with tempfile.TemporaryDirectory() as work:
        joint = Path(work, "joint.model")
        train_sentencepiece([s for pair in split.train for s in pair], args.size, joint)
        describe(f"joint {args.size}", Tokenizer(joint), Tokenizer(joint), split.dev, test_english)
        for side, index in (("en", 0), ("es", 1)):
            train_sentencepiece([pair[index] for pair in split.train], args.size, Path(work, f"{side}.model"))
        separate = Tokenizer(Path(work, "en.model")), Tokenizer(Path(work, "es.model"))
        describe(f"separate {args.size}+{args.size}", *separate, split.dev, test_english)


if __name__ == "__main__":
    main()
