"""How a model was made: hardware, commit, lineage and the final scores, written to its metrics.json."""

from __future__ import annotations

import dataclasses
import os
import platform
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

import sacrebleu
import torch

from .config import TrainConfig
from .evaluate import evaluate_sets
from .files import read_json, sha256_of
from .run_state import Run
from .translator import Translator


def command_line() -> str:
    """The command that started this process, as one copyable line."""
    return "python -m model.train " + shlex.join(sys.argv[1:])


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if torch.cuda.is_available():
        cpu += f" + {torch.cuda.get_device_name()}"
    threads = torch.get_num_threads()
    return f"{cpu}, {os.cpu_count()} cores visible, torch {torch.__version__}, {threads} thread{'s' * (threads != 1)}"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def lineage(init_from: str) -> dict:
    """The starting model's own training (epochs, minutes, all parts included), from its metrics.json if it has one."""
    metrics = read_json(Path(init_from) / "metrics.json")
    if metrics is None:
        return {}
    return {
        "epochs": metrics.get("epochs_total", metrics.get("epochs")),
        "training_minutes": metrics.get("training_minutes_total", metrics.get("training_minutes")),
    }


def decoder_scores(translator: Translator, sets: dict, beam: int) -> dict:
    scores = {"greedy": evaluate_sets(translator, sets, beam_size=1)}
    if beam > 1:
        scores[f"beam{beam}"] = evaluate_sets(translator, sets, beam_size=beam)
    return scores


def totals(run: Run) -> dict:
    """With --init-from: epochs and training minutes of the whole lineage, the starting model's included."""
    start = run.start or {}
    if start.get("epochs") is None or start.get("training_minutes") is None:
        return {}
    return {
        "epochs_total": start["epochs"] + run.epoch,
        "training_minutes_total": round(start["training_minutes"] + run.seconds / 60, 1),
    }


def final_metrics(config: TrainConfig, run: Run, corpus, benchmark, split, stats: dict, parameters: int) -> dict:
    """Score the exported (float16-stored) model as it ships: float32 decoding, and int8 (the CPU default)."""
    corpus_english = {en for en, _ in corpus.pairs}
    sets = {
        "test_split": split.test,
        "tatoeba": benchmark,
        "tatoeba_unseen": [(en, es) for en, es in benchmark if en not in corpus_english],
    }
    sets = {name: pairs for name, pairs in sets.items() if pairs and config.final_eval}
    exact = Translator.load(config.out, device=config.device, int8=False)
    scores = decoder_scores(exact, sets, config.final_beam)
    int8 = Translator(exact.model, exact.source, exact.target, exact.device, exact.path, int8=True)  # no 2nd load
    scores_int8 = decoder_scores(int8, sets, config.final_beam) if int8.int8 else None
    folder = Path(config.out)
    return {
        "corpus": config.corpus,
        "corpus_sha256": sha256_of(config.corpus),
        "benchmark_sha256": sha256_of(config.benchmark) if benchmark else None,
        "data": stats,
        "command": command_line(),
        "config": {k: v for k, v in dataclasses.asdict(config).items() if k != "extra"},
        "commit": git_commit(),
        "hardware": hardware(),
        "world_size": run.history[-1].get("world_size", 1),  # training processes of this invocation (torchrun)
        "training_minutes": round(run.seconds / 60, 1),
        "epochs": run.epoch,
        **totals(run),
        "best_epoch": run.best_epoch,
        "best_dev_bleu": run.best_bleu,
        "started_from": run.start,
        "averaged": run.averaged,
        "train_tokens_per_s": round(statistics.fmean(c["tokens_per_s"] for c in run.curves)) if run.curves else None,
        "parameters": parameters,
        "size_bytes": sum(p.stat().st_size for p in folder.iterdir() if p.name != "metrics.json"),
        "sacrebleu": sacrebleu.__version__,
        "scores": scores,
        "scores_int8": scores_int8,
        "scores_note": "scores: float32 decoding (int8=False); scores_int8: int8 decoding, the CPU default",
        "run_history": run.history,
        **config.extra,
    }
