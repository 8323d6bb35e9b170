"""Train the translator.

    python -m model.train --corpus ../shared/data/spa-eng/spa.txt --out assets/en-es

Every TrainConfig field is a flag (``--attention dot``, ``--max-minutes 30``...); ``--help`` lists them with their
meaning. Resumable: ``--resume`` continues from ``<work-dir>/last.pt``. The best checkpoint by dev BLEU is exported
to ``--out`` after every improving epoch, so an interrupted run still leaves a usable model there.

The story of a run, in ``fit``: read and split the corpus, reuse or train the tokenizers, optionally replace the
targets by a teacher's translations (distill.py), build batches (batching.py, with the augmentation of augment.py),
then per epoch: train (objective.py, schedule.py), score dev, export the best, save resumable state (run_state.py);
at the end, optionally average the last epochs (averaging.py) and record how the model was made (provenance.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from . import distributed
from .averaging import averaged_model, keep_snapshot
from .batching import Batch, epoch_batches, make_batches, seen_pieces, varies_by_epoch
from .checkpoint import load_model, read_tokenizer_names, save_model
from .config import TrainConfig
from .data import read_pairs, split_by_english
from .distill import distilled_pairs
from .evaluate import read_benchmark, score
from .files import replace_folder
from .malloc import keep_freed_memory
from .objective import batch_loss
from .provenance import command_line, final_metrics, git_commit, hardware, lineage
from .run_state import Run
from .schedule import budget_steps, learning_rate
from .seq2seq import Seq2Seq
from .tokenizer import Tokenizer, train_sentencepiece
from .translator import Translator, resolve_device


def parse_args(argv: list[str] | None) -> TrainConfig:
    """The command line -> TrainConfig; each flag's help is its field's ``metadata["help"]``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(TrainConfig):
        if f.name == "extra":
            continue
        flag, help_text = "--" + f.name.replace("_", "-"), f.metadata["help"] + " (default: %(default)s)"
        if f.type in ("bool", bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text)
        else:
            kind = {"int": int, "float": float}.get(str(f.type), str)
            parser.add_argument(flag, type=kind, default=f.default, help=help_text)
    return TrainConfig.from_dict(vars(parser.parse_args(argv)))


def log(config: TrainConfig, message: str) -> None:
    if not config.quiet:
        tqdm.write(message)


