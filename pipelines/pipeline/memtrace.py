"""A debugging aid, off by default: where a worker's memory goes over time (issue #13).

With ``NEWSFLOW_MEMTRACE=PATH`` in its environment, each ``newsflow run`` worker process appends
to ``PATH.<pid>`` every ``NEWSFLOW_MEMTRACE_MINUTES`` (default 5): its RSS (anonymous and file
backed), the blocks Python's allocator holds, the gc-tracked objects by type that gained most
since the previous report (after a full collection), and the sizes of the story index and spaCy's
string store. That costs a second or two a report. With ``NEWSFLOW_MEMTRACE_FRAMES=N`` (N > 0) it also runs
``tracemalloc`` with N frames and lists the allocation sites that gained most: much slower (a
loaded worker spends minutes on a snapshot), for finding a leak, not for figures. The first
report is a baseline. The soak script passes these on (``scripts/soak.py --memtrace PATH``).
"""
from __future__ import annotations

import gc
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

TOP = 25
# Objects whose size is worth a line of its own: registered by the steps that hold them.
WATCHED: dict[str, object] = {}


def watch(name: str, obj: object) -> None:
    """Report ``len(obj)`` under ``name`` in each report (a weak hold is not needed: steps live as long as the run)."""
    WATCHED[name] = obj


def rss_kib() -> dict[str, int]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
            fields[line.split(":")[0]] = int(line.split()[1])
    return fields


def object_counts() -> Counter:
    """Live objects by type, after a full collection: cyclic garbage not yet collected (an exception's
    traceback and frames, say) would otherwise count as growth."""
    gc.collect()
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def _sizes() -> str:
    parts = []
    for name, obj in WATCHED.items():
        try:
            parts.append(f"{name} {len(obj)}")
        except TypeError:
            pass
    return ", ".join(parts)


def report(out, previous, began: float):
    snapshot = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    counts = object_counts()
    rss = rss_kib()
    out.write(f"=== {(time.monotonic() - began) / 60:.1f} min: RSS {rss.get('VmRSS', 0) / 1024:.1f} MiB "
              f"(anon {rss.get('RssAnon', 0) / 1024:.1f}, file {rss.get('RssFile', 0) / 1024:.1f}), "
              f"{sys.getallocatedblocks()} Python blocks, {sum(counts.values())} gc objects; {_sizes()}\n")
    if previous is not None:
        old_counts, old_snapshot = previous
        out.write("objects by type, gained since the previous report:\n")
        for name, gained in (counts - old_counts).most_common(TOP):
            out.write(f"  {gained:+9d} {name} (now {counts[name]})\n")
        if snapshot is not None and old_snapshot is not None:
            out.write("allocation sites, gained since the previous report:\n")
            for stat in snapshot.compare_to(old_snapshot, "traceback")[:TOP]:
                out.write(f"  {stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks "
                          f"(now {stat.size / 1024:.1f} KiB)\n")
                for line in stat.traceback.format(most_recent_first=True):
                    out.write(f"      {line}\n")
    out.flush()
    return counts, snapshot


def start(path: str, minutes: float, frames: int = 0) -> threading.Thread:
    """Report on this process to ``PATH.<pid>`` every ``minutes``, in a daemon thread."""
    if frames > 0:
        tracemalloc.start(frames)
    began = time.monotonic()

    def loop():
        with open(f"{path}.{os.getpid()}", "a") as out:
            out.write(f"memtrace of pid {os.getpid()}: every {minutes:g} min, tracemalloc frames {frames}\n")
            previous = None
            while True:
                time.sleep(60 * minutes)
                previous = report(out, previous, began)

    thread = threading.Thread(target=loop, daemon=True, name="memtrace")
    thread.start()
    return thread
