"""The cost of `newsflow run --exactly-once`: throughput with and without it, same input, same run.

For each mode (at-least-once, the default; exactly-once), alternately and --rounds times: a warm
`newsflow run` (default processes, Avro files on) on fresh --partitions topics is sent --articles
BBC archive articles at once; articles/s from the first publish until the last enriched record
is read back by a read_committed consumer (what an exactly-once reader waits for). Prints each
round, the median of each mode, and the ratio exactly-once / at-least-once. Not a test: figures
move with the machine's load, which is why the modes alternate. ``--short`` uses one-sentence
articles made up here instead (no ../shared needed): the NLP is then cheap and the cost of a
transaction per bundle shows most.

usage: python scripts/bench_exactly_once.py [--articles 300] [--partitions 6] [--rounds 3] [--short]
                                            [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.io import broker  # noqa: E402
from pipelines.io.kafka_client import make_consumer, make_producer  # noqa: E402
from pipelines.io.topics import ensure_topics  # noqa: E402
from _shared import BBC, DEFAULT_SHARED, require  # noqa: E402

MODES = {"at-least-once": [], "exactly-once": ["--exactly-once"]}


def read_keys(bootstrap: str, topic: str, want: set[str], deadline: float) -> dict[str, float]:
    """Wall time at which each wanted key is first read, read_committed, until all are in or time is up."""
    consumer = make_consumer(bootstrap, topic, isolation_level="read_committed")
    seen: dict[str, float] = {}
    try:
        while not want <= seen.keys() and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                now = time.time()
                for message in batch:
                    seen.setdefault(message.key.decode(), now)
    finally:
        consumer.close()
    return seen


def one_round(bootstrap: str, articles: list[dict], partitions: int, mode: str, state: Path) -> float | None:
    """Articles/s of a warm run in ``mode``; None when it produced nothing (its log is named)."""
    tag = uuid.uuid4().hex[:6]
    raw, enriched, dlq = f"eosbench.{tag}.raw", f"eosbench.{tag}.enriched", f"eosbench.{tag}.dlq"
    ensure_topics(bootstrap, [raw, enriched, dlq], partitions=partitions)
    log_path = state / f"run-{mode}-{tag}.log"
    avro_dir = state / f"out-{tag}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap, "--input-topic", raw,
         "--output-topic", enriched, "--dlq-topic", dlq, "--group-id", f"eosbench-{tag}",
         "--avro-dir", str(avro_dir), "--progress-seconds", "30", *MODES[mode]],
        stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, cwd=ROOT)
    producer = make_producer(bootstrap, linger_ms=0)
    try:
        warm = {f"warm-{p}" for p in range(partitions)}
        for p, key in enumerate(sorted(warm)):
            producer.send(raw, key=key.encode(), partition=p,
                          value=json.dumps({"id": key, "title": "Warm up", "body": articles[0]["body"]}).encode())
        producer.flush()
        if not warm <= read_keys(bootstrap, enriched, warm, time.time() + 300).keys():
            print(f"{mode}: the pipeline produced nothing within 300 s; see {log_path}", file=sys.stderr)
            return None
        batch = [dict(a, id=f"{tag}-{i}") for i, a in enumerate(articles)]
        started = time.time()
        for article in batch:
            producer.send(raw, key=article["id"].encode(), value=json.dumps(article).encode())
        producer.flush()
        seen = read_keys(bootstrap, enriched, {a["id"] for a in batch}, time.time() + 1800)
        got = [seen[a["id"]] for a in batch if a["id"] in seen]
        missing = len(batch) - len(got)
        if missing:
            print(f"{mode}: {missing} articles missing after 30 min; see {log_path}", file=sys.stderr)
        return len(got) / (max(got) - started) if got else None
    finally:
        producer.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(avro_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bootstrap-servers", default=None, help="use this broker instead of starting one")
    parser.add_argument("--short", action="store_true", help="one-sentence articles instead of the BBC archive")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    if args.short:
        articles = [{"title": f"Talks {n}", "language": "en",
                     "body": f"The foreign minister met the ambassador in Paris on Monday, meeting {n}."}
                    for n in range(args.articles)]
        kind = "one-sentence"
    else:
        require(args.shared, BBC)  # exits 2 with one line naming the file when the archive is absent
        articles = [json.loads(line) for line in open(args.shared / BBC, encoding="utf-8")][:args.articles]
        kind = "BBC"
    state = Path(tempfile.mkdtemp(prefix="newsflow-bench-eos-"))
    cfg, bootstrap = None, args.bootstrap_servers
    if not bootstrap:
        cfg = broker.BrokerConfig(state_dir=state, port=19396)
        bootstrap = broker.up(cfg, log=lambda *_: None)
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        for round_ in range(1, args.rounds + 1):
            for mode in MODES:
                rate = one_round(bootstrap, articles, args.partitions, mode, state)
                if rate is None:
                    return 1
                rates[mode].append(rate)
                print(f"round {round_}, {mode}: {rate:.1f} articles/s ({len(articles)} {kind} articles, "
                      f"{args.partitions} partitions, Avro on)", flush=True)
    finally:
        if cfg:
            broker.down(cfg, log=lambda *_: None)
    base, eos = (statistics.median(rates[mode]) for mode in MODES)
    ratios = [e / a for a, e in zip(*(rates[mode] for mode in MODES))]
    print(f"median: at-least-once {base:.1f} articles/s, exactly-once {eos:.1f} articles/s; "
          f"exactly-once / at-least-once = {eos / base:.2f} (median of the rounds' ratios "
          f"{statistics.median(ratios):.2f}: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
