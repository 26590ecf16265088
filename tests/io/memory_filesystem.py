"""``mem://``: a Beam file system over a dict, shaped like an object store, for unit tests.

Beam 2.77 registers no in-memory file system (only local, gs, s3, azure and hdfs, whose
servers do not run here). This one behaves as an object store does for Beam's ``FileSystems``:
no folders, an object exists only once its writer is closed, rename is copy then delete. It
logs every call, so a test can check how a writer used it.
"""
from __future__ import annotations

import io
import time

from apache_beam.io.filesystem import CompressionTypes, FileMetadata, FileSystem

OBJECTS: dict[str, bytes] = {}
CALLS: list[tuple] = []


def reset() -> None:
    OBJECTS.clear()
    CALLS.clear()


class _Upload(io.RawIOBase):
    """A write channel that publishes its bytes when closed, and cannot seek (as an upload cannot)."""

    def __init__(self, path: str):
        super().__init__()
        self._path = path
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def close(self) -> None:
        if not self.closed:
            OBJECTS[self._path] = b"".join(self._chunks)
            CALLS.append(("closed", self._path))
        super().close()


class MemoryFileSystem(FileSystem):
    """Objects in ``OBJECTS``, keyed by their full ``mem://`` URL."""

    @classmethod
    def scheme(cls):
        return "mem"

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path):
        pass  # no folders in an object store

    def has_dirs(self):
        return False

    def _list(self, dir_or_prefix):
        for path, data in sorted(OBJECTS.items()):
            if path.startswith(dir_or_prefix):
                yield FileMetadata(path, len(data), 0.0)

    def create(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        CALLS.append(("create", path))
        return _Upload(path)

    def open(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        CALLS.append(("open", path))
        return io.BytesIO(OBJECTS[path])

    def copy(self, source_file_names, destination_file_names):
        for source, destination in zip(source_file_names, destination_file_names):
            OBJECTS[destination] = OBJECTS[source]

    def rename(self, source_file_names, destination_file_names):
        for source, destination in zip(source_file_names, destination_file_names):
            CALLS.append(("rename", source, destination))
            OBJECTS[destination] = OBJECTS.pop(source)

    def exists(self, path):
        return path in OBJECTS

    def size(self, path):
        return len(OBJECTS[path])

    def last_updated(self, path):
        return time.time()

    def checksum(self, path):
        return str(hash(OBJECTS[path]))

    def metadata(self, path):
        return FileMetadata(path, len(OBJECTS[path]), 0.0)

    def delete(self, paths):
        for path in paths:
            CALLS.append(("delete", path))
            OBJECTS.pop(path, None)
