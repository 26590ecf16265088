"""Waiting out a broker outage: bounded retries with back-off, one log line per state change.

kafka-python reconnects by itself, and its producer retries a send until its delivery timeout;
what it does not do is say that the broker is away, or stop waiting. A ``BrokerOutage`` is
this process's view of one broker: up, or away since some moment. Whoever notices first (a
probe of the ``BrokerWatch`` thread, a failed send) reports it, so the change is said once,
however many clients saw it:

    broker 127.0.0.1:9092 unreachable; waiting (gives up after 300 s)
    broker 127.0.0.1:9092 back after 31 s

A broker away longer than ``--broker-timeout-seconds`` ends the process: one line, exit
``EXIT_BROKER_GONE``. Work in flight is not lost by that: ``run`` commits an offset only once
its records are delivered, ``publish`` and ``feeds`` keep article ids, so a re-run sends the
same articles again (consumers de-duplicate on ``id``).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

from pipelines.io.errors import BrokerUnavailable

# EX_UNAVAILABLE of sysexits.h: a service the program needs is not available.
EXIT_BROKER_GONE = 69
T = TypeVar("T")


class BrokerGone(BrokerUnavailable):
    """The broker stayed away longer than the configured time."""


@dataclass(frozen=True)
class Backoff:
    """Exponential delays between attempts: first, first*factor, ... capped at ``most`` seconds."""

    first: float = 0.5
    factor: float = 2.0
    most: float = 10.0

    def delays(self) -> Iterator[float]:
        delay = self.first
        while True:
            yield delay
            delay = min(self.most, delay * self.factor)


class BrokerOutage:
    """Up, or away since a moment: each change is logged once; ``away`` raises BrokerGone past the timeout.

    Thread-safe: the watch thread and the pipeline's clients share one per process.
    """

    def __init__(self, bootstrap: str, timeout_s: float, log: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic):
        if timeout_s <= 0:
            raise ValueError(f"--broker-timeout-seconds must be > 0, not {timeout_s:g}")
        self.bootstrap, self.timeout_s = bootstrap, timeout_s
        self._log, self._clock = log, clock
        self._lock = threading.Lock()
        self._since: float | None = None
        self.outages = 0                 # how many times the broker went away

    @property
    def is_away(self) -> bool:
        return self._since is not None

    def away(self, since: float | None = None) -> None:
        """The broker did not answer (first seen at ``since``, default now): say so the first time;
        raise BrokerGone once it is away too long."""
        with self._lock:
            now = self._clock()
            if self._since is None:
                self._since = now if since is None else since
                self.outages += 1
                self._log(f"broker {self.bootstrap} unreachable; waiting (gives up after {self.timeout_s:g} s)")
            elif now - self._since >= self.timeout_s:
                raise BrokerGone(self.gone_message())

    def back(self) -> None:
        """The broker answered: say so if it had been away."""
        with self._lock:
            if self._since is not None:
                self._log(f"broker {self.bootstrap} back after {self._clock() - self._since:.0f} s")
                self._since = None

    def gone_message(self) -> str:
        return (f"broker {self.bootstrap} unreachable for {self.timeout_s:g} s; giving up "
                f"(--broker-timeout-seconds; exit {EXIT_BROKER_GONE})")


def is_transient(exc: BaseException) -> bool:
    """A Kafka error that a broker coming back would cure: timeouts, lost connections, no coordinator."""
    from kafka.errors import KafkaError

    return isinstance(exc, (BrokerUnavailable, ConnectionError)) or \
        (isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False)))


def retry(call: Callable[[], T], outage: BrokerOutage, transient: Callable[[BaseException], bool] = is_transient,
          backoff: Backoff = Backoff(), sleep: Callable[[float], object] = time.sleep) -> T:
    """``call()`` until it returns: after each ``transient`` error the outage is reported and the next
    back-off delay waited; other errors pass; BrokerGone once the broker is away longer than its timeout."""
    delays = backoff.delays()
    while True:
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - only transient ones are retried, the rest re-raised
            if isinstance(exc, BrokerGone) or not transient(exc):
                raise
            outage.away()
            sleep(next(delays))
            continue
        outage.back()
        return result


def probe(bootstrap: str, timeout_s: float) -> bool:
    """True when the broker answers a metadata request within ``timeout_s``."""
    from pipelines.io.kafka_client import check_broker

    try:
        check_broker(bootstrap, timeout_s=timeout_s)
        return True
    except BrokerUnavailable:
        return False


def give_up(message: str, prefix: str) -> None:
    """End the process now, with one line: its pipeline or producer may be blocked in a wait of
    kafka-python's that nothing else would end (nothing uncommitted or unacknowledged is lost)."""
    print(f"{prefix}{message}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(EXIT_BROKER_GONE)


class BrokerWatch:
    """A daemon thread that probes the broker every ``every_s`` seconds (with back-off while it is
    away), reports changes to ``outage`` and calls ``on_gone(message)`` once it is away too long.

    Two probes in a row must fail before the broker counts as away (from the first of them): on a
    loaded machine one slow answer is not an outage.
    """

    def __init__(self, outage: BrokerOutage, on_gone: Callable[[str], None], every_s: float = 5.0,
                 backoff: Backoff = Backoff(first=1.0, most=5.0),
                 answers: Callable[[str, float], bool] = probe, probe_timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic):
        self._outage, self._on_gone = outage, on_gone
        self._every, self._backoff, self._answers = every_s, backoff, answers
        self._probe_timeout, self._clock = probe_timeout_s, clock
        self._done = threading.Event()
        self._gone = False
        self._thread = threading.Thread(target=self._watch, daemon=True, name="broker-watch")

    def __enter__(self) -> "BrokerWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        # The work may end between two probes, after the broker came back (the last sends were
        # acknowledged): one more probe, so the line that says it is back is not lost.
        if self._outage.is_away and not self._gone and self._answers(self._outage.bootstrap, self._probe_timeout):
            self._outage.back()

    def _watch(self) -> None:
        delays, first_miss = None, None
        while not self._done.is_set():
            started = self._clock()
            if self._answers(self._outage.bootstrap, self._probe_timeout):
                self._outage.back()
                delays, first_miss, wait = None, None, self._every
            else:
                if first_miss is None:
                    first_miss = started
                else:
                    try:
                        self._outage.away(since=first_miss)
                    except BrokerGone as exc:
                        self._gone = True
                        if not self._done.is_set():
                            self._on_gone(str(exc))
                        return
                delays = delays or self._backoff.delays()
                wait = next(delays)
            self._done.wait(wait)


# How much longer than the process's own timeout a client keeps retrying: the process gives up
# first, with its one line, rather than a client's error surfacing as a traceback.
CLIENT_MARGIN_S = 60.0


def producer_waits(timeout_s: float) -> dict:
    """KafkaProducer settings that keep a send (and the wait for buffer space or metadata) retrying
    for as long as the process waits for the broker: a record is never expired while it still may
    be delivered."""
    wait_ms = int((timeout_s + CLIENT_MARGIN_S) * 1000)
    return dict(delivery_timeout_ms=wait_ms, max_block_ms=wait_ms)


def client_outage(bootstrap: str, timeout_s: float) -> BrokerOutage:
    """A silent outage for a client's own retries; the process's ``BrokerWatch`` says the lines and
    gives up first (``CLIENT_MARGIN_S`` earlier)."""
    return BrokerOutage(bootstrap, timeout_s + CLIENT_MARGIN_S, log=lambda _line: None)
