"""model/distributed.py: training under torchrun with DistributedDataParallel (gloo, 2 CPU processes)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
from conftest import ROOT, tiny_train_settings

from model import Translator, distributed

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}  # 2 ranks x 1 thread on the 2 cores


def train_flags(corpus: Path, work: Path, **overrides) -> list[str]:
    """tiny_train_settings as command-line flags."""
    settings = tiny_train_settings(corpus, work, final_beam=0, **overrides)
    flags = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + flag[2:])
        else:
            flags += [flag, str(value)]
    return flags


def test_one_step_on_two_ranks_equals_one_process_on_the_global_batch(tmp_path):
    script = str(ROOT / "tests" / "distributed_step.py")
    for command, out in (([sys.executable], "one.pt"), (TORCHRUN, "two.pt")):
        run = subprocess.run([*command, script, str(tmp_path / out)], env=ONE_THREAD, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]  # the script also checks that both ranks hold equal weights
    one, two = (torch.load(tmp_path / name) for name in ("one.pt", "two.pt"))
    assert (one["world_size"], two["world_size"]) == (1, 2) and one["moved"] > 1e-4
    for name, tensor in one["weights"].items():
        # Not bit-identical: the two ranks' gradients are summed in another order than one process sums its rows.
        torch.testing.assert_close(two["weights"][name], tensor, rtol=0, atol=1e-6)


def test_two_ranks_train_export_and_resume(tiny_corpus, tmp_path):
    command = [*TORCHRUN, "-m", "model.train", *train_flags(tiny_corpus, tmp_path, max_epochs=2)]
    run = subprocess.run(command, cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]  # each epoch, check_same_weights compared the ranks' weights
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["epochs"] == 2
    assert Translator.load(tmp_path / "model", device="cpu").translate("I see the cat.").text
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model", "run"]  # no staging folder left behind
    more = [*TORCHRUN, "-m", "model.train", *train_flags(tiny_corpus, tmp_path, max_epochs=3), "--resume"]
    resumed = subprocess.run(more, cwd=ROOT, env=ONE_THREAD, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and [h["after_epoch"] for h in metrics["run_history"]] == [0, 2]


def test_a_rank_that_dies_leaves_a_resumable_run(tiny_corpus, tmp_path):
    command = [*TORCHRUN, "-m", "model.train", *train_flags(tiny_corpus, tmp_path, max_epochs=400, patience=400)]
    process = subprocess.Popen(command, cwd=ROOT, env=ONE_THREAD, stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / "run" / "last.pt"
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert checkpoint.exists(), "no epoch finished"
    os.kill(rank_process(process.pid, rank=1), 9)
    stderr = process.communicate(timeout=240)[1]
    assert process.returncode != 0 and "model.train" in stderr  # torchrun names the failed command
    assert "another rank stopped or hung" in stderr and "continue with --resume" in stderr  # rank 0's message
    state = torch.load(checkpoint, weights_only=False)  # whole: written beside, then renamed
    model = Translator.load(tmp_path / "model", device="cpu")  # the export is whole too
    assert state["epoch"] >= 1 and model.translate("I see the cat.").text is not None
    assert not (tmp_path / "model.partial").exists() or not (tmp_path / "model").samefile(tmp_path / "model.partial")
    flags = train_flags(tiny_corpus, tmp_path, max_epochs=state["epoch"] + 1)
    resumed = subprocess.run([sys.executable, "-m", "model.train", *flags, "--resume"], cwd=ROOT, capture_output=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]


def rank_process(torchrun: int, rank: int) -> int:
    """The pid of the child of ``torchrun`` that runs ``rank`` (from its environment)."""
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            variables = environ.read_bytes().split(b"\0")
            parent = int((environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if f"RANK={rank}".encode() in variables and parent == torchrun:
            return int(environ.parent.name)
    raise AssertionError(f"no rank {rank} under torchrun {torchrun}")


def test_a_rendezvous_nobody_joins_gives_a_clear_message(tiny_corpus, tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    environment = {**ONE_THREAD, "RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "2"}
    environment |= {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    flags = [*train_flags(tiny_corpus, tmp_path), "--dist-timeout-s", "3"]
    run = subprocess.run([sys.executable, "-m", "model.train", *flags], cwd=ROOT, env=environment, capture_output=True)
    assert run.returncode != 0 and b"could not join the gloo process group" in run.stderr
    assert b"Traceback" not in run.stderr and not (tmp_path / "model").exists()


def test_one_process_is_a_world_of_one():
    batch = (torch.ones(3, 2, dtype=torch.long), torch.tensor([2, 2, 2]), torch.ones(3, 2), torch.ones(3, 2))
    assert distributed.world_size() == 1 and distributed.is_main() and distributed.shard(batch) == (batch, 1.0)
    assert distributed.on_main(lambda x: x + 1, 1) == 2 and distributed.all_sum(1.5, 2) == [1.5, 2]
