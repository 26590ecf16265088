"""glibc's heap in a long-running worker: freed memory goes back to the system (issue #13).

A worker allocates and frees large blocks for every bundle (spaCy's arrays for a long article,
the classifier's matrices). glibc raises its mmap threshold each time such a block is freed, so
later ones come from the heap, and freed heap memory stays in the process: a worker's RSS swung
by +-30 MiB from one minute to the next in a 20-minute soak while the memory in use stayed flat.
Two settings keep it near what is in use: a fixed mmap threshold (blocks of 128 KiB and more are
mapped and unmapped, as glibc starts out) and a ``malloc_trim`` at most every ``TRIM_EVERY_S``
seconds after a bundle, which returns free pages inside the heap as well as at its top.

Both are no-ops where the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import time

M_MMAP_THRESHOLD = -3   # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD = 128 * 1024
TRIM_EVERY_S = 10.0


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Blocks of ``threshold`` bytes and more are mmap'ed and unmapped when freed; True if set."""
    return bool(_LIBC is not None and _LIBC.mallopt(M_MMAP_THRESHOLD, threshold) == 1)


def trim() -> bool:
    """Hand the heap's free pages back to the system; True if any were."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0) == 1)


class Trimmer:
    """``trim()`` at most every ``every_s`` seconds (call it after each bundle)."""

    def __init__(self, every_s: float = TRIM_EVERY_S, clock=time.monotonic):
        self.every_s, self.clock = every_s, clock
        self.last = clock()
        self.trims = 0

    def maybe(self) -> None:
        now = self.clock()
        if now - self.last >= self.every_s:
            trim()
            self.last = now
            self.trims += 1
