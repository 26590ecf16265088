"""`newsflow report --topic` over a range of a real Kafka topic (and its dead-letter topic)."""
from __future__ import annotations

import pytest

from pipelines import avro
from pipelines.io.kafka_client import make_producer
from pipelines.io.topics import ensure_topics
from tests.cli.helpers import DEAD_BROKER, newsflow, one_line_error
from tests.report.stream import ARTICLES, DEAD_LETTERS

pytestmark = pytest.mark.integration


def test_report_reads_a_topic_range_and_its_dead_letters(kafka_broker, topic_name, tmp_path):
    dlq = f"{topic_name}.dlq"
    ensure_topics(kafka_broker, [topic_name, dlq])
    producer = make_producer(kafka_broker)
    for record in ARTICLES:   # one partition, so offsets are the articles' order
        producer.send(topic_name, key=record["id"].encode(), value=avro.encode(record, avro.load_schema("enriched")),
                      partition=0)
    producer.send(topic_name, key=b"junk", value=b"not avro", partition=0)
    for record in DEAD_LETTERS:
        producer.send(dlq, value=avro.encode(record, avro.load_schema("dead_letter")), partition=0)
    producer.flush()
    producer.close()

    page = tmp_path / "topic.html"
    whole = newsflow("report", "--topic", topic_name, "--dlq-topic", dlq, "--bootstrap-servers", kafka_broker,
                     "-o", page, "--no-progress", timeout=120)
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.startswith("report: 4 enriched + 3 dead-lettered record(s), 1 undecodable, 6 event(s), "
                                   "4 placed on the map"), whole.stdout
    assert whole.stdout.rstrip().endswith(f"-> {page}")
    assert 'data-chart="map"' in page.read_text()

    # Offsets 1..2 of partition 0: the second and third articles only, no dead-letter topic.
    part = newsflow("report", "--topic", topic_name, "--no-dlq", "--start-offsets", "0:1", "--end-offsets", "0:3",
                    "--bootstrap-servers", kafka_broker, "-o", tmp_path / "part.html", "--no-progress", timeout=120)
    assert part.returncode == 0, part.stderr
    assert part.stdout.startswith("report: 2 enriched + 0 dead-lettered record(s), 3 event(s), 2 placed"), part.stdout


def test_report_without_a_broker_says_so_in_one_line(tmp_path):
    line = one_line_error(newsflow("report", "--topic", "articles.enriched", "--bootstrap-servers", DEAD_BROKER,
                                   "-o", tmp_path / "r.html", timeout=60))
    assert line.startswith("newsflow report: no Kafka broker answers at 127.0.0.1:1")
