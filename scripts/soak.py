"""Memory over time: `newsflow run` fed at half its capacity for --minutes, RSS of every run process.

In one run, on a broker of its own (or --bootstrap-servers) and fresh topics:
  1. capacity: a warm `newsflow run` (default: one process per core) is given a backlog of BBC
     archive articles; articles/s over --capacity-seconds while the backlog lasts (or --rate R
     skips this and feeds R articles/s, a first minute of it before the start);
  2. soak: articles are published at half that rate for --minutes (default 20); RSS of the
     launcher and of each worker process (from /proc) is sampled every minute;
  3. RSS at the start and the end of (2) per process, and the growth (target: under 10%),
     with the articles published, enriched, dead-lettered and the machine's load average;
     then, to tell warm-up from growth that goes on, each process's growth in every 5 minutes
     and from minute --later-start (default 5) to the end. The start-to-end figure stays the
     one against the target. One sample is one instant: a worker's RSS swings by tens of MiB
     with the bundle in hand (up to 100+ MiB on a loaded machine, where backlogs make bundles
     large), so a single end figure carries that noise; the per-minute lines show it.
--memtrace PATH (debugging, off by default): each worker writes reports to PATH.<pid> every
--memtrace-minutes: RSS, Python blocks, live objects by type gained, the story index and
spaCy string store sizes (``pipelines/pipeline/memtrace.py``; NEWSFLOW_MEMTRACE in a run's
environment does the same); --memtrace-frames N adds tracemalloc sites (slow under load).
What is fed: the 2,225 BBC archive articles as they are, then, once they are used up, new texts
made of them: article i of pass k keeps its headline and takes its paragraphs from archive
articles i, i + 97k and i + 194k in turn, under a fresh id. So the story index learns new text
(about 3% are still near copies of a source; a recycled archive would give copies only, which the
index holds for less), while the words are the archive's (real news brings new words for good;
the run drops them at the end of each bundle, in a spaCy memory zone, either way).
Not a test: nothing is asserted; figures move with the machine's load.

usage: python scripts/soak.py [--minutes 20] [--rate R] [--partitions 2] [--no-stories] [--later-start 5]
                             [--memtrace PATH [--memtrace-minutes 5] [--memtrace-frames 0]] [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.io import broker  # noqa: E402
from pipelines.io.kafka_client import make_producer  # noqa: E402
from pipelines.io.topics import ensure_topics  # noqa: E402
from _shared import BBC, DEFAULT_SHARED, require  # noqa: E402

PROGRESS = re.compile(r"progress: (\d+) done = (\d+) enriched \+ (\d+) dead-lettered")
ACCOUNT = re.compile(r"newsflow run: read (\d+) = enriched (\d+) \+ dead-lettered (\d+)")


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (/proc/PID/status VmRSS), None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (every thread's /proc children list)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ValueError):
            pass
    return sorted(set(found))


def run_processes(launcher: int) -> dict[int, str]:
    """The launcher and its `newsflow run` copies (the worker processes): pid -> a label."""
    procs = {launcher: "launcher"}
    for pid in children(launcher):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        worker = next((a.decode() for a in cmdline if a.startswith(b"--worker=")), None)
        if b"run" in cmdline:
            procs[pid] = f"worker {worker.split('=', 1)[1]}" if worker else "child"
    return procs


def free_port_pair() -> int:
    """A port p with p and p+1 free on 127.0.0.1 (the broker and its controller)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and not broker.port_open(port) and not broker.port_open(port + 1):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Run:
    """A `newsflow run` subprocess whose progress lines are followed."""

    def __init__(self, bootstrap: str, topics: tuple[str, str, str], processes: int, log_path: Path,
                 extra: list[str], env: dict[str, str] | None = None):
        raw, enriched, dlq = topics
        args = [sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap, "--input-topic", raw,
                "--output-topic", enriched, "--dlq-topic", dlq, "--group-id", f"soak-{uuid.uuid4().hex[:6]}",
                "--no-avro", "--progress-seconds", "5"]
        if processes:
            args += ["--processes", str(processes)]
        args += extra
        self.log_path = log_path
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=dict(os.environ, **(env or {})))
        self.done = self.enriched = self.dead = 0
        self.account: tuple[int, int, int] | None = None
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def _follow(self) -> None:
        with open(self.log_path, "w") as log:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace")
                log.write(line)
                log.flush()
                if match := PROGRESS.search(line):
                    self.done, self.enriched, self.dead = (int(g) for g in match.groups())
                elif match := ACCOUNT.search(line):
                    self.account = tuple(int(g) for g in match.groups())

    def wait_for(self, done: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.done < done and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.5)
        return self.done >= done

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=10)
        return code


def mixed(articles: list[dict], n: int) -> dict:
    """The n-th article fed: the archive as it is first, then new texts mixed from three of its articles."""
    size = len(articles)
    article, rounds = articles[n % size], n // size
    if rounds == 0:
        return dict(article, id=f"{article.get('id', 'bbc')}-soak{n}")
    # Paragraph p from source p mod 3: about a third of each, so no source is a near copy of the mix.
    sources = [articles[(n + 97 * rounds * k) % size]["body"].split("\n\n") for k in range(3)]
    paragraphs = [sources[p % 3][p] for p in range(max(map(len, sources))) if p < len(sources[p % 3])]
    return dict(article, id=f"{article.get('id', 'bbc')}-mix{rounds}-soak{n}", body="\n\n".join(paragraphs))


