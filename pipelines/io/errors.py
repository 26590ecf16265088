"""The errors of newsflow's Kafka edges, in a module of their own so that the broker manager and
the Kafka clients can both raise them without importing each other."""
from __future__ import annotations


class BrokerError(RuntimeError):
    """A one-line, user-facing reason why the broker cannot be managed."""


class BrokerUnavailable(BrokerError):
    """No Kafka broker answered at the bootstrap address."""


class KafkaAccessDenied(BrokerError):
    """The broker answered but refused us: authentication failed, not authorised, TLS not trusted."""
