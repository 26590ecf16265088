"""Properties of the raw-article parser: any bytes give an Article or a named reason, and a
valid object keeps its fields (through the JSON and back through ``encode_raw``)."""
import json
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.article import KNOWN_FIELDS, Article, InvalidArticle, article_from_json_bytes, article_id, encode_raw

# The error classes the parser gives (docs/CONTRACT.md, DeadLetter.error_class).
ERROR_CLASSES = {"MalformedJSON", "NotUTF8", "WrongType", "MissingBody", "EmptyBody", "TooLarge",
                 "BinaryBody", "BadDate", "TooDeep"}
STAGES = {"decode", "parse", "validate"}


def parse_or_reason(data: bytes) -> Article | InvalidArticle:
    """The parser's outcome; any exception but InvalidArticle fails the test that calls it."""
    try:
        return article_from_json_bytes(data)
    except InvalidArticle as exc:
        assert exc.error_class in ERROR_CLASSES, exc.error_class
        assert exc.stage in STAGES and str(exc)
        return exc


# Any JSON value, lone surrogates (a legal JSON escape, not encodable as UTF-8) and huge numbers included.
STRINGS = st.text(max_size=10) | st.integers(0xD800, 0xDFFF).map(chr)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(10**20, 10**30) | st.floats() | STRINGS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10)
DATES = st.sampled_from(["2025-06-04T09:21:00-04:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                         "2017/2/7", "Tue, 07 Feb 2017 10:00:00 GMT", "²", "1" * 5000, "٣", "yesterday", "0"])
OBJECTS = st.dictionaries(st.sampled_from(KNOWN_FIELDS + ("extra", "section")),
                          JSON_VALUES | DATES | st.just("body text"), max_size=8)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes_give_an_article_or_a_named_reason(data):
    parse_or_reason(data)


@settings(max_examples=300)
@given(OBJECTS, st.booleans())
def test_any_json_object_gives_an_article_or_a_named_reason(obj, ascii_only):
    parse_or_reason(json.dumps(obj, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass"))


@settings(max_examples=50)
@given(st.integers(1, 3000), st.sampled_from(["[", "{\"a\":", "{\"body\": ["]))
def test_deep_nesting_gives_a_named_reason(depth, opener):
    parse_or_reason((opener * depth).encode() + b"1")


# Printable text (the parser calls a body of control characters binary); not only spaces for the body.
PRINTABLE = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=30)
BODIES = PRINTABLE.filter(lambda s: s.strip())
OPTIONAL = st.none() | PRINTABLE
MOMENTS = st.none() | st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(timezone.utc)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
EXTRA_KEYS = st.text(max_size=8).filter(lambda k: k not in KNOWN_FIELDS and k != "extra")


@settings(max_examples=200)
@given(body=BODIES, title=OPTIONAL, url=OPTIONAL, source=OPTIONAL, language=OPTIONAL, published=MOMENTS,
       given_id=st.none() | PRINTABLE | st.sampled_from(["", " ", "\t "]) | st.integers(0, 10**9), offset_hours=st.integers(-12, 12),
       extra=st.dictionaries(EXTRA_KEYS, PRINTABLE, max_size=3))
def test_a_valid_object_keeps_its_fields_and_round_trips(body, title, url, source, language, published,
                                                          given_id, offset_hours, extra):
    obj = {"body": body, "title": title, "url": url, "source": source, "language": language, "id": given_id,
           "published_at": published.astimezone(timezone(timedelta(hours=offset_hours))).isoformat()
           if published else None, **extra}
    article = article_from_json_bytes(json.dumps(obj).encode("utf-8"))

    def cleaned(value):
        return value.strip() or None if value is not None else None
    assert article.body == body
    assert (article.title, article.url, article.source) == (cleaned(title), cleaned(url), cleaned(source))
    assert article.language == (cleaned(language).lower() if cleaned(language) else None)
    assert article.published_at == published
    assert article.extra == extra
    given = str(given_id).strip() if given_id is not None else ""
    assert article.id == (given or article_id(cleaned(url), cleaned(title), body)) and article.id
    # The bytes a publisher sends for it parse back to the same article, and to the same bytes.
    assert article_from_json_bytes(encode_raw(article)) == article
    assert encode_raw(article_from_json_bytes(encode_raw(article))) == encode_raw(article)
