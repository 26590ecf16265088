"""Read enriched records: the consumer library behind ``newsflow consume`` and ``newsflow export``.

Two sources, one shape. ``TopicReader`` reads a Kafka topic (by default ``articles.enriched``)
and ``AvroFolderReader`` reads the Avro files of ``newsflow run``/``replay``; both iterate the
records as dicts (fastavro's values: datetimes for timestamps) or, through ``.articles()``, as
``EnrichedArticle`` dataclasses, and both drop the repeats of an ``id`` seen within the last
``dedup_window`` records (delivery is at-least-once, so a restart can deliver a record twice).

The topic reader uses a consumer group when given one and commits only the offsets of records it
has handed out (never a fetched record the caller did not get), reads with
``isolation_level='read_committed'`` (records of aborted transactions are never seen), and stops
after ``idle_timeout_s`` without a record (counted from when it has its partitions: a group join
can take seconds on a loaded broker; up to ``JOIN_GRACE_S``), after ``max_records``, or with
``until_end`` at the end of the topic as it was when reading began. A value that is not an enriched record is not
raised mid-stream: it is counted in ``stats.undecodable`` and handed to ``on_undecodable``. Values are Avro single-object (``C3 01``) or, given a
``schema_registry`` URL, the Confluent wire format (``00`` + schema id) too, told apart by the
first byte: a topic holding both reads as one. A registry that cannot be reached is raised
(``RegistryUnavailableError``), not counted: it is not a fault of the record.

    from pipelines.io.consumer import TopicReader
    with TopicReader("localhost:9092", group_id="my-app", from_beginning=True) as reader:
        for article in reader.articles():
            print(article.id, [e.event_type for e in article.events])
"""
from __future__ import annotations

import glob
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import fastavro

from pipelines.io.enriched import EnrichedArticle
from pipelines.io.kafka_client import make_consumer
from pipelines.io.topics import ENRICHED_TOPIC
from pipelines.schema_registry import RegistryClient, decode_any

ENRICHED_KIND, DEAD_LETTER_KIND = "enriched", "dead_letter"
DEFAULT_DEDUP_WINDOW = 100_000
# How long a reader may wait for its partitions (a group join) before the idle timeout runs.
JOIN_GRACE_S = 60.0
Record = dict[str, Any]


@dataclass
class ReadStats:
    """What a reader has seen: every record read is yielded, a duplicate or undecodable."""

    read: int = 0
    yielded: int = 0
    duplicates: int = 0
    undecodable: int = 0


@dataclass(frozen=True)
class Undecodable:
    """A topic value that is not a record of a known schema, with where it was and why."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    error: str


def decode_enriched(value: bytes | None, registry: RegistryClient | None = None) -> Record:
    """An Avro value as a record, single-object or (with ``registry``) Confluent wire format by its
    first byte; ``ValueError`` for anything else (null, JSON, unknown schema)."""
    if value is None:
        raise ValueError("null value (a tombstone, or a message without a value)")
    return decode_any(value, registry)


class RecentIds:
    """The last ``size`` ids seen (oldest forgotten first): at-least-once repeats are near each other."""

    def __init__(self, size: int):
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, record_id: str) -> bool:
        """True when ``record_id`` is among the recent ones; else remember it."""
        if self._size <= 0:
            return False
        if record_id in self._ids:
            self._ids.move_to_end(record_id)
            return True
        self._ids[record_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return False


def _dedup(records: Iterator[Record], stats: ReadStats, window: int) -> Iterator[Record]:
    recent = RecentIds(window)
    for record in records:
        stats.read += 1
        record_id = record.get("id")
        if isinstance(record_id, str) and recent.seen(record_id):
            stats.duplicates += 1
            continue
        stats.yielded += 1
        yield record


class TopicReader:
    """Enriched records of a Kafka topic, de-duplicated by ``id``; a context manager (closes the consumer)."""

    def __init__(self, bootstrap_servers: str, topic: str = ENRICHED_TOPIC, *, group_id: str | None = None,
                 from_beginning: bool = False, isolation_level: str = "read_committed",
                 dedup_window: int = DEFAULT_DEDUP_WINDOW, idle_timeout_s: float | None = 10.0,
                 max_records: int | None = None, until_end: bool = False,
                 on_undecodable: Callable[[Undecodable], None] | None = None,
                 decode: Callable[..., Record] | None = None, schema_registry: str | None = None,
                 **consumer_config: Any):
        self.topic = topic
        self.stats = ReadStats()
        self._group_id = group_id
        self._dedup_window = dedup_window
        self._idle_timeout_s = idle_timeout_s
        self._max_records = max_records
        self._until_end = until_end
        self._on_undecodable = on_undecodable
        self._decode_value = decode or decode_enriched
        # Confluent wire-format values name their writer schema by a registry id (fetched once each).
        self.registry = RegistryClient(schema_registry) if schema_registry else None
        self._consumer = make_consumer(
            bootstrap_servers, topic, group_id=group_id, isolation_level=isolation_level,
            auto_offset_reset="earliest" if from_beginning else "latest",
            enable_auto_commit=False, **consumer_config)
        self._to_commit: dict = {}
        self._closed = False

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Record]:
        """The records as dicts (fastavro's values), in partition order, repeats of an id dropped."""
        return self._limited(_dedup(self._decoded(), self.stats, self._dedup_window))

    def articles(self) -> Iterator[EnrichedArticle]:
        """The records as ``EnrichedArticle`` dataclasses."""
        return (EnrichedArticle.from_record(record) for record in self)

    def commit(self) -> None:
        """Commit the offsets past every record handed out so far (with a group; a no-op without)."""
        if self._group_id and self._to_commit:
            from kafka.structs import OffsetAndMetadata

            self._consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in self._to_commit.items()})
            self._to_commit = {}

    def close(self) -> None:
        """Commit what was handed out (with a group) and close the consumer."""
        if self._closed:
            return
        self._closed = True
        try:
            self.commit()
        finally:
            self._consumer.close(autocommit=False)

    # -- internals ---------------------------------------------------------------------

    def _limited(self, records: Iterator[Record]) -> Iterator[Record]:
        if self._max_records is not None and self._max_records <= 0:
            return
        for record in records:
            yield record
            if self._max_records is not None and self.stats.yielded >= self._max_records:
                return

    def _end_offsets(self) -> dict | None:
        """The end of each partition as reading begins (read_committed: the last stable offset)."""
        if not self._until_end:
            return None
        from kafka.structs import TopicPartition

        partitions = self._consumer.partitions_for_topic(self.topic) or set()
        return self._consumer.end_offsets([TopicPartition(self.topic, p) for p in sorted(partitions)])

    def _at_end(self, ends: dict) -> bool:
        if not any(ends.values()):
            return True  # an empty topic (or one with no partitions)
        assigned = self._consumer.assignment()
        if not assigned:
            return False
        return all(self._consumer.position(tp) >= ends.get(tp, 0) for tp in assigned) and \
            all(tp in assigned or end == 0 for tp, end in ends.items())

    def _decoded(self) -> Iterator[Record]:
        ends = self._end_offsets()
        started = last = time.monotonic()
        while True:
            # Offsets of the batch before are committed only now: the caller has taken its records.
            self.commit()
            if ends is not None and self._at_end(ends):
                return
            batch = self._consumer.poll(timeout_ms=500, max_records=500)
            if not batch:
                now = time.monotonic()
                if not self._consumer.assignment() and now - started < JOIN_GRACE_S:
                    # Joining a group (or a broker just started) is not time without records.
                    last = now
                elif self._idle_timeout_s is not None and now - last > self._idle_timeout_s:
                    return
                continue
            last = time.monotonic()
            for tp, messages in sorted(batch.items()):
                for msg in messages:
                    record = self._decode(msg)
                    self._to_commit[tp] = msg.offset + 1
                    if record is not None:
                        yield record

    def _decode(self, msg) -> Record | None:
        try:
            if self.registry is None:  # a caller's own decode may take the value alone
                return self._decode_value(msg.value)
            return self._decode_value(msg.value, self.registry)
        except ValueError as exc:  # NotSingleObject, UnknownSchema, BadAvro are ValueErrors
            self.stats.read += 1
            self.stats.undecodable += 1
            if self._on_undecodable is not None:
                self._on_undecodable(Undecodable(msg.topic, msg.partition, msg.offset, msg.value, str(exc)))
            return None


