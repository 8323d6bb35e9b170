"""glibc malloc settings, measured on this project's two workloads (no-ops on other C libraries)."""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -2, -3, -8


def _mallopt(*settings: tuple[int, int]) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    for parameter, value in settings:
        libc.mallopt(parameter, value)


def keep_freed_memory() -> None:
    """Training: stop glibc from returning every large freed tensor to the kernel.

    By default each activation over 128 KB is mmap-ed and unmapped again, and
    the page faults cost CPU time in system calls; keeping freed memory in the
    heap makes training steps faster (docs/performance.md).
    """
    _mallopt((M_MMAP_THRESHOLD, 1 << 30), (M_TRIM_THRESHOLD, 1 << 34), (M_TOP_PAD, 1 << 28))


def few_arenas(count: int = 2) -> None:
    """The web app: at most ``count`` malloc arenas, instead of up to 8 per core for its many threads.

    Each thread that allocates gets its own arena by default, and every arena
    keeps its freed memory, so RSS creeps up with many threads translating at
    once; with 2 arenas it stays flat (docs/performance.md). Call it before threads start.
    """
    _mallopt((M_ARENA_MAX, count))
