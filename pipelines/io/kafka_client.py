"""kafka-python clients configured the way newsflow uses them.

A broker that is not running must give a clear error within seconds, not a hang, so every
client is created with a short bootstrap timeout and errors are turned into
``BrokerUnavailable`` with a one-line reason.

Every client of the process talks to the same cluster with the same credentials: the launcher
resolves the security flags once (``pipelines.config.apply_kafka_security``) and hands them to
``use_security``; every client made here gets them (TLS, SASL), so no path can forget them. A
refused connection (wrong password, no ACL, untrusted certificate) becomes ``KafkaAccessDenied``
with a one-line reason that never holds the password.
"""
from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAuthorizationFailedError

from pipelines.io import kafka_security
from pipelines.io.errors import BrokerError, BrokerUnavailable, KafkaAccessDenied
from pipelines.io.kafka_security import ClientSecurity

BOOTSTRAP_TIMEOUT_MS = 5000
# Enriched records carry the article body; leave room for large articles.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


_security: ClientSecurity = kafka_security.PLAINTEXT


def use_security(security: ClientSecurity) -> None:
    """The TLS/SASL settings of every client this process makes from now on (set by the launcher)."""
    global _security
    _security = security
    if security.password:
        _redact_in_logs(security.password)


def _redact_in_logs(secret: str) -> None:
    """Keep ``secret`` out of every log line of kafka-python (at DEBUG it logs a client's whole
    configuration, password included), whatever handler or level the user chose."""
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if record.name.startswith("kafka"):
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return record
            if secret in message:
                record.msg, record.args = message.replace(secret, "[redacted]"), ()
        return record

    logging.setLogRecordFactory(factory)


def current_security() -> ClientSecurity:
    return _security


def _with_security(config: dict, security: ClientSecurity | None) -> dict:
    return {**config, **(security or _security).client_options()}


def access_denied(exc: BaseException, bootstrap: str = "the broker",
                  security: ClientSecurity | None = None) -> KafkaAccessDenied | None:
    """``exc`` as a one-line ``KafkaAccessDenied`` when it is an authentication or authorisation
    failure, else None."""
    reason = kafka_security.explain(exc, bootstrap, security or _security)
    return KafkaAccessDenied(reason) if reason else None


def _unavailable(bootstrap: str, exc: Exception, security: ClientSecurity | None = None) -> BrokerError:
    security = security or _security
    denied = access_denied(exc, bootstrap, security)
    if denied:
        return denied
    # kafka-python only logs a failed handshake or login, then times out: ask the listener ourselves.
    problem = kafka_security.connection_problem(bootstrap, security)
    if problem:
        return KafkaAccessDenied(problem)
    return BrokerUnavailable(f"no Kafka broker answers at {bootstrap} ({type(exc).__name__}); "
                             f"start one with `newsflow kafka up` or pass --bootstrap-servers")


def check_broker(bootstrap: str, timeout_s: float = 5.0, security: ClientSecurity | None = None,
                 topics=()) -> list[str]:
    """Ask the broker for its topics; raise BrokerUnavailable when nobody answers, KafkaAccessDenied
    when it refuses us or we may not see one of ``topics``."""
    config = _with_security(dict(bootstrap_servers=bootstrap, bootstrap_timeout_ms=int(timeout_s * 1000),
                                 request_timeout_ms=int(timeout_s * 1000), client_id="newsflow-check"), security)
    try:
        admin = KafkaAdminClient(**config)
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap, exc, security) from exc
    try:
        names = admin.list_topics()
        hidden = [t for t in topics if t not in names]
        # A topic we may not describe is left out of the list, like one that does not exist.
        for described in admin.describe_topics(hidden) if hidden else ():
            if described.get("error_code") == TopicAuthorizationFailedError.errno:
                raise TopicAuthorizationFailedError({described["name"]})
        return names
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap, exc, security) from exc
    finally:
        admin.close()


def make_admin(bootstrap: str, security: ClientSecurity | None = None) -> KafkaAdminClient:
    config = _with_security(dict(bootstrap_servers=bootstrap, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                                 request_timeout_ms=15000, client_id="newsflow-admin"), security)
    try:
        return KafkaAdminClient(**config)
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap, exc, security) from exc


def make_producer(bootstrap_servers: str, security: ClientSecurity | None = None, **overrides) -> KafkaProducer:
    """An idempotent producer (acks=all) of raw bytes keys and values."""
    config = _with_security(dict(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True,
                                 linger_ms=5, max_request_size=MAX_REQUEST_BYTES, compression_type="gzip",
                                 bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS, client_id="newsflow-producer"),
                            security)
    config.update(overrides)
    try:
        return KafkaProducer(**config)
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap_servers, exc, security) from exc


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


def make_consumer(bootstrap_servers: str, *topics: str, security: ClientSecurity | None = None,
                  **overrides) -> KafkaConsumer:
    """A consumer of raw bytes; pass group_id, auto_offset_reset, ... as overrides."""
    config = _with_security(dict(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                 auto_offset_reset="earliest", bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                                 fetch_max_bytes=MAX_REQUEST_BYTES * 4, max_partition_fetch_bytes=MAX_REQUEST_BYTES,
                                 client_id="newsflow-consumer"), security)
    config.update(overrides)
    try:
        return KafkaConsumer(*topics, **config)
    except (KafkaTimeoutError, KafkaError, OSError) as exc:
        raise _unavailable(bootstrap_servers, exc, security) from exc
