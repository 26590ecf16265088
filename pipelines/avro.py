"""Avro schemas of the contract and Avro single-object encoding for Kafka values.

Single-object encoding (Avro spec): ``C3 01`` + the writer schema's 8-byte little-endian
CRC-64-AVRO fingerprint + the binary body. Readers find the writer schema by fingerprint
among the schemas shipped in ``schemas/`` and resolve it to their own reader schema.
"""
from __future__ import annotations

import functools
import io
import json
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from pipelines.resources import resource_path

MAGIC = b"\xc3\x01"
SCHEMA_FILES = {"article": "article.avsc", "enriched": "enriched_article.avsc",
                "dead_letter": "dead_letter.avsc"}


class UnknownSchemaError(ValueError):
    """A single-object-encoded message names a writer schema we do not have."""


class NotSingleObjectError(ValueError):
    """The bytes do not start with the single-object magic ``C3 01``."""


class BadAvroError(ValueError):
    """The body does not decode with the writer schema its fingerprint names (truncated, corrupt)."""


def schema_dir() -> Path:
    """Where the ``.avsc`` files are (``pipelines.resources`` finds them, checkout or installed)."""
    return resource_path(f"schemas/{SCHEMA_FILES['enriched']}").parent


def raw_schema(name: str) -> dict:
    """The schema as written in its .avsc file (for container-file headers).

    fastavro's parsed form orders some keys by set iteration, which varies between processes;
    a header written from the file's own JSON is the same bytes in every worker.
    """
    file_name = SCHEMA_FILES.get(name, name)
    with open(schema_dir() / file_name, encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """Parsed schema by short name (article, enriched, dead_letter) or file name."""
    return fastavro.parse_schema(raw_schema(name))


def schema_fingerprint(schema: dict) -> bytes:
    """The 8-byte little-endian CRC-64-AVRO fingerprint of the schema's canonical form."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


@functools.lru_cache(maxsize=None)
def _known_schemas() -> dict[bytes, tuple[dict, dict]]:
    """Fingerprint -> (writer schema, current schema of its kind), for the current schemas and
    every released one in ``schemas/history`` (``NAME.vN.avsc``): a message written by an older
    release decodes into the current shape, fields added since taking their defaults."""
    known = {}
    for name, file_name in SCHEMA_FILES.items():
        current = load_schema(name)
        for old in sorted((schema_dir() / "history").glob(f"{file_name.removesuffix('.avsc')}.v*.avsc")):
            writer = fastavro.parse_schema(json.loads(old.read_text(encoding="utf-8")))
            known.setdefault(schema_fingerprint(writer), (writer, current))
        known[schema_fingerprint(current)] = (current, current)
    return known


def encode(record: dict, schema: dict) -> bytes:
    """Single-object encoding of one record."""
    buf = io.BytesIO()
    buf.write(MAGIC)
    buf.write(schema_fingerprint(schema))
    fastavro.schemaless_writer(buf, schema, record)
    return buf.getvalue()


def is_single_object(data: bytes) -> bool:
    return len(data) >= 10 and data[:2] == MAGIC


def decode(data: bytes, reader_schema: dict | None = None) -> dict[str, Any]:
    """Decode a single-object message; the writer schema is found by its fingerprint, and the
    record is read in ``reader_schema`` (default: the current schema of the writer's kind).

    Raises ``NotSingleObjectError``, ``UnknownSchemaError`` or ``BadAvroError`` (all ``ValueError``).
    """
    if not is_single_object(data):
        raise NotSingleObjectError("not Avro single-object encoding (missing C3 01 magic)")
    fp = data[2:10]
    writer, current = _known_schemas().get(fp, (None, None))
    if writer is None:
        raise UnknownSchemaError(
            f"unknown Avro writer schema fingerprint {fp.hex()} (CRC-64-AVRO, little-endian); "
            f"known: {', '.join(k.hex() for k in _known_schemas())}")
    try:
        return fastavro.schemaless_reader(io.BytesIO(data[10:]), writer, reader_schema or current)
    except (ValueError, EOFError, IndexError, UnicodeDecodeError) as exc:
        raise BadAvroError(f"the Avro body does not decode with schema {fp.hex()}: {exc!r}") from exc
