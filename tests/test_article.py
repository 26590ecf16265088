"""Raw article validation: every bad input gets a named reason."""
from datetime import datetime, timezone

import pytest

from pipelines.article import (InvalidArticle, article_from_json_bytes, article_from_mapping, article_id,
                               canonical_url, encode_raw)


def test_id_is_derived_from_the_canonical_url_then_from_text():
    assert article_id(url="HTTPS://Example.com/a/#frag") == article_id(url="https://example.com/a")
    assert article_id(url="https://example.com/a") != article_id(url="https://example.com/b")
    assert article_id(title="t", body="b") == article_id(title="t", body="b") != article_id(title="t", body="c")
    assert canonical_url("HTTP://X.org/p/?q=1#f") == "http://x.org/p?q=1"


def test_valid_article_keeps_unknown_fields_in_extra_and_parses_dates():
    a = article_from_mapping({"body": " text ", "title": "T", "published_at": "2025-06-04T09:21:00-04:00",
                              "category": "politics", "rank": 3})
    assert a.published_at == datetime(2025, 6, 4, 13, 21, tzinfo=timezone.utc)
    assert a.extra == {"category": "politics", "rank": "3"}
    assert a.id == article_id(title="T", body=" text ")
    assert article_from_mapping({"body": "x", "published_at": 1749043260000}).published_at.year == 2025
    assert article_from_mapping({"body": "x", "published_at": "2017/2/7"}).published_at.date().isoformat() == "2017-02-07"


@pytest.mark.parametrize("data,error_class", [
    (b"{not json", "MalformedJSON"),
    (b"\xff\xfe\x00garbage", "NotUTF8"),
    (b"[1, 2]", "WrongType"),
    (b'{"title": "no body"}', "MissingBody"),
    (b'{"body": "   "}', "EmptyBody"),
    (b'{"body": 42}', "WrongType"),
    (b'{"body": "x", "title": 7}', "WrongType"),
    (b'{"body": "x", "published_at": "yesterday-ish"}', "BadDate"),
    (b'{"body": "x", "published_at": "2025-13-45"}', "BadDate"),
    (b'{"body": "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005"}', "BinaryBody"),
])
def test_bad_input_is_rejected_with_a_reason(data, error_class):
    with pytest.raises(InvalidArticle) as info:
        article_from_json_bytes(data)
    assert info.value.error_class == error_class
    assert str(info.value)


def test_size_limit_is_configurable():
    body = "word " * 300
    assert article_from_mapping({"body": body}, max_bytes=10_000).body == body
    with pytest.raises(InvalidArticle) as info:
        article_from_mapping({"body": body}, max_bytes=1000)
    assert info.value.error_class == "TooLarge"


def test_encode_raw_is_sorted_utf8_json_that_decodes_to_the_same_article():
    article = article_from_mapping({"url": "https://news.example/a", "title": "Café in Zürich", "body": "Text.",
                                    "published_at": "2025-03-12T08:30:00Z", "section": "world"})
    data = encode_raw(article)
    assert data.startswith(b'{"body": "Text.", "extra": {"section": "world"}, "id": ')
    assert "Café in Zürich".encode("utf-8") in data  # not \u escapes: the topic holds readable UTF-8
    assert article_from_json_bytes(data) == article
    assert encode_raw(article_from_json_bytes(data)) == data


def _refused_by_json_validation():
    """The hostile kinds that article_from_json_bytes itself must refuse (before Beam, spaCy or Avro)."""
    from tests.pipeline.bad_inputs import HOSTILE

    return [pytest.param(k.value, k.expected, id=k.name) for k in HOSTILE
            if k.expected in ("TooDeep", "MalformedJSON", "NotUTF8", "BadDate", "WrongType") and k.value[:2] != b"\xc3\x01"]


@pytest.mark.parametrize("data, error_class", _refused_by_json_validation())
def test_hostile_json_is_refused_with_a_reason_never_raised(data, error_class):
    # RecursionError, the int-digits ValueError, UnicodeEncodeError and OverflowError must not escape.
    with pytest.raises(InvalidArticle) as refused:
        article_from_json_bytes(data)
    assert refused.value.error_class == error_class and str(refused.value)


def test_a_decoded_payload_nested_too_deep_is_refused():
    deep = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(InvalidArticle) as refused:
        article_from_mapping({"body": "text", "meta": deep})
    assert refused.value.error_class == "TooDeep"