class Feeder:
    """Publishes archive articles, then texts mixed from them (``mixed``), each under a fresh id."""

    def __init__(self, bootstrap: str, topic: str, articles: list[dict]):
        self.producer = make_producer(bootstrap, linger_ms=20)
        self.topic, self.articles, self.sent = topic, articles, 0

    def send(self, count: int) -> None:
        for _ in range(count):
            fresh = mixed(self.articles, self.sent)
            self.producer.send(self.topic, key=fresh["id"].encode(), value=json.dumps(fresh).encode())
            self.sent += 1
        self.producer.flush()


def feed_for(feeder: Feeder, run: Run, rate: float, seconds: float) -> None:
    """Publish at ``rate`` articles/s for ``seconds``."""
    began, sent_before = time.monotonic(), feeder.sent
    while time.monotonic() - began < seconds and run.proc.poll() is None:
        due = int((time.monotonic() - began) * rate) - (feeder.sent - sent_before)
        if due > 0:
            feeder.send(due)
        time.sleep(0.2)


def sample(procs: dict[int, str]) -> dict[int, int | None]:
    return {pid: rss_kib(pid) for pid in procs}


def mib(kib: int | None) -> str:
    return "gone" if kib is None else f"{kib / 1024:.0f} MiB"


def report_curve(procs: dict[int, str], curve: list[dict[int, int | None]], later_start: int) -> None:
    """Growth per 5-minute span per process (does it level off?), and from minute ``later_start`` to the end.

    The start-to-end growth stays the figure against the target; the later start is a second
    figure, to tell warm-up (growth that levels off) from growth that goes on.
    """
    for pid, label in procs.items():
        series = [minute.get(pid) for minute in curve]
        if None in series:
            continue
        spans = [f"{(series[min(i + 5, len(series) - 1)] - series[i]) / 1024:+.0f}"
                 for i in range(0, len(series) - 1, 5)]
        print(f"soak: RSS {label} (pid {pid}) growth per 5 minutes: {', '.join(spans)} MiB")
        if 0 < later_start < len(series) - 1:
            before, after = series[later_start], series[-1]
            print(f"soak: RSS {label} (pid {pid}) from minute {later_start} to the end: {mib(before)} -> {mib(after)} "
                  f"({after / before - 1:+.1%})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="length of the soak (default 20)")
    parser.add_argument("--rate", type=float, default=None,
                        help="articles/s to feed (default: half the capacity measured first)")
    parser.add_argument("--capacity-seconds", type=float, default=60.0,
                        help="how long capacity is measured on a backlog (default 60)")
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--processes", type=int, default=0, help="`run --processes` (default 0: one per core)")
    parser.add_argument("--bootstrap-servers", default=None, help="use this broker instead of starting one")
    parser.add_argument("--no-stories", action="store_true",
                        help="run without story assignment (`run --no-stories`): the story index's share of the growth")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--later-start", type=int, default=5, metavar="M",
                        help="also give each process's growth from minute M of the soak to its end (default 5; "
                             "0: not); the growth from the start is the figure against the target")
    parser.add_argument("--memtrace", metavar="PATH", default=None,
                        help="debugging: each worker reports RSS, live objects by type and the story index and spaCy "
                             "string store sizes to PATH.<pid> every --memtrace-minutes (NEWSFLOW_MEMTRACE; "
                             "pipelines/pipeline/memtrace.py)")
    parser.add_argument("--memtrace-minutes", type=float, default=5.0, help="how often (default 5)")
    parser.add_argument("--memtrace-frames", type=int, default=0,
                        help="with N > 0, tracemalloc with N frames too (much slower; default 0: gc object counts only)")
    args = parser.parse_args()
    require(args.shared, BBC)  # exits 2 with one line naming the file when the archive is absent

    articles = [json.loads(line) for line in open(args.shared / BBC, encoding="utf-8")]
    print(f"soak: feeding the {len(articles)} BBC archive articles of {args.shared / BBC}, then new texts mixed "
          f"from three of them each (fresh ids; almost none a near copy of another); stories "
          f"{'off (--no-stories)' if args.no_stories else 'on'}; load average {load()} on {os.cpu_count()} cores",
          flush=True)
    state = Path(tempfile.mkdtemp(prefix="newsflow-soak-"))
    cfg, bootstrap = None, args.bootstrap_servers
    if not bootstrap:
        cfg = broker.BrokerConfig(state_dir=state, port=free_port_pair())
        bootstrap = broker.up(cfg, log=lambda *_: None)
    tag = uuid.uuid4().hex[:6]
    topics = (f"soak.{tag}.raw", f"soak.{tag}.enriched", f"soak.{tag}.dlq")
    run = None
    try:
        ensure_topics(bootstrap, list(topics), partitions=args.partitions)
        feeder = Feeder(bootstrap, topics[0], articles)
        run = Run(bootstrap, topics, args.processes, state / "run.log", ["--no-stories"] if args.no_stories else [],
                  {"NEWSFLOW_MEMTRACE": str(Path(args.memtrace).resolve()),
                   "NEWSFLOW_MEMTRACE_MINUTES": str(args.memtrace_minutes),
                   "NEWSFLOW_MEMTRACE_FRAMES": str(args.memtrace_frames)} if args.memtrace else None)
        feeder.send(args.partitions * 2)  # warm-up: the models load on the first article of each process
        if not run.wait_for(args.partitions * 2, 600):
            print(f"soak: the pipeline enriched nothing within 600 s; see {run.log_path}", file=sys.stderr)
            return 1
        rate = args.rate
        if rate is None:
            # A backlog kept between 100 and 200 articles: the pipeline never waits for input.
            feeder.send(200)
            first, started = run.done, time.monotonic()
            while time.monotonic() - started < args.capacity_seconds:
                if feeder.sent - run.done < 100:
                    feeder.send(100)
                time.sleep(0.5)
            capacity = (run.done - first) / (time.monotonic() - started)
            rate = capacity / 2
            print(f"soak: capacity {capacity:.1f} articles/s over {args.capacity_seconds:.0f} s; "
                  f"feeding {rate:.2f} articles/s", flush=True)
            # Let the rest of the backlog drain before the soak starts, so it is fed at half capacity only.
            run.wait_for(feeder.sent, 600)
        else:
            # No capacity phase to warm the run up: a first minute at the rate, before the start RSS.
            feed_for(feeder, run, rate, 60.0)
            run.wait_for(feeder.sent, 600)
        procs = run_processes(run.proc.pid)
        start_rss, start_load, start_done = sample(procs), load(), run.done
        print(f"soak: {len(procs)} run processes; start RSS: "
              + ", ".join(f"{procs[p]} (pid {p}) {mib(k)}" for p, k in start_rss.items()), flush=True)
        began = time.monotonic()
        end = began + args.minutes * 60
        next_report, sent_at_start = began + 60, feeder.sent
        curve = [start_rss]  # RSS per process at each whole minute of the soak
        while time.monotonic() < end:
            due = int((time.monotonic() - began) * rate) - (feeder.sent - sent_at_start)
            if due > 0:
                feeder.send(due)
            if run.proc.poll() is not None:
                print(f"soak: the run ended early (exit {run.proc.returncode}); see {run.log_path}", file=sys.stderr)
                return 1
            if time.monotonic() >= next_report:
                next_report += 60
                now = sample(procs)
                curve.append(now)
                print(f"soak: {(time.monotonic() - began) / 60:.0f} min: published {feeder.sent - sent_at_start}, "
                      f"done {run.done - start_done}; RSS " + ", ".join(mib(k) for k in now.values())
                      + f"; load {load()}", flush=True)
            time.sleep(0.2)
        end_rss, end_load = sample(procs), load()
        if len(curve) <= args.minutes:
            curve.append(end_rss)  # the last whole minute is the end itself
        published = feeder.sent - sent_at_start
        run.wait_for(feeder.sent, 120)  # the last articles in flight
        done = run.done - start_done
        code = run.stop()
        feeder.producer.close()
        distinct = min(feeder.sent, len(articles))
        print(f"soak: fed {feeder.sent} articles in all: {distinct} from the archive as they are, "
              f"{feeder.sent - distinct} mixed from three of them")
        print(f"soak: {args.minutes:g} min at {rate:.2f} articles/s: published {published}, done {done} "
              f"(in total: {run.enriched} enriched + {run.dead} dead-lettered); run exit {code}; "
              f"load average {start_load} at the start, {end_load} at the end", flush=True)
        if run.account:
            print(f"soak: the run's account: read {run.account[0]} = enriched {run.account[1]} + "
                  f"dead-lettered {run.account[2]}")
        worst = 0.0
        for pid, label in procs.items():
            before, after = start_rss[pid], end_rss[pid]
            if before and after:
                growth = after / before - 1
                worst = max(worst, growth)
                print(f"soak: RSS {label} (pid {pid}): {mib(before)} -> {mib(after)} ({growth:+.1%})")
            else:
                print(f"soak: RSS {label} (pid {pid}): {mib(before)} -> {mib(after)}")
        report_curve(procs, curve, args.later_start)
        total_before = sum(k for k in start_rss.values() if k)
        total_after = sum(k for k in end_rss.values() if k)
        print(f"soak: RSS all run processes: {mib(total_before)} -> {mib(total_after)} "
              f"({total_after / total_before - 1:+.1%}); largest growth of one process {worst:+.1%} "
              f"(target under 10%: {'met' if worst < 0.10 else 'NOT met'})")
        return 0
    finally:
        if run and run.proc.poll() is None:
            run.stop()
        if cfg:
            broker.down(cfg, log=lambda *_: None)


if __name__ == "__main__":
    sys.exit(main())
