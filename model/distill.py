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
from sacrebleu.metrics import CHRF
from tqdm import tqdm

from .config import TrainConfig
from .data import Pair
from .translator import Translator


def distilled_pairs(config: TrainConfig, train_pairs: list[Pair], work: Path) -> list[Pair]:
    """The training English with the --distill-from model's translations as targets (cached in work/).

    With --distill-also, a second teacher translates too, and each sentence keeps whichever translation is closer
    to the human reference (sentence chrF; ties keep the first teacher's): a selection in the spirit of Kim &
    Rush's sequence-level interpolation, which picks the teacher output nearest the reference. Empty translations
    are dropped.
    """
    english = [en for en, _ in train_pairs]
    spanish = cached_translations(config, config.distill_from, english, work / "distilled.json")
    if config.distill_also:
        other = cached_translations(config, config.distill_also, english, work / "distilled-also.json")
        spanish = closer_to_reference(spanish, other, [es for _, es in train_pairs])
    return [(en, es) for en, es in zip(english, spanish) if es]


def cached_translations(config: TrainConfig, teacher: str, english: list[str], cache: Path) -> list[str]:
    """``teacher``'s translations of ``english``, read back from ``cache`` when it was made by the same weights,
    beam size and sentences (so a resumed run, or a run given a copy of the cache, does not translate again)."""
    teacher_config = json.loads((Path(teacher) / "config.json").read_text())
    beam = [] if config.distill_beam == 1 else [f"beam {config.distill_beam}"]  # greedy keys predate the flag
    key = hashlib.sha256("\n".join([teacher_config["weights_sha256"], *beam, *english]).encode()).hexdigest()
    cached = json.loads(cache.read_text()) if cache.is_file() else {}
    if cached.get("key") == key:
        return cached["spanish"]
    spanish = teacher_translations(config, english, teacher)
    cache.write_text(json.dumps({"key": key, "teacher": teacher, "beam": config.distill_beam, "spanish": spanish}))
    return spanish


def closer_to_reference(first: list[str], second: list[str], references: list[str]) -> list[str]:
    """Per sentence, the translation with the higher chrF against the reference (the first one on a tie)."""
    chrf = CHRF()
    return [
        b if b != a and chrf.sentence_score(b, [ref]).score > chrf.sentence_score(a, [ref]).score else a
        for a, b, ref in zip(first, second, references)
    ]  # most translations are the same from both teachers: no need to score those


DISTILL_CHUNK = 2000  # sentences per batched-greedy call / per task of a beam worker


def teacher_translations(
    config: TrainConfig, english: list[str], teacher: str = "", chunk_size: int = DISTILL_CHUNK
) -> list[str]:
    """The teacher's translations of ``english``, in order: batched greedy in this process, or beam search in one
    process per thread (beam search decodes one sentence at a time and gains little from a second thread).
    ``teacher`` defaults to --distill-from."""
    teacher = teacher or config.distill_from
    chunks = [english[start : start + chunk_size] for start in range(0, len(english), chunk_size)]
    workers = config.threads or torch.get_num_threads()
    progress = dict(total=len(chunks), desc="distilling", disable=config.quiet)
    if config.distill_beam == 1 or workers == 1 or len(chunks) == 1:
        model = Translator.load(teacher, device="cpu")  # int8: the fastest way on CPU; freed after
        results = (_translate_chunk(chunk, config.distill_beam, model) for chunk in chunks)
        return [text for chunk in tqdm(results, **progress) for text in chunk]
    context = multiprocessing.get_context("spawn")  # fork would copy this process's torch thread pools
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_load_teacher, initargs=(teacher, 1)) as pool:
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
