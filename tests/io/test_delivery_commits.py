"""The commit protocol against a real broker: a failed or late bundle never lets a restart skip a record.

Each test delivers part of a partition through ``Delivery`` the way a runner might (a bundle
that fails after its dead letters went out, bundles finishing out of order), then restarts
with a real ``newsflow run --until-end`` and checks that every record below the hole is
delivered again.
"""
import json
from datetime import datetime, timezone

import pytest

from pipelines import avro
from pipelines.io.delivery import DEAD, Delivery, DeliveryConfig
from pipelines.io.kafka_client import make_consumer, make_producer
from pipelines.io.topics import ensure_topics
from pipelines.pipeline.enrich import RawInput, dead_letter
from tests.cli.helpers import newsflow
from tests.fixtures import articles as fixture_articles

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def publish_articles(bootstrap, topic, count):
    """``count`` valid articles at offsets 0..count-1 of partition 0; returns their ids by offset."""
    producer = make_producer(bootstrap)
    ids = []
    for n, article in enumerate(fixture_articles()[:count]):
        article = dict(article, id=f"commit-{n}")
        producer.send(topic, key=article["id"].encode(), value=json.dumps(article).encode(), partition=0)
        ids.append(article["id"])
    producer.flush()
    producer.close()
    return ids


def letter(topic, offset, read_from=None):
    """A dead letter of the record at ``offset`` as the pipeline would deliver it."""
    raw = RawInput(original=b"{}", kafka=(topic, 0, offset), read_from=offset if read_from is None else read_from)
    return dead_letter(raw, "validate", "MissingBody", "no body", NOW)


def committed(bootstrap, topic, group):
    from kafka import TopicPartition

    consumer = make_consumer(bootstrap, group_id=group)
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()


def restart_enriched_ids(bootstrap, topic, group, tmp_path):
    result = newsflow("run", "--bootstrap-servers", bootstrap, "--input-topic", topic,
                      "--output-topic", f"{topic}.out", "--dlq-topic", f"{topic}.dlq", "--group-id", group,
                      "--until-end", "--no-avro", timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    consumer = make_consumer(bootstrap, f"{topic}.out")
    ids = set()
    try:
        for _ in range(20):
            for batch in consumer.poll(timeout_ms=500).values():
                ids.update(avro.decode(m.value)["id"] for m in batch)
    finally:
        consumer.close()
    return ids


def delivery(bootstrap, topic, group, tmp_path):
    return Delivery(DeliveryConfig(bootstrap_servers=bootstrap, output_topic=f"{topic}.out",
                                   dlq_topic=f"{topic}.dlq", avro_dir=str(tmp_path / "avro"), commit_group=group),
                    log=None)


def test_a_bundle_failing_after_its_dead_letters_were_sent_commits_nothing_past_them(kafka_broker, topic_name,
                                                                                      tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"], partitions=1)
    ids = publish_articles(kafka_broker, topic_name, 4)
    sink = delivery(kafka_broker, topic_name, "failed-bundle", tmp_path)
    # One bundle read offsets 0..3: the dead letters of 2 and 3 went out first, then the bundle
    # failed before its enriched records 0 and 1 were written; the runner tears the DoFn down.
    sink.write(DEAD, letter(topic_name, 2))
    sink.write(DEAD, letter(topic_name, 3))
    sink.flush_and_commit()  # teardown after the failed bundle
    assert (committed(kafka_broker, topic_name, "failed-bundle") or 0) == 0
    assert {ids[0], ids[1]} <= restart_enriched_ids(kafka_broker, topic_name, "failed-bundle", tmp_path)


def test_bundles_finishing_out_of_order_leave_the_commit_below_the_late_one(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"], partitions=1)
    ids = publish_articles(kafka_broker, topic_name, 6)
    sink = delivery(kafka_broker, topic_name, "out-of-order", tmp_path)
    # Bundle A reads 0..1 and is still enriching when bundle B (2..3) finishes; then bundle C
    # (4..5) finishes too, and the worker dies before A is done.
    for offset in (2, 3):
        sink.write(DEAD, letter(topic_name, offset))
    sink.flush_and_commit()
    for offset in (4, 5):
        sink.write(DEAD, letter(topic_name, offset))
    sink.flush_and_commit()
    assert (committed(kafka_broker, topic_name, "out-of-order") or 0) == 0
    assert {ids[0], ids[1]} <= restart_enriched_ids(kafka_broker, topic_name, "out-of-order", tmp_path)


def test_once_the_late_bundle_is_delivered_the_commit_covers_all(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name, f"{topic_name}.out", f"{topic_name}.dlq"], partitions=1)
    publish_articles(kafka_broker, topic_name, 4)
    sink = delivery(kafka_broker, topic_name, "late", tmp_path)
    sink.write(DEAD, letter(topic_name, 3, read_from=2))  # offset 2 was skipped by Kafka (a marker, say)
    sink.flush_and_commit()
    assert committed(kafka_broker, topic_name, "late") is None
    for offset in (0, 1):
        sink.write(DEAD, letter(topic_name, offset))
    sink.flush_and_commit()
    assert committed(kafka_broker, topic_name, "late") == 4
