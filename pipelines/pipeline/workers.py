"""``newsflow run`` on every core: one worker process per core, supervised by the launcher.

Beam's embedded runner runs a streaming pipeline's bundles one after another in one Python
process (the GIL and the FnApiRunner's single worker), so one ``run`` uses one core however
many partitions it reads. The launcher therefore starts K copies of itself with
``--processes 1``; copy k of worker ``I/N`` runs as worker ``(I + N*k)/(N*K)``, which reads
exactly the partitions p with p mod N == I and (p // N) mod K == k: this worker's share, split
again, with no coordination and no partition read twice. Each copy is a whole pipeline with
its own commits, which the commit protocol (``pipelines.io.offsets``) allows.

The launcher relays the first Ctrl-C / SIGTERM to every copy (they run in their own session,
so a terminal's Ctrl-C reaches only the launcher and is not seen twice), forwards their lines,
sums their progress lines and their closing accounts into the one account line of a run.
Copies die with the launcher (PR_SET_PDEATHSIG on Linux): a ``kill -9`` of the launcher
must not leave readers of its partitions behind when it is restarted. With ``--health-file
PATH``, copy k reports to ``PATH.k`` (``pipelines.health``): one file per process, so one
stuck process is seen.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from pipelines.health import part_path

ACCOUNT = re.compile(r"newsflow run: read (\d+) = enriched (\d+) \+ dead-lettered (\d+) \((.*)\); stopped after")
PROGRESS = re.compile(r"progress: (\d+) done = (\d+) enriched \+ (\d+) dead-lettered")
# A copy's own banner and stop notices: the launcher says these once for all of them.
OWN_LINES = re.compile(r"newsflow run: (\S+ -> |\S+ received, |second signal, |stopped after)")
# A copy's broker outage lines (``pipelines.io.retry``): every copy sees the same outage; said once.
BROKER_STATE = re.compile(r"newsflow run: broker \S+ (unreachable;|back after|unreachable for)")
WORKER_FLAGS = ("--worker", "--processes", "--health-file")


def sub_worker(worker: tuple[int, int], k: int, processes: int) -> str:
    """Copy k of K of worker (I, N) as a worker of its own: ``I + N*k`` of ``N*K``."""
    index, count = worker
    return f"{index + count * k}/{count * processes}"


def without_flags(argv: list[str], names=WORKER_FLAGS) -> list[str]:
    """``argv`` minus the given flags and their values (``--flag V`` or ``--flag=V``)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in names:
            skip = "=" not in arg
            continue
        out.append(arg)
    return out


def flag_value(argv: list[str], name: str) -> str | None:
    """The last value given to ``name`` in ``argv`` (``--flag V`` or ``--flag=V``), or None."""
    value = None
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def parse_reasons(text: str) -> Counter:
    """``MalformedJSON 1, NotUTF8 2`` (or ``none``) -> Counter."""
    reasons = Counter()
    if text != "none":
        for item in text.split(", "):
            name, _, count = item.rpartition(" ")
            reasons[name] += int(count)
    return reasons


@dataclass
class CopyState:
    """What one copy has reported so far."""

    enriched: int = 0
    dead: int = 0
    account: tuple[int, Counter] | None = None
    counted: bool = True                 # False when the copy's runner reported no counts
    lines: list[str] = field(default_factory=list)


def _pdeathsig() -> None:
    """In the child, before exec: die with the parent (Linux); elsewhere nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Copies:
    """K copies of ``newsflow run`` as a group: start, relay a stop, sum their accounts."""

    def __init__(self, argv: list[str], worker: tuple[int, int], processes: int, log: Callable[[str], None]):
        self._log = log
        self._lock = threading.Lock()
        self._states = [CopyState() for _ in range(processes)]
        self._broker_state = None  # the kind of the last broker line said
        base = without_flags(argv)
        health_file = flag_value(argv, "--health-file")
        self._procs = [subprocess.Popen(
            [sys.executable, "-m", "pipelines", "run", *base,
             f"--worker={sub_worker(worker, k, processes)}", "--processes=1",
             *([f"--health-file={part_path(health_file, k)}"] if health_file else [])],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_pdeathsig) for k in range(processes)]
        self._readers = [threading.Thread(target=self._forward, args=(k,), daemon=True, name=f"copy-{k}")
                         for k in range(processes)]
        for reader in self._readers:
            reader.start()

    def _forward(self, k: int) -> None:
        state = self._states[k]
        for raw in self._procs[k].stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                if match := ACCOUNT.match(line):
                    read, enriched, _, reasons = match.groups()
                    state.account = (int(enriched), parse_reasons(reasons))
                elif line.startswith("newsflow run: stopped after"):
                    state.counted = False
                elif OWN_LINES.match(line):
                    pass
                elif match := BROKER_STATE.match(line):
                    if match.group(1) != self._broker_state:
                        self._broker_state = match.group(1)
                        self._log(line)
                elif match := PROGRESS.match(line):
                    state.enriched, state.dead = int(match.group(2)), int(match.group(3))
                    enriched = sum(s.enriched for s in self._states)
                    dead = sum(s.dead for s in self._states)
                    self._log(f"progress: {enriched + dead} done = {enriched} enriched + {dead} dead-lettered "
                              f"({len(self._procs)} processes)")
                else:
                    self._log(line)

    def stop(self, sig=signal.SIGTERM) -> None:
        """Relay a stop to every copy still running."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(sig)

    def wait(self) -> list[int]:
        """Wait for every copy; if one fails, the others are stopped (drained) too."""
        codes = [None] * len(self._procs)
        while None in codes:
            for k, proc in enumerate(self._procs):
                if codes[k] is None:
                    try:
                        codes[k] = proc.wait(timeout=0.5)
                    except subprocess.TimeoutExpired:
                        continue
                    if codes[k] != 0:
                        self.stop()
        for reader in self._readers:
            reader.join(timeout=10)
        return codes

    def account(self) -> tuple[int, Counter] | None:
        """The sum of the copies' closing accounts; None if any copy's runner gave none."""
        enriched, dead = 0, Counter()
        for state in self._states:
            if not state.counted or state.account is None:
                return None
            enriched += state.account[0]
            dead.update(state.account[1])
        return enriched, dead


def default_processes(requested: int, owned_partitions: int) -> int:
    """K: as asked, else one per core; never more than the partitions to share (at least 1)."""
    wanted = requested if requested > 0 else (os.cpu_count() or 1)
    return max(1, min(wanted, owned_partitions))
