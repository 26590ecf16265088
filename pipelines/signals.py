"""Graceful stop on SIGINT/SIGTERM, shared by the long-running commands (``run``, ``feeds``)."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


class StopOnSignals:
    """The first SIGINT/SIGTERM calls ``on_first(name)`` (finish the current work, then stop);
    a second calls ``on_second()`` (by default: KeyboardInterrupt, stop now). The previous
    handlers come back on exit; with ``then_ignore``, the signals are ignored from then on instead
    (a process on its way out whose exit handlers must still run). Outside the main thread, where
    Python allows no handlers, it does nothing.
    """

    def __init__(self, on_first: Callable[[str], None], on_second: Callable[[], None] = _raise_interrupt,
                 then_ignore: bool = False):
        self._on_first = on_first
        self._on_second = on_second
        self._then_ignore = then_ignore
        self._signalled = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopOnSignals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def reclaim(self) -> None:
        """Take the handlers back from code that replaced them while inside (Beam's job servers put
        in a SIGINT handler of their own when they start, which stops the server and its job at once)."""
        for sig in self._previous:
            if signal.getsignal(sig) != self._handle:
                signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self._signalled:
            self._on_second()
            return
        self._signalled = True
        self._on_first(signal.Signals(signum).name)

    def __exit__(self, *exc_info) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_IGN if self._then_ignore else handler)
        self._previous.clear()


@contextlib.contextmanager
def children_ignore_sigint(enabled: bool = True) -> Iterator[None]:
    """Processes started inside (Beam's local job servers, such as Prism) ignore SIGINT; so does this one meanwhile.

    A terminal's Ctrl-C goes to its whole foreground process group. Beam starts Prism in ours,
    and a Go program exits on SIGINT: Prism would be gone before the launcher could stop its
    job and read the job's metrics. An ignored signal stays ignored across exec (and Go keeps
    it so), so Prism started here leaves Ctrl-C to the launcher, which stops the job through
    the runner; Prism itself is stopped when the launcher exits. The previous handler comes back
    on exit (a Ctrl-C while inside, the few seconds a job takes to be submitted, is lost).
    """
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
