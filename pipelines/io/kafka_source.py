"""A Kafka source for Beam written with kafka-python: one splittable DoFn restriction per partition.

Each topic-partition is read as an offset-range restriction: unbounded (``[start, 2**63-1)``)
for ``newsflow run``, bounded when end offsets are given (replays of a topic range, the demo).
The start is the consumer group's committed offset (so a restarted pipeline resumes where the
last durable output ended), else the earliest or latest offset. When no record arrives the
DoFn checkpoints with ``defer_remainder`` and the runner resumes it shortly after. Records
carry the Kafka timestamp, which the watermark follows; ``EnrichArticles`` re-stamps each
article with its ``published_at`` once it has parsed it (the value is decoded only once).

Commits are not done here: offsets are committed by the delivery step once the outputs that
depend on them are durable (see ``pipelines.io.delivery`` and ``pipelines.io.offsets``). The
reader's part of that protocol: every record says which offsets it answers for
(``read_from``..``offset``), and a streaming read that finds no committed offset commits its
start first, so the group's committed offset is always where reading began.

Scale-out is static (``--worker I/N``): partition p belongs to worker p mod N, see ``owns``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Iterable, NamedTuple

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

LOG = logging.getLogger(__name__)
UNBOUNDED_END = 2 ** 63 - 1

# One stop signal per process: SIGINT/SIGTERM handlers set it and every reader finishes its
# restriction at the next record boundary, so the pipeline drains and commits instead of dying.
_STOP = threading.Event()


def request_stop() -> None:
    """Ask every Kafka reader in this process to finish cleanly."""
    _STOP.set()


def reset_stop() -> None:
    _STOP.clear()


class KafkaRecord(NamedTuple):
    """One message as read: where it came from, its bytes and its timestamp."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    # The lowest offset this record answers for: offsets in [read_from, offset) that Kafka did not
    # return (transaction markers, compacted records) count as delivered when this record is.
    read_from: int | None = None


def owns(partition: int, worker: tuple[int, int]) -> bool:
    """Worker ``(I, N)`` reads partition p when p mod N == I.

    Static rather than Kafka's consumer-group protocol: a group member must keep polling and
    answer rebalances itself, while Beam reads each partition as a restriction that the runner
    schedules (and may move between its workers); Beam's own KafkaIO uses assign() for the same
    reason. A fixed rule needs no coordinator, gives each partition exactly one reader as long
    as each index runs once (a Kubernetes StatefulSet's ordinals do that), picks up partitions
    added later by the same rule, and the processes of one worker split its share again with
    ``worker = (I + N*k, N*K)``, which keeps p mod N == I. The cost: a dead worker's partitions
    wait until it is restarted (a StatefulSet restarts it), they are not taken over.
    """
    index, count = worker
    return partition % count == index


