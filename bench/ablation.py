"""Quality ablation of issue 16: the same fine-tuning with and without each technique, the same step budget per row.

    python bench/ablation.py --beam 5 --max-pairs 0 --steps 1500 --lr 3e-4 --rows control,concat10,...
    python bench/ablation.py --rows combined --combined "--concat-share 0.3 --distill-also assets/en-es" ...

Every row continues the shipped default (``--init-from assets/en-es``) on the distillation targets of
``--teacher`` (translated once into ``runs/ablation/cache-<teacher>-beam<N>-pairs<M>`` and copied into each row),
for the same number of optimizer steps: minutes are no fair budget on a machine others share. The ``teachers`` row
adds a second teacher (``--distill-also``, its own cache). Rows run from a copy of ``model/`` taken at start
(``runs/ablation/code``), so edits made while they run cannot change them. Each row's model folder is
``runs/ablation/<row>/model``, its log ``runs/ablation/<row>/train.log``; the table (dev BLEU int8 greedy, the 11+
and 16+ word buckets of dev, the share of short translations, the time) goes to ``runs/ablation/summary.json``.
Every choice is made on dev; the test split and Tatoeba are only reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "runs" / "ablation"
CODE = RUNS / "code"
CORPUS = ROOT.parent / "shared" / "data" / "spa-eng" / "spa.txt"
BENCHMARK = ROOT.parent / "shared" / "data" / "tatoeba-test" / "eng-spa.tsv"
sys.path.append(str(ROOT))  # after PYTHONPATH: a row's frozen copy of model/ comes first
SHORT_RATIO = 0.7  # a translation under 0.7x the reference's words counts as short (a sign of omission)

SECOND_TEACHER = "assets/en-es"  # the shipped default itself: the best model on dev, a different architecture
# row -> the flags of its technique; "combined" takes the flags of --combined, chosen on dev after the others
ROWS: dict[str, list[str]] = {
    "control": [],
    "concat10": ["--concat-share", "0.1"],
    "concat30": ["--concat-share", "0.3"],
    "sampling": ["--subword-alpha", "0.5"],
    "coverage": ["--coverage-weight", "0.2"],
    "teachers": ["--distill-also", SECOND_TEACHER],
    "combined": [],
}
LANES = (("control", "concat30", "coverage", "combined"), ("teachers", "concat10", "sampling"))


def snapshot_code() -> None:
    """A frozen copy of the committed model/ the rows import (the working tree keeps changing under a team)."""
    if (CODE / "model").is_dir():
        return
    CODE.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "HEAD", "model"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(CODE)], input=archive, check=True)
    (CODE / "assets").symlink_to(ROOT / "assets")


def make_cache(args, teacher: str) -> Path:
    """``teacher``'s translations of the training English, made once with the frozen code and copied per row."""
    folder = RUNS / f"cache-{Path(teacher).name}-beam{args.beam}-pairs{args.max_pairs}"
    if not (folder / "distilled.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        code = (
            "from pathlib import Path; from model.config import TrainConfig; "
            "from model.train import prepare_data; from model.distill import distilled_pairs\n"
            "if __name__ == '__main__':\n"
            f"    config = TrainConfig(corpus={str(CORPUS)!r}, benchmark={str(BENCHMARK)!r},"
            f" max_pairs={args.max_pairs}, distill_from={teacher!r}, distill_beam={args.beam},"
            f" threads=2, work_dir={str(folder)!r})\n"
            "    distilled_pairs(config, prepare_data(config)[2].train, Path(config.work_dir))\n"
        )
        (folder / "make.py").write_text(code)
        with open(folder / "log.txt", "w") as log:
            argv = ["nice", "-n", "19", sys.executable, str(folder / "make.py")]
            subprocess.run(argv, cwd=CODE, env=frozen_env(), stdout=log, stderr=subprocess.STDOUT, check=True)
    return folder / "distilled.json"


