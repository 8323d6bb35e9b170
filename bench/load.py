"""Many visitors at once: concurrent gradio_client users against the real app on 127.0.0.1.

    python bench/load.py                           # 20 users for 60 s, shipped model
    python bench/load.py --users 5 --seconds 10    # a short run

Starts ``python app.py`` on a free loopback port, translates each sentence once sequentially (the reference),
then lets every user loop over the sentences until the time is up (or --max-requests per user).
Users are threads spread over --processes client processes, so a single client process, held to one core
by the GIL, does not measure itself rather than the app; their clients skip the per-call CA-bundle load
(see server.loopback_client), which cost 50 ms of CPU per request on the app's cores.
Reports requests served, errors (target 0), answers that differ from the sequential ones (target 0),
p50/p95/p99 latency (target p95 <= 1 s) and the app's RSS growth from /proc (target <= 50 MB).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from common import SENTENCES, percentile, print_table
from server import Client, first_answer, loopback_client, rss_mb, spawn

P95_TARGET_S = 1.0
RSS_GROWTH_TARGET_MB = 50.0


@dataclass
class Tally:
    """What some users saw; threads append under the lock, processes merge their tallies at the end."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    mismatches: int = 0
    seconds: float = 0.0  # how long this tally's users ran

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.errors.update(other.errors)
        self.mismatches += other.mismatches
        self.seconds = max(self.seconds, other.seconds)


@dataclass(frozen=True)
class Plan:
    url: str
    reference: dict[str, str]  # sentence -> sequential answer
    seconds: float
    max_requests: int


def user(plan: Plan, index: int, client: Client, deadline: float, tally: Tally, lock: threading.Lock) -> None:
    for request in range(plan.max_requests):
        if time.monotonic() >= deadline:
            return
        sentence = SENTENCES[(index + request) % len(SENTENCES)]
        start = time.perf_counter()
        try:
            text, _ = client.predict(sentence, api_name="/translate")
        except Exception as error:
            with lock:
                tally.errors[type(error).__name__] += 1
            continue
        elapsed = time.perf_counter() - start
        with lock:
            tally.latencies.append(elapsed)
            tally.mismatches += text != plan.reference[sentence]


def run_users(plan: Plan, indices: list[int]) -> Tally:
    """One client process: connect its users first, then run them all for ``plan.seconds``."""
    tally, lock = Tally(), threading.Lock()
    clients = {}
    for index in indices:
        try:
            clients[index] = loopback_client(plan.url)
        except Exception as error:
            tally.errors[f"connect: {type(error).__name__}"] += 1
    started = time.monotonic()
    deadline = started + plan.seconds
    threads = [
        threading.Thread(target=user, args=(plan, index, client, deadline, tally, lock))
        for index, client in clients.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=plan.seconds + 120)
    tally.seconds = time.monotonic() - started
    return tally


def watch_memory(pid: int, stop: threading.Event, peak: list[float]) -> None:
    while not stop.wait(0.5):
        peak[0] = max(peak[0], rss_mb(pid))


def run_load(plan: Plan, users: int, processes: int) -> Tally:
    groups = [list(range(users))[p::processes] for p in range(processes)]
    total = Tally()
    # spawn, not fork: the parent's gradio_client already runs background threads
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        for tally in pool.map(run_users, [plan] * processes, groups):
            total.merge(tally)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=4, help="client processes the users are spread over")
    parser.add_argument("--max-requests", type=int, default=10_000, help="per user; bounds the loop besides time")
    parser.add_argument("--model", default=None, help="model folder (default: assets/en-es)")
    args = parser.parse_args()

    app = spawn(args.model)
    try:
        client, _ = first_answer(app)
        reference = {s: client.predict(s, api_name="/translate")[0] for s in SENTENCES}  # sequential answers
        rss_before = rss_mb(app.process.pid)
        peak, stop = [rss_before], threading.Event()
        threading.Thread(target=watch_memory, args=(app.process.pid, stop, peak), daemon=True).start()
        plan = Plan(app.url, reference, args.seconds, args.max_requests)
        tally = run_load(plan, args.users, max(1, min(args.processes, args.users)))
        stop.set()
        rss_after = rss_mb(app.process.pid)
    finally:
        app.stop()
    report(args, tally, rss_before, rss_after, peak[0])


def report(args, tally: Tally, rss_before: float, rss_after: float, rss_peak: float) -> None:
    served, errors, growth = len(tally.latencies), sum(tally.errors.values()), rss_after - rss_before
    p95 = percentile(tally.latencies, 95)
    p50 = statistics.median(tally.latencies) if served else float("nan")
    print(f"{args.users} users in {args.processes} client processes for {args.seconds:g} s, loopback")
    print_table(
        [
            ("requests served", f"{served}", "", None),
            ("throughput (requests/s)", f"{served / max(tally.seconds, 1e-9):.1f}", "", None),
            ("errors", f"{errors}", "0", errors == 0),
            ("answers differing from sequential", f"{tally.mismatches}", "0", tally.mismatches == 0),
            ("latency p50 (s)", f"{p50:.3f}", "", None),
            ("latency p95 (s)", f"{p95:.3f}", f"<= {P95_TARGET_S:g}", p95 <= P95_TARGET_S),
            ("latency p99 (s)", f"{percentile(tally.latencies, 99):.3f}", "", None),
            ("app RSS before / after (MB)", f"{rss_before:.0f} / {rss_after:.0f}", "", None),
            ("app RSS peak (MB)", f"{rss_peak:.0f}", "", None),
            ("app RSS growth (MB)", f"{growth:.1f}", f"<= {RSS_GROWTH_TARGET_MB:g}", growth <= RSS_GROWTH_TARGET_MB),
        ]
    )
    for kind, count in tally.errors.most_common():
        print(f"  error {kind}: {count}")


if __name__ == "__main__":
    main()
