"""The run hands memory it has freed back to the system (glibc, the C library of the images newsflow runs on)."""
from pathlib import Path

from pipelines.pipeline.launch import bound_malloc, release_freed_memory


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_freed_between_live_objects_goes_back_to_the_system():
    bound_malloc()
    blocks, live = [], []
    for n in range(100_000):                        # ~150 MB from the heap ...
        blocks.append(bytes(1500) + bytes([n % 256]))
        if n % 50 == 0:
            live.append(bytes(1500) + b"live")      # ... with a live object every 75 KB
    peak = rss_mib()
    del blocks                  # freed, but in holes between live objects: the heap cannot shrink by itself
    held = rss_mib()
    release_freed_memory()
    after = rss_mib()
    assert held - after > 100, (peak, held, after)
    assert len(live) == 2000
