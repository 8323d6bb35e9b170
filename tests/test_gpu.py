"""Training and decoding on CUDA: float32 and bf16 autocast training, float32 decoding, never the int8 CPU kernels.

Skipped without a CUDA device (CI, this 2-core machine); bench/gpu.py runs them on a GPU machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from conftest import ROOT, SHIPPED, tiny_train_settings
from sentences import FOUNDING

from model import Translator
from model.translator import resolve_device

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

SENTENCES = [
    "Let's go.",
    "I think we should leave before it starts to rain.",
    FOUNDING,
    "Where is the station?",
    "She gave the book to her brother yesterday.",
    "",
    "<b>x</b> 😀",
]


def test_auto_picks_cuda():
    assert resolve_device("auto").type == "cuda"


def test_decoding_on_cuda_is_float32_and_agrees_with_the_cpu():
    gpu = Translator.load(SHIPPED, device="auto")  # int8 is asked for by default and must be refused on CUDA
    cpu = Translator.load(SHIPPED, device="cpu", int8=False)
    assert gpu.device.type == "cuda" and not gpu.int8 and gpu.inference.compiled_step is None
    assert next(gpu.model.parameters()).dtype == torch.float32
    for beam in (1, 5):
        on_gpu = [t.text for t in gpu.translate_batch(SENTENCES, beam_size=beam)]
        on_cpu = [t.text for t in cpu.translate_batch(SENTENCES, beam_size=beam)]
        same = sum(a == b for a, b in zip(on_gpu, on_cpu))
        assert same >= len(SENTENCES) - 1, (on_gpu, on_cpu)  # float rounding may flip one near-tie, no more
    details = gpu.translate("Let's go.")
    assert details.attention is not None and abs(float(details.attention.sum(1).mean()) - 1) < 1e-4


@pytest.mark.parametrize("bf16", [False, True])
def test_training_on_cuda(tiny_corpus, tmp_path, bf16):
    from model.config import TrainConfig
    from model.train import fit

    settings = tiny_train_settings(tiny_corpus, tmp_path, device="cuda", bf16=bf16, max_epochs=6, final_beam=2)
    metrics = fit(TrainConfig(**settings))
    losses = [curve["train_loss"] for curve in json.loads((tmp_path / "model" / "curves.json").read_text())]
    assert losses[-1] < losses[0] and "+" in metrics["hardware"]  # the GPU is named
    assert Translator.load(tmp_path / "model", device="cuda").translate("I see the cat.").text


def test_cli_translates_on_cuda():
    run = subprocess.run(
        [sys.executable, "-m", "model.translate", "--device", "cuda", "--workers", "2", "--chunk-lines", "2"],
        input="\n".join(SENTENCES) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 0 and run.stdout.count("\n") == len(SENTENCES), run.stderr[-2000:]


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="NCCL needs one GPU per rank")
def test_two_ranks_on_two_gpus(tiny_corpus, tmp_path):
    from test_distributed import train_flags

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m"]
    command += ["model.train", *train_flags(tiny_corpus, tmp_path, device="cuda", max_epochs=2)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["world_size"] == 2
