"""Typed configuration for the model and its training run.

Both configs are plain dataclasses. ``from_dict`` rejects unknown keys so a typo
in ``config.json`` or on the command line fails loudly instead of being ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

SCORE_FUNCTIONS = ("cosine", "dot", "general", "additive", "none")

T = TypeVar("T")


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {', '.join(unknown)}")
    return cls(**data)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture. Saved next to the weights, so a checkpoint loads on its own."""

    src_vocab_size: int = 8000
    tgt_vocab_size: int = 8000
    embed_dim: int = 256
    encoder_hidden: int = 256  # per direction
    encoder_layers: int = 1
    bidirectional: bool = True
    decoder_hidden: int = 512
    decoder_layers: int = 1
    attention: str = "cosine"  # one of SCORE_FUNCTIONS; "none" = no-attention baseline
    combine_dim: int = 256  # size of tanh(W[h; c]) fed to the output layer
    dropout: float = 0.25
    # One vocabulary for both languages, and one embedding table for the encoder and the decoder: a name or a
    # number is then the same vector on both sides, so the model can learn to copy it through.
    shared_embeddings: bool = False
    # How many target pieces the output layer scores: the pieces that occur in the training targets, whose ids
    # the weights carry (decoder.output_pieces). A joint vocabulary holds thousands of English-only pieces the
    # decoder is never taught to write; leaving them out shortens the largest product of every decoding step.
    # 0 = the whole target vocabulary.
    output_pieces: int = 0
    max_source_tokens: int = 100  # longer inputs are truncated (and the result says so)
    max_target_tokens: int = 100
    pad_id: int = 0
    unk_id: int = 1
    bos_id: int = 2
    eos_id: int = 3

    def __post_init__(self) -> None:
        if self.attention not in SCORE_FUNCTIONS:
            raise ValueError(f"attention must be one of {SCORE_FUNCTIONS}, got {self.attention!r}")
        if self.shared_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError("shared_embeddings needs one vocabulary: src_vocab_size must equal tgt_vocab_size")
        if not 0 <= self.output_pieces <= self.tgt_vocab_size:
            raise ValueError(f"output_pieces must lie in 0..{self.tgt_vocab_size}, got {self.output_pieces}")

    @property
    def output_size(self) -> int:
        """Columns of the output layer's logits."""
        return self.output_pieces or self.tgt_vocab_size

    @property
    def encoder_output_dim(self) -> int:
        return self.encoder_hidden * (2 if self.bidirectional else 1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return _from_dict(cls, data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrainConfig:
    """One training run. Every field is also a ``--flag`` of ``python -m model.train``."""

    corpus: str = "../shared/data/spa-eng/spa.txt"
    benchmark: str = "../shared/data/tatoeba-test/eng-spa.tsv"
    out: str = "assets/en-es"
    work_dir: str = "runs/en-es"  # resumable checkpoints live here, not in assets/
    joint_vocab: bool = False  # one SentencePiece model for both languages; the model then shares embeddings
    src_vocab_size: int = 8000
    tgt_vocab_size: int = 8000
    embed_dim: int = 256
    encoder_hidden: int = 256
    decoder_hidden: int = 512
    combine_dim: int = 256
    attention: str = "cosine"
    dropout: float = 0.25
    label_smoothing: float = 0.1
    lr: float = 2e-3
    min_lr: float = 1e-4
    batch_tokens: int = 3000  # target tokens per batch (measured faster on CPU than 6000)
    warmup_steps: int = 300
    bf16: bool = True  # bfloat16 autocast: 1.2x faster on AVX512-BF16 CPUs, same loss curve
    max_epochs: int = 30
    max_minutes: float = 60.0  # training time of the whole run, resumed parts included; sizes the lr schedule
    patience: int = 3  # epochs without dev BLEU gain before stopping
    clip_grad: float = 1.0
    seed: int = 1234
    threads: int = 0  # 0 = leave torch's default
    dev_fraction: float = 0.02
    test_fraction: float = 0.02
    max_pairs: int = 0  # 0 = all; small numbers for smoke tests
    max_chars: int = 300  # corpus lines with a longer side are skipped as bad
    dev_eval_sentences: int = 3000
    device: str = "auto"
    resume: bool = False
    # Continue from an exported model folder (e.g. assets/en-es): its architecture, weights and SentencePiece
    # model(s) are the start, its dev BLEU the score to beat; the architecture flags above are then ignored.
    init_from: str = ""
    # After the last epoch, also score the average of the last N epochs' weights on dev; it is exported when it
    # beats the best single epoch. 0 or 1: off. Averaging the end of a run smooths out the noise of the last
    # updates, a standard gain for a few minutes of dev scoring.
    average_last: int = 0
    # The output layer scores only the target pieces seen in the training targets (ModelConfig.output_pieces).
    # Also applies to a model continued with --init-from that scored every piece: it is fine-tuned restricted.
    seen_output_only: bool = False
    # Sequence-level knowledge distillation (Kim & Rush, 2016): a trained model folder whose translations of
    # the training English replace the Spanish side of the training pairs; dev and test keep the human references.
    # The new model uses that model's SentencePiece model(s). For a smaller, faster model that learns from a larger one.
    distill_from: str = ""
    # Beam size of the teacher's translations. Kim & Rush distil from beam search: its translations are better than
    # greedy ones (+1.6 BLEU on Tatoeba for assets/en-es-large), and the student learns to find them greedily. Beam
    # runs one sentence at a time, so it uses one process per thread: 10 minutes for the corpus on 2 cores, against
    # 1.5 for batched greedy (1).
    distill_beam: int = 1
    save_fp16: bool = True
    final_beam: int = 5  # beam size of the final evaluation next to greedy; 0 skips it
    quiet: bool = False
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # recorded as-is in metrics.json

    def __post_init__(self) -> None:
        if self.distill_beam < 1:
            raise ValueError(f"distill_beam must be at least 1, got {self.distill_beam}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return _from_dict(cls, data)

    def model_config(self, src_vocab: int, tgt_vocab: int) -> ModelConfig:
        return ModelConfig(
            src_vocab_size=src_vocab,
            tgt_vocab_size=tgt_vocab,
            embed_dim=self.embed_dim,
            encoder_hidden=self.encoder_hidden,
            decoder_hidden=self.decoder_hidden,
            combine_dim=self.combine_dim,
            attention=self.attention,
            dropout=self.dropout,
            shared_embeddings=self.joint_vocab,
        )