def command(row: str, flags: list[str], args) -> list[str]:
    folder = RUNS / row
    return [
        *("nice", "-n", "19", sys.executable, "-m", "model.train"),
        *("--corpus", str(CORPUS), "--benchmark", str(BENCHMARK)),
        *("--init-from", "assets/en-es", "--distill-from", args.teacher, "--distill-beam", str(args.beam)),
        *("--lr", str(args.lr), "--min-lr", "2e-5", "--warmup-steps", "100"),
        *("--max-steps", str(args.steps), "--max-epochs", "50", "--patience", "50", "--no-final-eval"),
        *("--max-pairs", str(args.max_pairs)),
        *("--threads", str(args.threads), "--out", str(folder / "model"), "--work-dir", str(folder / "work")),
        *flags,
    ]


def run_row(row: str, flags: list[str], args) -> dict:
    folder = RUNS / row
    (folder / "work").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(make_cache(args, args.teacher), folder / "work" / "distilled.json")
    if "--distill-also" in flags:
        second = flags[flags.index("--distill-also") + 1]
        shutil.copyfile(make_cache(args, second), folder / "work" / "distilled-also.json")
    argv = command(row, flags, args)
    start = time.time()
    with open(folder / "train.log", "w") as log:
        log.write(" ".join(argv) + "\n")
        log.flush()
        done = subprocess.run(argv, cwd=CODE, stdout=log, stderr=subprocess.STDOUT, env=frozen_env())
    result = {"row": row, "flags": flags, "returncode": done.returncode, "wall_minutes": (time.time() - start) / 60}
    if done.returncode == 0:
        result |= row_metrics(folder / "model")
    write_row(row, result)
    return result


def row_metrics(model_dir: Path) -> dict:
    """The dev report of the row's exported model (computed with the frozen code) and its training record."""
    metrics = json.loads((model_dir / "metrics.json").read_text())
    shipped = RUNS / "shipped_dev.json"  # written by --report assets/en-es
    if metrics["best_epoch"] == 0 and shipped.is_file():  # no epoch beat the start: the exported model is the start
        report = json.loads(shipped.read_text())
    else:
        argv = ["nice", "-n", "19", sys.executable, str(Path(__file__).resolve()), "--report", str(model_dir)]
        out = subprocess.run(argv, cwd=CODE, env=frozen_env(), capture_output=True, text=True, check=True)
        report = json.loads(out.stdout.strip().splitlines()[-1])
    return report | {
        "best_epoch": metrics["best_epoch"],
        "epochs": metrics["epochs"],
        "training_minutes": metrics["training_minutes"],
        "best_dev_bleu_float32": metrics["best_dev_bleu"],
        "start_dev_bleu_float32": (metrics.get("started_from") or {}).get("dev_bleu"),
        "steps": metrics["config"]["max_steps"],
    }


def frozen_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(CODE)}


