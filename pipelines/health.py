"""Health of a running ``newsflow run`` for probes: the run keeps a small JSON file up to date
(``--health-file PATH``) and ``newsflow health --file PATH`` judges it, exiting 0 or 1.

The file says what the run is doing (``state``), when it last moved (``updated_at``) and what
it has delivered. Its beat comes from the delivery step, at every record and every bundle: the
reader's bundles come round several times a second even on an idle topic, so a file that stops
changing means the pipeline has stopped moving. That is the point of a liveness probe: a timer
thread would go on beating in a process whose pipeline is wedged, and a process that died is
seen by the kubelet without any probe. A file read by an exec probe (Kubernetes) or a
healthcheck (Compose) needs no port, server thread or dependency in every worker process, and
works the same whatever the container runtime.

With ``--processes K`` the launcher's file says ``supervising`` and each process writes its own
part, ``PATH.0`` .. ``PATH.K-1``; the run is healthy only when every part is, so one stuck
process is seen. The file means something only where the pipeline runs in the run's own
processes: the embedded DirectRunner and Prism. On Flink or Dataflow the DoFns beat on the
runner's machines; use the runner's own monitoring there.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

LOG = logging.getLogger(__name__)

STARTING = "starting"        # flags checked; broker, topics, pipeline and models still to come
READING = "reading"          # the pipeline runs: the delivery step beats
WAITING = "waiting"          # no partition of this worker exists yet (more workers than partitions)
SUPERVISING = "supervising"  # a launcher of K processes: health is that of its parts
STOPPED = "stopped"          # the run ended
READY = (READING, WAITING)
DEFAULT_MAX_AGE = 60.0


def part_path(path: str, k: int) -> str:
    """The health file of process k of a run with ``--processes K``."""
    return f"{path}.{k}"


@dataclass(frozen=True)
class HealthFile:
    """Where one run process reports, and as which worker; written whole and atomically each time."""

    path: str
    worker: str = "0/1"

    @classmethod
    def of(cls, path: str | None, worker: str) -> "HealthFile | None":
        # Absolute: Beam's worker threads or processes may not share the launcher's working folder.
        return cls(os.path.abspath(path), worker) if path else None

    def write(self, state: str, now: float | None = None, **facts) -> None:
        data = {"state": state, "worker": self.worker, "pid": os.getpid(),
                "updated_at": round(time.time() if now is None else now, 3), **facts}
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)


def report(path: str | None, worker: str, state: str, **facts) -> None:
    """The launcher's reports (starting, waiting, stopped): nothing without ``--health-file``.

    The first report is written before any work, so an unwritable path is refused at once
    (one-line ValueError) instead of leaving a probe to fail later for no visible reason.
    """
    health = HealthFile.of(path, worker)
    if health is None:
        return
    try:
        if state == SUPERVISING:
            for k in range(facts["processes"]):  # a previous run's parts must not answer for this one
                if os.path.exists(part_path(health.path, k)):
                    os.remove(part_path(health.path, k))
        health.write(state, **facts)
    except OSError as exc:
        raise ValueError(f"--health-file {path}: cannot write it: {exc.strerror or exc}") from None


class Heartbeat:
    """The delivery step's beat: ``reading``, with what was delivered, at most once every ``every`` s.

    A failed write is logged, never raised: the pipeline goes on delivering, and the file goes
    stale, which is what a probe of a run that cannot report should see.
    """

    def __init__(self, health: HealthFile, every: float = 1.0, clock: Callable[[], float] = time.time):
        self._health = health
        self._every = every
        self._clock = clock
        self._written = float("-inf")
        self._delivered = 0
        self._last_delivery: float | None = None

    def beat(self, delivered: int) -> None:
        now = self._clock()
        if delivered != self._delivered:
            self._delivered, self._last_delivery = delivered, now
        if now - self._written < self._every:
            return
        self._written = now
        try:
            self._health.write(READING, now=now, delivered=delivered, last_delivery_at=self._last_delivery)
        except OSError as exc:
            LOG.warning("cannot write the health file %s: %s", self._health.path, exc)


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    line: str


def _ago(now: float, then: float | None) -> str:
    return "never" if then is None else f"{max(0.0, now - then):.1f}s ago"


def judge(path: str, max_age: float = DEFAULT_MAX_AGE, ready: bool = False, now: float | None = None) -> Verdict:
    """Healthy (live): the file was rewritten within ``max_age`` s and the run has not stopped.
    Ready (``ready=True``): also reading (or waiting for a partition of its own to appear)."""
    now = time.time() if now is None else now
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        state, updated = data["state"], float(data["updated_at"])
    except FileNotFoundError:
        return Verdict(False, f"{path}: no health file (the run has not started, or has no --health-file)")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return Verdict(False, f"{path}: unreadable health file ({exc})")
    if state == STOPPED:
        return Verdict(False, f"{path}: stopped {_ago(now, updated)}")
    if state == SUPERVISING:
        parts = [judge(part_path(path, k), max_age, ready, now) for k in range(int(data.get("processes", 0)))]
        sick = [part for part in parts if not part.healthy]
        if sick or not parts:
            return Verdict(False, sick[0].line if sick else f"{path}: supervising no process")
        return Verdict(True, f"{path}: {len(parts)} processes, each healthy")
    age = now - updated
    if age > max_age:
        return Verdict(False, f"{path}: stale: {state}, last beat {age:.1f}s ago (more than {max_age:g}s): "
                              "the pipeline is not moving")
    if ready and state not in READY:
        return Verdict(False, f"{path}: not ready: {state} ({_ago(now, updated)})")
    delivered = "" if "delivered" not in data else (
        f", {data['delivered']} delivered, last delivery {_ago(now, data.get('last_delivery_at'))}")
    return Verdict(True, f"{path}: {state}, worker {data.get('worker')}, last beat {_ago(now, updated)}{delivered}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsflow health",
        description="Is a running `newsflow run --health-file PATH` healthy? Exit 0 if so, 1 if not, with one "
                    "line saying why; for liveness/readiness probes (Kubernetes exec probes, Compose healthchecks).")
    parser.add_argument("--file", required=True, metavar="PATH", help="the run's --health-file")
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE, metavar="S",
                        help="unhealthy when the run has not rewritten the file for S seconds (default 60)")
    parser.add_argument("--ready", action="store_true",
                        help="readiness: also require the pipeline to be reading (not still starting)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verdict = judge(args.file, args.max_age, args.ready)
    if verdict.healthy:
        print(f"healthy: {verdict.line}")
        return 0
    print(f"newsflow health: unhealthy: {verdict.line}", file=sys.stderr)
    return 1
