"""Avro container files partitioned by publication date/hour, never seen half-written.

Files are written under a temporary dot-name and renamed when complete, so a reader listing
``*.avro`` never opens a partial file. Every file operation goes through Beam's
``FileSystems``, so the folder may be a local path or any URL a Beam file system serves
(``gs://``, ``s3://``, ``hdfs://``, with the matching Beam extra installed): the workers that
write need not share the launcher's disk. On a local disk the rename is atomic; on an object
store it is a copy and a delete, and the dot-name keeps the copy's source out of ``*.avro``.

With ``newsflow run --exactly-once`` the files follow the Kafka transaction that commits their
source offsets (``TransactionalAvroFiles``), so a record is in exactly one visible file however
often the run is killed:

1. Before the transaction commits, a *manifest* ``DIR/_transactions/OWNER/KEY.json`` is written
   naming the transaction's offsets ``(topic, partition, next offset)`` and its files; then
   each file is written complete under a hidden *pending* name (``.part-OWNER-KEY.avro.pending``;
   a manifest or file cut short by a crash is never published, see below). OWNER is the
   process's transactional id, KEY a digest of the source offset ranges the transaction
   covers, so the names are deterministic: the same ranges give the same names.
2. The transaction commits (records, dead letters and offsets together, or none of them).
3. The pending files are renamed to their final ``part-OWNER-KEY.avro`` names, then the
   manifest is deleted.

A crash before (2) leaves pending files and a manifest whose offsets the group has not
committed: the restarted process (same transactional id, which fences and aborts the dead
one's transaction first) deletes them, and re-reads those offsets, which may now be cut into
different ranges, hence different KEYs: the aborted files are gone, so nothing is doubled. A
crash between (2) and (3) leaves a manifest whose offsets *are* committed: the restart renames
its pending files into place (roll forward) and does not re-read those offsets. Whether a
manifest was committed is decided by the group's committed offsets alone (every partition of a
transaction moves past its previous mark, so committed >= the manifest's offsets exactly when
the transaction committed). Readers skip dot-files and the ``_transactions`` folder's JSON.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

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
        write_avro(tmp, schema_name, records, sync_marker)
        # Closed: an object store's upload is complete, the local file's bytes are on disk.
        FileSystems.rename([tmp], [path])
    except Exception:
        _delete_quietly(tmp)
        raise
    return len(records)


def write_avro(path: str, schema_name: str, records: list[dict], sync_marker: bytes | None = None) -> None:
    """Write an Avro container file at ``path`` as it is (no temporary name), on disk when this returns."""
    # Local folders are made by the local file system's create; object stores have none.
    with FileSystems.create(path, mime_type="application/x-avro",
                            compression_type=CompressionTypes.UNCOMPRESSED) as f:
        fastavro.writer(f, avro.raw_schema(schema_name), records, codec="deflate", sync_marker=sync_marker)
        if FileSystems.get_scheme(path) is None:
            # A local file must be on disk before a rename publishes it (and offsets are committed).
            f.flush()
            os.fsync(f.fileno())


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


TRANSACTIONS_FOLDER = "_transactions"
PENDING_SUFFIX = ".pending"
# (topic, partition, next offset): a transaction's offset commit for one source partition.
OffsetMark = tuple[str, int, int]


def owner_slug(transactional_id: str) -> str:
    """A transactional id as a file-name part (letters, digits, ``.``, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", transactional_id)


def range_key(ranges: Iterable[tuple[str, int, int, int]]) -> str:
    """A digest of ``(topic, partition, first, next)`` source ranges: the same ranges, the same file names."""
    text = ";".join(f"{t}:{p}:{a}-{b}" for t, p, a, b in sorted(ranges))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class StagedFiles:
    """The files of one transaction, complete under pending names, and its manifest."""

    manifest: str
    moves: tuple[tuple[str, str], ...]   # (pending path, final path)


class TransactionalAvroFiles:
    """Avro files made visible exactly when the Kafka transaction of their offsets commits (see the module doc)."""

    def __init__(self, root: str, transactional_id: str, schema_name: str = "enriched", by_hour: bool = True):
        self._root = root
        self._owner = owner_slug(transactional_id)
        self._schema_name = schema_name
        self._by_hour = by_hour
        self._manifests = FileSystems.join(root, TRANSACTIONS_FOLDER, self._owner)

    def stage(self, ranges: list[tuple[str, int, int, int]], marks: list[OffsetMark],
              records: list[dict]) -> StagedFiles | None:
        """Write the manifest, then ``records`` complete under pending names; None when there are no records."""
        if not records:
            return None
        key = range_key(ranges)
        groups: dict[str, list[dict]] = {}
        for record in records:
            groups.setdefault(partition_of(record, self._by_hour), []).append(record)
        moves = []
        for partition in sorted(groups):
            name = f"part-{self._owner}-{key}.avro"
            folder = FileSystems.join(self._root, *partition.split("/"))
            moves.append((FileSystems.join(folder, f".{name}{PENDING_SUFFIX}"), FileSystems.join(folder, name)))
        manifest = FileSystems.join(self._manifests, f"{key}.json")
        # No temporary names: a manifest cut short is not valid JSON (and has no pending files
        # yet), and a pending file is published only once its transaction has committed, which
        # is after it was complete; ``recover`` deletes both kinds of leftovers.
        _write_bytes(manifest, json.dumps(
            {"offsets": [list(mark) for mark in marks], "files": [list(move) for move in moves]}).encode("utf-8"))
        for (pending, _), partition in zip(moves, sorted(groups)):
            write_avro(pending, self._schema_name, groups[partition])
        return StagedFiles(manifest, tuple(moves))

    def publish(self, staged: StagedFiles | None) -> None:
        """The transaction committed: rename the pending files into place, then drop the manifest."""
        if staged is None:
            return
        for pending, final in staged.moves:
            if _exists(pending):
                FileSystems.rename([pending], [final])
        FileSystems.delete([staged.manifest])

    def discard(self, staged: StagedFiles | None) -> None:
        """The transaction was aborted: delete its pending files and manifest."""
        if staged is None:
            return
        for pending, _ in staged.moves:
            _delete_quietly(pending)
        _delete_quietly(staged.manifest)

    def recover(self, committed: Callable[[list[OffsetMark]], bool]) -> tuple[int, int]:
        """Settle what a crashed predecessor with this transactional id left: (rolled forward, discarded).

        ``committed(marks)`` says whether the group's committed offsets reached the marks (the
        caller has fenced the predecessor first, so its transaction is settled either way).
        """
        forward = discarded = 0
        for path in self._manifest_paths():
            try:
                with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                    manifest = json.loads(f.read().decode("utf-8"))
                staged = StagedFiles(path, tuple((pending, final) for pending, final in manifest["files"]))
                marks = [(topic, int(partition), int(offset)) for topic, partition, offset in manifest["offsets"]]
            except (ValueError, KeyError, TypeError):
                # Cut short by a crash, before any of its pending files was written: nothing else to settle.
                _delete_quietly(path)
                continue
            if marks and committed(marks):
                self.publish(staged)
                forward += 1
            else:
                self.discard(staged)
                discarded += 1
        return forward, discarded

    def _manifest_paths(self) -> list[str]:
        try:
            found = FileSystems.match([FileSystems.join(self._manifests, "*.json")])[0].metadata_list
        except Exception:  # noqa: BLE001 - no manifest folder yet (a first run): nothing to settle
            return []
        return sorted(meta.path for meta in found if not FileSystems.split(meta.path)[1].startswith("."))


def _exists(path: str) -> bool:
    return FileSystems.exists(path)


def _write_bytes(path: str, data: bytes) -> None:
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)
        if FileSystems.get_scheme(path) is None:
            f.flush()
            os.fsync(f.fileno())