def parse_worker(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N; ValueError with a one-line reason otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--worker takes I/N (e.g. 0/3), not {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--worker {text}: I must be in 0..N-1")
    return index, count


@dataclass(frozen=True)
class KafkaReadConfig:
    """How the source connects, where it starts and where (if anywhere) it ends."""

    bootstrap_servers: str
    group_id: str = "newsflow"
    start_from: str = "earliest"          # where to start without a committed offset: earliest | latest
    bounded: bool = False                 # stop at the end offsets seen when the read starts
    end_offsets: tuple = ()               # ((partition, offset), ...) explicit ends for a bounded read
    start_offsets: tuple = ()             # ((partition, offset), ...) explicit starts (replay ranges)
    start_time_ms: int | None = None      # start at the first offset at/after this time
    end_time_ms: int | None = None        # end at the first offset at/after this time
    # Short polls: the embedded runner runs one bundle at a time, so a partition waiting in a
    # long poll holds up records that arrive on the others.
    poll_timeout_ms: int = 50
    max_records_per_bundle: int = 500     # at most this many records per poll (and so per bundle)
    idle_resume_seconds: float = 0.0   # the poll itself waits poll_timeout_ms for new records
    worker: tuple = (0, 1)                # (I, N): read only the partitions p with p mod N == I
    # Commit the start offset when the group has none, so that the commit protocol's trackers
    # (which start at the committed offset) start where reading did, and a restart before the
    # first delivery resumes there instead of at a new "latest".
    commit_start: bool = False
    # Read a bounded range in one call, without checkpoints (replay: see ReadWholeRangeFn).
    whole_range: bool = False
    # ReadWholeRangeFn fails, naming the partition, when its position stops moving this long
    # (the broker went away mid-replay) instead of polling for ever.
    stall_seconds: float = 300.0


def _consumer(cfg: KafkaReadConfig):
    from pipelines.io.kafka_client import make_consumer

    return make_consumer(cfg.bootstrap_servers, group_id=cfg.group_id, enable_auto_commit=False,
                         auto_offset_reset=cfg.start_from)


class InOrderOffsetTracker(OffsetRestrictionTracker):
    """Checkpoints (split at fraction 0, as defer_remainder asks) but refuses dynamic splits.

    Prism splits a running restriction in two; a partition read in parallel from two offsets
    would break in-order reading and the commit rule. Refusing every split (Beam's
    UnsplittableRestrictionTracker) would also refuse the checkpoint that defer_remainder needs.
    """

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder > 0:
            return None
        return super().try_split(fraction_of_remainder)


class ListPartitionsFn(beam.DoFn):
    """topic -> (topic, partition) for every partition of this worker that exists when the pipeline starts."""

    def __init__(self, cfg: KafkaReadConfig):
        self._cfg = cfg

    def process(self, topic: str) -> Iterable[tuple[str, int]]:
        from pipelines.io.kafka_client import topic_partitions

        partitions = topic_partitions(self._cfg.bootstrap_servers, topic)
        if not partitions:
            raise RuntimeError(f"topic {topic!r} has no partitions (does it exist?)")
        for partition in partitions:
            if owns(partition, self._cfg.worker):
                yield topic, partition


class ReadPartitionFn(beam.DoFn, RestrictionProvider):
    """Reads one topic-partition's offset range in order; checkpoints when idle.

    The DoFn is its own RestrictionProvider because the initial range depends on the config
    (committed offsets of the group, explicit start/end offsets or times).
    """

    def __init__(self, cfg: KafkaReadConfig):
        self._cfg = cfg
        self._consumers: dict = {}    # TopicPartition -> its own consumer (see setup)
        self._positions: dict = {}    # TopicPartition -> offset its consumer's next poll starts at

    # ---- restriction provider
    def initial_restriction(self, element: tuple[str, int]) -> OffsetRange:
        from kafka import TopicPartition

        topic, partition = element
        tp = TopicPartition(topic, partition)
        cfg = self._cfg
        consumer = _consumer(cfg)
        try:
            consumer.assign([tp])
            begin = consumer.beginning_offsets([tp])[tp]
            latest = consumer.end_offsets([tp])[tp]
            explicit = dict(cfg.start_offsets)
            if partition in explicit:
                start = max(begin, explicit[partition])
            elif cfg.start_time_ms is not None:
                found = consumer.offsets_for_times({tp: cfg.start_time_ms})[tp]
                start = found.offset if found else latest
            else:
                committed = consumer.committed(tp)
                start = committed if committed is not None else (begin if cfg.start_from == "earliest" else latest)
                if committed is None and cfg.commit_start:
                    from kafka import OffsetAndMetadata

                    consumer.commit({tp: OffsetAndMetadata(start, "", -1)})
            ends = dict(cfg.end_offsets)
            if partition in ends:
                end = min(ends[partition], latest)
            elif cfg.end_time_ms is not None:
                found = consumer.offsets_for_times({tp: cfg.end_time_ms})[tp]
                end = found.offset if found else latest
            elif cfg.bounded:
                end = latest
            else:
                end = UNBOUNDED_END
        finally:
            consumer.close()
        LOG.info("kafka source: %s-%d reads offsets [%d, %s)", topic, partition, start,
                 "inf" if end == UNBOUNDED_END else end)
        return OffsetRange(start, max(start, end))

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return InOrderOffsetTracker(restriction)

    def restriction_size(self, element, restriction: OffsetRange) -> int:
        return min(restriction.size(), 2 ** 31)

    def split(self, element, restriction):
        # A partition is read in offset order by one reader; the commit step relies on that order.
        yield restriction

    # ---- reading
    # One consumer per partition, kept between calls: a consumer moved from partition to
    # partition (assign + seek on every call) throws away its in-flight fetch each time, and a
    # record then waits until a fetch happens to complete within one short poll (seconds at
    # random, measured with 6 partitions). A consumer that stays on its partition keeps its
    # fetch going between calls, and is sought only when the restriction does not start where
    # its last poll left it.
    def setup(self):
        self._consumers = {}
        self._positions = {}

    def teardown(self):
        for consumer in getattr(self, "_consumers", {}).values():
            consumer.close()
        self._consumers, self._positions = {}, {}

    def _reader(self, tp):
        consumer = self._consumers.get(tp)
        if consumer is None:
            consumer = self._consumers[tp] = _consumer(self._cfg)
            consumer.assign([tp])
        return consumer

    @beam.DoFn.unbounded_per_element()
    def process(self, element: tuple[str, int],
                tracker=beam.DoFn.RestrictionParam(),
                watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())
                ) -> Iterable[beam.window.TimestampedValue]:
        return self.read(element, tracker, watermark)

    def read(self, element, tracker, watermark) -> Iterable[beam.window.TimestampedValue]:
        """Claim and emit records of the partition from the restriction's start."""
        from kafka import TopicPartition

        topic, partition = element
        tp = TopicPartition(topic, partition)
        restriction = tracker.current_restriction()
        if _STOP.is_set():
            tracker.try_claim(restriction.stop)  # finishes the restriction: the pipeline drains
            return
        consumer = self._reader(tp)
        if self._positions.get(tp) != restriction.start:
            consumer.seek(tp, restriction.start)
        self._positions[tp] = None  # unknown until every polled record is claimed
        batch = consumer.poll(timeout_ms=self._cfg.poll_timeout_ms, max_records=self._cfg.max_records_per_bundle)
        records = batch.get(tp, [])
        # The residual of a checkpoint starts right after the last claimed offset, so the ranges
        # [read_from, offset] of successive records tile the partition (see pipelines.io.offsets).
        read_from = restriction.start
        for msg in records:
            if msg.offset < restriction.start:
                continue  # the consumer was reset before our range; those offsets are not ours
            if not tracker.try_claim(msg.offset):
                return  # past the end of a bounded range, or split off
            ts_ms = msg.timestamp if msg.timestamp is not None and msg.timestamp >= 0 else int(time.time() * 1000)
            yield beam.window.TimestampedValue(
                KafkaRecord(topic, partition, msg.offset, msg.key, msg.value, ts_ms, read_from),
                Timestamp.of(ts_ms / 1000.0))
            read_from = msg.offset + 1
            current = watermark.current_watermark()
            candidate = Timestamp.of(ts_ms / 1000.0)
            if current is None or candidate > current:
                watermark.set_watermark(candidate)
        self._positions[tp] = records[-1].offset + 1 if records else restriction.start  # where the next poll starts
        if restriction.stop != UNBOUNDED_END and consumer.position(tp) >= restriction.stop:
            tracker.try_claim(restriction.stop)  # every offset of the bounded range is read
            return
        if _STOP.is_set():
            tracker.try_claim(restriction.stop)
            return
        # One poll per bundle: downstream batches what it brought, then flushes and commits, so
        # an article waits for nothing else. When idle, the runner resumes the partition shortly.
        tracker.defer_remainder(Duration.of(0 if records else self._cfg.idle_resume_seconds))


class ReadBoundedPartitionFn(ReadPartitionFn):
    """The bounded twin: the same reader, but its output is a bounded PCollection."""

    def process(self, element: tuple[str, int],
                tracker=beam.DoFn.RestrictionParam(),
                watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())
                ) -> Iterable[beam.window.TimestampedValue]:
        return self.read(element, tracker, watermark)