def avro_files(path: str) -> list[str]:
    """The finished Avro files at ``path`` (a file, or a folder searched recursively), in name order."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no such file or folder: {path}")
    return [name for name in sorted(glob.glob(os.path.join(path, "**", "*.avro"), recursive=True))
            if not os.path.basename(name).startswith(".")]  # temporary files of writers still at work


def record_kind(writer_schema: Any) -> str:
    """``enriched`` or ``dead_letter``, by the record name the file was written with."""
    name = writer_schema.get("name", "") if isinstance(writer_schema, dict) else ""
    return DEAD_LETTER_KIND if name.endswith("DeadLetter") else ENRICHED_KIND


class AvroFolderReader:
    """Records of the finished Avro files under a folder (or one file), of one kind, de-duplicated by ``id``.

    ``kind`` is ``enriched`` (default) or ``dead_letter`` (a replay's ``DIR/dlq/``); dead letters
    have no ``id`` and are never de-duplicated. Files are read in name order, so a folder gives
    the same sequence every time.
    """

    def __init__(self, path: str, kind: str = ENRICHED_KIND, *, dedup_window: int = DEFAULT_DEDUP_WINDOW):
        if kind not in (ENRICHED_KIND, DEAD_LETTER_KIND):
            raise ValueError(f"kind must be {ENRICHED_KIND!r} or {DEAD_LETTER_KIND!r}, not {kind!r}")
        self.files = avro_files(path)  # also the check that it exists, before any reading
        self.kind = kind
        self.stats = ReadStats()
        self._dedup_window = dedup_window if kind == ENRICHED_KIND else 0

    def __iter__(self) -> Iterator[Record]:
        return _dedup(self._records(), self.stats, self._dedup_window)

    def articles(self) -> Iterator[EnrichedArticle]:
        """The enriched records as ``EnrichedArticle`` dataclasses."""
        if self.kind != ENRICHED_KIND:
            raise ValueError("dead letters are not articles: iterate the reader for their dicts")
        return (EnrichedArticle.from_record(record) for record in self)

    def counts(self) -> dict[str, int]:
        """Records per kind in these files, from block headers (no decoding)."""
        counts = {ENRICHED_KIND: 0, DEAD_LETTER_KIND: 0}
        for name in self.files:
            with open(name, "rb") as f:
                blocks = fastavro.block_reader(f)
                counts[record_kind(blocks.writer_schema)] += sum(block.num_records for block in blocks)
        return counts

    def _records(self) -> Iterator[Record]:
        for name in self.files:
            with open(name, "rb") as f:
                reader = fastavro.reader(f)
                if record_kind(reader.writer_schema) != self.kind:
                    continue
                for record in reader:
                    if isinstance(record, dict):  # a record schema gives dicts
                        yield record
