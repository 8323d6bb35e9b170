"""Train the translator.

    python -m model.train --corpus ../shared/data/spa-eng/spa.txt --out assets/en-es

Every TrainConfig field is a flag (``--attention dot``, ``--max-minutes 30``...).
Resumable: ``--resume`` continues from ``<work-dir>/last.pt``. The best
checkpoint by dev BLEU is exported to ``--out`` after every improving epoch, so
an interrupted run still leaves a usable model there.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sacrebleu
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .checkpoint import load_model, read_tokenizer_names, save_model
from .config import TrainConfig
from .data import read_pairs, sha256_of, split_by_english
from .evaluate import evaluate_sets, read_benchmark, score
from .explain import read_json
from .malloc import keep_freed_memory
from .seq2seq import Seq2Seq
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, Tokenizer, train_sentencepiece
from .translator import Translator, resolve_device

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # src, lengths, prev, gold


def parse_args(argv: list[str] | None) -> TrainConfig:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(TrainConfig):
        if f.name == "extra":
            continue
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            parser.add_argument(flag, type=kind, default=f.default)
    return TrainConfig.from_dict(vars(parser.parse_args(argv)))


def log(config: TrainConfig, message: str) -> None:
    if not config.quiet:
        tqdm.write(message)


def prepare_data(config: TrainConfig):
    corpus = read_pairs(config.corpus, config.max_chars)
    benchmark = read_benchmark(config.benchmark) if Path(config.benchmark).is_file() else []
    split = split_by_english(corpus.pairs, config.dev_fraction, config.test_fraction, {en for en, _ in benchmark})
    if config.max_pairs:
        split.train = random.Random(config.seed).sample(split.train, min(config.max_pairs, len(split.train)))
    stats = {
        "pairs_read": len(corpus.pairs),
        "skipped_lines": dict(corpus.skipped),
        "duplicates_removed": corpus.duplicates,
        "excluded_benchmark_pairs": split.excluded_benchmark,
        "train": len(split.train),
        "dev": len(split.dev),
        "test": len(split.test),
    }
    log(config, f"data: {json.dumps(stats)}")
    return corpus, benchmark, split, stats


def prepare_tokenizers(config: TrainConfig, train_pairs, work: Path) -> tuple[Tokenizer, Tokenizer, str, str]:
    """Train SentencePiece on the training split only (or reuse it when resuming or continuing a model)."""
    # a continued model's own tokenizer (its ids are what the weights were trained on), or the teacher's
    reused = config.init_from or config.distill_from
    if reused:
        names = read_tokenizer_names(Path(reused))
        for name in set(names):
            if not (work / name).exists():
                shutil.copyfile(Path(reused) / name, work / name)
    elif config.joint_vocab:
        names = ("spm.model", "spm.model")
        if not (work / names[0]).exists():
            sentences = [s for pair in train_pairs for s in pair]
            train_sentencepiece(sentences, config.src_vocab_size, work / names[0])
    else:
        names = ("en.model", "es.model")
        for index, (name, size) in enumerate(zip(names, (config.src_vocab_size, config.tgt_vocab_size))):
            if not (work / name).exists():
                train_sentencepiece((pair[index] for pair in train_pairs), size, work / name)
    return Tokenizer(work / names[0]), Tokenizer(work / names[1]), *names


def distilled_pairs(config: TrainConfig, train_pairs, work: Path) -> list[tuple[str, str]]:
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
    pairs = [(en, es) for en, es in zip(english, spanish) if es]
    how = "greedy" if config.distill_beam == 1 else f"beam-{config.distill_beam}"
    log(config, f"distilled: {len(pairs):,} training pairs with {config.distill_from}'s {how} translations as targets")
    return pairs


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


def make_batches(pairs, source: Tokenizer, target: Tokenizer, batch_tokens: int, max_len: int) -> list[Batch]:
    """Length-sorted batches of about ``batch_tokens`` target tokens (little padding)."""
    src_ids = source.encode_batch([en for en, _ in pairs])
    tgt_ids = target.encode_batch([es for _, es in pairs])
    items = [([*s[: max_len - 1], EOS_ID], [*t[: max_len - 1], EOS_ID]) for s, t in zip(src_ids, tgt_ids) if s and t]
    items.sort(key=lambda st: (len(st[0]), len(st[1])))
    batches, current = [], []
    for item in items:
        longest = max([len(item[1])] + [len(t) for _, t in current])
        if current and longest * (len(current) + 1) > batch_tokens:
            batches.append(_collate(current))
            current = []
        current.append(item)
    if current:
        batches.append(_collate(current))
    return batches


def _collate(items) -> Batch:
    src = torch.full((len(items), max(len(s) for s, _ in items)), PAD_ID, dtype=torch.long)
    gold = torch.full((len(items), max(len(t) for _, t in items)), PAD_ID, dtype=torch.long)
    for row, (s, t) in enumerate(items):
        src[row, : len(s)] = torch.tensor(s)
        gold[row, : len(t)] = torch.tensor(t)
    prev = torch.cat([torch.full((len(items), 1), BOS_ID, dtype=torch.long), gold[:, :-1]], 1)
    prev = prev.masked_fill(prev == EOS_ID, PAD_ID)  # EOS is never an input
    return src, torch.tensor([len(s) for s, _ in items]), prev, gold


def batch_loss(model: Seq2Seq, batch: Batch, device, label_smoothing: float) -> tuple[torch.Tensor, int]:
    src, lengths, prev, gold = (t.to(device) if i != 1 else t for i, t in enumerate(batch))
    logits = model(src, lengths, prev).logits
    columns = model.decoder.output_columns(gold)  # padding -> -100, ignored
    loss = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), columns.reshape(-1), ignore_index=-100, label_smoothing=label_smoothing
    )
    return loss, int((gold != PAD_ID).sum())


def seen_pieces(batches: list[Batch]) -> torch.Tensor:
    """The target piece ids that occur in the training targets (EOS included), sorted."""
    pieces = torch.cat([gold.flatten() for *_, gold in batches]).unique()
    return pieces[pieces != PAD_ID]


def restrict_output(model: Seq2Seq, pieces: torch.Tensor) -> Seq2Seq:
    """The same weights, with an output layer that scores only ``pieces`` (--seen-output-only)."""
    config = dataclasses.replace(model.config, output_pieces=pieces.numel())
    restricted = Seq2Seq(config).to(pieces.device)
    restricted.load_state_dict(model.state_dict(), strict=False)  # everything but the new buffer
    restricted.decoder.output_pieces.copy_(pieces)
    return restricted


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Linear warm-up, then cosine decay to ``min_lr`` over the steps that fit the budget."""
    warmup = config.warmup_steps
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def dev_scores(model: Seq2Seq, source: Tokenizer, target: Tokenizer, dev_pairs, device) -> dict:
    translator = Translator(model, source, target, device, Path("."))  # float32: checkpoints compare exactly
    hypotheses = [t.text for t in translator.translate_batch([en for en, _ in dev_pairs])]
    result = score(hypotheses, [es for _, es in dev_pairs])
    return {"bleu": result["bleu"], "chrf": result["chrf"]}


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


