"""Publish-to-enriched latency of `newsflow run` for a stream at a steady rate.

Starts a local broker (or uses --bootstrap-servers), starts `newsflow run` on fresh topics,
publishes BBC archive articles at --rate articles/s for --seconds, and measures for every
article the time from its publish (producer timestamp of the raw message) to the moment
the enriched record is read back by a consumer. Baselines measured in the same run:
  * Kafka alone: publish -> consume of the raw topic (what any consumer pays), and
  * spaCy alone: the mean time en_core_web_sm needs per article (nlp.pipe, one process),
so figures read as ratios that survive a noisy machine.

usage: python scripts/bench_latency.py [--rate 2] [--seconds 60] [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
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
from pipelines.io.kafka_client import make_consumer, make_producer  # noqa: E402
from pipelines.io.topics import ensure_topics  # noqa: E402
from _shared import BBC, DEFAULT_SHARED, require  # noqa: E402


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def consume_times(bootstrap, topic, want, deadline, out: dict, key_of):
    """Record the wall time at which each key is first read from ``topic``."""
    consumer = make_consumer(bootstrap, topic, auto_offset_reset="earliest")
    try:
        while len(out) < want and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                now = time.time()
                for msg in batch:
                    out.setdefault(key_of(msg), now)
    finally:
        consumer.close()


def spacy_baseline(articles, n=40) -> float:
    from pipelines.nlp.ner import load_nlp

    nlp = load_nlp()
    texts = [a["body"] for a in articles[:n]]
    list(nlp.pipe(texts[:4]))  # warm up
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=16):
        pass
    return (time.perf_counter() - started) / len(texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rate", type=float, default=2.0, help="articles per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--bootstrap-servers", default=None, help="use this broker instead of starting one")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    require(args.shared, BBC)

    archive = args.shared / BBC
    articles = [json.loads(line) for line in open(archive, encoding="utf-8")]
    count = int(args.rate * args.seconds)
    state = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    cfg = None
    bootstrap = args.bootstrap_servers
    if not bootstrap:
        cfg = broker.BrokerConfig(state_dir=state, port=19392)
        bootstrap = broker.up(cfg, log=lambda *_: None)
    run_id = uuid.uuid4().hex[:6]
    raw, enriched, dlq = f"bench.{run_id}.raw", f"bench.{run_id}.enriched", f"bench.{run_id}.dlq"
    ensure_topics(bootstrap, [raw, enriched, dlq], partitions=2)
    log = open(state / "run.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap,
                             "--input-topic", raw, "--output-topic", enriched, "--dlq-topic", dlq,
                             "--group-id", f"bench-{run_id}", "--progress-seconds", "5"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        # Warm-up: the pipeline loads its models before the first record flows.
        producer = make_producer(bootstrap, linger_ms=0)
        warm = {"id": f"warmup-{run_id}", "title": "Warm up", "body": articles[0]["body"]}
        producer.send(raw, key=warm["id"].encode(), value=json.dumps(warm).encode())
        producer.flush()
        seen: dict = {}
        consume_times(bootstrap, enriched, 1, time.time() + 180, seen, lambda m: m.key.decode())
        if not seen:
            print("the pipeline produced nothing within 180 s; see", state / "run.log", file=sys.stderr)
            return 1
        print(f"pipeline warm after warm-up article; publishing {count} articles at {args.rate}/s", file=sys.stderr)

        sent: dict = {}
        raw_seen: dict = {}
        done: dict = {}
        deadline = time.time() + args.seconds + 300
        # Both topics also hold the warm-up article: wait for count + 1 keys.
        readers = [threading.Thread(target=consume_times, args=(bootstrap, enriched, count + 1, deadline, done,
                                                                lambda m: m.key.decode())),
                   threading.Thread(target=consume_times, args=(bootstrap, raw, count + 1, deadline, raw_seen,
                                                                lambda m: m.key.decode()))]
        for t in readers:
            t.start()
        started = time.time()
        for i in range(count):
            target = started + i / args.rate
            time.sleep(max(0.0, target - time.time()))
            article = dict(articles[(i + 1) % len(articles)])
            article["id"] = f"{run_id}-{i}"
            sent[article["id"]] = time.time()
            producer.send(raw, key=article["id"].encode(), value=json.dumps(article).encode())
            producer.flush()
        for t in readers:
            t.join()
        producer.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if cfg:
            broker.down(cfg, log=lambda *_: None)

    latencies = [done[k] - sent[k] for k in sent if k in done]
    slowest = sorted(((done[k] - sent[k], int(k.rsplit("-", 1)[1])) for k in sent if k in done), reverse=True)[:3]
    kafka_only = [raw_seen[k] - sent[k] for k in sent if k in raw_seen]
    per_doc = spacy_baseline(articles)
    lost = len(sent) - len(latencies)
    med, p99 = statistics.median(latencies), percentile(latencies, 99)
    print(f"articles: {len(sent)} sent at {args.rate}/s, {len(latencies)} enriched, {lost} missing")
    print(f"publish->enriched latency: median {med * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"p95 {percentile(latencies, 95) * 1000:.0f} ms; slowest articles (index in the stream): "
          + ", ".join(f"#{i} {lat * 1000:.0f} ms" for lat, i in slowest))
    print(f"baseline Kafka publish->consume (same run): median {statistics.median(kafka_only) * 1000:.1f} ms, "
          f"p99 {percentile(kafka_only, 99) * 1000:.1f} ms")
    print(f"baseline spaCy en_core_web_sm per article (same run, one process): {per_doc * 1000:.0f} ms")
    print(f"ratios: median latency = {med / per_doc:.1f}x spaCy-per-article; p99 = {p99 / per_doc:.1f}x; "
          f"enrichment adds {(med - statistics.median(kafka_only)) * 1000:.0f} ms over Kafka alone")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
