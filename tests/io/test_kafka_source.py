"""The Kafka reader keeps one consumer per partition between calls (real broker)."""
from apache_beam.io.restriction_trackers import OffsetRange

from pipelines.io.kafka_client import make_producer
from pipelines.io.kafka_source import UNBOUNDED_END, InOrderOffsetTracker, KafkaReadConfig, ReadPartitionFn
from pipelines.io.topics import ensure_topics


class _Tracker:
    """What the runner hands the DoFn: claim, the current restriction, checkpoint."""

    def __init__(self, start):
        self._tracker = InOrderOffsetTracker(OffsetRange(start, UNBOUNDED_END))

    def current_restriction(self):
        return self._tracker.current_restriction()

    def try_claim(self, offset):
        return self._tracker.try_claim(offset)

    def defer_remainder(self, _delay):
        pass


class _Watermark:
    def current_watermark(self):
        return None

    def set_watermark(self, _):
        pass


def _read(fn, topic, partition, start, polls=40):
    """Offsets read by successive calls from ``start`` until one returns records (or ``polls`` calls)."""
    for _ in range(polls):
        offsets = [r.value.offset for r in fn.read((topic, partition), _Tracker(start), _Watermark())]
        if offsets:
            return offsets
    return []


def test_each_partition_keeps_its_consumer_and_position_between_calls(kafka_broker, topic_name):
    ensure_topics(kafka_broker, [topic_name], partitions=2)
    producer = make_producer(kafka_broker)
    for partition in (0, 1):
        for i in range(3):
            producer.send(topic_name, value=f"{partition}-{i}".encode(), partition=partition)
    producer.flush()
    fn = ReadPartitionFn(KafkaReadConfig(kafka_broker, group_id="reader-test"))
    fn.setup()
    try:
        assert _read(fn, topic_name, 0, 0) == [0, 1, 2]
        assert _read(fn, topic_name, 1, 0) == [0, 1, 2]
        first = dict(fn._consumers)
        # Calls alternate between partitions as the runner resumes them; neither consumer is
        # moved to the other partition, and each continues where its last poll ended.
        producer.send(topic_name, value=b"0-3", partition=0)
        producer.send(topic_name, value=b"1-3", partition=1)
        producer.flush()
        assert _read(fn, topic_name, 0, 3) == [3] and _read(fn, topic_name, 1, 3) == [3]
        assert fn._consumers == first and len({id(c) for c in first.values()}) == 2
        assert all(list(c.assignment()) == [tp] for tp, c in fn._consumers.items())
        assert {tp.partition: pos for tp, pos in fn._positions.items()} == {0: 4, 1: 4}
        # A restriction that starts elsewhere (a retried bundle) is sought, not read from the last position.
        assert _read(fn, topic_name, 0, 1) == [1, 2, 3]
    finally:
        fn.teardown()
        producer.close()
    assert fn._consumers == {}
