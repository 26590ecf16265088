"""Avro files go through Beam's FileSystems: a temporary dot-name, then a rename, on any Beam file system."""
import io
from datetime import datetime, timezone

import fastavro
import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.io.avro_files import PartitionedAvroWriter, TransactionalAvroFiles, partition_of, range_key, \
    write_file_atomically
from tests.io import memory_filesystem as mem

PROVENANCE = {"pipeline_version": "test", "spacy_model": "none", "spacy_model_version": "0",
              "event_model_version": "0", "processed_at": datetime(2026, 1, 1, tzinfo=timezone.utc)}


def enriched(article_id: str, published_at: datetime | None) -> dict:
    return {"id": article_id, "body": f"Body of {article_id}.", "published_at": published_at,
            "entities": [], "events": [], "provenance": PROVENANCE}


def read_back(path: str) -> list[dict]:
    with FileSystems.open(path) as f:
        return list(fastavro.reader(io.BytesIO(f.read())))


@pytest.fixture
def memory(tmp_path, monkeypatch):
    """An empty ``mem://`` store; the working folder is empty too, where open("mem://...") would write."""
    mem.reset()
    monkeypatch.chdir(tmp_path)
    yield mem
    assert list(tmp_path.iterdir()) == [], "something was written to the local disk"
    mem.reset()


def test_a_file_is_written_under_a_temporary_name_then_renamed_on_a_non_local_file_system(memory):
    path = "mem://bucket/out/dt=2005-01-10/part-00000.avro"
    written = write_file_atomically(path, "enriched", [enriched("a", None), enriched("b", None)])
    assert written == 2
    assert list(memory.OBJECTS) == [path]  # nothing else left behind
    (created,) = [call[1] for call in memory.CALLS if call[0] == "create"]
    # The bytes were uploaded under a dot-name beside the file, and published by a rename once complete.
    assert created.startswith("mem://bucket/out/dt=2005-01-10/.part-00000.avro.") and created.endswith(".tmp")
    assert memory.CALLS.index(("closed", created)) < memory.CALLS.index(("rename", created, path))
    assert [r["id"] for r in read_back(path)] == ["a", "b"]


def test_the_stream_writer_partitions_by_date_and_hour_on_a_non_local_file_system(memory):
    writer = PartitionedAvroWriter("mem://bucket/stream", "enriched")
    writer.write(enriched("x", datetime(2025, 6, 4, 9, 30, tzinfo=timezone.utc)))
    writer.write(enriched("y", datetime(2025, 6, 4, 9, 45, tzinfo=timezone.utc)))
    writer.write(enriched("z", None))
    paths = writer.finalize()
    assert sorted(memory.OBJECTS) == sorted(paths)
    assert [p.rsplit("/", 1)[0] for p in paths] == ["mem://bucket/stream/dt=2025-06-04/hour=09",
                                                    "mem://bucket/stream/dt=unknown"]
    assert [r["id"] for r in read_back(paths[0])] == ["x", "y"]
    assert all(call[1].rsplit("/", 1)[1].startswith(".") for call in memory.CALLS if call[0] == "create")


def test_a_failed_write_leaves_no_temporary_object(memory):
    with pytest.raises(Exception):
        write_file_atomically("mem://bucket/out/bad.avro", "enriched", [{"id": "no body"}])
    assert memory.OBJECTS == {}


def test_partitions_at_the_ends_of_the_calendar_keep_four_digit_years():
    assert partition_of({"published_at": -62135596800000}) == "dt=0001-01-01/hour=00"
    assert partition_of({"published_at": 253402300799000}) == "dt=9999-12-31/hour=23"


def visible(root) -> list[str]:
    """Files a reader of ``*.avro`` would open (non-hidden), relative to ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.avro") if not p.name.startswith("."))


def test_transactional_files_are_invisible_until_published_and_named_by_their_offset_ranges(tmp_path):
    files = TransactionalAvroFiles(str(tmp_path), "newsflow-g-raw-0of1")
    ranges = [("raw", 0, 100, 150), ("raw", 1, 7, 9)]
    records = [enriched("a", datetime(2026, 11, 30, 1, tzinfo=timezone.utc)),
               enriched("b", datetime(2026, 11, 30, 2, tzinfo=timezone.utc))]
    staged = files.stage(ranges, [("raw", 0, 150), ("raw", 1, 9)], records)
    assert visible(tmp_path) == []  # complete, but pending until the transaction commits
    files.publish(staged)
    names = visible(tmp_path)
    assert len(names) == 2 and all(f"-{range_key(ranges)}.avro" in name for name in names)
    assert [r["id"] for name in names for r in read_back(str(tmp_path / name))] == ["a", "b"]
    assert [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".avro")] == []


@pytest.mark.parametrize("committed", [True, False])
def test_recovery_publishes_a_committed_transaction_and_discards_an_aborted_one(tmp_path, committed):
    files = TransactionalAvroFiles(str(tmp_path), "owner")
    marks = [("raw", 0, 150)]
    files.stage([("raw", 0, 100, 150)], marks, [enriched("a", None)])  # then the process dies
    asked = []

    def reached(m):
        asked.append(m)
        return committed

    restarted = TransactionalAvroFiles(str(tmp_path), "owner")
    assert restarted.recover(reached) == ((1, 0) if committed else (0, 1))
    assert asked == [marks]
    assert visible(tmp_path) == (["dt=unknown/" + f"part-owner-{range_key([('raw', 0, 100, 150)])}.avro"]
                                 if committed else [])
    assert [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".avro")] == []
    assert restarted.recover(reached) == (0, 0)  # settled once


def test_a_rewrite_of_the_same_ranges_replaces_the_file_instead_of_adding_one(tmp_path):
    files = TransactionalAvroFiles(str(tmp_path), "owner")
    for _ in range(2):
        files.publish(files.stage([("raw", 0, 0, 2)], [("raw", 0, 2)], [enriched("a", None), enriched("b", None)]))
    names = visible(tmp_path)
    assert len(names) == 1 and [r["id"] for r in read_back(str(tmp_path / names[0]))] == ["a", "b"]
