"""``newsflow consume``: read a topic (or Avro files) through ``pipelines.io.consumer`` and print JSON lines."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Iterator

from pipelines import avro
from pipelines.schema_registry import RegistryClient, decode_any, is_confluent
from pipelines.io.consumer import (
    DEAD_LETTER_KIND, DEFAULT_DEDUP_WINDOW, ENRICHED_KIND, AvroFolderReader, TopicReader, avro_files, record_kind)

# The folder helpers lived here before the consumer library; importers of this module keep them.
__all__ = ["DEAD_LETTER_KIND", "ENRICHED_KIND", "avro_files", "count_avro_dir", "consume_topic", "decode_value",
           "read_avro_dir", "record_kind", "to_json_safe"]


def to_json_safe(value):
    """Avro values -> JSON: datetimes as ISO-8601, bytes as UTF-8 text or base64."""
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    return value


def decode_value(data: bytes | None, registry: RegistryClient | None = None) -> dict:
    """Any Kafka value as a JSON-able object: Avro single-object or (with ``registry``) Confluent wire
    format, else JSON, else raw text (never raises for a bad value; an unreachable registry raises)."""
    if data is None:
        return {"value": None}
    if avro.is_single_object(data) or is_confluent(data):  # JSON never starts with a 00 byte
        try:
            return to_json_safe(decode_any(data, registry))
        except ValueError as exc:
            return {"undecodable": to_json_safe(data), "error": str(exc)}
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"raw": to_json_safe(data)}


def consume_topic(bootstrap: str, topic: str, from_beginning: bool = False, max_messages: int | None = None,
                  timeout_s: float | None = 10.0, group: str | None = None,
                  isolation_level: str = "read_committed", dedup_window: int = DEFAULT_DEDUP_WINDOW,
                  stats_out: list | None = None, schema_registry: str | None = None) -> Iterator[dict]:
    """Yield every value of ``topic`` as JSON (any value, not only enriched records), repeats of an
    ``id`` dropped; stop after ``max_messages`` or ``timeout_s`` without a new one."""
    with TopicReader(bootstrap, topic, group_id=group, from_beginning=from_beginning,
                     isolation_level=isolation_level, dedup_window=dedup_window, idle_timeout_s=timeout_s,
                     max_records=max_messages, decode=decode_value,
                     schema_registry=schema_registry) as reader:
        if stats_out is not None:
            stats_out.append(reader.stats)
        yield from reader


def read_avro_dir(path: str, kind: str | None = None, dedup_window: int = 0) -> Iterator[dict]:
    """Every record (as JSON) of the finished Avro files under ``path``; only those of ``kind`` if given."""
    kinds = (kind,) if kind else (ENRICHED_KIND, DEAD_LETTER_KIND)
    for one in kinds:
        for record in AvroFolderReader(path, one, dedup_window=dedup_window):
            yield to_json_safe(record)


def count_avro_dir(path: str) -> dict[str, int]:
    """Records per kind under ``path`` (file headers and block counts only, no decoding)."""
    return AvroFolderReader(path).counts()
