"""Shared fixtures: a synthetic corpus, a smoke-trained tiny model, the shipped model."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
import torch

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
