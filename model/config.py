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


def _flag(default: Any, help: str) -> Any:
    """A TrainConfig field and its ``--help`` text: the one place a training flag is explained."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """One training run. Every field is also a ``--flag`` of ``python -m model.train``, its help text below."""

    # --- data ---
    corpus: str = _flag("../shared/data/spa-eng/spa.txt", "EN<TAB>ES corpus file (manythings.org format).")
    benchmark: str = _flag(
        "../shared/data/tatoeba-test/eng-spa.tsv",
        "Tatoeba-Challenge test file: scored at the end, never trained or tuned on (its English is kept out of "
        "train and dev).",
    )
    out: str = _flag("assets/en-es", "Folder the best model is exported to (after every improving epoch).")
    work_dir: str = _flag("runs/en-es", "Folder for resumable state (last.pt, snapshots, caches); not shipped.")
    dev_fraction: float = _flag(0.02, "Share of the corpus (by English sentence) held out as dev.")
    test_fraction: float = _flag(0.02, "Share of the corpus (by English sentence) held out as the test split.")
    max_pairs: int = _flag(0, "Train on at most this many pairs (0 = all); small numbers for smoke tests.")
    max_chars: int = _flag(300, "Corpus lines with a longer side are skipped and counted as bad.")
    dev_eval_sentences: int = _flag(3000, "Dev sentences scored after every epoch.")
    # --- vocabulary and architecture (ignored with --init-from) ---
    joint_vocab: bool = _flag(
        False, "One SentencePiece model for both languages; the model then shares its embeddings."
    )
    src_vocab_size: int = _flag(8000, "SentencePiece vocabulary size of the source (of both with --joint-vocab).")
    tgt_vocab_size: int = _flag(8000, "SentencePiece vocabulary size of the target.")
    embed_dim: int = _flag(256, "Embedding size.")
    encoder_hidden: int = _flag(256, "Encoder LSTM size per direction.")
    decoder_hidden: int = _flag(512, "Decoder LSTM size.")
    combine_dim: int = _flag(256, "Size of tanh(W[h; c]) fed to the output layer.")
    attention: str = _flag("cosine", f"Score function, one of {', '.join(SCORE_FUNCTIONS)} (none: no attention).")
    dropout: float = _flag(0.25, "Dropout on embeddings and LSTM outputs.")
    # --- optimisation ---
    label_smoothing: float = _flag(0.1, "Label smoothing of the cross-entropy.")
    lr: float = _flag(2e-3, "Peak Adam learning rate.")
    min_lr: float = _flag(1e-4, "Learning rate at the end of the cosine decay.")
    batch_tokens: int = _flag(3000, "Target tokens per batch (measured faster on CPU than 6000).")
    warmup_steps: int = _flag(300, "Linear warm-up steps before the cosine decay.")
    bf16: bool = _flag(True, "bfloat16 autocast: 1.2x faster on AVX512-BF16 CPUs, same loss curve.")
    clip_grad: float = _flag(1.0, "Gradient norm clipping.")
    seed: int = _flag(1234, "Seed of torch, Python and SentencePiece sampling.")
    # --- budget ---
    max_epochs: int = _flag(30, "Epochs of the whole run, resumed parts included.")
    max_minutes: float = _flag(
        60.0,
        "Training minutes of the whole run, resumed parts included; sizes the learning-rate schedule after the "
        "first epoch (unless --max-steps).",
    )
    max_steps: int = _flag(
        0,
        "Optimizer steps of the whole run (0 = sized by --max-minutes); the schedule decays over them. A fixed "
        "step budget makes runs comparable on a shared machine, where minutes are not.",
    )
    patience: int = _flag(3, "Epochs without dev BLEU gain before stopping.")
    threads: int = _flag(0, "Torch threads (0 = torch's default); also the number of beam-distillation workers.")
    device: str = _flag("auto", "auto, cpu or cuda.")
    dist_timeout_s: float = _flag(
        1800.0,
        "Under torchrun: seconds a rank waits for the others (to join, or at a step) before the run stops with an "
        "error; rank 0's dev scoring and tokenizer training happen inside such a wait.",
    )
    resume: bool = _flag(False, "Continue from <work-dir>/last.pt.")
    # --- starting point, teacher, averaging ---
    init_from: str = _flag(
        "",
        "Continue from an exported model folder (e.g. assets/en-es): its architecture, weights and SentencePiece "
        "model(s) are the start, its dev BLEU the score to beat; the architecture flags are then ignored.",
    )
    average_last: int = _flag(
        0,
        "After the last epoch, also score the average of the last N epochs' weights on dev and export it when it "
        "beats the best single epoch (0 or 1: off). Averaging smooths out the noise of the last updates.",
    )
    seen_output_only: bool = _flag(
        False,
        "The output layer scores only the target pieces seen in the training targets (ModelConfig.output_pieces); "
        "also converts a model continued with --init-from that scored every piece.",
    )
    distill_from: str = _flag(
        "",
        "Sequence-level knowledge distillation (Kim & Rush, 2016): a trained model folder whose translations of "
        "the training English replace the Spanish side of the training pairs (dev and test keep the human "
        "references). The new model uses that model's SentencePiece model(s) unless --init-from names another.",
    )
    distill_beam: int = _flag(
        1,
        "Beam size of the teacher's translations (1 = batched greedy). Beam translations are better (+1.6 BLEU on "
        "Tatoeba for assets/en-es-large) and the student learns to find them greedily; beam search runs one "
        "process per thread.",
    )
    distill_also: str = _flag(
        "",
        "A second teacher (a model folder with the same SentencePiece model as --distill-from): it translates the "
        "training English too, and each sentence keeps whichever teacher's translation is closer to the human "
        "reference by sentence chrF (a two-teacher ensemble by selection; empty = one teacher).",
    )
    # --- techniques against omission on long sentences (issue 16) ---
    concat_share: float = _flag(
        0.0,
        "Concatenation augmentation: each epoch adds this share (of the training pairs) of synthetic pairs, each "
        "joining 2-3 random training pairs on both sides (0 = off).",
    )
    subword_alpha: float = _flag(
        0.0,
        "Subword regularization: each epoch segments source and target afresh by sampling SentencePiece's "
        "unigram lattice with this alpha (smaller = more varied; 0 = off, the deterministic segmentation).",
    )
    coverage_weight: float = _flag(
        0.0,
        "Training-time coverage regularizer: adds this weight times the mean over source tokens of "
        "max(0, 1 - attention received)^2 to the loss; the attention formula is unchanged (0 = off).",
    )
    # --- output ---
    save_fp16: bool = _flag(True, "Store the exported weights as float16 (half the size, same translations).")
    final_beam: int = _flag(5, "Beam size of the final evaluation next to greedy (0 skips it).")
    final_eval: bool = _flag(
        True,
        "Score the exported model on the test split and the benchmark at the end (float32 and int8); off for "
        "ablation rows, which are compared on dev. A later --resume with it on adds the scores.",
    )
    quiet: bool = _flag(False, "No progress bars or log lines.")
    notes: str = _flag("", "Free text recorded in metrics.json's config.")
    extra: dict[str, Any] = field(default_factory=dict, metadata={"help": "Recorded as-is in metrics.json."})

    def __post_init__(self) -> None:
        if self.distill_beam < 1:
            raise ValueError(f"distill_beam must be at least 1, got {self.distill_beam}")
        if self.distill_also and not self.distill_from:
            raise ValueError("distill_also names a second teacher: give the first with distill_from")
        if not 0 <= self.concat_share <= 1:
            raise ValueError(f"concat_share must lie in 0..1, got {self.concat_share}")
        if self.subword_alpha < 0 or self.coverage_weight < 0:
            raise ValueError("subword_alpha and coverage_weight must not be negative")

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
