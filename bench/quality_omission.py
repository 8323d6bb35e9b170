"""Dropped content words: an omission measure anchored by Apertium's bilingual dictionary and the reference.

For each English content word (noun, verb, adjective, adverb, name, number) Apertium's tagger picks the
analysis and its eng-spa dictionary lists the Spanish lemmas it may become. The word is *anchored* when
the reference contains one of those lemmas (Apertium's Spanish analyser lemmatises the reference), so
only words the reference shows must come through are counted. An anchored word is *dropped* when the
translation contains none of its lemmas. The dropped share is dropped / anchored over the whole set.

Why not only the length ratio: a translation can repeat one clause and drop another and still be long
enough (issue 16's "cuando visitamos cuando visitamos"); this measure sees the dropped clause's words.
Its bias: a correct synonym the dictionary does not list counts as dropped, for every system alike,
except Apertium itself, which only writes dictionary words (its figure is flattered).

Needs Debian's `apertium-eng-spa` (sudo apt-get install apertium-eng-spa); `available()` says whether
it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DATA = Path("/usr/share/apertium/apertium-eng-spa")
CONTENT_TAGS = {"n", "vblex", "adj", "adv", "np", "num"}
_UNIT = re.compile(r"\^(.*?)\$")  # one lexical unit of Apertium's stream format
_SPECIAL = re.compile(r"([][\\^$/@<>{}*#+~|])")  # characters the stream format reserves


def available() -> bool:
    return shutil.which("lt-proc") is not None and (DATA / "eng-spa.autobil.bin").exists()


def _run(pipeline: list[list[str]], lines: list[str]) -> list[str]:
    """Feed one sentence a line through a chain of Apertium tools; one output line per input line."""
    text = "".join(_SPECIAL.sub(r"\\\1", line.replace("\n", " ")) + "\n" for line in lines)
    for command in pipeline:
        text = subprocess.run(command, input=text, capture_output=True, text=True, check=True).stdout
    out = text.split("\n")[: len(lines)]
    if len(out) != len(lines):
        raise RuntimeError(f"Apertium returned {len(out)} lines for {len(lines)}")
    return out


def _lemma(analysis: str) -> str:
    """'pulmón<n><m><pl>' -> 'pulmón'; 'tener# que<vbmod>' -> 'tener que'; '*Xyz' -> 'xyz'."""
    return analysis.split("<", 1)[0].replace("#", "").lstrip("*@").strip().lower()


def english_content(sentences: list[str]) -> list[list[set[str]]]:
    """Per sentence, per content word: the set of Spanish lemmas the bilingual dictionary gives it."""
    pipeline = [
        ["lt-proc", "-w", str(DATA / "eng-spa.automorf.bin")],
        ["apertium-tagger", "-g", str(DATA / "eng-spa.prob")],
        ["apertium-pretransfer"],
        ["lt-proc", "-b", str(DATA / "eng-spa.autobil.bin")],
    ]
    result = []
    for line in _run(pipeline, sentences):
        words = []
        for unit in _UNIT.findall(line):
            source, *targets = re.split(r"(?<!\\)/", unit)
            tags = re.findall(r"<([^>]+)>", source)
            if not tags or tags[0] not in CONTENT_TAGS or tags[:2] == ["adv", "itg"]:
                continue
            lemmas = {_lemma(t) for t in targets if _lemma(t)} or {_lemma(source)}
            words.append(lemmas)
        result.append(words)
    return result


def spanish_lemmas(sentences: list[str]) -> list[set[str]]:
    """Per sentence, every lemma of every analysis of every word, and the words themselves (lowercased)."""
    pipeline = [["lt-proc", "-w", str(DATA / "spa-eng.automorf.bin")]]
    result = []
    for line, sentence in zip(_run(pipeline, sentences), sentences):
        lemmas = {w.lower() for w in re.findall(r"\w+", sentence)}
        for unit in _UNIT.findall(line):
            _, *analyses = re.split(r"(?<!\\)/", unit)
            lemmas |= {_lemma(a) for a in analyses}
        result.append(lemmas)
    return result


def _present(lemmas: set[str], found: set[str], text: str) -> bool:
    """A lemma is present as an analysed lemma, or as a multiword phrase in the lowercased text."""
    return any(lemma in found or (" " in lemma and lemma in text) for lemma in lemmas)


@dataclass
class Omission:
    anchored: int  # content words whose dictionary translation the reference contains
    dropped: int  # of those, missing from the translation
    sentences_with_drop: int
    sentences: int

    @property
    def dropped_share(self) -> float:
        return self.dropped / self.anchored if self.anchored else 0.0

    def to_dict(self) -> dict:
        return {
            "dropped_share": round(self.dropped_share, 4),
            "sentences_with_drop": round(self.sentences_with_drop / max(1, self.sentences), 4),
            "anchored_words": self.anchored,
        }


class DictionaryOmission:
    """Analyses each source and reference once; then scores any number of systems' translations."""

    def __init__(self, sources: list[str], references: list[str]):
        self.words = english_content(sources)
        self.references = spanish_lemmas(references)
        self.anchored = [
            [lemmas for lemmas in words if _present(lemmas, found, reference.lower())]
            for words, found, reference in zip(self.words, self.references, references)
        ]

    def dropped_per_sentence(self, hypotheses: list[str]) -> list[int]:
        found = spanish_lemmas(hypotheses)
        return [
            sum(not _present(lemmas, have, hypothesis.lower()) for lemmas in anchored)
            for anchored, have, hypothesis in zip(self.anchored, found, hypotheses)
        ]

    def score(self, hypotheses: list[str], index: list[int] | None = None) -> Omission:
        """The measure over all sentences, or over ``index`` only (a length bucket)."""
        dropped = self.dropped_per_sentence(hypotheses)
        index = range(len(hypotheses)) if index is None else index
        return Omission(
            anchored=sum(len(self.anchored[i]) for i in index),
            dropped=sum(dropped[i] for i in index),
            sentences_with_drop=sum(dropped[i] > 0 for i in index),
            sentences=len(index),
        )