def export_final(row: str) -> dict:
    """The row's weights after its whole step budget (``work/last.pt``) as ``runs/ablation/<row>/final``, and their
    dev report: ``model/`` holds the best of start and epochs, which is the start when no epoch beat it."""
    import torch

    from model.checkpoint import load_model, save_model

    folder = RUNS / row
    model = load_model(folder / "model")[0]
    state = torch.load(folder / "work" / "last.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    save_model(model, folder / "final", "spm.model", "spm.model")
    for name in ("spm.model", "curves.json"):
        shutil.copyfile(folder / ("model" if name == "spm.model" else "work") / name, folder / "final" / name)
    report = dev_report(str(folder / "final")) | {"step": state["step"], "epoch": state["epoch"]}
    (folder / "final_dev.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def dev_report(model_dir: str) -> dict:
    """Dev BLEU/chrF of ``model_dir`` as it ships (int8 greedy), overall, for 11+ and 16+ English words, on
    ``dev_joined`` (dev pairs joined three by three: long inputs, bench/quality.py), and the share of translations
    shorter than SHORT_RATIO x the reference."""
    from model import Translator  # noqa: I001 (model/ first: quality must not import another copy of it)
    from model.config import TrainConfig
    from model.evaluate import score
    from model.train import prepare_data
    from quality import joined

    config = TrainConfig(corpus=str(CORPUS), benchmark=str(BENCHMARK), quiet=True)
    dev = prepare_data(config)[2].dev
    translator = Translator.load(model_dir, device="cpu")
    report = {}
    for name, pairs, least in (("", dev, 0), ("_11plus", dev, 11), ("_16plus", dev, 16), ("_joined", joined(dev), 0)):
        chosen = [(en, es) for en, es in pairs if len(en.split()) >= least]
        hypotheses = [t.text for t in translator.translate_batch([en for en, _ in chosen])]
        result = score(hypotheses, [es for _, es in chosen])
        short = sum(len(h.split()) < SHORT_RATIO * len(es.split()) for h, (_, es) in zip(hypotheses, chosen))
        report |= {
            f"dev_bleu{name}": result["bleu"],
            f"dev_chrf{name}": result["chrf"],
            f"dev_sentences{name}": len(chosen),
            f"dev_short_share{name}": round(short / max(1, len(chosen)), 4),
        }
    return report


_lock = threading.Lock()


def write_row(row: str, result: dict) -> None:
    with _lock:
        path = RUNS / "summary.json"
        summary = json.loads(path.read_text()) if path.is_file() else {}
        summary[row] = result
        path.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(result), flush=True)


def lane(rows: tuple[str, ...], chosen: list[str], results: dict, args) -> None:
    for row in rows:
        if row in chosen:
            flags = args.combined.split() if row == "combined" else ROWS[row]
            results[row] = run_row(row, flags, args)


def collect(rows: list[str]) -> None:
    """Write the summary of rows whose training finished outside this process (e.g. after a driver restart)."""
    for row in rows:
        model_dir = RUNS / row / "model"
        if (model_dir / "metrics.json").is_file():
            flags = (RUNS / row / "train.log").read_text().splitlines()[0].split("--work-dir")[1].split()[1:]
            write_row(row, {"row": row, "flags": flags, "returncode": 0} | row_metrics(model_dir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    singles = ",".join(row for row in ROWS if row != "combined")
    parser.add_argument("--rows", default=singles, help="comma-separated rows to run (default: all but combined)")
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps per row (the same for every row)")
    parser.add_argument("--lr", type=float, default=5e-4, help="peak learning rate of every row")
    parser.add_argument("--teacher", default="assets/en-es-large", help="model folder whose translations are targets")
    parser.add_argument("--beam", type=int, default=1, help="beam size of the teacher's translations")
    parser.add_argument("--max-pairs", type=int, default=30000, help="training pairs (a sample; 0 = all 106k)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per row (two lanes run at once)")
    parser.add_argument("--parallel", action="store_true", help="every row at once instead of two lanes")
    parser.add_argument("--combined", default="", help="training flags of the 'combined' row (the dev winners)")
    parser.add_argument("--report", metavar="MODEL_DIR", help="only print the dev report of one model folder")
    parser.add_argument("--final", metavar="ROW", help="only export and report a row's weights after its budget")
    parser.add_argument("--collect", action="store_true", help="only summarise the finished rows of --rows")
    args = parser.parse_args()
    if args.report:
        print(json.dumps(dev_report(args.report)))
        return
    if args.final:
        print(json.dumps(export_final(args.final)))
        return
    if args.collect:
        collect(args.rows.split(","))
        return
    snapshot_code()
    chosen, results = args.rows.split(","), {}
    if "combined" in chosen and not args.combined:
        parser.error("the combined row needs --combined FLAGS, chosen on dev from the other rows")
    make_cache(args, args.teacher)
    if "teachers" in chosen:
        make_cache(args, SECOND_TEACHER)
    lanes = [(row,) for row in chosen] if args.parallel else LANES
    threads = [threading.Thread(target=lane, args=(rows, chosen, results, args)) for rows in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
