"""Avro container files partitioned by publication date/hour, never seen half-written.

Files are written under a temporary dot-name and renamed when complete (an atomic rename
on one file system), so a reader listing ``*.avro`` never opens a partial file.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import fastavro

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
    day = f"dt={moment:%Y-%m-%d}"
    return f"{day}/hour={moment:%H}" if by_hour else day


def write_file_atomically(path: Path, schema_name: str, records: Iterable[dict],
                          sync_marker: bytes | None = None) -> int:
    """Write records to ``path`` through a temporary name; return how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    records = list(records)
    with open(tmp, "wb") as f:
        fastavro.writer(f, avro.raw_schema(schema_name), records, codec="deflate", sync_marker=sync_marker)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return len(records)


class PartitionedAvroWriter:
    """Buffers records per date/hour partition and writes one finished file per partition on ``finalize``."""

    def __init__(self, root: str | Path, schema_name: str = "enriched", prefix: str = "part", by_hour: bool = True):
        self._root = Path(root)
        self._schema_name = schema_name
        self._prefix = prefix
        self._by_hour = by_hour
        self._writer_id = uuid.uuid4().hex[:12]
        self._sequence = 0
        self._pending: dict[str, list[dict]] = {}

    def write(self, record: dict) -> None:
        self._pending.setdefault(partition_of(record, self._by_hour), []).append(record)

    def finalize(self) -> list[Path]:
        """Write every buffered partition to its file; return the finished paths."""
        written = []
        for partition, records in sorted(self._pending.items()):
            self._sequence += 1
            path = self._root / partition / f"{self._prefix}-{self._writer_id}-{self._sequence:06d}.avro"
            write_file_atomically(path, self._schema_name, records)
            written.append(path)
        self._pending.clear()
        return written


def deterministic_sync_marker(name: str) -> bytes:
    """A sync marker derived from the file name, so identical inputs give identical bytes."""
    return hashlib.md5(name.encode("utf-8")).digest()
