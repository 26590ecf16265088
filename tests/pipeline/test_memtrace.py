"""The NEWSFLOW_MEMTRACE debugging aid: its reports name what grew, by type and by watched size."""
from __future__ import annotations

import io
import tracemalloc

from pipelines.pipeline import memtrace


class Hoard:
    pass


def test_report_names_the_objects_that_grew_and_the_watched_sizes():
    kept = []
    memtrace.watch("test hoard", kept)
    out = io.StringIO()
    first = memtrace.report(out, None, 0.0)
    kept.extend(Hoard() for _ in range(5000))
    memtrace.report(out, first, 0.0)
    text = out.getvalue()
    assert "test hoard 0" in text and "test hoard 5000" in text
    gained = [line for line in text.splitlines() if line.strip().endswith("Hoard (now 5000)")]
    assert gained and int(gained[0].split()[0]) == 5000
    assert "RSS" in text and "Python blocks" in text
    memtrace.WATCHED.pop("test hoard")


def test_with_frames_the_report_lists_the_allocation_sites_that_grew():
    tracemalloc.start(4)
    try:
        out = io.StringIO()
        first = memtrace.report(out, None, 0.0)
        kept = [bytearray(1024) for _ in range(2000)]  # ~2 MiB from this line
        memtrace.report(out, first, 0.0)
    finally:
        tracemalloc.stop()
    text = out.getvalue()
    assert "allocation sites, gained since the previous report:" in text
    assert "test_memtrace.py" in text.split("allocation sites")[1].split("\n      ")[1]
    assert len(kept) == 2000
