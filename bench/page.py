"""The web page from outside: cold start and request round trip through the real HTTP API.

    python bench/page.py                         # shipped model, 50 calls
    python bench/page.py --calls 200 --model /tmp/sanity

Cold start: spawning ``python app.py --port N`` -> first successful /translate answer (target <= 5 s).
Round trip: gradio_client ``predict(..., api_name="/translate")`` for a 10-word sentence (target p50 <= 100 ms
on 2 CPU cores), next to the same call as plain HTTP (POST /gradio_api/call/translate, then its event stream) and
the model's own time, so the web overhead shows. gradio_client polls for results every 50 ms, which plain HTTP does not.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from common import ROOT, SENTENCE, percentile, print_table
from server import first_answer, rss_mb, spawn

COLD_START_TARGET_S = 5.0
P50_TARGET_MS = 100.0


def model_only_ms(model: str | None, calls: int) -> list[float]:
    """The translator alone, in this process, with the app's thread count."""
    sys.path.insert(0, str(ROOT))
    import torch

    from model import Translator

    torch.set_num_threads(int(os.environ.get("TRANSLATOR_THREADS", "1")))
    translator = Translator.load(model, device="cpu")
    for _ in range(3):
        translator.translate(SENTENCE)
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        translator.translate(SENTENCE)
        samples.append(1000 * (time.perf_counter() - start))
    return samples


def round_trips_ms(client, calls: int) -> list[float]:
    for _ in range(3):  # warm-up
        client.predict(SENTENCE, api_name="/translate")
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        client.predict(SENTENCE, api_name="/translate")
        samples.append(1000 * (time.perf_counter() - start))
    return samples


def http_round_trips_ms(url: str, calls: int) -> list[float]:
    """The same request without gradio_client: Gradio's REST "call" API, as curl would use it."""
    import httpx

    def call(http: httpx.Client) -> str:
        event = http.post("gradio_api/call/translate", json={"data": [SENTENCE, "Greedy", 5, 100]}).json()["event_id"]
        with http.stream("GET", f"gradio_api/call/translate/{event}") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and line[5:].strip().startswith("["):
                    return json.loads(line[5:])[0]
        raise RuntimeError("no result in the event stream")

    with httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(3):
            call(http)
        samples = []
        for _ in range(calls):
            start = time.perf_counter()
            call(http)
            samples.append(1000 * (time.perf_counter() - start))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: assets/en-es)")
    parser.add_argument("--calls", type=int, default=50, help="round trips to time")
    args = parser.parse_args()

    app = spawn(args.model)
    try:
        client, cold_start = first_answer(app)
        trips = round_trips_ms(client, args.calls)
        http_trips = http_round_trips_ms(app.url, args.calls)
        memory = rss_mb(app.process.pid)
    finally:
        app.stop()
    alone = model_only_ms(args.model, args.calls)

    p50, p95, model_p50 = statistics.median(trips), percentile(trips, 95), statistics.median(alone)
    print(f"sentence: {SENTENCE!r}; {os.cpu_count()} CPU cores; {args.calls} calls each")
    print_table(
        [
            (
                "cold start to first answer (s)",
                f"{cold_start:.2f}",
                f"<= {COLD_START_TARGET_S:g}",
                cold_start <= COLD_START_TARGET_S,
            ),
            ("API round trip p50 (ms)", f"{p50:.1f}", f"<= {P50_TARGET_MS:g}", p50 <= P50_TARGET_MS),
            ("API round trip p95 (ms)", f"{p95:.1f}", "", None),
            ("plain HTTP round trip p50 (ms)", f"{statistics.median(http_trips):.1f}", "", None),
            ("plain HTTP round trip p95 (ms)", f"{percentile(http_trips, 95):.1f}", "", None),
            ("model alone p50 (ms)", f"{model_p50:.1f}", "", None),
            ("API minus model p50 (ms)", f"{p50 - model_p50:.1f}", "", None),
            ("app RSS after the calls (MB)", f"{memory:.0f}", "", None),
        ]
    )


if __name__ == "__main__":
    main()
