"""glibc's heap in a worker: freed memory handed back (pipelines/pipeline/heap.py, issue #13)."""
from __future__ import annotations

from pipelines.pipeline import heap


def rss_kib() -> int:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))


def test_a_trim_hands_back_the_free_pages_inside_the_heap():
    # 40 MiB of blocks under the mmap threshold come from the heap; freeing all but the last
    # leaves them as free memory the process keeps (the last one pins the heap's top).
    blocks = [bytearray(b"x" * 60_000) for _ in range(700)]
    del blocks[:-1]
    kept = rss_kib()
    assert heap.trim()
    assert kept - rss_kib() > 20 * 1024
    assert len(blocks) == 1


def test_the_trimmer_trims_at_most_every_interval():
    now = [0.0]
    trimmer = heap.Trimmer(every_s=10.0, clock=lambda: now[0])
    for t in (1.0, 5.0, 9.9, 10.0, 12.0, 19.0, 20.5):
        now[0] = t
        trimmer.maybe()
    assert trimmer.trims == 2
