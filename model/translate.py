"""Translate English from stdin, one sentence per line.

    echo "Let's go." | python -m model.translate            # -> Vamos.
    python -m model.translate --beam 5 --json < input.txt     # one JSON object per line

Lines are read in batches, so piping a file gets batched greedy throughput.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import islice

from .checkpoint import ModelLoadError
from .translator import Translator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: assets/en-es)")
    parser.add_argument("--beam", type=int, default=1, help="beam size; 1 = greedy")
    parser.add_argument("--json", action="store_true", help="write tokens, attention and steps as JSON lines")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    if args.beam < 1:
        parser.error("--beam must be at least 1")
    try:
        translator = Translator.load(args.model, device=args.device)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    lines = (line.rstrip("\n") for line in sys.stdin)
    while chunk := list(islice(lines, 256)):
        for result in translator.translate_batch(chunk, beam_size=args.beam):
            print(json.dumps(result.to_dict(), ensure_ascii=False) if args.json else result.text, flush=False)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
