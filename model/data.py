"""Corpus loading, cleaning and the English-disjoint train/dev/test split."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_WHITESPACE = re.compile(r"\s+")

Pair = tuple[str, str]


# UTF-8 text once decoded as Windows-1252 ("canciÃ³n" for "canción"): a lead byte read as Ã, Â or â followed
# by a continuation byte read as a Latin-1/Windows-1252 symbol.
_MOJIBAKE = re.compile(
    "[\u00c2\u00c3\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)


def repair_mojibake(text: str) -> str | None:
    """The text with UTF-8-read-as-Windows-1252 undone, or None when it shows no such damage or cannot be undone."""
    if not _MOJIBAKE.search(text):
        return None
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return None


def normalize(text: str) -> str:
    """NFC and single spaces: the form every sentence is compared and trained in."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


@dataclass
class Corpus:
    pairs: list[Pair]
    skipped: Counter = field(default_factory=Counter)  # reason -> number of lines
    duplicates: int = 0


def read_pairs(path: str | Path, max_chars: int = 300) -> Corpus:
    """Read ``EN<TAB>ES[<TAB>attribution]`` lines; bad lines are counted, never fatal.

    The third column of the newer manythings.org files is ignored. Lines with bytes that are not UTF-8 are
    skipped; text double-encoded by a Windows-1252 round trip is repaired and kept (both counted in ``skipped``).
    """
    corpus = Corpus(pairs=[])
    seen: set[Pair] = set()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            columns = line.rstrip("\n").split("\t")
            if len(columns) < 2:
                corpus.skipped["no tab"] += 1
                continue
            if "\ufffd" in columns[0] or "\ufffd" in columns[1]:  # bytes that are not UTF-8 (errors="replace")
                corpus.skipped["undecodable bytes"] += 1
                continue
            repaired = [repair_mojibake(column) for column in columns[:2]]
            if any(repaired):
                corpus.skipped["mojibake repaired (kept)"] += 1
            en, es = (normalize(fixed or column) for fixed, column in zip(repaired, columns))
            if not en or not es:
                corpus.skipped["empty side"] += 1
                continue
            if len(en) > max_chars or len(es) > max_chars:
                corpus.skipped["over-long"] += 1
                continue
            if (en, es) in seen:
                corpus.duplicates += 1
                continue
            seen.add((en, es))
            corpus.pairs.append((en, es))
    return corpus


def _bucket(english: str) -> float:
    """A stable number in [0, 1) from the English sentence alone (same split on every machine)."""
    digest = hashlib.sha256(english.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Split:
    train: list[Pair]
    dev: list[Pair]
    test: list[Pair]
    excluded_benchmark: int  # train/dev pairs dropped because their English is in the benchmark


def split_by_english(
    pairs: list[Pair],
    dev_fraction: float,
    test_fraction: float,
    benchmark_english: set[str] | frozenset[str] = frozenset(),
) -> Split:
    """Split so that no English sentence is in more than one part.

    Pairs whose English occurs in the benchmark are removed from train and dev:
    the benchmark is scored, never trained or tuned on.
    """
    train: list[Pair] = []
    dev: list[Pair] = []
    test: list[Pair] = []
    excluded = 0
    for en, es in pairs:
        position = _bucket(en)
        if position < test_fraction:
            test.append((en, es))
        elif en in benchmark_english:
            excluded += 1
        elif position < test_fraction + dev_fraction:
            dev.append((en, es))
        else:
            train.append((en, es))
    return Split(train, dev, test, excluded)
