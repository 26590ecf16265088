"""Story assignment in the pipelines: ``AssignStoriesFn`` (run) and ``AssignStoriesInOrder`` (replay).

The matcher (``pipelines.nlp.stories``) is deterministic given the order in which articles are
assigned, so each pipeline's job is to fix that order and share what was assigned.

**replay** is bounded, so it can see everything first: enrichment runs in parallel, the
articles' signatures are gathered into one step, sorted (publication time, then id) and assigned
there, and the story ids are joined back to the records as a side input. The same input gives
the same story ids whatever the bundle order, the number of processes or the runner (the
signatures of the whole replay, about 6 KB an article in memory, and their index are held by that
one step).

**run** is unbounded and spread over processes and machines (``--processes``, ``--worker I/N``),
each reading its own partitions, so there is no global order to wait for. The index they share
is a compacted Kafka topic (``--stories-topic``, default ``articles.stories``, one partition,
key = article id, value = the article's signature and story id, JSON):

* at start, each process reads the whole topic into its ``StoryIndex`` (that is what survives a
  restart, and what a new worker learns from);
* before it assigns an article it catches up with the topic's end, and after assigning it appends
  the entry and waits for the broker's acknowledgement *before* the record goes on to delivery.
  So an article that any worker has delivered is known to every worker that assigns after that:
  the near copy that arrives later on another partition, or on another machine, joins its story;
* an article read again after a crash (at-least-once) finds its own id in the index and gets the
  story it had; compaction keeps one entry per article.

What the stream cannot promise: two articles of one event assigned at the same moment by two
workers, before either entry reached the topic, start two stories (exact and near-exact copies
still agree, because a new story's id comes from its first article's text; see the matcher). The
order between workers is arrival order, so a stream's ids may differ from a replay's of the same
articles; each is consistent in itself.

An article whose story cannot be assigned (a failure in the matcher) keeps ``story_id`` null and is
counted (``story_errors``); it is never dead-lettered for that, since its enrichment is sound.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.config import DEFAULT_BROKER_TIMEOUT_SECONDS, METRICS_NAMESPACE as NAMESPACE
from pipelines.io.topics import STORIES_TOPIC
from pipelines.nlp.stories import Signature, StoryConfig, StoryIndex, assign_in_order, decode_entry, \
    encode_entry, signature

LOG = logging.getLogger(__name__)
CATCH_UP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class StreamStoriesConfig:
    """Where the stream's shared story index lives, and the matcher's settings."""

    bootstrap_servers: str
    topic: str = STORIES_TOPIC
    matcher: StoryConfig = field(default_factory=StoryConfig)
    # A broker outage is waited out this long (``pipelines.io.retry``), as the delivery step does.
    broker_timeout_seconds: float = DEFAULT_BROKER_TIMEOUT_SECONDS


def ensure_stories_topic(bootstrap_servers: str, topic: str) -> bool:
    """Create the index topic (one partition, compacted: one entry per article) unless it exists."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    from pipelines.io.kafka_client import make_admin

    admin = make_admin(bootstrap_servers)
    try:
        if topic in set(admin.list_topics()):
            return False
        try:
            admin.create_topics([NewTopic(name=topic, num_partitions=1, replication_factor=1,
                                          topic_configs={"cleanup.policy": "compact"})])
        except TopicAlreadyExistsError:
            return False  # another worker created it between list and create
        return True
    finally:
        admin.close()


