"""The public interface: ``Translator.load()`` and ``translate`` / ``translate_batch``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checkpoint import DEFAULT_MODEL_DIR, load_model
from .config import ModelConfig
from .data import normalize
from .inference import Inference
from .search import Hypothesis, beam_search, greedy_search
from .seq2seq import Seq2Seq
from .tokenizer import Tokenizer

BATCH_SIZE = 64  # sentences per greedy batch: measured throughput flattens beyond this on 2 cores
# Far beyond what fits in max_source_tokens (99 pieces are never more than ~1,600 characters), so
# cutting here changes no translation; it only keeps a pasted book from costing tokenizer time.
MAX_INPUT_CHARS = 5000


@dataclass
class Translation:
    """One translation and everything needed to explain it.

    ``attention`` and ``scores`` have one row per target token and one column
    per source token; ``attention`` rows sum to 1 (``None`` for a model
    without attention). ``steps[t]`` lists the top-k (piece, probability)
    candidates the decoder weighed at output step t.
    """

    source_text: str
    text: str
    source_tokens: list[str]
    target_tokens: list[str]
    attention: np.ndarray | None
    scores: np.ndarray | None
    steps: list[list[tuple[str, float]]]
    truncated: bool = False
    log_prob: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form (the CLI's --json lines and the web API)."""
        return {
            "source": self.source_text,
            "translation": self.text,
            "source_tokens": self.source_tokens,
            "target_tokens": self.target_tokens,
            "attention": None if self.attention is None else np.round(self.attention.astype(float), 5).tolist(),
            "scores": None if self.scores is None else np.round(self.scores.astype(float), 5).tolist(),
            "steps": [[{"token": t, "probability": round(p, 5)} for t, p in step] for step in self.steps],
            "truncated": self.truncated,
            "notes": list(self.notes),
        }


def clean_input(text: str) -> str:
    """Any Unicode in; control characters (NUL included) become spaces, then NFC and single spaces."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(text))
    return normalize(text)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Translator:
    def __init__(
        self, model: Seq2Seq, source: Tokenizer, target: Tokenizer, device: torch.device, path: Path, int8: bool = False
    ):
        self.model = model.to(device).eval()
        self.inference = Inference(self.model, int8=int8)
        self.int8 = self.inference.int8
        self.source = source
        self.target = target
        self.device = device
        self.path = path
        self.config: ModelConfig = model.config

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto", int8: bool = True) -> Translator:
        """Load a model folder (default ``assets/en-es``); raises ``ModelLoadError`` on a broken one.

        On CPU, decoding multiplies with int8 weights unless ``int8=False`` (see model/inference.py and
        model/quantize.py: about 3x faster, within 0.1 BLEU); ``int8=False`` decodes in float32 with the
        training modules' numbers.
        """
        folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
        model, source, target, _ = load_model(folder)
        return cls(model, source, target, resolve_device(device), folder, int8=int8)

    @property
    def has_attention(self) -> bool:
        return self.config.attention != "none"

    @property
    def max_input_tokens(self) -> int:
        """Source pieces kept, EOS excluded; longer input is truncated."""
        return self.config.max_source_tokens - 1

    def translate(
        self, text: str, beam_size: int = 1, max_length: int | None = None, alpha: float = 1.0
    ) -> Translation:
        return self.translate_batch([text], beam_size, max_length, alpha)[0]

    def translate_batch(
        self, texts: list[str], beam_size: int = 1, max_length: int | None = None, alpha: float = 1.0
    ) -> list[Translation]:
        """Translate many sentences; greedy runs them in length-sorted batches."""
        cleaned = [clean_input(str(t)[:MAX_INPUT_CHARS]) for t in texts]
        encoded = self.source.encode_batch(cleaned)
        results: list[Translation | None] = [None] * len(texts)
        order = sorted((i for i, ids in enumerate(encoded) if ids), key=lambda i: len(encoded[i]))
        for i, ids in enumerate(encoded):
            if not ids:
                results[i] = self._empty(cleaned[i])
        for start in range(0, len(order), BATCH_SIZE if beam_size == 1 else 1):
            chunk = order[start : start + (BATCH_SIZE if beam_size == 1 else 1)]
            for i, translation in zip(
                chunk, self._translate_ids([encoded[i] for i in chunk], beam_size, max_length, alpha)
            ):
                translation.source_text = cleaned[i]
                results[i] = translation
        return results  # type: ignore[return-value]

    def _empty(self, text: str) -> Translation:
        attention = None if not self.has_attention else np.zeros((0, 0), dtype=np.float32)
        return Translation(text, "", [], [], attention, None if attention is None else attention.copy(), [])

    def _translate_ids(
        self, batch_ids: list[list[int]], beam_size: int, max_length: int | None, alpha: float
    ) -> list[Translation]:
        eos = self.config.eos_id
        truncated = [len(ids) > self.max_input_tokens for ids in batch_ids]
        sources = [[*ids[: self.max_input_tokens], eos] for ids in batch_ids]
        lengths = torch.tensor([len(s) for s in sources])
        src = torch.full((len(sources), int(lengths.max())), self.config.pad_id, dtype=torch.long)
        for row, ids in enumerate(sources):
            src[row, : len(ids)] = torch.tensor(ids)
        src = src.to(self.device)
        # Room for a translation somewhat longer than its source, never past the hard cap.
        cap = max(1, min(max_length or self.config.max_target_tokens, self.config.max_target_tokens))
        limits = (2 * lengths + 10).clamp(max=cap)
        if beam_size > 1:
            hypotheses = [beam_search(self.inference, src, lengths, beam_size, int(limits[0]), alpha)]
        else:
            hypotheses = greedy_search(self.inference, src, lengths, limits)
        return [self._to_translation(h, s, t) for h, s, t in zip(hypotheses, sources, truncated)]

    def _to_translation(self, hyp: Hypothesis, source_ids: list[int], truncated: bool) -> Translation:
        top_pieces = [self.target.pieces(row) for row in hyp.top_ids.tolist()]
        steps = [list(zip(pieces, probs)) for pieces, probs in zip(top_pieces, hyp.top_probs.tolist())]
        notes = [f"Input truncated to its first {self.max_input_tokens} pieces."] if truncated else []
        return Translation(
            source_text="",
            text=self.target.decode(hyp.tokens),
            source_tokens=self.source.pieces(source_ids),
            target_tokens=self.target.pieces(hyp.tokens),
            attention=None if hyp.attention is None else hyp.attention.float().cpu().numpy(),
            scores=None if hyp.scores is None else hyp.scores.float().cpu().numpy(),
            steps=steps,
            truncated=truncated,
            log_prob=hyp.log_prob,
            notes=notes,
        )
