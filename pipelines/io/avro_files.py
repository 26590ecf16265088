"""Avro container files partitioned by publication date/hour, never seen half-written.

Files are written under a temporary dot-name and renamed when complete, so a reader listing
``*.avro`` never opens a partial file. Every file operation goes through Beam's
``FileSystems``, so the folder may be a local path or any URL a Beam file system serves
(``gs://``, ``s3://``, ``hdfs://``, with the matching Beam extra installed): the workers that
write need not share the launcher's disk. On a local disk the rename is atomic; on an object
store it is a copy and a delete, and the dot-name keeps the copy's source out of ``*.avro``.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timezone
from typing import Iterable

import fastavro
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines import avro


def partition_of(record: dict, by_hour: bool = True) -> str:
    """``dt=YYYY-MM-DD/hour=HH`` of the record's published_at (epoch ms), or ``dt=unknown``."""
    published = record.get("published_at")
    if published is None:
        return "dt=unknown"
    if isinstance(published, datetime):
        moment = published.astimezone(timezone.utc)
    else:
        moment = datetime.fromtimestamp(published / 1000.0, tz=timezone.utc)
    day = f"dt={moment.year:04d}-{moment:%m-%d}"  # %Y is not zero-padded for years before 1000 (glibc)
    return f"{day}/hour={moment:%H}" if by_hour else day


def write_file_atomically(path: str, schema_name: str, records: Iterable[dict],
                          sync_marker: bytes | None = None) -> int:
    """Write records to ``path`` (local or a Beam file system URL) through a temporary name; return the count."""
    folder, name = FileSystems.split(path)
    tmp = FileSystems.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
    records = list(records)
    try:
        # Local folders are made by the local file system's create; object stores have none.
        with FileSystems.create(tmp, mime_type="application/x-avro",
                                compression_type=CompressionTypes.UNCOMPRESSED) as f:
            fastavro.writer(f, avro.raw_schema(schema_name), records, codec="deflate", sync_marker=sync_marker)
            if FileSystems.get_scheme(tmp) is None:
                # A local file must be on disk before the rename publishes it (and offsets are committed).
                f.flush()
                os.fsync(f.fileno())
        # Closed: an object store's upload is complete, the local file's bytes are on disk.
        FileSystems.rename([tmp], [path])
    except Exception:
        _delete_quietly(tmp)
        raise
    return len(records)


def _delete_quietly(path: str) -> None:
    """Remove a temporary file of a failed write, if it got as far as existing."""
    try:
        FileSystems.delete([path])
    except Exception:  # noqa: BLE001 - the write's own error is the one to report
        pass


class PartitionedAvroWriter:
    """Buffers records per date/hour partition and writes one finished file per partition on ``finalize``."""

    def __init__(self, root: str, schema_name: str = "enriched", prefix: str = "part", by_hour: bool = True):
        self._root = root
        self._schema_name = schema_name
        self._prefix = prefix
        self._by_hour = by_hour
        self._writer_id = uuid.uuid4().hex[:12]
        self._sequence = 0
        self._pending: dict[str, list[dict]] = {}

    def write(self, record: dict) -> None:
        self._pending.setdefault(partition_of(record, self._by_hour), []).append(record)

    def finalize(self) -> list[str]:
        """Write every buffered partition to its file; return the finished paths."""
        written = []
        for partition, records in sorted(self._pending.items()):
            self._sequence += 1
            path = FileSystems.join(self._root, *partition.split("/"),
                                    f"{self._prefix}-{self._writer_id}-{self._sequence:06d}.avro")
            write_file_atomically(path, self._schema_name, records)
            written.append(path)
        self._pending.clear()
        return written


def deterministic_sync_marker(name: str) -> bytes:
    """A sync marker derived from the file name, so identical inputs give identical bytes."""
    return hashlib.md5(name.encode("utf-8")).digest()
