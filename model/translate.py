"""Translate English from stdin to Spanish on stdout, one line out for every line in.

    echo "Let's go." | python -m model.translate                              # -> Vayamos.
    python -m model.translate --workers 2 < english.txt > spanish.txt         # a large file, 2 processes
    python -m model.translate --beam 5 --json < input.txt                     # one JSON object per line

Input of any size streams through in constant memory: lines are read in chunks, each chunk is translated in
length-sorted batches, and results are written in input order. Every input line (blank, garbage, invalid UTF-8,
over-long) gives exactly one output line, the same whatever --workers is. A progress bar goes to a terminal's stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from io import TextIOWrapper
from itertools import islice
from multiprocessing import get_context

import torch
from tqdm import tqdm

from .checkpoint import ModelLoadError
from .search import COVERAGE_BETA
from .translator import MAX_INPUT_CHARS, Translator

# Lines translated together. Chunks fix which sentences share a batch (int8 decoding rounds per batch), so the same
# chunking in every worker count keeps the output byte-identical; 512 lines give length-sorted batches of 64 little
# padding, and a chunk's results are all that is held in memory per worker.
CHUNK_LINES = 512
CHUNKS_IN_FLIGHT_PER_WORKER = 2  # enough to keep every worker busy while the parent writes; bounds memory


def read_lines(stream: TextIOWrapper, max_chars: int = MAX_INPUT_CHARS) -> Iterator[str]:
    """Lines without their newline; a longer line is cut to ``max_chars`` (the translator reads no further) and its
    rest skipped unread into memory, so one enormous line costs no more than a short one."""
    while line := stream.readline(max_chars + 1):
        if line.endswith("\n"):
            yield line[:-1][:max_chars]
            continue
        yield line[:max_chars]
        if len(line) > max_chars:  # cut: skip to the end of this line
            while (rest := stream.readline(max_chars)) and not rest.endswith("\n"):
                pass


def chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, size)):
        yield chunk


def format_chunk(
    translator: Translator, lines: list[str], beam: int, as_json: bool, beta: float = COVERAGE_BETA
) -> str:
    """The output of a chunk: one line per input line (a translation never spans lines)."""
    results = translator.translate_batch(lines, beam_size=beam, beta=beta)
    if as_json:
        rows = [json.dumps(result.to_dict(), ensure_ascii=False) for result in results]
    else:
        rows = [" ".join(result.text.splitlines()) for result in results]
    return "".join(row + "\n" for row in rows)


_worker_translator: Translator | None = None  # the model of this worker process


def _load_worker(model: str | None, device: str, threads: int) -> None:
    global _worker_translator
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent alone handles it
    torch.set_num_threads(threads)
    _worker_translator = Translator.load(model, device=device)


def _worker_chunk(lines: list[str], beam: int, as_json: bool, beta: float) -> str:
    return format_chunk(_worker_translator, lines, beam, as_json, beta)


def translated_chunks(args, lines: Iterable[str], chunk_size: int) -> Iterator[tuple[int, str]]:
    """(lines read, output text) per chunk, in input order; --workers > 1 translates chunks in parallel processes."""
    if args.workers == 1:
        translator = Translator.load(args.model, device=args.device)
        for chunk in chunks(lines, chunk_size):
            yield len(chunk), format_chunk(translator, chunk, args.beam, args.json, args.coverage_penalty)
        return
    threads = max(1, torch.get_num_threads() // args.workers)
    initargs = (args.model, args.device, threads)
    # spawn: a forked child would inherit this process's torch thread pools
    with ProcessPoolExecutor(args.workers, get_context("spawn"), initializer=_load_worker, initargs=initargs) as pool:
        pending: deque[tuple[int, Future]] = deque()
        try:
            for chunk in chunks(lines, chunk_size):
                submitted = pool.submit(_worker_chunk, chunk, args.beam, args.json, args.coverage_penalty)
                pending.append((len(chunk), submitted))
                if len(pending) >= args.workers * CHUNKS_IN_FLIGHT_PER_WORKER:
                    count, future = pending.popleft()
                    yield count, future.result()
            while pending:
                count, future = pending.popleft()
                yield count, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def progress_bar(stdin: TextIOWrapper) -> tqdm:
    """On a terminal's stderr: bytes of a file read (with an ETA), or lines of a pipe. Off when stderr is piped, and
    when the input is typed (the bar would mix with the answers)."""
    disable = not sys.stderr.isatty() or stdin.isatty()
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):
        mode = 0
    if stat.S_ISREG(mode):
        size = os.fstat(stdin.fileno()).st_size
        return tqdm(total=size, unit="B", unit_scale=True, desc="translating", disable=disable, mininterval=1)
    return tqdm(unit=" lines", desc="translating", disable=disable, mininterval=1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: assets/en-es)")
    parser.add_argument("--beam", type=int, default=1, help="beam size; 1 = greedy (batched, fastest)")
    parser.add_argument(
        "--coverage-penalty",
        type=float,
        default=COVERAGE_BETA,
        metavar="BETA",
        help=f"beam only: how much a translation that leaves source words unattended is ranked down "
        f"(default {COVERAGE_BETA}; 0 = off)",
    )
    parser.add_argument("--json", action="store_true", help="write tokens, attention and steps as JSON lines")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--workers", type=int, default=1, help="processes translating in parallel (default 1)")
    parser.add_argument("--chunk-lines", type=int, default=CHUNK_LINES, help=f"lines per chunk (default {CHUNK_LINES})")
    args = parser.parse_args(argv)
    if args.beam < 1:
        parser.error("--beam must be at least 1")
    if not 0 <= args.coverage_penalty <= 10:
        parser.error("--coverage-penalty must lie in 0..10")
    if not 1 <= args.workers <= 256:
        parser.error("--workers must lie in 1..256")
    if args.chunk_lines < 1:
        parser.error("--chunk-lines must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available (use --device cpu or auto)")
    return args


def check_model(args: argparse.Namespace) -> None:
    """Workers load the model themselves; a broken folder is reported here, once, before any starts."""
    if args.workers > 1:
        Translator.load(args.model, device="cpu", int8=False)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Lines end at "\n" only (a lone "\r" or U+2028 is not a line break for wc or the caller); bytes that are not
    # UTF-8 become U+FFFD instead of stopping the run.
    stdin = TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
    stdout = TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    chunk_size = 1 if stdin.isatty() else args.chunk_lines  # typed lines are answered at once
    bar = progress_bar(stdin)
    try:
        check_model(args)
        with closing(translated_chunks(args, read_lines(stdin), chunk_size)) as outputs:
            for count, text in outputs:
                stdout.write(text)
                stdout.flush()
                bar.update(max(0, os.lseek(stdin.fileno(), 0, os.SEEK_CUR) - bar.n) if bar.total else count)
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenProcessPool:
        print("error: a worker process died (out of memory, or killed); its output is lost", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader left (`| head -1`): stop quietly, as cat does. stdout now points at /dev/null so that the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the status of a command ended by a closed pipe
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        bar.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
