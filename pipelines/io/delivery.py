"""Where enriched records and dead letters go, and when source offsets may be committed.

Streaming delivery is element-wise on purpose (Beam's FnApiRunner never fires windows in
streaming mode): ``Delivery`` sends enriched records to ``articles.enriched`` and dead
letters to ``articles.dlq`` with an idempotent producer, buffers Avro records, and at the end
of every bundle (1) flushes the producer, (2) finalizes the Avro files, and only then (3)
hands the source ranges of what it wrote to a ``CommitLedger`` and commits the ledger's
contiguous low-water marks (``pipelines.io.offsets``). No offset is committed while any record
below it is undelivered, whatever the runner's fusion, bundle order or retries; a crash re-
delivers from the lowest hole, with unchanged ids, so consumers de-duplicate: at-least-once.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from pipelines import avro
from pipelines.config import DEFAULT_BROKER_TIMEOUT_SECONDS, METRICS_NAMESPACE
from pipelines.health import HealthFile, Heartbeat
from pipelines.io.avro_files import PartitionedAvroWriter
from pipelines.io.offsets import CommitLedger
from pipelines.io.retry import client_outage, producer_waits, retry
from pipelines.io.topics import DLQ_TOPIC, ENRICHED_TOPIC


ENRICHED = "enriched"
DEAD = "dead"
# Counters of what reached the sinks: the closing account of ``newsflow run`` is read from them.
DELIVERED_ENRICHED = "delivered_enriched"
DELIVERED_DEAD_PREFIX = "delivered_dead_"


@dataclass(frozen=True)
class DeliveryConfig:
    """Sinks of one pipeline run; any of them may be switched off (None)."""

    bootstrap_servers: str | None = None
    output_topic: str | None = ENRICHED_TOPIC
    dlq_topic: str | None = DLQ_TOPIC
    avro_dir: str | None = None
    commit_group: str | None = None       # commit source offsets for this group after durable output
    progress_seconds: float = 10.0
    health: HealthFile | None = None      # beat here at every record and bundle (``pipelines.health``)
    # A broker outage is waited out this long (``pipelines.io.retry``): sends and commits retry.
    broker_timeout_seconds: float = DEFAULT_BROKER_TIMEOUT_SECONDS


def source_range(kind: str, record: dict) -> tuple[str, int, int, int] | None:
    """``(topic, partition, first, last)``: the source offsets an output answers for, or None (archive input)."""
    from pipelines.pipeline.enrich import READ_FROM

    if kind == ENRICHED:
        position = record.get("kafka")
        if not position:
            return None
        topic, partition, offset = position["topic"], position["partition"], position["offset"]
    else:
        if record.get("topic") is None:
            return None
        topic, partition, offset = record["topic"], record["partition"], record["offset"]
    # Without a read range (an older reader), the record answers for its own offset only: a gap
    # Kafka skipped then holds commits back, which is safe.
    first = record.get(READ_FROM)
    return topic, partition, offset if first is None else min(first, offset), offset


class Delivery:
    """The sinks of one pipeline in one worker process, shared by the enriched and dead-letter steps.

    It may be shared by bundles that run concurrently or finish in any order, and a bundle may
    fail half-written: so what counts for commits is only what was written *and* flushed, as
    source ranges in a ``CommitLedger``, never "the highest offset seen".
    """

    def __init__(self, cfg: DeliveryConfig, log: Callable[[str], None] | None):
        from pipelines.io.kafka_client import make_consumer, make_producer

        self._cfg = cfg
        self._log = log
        self._lock = threading.Lock()
        self._producer = self._committer = self._avro = None
        if cfg.bootstrap_servers and (cfg.output_topic or cfg.dlq_topic):
            self._producer = make_producer(cfg.bootstrap_servers, **producer_waits(cfg.broker_timeout_seconds))
        if cfg.bootstrap_servers and cfg.commit_group:
            self._committer = make_consumer(cfg.bootstrap_servers, group_id=cfg.commit_group)
        if cfg.avro_dir:
            self._avro = PartitionedAvroWriter(cfg.avro_dir, "enriched")
        self._schemas = {ENRICHED: avro.load_schema("enriched"), DEAD: avro.load_schema("dead_letter")}
        self._unflushed: list[tuple[str, int, int, int]] = []  # source ranges written, not yet durable
        self._sent: list = []  # futures of the sends since the last flush
        # Sends and commits wait out a broker outage; the run's BrokerWatch says so and gives up first.
        self._outage = client_outage(cfg.bootstrap_servers, cfg.broker_timeout_seconds) if cfg.bootstrap_servers else None
        self._ledger = CommitLedger()
        self._counts = Counter()
        self._last_progress = self._last_progress_at = time.monotonic()
        self._last_total = 0
        self._heartbeat = Heartbeat(cfg.health) if cfg.health else None

    def write(self, kind: str, record: dict) -> None:
        with self._lock:
            if kind == ENRICHED:
                if self._producer and self._cfg.output_topic:
                    self._sent.append(self._producer.send(self._cfg.output_topic, key=record["id"].encode("utf-8"),
                                        value=avro.encode(record, self._schemas[ENRICHED])))
                if self._avro:
                    self._avro.write(record)
            else:
                if self._producer and self._cfg.dlq_topic:
                    self._sent.append(self._producer.send(self._cfg.dlq_topic, key=record.get("key"),
                                        value=avro.encode(record, self._schemas[DEAD])))
            self._counts[kind] += 1
            position = source_range(kind, record)
            if position:
                self._unflushed.append(position)
            self._beat()

    def flush_and_commit(self) -> None:
        with self._lock:
            if self._producer:
                self._producer.flush()
                sent, self._sent = self._sent, []
                for future in sent:
                    if future.failed():
                        # Not delivered: commit nothing past it; the bundle fails and is read again.
                        raise future.exception
            if self._avro:
                self._avro.finalize()
            # Everything written so far is durable now (whichever bundle wrote it).
            durable, self._unflushed = self._unflushed, []
            self._commit(durable)
            self._beat()
            now = time.monotonic()
            total = self._counts[ENRICHED] + self._counts[DEAD]
            due = now - self._last_progress >= self._cfg.progress_seconds
            # While idle, say so once a minute instead of every interval.
            idle = total == self._last_total and now - self._last_progress < 60
            if self._log and due and not idle:
                self._last_progress = now
                self._log(self.progress_line(now))

    def _beat(self) -> None:
        if self._heartbeat:
            self._heartbeat.beat(self._counts[ENRICHED] + self._counts[DEAD])

    def progress_line(self, now: float) -> str:
        total = self._counts[ENRICHED] + self._counts[DEAD]
        rate = (total - self._last_total) / max(now - self._last_progress_at, 1e-9)
        self._last_total, self._last_progress_at = total, now
        return (f"progress: {total} done = {self._counts[ENRICHED]} enriched + {self._counts[DEAD]} dead-lettered "
                f"({rate:.1f} articles/s since the last line)")

    def _commit(self, durable: list[tuple[str, int, int, int]]) -> None:
        if not self._committer or not durable:
            return
        from kafka import OffsetAndMetadata, TopicPartition

        for topic, partition, _, _ in durable:
            if not self._ledger.knows((topic, partition)):
                self._ledger.start((topic, partition), self._base(TopicPartition(topic, partition)))
        self._ledger.delivered(durable)
        due = self._ledger.due()
        if due:
            offsets = {TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
                       for (topic, partition), offset in due.items()}
            retry(lambda: self._committer.commit(offsets=offsets), self._outage)
            self._ledger.confirm(due)

    def _base(self, tp) -> int:
        """Where tracking of a partition starts: the group's committed offset, a true low-water mark.

        The streaming reader commits its start when the group has none; without any commit
        (a reader that does not), the earliest retained offset is the only safe floor.
        """
        committed = retry(lambda: self._committer.committed(tp), self._outage)
        if committed is not None:
            return committed
        return retry(lambda: self._committer.beginning_offsets([tp])[tp], self._outage)


class DeliverFn(beam.DoFn):
    """Hands records of one kind to the process-wide ``Delivery``; flushes and commits per bundle."""

    def __init__(self, cfg: DeliveryConfig, kind: str, shared_handle: Shared, log=None):
        self._cfg = cfg
        self._kind = kind
        self._shared = shared_handle
        self._log = log
        self._delivery = None
        self._counters = {}

    def _count(self, record: dict) -> None:
        name = DELIVERED_ENRICHED if self._kind == ENRICHED else DELIVERED_DEAD_PREFIX + record["error_class"]
        if name not in self._counters:
            self._counters[name] = Metrics.counter(METRICS_NAMESPACE, name)
        self._counters[name].inc()

    def setup(self):
        cfg, log = self._cfg, self._log
        self._delivery = self._shared.acquire(lambda: Delivery(cfg, log))

    def process(self, record: dict) -> None:
        self._delivery.write(self._kind, record)
        self._count(record)

    def finish_bundle(self):
        self._delivery.flush_and_commit()

    def teardown(self):
        if self._delivery is not None:
            self._delivery.flush_and_commit()


class DeliverOutputs(beam.PTransform):
    """Sends enriched records and dead letters to their sinks (see the module doc for the commit order)."""

    def __init__(self, cfg: DeliveryConfig, log: Callable[[str], None] | None = None):
        super().__init__()
        self._cfg = cfg
        self._log = log

    def expand(self, outputs):
        # No Flatten here: two steps share one Delivery, so the whole stream stays one fused stage.
        shared = Shared()
        enriched = outputs["enriched"] | "DeliverEnriched" >> beam.ParDo(
            DeliverFn(self._cfg, ENRICHED, shared, self._log))
        dead = outputs["dead_letter"] | "DeliverDeadLetters" >> beam.ParDo(
            DeliverFn(self._cfg, DEAD, shared, self._log))
        return {"enriched": enriched, "dead_letter": dead}
