"""`newsflow replay`: bounded enrichment over archives and topic ranges, deterministic output, on the
embedded runner and on Prism with its workers out of the launcher's process."""
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import fastavro
import pytest

from pipelines import avro
from pipelines.io.consume import read_avro_dir
from pipelines.io.kafka_client import make_producer
from pipelines.io.topics import ensure_topics
from tests.fixtures import articles
from tests.pipeline.portable import prism_args, wait_until_gone

REPO = Path(__file__).resolve().parents[2]


def newsflow(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "pipelines", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """12 fixture articles with dates, 2 bad lines, a CSV with other column names, an Avro file."""
    folder = tmp_path_factory.mktemp("archive")
    rows = articles()[:12]
    with open(folder / "a.jsonl", "w") as f:
        for i, row in enumerate(rows[:8]):
            row["published_at"] = f"2005-0{1 + i % 3}-1{i}T10:00:00Z"
            f.write(json.dumps(row) + "\n")
        f.write("{not json\n")
        f.write(json.dumps({"title": "nobody"}) + "\n")
    with open(folder / "b.csv", "w") as f:
        f.write("article_id,publish_date,headline,text\n")
        for row in rows[8:10]:
            f.write(f"{row['id']},2005/3/1,\"{row['title']}\",\"{row['body'].replace(chr(34), chr(39))}\"\n")
    with open(folder / "c.avro", "wb") as f:
        fastavro.writer(f, avro.load_schema("article"),
                        [{"id": r["id"], "title": r["title"], "body": r["body"]} for r in rows[10:12]])
    return folder


def replay(archive, out, *extra):
    return newsflow("replay", "--input", str(archive / "*.jsonl"), str(archive / "b.csv"), str(archive / "c.avro"),
                    "--csv-columns", "id=article_id,published_at=publish_date,title=headline,body=text",
                    "--avro-dir", str(out), "--processed-at", "2026-01-01T00:00:00Z", "--no-progress", *extra)


def test_replay_accounts_for_every_record_and_is_deterministic(archive, tmp_path):
    first = replay(archive, tmp_path / "one")
    assert first.returncode == 0, first.stderr[-3000:]
    summary = first.stdout.strip().splitlines()[-1]
    assert summary.startswith("replay: read 14 = enriched 12 + dead-lettered 2 (MalformedJSON 1, MissingBody 1)"), summary
    files = sorted(p.relative_to(tmp_path / "one").as_posix() for p in (tmp_path / "one").rglob("*.avro"))
    assert files == ["dlq/part-00000.avro", "dt=2005-01-10/part-00000.avro", "dt=2005-01-13/part-00000.avro",
                     "dt=2005-01-16/part-00000.avro", "dt=2005-02-11/part-00000.avro", "dt=2005-02-14/part-00000.avro",
                     "dt=2005-02-17/part-00000.avro", "dt=2005-03-01/part-00000.avro", "dt=2005-03-12/part-00000.avro",
                     "dt=2005-03-15/part-00000.avro", "dt=unknown/part-00000.avro"]
    records = [r for r in read_avro_dir(str(tmp_path / "one")) if "entities" in r]
    assert len(records) == 12 and all(r["kafka"] is None for r in records)
    assert all(r["provenance"]["processed_at"].startswith("2026-01-01T00:00:00") for r in records)
    dead = list(read_avro_dir(str(tmp_path / "one" / "dlq")))
    assert {d["error_class"] for d in dead} == {"MalformedJSON", "MissingBody"}
    assert all(d["input_path"].startswith(str(archive / "a.jsonl")) for d in dead)
    # Same input, same versions, same --processed-at: byte-identical files, on one worker this time.
    second = replay(archive, tmp_path / "two", "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert second.returncode == 0, second.stderr[-3000:]
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    # The CLI reader shows the enriched records and counts the dead letters apart.
    shown = newsflow("consume", "--avro", str(tmp_path / "one"))
    assert len(shown.stdout.splitlines()) == 12 and "12 enriched, 2 dead-lettered there" in shown.stderr
    # A second replay into the same folder is refused without --overwrite.
    again = replay(archive, tmp_path / "one")
    assert again.returncode == 1 and "--overwrite" in again.stderr


def test_reenrich_enriched_avro_replaces_old_annotations(archive, tmp_path):
    first = replay(archive, tmp_path / "one", "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert first.returncode == 0, first.stderr[-2000:]
    again = newsflow("replay", "--input", str(tmp_path / "one" / "dt=2005-01-10" / "part-00000.avro"),
                     "--avro-dir", str(tmp_path / "re"), "--no-progress",
                     "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert again.returncode == 0, again.stderr[-2000:]
    (old,) = list(read_avro_dir(str(tmp_path / "one" / "dt=2005-01-10")))
    (new,) = list(read_avro_dir(str(tmp_path / "re")))
    assert new["id"] == old["id"] and new["entities"] == old["entities"]
    assert "entities" not in new["extra"] and "provenance" not in new["extra"]


@pytest.mark.integration
def test_replay_a_topic_range_and_publish(kafka_broker, topic_name, tmp_path):
    ensure_topics(kafka_broker, [topic_name], partitions=1)
    producer = make_producer(kafka_broker)
    rows = articles()[:6]
    for row in rows:
        producer.send(topic_name, key=row["id"].encode(), value=json.dumps(row).encode())
    producer.send(topic_name, key=b"bad", value=b"\xff\xfe garbage")
    producer.flush()
    producer.close()
    out_topic = topic_name + ".out"
    result = newsflow("replay", "--from-topic", topic_name, "--start-offsets", "0:1", "--end-offsets", "0:7",
                      "--bootstrap-servers", kafka_broker, "--avro-dir", str(tmp_path / "t"), "--no-progress",
                      "--output-topic", out_topic, "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "read 6 = enriched 5 + dead-lettered 1 (NotUTF8 1)" in result.stdout
    ids = sorted(r["id"] for r in read_avro_dir(str(tmp_path / "t")) if "entities" in r)
    assert ids == sorted(r["id"] for r in rows[1:])
    dead = list(read_avro_dir(str(tmp_path / "t" / "dlq")))
    assert dead[0]["topic"] == topic_name and dead[0]["offset"] == 6
    out = newsflow("consume", "--topic", out_topic, "--from-beginning", "--timeout", "5",
                   "--bootstrap-servers", kafka_broker)
    assert sorted(json.loads(line)["id"] for line in out.stdout.splitlines()) == ids
    # A time range that covers every message: all 7 are read, the bad one dead-lettered.
    by_time = newsflow("replay", "--from-topic", topic_name, "--start-time", "1970-01-01T00:00:00Z",
                       "--end-time", "2999-01-01T00:00:00Z", "--bootstrap-servers", kafka_broker,
                       "--avro-dir", str(tmp_path / "t2"), "--no-progress",
                       "--direct_num_workers=1", "--direct_running_mode=in_memory")
    assert by_time.returncode == 0, by_time.stderr[-3000:]
    assert "read 7 = enriched 6 + dead-lettered 1 (NotUTF8 1)" in by_time.stdout


@pytest.mark.integration
def test_replay_of_a_whole_multi_partition_topic_with_the_default_workers(kafka_broker, topic_name, tmp_path):
    # replay's default embedded runner (one process per core) once read 0 records here: it
    # dropped the checkpointed remainders of every partition's bounded read.
    ensure_topics(kafka_broker, [topic_name], partitions=3)
    producer = make_producer(kafka_broker)
    rows = articles()[:7]
    for n, row in enumerate(rows):
        producer.send(topic_name, key=row["id"].encode(), value=json.dumps(row).encode(), partition=n % 3)
    producer.flush()
    producer.close()
    result = newsflow("replay", "--from-topic", topic_name, "--bootstrap-servers", kafka_broker,
                      "--avro-dir", str(tmp_path / "all"), "--no-progress", "--no-stories")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "read 7 = enriched 7 + dead-lettered 0" in result.stdout
    assert sorted(r["id"] for r in read_avro_dir(str(tmp_path / "all"))) == sorted(r["id"] for r in rows)


def test_replay_on_prism_with_workers_out_of_process_sums_up_what_it_wrote(archive, tmp_path, sdk_worker_pool):
    # Relative --avro-dir from another folder than the workers': the launcher resolves it for them.
    result = subprocess.run(
        [sys.executable, "-m", "pipelines", "replay", "--input", str(archive / "a.jsonl"), str(archive / "c.avro"),
         "--avro-dir", "out", "--processed-at", "2026-01-01T00:00:00Z", *prism_args(sdk_worker_pool.address)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # The summary comes from the runner's metrics of what was written; the files agree with it.
    records = [r for r in read_avro_dir(str(tmp_path / "out")) if "entities" in r]
    dead = list(read_avro_dir(str(tmp_path / "out" / "dlq")))
    events = Counter(e["event_type"] for r in records for e in r["events"])
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(Counter(d["error_class"] for d in dead).items()))
    shown = ", ".join(f"{k} {v}" for k, v in sorted(events.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
    assert len(records) == 10 and reasons == "MalformedJSON 1, MissingBody 1"
    assert result.stdout.startswith(
        f"replay: read 12 = enriched 10 + dead-lettered 2 ({reasons}); "
        f"{sum(len(r['entities']) for r in records)} entities; events: {shown}; wall time "), result.stdout
    # Written through Beam's FileSystems under temporary names, renamed when complete: none left over.
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]
    # No progress lines (their files would be on the workers' disk, not necessarily this one), no Prism log.
    assert result.stderr.strip().splitlines() == [f"replay: 2 file(s), 12 record(s) -> {tmp_path / 'out'}"]
    assert not wait_until_gone(sdk_worker_pool.workers), "the job's worker is left"
