"""The consumer library (pipelines.io.consumer) against the real broker and a real replay's Avro files:
consumer groups that commit only what was handed out, read_committed, de-duplication by id,
undecodable values reported, the end of a topic, and dataclasses equal to the dicts."""
from __future__ import annotations

import json
import shutil
import uuid

import pytest

from pipelines import avro
from pipelines.io.consumer import (DEAD_LETTER_KIND, AvroFolderReader, RecentIds, TopicReader, Undecodable)
from pipelines.io.enriched import EnrichedArticle, Event
from pipelines.io.kafka_client import make_producer
from pipelines.io.topics import ensure_topics
from tests.io.enriched_replay import records, replay_dir  # noqa: F401 (fixtures)


def publish(bootstrap, topic, values):
    ensure_topics(bootstrap, [topic], partitions=1)  # one partition: offsets and order as sent
    producer = make_producer(bootstrap)
    for key, value in values:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def encoded(record) -> tuple[bytes, bytes]:
    return record["id"].encode(), avro.encode(record, avro.load_schema("enriched"))


def test_recent_ids_forget_the_oldest_first():
    recent = RecentIds(2)
    # "a" seen again is refreshed, so "c" pushes out "b", the oldest.
    assert [recent.seen(i) for i in ("a", "b", "a", "c", "a", "b")] == [False, False, True, False, True, False]
    off = RecentIds(0)
    assert [off.seen("a"), off.seen("a")] == [False, False]


def test_avro_folder_reader_dicts_dataclasses_dead_letters_and_repeats(replay_dir, records, tmp_path):
    assert len(records) == 13 and len({r["id"] for r in records}) == 13
    reader = AvroFolderReader(str(replay_dir))
    assert reader.counts() == {"enriched": 13, "dead_letter": 2}
    articles = list(reader.articles())
    assert [a.id for a in articles] == [r["id"] for r in records]
    for article, record in zip(articles, records):
        assert isinstance(article, EnrichedArticle) and article.record == record
        assert article.published_at == record["published_at"] and article.story_id == record.get("story_id")
        assert [e.event_type for e in article.events] == [e["event_type"] for e in record["events"]]
        assert all(isinstance(e, Event) for e in article.events)
        assert [(e.canonical, e.entity_id, e.geo and e.geo.latitude) for e in article.entities] == \
            [(e["canonical"], e["entity_id"], e["geo"] and e["geo"]["latitude"]) for e in record["entities"]]
        assert article.provenance.processed_at == record["provenance"]["processed_at"]
    dead = list(AvroFolderReader(str(replay_dir), DEAD_LETTER_KIND))
    assert sorted(d["error_class"] for d in dead) == ["MalformedJSON", "MissingBody"]
    # A copy of the folder's files beside it: every id a second time, dropped within the window.
    doubled = tmp_path / "doubled"
    shutil.copytree(replay_dir, doubled / "a")
    shutil.copytree(replay_dir, doubled / "b")
    twice = AvroFolderReader(str(doubled))
    assert [r["id"] for r in twice] == [r["id"] for r in records]
    assert (twice.stats.read, twice.stats.yielded, twice.stats.duplicates) == (26, 13, 13)
    assert len(list(AvroFolderReader(str(doubled), dedup_window=0))) == 26
    with pytest.raises(FileNotFoundError):
        AvroFolderReader(str(tmp_path / "nowhere"))


@pytest.mark.integration
def test_group_commits_only_what_was_handed_out(records, kafka_broker, topic_name):
    publish(kafka_broker, topic_name, [encoded(r) for r in records])
    group = f"g-{uuid.uuid4().hex[:8]}"
    # Idle timeouts long enough for a first group join on a loaded machine; max_records ends it.
    with TopicReader(kafka_broker, topic_name, group_id=group, from_beginning=True, max_records=5,
                     idle_timeout_s=120) as reader:
        first = [r["id"] for r in reader]
    assert len(first) == 5
    # The consumer fetched all 13 in one batch; only the 5 handed out were committed.
    with TopicReader(kafka_broker, topic_name, group_id=group, from_beginning=True, until_end=True,
                     idle_timeout_s=120) as reader:
        rest = [r["id"] for r in reader]
    assert sorted(first + rest) == sorted(r["id"] for r in records)
    with TopicReader(kafka_broker, topic_name, group_id=group, from_beginning=True, until_end=True,
                     idle_timeout_s=120) as reader:
        assert list(reader) == []


@pytest.mark.integration
def test_read_committed_dedup_undecodable_and_until_end(records, kafka_broker, topic_name):
    publish(kafka_broker, topic_name, [encoded(r) for r in records[:3]] + [encoded(records[0])]
            + [(b"junk", json.dumps({"not": "enriched"}).encode()), (b"tomb", None)])
    # A transaction that is aborted: its record is in the log, but read_committed never shows it.
    producer = make_producer(kafka_broker, transactional_id=f"tx-{uuid.uuid4().hex[:8]}")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send(topic_name, key=b"aborted", value=encoded(records[5])[1])
    producer.flush()
    producer.abort_transaction()
    producer.close()
    publish(kafka_broker, topic_name, [encoded(records[4])])
    bad: list[Undecodable] = []
    with TopicReader(kafka_broker, topic_name, from_beginning=True, until_end=True, idle_timeout_s=None,
                     on_undecodable=bad.append) as reader:
        ids = [a.id for a in reader.articles()]
        stats = reader.stats
    # until_end with no idle timeout: it returned because it reached the end, not by waiting.
    assert ids == [r["id"] for r in records[:3]] + [records[4]["id"]]
    assert (stats.read, stats.yielded, stats.duplicates, stats.undecodable) == (7, 4, 1, 2)
    assert [(b.value, b.offset) for b in bad] == [(b'{"not": "enriched"}', 4), (None, 5)]
    assert "not Avro single-object" in bad[0].error
    with TopicReader(kafka_broker, topic_name, from_beginning=True, until_end=True, idle_timeout_s=None,
                     isolation_level="read_uncommitted", dedup_window=0) as reader:
        uncommitted = [r["id"] for r in reader]
    assert records[5]["id"] in uncommitted and len(uncommitted) == 6


@pytest.mark.integration
def test_until_end_on_an_empty_topic_returns_at_once(kafka_broker, topic_name):
    ensure_topics(kafka_broker, [topic_name])
    with TopicReader(kafka_broker, topic_name, from_beginning=True, until_end=True, idle_timeout_s=None) as reader:
        assert list(reader) == []
