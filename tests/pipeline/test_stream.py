"""`newsflow run` against a real broker: everything accounted for, Avro = Kafka, restarts lose nothing."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines import avro
from pipelines.io.consume import read_avro_dir
from pipelines.io.kafka_client import make_consumer, make_producer
from pipelines.io.topics import ensure_topics
from tests.fixtures import articles as fixture_articles
from tests.pipeline.bad_inputs import BAD_INPUTS, MAX_BYTES_FOR_TESTS, avro_article

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def seeds():
    return [json.loads(line) for line in (REPO / "seeds" / "articles.jsonl").read_text().splitlines()]


class Topics:
    def __init__(self, prefix):
        self.raw, self.enriched, self.dlq = f"{prefix}.raw", f"{prefix}.enriched", f"{prefix}.dlq"


def prism_binary():
    """Beam's Prism runner built by `make prism` (`make test` builds it where Go is installed), else None."""
    for candidate in (os.environ.get("NEWSFLOW_PRISM"), REPO / ".venv" / "bin" / "prism"):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


RUNNERS = {
    "direct": [],
    "prism": ["--runner=PrismRunner", f"--prism_location={prism_binary()}"],
}


def start_run(bootstrap, topics, avro_dir, group, log_path, runner_args=()):
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap,
         "--input-topic", topics.raw, "--output-topic", topics.enriched, "--dlq-topic", topics.dlq,
         "--avro-dir", str(avro_dir), "--group-id", group, "--max-article-bytes", str(MAX_BYTES_FOR_TESTS),
         "--progress-seconds", "2", *runner_args],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


def read_topic(bootstrap, topic, until, timeout_s=120):
    """All messages of ``topic`` from the start, once ``until(messages)`` holds or time runs out."""
    consumer = make_consumer(bootstrap, topic)
    messages, deadline = [], time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not until(messages):
            for batch in consumer.poll(timeout_ms=500).values():
                messages.extend(batch)
    finally:
        consumer.close()
    return messages


def stop(proc, timeout=60):
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_stream_enriches_valid_and_dead_letters_invalid_input(kafka_broker, tmp_path, runner):
    if runner == "prism" and not prism_binary():
        pytest.skip("Prism runner not built: install Go (https://go.dev/dl/), then `make prism`")
    topics = Topics(f"e2e{runner}{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    proc = start_run(kafka_broker, topics, tmp_path / "avro", "e2e", tmp_path / "run.log", RUNNERS[runner])
    try:
        producer = make_producer(kafka_broker)
        sent = 0
        # Publish while the pipeline runs: valid seeds, every kind of bad input, an Avro article.
        for article in seeds():
            producer.send(topics.raw, key=article["id"].encode(), value=json.dumps(article).encode())
            sent += 1
        for data, _ in BAD_INPUTS:
            producer.send(topics.raw, key=b"bad", value=data)
            sent += 1
        producer.send(topics.raw, key=b"avro-1", value=avro_article("avro-1", "Officials met in Geneva on Monday."))
        sent += 1
        producer.flush()
        producer.close()
        enriched = read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= len(seeds()) + 1)
        dead = read_topic(kafka_broker, topics.dlq, lambda m: len(m) >= len(BAD_INPUTS), timeout_s=30)
    finally:
        code = stop(proc)
    log = (tmp_path / "run.log").read_text()
    assert code == 0, log[-3000:]
    # read = enriched + dead-lettered, nothing lost, nothing extra
    assert len(enriched) + len(dead) == sent, log[-3000:]
    records = [avro.decode(m.value) for m in enriched]
    assert {r["id"] for r in records} == {s["id"] for s in seeds()} | {"avro-1"}
    assert all(m.key.decode() == avro.decode(m.value)["id"] for m in enriched)
    letters = [avro.decode(m.value) for m in dead]
    assert sorted(d["error_class"] for d in letters) == sorted(e for _, e in BAD_INPUTS)
    assert {bytes(d["original"]) for d in letters} == {data for data, _ in BAD_INPUTS}
    # The Avro files hold the same enriched set, and no temporary file is left behind.
    files = list((tmp_path / "avro").rglob("*"))
    assert not [f for f in files if f.name.startswith(".")]
    assert sorted(r["id"] for r in read_avro_dir(str(tmp_path / "avro"))) == sorted(r["id"] for r in records)
    seed = next(r for r in records if r["id"].startswith("seed-"))
    people = {e["canonical"] or e["text"] for e in seed["entities"] if e["label"] == "PERSON"}
    assert {"Sergei Shoigu", "Kim Jong Un"} <= people
    assert {"Pyongyang", "Russia"} <= {e["text"] for e in seed["entities"] if e["label"] == "GPE"}
    assert "progress:" in log and "draining and committing" in log
    # The run's own account agrees, on either runner (it is read from the runner's metrics).
    assert f"newsflow run: read {sent} = enriched {len(enriched)} + dead-lettered {len(dead)} (" in log, log[-2000:]


def test_restart_mid_stream_loses_nothing(kafka_broker, tmp_path):
    topics = Topics(f"restart{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    # 60 articles with distinct ids, each fixture story three times: consumers de-duplicate on id.
    articles = [dict(a, id=f"{a['id']}-{n}") for n in range(3) for a in fixture_articles()]
    producer = make_producer(kafka_broker)
    for a in articles[:30]:
        producer.send(topics.raw, key=a["id"].encode(), value=json.dumps(a).encode())
    producer.flush()
    first = start_run(kafka_broker, topics, tmp_path / "avro", "restart", tmp_path / "run1.log")
    # Kill it hard while it is part-way through: no chance to drain or commit what is in flight.
    read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= 5)
    first.kill()
    first.wait(timeout=30)
    for a in articles[30:]:
        producer.send(topics.raw, key=a["id"].encode(), value=json.dumps(a).encode())
    producer.flush()
    producer.close()
    second = start_run(kafka_broker, topics, tmp_path / "avro", "restart", tmp_path / "run2.log")
    try:
        want = {a["id"] for a in articles}
        enriched = read_topic(kafka_broker, topics.enriched,
                              lambda m: want <= {x.key.decode() for x in m}, timeout_s=240)
    finally:
        code = stop(second)
    assert code == 0
    ids = [m.key.decode() for m in enriched]
    assert set(ids) == want  # at-least-once: every article, maybe some twice after the kill
    # The second run resumed from committed offsets instead of starting over.
    assert len(ids) < 2 * len(want)
