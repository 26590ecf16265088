"""The raw article: id derivation, parsing and validation of the contract's JSON form.

Pure functions, no I/O: the same code validates what ``publish`` sends, what the stream
reads from Kafka and what a replay reads from archives.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from pipelines.config import DEFAULT_MAX_ARTICLE_BYTES

KNOWN_FIELDS = ("id", "url", "source", "title", "body", "published_at", "language")
# Epoch milliseconds of more digits are past any date Python represents (year 9999 is 15 digits).
_MAX_EPOCH_DIGITS = 18


class InvalidArticle(ValueError):
    """A raw input that cannot become an article; ``error_class`` names the reason."""

    def __init__(self, error_class: str, message: str, stage: str = "validate"):
        super().__init__(message)
        self.error_class = error_class
        self.stage = stage

    def __reduce__(self):
        # Beam pickles elements between steps; the default reduce loses the extra arguments.
        return type(self), (self.error_class, str(self), self.stage)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment and a trailing slash, so one story has one URL."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def article_id(url: str | None = None, title: str | None = None, body: str | None = None) -> str:
    """Deterministic id: from the canonical URL when there is one, else from title + body."""
    if url:
        basis = "url:" + canonical_url(url)
    else:
        basis = "text:" + (title or "") + "\n" + (body or "")
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def parse_published_at(value: Any) -> datetime | None:
    """ISO-8601 string or epoch milliseconds -> aware UTC datetime; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidArticle("BadDate", f"published_at must be ISO-8601 or epoch ms, got {value!r}")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidArticle("BadDate", f"published_at {value!r} is out of range") from exc
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():  # not str.isdigit alone: '²' is a digit int() refuses
            if len(text) > _MAX_EPOCH_DIGITS:
                raise InvalidArticle("BadDate", f"published_at {text[:40]!r}... is out of range")
            return parse_published_at(int(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = _parse_loose_date(text, value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        try:
            return parsed.astimezone(timezone.utc)
        except OverflowError as exc:  # '0001-01-01T00:00+01:00' is a year-0 instant in UTC
            raise InvalidArticle("BadDate", f"published_at {value!r} is out of range in UTC") from exc
    raise InvalidArticle("BadDate", f"published_at must be ISO-8601 or epoch ms, got {type(value).__name__}")


def _parse_loose_date(text: str, original: Any) -> datetime:
    """Common non-ISO forms seen in archives ('2017/2/7', 'Tue, 07 Feb 2017 10:00:00 GMT')."""
    from dateutil import parser as dateutil_parser

    if not any(ch.isdigit() for ch in text):
        raise InvalidArticle("BadDate", f"published_at {original!r} is not a date")
    try:
        return dateutil_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise InvalidArticle("BadDate", f"published_at {original!r} is not ISO-8601 or a recognisable date") from exc


def to_epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def as_utc(value: Any) -> datetime | None:
    """A timestamp read back from a record (a datetime, epoch ms or ISO text) as an aware UTC
    datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        return parse_published_at(value)
    except InvalidArticle:
        return None


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for ch in text[:4000] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
    return controls / min(len(text), 4000) > 0.05


@dataclass(frozen=True)
class Article:
    """A validated raw article (the contract's JSON object)."""

    id: str
    body: str
    url: str | None = None
    source: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_record(self) -> dict:
        """As an ``Article`` Avro record (published_at in epoch ms)."""
        return {"id": self.id, "url": self.url, "source": self.source, "title": self.title,
                "body": self.body, "published_at": to_epoch_ms(self.published_at),
                "language": self.language, "extra": dict(self.extra)}

    def to_json_dict(self) -> dict:
        """As the contract's JSON object (published_at ISO-8601)."""
        record = self.to_record()
        record["published_at"] = self.published_at.isoformat() if self.published_at else None
        if not record["extra"]:
            del record["extra"]
        return {k: v for k, v in record.items() if v is not None}



def encode_raw(article: Article) -> bytes:
    """The contract's raw article JSON as UTF-8 bytes, keys sorted so one article is always the same bytes."""
    return json.dumps(article.to_json_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8")

def _optional_str(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArticle("WrongType", f"{name} must be a string, got {type(value).__name__}")
    _check_encodable(value, name)
    return value.strip() or None


def _check_encodable(text: str, name: str) -> None:
    """JSON's ``\\ud800`` escapes decode to lone surrogates, which no UTF-8 output (Avro, Kafka) can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArticle("NotUTF8", f"{name} holds a lone surrogate ({exc.reason}, position "
                                        f"{exc.start}): it has no UTF-8 form") from exc


def article_from_mapping(obj: Any, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> Article:
    """Validate a decoded JSON object (or Avro record) against the contract."""
    if not isinstance(obj, Mapping):
        raise InvalidArticle("WrongType", f"an article must be a JSON object, got {type(obj).__name__}", "parse")
    body = obj.get("body")
    if body is None:
        raise InvalidArticle("MissingBody", "the article has no body")
    if not isinstance(body, str):
        raise InvalidArticle("WrongType", f"body must be a string, got {type(body).__name__}")
    if not body.strip():
        raise InvalidArticle("EmptyBody", "the article body is empty")
    _check_encodable(body, "body")
    if _looks_binary(body):
        raise InvalidArticle("BinaryBody", "the body is mostly control characters (binary data?)")
    title = _optional_str(obj, "title")
    size = len(body.encode("utf-8")) + len((title or "").encode("utf-8"))
    if size > max_bytes:
        raise InvalidArticle("TooLarge", f"the article is {size} bytes, over the limit of {max_bytes}")
    url = _optional_str(obj, "url")
    given_id = obj.get("id")
    if given_id is not None and not isinstance(given_id, (str, int)):
        raise InvalidArticle("WrongType", f"id must be a string, got {type(given_id).__name__}")
    if isinstance(given_id, str):
        _check_encodable(given_id, "id")
    try:
        extra = {str(k): (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                 for k, v in obj.items() if k not in KNOWN_FIELDS and k != "extra"}
    except RecursionError as exc:  # a deep unknown field that parsed where the stack was shallower
        raise InvalidArticle("TooDeep", "an unknown field nests deeper than the recursion limit", "parse") from exc
    nested = obj.get("extra")
    if isinstance(nested, Mapping):
        extra.update({str(k): str(v) for k, v in nested.items()})
    for key, value in extra.items():
        _check_encodable(key, "a field name")
        _check_encodable(value, f"field {key!r}")
    language = _optional_str(obj, "language")
    return Article(
        id=str(given_id).strip() or article_id(url, title, body) if given_id is not None
        else article_id(url, title, body),  # a blank id is no id
        body=body, url=url, source=_optional_str(obj, "source"), title=title,
        published_at=parse_published_at(obj.get("published_at")),
        language=language.lower() if language else None, extra=extra)


def parse_json(text: str) -> Any:
    """``json.loads`` for untrusted text (messages, archive lines): every failure is an InvalidArticle."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArticle("MalformedJSON", f"not valid JSON: {exc}", "parse") from exc
    except ValueError as exc:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise InvalidArticle("MalformedJSON", f"not JSON newsflow can read: {exc}", "parse") from exc
    except RecursionError as exc:
        raise InvalidArticle("TooDeep", "the JSON nests deeper than the parser's recursion limit", "parse") from exc


def article_from_json_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_ARTICLE_BYTES) -> Article:
    """Decode UTF-8 JSON bytes and validate them as an article."""
    if len(data) > max_bytes * 2 + 65536:
        raise InvalidArticle("TooLarge", f"the message is {len(data)} bytes, over the limit", "parse")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArticle("NotUTF8", f"the message is not UTF-8: {exc}", "decode") from exc
    return article_from_mapping(parse_json(text), max_bytes)