class SharedStoryIndex:
    """A ``StoryIndex`` kept in step with the index topic that every worker reads and appends to."""

    def __init__(self, cfg: StreamStoriesConfig):
        from kafka import TopicPartition

        from pipelines.io.kafka_client import make_consumer, make_producer, topic_partitions
        from pipelines.io.retry import client_outage, producer_waits

        # The wall clock: an article dated in the future must not make the index forget the present.
        self.index = StoryIndex(cfg.matcher, clock=time.time)
        self._topic = cfg.topic
        ensure_stories_topic(cfg.bootstrap_servers, cfg.topic)
        self._partitions = [TopicPartition(cfg.topic, p) for p in topic_partitions(cfg.bootstrap_servers, cfg.topic)]
        self._consumer = make_consumer(cfg.bootstrap_servers, client_id="newsflow-stories")
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)
        # linger 0: the entry must reach the broker before the record goes on (see the module doc).
        self._producer = make_producer(cfg.bootstrap_servers, linger_ms=0, client_id="newsflow-stories",
                                       **producer_waits(cfg.broker_timeout_seconds))
        self._outage = client_outage(cfg.bootstrap_servers, cfg.broker_timeout_seconds)
        self.catch_up()

    def catch_up(self) -> int:
        """Read the topic up to its current end; the number of entries learnt."""
        from pipelines.io.retry import retry

        ends = retry(lambda: self._consumer.end_offsets(self._partitions), self._outage)
        learnt = 0
        # An outage may fall after the end offsets were read: wait for it as the rest of run does.
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_SECONDS + self._outage.timeout_s
        # position() and poll() refresh metadata too, so each of them waits out an outage.
        while any(retry(lambda tp=tp: self._consumer.position(tp), self._outage) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read the story index {self._topic} up to its end "
                                   f"within {CATCH_UP_TIMEOUT_SECONDS:g} s")
            for messages in retry(lambda: self._consumer.poll(timeout_ms=500), self._outage).values():
                for message in messages:
                    if message.value is None:
                        continue  # a tombstone
                    try:
                        sig, story = decode_entry(message.value)
                    except (ValueError, KeyError, TypeError) as exc:
                        LOG.warning("story index entry at offset %s does not decode: %s", message.offset, exc)
                        continue
                    self.index.add(sig, story)
                    learnt += 1
        return learnt

    def assign(self, sig: Signature) -> str:
        self.catch_up()
        known = self.index.story_of(sig.article_id)
        story = self.index.assign(sig)
        if known is None:
            self._producer.send(self._topic, key=sig.article_id.encode("utf-8"), value=encode_entry(sig, story))
            self._producer.flush()
        return story

    def close(self) -> None:
        self._producer.close()
        self._consumer.close()


class AssignStoriesFn(beam.DoFn):
    """Sets ``story_id`` on each enriched record against the shared index (run)."""

    def __init__(self, cfg: StreamStoriesConfig):
        self._cfg = cfg
        self._shared = None
        self._assigned = Metrics.counter(NAMESPACE, "stories_assigned")
        self._errors = Metrics.counter(NAMESPACE, "story_errors")

    def setup(self):
        from pipelines.pipeline import memtrace

        self._shared = SharedStoryIndex(self._cfg)
        memtrace.watch("story index", self._shared.index)  # its size in NEWSFLOW_MEMTRACE reports

    def process(self, record: dict) -> Iterable[dict]:
        try:
            record["story_id"] = self._shared.assign(signature(record))
            self._assigned.inc()
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A record the matcher cannot read: keep it, without a story, and count it.
            LOG.warning("no story for %s: %s", record.get("id"), exc)
            self._errors.inc()
            record["story_id"] = None
        yield record

    def teardown(self):
        if self._shared is not None:
            self._shared.close()


def _keyed_signature(record: dict) -> Signature:
    return signature(record)


def _assign_all(signatures: list[Signature], cfg: StoryConfig) -> Iterable[tuple[str, str]]:
    yield from sorted(assign_in_order(signatures, cfg).items())


def _with_story(record: dict, stories: dict) -> dict:
    return dict(record, story_id=stories.get(record["id"]))


class AssignStoriesInOrder(beam.PTransform):
    """EnrichedArticle records -> the same records with ``story_id``, assigned in a fixed order (replay)."""

    def __init__(self, cfg: StoryConfig = StoryConfig()):
        super().__init__()
        self._cfg = cfg

    def expand(self, enriched):
        stories = (enriched
                   | "Signature" >> beam.Map(_keyed_signature)
                   | "Gather" >> beam.combiners.ToList()
                   | "AssignInOrder" >> beam.FlatMap(_assign_all, self._cfg))
        return enriched | "SetStoryId" >> beam.Map(_with_story, beam.pvalue.AsDict(stories))
