"""Shared by the web tests (loaded with ``pytest_plugins = ["web_support"]``, so session fixtures run once).

Fixtures: ``web_setup`` (model folders), ``app`` (the imported app module), ``live_app`` (``python app.py``).

Model folders: $TRANSLATOR_MODEL_DIR if set, else the shipped assets/en-es, else the smoke-trained tiny model;
the no-attention baseline is the shipped assets/en-es-noattn, else a tiny no-attention model trained in seconds.
Nothing here depends on translation quality.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "assets" / "en-es"
SHIPPED_NOATTN = ROOT / "assets" / "en-es-noattn"
START_TIMEOUT = 90.0  # seconds; start-up is ~5 s on an idle 2-core machine, slower while models train

# Run app.py with an audit hook that reports every connection or name lookup leaving the machine.
NETWORK_WATCH = """
import runpy, sys
LOCAL = ("127.0.0.1", "::1", "localhost", "0.0.0.0")
def watch(event, args):
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in LOCAL:
        print("OUTBOUND connect", args[1], file=sys.stderr, flush=True)
    if event == "socket.getaddrinfo" and args[0] not in LOCAL:
        print("OUTBOUND lookup", args[0], file=sys.stderr, flush=True)
sys.addaudithook(watch)
sys.argv = ["app.py", *sys.argv[1:]]
runpy.run_path("app.py", run_name="__main__")
"""


def is_model(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def fake_length_analysis() -> dict:
    """Made-up numbers in length_analysis.json's format, for tests only (never written into assets/)."""

    def report(attention: str, bleu: list[float]) -> dict:
        buckets = [
            {"words": w, "bleu": b, "chrf": b + 20, "sentences": 300} for w, b in zip(["1-5", "6-10", "11+"], bleu)
        ]
        return {"attention": attention, "test_split": {"overall": {"bleu": sum(bleu) / 3}, "buckets": buckets}}

    models = {"en-es": report("cosine", [40.0, 33.0, 25.0]), "en-es-noattn": report("none", [37.0, 26.0, 12.0])}
    return {"beam_size": 1, "min_bucket": 100, "models": models}


@dataclass(frozen=True)
class WebSetup:
    model: Path
    baseline: Path
    length_analysis: Path

    def environment(self) -> dict[str, str]:
        return {
            "TRANSLATOR_MODEL_DIR": str(self.model),
            "TRANSLATOR_BASELINE_DIR": str(self.baseline),
            "TRANSLATOR_LENGTH_ANALYSIS": str(self.length_analysis),
            "GRADIO_ANALYTICS_ENABLED": "False",
        }


def _tiny_baseline(request: pytest.FixtureRequest) -> Path:
    from conftest import tiny_train_settings

    from model.config import TrainConfig
    from model.train import fit

    corpus = request.getfixturevalue("tiny_corpus")
    work = request.getfixturevalue("tmp_path_factory").mktemp("tiny-noattn")
    fit(TrainConfig(**tiny_train_settings(corpus, work, attention="none", max_epochs=2, final_beam=0)))
    return work / "model"


@pytest.fixture(scope="session")
def web_setup(request, tmp_path_factory) -> WebSetup:
    chosen = os.environ.get("TRANSLATOR_MODEL_DIR")
    model = Path(chosen) if chosen else SHIPPED if is_model(SHIPPED) else request.getfixturevalue("tiny_model")
    baseline = SHIPPED_NOATTN if is_model(SHIPPED_NOATTN) else _tiny_baseline(request)
    analysis = tmp_path_factory.mktemp("analysis") / "length_analysis.json"
    analysis.write_text(json.dumps(fake_length_analysis()), encoding="utf-8")
    return WebSetup(model, baseline, analysis)


@pytest.fixture(scope="session")
def app(web_setup):
    """The app module, loaded once against the chosen folders (it reads its environment at import)."""
    saved = dict(os.environ)
    os.environ.update(web_setup.environment())
    try:
        import app as module
    finally:  # other tests' subprocesses must not inherit the fake length analysis
        os.environ.clear()
        os.environ.update(saved)
    torch.set_num_threads(1)  # tests share the cores
    return module


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveApp:
    url: str
    process: subprocess.Popen
    log: Path

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _wait_until_up(live: LiveApp) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if live.process.poll() is not None:
            raise RuntimeError(f"app.py exited with {live.process.returncode}:\n{live.stderr()[-3000:]}")
        try:
            with urllib.request.urlopen(live.url + "config", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"app.py did not answer within {START_TIMEOUT:.0f} s:\n{live.stderr()[-3000:]}")


def start_app(setup: WebSetup, log: Path, extra_env: dict[str, str] | None = None) -> LiveApp:
    """``python app.py --port N`` on loopback (under the network watch), ready to answer."""
    port = free_port()
    environment = {**os.environ, **setup.environment(), **(extra_env or {})}
    with open(log, "w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", NETWORK_WATCH, "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    live = LiveApp(f"http://127.0.0.1:{port}/", process, log)
    try:
        _wait_until_up(live)
    except RuntimeError:
        stop_app(live)
        raise
    return live


def stop_app(live: LiveApp) -> None:
    if live.process.poll() is None:
        live.process.terminate()
        try:
            live.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            live.process.kill()


@pytest.fixture(scope="session")
def live_app(web_setup, tmp_path_factory):
    """One server for every web test module of the run."""
    live = start_app(web_setup, tmp_path_factory.mktemp("live") / "app.log")
    yield live
    stop_app(live)
