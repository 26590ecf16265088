"""Avro files go through Beam's FileSystems: a temporary dot-name, then a rename, on any Beam file system."""
import io
from datetime import datetime, timezone

import fastavro
import pytest
from apache_beam.io.filesystems import FileSystems

from pipelines.io.avro_files import PartitionedAvroWriter, partition_of, write_file_atomically
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
