"""The Confluent wire format (``--schema-registry URL``): magic ``00``, the 4-byte big-endian
schema id a schema registry gave the writer schema, then the Avro binary body.

``RegistryClient`` speaks the Confluent REST API (Confluent Schema Registry, Karapace, or
Apicurio's ``/apis/ccompat/v7``) with the standard library only: it registers a schema under
the subject ``<topic>-value`` (TopicNameStrategy) and fetches schemas by id, caching both.
``decode_any`` reads either format by the first byte (``C3`` single-object, ``00`` Confluent),
so a topic written partly with and partly without a registry reads as one.
"""
from __future__ import annotations

import io
import json
import struct
import threading
import urllib.error
import urllib.request
from typing import Any

import fastavro

from pipelines import avro
from pipelines.io.errors import BrokerError

CONFLUENT_MAGIC = b"\x00"
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryUnavailableError(BrokerError):
    """The registry could not be reached or refused a request (not a fault of one record): one line."""


def is_confluent(data: bytes) -> bool:
    return len(data) >= 5 and data[:1] == CONFLUENT_MAGIC


def subject_for(topic: str) -> str:
    """TopicNameStrategy: the subject of a topic's values."""
    return f"{topic}-value"


class RegistryClient:
    """A Confluent-compatible schema registry at ``url``; ids and schemas cached for the client's life."""

    def __init__(self, url: str, timeout_s: float = 30.0):
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, dict] = {}
        self._lock = threading.Lock()

    def __getstate__(self):  # Beam pickles DoFns holding a client: the lock is rebuilt
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def register(self, subject: str, schema: dict) -> int:
        """The id of ``schema`` under ``subject``, registering it on first use (idempotent in the registry)."""
        text = json.dumps(schema, sort_keys=True)
        key = (subject, text)
        with self._lock:
            if key in self._ids:
                return self._ids[key]
        answer = self._request("POST", f"/subjects/{subject}/versions", {"schema": text})
        schema_id = int(answer["id"])
        with self._lock:
            self._ids[key] = schema_id
            self._schemas.setdefault(schema_id, fastavro.parse_schema(schema))
        return schema_id

    def schema(self, schema_id: int) -> dict:
        """The parsed writer schema with this id."""
        with self._lock:
            if schema_id in self._schemas:
                return self._schemas[schema_id]
        answer = self._request("GET", f"/schemas/ids/{schema_id}")
        parsed = fastavro.parse_schema(json.loads(answer["schema"]))
        with self._lock:
            self._schemas[schema_id] = parsed
        return parsed

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            if exc.code == 404 and method == "GET":
                raise avro.UnknownSchemaError(f"schema registry {self.url} has no schema for {path}: {detail}") from exc
            raise RegistryUnavailableError(f"schema registry {self.url} answered {exc.code} to {method} {path}: {detail}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryUnavailableError(f"cannot reach the schema registry at {self.url}: {exc}") from exc


def check_registry(url: str) -> None:
    """Raise ``RegistryUnavailableError`` (one line) unless a Confluent-compatible API answers at ``url``."""
    if not url.startswith(("http://", "https://")):
        raise RegistryUnavailableError(f"--schema-registry {url}: give an http:// or https:// URL")
    answer = RegistryClient(url, timeout_s=15)._request("GET", "/subjects")
    if not isinstance(answer, list):
        raise RegistryUnavailableError(f"{url} is not a Confluent-compatible schema registry (GET /subjects "
                                       "is not a list; Apicurio's is at /apis/ccompat/v7)")


def encode_confluent(record: dict, schema: dict, schema_id: int) -> bytes:
    """Confluent framing of one record: ``00`` + big-endian id + Avro binary."""
    buf = io.BytesIO()
    buf.write(CONFLUENT_MAGIC)
    buf.write(struct.pack(">I", schema_id))
    fastavro.schemaless_writer(buf, schema, record)
    return buf.getvalue()


def decode_confluent(data: bytes, client: RegistryClient, reader_schema: dict | None = None) -> dict[str, Any]:
    """Decode a Confluent-framed value, the writer schema fetched from the registry by id.

    Read in ``reader_schema`` (default: the current schema of the writer's kind, by record name,
    so a record written with an older registered schema comes out in today's shape)."""
    if not is_confluent(data):
        raise avro.NotSingleObjectError("not the Confluent wire format (missing 00 magic and schema id)")
    schema_id = struct.unpack(">I", data[1:5])[0]
    writer = client.schema(schema_id)
    reader = reader_schema or _current_of(writer)
    try:
        return fastavro.schemaless_reader(io.BytesIO(data[5:]), writer, reader)
    except (ValueError, EOFError, IndexError, UnicodeDecodeError) as exc:
        raise avro.BadAvroError(f"the Avro body does not decode with registry schema id {schema_id}: {exc!r}") from exc


def _current_of(writer: dict) -> dict:
    name = writer.get("name", "") if isinstance(writer, dict) else ""
    for kind in avro.SCHEMA_FILES:
        current = avro.load_schema(kind)
        if current.get("name") == name:
            return current
    return writer


def decode_any(data: bytes, client: RegistryClient | None = None, reader_schema: dict | None = None) -> dict[str, Any]:
    """Either format by its first byte: ``C3 01`` single-object, ``00`` Confluent (needs ``client``)."""
    if is_confluent(data):
        if client is None:
            raise avro.UnknownSchemaError(
                "a Confluent wire-format value (magic 00, schema id "
                f"{struct.unpack('>I', data[1:5])[0]}): pass --schema-registry URL to read it")
        return decode_confluent(data, client, reader_schema)
    return avro.decode(data, reader_schema)


class ValueEncoder:
    """Encodes records for one topic: single-object without a registry, Confluent with one."""

    def __init__(self, registry_url: str | None = None):
        self.registry_url = registry_url
        self._client = RegistryClient(registry_url) if registry_url else None
        self._ids: dict[tuple[str, str], int] = {}

    def encode(self, record: dict, kind: str, topic: str) -> bytes:
        """``kind`` is a schema's short name (``enriched``, ``dead_letter``, ``article``)."""
        schema = avro.load_schema(kind)
        if self._client is None:
            return avro.encode(record, schema)
        schema_id = self._ids.get((topic, kind))
        if schema_id is None:
            # The file's own JSON, not fastavro's parsed form (which adds internal keys).
            schema_id = self._ids[(topic, kind)] = self._client.register(subject_for(topic), avro.raw_schema(kind))
        return encode_confluent(record, schema, schema_id)
