"""``--schema-registry``: the Confluent wire format against a real broker and a real registry
(Apicurio, started once per session on 127.0.0.1 by the ``schema_registry`` fixture)."""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import urllib.request

import fastavro
import pytest

from pipelines import avro
from pipelines.io.consumer import TopicReader
from pipelines.io.kafka_client import make_consumer, make_producer
from pipelines.schema_registry import RegistryUnavailableError, check_registry, decode_any
from tests.io.enriched_replay import REPO

pytestmark = pytest.mark.integration


def newsflow(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def raw_values(bootstrap: str, topic: str) -> list[bytes]:
    consumer = make_consumer(bootstrap, topic, auto_offset_reset="earliest", enable_auto_commit=False)
    values = []
    try:
        for _ in range(40):
            for messages in consumer.poll(timeout_ms=500).values():
                values.extend(m.value for m in messages)
            if values and not consumer.poll(timeout_ms=1000):
                break
    finally:
        consumer.close()
    return values


def plain_decode(url: str, value: bytes) -> dict:
    """What any Confluent client does: the schema by id from the registry's REST API, then Avro."""
    assert value[:1] == b"\x00"
    schema_id = struct.unpack(">I", value[1:5])[0]
    with urllib.request.urlopen(f"{url}/schemas/ids/{schema_id}", timeout=30) as resp:
        schema = fastavro.parse_schema(json.loads(json.loads(resp.read())["schema"]))
    return fastavro.schemaless_reader(io.BytesIO(value[5:]), schema, None)


def test_replay_writes_the_confluent_format_and_mixed_topics_read_back(
        kafka_broker, schema_registry, topic_name, tmp_path):
    archive = tmp_path / "a.jsonl"
    archive.write_bytes(b"".join((REPO / "seeds" / "articles.jsonl").read_bytes().splitlines(keepends=True)[:3]))
    result = newsflow("replay", "--input", str(archive), "--avro-dir", str(tmp_path / "out"), "--no-progress",
                      "--output-topic", topic_name, "--schema-registry", schema_registry,
                      "--bootstrap-servers", kafka_broker, "--record-timeout-seconds", "0",
                      "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert result.returncode == 0, result.stderr[-3000:]
    confluent = raw_values(kafka_broker, topic_name)
    assert len(confluent) == 3 and all(v[:1] == b"\x00" for v in confluent)
    # Registered under the TopicNameStrategy subject, and decodable by id with the registry's schema alone.
    with urllib.request.urlopen(f"{schema_registry}/subjects/{topic_name}-value/versions/latest", timeout=30) as resp:
        assert json.loads(resp.read())["id"] == struct.unpack(">I", confluent[0][1:5])[0]
    plain = [plain_decode(schema_registry, v) for v in confluent]
    ids = sorted(r["id"] for r in plain)
    assert ids == sorted(json.loads(line)["id"] for line in archive.read_text().splitlines())

    # The same records in single-object encoding on the same topic: one topic, both formats.
    producer = make_producer(kafka_broker)
    for record in plain:
        producer.send(topic_name, key=record["id"].encode(), value=avro.encode(record, avro.load_schema("enriched")))
    producer.flush()
    producer.close()

    out = newsflow("consume", "--topic", topic_name, "--from-beginning", "--timeout", "5", "--dedup-window", "0",
                   "--schema-registry", schema_registry, "--bootstrap-servers", kafka_broker)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted(r["id"] for r in lines) == sorted(ids * 2)
    by_id = {r["id"]: r for r in plain}
    assert all(r["entities"] == by_id[r["id"]]["entities"] for r in lines)

    # Without a registry the single-object half still reads; the Confluent half says what it needs.
    bare = newsflow("consume", "--topic", topic_name, "--from-beginning", "--timeout", "5", "--dedup-window", "0",
                    "--bootstrap-servers", kafka_broker)
    bare_lines = [json.loads(line) for line in bare.stdout.splitlines()]
    assert sorted(r["id"] for r in bare_lines if "id" in r) == ids
    assert sum("--schema-registry" in r.get("error", "") for r in bare_lines) == 3

    # The consumer library: both formats, de-duplicated by id, nothing undecodable.
    with TopicReader(kafka_broker, topic_name, from_beginning=True, until_end=True,
                     schema_registry=schema_registry) as reader:
        articles = list(reader.articles())
    assert sorted(a.id for a in articles) == ids
    assert reader.stats.duplicates == 3 and reader.stats.undecodable == 0

    # export and report read the mixed topic too: 3 articles (repeats dropped), nothing undecodable.
    exported = newsflow("export", "--from-topic", topic_name, "--out", str(tmp_path / "x"), "--no-progress",
                        "--timeout", "5", "--schema-registry", schema_registry, "--bootstrap-servers", kafka_broker)
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert "export: 3 article(s)" in exported.stdout + exported.stderr
    report = newsflow("report", "--topic", topic_name, "--no-dlq", "--no-progress", "-o", str(tmp_path / "r.html"),
                      "--schema-registry", schema_registry, "--bootstrap-servers", kafka_broker)
    assert report.returncode == 0, report.stderr[-3000:]
    assert "report: 6 enriched + 0 dead-lettered" in report.stdout + report.stderr
    assert "undecodable" not in report.stdout + report.stderr


def test_registry_errors_are_one_line(kafka_broker):
    with pytest.raises(RegistryUnavailableError, match="cannot reach the schema registry"):
        check_registry("http://127.0.0.1:9/apis/ccompat/v7")
    with pytest.raises(ValueError, match="--schema-registry"):
        decode_any(b"\x00\x00\x00\x00\x07" + b"\x02")
    result = newsflow("consume", "--topic", "x", "--timeout", "1", "--schema-registry", "http://127.0.0.1:9",
                      "--bootstrap-servers", kafka_broker, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "cannot reach the schema registry" in result.stderr


def test_registry_up_without_java_21_says_so_in_one_line(tmp_path):
    env = {**os.environ, "NEWSFLOW_REGISTRY_JAVA": str(tmp_path / "no-java")}
    result = subprocess.run([sys.executable, "-m", "pipelines", "registry", "up", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"newsflow registry: NEWSFLOW_REGISTRY_JAVA={tmp_path / 'no-java'} is not Java 21+ (found nothing runnable)"]
    assert not (tmp_path / "registry").exists()  # nothing downloaded


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_the_run_sinks_write_dead_letters_in_the_confluent_format(kafka_broker, schema_registry, topic_name,
                                                                  exactly_once):
    """``newsflow run --schema-registry`` goes through these sinks (``pipelines.io.delivery``)."""
    from pipelines.io.delivery import DEAD, Delivery, DeliveryConfig, TransactionalDelivery
    from pipelines.io.topics import ensure_topics
    from tests.io.test_delivery_commits import letter

    dlq = f"{topic_name}.dlq"
    ensure_topics(kafka_broker, [topic_name, dlq], partitions=1)
    cfg = DeliveryConfig(bootstrap_servers=kafka_broker, output_topic=None, dlq_topic=dlq,
                         commit_group=f"g-{topic_name}", schema_registry=schema_registry,
                         transactional_id=f"tx-{topic_name}" if exactly_once else None)
    sink = (TransactionalDelivery if exactly_once else Delivery)(cfg, log=None)
    for offset in range(3):
        sink.write(DEAD, letter(topic_name, offset))
    sink.flush_and_commit()
    values = raw_values(kafka_broker, dlq)
    assert len(values) == 3 and all(v[:1] == b"\x00" for v in values)
    with urllib.request.urlopen(f"{schema_registry}/subjects/{dlq}-value/versions/latest", timeout=30) as resp:
        assert json.loads(resp.read())["id"] == struct.unpack(">I", values[0][1:5])[0]
    assert [plain_decode(schema_registry, v)["offset"] for v in values] == [0, 1, 2]
    out = newsflow("consume", "--topic", dlq, "--from-beginning", "--timeout", "5",
                   "--schema-registry", schema_registry, "--bootstrap-servers", kafka_broker)
    assert [json.loads(line)["error_class"] for line in out.stdout.splitlines()] == ["MissingBody"] * 3
