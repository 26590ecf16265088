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
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines import avro
from pipelines.io.avro_files import TRANSACTIONS_FOLDER
from pipelines.io.consume import read_avro_dir
from pipelines.io.delivery import ENRICHED as ENRICHED_KIND, DeliveryConfig, TransactionalDelivery
from pipelines.io.kafka_client import make_consumer, make_producer
from pipelines.io.topics import ensure_topics
from pipelines.pipeline.enrich import READ_FROM
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
    articles = short_articles(150, "alo")
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


# ---- the transaction protocol step by step, with a crash at each point (no NLP: quick)

class Killed(BaseException):
    """A ``kill -9`` at this point: nothing after it runs, not even the abort of the transaction."""


def raise_killed(*_args, **_kwargs):
    raise Killed()


PROVENANCE = {"pipeline_version": "test", "spacy_model": "none", "spacy_model_version": "0",
              "event_model_version": "0", "processed_at": datetime(2026, 12, 1, tzinfo=timezone.utc)}


def enriched_at(topic: str, offset: int) -> dict:
    """The enriched record of source offset ``offset`` of partition 0, as the pipeline hands it to delivery."""
    return {"id": f"r{offset}", "body": f"Body {offset}.", "published_at": None, "entities": [], "events": [],
            "provenance": PROVENANCE, "kafka": {"topic": topic, "partition": 0, "offset": offset},
            READ_FROM: offset}


def eos_delivery(bootstrap: str, topic: str, tmp_path: Path) -> TransactionalDelivery:
    return TransactionalDelivery(DeliveryConfig(
        bootstrap_servers=bootstrap, output_topic=f"{topic}.out", dlq_topic=f"{topic}.dlq",
        avro_dir=str(tmp_path / "avro"), commit_group="eos-steps", transactional_id=f"newsflow-test-{topic}"),
        log=None)


def output_ids(bootstrap: str, topic: str, isolation: str) -> Counter:
    consumer = make_consumer(bootstrap, f"{topic}.out", isolation_level=isolation)
    ids = Counter()
    try:
        for _ in range(8):
            for batch in consumer.poll(timeout_ms=400).values():
                ids.update(avro.decode(m.value)["id"] for m in batch)
    finally:
        consumer.close()
    return ids


def group_offset(bootstrap: str, topic: str) -> int | None:
    from kafka import TopicPartition

    consumer = make_consumer(bootstrap, group_id="eos-steps")
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()


def avro_ids(tmp_path: Path) -> Counter:
    folder = tmp_path / "avro"
    return Counter(r["id"] for r in read_avro_dir(str(folder))) if folder.exists() else Counter()


def hidden_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "avro").rglob("*")
            if p.is_file() and (p.name.startswith(".") or not p.name.endswith(".avro"))]


def test_a_crash_inside_the_transaction_is_aborted_by_the_successor_and_redelivered_once(kafka_broker, topic_name,
                                                                                          tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"], partitions=1)
    first = eos_delivery(kafka_broker, topic_name, tmp_path)
    for offset in range(5):
        first.write(ENRICHED_KIND, enriched_at(topic_name, offset))
    first._producer.commit_transaction = raise_killed  # the records are sent and the files staged, then death
    with pytest.raises(Killed):
        first.flush_and_commit()
    first._producer.flush()
    assert hidden_files(tmp_path)  # pending Avro files and the manifest
    assert avro_ids(tmp_path) == Counter()

    second = eos_delivery(kafka_broker, topic_name, tmp_path)  # fences the first, aborts its transaction
    assert hidden_files(tmp_path) == [] and avro_ids(tmp_path) == Counter()
    for offset in range(3):  # the restart cuts the same offsets into other ranges
        second.write(ENRICHED_KIND, enriched_at(topic_name, offset))
    second.flush_and_commit()
    for offset in range(3, 5):
        second.write(ENRICHED_KIND, enriched_at(topic_name, offset))
    second.flush_and_commit()

    want = Counter({f"r{n}": 1 for n in range(5)})
    assert output_ids(kafka_broker, topic_name, "read_committed") == want
    assert output_ids(kafka_broker, topic_name, "read_uncommitted") == want + want  # the aborted ones are there
    assert avro_ids(tmp_path) == want and hidden_files(tmp_path) == []
    assert group_offset(kafka_broker, topic_name) == 5
    # The fenced predecessor can commit nothing more.
    del first._producer.commit_transaction
    with pytest.raises(Exception):
        first.write(ENRICHED_KIND, enriched_at(topic_name, 5))
        first.flush_and_commit()
    assert output_ids(kafka_broker, topic_name, "read_committed") == want


def test_a_crash_between_the_commit_and_the_rename_is_rolled_forward(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"], partitions=1)
    first = eos_delivery(kafka_broker, topic_name, tmp_path)
    for offset in range(4):
        first.write(ENRICHED_KIND, enriched_at(topic_name, offset))
    first._avro.publish = raise_killed  # committed, then death before the pending files are renamed
    with pytest.raises(Killed):
        first.flush_and_commit()
    assert avro_ids(tmp_path) == Counter() and hidden_files(tmp_path)
    assert group_offset(kafka_broker, topic_name) == 4

    second = eos_delivery(kafka_broker, topic_name, tmp_path)
    want = Counter({f"r{n}": 1 for n in range(4)})
    assert avro_ids(tmp_path) == want and hidden_files(tmp_path) == []
    # A reader that resumed from a stale offset hands over records below the commit: dropped.
    for offset in range(4):
        second.write(ENRICHED_KIND, enriched_at(topic_name, offset))
    second.flush_and_commit()
    assert output_ids(kafka_broker, topic_name, "read_committed") == want
    assert avro_ids(tmp_path) == want


def test_exactly_once_is_refused_on_a_runner_of_its_own_and_bad_poll_sizes_are_refused():
    from tests.cli.helpers import newsflow, one_line_error

    line = one_line_error(newsflow("run", "--exactly-once", "--runner=PrismRunner", "--bootstrap-servers",
                                   "127.0.0.1:9", timeout=120))
    assert "--exactly-once needs the embedded runner" in line
    line = one_line_error(newsflow("run", "--max-poll-records", "0", "--bootstrap-servers", "127.0.0.1:9",
                                   timeout=120))
    assert "--max-poll-records must be 1 or more" in line
