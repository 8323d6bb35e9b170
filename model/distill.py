"""Sequence-level knowledge distillation (Kim & Rush, 2016): a teacher model's translations as training targets.

The teacher's translations of the training English are cached in the work folder, keyed by the teacher's weights,
the beam size and the sentences: a resumed run, or a run whose work folder holds a copy of the cache, reads them
back instead of translating again.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from tqdm import tqdm

from .config import TrainConfig
from .data import Pair
from .translator import Translator


def distilled_pairs(config: TrainConfig, train_pairs: list[Pair], work: Path) -> list[Pair]:
    """The training English with the --distill-from model's translations as targets (cached in work/).

    Empty translations are dropped. The cache is keyed by the teacher's weights, the beam size and the English
    sentences, so a resumed run reads it back instead of translating again.
    """
    teacher_config = json.loads((Path(config.distill_from) / "config.json").read_text())
    english = [en for en, _ in train_pairs]
    beam = [] if config.distill_beam == 1 else [f"beam {config.distill_beam}"]  # greedy keys predate the flag
    key = hashlib.sha256("\n".join([teacher_config["weights_sha256"], *beam, *english]).encode()).hexdigest()
    cache = work / "distilled.json"
    cached = json.loads(cache.read_text()) if cache.is_file() else {}
    if cached.get("key") == key:
        spanish = cached["spanish"]
    else:
        spanish = teacher_translations(config, english)
        cache.write_text(
            json.dumps({"key": key, "teacher": config.distill_from, "beam": config.distill_beam, "spanish": spanish})
        )
    return [(en, es) for en, es in zip(english, spanish) if es]


DISTILL_CHUNK = 2000  # sentences per batched-greedy call / per task of a beam worker


def teacher_translations(config: TrainConfig, english: list[str], chunk_size: int = DISTILL_CHUNK) -> list[str]:
    """The teacher's translations of ``english``, in order: batched greedy in this process, or beam search in one
    process per thread (beam search decodes one sentence at a time and gains little from a second thread)."""
    chunks = [english[start : start + chunk_size] for start in range(0, len(english), chunk_size)]
    workers = config.threads or torch.get_num_threads()
    progress = dict(total=len(chunks), desc="distilling", disable=config.quiet)
    if config.distill_beam == 1 or workers == 1 or len(chunks) == 1:
        teacher = Translator.load(config.distill_from, device="cpu")  # int8: the fastest way on CPU; freed after
        results = (_translate_chunk(chunk, config.distill_beam, teacher) for chunk in chunks)
        return [text for chunk in tqdm(results, **progress) for text in chunk]
    context = multiprocessing.get_context("spawn")  # fork would copy this process's torch thread pools
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_load_teacher, initargs=(config.distill_from, 1)
    ) as pool:
        results = pool.map(_translate_chunk, chunks, [config.distill_beam] * len(chunks))
        return [text for chunk in tqdm(results, **progress) for text in chunk]


_teacher: Translator | None = None  # the teacher of this process (one per beam worker)


def _load_teacher(model_dir: str, threads: int) -> None:
    global _teacher
    if threads:
        torch.set_num_threads(threads)
    _teacher = Translator.load(model_dir, device="cpu")


def _translate_chunk(english: list[str], beam_size: int, teacher: Translator | None = None) -> list[str]:
    return [t.text for t in (teacher or _teacher).translate_batch(english, beam_size=beam_size)]
