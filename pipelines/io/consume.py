"""``newsflow consume``: read a topic (or Avro files) and print JSON lines."""
from __future__ import annotations

import base64
import glob
import json
import os
import time
from datetime import date, datetime
from typing import Iterator

import fastavro

from pipelines import avro
from pipelines.io.kafka_client import make_consumer


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


def decode_value(data: bytes | None) -> dict:
    """A Kafka value as a JSON-able object: Avro single-object, else JSON, else raw text."""
    if data is None:
        return {"value": None}
    if avro.is_single_object(data):
        try:
            return to_json_safe(avro.decode(data))
        except (avro.UnknownSchemaError, ValueError, EOFError) as exc:
            return {"undecodable": to_json_safe(data), "error": str(exc)}
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"raw": to_json_safe(data)}


def consume_topic(bootstrap: str, topic: str, from_beginning: bool = False, max_messages: int | None = None,
                  timeout_s: float | None = 10.0, group: str | None = None) -> Iterator[dict]:
    """Yield decoded messages; stop after ``max_messages`` or ``timeout_s`` without a new one."""
    consumer = make_consumer(bootstrap, topic, group_id=group,
                             auto_offset_reset="earliest" if from_beginning else "latest",
                             enable_auto_commit=bool(group), isolation_level="read_committed")
    seen = 0
    last = time.monotonic()
    try:
        while max_messages is None or seen < max_messages:
            batch = consumer.poll(timeout_ms=500, max_records=500)
            if not batch:
                if timeout_s is not None and time.monotonic() - last > timeout_s:
                    return
                continue
            last = time.monotonic()
            for tp, messages in sorted(batch.items()):
                for msg in messages:
                    yield decode_value(msg.value)
                    seen += 1
                    if max_messages is not None and seen >= max_messages:
                        return
    finally:
        consumer.close()


ENRICHED_KIND, DEAD_LETTER_KIND = "enriched", "dead_letter"


def avro_files(path: str) -> list[str]:
    """The finished Avro files at ``path`` (a file, or a folder searched recursively)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no such file or folder: {path}")
    return [name for name in sorted(glob.glob(os.path.join(path, "**", "*.avro"), recursive=True))
            if not os.path.basename(name).startswith(".")]  # temporary files of writers still at work


def record_kind(writer_schema: dict) -> str:
    """``enriched`` or ``dead_letter``, by the record name the file was written with."""
    return DEAD_LETTER_KIND if writer_schema.get("name", "").endswith("DeadLetter") else ENRICHED_KIND


def read_avro_dir(path: str, kind: str | None = None) -> Iterator[dict]:
    """Every record of the finished Avro files under ``path``; only those of ``kind`` if given."""
    for name in avro_files(path):
        with open(name, "rb") as f:
            reader = fastavro.reader(f)
            if kind is not None and record_kind(reader.writer_schema) != kind:
                continue
            for record in reader:
                yield to_json_safe(record)


def count_avro_dir(path: str) -> dict[str, int]:
    """Records per kind under ``path`` (file headers and block counts only, no decoding)."""
    counts = {ENRICHED_KIND: 0, DEAD_LETTER_KIND: 0}
    for name in avro_files(path):
        with open(name, "rb") as f:
            blocks = fastavro.block_reader(f)
            counts[record_kind(blocks.writer_schema)] += sum(block.num_records for block in blocks)
    return counts
