"""Every speed figure in one run, each next to its target: the translator, then the page.

    python bench/all.py            # about two minutes on 2 CPU cores

Runs bench/speed.py (latency greedy and beam 5, batched throughput, load time,
peak RSS) and bench/page.py (cold start, API round trip) one after the other,
each in its own process so neither warms the other up. The load test is
separate: python bench/load.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in ("speed.py", "page.py"):
        print(f"\n== bench/{script}", flush=True)
        code = subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]]).returncode
        if code:
            sys.exit(code)