class Run:
    """Everything a resumable training run carries from epoch to epoch."""

    def __init__(self, config: TrainConfig, model: Seq2Seq):
        self.config = config
        self.model = model
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.epoch = 0
        self.step = 0
        self.total_steps = 0  # fixed after the first epoch from the time budget
        self.schedule_start = 0  # step where the current learning-rate cycle began
        self.best_bleu = -1.0
        self.best_epoch = 0
        self.seconds = 0.0
        self.curves: list[dict] = []
        self.history: list[dict] = []  # one entry per invocation that trained or scored this run
        self.start: dict | None = None  # with --init-from: where the run started and that model's dev scores
        self.averaged: dict | None = None  # with --average-last: the averaged weights' epochs and dev scores

    def state(self) -> dict:
        keys = (
            "epoch",
            "step",
            "total_steps",
            "schedule_start",
            "best_bleu",
            "best_epoch",
            "seconds",
            "curves",
            "history",
            "start",
            "averaged",
        )
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "python_rng": random.getstate(),
            **{k: getattr(self, k) for k in keys},
        }

    def restore(self, state: dict) -> None:
        self.model.load_state_dict(state.pop("model"))
        self.optimizer.load_state_dict(state.pop("optimizer"))
        torch.set_rng_state(state.pop("torch_rng"))
        random.setstate(state.pop("python_rng"))
        for key, value in state.items():
            setattr(self, key, value)


def train_epoch(run: Run, batches: list[Batch], device) -> dict:
    config, model = run.config, run.model
    model.train()
    order = list(range(len(batches)))
    random.shuffle(order)
    total_loss, total_tokens, start = 0.0, 0, time.perf_counter()
    bar = tqdm(order, desc=f"epoch {run.epoch + 1}", disable=config.quiet, mininterval=5, leave=False)
    for index in bar:
        for group in run.optimizer.param_groups:
            cycle_step, cycle_steps = run.step - run.schedule_start, (run.total_steps or 10**9) - run.schedule_start
            group["lr"] = learning_rate(config, cycle_step, cycle_steps)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
            loss, tokens = batch_loss(model, batches[index], device, config.label_smoothing)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
        run.optimizer.step()
        run.step += 1
        total_loss += loss.item() * tokens
        total_tokens += tokens
        elapsed = time.perf_counter() - start
        bar.set_postfix(loss=f"{total_loss / total_tokens:.3f}", tok_s=f"{total_tokens / elapsed:.0f}")
    elapsed = time.perf_counter() - start
    return {"train_loss": total_loss / total_tokens, "tokens_per_s": total_tokens / elapsed, "seconds": elapsed}


