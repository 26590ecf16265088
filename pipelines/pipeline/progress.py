"""Progress of a bounded run across worker processes: workers write counts, the launcher reads them.

Beam's DirectRunner reports metrics only when a run ends, and in multi-process mode the
workers are other processes; a small JSON file per worker in a folder both can see is the
simplest channel that works for the local runners (remote runners just show no bar).
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import apache_beam as beam

from pipelines.console import progress_counter


class ReportProgressFn(beam.DoFn):
    """Counts elements of one kind and writes this worker's totals at most once a second."""

    def __init__(self, folder: str, kind: str):
        self._folder = folder
        self._kind = kind
        self._count = 0
        self._path = None
        self._last = 0.0

    def setup(self):
        self._path = Path(self._folder) / f"{self._kind}-{os.getpid()}-{uuid.uuid4().hex[:6]}.json"
        self._count = 0

    def process(self, element):
        self._count += 1
        now = time.monotonic()
        if now - self._last >= 1.0:
            self._write(now)

    def finish_bundle(self):
        self._write(time.monotonic())

    def _write(self, now: float) -> None:
        self._last = now
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"kind": self._kind, "count": self._count}))
        os.replace(tmp, self._path)


def read_progress(folder: str) -> Counter:
    """Sum of every worker's counts by kind."""
    totals = Counter()
    for path in Path(folder).glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced right now; the next read gets it
        totals[data["kind"]] += data["count"]
    return totals


def progress_postfix(counts: Counter) -> dict[str, object]:
    """What the progress line says beside the count: before the first article is done (a minute or
    two, loading the models, on a busy machine), why it is still 0."""
    if not counts["enriched"] + counts["dead"]:
        return {"workers": "load spaCy and the event model, then enrich batch by batch"}
    return {"enriched": counts["enriched"], "dead": counts["dead"]}


class ProgressWatcher:
    """Shows progress (``progress_counter``) from the worker files while the pipeline runs."""

    def __init__(self, folder: str, total: int | None, enabled: bool = True):
        self._folder = folder
        self._total = total
        self._enabled = enabled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._enabled:
            self._thread.join(timeout=5)

    def _loop(self):
        with progress_counter("replay", self._total) as bar:
            done = 0
            while not self._stop.wait(0.5):
                counts = read_progress(self._folder)
                now_done = counts["enriched"] + counts["dead"]
                bar.update(now_done - done)
                bar.set_postfix(refresh=False, **progress_postfix(counts))
                done = now_done
            counts = read_progress(self._folder)
            bar.update(counts["enriched"] + counts["dead"] - done)
