"""Shared fixtures and helpers: a synthetic corpus, a smoke-trained tiny model, the shipped model, small networks."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from model import Translation
from model.config import ModelConfig
from model.seq2seq import Seq2Seq

# Tests share two CPU cores with each other and with CI; one thread each is fastest overall.
torch.set_num_threads(1)
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "assets" / "en-es"
SHIPPED_NOATTN = ROOT / "assets" / "en-es-noattn"

SUBJECTS = [("I", "Yo", "veo", "tengo"), ("We", "Nosotros", "vemos", "tenemos"), ("They", "Ellos", "ven", "tienen")]
OBJECTS = [("the cat", "el gato"), ("the dog", "el perro"), ("a house", "una casa"), ("the book", "el libro")]
ADJECTIVES = [("", ""), (" big", " grande"), (" red", " rojo")]


def synthetic_pairs() -> list[tuple[str, str]]:
    """A made-up grammar (not corpus data): enough structure for a model to learn in seconds."""
    pairs = []
    for (en_s, es_s, see, have), (en_o, es_o), (en_a, es_a) in itertools.product(SUBJECTS, OBJECTS, ADJECTIVES):
        en_obj = en_o.replace(" ", en_a + " ", 1) if en_a else en_o
        pairs.append((f"{en_s} see {en_obj}.", f"{es_s} {see} {es_o}{es_a}."))
        pairs.append((f"{en_s} have {en_obj}.", f"{es_s} {have} {es_o}{es_a}."))
    return pairs


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """A corpus file in the manythings format, with bad lines and an attribution column mixed in."""
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    lines = [f"{en}\t{es}\tCC-BY 2.0 (France) Attribution: tatoeba.org #1 (x)" for en, es in synthetic_pairs()]
    lines += ["no tab on this line", "\tempty English", "Empty Spanish.\t ", "x" * 400 + "\tlargo"]
    lines += [lines[0]]  # a duplicate pair
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus, tmp_path_factory) -> Path:
    """Smoke training: a tiny cosine-attention model trained on the synthetic corpus in seconds."""
    from model.config import TrainConfig
    from model.train import fit

    work = tmp_path_factory.mktemp("tiny")
    config = TrainConfig(**tiny_train_settings(tiny_corpus, work))
    fit(config)
    return work / "model"


def tiny_train_settings(corpus: Path, work: Path, **overrides) -> dict:
    settings = dict(
        corpus=str(corpus),
        benchmark="",
        out=str(work / "model"),
        work_dir=str(work / "run"),
        src_vocab_size=60,
        tgt_vocab_size=60,
        embed_dim=32,
        encoder_hidden=32,
        decoder_hidden=64,
        combine_dim=32,
        dropout=0.0,
        lr=1e-2,
        warmup_steps=5,
        batch_tokens=400,
        max_epochs=12,
        patience=12,
        dev_fraction=0.1,
        test_fraction=0.1,
        dev_eval_sentences=50,
        final_beam=2,
        bf16=False,
        seen_output_only=True,  # as the shipped model: the output layer scores the pieces seen in training
        quiet=True,
    )
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def tiny_translator(tiny_model):
    from model import Translator

    return Translator.load(tiny_model, device="cpu")


@pytest.fixture(scope="session")
def tiny_translator_exact(tiny_model):
    """Float32 decoding: a sentence's translation does not depend on the batch it is in.

    (int8 decoding quantizes each step's input rows with one scale per batch, so in rare
    near-ties a batched translation can differ from the same sentence alone.)
    """
    from model import Translator

    return Translator.load(tiny_model, device="cpu", int8=False)


@pytest.fixture(scope="session")
def shipped():
    from model import Translator

    if not (SHIPPED / "model.safetensors").exists():
        pytest.fail(f"the shipped model is missing from {SHIPPED}")
    return Translator.load(SHIPPED, device="cpu")


# Small untrained networks for the model-core tests (tests/test_attention.py ... test_kernels.py).
SMALL = dict(src_vocab_size=50, tgt_vocab_size=40, embed_dim=16, encoder_hidden=12, decoder_hidden=24, combine_dim=16)


def padded_batch(lengths: list[int], vocab: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for row, n in enumerate(lengths):
        src[row, :n] = torch.randint(4, vocab, (n,))
        src[row, n - 1] = 3  # EOS
    return src, torch.tensor(lengths)


def model_for(kind: str, layers: int = 1, bidirectional: bool = True) -> Seq2Seq:
    torch.manual_seed(4)
    config = ModelConfig(
        **SMALL, attention=kind, encoder_layers=layers, decoder_layers=layers, bidirectional=bidirectional
    )
    return Seq2Seq(config).eval()


CASES = [(kind, 1, True) for kind in ("cosine", "dot", "general", "additive", "none")] + [
    ("cosine", 2, True),
    ("cosine", 1, False),
]


def restricted_model(vocab: int = 40, kind: str = "cosine") -> Seq2Seq:
    """A model whose output layer scores a subset of the target pieces (EOS among them), as --seen-output-only."""
    torch.manual_seed(6)
    pieces = torch.cat([torch.tensor([3]), torch.randperm(vocab - 4)[: vocab // 2] + 4]).sort().values
    config = ModelConfig(**{**SMALL, "tgt_vocab_size": vocab}, attention=kind, output_pieces=pieces.numel())
    model = Seq2Seq(config).eval()
    model.decoder.output_pieces.copy_(pieces)
    return model


def check_translation(result: Translation) -> None:
    rows, columns = len(result.target_tokens), len(result.source_tokens)
    assert result.attention.shape == result.scores.shape == (rows, columns)
    assert len(result.steps) == rows
    if rows:
        np.testing.assert_allclose(result.attention.sum(axis=1), 1.0, rtol=1e-4)
