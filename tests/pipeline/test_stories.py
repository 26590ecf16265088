"""Stories in the pipelines: deterministic in replay whatever the processes and input order; shared by
stream workers through the index topic, and kept across a restart (real broker)."""
import json
import os
import time

import pytest

from pipelines import avro
from pipelines.io.consume import read_avro_dir
from pipelines.io.kafka_client import make_producer
from pipelines.io.topics import ensure_topics
from tests.fixtures import articles
from tests.pipeline.test_replay import newsflow
from tests.pipeline.test_stream import Topics, read_topic, stop
from tests.pipeline.test_scale import start


def near_copy(article: dict, new_id: str) -> dict:
    """Another outlet's version of the same wire copy: new id and headline, a sentence edited."""
    body = article["body"].replace(" said ", " told reporters ", 1) + " The report was updated later in the day."
    assert body != article["body"]
    return dict(article, id=new_id, title="UPDATE: " + article["title"], source="Wire Echo", body=body)


@pytest.fixture(scope="module")
def story_archive(tmp_path_factory):
    """Ten fixture articles, two near copies and an exact copy under another id, in two files."""
    folder = tmp_path_factory.mktemp("stories")
    rows = articles()[:10]
    extra = [near_copy(rows[1], "copy-of-02"), near_copy(rows[5], "copy-of-06"), dict(rows[3], id="same-as-04")]
    with open(folder / "a.jsonl", "w") as f:
        for row in rows[:5] + extra[:1]:
            f.write(json.dumps(row) + "\n")
    with open(folder / "b.jsonl", "w") as f:
        for row in extra[1:] + rows[5:]:
            f.write(json.dumps(row) + "\n")
    return folder, rows


def stories_of(folder) -> dict:
    return {r["id"]: r["story_id"] for r in read_avro_dir(str(folder)) if "entities" in r}


def test_replay_gives_the_same_stories_whatever_the_processes_and_the_input_order(story_archive, tmp_path):
    folder, rows = story_archive
    # No time budget: on a loaded machine a Timeout dead letter would take an article out of the comparison.
    common = ["--avro-dir", "--processed-at", "2026-01-01T00:00:00Z", "--no-progress", "--record-timeout-seconds", "0"]
    first = newsflow("replay", "--input", str(folder / "a.jsonl"), str(folder / "b.jsonl"), common[0],
                     str(tmp_path / "one"), *common[1:], "--direct_num_workers=2")
    assert first.returncode == 0, first.stderr[-3000:]
    second = newsflow("replay", "--input", str(folder / "b.jsonl"), str(folder / "a.jsonl"), common[0],
                      str(tmp_path / "two"), *common[1:], "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert second.returncode == 0, second.stderr[-3000:]
    one, two = stories_of(tmp_path / "one"), stories_of(tmp_path / "two")
    assert len(one) == 13 and one == two
    assert one["copy-of-02"] == one[rows[1]["id"]]
    assert one["copy-of-06"] == one[rows[5]["id"]]
    assert one["same-as-04"] == one[rows[3]["id"]]
    originals = {one[r["id"]] for r in rows}
    assert None not in originals and len(originals) == 10  # ten written stories, ten stories
    off = newsflow("replay", "--input", str(folder / "a.jsonl"), "--avro-dir", str(tmp_path / "off"),
                   "--no-progress", "--no-stories", "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert off.returncode == 0, off.stderr[-3000:]
    assert set(stories_of(tmp_path / "off").values()) == {None}


def publish_to(bootstrap, topic, article, partition):
    producer = make_producer(bootstrap)
    producer.send(topic, key=article["id"].encode(), value=json.dumps(article).encode(), partition=partition)
    producer.flush()
    producer.close()


def enriched(bootstrap, topic, ids, timeout_s=240) -> dict:
    """id -> the latest enriched record of each id, once all ``ids`` are there."""
    def have_all(messages):
        return set(ids) <= {m.key.decode() for m in messages}

    messages = read_topic(bootstrap, topic, have_all, timeout_s)
    records = {}
    for message in messages:
        records[message.key.decode()] = avro.decode(message.value)
    assert set(ids) <= set(records), f"missing {set(ids) - set(records)}"
    return records


@pytest.mark.integration
def test_stream_processes_share_stories_through_the_index_topic_and_keep_them_after_a_restart(kafka_broker, tmp_path):
    topics = Topics(f"stories{os.getpid()}-{int(time.time())}")
    index_topic = topics.raw.replace(".raw", ".stories")
    ensure_topics(kafka_broker, [topics.raw, topics.enriched, topics.dlq], partitions=2)
    rows = articles()
    original, unrelated = rows[1], rows[12]
    copy, later_copy = near_copy(original, "wire-copy-1"), near_copy(original, "wire-copy-2")
    flags = ("--stories-topic", index_topic, "--processes", "2", "--record-timeout-seconds", "0")
    publish_to(kafka_broker, topics.raw, original, 0)
    run = start(kafka_broker, topics, "stories", tmp_path / "run1.log", *flags)
    try:
        first = enriched(kafka_broker, topics.enriched, [original["id"]])
        # The near copy arrives on the other partition, read by the other process of the run.
        publish_to(kafka_broker, topics.raw, copy, 1)
        publish_to(kafka_broker, topics.raw, unrelated, 1)
        seen = enriched(kafka_broker, topics.enriched, [original["id"], copy["id"], unrelated["id"]])
    finally:
        assert stop(run) == 0, (tmp_path / "run1.log").read_text()[-3000:]
    story = first[original["id"]]["story_id"]
    assert story and story.startswith("s-")
    assert seen[original["id"]]["kafka"]["partition"] != seen[copy["id"]]["kafka"]["partition"]
    assert seen[copy["id"]]["story_id"] == story
    assert seen[unrelated["id"]]["story_id"] not in (None, story)
    # A restart starts from the index topic alone: a later copy joins the story it has never seen in this run.
    publish_to(kafka_broker, topics.raw, later_copy, 1)
    again = start(kafka_broker, topics, "stories", tmp_path / "run2.log", *flags)
    try:
        after = enriched(kafka_broker, topics.enriched, [later_copy["id"]])
    finally:
        assert stop(again) == 0, (tmp_path / "run2.log").read_text()[-3000:]
    assert after[later_copy["id"]]["story_id"] == story
    # Read again from the start by another group (as after a crash): every article keeps its story.
    replayed = start(kafka_broker, topics, "stories-again", tmp_path / "run3.log", *flags, "--until-end")
    assert replayed.wait(timeout=300) == 0, (tmp_path / "run3.log").read_text()[-3000:]
    messages = read_topic(kafka_broker, topics.enriched, lambda m: len(m) >= 8, 60)
    by_id = {}
    for message in messages:
        by_id.setdefault(message.key.decode(), set()).add(avro.decode(message.value)["story_id"])
    assert len(by_id) == 4 and all(len(s) == 1 for s in by_id.values()), by_id
