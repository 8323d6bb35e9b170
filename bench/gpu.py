"""The GPU check, one script: the CUDA tests, one training epoch, and decoding speed, each figure beside its target.

    python bench/gpu.py                          # on a machine with a CUDA device (about 5 minutes on one GPU)
    python bench/gpu.py --json $OUT/gpu.json     # also write the figures as JSON
    python bench/gpu.py --device cpu --quick     # the same steps on the CPU, small: checks the script itself

Steps: (1) ``pytest tests/test_gpu.py`` (float32 and bf16 autocast training, float32 decoding agreeing with the CPU,
no int8 kernels on CUDA, the CLI); (2) one training epoch of the shipped architecture on the corpus, continued from
the shipped model (--init-from, so no tokenizer training), in bf16 autocast and in float32: target tokens/s;
(3) decoding with the shipped model, float32: greedy one sentence at a time and beam 5 (p50 ms over Tatoeba
sentences), and batched greedy (sentences/s). Targets are set against the 2-core CPU's figures in docs/performance.md.
Without a CUDA device it stops at once with a message saying so (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, percentile, print_table

sys.path.insert(0, str(ROOT))

import torch

from model import Translator
from model.config import TrainConfig
from model.evaluate import read_benchmark
from model.train import fit

SHIPPED = ROOT / "assets" / "en-es"
CORPUS = ROOT.parent / "shared" / "data" / "spa-eng" / "spa.txt"
BENCHMARK = ROOT.parent / "shared" / "data" / "tatoeba-test" / "eng-spa.tsv"
CPU_TRAIN_TOKENS_PER_S = 10_508  # the shipped model's 2-core training throughput (assets/en-es/metrics.json)
CPU_BATCHED_SENTENCES_PER_S = 1378  # batched greedy, int8, 2 cores (docs/performance.md)


def run_cuda_tests(quick: bool) -> tuple[str, bool]:
    if quick:
        return "skipped (--quick)", True
    run = subprocess.run([sys.executable, "-m", "pytest", "tests/test_gpu.py", "-q", "-rs"], cwd=ROOT, text=True)
    return ("passed" if run.returncode == 0 else f"FAILED (exit {run.returncode})"), run.returncode == 0


def training_epoch(device: str, bf16: bool, quick: bool, work: Path) -> dict:
    """One epoch continued from the shipped model; -> its curve entry (seconds, tokens_per_s, train_loss)."""
    settings = dict(
        corpus=str(CORPUS),
        benchmark="",
        init_from=str(SHIPPED),
        out=str(work / f"model-{bf16}"),
        work_dir=str(work / f"run-{bf16}"),
        device=device,
        bf16=bf16,
        max_epochs=1,
        dev_eval_sentences=200 if quick else 1000,
        max_pairs=2000 if quick else 0,
        final_eval=False,
        quiet=True,
    )
    fit(TrainConfig(**settings))
    return json.loads((work / f"model-{bf16}" / "curves.json").read_text())[-1]


def decoding(device: str, quick: bool) -> dict:
    """p50 ms of greedy and beam-5 single sentences, batched greedy sentences/s; float32 (never int8 on CUDA)."""
    translator = Translator.load(SHIPPED, device=device, int8=False)
    english = [en for en, _ in read_benchmark(BENCHMARK)] if BENCHMARK.is_file() else ["I think we should leave."]
    singles, batch = english[: 20 if quick else 200], (english * 2)[: 200 if quick else 4000]
    for sentence in singles[:5]:  # warm-up: CUDA context, cuDNN plans, allocator
        translator.translate(sentence, beam_size=5)

    def p50_ms(beam: int) -> float:
        samples = []
        for sentence in singles:
            start = time.perf_counter()
            translator.translate(sentence, beam_size=beam)  # returns CPU numbers: the GPU has finished
            samples.append((time.perf_counter() - start) * 1000)
        return percentile(samples, 50)

    greedy, beam = p50_ms(1), p50_ms(5)
    start = time.perf_counter()
    translator.translate_batch(batch)
    batched = len(batch) / (time.perf_counter() - start)
    return {"greedy_p50_ms": greedy, "beam5_p50_ms": beam, "batched_sentences_per_s": batched, "int8": translator.int8}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the script, not the GPU")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench/gpu.py: no CUDA device here (torch.cuda.is_available() is False); run it on a GPU machine, or")
        print("check the script itself with: python bench/gpu.py --device cpu --quick")
        return 2
    if not CORPUS.is_file():
        print(f"bench/gpu.py: {CORPUS} not found (the training epoch reads it)")
        return 2
    name = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"device: {name}, torch {torch.__version__}")
    tests, tests_ok = run_cuda_tests(args.quick)
    with tempfile.TemporaryDirectory() as folder:
        epochs = {bf16: training_epoch(args.device, bf16, args.quick, Path(folder)) for bf16 in (True, False)}
    speed = decoding(args.device, args.quick)
    rows = [
        ("CUDA tests (tests/test_gpu.py)", tests, "pass", tests_ok),
        ("training epoch, bf16 autocast (s)", f"{epochs[True]['seconds']:.1f}", "", None),
        ("training, bf16 autocast (tok/s)", f"{epochs[True]['tokens_per_s']:,.0f}", ">= 5x CPU (52,540)", None),
        ("training epoch, float32 (s)", f"{epochs[False]['seconds']:.1f}", "", None),
        ("training, float32 (tok/s)", f"{epochs[False]['tokens_per_s']:,.0f}", ">= 5x CPU (52,540)", None),
        ("decoding: int8 kernels in use", str(speed["int8"]), "False", not speed["int8"]),
        ("greedy, one sentence, p50 (ms)", f"{speed['greedy_p50_ms']:.1f}", "(CPU int8 ~4 ms)", None),
        ("beam 5, one sentence, p50 (ms)", f"{speed['beam5_p50_ms']:.1f}", "(CPU int8 ~10 ms)", None),
        ("batched greedy (sentences/s)", f"{speed['batched_sentences_per_s']:,.0f}", ">= 3x CPU (4,134)", None),
    ]
    if args.device == "cuda" and not args.quick:  # the targets are for a GPU's full-size run only
        rows[2] = (*rows[2][:3], epochs[True]["tokens_per_s"] >= 5 * CPU_TRAIN_TOKENS_PER_S)
        rows[4] = (*rows[4][:3], epochs[False]["tokens_per_s"] >= 5 * CPU_TRAIN_TOKENS_PER_S)
        rows[8] = (*rows[8][:3], speed["batched_sentences_per_s"] >= 3 * CPU_BATCHED_SENTENCES_PER_S)
    print_table(rows)
    if args.json:
        figures = {"device": name, "tests": tests, "epoch_bf16": epochs[True], "epoch_float32": epochs[False], **speed}
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if tests_ok else 1


if __name__ == "__main__":
    sys.exit(main())
