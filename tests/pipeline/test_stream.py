"""`newsflow run` against a real broker: everything accounted for, Avro = Kafka, restarts lose nothing,
and a stop leaves nothing running, on the embedded runner and on Prism with its workers out of process."""
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
from tests.pipeline.portable import alive, descendants, prism_args, prism_binary, wait_until_gone

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def seeds():
    return [json.loads(line) for line in (REPO / "seeds" / "articles.jsonl").read_text().splitlines()]


class Topics:
    def __init__(self, prefix):
        self.raw, self.enriched, self.dlq = f"{prefix}.raw", f"{prefix}.enriched", f"{prefix}.dlq"


def runner_args(runner, request) -> list[str]:
    """Beam flags of a runner: the embedded default; Prism with its SDK workers in the worker pool
    (as on a remote runner); or Prism with them in the launcher's process (Prism's default, LOOPBACK)."""
    if runner == "direct":
        return []
    if runner == "prism":
        return prism_args(request.getfixturevalue("sdk_worker_pool").address)
    if not prism_binary():
        pytest.skip("Prism runner not built: install Go (https://go.dev/dl/), then `make prism`")
    return ["--runner=PrismRunner", f"--prism_location={prism_binary()}"]


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
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # It did not stop: the test fails, and leaves neither the run nor the runner it started behind.
        for pid in descendants(proc.pid) | {proc.pid}:
            os.kill(pid, signal.SIGKILL)
        raise


def uncommitted(bootstrap, topic, group) -> dict:
    """Partitions whose committed offset (of ``group``) is short of the end: {partition: (committed, end)}."""
    from kafka import TopicPartition

    from pipelines.io.kafka_client import topic_partitions

    consumer = make_consumer(bootstrap, group_id=group)
    try:
        tps = [TopicPartition(topic, p) for p in topic_partitions(bootstrap, topic)]
        ends = consumer.end_offsets(tps)
        return {tp.partition: (consumer.committed(tp), ends[tp]) for tp in tps if consumer.committed(tp) != ends[tp]}
    finally:
        consumer.close()


@pytest.mark.parametrize("runner", ["direct", "prism", "prism-loopback"])
def test_stream_enriches_valid_and_dead_letters_invalid_input(kafka_broker, tmp_path, runner, request):
    topics = Topics(f"e2e{runner}{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    proc = start_run(kafka_broker, topics, tmp_path / "avro", "e2e", tmp_path / "run.log", runner_args(runner, request))
    started = set()
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
        started = descendants(proc.pid)  # on Prism: the runner's own process
    finally:
        code = stop(proc)
    log = (tmp_path / "run.log").read_text()
    assert code == 0, log[-3000:]
    # The stop left nothing running: no process the run started, no job (its SDK worker would be in the pool).
    assert not wait_until_gone(lambda: alive(started), 10), log[-3000:]
    if runner.startswith("prism"):
        assert started, "Prism should have run as a process of the launcher"
    if runner == "prism":
        assert not wait_until_gone(request.getfixturevalue("sdk_worker_pool").workers), "the job's worker is left"
    # What was delivered before the stop is committed: a restart would not deliver it again.
    assert uncommitted(kafka_broker, topics.raw, "e2e") == {}, log[-3000:]
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
    if runner == "prism":
        # Its workers are out of this process: the job is stopped through the runner (Prism does
        # not drain: it cancels), and the progress lines are the workers' (in the pool's log).
        assert "SIGTERM received, stopping the job through the runner" in log, log[-3000:]
    else:
        # The workers are in this process: the readers see the stop flag and the pipeline drains.
        assert "progress:" in log and "SIGTERM received, draining and committing" in log, log[-3000:]
    assert "Traceback" not in log and "PrismRunner" not in log, log[-3000:]
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


def test_a_second_signal_on_prism_cancels_the_job_gives_the_account_and_leaves_nothing_running(
        kafka_broker, tmp_path, sdk_worker_pool):
    topics = Topics(f"twice{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=1)
    producer = make_producer(kafka_broker)
    for article in fixture_articles()[:3]:
        producer.send(topics.raw, key=article["id"].encode(), value=json.dumps(article).encode())
    producer.flush()
    producer.close()
    proc = start_run(kafka_broker, topics, tmp_path / "avro", "twice", tmp_path / "run.log",
                     prism_args(sdk_worker_pool.address))
    try:
        read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= 3)
        # The bundles that delivered them report to the runner moments after the records appear;
        # a cancel before that would leave them out of the account (see stream.stop_job).
        time.sleep(1)
        started = descendants(proc.pid)
        # Two signals in a row (an impatient Ctrl-C Ctrl-C): the second must not leave the job running.
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            for pid in descendants(proc.pid) | {proc.pid}:
                os.kill(pid, signal.SIGKILL)
    log = (tmp_path / "run.log").read_text()
    assert code in (0, 130), log[-3000:]  # 130 when the second signal came before the job had ended
    assert "newsflow run: read 3 = enriched 3 + dead-lettered 0 (none); stopped after" in log, log[-3000:]
    assert started and not wait_until_gone(lambda: alive(started), 10), log[-3000:]
    assert not wait_until_gone(sdk_worker_pool.workers), "the job's worker is left"
