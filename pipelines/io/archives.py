"""Reading raw articles from files: JSONL, CSV (with a column mapping), Avro, folders of .txt.

Every input row comes out as an ``ArchiveRow``: either a decoded mapping ready for
validation, or the error that made it unreadable, always with the original bytes and where
it came from, so nothing is lost on the way to the dead-letter output.
"""
from __future__ import annotations

import csv
import glob
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import fastavro

from pipelines.article import InvalidArticle, parse_json

csv.field_size_limit(64 * 1024 * 1024)

ARTICLE_FIELDS = ("id", "url", "source", "title", "body", "published_at", "language", "extra")
SUPPORTED = (".jsonl", ".json", ".ndjson", ".csv", ".avro", ".txt")


@dataclass(frozen=True)
class ArchiveRow:
    """One input record: ``payload`` to validate, or ``error`` with the original bytes."""

    location: str
    original: bytes
    payload: Any = None
    error: InvalidArticle | None = None
    enriched: bool = False  # an EnrichedArticle record (re-enrichment input)


@dataclass(frozen=True)
class CsvMapping:
    """Maps the contract's field names to CSV column names (``title=headline``)."""

    columns: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs) -> "CsvMapping":
        columns = {}
        for spec in specs or ():
            for part in spec.split(","):
                if not part.strip():
                    continue
                name, sep, column = part.partition("=")
                if not sep or not name.strip() or not column.strip():
                    raise ValueError(f"bad column mapping {part!r}: expected FIELD=COLUMN")
                columns[name.strip()] = column.strip()
        return cls(columns)

    def apply(self, row: Mapping[str, str]) -> dict:
        mapped_columns = set(self.columns.values())
        out = {name: row.get(column) for name, column in self.columns.items()}
        for key, value in row.items():
            if key is not None and key not in mapped_columns and key not in out:
                out[key] = value
        return {k: v for k, v in out.items() if v not in (None, "")}


def is_url(path: str) -> bool:
    """A Beam file system URL (gs://, s3://, hdfs://, ...) rather than a local path."""
    return "://" in path


def open_binary(path: str):
    """A readable binary file: local paths directly, URLs through Beam's ``FileSystems``, so a
    replay's workers read archives they do not share a disk with (bytes as stored, no decompression)."""
    if not is_url(path):
        return open(path, "rb")
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _open_text(path: str, errors: str):
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors=errors, newline="")


def _match_url(pattern: str) -> list[str]:
    """Files of a URL: itself, those its wildcards match, or those below it as a folder."""
    from apache_beam.io.filesystems import FileSystems

    if not any(ch in pattern for ch in "*?[") and FileSystems.exists(pattern):
        return [pattern]
    query = pattern if any(ch in pattern for ch in "*?[") else pattern.rstrip("/") + "/**"
    try:
        (result,) = FileSystems.match([query])
    except Exception:  # noqa: BLE001 - Beam raises BeamIOError for "nothing matched"
        return []
    return sorted(m.path for m in result.metadata_list if Path(m.path).suffix.lower() in SUPPORTED)


def expand_inputs(patterns) -> list[str]:
    """Expand globs and folders (local, or Beam file system URLs) into a sorted, de-duplicated
    list of readable files."""
    files: list[str] = []
    for pattern in patterns:
        if is_url(pattern):
            matches = _match_url(pattern)
            if not matches:
                raise FileNotFoundError(f"no input matches {pattern!r}")
            files.extend(matches)
            continue
        matches = sorted(glob.glob(pattern, recursive=True)) or ([pattern] if os.path.exists(pattern) else [])
        if not matches:
            raise FileNotFoundError(f"no input matches {pattern!r}")
        for match in matches:
            if os.path.isdir(match):
                files.extend(sorted(str(p) for p in Path(match).rglob("*")
                                    if p.is_file() and p.suffix.lower() in SUPPORTED))
            else:
                files.append(match)
    return list(dict.fromkeys(files))


def csv_header(path: str) -> list[str]:
    with _open_text(path, "replace") as f:
        return next(csv.reader(f), [])


