"""Start ``python app.py`` on a free loopback port for the page benchmarks, and measure it from outside.

Used by bench/page.py, bench/load.py and bench/browser.py; not a benchmark itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, SENTENCE
from gradio_client import Client  # imported up front, so the cold start below times the app, not this import


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process from /proc (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class App:
    url: str
    process: subprocess.Popen
    started: float  # time.perf_counter() just before the process was spawned

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def spawn(model: str | None = None, log: Path | None = None, app_dir: Path = ROOT) -> App:
    """``python app.py --port N`` in ``app_dir`` on 127.0.0.1 (loopback only), not yet waited for."""
    port = free_port()
    environment = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    if model:
        environment["TRANSLATOR_MODEL_DIR"] = model
    sink = open(log or os.devnull, "w")  # noqa: SIM115  (the child keeps writing to it)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=app_dir,
        env=environment,
        stdout=sink,
        stderr=subprocess.STDOUT,
    )
    return App(f"http://127.0.0.1:{port}/", process, started)


def loopback_client(url: str) -> Client:
    """A gradio_client for a plain-http loopback URL.

    ssl_verify=False: gradio_client opens a new httpx connection for every call, and with
    verification on, each one loads the CA bundle: 50 ms of client CPU per request, measured,
    on the same 2 cores as the app. Over http:// on 127.0.0.1 no certificate is ever checked,
    so this only removes the load generator's own overhead from the app's figures.
    """
    return Client(url, verbose=False, ssl_verify=False)


def first_answer(app: App, timeout: float = 120.0) -> tuple[Client, float]:
    """Poll until /translate answers; -> (gradio_client.Client, seconds from spawn to that first answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {app.process.returncode}")
        try:
            client = loopback_client(app.url)
            client.predict(SENTENCE, api_name="/translate")
            return client, time.perf_counter() - app.started
        except Exception:  # not listening yet: connection refused, or config not served yet
            time.sleep(0.05)
    raise RuntimeError(f"no answer from {app.url} within {timeout:.0f} s")