class ReadWholeRangeFn(ReadBoundedPartitionFn):
    """The bounded reader of batch replays: reads its whole offset range in one call instead of
    checkpointing after every poll.

    The embedded runner with several workers (replay's default, multi_processing) dropped the
    checkpointed remainders: a replay of a 3-partition topic read 0 of its 13 records. A replay's
    range has an end and nothing downstream commits offsets, so nothing needs the checkpoints.
    """

    def process(self, element: tuple[str, int],
                tracker=beam.DoFn.RestrictionParam(),
                watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())
                ) -> Iterable[beam.window.TimestampedValue]:
        from kafka import TopicPartition

        topic, partition = element
        tp = TopicPartition(topic, partition)
        restriction = tracker.current_restriction()
        consumer = self._reader(tp)
        consumer.seek(tp, restriction.start)
        self._positions[tp] = None
        read_from = restriction.start
        last, moved = consumer.position(tp), time.monotonic()
        while last < restriction.stop and not _STOP.is_set():
            if time.monotonic() - moved > self._cfg.stall_seconds:
                raise RuntimeError(f"{topic}-{partition}: no progress at offset {last} for "
                                   f"{self._cfg.stall_seconds:g}s (the range ends at {restriction.stop}); is the broker up?")
            batch = consumer.poll(timeout_ms=self._cfg.poll_timeout_ms, max_records=self._cfg.max_records_per_bundle)
            for msg in batch.get(tp, []):
                if msg.offset < restriction.start:
                    continue
                if not tracker.try_claim(msg.offset):
                    return  # past the end of the range
                ts_ms = msg.timestamp if msg.timestamp is not None and msg.timestamp >= 0 else int(time.time() * 1000)
                yield beam.window.TimestampedValue(
                    KafkaRecord(topic, partition, msg.offset, msg.key, msg.value, ts_ms, read_from),
                    Timestamp.of(ts_ms / 1000.0))
                read_from = msg.offset + 1
                current, candidate = watermark.current_watermark(), Timestamp.of(ts_ms / 1000.0)
                if current is None or candidate > current:
                    watermark.set_watermark(candidate)
            position = consumer.position(tp)
            if position != last:
                last, moved = position, time.monotonic()
        tracker.try_claim(restriction.stop)  # every offset of the range is read (or the run stops)


def is_bounded(cfg: KafkaReadConfig) -> bool:
    return cfg.bounded or bool(cfg.end_offsets) or cfg.end_time_ms is not None


class ReadFromKafka(beam.PTransform):
    """Read topics as ``KafkaRecord`` elements with event timestamps (unbounded unless cfg bounds it)."""

    def __init__(self, topics: Iterable[str], cfg: KafkaReadConfig):
        super().__init__()
        self._topics = list(topics)
        self._cfg = cfg

    def expand(self, pbegin):
        return (pbegin
                | "Topics" >> beam.Create(self._topics)
                | "ListPartitions" >> beam.ParDo(ListPartitionsFn(self._cfg))
                | "ReadPartitions" >> beam.ParDo(
                    self._reader()))

    def _reader(self) -> ReadPartitionFn:
        if not is_bounded(self._cfg):
            return ReadPartitionFn(self._cfg)
        return ReadWholeRangeFn(self._cfg) if self._cfg.whole_range else ReadBoundedPartitionFn(self._cfg)