def check_inputs(files: list[str], mapping: CsvMapping = CsvMapping()) -> None:
    """Refuse, before any work, inputs whose every row would be dead-lettered for a configuration reason.

    A CSV file must have every column the mapping names and a body column (``body``, or the one
    mapped with ``body=COLUMN``); a file of another kind is refused by its extension.
    """
    for path in files:
        suffix = Path(path).suffix.lower()
        if suffix not in SUPPORTED:
            raise ValueError(f"unsupported input {path!r}: use .jsonl, .csv, .avro or .txt")
        if suffix != ".csv":
            continue
        header = csv_header(path)
        shown = ", ".join(header) or "none"
        missing = [f"{name}={column}" for name, column in mapping.columns.items() if column not in header]
        if missing:
            raise ValueError(f"{path} has no column for --csv-columns {','.join(missing)} (its columns: {shown})")
        body = mapping.columns.get("body", "body")
        if body not in header:
            raise ValueError(f"{path} has no body column (its columns: {shown}); "
                             f"name it with --csv-columns body=COLUMN")


def read_jsonl(path: str) -> Iterator[ArchiveRow]:
    with open_binary(path) as f:
        for number, line in enumerate(f, 1):
            original = line.rstrip(b"\r\n")
            if not original.strip():
                continue
            location = f"{path}:{number}"
            try:
                text = original.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield ArchiveRow(location, original, error=InvalidArticle("NotUTF8", f"line is not UTF-8: {exc}", "decode"))
                continue
            try:
                obj = parse_json(text)
            except InvalidArticle as exc:
                yield ArchiveRow(location, original, error=exc)
                continue
            # A non-object payload is kept: validation rejects it with WrongType.
            yield ArchiveRow(location, original, payload=obj)


def read_csv(path: str, mapping: CsvMapping = CsvMapping()) -> Iterator[ArchiveRow]:
    with _open_text(path, "surrogateescape") as f:
        reader = csv.DictReader(f)
        for number, row in enumerate(reader, 2):
            location = f"{path}:{number}"
            text = json.dumps(row, ensure_ascii=False)
            original = text.encode("utf-8", errors="surrogateescape")
            if any("\udc80" <= ch <= "\udcff" for v in row.values() if isinstance(v, str) for ch in v):
                yield ArchiveRow(location, original, error=InvalidArticle("NotUTF8", "row is not UTF-8", "decode"))
                continue
            yield ArchiveRow(location, original, payload=mapping.apply(row))


def read_txt(path: str) -> Iterator[ArchiveRow]:
    """A .txt file is one article: the first non-empty line is the title, the rest the body."""
    with open_binary(path) as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield ArchiveRow(path, raw, error=InvalidArticle("NotUTF8", f"file is not UTF-8: {exc}", "decode"))
        return
    lines = text.strip().splitlines()
    title = lines[0].strip() if lines else ""
    body = "\n".join(lines[1:]).strip()
    yield ArchiveRow(path, raw, payload={"title": title, "body": body, "extra": {"file": os.path.basename(path)}})


def read_avro(path: str) -> Iterator[ArchiveRow]:
    with open_binary(path) as f:
        try:
            reader = fastavro.reader(f)
        except (ValueError, fastavro.read.SchemaResolutionError) as exc:
            yield ArchiveRow(path, b"", error=InvalidArticle("BadAvro", f"not an Avro container file: {exc}", "decode"))
            return
        enriched = reader.writer_schema.get("name", "").endswith("EnrichedArticle")
        for number, record in enumerate(reader, 1):
            original = json.dumps(record, default=str, ensure_ascii=False).encode("utf-8")
            # Re-enrichment starts from the article itself; old entities and events are replaced.
            payload = {k: v for k, v in record.items() if k in ARTICLE_FIELDS} if enriched else dict(record)
            if hasattr(payload.get("published_at"), "isoformat"):
                payload["published_at"] = payload["published_at"].isoformat()
            yield ArchiveRow(f"{path}#{number}", original, payload=payload, enriched=enriched)


def read_file(path: str, mapping: CsvMapping = CsvMapping()) -> Iterator[ArchiveRow]:
    """All rows of one input file, by its extension."""
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return read_jsonl(path)
    if suffix == ".csv":
        return read_csv(path, mapping)
    if suffix == ".avro":
        return read_avro(path)
    if suffix == ".txt":
        return read_txt(path)
    raise ValueError(f"unsupported input {path!r}: use .jsonl, .csv, .avro or .txt")
