"""Graceful stop on SIGINT/SIGTERM, shared by the long-running commands (``run``, ``feeds``)."""
from __future__ import annotations

import signal
import threading
from typing import Callable


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


class StopOnSignals:
    """The first SIGINT/SIGTERM calls ``on_first(name)`` (finish the current work, then stop);
    a second calls ``on_second()`` (by default: KeyboardInterrupt, stop now). The previous
    handlers come back on exit. Outside the main thread, where Python allows no handlers, it does nothing.
    """

    def __init__(self, on_first: Callable[[str], None], on_second: Callable[[], None] = _raise_interrupt):
        self._on_first = on_first
        self._on_second = on_second
        self._signalled = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopOnSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame) -> None:
        if self._signalled:
            self._on_second()
            return
        self._signalled = True
        self._on_first(signal.Signals(signum).name)

    def __exit__(self, *exc_info) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
