"""Scale-out: static worker shares, one process per core, new partitions picked up, kill -9 loses nothing."""
import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from pipelines import avro
from pipelines.io.kafka_source import owns, parse_worker
from pipelines.pipeline.workers import default_processes, parse_reasons, sub_worker, without_flags
from tests.fixtures import articles as fixture_articles
from tests.pipeline.test_stream import REPO, Topics, read_topic


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("processes", [1, 2, 3])
def test_every_partition_has_exactly_one_reader_among_workers_and_their_processes(workers, processes):
    for partition in range(40):
        readers = [(i, k) for i in range(workers) for k in range(processes)
                   if owns(partition, parse_worker(sub_worker((i, workers), k, processes)))]
        assert len(readers) == 1, (partition, readers)
        assert owns(partition, (readers[0][0], workers))  # the process reads a partition of its own worker


def test_worker_flag_is_checked():
    assert parse_worker("2/3") == (2, 3)
    for bad in ("3/3", "1", "a/b", "0/0", "-1/2"):
        with pytest.raises(ValueError):
            parse_worker(bad)


def test_launcher_helpers():
    assert without_flags(["--worker", "1/2", "--processes=3", "--group-id", "g", "--worker=0/1"]) == ["--group-id", "g"]
    assert parse_reasons("MalformedJSON 2, Not UTF 1") == Counter({"MalformedJSON": 2, "Not UTF": 1})
    assert parse_reasons("none") == Counter()
    assert default_processes(0, 1) == 1          # never more processes than partitions
    assert default_processes(4, 6) == 4
    assert default_processes(0, 64) == (os.cpu_count() or 1)


def start(bootstrap, topics, group, log_path, *extra):
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "run", "--bootstrap-servers", bootstrap,
         "--input-topic", topics.raw, "--output-topic", topics.enriched, "--dlq-topic", topics.dlq,
         "--no-avro", "--group-id", group, "--progress-seconds", "2", *extra],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


def publish(bootstrap, topic, articles, partitions):
    from pipelines.io.kafka_client import make_producer

    producer = make_producer(bootstrap)
    for n, article in enumerate(articles):
        value = article if isinstance(article, bytes) else json.dumps(article).encode()
        producer.send(topic, key=str(n).encode(), value=value, partition=n % partitions)
    producer.flush()
    producer.close()


@pytest.mark.integration
def test_two_workers_share_six_partitions_and_a_killed_one_loses_nothing(kafka_broker, tmp_path):
    from pipelines.io.topics import ensure_topics

    topics = Topics(f"scale{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=6)
    articles = [dict(a, id=f"{a['id']}-{n}") for n in range(3) for a in fixture_articles()]
    bad = [b"{not json", b"\xff\xfe", b"[1, 2]"]
    publish(kafka_broker, topics.raw, articles[:30] + bad, 6)
    # Worker 0 runs two processes (partitions 0, 4 and 2), worker 1 one (1, 3, 5).
    zero = start(kafka_broker, topics, "scale", tmp_path / "w0.log", "--worker", "0/2", "--processes", "2")
    one = start(kafka_broker, topics, "scale", tmp_path / "w1.log", "--worker", "1/2", "--processes", "1")
    try:
        read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= 8)
        zero.send_signal(signal.SIGKILL)  # no drain, no commit; its processes die with it
        zero.wait(timeout=30)
        publish(kafka_broker, topics.raw, articles[30:], 6)
        zero = start(kafka_broker, topics, "scale", tmp_path / "w0b.log", "--worker", "0/2", "--processes", "2")
        want = {a["id"] for a in articles}
        enriched = read_topic(kafka_broker, topics.enriched,
                              lambda m: want <= {avro.decode(x.value)["id"] for x in m}, timeout_s=400)
        dead = read_topic(kafka_broker, topics.dlq, lambda m: len(m) >= len(bad), timeout_s=30)
    finally:
        for proc in (zero, one):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=120) for proc in (zero, one)]
    logs = "".join((tmp_path / name).read_text() for name in ("w0.log", "w1.log", "w0b.log"))
    assert codes == [0, 0], logs[-3000:]
    records = [avro.decode(m.value) for m in enriched]
    assert {r["id"] for r in records} == want, logs[-3000:]  # none lost
    assert {bytes(avro.decode(m.value)["original"]) for m in dead} >= set(bad)
    # Worker 1 was never killed and nobody else reads its partitions: none of them twice.
    odd = Counter(r["id"] for r in records if r["kafka"]["partition"] % 2 == 1)
    assert odd and max(odd.values()) == 1, odd.most_common(3)
    assert len(records) < 2 * len(want)
    print(f"kill -9: {len(want)} articles + {len(bad)} bad payloads published; enriched records "
          f"{len(records)} ({len(records) - len(want)} duplicates, all from the killed worker's "
          f"partitions), dead letters {len(dead)}")
    # The relaunched worker sums its two processes into one account.
    assert "newsflow run: read " in (tmp_path / "w0b.log").read_text()
    assert "2 processes" in (tmp_path / "w0b.log").read_text()


@pytest.mark.integration
def test_partitions_added_while_running_are_read(kafka_broker, tmp_path):
    from kafka.admin import NewPartitions

    from pipelines.io.kafka_client import make_admin
    from pipelines.io.topics import ensure_topics

    topics = Topics(f"grow{os.getpid()}")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=1)
    articles = [dict(a, id=f"grow-{n}") for n, a in enumerate(fixture_articles()[:4])]
    publish(kafka_broker, topics.raw, articles[:1], 1)
    proc = start(kafka_broker, topics, "grow", tmp_path / "run.log", "--relist-seconds", "1")
    try:
        read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= 1)
        admin = make_admin(kafka_broker)
        admin.create_partitions({topics.raw: NewPartitions(total_count=3)})
        admin.close()
        from pipelines.io.kafka_client import make_producer

        producer = make_producer(kafka_broker)
        for n, article in enumerate(articles[1:], start=1):
            producer.send(topics.raw, key=article["id"].encode(), value=json.dumps(article).encode(), partition=n % 3)
        producer.flush()
        producer.close()
        want = {a["id"] for a in articles}
        enriched = read_topic(kafka_broker, topics.enriched, lambda m: want <= {x.key.decode() for x in m},
                              timeout_s=240)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    log = (tmp_path / "run.log").read_text()
    assert code == 0, log[-3000:]
    assert {m.key.decode() for m in enriched} == want, log[-3000:]
    assert "newsflow run: read 4 = enriched 4 + dead-lettered 0 (none)" in log, log[-2000:]
