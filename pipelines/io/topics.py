"""The contract's topics, created on first use."""
from __future__ import annotations

from dataclasses import dataclass

from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError

from pipelines.io.kafka_client import make_admin

RAW_TOPIC = "articles.raw"
ENRICHED_TOPIC = "articles.enriched"
DLQ_TOPIC = "articles.dlq"
CONTRACT_TOPICS = (RAW_TOPIC, ENRICHED_TOPIC, DLQ_TOPIC)
STORIES_TOPIC = "articles.stories"   # the compacted story index the stream's workers share


@dataclass(frozen=True)
class TopicSettings:
    """How new topics are created (existing topics are left as they are)."""

    partitions: int = 3
    replication_factor: int = 1
    retention_ms: int = 7 * 24 * 3600 * 1000


def ensure_topics(bootstrap_servers: str, topics, partitions: int | None = None,
                  settings: TopicSettings = TopicSettings(), security=None) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = make_admin(bootstrap_servers, security=security)
    try:
        existing = set(admin.list_topics())
        wanted = [t for t in dict.fromkeys(topics) if t not in existing]
        if not wanted:
            return []
        new = [NewTopic(name=t, num_partitions=partitions or settings.partitions,
                        replication_factor=settings.replication_factor,
                        topic_configs={"retention.ms": str(settings.retention_ms)}) for t in wanted]
        try:
            admin.create_topics(new)
        except TopicAlreadyExistsError:
            pass  # another client created it between list and create
        except TopicAuthorizationFailedError as exc:
            # A topic we may not see is not listed either: name the topics, not the request.
            raise TopicAuthorizationFailedError(set(wanted)) from exc
        return wanted
    finally:
        admin.close()
