"""Coverage: how much attention each English word received over a whole translation.

A word the decoder never looked at may have been left out of the translation. The flag below is measured
against real omissions on held-out sentences by bench/coverage.py (method and figures: docs/page.md,
"Forgotten words").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .words import SPECIAL_PIECES, word_groups, word_label

UNKNOWN_PIECE = "<unk>"  # SentencePiece's name for the unknown piece

# Content words with less total attention are flagged "possibly untranslated": chosen on the dev split by
# bench/coverage.py (best F1 against dictionary-judged omissions); its precision and recall: docs/page.md.
COVERAGE_THRESHOLD: float | None = 0.9

# Content words (nouns, verbs, adjectives, adverbs, names, numbers) carry meaning a reader would miss; the
# words below are function words, which Spanish often expresses through inflection or leaves out altogether
# ("I" in "Tengo hambre", "do" in questions), so their low coverage says nothing about an omission.
STOP_WORDS = frozenset(
    (
        # determiners and pronouns
        *("a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every", "no", "all", "both"),
        *("either", "neither", "another", "such", "what", "which", "who", "whom", "whose", "one", "ones"),
        *("i", "me", "my", "mine", "myself", "you", "your", "yours", "yourself", "yourselves", "he", "him", "his"),
        *("himself", "she", "her", "hers", "herself", "it", "its", "itself", "we", "us", "our", "ours"),
        *("ourselves", "they", "them", "their", "theirs", "themselves"),
        # auxiliaries and modals
        *("be", "am", "is", "are", "was", "were", "been", "being", "do", "does", "did", "done", "doing", "have"),
        *("has", "had", "having", "will", "would", "shall", "should", "can", "cannot", "could", "may", "might"),
        *("must", "ought", "let"),
        # prepositions and particles
        *("to", "of", "in", "on", "at", "by", "for", "with", "from", "into", "onto", "about", "over", "under"),
        *("than", "as", "up", "down", "out", "off", "through", "between", "among", "during", "before", "after"),
        *("above", "below", "against", "without", "within", "upon", "around", "along", "across", "toward"),
        "towards",
        # conjunctions and adverbs of degree or focus
        *("and", "or", "but", "nor", "so", "if", "then", "because", "while", "though", "although", "whether"),
        *("when", "where", "why", "how", "not", "n't", "there", "here", "very", "too", "also", "just", "only"),
        *("still", "yet", "ever"),
        # clitics
        *("'s", "'m", "'re", "'ve", "'ll", "'d"),
    )
)
# Contractions whose first part is not a word by itself.
IRREGULAR_CONTRACTIONS = {"can't": "can", "won't": "will", "shan't": "shall", "ain't": "be"}
_EDGE_PUNCTUATION = re.compile(r"^[^\w']+|[^\w']+$")
_CLITIC = re.compile(r"(n't|'s|'m|'re|'ve|'ll|'d)$")


def content_key(word: str) -> str:
    """The word lower-cased, without surrounding punctuation or a clitic ("Tom's," -> "tom", "don't" -> "do")."""
    key = _EDGE_PUNCTUATION.sub("", word.lower().replace("\u2019", "'"))
    key = IRREGULAR_CONTRACTIONS.get(key, key)
    return _CLITIC.sub("", key) if key not in STOP_WORDS else key


def is_content_word(word: str) -> bool:
    """True for a word that carries meaning of its own: letters or digits, and not in STOP_WORDS."""
    key = content_key(word)
    return any(ch.isalnum() for ch in key) and key not in STOP_WORDS


@dataclass(frozen=True)
class WordCoverage:
    """One source word: its piece indices, the attention it received summed over all output steps."""

    word: str
    pieces: list[int]
    coverage: float  # in [0, number of output steps]; all words together sum to the number of steps
    content: bool
    flagged: bool  # a content word under the threshold: possibly left untranslated

    def to_dict(self) -> dict:
        return {
            "word": self.word,
            "pieces": list(self.pieces),
            "coverage": round(self.coverage, 4),
            "content": self.content,
            "flagged": self.flagged,
        }


def word_coverage(
    source_tokens: list[str], attention: np.ndarray | None, threshold: float | None
) -> list[WordCoverage]:
    """attention (T, S) over ``source_tokens`` (S) -> one WordCoverage per source word, ``</s>`` included.

    [] for a model without attention; no word is flagged when ``threshold`` is None.
    """
    if attention is None or not source_tokens:
        return []
    received = attention.sum(axis=0)  # (S,)
    words = []
    for group in word_groups(source_tokens):
        label = word_label(source_tokens, group)
        total = float(received[group].sum())
        # characters read as <unk> are named in the notes instead: the model cannot translate them anyway
        content = source_tokens[group[0]] not in SPECIAL_PIECES and is_content_word(label.replace(UNKNOWN_PIECE, ""))
        flagged = threshold is not None and content and total < threshold
        words.append(WordCoverage(label, group, total, content, flagged))
    return words
