"""Delivery guarantees under ``kill -9``: exactly-once (``--exactly-once``) and the at-least-once bound.

Both tests start ``newsflow run`` as a subprocess against the session's real broker, kill it
with SIGKILL at points picked by a seeded RNG, restart it, and finish with ``--until-end``.
Run with ``-s`` to see the figures (published, enriched, dead-lettered, duplicated, lost).
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from pipelines import avro
from pipelines.io.avro_files import TRANSACTIONS_FOLDER
from pipelines.io.consume import read_avro_dir
from pipelines.io.kafka_client import make_consumer, make_producer
from pipelines.io.topics import ensure_topics
from tests.pipeline.test_stream import REPO, Topics

pytestmark = pytest.mark.integration

PARTITIONS = 3
# Payloads that must each end as one dead letter.
BAD = [b"{not json", b"\xff\xfe\xfa", b"[1, 2]", b'{"title": "no body"}', b'{"body": ""}',
       b'{"body": "fine", "published_at": "not a date"}']
PEOPLE = ["Marta Quintela", "Rui Faria", "Angela Merkel", "Emmanuel Macron", "Olaf Scholz", "Joe Biden",
          "Narendra Modi", "Lula da Silva", "Cyril Ramaphosa", "Fumio Kishida"]
PLACES = ["Lisbon", "Berlin", "Paris", "Madrid", "Nairobi", "Tokyo", "Brasilia", "Ottawa", "Canberra", "Delhi"]
VERBS = ["met", "criticized", "praised", "accused", "visited"]


def short_articles(count: int, prefix: str) -> list[dict]:
    """Short English articles (one or two sentences: quick to annotate) over a few publication hours."""
    rng = random.Random(7)
    articles = []
    for n in range(count):
        a, b = rng.sample(PEOPLE, 2)
        body = f"{a} {rng.choice(VERBS)} {b} in {rng.choice(PLACES)} on Monday. Talks will resume next week."
        articles.append({"id": f"{prefix}-{n:04d}", "title": f"Talks in {rng.choice(PLACES)}", "body": body,
                         "language": "en", "source": "Test Wire",
                         "published_at": f"2026-11-30T{n % 4:02d}:{n % 60:02d}:00Z"})
    return articles


def publish(bootstrap: str, topic: str, payloads: list[bytes]) -> None:
    producer = make_producer(bootstrap)
    for n, value in enumerate(payloads):
        producer.send(topic, key=f"k{n}".encode(), value=value, partition=n % PARTITIONS)
    producer.flush()
    producer.close()


def start(bootstrap: str, topics: Topics, group: str, log_path: Path, *extra: str) -> subprocess.Popen:
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap,
         "--input-topic", topics.raw, "--output-topic", topics.enriched, "--dlq-topic", topics.dlq,
         "--group-id", group, "--progress-seconds", "2", "--relist-seconds", "0", *extra],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


class TopicReader:
    """Every record of the enriched and dead-letter topics so far, as a consumer with ``isolation`` sees them."""

    def __init__(self, bootstrap: str, topics: Topics, isolation: str):
        self._consumer = make_consumer(bootstrap, topics.enriched, topics.dlq, isolation_level=isolation)
        self._topics = topics
        self.enriched: list[dict] = []
        self.dead: list[dict] = []

    def poll(self, seconds: float = 0.5) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for batch in self._consumer.poll(timeout_ms=200).values():
                for message in batch:
                    kind = self.enriched if message.topic == self._topics.enriched else self.dead
                    kind.append(avro.decode(message.value))
        return len(self.enriched) + len(self.dead)

    def close(self) -> None:
        self._consumer.close()


def kill_at_random_points(bootstrap, topics, group, tmp_path, rng, reader, kills, extra, total) -> list[int]:
    """Start, kill -9 once a random number of further outputs is seen plus a random pause; return the kill counts."""
    seen_at_kill = []
    for kill in range(kills):
        proc = start(bootstrap, topics, group, tmp_path / f"run{kill}.log", *extra)
        try:
            target = min(reader.poll(0) + rng.randint(30, 120), total - 20)
            deadline = time.monotonic() + 300
            while reader.poll() < target and time.monotonic() < deadline:
                assert proc.poll() is None, (tmp_path / f"run{kill}.log").read_text()[-3000:]
            time.sleep(rng.uniform(0.0, 1.5))  # anywhere in a bundle, a transaction, or between them
        finally:
            proc.send_signal(signal.SIGKILL)  # the launcher's worker copies die with it (PR_SET_PDEATHSIG)
            proc.wait(timeout=30)
        seen_at_kill.append(reader.poll(1))
    return seen_at_kill


def finish(bootstrap, topics, group, tmp_path, extra) -> str:
    """A last run to the end of the input (--until-end): it must exit 0; returns its log."""
    log_path = tmp_path / "final.log"
    proc = start(bootstrap, topics, group, log_path, "--until-end", *extra)
    try:
        code = proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = log_path.read_text()
    assert code == 0, log[-3000:]
    return log


def test_exactly_once_three_kill_9_restarts_no_loss_no_duplicate(kafka_broker, tmp_path):
    topics = Topics(f"eos{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=PARTITIONS)
    articles = short_articles(520, "eos")
    payloads = [json.dumps(a).encode() for a in articles]
    for n, bad in enumerate(BAD):  # spread over the input, so some sit in the transactions cut by kills
        payloads.insert(60 + n * 80, bad)
    publish(kafka_broker, topics.raw, payloads)
    avro_dir = tmp_path / "out"
    extra = ["--exactly-once", "--avro-dir", str(avro_dir), "--processes", "2", "--max-poll-records", "50"]
    committed = TopicReader(kafka_broker, topics, "read_committed")
    uncommitted = TopicReader(kafka_broker, topics, "read_uncommitted")
    try:
        seen = kill_at_random_points(kafka_broker, topics, "eos", tmp_path, random.Random(2026), committed,
                                     3, extra, len(payloads))
        log = finish(kafka_broker, topics, "eos", tmp_path, extra)
        committed.poll(3)
        uncommitted.poll(3)
    finally:
        committed.close()
        uncommitted.close()

    want = {a["id"] for a in articles}
    ids = Counter(r["id"] for r in committed.enriched)
    originals = Counter(bytes(d["original"]) for d in committed.dead)
    files = Counter(r["id"] for r in read_avro_dir(str(avro_dir)))
    duplicated = sum(n - 1 for n in ids.values()) + sum(n - 1 for n in originals.values())
    lost = len(want - set(ids)) + len(set(BAD) - set(originals))
    aborted = len(uncommitted.enriched) + len(uncommitted.dead) - len(committed.enriched) - len(committed.dead)
    print(f"\nexactly-once, 3 x kill -9 (after {seen} committed outputs) + a final --until-end run: "
          f"published {len(payloads)} ({len(articles)} articles + {len(BAD)} bad payloads); read_committed: "
          f"enriched {len(committed.enriched)}, dead-lettered {len(committed.dead)}, duplicated {duplicated}, "
          f"lost {lost}; Avro files: {sum(files.values())} records, {sum(n - 1 for n in files.values())} "
          f"duplicated; aborted records visible only to read_uncommitted: {aborted}")
    assert lost == 0 and duplicated == 0, (ids.most_common(3), originals.most_common(3), log[-2000:])
    assert set(ids) == want and len(committed.dead) == len(BAD)
    assert set(files) == want and max(files.values()) == 1, files.most_common(3)
    # The kills cut the stream: each restart resumed from committed offsets, none started over.
    assert 0 < seen[0] <= seen[1] <= seen[2] < len(payloads)
    # Nothing of the crashed transactions is left behind in the Avro folder.
    leftovers = [p for p in avro_dir.rglob("*") if p.is_file() and (p.name.startswith(".") or
                                                                    TRANSACTIONS_FOLDER in p.parts)]
    assert leftovers == []


def test_at_least_once_duplicates_after_kill_9_stay_within_one_bundle_per_partition(kafka_broker, tmp_path):
    topics = Topics(f"alo{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=PARTITIONS)
    articles = short_articles(240, "alo")
    publish(kafka_broker, topics.raw, [json.dumps(a).encode() for a in articles])
    poll_records, kills = 10, 2
    extra = ["--no-avro", "--processes", "1", "--max-poll-records", str(poll_records)]
    reader = TopicReader(kafka_broker, topics, "read_uncommitted")
    try:
        kill_at_random_points(kafka_broker, topics, "alo", tmp_path, random.Random(11), reader, kills, extra,
                              len(articles))
        finish(kafka_broker, topics, "alo", tmp_path, extra)
        reader.poll(3)
    finally:
        reader.close()
    ids = Counter(r["id"] for r in reader.enriched)
    duplicated = sum(n - 1 for n in ids.values())
    lost = len({a["id"] for a in articles} - set(ids))
    # The documented bound: per kill, the bundle in flight in each process, which holds at most one
    # poll (--max-poll-records) of each partition the process reads.
    bound = kills * PARTITIONS * poll_records
    print(f"\nat-least-once, {kills} x kill -9: published {len(articles)}, enriched {len(reader.enriched)}, "
          f"duplicated {duplicated} (bound {kills} kills x {PARTITIONS} partitions x {poll_records} "
          f"records per poll = {bound}), lost {lost}")
    assert lost == 0
    assert duplicated <= bound, ids.most_common(5)
