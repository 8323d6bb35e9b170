"""The public interface: ``Translator.load()`` and ``translate`` / ``translate_batch``."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checkpoint import DEFAULT_MODEL_DIR, load_model
from .config import ModelConfig
from .coverage import COVERAGE_THRESHOLD, WordCoverage, word_coverage
from .data import normalize
from .inference import Inference
from .search import COVERAGE_BETA, Hypothesis, beam_search, greedy_search
from .seq2seq import Seq2Seq
from .steps import StepDetails, step_details
from .tokenizer import UNK_ID, Tokenizer

BATCH_SIZE = 64  # sentences per greedy batch: measured throughput flattens beyond this on 2 cores
# Far beyond what fits in max_source_tokens (99 pieces are never more than ~1,600 characters), so
# cutting here changes no translation; it only keeps a pasted book from costing tokenizer time.
MAX_INPUT_CHARS = 5000


def rounded(matrix: np.ndarray | None, decimals: int = 4) -> list | None:
    """A numpy array as nested lists of floats rounded for JSON; None stays None."""
    return None if matrix is None else np.round(matrix.astype(float), decimals).tolist()


@dataclass
class Translation:
    """One translation and everything needed to explain it.

    ``attention`` and ``scores`` have one row per target token and one column
    per source token; ``attention`` rows sum to 1 (``None`` for a model
    without attention). ``steps[t]`` lists the top-k (piece, probability)
    candidates the decoder weighed at output step t. ``step_details`` holds
    every intermediate of every step (model/steps.py), only when the
    translation was asked ``details=True``. ``search`` is {"decoding":
    "greedy"|"beam", "beam_size", "max_length"}, max_length being the step
    limit this sentence decoded under.
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
    score_function: str = "none"  # "cosine", "dot", "general", "additive" or "none"
    temperature: float | None = None  # the learned cosine scale: scores = temperature * similarity
    search: dict = field(default_factory=lambda: {"decoding": "greedy", "beam_size": 1, "max_length": 0})
    stop_reason: str = "eos"  # "eos": the model wrote </s>; "length": the step limit stopped it
    unknown_pieces: list[str] = field(default_factory=list)  # input characters read as <unk>
    step_details: StepDetails | None = None
    coverage_threshold: float | None = None  # content words with less coverage are flagged

    @property
    def coverage(self) -> list[WordCoverage]:
        """Per source word (``</s>`` included) the attention it received over all steps (model/coverage.py)."""
        return word_coverage(self.source_tokens, self.attention, self.coverage_threshold)

    def to_dict(self) -> dict:
        """JSON-ready form (the CLI's --json lines and the web API); the keys are documented in docs/page.md."""
        return {
            "source": self.source_text,
            "translation": self.text,
            "source_tokens": self.source_tokens,
            "target_tokens": self.target_tokens,
            "attention": rounded(self.attention, 5),
            "scores": rounded(self.scores, 5),
            "steps": [[{"token": t, "probability": round(p, 5)} for t, p in step] for step in self.steps],
            "truncated": self.truncated,
            "notes": list(self.notes),
            "score_function": self.score_function,
            "temperature": None if self.temperature is None else round(self.temperature, 4),
            "search": dict(self.search),
            "stop_reason": self.stop_reason,
            "unknown_pieces": list(self.unknown_pieces),
            "step_details": self._step_dicts(),
            "coverage": [word.to_dict() for word in self.coverage],
            "coverage_threshold": self.coverage_threshold,
        }

    def _step_dicts(self) -> list[dict] | None:
        """One dict per output step (docs/page.md, "API answer"); None when details were not computed."""
        details = self.step_details
        if details is None:
            return None
        names = ("state", "similarity", "scores", "attention", "context", "combined")
        columns = {name: rounded(getattr(details, name)) for name in names}
        return [
            {
                "fed": details.fed[t],
                **{name: None if rows is None else rows[t] for name, rows in columns.items()},
                "top": [{"token": piece, "probability": round(p, 4)} for piece, p in self.steps[t]],
                "written": token,
                "written_rank": details.written_rank[t],
                "beam_note": details.beam_note[t],
            }
            for t, token in enumerate(self.target_tokens)
        ]


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

    @property
    def temperature(self) -> float | None:
        """The learned cosine scale (scores = temperature * cosine similarity); None for other scores."""
        return None if self.inference.temperature is None else float(self.inference.temperature)

    def translate(
        self,
        text: str,
        beam_size: int = 1,
        max_length: int | None = None,
        alpha: float = 1.0,
        details: bool = False,
        beta: float = COVERAGE_BETA,
    ) -> Translation:
        """One sentence; ``details=True`` also replays every step's intermediates into ``step_details``."""
        return self.translate_batch([text], beam_size, max_length, alpha, details, beta)[0]

    def translate_batch(
        self,
        texts: list[str],
        beam_size: int = 1,
        max_length: int | None = None,
        alpha: float = 1.0,
        details: bool = False,
        beta: float = COVERAGE_BETA,
    ) -> list[Translation]:
        """Translate many sentences; greedy runs them in length-sorted batches.

        Beam search ranks finished translations by log-probability / length penalty (``alpha``) + coverage penalty
        (``beta``: source words that got little attention cost, so a translation that skips some ranks lower).

        ``details`` costs about one more eager decoding pass per sentence, so bulk translation leaves it off.
        """
        cleaned = [clean_input(str(t)[:MAX_INPUT_CHARS]) for t in texts]
        encoded = self.source.encode_batch(cleaned)
        results: list[Translation | None] = [None] * len(texts)
        order = sorted((i for i, ids in enumerate(encoded) if ids), key=lambda i: len(encoded[i]))
        for i, ids in enumerate(encoded):
            if not ids:
                results[i] = self._empty(cleaned[i], beam_size, details)
        for start in range(0, len(order), BATCH_SIZE if beam_size == 1 else 1):
            chunk = order[start : start + (BATCH_SIZE if beam_size == 1 else 1)]
            for i, translation in zip(
                chunk, self._translate_ids([encoded[i] for i in chunk], beam_size, max_length, alpha, details, beta)
            ):
                translation.source_text = cleaned[i]
                if UNK_ID in encoded[i]:
                    translation.unknown_pieces = unknown_characters(self.source, cleaned[i])
                    translation.notes.insert(int(translation.truncated), unknown_note(translation.unknown_pieces))
                results[i] = translation
        return results  # type: ignore[return-value]

    def _search(self, beam_size: int, limit: int) -> dict:
        beam = beam_size > 1
        return {"decoding": "beam" if beam else "greedy", "beam_size": beam_size if beam else 1, "max_length": limit}

    def _empty(self, text: str, beam_size: int, details: bool) -> Translation:
        attention = None if not self.has_attention else np.zeros((0, 0), dtype=np.float32)
        return Translation(
            text,
            "",
            [],
            [],
            attention,
            None if attention is None else attention.copy(),
            [],
            score_function=self.config.attention,
            temperature=self.temperature,
            search=self._search(beam_size, 0),
            step_details=step_details(self.inference, [], [], self.target.pieces, [], beam_size) if details else None,
            coverage_threshold=COVERAGE_THRESHOLD if self.has_attention else None,
        )

    def _translate_ids(
        self,
        batch_ids: list[list[int]],
        beam_size: int,
        max_length: int | None,
        alpha: float,
        details: bool,
        beta: float = COVERAGE_BETA,
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
            hypotheses = [beam_search(self.inference, src, lengths, beam_size, int(limits[0]), alpha, beta=beta)]
        else:
            hypotheses = greedy_search(self.inference, src, lengths, limits)
        translations = []
        for hyp, source_ids, cut, limit in zip(hypotheses, sources, truncated, limits.tolist()):
            translation = self._to_translation(hyp, source_ids, cut, self._search(beam_size, limit))
            if details:
                translation.step_details = step_details(
                    self.inference, source_ids, hyp.tokens, self.target.pieces, translation.steps, beam_size
                )
            translations.append(translation)
        return translations

    def _to_translation(self, hyp: Hypothesis, source_ids: list[int], truncated: bool, search: dict) -> Translation:
        top_pieces = [self.target.pieces(row) for row in hyp.top_ids.tolist()]
        steps = [list(zip(pieces, probs)) for pieces, probs in zip(top_pieces, hyp.top_probs.tolist())]
        stopped_by_length = not hyp.tokens or hyp.tokens[-1] != self.config.eos_id
        notes = [f"Input truncated to its first {self.max_input_tokens} pieces."] if truncated else []
        if stopped_by_length:
            notes.append(
                f"Stopped at the length limit of {search['max_length']} pieces before the model wrote </s>: "
                "the translation may be cut short."
            )
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
            score_function=self.config.attention,
            temperature=self.temperature,
            search=search,
            stop_reason="length" if stopped_by_length else "eos",
            coverage_threshold=COVERAGE_THRESHOLD if self.has_attention else None,
        )


def unknown_characters(tokenizer: Tokenizer, text: str) -> list[str]:
    """Runs of characters the tokenizer has no piece for (emoji, CJK, "<"), each once, in order of appearance."""
    unknown: dict[str, bool] = {}
    runs, current = [], ""
    for char in text:
        if char not in unknown:
            unknown[char] = not char.isspace() and UNK_ID in tokenizer.encode(char)
        if unknown[char]:
            current += char
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return list(dict.fromkeys(runs))


def unknown_note(pieces: list[str], shown: int = 8, longest: int = 12) -> str:
    """Plain text naming the characters the model reads as <unk>."""
    names = ", ".join(f"“{p[:longest]}{'…' if len(p) > longest else ''}”" for p in pieces[:shown])
    more = f" and {len(pieces) - shown} more" if len(pieces) > shown else ""
    return (
        f"The model has no piece for {names}{more}: it reads such characters as one unknown piece, <unk>, "
        "and cannot translate them (emoji, most non-Latin scripts and some symbols such as < and >)."
    )
