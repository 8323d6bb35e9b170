"""Do names and numbers come through? Copy recall on the Tatoeba pairs unseen in the corpus.

    python bench/names.py --models assets/en-es runs/en-es-separate [--beam 1]

A word can be copied when it is capitalised or a number in the English (the first
word of the sentence is skipped: it is capitalised anyway) and appears, spelled the
same, in the Spanish reference: "Jane", "Tatoeba", "2011". Copy recall is the share
of those words the translation also contains. These pairs' English is not in the
corpus, so most of their names were never seen in training.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import Translator  # noqa: E402
from model.data import read_pairs  # noqa: E402
from model.evaluate import read_benchmark  # noqa: E402

WORD = re.compile(r"\w+")


def copyable_words(english: str, spanish: str) -> list[str]:
    reference = set(WORD.findall(spanish))
    return [w for w in WORD.findall(english)[1:] if (w[0].isupper() or w.isdigit()) and w in reference]


def copy_recall(pairs: list[tuple[str, str]], hypotheses: list[str]) -> tuple[int, int, collections.Counter]:
    """-> (copyable words, words the translation reproduced, the missed words counted)."""
    total, kept, missed = 0, 0, collections.Counter()
    for (english, spanish), hypothesis in zip(pairs, hypotheses):
        written = set(WORD.findall(hypothesis))
        for word in copyable_words(english, spanish):
            total += 1
            kept += word in written
            missed.update([] if word in written else [word])
    return total, kept, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["assets/en-es"])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared/data/spa-eng/spa.txt"))
    parser.add_argument("--benchmark", default=str(ROOT.parent / "shared/data/tatoeba-test/eng-spa.tsv"))
    parser.add_argument("--beam", type=int, default=1)
    args = parser.parse_args()

    corpus_english = {en for en, _ in read_pairs(args.corpus).pairs}
    unseen = [(en, es) for en, es in read_benchmark(args.benchmark) if en not in corpus_english]
    print(f"{len(unseen):,} Tatoeba-test pairs whose English is not in the corpus; beam {args.beam}")
    for folder in args.models:
        translator = Translator.load(folder, device="cpu")
        hypotheses = [t.text for t in translator.translate_batch([en for en, _ in unseen], beam_size=args.beam)]
        total, kept, missed = copy_recall(unseen, hypotheses)
        common = ", ".join(f"{word} ({count})" for word, count in missed.most_common(8))
        share = 100 * kept / max(total, 1)
        print(f"{folder}: copied {kept} of {total} names and numbers ({share:.1f}%); most missed: {common}")


if __name__ == "__main__":
    main()
