"""Training throughput in one process against several (torchrun, gloo), on the CPU cores of this machine.

    python bench/distributed.py                  # 1 process x 2 threads, then 2 processes x 1 thread, twice
    python bench/distributed.py --steps 60 --rounds 3

Each configuration runs ``model.train.train_epoch`` (the real training step, DDP under torchrun) for ``--steps``
optimizer steps of the shipped model's architecture and weights on corpus pairs, and reports target tokens/s of
the whole world (every rank's tokens). The configurations alternate, so a shared host's drifting load hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys

from common import ROOT, print_table

sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "data" / "spa-eng" / "spa.txt"
SHIPPED = ROOT / "assets" / "en-es"


def worker(steps: int, threads: int) -> None:
    """One rank (or the only process): time ``steps`` training steps; rank 0 prints the figures as JSON."""
    import torch

    from model import distributed
    from model.batching import make_batches
    from model.checkpoint import load_model
    from model.config import TrainConfig
    from model.data import read_pairs
    from model.run_state import Run
    from model.train import train_epoch

    torch.set_num_threads(threads)
    device = distributed.start(torch.device("cpu"), timeout_s=600)
    torch.manual_seed(0)
    random.seed(0)
    model, source, target, _ = load_model(SHIPPED)
    pairs = random.Random(0).sample(read_pairs(str(CORPUS), 300).pairs, 6000)
    batches = make_batches(pairs, source, target, TrainConfig().batch_tokens, model.config.max_source_tokens)
    run = Run(TrainConfig(quiet=True), model)
    run.total_steps = steps
    stats = train_epoch(run, batches, device, distributed.wrap(model))
    if distributed.is_main():
        print(json.dumps({"world_size": distributed.world_size(), "threads": threads, **stats}))
    distributed.finish()


def measure(processes: int, threads: int, steps: int) -> dict:
    script = [str(ROOT / "bench" / "distributed.py"), "--worker", "--steps", str(steps), "--threads", str(threads)]
    if processes == 1:
        command = [sys.executable, *script]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        command += script
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    run = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.steps, args.threads)
        return
    cores = os.cpu_count() or 2
    results: dict[str, list[float]] = {f"1 process x {cores} threads": [], f"{cores} processes x 1 thread": []}
    for _ in range(args.rounds):
        results[f"1 process x {cores} threads"].append(measure(1, cores, args.steps)["tokens_per_s"])
        results[f"{cores} processes x 1 thread"].append(measure(cores, 1, args.steps)["tokens_per_s"])
    single, several = (min(values) for values in results.values())
    rows = [(f"{name} (tok/s)", ", ".join(f"{v:,.0f}" for v in values), "", None) for name, values in results.items()]
    rows.append(("several processes / one (slowest of each)", f"{several / single:.2f}x", ">= 1.0x", several >= single))
    print(f"{args.steps} training steps of {SHIPPED.name}'s architecture per run, {args.rounds} alternating rounds")
    print_table(rows)


if __name__ == "__main__":
    main()