@dataclass(frozen=True)
class Destination:
    """Where the best model is exported (``out``) and where the run keeps its tokenizers and state (``work``)."""

    out: Path
    work: Path
    spm_names: tuple[str, str]  # source, target SentencePiece file names (the same name for a joint vocabulary)

    def export(self, model: Seq2Seq, fp16: bool) -> None:
        """Write ``model`` and the tokenizer(s) as a shippable folder, whole: made beside ``out``, then renamed."""
        staging = self.out.with_name(self.out.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        save_model(model, staging, *self.spm_names, fp16=fp16)
        for name in set(self.spm_names):
            shutil.copyfile(self.work / name, staging / name)
        replace_folder(staging, self.out)


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


def prepare_tokenizers(config: TrainConfig, train_pairs, work: Path) -> tuple[Tokenizer, Tokenizer, tuple[str, str]]:
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
    return Tokenizer(work / names[0]), Tokenizer(work / names[1]), names


def starting_model(config: TrainConfig, source: Tokenizer, target: Tokenizer, device) -> Seq2Seq:
    if config.init_from:  # its architecture too: the weights only fit the model they were trained in
        return load_model(config.init_from)[0].to(device)
    return Seq2Seq(config.model_config(len(source), len(target))).to(device)


def restrict_output(model: Seq2Seq, pieces: torch.Tensor) -> Seq2Seq:
    """The same weights, with an output layer that scores only ``pieces`` (--seen-output-only)."""
    config = dataclasses.replace(model.config, output_pieces=pieces.numel())
    restricted = Seq2Seq(config).to(pieces.device)
    restricted.load_state_dict(model.state_dict(), strict=False)  # everything but the new buffer
    restricted.decoder.output_pieces.copy_(pieces)
    return restricted


def dev_scores(model: Seq2Seq, source: Tokenizer, target: Tokenizer, dev_pairs, device) -> dict:
    translator = Translator(model, source, target, device, Path("."))  # float32: checkpoints compare exactly
    hypotheses = [t.text for t in translator.translate_batch([en for en, _ in dev_pairs])]
    result = score(hypotheses, [es for _, es in dev_pairs])
    return {"bleu": result["bleu"], "chrf": result["chrf"]}


def train_epoch(run: Run, batches: list[Batch], device, model: Seq2Seq) -> dict:
    """One pass over ``batches`` in random order (it stops early where the step budget ends).

    ``model`` is the run's model, or under torchrun its DDP wrapper: each rank then steps on its rows of every batch.
    """
    config = run.config
    model.train()
    order = list(range(len(batches)))
    random.shuffle(order)
    distributed.check_same_order(order)
    total_loss, total_tokens, start = 0.0, 0, time.perf_counter()
    bar = tqdm(order, desc=f"epoch {run.epoch + 1}", disable=config.quiet, mininterval=5, leave=False)
    for index in bar:
        if run.total_steps and run.step >= run.total_steps:
            break
        for group in run.optimizer.param_groups:
            cycle_step, cycle_steps = run.step - run.schedule_start, (run.total_steps or 10**9) - run.schedule_start
            group["lr"] = learning_rate(config, cycle_step, cycle_steps)
        part, weight = distributed.shard(batches[index])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
            loss, tokens = batch_loss(model, part, device, config.label_smoothing, config.coverage_weight)
        run.optimizer.zero_grad(set_to_none=True)
        (loss * weight).backward()  # weight 1.0 in one process
        tokens = tokens if weight else 0  # a rank without rows of this batch ran row 0 for DDP's sake
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
        run.optimizer.step()
        run.step += 1
        total_loss += loss.item() * tokens
        total_tokens += tokens
        elapsed = time.perf_counter() - start
        bar.set_postfix(loss=f"{total_loss / total_tokens:.3f}", tok_s=f"{total_tokens / elapsed:.0f}")
    elapsed = time.perf_counter() - start
    total_loss, total_tokens = distributed.all_sum(total_loss, total_tokens)  # all ranks' sentences
    return {"train_loss": total_loss / max(1, total_tokens), "tokens_per_s": total_tokens / elapsed, "seconds": elapsed}


def resume(run: Run, work: Path, device, batches_per_epoch: int) -> None:
    """Restore ``<work>/last.pt`` and fit the schedule to the epochs now asked for."""
    config = run.config
    run.restore(torch.load(work / "last.pt", map_location=device, weights_only=False))
    extra_epochs = config.max_epochs - run.epoch
    if config.max_steps:
        run.total_steps = run.schedule_start + config.max_steps
    elif run.total_steps and run.step >= run.total_steps and extra_epochs > 0:
        # the schedule had ended: more epochs get a new warm-up + cosine cycle (a warm restart)
        run.schedule_start, run.total_steps = run.step, run.step + extra_epochs * batches_per_epoch
    elif run.total_steps:  # a resumed run may be given fewer epochs: finish the schedule there
        run.total_steps = min(run.total_steps, run.step + extra_epochs * batches_per_epoch)
    log(config, f"resumed after epoch {run.epoch} (best dev BLEU {run.best_bleu})")


def fit(config: TrainConfig) -> dict:
    """Train, export the best model to ``config.out`` and write its metrics.json."""
    keep_freed_memory()
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device = distributed.start(resolve_device(config.device), config.dist_timeout_s)
    if not distributed.is_main():
        config = dataclasses.replace(config, quiet=True)  # rank 0 reports for all
    work, out = Path(config.work_dir), Path(config.out)
    work.mkdir(parents=True, exist_ok=True)
    if not config.resume and distributed.is_main():
        (work / "last.pt").unlink(missing_ok=True)  # a fresh run must not pick up another run's state

    corpus, benchmark, split, stats = prepare_data(config)
    with distributed.main_first():  # rank 0 writes the tokenizers (and a teacher's cache), the others read them
        source, target, spm_names = prepare_tokenizers(config, split.train, work)
    destination = Destination(out, work, spm_names)
    if config.distill_from:
        with distributed.main_first():
            split.train = distilled_pairs(config, split.train, work)
        stats["distilled_train"] = len(split.train)
        how = "greedy" if config.distill_beam == 1 else f"beam-{config.distill_beam}"
        log(config, f"distilled: {len(split.train):,} training pairs, {config.distill_from}'s {how} translations")
    model = starting_model(config, source, target, device)
    max_len = model.config.max_source_tokens
    batches = make_batches(split.train, source, target, config.batch_tokens, max_len)
    if config.seen_output_only and not model.config.output_pieces:
        model = restrict_output(model, seen_pieces(batches).to(device))
        log(config, f"output layer: the {model.config.output_pieces:,} pieces seen in the training targets")
    emitable = model.decoder.output_pieces
    allowed = None if emitable is None else frozenset(emitable.tolist())  # pieces a sampled target may use
    dev_pairs = split.dev[: config.dev_eval_sentences]
    run = Run(config, model)
    resumed = config.resume and (work / "last.pt").exists()
    if resumed:
        resume(run, work, device, len(batches))
    elif config.max_steps:
        run.total_steps = config.max_steps
    run.history.append(
        {
            "command": command_line(),
            "commit": git_commit(),
            "hardware": hardware(),
            "world_size": distributed.world_size(),
            "after_epoch": run.epoch,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }
    )
    log(config, f"model: {model.parameter_count():,} parameters, {len(batches)} batches/epoch, device {device}")
    if config.init_from and not resumed:
        start_from(run, source, target, dev_pairs, device, destination)
    trained = distributed.wrap(model)

    while run.epoch < config.max_epochs and not (run.total_steps and run.step >= run.total_steps):
        added = {}
        if varies_by_epoch(config):  # fresh joins and segmentations each epoch
            batches, added = epoch_batches(config, split.train, source, target, run.epoch, max_len, allowed)
        epoch_stats = train_epoch(run, batches, device, trained)
        epoch_stats = distributed.from_main(epoch_stats)  # rank 0's time sizes the budget of every rank
        run.epoch += 1
        run.seconds += epoch_stats["seconds"]
        if not run.total_steps:
            run.total_steps = budget_steps(config, epoch_stats["seconds"], len(batches))
        model.eval()
        distributed.check_same_weights(model)
        dev = distributed.on_main(dev_scores, model, source, target, dev_pairs, device)
        run.curves.append(
            {"epoch": run.epoch, "step": run.step, **epoch_stats, "dev_bleu": dev["bleu"], "dev_chrf": dev["chrf"]}
            | added
        )
        loss, speed = epoch_stats["train_loss"], epoch_stats["tokens_per_s"]
        bleu, chrf = dev["bleu"], dev["chrf"]
        log(config, f"epoch {run.epoch}: loss {loss:.3f}, {speed:.0f} tok/s, dev BLEU {bleu:.2f} chrF {chrf:.2f}")
        if dev["bleu"] > run.best_bleu:
            run.best_bleu, run.best_epoch = dev["bleu"], run.epoch
            if distributed.is_main():
                destination.export(model, config.save_fp16)
        if distributed.is_main():
            save_state(run, work)
        if run.epoch - run.best_epoch >= config.patience:
            log(config, f"early stop: no dev gain for {config.patience} epochs")
            break
        if run.step >= run.total_steps or (not config.max_steps and run.seconds > config.max_minutes * 60):
            log(config, "budget spent")
            break

    main_rank = distributed.is_main()
    distributed.finish()  # what remains (averaging, final scores, metrics.json) is rank 0's alone
    if not main_rank:
        return {}
    if config.average_last > 1:
        try_average(run, source, target, dev_pairs, device, destination)
    metrics = final_metrics(config, run, corpus, benchmark, split, stats, model.parameter_count())
    (out / "curves.json").write_text(json.dumps(run.curves, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def save_state(run: Run, work: Path) -> None:
    """The resumable state (and this epoch's snapshot for --average-last), each file written whole."""
    if run.config.average_last > 1:
        keep_snapshot(run.model, work, run.epoch, run.config.average_last)
    partial = work / "last.pt.partial"
    torch.save(run.state(), partial)
    partial.replace(work / "last.pt")  # an interrupted save leaves the previous epoch's state
    (work / "curves.json").write_text(json.dumps(run.curves, indent=2))


def start_from(run: Run, source: Tokenizer, target: Tokenizer, dev_pairs, device, destination: Destination) -> None:
    """--init-from: the starting model's dev scores are the ones to beat, and it is the best model so far."""
    run.model.eval()
    dev = distributed.on_main(dev_scores, run.model, source, target, dev_pairs, device)
    init_from = run.config.init_from
    run.start = {"init_from": init_from, "dev_bleu": dev["bleu"], "dev_chrf": dev["chrf"], **lineage(init_from)}
    run.best_bleu, run.best_epoch = dev["bleu"], 0
    if distributed.is_main():
        destination.export(run.model, run.config.save_fp16)
    log(run.config, f"starting from {init_from}: dev BLEU {dev['bleu']:.2f} chrF {dev['chrf']:.2f}")


def try_average(run: Run, source: Tokenizer, target: Tokenizer, dev_pairs, device, destination: Destination) -> None:
    """Score the mean of the last N epochs' weights on dev; export it when it beats the best single epoch."""
    epochs = [e for e in range(run.epoch - run.config.average_last + 1, run.epoch + 1) if e >= 1]
    averaged = averaged_model(run.model, destination.work, epochs, device)
    if averaged is None:
        log(run.config, f"averaging skipped: snapshots of epochs {epochs} not all present")
        return
    dev = dev_scores(averaged, source, target, dev_pairs, device)
    exported = dev["bleu"] > run.best_bleu
    run.averaged = {"epochs": epochs, "dev_bleu": dev["bleu"], "dev_chrf": dev["chrf"], "exported": exported}
    log(run.config, f"average of epochs {epochs[0]}-{epochs[-1]}: dev BLEU {dev['bleu']:.2f} chrF {dev['chrf']:.2f}")
    if exported:
        run.best_bleu = dev["bleu"]
        destination.export(averaged, run.config.save_fp16)


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    try:
        metrics = fit(config)
    except distributed.DistributedError as error:
        sys.exit(f"error: {error}")
    except (KeyboardInterrupt, RuntimeError) as error:
        if isinstance(error, RuntimeError) and not distributed.peer_failed(error):
            raise
        why = "interrupted" if isinstance(error, KeyboardInterrupt) else f"another rank stopped or hung ({error})"
        sys.exit(f"{why}: {config.work_dir}/last.pt holds the last finished epoch; continue with --resume")
    for decoder, sets in metrics.get("scores", {}).items():
        for name, result in sets.items():
            overall = result["overall"]
            bleu, chrf, count = overall["bleu"], overall["chrf"], overall["sentences"]
            print(f"{decoder:6s} {name:15s} BLEU {bleu:5.2f}  chrF {chrf:5.2f}  ({count} sentences)")


if __name__ == "__main__":
    main()
