"""SentencePiece: the single source of token ids (pad=0, unk=1, bos=2, eos=3)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import sentencepiece as spm

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


def train_sentencepiece(sentences: Iterable[str], vocab_size: int, path: str | Path) -> None:
    """Train a unigram model on ``sentences`` and write it to ``path``."""
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buffer,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=BOS_ID,
        eos_id=EOS_ID,
        # Tatoeba is small and clean; the default sample cap would drop most of it.
        input_sentence_size=0,
        hard_vocab_limit=False,
        minloglevel=2,
        num_threads=2,
    )
    Path(path).write_bytes(buffer.getvalue())


class Tokenizer:
    """Thin wrapper so the rest of the code never hard-codes ids or pieces."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.sp = spm.SentencePieceProcessor(model_file=str(path))
        ids = (self.sp.pad_id(), self.sp.unk_id(), self.sp.bos_id(), self.sp.eos_id())
        if ids != (PAD_ID, UNK_ID, BOS_ID, EOS_ID):
            raise ValueError(f"{path}: special ids {ids} != {(PAD_ID, UNK_ID, BOS_ID, EOS_ID)}")
        # id -> piece as a list: naming every top-5 candidate of every step stays cheap
        self._pieces = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]

    def __len__(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        # One call per text: SentencePiece's list form runs through a thread pool whose start-up, after
        # torch work, cost 0.2 ms at the median and 2 ms at p90 (the str form: 0.03 ms).
        return [self.sp.encode(text) for text in texts]

    def encode_sampled(
        self, text: str, alpha: float, allowed: frozenset[int] | None = None, tries: int = 3
    ) -> list[int]:
        """One segmentation sampled from the unigram lattice (subword regularization, Kudo 2018).

        ``alpha`` sharpens the sampling distribution: near 0 almost uniform over segmentations, large values
        almost always the best one. With ``allowed`` (the pieces an output layer can write), a sample using any
        other piece is drawn again, ``tries`` times, then the deterministic segmentation is used.
        """
        for _ in range(tries):
            ids = self.sp.encode(text, enable_sampling=True, alpha=alpha, nbest_size=-1)
            if allowed is None or all(i in allowed for i in ids):
                return ids
        return self.sp.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.sp.decode([i for i in ids if i > EOS_ID or i == UNK_ID])

    def pieces(self, ids: list[int]) -> list[str]:
        return [self._pieces[i] for i in ids]
