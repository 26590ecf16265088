"""Streaming throughput, latency and process scaling of `newsflow run`, against bare spaCy on every core.

In one run, on the same machine and the same BBC archive articles:
  1. bare spaCy: en_core_web_sm `nlp.pipe` over the articles' titles and bodies (what the
     pipeline runs through spaCy) with n_process = every core: the ceiling;
  2. throughput: a warm `newsflow run` (default: one process per core) is sent --articles
     articles at once on a --partitions topic; articles/s from the first publish to the last
     enriched record read back; the ratio to (1) is the figure to watch (target >= 0.80);
  3. latency: the same pipeline fed at half the throughput measured in (2) for --seconds;
     publish -> enriched p50/p99 (target p99 <= 2 s);
  4. scaling: (2) again with --processes 1, and the ratio of the two throughputs.
Figures move with the machine's load; the ratios less so. Not a test: nothing is asserted.

usage: python scripts/bench_stream.py [--articles 500] [--partitions 6] [--seconds 60] [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
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
from bench_latency import consume_times, percentile  # noqa: E402


def spacy_ceiling(articles, processes: int) -> float:
    """Articles/s of bare nlp.pipe over titles and bodies on ``processes`` processes (after a warm-up)."""
    from pipelines.nlp.ner import load_nlp

    nlp = load_nlp()
    list(nlp.pipe([a["body"] for a in articles[:8]]))
    texts = [t for a in articles for t in (a.get("title") or "", a["body"])]
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=16, n_process=processes):
        pass
    return len(articles) / (time.perf_counter() - started)


class Stream:
    """A running `newsflow run` on fresh topics, warmed up on every partition."""

    def __init__(self, bootstrap, partitions, processes, state: Path):
        self.bootstrap = bootstrap
        run_id = uuid.uuid4().hex[:6]
        self.raw, self.enriched, dlq = f"bench.{run_id}.raw", f"bench.{run_id}.enriched", f"bench.{run_id}.dlq"
        self.partitions = partitions
        ensure_topics(bootstrap, [self.raw, self.enriched, dlq], partitions=partitions)
        self.log_path = state / f"run-{run_id}.log"
        args = [sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap, "--input-topic", self.raw,
                "--output-topic", self.enriched, "--dlq-topic", dlq, "--group-id", f"bench-{run_id}",
                "--no-avro", "--progress-seconds", "30"]
        if processes:
            args += ["--processes", str(processes)]
        self.proc = subprocess.Popen(args, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT, cwd=ROOT)
        self.producer = make_producer(bootstrap, linger_ms=0)
        self.done: dict = {}
        self._reader = None

    def warm_up(self, body: str) -> bool:
        keys = [f"warm-{p}" for p in range(self.partitions)]
        for p, key in enumerate(keys):
            self.producer.send(self.raw, key=key.encode(), partition=p,
                               value=json.dumps({"id": key, "title": "Warm up", "body": body}).encode())
        self.producer.flush()
        consume_times(self.bootstrap, self.enriched, len(keys), time.time() + 300, self.done, lambda m: m.key.decode())
        return len(self.done) == len(keys)

    def expect(self, count: int, deadline: float) -> None:
        """Start reading enriched keys until ``count`` more than the warm-up have arrived."""
        want = len(self.done) + count
        self._reader = threading.Thread(target=consume_times, daemon=True,
                                        args=(self.bootstrap, self.enriched, want, deadline, self.done,
                                              lambda m: m.key.decode()))
        self._reader.start()

    def send(self, article: dict, flush=True) -> float:
        self.producer.send(self.raw, key=article["id"].encode(), value=json.dumps(article).encode())
        if flush:
            self.producer.flush()
        return time.time()

    def wait(self) -> None:
        self._reader.join()

    def close(self) -> None:
        self.producer.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def throughput(stream: Stream, articles, tag: str) -> tuple[float, int]:
    batch = [dict(a, id=f"{tag}-{i}") for i, a in enumerate(articles)]
    stream.expect(len(batch), time.time() + 1800)
    started = time.time()
    for article in batch:
        stream.send(article, flush=False)
    stream.producer.flush()
    stream.wait()
    got = [stream.done[a["id"]] for a in batch if a["id"] in stream.done]
    return len(got) / (max(got) - started) if got else 0.0, len(batch) - len(got)


def latency(stream: Stream, articles, rate: float, seconds: float) -> tuple[list[float], int]:
    count = max(1, int(rate * seconds))
    batch = [dict(articles[i % len(articles)], id=f"lat-{i}") for i in range(count)]
    stream.expect(count, time.time() + seconds + 600)
    sent, started = {}, time.time()
    for i, article in enumerate(batch):
        time.sleep(max(0.0, started + i / rate - time.time()))
        sent[article["id"]] = stream.send(article)
    stream.wait()
    lat = [stream.done[k] - t for k, t in sent.items() if k in stream.done]
    return lat, count - len(lat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the latency run")
    parser.add_argument("--bootstrap-servers", default=None, help="use this broker instead of starting one")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    require(args.shared, BBC)  # exits 2 with one line naming the file when the archive is absent

    articles = [json.loads(line) for line in open(args.shared / BBC, encoding="utf-8")][:args.articles]
    cores = os.cpu_count() or 1
    state = Path(tempfile.mkdtemp(prefix="newsflow-bench-stream-"))
    cfg, bootstrap = None, args.bootstrap_servers
    if not bootstrap:
        cfg = broker.BrokerConfig(state_dir=state, port=19394)
        bootstrap = broker.up(cfg, log=lambda *_: None)
    try:
        ceiling = spacy_ceiling(articles, cores)
        print(f"bare spaCy nlp.pipe (titles + bodies, n_process={cores}): {ceiling:.1f} articles/s "
              f"over {len(articles)} BBC articles", flush=True)
        results = {}
        for processes in (0, 1):
            stream = Stream(bootstrap, args.partitions, processes, state)
            try:
                if not stream.warm_up(articles[0]["body"]):
                    print(f"the pipeline produced nothing within 300 s; see {stream.log_path}", file=sys.stderr)
                    return 1
                rate, missing = throughput(stream, articles, f"tp{processes}")
                label = f"{cores} processes (default)" if processes == 0 else "1 process"
                results[processes] = rate
                print(f"newsflow run, {label}, {args.partitions} partitions: {rate:.1f} articles/s "
                      f"({missing} missing) = {rate / ceiling:.2f} of bare spaCy", flush=True)
                if processes == 0:
                    lat, lost = latency(stream, articles, rate / 2, args.seconds)
                    if lat:
                        print(f"latency at {rate / 2:.1f} articles/s (half capacity) for {args.seconds:.0f} s: "
                              f"p50 {statistics.median(lat) * 1000:.0f} ms, p99 {percentile(lat, 99) * 1000:.0f} ms, "
                              f"max {max(lat) * 1000:.0f} ms ({lost} missing)", flush=True)
            finally:
                stream.close()
        if results.get(1):
            print(f"scaling 1 -> {cores} processes: x{results[0] / results[1]:.2f}")
    finally:
        if cfg:
            broker.down(cfg, log=lambda *_: None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
