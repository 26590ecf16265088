"""kafka-python clients configured the way newsflow uses them.

A broker that is not running must give a clear error within seconds, not a hang, so every
client is created with a short bootstrap timeout and errors are turned into
``BrokerUnavailable`` with a one-line reason.
"""
from __future__ import annotations

import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, KafkaTimeoutError

from pipelines.io.errors import BrokerUnavailable

BOOTSTRAP_TIMEOUT_MS = 5000
# Enriched records carry the article body; leave room for large articles.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def _unavailable(bootstrap: str, exc: Exception) -> BrokerUnavailable:
    return BrokerUnavailable(f"no Kafka broker answers at {bootstrap} ({type(exc).__name__}); "
                             f"start one with `newsflow kafka up` or pass --bootstrap-servers")


def check_broker(bootstrap: str, timeout_s: float = 5.0) -> list[str]:
    """Ask the broker for its topics; raise BrokerUnavailable when nobody answers."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=int(timeout_s * 1000),
                                 request_timeout_ms=int(timeout_s * 1000), client_id="newsflow-check")
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap, exc) from exc
    try:
        return admin.list_topics()
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap, exc) from exc
    finally:
        admin.close()


def make_admin(bootstrap: str) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                                request_timeout_ms=15000, client_id="newsflow-admin")
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap, exc) from exc


def make_producer(bootstrap_servers: str, **overrides) -> KafkaProducer:
    """An idempotent producer (acks=all) of raw bytes keys and values."""
    config = dict(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True,
                  linger_ms=5, max_request_size=MAX_REQUEST_BYTES, compression_type="gzip",
                  bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS, client_id="newsflow-producer")
    config.update(overrides)
    try:
        return KafkaProducer(**config)
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap_servers, exc) from exc


def topic_partitions(bootstrap_servers: str, topic: str, wait_s: float = 15.0) -> list[int]:
    """The partitions of ``topic``, waiting up to ``wait_s`` for a topic just created to show them."""
    consumer = make_consumer(bootstrap_servers)
    try:
        partitions = consumer.partitions_for_topic(topic)
        deadline = time.monotonic() + wait_s
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.3)
            partitions = consumer.partitions_for_topic(topic)
        return sorted(partitions or ())
    finally:
        consumer.close()


def make_consumer(bootstrap_servers: str, *topics: str, **overrides) -> KafkaConsumer:
    """A consumer of raw bytes; pass group_id, auto_offset_reset, ... as overrides."""
    config = dict(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                  auto_offset_reset="earliest", bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                  fetch_max_bytes=MAX_REQUEST_BYTES * 4, max_partition_fetch_bytes=MAX_REQUEST_BYTES,
                  client_id="newsflow-consumer")
    config.update(overrides)
    try:
        return KafkaConsumer(*topics, **config)
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap_servers, exc) from exc
