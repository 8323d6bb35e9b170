"""SentencePiece pieces grouped into the words a reader sees (the heatmap's "words" unit and coverage)."""

from __future__ import annotations

WORD_START = "\u2581"  # SentencePiece's "▁": the piece begins a new word
SPECIAL_PIECES = ("</s>", "<s>")  # always a word of their own


def word_groups(pieces: list[str]) -> list[list[int]]:
    """Indices of the pieces that make up each word: a word starts at a piece beginning with "▁".

    End-of-sentence markers stay words of their own; pieces before the first "▁" form the first word.
    """
    groups: list[list[int]] = []
    for index, piece in enumerate(pieces):
        previous_special = bool(groups) and pieces[groups[-1][-1]] in SPECIAL_PIECES
        if not groups or piece.startswith(WORD_START) or piece in SPECIAL_PIECES or previous_special:
            groups.append([index])
        else:
            groups[-1].append(index)
    return groups


def word_label(pieces: list[str], group: list[int]) -> str:
    """The word the pieces spell, without SentencePiece's space marker ("▁" alone stays visible)."""
    text = "".join(pieces[i] for i in group)
    return text.replace(WORD_START, "") or WORD_START
