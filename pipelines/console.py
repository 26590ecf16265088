"""Progress on the console: a bar on a terminal, plain count lines on a pipe or in a log.

A bar's carriage returns make a log unreadable, and a bar closed with ``leave=False`` on a pipe
leaves ``0art [00:00, ?art/s]`` behind; so the bar is drawn only where a person watches it.
"""
from __future__ import annotations

import sys
import time


class PlainCounter:
    """A count line every ``every`` seconds and one at the end: progress for logs and pipes."""

    def __init__(self, desc: str, total: int | None, unit: str, every: float, stream):
        self._desc, self._total, self._unit, self._every, self._stream = desc, total, unit, every, stream
        self._count = 0
        self._started = self._last = time.monotonic()
        self._postfix = ""

    def update(self, n: int = 1) -> None:
        self._count += n
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._line(now)

    def set_postfix(self, refresh: bool = True, **values) -> None:
        self._postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def _line(self, now: float) -> None:
        of = f"/{self._total}" if self._total is not None else ""
        rate = self._count / max(now - self._started, 1e-9)
        extra = f" ({self._postfix})" if self._postfix else ""
        print(f"{self._desc}: {self._count}{of} {self._unit} at {rate:.1f}/s{extra}", file=self._stream, flush=True)

    def close(self) -> None:
        if self._count and time.monotonic() - self._started >= self._every:
            self._line(time.monotonic())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SilentCounter(PlainCounter):
    def _line(self, now: float) -> None:
        pass


def progress_counter(desc: str, total: int | None = None, unit: str = "article(s)", enabled: bool = True,
                     every: float = 10.0, stream=None):
    """A tqdm bar when ``stream`` (default stderr) is a terminal, else plain count lines; nothing if disabled."""
    stream = stream or sys.stderr
    if not enabled:
        return SilentCounter(desc, total, unit, every, stream)
    if stream.isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="art", file=stream, smoothing=0.1, leave=False)
    return PlainCounter(desc, total, unit, every, stream)
