"""Where enriched records and dead letters go, and when source offsets may be committed.

Streaming delivery is element-wise on purpose (Beam's FnApiRunner never fires windows in
streaming mode): ``Delivery`` sends enriched records to ``articles.enriched`` and dead
letters to ``articles.dlq``, writes Avro files, and commits source offsets. Two modes:

**At-least-once** (the default): records are sent as they come with an idempotent producer,
Avro records are buffered, and at the end of every bundle ``Delivery`` (1) flushes the
producer, (2) finalizes the Avro files, and only then (3) hands the source ranges of what it
wrote to a ``CommitLedger`` and commits the ledger's contiguous low-water marks
(``pipelines.io.offsets``). No offset is committed while any record below it is undelivered,
whatever the runner's fusion, bundle order or retries; a crash re-delivers from the lowest
hole, with unchanged ids, so consumers de-duplicate. The bound on re-delivery after a crash:
what was written since the last commit, i.e. the bundle in progress in each process (on the
embedded runner one poll of each partition the process reads: at most partitions x
``--max-poll-records`` records per process), plus, on runners that finish bundles out of
order, ranges delivered above a hole.

**Exactly-once** (``newsflow run --exactly-once``, ``DeliveryConfig.transactional_id``): the
producer is transactional, with a stable id per worker share (``transactional_id``), and
``init_transactions`` fences a predecessor with the same id (a killed or hung process) and
aborts its open transaction. Records are held, keyed by their source offset, and at the end of
every bundle the ones whose source ranges are contiguous with the partition's committed offset
are sent in one transaction together with the new offsets (``send_offsets_to_transaction``):
the enriched topic, the dead-letter topic and the group's offsets move together or not at all,
and readers with ``isolation_level=read_committed`` see each input once. Holding by offset also
makes a retried bundle replace its failed attempt, and drops what a stale reader re-reads below
the committed offset. Avro files follow the transaction through pending names and a manifest
(``avro_files.TransactionalAvroFiles``). Cost: one transaction per bundle (see
``scripts/bench_exactly_once.py``). The guarantee rests on each partition's records being
delivered by one process (the embedded runner with its ``--worker``/``--processes`` shares;
``run`` refuses the flag on other runners), and on a restarted process keeping its
transactional id (same ``--group-id``, ``--input-topic``, ``--worker`` and ``--processes``).
Where a crash can fall: while records are held (nothing was sent: they are read again); inside
the transaction (the successor's ``init_transactions`` aborts it, ``recover`` deletes its
pending Avro files, the offsets are read again, perhaps cut into other bundles); between the
commit and the Avro rename (``recover`` finds the offsets committed and publishes the files).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from pipelines import avro
from pipelines.schema_registry import ValueEncoder
from pipelines.config import DEFAULT_BROKER_TIMEOUT_SECONDS, METRICS_NAMESPACE
from pipelines.health import HealthFile, Heartbeat
from pipelines.io.avro_files import PartitionedAvroWriter, TransactionalAvroFiles
from pipelines.io.offsets import CommitLedger
from pipelines.io.retry import client_outage, producer_waits, retry
from pipelines.io.topics import DLQ_TOPIC, ENRICHED_TOPIC

LOG = logging.getLogger(__name__)
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
    # Exactly-once: outputs and offsets in one Kafka transaction of this id (needs commit_group).
    transactional_id: str | None = None
    # A broker outage is waited out this long (``pipelines.io.retry``): sends and commits retry.
    broker_timeout_seconds: float = DEFAULT_BROKER_TIMEOUT_SECONDS
    # Values in the Confluent wire format, schemas registered here (else Avro single-object).
    schema_registry: str | None = None


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

    def _value(self, kind: str, record: dict, topic: str) -> bytes:
        """The Kafka value of a record: Confluent-framed with a registry, single-object without."""
        if not hasattr(self, "_encoder"):  # made here: TransactionalDelivery has an __init__ of its own
            self._encoder = ValueEncoder(self._cfg.schema_registry)
        return self._encoder.encode(record, "enriched" if kind == ENRICHED else "dead_letter", topic)

    def write(self, kind: str, record: dict) -> None:
        with self._lock:
            if kind == ENRICHED:
                if self._producer and self._cfg.output_topic:
                    self._sent.append(self._producer.send(self._cfg.output_topic, key=record["id"].encode("utf-8"),
                                        value=self._value(ENRICHED, record, self._cfg.output_topic)))
                if self._avro:
                    self._avro.write(record)
            else:
                if self._producer and self._cfg.dlq_topic:
                    self._sent.append(self._producer.send(self._cfg.dlq_topic, key=record.get("key"),
                                        value=self._value(DEAD, record, self._cfg.dlq_topic)))
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
            self._progress()

    def _progress(self) -> None:
        """A progress line when one is due; while idle, once a minute instead of every interval."""
        now = time.monotonic()
        total = self._counts[ENRICHED] + self._counts[DEAD]
        due = now - self._last_progress >= self._cfg.progress_seconds
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


class TransactionalDelivery(Delivery):
    """Exactly-once sinks: records held by source offset, released in Kafka transactions with their offsets.

    See the module doc. A partition's records are released in offset order once their ranges
    reach down to its committed offset; what is released goes out in one transaction with the
    new offsets, and its Avro files are published once that transaction has committed.
    """

    def __init__(self, cfg: DeliveryConfig, log: Callable[[str], None] | None):
        from pipelines.io.kafka_client import make_consumer, make_producer

        if not (cfg.bootstrap_servers and cfg.commit_group):
            raise ValueError("exactly-once delivery needs a broker and a consumer group")
        self._cfg = cfg
        self._log = log
        self._lock = threading.Lock()
        self._committer = make_consumer(cfg.bootstrap_servers, group_id=cfg.commit_group)
        self._producer = make_producer(cfg.bootstrap_servers, transactional_id=cfg.transactional_id,
                                       client_id="newsflow-producer-eos", **producer_waits(cfg.broker_timeout_seconds))
        self._outage = client_outage(cfg.bootstrap_servers, cfg.broker_timeout_seconds)
        # Fences a predecessor with this id and settles its open transaction (aborted, or
        # completed if it had begun committing) before anything here reads committed offsets.
        self._producer.init_transactions()
        self._avro = None
        if cfg.avro_dir:
            self._avro = TransactionalAvroFiles(cfg.avro_dir, cfg.transactional_id, "enriched")
            forward, discarded = self._avro.recover(self._reached)
            if forward or discarded:
                LOG.info("exactly-once: settled a predecessor's Avro files: %d transactions published, "
                         "%d discarded", forward, discarded)
        self._schemas = {ENRICHED: avro.load_schema("enriched"), DEAD: avro.load_schema("dead_letter")}
        self._marks: dict[tuple[str, int], int] = {}   # next offset to deliver = the group's committed offset
        # (topic, partition) -> {offset: (first, kind, record)}: written, not yet released
        self._held: dict[tuple[str, int], dict[int, tuple[int, str, dict]]] = {}
        self._loose: list[tuple[str, dict]] = []       # records without a source offset (archive input)
        self._counts = Counter()
        self._last_progress = self._last_progress_at = time.monotonic()
        self._last_total = 0
        self._heartbeat = Heartbeat(cfg.health) if cfg.health else None

    def write(self, kind: str, record: dict) -> None:
        with self._lock:
            position = source_range(kind, record)
            if position is None:
                self._loose.append((kind, record))
            else:
                topic, partition, first, offset = position
                # Keyed by offset: a retried bundle's record replaces the failed attempt's.
                self._held.setdefault((topic, partition), {})[offset] = (first, kind, record)
            self._counts[kind] += 1
            self._beat()

    def flush_and_commit(self) -> None:
        with self._lock:
            self._commit_transaction()
            self._beat()
            self._progress()

    def held(self) -> int:
        """Records written but waiting for a hole below them (never, with in-order reading in one process)."""
        return sum(len(records) for records in self._held.values())

    def _release(self):
        """Records whose ranges are contiguous with the committed offsets: (records, ranges, new marks)."""
        released, ranges, marks = list(self._loose), [], {}
        for tp, records in self._held.items():
            if not records:
                continue
            mark = start = self._mark(tp)
            for offset in sorted(records):
                first, kind, record = records[offset]
                if offset < mark:
                    del records[offset]        # at or below the committed offset: delivered before
                elif first <= mark:
                    released.append((kind, record))
                    mark = offset + 1
                else:
                    break                      # a hole below: wait for it
            if mark > start:
                ranges.append((tp[0], tp[1], start, mark))
                marks[tp] = mark
        return released, ranges, marks

    def _commit_transaction(self) -> None:
        from kafka import OffsetAndMetadata, TopicPartition

        released, ranges, marks = self._release()
        if not released and not marks:
            return
        staged = None
        self._producer.begin_transaction()
        try:
            for kind, record in released:
                self._send(kind, record)
            if self._avro:
                staged = self._avro.stage(ranges, [(t, p, m) for (t, p), m in sorted(marks.items())],
                                          [record for kind, record in released if kind == ENRICHED])
            if marks:
                self._producer.send_offsets_to_transaction(
                    {TopicPartition(t, p): OffsetAndMetadata(m, "", -1) for (t, p), m in marks.items()},
                    self._cfg.commit_group)
            self._producer.commit_transaction()
        except Exception:
            self._abort(staged)
            raise
        for tp, mark in marks.items():
            records = self._held[tp]
            for offset in [o for o in records if o < mark]:
                del records[offset]
            self._marks[tp] = mark
        self._loose = []
        if self._avro:
            self._avro.publish(staged)

    def _abort(self, staged) -> None:
        """Abort after a failed send or commit; the Avro files go only if the abort is certain."""
        try:
            self._producer.abort_transaction()
        except Exception as exc:  # noqa: BLE001 - fenced or broker gone: the restart settles it (recover)
            LOG.warning("exactly-once: could not abort the transaction (%s); the next start settles it", exc)
            return
        if self._avro:
            self._avro.discard(staged)

    def _send(self, kind: str, record: dict) -> None:
        if kind == ENRICHED and self._cfg.output_topic:
            self._producer.send(self._cfg.output_topic, key=record["id"].encode("utf-8"),
                                value=self._value(ENRICHED, record, self._cfg.output_topic))
        elif kind == DEAD and self._cfg.dlq_topic:
            self._producer.send(self._cfg.dlq_topic, key=record.get("key"),
                                value=self._value(DEAD, record, self._cfg.dlq_topic))

    def _mark(self, tp: tuple[str, int]) -> int:
        if tp not in self._marks:
            from kafka import TopicPartition

            self._marks[tp] = self._base(TopicPartition(*tp))
        return self._marks[tp]

    def _reached(self, marks) -> bool:
        """Whether the group's committed offsets are at or past every ``(topic, partition, offset)``."""
        from kafka import TopicPartition

        for topic, partition, offset in marks:
            committed = self._committer.committed(TopicPartition(topic, partition))
            if committed is None or committed < offset:
                return False
        return True


def open_delivery(cfg: DeliveryConfig, log: Callable[[str], None] | None) -> Delivery:
    """The sinks of one process: transactional when the config names a transactional id."""
    return TransactionalDelivery(cfg, log) if cfg.transactional_id else Delivery(cfg, log)


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
        self._delivery = self._shared.acquire(lambda: open_delivery(cfg, log))

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
