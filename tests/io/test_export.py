"""`newsflow export`: a real replay's Avro folder (and a real topic) -> event, entity and article
tables; columns as documented, counts from the records, atomic idempotent reruns, story counts,
duplicates, and the documented DuckDB query run on the export."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta, timezone

import duckdb
import fastavro
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from pipelines import avro
from pipelines.export.tables import SCHEMAS, place_of
from tests.io.enriched_replay import REPO, records, replay_dir  # noqa: F401 (fixtures)


def newsflow(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def export(*args):
    result = newsflow("export", *args, "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def table(out, name):
    return pq.read_table(out / name).to_pylist() if (out / name).exists() else []


def file_digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def story_key(record):
    return record.get("story_id") or f"article:{record['id']}"


def test_tables_hold_every_article_event_and_entity(replay_dir, records, tmp_path):
    out = tmp_path / "tables"
    result = export("--input", str(replay_dir), "--out", str(out))
    line = result.stdout.strip().splitlines()[-1]
    n_events = sum(len(r["events"]) for r in records)
    assert line.startswith(f"export: 13 article(s), {n_events} event(s), "), line
    assert "2 dead letter(s) there not exported" in line
    articles, events, entities = table(out, "articles"), table(out, "events"), table(out, "entities")
    assert sorted(a["article_id"] for a in articles) == sorted(r["id"] for r in records)
    assert len(events) == n_events > 0
    by_id = {r["id"]: r for r in records}
    # Story counts computed here from the records (the seeds' stories, where the records carry story_id).
    stories = Counter(story_key(r) for r in records)
    story_sources = {}
    for r in records:
        story_sources.setdefault(story_key(r), set()).update({r["source"]} if r["source"] else set())
    for row in events:
        record = by_id[row["article_id"]]
        index = int(row["event_id"].rsplit(":", 1)[1])
        event = record["events"][index]
        assert (row["event_type"], row["cameo_root"], row["quad_class"], row["confidence"]) == \
            (event["event_type"], event["cameo_root"], event["quad_class"], event["confidence"])
        assert row["source_text"] == (event["source_actor"] or {}).get("text")
        assert row["target_country"] == (event["target_actor"] or {}).get("country")
        assert row["sentence"] == record[event["field"]][event["start_char"]:event["end_char"]]
        assert row["event_date"] == (date.fromisoformat(event["date"]) if event["date"] else None)
        story = story_key(record)
        assert (row["story_id"], row["story_articles"], row["story_sources"]) == \
            (record.get("story_id"), stories[story], len(story_sources[story]))
    # Entities: one row per canonical entity, mentions adding up to the record's entity list.
    mentions = Counter()
    for row in entities:
        mentions[row["article_id"]] += row["mentions"]
    assert mentions == Counter({r["id"]: len(r["entities"]) for r in records if r["entities"]})
    keys = [(row["article_id"], row["entity_id"] or row["canonical"], row["label"]) for row in entities]
    assert len(keys) == len(set(keys))
    seed = next(a for a in articles if a["article_id"] == "seed-000-10c24450e8870a78")
    assert seed["events"] == len(by_id[seed["article_id"]]["events"]) and seed["language"] == "en"
    # Hive partitions by publication day, each holding all three tables.
    days = sorted(p.name for p in (out / "events").iterdir())
    assert days == sorted({f"dt={r['published_at'].astimezone(timezone.utc):%Y-%m-%d}" for r in records})
    for name in SCHEMAS:
        assert sorted(p.name for p in (out / name).iterdir()) == days


def test_event_places_are_joined_to_the_entities_coordinates(records, replay_dir, tmp_path):
    out = tmp_path / "tables"
    export("--input", str(replay_dir), "--out", str(out))
    events = {row["event_id"]: row for row in table(out, "events")}
    placed = 0
    for record in records:
        for index, event in enumerate(record["events"]):
            row = events[f"{record['id']}:{index}"]
            geo = place_of(event, record["entities"])
            if geo is None:
                assert row["latitude"] is None
                continue
            placed += 1
            # The place is an entity of the article, named as the event's location.
            assert any(e["geo"] == geo and event["location"] in (e["text"], e["canonical"], geo["name"])
                       for e in record["entities"] if e["geo"])
            assert (row["place_name"], row["latitude"], row["longitude"], row["place_country"]) == \
                (event["location"], geo["latitude"], geo["longitude"], geo["country"])
    assert placed > 0


def test_rerun_gives_the_same_files_and_removes_stale_days(replay_dir, tmp_path):
    out = tmp_path / "tables"
    export("--input", str(replay_dir), "--out", str(out), "--format", "both")
    first = file_digests(out)
    assert any(name.endswith(".csv") for name in first) and any(name.endswith(".parquet") for name in first)
    stale = out / "events" / "dt=1999-01-01"
    stale.mkdir()
    (stale / "part-00000.parquet").write_bytes(b"old")
    (out / "articles" / "dt=2025-06-04" / ".part-00000.parquet.dead0000.tmp").write_bytes(b"interrupted")
    (out / "notes.txt").write_text("the user's own file")
    result = export("--input", str(replay_dir), "--out", str(out), "--format", "both")
    assert "2 stale removed" in result.stdout
    second = file_digests(out)
    assert second.pop("notes.txt")
    assert second == first
    # CSV carries the same rows as Parquet.
    day = sorted((out / "events").iterdir())[-1]
    assert pacsv.read_csv(day / "part-00000.csv").num_rows == pq.read_table(day / "part-00000.parquet").num_rows


def test_story_counts_and_repeated_ids(records, tmp_path):
    """Records with a story_id (the field another branch adds), a story spanning two sources and two
    days, and an at-least-once repeat: the later-processed copy wins, counted once."""
    schema = avro.raw_schema("enriched")
    if "story_id" not in [f["name"] for f in schema["fields"]]:  # the schema of a branch without it yet
        schema["fields"].append({"name": "story_id", "type": ["null", "string"], "default": None})
    first, second, third, alone = (dict(r) for r in records[:4])
    first["story_id"] = second["story_id"] = third["story_id"] = "story-1"
    alone["story_id"] = None
    first["source"], second["source"], third["source"] = "BBC", "Reuters", "BBC"
    repeat = dict(first, primary_event_type="ASSAULT", provenance=dict(
        first["provenance"], processed_at=first["provenance"]["processed_at"] + timedelta(hours=1)))
    folder = tmp_path / "avro"
    (folder / "dt=x").mkdir(parents=True)
    with open(folder / "dt=x" / "part-1.avro", "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(schema), [first, second, third, alone])
    with open(folder / "dt=x" / "part-2.avro", "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(schema), [repeat])
    out = tmp_path / "tables"
    result = export("--input", str(folder), "--out", str(out))
    assert "1 repeated id(s) merged" in result.stdout
    articles = {a["article_id"]: a for a in table(out, "articles")}
    assert len(articles) == 4
    assert articles[first["id"]]["primary_event_type"] == "ASSAULT"
    for record in (first, second, third):
        row = articles[record["id"]]
        assert (row["story_id"], row["story_articles"], row["story_sources"]) == ("story-1", 3, 2)
    assert (articles[alone["id"]]["story_id"], articles[alone["id"]]["story_articles"]) == (None, 1)
    for row in table(out, "events"):
        assert row["story_articles"] == (3 if row["article_id"] != alone["id"] else 1)


def documented_query() -> str:
    """The DuckDB example of docs/export.md, as written there."""
    text = (REPO / "docs" / "export.md").read_text(encoding="utf-8")
    block = re.search(r'duckdb\.sql\(f"""(.*?)"""\)', text, re.S)
    assert block, "docs/export.md has no duckdb.sql example"
    return block.group(1)


def test_documented_duckdb_query_counts_protests_per_country_per_week(replay_dir, records, tmp_path):
    out = tmp_path / "tables"
    export("--input", str(replay_dir), "--out", str(out))
    rows = duckdb.sql(documented_query().replace("{OUT}", str(out))).fetchall()
    # The same count, straight from the Avro records.
    expected = Counter()
    for record in records:
        for event in record["events"]:
            if event["event_type"] != "PROTEST":
                continue
            geo = place_of(event, record["entities"]) or {}
            country = geo.get("country") or (event["source_actor"] or {}).get("country") \
                or (event["target_actor"] or {}).get("country")
            day = date.fromisoformat(event["date"]) if event["date"] else record["published_at"].date()
            expected[(country, day - timedelta(days=day.weekday()))] += 1
    assert expected, "the seeds report at least one protest"
    assert {(country, week): n for country, week, n, _articles in rows} == expected


def test_documented_columns_are_the_tables_columns():
    text = (REPO / "docs" / "export.md").read_text(encoding="utf-8")
    for name, schema in SCHEMAS.items():
        section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
        assert documented == schema.names, name


@pytest.mark.integration
def test_export_from_a_topic_matches_the_folder(replay_dir, records, kafka_broker, topic_name, tmp_path):
    from pipelines.io.kafka_client import make_producer
    from pipelines.io.topics import ensure_topics

    ensure_topics(kafka_broker, [topic_name])
    producer = make_producer(kafka_broker)
    schema = avro.load_schema("enriched")
    for record in records + records[:2]:  # two at-least-once repeats
        producer.send(topic_name, key=record["id"].encode(), value=avro.encode(record, schema))
    producer.send(topic_name, key=b"junk", value=json.dumps({"not": "enriched"}).encode())
    producer.flush()
    producer.close()
    from_topic, from_folder = tmp_path / "topic", tmp_path / "folder"
    result = export("--from-topic", topic_name, "--bootstrap-servers", kafka_broker, "--out", str(from_topic))
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("export: 13 article(s)") and "2 repeated id(s) merged" in line \
        and "1 undecodable value(s) skipped" in line, line
    export("--input", str(replay_dir), "--out", str(from_folder))
    missing = newsflow("export", "--from-topic", topic_name + ".nope", "--bootstrap-servers", kafka_broker,
                       "--out", str(tmp_path / "none"))
    assert not (tmp_path / "none").exists()
    assert missing.returncode == 1 and missing.stderr.strip() == \
        f"newsflow export: no topic {topic_name}.nope at {kafka_broker}"
    for name in SCHEMAS:
        topic_rows = sorted(table(from_topic, name), key=lambda r: json.dumps(r, default=str, sort_keys=True))
        folder_rows = sorted(table(from_folder, name), key=lambda r: json.dumps(r, default=str, sort_keys=True))
        if name == "articles":  # only where the record was read differs
            for row in folder_rows + topic_rows:
                row.update(kafka_topic=None, kafka_partition=None, kafka_offset=None)
        assert topic_rows == folder_rows, name


def test_export_of_an_offset_range_holds_only_that_range(records, kafka_broker, topic_name, tmp_path):
    from pipelines.io.kafka_client import make_producer
    from pipelines.io.topics import ensure_topics

    ensure_topics(kafka_broker, [topic_name], partitions=1)
    producer = make_producer(kafka_broker)
    schema = avro.load_schema("enriched")
    for record in records:
        producer.send(topic_name, key=record["id"].encode(), value=avro.encode(record, schema))
    producer.flush()
    producer.close()
    out = tmp_path / "range"
    result = export("--from-topic", topic_name, "--bootstrap-servers", kafka_broker, "--start-offsets", "0:3",
                    "--end-offsets", "0:8", "--out", str(out))
    assert result.stdout.strip().splitlines()[-1].startswith("export: 5 article(s)"), result.stdout
    assert {row["article_id"] for row in table(out, "articles")} == {r["id"] for r in records[3:8]}
    wrong = newsflow("export", "--input", str(tmp_path), "--start-offsets", "0:3", "--out", str(tmp_path / "x"))
    assert wrong.returncode == 2 and "--start-offsets go(es) with --from-topic" in wrong.stderr
    bad = newsflow("export", "--from-topic", topic_name, "--bootstrap-servers", kafka_broker, "--start-offsets", "zero",
                   "--out", str(tmp_path / "y"))
    assert bad.returncode == 1 and "bad offset spec" in bad.stderr and not (tmp_path / "y").exists()


def test_missing_input_and_unwritable_output_are_one_line_errors(replay_dir, tmp_path):
    missing = newsflow("export", "--input", str(tmp_path / "nowhere"), "--out", str(tmp_path / "t"))
    assert missing.returncode == 1 and missing.stderr.strip().count("\n") == 0
    assert "no such file or folder" in missing.stderr and not (tmp_path / "t").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    unwritable = newsflow("export", "--input", str(replay_dir), "--out", str(blocker / "t"))
    assert unwritable.returncode == 1 and "cannot create the output folder" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr
    shutil.rmtree(tmp_path / "t", ignore_errors=True)


def test_every_export_flag_has_help_text():
    import argparse

    from pipelines.export import build_parser

    silent = [a.option_strings for a in build_parser()._actions
              if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()]
    assert silent == []
    result = newsflow("export", "--help")
    assert result.returncode == 0 and "--from-topic T" in result.stdout and "docs/export.md" in result.stdout
