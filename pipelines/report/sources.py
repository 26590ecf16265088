"""Where a report's records come from: the Avro files of a run or replay, or a topic range.

Each source knows its size before reading (file block counts, offset ranges), for progress, and
yields ``(kind, record)`` with ``kind`` ``enriched`` or ``dead_letter``.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Iterator

import fastavro

from pipelines.io.consume import DEAD_LETTER_KIND, ENRICHED_KIND, avro_files, count_avro_dir, record_kind

UNDECODABLE_KIND = "undecodable"
IDLE_GIVE_UP_S = 30.0


@dataclass(frozen=True)
class AvroDirSource:
    """Every finished ``.avro`` file under a folder (``dt=…/``, ``dlq/``), dead letters included."""
    path: str

    def describe(self) -> str:
        return self.path

    def total(self) -> int:
        if not avro_files(self.path):   # also the check that the folder exists
            raise FileNotFoundError(f"no .avro files under {self.path} (the --avro-dir of a run or replay?)")
        return sum(count_avro_dir(self.path).values())

    def records(self) -> Iterator[tuple[str, dict]]:
        for name in avro_files(self.path):
            with open(name, "rb") as f:
                reader = fastavro.reader(f)
                kind = record_kind(reader.writer_schema)
                for record in reader:
                    yield kind, record


@dataclass(frozen=True)
class TopicRange:
    """One topic's offsets [start, end) in every partition."""
    topic: str
    ranges: tuple   # ((partition, start, end), ...)

    def size(self) -> int:
        return sum(end - start for _, start, end in self.ranges)


def resolve_range(consumer, topic: str, start_offsets: dict, end_offsets: dict,
                  start_time_ms: int | None, end_time_ms: int | None) -> TopicRange:
    """The offsets to read: explicit ones where given, else those of the times, else the whole topic as it is now."""
    from kafka import TopicPartition

    partitions = sorted(consumer.partitions_for_topic(topic) or ())
    if not partitions:
        raise ValueError(f"topic {topic} does not exist (or has no partitions)")
    tps = [TopicPartition(topic, p) for p in partitions]
    begins, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)

    def at_time(ms: int | None, fallback: dict) -> dict:
        if ms is None:
            return fallback
        found = consumer.offsets_for_times({tp: ms for tp in tps})
        return {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}

    starts, stops = at_time(start_time_ms, begins), at_time(end_time_ms, ends)
    ranges = []
    for tp in tps:
        start = max(begins[tp], start_offsets.get(tp.partition, starts[tp]))
        end = min(ends[tp], end_offsets.get(tp.partition, stops[tp]))
        ranges.append((tp.partition, start, max(start, end)))
    return TopicRange(topic, tuple(ranges))


@dataclass(frozen=True)
class TopicSource:
    """Offset ranges of the enriched topic and of the dead-letter topic (none when ``dlq_topic`` is None)."""
    bootstrap_servers: str
    topic: str
    dlq_topic: str | None = None
    start_offsets: tuple = ()     # ((partition, offset), ...) of ``topic``
    end_offsets: tuple = ()
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    schema_registry: str | None = None   # for Confluent wire-format values (pipelines.schema_registry)

    def describe(self) -> str:
        return f"topic {self.topic}" + (f" + {self.dlq_topic}" if self.dlq_topic else "")

    def _ranges(self, consumer) -> list[TopicRange]:
        ranges = [resolve_range(consumer, self.topic, dict(self.start_offsets), dict(self.end_offsets),
                                self.start_time_ms, self.end_time_ms)]
        if self.dlq_topic and consumer.partitions_for_topic(self.dlq_topic):
            # Offsets name positions of the enriched topic only; a time range bounds both.
            ranges.append(resolve_range(consumer, self.dlq_topic, {}, {}, self.start_time_ms, self.end_time_ms))
        return ranges

    def total(self) -> int:
        from pipelines.io.kafka_client import check_broker

        check_broker(self.bootstrap_servers)
        consumer = self._consumer()
        try:
            return sum(r.size() for r in self._ranges(consumer))
        finally:
            consumer.close()

    def _consumer(self):
        from pipelines.io.kafka_client import make_consumer

        return make_consumer(self.bootstrap_servers, group_id=None, enable_auto_commit=False)

    def records(self) -> Iterator[tuple[str, dict]]:
        from pipelines.schema_registry import RegistryClient

        registry = RegistryClient(self.schema_registry) if self.schema_registry else None
        consumer = self._consumer()
        try:
            for topic_range in self._ranges(consumer):
                yield from _read_range(consumer, topic_range, registry)
        finally:
            consumer.close()


def _read_range(consumer, topic_range: TopicRange, registry=None) -> Iterator[tuple[str, dict]]:
    from kafka import TopicPartition

    pending = {TopicPartition(topic_range.topic, p): end for p, start, end in topic_range.ranges if end > start}
    if not pending:
        return
    consumer.assign(list(pending))
    for p, start, _ in topic_range.ranges:
        tp = TopicPartition(topic_range.topic, p)
        if tp in pending:
            consumer.seek(tp, start)
    idle_since = time.monotonic()
    while pending:
        batch = consumer.poll(timeout_ms=1000, max_records=500)
        if batch:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_GIVE_UP_S:
            # Offsets below the end that never arrive (deleted by retention while we read): say so, go on.
            print(f"report: {topic_range.topic}: no record for {IDLE_GIVE_UP_S:.0f}s before the end offsets of "
                  f"partition(s) {sorted(tp.partition for tp in pending)}; reporting what was read", file=sys.stderr)
            return
        for tp, messages in batch.items():
            end = pending.get(tp)
            if end is None:
                continue
            for message in messages:
                if message.offset >= end:
                    break
                yield decode_message(message.value, registry)
            if messages and messages[-1].offset + 1 >= end or consumer.position(tp) >= end:
                _finish(consumer, pending, tp)
        if not batch:
            # A range can end at offsets that hold no record (compaction, transaction markers).
            for tp in list(pending):
                if consumer.position(tp) >= pending[tp]:
                    _finish(consumer, pending, tp)


def _finish(consumer, pending: dict, tp) -> None:
    """A partition read to its end: fetch no more of it."""
    del pending[tp]
    consumer.pause(tp)


def decode_message(value: bytes | None, registry=None) -> tuple[str, dict]:
    """An enriched record or a dead letter by its fields (single-object or, with ``registry``, Confluent
    wire format); anything else is counted as undecodable."""
    from pipelines.schema_registry import decode_any

    try:
        record = decode_any(value or b"", registry)
    except ValueError as exc:
        return UNDECODABLE_KIND, {"error": str(exc)}
    if "error_class" in record and "stage" in record:
        return DEAD_LETTER_KIND, record
    return ENRICHED_KIND, record