def export(run: Run, out: Path, work: Path, spm_names: tuple[str, str], model: Seq2Seq | None = None) -> None:
    """Write ``model`` (default: the run's current weights) and the tokenizer(s) as a shippable folder."""
    save_model(model or run.model, out, *spm_names, fp16=run.config.save_fp16)
    for name in set(spm_names):
        shutil.copyfile(work / name, out / name)


def fit(config: TrainConfig) -> dict:
    """Train, export the best model to ``config.out`` and write its metrics.json."""
    keep_freed_memory()
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    work, out = Path(config.work_dir), Path(config.out)
    work.mkdir(parents=True, exist_ok=True)
    if not config.resume and (work / "last.pt").exists():
        (work / "last.pt").unlink()  # a fresh run must not pick up another run's state

    corpus, benchmark, split, stats = prepare_data(config)
    source, target, *spm_names = prepare_tokenizers(config, split.train, work)
    if config.distill_from:
        split.train = distilled_pairs(config, split.train, work)
        stats["distilled_train"] = len(split.train)
    if config.init_from:  # its architecture too: the weights only fit the model they were trained in
        model = load_model(config.init_from)[0].to(device)
    else:
        model = Seq2Seq(config.model_config(len(source), len(target))).to(device)
    batches = make_batches(split.train, source, target, config.batch_tokens, model.config.max_source_tokens)
    if config.seen_output_only and not model.config.output_pieces:
        model = restrict_output(model, seen_pieces(batches).to(device))
        log(config, f"output layer: the {model.config.output_pieces:,} pieces seen in the training targets")
    dev_pairs = split.dev[: config.dev_eval_sentences]
    run = Run(config, model)
    resumed = config.resume and (work / "last.pt").exists()
    if resumed:
        run.restore(torch.load(work / "last.pt", map_location=device, weights_only=False))
        extra_epochs = config.max_epochs - run.epoch
        if run.total_steps and run.step >= run.total_steps and extra_epochs > 0:
            # the schedule had ended: more epochs get a new warm-up + cosine cycle (a warm restart)
            run.schedule_start, run.total_steps = run.step, run.step + extra_epochs * len(batches)
        elif run.total_steps:  # a resumed run may be given fewer epochs: finish the schedule there
            run.total_steps = min(run.total_steps, run.step + extra_epochs * len(batches))
        log(config, f"resumed after epoch {run.epoch} (best dev BLEU {run.best_bleu})")
    run.history.append(
        {
            "command": "python -m model.train " + shlex.join(sys.argv[1:]),
            "commit": git_commit(),
            "hardware": hardware(),
            "after_epoch": run.epoch,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }
    )
    log(config, f"model: {model.parameter_count():,} parameters, {len(batches)} batches/epoch, device {device}")
    if config.init_from and not resumed:
        start_from(run, source, target, dev_pairs, device, export_to=(out, work, spm_names))

    while run.epoch < config.max_epochs:
        epoch_stats = train_epoch(run, batches, device)
        run.epoch += 1
        run.seconds += epoch_stats["seconds"]
        if not run.total_steps:  # cosine schedule over the epochs that fit the time budget
            fitting = int(config.max_minutes * 60 // max(epoch_stats["seconds"] * 1.08, 1e-9))
            run.total_steps = max(1, min(config.max_epochs, fitting)) * len(batches)
        model.eval()
        dev = dev_scores(model, source, target, dev_pairs, device)
        run.curves.append(
            {"epoch": run.epoch, "step": run.step, **epoch_stats, "dev_bleu": dev["bleu"], "dev_chrf": dev["chrf"]}
        )
        loss, speed = epoch_stats["train_loss"], epoch_stats["tokens_per_s"]
        bleu, chrf = dev["bleu"], dev["chrf"]
        log(config, f"epoch {run.epoch}: loss {loss:.3f}, {speed:.0f} tok/s, dev BLEU {bleu:.2f} chrF {chrf:.2f}")
        if dev["bleu"] > run.best_bleu:
            run.best_bleu, run.best_epoch = dev["bleu"], run.epoch
            export(run, out, work, spm_names)
        if config.average_last > 1:
            keep_snapshot(run, work)
        torch.save(run.state(), work / "last.pt")
        (work / "curves.json").write_text(json.dumps(run.curves, indent=2))
        if run.epoch - run.best_epoch >= config.patience:
            log(config, f"early stop: no dev gain for {config.patience} epochs")
            break
        if run.step >= run.total_steps or run.seconds > config.max_minutes * 60:
            log(config, "time budget spent")
            break

    if config.average_last > 1:
        try_average(run, source, target, dev_pairs, device, export_to=(out, work, spm_names))
    metrics = final_metrics(config, run, corpus, benchmark, split, stats, model.parameter_count())
    (out / "curves.json").write_text(json.dumps(run.curves, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def start_from(run: Run, source: Tokenizer, target: Tokenizer, dev_pairs, device, export_to) -> None:
    """--init-from: the starting model's dev scores are the ones to beat, and it is the best model so far."""
    run.model.eval()
    dev = dev_scores(run.model, source, target, dev_pairs, device)
    run.start = {"init_from": run.config.init_from, "dev_bleu": dev["bleu"], "dev_chrf": dev["chrf"], **lineage(run)}
    run.best_bleu, run.best_epoch = dev["bleu"], 0
    export(run, *export_to)
    log(run.config, f"starting from {run.config.init_from}: dev BLEU {dev['bleu']:.2f} chrF {dev['chrf']:.2f}")


def lineage(run: Run) -> dict:
    """The starting model's own training (epochs, minutes, all parts included), from its metrics.json if it has one."""
    metrics = read_json(Path(run.config.init_from) / "metrics.json")
    if metrics is None:
        return {}
    return {
        "epochs": metrics.get("epochs_total", metrics.get("epochs")),
        "training_minutes": metrics.get("training_minutes_total", metrics.get("training_minutes")),
    }


def keep_snapshot(run: Run, work: Path) -> None:
    """This epoch's weights for --average-last; only the last N are kept."""
    torch.save(run.model.state_dict(), work / f"epoch-{run.epoch}.pt")
    stale = work / f"epoch-{run.epoch - run.config.average_last}.pt"
    stale.unlink(missing_ok=True)


def average_weights(paths: list[Path], device) -> dict[str, torch.Tensor]:
    """The element-wise mean of saved state dicts (same architecture)."""
    states = [torch.load(path, map_location=device, weights_only=True) for path in paths]
    return {name: sum(state[name].float() for state in states) / len(states) for name in states[0]}


def try_average(run: Run, source: Tokenizer, target: Tokenizer, dev_pairs, device, export_to) -> None:
    """Score the mean of the last N epochs' weights on dev; export it when it beats the best single epoch."""
    epochs = [e for e in range(run.epoch - run.config.average_last + 1, run.epoch + 1) if e >= 1]
    paths = [export_to[1] / f"epoch-{e}.pt" for e in epochs]
    if len(epochs) < 2 or not all(path.exists() for path in paths):
        log(run.config, f"averaging skipped: snapshots of epochs {epochs} not all present")
        return
    averaged = copy.deepcopy(run.model)
    averaged.load_state_dict(average_weights(paths, device))
    averaged.eval()
    dev = dev_scores(averaged, source, target, dev_pairs, device)
    exported = dev["bleu"] > run.best_bleu
    run.averaged = {"epochs": epochs, "dev_bleu": dev["bleu"], "dev_chrf": dev["chrf"], "exported": exported}
    log(run.config, f"average of epochs {epochs[0]}-{epochs[-1]}: dev BLEU {dev['bleu']:.2f} chrF {dev['chrf']:.2f}")
    if exported:
        run.best_bleu = dev["bleu"]
        export(run, *export_to, model=averaged)


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


def final_metrics(config, run: Run, corpus, benchmark, split, stats, parameters: int) -> dict:
    """Score the exported (float16-stored) model as it ships: float32 decoding, and int8 (the CPU default)."""
    corpus_english = {en for en, _ in corpus.pairs}
    sets = {
        "test_split": split.test,
        "tatoeba": benchmark,
        "tatoeba_unseen": [(en, es) for en, es in benchmark if en not in corpus_english],
    }
    sets = {name: pairs for name, pairs in sets.items() if pairs}
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
        "command": "python -m model.train " + shlex.join(sys.argv[1:]),
        "config": {k: v for k, v in dataclasses.asdict(config).items() if k != "extra"},
        "commit": git_commit(),
        "hardware": hardware(),
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


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    metrics = fit(config)
    for decoder, sets in metrics["scores"].items():
        for name, result in sets.items():
            overall = result["overall"]
            bleu, chrf, count = overall["bleu"], overall["chrf"], overall["sentences"]
            print(f"{decoder:6s} {name:15s} BLEU {bleu:5.2f}  chrF {chrf:5.2f}  ({count} sentences)")


if __name__ == "__main__":
    main()
