"""Running newsflow on Prism as on a remote runner, and checking what a run leaves behind.

Beam's Prism runner runs the Python SDK harness in the launcher's process by default
(LOOPBACK), where the launcher's memory and disk are the workers' too. Flink and Dataflow run
it elsewhere. The tests do the same here: Beam's SDK worker pool runs in a process of its own
(as beside Flink's task managers) and the jobs use it (``--environment_type=EXTERNAL``).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def prism_binary():
    """Beam's Prism runner built by `make prism` (`make test` builds it where Go is installed), else None."""
    for candidate in (os.environ.get("NEWSFLOW_PRISM"), REPO / ".venv" / "bin" / "prism"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def prism_args(pool_address: str) -> list[str]:
    """Beam flags: the Prism runner, its SDK harness out of the launcher's process, in the pool."""
    return ["--runner=PrismRunner", f"--prism_location={prism_binary()}",
            "--environment_type=EXTERNAL", f"--environment_config={pool_address}"]


class WorkerPool:
    """Beam's SDK worker pool (``worker_pool_main``) as a process of its own; it starts one worker per job."""

    def __init__(self, log_path: Path, cwd: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # The pool starts each worker as `python -c ...`: the `python` found first on PATH.
        env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={self.port}"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        deadline = time.monotonic() + 60
        while not _port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the SDK worker pool did not start; see {log_path}")
            time.sleep(0.2)

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    def workers(self) -> set[int]:
        return children(self.proc.pid)

    def close(self) -> None:
        for pid in self.workers():  # none, if every job ended as it should (the tests check that)
            os.kill(pid, signal.SIGKILL)
        self.proc.terminate()  # it does not stop on SIGINT; SIGTERM ends it at once
        self.proc.wait(timeout=30)
        self._log.close()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _parents() -> dict[int, list[int]]:
    """pid -> its children, for every live (not zombie) process."""
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            out.setdefault(int(ppid), []).append(int(entry))
    return out


def children(pid: int) -> set[int]:
    return set(_parents().get(pid, []))


def descendants(pid: int) -> set[int]:
    parents, found, todo = _parents(), set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (zombies do not count)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def wait_until_gone(pids_of, timeout_s: float = 30) -> set[int]:
    """Wait until ``pids_of()`` is empty; return what is left when time runs out."""
    deadline = time.monotonic() + timeout_s
    while (left := pids_of()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left
